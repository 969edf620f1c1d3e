#!/usr/bin/env python3
"""Self-test of the independent targets: correct mode never over-admits under 20 concurrent
threads, and each seeded bug visibly misbehaves. Stdlib only; every server is started on
127.0.0.1:0 and stopped by closing its stdin (which also tests the contract).

    python3 tests/targets/selftest.py            # all
    python3 tests/targets/selftest.py adobe      # only tests whose name contains "adobe"
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Server:
    def __init__(self, script, *flags):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, script), "--listen", "127.0.0.1:0",
                                   "--max-seconds", "60", *flags],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        assert line.startswith("LISTENING 127.0.0.1:"), line
        self.addr = line.split()[1]
        self.url = "http://" + self.addr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()  # stdin EOF: the server must exit by itself
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise AssertionError("server did not exit at stdin EOF")
        self.stderr = self.p.stderr.read()


def call(method, url, body=None, headers=None, raw=None, timeout=10):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null"), resp.headers
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text), e.headers
        except ValueError:
            return e.code, text.decode(), e.headers


def keepalive(s, good_path, headers):
    """A body sent to an unknown route must not leak into the next request on the connection."""
    conn = http.client.HTTPConnection(s.addr.split(":")[0], int(s.addr.split(":")[1]), timeout=5)
    conn.request("POST", "/__admin/clock", body=b'{"advance_seconds": 60}', headers=dict(headers))
    r = conn.getresponse()
    r.read()
    assert r.status in (404, 405), r.status
    conn.request("GET", good_path, headers=dict(headers))
    r = conn.getresponse()
    r.read()
    assert r.status == 200, ("keep-alive desynchronised", r.status)
    conn.close()


def together(n, fn):
    """Runs fn(i) on n threads released at once; returns the results."""
    gate, out = threading.Barrier(n), [None] * n

    def run(i):
        gate.wait()
        out[i] = fn(i)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return out


# ---- Adobe-like -------------------------------------------------------------------------
def ah(org="acme"):
    return {"Authorization": "Bearer t", "x-api-key": "k", "x-gw-ims-org-id": org,
            "content-type": "application/json"}


def order(n, tag="x"):
    return {"action": "delete_identity", "datasetId": "ALL",
            "identities": [{"namespace": {"code": "email"}, "id": f"{tag}{i}@x"} for i in range(n)]}


def adobe_quota(s, name, org="acme"):
    st, b, _ = call("GET", f"{s.url}/data/core/hygiene/quota?quotaType={name}", headers=ah(org))
    assert st == 200, (st, b)
    return b["quotas"][0]["consumed"]


def adobe_race(s):
    wo = f"{s.url}/data/core/hygiene/workorder"
    res = together(20, lambda i: [call("POST", wo, order(5), ah())[0] for _ in range(2)])
    return sum(r.count(201) for r in res), adobe_quota(s, "dailyConsumerDeleteIdentitiesQuota")


@test
def adobe_correct():
    with Server("adobe_like.py", "--daily", "50", "--expirations", "2") as s:
        keepalive(s, "/data/core/hygiene/quota", ah())
        acc, used = adobe_race(s)
        assert (acc, used) == (10, 50), (acc, used)
        assert adobe_quota(s, "monthlyConsumerDeleteIdentitiesQuota") == 50
        base = f"{s.url}/data/core/hygiene"
        assert call("GET", f"{base}/quota", headers={"x-api-key": "k", "x-gw-ims-org-id": "a"})[0] == 401
        bad = dict(ah(), Authorization="quotabench-invalid-credential")
        assert call("POST", f"{base}/workorder", order(1), bad)[0] == 401
        assert call("GET", f"{base}/quota?quotaType=nope", headers=ah())[0] == 400
        assert call("POST", f"{base}/workorder", dict(order(1), namespacesIdentities=[]), ah())[0] == 400
        ttl = lambda d: call("POST", f"{base}/ttl", {"datasetId": d, "expiry": "2099-01-01T00:00:00Z"}, ah())
        ids = [b.get("ttlId") for st, b, _ in together(20, lambda i: ttl(f"ds{i}")) if st == 201]
        assert len(ids) == 2, ids
        assert ttl("more")[0] == 429
        assert call("DELETE", f"{base}/ttl/{ids[0]}", headers=ah())[0] == 200
        assert ttl("more")[0] == 201
        assert adobe_quota(s, "datasetExpirationQuota") == 2
        assert adobe_quota(s, "dailyConsumerDeleteIdentitiesQuota", "other") == 0


@test
def adobe_bugs():
    with Server("adobe_like.py", "--daily", "50", "--bug", "race") as s:
        acc, used = adobe_race(s)
        assert used > 50, ("race did not over-admit", acc, used)
    with Server("adobe_like.py", "--daily", "10", "--bug", "off-by-one") as s:
        acc = [call("POST", f"{s.url}/data/core/hygiene/workorder", order(1), ah())[0] for _ in range(12)]
        assert acc.count(201) == 11, acc
    with Server("adobe_like.py", "--bug", "count-rejected") as s:
        bad = dict(order(3), namespacesIdentities=[{"namespace": {"code": "email"}, "ids": ["a"]}])
        assert call("POST", f"{s.url}/data/core/hygiene/workorder", bad, ah())[0] == 400
        assert adobe_quota(s, "dailyConsumerDeleteIdentitiesQuota") == 4
    with Server("adobe_like.py", "--bug", "shared-tenants") as s:
        assert call("POST", f"{s.url}/data/core/hygiene/workorder", order(2), ah("a"))[0] == 201
        assert adobe_quota(s, "dailyConsumerDeleteIdentitiesQuota", "b") == 2
    with Server("adobe_like.py", "--expirations", "1", "--bug", "release-frees-nothing") as s:
        ttl = lambda d: call("POST", f"{s.url}/data/core/hygiene/ttl", {"datasetId": d, "expiry": "2099-01-01T00:00:00Z"}, ah())
        st, b, _ = ttl("a")
        assert call("DELETE", f"{s.url}/data/core/hygiene/ttl/{b['ttlId']}", headers=ah())[0] == 200
        assert ttl("b")[0] == 429


# ---- Didomi-like ------------------------------------------------------------------------
DH = {"Authorization": "Bearer t", "content-type": "application/json"}
FAST = ["--rate", "100000", "--burst", "100000"]


def cfgs(s, n, org="acme"):
    return [call("POST", f"{s.url}/v1/exports/configs?organization_id={org}", {"name": "c"}, DH)[1]["id"]
            for _ in range(n)]


def enabled(s, org="acme"):
    return call("GET", f"{s.url}/v1/exports/configs?organization_id={org}&enabled=true", headers=DH)[1]["total"]


def enable_race(s):
    ids = cfgs(s, 20)
    res = together(20, lambda i: call("POST", f"{s.url}/v1/exports/configs/{ids[i]}/enable?organization_id=acme", headers=DH)[0])
    return res.count(200), enabled(s)


def attach_race(s):
    cid = cfgs(s, 1)[0]
    res = together(20, lambda i: call("POST", f"{s.url}/v1/exports/configs/{cid}/destinations?organization_id=acme", {"type": "s3"}, DH)[0])
    return res.count(201), cid


@test
def didomi_correct():
    with Server("didomi_like.py", *FAST) as s:
        keepalive(s, "/v1/quotas?organization_id=acme", DH)
        assert enable_race(s) == (3, 3)
        n, cid = attach_race(s)
        assert n == 2, n
        st, page, _ = call("GET", f"{s.url}/v1/exports/configs?organization_id=acme&$limit=1000", headers=DH)
        assert (page["total"], page["limit"], len(page["data"])) == (21, 10, 10), page
        st, b, _ = call("POST", f"{s.url}/v1/exports/configs/{cid}/enable?organization_id=acme", headers=DH)
        assert st == 429 and "quota" in b["message"], (st, b)
        assert call("GET", f"{s.url}/v1/quotas?organization_id=acme", headers={})[0] == 401
        assert call("POST", f"{s.url}/v1/exports/configs", {"name": "x"}, DH)[0] == 400
    with Server("didomi_like.py", "--rate", "2", "--burst", "3") as s:
        cid = cfgs(s, 1)[0]
        res = [call("POST", f"{s.url}/v1/exports/configs/{cid}/destinations?organization_id=acme", {}, DH)
               for _ in range(6)]
        limited = [r for r in res if r[0] == 429]
        assert limited, "rate limiter never answered"
        st, b, h = limited[0]
        assert b == {"name": "TooManyRequests", "message": "Too many requests", "code": 429,
                     "className": "too-many-requests", "errors": {}}, b
        assert h["Retry-After"] and h["RateLimit-Policy"] and h["RateLimit"], dict(h)
        time.sleep(1.6)
        st, c, _ = call("GET", f"{s.url}/v1/exports/configs/{cid}?organization_id=acme", headers=DH)
        assert len(c["destinations"]) == sum(1 for r in res if r[0] == 201) == 2, (res, c)


@test
def didomi_bugs():
    with Server("didomi_like.py", *FAST, "--bug", "race-enable") as s:
        assert enable_race(s)[1] > 3
    with Server("didomi_like.py", *FAST, "--bug", "race-attach") as s:
        assert attach_race(s)[0] > 2
    with Server("didomi_like.py", *FAST, "--bug", "off-by-one") as s:
        assert enable_race(s) == (4, 4)
    with Server("didomi_like.py", *FAST, "--bug", "wrong-scope") as s:
        a, b = cfgs(s, 2)
        att = lambda c: call("POST", f"{s.url}/v1/exports/configs/{c}/destinations?organization_id=acme", {}, DH)[0]
        assert [att(a), att(a), att(b)] == [201, 201, 429]
    with Server("didomi_like.py", *FAST, "--bug", "shared-tenants") as s:
        cid = cfgs(s, 1, "a")[0]
        call("POST", f"{s.url}/v1/exports/configs/{cid}/enable?organization_id=a", headers=DH)
        assert enabled(s, "b") == 1
    with Server("didomi_like.py", *FAST, "--destinations", "1", "--bug", "detach-frees-nothing") as s:
        cid = cfgs(s, 1)[0]
        u = f"{s.url}/v1/exports/configs/{cid}/destinations"
        d = call("POST", f"{u}?organization_id=acme", {}, DH)[1]["id"]
        assert call("DELETE", f"{u}/{d}?organization_id=acme", headers=DH)[0] == 200
        assert call("POST", f"{u}?organization_id=acme", {}, DH)[0] == 429


# ---- window service ---------------------------------------------------------------------
def hits(s, n, amount=1, key="calls", ns="n"):
    return [call("POST", f"{s.url}/v1/hit/{ns}/{key}", {"amount": amount})[0] for _ in range(n)]


def counters(s, ns="n"):
    return {c["key"]: c for c in call("GET", f"{s.url}/v1/counters/{ns}")[1]["counters"]}


def window_race(s):
    res = together(20, lambda i: hits(s, 5))
    return sum(r.count(200) for r in res), counters(s)["calls"]["remaining"]


@test
def window_correct():
    with Server("window_service.py", "--limit", "50", "--window", "1.5") as s:
        keepalive(s, "/v1/limits/n", {})
        assert counters(s) == {}, "a counter exists before its first hit"
        assert window_race(s) == (50, 0)
        st, b, _ = call("POST", f"{s.url}/v1/hit/n/calls", {"amount": 1})
        assert st == 429 and b["error"]["code"] == "QUOTA_EXCEEDED", b
        assert call("GET", f"{s.url}/v1/limits/n")[1]["limits"][0] == {"key": "calls", "limit": 50, "window_seconds": 1.5}
        time.sleep(1.6)
        assert counters(s) == {}, "the window did not end"
        assert hits(s, 1) == [200]


@test
def window_bugs():
    with Server("window_service.py", "--limit", "50", "--bug", "race") as s:
        assert window_race(s)[0] > 50
    with Server("window_service.py", "--limit", "5", "--bug", "off-by-one") as s:
        assert hits(s, 7).count(200) == 6
    with Server("window_service.py", "--limit", "10", "--bug", "count-rejected") as s:
        assert call("POST", f"{s.url}/v1/hit/n/calls", {"amount": 3, "tags": "x"})[0] == 400
        assert counters(s)["calls"]["remaining"] == 7
    with Server("window_service.py", "--limit", "2", "--bug", "wrapped-remaining") as s:
        assert hits(s, 3) == [200, 200, 429]
        assert counters(s)["calls"]["remaining"] == 18446744073709551615
    with Server("window_service.py", "--limit", "2", "--window", "0.5", "--bug", "never-resets") as s:
        assert hits(s, 3) == [200, 200, 429]
        time.sleep(0.7)
        assert hits(s, 1) == [429] and "calls" in counters(s)


# ---- hostile proxy ----------------------------------------------------------------------
@test
def proxy_faults():
    with Server("adobe_like.py") as up:
        wo = "/data/core/hygiene/workorder"
        daily = lambda: adobe_quota(up, "dailyConsumerDeleteIdentitiesQuota")
        for kind, expect_status, applied in [("429-no-apply", 429, 0), ("502-after-apply", 502, 1),
                                              ("504-after-apply", 504, 1), ("passthrough", 201, 1)]:
            with Server("hostile_proxy.py", "--upstream", up.addr, "--share", "1", "--fault", kind) as px:
                before = daily()
                st = call("POST", px.url + wo, order(1), ah())[0]
                assert st == expect_status and daily() - before == applied, (kind, st)
        with Server("hostile_proxy.py", "--upstream", up.addr, "--share", "1", "--fault", "reset-after-apply") as px:
            before = daily()
            try:
                call("POST", px.url + wo, order(1), ah())
                raise AssertionError("reset-after-apply answered")
            except (ConnectionError, http.client.HTTPException, urllib.error.URLError):
                pass
            assert daily() - before == 1
        with Server("hostile_proxy.py", "--upstream", up.addr, "--share", "1", "--fault", "cut-body",
                    "--only-method", "GET") as px:
            assert call("POST", px.url + wo, order(1), ah())[0] == 201  # POST not eligible
            try:
                call("GET", px.url + "/data/core/hygiene/quota", headers=ah())
                raise AssertionError("cut-body delivered a whole body")
            except http.client.IncompleteRead:
                pass
            stats = call("GET", px.url + "/__proxy/stats")[1]["injected"]
            assert stats["cut-body"] == 1 and stats["passthrough"] == 1, stats
        with Server("hostile_proxy.py", "--upstream", up.addr, "--share", "1", "--fault", "stall",
                    "--stall-seconds", "1") as px:
            before, t = daily(), time.monotonic()
            try:
                call("POST", px.url + wo, order(1), ah(), timeout=5)
                raise AssertionError("stall answered")
            except (ConnectionError, http.client.HTTPException, urllib.error.URLError):
                pass
            assert time.monotonic() - t >= 0.9 and daily() == before
        assert "stall-before-apply" in px.stderr, px.stderr


def main():
    picked = [t for t in TESTS if not sys.argv[1:] or any(a in t.__name__ for a in sys.argv[1:])]
    failed = 0
    for t in picked:
        t0 = time.monotonic()
        try:
            t()
            print(f"ok    {t.__name__} ({time.monotonic() - t0:.1f}s)")
        except Exception as e:  # report and go on
            failed += 1
            print(f"FAIL  {t.__name__}: {type(e).__name__}: {e}")
    print(f"{len(picked) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
