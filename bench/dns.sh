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
