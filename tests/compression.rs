//! Compression through a real httpd: a raw-socket client offers each
//! extension and parameter combination, checks the exact
//! `Sec-WebSocket-Extensions` answer, and exchanges real compressed frames
//! (RSV1 set) with the echo handler.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{config_test, frame, raw_exchange, upgrade_request, Apache, Setup};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];
const RSV1: u8 = 0x40;

/// One frame as the server sent it.
#[derive(Debug)]
struct Frame {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// A WebSocket connection spoken byte by byte.
struct RawClient {
    stream: TcpStream,
    /// deflate-stream: every byte is one DEFLATE stream per direction.
    stream_deflate: Option<(Compress, Decompress)>,
    inflated: Vec<u8>,
}

impl RawClient {
    /// Opens `path` offering `extensions`; returns the client and the
    /// response's `Sec-WebSocket-Extensions` (or `None`).
    fn open(apache: &Apache, path: &str, extensions: &str) -> (RawClient, Option<String>) {
        let stream = TcpStream::connect(("127.0.0.1", apache.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let header = format!("Sec-WebSocket-Extensions: {extensions}\r\n");
        let response = raw_exchange(stream.try_clone().unwrap(), &upgrade_request(path, &header));
        assert_eq!(
            response.status,
            101,
            "{}\n{}",
            response.head,
            apache.error_log()
        );
        assert!(response.body.is_empty());
        let agreed = response.header("Sec-WebSocket-Extensions");
        let stream_deflate = (agreed.as_deref() == Some("deflate-stream")).then(|| {
            (
                Compress::new(Compression::default(), false),
                Decompress::new(false),
            )
        });
        let client = RawClient {
            stream,
            stream_deflate,
            inflated: Vec::new(),
        };
        (client, agreed)
    }

    fn send_frame(&mut self, first: u8, payload: &[u8]) {
        // `first` as on the wire: FIN, RSV bits, opcode.
        let mut frame = frame(first & 0x80 != 0, first >> 4 & 7, first & 0xf, payload);
        if let Some((compress, _)) = &mut self.stream_deflate {
            frame = deflate(compress, &frame, false);
        }
        self.stream.write_all(&frame).unwrap();
    }

    fn read_bytes(&mut self, n: usize) -> Vec<u8> {
        while self.inflated.len() < n {
            let mut chunk = vec![0; 64 * 1024];
            let got = self.stream.read(&mut chunk).unwrap();
            assert!(got > 0, "connection closed");
            chunk.truncate(got);
            match &mut self.stream_deflate {
                Some((_, decompress)) => self.inflated.extend(inflate(decompress, &chunk)),
                None => self.inflated.extend(chunk),
            }
        }
        self.inflated.drain(..n).collect()
    }

    fn read_frame(&mut self) -> Frame {
        let head = self.read_bytes(2);
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7f {
            126 => u16::from_be_bytes(self.read_bytes(2).try_into().unwrap()) as usize,
            127 => u64::from_be_bytes(self.read_bytes(8).try_into().unwrap()) as usize,
            n => n as usize,
        };
        Frame {
            fin: head[0] & 0x80 != 0,
            rsv1: head[0] & RSV1 != 0,
            opcode: head[0] & 0x0f,
            payload: self.read_bytes(len),
        }
    }

    fn close_code(&mut self) -> u16 {
        let frame = self.read_frame();
        assert_eq!(frame.opcode, 0x8, "{frame:?}");
        u16::from_be_bytes([frame.payload[0], frame.payload[1]])
    }
}

/// Raw DEFLATE with a sync flush; the tail stripped when asked.
fn deflate(compress: &mut Compress, data: &[u8], strip: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    loop {
        let consumed = compress.total_in();
        compress
            .compress_vec(data, &mut out, FlushCompress::Sync)
            .unwrap();
        assert_eq!(compress.total_in() - consumed, data.len() as u64);
        if out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity());
    }
    if strip {
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
    }
    out
}

fn inflate(decompress: &mut Decompress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 4 + 1024);
    let mut input = data;
    loop {
        let before = decompress.total_in();
        decompress
            .decompress_vec(input, &mut out, FlushDecompress::Sync)
            .unwrap();
        input = &input[(decompress.total_in() - before) as usize..];
        if input.is_empty() && out.len() < out.capacity() {
            return out;
        }
        out.reserve(out.capacity());
    }
}

fn inflate_message(decompress: &mut Decompress, payload: &[u8]) -> Vec<u8> {
    inflate(decompress, &[payload, &TAIL].concat())
}

/// Compressible test data that is not trivial.
fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"abcdefgh"[(i * i / 7) % 8]).collect()
}

