#!/bin/bash
# `make bench`'s HTTP/2 rows (RFC 8441): one Apache (event MPM, the
# module's default driver, the template's HTTP/2 settings: Protocols h2 h2c
# http/1.1, H2WebSockets on) serves the same /echo to 64 WebSockets four
# ways: (1) HTTP/1.1 upgrades, 64 connections; (m) HTTP/2, all 64 as
# streams of one connection; (6) HTTP/2, 6 streams a connection (11
# connections); (s) HTTP/2, 64 connections of one stream each. Cleartext
# (h2c, prior knowledge) first, then the same over TLS (h2, ALPN). Each
# group runs 1 M 6 S three times over (1 M 6 S 1 M 6 S 1 M 6 S) and shows
# the means, each against the HTTP/1.1 row.
#
# Sizing: a WebSocket over HTTP/2 is served by the module's threaded driver
# whatever WebSocketDriver says, and it holds one of mod_http2's workers
# (H2MaxWorkers, per child process) for its whole life, so this Apache has
# `H2MaxWorkers 128` (room for the 64 streams, on one child or spread over
# two) on top of bench/apache-mpm.conf (500 threads a child), and
# `H2MinWorkers 64`: H2MaxWorkers 128 alone left mod_http2 without workers
# here (AH02911 "workers not initialized" on every h2 connection). The
# HTTP/1.1 row is the event driver's.
#
# One connection: mod_http2 runs at most 6 streams of a new connection at
# once and raises that limit (doubling, up to H2MaxWorkers) only as its
# streams finish. WebSockets do not finish, so on a fresh connection the
# 7th CONNECT gets no answer (wsload gives up after 10 s). Row (m)
# therefore first sends 200 GETs of / on its connection, one at a time
# (`wsload --h2-warmup 200`; 4 doublings, 6 to 96, take some 94 finished
# streams, and 100 GETs were not always enough; a page's requests before
# its WebSockets would do the same); row (6) is what a fresh connection
# allows.
#
# usage: bench/h2-rows.sh MODULE_SO WSLOAD
# env:   SECONDS_PER_RUN (3), BENCH_H2_PORT_BASE (27150; 2 free ports)
set -euo pipefail
module=$(realpath "${1:?usage: h2-rows.sh MODULE WSLOAD}")
wsload=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work="$repo/target/bench"
secs=${SECONDS_PER_RUN:-3}
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

if ! [ -e "$(apxs -q LIBEXECDIR)/mod_http2.so" ]; then
    echo "| HTTP/2 rows | n/a: this Apache has no mod_http2 |"
    exit 0
fi
base=${BENCH_H2_PORT_BASE:-27150}
plain_port=$base tls_port=$((base + 1))
check_ports BENCH_H2_PORT_BASE $plain_port $tls_port
pin_cpus "note: one CPU, client and server share it"
raise_nofile
trap stop_servers EXIT

start_apache h2 $plain_port $tls_port "" "$(cat "$here/apache-mpm.conf")
<IfModule http2_module>
    H2MinWorkers 64
    H2MaxWorkers 128
</IfModule>"
pid=$server_pid

# One wsload echo run of 64 WebSockets, 32 B, over VARIANT; prints its
# RESULT fields.
load() { # tls variant(1|m|6|s)
    local url=ws://127.0.0.1:$plain_port/echo transport=()
    if [ "$1" = yes ]; then url=wss://127.0.0.1:$tls_port/echo; fi
    case $2 in
        m) transport=(--h2 --streams-per-connection 64 --h2-warmup 200) ;;
        6) transport=(--h2 --streams-per-connection 6) ;;
        s) transport=(--h2 --streams-per-connection 1) ;;
    esac
    run_client "$2" "$2" "$wsload" echo --url "$url" --server-pid "$pid" --duration "$secs" \
        --connections 64 --size 32 "${transport[@]}" || true
}
mean3() { awk -v x="$1" -v y="$2" -v z="$3" 'BEGIN { if (x == "" || y == "" || z == "") print ""; else printf "%.6g", (x + y + z) / 3 }'; }
int() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.0f", x }'; }
pct() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.0f%%", x * 100 }'; }

echo "| 64 WebSockets × 32 B echo, one Apache (event MPM) | TCP connections | msgs/s | ÷ HTTP/1.1 | p50 µs | p99 µs | server CPU | client CPU | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"

group() { # tls
    local tls=$1 round v
    declare -A runs
    for round in 1 2 3; do
        for v in 1 m 6 s; do runs[$v:$round]=$(load "$tls" $v); done
    done
    declare -A value
    for v in 1 m 6 s; do
        value[$v]=$(mean3 "$(field "${runs[$v:1]}" msgs_per_s)" "$(field "${runs[$v:2]}" msgs_per_s)" "$(field "${runs[$v:3]}" msgs_per_s)")
    done
    local h1=HTTP/1.1 h2=h2c
    if [ "$tls" = yes ]; then h1="HTTP/1.1 + TLS" h2="h2 (TLS)"; fi
    for v in 1 m 6 s; do
        local name errors=0 f run_errors
        case $v in
            1) name="64 × 32 B, $h1 (64 connections)" ;;
            m) name="64 × 32 B, $h2, 64 streams on 1 connection (after 200 GETs)" ;;
            6) name="64 × 32 B, $h2, 6 streams a connection (11 connections)" ;;
            s) name="64 × 32 B, $h2, 64 connections (1 stream each)" ;;
        esac
        declare -A m
        for f in p50_us p99_us server_cpu client_cpu tcp_connections; do
            m[$f]=$(mean3 "$(field "${runs[$v:1]}" $f)" "$(field "${runs[$v:2]}" $f)" "$(field "${runs[$v:3]}" $f)")
        done
        for round in 1 2 3; do
            run_errors=$(field "${runs[$v:$round]}" errors)
            errors=$((errors + ${run_errors:-1}))
            [ -n "$(field "${runs[$v:$round]}" failed)" ] && errors=$((errors + 1))
        done
        echo "| $name | $(int "${m[tcp_connections]}") | $(fmt "${value[$v]}") | $(ratio "${value[$v]}" "${value[1]}") | $(fmt "${m[p50_us]}") | $(fmt "${m[p99_us]}") | $(pct "${m[server_cpu]}") | $(pct "${m[client_cpu]}") | $errors |"
    done
}

group no
group yes

echo
echo "Machine: $(nproc) CPUs; client on CPU 0, server on CPU 1; ${secs} s per run, figures are the mean of three runs per row (1 M 6 S three times, per group); H2MinWorkers 64, H2MaxWorkers 128."
