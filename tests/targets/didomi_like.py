#!/usr/bin/env python3
"""An independent Didomi-style batch-export quota API (wire-compatible with
profiles/didomi.yaml), written from the public reference, not from src/fake/.

    python3 tests/targets/didomi_like.py --listen 127.0.0.1:0 [--configs 3] [--destinations 2]
        [--page-cap 10] [--rate 200] [--burst 50] [--bug NAME]...

Unlike the bundled fake it behaves like a real Feathers service: every list pages with
`$limit`/`$skip` and silently caps `$limit` at --page-cap; every organization has a
token bucket (--rate per second, --burst deep) and a request that finds it empty is
answered 429 TooManyRequests with Retry-After / RateLimit-Policy / RateLimit and changes
nothing. A quota rejection is also 429 TooManyRequests but its message says "quota".

Correctness: each organization's state sits behind `org.lock`; enable and attach check
the limit and take the slot inside one critical section, so concurrent requests cannot
both see the same free slot. Seeded bugs bend exactly one step each.
"""
import itertools
import math
import threading
import time
from datetime import datetime, timezone

import qbt_common as c

BUGS = {
    "race-enable": ("limit.never-exceeded", "enable checks, sleeps without the lock, then enables: over-admits exports_configs"),
    "race-attach": ("limit.never-exceeded", "attach checks, sleeps without the lock, then attaches: over-admits exports_destinations"),
    "wrong-scope": ("limit.rejection-justified", "destinations limited per organization instead of per configuration"),
    "shared-tenants": ("isolation.tenants", "every organization shares one state"),
    "detach-frees-nothing": ("concurrent.release-frees", "detaching removes the destination but keeps its slot"),
    "off-by-one": ("limit.never-exceeded", "enable and attach admit one past the limit"),
}
IDS = itertools.count(1)


def stamp():
    t = datetime.now(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Bucket:
    """Token bucket: `rate` tokens a second, at most `burst` held."""

    def __init__(self, rate, burst):
        self.rate, self.burst, self.tokens, self.last = rate, burst, float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        """(allowed, tokens left, seconds until one token)."""
        with self.lock:
            t = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (t - self.last) * self.rate)
            self.last = t
            if self.tokens >= 1:
                self.tokens -= 1
                return True, int(self.tokens), 0.0
            return False, 0, (1 - self.tokens) / self.rate


class Org:
    def __init__(self, name):
        self.lock = threading.Lock()
        self.name = name
        self.configs = {}    # id -> config (insertion = creation order)
        self.enabled = 0     # exports_configs consumed
        self.created = stamp()


class State:
    def __init__(self, args):
        self.args, self.bugs = args, set(args.bug)
        self.orgs, self.buckets, self.lock = {}, {}, threading.Lock()

    def org(self, name):
        key = "*" if "shared-tenants" in self.bugs else name  # BUG: one state for all
        with self.lock:
            if key not in self.orgs:
                self.orgs[key] = Org(name)
            return self.orgs[key]

    def bucket(self, name):
        with self.lock:
            if name not in self.buckets:
                self.buckets[name] = Bucket(self.args.rate, self.args.burst)
            return self.buckets[name]


def public(cfg):
    return {k: v for k, v in cfg.items() if not k.startswith("_")}


