"""The kernel's own view of an interface, for the *_rtt.py truth taps: an
ETH_P_ALL packet socket (outgoing frames reach only such taps) with
SO_TIMESTAMPNS, so each frame comes with the time the kernel saw it.

frames(iface, timeout, done) prints 'ready' once the tap is open, then yields
(frame bytes, kernel time in seconds, outgoing?) until done() is true or
TIMEOUT seconds pass.
"""
import socket, struct, time

SO_TIMESTAMPNS = 35
ETH_P_ALL = 0x0003


def frames(iface, timeout, done):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.settimeout(0.2)
    print("ready", flush=True)
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        try:
            data, anc, _, addr = s.recvmsg(2048, 64)
        except socket.timeout:
            continue
        ts = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                ts = sec + nsec / 1e9
        if ts is not None:
            yield data, ts, addr[2] == socket.PACKET_OUTGOING
