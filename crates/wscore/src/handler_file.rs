//! Handler files (`<root>/<resource>_wsh.conf`): which handler serves a
//! resource (compiled in, or in a plugin library), and the options it is
//! given.
//!
//! ```text
//! # a comment
//! handler = chat        # required, exactly once
//! plugin = libchat.so   # optional: the plugin library holding `chat`
//! room = lobby          # any other key is an option, kept in file order
//! ```
//! `#` starts a comment at the start of a line or after whitespace, so
//! `url = http://h/#frag` keeps its `#`. Keys are `[A-Za-z0-9_.-]+` and
//! case-sensitive. A UTF-8 byte order mark is ignored.

use std::fmt;

/// Key of the required line naming the handler.
const HANDLER_KEY: &str = "handler";
/// Key of the optional line naming the plugin library that holds it.
const PLUGIN_KEY: &str = "plugin";

/// A parsed handler file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerFile {
    pub handler: String,
    /// The plugin library, as written (`plugin = PATH`); `None`: compiled in.
    pub plugin: Option<String>,
    /// Every key but `handler`, in file order.
    pub options: Vec<(String, String)>,
    /// The 1-based line of each option, in the same order (for warnings).
    pub option_lines: Vec<usize>,
}

/// Why a handler file was refused. `line` is 1-based; it is 0 for a fault
/// of the whole file (no `handler` line), which has no line to point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerFileError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for HandlerFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for HandlerFileError {}

