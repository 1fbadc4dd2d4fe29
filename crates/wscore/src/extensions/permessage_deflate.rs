//! permessage-deflate offers (RFC 7692 §7.1): which parameters an offer may
//! carry, and the server's answer to an acceptable one.
use super::{check_param_names, parse_window_bits, CompressionSettings, DeflateParams};

pub const NAME: &str = "permessage-deflate";

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

type Params = Vec<(String, Option<String>)>;

/// The parameters of one offer, validated.
#[derive(Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value (the client can be limited).
    client_max_window_bits: Option<Option<u8>>,
}

/// `None` when the offer must be declined (§7.1: unknown or repeated
/// parameter, bad value) or cannot be held to the server's window limit.
/// Otherwise the agreed parameters and the response's parameters.
pub fn accept(params: &Params, settings: &CompressionSettings) -> Option<(DeflateParams, Params)> {
    let offer = parse(params)?;
    let limit = settings.max_window_bits;
    let mut response = Params::new();
    if offer.server_no_context_takeover {
        response.push((SERVER_NO_CONTEXT_TAKEOVER.into(), None));
    }
    if offer.client_no_context_takeover {
        response.push((CLIENT_NO_CONTEXT_TAKEOVER.into(), None));
    }
    // Ours may always be smaller than asked; said in the response when it is
    // (§7.1.2.1).
    let deflate_window_bits = offer.server_max_window_bits.unwrap_or(15).min(limit);
    if offer.server_max_window_bits.is_some() || deflate_window_bits < 15 {
        response.push((
            SERVER_MAX_WINDOW_BITS.into(),
            Some(deflate_window_bits.to_string()),
        ));
    }
    // The client's window can only be limited if it offered the parameter
    // (§7.1.2.2); otherwise it may use 15 bits.
    let inflate_window_bits = match offer.client_max_window_bits {
        None if limit < 15 => return None,
        None => 15,
        Some(offered) => {
            let bits = offered.unwrap_or(15).min(limit);
            if bits < 15 {
                response.push((CLIENT_MAX_WINDOW_BITS.into(), Some(bits.to_string())));
            }
            bits
        }
    };
    let agreed = DeflateParams {
        deflate_window_bits,
        deflate_no_context_takeover: offer.server_no_context_takeover,
        inflate_window_bits,
        inflate_no_context_takeover: offer.client_no_context_takeover,
    };
    Some((agreed, response))
}

fn parse(params: &Params) -> Option<Offer> {
    check_param_names(
        params,
        &[
            SERVER_NO_CONTEXT_TAKEOVER,
            CLIENT_NO_CONTEXT_TAKEOVER,
            SERVER_MAX_WINDOW_BITS,
            CLIENT_MAX_WINDOW_BITS,
        ],
    )
    .ok()?;
    let mut offer = Offer::default();
    for (name, value) in params {
        let value = value.as_deref();
        match name.as_str() {
            SERVER_NO_CONTEXT_TAKEOVER if value.is_none() => {
                offer.server_no_context_takeover = true
            }
            CLIENT_NO_CONTEXT_TAKEOVER if value.is_none() => {
                offer.client_no_context_takeover = true
            }
            SERVER_MAX_WINDOW_BITS => {
                offer.server_max_window_bits = Some(parse_window_bits(value?)?)
            }
            CLIENT_MAX_WINDOW_BITS => {
                offer.client_max_window_bits = Some(match value {
                    None => None,
                    Some(value) => Some(parse_window_bits(value)?),
                })
            }
            _ => return None,
        }
    }
    Some(offer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::extensions::{format_extension, parse_extensions};

    /// The response to a `permessage-deflate` offer written as a header
    /// value, or `None` when declined.
    fn answer(offer: &str, limit: u8) -> Option<(String, DeflateParams)> {
        let offers = parse_extensions(std::iter::once(offer)).unwrap();
        let settings = CompressionSettings {
            enabled: true,
            max_window_bits: limit,
        };
        accept(&offers[0].params, &settings)
            .map(|(agreed, params)| (format_extension(NAME, &params), agreed))
    }

    fn params(deflate: (u8, bool), inflate: (u8, bool)) -> DeflateParams {
        DeflateParams {
            deflate_window_bits: deflate.0,
            deflate_no_context_takeover: deflate.1,
            inflate_window_bits: inflate.0,
            inflate_no_context_takeover: inflate.1,
        }
    }

    #[test]
    fn negotiation_table() {
        let table: &[(&str, u8, &str, DeflateParams)] = &[
            (
                "permessage-deflate",
                15,
                "permessage-deflate",
                params((15, false), (15, false)),
            ),
            (
                "permessage-deflate; client_max_window_bits",
                15,
                "permessage-deflate",
                params((15, false), (15, false)),
            ),
            (
                "permessage-deflate; server_no_context_takeover",
                15,
                "permessage-deflate; server_no_context_takeover",
                params((15, true), (15, false)),
            ),
            (
                "permessage-deflate; client_no_context_takeover",
                15,
                "permessage-deflate; client_no_context_takeover",
                params((15, false), (15, true)),
            ),
            (
                "permessage-deflate; server_max_window_bits=8",
                15,
                "permessage-deflate; server_max_window_bits=8",
                params((8, false), (15, false)),
            ),
            (
                "permessage-deflate; server_max_window_bits=15",
                15,
                "permessage-deflate; server_max_window_bits=15",
                params((15, false), (15, false)),
            ),
            (
                "permessage-deflate; client_max_window_bits=10",
                15,
                "permessage-deflate; client_max_window_bits=10",
                params((15, false), (10, false)),
            ),
            (
                "permessage-deflate; server_max_window_bits=\"12\"; client_max_window_bits=9; \
                 client_no_context_takeover; server_no_context_takeover",
                15,
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=12; client_max_window_bits=9",
                params((12, true), (9, true)),
            ),
            // The server's limit lowers both windows, and says so.
            (
                "permessage-deflate; client_max_window_bits",
                10,
                "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
                params((10, false), (10, false)),
            ),
            (
                "permessage-deflate; server_max_window_bits=12; client_max_window_bits=9",
                10,
                "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
                params((10, false), (9, false)),
            ),
        ];
        for (offer, limit, response, agreed) in table {
            assert_eq!(
                answer(offer, *limit),
                Some((response.to_string(), *agreed)),
                "{offer} (limit {limit})"
            );
        }
    }

    #[test]
    fn declined_offers() {
        for offer in [
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=true",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; client_max_window_bits=abc",
            "permessage-deflate; client_max_window_bits=8; client_max_window_bits=9",
        ] {
            assert_eq!(answer(offer, 15), None, "{offer}");
        }
        // A client that cannot be limited is declined under a smaller limit.
        assert_eq!(answer("permessage-deflate", 14), None);
    }
}
