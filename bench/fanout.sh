#!/bin/bash
# The fan-out rows of `make bench` (issue 12): one chat message reaches N
# parked members. `wsfanout` joins N members quietly (`/chat?quiet`), then
# sends FANOUT_MESSAGES messages, each once the previous one reached every
# member, and reports deliveries/s and the delivery time. Peers, run
# (e) (t) (c) (e) (t) (c), each on a server it starts:
#
# - (e) the module's chat handler, `WebSocketDriver event`: one Apache child
#   (chat rooms are per child) of 64 threads;
# - (t) the same under `WebSocketDriver threaded`: a thread per member;
# - (c) `wsecho --broadcast`: tokio-tungstenite, one thread.
#
# One Apache child holds only as many WebSockets as its open-files limit
# allows (20,000 on some machines, not raisable): each Apache peer is
# probed for its descriptors per parked WebSocket and run at the largest
# count (in hundreds) that fits, if below N; exhausting them would stop
# the child.
#
# usage: bench/fanout.sh MODULE_SO WSFANOUT WSECHO
# env:   FANOUT_MEMBERS (10000), FANOUT_MESSAGES (20),
#        FANOUT_THREADED_THREADS (4096: the threaded Apache's threads, so
#        at most that many members less 64 under (t)),
#        BENCH_FANOUT_PORT_BASE (27140; 5 ports)
set -euo pipefail
module=$(realpath "${1:?usage: fanout.sh MODULE WSFANOUT WSECHO}")
wsfanout=$(realpath "$2")
wsecho=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work="$repo/target/bench"
members=${FANOUT_MEMBERS:-10000}
threaded_threads=${FANOUT_THREADED_THREADS:-4096}
messages=${FANOUT_MESSAGES:-20}
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

base=${BENCH_FANOUT_PORT_BASE:-27140}
E_PORT=$base E_TLS=$((base + 1)) T_PORT=$((base + 2)) T_TLS=$((base + 3)) C_PORT=$((base + 4))
check_ports BENCH_FANOUT_PORT_BASE $E_PORT $E_TLS $T_PORT $T_TLS $C_PORT

pin_cpus
# Per process, and 20,000 at most on some machines: it caps what one
# Apache child can hold (see fits below).
raise_nofile
trap stop_servers EXIT

# One child holds every member: chat rooms are per Apache process.
one_child() { # threads
    echo "ServerLimit 1
StartServers 1
ThreadLimit $1
ThreadsPerChild $1
MaxRequestWorkers $1
MinSpareThreads 1
MaxSpareThreads $1"
}

# The last run's members are gone from the server (their descriptors
# closed), so the next run starts from an empty room.
wait_drained() { # pid
    for _ in $(seq 600); do
        [ "$(max_fds "$1")" -lt 200 ] && return 0
        sleep 0.1
    done
    echo "note: the server still holds $(max_fds "$1") descriptors" >&2
}

mkdir -p "$work"
# (e): 64 threads; a child stops accepting at about ThreadsPerChild + idle
# workers × AsyncRequestWorkerFactor connections, hence the factor.
start_apache fanout-event $E_PORT $E_TLS "" "$(one_child 64)
AsyncRequestWorkerFactor 1000
WebSocketDriver event"
e_pid=$server_pid
# (t): a thread per member.
start_apache fanout-threaded $T_PORT $T_TLS "" "$(one_child "$threaded_threads")
WebSocketDriver threaded
ThreadStackSize 524288"
t_pid=$server_pid
start_wsecho $C_PORT --broadcast
c_pid=$server_pid

# Descriptors 100 parked chat members cost the child: opened with raw
# handshakes, counted, closed.
fds_per_websocket() { # port pid
    local before after fd i open=()
    before=$(max_fds "$2")
    for i in $(seq 100); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$1"
        printf 'GET /chat?quiet HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ZmFub3V0IHByb2JlIGtleQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' >&"$fd"
        open+=("$fd")
    done
    sleep 2
    after=$(max_fds "$2")
    for fd in "${open[@]}"; do exec {fd}>&-; done
    wait_drained "$2"
    echo $((after - before))
}

# The largest member count (in hundreds, the sender aside) whose
# descriptors fit in the child's open-files limit.
fits() { # port pid; prints the count and the descriptors per member
    local per100 idle
    idle=$(max_fds "$2")
    per100=$(fds_per_websocket "$1" "$2")
    echo $((((($(ulimit -n) - idle - 64) * 100 / per100 - 1) / 100) * 100)) \
        "$(awk -v x="$per100" 'BEGIN { printf "%.1f", x / 100 }')"
}
read -r e_fit e_per <<<"$(fits $E_PORT "$e_pid")"
read -r t_fit t_per <<<"$(fits $T_PORT "$t_pid")"
t_fit=$((t_fit < threaded_threads - 64 ? t_fit : threaded_threads - 64))
at_most() { echo $(($1 < $2 ? $1 : $2)); }

