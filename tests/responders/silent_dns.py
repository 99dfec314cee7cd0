#!/usr/bin/env python3
"""A DNS server that never answers, for netdx's reverse-lookup deadline tests.

Binds UDP port 53 on the address given first, appends one line to the file
given second for every query it reads, and drops the query. Holds a TCP
listener on port 4000 of each further address given, so that a socket table
has addresses to name. Prints "ready" and runs until killed.
"""
import socket
import sys


def main() -> None:
    address, log_path, *listen = sys.argv[1:]
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((address, 53))
    listeners = []
    for local in listen:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((local, 4000))
        listener.listen(1)
        listeners.append(listener)
    print("ready", flush=True)
    with open(log_path, "a", buffering=1) as log:
        while True:
            query, peer = dns.recvfrom(4096)
            log.write(f"{len(query)} bytes from {peer[0]}\n")


if __name__ == "__main__":
    main()
