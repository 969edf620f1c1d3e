#!/usr/bin/env python3
"""Runs a shipped quotabench suite against one of the independent targets, in correct mode
and with each seeded bug, each on a fresh server (a fresh live tenant), and prints one line
per run: mode, exit code, overall verdict, and the rules that were not `pass`.

    python3 tests/targets/run_suites.py adobe  [BUG...]   # scenarios/conformance/adobe-hygiene.yaml
    python3 tests/targets/run_suites.py didomi [BUG...]
    python3 tests/targets/run_suites.py window [BUG...]   # tests/targets/window-service.scenario.yaml
Env: QB (default target/release/quotabench), QB_TIMEOUT (per run, default 300 s),
     TARGET_FLAGS (extra server flags, e.g. "--page-cap 1000"), PROXY (proxy flags: runs behind it).
"""
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITES = {
    "adobe": ("adobe_like.py", "scenarios/conformance/adobe-hygiene.yaml"),
    "didomi": ("didomi_like.py", "scenarios/conformance/didomi.yaml"),
    "window": ("window_service.py", "tests/targets/window-service.scenario.yaml"),
}


def start(script, flags):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, script), "--listen", "127.0.0.1:0",
                          "--max-seconds", "900", *flags],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p, p.stdout.readline().split()[1]


def stop(p):
    p.stdin.close()
    p.wait(timeout=10)
    return p.stderr.read()


def run(suite, bug):
    script, scenario = SUITES[suite]
    qb = os.environ.get("QB", os.path.join(ROOT, "target/release/quotabench"))
    flags = shlex.split(os.environ.get("TARGET_FLAGS", "")) + (["--bug", bug] if bug else [])
    srv, addr = start(script, flags)
    px = None
    if os.environ.get("PROXY"):
        px, addr = start("hostile_proxy.py", ["--upstream", addr] + shlex.split(os.environ["PROXY"]))
    out = tempfile.mkdtemp(prefix=f"qb-{suite}-{bug or 'correct'}-")
    try:
        r = subprocess.run([qb, "run", os.path.join(ROOT, scenario), "--target", f"http://{addr}", "--out", out],
                           cwd=ROOT, capture_output=True, text=True,
                           timeout=float(os.environ.get("QB_TIMEOUT", 300)))
        code = r.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    finally:
        proxy_err = stop(px).strip() if px else ""
        stop(srv)
    summaries = glob.glob(os.path.join(out, "**", "summary.json"), recursive=True)
    if not summaries:
        print(f"{bug or 'correct':24} exit={code} no summary ({out}); stderr: {r.stderr.strip()[-400:] if code != 'timeout' else ''}")
        return
    s = json.load(open(summaries[0]))
    bad = [f"{x['id']}={x['verdict']}" for x in s["rules"] if x["verdict"] != "pass"]
    print(f"{bug or 'correct':24} exit={code} verdict={s['verdict']} {' '.join(bad)}  [{out}] {proxy_err}", flush=True)


def main():
    suite, bugs = sys.argv[1], sys.argv[2:]
    if not bugs:
        script = SUITES[suite][0]
        listed = subprocess.run([sys.executable, os.path.join(HERE, script), "--list-bugs"],
                                capture_output=True, text=True).stdout.split("\n")
        bugs = [""] + [b.split("\t")[0] for b in listed if b]
    for b in bugs:
        run(suite, "" if b == "correct" else b)


if __name__ == "__main__":
    main()
