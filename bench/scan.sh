#!/usr/bin/env bash
# netdx scan against nmap on a namespace host (never the machine's own
# network): 7 open TCP ports, 1,001 DROPped, 101 REJECTed with ICMP port
# unreachable, 51 with ICMP admin prohibited (the issue's target), probed
# from a client namespace over one veth link. Rows: -p- connect and SYN
# with the target's ICMP rate limit off; the default run and --exact with
# it on; peak RSS for 8 hosts × 65,535 ports. Each result is also checked
# port by port (wrong = a classified port whose state is not the rules').
# Prints markdown for BENCHMARKS.md.
#
# RUNS (default 3) timed runs per command. ICMP_INTERVAL_MS (default 1000,
# the kernel's) is the rate-limited target's net.ipv4.icmp_ratelimit for
# the default-run rows; EXACT_INTERVAL_MS (default 100) the one for the
# --exact rows, so they take seconds, not the 15 min that 1,000 UDP ports
# need at 1/s (the bound scales with the interval).
source "$(dirname "$0")/lib.sh"
need nmap hyperfine iptables python3
build_netdx
RUNS=${RUNS:-3}
ICMP_INTERVAL_MS=${ICMP_INTERVAL_MS:-1000}
EXACT_INTERVAL_MS=${EXACT_INTERVAL_MS:-100}
C=bscan-client H=bscan-target
T=10.9.30.2
json=$(mktemp --suffix .json)
out=$(mktemp)
down() {
    ip netns pids "$H" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    ip netns del "$H" 2>/dev/null || true
    rm -f "$json" "$out"
}
trap down EXIT
down
ip netns add "$C"; ip netns add "$H"
ip link add bsc0 netns "$C" type veth peer name bsh0 netns "$H"
ip -n "$C" addr add 10.9.30.1/24 dev bsc0; ip -n "$C" link set bsc0 up; ip -n "$C" link set lo up
ip -n "$H" addr add $T/24 dev bsh0; ip -n "$H" link set bsh0 up; ip -n "$H" link set lo up
ip -n "$H" route add local 10.9.31.0/29 dev lo
ip -n "$C" route add 10.9.31.0/29 via $T
in_h() { ip netns exec "$H" "$@"; }
in_c() { ip netns exec "$C" "$@"; }
in_h iptables -A INPUT -p tcp --dport 1000:2000 -j DROP
in_h iptables -A INPUT -p udp --dport 1000:2000 -j DROP
in_h iptables -A INPUT -p tcp --dport 3000:3100 -j REJECT --reject-with icmp-port-unreachable
in_h iptables -A INPUT -p tcp --dport 4000:4050 -j REJECT --reject-with icmp-admin-prohibited
in_h iptables -A INPUT -p udp --dport 4000:4050 -j REJECT --reject-with icmp-admin-prohibited
in_h sysctl -qw net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000
in_h python3 "$ROOT/tests/responders/scan_target.py" 22,80,443,8080,9000,31337,60000 53,123 >/dev/null &
for _ in $(seq 100); do in_h ss -Hltn | grep -q ':60000 ' && break; sleep 0.1; done
rate_limit() { in_h sysctl -qw "net.ipv4.icmp_ratelimit=$1"; }

# wrong METHOD FILE: classified ports whose state the rules contradict, and unclassified ones.
wrong() {
    python3 - "$1" "$2" <<'PY'
import json, sys
method, doc = sys.argv[1], json.load(open(sys.argv[2]))
def expected(p):
    if method == "udp":
        if p in (53, 123): return "open"
        if 1000 <= p <= 2000: return "open|filtered"
        if 4000 <= p <= 4050: return "filtered"
        return "closed"
    if p in (22, 80, 443, 8080, 9000, 31337, 60000): return "open"
    if 1000 <= p <= 2000 or 4000 <= p <= 4050: return "filtered"
    if 3000 <= p <= 3100: return "filtered" if method == "syn" else "closed"
    return "closed"
bad = unc = 0
for host in doc:
    for port in host["ports"]:
        if port["state"] == "unclassified": unc += 1
        elif port["state"] != expected(port["port"]): bad += 1
print(f"{bad} wrong, {unc} unclassified")
PY
}
# nmap_wrong SCAN: the same check on nmap's XML (extraports counted by state).
nmap_wrong() {
    python3 - "$1" "$out" <<'PY'
import re, sys
method, xml = sys.argv[1], open(sys.argv[2]).read()
listed = {int(p): s for p, s in re.findall(r'portid="(\d+)"><state state="([a-z|]+)"', xml)}
extra = {s: int(n) for s, n in re.findall(r'<extraports state="([a-z|]+)" count="(\d+)"', xml)}
want = {"open": 7, "closed": 65535 - 7 - 1001 - 51 - (101 if method == "syn" else 0),
        "filtered": 1001 + 51 + (101 if method == "syn" else 0)}
got = dict(extra)
for s in listed.values(): got[s] = got.get(s, 0) + 1
bad = sum(abs(got.get(s, 0) - n) for s, n in want.items()) // 2 + sum(v for s, v in got.items() if s not in want)
print(f"{bad} wrong")
PY
}

