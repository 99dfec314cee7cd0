#!/usr/bin/env python3
"""A scan target's services: TCP listeners (the first greets with an SSH
banner), UDP responders that answer any datagram. Dual-stack. Prints
`ready` once every socket is bound.

usage: scan_target.py TCP_PORTS UDP_PORTS   (comma-separated)
"""
import select
import socket
import sys

tcp_ports = [int(p) for p in sys.argv[1].split(",") if p]
udp_ports = [int(p) for p in sys.argv[2].split(",") if p]
GREETING = b"SSH-2.0-netdx-test\r\n"

listeners = {}
for i, port in enumerate(tcp_ports):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(1024)
    listeners[s.fileno()] = (s, i == 0)
udps = {}
for port in udp_ports:
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind(("::", port))
    udps[u.fileno()] = u
print("ready", flush=True)
poller = select.poll()
for fd in list(listeners) + list(udps):
    poller.register(fd, select.POLLIN)
while True:
    for fd, _ in poller.poll():
        if fd in listeners:
            s, greets = listeners[fd]
            try:
                conn, _ = s.accept()
            except OSError:
                continue
            if greets:
                try:
                    conn.send(GREETING)
                except OSError:
                    pass
            conn.close()
        else:
            u = udps[fd]
            try:
                data, peer = u.recvfrom(2048)
                u.sendto(b"netdx-test-reply", peer)
            except OSError:
                pass
