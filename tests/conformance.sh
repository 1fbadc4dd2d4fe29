#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client against the module in a real
# Apache (event MPM), over ws and wss, and fails if any case FAILED.
#
# usage: tests/conformance.sh WS_CASES [WSS_CASES]
#   e.g. tests/conformance.sh '1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*,11.*' '1.*,2.*,3.*,4.*,5.*,6.*,7.*'
# env: MODULE (default target/release/mod_rswebsocket.so), CONFORMANCE_PORT,
#      CONFORMANCE_TLS_PORT, AUTOBAHN (the run.sh to use)
set -euo pipefail
cd "$(dirname "$0")/.."
ws_cases=${1:?usage: conformance.sh WS_CASES [WSS_CASES]}
wss_cases=${2:-}
root=target/conformance
autobahn=${AUTOBAHN:-../shared/tools/autobahn/run.sh}
port=${CONFORMANCE_PORT:-28080}
tls_port=${CONFORMANCE_TLS_PORT:-28443}

PORT=$port TLS_PORT=$tls_port MODULE=$PWD/${MODULE:-target/release/mod_rswebsocket.so} \
    LOG_LEVEL="warn" apache-conf/render-conf.sh "$root" >/dev/null
apache2 -f "$PWD/$root/httpd.conf" -k start
trap 'apache2 -f "$PWD/$root/httpd.conf" -k stop; sleep 1' EXIT
for _ in $(seq 50); do [ -s "$root/httpd.pid" ] && break; sleep 0.1; done

status=0
summary="$root/summary.txt"
: > "$summary"
run() { # scheme port cases
    echo "== Autobahn over $1: $3"
    "$autobahn" "$1://127.0.0.1:$2/echo" "$3" "$root/report-$1" | tail -n 25 | tee -a "$summary" || status=1
}
run ws "$port" "$ws_cases"
[ -z "$wss_cases" ] || run wss "$tls_port" "$wss_cases"
if grep -q "exit signal" "$root/error.log"; then
    echo "an Apache child died during the run:" >&2
    grep "exit signal" "$root/error.log" >&2
    status=1
fi
# One plain closing line for CI: every case that did not FAIL passed.
awk -F'[ =,]+' '/^autobahn: / {
    for (i = 1; i < NF; i++) {
        if ($i == "cases") total += $(i - 1)
        if ($i == "FAILED") failed += $(i + 1)
    }
} END { printf "conformance: %d passed, %d failed\n", total - failed, failed }' "$summary"
exit $status
