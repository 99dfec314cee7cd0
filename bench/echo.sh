#!/usr/bin/env bash
# netdx echo against sockperf (ping-pong latency) and socat (load), on
# loopback, and netdx serve's memory with 10,000 idle connections.
# Prints markdown for BENCHMARKS.md.
#
#   bench/echo.sh            all three parts
#   ROUNDS=9 bench/echo.sh   more alternating latency rounds (default 5)
source "$(dirname "$0")/lib.sh"
need sockperf socat python3
build_netdx

ROUNDS=${ROUNDS:-5}
PORT_NETDX=17007
PORT_SOCKPERF=17008
PORT_SOCAT=17009
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    pkill -f "socat TCP-LISTEN:$PORT_SOCAT" 2>/dev/null || true
    pkill -f "bench/hold_connections.py" 2>/dev/null || true
}
trap cleanup EXIT

# start CMD… : starts a server in the background, prints its pid
start() {
    "$@" >/dev/null 2>&1 &
    echo "$!"
}

# wait_port PORT PROTO: until something listens there
wait_port() {
    local flag=-tln
    [ "$2" = udp ] && flag=-uln
    for _ in $(seq 100); do
        ss -H $flag "sport = :$1" | grep -q . && return 0
        sleep 0.05
    done
    echo "nothing listens on $2 port $1" >&2
    exit 1
}

# stop PID: SIGTERM, then wait until it is gone
stop() {
    kill "$1" 2>/dev/null || true
    for _ in $(seq 100); do
        [ -e /proc/"$1" ] || return 0
        sleep 0.05
    done
    kill -9 "$1" 2>/dev/null || true
}

median() { sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}'; }

# netdx_rtt SERVER_CPU CLIENT_CPU PROTO → median RTT in µs of a 3 s ping-pong
netdx_rtt() {
    local server
    server=$(start taskset -c "$1" "$NETDX" echo serve "--$3" --bind 127.0.0.1:$PORT_NETDX)
    pids+=("$server")
    wait_port $PORT_NETDX "$3"
    taskset -c "$2" "$NETDX" --json echo probe "--$3" 127.0.0.1:$PORT_NETDX -i 0 -w 3 -q \
        | python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["rtt_ms"]["p50"] * 1000))'
    stop "$server"
}

# sockperf_rtt SERVER_CPU CLIENT_CPU PROTO → median RTT in µs (sockperf prints RTT/2)
sockperf_rtt() {
    local server tcp=()
    [ "$3" = tcp ] && tcp=(--tcp)
    server=$(start taskset -c "$1" sockperf server -i 127.0.0.1 -p $PORT_SOCKPERF "${tcp[@]}")
    pids+=("$server")
    wait_port $PORT_SOCKPERF "$3"
    taskset -c "$2" sockperf ping-pong -i 127.0.0.1 -p $PORT_SOCKPERF "${tcp[@]}" -m 64 -t 3 2>&1 \
        | awk '/percentile 50.000 =/ {printf "%.1f\n", $NF * 2}'
    stop "$server"
}

echo "### echo — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
echo "#### Ping-pong, 64 B, loopback: median RTT (µs)"
echo
echo "$ROUNDS alternating rounds of 3 s each; sockperf's RTT/2 doubled. 'one core': client and"
echo "server pinned to CPU 0 (taskset), so the figure is software cost; 'two cores': server on"
echo "CPU 0, client on CPU 1, so every echo also pays two cross-CPU wake-ups."
echo
echo "| proto | placement | netdx probe → netdx serve | sockperf → sockperf | ratio (target ≤ 1.1) |"
echo "|---|---|---:|---:|---:|"
for proto in tcp udp; do
    for placement in "one core:0:0" "two cores:0:1"; do
        IFS=: read -r label server_cpu client_cpu <<<"$placement"
        n=() s=()
        for _ in $(seq "$ROUNDS"); do
            n+=("$(netdx_rtt "$server_cpu" "$client_cpu" "$proto")")
            s+=("$(sockperf_rtt "$server_cpu" "$client_cpu" "$proto")")
        done
        nm=$(printf '%s\n' "${n[@]}" | median)
        sm=$(printf '%s\n' "${s[@]}" | median)
        echo "| $proto | $label | $nm | $sm | $(ratio "$nm" "$sm") |"
    done
done
echo

echo "#### Load: 100 connections × 64 B messages, 10 s, driven by \`netdx echo probe --connections 100\`"
echo
load() { # PORT → messages/s
    "$NETDX" --json echo probe 127.0.0.1:"$1" --connections 100 --duration 10 \
        | python3 -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["throughput"]["messages_per_sec"])'
}
server=$(start "$NETDX" echo serve --tcp --bind 127.0.0.1:$PORT_NETDX)
pids+=("$server")
wait_port $PORT_NETDX tcp
netdx_load=$(load $PORT_NETDX)
stop "$server"
socat_server=$(start socat TCP-LISTEN:$PORT_SOCAT,fork,reuseaddr,backlog=1024 EXEC:cat)
wait_port $PORT_SOCAT tcp
pids+=("$socat_server")
socat_load=$(load $PORT_SOCAT)
stop "$socat_server"
pkill -f "socat TCP-LISTEN:$PORT_SOCAT" 2>/dev/null || true
echo "| server | messages/s | ratio (target ≥ 3) |"
echo "|---|---:|---:|"
echo "| \`netdx echo serve --tcp\` | $netdx_load | $(ratio "$netdx_load" "$socat_load") |"
echo "| \`socat TCP-LISTEN:P,fork,reuseaddr EXEC:cat\` | $socat_load | 1.00 |"
echo

echo "#### 10,000 idle TCP connections held by \`netdx echo serve\`"
echo
server=$(start "$NETDX" echo serve --tcp --bind 127.0.0.1:$PORT_NETDX)
pids+=("$server")
wait_port $PORT_NETDX tcp
before=$(awk '/VmRSS/ {print $2}' /proc/"$server"/status)
holder_log=$(mktemp)
python3 "$BENCH_DIR/hold_connections.py" 127.0.0.1 $PORT_NETDX 10000 >"$holder_log" 2>&1 &
holder=$!
pids+=("$holder")
for _ in $(seq 600); do
    grep -q -e ready -e error "$holder_log" && break
    sleep 0.1
done
established=$(ss -Htn state established "sport = :$PORT_NETDX" | wc -l)
rss=$(awk '/VmRSS/ {print $2}' /proc/"$server"/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/"$server"/status)
stop "$holder"
stop "$server"
rm -f "$holder_log"
echo "| connections established | RSS before | RSS holding them | peak RSS | target |"
echo "|---:|---:|---:|---:|---|"
echo "| $established | $((before / 1024)) MiB | $((rss / 1024)) MiB | $((hwm / 1024)) MiB | < 200 MiB |"
