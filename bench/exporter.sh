#!/usr/bin/env bash
# netdx exporter beside Debian's prometheus-blackbox-exporter (issue 17), on
# bench/netns.sh's client/host pair: both exporters listen on the client
# namespace's loopback and probe the host (10.9.0.2), which also answers
# for 10.9.4.0/22 (1,024 addresses) for the fleet test.
#   1. /probe icmp (one packet) latency, scraped RUNS times each, alternately;
#      the RTT each reports against iputils ping's median to the same host,
#      and each tool's reported RTT against an ICMP tap's kernel stamps.
#   2. 1,000 targets × icmp with 5 packets, scraped every 15 s (ROUNDS
#      rounds after a warm-up), first by bench/exporter.py on a new
#      connection each, then by a real Prometheus: the exporter's CPU share
#      of one core and peak RSS.
# Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need prometheus prometheus-blackbox-exporter iputils-ping python3
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

# What each one reports against the wire: an ICMP tap on c0 records the
# kernel's stamps of each request leaving and its reply arriving
# (bench/icmp_rtt.py) while the tool sends RUNS echoes, one at a time.
tapped() {  # NAME COMMAND…: the tool's output in $dir/NAME.out, the tap's in $dir/NAME.tap
    local name=$1; shift
    ip netns exec $C python3 "$BENCH_DIR/icmp_rtt.py" c0 10.9.0.2 "$RUNS" 60 > "$dir/$name.tap" &
    local tap=$!
    for _ in $(seq 200); do grep -q ready "$dir/$name.tap" 2>/dev/null && break; sleep 0.05; done
    "$@" > "$dir/$name.out"
    wait $tap
}
true_us() { grep -v ready "$dir/$1.tap" | median; }
tapped netdx ip netns exec $C python3 "$BENCH_DIR/exporter.py" latency "http://127.0.0.1:9115/probe?module=icmp&target=10.9.0.2" "$RUNS" keepalive
tapped blackbox ip netns exec $C python3 "$BENCH_DIR/exporter.py" latency "http://127.0.0.1:9116/probe?module=icmp&target=10.9.0.2" "$RUNS" keepalive
tapped ping ip netns exec $C ping -n -c "$RUNS" -i 0.02 10.9.0.2
netdx_said=$(awk '{print $2}' "$dir/netdx.out"); blackbox_said=$(awk '{print $2}' "$dir/blackbox.out")
ping_said=$(awk -F'time=' '/time=/ {split($2, t, " "); print t[1] * 1000}' "$dir/ping.out" | median)
netdx_true=$(true_us netdx); blackbox_true=$(true_us blackbox); ping_true=$(true_us ping)
off() { python3 -c 'import sys; print("%+.1f µs" % (float(sys.argv[1]) - float(sys.argv[2])))' "$1" "$2"; }

ip netns exec $C "$NETDX" exporter --config "$dir/fleet.yml" --listen 127.0.0.1:9117 2>/dev/null &
fleet_pid=$!; pids+=($fleet_pid)
wait_http http://127.0.0.1:9117/metrics
read -r cpu rss failed < <(ip netns exec $C python3 "$BENCH_DIR/exporter.py" fleet "http://127.0.0.1:9117/probe?module=icmp5" 10.9.4.0 1000 15 "$ROUNDS" "$fleet_pid")

# The same fleet scraped by a real Prometheus (connections kept open, its
# own spreading of the targets over the interval), blackbox's relabelling.
python3 - "$dir/prometheus.yml" <<'PY'
import ipaddress, sys
first = ipaddress.ip_address("10.9.4.0")
targets = ", ".join("'%s'" % (first + i) for i in range(1000))
open(sys.argv[1], "w").write(f"""global:
  scrape_interval: 15s
  scrape_timeout: 10s
scrape_configs:
  - job_name: fleet
    metrics_path: /probe
    params:
      module: [icmp5]
    static_configs:
      - targets: [{targets}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:9117
""")
PY
ip netns exec $C prometheus --config.file "$dir/prometheus.yml" --storage.tsdb.path "$dir/data" --web.listen-address 127.0.0.1:9118 >/dev/null 2>&1 &
pids+=($!)
read -r pcpu prss pprobes pfailed pgood < <(ip netns exec $C python3 "$BENCH_DIR/exporter.py" prometheus http://127.0.0.1:9118 http://127.0.0.1:9117 1000 15 "$ROUNDS" "$fleet_pid")

echo "### exporter — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk '/version/ {print $3; exit}')"
echo
echo "Both exporters on the client namespace's loopback, probing the host over the veth pair (\`bench/exporter.sh\`)."
echo
echo "| measure | netdx | blackbox_exporter | ratio | target |"
echo "|---|---:|---:|---:|---|"
echo "| \`/probe\` icmp (1 packet) wall, connection kept open as Prometheus does, median of $RUNS (alternating batches of 10) | $ka ms | $kb ms | $(ratio "$ka" "$kb") | ≤ 0.5× |"
echo "| \`/probe\` icmp (1 packet) wall, a new connection each, median of $RUNS (alternating batches of 10) | $a ms | $b ms | $(ratio "$a" "$b") | ≤ 0.5× |"
echo "| reported RTT (probe_icmp_duration_seconds{phase=\"rtt\"}), median | $ra µs | $rb µs | — | within 10 µs of ping |"
echo "| iputils \`ping -c $RUNS -i 0.02\` median RTT | $ping_us µs | | netdx − ping = $(off "$ra" "$ping_us") | |"
echo
echo "Reported RTT against the wire: medians of $RUNS echoes each, one tool at a time, while an ICMP tap on c0 records the kernel's stamps of each request leaving and its reply arriving (\`bench/icmp_rtt.py\`)."
echo
echo "| tool | reported | true (tap) | reported − true | target |"
echo "|---|---:|---:|---:|---|"
echo "| netdx exporter, probe_icmp_duration_seconds{phase=\"rtt\"} | $netdx_said µs | $netdx_true µs | $(off "$netdx_said" "$netdx_true") | within 10 µs |"
echo "| blackbox_exporter, the same metric | $blackbox_said µs | $blackbox_true µs | $(off "$blackbox_said" "$blackbox_true") | |"
echo "| iputils ping -i 0.02, time= | $ping_said µs | $ping_true µs | $(off "$ping_said" "$ping_true") | |"
echo
echo "| 1,000 targets × icmp with 5 packets (interval 100 ms), scraped every 15 s, $ROUNDS rounds after a warm-up | netdx | target |"
echo "|---|---:|---|"
echo "| exporter CPU, % of one core, scraped by a real Prometheus | $pcpu % | ≤ 5 % |"
echo "| exporter CPU, % of one core, scraped by bench/exporter.py on a new connection each | $cpu % | ≤ 5 % |"
echo "| exporter peak RSS (VmHWM) | $prss MiB | ≤ 64 MiB |"
echo "| Prometheus: probes in the window, failed; targets with probe_success 1 at the end | $pprobes, $pfailed; $pgood of 1000 | all |"
echo "| bench/exporter.py: scrapes failed or without probe_success 1 | $failed of $((1000 * ROUNDS)) | 0 |"
