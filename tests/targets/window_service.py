#!/usr/bin/env python3
"""A third-party-style rate-limit/quota service, shaped like neither seed API.

    python3 tests/targets/window_service.py --listen 127.0.0.1:0 [--window 3] [--limit 100]
        [--keys calls,uploads] [--max-amount 1000] [--rate 1000] [--burst 200] [--bug NAME]...

Model: a counter per (namespace, key). A counter does not exist until its first hit; the
first hit opens a fixed window of --window seconds, and when that window has passed the
counter is gone (the next hit opens a new one). No authentication; any namespace.

  POST /v1/hit/{namespace}/{key}   body {"amount": n, "tags": {...}} (both optional; amount 1)
       200 {"key", "remaining", "expires_in_seconds"}
       429 {"error": {"code": "QUOTA_EXCEEDED", ...}}  the window is full, nothing counted
       429 {"error": {"code": "RATE_LIMITED", ...}}    too many requests/s, nothing looked at
       400 {"error": {"code": "INVALID_REQUEST", ...}} 404 {"error": {"code": "UNKNOWN_KEY"}}
  GET  /v1/counters/{namespace}    {"namespace", "counters": [{"key", "remaining", "expires_in_seconds"}]}
                                   live counters only: an unhit key is absent (= nothing used)
  GET  /v1/limits/{namespace}      {"namespace", "limits": [{"key", "limit", "window_seconds"}]}

Correctness: one lock guards every counter; expiry, check and add for a hit happen in one
critical section, so concurrent hits never push a window past its limit. Windows run on
the monotonic clock (a wall-clock step cannot stretch or shrink them).
"""
import json
import math
import threading
import time

import qbt_common as c

BUGS = {
    "off-by-one": ("limit.never-exceeded", "admits a hit that brings a window to limit+1"),
    "count-rejected": ("rejected.invalid-not-counted", "an invalid hit's amount is counted before the rest is validated"),
    "wrapped-remaining": ("rejected.quota-not-counted", "INCR-then-check: refused hits are counted too and remaining is listed as a wrapped u64"),
    "race": ("limit.never-exceeded", "checks, sleeps without the lock, then adds: over-admits"),
    "never-resets": ("reset.period-boundary", "a window never expires"),
}
U64 = (1 << 64) - 1


class State:
    def __init__(self, args):
        self.args, self.bugs = args, set(args.bug)
        self.keys = [k for k in args.keys.split(",") if k]
        self.lock = threading.Lock()
        self.counters = {}  # (namespace, key) -> [consumed, expires_at (monotonic)]
        self.tokens, self.last = float(args.burst), time.monotonic()

    def rate_ok(self):
        """One global token bucket; returns seconds to wait (0 = go ahead)."""
        with self.lock:
            t = time.monotonic()
            self.tokens = min(self.args.burst, self.tokens + (t - self.last) * self.args.rate)
            self.last = t
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.args.rate

    def live(self, ns, key, t):
        """The counter if its window is still open, else None (forgotten). Caller holds lock."""
        cell = self.counters.get((ns, key))
        if cell and t >= cell[1] and "never-resets" not in self.bugs:
            del self.counters[(ns, key)]  # the window is over: the counter is gone
            return None
        return cell

    def remaining(self, cell):
        left = self.args.limit - cell[0]
        if "wrapped-remaining" in self.bugs:
            return left & U64  # BUG: an unsigned subtraction, -1 shows as 18446744073709551615
        return max(0, left)

    def hit(self, ns, key, amount):
        """(accepted, remaining, expires_in)."""
        slack = 1 if "off-by-one" in self.bugs else 0  # BUG off-by-one
        with self.lock:
            t = time.monotonic()
            cell = self.live(ns, key, t)
            used = cell[0] if cell else 0
            if "wrapped-remaining" in self.bugs:
                # BUG: increment first (like INCRBY), refuse afterwards, never undo.
                cell = cell or self.counters.setdefault((ns, key), [0, t + self.args.window])
                cell[0] += amount
                ok = cell[0] <= self.args.limit
                return ok, self.remaining(cell), self.expires_in(cell, t)
            fits = used + amount <= self.args.limit + slack
            if not fits:
                return False, self.remaining(cell) if cell else self.args.limit, \
                    self.expires_in(cell, t) if cell else self.args.window
            if "race" not in self.bugs:
                cell = cell or self.counters.setdefault((ns, key), [0, t + self.args.window])
                cell[0] += amount  # correct: same critical section as the check
                return True, self.remaining(cell), self.expires_in(cell, t)
        time.sleep(0.015)  # BUG race: others pass the same check meanwhile
        with self.lock:
            t = time.monotonic()
            cell = self.live(ns, key, t) or self.counters.setdefault((ns, key), [0, t + self.args.window])
            cell[0] += amount
            return True, self.remaining(cell), self.expires_in(cell, t)

    def count_anyway(self, ns, key, amount):
        """The count-rejected bug: the amount was added before validation finished."""
        with self.lock:
            t = time.monotonic()
            cell = self.live(ns, key, t) or self.counters.setdefault((ns, key), [0, t + self.args.window])
            cell[0] += amount

    def expires_in(self, cell, t):
        return round(max(0.0, cell[1] - t), 3)


