//! `Sec-WebSocket-Extensions` (RFC 6455 §9.1): parsing the client's offers
//! and formatting the server's answer.
//!
//! ```text
//! extension-list = 1#extension
//! extension      = token *( ";" param )
//! param          = token [ "=" ( token | quoted-string ) ]
//! ```
//! A quoted value, once unescaped, must itself be a token (§9.1).

use super::error::quoted;
use super::token::{is_tchar, is_token};

/// One extension the client offers, with its parameters in order. A
/// parameter without `=` has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionOffer {
    pub name: String,
    pub params: Vec<(String, Option<String>)>,
}

/// Parses every occurrence of the header (`values`) into one list of
/// offers, in order. Empty list elements are tolerated (RFC 7230 §7). The
/// error is a one-line description naming the bad value.
pub fn parse_extensions<'a>(
    values: impl Iterator<Item = &'a str>,
) -> Result<Vec<ExtensionOffer>, String> {
    let mut offers = Vec::new();
    for value in values {
        Parser::new(value)
            .parse_list(&mut offers)
            .map_err(|what| format!("{what} in {}", quoted(value)))?;
    }
    Ok(offers)
}

/// Formats one extension as a response header value element:
/// `name; param; param=value`. A value that is not a token is sent as a
/// quoted-string.
pub fn format_extension(name: &str, params: &[(String, Option<String>)]) -> String {
    let mut out = String::from(name);
    for (param, value) in params {
        out.push_str("; ");
        out.push_str(param);
        if let Some(value) = value {
            out.push('=');
            if is_token(value) {
                out.push_str(value);
            } else {
                out.push('"');
                for c in value.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out
}

/// A cursor over one header value.
struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// A quoted-string after its opening quote, unescaped.
    fn quoted_string(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = self.s[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                _ => out.push(c),
            }
        }
        Err("unterminated quoted-string".into())
    }

    fn parse_list(&mut self, offers: &mut Vec<ExtensionOffer>) -> Result<(), String> {
        loop {
            self.skip_ows();
            match self.peek() {
                None => return Ok(()),
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => offers.push(self.parse_extension()?),
            }
            self.skip_ows();
            match self.peek() {
                None => return Ok(()),
                Some(b',') => self.pos += 1,
                Some(_) => return Err(self.unexpected()),
            }
        }
    }

    fn parse_extension(&mut self) -> Result<ExtensionOffer, String> {
        let name = self.token();
        if name.is_empty() {
            return Err(format!("expected an extension name, {}", self.found()));
        }
        let mut offer = ExtensionOffer {
            name: name.to_string(),
            params: Vec::new(),
        };
        loop {
            self.skip_ows();
            if !self.eat(b';') {
                return Ok(offer);
            }
            self.skip_ows();
            let param = self.token();
            if param.is_empty() {
                return Err(format!(
                    "expected a parameter name after ';' of {name}, {}",
                    self.found()
                ));
            }
            self.skip_ows();
            let value = if self.eat(b'=') {
                self.skip_ows();
                Some(self.param_value(param)?)
            } else {
                None
            };
            offer.params.push((param.to_string(), value));
        }
    }

    fn param_value(&mut self, param: &str) -> Result<String, String> {
        if self.eat(b'"') {
            let value = self.quoted_string()?;
            if !is_token(&value) {
                return Err(format!(
                    "quoted value {} of parameter {param} is not a token",
                    quoted(&value)
                ));
            }
            Ok(value)
        } else {
            let value = self.token();
            if value.is_empty() {
                return Err(format!(
                    "expected a value after '=' of parameter {param}, {}",
                    self.found()
                ));
            }
            Ok(value.to_string())
        }
    }

    /// "found X" / "found the end", for error messages.
    fn found(&self) -> String {
        match self.s[self.pos..].chars().next() {
            Some(c) => format!("found {c:?}"),
            None => "found the end".into(),
        }
    }

    fn unexpected(&self) -> String {
        format!("expected ',' or ';', {}", self.found())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<Vec<ExtensionOffer>, String> {
        parse_extensions(values.iter().copied())
    }

    fn offer(name: &str, params: &[(&str, Option<&str>)]) -> ExtensionOffer {
        ExtensionOffer {
            name: name.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
        }
    }

    #[test]
    fn chrome_offer() {
        assert_eq!(
            parse(&["permessage-deflate; client_max_window_bits"]).unwrap(),
            [offer(
                "permessage-deflate",
                &[("client_max_window_bits", None)]
            )]
        );
    }

    #[test]
    fn firefox_style_multiple_offers() {
        assert_eq!(
            parse(&[
                "permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate"
            ])
            .unwrap(),
            [
                offer(
                    "permessage-deflate",
                    &[
                        ("client_max_window_bits", Some("10")),
                        ("server_no_context_takeover", None)
                    ]
                ),
                offer("permessage-deflate", &[]),
            ]
        );
    }

    #[test]
    fn quoted_values_are_unescaped() {
        assert_eq!(
            parse(&[r#"permessage-deflate; server_max_window_bits="10"; x="a\bc""#]).unwrap(),
            [offer(
                "permessage-deflate",
                &[("server_max_window_bits", Some("10")), ("x", Some("abc"))]
            )]
        );
    }

    #[test]
    fn whitespace_around_delimiters() {
        assert_eq!(
            parse(&["\t a ;b = 1 ;\tc= \"2\" , d\t"]).unwrap(),
            [
                offer("a", &[("b", Some("1")), ("c", Some("2"))]),
                offer("d", &[])
            ]
        );
    }

    #[test]
    fn several_header_occurrences_concatenate() {
        assert_eq!(
            parse(&["deflate-frame", "x-webkit-deflate-frame; max_window_bits=8"]).unwrap(),
            [
                offer("deflate-frame", &[]),
                offer("x-webkit-deflate-frame", &[("max_window_bits", Some("8"))])
            ]
        );
    }

    #[test]
    fn empty_elements_tolerated() {
        assert_eq!(parse(&[]).unwrap(), []);
        assert_eq!(parse(&[""]).unwrap(), []);
        assert_eq!(parse(&[" , ,"]).unwrap(), []);
        assert_eq!(
            parse(&[",a,,b,"]).unwrap(),
            [offer("a", &[]), offer("b", &[])]
        );
    }

    #[test]
    fn malformed_offers_rejected() {
        for bad in [
            ";",
            "a;",
            "a;;b",
            "a;b=",
            "a;b=;c",
            "a b",
            "a;b c",
            r#"a;b="c d""#,
            r#"a;b="""#,
            r#"a;b="c"#,
            r#"a;b="c\"#,
            "a;b=c=d",
            "a;=c",
            "a/b",
            "\"a\"",
            "a;b=\"c\"d",
            "a,é",
            "a;b=é",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn error_in_second_occurrence_rejects_all() {
        assert!(parse(&["permessage-deflate", "a b"]).is_err());
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = parse(&["a;b="]).unwrap_err();
        assert_eq!(
            e,
            "expected a value after '=' of parameter b, found the end in \"a;b=\""
        );
        let e = parse(&["a b"]).unwrap_err();
        assert_eq!(e, "expected ',' or ';', found 'b' in \"a b\"");
        let e = parse(&[r#"a;b="c d""#]).unwrap_err();
        assert!(e.contains("\"c d\" of parameter b is not a token"), "{e}");
        let e = parse(&[";"]).unwrap_err();
        assert!(
            e.starts_with("expected an extension name, found ';'"),
            "{e}"
        );
    }

    #[test]
    fn format_response_value() {
        assert_eq!(
            format_extension("permessage-deflate", &[]),
            "permessage-deflate"
        );
        assert_eq!(
            format_extension(
                "permessage-deflate",
                &[
                    ("server_no_context_takeover".into(), None),
                    ("client_max_window_bits".into(), Some("10".into()))
                ]
            ),
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
        );
    }

    #[test]
    fn format_quotes_non_tokens() {
        assert_eq!(
            format_extension("x", &[("p".into(), Some("a \"b\"\\".into()))]),
            r#"x; p="a \"b\"\\""#
        );
        assert_eq!(
            format_extension("x", &[("p".into(), Some("".into()))]),
            r#"x; p="""#
        );
    }

    #[test]
    fn format_then_parse_round_trips() {
        let params = vec![
            ("a".to_string(), None),
            ("b".to_string(), Some("15".to_string())),
        ];
        let text = format_extension("permessage-deflate", &params);
        assert_eq!(
            parse(&[&text]).unwrap(),
            [ExtensionOffer {
                name: "permessage-deflate".into(),
                params
            }]
        );
    }
}
