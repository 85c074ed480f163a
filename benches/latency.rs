//! The latency and footprint harness (no criterion: it reports
//! distributions, not means).
//!
//! Sections, all in one process so that the ratios hold on a noisy machine:
//!
//! - `footprint`: `size_of` per task slot, and a counting allocator that
//!   checks the steady state of the core workloads (hold, churn with cancel
//!   and with reschedule, cancel-by-subject, fill-drain) allocates nothing;
//! - `python`: runs `benches/python_sched.py` (Python's `sched`) and the
//!   same fill_drain/10000 and cancel_by_subject/10000/k work on tardy's
//!   core, and prints the ratios;
//! - `handoff`: a task scheduled ASAP in one thread, taken by a worker
//!   blocked in `get_task`: tardy's `SchedulerThread`, a bare
//!   Mutex+Condvar (the floor) and a crossbeam-channel `recv`;
//! - `lateness`: `get_task` return time minus deadline, for deadlines 1 ms
//!   and 10 ms ahead, random 0–100 ms, and bursts of 1000 sharing one
//!   deadline, against a bare `Condvar::wait_timeout` on the same deadlines
//!   (the floor). An early delivery fails the run.
//! - `async`: the same two for async workers, tokio tasks awaiting
//!   `get_task_async` on tokio's multi-threaded runtime (2 worker threads):
//!   handoff next to a bare `tokio::sync::Notify` (the floor), lateness for
//!   deadlines 1 ms and 10 ms ahead and random 0–100 ms next to
//!   tokio-util's `DelayQueue` driven by one tokio task on the same runtime
//!   and the real clock. An early delivery fails the run.
//! - `lockhold`: 10^6 tasks (`--tasks N` to change) made due at once for
//!   one unbounded queue, moved by each path that moves due tasks (the
//!   background thread, `run_pending`, `run_all`, a `schedule` for a past
//!   deadline, `join` with a worker taking them) while a probe thread calls
//!   `scheduled_len()` in a tight loop: the probe's slowest calls, next to a
//!   plain `Mutex` held for 64 heap pops at a time (the floor) and the
//!   core's unbounded `run_all()` under one hold (the old behaviour); and
//!   the core's work per batch of 64, timed without a lock, idle (each
//!   batch's least time over `3 x --scale` rounds: over 100 µs fails the
//!   run).
//! - `periodic`: 1 000 periodic tasks every 10 ms, their first deadlines
//!   spread over one period, 4 workers, run for `--periods N` periods each
//!   (default 10 000: 100 s per contender, about 10 minutes): lateness
//!   (delivery time minus the deadline of its period) and the drift after
//!   the last period k of each task (its deadline, and its delivery time,
//!   minus `first + k * period`), for tardy's `schedule_periodic` under
//!   `Burst` and `Skip`, a hand-written re-arm with one-shot tasks
//!   (`When::After(period)` on each delivery, which drifts), tokio's
//!   `Interval` under `Burst` and `Skip` (1 000 tokio tasks on a
//!   multi-threaded runtime with 4 workers), and one thread on
//!   `Condvar::wait_timeout` through every deadline in order (the floor).
//!   Idle only. An early delivery, or a deadline off the grid under
//!   `Burst`/`Skip`, fails the run.
//!
//! `handoff`, `lateness`, `async` and `lockhold` run idle and then with one
//! CPU-burning thread per core. Results are printed as markdown tables; `--out DIR` also
//! writes `lateness.svg` (cumulative distributions) and `summary.md` there.
//!
//! ```text
//! cargo bench --bench latency                       # about 90 s
//! cargo bench --bench latency -- --only async       # about a minute
//! cargo bench --bench latency -- --only lockhold    # under a minute
//! cargo bench --bench latency -- --only periodic    # about 10 minutes
//! cargo bench --bench latency -- --only periodic --periods 200   # a smoke run, 15 s
//! cargo bench --bench latency -- --scale 5          # 5x the samples
//! cargo bench --bench latency -- --only handoff,lateness --out target/latency
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tardy::{
    AllocScheduler, ChannelQueue, Clock, HeaplessQueue, ManualClock, MonotonicClock, Options,
    QueueId, Scheduler, SchedulerThread, Task, Ticks, Wait, When,
};

// ----- counting allocator -------------------------------------------------

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a relaxed atomic and allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

// ----- options ------------------------------------------------------------

struct Args {
    scale: f64,
    only: Option<Vec<String>>,
    out: Option<String>,
    /// `lockhold`: due tasks to move (default 10^6).
    tasks: Option<usize>,
    /// `periodic`: periods each periodic task runs (default 10 000).
    #[cfg_attr(not(feature = "periodic"), allow(dead_code))]
    periods: usize,
}

impl Args {
    fn parse() -> Self {
        let mut args = Self {
            scale: 1.0,
            only: None,
            out: None,
            tasks: None,
            periods: 10_000,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--scale" => args.scale = it.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
                "--only" => {
                    args.only = it.next().map(|v| v.split(',').map(str::to_owned).collect());
                }
                "--out" => args.out = it.next(),
                "--tasks" => args.tasks = it.next().and_then(|v| v.parse().ok()),
                "--periods" => {
                    args.periods = it.next().and_then(|v| v.parse().ok()).unwrap_or(10_000);
                }
                "--help" | "-h" => {
                    println!(
                        "latency [--scale F] [--only footprint,python,handoff,lateness,async,lockhold,periodic] [--out DIR] [--tasks N] [--periods N]"
                    );
                    std::process::exit(0);
                }
                _ => {} // `cargo bench` passes `--bench`
            }
        }
        args
    }
    fn wants(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == section))
    }
    fn n(&self, base: usize) -> usize {
        ((base as f64 * self.scale) as usize).max(1)
    }
}

// ----- statistics ---------------------------------------------------------

/// Latencies in nanoseconds, sorted.
struct Dist(Vec<i64>);

impl Dist {
    fn new(mut v: Vec<i64>) -> Self {
        v.sort_unstable();
        Self(v)
    }
    fn pct(&self, p: f64) -> i64 {
        if self.0.is_empty() {
            return 0;
        }
        let i = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
        self.0[i.min(self.0.len() - 1)]
    }
    fn min(&self) -> i64 {
        self.0.first().copied().unwrap_or(0)
    }
    fn max(&self) -> i64 {
        self.0.last().copied().unwrap_or(0)
    }
    fn early(&self) -> usize {
        self.0.iter().take_while(|&&x| x < 0).count()
    }
}