/// Parses a handler file; the first error wins.
pub fn parse_handler_file(text: &str) -> Result<HandlerFile, HandlerFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut handler: Option<String> = None;
    let mut plugin: Option<String> = None;
    let mut options: Vec<(String, String)> = Vec::new();
    let mut option_lines: Vec<usize> = Vec::new();
    // Line of each key seen, to name the first one in a duplicate error.
    let mut seen: Vec<(String, usize)> = Vec::new();

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let fail = |message: String| Err(HandlerFileError { line, message });
        let content = strip_comment(raw).trim();
        if content.is_empty() {
            continue;
        }
        let Some((key, value)) = content.split_once('=') else {
            return fail(format!("expected `key = value`, found {content:?}"));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return fail("empty key before `=`".into());
        }
        if !key.bytes().all(is_key_byte) {
            return fail(format!(
                "key {key:?} may only contain letters, digits, `_`, `.` and `-`"
            ));
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| k == key) {
            return fail(format!("duplicate key {key:?} (first on line {first})"));
        }
        seen.push((key.to_string(), line));
        if key == HANDLER_KEY {
            if value.is_empty() {
                return fail("empty handler name after `handler =`".into());
            }
            handler = Some(value.to_string());
        } else if key == PLUGIN_KEY {
            if value.is_empty() {
                return fail("empty library path after `plugin =`".into());
            }
            plugin = Some(value.to_string());
        } else {
            options.push((key.to_string(), value.to_string()));
            option_lines.push(line);
        }
    }

    match handler {
        Some(handler) => Ok(HandlerFile {
            handler,
            plugin,
            options,
            option_lines,
        }),
        None => Err(HandlerFileError {
            line: 0,
            message: "no `handler = NAME` line".into(),
        }),
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// `line` up to its comment: a `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && previous_is_space {
            return &line[..i];
        }
        previous_is_space = c.is_whitespace();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> HandlerFile {
        parse_handler_file(text).unwrap()
    }

    fn err(text: &str) -> HandlerFileError {
        parse_handler_file(text).unwrap_err()
    }

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn minimal() {
        assert_eq!(
            ok("handler=echo"),
            HandlerFile {
                handler: "echo".into(),
                plugin: None,
                options: vec![],
                option_lines: vec![],
            }
        );
    }

    #[test]
    fn full_file_with_comments_and_blank_lines() {
        let f = ok("# chat room\n\n  handler = chat   # required\n\
                    room = lobby\n\t\n# max = 1\nmax.users=10\nlog-level = debug\n");
        assert_eq!(f.handler, "chat");
        assert_eq!(
            f.options,
            opts(&[
                ("room", "lobby"),
                ("max.users", "10"),
                ("log-level", "debug")
            ])
        );
    }

    #[test]
    fn plugin_names_the_library_and_is_no_option() {
        let f = ok("handler = chat\nplugin = lib/libchat.so\nroom = a\n");
        assert_eq!(f.plugin.as_deref(), Some("lib/libchat.so"));
        assert_eq!(f.options, opts(&[("room", "a")]));
        assert_eq!(f.option_lines, [3]);
        let e = err("handler = h\nplugin =\n");
        assert_eq!(e.to_string(), "line 2: empty library path after `plugin =`");
        let e = err("handler = h\nplugin = a.so\nplugin = b.so\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("duplicate key \"plugin\""), "{e}");
    }

    #[test]
    fn handler_line_may_come_anywhere() {
        let f = ok("b = 2\nhandler = x\na = 1\n");
        assert_eq!(f.handler, "x");
        assert_eq!(f.options, opts(&[("b", "2"), ("a", "1")]));
    }

    #[test]
    fn each_option_keeps_its_line() {
        let f = ok("# c\nhandler = x\n\nroom = a\n  # c\nmax = 2\n");
        assert_eq!(f.option_lines, [4, 6]);
    }

    #[test]
    fn hash_inside_a_value_is_kept() {
        let f = ok("handler = h\nurl = http://e.com/#frag\ncolor=#fff\nx = a #comment\n");
        assert_eq!(
            f.options,
            opts(&[("url", "http://e.com/#frag"), ("color", "#fff"), ("x", "a")])
        );
    }

    #[test]
    fn tab_before_hash_starts_a_comment() {
        assert_eq!(ok("handler = h\t#c").handler, "h");
    }

    #[test]
    fn values_may_contain_equals_and_be_empty() {
        let f = ok("handler = h\nq = a=b\nempty =\n");
        assert_eq!(f.options, opts(&[("q", "a=b"), ("empty", "")]));
    }

    #[test]
    fn crlf_and_bom_tolerated() {
        let f = ok("\u{feff}handler = h\r\nk = v\r\n");
        assert_eq!(f.handler, "h");
        assert_eq!(f.options, opts(&[("k", "v")]));
    }

    #[test]
    fn keys_are_case_sensitive() {
        let f = ok("handler = h\nHandler = x\n");
        assert_eq!(f.handler, "h");
        assert_eq!(f.options, opts(&[("Handler", "x")]));
    }

    #[test]
    fn line_without_equals() {
        let e = err("handler = h\n\njust words\n");
        assert_eq!(e.line, 3);
        assert_eq!(
            e.to_string(),
            "line 3: expected `key = value`, found \"just words\""
        );
    }

    #[test]
    fn empty_key() {
        let e = err("handler = h\n = v\n");
        assert_eq!((e.line, e.message.as_str()), (2, "empty key before `=`"));
    }

    #[test]
    fn bad_key_characters() {
        for bad in ["a b = 1", "k:x = 1", "ключ = 1", "a/b = 1", "\"k\" = 1"] {
            let e = err(&format!("handler = h\n{bad}\n"));
            assert_eq!(e.line, 2, "{bad}");
            assert!(e.message.contains("may only contain"), "{e}");
        }
    }

    #[test]
    fn empty_handler_value() {
        let e = err("# c\nhandler =   # nothing\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("empty handler name"), "{e}");
    }

    #[test]
    fn duplicate_key() {
        let e = err("handler = h\na = 1\n\na = 2\n");
        assert_eq!(
            e.to_string(),
            "line 4: duplicate key \"a\" (first on line 2)"
        );
        let e = err("handler = h\nhandler = g\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("duplicate key \"handler\""));
    }

    #[test]
    fn missing_handler_is_line_0() {
        for text in ["", "# only a comment\n", "a = 1\nb = 2\n"] {
            let e = err(text);
            assert_eq!(e.line, 0);
            assert_eq!(e.to_string(), "no `handler = NAME` line");
        }
    }

    #[test]
    fn first_error_wins() {
        let e = err("a = 1\nbad line\na = 2\n");
        assert_eq!(e.line, 2);
    }
}
