//! `origin_check`: accepts only clients whose `Origin` is the one its
//! handler file names (`origin = https://example.org`), and echoes;
//! every other origin, or none, gets 403.
use wscore::event::{Conn, Connection, EventHandler};
use wscore::handler::{HandshakeRequest, Rejection};

use crate::echo::Echo;

/// The handler-file option naming the allowed origin.
pub const ORIGIN_OPTION: &str = "origin";

pub struct OriginCheck;

impl EventHandler for OriginCheck {
    fn do_extra_handshake(&self, request: &mut HandshakeRequest) -> Result<(), Rejection> {
        let Some(allowed) = request.option(ORIGIN_OPTION) else {
            return Err(forbidden("the handler file has no `origin = ...` line"));
        };
        match request.origin.as_deref() {
            Some(origin) if origin.eq_ignore_ascii_case(allowed) => Ok(()),
            Some(origin) => Err(forbidden(&format!("origin {origin} is not {allowed}"))),
            None => Err(forbidden("the request has no origin")),
        }
    }

    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Echo.open(ws)
    }

    fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
        if key != ORIGIN_OPTION {
            return Err(format!("unknown option '{key}' (only `origin`)"));
        }
        if is_origin(value) {
            Ok(())
        } else {
            Err(format!(
                "origin '{value}' is not an origin like https://example.org or http://host:8080"
            ))
        }
    }
}

fn forbidden(reason: &str) -> Rejection {
    Rejection::Status(403, reason.to_string())
}

/// `scheme://host[:port]`, as browsers send it: no path, query or userinfo.
fn is_origin(value: &str) -> bool {
    let Some((scheme, authority)) = value.split_once("://") else {
        return false;
    };
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    // An IPv6 host is bracketed: its colons are not the port's.
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, tail)) => (host, Some(tail.strip_prefix(':').unwrap_or("x"))),
            None => return false,
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']);
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    scheme_ok && host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for good in [
            "http://127.0.0.1:8080",
            "https://example.org",
            "http://[::1]:80",
            "chrome-extension://abc",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "example.org",
            "http://",
            "http://host/path",
            "http://host:port",
            "http://u@host",
            "://host",
            "http://host:99999",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    #[test]
    fn options() {
        assert!(OriginCheck.check_option("origin", "http://a:1").is_ok());
        let bad = OriginCheck.check_option("origin", "a.org").unwrap_err();
        assert!(bad.contains("'a.org' is not an origin"), "{bad}");
        let unknown = OriginCheck.check_option("orgin", "http://a").unwrap_err();
        assert!(unknown.contains("unknown option 'orgin'"), "{unknown}");
    }
}