fn us(ns: i64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

/// Signed `a - b` in nanoseconds.
fn diff_ns(a: Instant, b: Instant) -> i64 {
    match a.checked_duration_since(b) {
        Some(d) => d.as_nanos() as i64,
        None => -(b.duration_since(a).as_nanos() as i64),
    }
}

// ----- CPU load -----------------------------------------------------------

/// One spinning thread per core until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Load {
    fn start() -> Self {
        let cores = thread::available_parallelism().map_or(2, usize::from);
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..cores)
            .map(|_| {
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let mut x = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..1000 {
                            x = black_box(
                                x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                            );
                        }
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

// ----- deterministic randomness -------------------------------------------

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

// ----- footprint ------------------------------------------------------------

type T = Task<u32, u32>;
type Core<const CAP: usize> = Scheduler<ManualClock, HeaplessQueue<T, CAP>, u32, u32, CAP, 2>;
type Narrow<const CAP: usize> = Scheduler<ManualClock, HeaplessQueue<T, 1>, u32, u32, CAP, 2>;
type Wide<const CAP: usize> =
    Scheduler<ManualClock, HeaplessQueue<Task<u64, usize>, 1>, u64, usize, CAP, 2>;

const TOKEN_BITS: u32 = 20;
const SPAN: u64 = 1_000_000;

fn footprint(report: &mut String) {
    use std::mem::size_of;
    let per_narrow = (size_of::<Narrow<512>>() - size_of::<Narrow<256>>()) / 256;
    let per_wide = (size_of::<Wide<512>>() - size_of::<Wide<256>>()) / 256;
    let _ = writeln!(report, "\n## footprint\n");
    let _ = writeln!(report, "| what | bytes |\n|---|---|");
    let _ = writeln!(report, "| `Task<u32, u32>` | {} |", size_of::<T>());
    let _ = writeln!(
        report,
        "| per task slot, S=u32 P=u32 (slot + heap entry + key + subject entry) | {per_narrow} |"
    );
    let _ = writeln!(report, "| per task slot, S=u64 P=usize | {per_wide} |");
    let _ = writeln!(
        report,
        "| `Scheduler<_, HeaplessQueue<_,1024>, u32, u32, 1024, 2>` | {} |",
        size_of::<Core<1024>>()
    );
    let _ = writeln!(
        report,
        "| `Scheduler<_, HeaplessQueue<_,16384>, u32, u32, 16384, 2>` | {} |",
        size_of::<Core<16384>>()
    );

    // Steady state of workloads 1-4 on the core: no allocation at all.
    let mut s = Box::new(Core::<16384>::new(ManualClock::new(0)));
    let q = s.add_queue("q", 0).expect("queue");
    let mut rng = Rng(7);
    let mut now = 0u64;
    let mut live: Vec<(u32, tardy::TaskId)> = Vec::with_capacity(16384);
    let mut free: Vec<u32> = (0..16384).rev().collect();
    let tick = |now: u64, d: u64, tok: u32| ((now + d) << TOKEN_BITS) | u64::from(tok);
    let sched = |s: &mut Core<16384>, now: u64, rng: &mut Rng, tok: u32, subject: u32| {
        let at = When::At(tick(now, 1 + rng.below(SPAN), tok));
        s.schedule(Task::new(q, subject, tok), at)
            .expect("schedule")
    };
    for _ in 0..10_000 {
        let tok = free.pop().expect("token");
        live.push((tok, sched(&mut s, now, &mut rng, tok, tok)));
    }
    let deliver = |s: &mut Core<16384>, now: &mut u64| -> u32 {
        if let Ok(t) = s.get_task(q) {
            return *t.payload();
        }
        let d = s.next_deadline().expect("deadline");
        s.clock().set(d);
        *now = d >> TOKEN_BITS;
        s.run_pending();
        *s.get_task(q).expect("task").payload()
    };
    let mut results = Vec::new();
    // Positions in `live` by token, to remove a delivered one.
    let mut pos = vec![usize::MAX; 16384];
    for (i, &(tok, _)) in live.iter().enumerate() {
        pos[tok as usize] = i;
    }
    let remove_live = |live: &mut Vec<(u32, tardy::TaskId)>, pos: &mut Vec<usize>, tok: u32| {
        let p = pos[tok as usize];
        live.swap_remove(p);
        if let Some(&(moved, _)) = live.get(p) {
            pos[moved as usize] = p;
        }
    };
    for (name, mode) in [
        ("hold", 0),
        ("churn r=0.5 (cancel)", 1),
        ("churn r=0.5 (reschedule)", 2),
    ] {
        let before = allocations();
        for _ in 0..100_000 {
            if mode == 2 && rng.below(2) == 0 {
                let (tok, id) = live[rng.below(live.len() as u64) as usize];
                s.reschedule(id, When::At(tick(now, 1 + rng.below(SPAN), tok)))
                    .expect("reschedule");
                continue;
            }
            let tok = free.pop().expect("token");
            let id = sched(&mut s, now, &mut rng, tok, tok);
            pos[tok as usize] = live.len();
            live.push((tok, id));
            let gone = if mode == 1 && rng.below(2) == 0 {
                let (tok, id) = live[rng.below(live.len() as u64) as usize];
                black_box(s.cancel(id).expect("cancel"));
                tok
            } else {
                deliver(&mut s, &mut now)
            };
            remove_live(&mut live, &mut pos, gone);
            free.push(gone);
        }
        results.push((name, allocations() - before));
    }
    // cancel_by_subject: cancel all, refill with k = 4 per subject, cancel all.
    let before = allocations();
    for (tok, _) in live.drain(..) {
        free.push(tok);
    }
    s.clear(|t| {
        black_box(t);
    });
    for i in 0..10_000u32 {
        let tok = free.pop().expect("token");
        sched(&mut s, now, &mut rng, tok, i / 4);
    }
    let mut n = 0;
    for subject in 0..2_500u32 {
        n += s.cancel_by_subject(&subject, |t| {
            free.push(*t.payload());
        });
    }
    assert_eq!((n, s.len()), (10_000, 0), "cancel_by_subject left tasks");
    results.push(("cancel_by_subject k=4", allocations() - before));
    // fill_drain
    let before = allocations();
    for _ in 0..5 {
        for i in 0..10_000u32 {
            sched(&mut s, now, &mut rng, i, i);
        }
        now += SPAN + 1;
        s.clock().set(now << TOKEN_BITS);
        s.run_pending();
        let mut taken = 0;
        while s.get_task(q).is_ok() {
            taken += 1;
        }
        assert_eq!(taken, 10_000);
    }
    results.push(("fill_drain x5", allocations() - before));
    let _ = writeln!(
        report,
        "\nAllocations in the steady state (N = 10 000 on 16 384 slots):\n"
    );
    let _ = writeln!(
        report,
        "| workload (core) | operations | allocations |\n|---|---|---|"
    );
    let mut failed = false;
    for (name, count) in &results {
        let ops = if name.starts_with("cancel") {
            "10 000 tasks"
        } else if name.starts_with("fill") {
            "50 000 tasks"
        } else {
            "100 000 steps"
        };
        let _ = writeln!(report, "| {name} | {ops} | {count} |");
        failed |= *count != 0;
    }
    if failed {
        report.push_str("\n**FAIL: the core allocated in its steady state.**\n");
        FAILED.store(true, Ordering::Relaxed);
    }
}

static FAILED: AtomicBool = AtomicBool::new(false);

// ----- python -------------------------------------------------------------

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The fill_drain and cancel_by_subject work of `python_sched.py`, on the
/// core, in seconds (median of `runs`).
fn tardy_python_work(runs: usize) -> Vec<(String, f64)> {
    let mut s = Box::new(Core::<16384>::new(ManualClock::new(0)));
    let q = s.add_queue("q", 0).expect("queue");
    let mut rng = Rng(11);
    let n = 10_000u32;
    let mut out = Vec::new();
    let mut now = 0u64;
    let mut times = Vec::new();
    for _ in 0..runs {
        let delays: Vec<u64> = (0..n).map(|_| 1 + rng.below(SPAN)).collect();
        let start = Instant::now();
        for (i, d) in delays.iter().enumerate() {
            s.schedule(Task::new(q, i as u32, i as u32), When::At(now + d))
                .expect("schedule");
        }
        now += SPAN + 1;
        s.clock().set(now);
        s.run_pending();
        let mut taken = 0;
        while let Ok(t) = s.get_task(q) {
            black_box(t);
            taken += 1;
        }
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(taken, n);
    }
    out.push((format!("fill_drain/{n}"), median(times)));
    for k in [1u32, 4, 64] {
        let mut times = Vec::new();
        for _ in 0..runs {
            let mut order: Vec<u32> = (0..n / k * k).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            for &tok in &order {
                let at = When::At(now + 1 + rng.below(SPAN));
                s.schedule(Task::new(q, tok / k, tok), at)
                    .expect("schedule");
            }
            let mut subjects: Vec<u32> = (0..n / k).collect();
            for i in (1..subjects.len()).rev() {
                subjects.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let start = Instant::now();
            let mut cancelled = 0;
            for subject in &subjects {
                cancelled += s.cancel_by_subject(subject, |t| {
                    black_box(t);
                });
            }
            times.push(start.elapsed().as_secs_f64());
            assert_eq!((cancelled, s.len()), (order.len(), 0));
        }
        out.push((format!("cancel_by_subject/{n}/{k}"), median(times)));
    }
    out
}

fn python(args: &Args, report: &mut String) {
    let _ = writeln!(report, "\n## python `sched` (same work, same run)\n");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python_sched.py");
    let runs = args.n(5);
    let output = std::process::Command::new("python3")
        .arg(script)
        .args(["--n", "10000", "--runs"])
        .arg(runs.to_string())
        .arg("--cancel-runs")
        .arg(args.n(1).to_string())
        .output();
    let text = match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            let _ = writeln!(
                report,
                "python3 failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return;
        }
        Err(e) => {
            let _ = writeln!(report, "python3 not run: {e}");
            return;
        }
    };
    let py: Vec<(String, f64)> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.parse().ok()?))
        })
        .collect();
    let rs = tardy_python_work(runs.max(5));
    let _ = writeln!(
        report,
        "| workload | python sched | tardy core | tardy faster by |\n|---|---|---|---|"
    );
    for (name, t) in &rs {
        if let Some((_, p)) = py.iter().find(|(n, _)| n == name) {
            let _ = writeln!(
                report,
                "| {name} | {:.3} ms | {:.3} ms | {:.0}x |",
                p * 1e3,
                t * 1e3,
                p / t
            );
        }
    }
}

// ----- handoff ------------------------------------------------------------

type Threaded = SchedulerThread<u32, Instant>;

/// Gaps between handoffs, so the worker is blocked again each time.
fn gap(rng: &mut Rng) -> Duration {
    Duration::from_micros(200 + rng.below(200))
}

fn handoff_tardy(samples: usize) -> Vec<i64> {
    let st = Threaded::new(MonotonicClock::new(), &[("h", 0)], Options::new()).expect("scheduler");
    st.start().expect("start");
    let h = st.handle();
    let q = h.queue_id("h").expect("queue");
    let worker = {
        let h = h.clone();
        thread::spawn(move || {
            let mut lat = Vec::with_capacity(samples);
            loop {
                let t = h.get_task(q, Wait::Forever).expect("get_task");
                let now = Instant::now();
                if *t.subject() == 1 {
                    return lat;
                }
                lat.push(diff_ns(now, *t.payload()));
            }
        })
    };
    let mut rng = Rng(3);
    for _ in 0..samples {
        thread::sleep(gap(&mut rng));
        h.schedule(Task::new(q, 0, Instant::now()), When::Now)
            .expect("schedule");
    }
    h.schedule(Task::new(q, 1, Instant::now()), When::Now)
        .expect("schedule");
    let lat = worker.join().expect("worker");
    let _ = st.stop();
    lat
}

fn handoff_condvar(samples: usize) -> Vec<i64> {
    let pair = Arc::new((Mutex::new(None::<(u32, Instant)>), Condvar::new()));
    let worker = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            let mut lat = Vec::with_capacity(samples);
            loop {
                let (m, cv) = &*pair;
                let mut g = m.lock().expect("lock");
                let (kind, sent) = loop {
                    if let Some(v) = g.take() {
                        break v;
                    }
                    g = cv.wait(g).expect("wait");
                };
                drop(g);
                let now = Instant::now();
                if kind == 1 {
                    return lat;
                }
                lat.push(diff_ns(now, sent));
            }
        })
    };
    let mut rng = Rng(3);
    let send = |kind: u32| {
        let (m, cv) = &*pair;
        *m.lock().expect("lock") = Some((kind, Instant::now()));
        cv.notify_one();
    };
    for _ in 0..samples {
        thread::sleep(gap(&mut rng));
        send(0);
    }
    thread::sleep(gap(&mut rng));
    send(1);
    worker.join().expect("worker")
}

fn handoff_crossbeam(samples: usize) -> Vec<i64> {
    let (tx, rx) = crossbeam_channel::unbounded::<(u32, Instant)>();
    let worker = thread::spawn(move || {
        let mut lat = Vec::with_capacity(samples);
        loop {
            let (kind, sent) = rx.recv().expect("recv");
            let now = Instant::now();
            if kind == 1 {
                return lat;
            }
            lat.push(diff_ns(now, sent));
        }
    });
    let mut rng = Rng(3);
    for _ in 0..samples {
        thread::sleep(gap(&mut rng));
        tx.send((0, Instant::now())).expect("send");
    }
    tx.send((1, Instant::now())).expect("send");
    worker.join().expect("worker")
}

