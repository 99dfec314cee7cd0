#!/usr/bin/env python3
"""Does zero-copy sending help on this link? One TCP stream over the bench
namespaces' veth pair (bench/netns.sh, made by bench/zerocopy.sh), sent
three ways by the same loop: write() from a buffer, send(MSG_ZEROCOPY)
(SO_ZEROCOPY, completions drained from the error queue), and sendfile(2)
from a file in memory (what `netdx perf run -Z` does). The receiver is a
plain recv() loop in the host namespace. Runs alternate; medians.

For MSG_ZEROCOPY the kernel says in each completion whether it had to copy
after all (SO_EE_CODE_ZEROCOPY_COPIED): the share of sends it copied is
printed too.

usage: zerocopy.py sink PORT | send HOST PORT MODE SECS
"""
import os
import socket
import struct
import sys
import time

SO_ZEROCOPY = 60
MSG_ZEROCOPY = 0x4000000
SO_EE_ORIGIN_ZEROCOPY = 5
SO_EE_CODE_ZEROCOPY_COPIED = 1
LENGTH = 128 * 1024


def sink(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(8)
    buffer = bytearray(256 * 1024)
    while True:
        conn, _ = listener.accept()
        total = 0
        while True:
            n = conn.recv_into(buffer)
            if n == 0:
                break
            total += n
        conn.sendall(struct.pack("!Q", total))
        conn.close()


def drain(sock, counts):
    """Reads zero-copy completions: (sends completed, of which copied)."""
    while True:
        try:
            _, ancdata, _, _ = sock.recvmsg(0, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        for level, kind, data in ancdata:
            # struct sock_extended_err: u32 errno, u8 origin, type, code, pad, u32 info, u32 data
            _, origin, _, code, _, info, high = struct.unpack("=IBBBBII", data[:16])
            if origin != SO_EE_ORIGIN_ZEROCOPY:
                continue
            done = high - info + 1
            counts[0] += done
            if code == SO_EE_CODE_ZEROCOPY_COPIED:
                counts[1] += done


def send(host, port, mode, seconds):
    sock = socket.create_connection((host, port))
    payload = bytes(i % 251 for i in range(LENGTH))
    counts = [0, 0]
    fd = None
    if mode == "msg_zerocopy":
        sock.setsockopt(socket.SOL_SOCKET, SO_ZEROCOPY, 1)
    if mode == "sendfile":
        fd = os.memfd_create("zerocopy-bench")
        os.write(fd, payload)
    sent = 0
    calls = 0
    start = time.monotonic()
    deadline = start + seconds
    while time.monotonic() < deadline:
        if mode == "write":
            sent += sock.send(payload)
        elif mode == "sendfile":
            sent += os.sendfile(sock.fileno(), fd, 0, LENGTH)
        else:
            try:
                sent += sock.send(payload, MSG_ZEROCOPY)
            except OSError as err:  # ENOBUFS: too many completions pending
                if err.errno != 105:
                    raise
            calls += 1
            if calls % 16 == 0:
                drain(sock, counts)
    sock.shutdown(socket.SHUT_WR)
    received = struct.unpack("!Q", sock.recv(8))[0]
    elapsed = time.monotonic() - start
    if mode == "msg_zerocopy":
        drain(sock, counts)
    copied = counts[1] / counts[0] if counts[0] else float("nan")
    print("%.3f %.3f" % (received * 8 / elapsed / 1e9, copied))


if __name__ == "__main__":
    if sys.argv[1] == "sink":
        sink(int(sys.argv[2]))
    else:
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
