# Namespace topology for the bench scripts (sourced): a client and a host on
# one veth link; the host answers for 10.9.2.0/25 and silently drops
# 10.9.2.128/25. Removed on exit.
BENCH_CLIENT=netdx-bench-client
BENCH_HOST=netdx-bench-host

bench_netns_down() {
    ip netns del "$BENCH_CLIENT" 2>/dev/null || true
    ip netns del "$BENCH_HOST" 2>/dev/null || true
}

bench_netns_up() {
    bench_netns_down
    ip netns add "$BENCH_CLIENT"
    ip netns add "$BENCH_HOST"
    ip -n "$BENCH_CLIENT" link set lo up
    ip -n "$BENCH_HOST" link set lo up
    ip -n "$BENCH_CLIENT" link add c0 type veth peer name h0 netns "$BENCH_HOST"
    ip -n "$BENCH_CLIENT" addr add 10.9.0.1/24 dev c0
    ip -n "$BENCH_HOST" addr add 10.9.0.2/24 dev h0
    ip -n "$BENCH_CLIENT" -6 addr add fd09::1/64 dev c0 nodad
    ip -n "$BENCH_HOST" -6 addr add fd09::2/64 dev h0 nodad
    ip -n "$BENCH_CLIENT" link set c0 up
    ip -n "$BENCH_HOST" link set h0 up
    ip -n "$BENCH_CLIENT" route add default via 10.9.0.2
    ip -n "$BENCH_HOST" route add local 10.9.2.0/25 dev lo
    ip -n "$BENCH_HOST" route add blackhole 10.9.2.128/25
}

in_client() {
    ip netns exec "$BENCH_CLIENT" "$@"
}

# The throughput servers on the host (netdx perf serve on 5301, iperf3 -s
# on 5201), killed with the namespaces on exit: sets BENCH_PIDS,
# NETDX_PERF_SERVER and IPERF3_SERVER, and waits until both accept.
# Extra "COMMAND…" arguments start more servers on the host first; the
# ports they listen on go in BENCH_EXTRA_PORTS.
bench_perf_servers_up() {
    BENCH_PIDS=()
    trap 'for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; bench_netns_down' EXIT
    bench_netns_up
    local extra
    for extra in "$@"; do
        # shellcheck disable=SC2086
        ip netns exec "$BENCH_HOST" $extra >/dev/null 2>&1 &
        BENCH_PIDS+=($!)
    done
    ip netns exec "$BENCH_HOST" "$NETDX" perf serve --bind 10.9.0.2:5301 >/dev/null 2>&1 &
    BENCH_PIDS+=($!); NETDX_PERF_SERVER=$!
    ip netns exec "$BENCH_HOST" iperf3 -s -B 10.9.0.2 -p 5201 >/dev/null 2>&1 &
    BENCH_PIDS+=($!); IPERF3_SERVER=$!
    local port
    for port in 5301 5201 ${BENCH_EXTRA_PORTS:-}; do
        for _ in $(seq 100); do
            in_client bash -c "echo > /dev/tcp/10.9.0.2/$port" 2>/dev/null && break
            sleep 0.05
        done
    done
}
