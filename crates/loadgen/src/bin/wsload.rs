//! wsload: a bounded WebSocket load client for loopback servers.
//!
//!   wsload echo --url ws://127.0.0.1:8080/echo [--connections 64] [--size 32]
//!               [--in-flight 1] [--duration 5] [--binary] [--deflate] [--server-pid PID]...
//!               [--h2 [--streams-per-connection 1] [--h2-warmup GETS]]
//!     --h2: the WebSockets are HTTP/2 streams (RFC 8441 extended CONNECT),
//!     h2c (prior knowledge) for ws://, h2 (TLS, ALPN) for wss://;
//!     --connections counts WebSockets, and each HTTP/2 connection carries
//!     --streams-per-connection of them (64 and 64: one connection);
//!     --h2-warmup: each connection first GETs / that many times, one at a
//!     time (mod_http2 runs 6 streams of a new connection at once, and more
//!     only after some have finished: see crate::h2ws).
//!   wsload hold --url ws://127.0.0.1:8080/echo [--url ...]... [--connections 5000]
//!               [--ping-interval 2 (0: none)] [--hold 4] [--ramp-limit 60] [--ramp-concurrency 128]
//!               [--release-file PATH] [--first-message SIZE]
//!               [--extensions 'permessage-deflate; client_max_window_bits']
//!               [--server-pid PID]...
//!   wsload keepalive --url http://127.0.0.1:8080/ [--url ...]...  (the same flags
//!               but --first-message and --extensions: idle HTTP/1.1 keep-alive
//!               connections after one GET each, the floor hold is compared with)
//!   wsload get --url http://127.0.0.1:8080/ [--rate 20] [--duration 10] [--timeout 2]
//!   wsload memory --server-pid PID...   (PSS of those processes and their children)
//!
//! Several URLs are used round robin. With --release-file, hold prints a
//! `RAMPED ...` line after its ramp and holds until the file exists (at most
//! --hold seconds): several processes then share one server measurement.
//! Prints a human summary and one `RESULT key=value...` line for scripts.
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use loadgen::args::Args;
use loadgen::conn::Connector;
use loadgen::held::Opener;
use loadgen::keepalive::parse_url;
use loadgen::procstat::{memory_bytes, process_tree};
use loadgen::target::Target;
use loadgen::{echo, get, hold};

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().unwrap_or_default();
    let result = Args::parse(argv, &["binary", "deflate", "h2"]).and_then(|args| match mode.as_str() {
        "echo" => run_echo(&args),
        "hold" | "keepalive" => run_hold(&args, mode == "keepalive"),
        "get" => run_get(&args),
        "memory" => run_memory(&args),
        _ => Err("usage: wsload echo|hold|keepalive|get|memory --url ws://127.0.0.1:PORT/PATH [flags] (see the source header)".into()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsload: {e}");
            ExitCode::from(2)
        }
    }
}

