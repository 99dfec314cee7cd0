#!/usr/bin/env bash
# netdx ifconfig -a against ifconfig -a and ip -s addr: wall time (hyperfine,
# same run) and peak RSS, on this machine and in a namespace holding 100
# addressed veth interfaces. Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need net-tools iproute2 hyperfine time
build_netdx

NS=netdx-bench-ifconfig
json=$(mktemp --suffix .json)
cleanup() { rm -f "$json"; ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT

# scenario LABEL [PREFIX…]: PREFIX runs each command (e.g. inside a namespace)
scenario() {
    local label=$1; shift
    local prefix=("$@")
    "${prefix[@]}" hyperfine -N --warmup 50 --runs 1000 --export-json "$json" \
        "$NETDX ifconfig -a" "ifconfig -a" "ip -s addr" >/dev/null 2>&1
    local netdx_ms ifconfig_ms ip_ms netdx_rss ifconfig_rss ip_rss count
    netdx_ms=$(median_ms "$json" 0)
    ifconfig_ms=$(median_ms "$json" 1)
    ip_ms=$(median_ms "$json" 2)
    netdx_rss=$(peak_rss_kb 51 "${prefix[@]}" "$NETDX" ifconfig -a)
    ifconfig_rss=$(peak_rss_kb 51 "${prefix[@]}" ifconfig -a)
    ip_rss=$(peak_rss_kb 51 "${prefix[@]}" ip -s addr)
    count=$("${prefix[@]}" ip -o link | wc -l)
    cat <<OUT
#### $label ($count interfaces)

| command | median wall | peak RSS | netdx ratio (wall / RSS) | target |
|---|---:|---:|---:|---|
| \`netdx ifconfig -a\` | ${netdx_ms} ms | ${netdx_rss} KiB | — | |
| \`ifconfig -a\` | ${ifconfig_ms} ms | ${ifconfig_rss} KiB | $(ratio "$netdx_ms" "$ifconfig_ms")× / $(ratio "$netdx_rss" "$ifconfig_rss")× | ≤ 1.5× / ≤ 2× |
| \`ip -s addr\` | ${ip_ms} ms | ${ip_rss} KiB | $(ratio "$netdx_ms" "$ip_ms")× / $(ratio "$netdx_rss" "$ip_rss")× | ≤ 1.5× / ≤ 2× |

OUT
}

echo "### ifconfig — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
scenario "this machine"

ip netns add "$NS"
ip -n "$NS" link set lo up
for i in $(seq 1 50); do
    ip -n "$NS" link add "va$i" type veth peer name "vb$i"
    for end in a b; do
        n=$([ "$end" = a ] && echo 1 || echo 2)
        ip -n "$NS" addr add "10.200.$i.$n/24" dev "v$end$i"
        ip -n "$NS" addr add "fd00:200:$i::$n/64" dev "v$end$i" nodad
        ip -n "$NS" link set "v$end$i" up
    done
done
scenario "namespace with 50 veth pairs, each end addressed" ip netns exec "$NS"
