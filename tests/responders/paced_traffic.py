#!/usr/bin/env python3
"""Known traffic for netdx top's tests.

  paced_traffic.py tcp-sink PORT              accept on 127.0.0.1:PORT, read and drop everything
  paced_traffic.py tcp-send PORT RATE SECS    connect to 127.0.0.1:PORT, send RATE bytes/s for SECS
  paced_traffic.py udp-send ADDR PORT RATE SECS   datagrams of 1400 bytes to ADDR:PORT at RATE bytes/s
  paced_traffic.py hold PORT                  a connection to itself on 127.0.0.1:PORT, idle

Each prints `ready` once its socket is up. Senders keep an absolute
schedule (a late wake-up is caught up), so any window of a second or more
carries RATE bytes per second within a chunk.
"""
import socket
import sys
import time


def paced(send, chunk, rate, seconds):
    print("ready", flush=True)
    start = time.monotonic()
    sent = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            return
        due = start + sent / rate
        if due > now:
            time.sleep(due - now)
            continue
        send(chunk)
        sent += len(chunk)


def main():
    mode = sys.argv[1]
    if mode == "tcp-sink":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(sys.argv[2])))
        listener.listen(4)
        print("ready", flush=True)
        conn, _ = listener.accept()
        while conn.recv(1 << 20):
            pass
    elif mode == "tcp-send":
        conn = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
        rate, seconds = float(sys.argv[3]), float(sys.argv[4])
        paced(conn.sendall, bytes(256 * 1024), rate, seconds)
        conn.close()
    elif mode == "udp-send":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect((sys.argv[2], int(sys.argv[3])))
        rate, seconds = float(sys.argv[4]), float(sys.argv[5])

        def send(chunk):
            try:
                sock.send(chunk)
            except ConnectionRefusedError:  # the ICMP port unreachable of the last one
                pass

        paced(send, bytes(1400), rate, seconds)
    elif mode == "hold":
        listener = socket.socket()
        listener.bind(("127.0.0.1", int(sys.argv[2])))
        listener.listen(1)
        client = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
        server, _ = listener.accept()
        client.sendall(b"x" * 1000)
        server.recv(1000)
        print("ready", flush=True)
        time.sleep(120)


if __name__ == "__main__":
    main()
