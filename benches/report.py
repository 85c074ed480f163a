#!/usr/bin/env python3
"""Turns the output of `cargo bench --bench core` (criterion's text) into
the markdown tables of BENCHMARKS.md: per group, each peer's median and its
ratio to tardy, and the targets checked. Standard library only.

    cargo bench --bench core -- --noplot | tee core.log
    python3 benches/report.py core.log
"""

import re
import sys

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
TIME = re.compile(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]")


def parse(text):
    """{group: {peer: median_ns}} in the order met."""
    groups = {}
    name = None
    for line in text.splitlines():
        head = line.split()[0] if line.strip() else ""
        if head.count("/") >= 2 and not line.startswith("Benchmarking"):
            name = head
        m = TIME.search(line)
        if m and name:
            value = float(m.group(1)) * UNITS[m.group(2)]
            group, peer = name.rsplit("/", 1)
            groups.setdefault(group, {})[peer] = value
            name = None
    return groups


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    groups = parse(open(sys.argv[1], encoding="utf-8").read())
    kinds = {}
    for g in groups:
        kinds.setdefault(g.split("/")[0], []).append(g)
    for kind, gs in kinds.items():
        peers = []
        for g in gs:
            for p in groups[g]:
                if p not in peers:
                    peers.append(p)
        print(f"\n### {kind}\n")
        print("| group | " + " | ".join(peers) + " |")
        print("|---|" + "---|" * len(peers))
        for g in gs:
            row = groups[g]
            t = row.get("tardy")
            cells = []
            for p in peers:
                if p not in row:
                    cells.append("")
                elif p == "tardy" or not t:
                    cells.append(fmt(row[p]))
                else:
                    cells.append(f"{fmt(row[p])} ({row[p] / t:.2f}x)")
            print(f"| {g} | " + " | ".join(cells) + " |")
    print("\n(x: the peer's median over tardy's; above 1 means tardy is faster)\n")
    print("### targets\n")
    checks = []
    c = groups.get("churn/10000/0.5", {})
    if "tardy" in c and "delay_queue" in c:
        r = c["delay_queue"] / c["tardy"]
        checks.append(("churn/10000/0.5: tardy >= 1.5x faster than DelayQueue", f"{r:.2f}x", r >= 1.5))
    h = groups.get("hold/10000", {})
    if "tardy" in h and "std_heap" in h:
        r = h["tardy"] / h["std_heap"]
        checks.append(("hold/10000: tardy within 1.3x of std BinaryHeap", f"{r:.2f}x slower", r <= 1.3))
    for k in (1, 4, 64):
        c = groups.get(f"cancel_by_subject/10000/{k}", {})
        if "tardy" in c and "retain_scan" in c:
            r = c["retain_scan"] / c["tardy"]
            checks.append((f"cancel_by_subject/10000/{k}: >= 100x faster than retain-scan", f"{r:.0f}x", r >= 100))
    print("| target | measured | met |\n|---|---|---|")
    for what, got, ok in checks:
        print(f"| {what} | {got} | {'yes' if ok else '**no**'} |")


if __name__ == "__main__":
    main()
