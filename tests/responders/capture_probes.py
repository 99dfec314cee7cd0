#!/usr/bin/env python3
"""Records the IPv4 and IPv6 packets leaving an interface, for checking
what a tool put on the wire.

usage: capture_probes.py IFACE OUT_FILE SECONDS

Prints "ready" once the packet socket is open, then writes one JSON object
per outgoing IP packet to OUT_FILE (protocol, ttl, ports and checksum for
UDP/TCP, type/ident/seq for ICMP; for IPv6 the next header as protocol, the
hop limit as ttl, and the flow label) until SECONDS have passed. Bounded: it
always stops by itself.
"""
import json
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_ALL = 0x0003  # outgoing packets reach only ETH_P_ALL taps
PACKET_OUTGOING = 4


def main():
    iface, out_path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    sock.bind((iface, ETH_P_ALL))
    sock.settimeout(0.05)
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    with open(out_path, "w") as out:
        while time.monotonic() < deadline:
            try:
                data, address = sock.recvfrom(65535)
            except socket.timeout:
                continue
            if address[2] != PACKET_OUTGOING:
                continue
            if address[1] == ETH_P_IP and len(data) >= 20:
                ihl = (data[0] & 0x0F) * 4
                ttl, proto = data[8], data[9]
                record = {"protocol": proto, "ttl": ttl, "dst": socket.inet_ntoa(data[16:20])}
                rest = data[ihl:]
                icmp = 1
            elif address[1] == ETH_P_IPV6 and len(data) >= 40:
                proto, ttl = data[6], data[7]
                record = {"protocol": proto, "ttl": ttl,
                          "dst": socket.inet_ntop(socket.AF_INET6, data[24:40]),
                          "flow_label": struct.unpack("!I", data[0:4])[0] & 0xFFFFF}
                rest = data[40:]
                icmp = 58
            else:
                continue
            if proto in (6, 17) and len(rest) >= 8:
                sport, dport = struct.unpack("!HH", rest[:4])
                record.update(sport=sport, dport=dport)
                if proto == 17:
                    record["checksum"] = struct.unpack("!H", rest[6:8])[0]
                elif len(rest) >= 8:
                    record["seq"] = struct.unpack("!I", rest[4:8])[0]
            elif proto == icmp and len(rest) >= 8:
                record.update(type=rest[0], ident=struct.unpack("!H", rest[4:6])[0],
                              seq=struct.unpack("!H", rest[6:8])[0])
            out.write(json.dumps(record) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
