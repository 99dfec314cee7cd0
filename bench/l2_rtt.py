#!/usr/bin/env python3
"""The true round trip of ARP requests on an interface, from the kernel's own
timestamps (bench/wiretap.py; ETH_P_ARP is not enough, outgoing frames only
reach ETH_P_ALL taps): every request leaving for TARGET and every reply from
it. Runs until it sees COUNT replies or TIMEOUT seconds pass; prints one round
trip (ms) per line, request → reply.

usage: l2_rtt.py IFACE TARGET COUNT TIMEOUT   (prints 'ready' first)
"""
import socket, struct, sys
from wiretap import frames

iface, target, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
want = socket.inet_aton(target)
sent_at = None
rtts = []
for data, ts, outgoing in frames(iface, timeout, lambda: len(rtts) >= count):
    if len(data) < 42 or data[12:14] != b"\x08\x06":
        continue
    op = struct.unpack("!H", data[20:22])[0]
    if outgoing and op == 1 and data[38:42] == want:
        sent_at = ts
    elif not outgoing and op == 2 and data[28:32] == want and sent_at is not None:
        rtts.append((ts - sent_at) * 1000)
        sent_at = None
for rtt in rtts:
    print("%.6f" % rtt)
