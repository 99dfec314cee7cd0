#!/usr/bin/env python3
"""Crowds one loopback port for netdx's port tests: a TCP listener with
CONNECTIONS connections to it (both ends held by this process), one
accepted socket passed over a unix socket to a child that keeps it at a
descriptor of its own (SCM_RIGHTS), and a forked child sharing the
listener. Writes what it holds, every (inode, pid, fd) on the port, as JSON
to the file named by the first argument, prints "ready", and waits to be
killed. Usage: crowded_port.py OUT.json CONNECTIONS
"""
import json
import os
import resource
import socket
import sys
import time


def holder(sock, pid=None, fd=None):
    return dict(
        inode=os.fstat(sock.fileno()).st_ino,
        pid=pid if pid is not None else os.getpid(),
        fd=fd if fd is not None else sock.fileno(),
    )


def main() -> None:
    out_path, connections = sys.argv[1], int(sys.argv[2])
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(connections)
    port = listener.getsockname()[1]
    clients, servers = [], []
    for _ in range(connections):
        clients.append(socket.create_connection(("127.0.0.1", port)))
        servers.append(listener.accept()[0])

    # The child that is handed one accepted socket: it reports the
    # descriptor the socket arrived at, then holds it.
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    receiver = os.fork()
    if receiver == 0:
        listener.close()
        for sock in clients + servers:
            sock.close()
        parent_end.close()
        _, fds, _, _ = socket.recv_fds(child_end, 1, 1)
        child_end.sendall(str(fds[0]).encode())
        while True:
            time.sleep(3600)
    child_end.close()
    socket.send_fds(parent_end, [b"x"], [servers[0].fileno()])
    passed_fd = int(parent_end.recv(16))

    # The child that shares the listener, as a pre-forking server's workers do.
    sharer = os.fork()
    if sharer == 0:
        for sock in clients + servers:
            sock.close()
        while True:
            time.sleep(3600)

    holders = [holder(listener), holder(listener, pid=sharer)]
    holders += [holder(sock) for sock in clients + servers]
    holders.append(holder(servers[0], pid=receiver, fd=passed_fd))
    with open(out_path, "w") as out:
        json.dump(dict(port=port, pid=os.getpid(), holders=holders), out)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