fn handoff(args: &Args, report: &mut String) {
    let samples = args.n(2000);
    let _ = writeln!(
        report,
        "\n## handoff (ASAP schedule to a worker blocked in get_task; µs, {samples} samples)\n"
    );
    let _ = writeln!(
        report,
        "| load | what | p50 | p99 | max | over 1 ms | p50 / floor |\n|---|---|---|---|---|---|---|"
    );
    for loaded in [false, true] {
        let _load = loaded.then(Load::start);
        // Ten rounds, the three interleaved, so that none gets a quieter
        // moment of the machine than the others.
        let (mut f, mut t, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..10 {
            f.extend(handoff_condvar(samples.div_ceil(10)));
            t.extend(handoff_tardy(samples.div_ceil(10)));
            c.extend(handoff_crossbeam(samples.div_ceil(10)));
        }
        let (floor, tardy, cb) = (Dist::new(f), Dist::new(t), Dist::new(c));
        let label = if loaded { "loaded" } else { "idle" };
        for (name, d) in [
            ("Mutex+Condvar (floor)", &floor),
            ("tardy SchedulerThread", &tardy),
            ("crossbeam recv", &cb),
        ] {
            let _ = writeln!(
                report,
                "| {label} | {name} | {} | {} | {} | {} | {:.2} |",
                us(d.pct(50.0)),
                us(d.pct(99.0)),
                us(d.max()),
                d.0.iter().filter(|&&x| x > 1_000_000).count(),
                d.pct(50.0) as f64 / floor.pct(50.0).max(1) as f64
            );
        }
    }
}

// ----- lateness -------------------------------------------------------------

/// One lateness scenario: what each of tardy and the floor measured.
struct Scenario {
    name: &'static str,
    tardy: Dist,
    floor: Dist,
    /// For batches: a timer thread on `wait_timeout` handing each due task
    /// to a worker through a bare Mutex+Condvar queue, the two wake-ups
    /// tardy's delivery also needs.
    handoff_floor: Option<Dist>,
}

/// Sequential: schedule one task `ahead`, take it (this thread is the
/// worker; the scheduler thread delivers it).
fn late_tardy_seq(ahead: Duration, samples: usize) -> Vec<i64> {
    let st = Threaded::new(MonotonicClock::new(), &[("l", 0)], Options::new()).expect("scheduler");
    st.start().expect("start");
    let h = st.handle();
    let q = h.queue_id("l").expect("queue");
    let mut lat = Vec::with_capacity(samples);
    for _ in 0..samples {
        let at = Instant::now() + ahead;
        h.schedule_at_instant(Task::new(q, 0, at), at)
            .expect("schedule");
        let t = h.get_task(q, Wait::Forever).expect("get_task");
        lat.push(diff_ns(Instant::now(), *t.payload()));
    }
    let _ = st.stop();
    lat
}

/// The floor: `Condvar::wait_timeout` until the deadline.
fn wait_until(pair: &(Mutex<()>, Condvar), at: Instant) {
    let (m, cv) = pair;
    let mut g = m.lock().expect("lock");
    loop {
        let now = Instant::now();
        if now >= at {
            return;
        }
        g = cv.wait_timeout(g, at - now).expect("wait").0;
    }
}

fn late_floor_seq(ahead: Duration, samples: usize) -> Vec<i64> {
    let pair = (Mutex::new(()), Condvar::new());
    (0..samples)
        .map(|_| {
            let at = Instant::now() + ahead;
            wait_until(&pair, at);
            diff_ns(Instant::now(), at)
        })
        .collect()
}

/// Many tasks with their deadlines `offsets` from a common start, taken by
/// one worker thread.
fn late_tardy_batch(offsets: &[Duration]) -> Vec<i64> {
    let st = Threaded::new(MonotonicClock::new(), &[("b", 0)], Options::new()).expect("scheduler");
    st.start().expect("start");
    let h = st.handle();
    let q = h.queue_id("b").expect("queue");
    let n = offsets.len();
    let worker = {
        let h = h.clone();
        thread::spawn(move || {
            let mut lat = Vec::with_capacity(n);
            for _ in 0..n {
                let t = h.get_task(q, Wait::Forever).expect("get_task");
                lat.push(diff_ns(Instant::now(), *t.payload()));
            }
            lat
        })
    };
    // Leave room for scheduling them all before the first is due.
    let start = Instant::now() + Duration::from_millis(5);
    for &off in offsets {
        let at = start + off;
        h.schedule_at_instant(Task::new(q, 0, at), at)
            .expect("schedule");
    }
    let lat = worker.join().expect("worker");
    let _ = st.stop();
    lat
}

/// The second floor for a batch: a timer thread waits for each deadline in
/// order with `wait_timeout` and pushes the task into a `Mutex<VecDeque>`,
/// notifying a worker blocked on a `Condvar`, which records the lateness.
fn late_floor_handoff_batch(offsets: &[Duration]) -> Vec<i64> {
    use std::collections::VecDeque;
    let mut sorted = offsets.to_vec();
    sorted.sort();
    let n = sorted.len();
    let queue = Arc::new((
        Mutex::new(VecDeque::<Instant>::with_capacity(n)),
        Condvar::new(),
    ));
    let worker = {
        let queue = Arc::clone(&queue);
        thread::spawn(move || {
            let (m, cv) = &*queue;
            let mut lat = Vec::with_capacity(n);
            let mut g = m.lock().expect("lock");
            while lat.len() < n {
                match g.pop_front() {
                    Some(at) => {
                        drop(g);
                        lat.push(diff_ns(Instant::now(), at));
                        g = m.lock().expect("lock");
                    }
                    None => g = cv.wait(g).expect("wait"),
                }
            }
            lat
        })
    };
    let timer = (Mutex::new(()), Condvar::new());
    let start = Instant::now() + Duration::from_millis(5);
    for off in sorted {
        let at = start + off;
        wait_until(&timer, at);
        queue.0.lock().expect("lock").push_back(at);
        queue.1.notify_one();
    }
    worker.join().expect("worker")
}

/// The floor for a batch: one thread waits for each deadline in order with
/// `wait_timeout` and records every task due by then.
fn late_floor_batch(offsets: &[Duration]) -> Vec<i64> {
    let mut sorted = offsets.to_vec();
    sorted.sort();
    let pair = (Mutex::new(()), Condvar::new());
    let start = Instant::now() + Duration::from_millis(5);
    let mut lat = Vec::with_capacity(sorted.len());
    for off in sorted {
        let at = start + off;
        wait_until(&pair, at);
        lat.push(diff_ns(Instant::now(), at));
    }
    lat
}

fn lateness(args: &Args, report: &mut String, svg: &mut Vec<(String, Vec<(String, Dist)>)>) {
    let _ = writeln!(
        report,
        "\n## lateness (get_task return time minus deadline; µs)\n"
    );
    let _ = writeln!(
        report,
        "| load | scenario | what | samples | p50 | p99 | p99.9 | max | early | p50 / floor |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    let mut rng = Rng(5);
    let random: Vec<Duration> = (0..args.n(1000))
        .map(|_| Duration::from_micros(rng.below(100_000)))
        .collect();
    let bursts = args.n(10);
    for loaded in [false, true] {
        let _load = loaded.then(Load::start);
        let label = if loaded { "loaded" } else { "idle" };
        let mut scenarios = Vec::new();
        for (name, ahead, samples) in [
            ("1 ms ahead", Duration::from_millis(1), args.n(300)),
            ("10 ms ahead", Duration::from_millis(10), args.n(60)),
        ] {
            let floor = Dist::new(late_floor_seq(ahead, samples));
            let tardy = Dist::new(late_tardy_seq(ahead, samples));
            scenarios.push(Scenario {
                name,
                tardy,
                floor,
                handoff_floor: None,
            });
        }
        let floor = Dist::new(late_floor_batch(&random));
        let tardy = Dist::new(late_tardy_batch(&random));
        let handoff = Dist::new(late_floor_handoff_batch(&random));
        scenarios.push(Scenario {
            name: "random 0-100 ms",
            tardy,
            floor,
            handoff_floor: Some(handoff),
        });
        let (mut t, mut f, mut h) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..bursts {
            let burst = vec![Duration::from_millis(20); 1000];
            f.extend(late_floor_batch(&burst));
            t.extend(late_tardy_batch(&burst));
            h.extend(late_floor_handoff_batch(&burst));
        }
        scenarios.push(Scenario {
            name: "bursts of 1000",
            tardy: Dist::new(t),
            floor: Dist::new(f),
            handoff_floor: Some(Dist::new(h)),
        });
        for s in scenarios {
            let mut rows = vec![("Condvar::wait_timeout (floor)", &s.floor)];
            if let Some(h) = &s.handoff_floor {
                rows.push(("wait_timeout + Mutex/Condvar handoff", h));
            }
            rows.push(("tardy", &s.tardy));
            for (what, d) in rows {
                let _ = writeln!(
                    report,
                    "| {label} | {} | {what} | {} | {} | {} | {} | {} | {} | {:.2} |",
                    s.name,
                    d.0.len(),
                    us(d.pct(50.0)),
                    us(d.pct(99.0)),
                    us(d.pct(99.9)),
                    us(d.max()),
                    d.early(),
                    d.pct(50.0) as f64 / s.floor.pct(50.0).max(1) as f64
                );
            }
            if s.tardy.early() > 0 {
                FAILED.store(true, Ordering::Relaxed);
                let _ = writeln!(
                    report,
                    "\n**FAIL: {} early deliveries ({label}, {}), earliest {} µs.**\n",
                    s.tardy.early(),
                    s.name,
                    us(s.tardy.min())
                );
            }
            let title = format!("{} ({label})", s.name);
            svg.push((
                title,
                vec![("floor".to_owned(), s.floor), ("tardy".to_owned(), s.tardy)],
            ));
        }
    }
}

// ----- async ----------------------------------------------------------------

/// The runtime of the `async` section: tokio's multi-threaded runtime with
/// two worker threads and its timer (no I/O driver: nothing here needs it).
fn async_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// A task scheduled with `When::Now` from a plain thread, taken by an
/// async worker (a tokio task) awaiting `get_task_async`.
fn async_handoff_tardy(rt: &tokio::runtime::Runtime, samples: usize) -> Vec<i64> {
    let st = Threaded::new(MonotonicClock::new(), &[("h", 0)], Options::new()).expect("scheduler");
    st.start().expect("start");
    let h = st.handle();
    let q = h.queue_id("h").expect("queue");
    let worker = {
        let h = h.clone();
        rt.spawn(async move {
            let mut lat = Vec::with_capacity(samples);
            loop {
                let t = h.get_task_async(q).await.expect("get_task_async");
                let now = Instant::now();
                if *t.subject() == 1 {
                    return lat;
                }
                lat.push(diff_ns(now, *t.payload()));
            }
        })
    };
    let mut rng = Rng(3);
    for _ in 0..samples {
        thread::sleep(gap(&mut rng));
        h.schedule(Task::new(q, 0, Instant::now()), When::Now)
            .expect("schedule");
    }
    thread::sleep(gap(&mut rng));
    h.schedule(Task::new(q, 1, Instant::now()), When::Now)
        .expect("schedule");
    let lat = rt.block_on(worker).expect("worker");
    let _ = st.stop();
    lat
}

/// The floor: the producer pushes a value into a mutex-guarded queue and
/// calls `Notify::notify_one`; the consumer (a tokio task) awaits
/// `notified`. A queue rather than a single slot, so that a consumer held
/// up past the next send still counts every sample, as tardy's queue does.
fn async_handoff_notify(rt: &tokio::runtime::Runtime, samples: usize) -> Vec<i64> {
    let shared = Arc::new((
        Mutex::new(std::collections::VecDeque::<(u32, Instant)>::new()),
        tokio::sync::Notify::new(),
    ));
    let worker = {
        let shared = Arc::clone(&shared);
        rt.spawn(async move {
            let (slot, notify) = &*shared;
            let mut lat = Vec::with_capacity(samples);
            loop {
                let (kind, sent) = loop {
                    let value = slot.lock().expect("lock").pop_front();
                    if let Some(v) = value {
                        break v;
                    }
                    notify.notified().await;
                };
                let now = Instant::now();
                if kind == 1 {
                    return lat;
                }
                lat.push(diff_ns(now, sent));
            }
        })
    };
    let send = |kind: u32| {
        let (slot, notify) = &*shared;
        slot.lock().expect("lock").push_back((kind, Instant::now()));
        notify.notify_one();
    };
    let mut rng = Rng(3);
    for _ in 0..samples {
        thread::sleep(gap(&mut rng));
        send(0);
    }
    thread::sleep(gap(&mut rng));
    send(1);
    rt.block_on(worker).expect("worker")
}

/// How an async worker of the lateness scenarios takes a task.
#[derive(Clone, Copy)]
enum Take {
    /// `get_task_async` alone: due tasks come through the scheduler thread.
    Plain,
    /// `get_task_async` raced with the runtime's own timer at the earliest
    /// deadline ([`take_racing_timer`]).
    RacingTimer,
}

/// `get_task_async` raced with a tokio timer at the earliest deadline: when
/// the timer fires first, the next poll finds the task due and moves it
/// itself, so the task does not wait for the scheduler thread to be
/// scheduled and then wake the worker (one wake-up instead of two on a
/// busy machine). Whichever comes first delivers.
async fn take_racing_timer(
    h: &tardy::SchedulerHandle<u32, Instant>,
    q: tardy::QueueId,
) -> Task<u32, Instant> {
    let clock = h.clock();
    loop {
        let next = h.next_deadline().expect("next_deadline");
        let take = h.get_task_async(q);
        match next.and_then(|d| clock.instant_at(d)) {
            None => return take.await.expect("get_task_async"),
            Some(at) => tokio::select! {
                biased;
                t = take => return t.expect("get_task_async"),
                () = tokio::time::sleep_until(at.into()) => {}
            },
        }
    }
}

async fn take(
    how: Take,
    h: &tardy::SchedulerHandle<u32, Instant>,
    q: tardy::QueueId,
) -> Task<u32, Instant> {
    match how {
        Take::Plain => h.get_task_async(q).await.expect("get_task_async"),
        Take::RacingTimer => take_racing_timer(h, q).await,
    }
}

/// Sequential: an async worker schedules one task `ahead` and awaits it
/// (the scheduler thread delivers it).
fn async_late_tardy_seq(
    rt: &tokio::runtime::Runtime,
    ahead: Duration,
    samples: usize,
    how: Take,
) -> Vec<i64> {
    let st = Threaded::new(MonotonicClock::new(), &[("l", 0)], Options::new()).expect("scheduler");
    st.start().expect("start");
    let h = st.handle();
    let q = h.queue_id("l").expect("queue");
    let worker = rt.spawn(async move {
        let mut lat = Vec::with_capacity(samples);
        for _ in 0..samples {
            let at = Instant::now() + ahead;
            h.schedule_at_instant(Task::new(q, 0, at), at)
                .expect("schedule");
            let t = take(how, &h, q).await;
            lat.push(diff_ns(Instant::now(), *t.payload()));
        }
        lat
    });
    let lat = rt.block_on(worker).expect("worker");
    let _ = st.stop();
    lat
}

/// The next expired entry of `queue` (`None` once it is empty): what
/// `StreamExt::next` on the `DelayQueue` does, without a futures crate.
async fn expired(
    queue: &mut tokio_util::time::DelayQueue<Instant>,
) -> Option<tokio_util::time::delay_queue::Expired<Instant>> {
    std::future::poll_fn(|cx| queue.poll_expired(cx)).await
}

/// Sequential: one tokio task inserts an entry `ahead` into a `DelayQueue`
/// and awaits its expiry.
fn async_late_delay_queue_seq(
    rt: &tokio::runtime::Runtime,
    ahead: Duration,
    samples: usize,
) -> Vec<i64> {
    let driver = rt.spawn(async move {
        let mut queue = tokio_util::time::DelayQueue::new();
        let mut lat = Vec::with_capacity(samples);
        for _ in 0..samples {
            let at = Instant::now() + ahead;
            queue.insert_at(at, tokio::time::Instant::from_std(at));
            let e = expired(&mut queue).await.expect("expired");
            lat.push(diff_ns(Instant::now(), e.into_inner()));
        }
        lat
    });
    rt.block_on(driver).expect("driver")
}

/// Deadlines `offsets` after a common start, scheduled from this thread,
/// taken by two async workers.
fn async_late_tardy_batch(
    rt: &tokio::runtime::Runtime,
    offsets: &[Duration],
    how: Take,
) -> Vec<i64> {
    let st = Threaded::new(MonotonicClock::new(), &[("b", 0)], Options::new()).expect("scheduler");
    st.start().expect("start");
    let h = st.handle();
    let q = h.queue_id("b").expect("queue");
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let h = h.clone();
            rt.spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let t = take(how, &h, q).await;
                    let now = Instant::now();
                    if *t.subject() == 1 {
                        return lat;
                    }
                    lat.push(diff_ns(now, *t.payload()));
                }
            })
        })
        .collect();
    // Leave room for scheduling them all before the first is due.
    let start = Instant::now() + Duration::from_millis(5);
    let mut last = start;
    for &off in offsets {
        let at = start + off;
        last = last.max(at);
        h.schedule_at_instant(Task::new(q, 0, at), at)
            .expect("schedule");
    }
    // One end marker per worker, due after every measured task.
    for _ in 0..2 {
        let at = last + Duration::from_millis(1);
        h.schedule_at_instant(Task::new(q, 1, at), at)
            .expect("schedule");
    }
    let mut lat = Vec::with_capacity(offsets.len());
    for w in workers {
        lat.extend(rt.block_on(w).expect("worker"));
    }
    let _ = st.stop();
    lat
}