/// What the client agreed to do, for its compressor and decompressor.
struct ClientSide {
    window_bits: u8,
    reset_compressor: bool,
    reset_decompressor: bool,
}

/// Echoes three compressed messages and one uncompressed one; every answer
/// must come compressed, RSV1 on its single frame, and inflate to the
/// message (with the history kept or not, as agreed).
fn exchange_per_message(client: &mut RawClient, side: ClientSide) {
    let mut compress =
        Compress::new_with_window_bits(Compression::default(), false, side.window_bits);
    let mut decompress = Decompress::new(false);
    let messages: [(u8, Vec<u8>); 3] = [
        (0x1, b"Hello".to_vec()),
        (0x1, b"Hello".to_vec()),
        (0x2, sample(100_000)),
    ];
    for (opcode, data) in &messages {
        if side.reset_compressor {
            compress.reset();
        }
        let payload = deflate(&mut compress, data, true);
        client.send_frame(0x80 | RSV1 | opcode, &payload);
        let frame = client.read_frame();
        assert!(
            frame.fin && frame.rsv1 && frame.opcode == *opcode,
            "{frame:?}"
        );
        // DEFLATE data (stored blocks under server_max_window_bits=8).
        assert_ne!(&frame.payload, data);
        if side.reset_decompressor {
            decompress.reset(false);
        }
        assert_eq!(&inflate_message(&mut decompress, &frame.payload), data);
    }
    client.send_frame(0x81, b"plain");
    let frame = client.read_frame();
    assert!(frame.rsv1);
    if side.reset_decompressor {
        decompress.reset(false);
    }
    assert_eq!(inflate_message(&mut decompress, &frame.payload), b"plain");
    client.send_frame(0x88, &1000u16.to_be_bytes());
    assert_eq!(client.close_code(), 1000);
}

#[test]
fn permessage_deflate_every_parameter() {
    let apache = Apache::start("compression_pmd", Setup::default());
    // (offer, exact answer, client window, server_no_context_takeover agreed, client_no_context_takeover agreed)
    let table: &[(&str, &str, u8, bool, bool)] = &[
        ("permessage-deflate", "permessage-deflate", 15, false, false),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
            15,
            false,
            false,
        ),
        (
            "permessage-deflate; client_max_window_bits=9",
            "permessage-deflate; client_max_window_bits=9",
            9,
            false,
            false,
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover",
            15,
            true,
            false,
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            "permessage-deflate; client_no_context_takeover",
            15,
            false,
            true,
        ),
        (
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=8",
            15,
            false,
            false,
        ),
        (
            "permessage-deflate; server_max_window_bits=11",
            "permessage-deflate; server_max_window_bits=11",
            15,
            false,
            false,
        ),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12",
            12,
            true,
            true,
        ),
        // A declined first offer (unknown parameter), then an accepted one.
        (
            "permessage-deflate; bogus, x-unknown, permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover",
            15,
            true,
            false,
        ),
    ];
    for (offer, answer, window_bits, server_nct, client_nct) in table {
        let (mut client, agreed) = RawClient::open(&apache, "/echo", offer);
        assert_eq!(agreed.as_deref(), Some(*answer), "offer: {offer}");
        exchange_per_message(
            &mut client,
            ClientSide {
                window_bits: *window_bits,
                reset_compressor: *client_nct,
                reset_decompressor: *server_nct,
            },
        );
    }
}

