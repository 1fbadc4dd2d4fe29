#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client (tests/autobahn/autobahn.py)
# against the module in a real Apache (event MPM), over ws and wss. Fails if
# a case FAILED or has no result, or if an Apache child died.
#
# usage: tests/conformance.sh WS_CASES [WSS_CASES]
#   e.g. tests/conformance.sh '1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*,11.*' '1.*,2.*,3.*,4.*,5.*,6.*,7.*'
# env: MODULE (default target/release/mod_rswebsocket.so), CONFORMANCE_PORT,
#      CONFORMANCE_TLS_PORT, CONFORMANCE_OPTIONAL=1 (without a Python 2.7,
#      print one warning and succeed instead of failing: make test), and
#      the runner's AUTOBAHN_* variables (see tests/autobahn/autobahn.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ws_cases=${1:?usage: conformance.sh WS_CASES [WSS_CASES]}
wss_cases=${2:-}
root=target/conformance
runner=tests/autobahn/autobahn.py
port=${CONFORMANCE_PORT:-28080}
tls_port=${CONFORMANCE_TLS_PORT:-28443}

# The suite needs a Python 2.7, which Debian no longer ships: without one,
# say so in one line that stands out, never pass silently.
found=0
why=$("$runner" find-python 2>&1 >/dev/null) || found=$?
if [ "$found" = 3 ]; then
    if [ "${CONFORMANCE_OPTIONAL:-0}" = 1 ]; then
        echo "CONFORMANCE SKIPPED: ${why#autobahn.py: }; then make test runs it" >&2
        exit 0
    fi
    echo "CONFORMANCE FAILED: ${why#autobahn.py: }" >&2
    exit 1
elif [ "$found" != 0 ]; then
    echo "$why" >&2
    exit 1
fi
# Before Apache starts: the first run installs the suite.
if ! "$runner" setup >/dev/null; then
    echo "CONFORMANCE FAILED: could not install the Autobahn|Testsuite (see above)" >&2
    exit 1
fi

PORT=$port TLS_PORT=$tls_port MODULE=$PWD/${MODULE:-target/release/mod_rswebsocket.so} \
    LOG_LEVEL="warn" apache-conf/render-conf.sh "$root" >/dev/null
: > "$root/error.log" # a crash of an earlier run must not fail this one
apache2 -f "$PWD/$root/httpd.conf" -k start
trap 'apache2 -f "$PWD/$root/httpd.conf" -k stop; sleep 1' EXIT
for _ in $(seq 50); do [ -s "$root/httpd.pid" ] && break; sleep 0.1; done

status=0
summary="$root/summary.txt"
: > "$summary"
run() { # scheme port cases
    echo "== Autobahn over $1: $3"
    "$runner" run "$1://127.0.0.1:$2/echo" "$3" "$root/report-$1" | tee "$root/report-$1.txt" || status=1
    # The runner's last line has the counts (none if it could not run).
    tail -n 1 "$root/report-$1.txt" | grep '^autobahn: ' >> "$summary" || echo "no result over $1" >> "$summary"
}
run ws "$port" "$ws_cases"
[ -z "$wss_cases" ] || run wss "$tls_port" "$wss_cases"
if grep -q "exit signal" "$root/error.log"; then
    echo "an Apache child died during the run:" >&2
    grep "exit signal" "$root/error.log" >&2
    status=1
fi
# One plain closing line for CI: every case that did not FAIL passed.
awk -F'[ =,]+' '
/^autobahn: / { total += $2; failed += $NF }
/^no result/ { broken = broken ", no result over " $4 }
END { printf "conformance: %d passed, %d failed%s\n", total - failed, failed, broken }' "$summary"
exit $status
