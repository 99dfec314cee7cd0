#!/usr/bin/env python3
"""The true round trip of ICMP echoes on an interface, from the kernel's own
timestamps (bench/wiretap.py): every echo request leaving for TARGET and the
reply to it (same identifier and sequence). Runs until it has COUNT round
trips or TIMEOUT seconds pass; prints 'ready', then one round trip (µs) per
line, in the order the replies came.

usage: icmp_rtt.py IFACE TARGET COUNT TIMEOUT
"""
import socket, sys
from wiretap import frames

iface, target, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
want = socket.inet_aton(target)
sent = {}
rtts = []
for data, ts, outgoing in frames(iface, timeout, lambda: len(rtts) >= count):
    # Ethernet, IPv4, protocol ICMP.
    if len(data) < 42 or data[12:14] != b"\x08\x00" or data[23] != 1:
        continue
    icmp = 14 + (data[14] & 0x0F) * 4
    if len(data) < icmp + 8:
        continue
    kind = data[icmp]
    key = data[icmp + 4:icmp + 8]  # identifier and sequence
    if outgoing and kind == 8 and data[30:34] == want:
        sent[key] = ts
    elif not outgoing and kind == 0 and data[26:30] == want and key in sent:
        rtts.append((ts - sent.pop(key)) * 1e6)
for rtt in rtts:
    print("%.1f" % rtt)
