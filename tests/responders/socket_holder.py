#!/usr/bin/env python3
"""Holds a known set of sockets for netdx's netstat/port tests.

Opens, on loopback: a TCP listener and an established connection to it for
IPv4 and for IPv6, an unconnected UDP socket (IPv4), a connected UDP socket
(IPv6), a unix stream listener and a unix datagram socket. Forks a child
that keeps only the IPv4 listener (so that socket has two holders). Writes
a JSON description (pids, ports, and every socket's fd and inode) to the
file named by the first argument, prints "ready", and waits to be killed.
"""
import json
import os
import shutil
import socket
import sys
import tempfile
import time


def describe(name, sock, **facts):
    return dict(name=name, fd=sock.fileno(), inode=os.fstat(sock.fileno()).st_ino, **facts)


def main() -> None:
    out_path = sys.argv[1]
    keep = []
    described = []

    tcp4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp4.bind(("127.0.0.1", 0))
    tcp4.listen(16)
    tcp4_port = tcp4.getsockname()[1]
    tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp6.bind(("::1", 0))
    tcp6.listen(16)
    tcp6_port = tcp6.getsockname()[1]
    described += [describe("tcp4-listen", tcp4), describe("tcp6-listen", tcp6)]

    for family, address, listener, tag in [
        (socket.AF_INET, "127.0.0.1", tcp4, "tcp4"),
        (socket.AF_INET6, "::1", tcp6, "tcp6"),
    ]:
        client = socket.socket(family, socket.SOCK_STREAM)
        client.connect((address, listener.getsockname()[1]))
        server, _ = listener.accept()
        keep += [client, server]
        described += [
            describe(tag + "-client", client, local_port=client.getsockname()[1]),
            describe(tag + "-server", server, local_port=server.getsockname()[1]),
        ]

    udp4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp4.bind(("127.0.0.1", 0))
    udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    udp6.bind(("::1", 0))
    udp6.connect(("::1", 9))
    described += [
        describe("udp4-unconnected", udp4, local_port=udp4.getsockname()[1]),
        describe("udp6-connected", udp6, local_port=udp6.getsockname()[1]),
    ]

    # A directory of its own: a path named after the pid alone collides with
    # a file left by an earlier holder that was killed (SIGKILL skips the
    # unlink below) and had the same pid, and bind() then fails.
    socket_dir = tempfile.mkdtemp(prefix="netdx-holder-")
    unix_path = os.path.join(socket_dir, "stream.sock")
    unix_stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_stream.bind(unix_path)
    unix_stream.listen(4)
    unix_dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unix_dgram.bind(f"\0netdx-holder-{os.getpid()}")
    described += [
        describe("unix-stream-listen", unix_stream, path=unix_path),
        describe("unix-dgram", unix_dgram, path=f"@netdx-holder-{os.getpid()}"),
    ]
    keep += [tcp4, tcp6, udp4, udp6, unix_stream, unix_dgram]

    child = os.fork()
    if child == 0:
        # The child keeps only the IPv4 listener (and stdio).
        for entry in described:
            if entry["name"] != "tcp4-listen":
                try:
                    os.close(entry["fd"])
                except OSError:
                    pass
        while True:
            time.sleep(3600)

    with open(out_path, "w") as out:
        json.dump(
            dict(
                pid=os.getpid(),
                child=child,
                ports=dict(tcp4=tcp4_port, tcp6=tcp6_port),
                unix_path=unix_path,
                sockets=described,
            ),
            out,
        )
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
