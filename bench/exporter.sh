#!/usr/bin/env bash
# netdx exporter beside Debian's prometheus-blackbox-exporter (issue 17), on
# bench/netns.sh's client/host pair: both exporters listen on the client
# namespace's loopback and probe the host (10.9.0.2), which also answers
# for 10.9.4.0/22 (1,024 addresses) for the fleet test.
#   1. /probe icmp (one packet) latency, scraped RUNS times each, alternately;
#      the RTT each reports against iputils ping's median to the same host.
#   2. 1,000 targets × icmp with 5 packets, scraped every 15 s (ROUNDS
#      rounds after a warm-up): the exporter's CPU share of one core and peak RSS.
# Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need prometheus-blackbox-exporter iputils-ping python3
build_netdx
source "$BENCH_DIR/netns.sh"
C=$BENCH_CLIENT
H=$BENCH_HOST
RUNS=${RUNS:-50}
ROUNDS=${ROUNDS:-4}
dir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    bench_netns_down
    rm -rf "$dir"
}
trap cleanup EXIT
bench_netns_up
ip -n "$H" route add local 10.9.4.0/22 dev lo
cat > "$dir/shared.yml" <<'YML'
modules:
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
YML
cat > "$dir/fleet.yml" <<'YML'
modules:
  icmp5:
    prober: icmp
    timeout: 10s
    icmp:
      preferred_ip_protocol: ip4
      packets: 5
      interval: 100ms
YML
wait_http() {
    for _ in $(seq 200); do
        ip netns exec $C python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing answers at $1" >&2; exit 1
}
ip netns exec $C "$NETDX" exporter --config "$dir/shared.yml" --listen 127.0.0.1:9115 2>/dev/null &
pids+=($!)
ip netns exec $C prometheus-blackbox-exporter --config.file "$dir/shared.yml" --web.listen-address 127.0.0.1:9116 2>/dev/null &
pids+=($!)
wait_http http://127.0.0.1:9115/metrics
wait_http http://127.0.0.1:9116/metrics

# Alternate batches of 10 so both see the same machine: each scrape on a
# new connection, then on one kept open (as Prometheus keeps its own).
ours=(); theirs=(); our_rtt=(); their_rtt=(); ours_ka=(); theirs_ka=()
for _ in $(seq $((RUNS / 10))); do
    read -r w r < <(ip netns exec $C python3 "$BENCH_DIR/exporter.py" latency "http://127.0.0.1:9115/probe?module=icmp&target=10.9.0.2" 10)
    ours+=("$w"); our_rtt+=("$r")
    read -r w r < <(ip netns exec $C python3 "$BENCH_DIR/exporter.py" latency "http://127.0.0.1:9116/probe?module=icmp&target=10.9.0.2" 10)
    theirs+=("$w"); their_rtt+=("$r")
    read -r w r < <(ip netns exec $C python3 "$BENCH_DIR/exporter.py" latency "http://127.0.0.1:9115/probe?module=icmp&target=10.9.0.2" 10 keepalive)
    ours_ka+=("$w")
    read -r w r < <(ip netns exec $C python3 "$BENCH_DIR/exporter.py" latency "http://127.0.0.1:9116/probe?module=icmp&target=10.9.0.2" 10 keepalive)
    theirs_ka+=("$w")
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${theirs[@]}" | median)
ka=$(printf '%s\n' "${ours_ka[@]}" | median); kb=$(printf '%s\n' "${theirs_ka[@]}" | median)
ra=$(printf '%s\n' "${our_rtt[@]}" | median); rb=$(printf '%s\n' "${their_rtt[@]}" | median)
ping_us=$(ip netns exec $C ping -n -c "$RUNS" -i 0.02 10.9.0.2 | awk -F'time=' '/time=/ {split($2, t, " "); print t[1] * 1000}' | median)

ip netns exec $C "$NETDX" exporter --config "$dir/fleet.yml" --listen 127.0.0.1:9117 2>/dev/null &
fleet_pid=$!; pids+=($fleet_pid)
wait_http http://127.0.0.1:9117/metrics
read -r cpu rss failed < <(ip netns exec $C python3 "$BENCH_DIR/exporter.py" fleet "http://127.0.0.1:9117/probe?module=icmp5" 10.9.4.0 1000 15 "$ROUNDS" "$fleet_pid")

echo "### exporter — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk '/version/ {print $3; exit}')"
echo
echo "Both exporters on the client namespace's loopback, probing the host over the veth pair (\`bench/exporter.sh\`)."
echo
echo "| measure | netdx | blackbox_exporter | ratio | target |"
echo "|---|---:|---:|---:|---|"
echo "| \`/probe\` icmp (1 packet) wall, connection kept open as Prometheus does, median of $RUNS (alternating batches of 10) | $ka ms | $kb ms | $(ratio "$ka" "$kb") | ≤ 0.5× |"
echo "| \`/probe\` icmp (1 packet) wall, a new connection each, median of $RUNS (alternating batches of 10) | $a ms | $b ms | $(ratio "$a" "$b") | ≤ 0.5× |"
echo "| reported RTT (probe_icmp_duration_seconds{phase=\"rtt\"}), median | $ra µs | $rb µs | — | within 10 µs of ping |"
echo "| iputils \`ping -c $RUNS -i 0.02\` median RTT | $ping_us µs | | netdx − ping = $(python3 -c 'import sys; print("%+.1f µs" % (float(sys.argv[1]) - float(sys.argv[2])))' "$ra" "$ping_us") | |"
echo
echo "| 1,000 targets × icmp with 5 packets (interval 100 ms), scraped every 15 s, $ROUNDS rounds after a warm-up | netdx | target |"
echo "|---|---:|---|"
echo "| exporter CPU, % of one core | $cpu % | ≤ 5 % |"
echo "| exporter peak RSS (VmHWM) | $rss MiB | ≤ 64 MiB |"
echo "| scrapes failed or without probe_success 1 | $failed of $((1000 * ROUNDS)) | 0 |"
