#!/usr/bin/env python3
"""The Python peer of tardy's benchmarks: the same fill_drain and
cancel-by-subject work done with the standard library's `sched` module,
on a simulated clock (no real sleeping).

- fill_drain/N: enter N events with random times, move the clock past all
  of them and run the scheduler, which takes every event out in time order.
- cancel_by_subject/N/k: N events, k per subject, a dict from subject to its
  events (sched has no cancel by subject); cancel every subject in random
  order with `scheduler.cancel` and check nothing is left. Only the
  cancelling is timed.

Prints one line per workload: `name median_seconds runs`. Standard library
only. Run by `cargo bench --bench latency` (section `python`), or alone:
`python3 benches/python_sched.py [--n 10000] [--runs 5] [--cancel-runs 1]`.
"""

import argparse
import random
import sched
import statistics
import time

SPAN = 1_000_000  # deadlines 1..=SPAN ticks ahead, as in the Rust benches


class Clock:
    """A simulated clock for sched: `delayfunc` moves it instead of
    sleeping."""

    def __init__(self):
        self.now = 0

    def time(self):
        return self.now

    def delay(self, d):
        self.now += d


def fill_drain(n, rng):
    clock = Clock()
    s = sched.scheduler(clock.time, clock.delay)
    taken = []
    action = taken.append
    delays = [1 + rng.randrange(SPAN) for _ in range(n)]
    start = time.perf_counter()
    for i, d in enumerate(delays):
        s.enter(d, 0, action, (i,))
    clock.now += SPAN + 1  # everything is due
    s.run()
    elapsed = time.perf_counter() - start
    assert len(taken) == n and s.empty()
    return elapsed


def cancel_by_subject(n, k, rng):
    clock = Clock()
    s = sched.scheduler(clock.time, clock.delay)
    subjects = n // k
    order = list(range(subjects * k))
    rng.shuffle(order)
    by_subject = {}
    for token in order:
        event = s.enter(1 + rng.randrange(SPAN), 0, print, (token,))
        by_subject.setdefault(token // k, []).append(event)
    cancel_order = list(range(subjects))
    rng.shuffle(cancel_order)
    start = time.perf_counter()
    for subject in cancel_order:
        for event in by_subject.pop(subject):
            s.cancel(event)
    elapsed = time.perf_counter() - start
    assert s.empty(), "events left after cancelling every subject"
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cancel-runs", type=int, default=1, help="each takes seconds")
    args = ap.parse_args()
    rng = random.Random(1)
    runs = max(1, args.runs)
    t = [fill_drain(args.n, rng) for _ in range(runs)]
    print(f"fill_drain/{args.n} {statistics.median(t):.9f} {runs}", flush=True)
    cancel_runs = max(1, args.cancel_runs)
    for k in (1, 4, 64):
        t = [cancel_by_subject(args.n, k, rng) for _ in range(cancel_runs)]
        print(f"cancel_by_subject/{args.n}/{k} {statistics.median(t):.9f} {cancel_runs}", flush=True)


if __name__ == "__main__":
    main()