/// One tokio task inserts every deadline into a `DelayQueue` and takes the
/// expired entries: measured where they come out (`to_worker` false), or
/// sent through a tokio mpsc channel to a worker task that measures them.
fn async_late_delay_queue_batch(
    rt: &tokio::runtime::Runtime,
    offsets: &[Duration],
    to_worker: bool,
) -> Vec<i64> {
    let offsets = offsets.to_vec();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let worker = to_worker.then(|| {
        rt.spawn(async move {
            let mut lat = Vec::new();
            while let Some(at) = rx.recv().await {
                lat.push(diff_ns(Instant::now(), at));
            }
            lat
        })
    });
    let driver = rt.spawn(async move {
        let mut queue = tokio_util::time::DelayQueue::with_capacity(offsets.len());
        let start = Instant::now() + Duration::from_millis(5);
        for off in offsets {
            let at = start + off;
            queue.insert_at(at, tokio::time::Instant::from_std(at));
        }
        let mut lat = Vec::new();
        while let Some(e) = expired(&mut queue).await {
            let now = Instant::now();
            if to_worker {
                tx.send(e.into_inner()).expect("send");
            } else {
                lat.push(diff_ns(now, e.into_inner()));
            }
        }
        lat
    });
    let lat = rt.block_on(driver).expect("driver");
    match worker {
        Some(w) => rt.block_on(w).expect("worker"),
        None => lat,
    }
}

/// One async lateness scenario: what each contender measured.
struct AsyncScenario {
    name: &'static str,
    delay_queue: Dist,
    /// For the random batch: the `DelayQueue` task sends each expired entry
    /// through a tokio mpsc channel to a worker task, which measures it.
    delay_queue_mpsc: Option<Dist>,
    tardy: Dist,
    racing: Dist,
}

fn ratio(a: i64, b: i64) -> f64 {
    a as f64 / b.max(1) as f64
}

