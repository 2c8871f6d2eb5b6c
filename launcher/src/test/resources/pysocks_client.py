#!/usr/bin/python3
"""A SOCKS5 client the vxsocks team did not write: PySocks (Debian python3-socks), driven by RealClients tests.

Reads the payload from stdin, connects through the proxy, sends it, and writes what comes back to stdout:
  --mode echo       read back exactly as many bytes as were sent, then close
  --mode halfclose  shut down the write side (FIN) after sending, then read until the target closes
  --mode udp        send the payload as one datagram through UDP ASSOCIATE and print the first datagram back
  --source ADDR     bind every socket PySocks opens (the TCP connection to the proxy, UDP's control connection and
                    its datagram socket) to this local address first, e.g. 127.0.0.2 to be another client on loopback
Exit 0 on success; 3 with one line "ERROR <type>: <message>" on stderr when the proxy or the target fails.
"""
import argparse
import socket
import sys

import socks


def bind_sources_to(address):
    """PySocks has no source-address option. Its UDP control connection is a plain socket it creates itself
    (socks._orig_socket()), so that class is replaced by one that binds before connecting."""
    plain = socks._orig_socket

    class BoundSocket(plain):
        def connect(self, *args, **kwargs):
            plain.bind(self, (address, 0))
            return plain.connect(self, *args, **kwargs)

    socks._orig_socket = BoundSocket


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proxy-host", default="127.0.0.1")
    p.add_argument("--proxy-port", type=int, required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--rdns", action="store_true", help="send the host name to the proxy instead of resolving it")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["echo", "halfclose", "udp"], default="echo")
    p.add_argument("--source", help="local address to bind to before connecting")
    a = p.parse_args()
    if a.source:
        bind_sources_to(a.source)

    payload = sys.stdin.buffer.read()
    kind = socket.SOCK_DGRAM if a.mode == "udp" else socket.SOCK_STREAM
    s = socks.socksocket(socket.AF_INET, kind)
    s.set_proxy(socks.SOCKS5, a.proxy_host, a.proxy_port, rdns=a.rdns, username=a.user, password=a.password)
    s.settimeout(15)
    try:
        if a.source:
            # TCP: bound before connect() reaches the proxy; UDP: PySocks's bind() runs the UDP ASSOCIATE.
            s.bind((a.source, 0))
        if a.mode == "udp":
            s.sendto(payload, (a.host, a.port))
            sys.stdout.buffer.write(s.recv(65536))
            sys.stdout.buffer.flush()
            return 0
        s.connect((a.host, a.port))
        s.sendall(payload)
        received = bytearray()
        if a.mode == "echo":
            while len(received) < len(payload):
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        else:
            s.shutdown(socket.SHUT_WR)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        sys.stdout.buffer.write(bytes(received))
        sys.stdout.buffer.flush()
        return 0
    except (socks.ProxyError, OSError) as e:
        print("ERROR %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 3
    finally:
        s.close()


if __name__ == "__main__":
    sys.exit(main())