count() { local v; v=$(field "$1" "$2"); echo "${v:-0}"; }
percent() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.0f%%", x * 100 }'; }

# One wsfanout run; prints its RESULT fields (key=value ...).
fanout() { # peer members
    local url pid
    case $1 in
        e) url="ws://127.0.0.1:$E_PORT/chat?quiet" pid=$e_pid ;;
        t) url="ws://127.0.0.1:$T_PORT/chat?quiet" pid=$t_pid ;;
        c) url="ws://127.0.0.1:$C_PORT/" pid=$c_pid ;;
    esac
    run_client "$1" "$1, $2 members" "$wsfanout" --url "$url" --members "$2" --messages "$messages" \
        --server-pid "$pid" || return 0
    wait_drained "$pid"
}

echo "| test | figure | (e) module, event driver | (t) module, threaded driver | (c) tungstenite broadcast | e÷c | p50 / p99 µs e / t / c | server CPU e / t / c | client CPU e / t / c | members e / t / c | lost + errors |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

# name members peers...: two runs per peer, interleaved; the mean of each.
fanout_row() {
    local name=$1 n=$2 peer
    shift 2
    declare -A first second rate p50 p99 cpu client held
    for peer in "$@"; do first[$peer]=$(fanout "$peer" "$n"); done
    for peer in "$@"; do second[$peer]=$(fanout "$peer" "$n"); done
    local bad=0
    for peer in e t c; do
        if [ -z "${first[$peer]:-}" ]; then
            rate[$peer]="" p50[$peer]="" p99[$peer]="" cpu[$peer]="-" client[$peer]="-" held[$peer]="-"
            continue
        fi
        local a=${first[$peer]} b=${second[$peer]}
        rate[$peer]=$(mean "$(field "$a" deliveries_per_s)" "$(field "$b" deliveries_per_s)")
        p50[$peer]=$(mean "$(field "$a" p50_us)" "$(field "$b" p50_us)")
        p99[$peer]=$(mean "$(field "$a" p99_us)" "$(field "$b" p99_us)")
        cpu[$peer]=$(percent "$(mean "$(field "$a" server_cpu)" "$(field "$b" server_cpu)")")
        client[$peer]=$(percent "$(mean "$(field "$a" client_cpu)" "$(field "$b" client_cpu)")")
        held[$peer]=$(field "$a" members)
        [ "$(field "$b" members)" = "${held[$peer]}" ] || held[$peer]="${held[$peer]}, $(field "$b" members)"
        [ "$(count "$a" failed_to_join)$(count "$b" failed_to_join)" = 00 ] || held[$peer]="${held[$peer]} of $n"
        for r in "$a" "$b"; do
            bad=$((bad + $(count "$r" lost) + $(count "$r" errors)))
            [ -n "$(field "$r" failed)" ] && bad=$((bad + 1))
        done
    done
    echo "| $name | deliveries/s | $(fmt "${rate[e]}") | $(fmt "${rate[t]}") | $(fmt "${rate[c]}") | $(ratio "${rate[e]}" "${rate[c]}") | $(fmt "${p50[e]}") / $(fmt "${p99[e]}") · $(fmt "${p50[t]}") / $(fmt "${p99[t]}") · $(fmt "${p50[c]}") / $(fmt "${p99[c]}") | ${cpu[e]} / ${cpu[t]} / ${cpu[c]} | ${client[e]} / ${client[t]} / ${client[c]} | ${held[e]} / ${held[t]} / ${held[c]} | $bad |"
}

# Every peer at the largest count the event Apache holds (the threaded one
# too if it can); then tungstenite at the full count, and the threaded
# driver at the largest count it holds, if those differ.
n1=$(at_most "$members" "$e_fit")
if [ "$n1" -le "$t_fit" ]; then
    fanout_row "fan-out 1 → $n1, $messages messages" "$n1" e t c
else
    fanout_row "fan-out 1 → $n1 parked, $messages messages" "$n1" e c
    fanout_row "fan-out 1 → $t_fit, $messages messages" "$t_fit" e t c
fi
if [ "$n1" -lt "$members" ]; then
    fanout_row "fan-out 1 → $members, $messages messages" "$members" c
fi

echo
echo "Fan-out: one message at a time, the next once every member has the previous one; deliveries/s = deliveries ÷ (first send → last delivery); the mean of two runs per peer. Client on CPU 0, servers on CPU 1. Open files: $(ulimit -n) per process; a parked member costs the Apache child $e_per descriptors under the event driver (so one child holds $e_fit), $t_per under the threaded one (which holds $t_fit with $threaded_threads threads)."
