//! CPU time and memory of the client and of the server processes (a root
//! pid and all its descendants, so Apache's children count), from /proc.
use std::collections::HashMap;
use std::fs;
use std::time::Instant;

/// The pids given and every process below them.
pub fn process_tree(roots: &[u32]) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(fields) = stat_fields(pid) {
                if let Some(ppid) = fields.get(1).and_then(|s| s.parse().ok()) {
                    children.entry(ppid).or_default().push(pid);
                }
            }
        }
    }
    let mut all = roots.to_vec();
    let mut i = 0;
    while i < all.len() {
        if let Some(kids) = children.get(&all[i]) {
            all.extend(kids.iter().copied().filter(|k| !roots.contains(k)));
        }
        i += 1;
    }
    all
}

/// Fields of /proc/PID/stat after the command name (state is index 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// User + system CPU seconds of these processes.
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    // SAFETY: sysconf has no memory effects.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    pids.iter()
        .filter_map(|&pid| stat_fields(pid))
        .map(|f| {
            let utime: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0);
            let stime: f64 = f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
            (utime + stime) / ticks
        })
        .sum()
}

/// Proportional set size (shared pages split between sharers) in bytes.
pub fn memory_bytes(pids: &[u32]) -> u64 {
    pids.iter()
        .map(|pid| {
            let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            text.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
                * 1024
        })
        .sum()
}

/// CPU share (1.0 = one core busy) of the client and the servers over a span.
pub struct CpuMeter {
    servers: Vec<u32>,
    started: Instant,
    client_start: f64,
    server_start: f64,
}

impl CpuMeter {
    pub fn start(server_roots: &[u32]) -> CpuMeter {
        let servers = process_tree(server_roots);
        CpuMeter {
            client_start: cpu_seconds(&[std::process::id()]),
            server_start: cpu_seconds(&servers),
            servers,
            started: Instant::now(),
        }
    }

    /// (client share, server share) since `start`.
    pub fn shares(&self) -> (f64, f64) {
        let wall = self.started.elapsed().as_secs_f64().max(1e-3);
        let client = cpu_seconds(&[std::process::id()]) - self.client_start;
        let server = cpu_seconds(&self.servers) - self.server_start;
        (client / wall, server / wall)
    }
}

/// Raises this process's open-files limit to `want` if the hard limit
/// allows; Err carries the limit it stays at.
pub fn raise_fd_limit(want: u64) -> Result<(), u64> {
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
        return Err(limit.rlim_cur);
    }
    Ok(())
}
