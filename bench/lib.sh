# Helpers of the `make bench` scripts (sourced by bench/run.sh,
# bench/fanout.sh and bench/event-rows.sh): ports checked, CPUs pinned,
# Apache and wsecho started and stopped, descriptors and server memory
# counted, and many wsload hold processes run as one.
# Expects: repo, work, module, wsecho; wsload for server_memory (so for
# start_apache's CHILDREN and hold_connections).

# Arrays of what was started: Apache configs, server pids (wsecho), clients
# (wsload processes).
apache_confs=() pids=() clients=()

# Exits if any PORT already answers on 127.0.0.1; the message names the
# env var that moves the range.
check_ports() { # env_var ports...
    local var=$1 port
    shift
    for port in "$@"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "127.0.0.1:$port is in use: set $var to a free range of $# ports" >&2
            exit 1
        fi
    done
}

# client_cpu and server_cpu: taskset prefixes pinning the client to CPU 0
# and the servers to CPU 1, or empty on one CPU (then NOTE, if given, is
# printed).
pin_cpus() { # [note]
    if [ "$(nproc)" -ge 2 ]; then
        client_cpu=(taskset -c 0) server_cpu=(taskset -c 1)
    else
        if [ -n "${1:-}" ]; then echo "$1" >&2; fi
        client_cpu=() server_cpu=()
    fi
}

# The open-files limit is per process: raise it as far as allowed.
raise_nofile() {
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
}

# Stops every client and server started here and waits until each Apache is
# gone (`-k stop` returns before httpd is), so the next row (or the next
# bench) finds its ports free and the memory back.
stop_servers() {
    local conf pid
    for pid in "${clients[@]}"; do kill "$pid" 2>/dev/null || true; done
    for conf in "${apache_confs[@]}"; do apache2 -f "$conf" -k stop 2>/dev/null || true; done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for conf in "${apache_confs[@]}"; do
        for _ in $(seq 300); do [ -e "${conf%/*}/httpd.pid" ] || break; sleep 0.1; done
    done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for pid in "${clients[@]}"; do wait "$pid" 2>/dev/null || true; done
    apache_confs=() pids=() clients=()
}

# Waits up to 30 s for something to listen on 127.0.0.1:PORT.
wait_port() { # port
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1" >&2
    exit 1
}

# PSS in bytes of a process and all its children; `processes=` too.
server_memory() { "$wsload" memory --server-pid "$1" | sed -n 's/^RESULT //p'; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
mean() { awk -v x="$1" -v y="$2" 'BEGIN { if (x == "" || y == "") print ""; else printf "%.6g", (x + y) / 2 }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x == "" || y == "" || y == 0) print "-"; else printf "%.2f", x / y }'; }
fmt() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else if (x >= 100) printf "%.0f", x; else printf "%.1f", x }'; }

# Runs one client (wsload, wsfanout) on the client CPU; prints its RESULT
# fields (key=value ...) and its first error, if any, to stderr after TAG;
# if it fails, its output to stderr, failed=1, and returns 1.
run_client() { # peer tag command args...
    local peer=$1 tag=$2 out
    shift 2
    out=$("${client_cpu[@]}" "$@" 2>&1) || {
        echo "${1##*/} failed against $peer: $out" >&2
        echo "failed=1"
        return 1
    }
    echo "$out" | sed -n 's/^RESULT //p'
    echo "$out" | grep '^first error' | sed "s/^/  ($tag) /" >&2 || true
}

# Starts Apache (event MPM) from a fresh server root under target/bench/NAME
# (apache-conf/render-conf.sh with EXTRA_CONFIG, and HANDLER_CONFIG, by
# default the repository's handler files) and waits for its port, its pid
# file and, if CHILDREN is not empty, CHILDREN child processes. Sets
# server_pid. Runs apache2 directly, not through apache2ctl, which would
# lower the open-files limit to Debian's 8192.
start_apache() { # name port tls_port children extra_config [handler_config]
    local root="$work/$1"
    rm -rf "$root" && mkdir -p "$root"
    PORT=$2 TLS_PORT=$3 MPM=event MODULE=$module LOG_LEVEL=warn \
        HANDLER_CONFIG="${6:-WebSocketHandlerRoot \"$repo/apache-conf/handlers\"}" \
        EXTRA="$5" "$repo/apache-conf/render-conf.sh" "$root" >/dev/null
    chmod 755 "$work" "$root"
    # apache_nofile, if set: the open-files limit Apache runs under
    # (Debian's apache2ctl sets 8192).
    (
        if [ -n "${apache_nofile:-}" ]; then ulimit -n "$apache_nofile"; fi
        "${server_cpu[@]}" apache2 -f "$root/httpd.conf" -k start
    )
    apache_confs+=("$root/httpd.conf")
    wait_port "$2"
    # The port may answer before the pid file is written.
    for _ in $(seq 100); do [ -s "$root/httpd.pid" ] && break; sleep 0.1; done
    server_pid=$(cat "$root/httpd.pid")
    if [ -n "$4" ]; then
        for _ in $(seq 100); do
            [ "$(field "$(server_memory "$server_pid")" processes)" -gt "$4" ] && break
            sleep 0.1
        done
        sleep 1 # let the children finish starting their threads
    fi
}

