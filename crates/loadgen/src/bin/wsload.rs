//! wsload: a bounded WebSocket load client for loopback servers.
//!
//!   wsload echo --url ws://127.0.0.1:8080/echo [--connections 64] [--size 32]
//!               [--in-flight 1] [--duration 5] [--binary] [--deflate] [--server-pid PID]...
//!   wsload hold --url ws://127.0.0.1:8080/echo [--connections 5000]
//!               [--ping-interval 2] [--hold 4] [--server-pid PID]...
//!
//! Prints a human summary and one `RESULT key=value...` line for scripts.
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use loadgen::args::Args;
use loadgen::conn::Connector;
use loadgen::target::Target;
use loadgen::{echo, hold};

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().unwrap_or_default();
    let result = Args::parse(argv, &["binary", "deflate"]).and_then(|args| match mode.as_str() {
        "echo" => run_echo(&args),
        "hold" => run_hold(&args),
        _ => Err("usage: wsload echo|hold --url ws://127.0.0.1:PORT/PATH [flags] (see the source header)".into()),
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
    let connector = Connector::new(target, args.switch("deflate"))?;
    let r = runtime()?.block_on(echo::run(&connector, &config))?;
    let rate = r.messages as f64 / r.seconds;
    let mbps = rate * r.bytes_per_message as f64 / 1e6;
    println!(
        "{} conns x {} B x {} in flight, {:.0} s{}: {rate:.0} msgs/s, {mbps:.1} MB/s, latency p50 {} us p99 {} us max {} us, \
         errors {}, CPU client {:.0}% server {:.0}%",
        config.connections,
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
         client_cpu={:.2} server_cpu={:.2}",
        r.latency_us[0],
        r.latency_us[1],
        r.latency_us[2],
        r.errors,
        if r.deflate { "yes" } else { "no" },
        r.client_cpu,
        r.server_cpu
    );
    Ok(())
}

fn run_hold(args: &Args) -> Result<(), String> {
    args.reject_unknown(&["url", "connections", "ping-interval", "hold", "server-pid"])?;
    let target = Target::parse(args.text("url").ok_or("--url is required")?)?;
    let config = hold::HoldConfig {
        connections: args.bounded("connections", 5000, 20000)? as usize,
        ping_interval: Duration::from_secs(args.bounded("ping-interval", 2, 60)?),
        hold: Duration::from_secs(args.bounded("hold", 4, 60)?),
        ramp_limit: Duration::from_secs(60),
        server_pids: server_pids(args)?,
    };
    raise_fd_limit(config.connections as u64 + 100)?;
    let connector = Rc::new(Connector::new(target, false)?);
    let r = runtime()?.block_on(hold::run(connector, &config));
    let grown = r.server_memory_held.saturating_sub(r.server_memory_before);
    let per_conn = |bytes: u64| bytes as f64 / r.held.max(1) as f64 / 1024.0;
    println!(
        "held {} of {} connections (ramp {:.1} s), {} failed; server memory {:.1} MiB \
         ({:.1} KiB per connection; {:.1} KiB per connection above the idle server)",
        r.held,
        r.attempted,
        r.ramp_seconds,
        r.failed,
        r.server_memory_held as f64 / 1048576.0,
        per_conn(r.server_memory_held),
        per_conn(grown)
    );
    if let Some(e) = &r.first_error {
        println!("first error: {e}");
    }
    println!(
        "RESULT held={} failed={} kib_per_conn={:.1} kib_per_conn_growth={:.1} server_mib={:.1}",
        r.held,
        r.failed,
        per_conn(r.server_memory_held),
        per_conn(grown),
        r.server_memory_held as f64 / 1048576.0
    );
    Ok(())
}

/// Each held connection needs a descriptor.
fn raise_fd_limit(want: u64) -> Result<(), String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        if limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    if limit.rlim_cur < want {
        return Err(format!(
            "need {want} file descriptors, the limit is {}",
            limit.rlim_cur
        ));
    }
    Ok(())
}
