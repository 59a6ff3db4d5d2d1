"""The test bed's threaded HTTPS server (doh11_server.py, mta_sts_server.py).

TLS is set up per connection in the request's thread, with a deep listen
backlog, so hundreds of concurrent audits (bench/load.mjs) are not
serialised behind one handshake in accept(). TCP_NODELAY: a response is
written in two pieces (head, then body), and with Nagle on the body waits
for the ACK of the head, which a kept-alive client delays by 40 ms (48 ms
per query on one connection, measured).
"""
import socket
import ssl
from http.server import ThreadingHTTPServer


class TLSServer(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True

    def __init__(self, address, handler, ctx):
        self.ctx = ctx
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        request.settimeout(10)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that fails validation hangs up mid-handshake
        tls.settimeout(300)  # idle kept-alive connections stay open
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass  # the client went away
        finally:
            try:
                tls.close()
            except OSError:
                pass
