#!/usr/bin/env python3
"""A hostile DNS server on UDP ADDR:PORT, for tests. To every query it
sends, in order: the right answer under a wrong ID, a message with the
right ID whose answer name is a compression loop, a message with the
right ID for another question, a datagram cut off mid-record, and only
then the right answer (A 192.0.2.99). Prints "ready" once bound.

Usage: dns_liar.py ADDR PORT
"""
import socket
import struct
import sys


def question_end(query):
    at = 12
    while query[at] != 0:
        at += 1 + query[at]
    return at + 1 + 4


def answer(query, qid, rr):
    flags = 0x8180  # qr rd ra, NOERROR
    head = struct.pack(">HHHHHH", qid, flags, 1, 1, 0, 0)
    return head + query[12:question_end(query)] + rr


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    print("ready", flush=True)
    good_rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 99])
    # A name that points at itself: offset of the record's own name.
    while True:
        query, peer = sock.recvfrom(4096)
        if len(query) < 17:
            continue
        qid = struct.unpack(">H", query[:2])[0]
        end = question_end(query)
        loop_at = end  # the answer record starts right after the question
        loop_rr = struct.pack(">H", 0xC000 | loop_at) + struct.pack(">HHIH", 1, 1, 60, 4) + bytes(4)
        other_q = bytearray(query[:end])
        other_q[13] ^= 0x01  # a different first letter: another question
        other = struct.pack(">HHHHHH", qid, 0x8180, 1, 0, 0, 0) + bytes(other_q[12:end])
        sock.sendto(answer(query, qid ^ 0x5A5A, good_rr), peer)
        sock.sendto(answer(query, qid, loop_rr), peer)
        sock.sendto(other, peer)
        sock.sendto(answer(query, qid, good_rr)[:-3], peer)
        sock.sendto(answer(query, qid, good_rr), peer)


if __name__ == "__main__":
    main()
