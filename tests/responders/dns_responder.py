#!/usr/bin/env python3
"""A scripted DNS server for netdx's resolver tests.

Usage: dns_responder.py ADDRESS LOG [LISTEN...]

Answers UDP and TCP queries on port 53 of ADDRESS from the fixed zone
below, appends "NAME TYPE" to LOG for every query it reads, and holds a TCP
listener on port 4000 of each LISTEN address so that a socket table has
addresses to name. Prints "ready" and runs until killed.

The zone:
  name.test          A 127.0.0.1, AAAA ::1
  alias.test         CNAME step.test; step.test CNAME far.test;
                     far.test A 127.0.0.42 (the whole chain in one answer)
  v6only.test        AAAA ::1 (no A)
  short.lab.test     A 127.0.0.43 (reached through "search lab.test")
  big.test           A 127.0.0.44; over UDP only a cut-short reply with TC
                     set, the answer itself over TCP
  PTR of 127.0.0.31  listener-ptr.test
  PTR of 10.9.11.2   hop-two.test
  anything else      NXDOMAIN
"""
import socket
import struct
import sys
import threading

A, CNAME, PTR, AAAA = 1, 5, 12, 28

ZONE = {
    ("name.test", A): [(A, "127.0.0.1")],
    ("name.test", AAAA): [(AAAA, "::1")],
    ("alias.test", A): [("alias.test", CNAME, "step.test"),
                        ("step.test", CNAME, "far.test"),
                        ("far.test", A, "127.0.0.42")],
    ("v6only.test", AAAA): [(AAAA, "::1")],
    ("short.lab.test", A): [(A, "127.0.0.43")],
    ("big.test", A): [(A, "127.0.0.44")],
    ("31.0.0.127.in-addr.arpa", PTR): [(PTR, "listener-ptr.test")],
    ("2.11.9.10.in-addr.arpa", PTR): [(PTR, "hop-two.test")],
}
# Names that exist (NOERROR, maybe no records of the type asked for).
EXISTING = {name for name, _ in ZONE} | {"step.test", "far.test"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_question(query):
    at, labels = 12, []
    while query[at]:
        length = query[at]
        labels.append(query[at + 1:at + 1 + length].decode("ascii", "replace"))
        at += 1 + length
    qtype, qclass = struct.unpack("!HH", query[at + 1:at + 5])
    return ".".join(labels).lower(), qtype, at + 5


def rdata(kind, value):
    if kind == A:
        return socket.inet_pton(socket.AF_INET, value)
    if kind == AAAA:
        return socket.inet_pton(socket.AF_INET6, value)
    return encode_name(value)


def answer(query, tcp):
    name, qtype, end = read_question(query)
    records = ZONE.get((name, qtype), [])
    rcode = 0 if name in EXISTING else 3
    truncated = name == "big.test" and not tcp
    if truncated:
        records = []
    body = b""
    for record in records:
        owner, kind, value = record if len(record) == 3 else (name, *record)
        data = rdata(kind, value)
        body += encode_name(owner) + struct.pack("!HHIH", kind, 1, 60, len(data)) + data
    flags = 0x8180 | rcode | (0x0200 if truncated else 0)
    header = query[:2] + struct.pack("!HHHHH", flags, 1, len(records), 0, 0)
    return header + query[12:end] + body, name, qtype


def serve_tcp(address, log):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, 53))
    listener.listen(8)
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                length = struct.unpack("!H", conn.recv(2, socket.MSG_WAITALL))[0]
                query = conn.recv(length, socket.MSG_WAITALL)
                reply, name, qtype = answer(query, tcp=True)
                log(f"{name} {qtype} tcp")
                conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, struct.error, IndexError):
                pass


def main():
    address, log_path, *listen = sys.argv[1:]
    log_file = open(log_path, "a", buffering=1)
    lock = threading.Lock()

    def log(line):
        with lock:
            log_file.write(line + "\n")

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((address, 53))
    threading.Thread(target=serve_tcp, args=(address, log), daemon=True).start()
    listeners = []
    for local in listen:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((local, 4000))
        listener.listen(1)
        listeners.append(listener)
    print("ready", flush=True)
    while True:
        query, peer = udp.recvfrom(4096)
        try:
            reply, name, qtype = answer(query, tcp=False)
        except (IndexError, struct.error, UnicodeError):
            continue
        log(f"{name} {qtype}")
        udp.sendto(reply, peer)


if __name__ == "__main__":
    main()
