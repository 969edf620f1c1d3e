#!/usr/bin/env python3
"""A daily quota per tenant; with --bug per-client, enforced per API key instead.

    python3 tests/targets/per_client_quota.py --listen 127.0.0.1:0 [--limit 100] [--bug per-client]

Model: one counter per tenant (UTC day), limit --limit. Correct mode takes the admission
decision and the counter update inside one critical section (`with st.lock`).

  POST /v1/{tenant}/spend   body {"amount": n}   200 {"spent": n}
                            429 {"error": "QUOTA_EXCEEDED"}   400 {"error": "INVALID_REQUEST"}
  GET  /v1/{tenant}/quota   {"quotas": [{"name": "daily", "limit": L, "consumed": X}]}

The `per-client` bug is a gateway that keys its counters on the caller's `x-api-key`
rather than the tenant, and lists the caller's own counter: every client alone stays
within the limit and sees its own counter within it; the tenant's total does not. Only a
judge that sees every client's traffic at once (a merged sharded run, each shard with
its own key) can tell.
"""
import threading
import time

import qbt_common as c

BUGS = {
    "per-client": ("limit.never-exceeded", "counts and lists per x-api-key instead of per tenant"),
}


class State:
    def __init__(self, args):
        self.args, self.bugs = args, set(args.bug)
        self.lock = threading.Lock()
        self.counters = {}  # (counter key, UTC day) -> consumed

    def key(self, tenant, api_key):
        if "per-client" in self.bugs:
            return (tenant, api_key)  # BUG per-client: one counter per caller
        return (tenant, None)

    def day(self):
        return time.strftime("%Y-%m-%d", time.gmtime())


class Handler(c.Handler):
    def route(self):
        st = self.server.state
        path, _ = c.query_params(self.path)
        parts = [p for p in path.split("/") if p]
        raw = self.read_body()
        if raw is None:
            return
        if len(parts) != 3 or parts[0] != "v1":
            return self.send_json(404, {"error": "NOT_FOUND"})
        tenant, what = parts[1], parts[2]
        k = st.key(tenant, self.headers.get("x-api-key", ""))
        if self.command == "GET" and what == "quota":
            with st.lock:
                used = st.counters.get((k, st.day()), 0)
            return self.send_json(200, {"quotas": [
                {"name": "daily", "limit": st.args.limit, "consumed": used}]})
        if self.command == "POST" and what == "spend":
            body, why = c.json_body(raw)
            amount = body.get("amount") if isinstance(body, dict) else None
            if isinstance(amount, str) and amount.isdigit():
                amount = int(amount)
            if why or not c.is_int(amount) or amount < 1:
                return self.send_json(400, {"error": "INVALID_REQUEST"})
            with st.lock:  # decision and update in one critical section
                slot = (k, st.day())
                used = st.counters.get(slot, 0)
                if used + amount > st.args.limit:
                    return self.send_json(429, {"error": "QUOTA_EXCEEDED"})
                st.counters[slot] = used + amount
            return self.send_json(200, {"spent": amount})
        return self.send_json(405, {"error": "METHOD_NOT_ALLOWED"})

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()


def main():
    p = c.base_parser("daily quota per tenant (independent target)", BUGS)
    p.add_argument("--limit", type=int, default=100, help="units per tenant and UTC day")
    args = c.parse(p, BUGS)
    c.serve(args, Handler, State(args))


if __name__ == "__main__":
    main()