fn server_pids(args: &Args) -> Result<Vec<u32>, String> {
    args.all("server-pid")
        .iter()
        .map(|p| {
            p.parse()
                .map_err(|_| format!("--server-pid: '{p}' is not a pid"))
        })
        .collect()
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn run_echo(args: &Args) -> Result<(), String> {
    args.reject_unknown(&[
        "url",
        "connections",
        "size",
        "in-flight",
        "duration",
        "server-pid",
        "streams-per-connection",
        "h2-warmup",
    ])?;
    let target = Target::parse(args.text("url").ok_or("--url is required")?)?;
    let config = echo::EchoConfig {
        connections: args.bounded("connections", 64, 1024)? as usize,
        size: args.bounded("size", 32, 16 * 1024 * 1024)? as usize,
        in_flight: args.bounded("in-flight", 1, 256)? as usize,
        duration: Duration::from_secs(args.bounded("duration", 5, 60)?),
        binary: args.switch("binary"),
        server_pids: server_pids(args)?,
    };
    let mut connector = Connector::new(target, args.switch("deflate"))?;
    if args.switch("h2") {
        let warmup = match args.text("h2-warmup") {
            Some(_) => args.bounded("h2-warmup", 1, 1000)? as usize,
            None => 0,
        };
        connector = connector.over_h2(
            args.bounded("streams-per-connection", 1, 1024)? as usize,
            warmup,
        )?;
    } else if args.text("streams-per-connection").is_some() || args.text("h2-warmup").is_some() {
        return Err("--streams-per-connection and --h2-warmup need --h2".into());
    }
    let r = runtime()?.block_on(echo::run(&connector, &config))?;
    // The TCP connections the WebSockets used.
    let tcp = match connector.tcp_connections() {
        0 => config.connections,
        n => n,
    };
    let rate = r.messages as f64 / r.seconds;
    let mbps = rate * r.bytes_per_message as f64 / 1e6;
    println!(
        "{} conns ({}, {tcp} TCP) x {} B x {} in flight, {:.0} s{}: {rate:.0} msgs/s, {mbps:.1} MB/s, latency p50 {} us p99 {} us max {} us, \
         errors {}, CPU client {:.0}% server {:.0}%",
        config.connections,
        connector.protocol(),
        r.bytes_per_message,
        config.in_flight,
        r.seconds,
        if r.deflate { ", permessage-deflate" } else { "" },
        r.latency_us[0],
        r.latency_us[1],
        r.latency_us[2],
        r.errors,
        r.client_cpu * 100.0,
        r.server_cpu * 100.0
    );
    if let Some(e) = &r.first_error {
        println!("first error: {e}");
    }
    println!(
        "RESULT msgs_per_s={rate:.0} mb_per_s={mbps:.2} p50_us={} p99_us={} max_us={} errors={} deflate={} \
         client_cpu={:.2} server_cpu={:.2} protocol={} tcp_connections={tcp}",
        r.latency_us[0],
        r.latency_us[1],
        r.latency_us[2],
        r.errors,
        if r.deflate { "yes" } else { "no" },
        r.client_cpu,
        r.server_cpu,
        connector.protocol()
    );
    Ok(())
}

fn run_hold(args: &Args, http: bool) -> Result<(), String> {
    let mut known = vec![
        "url",
        "connections",
        "ping-interval",
        "hold",
        "ramp-limit",
        "ramp-concurrency",
        "release-file",
        "server-pid",
    ];
    if !http {
        known.extend(["first-message", "extensions"]);
    }
    args.reject_unknown(&known)?;
    let urls = args.all("url");
    if urls.is_empty() {
        return Err("--url is required".into());
    }
    let opener = if http {
        Opener::HttpKeepAlive(
            urls.iter()
                .map(|u| parse_url(u))
                .collect::<Result<_, _>>()?,
        )
    } else {
        let mut connectors = Vec::new();
        for url in &urls {
            let connector = Connector::new(Target::parse(url)?, false)?;
            connectors.push(match args.text("extensions") {
                Some(offer) => connector.offering(offer),
                None => connector,
            });
        }
        let first_message = match args.text("first-message") {
            Some(_) => Some(args.bounded("first-message", 64, 64 * 1024)? as usize),
            None => None,
        };
        Opener::WebSocket {
            connectors,
            first_message,
        }
    };
    let config = hold::HoldConfig {
        connections: args.bounded("connections", 5000, 20000)? as usize,
        ping_interval: match args.text("ping-interval") {
            Some("0") => None,
            _ => Some(Duration::from_secs(args.bounded("ping-interval", 2, 60)?)),
        },
        hold: Duration::from_secs(args.bounded("hold", 4, 600)?),
        ramp_limit: Duration::from_secs(args.bounded("ramp-limit", 60, 600)?),
        ramp_concurrency: args.bounded("ramp-concurrency", 128, 1024)? as usize,
        release_file: args.text("release-file").map(PathBuf::from),
        server_pids: server_pids(args)?,
    };
    raise_fd_limit(config.connections as u64 + 100)?;
    let r = runtime()?.block_on(hold::run(Rc::new(opener), &config));
    let grown = r.server_memory_held.saturating_sub(r.server_memory_before);
    let per_conn = |bytes: u64| bytes as f64 / r.held.max(1) as f64 / 1024.0;
    println!(
        "held {} of {} connections (ramp {:.1} s), {} answered the final check, {} failed; \
         server memory {:.1} MiB ({:.1} KiB per connection; {:.1} KiB per connection above \
         the idle server)",
        r.held,
        r.attempted,
        r.ramp_seconds,
        r.answered,
        r.failed,
        r.server_memory_held as f64 / 1048576.0,
        per_conn(r.server_memory_held),
        per_conn(grown)
    );
    if let Some(e) = &r.first_error {
        println!("first error: {e}");
    }
    println!(
        "RESULT held={} answered={} failed={} ramp_s={:.1} kib_per_conn={:.1} \
         kib_per_conn_growth={:.1} server_mib={:.1}",
        r.held,
        r.answered,
        r.failed,
        r.ramp_seconds,
        per_conn(r.server_memory_held),
        per_conn(grown),
        r.server_memory_held as f64 / 1048576.0
    );
    Ok(())
}

fn run_get(args: &Args) -> Result<(), String> {
    args.reject_unknown(&["url", "rate", "duration", "timeout"])?;
    let target = parse_url(args.text("url").ok_or("--url is required")?)?;
    let config = get::GetConfig {
        rate: args.bounded("rate", 20, 1000)? as u32,
        duration: Duration::from_secs(args.bounded("duration", 10, 60)?),
        timeout: Duration::from_secs(args.bounded("timeout", 2, 60)?),
    };
    let r = runtime()?.block_on(get::run(Rc::new(target), &config));
    // Milliseconds, or "-" when no request was answered.
    let [p50, p99, max] = match r.latency_us {
        Some(us) => us.map(|us| format!("{:.1}", us as f64 / 1000.0)),
        None => ["-", "-", "-"].map(String::from),
    };
    println!(
        "{} GETs at {}/s: {} failed; answered in p50 {p50} ms, p99 {p99} ms, max {max} ms",
        r.requests, config.rate, r.failed
    );
    if let Some(e) = &r.first_error {
        println!("first error: {e}");
    }
    println!(
        "RESULT requests={} failed={} p50_ms={p50} p99_ms={p99} max_ms={max}",
        r.requests, r.failed
    );
    Ok(())
}

fn run_memory(args: &Args) -> Result<(), String> {
    args.reject_unknown(&["server-pid"])?;
    let pids = process_tree(&server_pids(args)?);
    let bytes = memory_bytes(&pids);
    println!(
        "{} processes, {:.1} MiB PSS",
        pids.len(),
        bytes as f64 / 1048576.0
    );
    println!("RESULT processes={} pss_bytes={bytes}", pids.len());
    Ok(())
}

/// Each held connection needs a descriptor.
fn raise_fd_limit(want: u64) -> Result<(), String> {
    loadgen::procstat::raise_fd_limit(want)
        .map_err(|limit| format!("need {want} file descriptors, the limit is {limit}"))
}