fn async_section(args: &Args, report: &mut String) {
    let rt = async_runtime();
    let samples = args.n(10_000);
    let rounds = 10;
    let _ = writeln!(
        report,
        "\n## async handoff (When::Now from a plain thread to a tokio task awaiting; \
         multi-threaded runtime, 2 workers; µs, {samples} samples)\n"
    );
    let _ = writeln!(
        report,
        "| load | what | p50 | p99 | max | over 1 ms | p50 / floor | p99 / floor |\n\
         |---|---|---|---|---|---|---|---|"
    );
    let mut verdicts = Vec::new();
    for loaded in [false, true] {
        let _load = loaded.then(Load::start);
        let label = if loaded { "loaded" } else { "idle" };
        // Rounds, the two interleaved, so that neither gets a quieter
        // moment of the machine than the other.
        let (mut f, mut t) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            f.extend(async_handoff_notify(&rt, samples.div_ceil(rounds)));
            t.extend(async_handoff_tardy(&rt, samples.div_ceil(rounds)));
        }
        let (floor, tardy) = (Dist::new(f), Dist::new(t));
        for (name, d) in [
            ("tokio Notify (floor)", &floor),
            ("tardy get_task_async", &tardy),
        ] {
            let _ = writeln!(
                report,
                "| {label} | {name} | {} | {} | {} | {} | {:.2} | {:.2} |",
                us(d.pct(50.0)),
                us(d.pct(99.0)),
                us(d.max()),
                d.0.iter().filter(|&&x| x > 1_000_000).count(),
                ratio(d.pct(50.0), floor.pct(50.0)),
                ratio(d.pct(99.0), floor.pct(99.0)),
            );
        }
        let r = ratio(tardy.pct(50.0), floor.pct(50.0));
        verdicts.push(format!(
            "- handoff, {label}: p50 tardy / Notify = {r:.2} (target <= 1.5: {})",
            if r <= 1.5 { "met" } else { "missed" }
        ));
    }

    let _ = writeln!(
        report,
        "\n## async lateness (return time minus deadline; tokio, 2 workers; µs)\n"
    );
    let _ = writeln!(
        report,
        "| load | scenario | what | samples | p50 | p99 | p99.9 | max | early | p50 / DelayQueue | p99 / DelayQueue |\n\
         |---|---|---|---|---|---|---|---|---|---|---|"
    );
    let mut rng = Rng(17);
    let batch = args.n(1000);
    for loaded in [false, true] {
        let _load = loaded.then(Load::start);
        let label = if loaded { "loaded" } else { "idle" };
        let mut scenarios = Vec::new();
        for (name, ahead, samples) in [
            ("1 ms ahead", Duration::from_millis(1), args.n(1500)),
            ("10 ms ahead", Duration::from_millis(10), args.n(200)),
        ] {
            let (mut t, mut r, mut d) = (Vec::new(), Vec::new(), Vec::new());
            let n = samples.div_ceil(rounds);
            for _ in 0..rounds {
                d.extend(async_late_delay_queue_seq(&rt, ahead, n));
                t.extend(async_late_tardy_seq(&rt, ahead, n, Take::Plain));
                r.extend(async_late_tardy_seq(&rt, ahead, n, Take::RacingTimer));
            }
            scenarios.push(AsyncScenario {
                name,
                delay_queue: Dist::new(d),
                delay_queue_mpsc: None,
                tardy: Dist::new(t),
                racing: Dist::new(r),
            });
        }
        let (mut t, mut r, mut d, mut m) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let random: Vec<Duration> = (0..batch.div_ceil(rounds))
                .map(|_| Duration::from_micros(rng.below(100_000)))
                .collect();
            d.extend(async_late_delay_queue_batch(&rt, &random, false));
            m.extend(async_late_delay_queue_batch(&rt, &random, true));
            t.extend(async_late_tardy_batch(&rt, &random, Take::Plain));
            r.extend(async_late_tardy_batch(&rt, &random, Take::RacingTimer));
        }
        scenarios.push(AsyncScenario {
            name: "random 0-100 ms",
            delay_queue: Dist::new(d),
            delay_queue_mpsc: Some(Dist::new(m)),
            tardy: Dist::new(t),
            racing: Dist::new(r),
        });
        for s in &scenarios {
            let dq = &s.delay_queue;
            let mut rows = vec![("DelayQueue, one task", dq)];
            if let Some(m) = &s.delay_queue_mpsc {
                rows.push(("DelayQueue, one task + mpsc to a worker", m));
            }
            rows.push(("tardy get_task_async", &s.tardy));
            rows.push(("tardy get_task_async racing a tokio timer", &s.racing));
            for (what, d) in rows {
                let _ = writeln!(
                    report,
                    "| {label} | {} | {what} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
                    s.name,
                    d.0.len(),
                    us(d.pct(50.0)),
                    us(d.pct(99.0)),
                    us(d.pct(99.9)),
                    us(d.max()),
                    d.early(),
                    ratio(d.pct(50.0), dq.pct(50.0)),
                    ratio(d.pct(99.0), dq.pct(99.0)),
                );
            }
            for (what, d) in [("", &s.tardy), (" racing a timer", &s.racing)] {
                let (p50, p99) = (
                    ratio(d.pct(50.0), dq.pct(50.0)),
                    ratio(d.pct(99.0), dq.pct(99.0)),
                );
                verdicts.push(format!(
                    "- lateness, {label}, {}: tardy{what} / DelayQueue p50 = {p50:.2}, \
                     p99 = {p99:.2} (target <= 1: {})",
                    s.name,
                    if p50 <= 1.0 && p99 <= 1.0 {
                        "met"
                    } else {
                        "missed"
                    }
                ));
                if d.early() > 0 {
                    FAILED.store(true, Ordering::Relaxed);
                    let _ = writeln!(
                        report,
                        "\n**FAIL: {} early deliveries (tardy{what}, {label}, {}), earliest {} µs.**\n",
                        d.early(),
                        s.name,
                        us(d.min())
                    );
                }
            }
        }
    }
    let _ = writeln!(report, "\nTargets:\n\n{}", verdicts.join("\n"));
}

// ----- SVG ------------------------------------------------------------------

/// Cumulative distributions, one panel per scenario, log-scaled lateness.
fn render_svg(panels: &[(String, Vec<(String, Dist)>)]) -> String {
    let (pw, ph, cols) = (380.0, 240.0, 2usize);
    let rows = panels.len().div_ceil(cols);
    let (w, h) = (pw * cols as f64 + 20.0, ph * rows as f64 + 50.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="20" font-size="14">tardy lateness vs Condvar::wait_timeout floor: cumulative share of deliveries (y) by lateness (x, µs, log)</text>"#
    );
    let colors = [("floor", "#888888"), ("tardy", "#d62728")];
    // x from 1 µs to 100 ms
    let (lo, hi) = (0.0f64, 5.0f64);
    for (i, (title, series)) in panels.iter().enumerate() {
        let ox = 10.0 + (i % cols) as f64 * pw;
        let oy = 35.0 + (i / cols) as f64 * ph;
        let (x0, y0, x1, y1) = (ox + 45.0, oy + 20.0, ox + pw - 15.0, oy + ph - 35.0);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" font-size="12">{title}</text>"#,
            x0,
            oy + 12.0
        );
        let _ = writeln!(
            s,
            r#"<rect x="{x0}" y="{y0}" width="{}" height="{}" fill="none" stroke="black"/>"#,
            x1 - x0,
            y1 - y0
        );
        for e in 0..=5 {
            let x = x0 + (x1 - x0) * (f64::from(e) - lo) / (hi - lo);
            let label = ["1", "10", "100", "1 ms", "10 ms", "100 ms"][e as usize];
            let _ = writeln!(
                s,
                r##"<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#ddd"/><text x="{x}" y="{}" text-anchor="middle">{label}</text>"##,
                y1 + 14.0
            );
        }
        for q in [0.0, 0.5, 0.9, 1.0] {
            let y = y1 - (y1 - y0) * q;
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{q}</text>"##,
                x0 - 4.0,
                y + 4.0
            );
        }
        for (k, (name, d)) in series.iter().enumerate() {
            let color = colors
                .iter()
                .find(|(n, _)| n == name)
                .map_or("#1f77b4", |c| c.1);
            let n = d.0.len().max(1);
            let step = (n / 400).max(1);
            let mut pts = String::new();
            for (j, &v) in
                d.0.iter()
                    .enumerate()
                    .step_by(step)
                    .chain(d.0.iter().enumerate().next_back())
            {
                let lx = ((v.max(1000) as f64) / 1000.0).log10().clamp(lo, hi);
                let x = x0 + (x1 - x0) * (lx - lo) / (hi - lo);
                let y = y1 - (y1 - y0) * ((j + 1) as f64 / n as f64);
                let _ = write!(pts, "{x:.1},{y:.1} ");
            }
            let _ = writeln!(
                s,
                r#"<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>"#
            );
            let ly = y0 + 14.0 + 14.0 * k as f64;
            let _ = writeln!(
                s,
                r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{name} p50 {} µs</text>"#,
                x0 + 8.0,
                ly - 4.0,
                x0 + 24.0,
                ly - 4.0,
                x0 + 28.0,
                ly,
                us(d.pct(50.0))
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">lateness</text>"#,
            (x0 + x1) / 2.0,
            y1 + 28.0
        );
    }
    s.push_str("</svg>\n");
    s
}

// ----- lockhold -------------------------------------------------------------

/// A clock read through an atomic, so the harness can jump it forward from
/// another thread while the scheduler's thread sleeps (1 tick = 1 ns).
#[derive(Clone)]
struct JumpClock(Arc<AtomicU64>);

impl Clock for JumpClock {
    fn now(&self) -> Ticks {
        self.0.load(Ordering::Relaxed)
    }
}

type Held = SchedulerThread<u32, u32, JumpClock>;
type HeldCore = AllocScheduler<ManualClock, ChannelQueue<T>, u32, u32>;

/// The deadline of every task: 1000 s after the clock's start, so a
/// started thread sleeps past the whole run until the clock is jumped.
const LOCKHOLD_AT: Ticks = 1_000_000_000_000;
/// The target on one lock hold, and the threshold counted per probe call.
const HOLD_TARGET_NS: i64 = 100_000;

/// How the due tasks are moved while the probe runs.
#[derive(Clone, Copy)]
enum MovePath {
    /// `start()` after the clock jumped: the background thread moves them.
    Thread,
    /// `run_pending()` on the main thread, not started.
    RunPending,
    /// `run_all()` on the main thread (the clock not jumped).
    RunAll,
    /// The thread asleep until a deadline the clock has silently passed;
    /// one `schedule(.., When::At(0))` on the main thread.
    SchedulePast,
    /// As `SchedulePast`, then `join(q)` on the main thread while a worker
    /// takes every task (`get_task` + `task_done`; it moves due tasks too
    /// when it finds the queue empty).
    Join,
    /// Not a move: `stop()` handing back every task, all of them queued
    /// (after the thread moved them).
    Stop,
}

impl MovePath {
    const ALL: [Self; 6] = [
        Self::Thread,
        Self::RunPending,
        Self::RunAll,
        Self::SchedulePast,
        Self::Join,
        Self::Stop,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::Thread => "background thread (start after the jump)",
            Self::RunPending => "run_pending() on another thread",
            Self::RunAll => "run_all() on another thread",
            Self::SchedulePast => "schedule(.., At(past)), then the woken thread",
            Self::Join => "join(q) + a worker taking every task",
            Self::Stop => "stop() handing back every queued task (not a move)",
        }
    }
}

/// Calls `call` in a tight loop on a new thread and returns the latency of
/// every call that started after `probe.go` was set (ns), counting every
/// call in `probe.calls`. The loop ends when `call` answers `false` after
/// `go`.
fn spawn_probe(
    probe: &Arc<Probe>,
    call: impl Fn() -> bool + Send + 'static,
) -> thread::JoinHandle<Vec<i64>> {
    let probe = Arc::clone(probe);
    thread::spawn(move || {
        let mut lat = Vec::with_capacity(1 << 20);
        loop {
            let started = probe.go.load(Ordering::Acquire);
            let t0 = Instant::now();
            let more = call();
            let dt = t0.elapsed().as_nanos() as i64;
            probe.calls.fetch_add(1, Ordering::Release);
            if started {
                lat.push(dt);
                if !more {
                    return lat;
                }
            }
        }
    })
}

