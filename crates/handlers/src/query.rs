//! The resource's path and query, as handlers that look at them need.

/// `resource` without its query: `/chat?room=1` → `/chat`.
pub fn path_of(resource: &str) -> &str {
    resource.split_once('?').map_or(resource, |(path, _)| path)
}

/// Whether the query of `resource` has `flag` as a bare word or a key
/// (`?report`, `?a=1&report=yes`).
pub fn has_query_flag(resource: &str, flag: &str) -> bool {
    let Some((_, query)) = resource.split_once('?') else {
        return false;
    };
    query
        .split('&')
        .any(|pair| pair.split_once('=').map_or(pair, |(key, _)| key) == flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_drops_the_query() {
        assert_eq!(path_of("/chat?room=1"), "/chat");
        assert_eq!(path_of("/chat"), "/chat");
        assert_eq!(path_of("/a?b?c"), "/a");
    }

    #[test]
    fn flags_are_keys_of_the_query() {
        assert!(has_query_flag("/close?report", "report"));
        assert!(has_query_flag("/close?a=1&report=yes", "report"));
        assert!(!has_query_flag("/close", "report"));
        assert!(!has_query_flag("/close?reporting", "report"));
        assert!(!has_query_flag("/report", "report"));
    }
}
