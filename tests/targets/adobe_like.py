#!/usr/bin/env python3
"""An independent Adobe Data Hygiene-style quota API (wire-compatible with
profiles/adobe-hygiene.yaml), written from the public reference, not from src/fake/.

    python3 tests/targets/adobe_like.py --listen 127.0.0.1:0 [--daily 1000] [--monthly 5000]
        [--expirations 5] [--bug NAME]...

Live-tenant semantics: a real UTC clock, no admin routes, state kept until exit.
Correctness argument, in one place: every admission decision and the counter update it
implies happen inside ONE critical section (`with org.lock`), so no two orders can both
see the same room (see `admit`). The seeded bugs each bend exactly one step of that.
"""
import itertools
import threading
import time
from datetime import datetime, timedelta, timezone

import qbt_common as c

BUGS = {
    "race": ("limit.never-exceeded", "check under the lock, sleep without it, then add: over-admits"),
    "off-by-one": ("limit.never-exceeded", "admits an order that brings consumed to limit+1"),
    "count-rejected": ("rejected.invalid-not-counted", "a validation-rejected work order still adds its identities"),
    "shared-tenants": ("isolation.tenants", "every organization shares one set of counters"),
    "release-frees-nothing": ("concurrent.release-frees", "DELETE /ttl/{id} cancels but keeps the slot"),
}
BASE = "/data/core/hygiene"
DAILY, MONTHLY = "dailyConsumerDeleteIdentitiesQuota", "monthlyConsumerDeleteIdentitiesQuota"
UPDATED, EXPIRATIONS = "monthlyUpdatedFieldIdentitiesQuota", "datasetExpirationQuota"
DESCRIPTIONS = {
    EXPIRATIONS: "Active dataset expirations",
    DAILY: "Identities deleted by record-delete work orders today (UTC)",
    MONTHLY: "Identities deleted by record-delete work orders this month (UTC)",
    UPDATED: "Identities updated by record-update work orders this month (UTC)",
}
MAX_IDENTITIES = 100_000
IDS = itertools.count(1)  # work order and expiration numbers, unique across the process


# `--clock-offset`: this target's UTC clock runs this far from the machine's, so a test
# can put its day boundary seconds away; GET /__admin/clock then reads it (no hook).
CLOCK_OFFSET = timedelta(0)
CLOCK_READABLE = False


def now():
    return datetime.now(timezone.utc) + CLOCK_OFFSET


def period_index(kind, t):
    """The UTC calendar period an instant belongs to: day number or year*12+month."""
    if kind == "daily":
        return (t - datetime(1970, 1, 1, tzinfo=timezone.utc)).days
    return t.year * 12 + t.month - 1


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Org:
    """One tenant's counters. `lock` guards everything below it."""

    def __init__(self, limits):
        self.lock = threading.Lock()
        self.limits = dict(limits)
        # period counters: name -> [consumed, period index it belongs to]
        self.periods = {DAILY: [0, None], MONTHLY: [0, None], UPDATED: [0, None]}
        self.kinds = {DAILY: "daily", MONTHLY: "monthly", UPDATED: "monthly"}
        self.slots = 0          # datasetExpirationQuota consumed (== pending, unless a bug)
        self.ttls = {}          # ttlId -> record
        self.workorders = {}    # workorderId -> record (last 10,000)

    def roll(self, t):
        """Lazy reset: a counter whose period is not the current one starts again at 0;
        expirations whose expiry passed execute and free their slot."""
        for name, cell in self.periods.items():
            cur = period_index(self.kinds[name], t)
            if cell[1] != cur:
                cell[0], cell[1] = 0, cur
        for rec in self.ttls.values():
            if rec["status"] == "pending" and rec["_expiry"] <= t:
                rec["status"] = "completed"
                self.slots -= 1

    def consumed(self, name):
        return self.slots if name == EXPIRATIONS else self.periods[name][0]

    def over(self, needs, slack):
        """The first quota the order does not fit in, or None. All or nothing."""
        for name, amount in needs.items():
            if self.consumed(name) + amount > self.limits[name] + slack:
                return name
        return None

    def add(self, needs):
        for name, amount in needs.items():
            if name == EXPIRATIONS:
                self.slots += amount
            else:
                self.periods[name][0] += amount


