# A routed chain of namespaces for trace benches (sourced):
#   client 10.9.10.1 — 10.9.10.2 routerA 10.9.11.1 — 10.9.11.2 routerB 10.9.12.1 — 10.9.12.2 target
#   (IPv6: fd0a::1 — fd0a::2 A fd0b::1 — fd0b::2 B fd0c::1 — fd0c::2 target)
# Forwarding on in both routers, ICMP rate limits off so every probe is
# answered (the same for every tool compared). Removed on exit.
CHAIN_CLIENT=netdx-chain-client
CHAIN_A=netdx-chain-a
CHAIN_B=netdx-chain-b
CHAIN_TARGET=netdx-chain-target
CHAIN_TARGET_ADDR=10.9.12.2
CHAIN_TARGET_ADDR6=fd0c::2

chain_down() {
    for ns in "$CHAIN_CLIENT" "$CHAIN_A" "$CHAIN_B" "$CHAIN_TARGET"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}

chain_up() {
    chain_down
    for ns in "$CHAIN_CLIENT" "$CHAIN_A" "$CHAIN_B" "$CHAIN_TARGET"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=1000000 2>/dev/null || true
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_burst=1000000 2>/dev/null || true
    done
    ip -n "$CHAIN_CLIENT" link add c0 type veth peer name a0 netns "$CHAIN_A"
    ip -n "$CHAIN_A" link add a1 type veth peer name b0 netns "$CHAIN_B"
    ip -n "$CHAIN_B" link add b1 type veth peer name t0 netns "$CHAIN_TARGET"
    ip -n "$CHAIN_CLIENT" addr add 10.9.10.1/24 dev c0
    ip -n "$CHAIN_A" addr add 10.9.10.2/24 dev a0
    ip -n "$CHAIN_A" addr add 10.9.11.1/24 dev a1
    ip -n "$CHAIN_B" addr add 10.9.11.2/24 dev b0
    ip -n "$CHAIN_B" addr add 10.9.12.1/24 dev b1
    ip -n "$CHAIN_TARGET" addr add 10.9.12.2/24 dev t0
    ip -n "$CHAIN_CLIENT" addr add fd0a::1/64 dev c0 nodad
    ip -n "$CHAIN_A" addr add fd0a::2/64 dev a0 nodad
    ip -n "$CHAIN_A" addr add fd0b::1/64 dev a1 nodad
    ip -n "$CHAIN_B" addr add fd0b::2/64 dev b0 nodad
    ip -n "$CHAIN_B" addr add fd0c::1/64 dev b1 nodad
    ip -n "$CHAIN_TARGET" addr add fd0c::2/64 dev t0 nodad
    ip -n "$CHAIN_CLIENT" link set c0 up
    ip -n "$CHAIN_A" link set a0 up
    ip -n "$CHAIN_A" link set a1 up
    ip -n "$CHAIN_B" link set b0 up
    ip -n "$CHAIN_B" link set b1 up
    ip -n "$CHAIN_TARGET" link set t0 up
    ip netns exec "$CHAIN_A" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$CHAIN_B" sysctl -qw net.ipv4.ip_forward=1
    for ns in "$CHAIN_CLIENT" "$CHAIN_A" "$CHAIN_B" "$CHAIN_TARGET"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.icmp.ratelimit=0
    done
    ip netns exec "$CHAIN_A" sysctl -qw net.ipv6.conf.all.forwarding=1
    ip netns exec "$CHAIN_B" sysctl -qw net.ipv6.conf.all.forwarding=1
    ip -n "$CHAIN_CLIENT" route add default via 10.9.10.2
    ip -n "$CHAIN_A" route add 10.9.12.0/24 via 10.9.11.2
    ip -n "$CHAIN_B" route add 10.9.10.0/24 via 10.9.11.1
    ip -n "$CHAIN_TARGET" route add default via 10.9.12.1
    ip -n "$CHAIN_CLIENT" -6 route add default via fd0a::2
    ip -n "$CHAIN_A" -6 route add fd0c::/64 via fd0b::2
    ip -n "$CHAIN_B" -6 route add fd0a::/64 via fd0b::1
    ip -n "$CHAIN_TARGET" -6 route add default via fd0c::1
    # Neighbours resolved before anything is timed.
    in_chain_client ping -c 1 -W 2 "$CHAIN_TARGET_ADDR" >/dev/null 2>&1 || true
    in_chain_client ping -6 -c 1 -W 2 "$CHAIN_TARGET_ADDR6" >/dev/null 2>&1 || true
}

in_chain_client() {
    ip netns exec "$CHAIN_CLIENT" "$@"
}