#[test]
fn seed_era_extensions() {
    let apache = Apache::start("compression_seed", Setup::default());
    for name in ["deflate-frame", "x-webkit-deflate-frame"] {
        for (params, reset) in [
            ("", false),
            ("; no_context_takeover", true),
            ("; max_window_bits=10", false),
        ] {
            let offer = format!("{name}{params}");
            let (mut client, agreed) = RawClient::open(&apache, "/echo", &offer);
            assert_eq!(agreed.as_deref(), Some(name), "{offer}");
            // Each frame is compressed on its own: two fragments, each RSV1.
            let mut compress = Compress::new(Compression::default(), false);
            let first = deflate(&mut compress, b"Hello, ", true);
            let second = deflate(&mut compress, b"Hello!", true);
            client.send_frame(RSV1 | 0x1, &first);
            client.send_frame(0x80 | RSV1, &second);
            let frame = client.read_frame();
            assert!(frame.fin && frame.rsv1 && frame.opcode == 0x1, "{frame:?}");
            let mut decompress = Decompress::new(false);
            assert_eq!(
                inflate_message(&mut decompress, &frame.payload),
                b"Hello, Hello!"
            );
            let frame = {
                client.send_frame(0x81, b"Hello, Hello!");
                client.read_frame()
            };
            if reset {
                decompress.reset(false);
            }
            assert_eq!(
                inflate_message(&mut decompress, &frame.payload),
                b"Hello, Hello!"
            );
            client.send_frame(0x88, &1000u16.to_be_bytes());
            assert_eq!(client.close_code(), 1000);
        }
    }
    // deflate-stream: the frames themselves travel inside one DEFLATE stream.
    let (mut client, agreed) = RawClient::open(&apache, "/echo", "deflate-stream");
    assert_eq!(agreed.as_deref(), Some("deflate-stream"));
    let big = sample(200_000);
    client.send_frame(0x82, &big);
    let frame = client.read_frame();
    assert!(!frame.rsv1 && frame.opcode == 0x2);
    assert_eq!(frame.payload, big);
    client.send_frame(0x81, b"Goodbye");
    assert_eq!(client.read_frame().payload, b"Goodbye");
    assert_eq!(client.close_code(), 1000);
}

#[test]
fn extensions_declined_by_handler_and_configuration() {
    let apache = Apache::start(
        "compression_config",
        Setup::default().extra(
            "<Location /echo_off>\n  WebSocketHandler echo\n  WebSocketCompression Off\n</Location>\n\
             <Location /echo_small>\n  WebSocketHandler echo\n  WebSocketCompressionMaxWindowBits 10\n</Location>",
        ),
    );
    let offer = "permessage-deflate; client_max_window_bits, deflate-stream";
    for path in ["/echo_noext", "/echo_off"] {
        let (mut client, agreed) = RawClient::open(&apache, path, offer);
        assert_eq!(agreed, None, "{path}");
        client.send_frame(0x81, b"Hello");
        let frame = client.read_frame();
        assert!(!frame.rsv1);
        assert_eq!(frame.payload, b"Hello");
    }
    // The window limit is imposed on both sides, or the offer is declined.
    let (mut client, agreed) = RawClient::open(&apache, "/echo_small", offer);
    assert_eq!(
        agreed.as_deref(),
        Some("permessage-deflate; server_max_window_bits=10; client_max_window_bits=10")
    );
    exchange_per_message(
        &mut client,
        ClientSide {
            window_bits: 10,
            reset_compressor: false,
            reset_decompressor: false,
        },
    );
    let (_, agreed) = RawClient::open(&apache, "/echo_small", "permessage-deflate, deflate-stream");
    assert_eq!(agreed, None);
}

#[test]
fn bad_compressed_input_closes_the_connection() {
    let apache = Apache::start(
        "compression_bad",
        Setup::default().extra("WebSocketMaxMessageSize 64K"),
    );
    // A deflate bomb: 64 MiB of zeros in about 64 KiB.
    let (mut client, _) = RawClient::open(&apache, "/echo", "permessage-deflate");
    let mut compress = Compress::new(Compression::best(), false);
    let bomb = deflate(&mut compress, &vec![0; 64 << 20], true);
    assert!(bomb.len() < 100_000);
    client.send_frame(0x80 | RSV1 | 0x2, &bomb);
    assert_eq!(client.close_code(), 1009);
    // Not DEFLATE at all.
    let (mut client, _) = RawClient::open(&apache, "/echo", "permessage-deflate");
    client.send_frame(0x80 | RSV1 | 0x2, &[0xff, 0xff, 0xff]);
    assert_eq!(client.close_code(), 1007);
    // RSV1 on a control frame.
    let (mut client, _) = RawClient::open(&apache, "/echo", "permessage-deflate");
    client.send_frame(0x80 | RSV1 | 0x9, b"");
    assert_eq!(client.close_code(), 1002);
}

#[test]
fn bad_window_bits_directive_fails_configtest() {
    let (ok, text) = config_test(
        "compression_configtest",
        &Setup::default().extra("WebSocketCompressionMaxWindowBits 16"),
    );
    assert!(!ok);
    assert!(text.contains("WebSocketCompressionMaxWindowBits"), "{text}");
    assert!(text.contains("from 8 to 15"), "{text}");
}
