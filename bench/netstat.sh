#!/usr/bin/env bash
# netdx netstat / port against ss, netstat and lsof with 50,000 TCP sockets
# held by 8 processes in a namespace. Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need iproute2 net-tools lsof hyperfine time
build_netdx

socket_holder_scenario netdx-bench-sockets
sockets=$(in_ns ss -tan | tail -n +2 | wc -l)
holders=$(in_ns ss -tanp | grep -o 'pid=[0-9]*' | sort -u | wc -l)
P=20001

# compare NAME RUNS CMD_NETDX CMD_ANCHOR… : median wall per command (ms) in one hyperfine run
compare() {
    local runs=$1; shift
    in_ns hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$json" "$@" >/dev/null 2>&1
}

row() { # label netdx_cmd anchor_cmd netdx_ms anchor_ms wall_target rss_target
    local netdx_rss anchor_rss
    netdx_rss=$(peak_rss_kb 5 ip netns exec "$NS" $2)
    anchor_rss=$(peak_rss_kb 5 ip netns exec "$NS" $3)
    echo "| \`${2#$ROOT/target/x86_64-unknown-linux-gnu/release/}\` vs \`$3\` | $4 ms | $5 ms | $(ratio "$4" "$5") ($6) | ${netdx_rss} / ${anchor_rss} KiB = $(ratio "$netdx_rss" "$anchor_rss") ($7) |"
}

echo "### netstat / port — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
echo "$sockets TCP sockets held by $holders processes (bench/hold_sockets.py); P = $P (12,501 sockets use it)."
echo
echo "| netdx vs anchor | netdx median | anchor median | wall ratio (target) | peak RSS netdx / anchor (target) |"
echo "|---|---:|---:|---:|---:|"

compare 10 "$NETDX netstat -tan" "ss -tan" "netstat -tan"
a=$(median_ms "$json" 0); b=$(median_ms "$json" 1); c=$(median_ms "$json" 2)
row tan "$NETDX netstat -tan" "ss -tan" "$a" "$b" "≤ 0.8" "≤ 2"
row tan "$NETDX netstat -tan" "netstat -tan" "$a" "$c" "no target" "no target"

compare 5 "$NETDX netstat -tanp" "ss -tanp"
a=$(median_ms "$json" 0); b=$(median_ms "$json" 1)
row tanp "$NETDX netstat -tanp" "ss -tanp" "$a" "$b" "≤ 0.5" "≤ 2"

compare 5 "$NETDX port $P" "lsof -nP -i :$P" "ss -tanp sport = :$P or dport = :$P"
a=$(median_ms "$json" 0); b=$(median_ms "$json" 1); c=$(median_ms "$json" 2)
row port "$NETDX port $P" "lsof -nP -i :$P" "$a" "$b" "≤ 0.1" "no target"
row port "$NETDX port $P" "ss -tanp sport = :$P or dport = :$P" "$a" "$c" "≤ 0.5" "≤ 2"