class DidomiHandler(c.Handler):
    def ferr(self, code, name, msg, headers=()):
        cls = {400: "bad-request", 401: "not-authenticated", 404: "not-found",
               405: "method-not-allowed", 413: "payload-too-large", 429: "too-many-requests"}[code]
        self.send_json(code, {"name": name, "message": msg, "code": code, "className": cls,
                              "errors": {}}, list(headers) + self.rl_headers)

    def ok(self, status, obj):
        self.send_json(status, obj, self.rl_headers)

    def page(self, rows, q):
        """Feathers paging with a server-side cap: `$limit` above --page-cap is cut to it."""
        cap = self.server.state.args.page_cap
        try:
            limit = int(q.get("$limit", cap))
            skip = int(q.get("$skip", 0))
        except ValueError:
            return self.ferr(400, "BadRequest", "$limit and $skip must be integers")
        if limit < 0 or skip < 0:
            return self.ferr(400, "BadRequest", "$limit and $skip must not be negative")
        limit = min(limit, cap)
        self.ok(200, {"total": len(rows), "limit": limit, "skip": skip, "data": rows[skip:skip + limit]})

    def route(self, method):
        st = self.server.state
        self.rl_headers = []
        # Read the body first, whatever the answer: an unread body would be taken for the
        # next request on this keep-alive connection.
        raw = self.read_body()
        if raw is None:
            return
        path, q = c.query_params(self.path)
        org_name = q.get("organization_id", "")
        # Rate limit first (a gateway concern): a refused request is never looked at.
        allowed, left, wait = st.bucket(org_name).take()
        a = st.args
        self.rl_headers = [("RateLimit-Policy", f'"org";q={a.burst};w=1'),
                           ("RateLimit", f'"org";r={left};t={max(1, math.ceil(wait))}')]
        if not allowed:
            return self.ferr(429, "TooManyRequests", "Too many requests",
                             [("Retry-After", str(max(1, math.ceil(wait))))])
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"]:
            return self.send_json(404, {"error": f"no route {path}"})
        parts = parts[1:]
        shape = tuple("{}" if i in (2, 4) else p for i, p in enumerate(parts))
        allow = {("quotas",): "GET", ("exports", "configs"): "GET, POST",
                 ("exports", "configs", "{}"): "GET, DELETE",
                 ("exports", "configs", "{}", "enable"): "POST",
                 ("exports", "configs", "{}", "disable"): "POST",
                 ("exports", "configs", "{}", "destinations"): "GET, POST",
                 ("exports", "configs", "{}", "destinations", "{}"): "DELETE"}.get(shape)
        if allow is None:
            return self.ferr(404, "NotFound", f"Page not found: {path}")
        if method not in allow.split(", "):
            return self.ferr(405, "MethodNotAllowed", f"{method} not allowed", [("Allow", allow)])
        h = self.headers.get("Authorization", "")
        scheme, _, token = h.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or "invalid" in token.lower():
            return self.ferr(401, "NotAuthenticated", "Invalid authentication information")
        body = None
        if raw.strip():
            body, why = c.json_body(raw)
            if why or not isinstance(body, dict):
                return self.ferr(400, "BadRequest", why or "the body must be a JSON object")
        if not org_name and shape == ("exports", "configs") and method == "POST" and body:
            org_name = body.get("organization_id") or ""
        if not isinstance(org_name, str) or not org_name:
            return self.ferr(400, "BadRequest", "organization_id is required")
        org = st.org(org_name)
        if shape == ("quotas",):
            return self.page([{"exports_configs": a.configs, "exports_destinations": a.destinations,
                               "id": f"quota-{org_name}", "organization_id": org_name,
                               "created_at": org.created, "updated_at": org.created, "version": 0}], q)
        if shape == ("exports", "configs"):
            return self.create_config(org, org_name, body or {}) if method == "POST" else self.list_configs(org, q)
        with org.lock:
            cfg = org.configs.get(parts[2])
            snapshot = cfg and public(cfg)
        if cfg is None:
            return self.ferr(404, "NotFound", f"No record found for id '{parts[2]}'")
        if len(parts) == 3:
            return self.ok(200, snapshot) if method == "GET" else self.delete_config(org, cfg)
        if parts[3] == "enable":
            return self.enable(st, org, cfg)
        if parts[3] == "disable":
            return self.disable(org, cfg)
        if len(parts) == 4:
            return self.page(snapshot["destinations"], q) if method == "GET" else self.attach(st, org, cfg, body or {})
        return self.detach(st, org, cfg, parts[4])

    def create_config(self, org, org_name, body):
        name = body.get("name", "")
        if not isinstance(name, str):
            return self.ferr(400, "BadRequest", "name must be a string")
        t = stamp()
        cfg = {"id": f"cfg-{next(IDS)}", "name": name, "organization_id": org_name, "enabled": False,
               "destinations": [], "created_at": t, "updated_at": t, "_slots": 0}
        with org.lock:
            if len(org.configs) >= 10_000:
                return self.ferr(400, "BadRequest", "too many export configurations")
            org.configs[cfg["id"]] = cfg
        self.ok(201, public(cfg))

    def list_configs(self, org, q):
        want = {"true": True, "false": False}.get(q.get("enabled"))
        if "enabled" in q and want is None:
            return self.ferr(400, "BadRequest", "enabled must be true or false")
        with org.lock:
            rows = [public(x) for x in org.configs.values() if want is None or x["enabled"] == want]
        if q.get("$sort[created_at]") == "-1":
            rows.reverse()
        self.page(rows, q)

    def quota_full(self, name, used, limit):
        self.ferr(429, "TooManyRequests", f"quota exceeded: {name} ({used} of {limit} in use)")

    def take_slot(self, st, org, fits, take, race_bug):
        """Checks `fits()` and runs `take()` in one critical section (correct), or with the
        lock dropped between them (the race bug). Returns False when the quota is full."""
        with org.lock:
            if not fits():
                return False
            if race_bug not in st.bugs:
                take()
                return True
        time.sleep(0.02)  # BUG: another request may take the same slot meanwhile
        with org.lock:
            take()
        return True

    def enable(self, st, org, cfg):
        limit = st.args.configs + (1 if "off-by-one" in st.bugs else 0)

        def take():
            if not cfg["enabled"]:  # enabling an enabled configuration is a no-op
                cfg["enabled"], cfg["updated_at"] = True, stamp()
                org.enabled += 1
        if not self.take_slot(st, org, lambda: cfg["enabled"] or org.enabled < limit, take, "race-enable"):
            return self.quota_full("exports_configs", org.enabled, st.args.configs)
        with org.lock:
            out = public(cfg)
        self.ok(200, out)

    def disable(self, org, cfg):
        with org.lock:
            if cfg["enabled"]:
                cfg["enabled"], cfg["updated_at"] = False, stamp()
                org.enabled -= 1
            out = public(cfg)
        self.ok(200, out)

    def delete_config(self, org, cfg):
        with org.lock:
            if org.configs.pop(cfg["id"], None) is None:
                return self.ferr(404, "NotFound", f"No record found for id '{cfg['id']}'")
            if cfg["enabled"]:
                org.enabled -= 1
            out = public(cfg)
        self.ok(200, out)

    def attach(self, st, org, cfg, body):
        name, kind = body.get("name", ""), body.get("type", "s3")
        if not isinstance(name, str) or not isinstance(kind, str):
            return self.ferr(400, "BadRequest", "name and type must be strings")
        limit = st.args.destinations + (1 if "off-by-one" in st.bugs else 0)
        if "wrong-scope" in st.bugs:  # BUG: counts every destination of the organization
            used = lambda: sum(x["_slots"] for x in org.configs.values())
        else:                         # correct: the limit is per configuration
            used = lambda: cfg["_slots"]
        dest = {"id": f"dst-{next(IDS)}", "name": name, "type": kind, "created_at": stamp()}

        def take():
            cfg["destinations"].append(dest)
            cfg["_slots"] += 1
        if not self.take_slot(st, org, lambda: used() < limit, take, "race-attach"):
            return self.quota_full("exports_destinations", used(), st.args.destinations)
        self.ok(201, dest)

    def detach(self, st, org, cfg, dest_id):
        with org.lock:
            for i, d in enumerate(cfg["destinations"]):
                if d["id"] == dest_id:
                    del cfg["destinations"][i]
                    if "detach-frees-nothing" not in st.bugs:
                        cfg["_slots"] -= 1  # correct: the slot goes back with the destination
                    return self.ok(200, d)
        self.ferr(404, "NotFound", f"No record found for id '{dest_id}'")

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def do_PUT(self):
        self.route("PUT")

    def do_PATCH(self):
        self.route("PATCH")


def main():
    p = c.base_parser("Didomi-style batch-export quota API (independent target)", BUGS)
    p.add_argument("--configs", type=int, default=3, help="exports_configs")
    p.add_argument("--destinations", type=int, default=2, help="exports_destinations")
    p.add_argument("--page-cap", type=int, default=10, help="largest $limit a list honours")
    p.add_argument("--rate", type=float, default=200.0, help="requests per second per organization")
    p.add_argument("--burst", type=int, default=50, help="token bucket depth")
    args = c.parse(p, BUGS)
    c.serve(args, DidomiHandler, State(args))


if __name__ == "__main__":
    main()
