//! The benchmark target: a ws:// or wss:// URL whose host must resolve to
//! loopback only, so the load can never leave the machine.
use std::net::{SocketAddr, ToSocketAddrs};

#[derive(Clone, Debug)]
pub struct Target {
    pub tls: bool,
    pub host: String,
    pub addr: SocketAddr,
    pub path: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("ws://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("wss://") {
            (true, rest)
        } else {
            return Err(format!("'{url}': the URL must start with ws:// or wss://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            authority.to_string()
        } else {
            format!("{authority}:{}", if tls { 443 } else { 80 })
        };
        let addrs: Vec<SocketAddr> = with_port
            .to_socket_addrs()
            .map_err(|e| format!("'{authority}': {e}"))?
            .collect();
        if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
            return Err(format!(
                "'{authority}' is not a loopback address: wsload only loads servers on this machine"
            ));
        }
        let host = with_port
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("")
            .to_string();
        Ok(Target {
            tls,
            host,
            addr: addrs[0],
            path: path.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn loopback_targets_are_accepted() {
        let t = Target::parse("ws://127.0.0.1:8080/echo").unwrap();
        assert_eq!(
            (t.tls, t.addr.port(), t.path.as_str()),
            (false, 8080, "/echo")
        );
        assert!(Target::parse("wss://[::1]:8443/").unwrap().tls);
    }

    #[test]
    fn other_hosts_are_refused() {
        let err = Target::parse("ws://192.0.2.1:80/echo").unwrap_err();
        assert!(err.contains("not a loopback address"), "{err}");
        assert!(Target::parse("http://127.0.0.1/").is_err());
    }
}
