"""Shared plumbing for the quotabench independent targets (stdlib only).

Every target follows one contract (see README.md):
  --listen 127.0.0.1:0   loopback only; prints exactly one line `LISTENING 127.0.0.1:<port>`
  --max-seconds N        exits by itself after N seconds (default 600)
  stdin EOF              exits (a dying test never leaves a server behind); --ignore-stdin to opt out
  SIGTERM                exits
  --bug NAME             repeatable seeded bug; --list-bugs prints NAME<TAB>RULE-ID
Nothing here knows about quotas: it only parses flags, binds, answers with Content-Length
and arranges the three ways out.
"""
import argparse
import ipaddress
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024


def base_parser(description, bugs):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT, loopback only")
    p.add_argument("--max-seconds", type=float, default=600.0)
    p.add_argument("--bug", action="append", default=[], choices=sorted(bugs), metavar="NAME")
    p.add_argument("--list-bugs", action="store_true")
    p.add_argument("--ignore-stdin", action="store_true",
                   help="do not exit at stdin EOF (for manual runs with stdin on /dev/null)")
    return p


def parse(parser, bugs, argv=None):
    args = parser.parse_args(argv)
    if args.list_bugs:
        for name, (rule, what) in sorted(bugs.items()):
            print(f"{name}\t{rule}\t{what}")
        sys.exit(0)
    return args


def loopback_addr(listen):
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"refusing to bind non-loopback address {host!r}: loopback only")
    return host, int(port)


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive; every answer carries Content-Length."""
    protocol_version = "HTTP/1.1"
    server_version = "qbtarget/1"

    def log_message(self, fmt, *a):  # quiet: the harness reads stdout for LISTENING only
        pass

    def read_body(self):
        """Returns bytes, or None after having answered 413/400 itself."""
        n = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        if not n:
            return b""
        try:
            n = int(n)
        except ValueError:
            self.close_connection = True
            self.send_raw(400, b'{"error":"bad Content-Length"}')
            return None
        if n > MAX_BODY:
            self.close_connection = True
            self.send_raw(413, b'{"error":"body too large"}')
            return None
        return self.rfile.read(n)

    def send_raw(self, status, body, ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send_raw(status, json.dumps(obj).encode(), headers=headers)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def serve(args, handler_cls, state=None, on_exit=None):
    """Binds, prints LISTENING, and serves until max-seconds, stdin EOF or SIGTERM."""
    host, port = loopback_addr(args.listen)
    srv = Server((host, port), handler_cls)
    srv.state = state
    done = threading.Event()

    def finish(*_):
        done.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    if not args.ignore_stdin:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except Exception:
                pass
            done.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(f"LISTENING {host}:{srv.server_address[1]}", flush=True)
    deadline = time.monotonic() + args.max_seconds
    while not done.is_set() and time.monotonic() < deadline:
        done.wait(0.2)
    if on_exit:
        on_exit()
    sys.stderr.flush()
    os._exit(0)  # daemon worker threads may be parked on keep-alive sockets: leave now


def query_params(path):
    """(path, {name: last value}) with percent-decoding."""
    from urllib.parse import urlsplit, parse_qsl
    u = urlsplit(path)
    return u.path, dict(parse_qsl(u.query, keep_blank_values=True))


def json_body(raw):
    """(value, None) or (None, reason)."""
    if not raw:
        return None, "a JSON body is required"
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError) as e:
        return None, f"the body is not JSON: {e}"


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)
