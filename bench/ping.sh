#!/usr/bin/env bash
# netdx ping against fping (sweep) and iputils ping (flood, RTT), in a
# client/host namespace pair. Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netns.sh"
need fping iputils-ping hyperfine time linux-perf
build_netdx
trap 'bench_netns_down; rm -f "$json"' EXIT
json=$(mktemp --suffix .json)
bench_netns_up

SWEEP_NETDX="$NETDX ping -a -g 10.9.2.0/24 -i 0.001 -W 0.5 --retries 0"
SWEEP_FPING="fping -a -q -g 10.9.2.0/24 -i 1 -t 500 -r 0"

# Median task-clock (CPU ms, from perf) of a command run N times, interleaved
# with another so both see the same machine.
task_clock_pair() {
    local runs=$1 a=$2 b=$3 ra=() rb=()
    for _ in $(seq "$runs"); do
        ra+=("$( (in_client perf stat -x, -e task-clock $a 2>&1 >/dev/null || true) | awk -F, '/task-clock/ {print $1}')")
        rb+=("$( (in_client perf stat -x, -e task-clock $b 2>&1 >/dev/null || true) | awk -F, '/task-clock/ {print $1}')")
    done
    printf '%s\n' "${ra[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f ", a[int((NR+1)/2)]}'
    printf '%s\n' "${rb[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]}'
}

echo "### ping — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo

# 1. /24 sweep: 127 hosts answer, 127 are silent.
in_client hyperfine -N -i --warmup 3 --runs 30 --export-json "$json" "$SWEEP_NETDX" "$SWEEP_FPING" >/dev/null 2>&1
netdx_wall=$(median_ms "$json" 0)
fping_wall=$(median_ms "$json" 1)
netdx_rusage=$(cpu_ms "$json" 0)
fping_rusage=$(cpu_ms "$json" 1)
read -r netdx_task fping_task < <(task_clock_pair 30 "$SWEEP_NETDX" "$SWEEP_FPING")
alive=$( (in_client $SWEEP_NETDX || true) | wc -l)
cat <<OUT
#### Sweep of a /24 (127 alive, 127 silent; $alive reported alive)

| command | median wall | CPU (perf task-clock, median) | CPU (rusage user+sys, mean) |
|---|---:|---:|---:|
| \`netdx ping -a -g 10.9.2.0/24 -i 0.001 -W 0.5 --retries 0\` | ${netdx_wall} ms | ${netdx_task} ms | ${netdx_rusage} ms |
| \`fping -a -q -g 10.9.2.0/24 -i 1 -t 500 -r 0\` | ${fping_wall} ms | ${fping_task} ms | ${fping_rusage} ms |
| ratio netdx / fping (target ≤ 1) | $(ratio "$netdx_wall" "$fping_wall") | $(ratio "$netdx_task" "$fping_task") | $(ratio "$netdx_rusage" "$fping_rusage") |

OUT

# 2. Flood: 20000 echo requests to the host, as fast as replies come back.
# Interleaved rounds (bench/interleaved.py): a 0.1 s run is short enough for
# the VM's drift in speed to favour whichever tool hyperfine runs second.
in_client "$BENCH_DIR/interleaved.py" 40 \
    "$NETDX ping -f -q -c 20000 10.9.0.2" "ping -f -q -c 20000 10.9.0.2" >"$json"
netdx_flood=$(awk 'NR == 1 {print $1}' "$json")
iputils_flood=$(awk 'NR == 2 {print $1}' "$json")
netdx_pps=$(python3 -c "print(round(20000 / ($netdx_flood / 1000)))")
iputils_pps=$(python3 -c "print(round(20000 / ($iputils_flood / 1000)))")
cat <<OUT
#### Flood: \`-f -q -c 20000\` to a namespace host

| command | median wall | packets/s |
|---|---:|---:|
| \`netdx ping -f -q -c 20000 10.9.0.2\` | ${netdx_flood} ms | ${netdx_pps} |
| \`ping -f -q -c 20000 10.9.0.2\` (iputils) | ${iputils_flood} ms | ${iputils_pps} |
| ratio netdx / iputils (target ≥ 1.0) | | $(ratio "$netdx_pps" "$iputils_pps") |

OUT

# 3. RTT truthfulness: median of the per-reply times each tool prints,
#    alternating 5 rounds of 200 probes 10 ms apart.
rtts_netdx=$(mktemp); rtts_iputils=$(mktemp)
for _ in 1 2 3 4 5; do
    in_client "$NETDX" ping -c 200 -i 0.01 10.9.0.2 | grep -oP 'time=\K[0-9.]+' >>"$rtts_netdx"
    in_client ping -c 200 -i 0.01 10.9.0.2 | grep -oP 'time=\K[0-9.]+' >>"$rtts_iputils"
done
median_of() { sort -n "$1" | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }
netdx_rtt=$(median_of "$rtts_netdx")
iputils_rtt=$(median_of "$rtts_iputils")
diff_us=$(python3 -c "print(round(abs($netdx_rtt - $iputils_rtt) * 1000, 1))")
rm -f "$rtts_netdx" "$rtts_iputils"
cat <<OUT
#### RTT truthfulness: 1000 probes each, alternating rounds, same host

| tool | median RTT |
|---|---:|
| netdx ping | ${netdx_rtt} ms |
| iputils ping | ${iputils_rtt} ms |
| difference (target ≤ 10 µs) | ${diff_us} µs |
OUT
