//! wsfanout: the fan-out benchmark client. N members join a chat room
//! (join them quietly: `/chat?quiet`), then a sender sends M messages, each
//! once the previous one has reached every member; each member checks it
//! gets every message once and in order and times each delivery.
//!
//!   wsfanout --url ws://127.0.0.1:8080/chat?quiet [--url ws://127.0.0.1:8081/chat?quiet]...
//!            [--members 10000] [--messages 20] [--size 64] [--round-limit 30]
//!            [--server-pid PID]...
//!
//! `--url` given more than once spreads the members over the servers (one
//! room spanning them, e.g. through `WebSocketBroker`): member i joins
//! through the (i mod URLs)th, the sender through the first.
//!
//! Prints a human summary and one `RESULT key=value...` line for scripts.
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use loadgen::args::Args;
use loadgen::conn::Connector;
use loadgen::fanout::{self, FanoutConfig};
use loadgen::target::Target;

/// Descriptors this process needs besides its connections.
const SPARE_FDS: u64 = 64;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsfanout: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let args = Args::parse(std::env::args().skip(1), &[])?;
    args.reject_unknown(&[
        "url",
        "members",
        "messages",
        "size",
        "round-limit",
        "server-pid",
    ])?;
    let urls = args.all("url");
    if urls.is_empty() {
        return Err("--url is required".into());
    }
    let config = FanoutConfig {
        members: args.bounded("members", 10_000, 19_000)? as usize,
        messages: args.bounded("messages", 20, 10_000)?,
        size: args.bounded("size", 64, 64 * 1024)? as usize,
        ramp_limit: Duration::from_secs(120),
        round_limit: Duration::from_secs(args.bounded("round-limit", 30, 300)?),
        server_pids: args
            .all("server-pid")
            .iter()
            .map(|p| p.parse().map_err(|_| format!("--server-pid: '{p}'")))
            .collect::<Result<_, _>>()?,
    };
    raise_fd_limit(config.members as u64 + SPARE_FDS)?;
    let connectors = urls
        .iter()
        .map(|url| Ok(Rc::new(Connector::new(Target::parse(url)?, false)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let r = runtime.block_on(fanout::run(&connectors, &config));
    let rate = r.deliveries as f64 / r.seconds.max(1e-6);
    println!(
        "{} of {} members joined over {} server(s) (ramp {:.1} s, {} failed); {} messages of {} B sent: \
         {} deliveries, {} lost, {} errors in {:.2} s: {rate:.0} deliveries/s, \
         delivery p50 {} us p99 {} us max {} us; CPU client {:.0}% server {:.0}%",
        r.joined,
        config.members,
        connectors.len(),
        r.ramp_seconds,
        r.failed_to_join,
        r.sent,
        config.size,
        r.deliveries,
        r.lost,
        r.errors,
        r.seconds,
        r.latency_us[0],
        r.latency_us[1],
        r.latency_us[2],
        r.client_cpu * 100.0,
        r.server_cpu * 100.0
    );
    if let Some(e) = &r.first_error {
        println!("first error: {e}");
    }
    println!(
        "RESULT members={} servers={} failed_to_join={} messages={} deliveries={} lost={} errors={} \
         deliveries_per_s={rate:.0} p50_us={} p99_us={} max_us={} client_cpu={:.2} server_cpu={:.2}",
        r.joined,
        connectors.len(),
        r.failed_to_join,
        r.sent,
        r.deliveries,
        r.lost,
        r.errors,
        r.latency_us[0],
        r.latency_us[1],
        r.latency_us[2],
        r.client_cpu,
        r.server_cpu
    );
    Ok(())
}

/// One descriptor per member.
fn raise_fd_limit(want: u64) -> Result<(), String> {
    loadgen::procstat::raise_fd_limit(want).map_err(|limit| {
        format!("{want} file descriptors needed, the limit is {limit}: fewer --members")
    })
}