timed() { # LABEL CMD… → median wall seconds over RUNS runs
    in_c hyperfine -N -i --runs "$RUNS" --export-json "$json" "$*" >/dev/null 2>&1
    python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
}

echo "### scan — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), nmap $(nmap --version | awk 'NR==1{print $3}')"
echo
echo "Target $T in a namespace: 7 open TCP ports, 1,001 DROP, 101 REJECT icmp-port-unreachable, 51 REJECT icmp-admin-prohibited; probed from a client namespace; median of $RUNS runs (hyperfine -N)."
echo
echo "| scenario | command | wall (s) | result | netdx ÷ nmap |"
echo "|---|---|---:|---|---:|"
row() { echo "| $1 | \`$2\` | $3 | $4 | ${5:-} |"; }

rate_limit 0
a=$(timed "$NETDX" scan -n -p- $T); in_c "$NETDX" --json scan -n -p- $T > "$json.1"; ra=$(wrong tcp "$json.1")
b=$(timed nmap -n -Pn -sT -T5 -p- $T); in_c nmap -n -Pn -sT -T5 -p- -oX "$out" $T >/dev/null; rb=$(nmap_wrong tcp)
row "connect -p-, ICMP limit off" "netdx scan -p- $T" "$a" "$ra" "$(python3 -c "print('%.2f' % ($a/$b))")"
row "" "nmap -sT -T5 -p- $T" "$b" "$rb"
a=$(timed "$NETDX" scan -n --syn -p- $T); in_c "$NETDX" --json scan -n --syn -p- $T > "$json.1"; ra=$(wrong syn "$json.1")
b=$(timed nmap -n -Pn -sS -T5 -p- $T); in_c nmap -n -Pn -sS -T5 -p- -oX "$out" $T >/dev/null; rb=$(nmap_wrong syn)
row "SYN -p-, ICMP limit off" "netdx scan --syn -p- $T" "$a" "$ra" "$(python3 -c "print('%.2f' % ($a/$b))")"
row "" "nmap -sS -T5 -p- $T" "$b" "$rb"

rate_limit "$ICMP_INTERVAL_MS"
sleep 7 # the bucket refills (6 tokens) between rows
s=$(date +%s.%N); in_c "$NETDX" --json scan -n -p- $T > "$json.1"; a=$(python3 -c "import time; print('%.2f' % (time.time() - $s))"); ra=$(wrong tcp "$json.1")
sleep 7
s=$(date +%s.%N); in_c nmap -n -Pn -sT -T5 -p- -oX "$out" $T >/dev/null; b=$(python3 -c "import time; print('%.2f' % (time.time() - $s))"); rb=$(nmap_wrong tcp)
row "connect -p-, ICMP limit ${ICMP_INTERVAL_MS} ms (one run)" "netdx scan -p- $T" "$a" "$ra" "$(python3 -c "print('%.2f' % ($a/$b))")"
row "" "nmap -sT -T5 -p- $T" "$b" "$rb"

rate_limit "$EXACT_INTERVAL_MS"
sleep 1
# Physical bound: every ICMP answer past the burst of 6, one per interval.
s=$(date +%s.%N); in_c "$NETDX" --json scan -n --exact -p- $T > "$json.1"; a=$(python3 -c "import time; print('%.2f' % (time.time() - $s))"); ra=$(wrong tcp "$json.1")
bound=$(python3 -c "print('%.1f' % ((101 + 51 - 6) * $EXACT_INTERVAL_MS / 1000))")
row "connect --exact -p-, ICMP limit ${EXACT_INTERVAL_MS} ms" "netdx scan --exact -p- $T" "$a" "$ra; bound ${bound} s" "$(python3 -c "print('%.2f × bound' % ($a/$bound))")"
sleep 1
s=$(date +%s.%N); in_c "$NETDX" --json scan -n --udp --exact -p 1-1000 $T > "$json.1"; a=$(python3 -c "import time; print('%.2f' % (time.time() - $s))"); ra=$(wrong udp "$json.1")
bound=$(python3 -c "print('%.1f' % ((1000 - 2 - 1 - 6) * $EXACT_INTERVAL_MS / 1000))")
row "UDP --exact -p 1-1000, ICMP limit ${EXACT_INTERVAL_MS} ms" "netdx scan --udp --exact -p 1-1000 $T" "$a" "$ra; bound ${bound} s" "$(python3 -c "print('%.2f × bound' % ($a/$bound))")"

rate_limit 0
hosts="$T 10.9.31.0 10.9.31.1 10.9.31.2 10.9.31.3 10.9.31.4 10.9.31.5 10.9.31.6"
rss=$(in_c /usr/bin/time -f %M "$NETDX" scan -n --syn -p- $hosts 2>&1 >/dev/null | tail -1)
row "peak RSS, --syn, 8 hosts × 65,535 ports" "netdx scan --syn -p- (8 hosts)" "" "$((rss / 1024)) MiB" ""
rss=$(in_c /usr/bin/time -f %M "$NETDX" scan -n -p- $hosts 2>&1 >/dev/null | tail -1)
row "peak RSS, connect, 8 hosts × 65,535 ports" "netdx scan -p- (8 hosts)" "" "$((rss / 1024)) MiB" ""
