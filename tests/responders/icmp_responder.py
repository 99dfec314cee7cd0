#!/usr/bin/env python3
"""Scripted ICMP echo responder for netdx's tests.

Runs inside a test namespace whose kernel no longer answers pings
(net.ipv4.icmp_echo_ignore_all=1) and answers instead, misbehaving on
purpose. The first argument is a comma-separated list of actions; the
request with icmp_seq N gets action N-1 (cycling):

  echo        a correct reply
  dup         the same correct reply twice
  badsum      a reply whose ICMP checksum is wrong
  foreign     a correct reply carrying another identifier
  truncate    a correct reply with only half the data
  corrupt     a correct reply with one data byte changed
  late:SECS   a correct reply, SECS seconds later
  unreach     ICMP Destination Host Unreachable quoting the request
  short       a 4-byte ICMP message (too short to be an echo reply)
  pad:N       a reply whose data is the request's followed by N more bytes
  options     a correct reply in an IP header carrying options (Record
              Route), so the header is longer than 20 bytes
  drop        nothing

It prints "ready" once its socket is open, and one line per action taken.
"""
import socket
import struct
import sys
import threading


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp(kind: int, code: int, rest: bytes, body: bytes, bad_sum: bool = False) -> bytes:
    header = struct.pack("!BBH", kind, code, 0) + rest
    total = checksum(header + body)
    if bad_sum:
        total ^= 0x5A5A
    return struct.pack("!BBH", kind, code, total) + rest + body


def main() -> None:
    actions = sys.argv[1].split(",")
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    # Replies sent on this socket carry a Record Route option (IHL 8).
    with_options = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    with_options.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([7, 11, 4]) + bytes(9))
    print("ready", flush=True)
    while True:
        packet, (peer, _) = sock.recvfrom(65535)
        ihl = (packet[0] & 0x0F) * 4
        message = packet[ihl:]
        if len(message) < 8 or message[0] != 8:
            continue
        ident, seq = struct.unpack("!HH", message[4:8])
        data = message[8:]
        action = actions[(seq - 1) % len(actions)]
        rest = struct.pack("!HH", ident, seq)

        def send(payload: bytes) -> None:
            sock.sendto(payload, (peer, 0))

        if action == "echo":
            send(icmp(0, 0, rest, data))
        elif action == "dup":
            reply = icmp(0, 0, rest, data)
            send(reply)
            send(reply)
        elif action == "badsum":
            send(icmp(0, 0, rest, data, bad_sum=True))
        elif action == "foreign":
            send(icmp(0, 0, struct.pack("!HH", ident ^ 0xFFFF, seq), data))
        elif action == "truncate":
            send(icmp(0, 0, rest, data[: len(data) // 2]))
        elif action == "corrupt":
            changed = bytearray(data)
            if changed:
                changed[len(changed) // 2] ^= 0xFF
            send(icmp(0, 0, rest, bytes(changed)))
        elif action.startswith("late:"):
            delay = float(action.split(":", 1)[1])
            reply = icmp(0, 0, rest, data)
            threading.Timer(delay, send, args=(reply,)).start()
        elif action == "unreach":
            send(icmp(3, 1, b"\0\0\0\0", packet[: ihl + 8]))
        elif action.startswith("pad:"):
            extra = int(action.split(":", 1)[1])
            send(icmp(0, 0, rest, data + bytes(extra)))
        elif action == "options":
            with_options.sendto(icmp(0, 0, rest, data), (peer, 0))
        elif action == "short":
            send(b"\0\0\xff\xff")
        print(f"seq={seq} {action}", flush=True)


if __name__ == "__main__":
    main()