/// The probe's signals: `go` from the harness (record from now on), and
/// the calls made so far.
#[derive(Default)]
struct Probe {
    go: AtomicBool,
    calls: AtomicU64,
}

impl Probe {
    /// Waits until the probe has made `n` more calls.
    fn wait_calls(&self, n: u64) {
        let from = self.calls.load(Ordering::Acquire);
        while self.calls.load(Ordering::Acquire) < from + n {
            thread::yield_now();
        }
    }
    /// Waits until the probe loops, sets `go`, and waits until it loops
    /// recording, so the move starts under a running probe.
    fn start(&self) {
        self.wait_calls(1);
        self.go.store(true, Ordering::Release);
        self.wait_calls(100);
    }
}

/// A scheduler holding `tasks` tasks due at [`LOCKHOLD_AT`] for one
/// unbounded queue, its clock (reading 0) and the queue.
fn lockhold_setup(tasks: usize) -> (Held, Arc<AtomicU64>, QueueId) {
    let now = Arc::new(AtomicU64::new(0));
    let options = Options::new().capacity(tasks + 1).max_sleep(Duration::MAX);
    let st = Held::new(JumpClock(Arc::clone(&now)), &[("q", 0)], options).expect("scheduler");
    let q = st.queue_id("q").expect("queue");
    for i in 0..tasks as u32 {
        st.schedule(Task::new(q, i, i), When::At(LOCKHOLD_AT))
            .expect("schedule");
    }
    (st, now, q)
}

/// One run of `path` with `tasks` tasks: the probe's latencies (ns) and
/// the wall time of the move (ns).
fn lockhold_tardy(path: MovePath, tasks: usize) -> (Vec<i64>, i64) {
    let (st, now, q) = lockhold_setup(tasks);
    if matches!(path, MovePath::SchedulePast | MovePath::Join) {
        st.start().expect("start");
        // Let the thread find nothing due and fall asleep until the deadline.
        thread::sleep(Duration::from_millis(20));
    }
    if matches!(path, MovePath::Stop) {
        now.store(LOCKHOLD_AT, Ordering::Relaxed);
        assert_eq!(st.run_all(), Ok(tasks), "every task moved before stop");
    }
    let worker = matches!(path, MovePath::Join).then(|| {
        let h = st.handle();
        thread::spawn(move || {
            for _ in 0..tasks {
                h.get_task(q, Wait::Forever).expect("get_task");
                h.task_done(q).expect("task_done");
            }
        })
    });
    let pr = Arc::new(Probe::default());
    let probe = {
        let h = st.handle();
        if matches!(path, MovePath::Stop) {
            spawn_probe(&pr, move || h.scheduled_len().is_ok())
        } else {
            spawn_probe(&pr, move || h.scheduled_len().is_ok_and(|n| n > 0))
        }
    };
    if matches!(path, MovePath::Join) {
        // The worker leads, asleep until the deadline, before the jump.
        thread::sleep(Duration::from_millis(20));
    }
    if !matches!(path, MovePath::RunAll | MovePath::Stop) {
        // Nothing moves yet: the thread is not started, or asleep until the
        // deadline with the worker that leads.
        now.store(LOCKHOLD_AT, Ordering::Relaxed);
    }
    pr.start();
    let t0 = Instant::now();
    match path {
        MovePath::Thread => st.start().expect("start"),
        MovePath::RunPending => assert_eq!(st.run_pending(), Ok(tasks)),
        MovePath::RunAll => assert_eq!(st.run_all(), Ok(tasks)),
        MovePath::SchedulePast => {
            st.schedule(Task::new(q, 0, 0), When::At(0))
                .expect("schedule");
        }
        MovePath::Join => st.join(q).expect("join"),
        MovePath::Stop => {
            let left = st.stop().expect("stop");
            assert_eq!(left.len(), tasks, "every task handed back");
        }
    }
    let lat = probe.join().expect("probe");
    let wall = t0.elapsed().as_nanos() as i64;
    if let Some(w) = worker {
        w.join().expect("worker");
    }
    drop(st);
    (lat, wall)
}

/// The floor: a plain `Mutex` over a `BinaryHeap` of `tasks` entries and a
/// `VecDeque`, another thread moving 64 entries per hold from one to the
/// other, the probe reading the heap's length. Returns the probe's
/// latencies and the holds.
fn lockhold_floor(tasks: usize) -> (Vec<i64>, Holds) {
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    type Pair = (BinaryHeap<Reverse<(u64, u32)>>, VecDeque<(u64, u32)>);
    let heap: BinaryHeap<_> = (0..tasks as u32)
        .map(|i| Reverse((LOCKHOLD_AT, i)))
        .collect();
    let m: Arc<Mutex<Pair>> = Arc::new(Mutex::new((heap, VecDeque::with_capacity(tasks))));
    let pr = Arc::new(Probe::default());
    let probe = {
        let m = Arc::clone(&m);
        spawn_probe(&pr, move || !m.lock().expect("lock").0.is_empty())
    };
    pr.start();
    let mut holds = Holds::default();
    loop {
        let mut g = m.lock().expect("lock");
        let empty = holds.time(|| {
            let (heap, queue) = &mut *g;
            for _ in 0..64 {
                match heap.pop() {
                    Some(Reverse(e)) => queue.push_back(e),
                    None => break,
                }
            }
            heap.is_empty()
        });
        drop(g);
        if empty {
            break;
        }
    }
    (probe.join().expect("probe"), holds)
}

/// The core's own work per hold of the threaded layer's lock, timed
/// without a lock: holds by the threaded layer's rule until `tasks` due
/// tasks are moved; each hold's time.
fn lockhold_core_batches(tasks: usize) -> Holds {
    let mut core = lockhold_core(tasks);
    core.clock().set(LOCKHOLD_AT);
    let mut holds = Holds::default();
    while core.next_deadline().is_some() {
        let moved = holds.time(|| one_hold(&mut core));
        black_box(moved);
    }
    holds
}

/// One hold by the threaded layer's rule (`State::move_batch` in
/// src/thread/wakeup.rs): steps of 8 due tasks until 64 are moved or
/// 50 µs have passed.
fn one_hold(core: &mut HeldCore) -> usize {
    let start = Instant::now();
    let (mut moved, mut budget) = (0, 64);
    while budget > 0 {
        let step = budget.min(8);
        moved += core.run_pending_max(step);
        budget -= step;
        let due = core.next_deadline().is_some_and(|d| d <= core.now());
        if !due || start.elapsed() >= Duration::from_micros(50) {
            break;
        }
    }
    moved
}

fn lockhold_core(tasks: usize) -> HeldCore {
    let mut core = HeldCore::with_capacity(ManualClock::new(0), tasks);
    let q = core.add_queue("q", 0).expect("queue");
    for i in 0..tasks as u32 {
        core.schedule(Task::new(q, i, i), When::At(LOCKHOLD_AT))
            .expect("schedule");
    }
    core
}

/// The "before" figure: the core's unbounded `run_all()` on a
/// `Mutex<AllocScheduler>`, one hold, with the probe reading `len()`.
/// Returns the probe's latencies and the one hold.
fn lockhold_unbounded(tasks: usize) -> (Vec<i64>, Holds) {
    let m = Arc::new(Mutex::new(lockhold_core(tasks)));
    let pr = Arc::new(Probe::default());
    let probe = {
        let m = Arc::clone(&m);
        spawn_probe(&pr, move || !m.lock().expect("lock").is_empty())
    };
    pr.start();
    let mut hold = Holds::default();
    let mut g = m.lock().expect("lock");
    let moved = hold.time(|| g.run_all());
    drop(g);
    assert_eq!(moved, tasks);
    (probe.join().expect("probe"), hold)
}

/// The CPU time this thread has used (ns), so that the work of one hold
/// can be told apart from the time the holder was preempted on a shared
/// machine; `None` off 64-bit Linux.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_ns() -> Option<i64> {
    // Declared here rather than taken from the `libc` crate, which is not a
    // dependency of the benches, for this one call.
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable `struct timespec` (two 64-bit
    // fields on 64-bit Linux targets) for the duration of the call.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then_some(ts.sec * 1_000_000_000 + ts.nsec)
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_ns() -> Option<i64> {
    None
}

/// The times of some lock holds (ns): wall clock, and CPU time of the
/// holding thread (empty off 64-bit Linux).
#[derive(Clone, Default)]
struct Holds {
    wall: Vec<i64>,
    cpu: Vec<i64>,
}

impl Holds {
    /// Runs `f`, recording its wall and CPU time.
    fn time<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let cpu0 = thread_cpu_ns();
        let t0 = Instant::now();
        let r = f();
        self.wall.push(t0.elapsed().as_nanos() as i64);
        if let (Some(a), Some(b)) = (cpu0, thread_cpu_ns()) {
            self.cpu.push(b - a);
        }
        r
    }
    fn extend(&mut self, other: Self) {
        self.wall.extend(other.wall);
        self.cpu.extend(other.cpu);
    }
}

fn over(d: &Dist, ns: i64) -> usize {
    d.0.iter().filter(|&&x| x > ns).count()
}

