"""Serves Keystone (keystone.wsgi.api:application) for the tacker-rs tests.

    python serve.py --config keystone.conf [--host 127.0.0.1] [--port 0]
                    [--cert server.pem --key server.key [--client-ca ca.pem]]

A threaded wsgiref server: the standard library only, one thread per connection.
With --cert/--key it serves HTTPS; with --client-ca it asks clients for a
certificate (optional) and, as Apache's `SSLOptions +ExportCertData` does, hands
a verified one to Keystone as SSL_CLIENT_CERT (PEM), which Keystone's OAuth 2.0
mutual-TLS client authentication reads.

Prints one JSON line on stdout once it listens, {"ready": true, "port": N}; logs go
to stderr (requests only with KEYSTONE_TEST_ACCESS_LOG=1). Exits on SIGTERM and when
stdin reaches EOF if stdin is a pipe (the test process that started it is gone).
"""

import argparse
import json
import os
import signal
import socketserver
import ssl
import stat
import sys
import threading
from wsgiref import simple_server


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    return parser.parse_args()


class Handler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - wsgiref's signature
        if os.environ.get("KEYSTONE_TEST_ACCESS_LOG") == "1":
            super().log_message(format, *args)

    def get_environ(self):
        environ = super().get_environ()
        if isinstance(self.connection, ssl.SSLSocket):
            environ["HTTPS"] = "on"
            environ["wsgi.url_scheme"] = "https"
            der = self.connection.getpeercert(binary_form=True)
            if der:
                environ["SSL_CLIENT_CERT"] = ssl.DER_cert_to_PEM_cert(der)
        return environ


class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's thread, not in the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


def tls_context(args):
    if not args.cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        context.load_verify_locations(args.client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def exit_with_parent():
    mode = os.fstat(sys.stdin.fileno()).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return

    def watch():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    args = parse_args()
    os.environ["OS_KEYSTONE_CONFIG_FILES"] = os.path.abspath(args.config)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    exit_with_parent()
    # Keystone parses the command line with oslo.config when it loads: none for it.
    sys.argv = sys.argv[:1]

    from keystone.wsgi.api import application

    server = Server((args.host, args.port), Handler)
    server.tls = tls_context(args)
    server.set_app(application)
    sys.stdout.write(json.dumps({"ready": True, "port": server.server_address[1]}) + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
