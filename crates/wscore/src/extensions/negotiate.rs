//! Choosing the compression extension from the client's offers: the first
//! acceptable offer wins (RFC 6455 §9.1 lists them in preference order);
//! only one is ever accepted, since they all use RSV1 or the raw stream.
//! Unknown extensions and declined offers are skipped.
use super::{deflate_frame, deflate_stream, permessage_deflate, Compression, CompressionSettings};
use crate::handshake::extensions::{format_extension, ExtensionOffer};

/// The accepted extension and the `Sec-WebSocket-Extensions` response value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub compression: Compression,
    pub response: String,
}

pub fn negotiate(offers: &[ExtensionOffer], settings: &CompressionSettings) -> Option<Agreement> {
    if !settings.enabled {
        return None;
    }
    offers.iter().find_map(|offer| {
        let (compression, params) = match offer.name.as_str() {
            permessage_deflate::NAME => {
                let (agreed, params) = permessage_deflate::accept(&offer.params, settings)?;
                (Compression::PerMessage(agreed), params)
            }
            deflate_frame::NAME | deflate_frame::WEBKIT_NAME => {
                let (agreed, params) = deflate_frame::accept(&offer.params, settings)?;
                (Compression::PerFrame(agreed), params)
            }
            deflate_stream::NAME if deflate_stream::accept(&offer.params, settings) => {
                (Compression::Stream, Vec::new())
            }
            _ => return None,
        };
        Some(Agreement {
            compression,
            response: format_extension(&offer.name, &params),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::extensions::parse_extensions;

    fn response(header: &str, settings: CompressionSettings) -> Option<String> {
        let offers = parse_extensions(std::iter::once(header)).unwrap();
        negotiate(&offers, &settings).map(|a| a.response)
    }

    #[test]
    fn first_acceptable_offer_wins() {
        let on = CompressionSettings::default();
        let table = [
            ("permessage-deflate", Some("permessage-deflate")),
            (
                "foo, permessage-deflate; client_max_window_bits",
                Some("permessage-deflate"),
            ),
            // Declined offer (bad value), then an acceptable one.
            (
                "permessage-deflate; server_max_window_bits=20, \
                 permessage-deflate; server_no_context_takeover",
                Some("permessage-deflate; server_no_context_takeover"),
            ),
            (
                "x-webkit-deflate-frame, permessage-deflate",
                Some("x-webkit-deflate-frame"),
            ),
            ("deflate-frame", Some("deflate-frame")),
            ("deflate-stream, permessage-deflate", Some("deflate-stream")),
            (
                "deflate-stream; x=1, permessage-deflate",
                Some("permessage-deflate"),
            ),
            ("foo, bar; baz=1", None),
            ("mux, permessage-deflate; bogus", None),
        ];
        for (header, expected) in table {
            assert_eq!(response(header, on).as_deref(), expected, "{header}");
        }
    }

    #[test]
    fn compression_off_accepts_nothing() {
        let off = CompressionSettings {
            enabled: false,
            ..CompressionSettings::default()
        };
        assert_eq!(response("permessage-deflate, deflate-stream", off), None);
    }

    #[test]
    fn agreement_carries_the_parameters() {
        let offers = parse_extensions(std::iter::once(
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=9",
        ))
        .unwrap();
        let agreement = negotiate(&offers, &CompressionSettings::default()).unwrap();
        assert_eq!(
            agreement.compression,
            Compression::PerMessage(super::super::DeflateParams {
                deflate_window_bits: 15,
                deflate_no_context_takeover: true,
                inflate_window_bits: 9,
                inflate_no_context_takeover: false,
            })
        );
    }
}