fn lockhold(args: &Args, report: &mut String) {
    let tasks = args.tasks.unwrap_or(1_000_000);
    let rounds = args.n(1);
    let _ = writeln!(
        report,
        "\n## lockhold ({tasks} due tasks, one unbounded queue; a probe thread calls \
         scheduled_len() in a tight loop; µs; {rounds} round(s) per row)\n"
    );
    let core_rounds = args.n(3);
    let mut worst_cpu = None::<i64>;
    let mut worst = 0;
    for loaded in [false, true] {
        let _load = loaded.then(Load::start);
        let label = if loaded { "loaded" } else { "idle" };
        let _ = writeln!(
            report,
            "### {label}: the probe's calls\n\n\
             | path | probe calls | max | p99.9 | p99 | p50 | over 100 µs | over 100 µs per s | move, ms |\n\
             |---|---|---|---|---|---|---|---|---|"
        );
        let row = |report: &mut String, name: &str, d: &Dist, wall: i64| {
            let _ = writeln!(
                report,
                "| {name} | {} | {} | {} | {} | {} | {} | {:.0} | {:.1} |",
                d.0.len(),
                us(d.max()),
                us(d.pct(99.9)),
                us(d.pct(99.0)),
                us(d.pct(50.0)),
                over(d, HOLD_TARGET_NS),
                over(d, HOLD_TARGET_NS) as f64 / (wall.max(1) as f64 / 1e9),
                wall as f64 / 1e6
            );
        };
        let (mut fl, mut fh) = (Vec::new(), Holds::default());
        for _ in 0..rounds {
            let (l, h) = lockhold_floor(tasks);
            fl.extend(l);
            fh.extend(h);
        }
        let floor = Dist::new(fl);
        let floor_wall = fh.wall.iter().sum::<i64>() / rounds as i64;
        row(
            report,
            "floor: plain Mutex, 64 BinaryHeap pops per hold",
            &floor,
            floor_wall,
        );
        for path in MovePath::ALL {
            let (mut l, mut wall) = (Vec::new(), 0);
            for _ in 0..rounds {
                let (lat, w) = lockhold_tardy(path, tasks);
                l.extend(lat);
                wall = wall.max(w);
            }
            let d = Dist::new(l);
            row(report, path.name(), &d, wall);
        }
        let (mut ul, mut uh) = (Vec::new(), Holds::default());
        for _ in 0..rounds {
            let (l, h) = lockhold_unbounded(tasks);
            ul.extend(l);
            uh.extend(h);
        }
        let before = Dist::new(ul);
        let before_wall = uh.wall.iter().copied().max().unwrap_or(0);
        row(
            report,
            "before: core run_all() under one Mutex hold",
            &before,
            before_wall,
        );
        if loaded {
            continue;
        }
        // The work of a hold does not depend on the load but for noise: idle
        // only.
        let _ = writeln!(
            report,
            "\n### idle: the work of one hold, timed without a lock\n\n\
             Wall time, and the holding thread's CPU time (the work itself, without \
             the time it was preempted).\n\n\
             | work per hold | holds | wall max | wall p99.9 | wall p99 | wall p50 | \
             CPU max | CPU p99.9 | CPU over 100 µs |\n|---|---|---|---|---|---|---|---|---|"
        );
        let hold_row = |report: &mut String, name: &str, h: Holds| {
            let (w, c) = (Dist::new(h.wall), Dist::new(h.cpu));
            let cpu = |v: String| if c.0.is_empty() { "n/a".to_owned() } else { v };
            let _ = writeln!(
                report,
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
                w.0.len(),
                us(w.max()),
                us(w.pct(99.9)),
                us(w.pct(99.0)),
                us(w.pct(50.0)),
                cpu(us(c.max())),
                cpu(us(c.pct(99.9))),
                cpu(over(&c, HOLD_TARGET_NS).to_string()),
            );
            (w.max(), (!c.0.is_empty()).then(|| c.max()))
        };
        // A hold ends after 64 tasks or 50 µs, so rounds cut their holds
        // differently and cannot be compared hold by hold. Each round's
        // longest hold includes whatever preempted it on this shared
        // machine; the round whose longest hold is shortest is the one
        // least disturbed, and its longest hold is the figure of record.
        // `run_all_max` runs the same loop (`run_until`) with no deadline
        // bound, so `run_pending_max` stands for both.
        let mut all = Holds::default();
        let mut quietest: Option<Holds> = None;
        for _ in 0..core_rounds {
            let h = lockhold_core_batches(tasks);
            let longest = |h: &Holds| h.wall.iter().copied().max().unwrap_or(0);
            if quietest.as_ref().is_none_or(|q| longest(&h) < longest(q)) {
                quietest = Some(h.clone());
            }
            all.extend(h);
        }
        let quietest = quietest.unwrap_or_default();
        let slow: Vec<String> = (quietest.wall.iter().enumerate())
            .filter(|&(_, &ns)| ns > HOLD_TARGET_NS)
            .map(|(i, &ns)| format!("#{i} {}", us(ns)))
            .collect();
        hold_row(
            report,
            "one hold of the threaded layer (<= 64 tasks, <= 50 µs): a move_due (and move_all) batch",
            all,
        );
        let (w, c) = hold_row(
            report,
            &format!("one hold of the threaded layer, the quietest of {core_rounds} rounds"),
            quietest,
        );
        hold_row(report, "floor: 64 BinaryHeap pops + VecDeque pushes", fh);
        hold_row(report, "before: core run_all(), one hold", uh);
        (worst, worst_cpu) = (w, c);
        let _ = writeln!(
            report,
            "\nholds over 100 µs in the quietest round (hold number, µs): {}\n",
            if slow.is_empty() {
                "none".to_owned()
            } else {
                slow.join(", ")
            }
        );
    }
    let met = worst <= HOLD_TARGET_NS;
    let _ = writeln!(
        report,
        "\nLongest lock hold moving {tasks} due tasks (idle, one hold of the threaded layer, \
         the quietest of {core_rounds} rounds): {} µs wall, {} µs CPU; target <= 100 µs: {}.",
        us(worst),
        worst_cpu.map_or_else(|| "n/a".to_owned(), us),
        if met { "met" } else { "NOT met" },
    );
    if !met {
        FAILED.store(true, Ordering::Relaxed);
    }
}

// ----- periodic ---------------------------------------------------------------

/// Periodic tasks: [`PERIODIC_TASKS`] tasks with a [`PERIOD`] period, their
/// first deadlines spread evenly over one period, each run for `--periods`
/// periods, delivered to [`PERIODIC_WORKERS`] workers.
#[cfg(feature = "periodic")]
mod periodic {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;
    use tardy::{MissedTickBehavior, TaskId};

    pub const PERIODIC_TASKS: usize = 1000;
    pub const PERIOD: Duration = Duration::from_millis(10);
    pub const PERIODIC_WORKERS: usize = 4;
    /// Room for scheduling every task before the first is due.
    const LEAD: Duration = Duration::from_millis(50);

    /// The first deadline of task `i`, from the first task's.
    fn phase(i: usize) -> Duration {
        PERIOD * i as u32 / PERIODIC_TASKS as u32
    }

    /// What one contender measured.
    pub struct Run {
        /// Delivery time minus the deadline of its period, every delivery
        /// of periods 0..N (ns).
        pub lateness: Dist,
        /// Periods without a delivery of their own (coalesced or skipped).
        pub missed: u64,
        /// Per task, at its last period k (k >= N - 1): the deadline of the
        /// delivery minus `first + k * period` (ns); `None` for the floor,
        /// whose deadlines are that by construction.
        pub deadline_drift: Option<Dist>,
        /// Per task: the time of the last delivery minus
        /// `first + k * period` (ns).
        pub real_drift: Option<Dist>,
    }

    /// Per task, at its last period: (deadline drift, real-time drift), ns.
    type Finals = Mutex<Vec<(i64, i64)>>;

    fn finish(finals: &Finals, done: &AtomicUsize, all_done: &mpsc::Sender<()>, drift: (i64, i64)) {
        finals.lock().expect("finals").push(drift);
        if done.fetch_add(1, Ordering::SeqCst) + 1 == PERIODIC_TASKS {
            let _ = all_done.send(());
        }
    }

    fn run_of(lat: Vec<i64>, missed: u64, finals: Finals) -> Run {
        let finals = finals.into_inner().expect("finals");
        Run {
            lateness: Dist::new(lat),
            missed,
            deadline_drift: Some(Dist::new(finals.iter().map(|f| f.0).collect())),
            real_drift: Some(Dist::new(finals.iter().map(|f| f.1).collect())),
        }
    }

    /// The floor: one thread waits with `Condvar::wait_timeout` for every
    /// deadline of every task in order and records each as it passes.
    pub fn floor(periods: usize) -> Run {
        let pair = (Mutex::new(()), Condvar::new());
        let start = Instant::now() + LEAD;
        let mut lat = Vec::with_capacity(periods * PERIODIC_TASKS);
        for k in 0..periods {
            for i in 0..PERIODIC_TASKS {
                let at = start + PERIOD * k as u32 + phase(i);
                wait_until(&pair, at);
                lat.push(diff_ns(Instant::now(), at));
            }
        }
        Run {
            lateness: Dist::new(lat),
            missed: 0,
            deadline_drift: None,
            real_drift: None,
        }
    }

    type Periodic = SchedulerThread<u32, u32>;

    /// tardy's periodic tasks: `schedule_periodic` on the grid; each worker
    /// takes occurrences, and cancels a task once it has its last period.
    pub fn tardy(periods: usize, missed: MissedTickBehavior) -> Run {
        let st =
            Periodic::new(MonotonicClock::new(), &[("p", 0)], Options::new()).expect("scheduler");
        st.start().expect("start");
        let h = st.handle();
        let q = h.queue_id("p").expect("queue");
        let period = MonotonicClock::ticks_of(PERIOD);
        let t0 = h.now() + MonotonicClock::ticks_of(LEAD);
        let first = move |i: usize| t0 + MonotonicClock::ticks_of(phase(i));
        let ids: Arc<Vec<TaskId>> = Arc::new(
            (0..PERIODIC_TASKS)
                .map(|i| {
                    h.schedule_periodic(
                        Task::new(q, i as u32, 0),
                        When::At(first(i)),
                        period,
                        missed,
                    )
                    .expect("schedule_periodic")
                })
                .collect(),
        );
        let done_flags: Arc<Vec<AtomicBool>> = Arc::new(
            (0..PERIODIC_TASKS)
                .map(|_| AtomicBool::new(false))
                .collect(),
        );
        let finals = Arc::new(Finals::default());
        let done = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let last = periods as u64 - 1;
        let workers: Vec<_> = (0..PERIODIC_WORKERS)
            .map(|_| {
                let (h, ids, flags, finals, done, tx) = (
                    h.clone(),
                    Arc::clone(&ids),
                    Arc::clone(&done_flags),
                    Arc::clone(&finals),
                    Arc::clone(&done),
                    tx.clone(),
                );
                thread::spawn(move || {
                    let clock = h.clock();
                    let mut lat = Vec::with_capacity(periods * PERIODIC_TASKS / 3);
                    let mut missed = 0;
                    while let Ok(t) = h.get_task(q, Wait::Forever) {
                        let now = clock.now();
                        let i = *t.subject() as usize;
                        let p = t.period().expect("an occurrence");
                        if flags[i].load(Ordering::Relaxed) {
                            continue; // queued before the task was cancelled
                        }
                        lat.push(now as i64 - t.deadline() as i64);
                        missed += p.missed;
                        if p.index + p.missed >= last {
                            flags[i].store(true, Ordering::Relaxed);
                            let _ = h.cancel(ids[i]);
                            let grid = first(i) + p.index * period;
                            let drift =
                                (t.deadline() as i64 - grid as i64, now as i64 - grid as i64);
                            finish(&finals, &done, &tx, drift);
                        }
                    }
                    (lat, missed)
                })
            })
            .collect();
        rx.recv().expect("every task done");
        let _ = st.stop();
        let (mut lat, mut missed) = (Vec::new(), 0);
        for w in workers {
            let (l, m) = w.join().expect("worker");
            lat.extend(l);
            missed += m;
        }
        let finals = Arc::try_unwrap(finals).unwrap_or_default();
        run_of(lat, missed, finals)
    }

