#!/bin/bash
# The event driver's rows of `make bench` (issue 12), each against a fresh
# Apache it starts:
#
# - hold: 50,000 idle WebSockets on one Apache of 64 worker threads; server
#   memory per connection (PSS of Apache's process tree, held minus idle,
#   divided by the connections the server holds) for ws, wss, deflate with and
#   without WebSocketCompressionMaxWindowBits, beside the floor (idle HTTP/1.1
#   keep-alive connections on the same Apache), the threaded driver and
#   tokio-tungstenite alone (wsecho).
# - site: Debian's stock mpm_event.conf plus one AsyncRequestWorkerFactor
#   line holds 10,000 idle WebSockets while new-connection `GET /`s are timed;
#   then the same under the threaded driver.
#
# usage: bench/event-rows.sh MODULE_SO WSLOAD WSECHO
# env:   BENCH_SECTIONS  hold, site or all (default; a comma-separated list,
#                        as bench/run.sh takes it)
#        HOLD_CONNECTIONS (50000), HOLD_TLS_CONNECTIONS (20000),
#        HOLD_CHILDREN × HOLD_THREADS (8 × 8: MaxRequestWorkers stays 64),
#        HOLD_DEFLATE_CONNECTIONS (5000),
#        HOLD_THREADED_CONNECTIONS (7000), HOLD_TOKIO_CONNECTIONS (10000),
#        SITE_CONNECTIONS (10000), SITE_FACTOR (AsyncRequestWorkerFactor, 100),
#        SITE_NOFILE (Apache's open-files limit in the site rows; default:
#        as high as this shell may go)
#        BENCH_EVENT_PORT_BASE (27120; 11 ports from there must be free)
set -euo pipefail
module=$(realpath "${1:?usage: event-rows.sh MODULE WSLOAD WSECHO}")
wsload=$(realpath "$2")
wsecho=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work="$repo/target/bench"
sections=",${BENCH_SECTIONS:-all},"
want() { [[ $sections == *",$1,"* || $sections == *",all,"* ]]; }

base=${BENCH_EVENT_PORT_BASE:-27120}
# Hold: four plain and four TLS ports, so no destination runs short of the
# ~28,000 ephemeral ports loopback clients get per destination.
plain_ports=($base $((base + 1)) $((base + 2)) $((base + 3)))
tls_ports=($((base + 4)) $((base + 5)) $((base + 6)) $((base + 7)))
tokio_port=$((base + 8)) site_port=$((base + 9)) site_tls=$((base + 10))
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
check_ports BENCH_EVENT_PORT_BASE "${plain_ports[@]}" "${tls_ports[@]}" $tokio_port $site_port $site_tls

# The open-files limit is per process: raise it as far as allowed; several
# Apache children and several wsload processes share the connections.
raise_nofile
# Unpinned for the hold rows; the site rows pin (below).
client_cpu=() server_cpu=()
trap stop_servers EXIT
mkdir -p "$work"

short() { echo "${1:0:90}" | tr '|' '/'; }