class WindowHandler(c.Handler):
    def fail(self, status, code, msg, headers=(), **extra):
        self.send_json(status, {"error": dict(code=code, message=msg, **extra)}, headers)

    def route(self, method):
        st = self.server.state
        # Read the body first, whatever the answer: an unread body would be taken for the
        # next request on this keep-alive connection.
        raw = self.read_body()
        if raw is None:
            return
        path, q = c.query_params(self.path)
        wait = st.rate_ok()
        if wait:
            secs = max(1, math.ceil(wait))
            return self.fail(429, "RATE_LIMITED", "slow down", [
                ("Retry-After", str(secs)), ("X-RateLimit-Limit", str(int(st.args.rate))),
                ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", str(secs))])
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["v1", "hit"]:
            want = "POST"
        elif len(parts) == 3 and parts[0] == "v1" and parts[1] in ("counters", "limits"):
            want = "GET"
        else:
            return self.fail(404, "NOT_FOUND", f"no route {path}")
        if method != want:
            return self.fail(405, "METHOD_NOT_ALLOWED", f"use {want}", [("Allow", want)])
        ns = parts[2]
        if parts[1] == "limits":
            return self.send_json(200, {"namespace": ns, "limits": [
                {"key": k, "limit": st.args.limit, "window_seconds": int(st.args.window) if st.args.window.is_integer()
                 else st.args.window} for k in st.keys]})
        if parts[1] == "counters":
            with st.lock:
                t = time.monotonic()
                rows = [{"key": k, "remaining": st.remaining(cell), "expires_in_seconds": st.expires_in(cell, t)}
                        for k in st.keys for cell in [st.live(ns, k, t)] if cell]
            return self.send_json(200, {"namespace": ns, "counters": rows})
        self.hit(st, ns, parts[3], raw, q)

    def hit(self, st, ns, key, raw, q):
        if key not in st.keys:
            return self.fail(404, "UNKNOWN_KEY", f"no limit is configured for key {key!r}")
        body = {}
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                return self.fail(400, "INVALID_REQUEST", "the body is not JSON")
            if not isinstance(body, dict):
                return self.fail(400, "INVALID_REQUEST", "the body must be a JSON object")
        amount = body.get("amount", q.get("amount", 1))
        if isinstance(amount, str) and amount.isdigit():
            amount = int(amount)
        why = None
        if not c.is_int(amount) or amount < 1:
            why = "amount must be a positive integer"
        elif amount > st.args.max_amount:
            why = f"amount must be at most {st.args.max_amount}"
        elif "tags" in body and not (isinstance(body["tags"], dict)
                                     and all(isinstance(v, str) for v in body["tags"].values())):
            why = "tags must be an object of strings"
        if why:
            if "count-rejected" in st.bugs and c.is_int(amount) and amount > 0:
                st.count_anyway(ns, key, amount)  # BUG: counted although refused
            return self.fail(400, "INVALID_REQUEST", why)
        ok, left, exp = st.hit(ns, key, amount)
        if not ok:
            return self.fail(429, "QUOTA_EXCEEDED", f"quota exceeded for {key}", [
                ("Retry-After", str(max(1, math.ceil(exp))))], remaining=left, expires_in_seconds=exp)
        self.send_json(200, {"key": key, "remaining": left, "expires_in_seconds": exp})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def do_PUT(self):
        self.route("PUT")


def main():
    p = c.base_parser("fixed-window-from-first-hit quota service (independent target)", BUGS)
    p.add_argument("--window", type=float, default=3.0, help="seconds a window lasts after its first hit")
    p.add_argument("--limit", type=int, default=100, help="units per window, for every key")
    p.add_argument("--keys", default="calls,uploads", help="comma-separated keys with a limit")
    p.add_argument("--max-amount", type=int, default=1000, help="largest amount one hit may carry")
    p.add_argument("--rate", type=float, default=1000.0, help="requests per second (global bucket)")
    p.add_argument("--burst", type=int, default=200)
    args = c.parse(p, BUGS)
    c.serve(args, WindowHandler, State(args))


if __name__ == "__main__":
    main()