    /// The hand-written re-arm with one-shot tasks: each worker schedules
    /// the task it took again `period` from now (the clock's reading when
    /// it schedules), so every delivery's lateness adds up.
    pub fn rearm(periods: usize) -> Run {
        let st =
            Periodic::new(MonotonicClock::new(), &[("p", 0)], Options::new()).expect("scheduler");
        st.start().expect("start");
        let h = st.handle();
        let q = h.queue_id("p").expect("queue");
        let period = MonotonicClock::ticks_of(PERIOD);
        let t0 = h.now() + MonotonicClock::ticks_of(LEAD);
        let first = move |i: usize| t0 + MonotonicClock::ticks_of(phase(i));
        for i in 0..PERIODIC_TASKS {
            // The payload counts the deliveries so far.
            h.schedule(Task::new(q, i as u32, 0), When::At(first(i)))
                .expect("schedule");
        }
        let finals = Arc::new(Finals::default());
        let done = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let last = periods as u64 - 1;
        let workers: Vec<_> = (0..PERIODIC_WORKERS)
            .map(|_| {
                let (h, finals, done, tx) = (
                    h.clone(),
                    Arc::clone(&finals),
                    Arc::clone(&done),
                    tx.clone(),
                );
                thread::spawn(move || {
                    let clock = h.clock();
                    let mut lat = Vec::with_capacity(periods * PERIODIC_TASKS / 3);
                    while let Ok(mut t) = h.get_task(q, Wait::Forever) {
                        let now = clock.now();
                        lat.push(now as i64 - t.deadline() as i64);
                        let k = u64::from(*t.payload());
                        if k >= last {
                            let grid = first(*t.subject() as usize) + k * period;
                            let drift =
                                (t.deadline() as i64 - grid as i64, now as i64 - grid as i64);
                            finish(&finals, &done, &tx, drift);
                        } else {
                            *t.payload_mut() += 1;
                            let _ = h.schedule(t, When::After(period));
                        }
                    }
                    lat
                })
            })
            .collect();
        rx.recv().expect("every task done");
        let _ = st.stop();
        let mut lat = Vec::new();
        for w in workers {
            lat.extend(w.join().expect("worker"));
        }
        let finals = Arc::try_unwrap(finals).unwrap_or_default();
        run_of(lat, 0, finals)
    }

    /// tokio's `Interval`, one tokio task per periodic task on a
    /// multi-threaded runtime with [`PERIODIC_WORKERS`] workers. `tick`
    /// returns the deadline it was due at; the period index is counted
    /// from the gaps between deadlines (a skipped period makes a gap of
    /// two or more periods).
    pub fn tokio_interval(periods: usize, missed: tokio::time::MissedTickBehavior) -> Run {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(PERIODIC_WORKERS)
            .enable_time()
            .build()
            .expect("tokio runtime");
        let start = Instant::now() + LEAD;
        let period_ns = PERIOD.as_nanos() as i64;
        let last = periods as i64 - 1;
        let tasks: Vec<_> = (0..PERIODIC_TASKS)
            .map(|i| {
                let first = start + phase(i);
                rt.spawn(async move {
                    let mut iv = tokio::time::interval_at(first.into(), PERIOD);
                    iv.set_missed_tick_behavior(missed);
                    let mut lat = Vec::with_capacity(periods);
                    let (mut k, mut skipped) = (-1i64, 0u64);
                    let mut prev: Option<Instant> = None;
                    loop {
                        let due = iv.tick().await.into_std();
                        let now = Instant::now();
                        lat.push(diff_ns(now, due));
                        let step = prev.map_or(1, |p| (diff_ns(due, p) / period_ns).max(1));
                        skipped += (step - 1) as u64;
                        k += step;
                        prev = Some(due);
                        if k >= last {
                            let grid = first + PERIOD * k as u32;
                            return (lat, skipped, (diff_ns(due, grid), diff_ns(now, grid)));
                        }
                    }
                })
            })
            .collect();
        let (mut lat, mut skipped, mut finals) = (Vec::new(), 0, Vec::new());
        for t in tasks {
            let (l, s, f) = rt.block_on(t).expect("interval task");
            lat.extend(l);
            skipped += s;
            finals.push(f);
        }
        run_of(lat, skipped, Mutex::new(finals))
    }

    pub fn section(periods: usize, report: &mut String) {
        let periods = periods.max(1);
        let loadavg = || {
            std::fs::read_to_string("/proc/loadavg")
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|_| "unknown".to_owned())
        };
        let load_before = loadavg();
        let contenders: Vec<(&str, Run)> = vec![
            ("Condvar::wait_timeout (floor)", floor(periods)),
            (
                "tardy schedule_periodic, Burst",
                tardy(periods, MissedTickBehavior::Burst),
            ),
            (
                "tardy schedule_periodic, Skip",
                tardy(periods, MissedTickBehavior::Skip),
            ),
            ("tardy one-shot, re-armed now + period", rearm(periods)),
            (
                "tokio Interval, Burst",
                tokio_interval(periods, tokio::time::MissedTickBehavior::Burst),
            ),
            (
                "tokio Interval, Skip",
                tokio_interval(periods, tokio::time::MissedTickBehavior::Skip),
            ),
        ];
        let _ = writeln!(
            report,
            "\n## periodic ({PERIODIC_TASKS} tasks every {} ms, first deadlines spread over one period, \
             {periods} periods each, {PERIODIC_WORKERS} workers; idle; load average {load_before} before, {} after)\n",
            PERIOD.as_millis(),
            loadavg()
        );
        let _ = writeln!(
            report,
            "Lateness: delivery time minus the deadline of its period (µs). Drift after the last period k of each task: \
             its deadline minus `first + k * period` (deadline drift, µs) and its delivery time minus the same \
             (real-time drift, ms), p50 and max over the tasks.\n"
        );
        let _ = writeln!(
            report,
            "| what | deliveries | missed periods | p50 | p99 | max | early | p50 / floor | deadline drift p50 / max | real-time drift p50 / max (ms) |\n\
             |---|---|---|---|---|---|---|---|---|---|"
        );
        let floor_p50 = contenders[0].1.lateness.pct(50.0);
        let ms = |ns: i64| format!("{:.3}", ns as f64 / 1e6);
        let mut verdicts = Vec::new();
        for (what, r) in &contenders {
            let d = &r.lateness;
            let drift = |x: &Option<Dist>, f: &dyn Fn(i64) -> String| {
                x.as_ref().map_or("—".to_owned(), |x| {
                    format!("{} / {}", f(x.pct(50.0)), f(x.max()))
                })
            };
            let _ = writeln!(
                report,
                "| {what} | {} | {} | {} | {} | {} | {} | {:.2} | {} | {} |",
                d.0.len(),
                r.missed,
                us(d.pct(50.0)),
                us(d.pct(99.0)),
                us(d.max()),
                d.early(),
                ratio(d.pct(50.0), floor_p50),
                drift(&r.deadline_drift, &us),
                drift(&r.real_drift, &ms),
            );
            if d.early() > 0 {
                FAILED.store(true, Ordering::Relaxed);
                let _ = writeln!(
                    report,
                    "\n**FAIL: {} early deliveries ({what}), earliest {} µs.**\n",
                    d.early(),
                    us(d.min())
                );
            }
            if what.starts_with("tardy schedule_periodic") {
                let r50 = ratio(d.pct(50.0), floor_p50);
                let dd = r
                    .deadline_drift
                    .as_ref()
                    .map_or(0, |x| x.min().abs().max(x.max().abs()));
                verdicts.push(format!(
                    "- {what}: p50 / floor = {r50:.2} (target <= 1.5: {}); deadline drift after {periods} periods {dd} ns (target 0: {})",
                    if r50 <= 1.5 { "met" } else { "missed" },
                    if dd == 0 { "met" } else { "missed" },
                ));
                if dd != 0 {
                    // Off the grid under Burst or Skip is a bug, not a slow machine.
                    FAILED.store(true, Ordering::Relaxed);
                }
            }
        }
        let _ = writeln!(report, "\nTargets:\n\n{}", verdicts.join("\n"));
    }
}

// ----- main -----------------------------------------------------------------

fn main() {
    let args = Args::parse();
    let mut report = String::new();
    let cores = thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let _ = writeln!(
        report,
        "# tardy latency harness\n\n{cores} cores, {cpu}, scale {}",
        args.scale
    );
    let started = Instant::now();
    if args.wants("footprint") {
        footprint(&mut report);
        print!("{report}");
        report.clear();
    }
    if args.wants("python") {
        python(&args, &mut report);
        print!("{report}");
        report.clear();
    }
    let mut all = String::new();
    if args.wants("handoff") {
        handoff(&args, &mut report);
        print!("{report}");
        all.push_str(&report);
        report.clear();
    }
    let mut panels = Vec::new();
    if args.wants("lateness") {
        lateness(&args, &mut report, &mut panels);
        print!("{report}");
        all.push_str(&report);
        report.clear();
    }
    if args.wants("async") {
        async_section(&args, &mut report);
        print!("{report}");
        all.push_str(&report);
        report.clear();
    }
    if args.wants("lockhold") {
        lockhold(&args, &mut report);
        print!("{report}");
        all.push_str(&report);
        report.clear();
    }
    #[cfg(feature = "periodic")]
    if args.wants("periodic") {
        periodic::section(args.periods, &mut report);
        print!("{report}");
        all.push_str(&report);
        report.clear();
    }
    println!("\n(total {:.1} s)", started.elapsed().as_secs_f64());
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).expect("create --out directory");
        if !panels.is_empty() {
            let path = format!("{dir}/lateness.svg");
            std::fs::write(&path, render_svg(&panels)).expect("write svg");
            println!("wrote {path}");
        }
        let path = format!("{dir}/summary.md");
        std::fs::write(&path, all).expect("write summary");
        println!("wrote {path}");
    }
    if FAILED.load(Ordering::Relaxed) {
        eprintln!("latency harness: FAILED (see above)");
        std::process::exit(1);
    }
}
