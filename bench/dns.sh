#!/usr/bin/env bash
# netdx dns against dig, one query to NSD in a namespace (never the
# machine's own resolver): the wall time of `+short` lookups, both
# started by hyperfine -N in the client namespace, same run. Prints
# markdown for BENCHMARKS.md.
#
# RUNS (default 200) timed runs per command.
source "$(dirname "$0")/lib.sh"
need hyperfine nsd bind9-dnsutils python3
build_netdx
RUNS=${RUNS:-200}
C=bdns-client S=bdns-server
A=10.9.40.2
dir= json=
down() {
    ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    ip netns del "$S" 2>/dev/null || true
    if [ -n "$dir" ]; then rm -rf "$dir" "$json"; fi
}
trap down EXIT
down
dir=$(mktemp -d)
json=$(mktemp --suffix .json)
ip netns add "$C"; ip netns add "$S"
ip link add bdc0 netns "$C" type veth peer name bds0 netns "$S"
ip -n "$C" addr add 10.9.40.1/24 dev bdc0; ip -n "$C" link set bdc0 up; ip -n "$C" link set lo up
ip -n "$S" addr add $A/24 dev bds0; ip -n "$S" link set bds0 up; ip -n "$S" link set lo up
cat > "$dir/example.test.zone" <<'ZONE'
$ORIGIN example.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 604800 300
@    NS  ns1
ns1  A   10.9.40.2
@    A   192.0.2.10
@    MX  10 mail
mail A   192.0.2.25
ZONE
cat > "$dir/nsd.conf" <<CONF
server:
  ip-address: $A@53
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$dir"
  database: ""
  zonelistfile: "$dir/zone.list"
  xfrdfile: ""
  xfrdir: "$dir"
  pidfile: ""
  server-count: 1
  verbosity: 0
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: example.test.zone
CONF
ip netns exec "$S" nsd -d -c "$dir/nsd.conf" >/dev/null 2>&1 &
for _ in $(seq 100); do
    ip netns exec "$C" dig @$A example.test +short +time=1 +tries=1 2>/dev/null | grep -q 192.0.2.10 && break
    sleep 0.1
done

echo "### dns — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), $(dig -v 2>&1 | head -1)"
echo
echo "One query for example.test to NSD in a namespace; median of $RUNS runs (hyperfine -N, in the client namespace)."
echo
echo "| command | median (ms) | ÷ dig |"
echo "|---|---:|---:|"
for type in A MX; do
    ip netns exec "$C" hyperfine -N -w 20 --runs "$RUNS" --export-json "$json" \
        "$NETDX dns @$A example.test $type +short" "dig @$A example.test $type +short" >/dev/null 2>&1
    a=$(median_ms "$json" 0); b=$(median_ms "$json" 1)
    echo "| \`netdx dns @$A example.test $type +short\` | $a | $(python3 -c "print('%.2f' % ($a/$b))") |"
    echo "| \`dig @$A example.test $type +short\` | $b | 1 |"
done

# Bulk: NAMES names from a file (every tenth one absent, so NXDOMAIN
# answers are part of the load), netdx --file against dig -f, answers
# compared; then peak RSS for BIG names.
NAMES=${NAMES:-10000}
BIG=${BIG:-100000}
list=$dir/names.txt
python3 - "$list" "$BIG" "$dir/example.test.zone" <<'PY'
import sys
path, big, zone = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(zone, "a") as z:
    for i in range(big):
        if i % 10:
            z.write(f"h{i} A 198.18.{(i >> 8) & 255}.{i & 255}\n")
with open(path, "w") as f:
    for i in range(big):
        f.write(f"h{i}.example.test\n")
PY
head -n "$NAMES" "$list" > "$list.head"
ip netns pids "$S" | xargs -r kill; sleep 0.5
ip netns exec "$S" nsd -d -c "$dir/nsd.conf" >/dev/null 2>&1 &
for _ in $(seq 300); do
    ip netns exec "$C" dig @$A h1.example.test +short +time=1 +tries=1 2>/dev/null | grep -q 198.18 && break
    sleep 0.1
done
ip netns exec "$C" hyperfine -N -i -w 1 --runs 5 --export-json "$json" \
    "$NETDX dns @$A --file $list.head" "dig @$A -f $list.head +short" >/dev/null 2>&1
a=$(median_ms "$json" 0); b=$(median_ms "$json" 1)
same=$(diff <(ip netns exec "$C" "$NETDX" dns @$A --file "$list.head" | grep -v '^;;' | awk -F'\t' '$2=="A" && $3 !~ /^[A-Z]+$/ {print $3}' | sort) \
            <(ip netns exec "$C" dig @$A -f "$list.head" +short | sort) >/dev/null && echo "identical" || echo "DIFFERENT")
echo
echo "Bulk: $NAMES names from a file (one in ten NXDOMAIN), median of 5 runs; answers $same."
echo
echo "| command | median (ms) | names/s | ÷ dig |"
echo "|---|---:|---:|---:|"
echo "| \`netdx dns @$A --file names.txt\` | $a | $(python3 -c "print('%.0f' % ($NAMES / $a * 1000))") | $(python3 -c "print('%.3f' % ($a/$b))") |"
echo "| \`dig @$A -f names.txt +short\` | $b | $(python3 -c "print('%.0f' % ($NAMES / $b * 1000))") | 1 |"
rss=$( (ip netns exec "$C" /usr/bin/time -f %M "$NETDX" dns @$A --file "$list" 2>&1 >/dev/null || true) | tail -1)
echo
echo "Peak RSS, $BIG names from a file (text output): $((rss / 1024)) MiB."
