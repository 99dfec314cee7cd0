#!/usr/bin/env python3
"""Opens N idle TCP connections to HOST:PORT and holds them until killed.

Prints "ready N" once all are established (or "error …" if it can't)."""
import resource
import socket
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
try:
    for _ in range(count):
        s = socket.create_connection((host, port), timeout=10)
        held.append(s)
except OSError as err:
    print(f"error after {len(held)} connections: {err}", flush=True)
    sys.exit(1)
print(f"ready {len(held)}", flush=True)
while True:
    time.sleep(60)
