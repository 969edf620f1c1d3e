#!/usr/bin/env python3
"""Writes a synthetic history.jsonl of about N operations to stdout, the shape of
benches/check_history.rs's `synthetic` (16 workers ordering against a daily and a
monthly quota, some refused, 2% of orders indeterminate, invalid orders, creates and
cancels on a concurrent quota, worker list reads, a quiescent coordinator snapshot every
10,000 operations), for measuring `quotabench check FILE` (time, peak RSS) without a
Rust build:

    python3 benches/synthetic_history.py 1000000 > /tmp/h.jsonl
    /usr/bin/time -v quotabench check /tmp/h.jsonl

Records are formatted from string templates (the compact form `json.dumps` gives these
records, byte for byte) and written in large blocks: json.dumps per record wrote ~3M
lines a minute, too slow for the 100M-record benchmark.
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

    # `{"id":…,"phase":0,"worker":…,"op":NAME,"name":NAME,"tenant":"org","amount":…,
    # "intended_us":T,"sent_us":T,"done_us":T+300,"outcome":…,"status":201[,"snapshot":…]}`
    def head(name):
        return '","name":"' + name + '","tenant":"org","amount":'

    h_order, h_bad, h_create, h_cancel, h_list = (
        head(x) for x in ("order", "bad", "create", "cancel", "list"))
    readings_fmt = (',"snapshot":[{"name":"daily","limit":%d,"consumed":%d},'
                    '{"name":"monthly","limit":%d,"consumed":%d},'
                    '{"name":"slots","limit":50,"consumed":%d}]}')
    no_snapshot = '}'

    lines = []
    add = lines.append
    i = 0
    while i < n:
        i += 1
        if i % 10_000 == 1:
            t += 1_000
            snap = readings_fmt % (limit, consumed, limit, consumed, slots)
            add(f'{{"id":{i},"phase":0,"worker":{COORDINATOR},"op":"list{h_list}0,'
                f'"intended_us":{t},"sent_us":{t},"done_us":{t + 300},'
                f'"outcome":"accepted","status":201{snap}')
            t += 1_000
        else:
            rng ^= (rng << 13) & mask
            rng ^= rng >> 7
            rng ^= (rng << 17) & mask
            r = rng
            t += 20
            k = r % 100
            tail = no_snapshot
            if k < 60:
                amount = 1 + (r >> 8) % 100
                if consumed + amount > limit:
                    outcome = "rejected_quota"
                elif (r >> 20) % 50 == 0:
                    outcome = "indeterminate"
                else:
                    outcome = "accepted"
                    consumed += amount
                name, h = "order", h_order
            elif k < 70:
                name, h, amount, outcome = "bad", h_bad, 5, "rejected_invalid"
            elif k < 80 and slots < 50:
                slots += 1
                name, h, amount, outcome = "create", h_create, 1, "accepted"
            elif k < 90 and slots > 0:
                slots -= 1
                name, h, amount, outcome = "cancel", h_cancel, 0, "accepted"
            else:
                name, h, amount, outcome = "list", h_list, 0, "accepted"
                tail = readings_fmt % (limit, consumed, limit, consumed, slots)
            add(f'{{"id":{i},"phase":0,"worker":{r % 16},"op":"{name}{h}{amount},'
                f'"intended_us":{t},"sent_us":{t},"done_us":{t + 300},'
                f'"outcome":"{outcome}","status":201{tail}')
        if len(lines) >= 50_000:
            lines.append("")
            out.write("\n".join(lines))
            lines.clear()
    if lines:
        lines.append("")
        out.write("\n".join(lines))
    out.write(json.dumps({"type": "end", "records": n}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
