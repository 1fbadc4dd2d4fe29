//! Origin policy against cross-site WebSocket hijacking: a page on another
//! site must not be able to open a WebSocket that carries this site's
//! cookies. Browsers always send `Origin`; other clients may not.

/// `WebSocketOriginCheck`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Every origin is accepted.
    Off,
    /// Only the server's own origin (scheme, host and port of the request).
    Same,
    /// The server's own origin and the listed ones.
    Trusted(Vec<String>),
}

impl OriginPolicy {
    /// Whether a handshake with `origin` is accepted. A request without an
    /// Origin is not from a browser and cannot be a hijack: accepted.
    /// `host` is the request's Host header; `secure` whether it came over TLS.
    pub fn allows(&self, origin: Option<&str>, host: &str, secure: bool) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let same = || same_origin(origin, host, secure);
        match self {
            OriginPolicy::Off => true,
            OriginPolicy::Same => same(),
            OriginPolicy::Trusted(list) => {
                same()
                    || list
                        .iter()
                        .any(|trusted| normalize(trusted) == normalize(origin))
            }
        }
    }
}

/// `scheme://host[:port]` lowercased, with the scheme's default port dropped.
fn normalize(origin: &str) -> String {
    let lower = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    for (scheme, port) in [("http://", ":80"), ("https://", ":443")] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            return format!("{scheme}{}", rest.strip_suffix(port).unwrap_or(rest));
        }
    }
    lower
}

fn same_origin(origin: &str, host: &str, secure: bool) -> bool {
    let scheme = if secure { "https://" } else { "http://" };
    normalize(origin) == normalize(&format!("{scheme}{host}"))
}

/// Validates a `WebSocketTrustedOrigin` value: `http(s)://host[:port]`.
pub fn check_trusted_origin(value: &str) -> Result<(), String> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("'{value}' is not an origin: it must start with http:// or https://")
        })?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(format!(
            "'{value}' is not an origin: scheme://host[:port], no path"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_compares_scheme_host_and_port() {
        let same = OriginPolicy::Same;
        assert!(
            same.allows(None, "example.org", false),
            "non-browser clients pass"
        );
        assert!(same.allows(Some("http://example.org"), "example.org", false));
        assert!(same.allows(Some("http://Example.ORG:80"), "example.org", false));
        assert!(same.allows(Some("https://example.org"), "example.org:443", true));
        assert!(same.allows(Some("http://127.0.0.1:8080"), "127.0.0.1:8080", false));
        assert!(!same.allows(Some("http://127.0.0.1:8081"), "127.0.0.1:8080", false));
        assert!(
            !same.allows(Some("https://example.org"), "example.org", false),
            "scheme differs"
        );
        assert!(!same.allows(Some("http://evil.example"), "example.org", false));
        assert!(!same.allows(Some("null"), "example.org", false));
    }

    #[test]
    fn trusted_adds_listed_origins() {
        let policy = OriginPolicy::Trusted(vec!["https://app.example.com".into()]);
        assert!(policy.allows(Some("https://app.example.com:443"), "ws.example.com", false));
        assert!(policy.allows(Some("http://ws.example.com"), "ws.example.com", false));
        assert!(!policy.allows(Some("https://other.example.com"), "ws.example.com", false));
        assert!(OriginPolicy::Off.allows(Some("http://anything"), "x", false));
    }

    #[test]
    fn trusted_origin_values() {
        assert!(check_trusted_origin("https://app.example.com").is_ok());
        assert!(check_trusted_origin("http://127.0.0.1:8080").is_ok());
        assert!(check_trusted_origin("app.example.com").is_err());
        assert!(check_trusted_origin("https://app.example.com/path").is_err());
        assert!(check_trusted_origin("https://").is_err());
    }
}
