//! An HTTP/1.1 response head as the clients read it: where it ends, its
//! status line and its headers (lower-cased, values too).

/// The length of the head at the start of `buf`, its blank line
/// included, once it has all arrived.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

pub struct ResponseHead {
    text: String,
}

impl ResponseHead {
    /// `head`: the bytes [`head_len`] measured.
    pub fn parse(head: &[u8]) -> ResponseHead {
        ResponseHead {
            text: String::from_utf8_lossy(head).to_ascii_lowercase(),
        }
    }

    pub fn status(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    /// The value of header `name` (lower case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, v)| v.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_headers_of_a_head() {
        let bytes = b"HTTP/1.1 101 Switching\r\nUpgrade: WebSocket\r\nX-A:  b \r\n\r\nrest";
        let len = head_len(bytes).unwrap();
        assert_eq!(&bytes[len..], b"rest");
        let head = ResponseHead::parse(&bytes[..len]);
        assert_eq!(head.status(), "http/1.1 101 switching");
        assert_eq!(head.header("upgrade"), Some("websocket"));
        assert_eq!(head.header("x-a"), Some("b"));
        assert_eq!(head.header("missing"), None);
        assert_eq!(head_len(b"HTTP/1.1 200 OK\r\n"), None);
    }
}
