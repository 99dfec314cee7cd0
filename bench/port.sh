#!/usr/bin/env bash
# `netdx port P` against `lsof -nP -i :P` in bench/netstat.sh's scenario
# (50,004 TCP sockets held by 8 processes in a namespace; P = 20001, used by
# 12,501 of them), and nothing else: the quick loop for work on `netdx port`.
#
# NETDX_BEFORE=/path/to/an/older/netdx adds that binary to every measurement,
# so a before/after comparison shares one run (and one level of machine
# load), and first checks that both list exactly the same sockets and owners.
# RUNS (default 20) runs per command.
source "$(dirname "$0")/lib.sh"
need iproute2 lsof hyperfine linux-perf
build_netdx

P=20001
RUNS=${RUNS:-20}
socket_holder_scenario netdx-bench-port

commands=("$NETDX port $P")
names=("netdx port $P")
if [ -n "${NETDX_BEFORE:-}" ]; then
    for args in "port $P" "port $P --json" "port $P -t" "port $P --local --json"; do
        # Same sockets, same owners, same order: byte for byte.
        if ! cmp -s <(in_ns $NETDX_BEFORE $args) <(in_ns $NETDX $args); then
            echo "netdx $args: $NETDX_BEFORE and $NETDX disagree" >&2
            exit 1
        fi
    done
    commands+=("$NETDX_BEFORE port $P")
    names+=("netdx port $P (NETDX_BEFORE)")
fi
commands+=("lsof -nP -i :$P")
names+=("lsof -nP -i :$P")

# task_clock CMD: mean CPU ms over RUNS runs, by perf's task-clock.
task_clock() {
    in_ns perf stat -x, -e task-clock -r "$RUNS" $1 2>&1 >/dev/null | awk -F, '/task-clock/ {printf "%.1f", $1}'
}

echo "### port — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "$(in_ns ss -tan | tail -n +2 | wc -l) TCP sockets; P = $P ($(in_ns ss -tan "sport = :$P or dport = :$P" | tail -n +2 | wc -l) sockets use it). hyperfine -N, $RUNS runs; perf stat -r $RUNS."
echo
echo "| command | median wall (ms) | user (ms) | sys (ms) | task-clock (ms) | wall ÷ lsof |"
echo "|---|---:|---:|---:|---:|---:|"
in_ns hyperfine -N -i --warmup 2 --runs "$RUNS" --export-json "$json" "${commands[@]}" >/dev/null 2>&1
last=$((${#commands[@]} - 1))
lsof_ms=$(median_ms "$json" "$last")
for i in "${!commands[@]}"; do
    read -r user sys < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.1f %.1f" % (r["user"]*1000, r["system"]*1000))' "$json" "$i")
    wall=$(median_ms "$json" "$i")
    echo "| \`${names[$i]}\` | $wall | $user | $sys | $(task_clock "${commands[$i]}") | $(ratio "$wall" "$lsof_ms") |"
done
