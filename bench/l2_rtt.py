#!/usr/bin/env python3
"""The true round trip of ARP requests on an interface, from the kernel's own
timestamps: a packet socket (ETH_P_ARP is not enough, outgoing frames only
reach ETH_P_ALL taps) records every request leaving for TARGET and every
reply from it, each with SO_TIMESTAMPNS. Runs until it sees COUNT replies or
TIMEOUT seconds pass; prints one round trip (ms) per line, request → reply.

usage: l2_rtt.py IFACE TARGET COUNT TIMEOUT   (prints 'ready' first)
"""
import socket, struct, sys, time

iface, target, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
SO_TIMESTAMPNS = 35
ETH_P_ALL = 0x0003
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((iface, ETH_P_ALL))
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.settimeout(0.2)
want = socket.inet_aton(target)
print("ready", flush=True)
sent_at = None
rtts = []
end = time.monotonic() + timeout
while len(rtts) < count and time.monotonic() < end:
    try:
        data, anc, _, addr = s.recvmsg(2048, 64)
    except socket.timeout:
        continue
    if len(data) < 42 or data[12:14] != b"\x08\x06":
        continue
    ts = None
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", value[:16])
            ts = sec + nsec / 1e9
    op = struct.unpack("!H", data[20:22])[0]
    outgoing = addr[2] == socket.PACKET_OUTGOING
    if outgoing and op == 1 and data[38:42] == want:
        sent_at = ts
    elif not outgoing and op == 2 and data[28:32] == want and sent_at is not None:
        rtts.append((ts - sent_at) * 1000)
        sent_at = None
for rtt in rtts:
    print("%.6f" % rtt)
