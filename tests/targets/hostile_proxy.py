#!/usr/bin/env python3
"""A hostile reverse proxy: forwards to --upstream and injects gateway-style faults into a
seeded share of the requests, to test that quotabench treats unanswered or gateway-answered
requests as *indeterminate* (they may have been applied) and rate-limit answers as errors.

    python3 tests/targets/hostile_proxy.py --listen 127.0.0.1:0 --upstream 127.0.0.1:PORT
        [--seed 1] [--share 0.1] [--fault KIND]... [--only-method POST] [--only-path-prefix /x]
        [--stall-seconds 15]

KINDs (chosen uniformly among the --fault ones for each selected request):
  reset-after-apply   forward, let the upstream apply it, then reset the client connection
  502-after-apply     forward, discard the answer, answer 502 with an nginx-style HTML page
  504-after-apply     the same with 504 Gateway Time-out
  cut-body            forward, send status and headers (full Content-Length) and half the body, close
  429-no-apply        do not forward; 429, Retry-After: 1, a generic rate-limit body
  stall-before-apply  (alias `stall`) do not forward; hold the connection --stall-seconds, then close
  passthrough         no fault
Counts per kind go to stderr on exit and are served at GET /__proxy/stats (never faulted).
Selection is deterministic for a given --seed and request order (one RNG behind a lock).
"""
import http.client
import json
import random
import socket
import struct
import sys
import threading
import time

import qbt_common as c

KINDS = ["reset-after-apply", "502-after-apply", "504-after-apply", "cut-body", "429-no-apply",
         "stall-before-apply", "passthrough"]
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
       "upgrade", "host", "content-length", "server", "date"}
GATEWAY_PAGE = ("<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n"
                "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


class Proxy:
    def __init__(self, args):
        self.args = args
        host, _, port = args.upstream.rpartition(":")
        c.loopback_addr(args.upstream)  # loopback upstreams only
        self.upstream = (host, int(port))
        self.faults = [("stall-before-apply" if k == "stall" else k) for k in args.fault] or ["passthrough"]
        self.rng, self.lock = random.Random(args.seed), threading.Lock()
        self.counts = {k: 0 for k in KINDS}
        self.counts.update({"requests": 0, "upstream-error": 0})
        self.local = threading.local()

    def choose(self, method, path):
        with self.lock:
            self.counts["requests"] += 1
            eligible = (not self.args.only_method or method in self.args.only_method) and \
                (not self.args.only_path_prefix or path.startswith(self.args.only_path_prefix))
            kind = "passthrough"
            if eligible and self.rng.random() < self.args.share:
                kind = self.rng.choice(self.faults)
            self.counts[kind] += 1
            return kind

    def stats(self):
        with self.lock:
            return {"seed": self.args.seed, "share": self.args.share, "faults": self.faults,
                    "injected": dict(self.counts)}

    def forward(self, method, path, headers, body):
        """(status, reason, headers, body) from the upstream, on this thread's connection."""
        for attempt in (0, 1):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(*self.upstream, timeout=60)
            try:
                conn.request(method, path, body=body, headers=headers)
            except OSError:
                # Failed while sending (a stale keep-alive connection): nothing reached the
                # upstream, so one retry on a fresh connection cannot apply twice.
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
                continue
            try:
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                raise
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                self.local.conn = None
            return r.status, r.reason, r.getheaders(), data


class ProxyHandler(c.Handler):
    server_version = "nginx"
    sys_version = ""

    def drop(self, reset):
        """Closes the client connection without (finishing) an answer; RST when `reset`."""
        self.close_connection = True
        try:
            self.wfile.flush()
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle_any(self):
        px = self.server.state
        body = self.read_body()
        if body is None:
            return
        if self.path == "/__proxy/stats":
            return self.send_json(200, px.stats())
        kind = px.choose(self.command, self.path)
        if kind == "429-no-apply":
            return self.send_raw(429, b'{"message":"API rate limit exceeded"}',
                                 headers=[("Retry-After", "1")])
        if kind == "stall-before-apply":
            time.sleep(px.args.stall_seconds)  # nothing was forwarded: nothing applied
            return self.drop(reset=False)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Host"] = "%s:%d" % px.upstream
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        try:
            status, reason, up_headers, data = px.forward(self.command, self.path, headers, body)
        except (OSError, http.client.HTTPException) as e:
            with px.lock:
                px.counts["upstream-error"] += 1
            return self.send_raw(502, GATEWAY_PAGE.format("502 Bad Gateway").encode(), "text/html",
                                 [("X-Proxy-Error", type(e).__name__)])
        # From here the upstream has applied (or refused) the request.
        if kind == "reset-after-apply":
            return self.drop(reset=True)
        if kind in ("502-after-apply", "504-after-apply"):
            title = "502 Bad Gateway" if kind[0:3] == "502" else "504 Gateway Time-out"
            return self.send_raw(int(kind[:3]), GATEWAY_PAGE.format(title).encode(), "text/html")
        self.send_response(status, reason)
        for k, v in up_headers:
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if kind == "cut-body":
            self.wfile.write(data[:len(data) // 2])  # promised len(data), sent half
            return self.drop(reset=False)
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


def main():
    p = c.base_parser("hostile reverse proxy for quotabench targets", {})
    p.add_argument("--upstream", required=True, help="HOST:PORT of the target (loopback)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--share", type=float, default=0.1, help="share of eligible requests faulted")
    p.add_argument("--fault", action="append", default=[], choices=KINDS + ["stall"], metavar="KIND")
    p.add_argument("--only-method", action="append", default=[], help="fault only these methods")
    p.add_argument("--only-path-prefix", default="", help="fault only paths starting with this")
    p.add_argument("--stall-seconds", type=float, default=15.0)
    args = c.parse(p, {})
    px = Proxy(args)

    def report():
        print("hostile_proxy injected: " + json.dumps(px.stats()["injected"], sort_keys=True),
              file=sys.stderr, flush=True)
    c.serve(args, ProxyHandler, px, on_exit=report)


if __name__ == "__main__":
    main()
