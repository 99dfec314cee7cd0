#!/usr/bin/env bash
# Layer 2 (issue 15) on a bridged namespace segment: a prober and 30 hosts
# on one bridge, all inside namespaces this script makes and removes.
#   1. arping round trips against the truth (the kernel's own stamps of each
#      request leaving and its reply arriving, bench/l2_rtt.py), netdx beside
#      iputils arping;
#   2. neigh scan of the /24 against arp-scan --localnet: the same host/MAC
#      set, wall time side by side (hyperfine);
# Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need hyperfine iputils-arping arp-scan python3
build_netdx

P=netdx-b-l2p
S=netdx-b-l2s
HOSTS=30
cleanup() {
    for i in $(seq 1 $HOSTS); do ip netns del "netdx-b-l2h$i" 2>/dev/null || true; done
    ip netns del $P 2>/dev/null || true
    ip netns del $S 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $S
ip -n $S link add br0 type bridge forward_delay 0
ip -n $S link set br0 up
ip netns add $P
ip -n $P link set lo up
ip -n $S link add sp type veth peer name p0 netns $P
ip -n $S link set sp master br0 up
ip -n $P addr add 10.9.30.1/24 dev p0
ip -n $P link set p0 up
for i in $(seq 1 $HOSTS); do
    h=netdx-b-l2h$i
    ip netns add "$h"
    ip -n $S link add "s$i" type veth peer name e0 netns "$h"
    ip -n $S link set "s$i" master br0 up
    ip -n "$h" link set e0 address "02:30:00:00:00:$(printf %02x "$i")"
    ip -n "$h" addr add "10.9.30.$((i + 9))/24" dev e0
    ip -n "$h" link set e0 up
done
inp() { ip netns exec $P "$@"; }

echo "### Layer 2 — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
echo "Segment: a bridge in a namespace, a prober and $HOSTS hosts on veth ports (\`bench/l2.sh\`)."
echo
# 1. arping round trips against the kernel's stamps.
N=50
truth=$(mktemp); ours=$(mktemp); theirs=$(mktemp)
median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
run_truth() {
    (inp python3 "$BENCH_DIR/l2_rtt.py" p0 10.9.30.10 "$1" 30 >"$truth" &)
    for _ in $(seq 100); do grep -q ready "$truth" && break; sleep 0.05; done
}
run_truth $N
inp "$NETDX" arping -c $N -i 0.02 --json 10.9.30.10 \
    | python3 -c 'import json,sys; [print("%.6f" % r["rtt_ms"]) for r in json.load(sys.stdin)["replies"]]' >"$ours"
for _ in $(seq 50); do [ "$(grep -vc ready "$truth")" -ge $N ] && break; sleep 0.1; done
sed -i '/ready/d' "$truth"
netdx_truth=$(median "$truth")
netdx_med=$(median "$ours")
run_truth 10
inp arping -c $N -i 1 -I p0 10.9.30.10 2>/dev/null | sed -n 's/.*  \([0-9.]*\)ms$/\1/p' >"$theirs" &
# iputils takes whole seconds for -i in this version: 50 probes in ~50 s is
# too long for a bench; it is stopped after 10 replies.
sleep 10.5; pkill -INT -f "arping -c $N -i 1 -I p0" || true; wait || true
for _ in $(seq 50); do [ "$(grep -vc ready "$truth")" -ge 10 ] && break; sleep 0.1; done
sed -i '/ready/d' "$truth"
iputils_truth=$(median "$truth")
iputils_med=$(median "$theirs")
diff_ms() { python3 -c 'import sys; print("%.1f" % ((float(sys.argv[1]) - float(sys.argv[2])) * 1000))' "$1" "$2"; }
cat <<OUT
#### arping: reported round trip against the kernel's (request out → reply in, ETH_P_ALL tap)

| tool | probes | median reported | median true | reported − true | target |
|---|---:|---:|---:|---:|---|
| \`netdx arping -c $N -i 0.02\` | $(wc -l <"$ours") | ${netdx_med} ms | ${netdx_truth} ms | $(diff_ms "$netdx_med" "$netdx_truth") µs | within 10 µs |
| \`arping -i 1\` (iputils) | $(wc -l <"$theirs") | ${iputils_med} ms | ${iputils_truth} ms | $(diff_ms "$iputils_med" "$iputils_truth") µs | |

OUT
rm -f "$truth" "$ours" "$theirs"

# 2. neigh scan against arp-scan.
ours=$(inp "$NETDX" neigh scan -I p0 --json | python3 -c 'import json,sys; print("\n".join(sorted("%s %s" % (h["address"], h["mac"]) for h in json.load(sys.stdin)["hosts"])))')
theirs=$(inp arp-scan -I p0 --localnet -q -x | awk '{print $1, $2}' | sort)
same=no; [ "$ours" = "$theirs" ] && same=yes
json=$(mktemp --suffix .json)
inp hyperfine -N --warmup 2 --runs 15 --export-json "$json" \
    "$NETDX neigh scan -I p0 --json" "arp-scan -I p0 --localnet -q" >/dev/null 2>&1
a=$(median_ms "$json" 0); b=$(median_ms "$json" 1)
cat <<OUT
#### neigh scan of the /24 ($HOSTS live hosts) against arp-scan --localnet

| command | hosts found | median wall | ratio | target |
|---|---:|---:|---:|---|
| \`netdx neigh scan -I p0\` (1000/s, 1 retry, 250 ms) | $(echo "$ours" | grep -c .) | ${a} ms | $(ratio "$a" "$b")× | ≤ 0.5× |
| \`arp-scan -I p0 --localnet\` (defaults) | $(echo "$theirs" | grep -c .) | ${b} ms | — | |

Same host/MAC set: **$same**.

OUT
rm -f "$json"
