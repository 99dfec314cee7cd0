#!/usr/bin/env python3
"""The open ports of netdx's scan target (tests/common/scan_target.rs).

Usage: scan_responder.py [--tcp PORTS] [--udp PORTS] [--silent-udp PORTS]
                         [--banner PORT=TEXT]...

PORTS is a comma-separated list. Every socket listens on the IPv6 wildcard
with IPV6_V6ONLY off, so it answers on the target's IPv4 and IPv6 addresses.

  --tcp         TCP listeners: each connection is accepted, greeted with its
                banner if it has one (TEXT with \\r and \\n escapes), and closed
                when the peer closes (or after 5 s), so a connect scan never
                fills the accept queue.
  --udp         UDP responders: each datagram is answered with itself, and
                an empty one with "netdx-udp\\n" (a scanner's empty probe
                still gets a reply, so the port is open).
  --silent-udp  UDP sockets that read and never answer (nmap: open|filtered).

Prints "ready" once every socket is bound, and runs until killed.
"""
import argparse
import selectors
import socket
import sys
import time


def ports(text):
    return [int(p) for p in text.split(",") if p] if text else []


def bound(kind, port):
    sock = socket.socket(socket.AF_INET6, kind)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("::", port))
    sock.setblocking(False)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tcp", default="")
    parser.add_argument("--udp", default="")
    parser.add_argument("--silent-udp", default="")
    parser.add_argument("--banner", action="append", default=[])
    args = parser.parse_args()
    banners = {}
    for entry in args.banner:
        port, text = entry.split("=", 1)
        banners[int(port)] = text.replace("\\r", "\r").replace("\\n", "\n").encode()

    selector = selectors.DefaultSelector()
    for port in ports(args.tcp):
        listener = bound(socket.SOCK_STREAM, port)
        listener.listen(4096)
        selector.register(listener, selectors.EVENT_READ, ("listen", port))
    for port in ports(args.udp):
        selector.register(bound(socket.SOCK_DGRAM, port), selectors.EVENT_READ, ("udp", port))
    for port in ports(args.silent_udp):
        selector.register(bound(socket.SOCK_DGRAM, port), selectors.EVENT_READ, ("silent", port))
    print("ready", flush=True)

    opened = {}
    while True:
        for key, _ in selector.select(timeout=1.0):
            role, port = key.data
            sock = key.fileobj
            try:
                if role == "listen":
                    conn, _ = sock.accept()
                    conn.setblocking(False)
                    if port in banners:
                        try:
                            conn.send(banners[port])
                        except OSError:
                            pass
                    selector.register(conn, selectors.EVENT_READ, ("conn", port))
                    opened[conn] = time.monotonic()
                elif role == "conn":
                    if not sock.recv(4096):
                        raise ConnectionResetError
                elif role == "udp":
                    data, peer = sock.recvfrom(65535)
                    sock.sendto(data or b"netdx-udp\n", peer)
                else:
                    sock.recvfrom(65535)
            except BlockingIOError:
                pass
            except OSError:
                if role == "conn":
                    selector.unregister(sock)
                    opened.pop(sock, None)
                    sock.close()
        now = time.monotonic()
        for conn, since in list(opened.items()):
            if now - since > 5:
                selector.unregister(conn)
                del opened[conn]
                conn.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
