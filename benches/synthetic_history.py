#!/usr/bin/env python3
"""Writes a synthetic history.jsonl of about N operations to stdout, the shape of
benches/check_history.rs's `synthetic` (16 workers ordering against a daily and a
monthly quota, some refused, 2% of orders indeterminate, invalid orders, creates and
cancels on a concurrent quota, worker list reads, a quiescent coordinator snapshot every
10,000 operations), for measuring `quotabench check FILE` (time, peak RSS) without a
Rust build:

    python3 benches/synthetic_history.py 1000000 > /tmp/h.jsonl
    /usr/bin/time -v quotabench check /tmp/h.jsonl
"""

import json
import sys

COORDINATOR = 4294967295


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out = sys.stdout
    header = {
        "type": "header", "history_version": 1, "scenario": "bench",
        "profile": "adobe-hygiene", "target": "http://127.0.0.1:1", "tenant": "org",
        "started_at": "2026-11-21T05:00:00Z", "phases": ["load"],
        "quotas": [
            {"name": "daily", "kind": "period", "period": "daily"},
            {"name": "monthly", "kind": "period", "period": "monthly"},
            {"name": "slots", "kind": "concurrent"},
        ],
        "operations": {
            "order": {"kind": "consume", "touches": ["daily", "monthly"]},
            "bad": {"kind": "consume_invalid"},
            "create": {"kind": "consume", "touches": ["slots"]},
            "cancel": {"kind": "release", "releases": "create"},
            "list": {"kind": "list"},
        },
        "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
        "clock_control": False,
    }
    out.write(json.dumps(header, separators=(",", ":")) + "\n")
    limit = 15 * n
    consumed = slots = 0
    t = 1_000
    rng = 0x9E3779B97F4A7C15
    mask = (1 << 64) - 1

    def rec(i, worker, name, amount, t, outcome, snapshot=None):
        r = {"id": i, "phase": 0, "worker": worker, "op": name, "name": name,
             "tenant": "org", "amount": amount, "intended_us": t, "sent_us": t,
             "done_us": t + 300, "outcome": outcome, "status": 201}
        if snapshot is not None:
            r["snapshot"] = snapshot
        return json.dumps(r, separators=(",", ":"))

    def readings():
        return [
            {"name": "daily", "limit": limit, "consumed": consumed},
            {"name": "monthly", "limit": limit, "consumed": consumed},
            {"name": "slots", "limit": 50, "consumed": slots},
        ]

    lines = []
    i = 0
    while i < n:
        i += 1
        if i % 10_000 == 1:
            t += 1_000
            lines.append(rec(i, COORDINATOR, "list", 0, t, "accepted", readings()))
            t += 1_000
        else:
            rng ^= (rng << 13) & mask
            rng ^= rng >> 7
            rng ^= (rng << 17) & mask
            r = rng
            worker = r % 16
            t += 20
            k = r % 100
            if k < 60:
                amount = 1 + (r >> 8) % 100
                if consumed + amount > limit:
                    outcome = "rejected_quota"
                elif (r >> 20) % 50 == 0:
                    outcome = "indeterminate"
                else:
                    outcome = "accepted"
                    consumed += amount
                lines.append(rec(i, worker, "order", amount, t, outcome))
            elif k < 70:
                lines.append(rec(i, worker, "bad", 5, t, "rejected_invalid"))
            elif k < 80 and slots < 50:
                slots += 1
                lines.append(rec(i, worker, "create", 1, t, "accepted"))
            elif k < 90 and slots > 0:
                slots -= 1
                lines.append(rec(i, worker, "cancel", 0, t, "accepted"))
            else:
                lines.append(rec(i, worker, "list", 0, t, "accepted", readings()))
        if len(lines) >= 10_000:
            out.write("\n".join(lines) + "\n")
            lines = []
    if lines:
        out.write("\n".join(lines) + "\n")
    out.write(json.dumps({"type": "end", "records": n}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
