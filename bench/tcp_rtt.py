#!/usr/bin/env python3
"""The true handshake round trips on an interface, from the kernel's own
timestamps (bench/wiretap.py): every SYN leaving for TARGET:PORT and the
SYN-ACK (or RST) coming back to the same source port. Runs until it has COUNT
answers or TIMEOUT seconds pass; prints one round trip (ms) per line, in order.

usage: tcp_rtt.py IFACE TARGET PORT COUNT TIMEOUT   (prints 'ready' first)
"""
import socket, struct, sys
from wiretap import frames

iface, target, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
count, timeout = int(sys.argv[4]), float(sys.argv[5])
want = socket.inet_aton(target)
syn_at = {}
rtts = []
for data, ts, outgoing in frames(iface, timeout, lambda: len(rtts) >= count):
    if len(data) < 54 or data[12:14] != b"\x08\x00" or data[23] != 6:
        continue
    ihl = (data[14] & 0x0F) * 4
    tcp = 14 + ihl
    sport, dport = struct.unpack("!HH", data[tcp:tcp + 4])
    flags = data[tcp + 13]
    if outgoing and data[30:34] == want and dport == port and flags & 0x12 == 0x02:
        syn_at.setdefault(sport, ts)
    elif not outgoing and data[26:30] == want and sport == port and dport in syn_at:
        rtts.append((ts - syn_at.pop(dport)) * 1000)
for rtt in rtts:
    print("%.6f" % rtt)
