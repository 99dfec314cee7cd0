#!/usr/bin/env python3
"""An echo service that misbehaves on purpose, for netdx echo probe's tests.

usage: echo_misbehaving.py udp|tcp SIZE [--flip SEQS] [--drop SEQS]
                                        [--dup SEQS] [--late SEQS] [--delay S]
                                        [--swap SEQ] [--flood]

Listens on 127.0.0.1, a free port, and prints "ready PORT". Each netdx probe
carries its sequence number in its first 8 bytes (little-endian); SEQS is a
comma-separated list of sequence numbers to treat specially:

  --flip   echo with the last byte inverted (a corrupted echo)
  --drop   no echo at all (UDP only)
  --dup    echo twice
  --late   echo after --delay seconds (default 0.5)
  --swap   hold this probe's echo until the next probe's echo is sent (UDP)
  --flood  echo nothing: send bytes nobody asked for, as fast as they go
           (TCP: on every connection; UDP: datagrams to whoever sent one)

TCP reads messages of SIZE bytes from one connection and echoes them in
order, so --late delays that echo and every one after it.
"""
import argparse
import socket
import threading
import time


def seqs(text):
    return {int(x) for x in text.split(",") if x}


def mangle(data, seq, args):
    """The echoes to send for one message: a list of payloads."""
    if seq in args.drop:
        return []
    out = bytearray(data)
    if seq in args.flip:
        out[-1] ^= 0xFF
    return [bytes(out)] * (2 if seq in args.dup else 1)


def flood_udp(sock):
    _, peer = sock.recvfrom(70000)
    junk = bytes(range(256)) * 4
    sock.setblocking(False)
    while True:
        try:
            sock.sendto(junk, peer)
        except BlockingIOError:
            time.sleep(0)
        except OSError:
            pass


def serve_udp(sock, args):
    if args.flood:
        flood_udp(sock)
    held = None
    while True:
        data, peer = sock.recvfrom(70000)
        seq = int.from_bytes(data[:8], "little")
        echoes = mangle(data, seq, args)
        if seq == args.swap:
            held = (echoes, peer)
            continue
        if seq in args.late:
            for echo in echoes:
                threading.Timer(args.delay, sock.sendto, (echo, peer)).start()
        else:
            for echo in echoes:
                sock.sendto(echo, peer)
        if held is not None:
            for echo in held[0]:
                sock.sendto(echo, held[1])
            held = None


def flood(conn):
    junk = bytes(range(256)) * 256
    try:
        while True:
            conn.sendall(junk)
    except OSError:
        pass
    finally:
        conn.close()


def serve_tcp(listener, args):
    while True:
        conn, _ = listener.accept()
        if args.flood:
            threading.Thread(target=flood, args=(conn,), daemon=True).start()
            continue
        buf = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= args.size:
                message, buf = buf[: args.size], buf[args.size :]
                seq = int.from_bytes(message[:8], "little")
                if seq in args.late:
                    time.sleep(args.delay)
                for echo in mangle(message, seq, args):
                    conn.sendall(echo)
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("proto", choices=["udp", "tcp"])
    parser.add_argument("size", type=int)
    parser.add_argument("--flip", type=seqs, default=set())
    parser.add_argument("--drop", type=seqs, default=set())
    parser.add_argument("--dup", type=seqs, default=set())
    parser.add_argument("--late", type=seqs, default=set())
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--swap", type=int, default=-1)
    parser.add_argument("--flood", action="store_true")
    args = parser.parse_args()
    if args.proto == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        print("ready", sock.getsockname()[1], flush=True)
        serve_udp(sock, args)
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        print("ready", listener.getsockname()[1], flush=True)
        serve_tcp(listener, args)


if __name__ == "__main__":
    main()
