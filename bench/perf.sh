#!/usr/bin/env bash
# perf (issue 16) on a veth pair between two namespaces this script makes
# and removes: netdx perf serve and iperf3 -s on the far end (10.9.0.2),
# the clients on 10.9.0.1, run alternately for the same scenarios:
# TCP 1 and 4 streams, each direction. Throughput is the receiver's
# (sum_received); CPU is the client's and the server's user+system time
# over the run, per GB received. RUNS (default 3) runs each, medians.
# Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need iperf3 python3
build_netdx

source "$BENCH_DIR/netns.sh"
C=$BENCH_CLIENT
RUNS=${RUNS:-3}
SECS=${SECS:-3}
bench_perf_servers_up
netdx_server=$NETDX_PERF_SERVER
iperf_server=$IPERF3_SERVER
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# run TOOL ARGS… → "bits_per_second cpu_seconds_per_GB"
run() {
    local tool=$1; shift
    local server=$netdx_server
    [ "$tool" = iperf3 ] && server=$iperf_server
    local before; before=$(ticks "$server")
    local out; out=$(mktemp)
    local times; times=$(mktemp)
    if [ "$tool" = iperf3 ]; then
        ip netns exec $C /usr/bin/time -f "%U %S" -o "$times" iperf3 -c 10.9.0.2 -p 5201 -t "$SECS" -J "$@" >"$out"
    else
        ip netns exec $C /usr/bin/time -f "%U %S" -o "$times" "$NETDX" perf run 10.9.0.2:5301 -t "$SECS" --json "$@" >"$out"
    fi
    local after; after=$(ticks "$server")
    python3 - "$out" "$times" "$before" "$after" "$hz" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
server = (int(sys.argv[4]) - int(sys.argv[3])) / int(sys.argv[5])
received = doc["end"]["sum_received"]
gb = received["bytes"] / 1e9
print("%.0f %.3f" % (received["bits_per_second"], (user + system + server) / gb if gb else float("nan")))
PY
    rm -f "$out" "$times"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "### perf — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
echo "A veth pair between two namespaces; netdx perf serve and iperf3 -s on the far end, clients run alternately, $RUNS runs of ${SECS} s each, medians (\`bench/perf.sh\`)."
echo
echo "| scenario | netdx | iperf3 | throughput ratio | netdx CPU s/GB | iperf3 CPU s/GB | target |"
echo "|---|---:|---:|---:|---:|---:|---|"
for scenario in "1 stream:-P 1" "4 streams:-P 4" "1 stream, -R:-P 1 -R" "4 streams, -R:-P 4 -R"; do
    name=${scenario%%:*}; args=${scenario#*:}
    ours=(); theirs=()
    for _ in $(seq "$RUNS"); do
        # shellcheck disable=SC2086
        ours+=("$(run netdx $args)")
        # shellcheck disable=SC2086
        theirs+=("$(run iperf3 $args)")
    done
    a=$(printf '%s\n' "${ours[@]}" | awk '{print $1}' | median)
    b=$(printf '%s\n' "${theirs[@]}" | awk '{print $1}' | median)
    ca=$(printf '%s\n' "${ours[@]}" | awk '{print $2}' | median)
    cb=$(printf '%s\n' "${theirs[@]}" | awk '{print $2}' | median)
    target="≥ 0.95×"; case "$name" in 4*) target="≥ 1.0×";; esac
    printf '| TCP %s | %.2f Gbit/s | %.2f Gbit/s | %s× | %s | %s | %s, CPU/GB ≤ iperf3 |\n' \
        "$name" "$(echo "$a / 1000000000" | bc -l)" "$(echo "$b / 1000000000" | bc -l)" "$(ratio "$a" "$b")" "$ca" "$cb" "$target"
done
echo
