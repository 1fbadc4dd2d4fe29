//! The request head of an opening handshake, as the embedding server hands
//! it over, and the header queries every draft's parser needs.

/// An HTTP request head. The Apache glue fills it from `request_rec`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestHead {
    pub method: String,
    /// The request-target as sent: path and optional `?query`.
    pub uri: String,
    pub http_version: (u8, u8),
    /// In arrival order; a name may occur more than once. Apache merges
    /// repeated headers into one comma-joined value, so both shapes occur.
    pub headers: Vec<(String, String)>,
    /// Whether the connection is TLS (wss://).
    pub secure: bool,
}

impl RequestHead {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    /// Every value of header `name` (case-insensitive), in arrival order.
    /// The values borrow from `self` only, not from `name`.
    pub fn header_values<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether header `name`, read as a comma-separated list across all its
    /// occurrences, has an element equal to `token` (case-insensitive).
    pub fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.header_values(name)
            .flat_map(|v| v.split(','))
            .any(|element| element.trim().eq_ignore_ascii_case(token))
    }

    /// The request path: the uri without its `?query`.
    pub fn path(&self) -> &str {
        match self.uri.find('?') {
            Some(i) => &self.uri[..i],
            None => &self.uri,
        }
    }
}

/// The cheap test for "is this request for us at all": `Upgrade` has the
/// token `websocket`. Case-insensitive, since Hixie-75 and HyBi-00 clients
/// send `WebSocket`.
pub fn is_websocket_upgrade(head: &RequestHead) -> bool {
    head.header_has_token("Upgrade", "websocket")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(uri: &str, headers: &[(&str, &str)]) -> RequestHead {
        crate::testing::get_request(uri, headers)
    }

    #[test]
    fn header_is_case_insensitive_and_first() {
        let h = head("/", &[("host", "a"), ("X-Dup", "1"), ("x-dup", "2")]);
        assert_eq!(h.header("Host"), Some("a"));
        assert_eq!(h.header("HOST"), Some("a"));
        assert_eq!(h.header("X-DUP"), Some("1"));
        assert_eq!(h.header("Missing"), None);
    }

    #[test]
    fn header_values_returns_all_in_order() {
        let h = head("/", &[("A", "1"), ("B", "x"), ("a", "2"), ("A", "3")]);
        assert_eq!(h.header_values("a").collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!(h.header_values("c").count(), 0);
    }

    #[test]
    fn header_has_token_across_lists_and_occurrences() {
        let h = head(
            "/",
            &[
                ("Connection", "keep-alive, Upgrade"),
                ("Connection", "close"),
            ],
        );
        assert!(h.header_has_token("connection", "upgrade"));
        assert!(h.header_has_token("Connection", "KEEP-ALIVE"));
        assert!(h.header_has_token("Connection", "close"));
        assert!(!h.header_has_token("Connection", "upgrad"));
        assert!(!h.header_has_token("Upgrade", "upgrade"));
    }

    #[test]
    fn header_has_token_matches_whole_elements_only() {
        let h = head("/", &[("Upgrade", "websocketx, xwebsocket")]);
        assert!(!h.header_has_token("Upgrade", "websocket"));
        let h = head("/", &[("Upgrade", " ,\t websocket\t,")]);
        assert!(h.header_has_token("Upgrade", "websocket"));
    }

    #[test]
    fn path_strips_query() {
        assert_eq!(head("/echo?a=b", &[]).path(), "/echo");
        assert_eq!(head("/echo", &[]).path(), "/echo");
        assert_eq!(head("/echo?", &[]).path(), "/echo");
        assert_eq!(head("/a?b?c", &[]).path(), "/a");
        assert_eq!(head("", &[]).path(), "");
    }

    #[test]
    fn websocket_upgrade_detection() {
        assert!(is_websocket_upgrade(&head(
            "/",
            &[("Upgrade", "websocket")]
        )));
        assert!(is_websocket_upgrade(&head(
            "/",
            &[("upgrade", "WebSocket")]
        )));
        assert!(is_websocket_upgrade(&head(
            "/",
            &[("Upgrade", "h2c"), ("Upgrade", "websocket")]
        )));
        assert!(is_websocket_upgrade(&head(
            "/",
            &[("Upgrade", "h2c, WEBSOCKET")]
        )));
        assert!(!is_websocket_upgrade(&head("/", &[("Upgrade", "h2c")])));
        assert!(!is_websocket_upgrade(&head(
            "/",
            &[("Connection", "websocket")]
        )));
        assert!(!is_websocket_upgrade(&head("/", &[])));
    }
}
