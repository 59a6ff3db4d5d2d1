#!/usr/bin/python3
"""RFC 8484 DNS-over-HTTPS front over HTTP/1.1 for the test bed.

Unbound's DoH endpoint speaks HTTP/2 only; the Workers runtime (workerd) makes
outbound fetch() requests over HTTP/1.1 (as does Cloudflare's own resolver
front). This server accepts POST (application/dns-message) and GET (?dns=
base64url) over TLS/HTTP/1.1 and forwards the query unchanged to the bed's
validating Unbound over DNS/UDP (DNS/TCP when the answer is truncated),
returning its answer byte for byte (AD bit included). Stdlib only.

Built for concurrent audits (bench/load.mjs sends hundreds of queries at
once): a deep listen backlog, the TLS handshake done in the request's own
thread rather than in accept(), and UDP upstream, since Unbound serves only
a few TCP clients per thread at a time (`incoming-num-tcp`).

Each accepted connection is logged ("doh11 conn ADDR:PORT"), each request
with its client's address and port, so a run can count connections per
query (BENCHMARKS.md). With CERT_CHAIN "plain" it serves plain HTTP/1.1
(for measuring what TLS costs the client; the bed's own front is TLS).

usage: doh11_server.py LISTEN_ADDR PORT RESOLVER_ADDR CERT_CHAIN|plain [KEY]
"""
import base64
import http.server
import socket
import ssl
import struct
import sys
from http.server import BaseHTTPRequestHandler

from tls_http_server import TLSServer

LISTEN, PORT, RESOLVER, CERT = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
KEY = sys.argv[5] if len(sys.argv) > 5 else None
MAX_QUERY = 4096


def ask(query: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5)
        u.connect((RESOLVER, 53))
        u.send(query)
        while True:
            answer = u.recv(65535)
            # Only an answer to this query (same ID) counts.
            if len(answer) >= 12 and answer[:2] == query[:2]:
                break
    if not answer[2] & 0x02:  # TC clear: the whole answer
        return answer
    return ask_tcp(query)


def ask_tcp(query: bytes) -> bytes:
    with socket.create_connection((RESOLVER, 53), timeout=5) as s:
        s.sendall(struct.pack("!H", len(query)) + query)
        head = b""
        while len(head) < 2:
            chunk = s.recv(2 - len(head))
            if not chunk:
                raise OSError("resolver closed")
            head += chunk
        (n,) = struct.unpack("!H", head)
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                raise OSError("resolver closed")
            body += chunk
        return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=b"", ctype="application/dns-message"):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.send_header("cache-control", "max-age=0")
        self.end_headers()
        self.wfile.write(body)

    def answer(self, query):
        if not query or len(query) > MAX_QUERY:
            return self.reply(400, b"bad query\n", "text/plain")
        try:
            self.reply(200, ask(query))
        except OSError as e:
            self.reply(502, f"resolver: {e}\n".encode(), "text/plain")

    def do_POST(self):
        if self.path.split("?")[0] != "/dns-query":
            return self.reply(404, b"not found\n", "text/plain")
        n = int(self.headers.get("content-length") or 0)
        if n > MAX_QUERY:
            return self.reply(413, b"too large\n", "text/plain")
        # workerd writes the head and the body of a POST separately, and
        # Nagle holds the body until the head is ACKed, which Linux delays
        # (20-40 ms a query measured). TCP_QUICKACK sends the pending ACK.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass
        self.answer(self.rfile.read(n))

    def do_GET(self):
        path, _, qs = self.path.partition("?")
        if path != "/dns-query":
            return self.reply(404, b"not found\n", "text/plain")
        params = dict(p.split("=", 1) for p in qs.split("&") if "=" in p)
        try:
            q = base64.urlsafe_b64decode(params.get("dns", "") + "===")
        except ValueError:
            q = b""
        self.answer(q)

    def log_message(self, fmt, *args):
        sys.stderr.write("doh11 %s:%d %s\n" % (self.client_address[0], self.client_address[1], fmt % args))


def log_connection(client_address):
    sys.stderr.write("doh11 conn %s:%d\n" % client_address)


class Front(TLSServer):
    def finish_request(self, request, client_address):
        log_connection(client_address)
        super().finish_request(request, client_address)


class PlainFront(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True

    def finish_request(self, request, client_address):
        log_connection(client_address)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request.settimeout(300)
        super().finish_request(request, client_address)


if CERT == "plain":
    srv = PlainFront((LISTEN, PORT), Handler)
else:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(CERT, KEY)
    ctx.set_alpn_protocols(["http/1.1"])
    srv = Front((LISTEN, PORT), Handler, ctx)
srv.serve_forever()
