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