# Starts wsecho (its other flags after PORT) and waits for its port. Sets
# server_pid.
start_wsecho() { # port [wsecho args]
    "${server_cpu[@]}" "$wsecho" --port "$@" &
    pids+=($!)
    server_pid=$!
    wait_port "$1"
}

# Descriptors open in the whole tree, and in its busiest process (the
# per-process limit is what caps one Apache child): "total most".
tree_fds() { # root pid
    local pid most=0 total=0 n
    for pid in $1 $(pgrep -P "$1"); do
        n=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        total=$((total + n))
        [ "$n" -gt "$most" ] && most=$n
    done
    echo "$total $most"
}
max_fds() { # pid
    local fds
    fds=$(tree_fds "$1")
    echo "${fds#* }"
}

# Connections the server side holds established on ports FIRST..LAST: what
# memory is divided by (a connection the server closed and the client has
# not noticed yet costs the server nothing).
established() { # first last
    ss -Htn state established "( sport >= :$1 and sport <= :$2 )" | wc -l
}

# Holds COUNT connections with as many wsload processes as the open-files
# limit needs (PER_PROCESS each), measures the server while all of them
# hold, releases them (each checks its connections once: a ping or a GET),
# and sets: held (as the clients count) server_held (ports in
# $server_ports, "FIRST LAST") answered failed ramp_s kib_per_conn
# pss_idle_mib pss_held_mib fds_per_conn fds_max first_error. Any `during_hold` command runs between
# the ramp and the measurement (the site row's GETs).
during_hold=""
hold_connections() { # mode count ramp_limit server_pid wsload-args...
    local mode=$1 count=$2 ramp_limit=$3 spid=$4
    shift 4
    local per=${PER_PROCESS:-10000} release="$work/release" i n c out
    local procs=$(((count + per - 1) / per))
    clients=()
    rm -f "$release" "$work"/hold-*.out
    local idle idle_fds fds
    idle=$(field "$(server_memory "$spid")" pss_bytes)
    idle_fds=$(tree_fds "$spid")
    for ((i = 0; i < procs; i++)); do
        c=$((count / procs + (i < count % procs ? 1 : 0)))
        "${client_cpu[@]}" "$wsload" "$mode" --connections "$c" --ping-interval 0 --hold 600 \
            --ramp-limit "$ramp_limit" --release-file "$release" "$@" >"$work/hold-$i.out" 2>&1 &
        clients+=($!)
    done
    # Every process ramped (or gone), within the ramp limit and some slack.
    for _ in $(seq $(((ramp_limit + 60) * 10))); do
        n=0
        for ((i = 0; i < procs; i++)); do
            if grep -q '^RAMPED' "$work/hold-$i.out" || ! kill -0 "${clients[$i]}" 2>/dev/null; then
                n=$((n + 1))
            fi
        done
        [ "$n" -eq "$procs" ] && break
        sleep 0.1
    done
    [ -n "$during_hold" ] && $during_hold
    sleep 2 # let the last parked connections settle
    local held_mem
    held_mem=$(field "$(server_memory "$spid")" pss_bytes)
    fds=$(tree_fds "$spid")
    fds_max=${fds#* }
    # shellcheck disable=SC2086
    server_held=$(established $server_ports)
    touch "$release"
    for pid in "${clients[@]}"; do wait "$pid" || true; done
    held=0 answered=0 failed=0 ramp_s=0 first_error=""
    for ((i = 0; i < procs; i++)); do
        out=$(sed -n 's/^RESULT //p' "$work/hold-$i.out")
        if [ -z "$out" ]; then
            failed=$((failed + 1))
            first_error=${first_error:-$(tail -1 "$work/hold-$i.out")}
            continue
        fi
        held=$((held + $(field "$out" held)))
        answered=$((answered + $(field "$out" answered)))
        failed=$((failed + $(field "$out" failed)))
        ramp_s=$(awk -v a="$ramp_s" -v b="$(field "$out" ramp_s)" 'BEGIN { print (b > a) ? b : a }')
        first_error=${first_error:-$(sed -n 's/^first error: //p' "$work/hold-$i.out")}
    done
    kib_per_conn=$(awk -v a="$idle" -v b="$held_mem" -v n="$server_held" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n / 1024; else print "-" }')
    fds_per_conn=$(awk -v a="${idle_fds% *}" -v b="${fds% *}" -v n="$server_held" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "-" }')
    pss_idle_mib=$(awk -v a="$idle" 'BEGIN { printf "%.0f", a / 1048576 }')
    pss_held_mib=$(awk -v a="$held_mem" 'BEGIN { printf "%.0f", a / 1048576 }')
}
