#!/bin/bash
# `make bench`'s HTTP/2 limits (issue 14): how many WebSockets over HTTP/2
# (RFC 8441, mod_http2's H2WebSockets on) one Apache holds with Debian's
# stock mpm_event values, and with H2MaxWorkers raised; whether a `GET /`
# still answers on the same and on a new connection (bench/h2_limits.py,
# on the tests' Python RFC 8441 client, target/interop-venv: make test-deps).
# Prints a markdown table. Each row is a fresh Apache.
#
# usage: bench/h2-limits.sh MODULE_SO
# env:   BENCH_H2_LIMITS_PORT_BASE (27160; 2 free ports)
set -euo pipefail
module=$(realpath "${1:?usage: h2-limits.sh MODULE}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work="$repo/target/bench"
python="$repo/target/interop-venv/bin/python"
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
[ -x "$python" ] || { echo "no $python: run make test-deps" >&2; exit 1; }

base=${BENCH_H2_LIMITS_PORT_BASE:-27160}
plain_port=$base tls_port=$((base + 1))
check_ports BENCH_H2_LIMITS_PORT_BASE $plain_port $tls_port
pin_cpus
raise_nofile
trap stop_servers EXIT

# Debian's /etc/apache2/mods-available/mpm_event.conf.
stock="StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0"

echo "| setting | client | WebSockets held | GET / on the same connection | GET / on a new connection |"
echo "|---|---|---:|---|---|"
row() { # label extra-config client-label connections per-connection warm-up
    start_apache h2-limits $plain_port $tls_port "" "$stock
$2"
    local r
    r=$("${client_cpu[@]}" "$python" "$here/h2_limits.py" $tls_port "$4" "$5" --warm-up "$6") || r='{}'
    stop_servers
    "$python" -c '
import json, sys
r = json.loads(sys.argv[1] or "{}")
def get(status, ms):
    return "no answer in 3 s" if r.get(status) is None else "%s in %s ms" % (r[status], r[ms])
print("| %s | %s | %s of %s | %s | %s |" % (sys.argv[2], sys.argv[3], r.get("held", "-"), r.get("tried", "-"),
      get("get_same_connection", "get_same_ms"), get("get_new_connection", "get_new_ms")))
' "$r" "$1" "$3"
}

row "stock" "" "1 connection" 1 100 0
row "stock" "" "1 connection, 50 GET / first" 1 100 50
row "stock" "" "60 connections × 6" 60 6 0
row "H2MaxWorkers 300" "H2MaxWorkers 300" "100 connections × 6" 100 6 0
row "H2MaxWorkers 400, H2MaxSessionStreams 400" "H2MaxWorkers 400
H2MaxSessionStreams 400" "1 connection, 50 GET / first" 1 400 50