class State:
    def __init__(self, args):
        self.args, self.bugs = args, set(args.bug)
        self.limits = {DAILY: args.daily, MONTHLY: args.monthly, UPDATED: args.updated_fields,
                       EXPIRATIONS: args.expirations}
        self.orgs, self.lock = {}, threading.Lock()

    def org(self, name):
        if "shared-tenants" in self.bugs:
            name = "*"  # BUG: one counter for every organization
        with self.lock:
            if name not in self.orgs:
                self.orgs[name] = Org(self.limits)
            return self.orgs[name]

    def admit(self, org, needs, apply):
        """Checks `needs` against every quota and applies the order. Returns the quota that
        is full (order refused, nothing changed) or None (accepted, `apply()` ran)."""
        slack = 1 if "off-by-one" in self.bugs else 0  # BUG off-by-one: limit+1 fits
        with org.lock:
            org.roll(now())
            full = org.over(needs, slack)
            if full or "race" not in self.bugs:
                if not full:
                    org.add(needs)  # correct: the add is in the same critical section as the check
                    apply()
                return full
        # BUG race: the check above is stale by the time we add; no re-check.
        time.sleep(0.015)
        with org.lock:
            org.add(needs)
            apply()
        return None


def count_identities(body):
    """Identities an order names in either form, counting what is countable."""
    n = 0
    if isinstance(body.get("identities"), list):
        n += len(body["identities"])
    if isinstance(body.get("namespacesIdentities"), list):
        for g in body["namespacesIdentities"]:
            if isinstance(g, dict) and isinstance(g.get("ids"), list):
                n += len(g["ids"])
    return n


def validate_workorder(body):
    """(identity count, None) or (None, why it is invalid)."""
    if not isinstance(body, dict):
        return None, "the body must be a JSON object"
    if body.get("action") != "delete_identity":
        return None, "action must be delete_identity"
    ds = body.get("datasetId")
    if not isinstance(ds, str) or not ds:
        return None, "datasetId is required"
    for f in ("displayName", "description"):
        if f in body and not isinstance(body[f], str):
            return None, f"{f} must be a string"
    has_i, has_n = "identities" in body, "namespacesIdentities" in body
    if has_i and has_n:
        return None, "give either identities or namespacesIdentities, not both"
    if not has_i and not has_n:
        return None, "identities or namespacesIdentities is required"

    def ns_ok(x):
        return isinstance(x, dict) and isinstance(x.get("namespace"), dict) \
            and isinstance(x["namespace"].get("code"), str) and x["namespace"]["code"]
    if has_i:
        ids = body["identities"]
        if not isinstance(ids, list) or not all(ns_ok(x) and isinstance(x.get("id"), str) for x in ids):
            return None, "identities must be a list of {namespace: {code}, id}"
        n = len(ids)
    else:
        groups = body["namespacesIdentities"]
        if not isinstance(groups, list) or not all(
                ns_ok(g) and isinstance(g.get("ids"), list) and all(isinstance(i, str) for i in g["ids"])
                for g in groups):
            return None, "namespacesIdentities must be a list of {namespace: {code}, ids: [...]}"
        n = sum(len(g["ids"]) for g in groups)
    if n == 0:
        return None, "at least one identity is required"
    if n > MAX_IDENTITIES:
        return None, f"at most {MAX_IDENTITIES} identities per work order"
    return n, None


def parse_iso(s):
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