if want hold; then
    # 64 worker threads in all: 8 children of 8. A child may open 20,000
    # files here, and a parked plain WebSocket holds 2 (5 before 3f26d49:
    # then 8 children could not hold 50,000, and one that runs out exits
    # with all its connections; HOLD_CHILDREN=32 HOLD_THREADS=2 did).
    # A child stops accepting at ThreadsPerChild + idle workers ×
    # AsyncRequestWorkerFactor connections, and starts again only below
    # ThreadsPerChild + (idle workers - 1) × the factor, when something
    # wakes its listener (the clients ping every 30 s for that). The factor
    # makes children × (threads + (threads - 1) × factor) 10% more than the
    # connections: 982 for 50,000 on 8 × 8, a child between 6,882 and 7,864
    # connections (15,700 descriptors).
    # The floor: factor 2000 (one descriptor per connection). A child with
    # every worker busy, or at its limit, closes all the keep-alive
    # connections it holds (so that clients go to another child): 8 workers
    # a child never all serve the at most 5 requests in flight.
    hold_mpm() { # children threads factor
        echo "<IfModule mpm_event_module>
    ServerLimit              $1
    ThreadLimit              $2
    ThreadsPerChild          $2
    MaxRequestWorkers        $(($1 * $2))
    StartServers             $1
    MinSpareThreads          $2
    MaxSpareThreads          64
    AsyncRequestWorkerFactor $3
</IfModule>
# The floor's connections must outlive the run.
KeepAliveTimeout 300
MaxKeepAliveRequests 0"
    }
    # More ports (the first two are in httpd.conf.in); SERVER_ROOT's cert.
    more_ports() { # server_root
        local port
        for port in "${plain_ports[@]:1}"; do echo "Listen 127.0.0.1:$port"; done
        for port in "${tls_ports[@]:1}"; do
            echo "Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    SSLEngine on
    SSLCertificateFile \"$1/cert.pem\"
    SSLCertificateKeyFile \"$1/key.pem\"
</VirtualHost>"
        done
    }
    urls() { # scheme path ports...
        local scheme=$1 path=$2 port
        shift 2
        for port in "$@"; do echo "--url $scheme://127.0.0.1:$port$path"; done
    }
    hold_children=${HOLD_CHILDREN:-8} hold_threads=${HOLD_THREADS:-8}
    if [ "$hold_threads" -lt 2 ] || [ $((hold_children * hold_threads)) -gt 64 ]; then
        echo "HOLD_THREADS must be 2 or more, and HOLD_CHILDREN × HOLD_THREADS at most 64" >&2
        exit 1
    fi
    hold_factor=$(((${HOLD_CONNECTIONS:-50000} * 11 / 10 / hold_children - hold_threads) / (hold_threads - 1) + 1))
    chromium_offer='permessage-deflate; client_max_window_bits'
    n_all=${HOLD_CONNECTIONS:-50000}
    n_deflate=${HOLD_DEFLATE_CONNECTIONS:-5000}
    # TLS handshakes are slow on 2 shared cores (170 to 400 a second): the
    # default keeps `make bench` near 12 minutes.
    n_tls=${HOLD_TLS_CONNECTIONS:-20000}

    echo "| hold (idle: a WebSocket echoes one 64 B message, then pings every 30 s) | connections | held (client / server side) | up at the end | server PSS idle → held | KiB per connection | ramp s | fds per connection (most in one process) | first error |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    hold_row() { # label mode count ramp_limit; wsload's other flags in ${args[@]}
        hold_connections "$2" "$3" "$4" "$server_pid" "${args[@]}"
        echo "| $1 | $3 | $held / $server_held | $answered | $pss_idle_mib → $pss_held_mib MiB | $kib_per_conn | $ramp_s | $fds_per_conn ($fds_max) | $(short "$first_error") |"
        stop_servers
    }
    event_apache() { # name children threads factor extra_config
        start_apache "hold-$1" "${plain_ports[0]}" "${tls_ports[0]}" "$2" "$(hold_mpm "$2" "$3" "$4")
$(more_ports "$work/hold-$1")
WebSocketDriver event
$5"
    }

    server_ports="${plain_ports[0]} ${tls_ports[-1]}"
    event_apache floor 8 8 2000 ""
    # One request in flight per client process (see above).
    # shellcheck disable=SC2207
    args=($(urls http / "${plain_ports[@]}") --ramp-concurrency 1)
    hold_row "floor: HTTP/1.1 keep-alive after one GET /" keepalive "$n_all" 120
    floor=$kib_per_conn
    # Each connection has its own APR allocator, which keeps the blocks its
    # requests freed up to MaxMemFree (2 MiB by default): most of the floor.
    event_apache floor-memfree 8 8 2000 "MaxMemFree 1"
    hold_row "the same, MaxMemFree 1" keepalive "$n_all" 120
    floor_memfree=$kib_per_conn

    event_apache ws "$hold_children" "$hold_threads" "$hold_factor" ""
    # shellcheck disable=SC2207
    args=($(urls ws /echo "${plain_ports[@]}") --first-message 64 --ping-interval 30)
    hold_row "ws, event driver" hold "$n_all" 120
    ws=$kib_per_conn

    event_apache ws-memfree "$hold_children" "$hold_threads" "$hold_factor" "MaxMemFree 1"
    hold_row "the same, MaxMemFree 1" hold "$n_all" 120
    ws_memfree=$kib_per_conn

    event_apache wss "$hold_children" "$hold_threads" "$hold_factor" ""
    # shellcheck disable=SC2207
    args=($(urls wss /echo "${tls_ports[@]}") --first-message 64 --ping-interval 30)
    hold_row "wss, event driver" hold "$n_tls" 180

    event_apache deflate "$hold_children" "$hold_threads" "$hold_factor" ""
    # shellcheck disable=SC2207
    args=($(urls ws /echo "${plain_ports[@]}") --first-message 64 --ping-interval 30 --extensions "$chromium_offer")
    hold_row "ws permessage-deflate (Chromium's offer), event driver" hold "$n_deflate" 120

    event_apache deflate-bounded "$hold_children" "$hold_threads" "$hold_factor" "WebSocketCompressionMaxWindowBits 10"
    hold_row "the same, WebSocketCompressionMaxWindowBits 10" hold "$n_deflate" 120

    # The threaded driver with the MPM sized for it (a thread per
    # WebSocket, bench/apache-mpm.conf): it holds about MaxRequestWorkers.
    n_threaded=${HOLD_THREADED_CONNECTIONS:-7000}
    start_apache hold-threaded "${plain_ports[0]}" "${tls_ports[0]}" 2 "$(cat "$here/apache-mpm.conf")
