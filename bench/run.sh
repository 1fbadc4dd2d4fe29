#!/bin/bash
# `make bench`: this module (a, its default event driver; t, the threaded
# driver) against Apache + mod_proxy_wstunnel in front of a
# tokio-tungstenite echo server (b) and that server alone (c), on loopback,
# client and servers pinned to different cores, each row run A T B C A T B C
# so the ratios survive a noisy machine. Prints a markdown table.
#
# usage: bench/run.sh MODULE_SO WSLOAD WSECHO   (env SECONDS_PER_RUN, default 3;
#        BENCH_SECTIONS, below; wsfanout is taken from WSLOAD's directory)
set -euo pipefail
module=$(realpath "${1:?usage: run.sh MODULE WSLOAD WSECHO}")
wsload=$(realpath "$2")
wsecho=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work="$repo/target/bench"
secs=${SECONDS_PER_RUN:-3}
libexec=$(apxs -q LIBEXECDIR)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# BENCH_SECTIONS picks what runs (comma-separated, default all): fanout
# (bench/fanout.sh; first, while no other server of ours runs), plugin
# (bench/plugin-rows.sh: the compiled-in echo against the example plugins'
# echoes, built by make plugin-example and make c-plugin-example), h2
# (bench/h2-rows.sh: 64 WebSockets over HTTP/1.1 against the same over
# HTTP/2, RFC 8441), h2limits (bench/h2-limits.sh: how many HTTP/2
# WebSockets one Apache holds), broker (bench/broker-rows.sh: a chat
# room spanning two Apaches through Redis; skipped without redis-server),
# echo (the table below), hold and site
# (bench/event-rows.sh, last).
sections=",${BENCH_SECTIONS:-all},"
section() { [[ $sections == *",$1,"* || $sections == *",all,"* ]]; }
if section fanout; then
    "$here/fanout.sh" "$module" "$(dirname "$wsload")/wsfanout" "$wsecho" || echo "the fan-out rows failed" >&2
    echo
fi
if section plugin; then
    "$here/plugin-rows.sh" "$module" "$wsload" "$repo/target/examples/release/libexample_plugin.so" \
        "$repo/target/examples/libc_echo_plugin.so" || echo "the plugin rows failed" >&2
    echo
fi
if section h2; then
    "$here/h2-rows.sh" "$module" "$wsload" || echo "the HTTP/2 rows failed" >&2
    echo
fi
if section h2limits; then
    "$here/h2-limits.sh" "$module" || echo "the HTTP/2 limits rows failed" >&2
    echo
fi
if section broker; then
    if command -v redis-server >/dev/null; then
        "$here/broker-rows.sh" "$module" "$(dirname "$wsload")/wsfanout" || echo "the broker rows failed" >&2
    else
        echo "broker rows skipped: no redis-server (make test-packages installs it)"
    fi
    echo
fi
if ! section echo; then
    exec "$here/event-rows.sh" "$module" "$wsload" "$wsecho"
fi

# Ports from BENCH_PORT_BASE (default 27100): a = module (its default, the
# event driver), b = Apache proxy, b's backend, c = tungstenite alone,
# t = module with WebSocketDriver threaded. All must be free.
base=${BENCH_PORT_BASE:-27100}
A_PORT=$base A_TLS=$((base + 1)) B_PORT=$((base + 2)) B_TLS=$((base + 3)) B_BACKEND=$((base + 4))
C_PORT=$((base + 5)) C_TLS=$((base + 6)) T_PORT=$((base + 7)) T_TLS=$((base + 8))
check_ports BENCH_PORT_BASE $A_PORT $A_TLS $B_PORT $B_TLS $B_BACKEND $C_PORT $C_TLS $T_PORT $T_TLS

pin_cpus "note: one CPU, client and servers share it"
raise_nofile
trap stop_servers EXIT

mkdir -p "$work"
# Every Apache here runs with the MPM sized for the threaded driver.
mpm=$(cat "$here/apache-mpm.conf")
start_apache a $A_PORT $A_TLS "" "$mpm
"
a_pid=$server_pid
start_apache t $T_PORT $T_TLS "" "$mpm
WebSocketDriver threaded"
t_pid=$server_pid
start_wsecho $B_BACKEND
b_backend_pid=$server_pid
start_apache b $B_PORT $B_TLS "" "$mpm
LoadModule proxy_module $libexec/mod_proxy.so
LoadModule proxy_wstunnel_module $libexec/mod_proxy_wstunnel.so
ProxyPass /echo ws://127.0.0.1:$B_BACKEND/" "# no WebSocket handlers: the proxy serves /echo"
b_pid=$server_pid
start_wsecho $C_PORT
c_pid=$server_pid
start_wsecho $C_TLS --tls-cert "$work/a/cert.pem" --tls-key "$work/a/key.pem"
c_tls_pid=$server_pid

url() { # peer tls
    case "$1:$2" in
        a:no) echo "ws://127.0.0.1:$A_PORT/echo" ;; a:yes) echo "wss://127.0.0.1:$A_TLS/echo" ;;
        t:no) echo "ws://127.0.0.1:$T_PORT/echo" ;; t:yes) echo "wss://127.0.0.1:$T_TLS/echo" ;;
        b:no) echo "ws://127.0.0.1:$B_PORT/echo" ;; b:yes) echo "wss://127.0.0.1:$B_TLS/echo" ;;
        c:no) echo "ws://127.0.0.1:$C_PORT/" ;; c:yes) echo "wss://127.0.0.1:$C_TLS/" ;;
    esac
}
server_pids() { # peer tls
    case "$1:$2" in
        a:*) echo "--server-pid $a_pid" ;;
        t:*) echo "--server-pid $t_pid" ;;
        b:*) echo "--server-pid $b_pid --server-pid $b_backend_pid" ;;
        c:no) echo "--server-pid $c_pid" ;; c:yes) echo "--server-pid $c_tls_pid" ;;
    esac
}