class AdobeHandler(c.Handler):
    def err(self, status, msg, code=None, headers=()):
        label = {400: "400 BAD REQUEST", 401: "401013", 403: "403003", 404: "404 NOT FOUND",
                 405: "405 METHOD NOT ALLOWED", 429: "429 TOO MANY REQUESTS"}.get(status, str(status))
        self.send_json(status, {"error_code": code or label, "message": msg}, headers)

    def auth(self):
        """Returns the organization, or None after answering 401/403.
        A bearer token must be `Bearer <non-empty>`; the credentials probe sends the
        header removed or replaced by a value with no scheme, both refused here."""
        h = self.headers.get("Authorization", "")
        scheme, _, token = h.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or "invalid" in token.lower():
            self.err(401, "Oauth token is not valid")
            return None
        key = self.headers.get("x-api-key", "")
        if not key.strip() or "invalid" in key.lower():
            self.err(403, "Api Key is invalid")
            return None
        org = self.headers.get("x-gw-ims-org-id", "").strip()
        if not org:
            self.err(403, "x-gw-ims-org-id is required")
            return None
        return org

    def route(self, method):
        # Read the body first, whatever the answer: an unread body would be taken for the
        # next request on this keep-alive connection.
        raw = self.read_body()
        if raw is None:
            return
        path, q = c.query_params(self.path)
        if path == "/__admin/clock" and CLOCK_READABLE:
            if method != "GET":
                return self.err(405, "the clock can be read, not moved", headers=[("Allow", "GET")])
            return self.send_json(200, {"now": iso(now())})
        if not path.startswith(BASE + "/"):
            return self.send_json(404, {"error": f"no route {path}"})
        rest = path[len(BASE):].rstrip("/")
        parts = rest.strip("/").split("/")
        allowed = {"/quota": "GET", "/workorder": "POST", "/ttl": "GET, POST"}.get(rest)
        if allowed is None and len(parts) == 2 and parts[0] in ("workorder", "ttl"):
            allowed = "GET" if parts[0] == "workorder" else "GET, DELETE"
        if allowed is None:
            return self.err(404, f"no route {path}")
        if method not in allowed.split(", "):
            return self.err(405, f"{method} not allowed", headers=[("Allow", allowed)])
        org_name = self.auth()
        if org_name is None:
            return
        st = self.server.state
        org = st.org(org_name)
        if rest == "/quota":
            return self.list_quota(org, q)
        if rest == "/workorder":
            return self.workorder(st, org, org_name, raw)
        if rest == "/ttl" and method == "POST":
            return self.create_ttl(st, org, org_name, raw)
        if rest == "/ttl":
            return self.list_ttl(org, q)
        if parts[0] == "workorder":
            with org.lock:
                rec = org.workorders.get(parts[1])
            return self.send_json(200, rec) if rec else self.err(404, "no such work order")
        if method == "GET":
            with org.lock:
                org.roll(now())
                rec = org.ttls.get(parts[1])
                rec = rec and {k: v for k, v in rec.items() if not k.startswith("_")}
            return self.send_json(200, rec) if rec else self.err(404, "no such expiration")
        return self.cancel_ttl(st, org, parts[1])

    def list_quota(self, org, q):
        with org.lock:
            org.roll(now())
            rows = [{"name": n, "description": DESCRIPTIONS[n], "consumed": org.consumed(n),
                     "quota": org.limits[n]} for n in (EXPIRATIONS, DAILY, MONTHLY, UPDATED)]
        if "quotaType" in q:
            rows = [r for r in rows if r["name"] == q["quotaType"]]
            if not rows:
                return self.err(400, f"unknown quotaType {q['quotaType']!r}")
        self.send_json(200, {"quotas": rows})

    def workorder(self, st, org, org_name, raw):
        body, why = c.json_body(raw)
        n, why = (None, why) if why else validate_workorder(body)
        if why:
            if "count-rejected" in st.bugs and isinstance(body, dict):
                with org.lock:  # BUG: the refused order's identities are counted anyway
                    org.roll(now())
                    org.add({DAILY: count_identities(body), MONTHLY: count_identities(body)})
            return self.err(400, why)
        t = now()
        rec = {"workorderId": f"DI-{next(IDS)}", "orgId": org_name, "action": "delete_identity",
               "datasetId": body["datasetId"], "displayName": body.get("displayName", ""),
               "description": body.get("description", ""), "createdAt": iso(t),
               "updatedAt": iso(t), "status": "received", "operationCount": n}

        def keep():
            org.workorders[rec["workorderId"]] = rec
            if len(org.workorders) > 10_000:
                org.workorders.pop(next(iter(org.workorders)))
        full = st.admit(org, {DAILY: n, MONTHLY: n}, keep)
        if full:
            return self.quota_full(org, full, n)
        self.send_json(201, rec)

    def quota_full(self, org, name, n):
        with org.lock:
            used, lim = org.consumed(name), org.limits[name]
        self.err(429, f"quota exceeded: {name} (consumed {used} of {lim}, order of {n})")

    def create_ttl(self, st, org, org_name, raw):
        body, why = c.json_body(raw)
        if not why and not isinstance(body, dict):
            why = "the body must be a JSON object"
        if not why:
            ds, exp = body.get("datasetId"), parse_iso(body.get("expiry"))
            if not isinstance(ds, str) or not ds:
                why = "datasetId is required"
            elif exp is None:
                why = "expiry must be an ISO 8601 date-time"
            elif exp < now() + timedelta(days=1):
                why = "expiry must be at least 24 hours ahead"
            elif any(not isinstance(body.get(f, ""), str) for f in ("displayName", "description")):
                why = "displayName and description must be strings"
        if why:
            return self.err(400, why)
        t = now()
        rec = {"ttlId": f"SD-{next(IDS)}", "datasetId": ds, "imsOrg": org_name,
               "expiry": iso(exp), "displayName": body.get("displayName", ""),
               "description": body.get("description", ""), "status": "pending",
               "createdAt": iso(t), "updatedAt": iso(t), "_expiry": exp}
        dup = []

        def keep():
            # One pending expiration per dataset: checked inside the same critical section.
            if any(r["datasetId"] == ds and r["status"] == "pending" for r in org.ttls.values()):
                dup.append(1)
                org.slots -= 1  # undo the slot admit() just took
                return
            org.ttls[rec["ttlId"]] = rec
        full = st.admit(org, {EXPIRATIONS: 1}, keep)
        if full:
            return self.quota_full(org, full, 1)
        if dup:
            return self.err(400, f"dataset {ds} already has a pending expiration")
        self.send_json(201, {k: v for k, v in rec.items() if not k.startswith("_")})

    def cancel_ttl(self, st, org, ttl_id):
        with org.lock:
            org.roll(now())
            rec = org.ttls.get(ttl_id)
            if not rec or rec["status"] != "pending":
                return self.err(404, f"no pending expiration {ttl_id}")
            rec["status"], rec["updatedAt"] = "cancelled", iso(now())
            if "release-frees-nothing" not in st.bugs:
                org.slots -= 1  # correct: the cancelled expiration gives its slot back
            out = {k: v for k, v in rec.items() if not k.startswith("_")}
        self.send_json(200, {"message": f"expiration {ttl_id} cancelled", "ttl": out})

    def list_ttl(self, org, q):
        try:
            page, limit = int(q.get("page", 0)), int(q.get("limit", 25))
        except ValueError:
            return self.err(400, "page and limit must be integers")
        if page < 0 or not 1 <= limit <= 100:
            return self.err(400, "page >= 0 and 1 <= limit <= 100")
        statuses = set(q["status"].split(",")) if q.get("status") else None
        with org.lock:
            org.roll(now())
            rows = [{k: v for k, v in r.items() if not k.startswith("_")}
                    for r in reversed(list(org.ttls.values()))
                    if (statuses is None or r["status"] in statuses)
                    and q.get("datasetId") in (None, r["datasetId"])]
        self.send_json(200, {"results": rows[page * limit:(page + 1) * limit], "current_page": page,
                             "total_pages": (len(rows) + limit - 1) // limit, "total_count": len(rows)})

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
    p = c.base_parser("Adobe Data Hygiene-style quota API (independent target)", BUGS)
    p.add_argument("--daily", type=int, default=1000, help=DAILY)
    p.add_argument("--monthly", type=int, default=5000, help=MONTHLY)
    p.add_argument("--expirations", type=int, default=5, help=EXPIRATIONS)
    p.add_argument("--updated-fields", type=int, default=0, help=UPDATED)
    p.add_argument("--clock-offset", type=float, default=None, metavar="SECONDS",
                   help="run this target's UTC clock SECONDS from the machine's and serve "
                        "it at GET /__admin/clock (read only)")
    args = c.parse(p, BUGS)
    global CLOCK_OFFSET, CLOCK_READABLE
    CLOCK_OFFSET = timedelta(seconds=args.clock_offset or 0)
    CLOCK_READABLE = args.clock_offset is not None
    c.serve(args, AdobeHandler, State(args))


if __name__ == "__main__":
    main()
