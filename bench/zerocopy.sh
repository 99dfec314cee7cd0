#!/usr/bin/env bash
# Zero-copy sending on the bench veth pair (issue 16: "measured, not
# assumed"): write() vs MSG_ZEROCOPY vs sendfile(2) from one Python loop
# (bench/zerocopy.py), then netdx perf run with and without -Z beside
# iperf3 with and without -Z. RUNS (default 3) alternating runs of SECS
# (default 3) each; medians. Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need iperf3 python3
build_netdx
source "$BENCH_DIR/netns.sh"
C=$BENCH_CLIENT
RUNS=${RUNS:-3}
SECS=${SECS:-3}
BENCH_EXTRA_PORTS=5401 bench_perf_servers_up "python3 $BENCH_DIR/zerocopy.py sink 5401"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "### zero-copy sending — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
echo "One TCP stream over a veth pair between two namespaces, $RUNS alternating runs of ${SECS} s, medians (\`bench/zerocopy.sh\`)."
echo
echo "| sender | Gbit/s | × write() | sends the kernel copied anyway |"
echo "|---|---:|---:|---:|"
declare -A rate copied
for mode in write msg_zerocopy sendfile; do rate[$mode]=""; copied[$mode]=""; done
for _ in $(seq "$RUNS"); do
    for mode in write msg_zerocopy sendfile; do
        read -r r c < <(ip netns exec $C python3 "$BENCH_DIR/zerocopy.py" send 10.9.0.2 5401 $mode "$SECS")
        rate[$mode]+="$r "; copied[$mode]+="$c "
    done
done
base=$(echo ${rate[write]} | tr ' ' '\n' | median)
for mode in write msg_zerocopy sendfile; do
    r=$(echo ${rate[$mode]} | tr ' ' '\n' | median)
    c=$(echo ${copied[$mode]} | tr ' ' '\n' | median)
    [ "$mode" = msg_zerocopy ] && c=$(awk -v c="$c" 'BEGIN {printf "%.0f %%", c * 100}') || c="—"
    printf '| Python %s | %s | %.2f× | %s |\n' "$mode" "$r" "$(awk -v a="$r" -v b="$base" 'BEGIN {print a / b}')" "$c"
done
tool_rate() {
    if [ "$1" = iperf3 ]; then
        shift; ip netns exec $C iperf3 -c 10.9.0.2 -p 5201 -t "$SECS" -J "$@"
    else
        shift; ip netns exec $C "$NETDX" perf run 10.9.0.2:5301 -t "$SECS" --json "$@"
    fi | python3 -c 'import json, sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}
declare -A tools
for _ in $(seq "$RUNS"); do
    for run in "netdx:" "netdx:-Z" "iperf3:" "iperf3:-Z"; do
        # shellcheck disable=SC2086
        tools[$run]+="$(tool_rate ${run%%:*} ${run#*:}) "
    done
done
echo
echo "| sender | Gbit/s |"
echo "|---|---:|"
for run in "netdx:" "netdx:-Z" "iperf3:" "iperf3:-Z"; do
    tool=${run%%:*}; flags=${run#*:}
    if [ "$tool" = iperf3 ]; then label="iperf3 -c $flags"; else label="netdx perf run $flags"; fi
    printf '| `%s` | %s |\n' "${label% }" "$(echo ${tools[$run]} | tr ' ' '\n' | median)"
done
