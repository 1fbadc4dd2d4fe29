#!/bin/bash
# `make bench`'s broker rows (issue 15): one chat message to N parked
# members (`wsfanout`, `/chat?quiet`) when the room spans two Apache
# servers through Redis (`WebSocketBroker`). Three Apaches (event MPM, the
# module's default driver, one child of 64 threads each, like fanout.sh's
# (e) peer) and a redis-server of this script's own (no persistence):
#
# - (L) N members on one Apache without a broker: the local baseline;
# - (P) N members on one Apache with `WebSocketBroker`: local delivery plus
#   the cost of publishing each message to Redis (the other broker Apache
#   receives it too, with no members);
# - (S) N members spread over the two broker Apaches (alternating; the
#   sender on the first): half get each message locally, half through
#   Redis.
#
# Rows run L P S L P S; figures are the mean of the two runs of each.
# Every server (Apaches and Redis) runs on the server CPU, the client on
# its own.
#
# usage: bench/broker-rows.sh MODULE_SO WSFANOUT
# env:   BROKER_MEMBERS (5000), FANOUT_MESSAGES (20),
#        BENCH_BROKER_PORT_BASE (27180; 7 free ports)
set -euo pipefail
module=$(realpath "${1:?usage: broker-rows.sh MODULE WSFANOUT}")
wsfanout=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work="$repo/target/bench"
members=${BROKER_MEMBERS:-5000}
messages=${FANOUT_MESSAGES:-20}
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

if ! command -v redis-server >/dev/null; then
    echo "broker rows skipped: no redis-server (make test-packages installs it)"
    exit 0
fi

base=${BENCH_BROKER_PORT_BASE:-27180}
L_PORT=$base L_TLS=$((base + 1)) P_PORT=$((base + 2)) P_TLS=$((base + 3))
Q_PORT=$((base + 4)) Q_TLS=$((base + 5)) REDIS_PORT=$((base + 6))
check_ports BENCH_BROKER_PORT_BASE $L_PORT $L_TLS $P_PORT $P_TLS $Q_PORT $Q_TLS $REDIS_PORT

pin_cpus "note: one CPU, client and servers share it"
raise_nofile
trap stop_servers EXIT
mkdir -p "$work/redis"

# No snapshots, no append-only file: pub/sub only. Stopped with the rest
# (its pid is in pids).
"${server_cpu[@]}" redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work/redis" --logfile "$work/redis/redis.log" &
pids+=($!)
redis_pid=$!
wait_port $REDIS_PORT

# One child holds every member of the Apache (as fanout.sh's (e)): 64
# threads; it stops accepting at about ThreadsPerChild + idle workers ×
# AsyncRequestWorkerFactor connections, hence the factor.
one_child="ServerLimit 1
StartServers 1
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
AsyncRequestWorkerFactor 1000"
broker="WebSocketBroker redis://127.0.0.1:$REDIS_PORT"
start_apache broker-local $L_PORT $L_TLS "" "$one_child"
l_pid=$server_pid
start_apache broker-p $P_PORT $P_TLS "" "$one_child
$broker"
p_pid=$server_pid
start_apache broker-q $Q_PORT $Q_TLS "" "$one_child
$broker"
q_pid=$server_pid
# Both brokers connect to Redis after their child starts.
sleep 1

# The last run's members are gone from the server (their descriptors
# closed), so the next run starts from an empty room.
wait_drained() { # pid...
    local pid
    for pid in "$@"; do
        for _ in $(seq 600); do
            [ "$(max_fds "$pid")" -lt 200 ] && continue 2
            sleep 0.1
        done
        echo "note: the server still holds $(max_fds "$pid") descriptors" >&2
    done
}

url() { echo "ws://127.0.0.1:$1/chat?quiet"; }

# One wsfanout run; prints its RESULT fields (key=value ...).
fanout() { # row
    local args
    case $1 in
        L) args=(--url "$(url $L_PORT)" --server-pid $l_pid) ;;
        P) args=(--url "$(url $P_PORT)" --server-pid $p_pid --server-pid $q_pid --server-pid $redis_pid) ;;
        S) args=(--url "$(url $P_PORT)" --url "$(url $Q_PORT)" --server-pid $p_pid --server-pid $q_pid --server-pid $redis_pid) ;;
    esac
    run_client "$1" "$1, $members members" "$wsfanout" "${args[@]}" --members "$members" \
        --messages "$messages" || return 0
    wait_drained $l_pid $p_pid $q_pid
}

count() { local v; v=$(field "$1" "$2"); echo "${v:-0}"; }
percent() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.0f%%", x * 100 }'; }

declare -A first second
for row in L P S; do first[$row]=$(fanout $row); done
for row in L P S; do second[$row]=$(fanout $row); done

declare -A rate p50 p99 cpu held bad
for row in L P S; do
    a=${first[$row]} b=${second[$row]}
    rate[$row]=$(mean "$(field "$a" deliveries_per_s)" "$(field "$b" deliveries_per_s)")
    p50[$row]=$(mean "$(field "$a" p50_us)" "$(field "$b" p50_us)")
    p99[$row]=$(mean "$(field "$a" p99_us)" "$(field "$b" p99_us)")
    cpu[$row]=$(percent "$(mean "$(field "$a" server_cpu)" "$(field "$b" server_cpu)")")
    held[$row]=$(field "$a" members)
    [ "$(field "$b" members)" = "${held[$row]}" ] || held[$row]="${held[$row]}, $(field "$b" members)"
    [ -n "${held[$row]}" ] || held[$row]="-"
    n=0
    for r in "$a" "$b"; do
        n=$((n + $(count "$r" failed_to_join) + $(count "$r" lost) + $(count "$r" errors)))
        [ -n "$(field "$r" failed)" ] && n=$((n + 1))
    done
    bad[$row]=$n
done

echo "| fan-out 1 → $members, $messages messages | members held | deliveries/s | ÷ L | p50 µs | ÷ L | p99 µs | ÷ L | server CPU | failed + lost + errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
line() { # row name
    echo "| $2 | ${held[$1]} | $(fmt "${rate[$1]}") | $(ratio "${rate[$1]}" "${rate[L]}") | $(fmt "${p50[$1]}") | $(ratio "${p50[$1]}" "${p50[L]}") | $(fmt "${p99[$1]}") | $(ratio "${p99[$1]}" "${p99[L]}") | ${cpu[$1]} | ${bad[$1]} |"
}
line L "(L) one Apache, no broker"
line P "(P) one Apache, WebSocketBroker"
line S "(S) two Apaches through Redis"

echo
echo "Broker rows: one message at a time, the next once every member has the previous one; deliveries/s = deliveries ÷ (first send → last delivery); delivery time from the send to each member's read; the mean of two runs per row (L P S L P S). Each Apache: event MPM, one child of 64 threads. Client on CPU 0; every server (the Apaches, redis-server) on CPU 1; server CPU counts L's Apache for (L), both broker Apaches and redis-server for (P) and (S). Open files: $(ulimit -n) per process."
