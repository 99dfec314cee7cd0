# Shared helpers for the bench scripts (sourced, not run).
# Requires: hyperfine, GNU time (/usr/bin/time), python3.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
NETDX=${NETDX:-$ROOT/target/x86_64-unknown-linux-gnu/release/netdx}

need() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

build_netdx() {
    (cd "$ROOT" && cargo build --release --quiet)
}

# median_ms FILE.json INDEX → median wall time of hyperfine's command INDEX in ms
median_ms() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.3f" % (r["median"]*1000))' "$1" "$2"
}

# cpu_ms FILE.json INDEX → mean user+system CPU time of command INDEX in ms
cpu_ms() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.3f" % ((r["user"] + r["system"]) * 1000))' "$1" "$2"
}

# peak_rss_kb RUNS CMD… → median peak RSS in KiB over RUNS runs
peak_rss_kb() {
    local runs=$1; shift
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1
    done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ratio() {
    python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"
}

# start_socket_holder NS PAIRS PROCS LOG: a fresh namespace NS whose
# bench/hold_sockets.py holds 2 x PAIRS loopback TCP sockets over 2 x PROCS
# processes (its output in LOG); returns once they are all open.
# stop_socket_holder NS removes it again.
start_socket_holder() {
    local ns=$1 pairs=$2 procs=$3 log=$4
    stop_socket_holder "$ns"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # In a subshell: no job to report as "Killed" when it is stopped.
    (ip netns exec "$ns" python3 "$BENCH_DIR/hold_sockets.py" "$pairs" "$procs" >"$log" 2>&1 &)
    for _ in $(seq 120); do
        grep -q ready "$log" && return 0
        sleep 0.5
    done
    echo "socket holder did not start: $(cat "$log")" >&2
    return 1
}

stop_socket_holder() {
    ip netns pids "$1" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$1" 2>/dev/null || true
}

# socket_holder_scenario NS: bench/netstat.sh's scenario in namespace NS
# (50,000 loopback TCP sockets held by 8 processes), removed on exit with
# a hyperfine export file: sets $json, and in_ns runs a command in NS.
socket_holder_scenario() {
    NS=$1
    json=$(mktemp --suffix .json)
    holder_log=$(mktemp)
    trap 'stop_socket_holder "$NS"; rm -f "$json" "$holder_log"' EXIT
    start_socket_holder "$NS" 25000 4 "$holder_log"
}
in_ns() { ip netns exec "$NS" "$@"; }
