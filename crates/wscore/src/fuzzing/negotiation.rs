//! Checks of [`negotiate`] on arbitrary parsed offers.

use crate::extensions::{
    deflate_frame, deflate_stream, negotiate, permessage_deflate, Compression, CompressionSettings,
};
use crate::handshake::extensions::{parse_extensions, ExtensionOffer};

const SUPPORTED: [&str; 4] = [
    permessage_deflate::NAME,
    deflate_frame::NAME,
    deflate_frame::WEBKIT_NAME,
    deflate_stream::NAME,
];

/// Under a few settings: nothing when compression is off; otherwise an
/// agreement answers one of the offers with one supported extension, whose
/// response re-parses as that one offer, with every number in it (a window
/// size) and the agreed windows within the configured maximum.
pub fn check(offers: &[ExtensionOffer]) {
    let off = CompressionSettings {
        enabled: false,
        ..CompressionSettings::default()
    };
    assert_eq!(negotiate(offers, &off), None);
    for max_window_bits in [8, 11, 15] {
        let settings = CompressionSettings {
            enabled: true,
            max_window_bits,
        };
        let Some(agreement) = negotiate(offers, &settings) else {
            continue;
        };
        let answer = parse_extensions(std::iter::once(agreement.response.as_str()))
            .unwrap_or_else(|e| panic!("response {:?} does not parse: {e}", agreement.response));
        let [answer] = answer.as_slice() else {
            panic!("response {:?} is not one extension", agreement.response);
        };
        assert!(SUPPORTED.contains(&answer.name.as_str()), "{}", answer.name);
        assert!(offers.iter().any(|offer| offer.name == answer.name));
        for (name, value) in &answer.params {
            if let Some(value) = value {
                let bits: u8 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={value} is not a window size"));
                assert!((8..=max_window_bits).contains(&bits), "{name}={value}");
            }
        }
        match agreement.compression {
            Compression::PerMessage(params) | Compression::PerFrame(params) => {
                assert!(params.deflate_window_bits <= max_window_bits);
                assert!(params.inflate_window_bits <= max_window_bits);
                assert!(params.deflate_window_bits >= 8 && params.inflate_window_bits >= 8);
            }
            Compression::Stream => assert_eq!(answer.name, deflate_stream::NAME),
        }
    }
}