# One wsload run; prints its RESULT fields (key=value ...).
load() { # mode peer tls args...
    local mode=$1 peer=$2 tls=$3
    shift 3
    # shellcheck disable=SC2046
    run_client "$peer" "$peer" "$wsload" "$mode" --url "$(url "$peer" "$tls")" $(server_pids "$peer" "$tls") "$@" || true
}

echo "| test | figure | (a) module, event driver | (t) module, threaded driver | (b) wstunnel + tungstenite | (c) tungstenite | a÷t | a÷b | a÷c | p99 µs a / t / b / c | server CPU a / t / b / c | errors |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

# name metric(msgs_per_s|mb_per_s) tls wsload-args...
echo_row() {
    local name=$1 metric=$2 tls=$3
    shift 3
    declare -A first second
    local peer r
    if [[ "$*" == *--deflate* ]]; then
        r=$(load echo a "$tls" --duration 1 "$@")
        if [ "$(field "$r" deflate)" != yes ]; then
            echo "| $name | $metric | n/a (no permessage-deflate in this build) | | | | | | | | | |"
            return
        fi
    fi
    for peer in a t b c; do first[$peer]=$(load echo $peer "$tls" --duration "$secs" "$@"); done
    for peer in a t b c; do second[$peer]=$(load echo $peer "$tls" --duration "$secs" "$@"); done
    declare -A value p99 cpu
    local errors=0
    for peer in a t b c; do
        value[$peer]=$(mean "$(field "${first[$peer]}" "$metric")" "$(field "${second[$peer]}" "$metric")")
        p99[$peer]=$(mean "$(field "${first[$peer]}" p99_us)" "$(field "${second[$peer]}" p99_us)")
        cpu[$peer]=$(awk -v x="$(mean "$(field "${first[$peer]}" server_cpu)" "$(field "${second[$peer]}" server_cpu)")" 'BEGIN { printf "%.0f%%", x * 100 }')
        errors=$((errors + $(field "${first[$peer]}" errors || echo 1) + $(field "${second[$peer]}" errors || echo 1)))
        [ -n "$(field "${first[$peer]}${second[$peer]}" failed)" ] && errors=$((errors + 1))
    done
    local label=${metric/msgs_per_s/msgs\/s}
    label=${label/mb_per_s/MB\/s}
    if [[ "$*" == *--deflate* ]]; then
        name="$name (b, c uncompressed)"
    fi
    echo "| $name | $label | $(fmt "${value[a]}") | $(fmt "${value[t]}") | $(fmt "${value[b]}") | $(fmt "${value[c]}") | $(ratio "${value[a]}" "${value[t]}") | $(ratio "${value[a]}" "${value[b]}") | $(ratio "${value[a]}" "${value[c]}") | $(fmt "${p99[a]}") / $(fmt "${p99[t]}") / $(fmt "${p99[b]}") / $(fmt "${p99[c]}") | ${cpu[a]} / ${cpu[t]} / ${cpu[b]} / ${cpu[c]} | $errors |"
}

echo_row "1 × 32 B" msgs_per_s no --connections 1 --size 32
echo_row "64 × 32 B" msgs_per_s no --connections 64 --size 32
echo_row "64 × 32 B, 16 in flight" msgs_per_s no --connections 64 --size 32 --in-flight 16
echo_row "64 × 64 KiB binary" mb_per_s no --connections 64 --size 64K --binary
echo_row "64 × 1 MiB binary" mb_per_s no --connections 64 --size 1M --binary
echo_row "permessage-deflate 64 × 4 KiB text" msgs_per_s no --connections 64 --size 4K --deflate
echo_row "wss 64 × 32 B" msgs_per_s yes --connections 64 --size 32

# Hold: memory is not noisy, so once per peer.
declare -A held kib
for peer in a t b c; do
    r=$(load hold $peer no --connections 5000 --ping-interval 2 --hold 3)
    held[$peer]=$(field "$r" held)
    kib[$peer]=$(field "$r" kib_per_conn)
done
echo "| hold 5,000 idle (ping every 2 s) | KiB server memory per connection (lower is better) | $(fmt "${kib[a]}") (${held[a]:-0} held) | $(fmt "${kib[t]}") (${held[t]:-0} held) | $(fmt "${kib[b]}") (${held[b]:-0} held) | $(fmt "${kib[c]}") (${held[c]:-0} held) | $(ratio "${kib[a]}" "${kib[t]}") | $(ratio "${kib[a]}" "${kib[b]}") | $(ratio "${kib[a]}" "${kib[c]}") | | | |"

echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); client on CPU 0, servers on CPU 1; ${secs} s per run, figures are the mean of two runs per peer (A T B C A T B C)."

if section hold || section site; then
    # The event driver's rows (bench/event-rows.sh), once this table's
    # servers are gone (ports, memory, CPU).
    stop_servers
    trap - EXIT
    echo
    exec "$here/event-rows.sh" "$module" "$wsload" "$wsecho"
fi
