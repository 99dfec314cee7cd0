#!/usr/bin/env python3
"""An HTTP/1.1 server that misbehaves on purpose, for netdx http's tests.

usage: http_misbehaving.py ADDR PORT

Listens on ADDR:PORT and prints "ready". The path picks the behaviour:

  /close     a body without a length, ended by the close (Connection: close)
  /chunked   a correct chunked body: "hello " in 3 chunks, then "world\\n"
  /stall     the head (Content-Length: 100), then nothing, ever
  /status    a bad status line ("HTTP/1.1 OK")
  /lying     Content-Length: 1000, ten bytes, then the close
  /giant     a header field that never ends (bytes until the client leaves)
  /crowded   a thousand header fields
  /endless   a chunked body that never ends (64 KiB chunks)
"""
import socket
import sys
import threading


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(4096)
        if not more:
            return None
        data += more
    return data.split(b" ")[1].decode()


def forever(conn, piece):
    try:
        while True:
            conn.sendall(piece)
    except OSError:
        pass


def serve(conn):
    path = read_head(conn)
    if path is None:
        return
    if path == "/close":
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclosing body\n")
    elif path == "/chunked":
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nhe\r\n4;x=y\r\nllo \r\n6\r\nworld\n\r\n0\r\n\r\n"
        )
    elif path == "/stall":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        conn.recv(1)  # until the client leaves
    elif path == "/status":
        conn.sendall(b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n")
    elif path == "/lying":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
    elif path == "/giant":
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Giant: ")
        forever(conn, b"a" * 65536)
    elif path == "/crowded":
        fields = b"".join(b"X-%d: y\r\n" % i for i in range(1000))
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n")
    elif path == "/endless":
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        forever(conn, b"10000\r\n" + b"x" * 65536 + b"\r\n")
    conn.close()


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, port))
    listener.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
