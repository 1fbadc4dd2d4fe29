//! deflate-frame and x-webkit-deflate-frame offers (the per-frame DEFLATE
//! draft, draft-tyoshino-hybi-websocket-perframe-deflate): parameters in
//! either direction tell the other side how to compress. `max_window_bits`
//! limits the receiver's peer's window, `no_context_takeover` asks the peer
//! to forget its history after each frame.
use super::{check_param_names, parse_window_bits, CompressionSettings, DeflateParams};

pub const NAME: &str = "deflate-frame";
pub const WEBKIT_NAME: &str = "x-webkit-deflate-frame";

const MAX_WINDOW_BITS: &str = "max_window_bits";
const NO_CONTEXT_TAKEOVER: &str = "no_context_takeover";

type Params = Vec<(String, Option<String>)>;

/// `None` declines the offer (unknown or repeated parameter, bad value).
/// The server's limit is asked of the client in the response.
pub fn accept(params: &Params, settings: &CompressionSettings) -> Option<(DeflateParams, Params)> {
    check_param_names(params, &[MAX_WINDOW_BITS, NO_CONTEXT_TAKEOVER]).ok()?;
    let mut asked_window = 15;
    let mut asked_no_context_takeover = false;
    for (name, value) in params {
        match (name.as_str(), value.as_deref()) {
            (MAX_WINDOW_BITS, Some(value)) => asked_window = parse_window_bits(value)?,
            (NO_CONTEXT_TAKEOVER, None) => asked_no_context_takeover = true,
            _ => return None,
        }
    }
    let limit = settings.max_window_bits;
    let mut response = Params::new();
    if limit < 15 {
        response.push((MAX_WINDOW_BITS.into(), Some(limit.to_string())));
    }
    let agreed = DeflateParams {
        deflate_window_bits: asked_window.min(limit),
        deflate_no_context_takeover: asked_no_context_takeover,
        inflate_window_bits: limit,
        inflate_no_context_takeover: false,
    };
    Some((agreed, response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::extensions::{format_extension, parse_extensions};

    fn answer(offer: &str, limit: u8) -> Option<(String, DeflateParams)> {
        let offers = parse_extensions(std::iter::once(offer)).unwrap();
        let settings = CompressionSettings {
            enabled: true,
            max_window_bits: limit,
        };
        accept(&offers[0].params, &settings)
            .map(|(agreed, params)| (format_extension(&offers[0].name, &params), agreed))
    }

    fn params(deflate: (u8, bool), inflate_window_bits: u8) -> DeflateParams {
        DeflateParams {
            deflate_window_bits: deflate.0,
            deflate_no_context_takeover: deflate.1,
            inflate_window_bits,
            inflate_no_context_takeover: false,
        }
    }

    #[test]
    fn negotiation_table() {
        let table: &[(&str, u8, &str, DeflateParams)] = &[
            (
                "deflate-frame",
                15,
                "deflate-frame",
                params((15, false), 15),
            ),
            (
                "x-webkit-deflate-frame",
                15,
                "x-webkit-deflate-frame",
                params((15, false), 15),
            ),
            (
                "deflate-frame; max_window_bits=10",
                15,
                "deflate-frame",
                params((10, false), 15),
            ),
            (
                "x-webkit-deflate-frame; no_context_takeover",
                15,
                "x-webkit-deflate-frame",
                params((15, true), 15),
            ),
            (
                "deflate-frame; max_window_bits=12; no_context_takeover",
                9,
                "deflate-frame; max_window_bits=9",
                params((9, true), 9),
            ),
        ];
        for (offer, limit, response, agreed) in table {
            assert_eq!(
                answer(offer, *limit),
                Some((response.to_string(), *agreed)),
                "{offer}"
            );
        }
    }

    #[test]
    fn declined_offers() {
        for offer in [
            "deflate-frame; max_window_bits",
            "deflate-frame; max_window_bits=7",
            "deflate-frame; no_context_takeover=1",
            "deflate-frame; no_context_takeover; no_context_takeover",
            "x-webkit-deflate-frame; server_no_context_takeover",
        ] {
            assert_eq!(answer(offer, 15), None, "{offer}");
        }
    }
}
