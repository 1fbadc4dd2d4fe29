#!/bin/bash
# `make bench`'s plugin rows (issue 13): one Apache (event driver) serves
# the same echo three ways, compiled in (/echo), from the Rust example
# plugin (/plugin-echo: examples/plugin's `echo`) and from the C example
# (/c-echo: examples/c-plugin's `c_echo`); each row runs E R C three times
# over (E R C E R C E R C), so a noisy moment hits all three alike. The
# target: a plugin echo at most 5% slower than the compiled-in one.
#
# usage: bench/plugin-rows.sh MODULE_SO WSLOAD RUST_PLUGIN_SO C_PLUGIN_SO
# env:   SECONDS_PER_RUN (3), BENCH_PLUGIN_PORT_BASE (27140; 2 free ports)
set -euo pipefail
module=$(realpath "${1:?usage: plugin-rows.sh MODULE WSLOAD RUST_PLUGIN C_PLUGIN}")
wsload=$(realpath "$2")
rust_plugin=$(realpath "$3")
c_plugin=$(realpath "$4")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work="$repo/target/bench"
secs=${SECONDS_PER_RUN:-3}
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

base=${BENCH_PLUGIN_PORT_BASE:-27140}
plain_port=$base tls_port=$((base + 1))
check_ports BENCH_PLUGIN_PORT_BASE $plain_port $tls_port
pin_cpus "note: one CPU, client and server share it"
raise_nofile
trap stop_servers EXIT

handlers="$work/plugin-handlers"
rm -rf "$handlers" && mkdir -p "$handlers"
echo "handler = echo" >"$handlers/echo_wsh.conf"
printf 'handler = echo\nplugin = %s\n' "$rust_plugin" >"$handlers/plugin-echo_wsh.conf"
printf 'handler = c_echo\nplugin = %s\n' "$c_plugin" >"$handlers/c-echo_wsh.conf"
start_apache plugin $plain_port $tls_port "" "$(cat "$here/apache-mpm.conf")" "WebSocketHandlerRoot \"$handlers\""
pid=$server_pid

# One wsload echo run against PATH; prints its RESULT fields.
load() { # tls path args...
    local scheme=ws target=$plain_port
    if [ "$1" = yes ]; then scheme=wss target=$tls_port; fi
    local path=$2
    shift 2
    run_client "$path" "${path#/}" "$wsload" echo --url "$scheme://127.0.0.1:$target$path" \
        --server-pid "$pid" --duration "$secs" "$@" || true
}
mean3() { awk -v x="$1" -v y="$2" -v z="$3" 'BEGIN { if (x == "" || y == "" || z == "") print ""; else printf "%.6g", (x + y + z) / 3 }'; }

echo "| echo, one Apache (event driver) | figure | (e) compiled in | (r) Rust plugin | (c) C plugin | r÷e | c÷e | p99 µs e / r / c | errors |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"

plugin_row() { # name metric tls wsload-args...
    local name=$1 metric=$2 tls=$3 round path
    shift 3
    declare -A runs
    for round in 1 2 3; do
        for path in /echo /plugin-echo /c-echo; do
            runs[$path:$round]=$(load "$tls" $path "$@")
        done
    done
    declare -A value p99
    local errors=0
    for path in /echo /plugin-echo /c-echo; do
        value[$path]=$(mean3 "$(field "${runs[$path:1]}" "$metric")" "$(field "${runs[$path:2]}" "$metric")" "$(field "${runs[$path:3]}" "$metric")")
        p99[$path]=$(mean3 "$(field "${runs[$path:1]}" p99_us)" "$(field "${runs[$path:2]}" p99_us)" "$(field "${runs[$path:3]}" p99_us)")
        for round in 1 2 3; do
            local run_errors
            run_errors=$(field "${runs[$path:$round]}" errors)
            errors=$((errors + ${run_errors:-1}))
            [ -n "$(field "${runs[$path:$round]}" failed)" ] && errors=$((errors + 1))
        done
    done
    local label=${metric/msgs_per_s/msgs\/s}
    label=${label/mb_per_s/MB\/s}
    echo "| $name | $label | $(fmt "${value[/echo]}") | $(fmt "${value[/plugin-echo]}") | $(fmt "${value[/c-echo]}") | $(ratio "${value[/plugin-echo]}" "${value[/echo]}") | $(ratio "${value[/c-echo]}" "${value[/echo]}") | $(fmt "${p99[/echo]}") / $(fmt "${p99[/plugin-echo]}") / $(fmt "${p99[/c-echo]}") | $errors |"
}

plugin_row "1 × 32 B" msgs_per_s no --connections 1 --size 32
plugin_row "64 × 32 B" msgs_per_s no --connections 64 --size 32
plugin_row "64 × 32 B, 16 in flight" msgs_per_s no --connections 64 --size 32 --in-flight 16
plugin_row "64 × 64 KiB binary" mb_per_s no --connections 64 --size 64K --binary
plugin_row "wss 64 × 32 B" msgs_per_s yes --connections 64 --size 32

echo
echo "Machine: $(nproc) CPUs; client on CPU 0, server on CPU 1; ${secs} s per run, figures are the mean of three runs per endpoint (E R C E R C E R C)."
