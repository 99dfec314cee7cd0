#!/usr/bin/env python3
"""Creates PAIRS loopback TCP connections (2 x PAIRS sockets) spread over
2 x PROCS processes (PROCS servers, each accepting on its own port, and PROCS
clients), prints "ready", and holds them until killed. For bench/netstat.sh."""
import os
import resource
import socket
import sys
import time

pairs, procs = int(sys.argv[1]), int(sys.argv[2])
per = pairs // procs
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
for i in range(procs):
    port = 20000 + i
    ready_r, ready_w = os.pipe()
    if os.fork() == 0:
        os.close(ready_r)
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(4096)
        os.write(ready_w, b"x")
        held = [server.accept()[0] for _ in range(per)]
        time.sleep(1e6)
    os.close(ready_w)
    os.read(ready_r, 1)
    done_r, done_w = os.pipe()
    if os.fork() == 0:
        os.close(done_r)
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(per)]
        os.write(done_w, b"x")
        time.sleep(1e6)
    os.close(done_w)
    os.read(done_r, 1)
print("ready", flush=True)
time.sleep(1e6)