WebSocketDriver threaded"
    # shellcheck disable=SC2207
    args=(--url "ws://127.0.0.1:${plain_ports[0]}/echo" --first-message 64 --ping-interval 30)
    hold_row "ws, threaded driver (bench/apache-mpm.conf, 6,000 threads; 20 s ramp limit)" hold "$n_threaded" 20

    n_tokio=${HOLD_TOKIO_CONNECTIONS:-10000}
    server_ports="$tokio_port $tokio_port"
    start_wsecho "$tokio_port"
    args=(--url "ws://127.0.0.1:$tokio_port/" --first-message 64 --ping-interval 30)
    hold_row "ws, tokio-tungstenite alone (wsecho)" hold "$n_tokio" 120

    targets() { # label ws floor
        awk -v l="$1" -v w="$2" -v f="$3" 'BEGIN {
            if (f == "-" || w == "-") exit
            printf "ws under the event driver%s: %.1f KiB per connection, %+.1f against the floor (%.1f). Targets: at most floor + 4: %s; at most 20: %s.\n",
                l, w, w - f, f, (w - f <= 4) ? "met" : "not met", (w <= 20) ? "met" : "not met"
        }'
    }
    echo
    targets "" "$ws" "$floor"
    targets ", MaxMemFree 1" "$ws_memfree" "$floor_memfree"
    echo "Hold: Apache with $hold_children children × $hold_threads threads (MaxRequestWorkers 64, AsyncRequestWorkerFactor $hold_factor; the floor: 8 × 8, factor 2000), fresh for each row; clients: wsload processes of at most ${PER_PROCESS:-10000} connections each (20,000 open files per process here), spread over 4 ports."
    echo
fi

if want site; then
    pin_cpus
    factor=${SITE_FACTOR:-100}
    # SITE_NOFILE=8192 runs Apache under Debian's apache2ctl limit.
    apache_nofile=${SITE_NOFILE:-}
    n_site=${SITE_CONNECTIONS:-10000}
    # Debian's /etc/apache2/mods-available/mpm_event.conf, plus the one line
    # docs/performance.md tells users to add.
    stock="<IfModule mpm_event_module>
    StartServers             2
    MinSpareThreads          25
    MaxSpareThreads          75
    ThreadLimit              64
    ThreadsPerChild          25
    MaxRequestWorkers        150
    MaxConnectionsPerChild   0
    AsyncRequestWorkerFactor $factor
</IfModule>"
    site_gets() {
        gets=$("${client_cpu[@]}" "$wsload" get --url "http://127.0.0.1:$site_port/" --rate 20 --duration 10 \
            --timeout "$get_timeout" | sed -n 's/^RESULT //p')
        children=$(($(field "$(server_memory "$server_pid")" processes) - 1))
    }
    during_hold=site_gets
    echo "| site under WebSocket load (Debian's mpm_event.conf + AsyncRequestWorkerFactor $factor) | WebSockets held (of $n_site; client / server side) | GET / (20/s, 10 s, new connections) | failed | p50 ms | p99 ms | max ms | Apache children |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for driver in event threaded; do
        # The threaded driver holds one thread per WebSocket: bound its ramp
        # and its GETs, which are expected to time out.
        if [ $driver = event ]; then ramp=120 get_timeout=10; else ramp=5 get_timeout=2; fi
        server_ports="$site_port $site_port"
        start_apache site $site_port $site_tls 2 "$stock
WebSocketDriver $driver"
        hold_connections hold "$n_site" $ramp "$server_pid" --url "ws://127.0.0.1:$site_port/echo" --first-message 64 --ping-interval 30
        echo "| WebSocketDriver $driver | $held / $server_held | $(field "$gets" requests) | $(field "$gets" failed) | $(field "$gets" p50_ms) | $(field "$gets" p99_ms) | $(field "$gets" max_ms) | $children |"
        stop_servers
    done
    during_hold=""
    apache_nofile=""
    echo "Site: open files per Apache process: ${SITE_NOFILE:-$(ulimit -n)}; client on CPU 0, Apache on CPU 1; ramp limit 120 s (event) and 5 s (threaded); a GET unanswered in 10 s (event) or 2 s (threaded) fails."
fi
