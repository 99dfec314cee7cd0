#!/usr/bin/env bash
# netdx top with 50,000 TCP sockets held by 8 processes in a namespace
# (bench/netstat.sh's scenario): the CPU of `netdx top -i 1` over SECS
# (default 30) seconds as a share of one core, and the time of one refresh
# (one sample of every socket's TCP_INFO, its owner and the interfaces)
# beside `ss -tinp`, which reads the same things once. Prints markdown.
source "$(dirname "$0")/lib.sh"
need iproute2 hyperfine time
build_netdx

SECS=${SECS:-30}
RUNS=${RUNS:-10}
socket_holder_scenario netdx-bench-top
sockets=$(in_ns ss -tan | tail -n +2 | wc -l)

# One refresh: `top --once -i 0.1` takes two samples 0.1 s apart, so a
# sample is (wall − 0.1 s) / 2; ss -tinp reads the table with TCP_INFO and
# owners once.
in_ns hyperfine -N -i --warmup 1 --runs "$RUNS" --export-json "$json" \
    "$NETDX top --once -i 0.1 --json" "ss -tinp" >/dev/null 2>&1
once=$(median_ms "$json" 0)
ss_ms=$(median_ms "$json" 1)
sample=$(python3 -c 'import sys; print("%.1f" % ((float(sys.argv[1]) - 100) / 2))' "$once")

# The running view's CPU: user + system time of `top -i 1` over SECS
# seconds, drawing its table in a terminal (a pty from script(1), 160×50)
# and, not on a terminal, streaming JSON lines to /dev/null.
times=$(mktemp)
in_ns script -qec "stty cols 160 rows 50; /usr/bin/time -f '%U %S' -o $times timeout --foreground -s INT $SECS $NETDX top -i 1" /dev/null </dev/null >/dev/null 2>&1 || true
cpu=$(tail -n 1 "$times" | awk -v secs="$SECS" '{printf "%.1f", ($1 + $2) / secs * 100}')
in_ns /usr/bin/time -f "%U %S" -o "$times" timeout -s INT "$SECS" "$NETDX" top -i 1 >/dev/null 2>&1 || true
cpu_stream=$(tail -n 1 "$times" | awk -v secs="$SECS" '{printf "%.1f", ($1 + $2) / secs * 100}')
rm -f "$times"

echo "### top — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
echo "$sockets TCP sockets held by 8 processes (bench/hold_sockets.py); hyperfine -N, $RUNS runs; \`bench/top.sh\`."
echo
echo "| measure | netdx | anchor | ratio | target |"
echo "|---|---:|---:|---:|---|"
echo "| one refresh (a sample of every socket, its owner, the interfaces) vs \`ss -tinp\` | $sample ms | $ss_ms ms | $(ratio "$sample" "$ss_ms") | ≤ 0.5× |"
echo "| \`netdx top -i 1\` CPU over ${SECS} s in a terminal, % of one core | $cpu % | — | — | ≤ 10 % |"
echo "| \`netdx top -i 1 >/dev/null\` (JSON lines, every connection each second) CPU over ${SECS} s | $cpu_stream % | — | — | |"
