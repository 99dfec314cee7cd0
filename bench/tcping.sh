#!/usr/bin/env bash
# tcping (issue 16) on a veth pair between two namespaces this script makes
# and removes (bench/netns.sh): a listener on 10.9.0.2:8080, the prober on 10.9.0.1.
#   The reported handshake time against the truth (the kernel's own stamps
#   of each SYN leaving and its SYN-ACK arriving, bench/tcp_rtt.py), netdx
#   beside hping3 -S (the classic SYN prober, timing in user space).
# Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need hping3 python3
build_netdx

source "$BENCH_DIR/netns.sh"
C=$BENCH_CLIENT
H=$BENCH_HOST
A=10.9.0.2
cleanup() { bench_netns_down; }
trap cleanup EXIT
bench_netns_up
inc() { ip netns exec $C "$@"; }
ip netns exec $H python3 "$ROOT/tests/responders/tcp_listener.py" $A:8080 >/dev/null &
listener=$!
trap 'kill $listener 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do inc bash -c "echo > /dev/tcp/$A/8080" 2>/dev/null && break; sleep 0.05; done

N=50
truth=$(mktemp); ours=$(mktemp); theirs=$(mktemp)
median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
run_truth() {
    (inc python3 "$BENCH_DIR/tcp_rtt.py" c0 $A 8080 "$1" 30 >"$truth" &)
    for _ in $(seq 100); do grep -q ready "$truth" && break; sleep 0.05; done
}
wait_truth() {
    for _ in $(seq 50); do [ "$(grep -vc ready "$truth")" -ge "$1" ] && break; sleep 0.1; done
    sed -i '/ready/d' "$truth"
}
run_truth $N
inc "$NETDX" tcping -c $N -i 0.02 --json $A:8080 \
    | python3 -c 'import json,sys; [print("%.6f" % p["time_ms"]) for p in json.load(sys.stdin)["probes"]]' >"$ours"
wait_truth $N
netdx_truth=$(median "$truth"); netdx_med=$(median "$ours")
run_truth $N
# hping3 answers the SYN-ACK with its kernel's RST; its rtt is user space.
inc hping3 -S -p 8080 -c $N -i u20000 $A 2>/dev/null | sed -n 's/.* rtt=\([0-9.]*\) ms$/\1/p' >"$theirs"
wait_truth $N
hping_truth=$(median "$truth"); hping_med=$(median "$theirs")
diff_us() { python3 -c 'import sys; print("%+.1f" % ((float(sys.argv[1]) - float(sys.argv[2])) * 1000))' "$1" "$2"; }
timewait=$(inc ss -Htan state time-wait | wc -l)
cat <<OUT
### tcping — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)

A veth pair between two namespaces, a listener on the far end (\`bench/tcping.sh\`).

#### Reported handshake time against the kernel's (SYN out → SYN-ACK in, ETH_P_ALL tap)

| tool | probes | median reported | median true | reported − true |
|---|---:|---:|---:|---:|
| \`netdx tcping -c $N -i 0.02\` | $(wc -l <"$ours") | ${netdx_med} ms | ${netdx_truth} ms | $(diff_us "$netdx_med" "$netdx_truth") µs |
| \`hping3 -S -c $N -i u20000\` | $(wc -l <"$theirs") | ${hping_med} ms | ${hping_truth} ms | $(diff_us "$hping_med" "$hping_truth") µs |

TIME_WAIT sockets left on the prober after both runs: $timewait.

OUT
rm -f "$truth" "$ours" "$theirs"
