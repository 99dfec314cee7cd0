#!/usr/bin/env bash
# netdx trace against Debian's traceroute (-N 16) and mtr --report, on a
# 3-hop routed chain of namespaces (bench/chain.sh). Same wait (-w 5) and
# probe counts (-q 3) for netdx and traceroute; mtr -c 1 sends one probe per
# hop. Scenarios: every hop answers; router B drops its ICMP (a `*` hop).
# Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/chain.sh"
need traceroute mtr-tiny hyperfine iptables
build_netdx
trap 'chain_down; rm -f "$json"' EXIT
json=$(mktemp --suffix .json)
chain_up
RUNS=${RUNS:-500}
T=$CHAIN_TARGET_ADDR

echo "### trace — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
echo "Chain client → router A → router B → target ($T), inside the client namespace: all hops answering in $RUNS interleaved rounds (bench/interleaved.py), the slow scenarios with hyperfine -N."
echo
echo "| scenario | command | median wall (ms) | netdx ÷ this |"
echo "|---|---|---:|---:|"

bench_pair() {
    local scenario=$1 runs=$2; shift 2
    in_chain_client hyperfine -N -i --warmup 5 --runs "$runs" --export-json "$json" "$@" >/dev/null 2>&1
    local base
    base=$(median_ms "$json" 0)
    local i=0
    for cmd in "$@"; do
        local m
        m=$(median_ms "$json" $i)
        echo "| $scenario | \`${cmd/$NETDX/netdx}\` | $m | $(python3 -c 'import sys; print("%.3g" % (float(sys.argv[1]) / float(sys.argv[2])))' "$base" "$m") |"
        i=$((i + 1))
    done
}

# Millisecond runs: interleaved rounds (bench/interleaved.py), not hyperfine's
# one-command-then-the-next, so the VM's drift in speed lands on both sides.
bench_interleaved() {
    local scenario=$1 runs=$2; shift 2
    local netdx_ms
    in_chain_client "$BENCH_DIR/interleaved.py" "$runs" "$@" >"$json"
    netdx_ms=$(awk 'NR == 1 {print $1}' "$json")
    while read -r ms _ cmd; do
        echo "| $scenario | \`${cmd/$NETDX/netdx}\` | $ms | $(python3 -c 'import sys; print("%.3g" % (float(sys.argv[1]) / float(sys.argv[2])))' "$netdx_ms" "$ms") |"
    done <"$json"
}

# rows LABEL FAMILY_FLAG TARGET: every method against traceroute's same method.
rows() {
    local label=$1 family=$2 target=$3 method tr_flag
    for method in udp icmp tcp; do
        case $method in
            udp) tr_flag="" ;;
            icmp) tr_flag="-I" ;;
            tcp) tr_flag="-T" ;;
        esac
        bench_interleaved "${label}all hops answer, $method" "$RUNS" \
            "$NETDX trace -n $family--$method -q 3 -w 5 $target" \
            "traceroute $family-n -N 16 -q 3 -w 5 $tr_flag $target"
    done
}
rows "" "" "$T"
rows "IPv6, " "-6 " "$CHAIN_TARGET_ADDR6"
# mtr waits about a second per round by design: a few runs tell enough.
bench_pair "all hops answer, report" 5 \
    "$NETDX trace -n -c 1 -q 1 $T" \
    "mtr --report -n -c 1 $T"

ip netns exec "$CHAIN_B" iptables -A OUTPUT -p icmp -j DROP
# traceroute waits out its 5 s here: a few runs tell enough.
bench_pair "router B silent, udp" 5 \
    "$NETDX trace -n -q 3 -w 5 $T" \
    "traceroute -n -N 16 -q 3 -w 5 $T"
ip netns exec "$CHAIN_B" iptables -F OUTPUT

echo
echo "Reproduce: \`bench/trace.sh\` (as root; RUNS=N to change the run count)."
