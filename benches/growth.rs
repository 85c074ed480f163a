//! The growth and memory harness (no criterion: it reports the slowest call
//! and bytes per task, not means).
//!
//! Sections, in one run of the harness so that the ratios hold on a noisy
//! machine:
//!
//! - `growth`: N tasks scheduled one by one into a structure that starts
//!   empty, deadlines in random order, every call timed (two clock reads
//!   around it; the "clock read" row is that floor), and one small block
//!   allocated and kept every 64 calls, untimed, for the rest of a
//!   program. Per structure: the slowest call (median over the repeats),
//!   the slowest *recurring* call (every call's fastest time over the
//!   repeats, then the slowest of those: a stall the structure causes
//!   comes back at the same call, preemption does not), p99.9, p99, p50,
//!   the total, and the calls over 100 µs. Each run is a fresh child
//!   process (this binary again, with `--child`), so that every run starts
//!   from a known allocator state whatever ran before it: "fresh" (glibc
//!   grows blocks of 128 KiB and more with `mremap`, without copying) and
//!   "warm" (a 32 MiB block allocated and freed first, as a long-running
//!   process will have done: glibc then copies on `realloc` below 32 MiB).
//!   Structures: tardy's `AllocScheduler` growing from empty and made with
//!   `with_capacity(N)` (no growth), std `BinaryHeap` (one `Vec` that
//!   doubles), tokio-util's `DelayQueue` (a slab `Vec` that doubles, and a
//!   timer wheel; on a paused tokio clock) and `BTreeMap<(deadline, seq),
//!   _>` (small nodes, no large array). The repeats interleave the
//!   structures.
//! - `memory`: for N = 10^5 and 10^6, one fresh child process per structure
//!   (this binary again, with `--child`), so that no structure's freed
//!   memory pollutes another's figures: the bytes a counting allocator sees
//!   allocated while the N tasks are held, over N, minus the user's
//!   subject and payload; the resident memory (`VmRSS`) before and after;
//!   then every task is delivered, the structure is shrunk
//!   (`shrink_to_fit` where it has one) and the bytes it keeps are counted.
//!
//! Subjects and payloads are `u64` (16 bytes per task). tardy holds
//! `Task<u64, u64>` (the queue id rides along in the task); `BinaryHeap`
//! holds `Reverse<(deadline, seq, (subject, payload))>`, `BTreeMap` maps
//! `(deadline, seq)` to `(subject, payload)`, `DelayQueue` holds
//! `(subject, payload)`. Deadlines are 1..=10^6 ms (ticks for tardy).
//!
//! ```text
//! cargo bench --bench growth                     # 10^6 tasks, 3 repeats (~1 min)
//! cargo bench --bench growth -- --quick          # 10^5 tasks, 1 repeat (CI smoke run)
//! cargo bench --bench growth -- --tasks 2000000 --repeat 5 --only growth
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt::Write as _;
use std::future::poll_fn;
use std::hint::black_box;
use std::io::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use tardy::{AllocScheduler, ManualClock, QueueId, Task, VecDequeQueue, When};
use tokio::runtime::Runtime;
use tokio_util::time::DelayQueue;

// ----- counting allocator -------------------------------------------------

/// Forwards to the system allocator and counts the bytes currently
/// allocated (requested sizes, not the allocator's rounding).
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

fn size(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a relaxed atomic and allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(size(layout), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(size(layout), Ordering::Relaxed);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let new = i64::try_from(new_size).unwrap_or(i64::MAX);
            LIVE.fetch_add(new - size(layout), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(size(layout), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated now.
fn live_bytes() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

/// Resident memory of this process in bytes (`VmRSS`), 0 where
/// `/proc/self/status` is missing.
fn rss_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

// ----- options ------------------------------------------------------------

struct Args {
    tasks: usize,
    repeat: usize,
    quick: bool,
    only: Option<Vec<String>>,
    /// Internal: `--child SECTION KIND N` runs one structure of `growth`
    /// or `memory` in this process and prints what it measured.
    child: Option<(String, String, usize)>,
}

impl Args {
    fn parse() -> Self {
        let mut args = Self {
            tasks: 1_000_000,
            repeat: 3,
            quick: false,
            only: None,
            child: None,
        };
        let mut tasks = None;
        let mut repeat = None;
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--tasks" => tasks = it.next().and_then(|v| v.parse().ok()),
                "--repeat" => repeat = it.next().and_then(|v| v.parse().ok()),
                "--quick" => args.quick = true,
                "--only" => {
                    args.only = it.next().map(|v| v.split(',').map(str::to_owned).collect());
                }
                "--child" => {
                    let section = it.next().unwrap_or_default();
                    let kind = it.next().unwrap_or_default();
                    let n = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                    args.child = Some((section, kind, n));
                }
                "--help" | "-h" => {
                    println!(
                        "growth [--tasks N] [--repeat R] [--quick] [--only growth,memory]\n\
                         defaults: --tasks 1000000 --repeat 3; --quick: 100000 tasks, 1 repeat"
                    );
                    std::process::exit(0);
                }
                _ => {} // `cargo bench` passes `--bench`
            }
        }
        if args.quick {
            args.tasks = 100_000;
            args.repeat = 1;
        }
        args.tasks = tasks.unwrap_or(args.tasks).max(1);
        args.repeat = repeat.unwrap_or(args.repeat).max(1);
        args
    }
    fn wants(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == section))
    }
}

// ----- the structures -----------------------------------------------------

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

/// Deadlines are `1..=SPAN` ms (ticks for tardy) after 0.
const SPAN: u64 = 1_000_000;
/// Subject and payload bytes per task, the user's own.
const USER_BYTES: f64 = 16.0;
/// A call slower than this counts as a stall.
const STALL_NS: u32 = 100_000;

type T = Task<u64, u64>;
type Tardy = AllocScheduler<ManualClock, VecDequeQueue<T>, u64, u64, 2>;
type Heap = BinaryHeap<Reverse<(u64, u64, (u64, u64))>>;
type BTree = BTreeMap<(u64, u64), (u64, u64)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    TardyGrowing,
    TardyReserved,
    BinaryHeap,
    DelayQueue,
    BTreeMap,
}

impl Kind {
    const GROWTH: [Kind; 5] = [
        Kind::TardyGrowing,
        Kind::TardyReserved,
        Kind::BinaryHeap,
        Kind::DelayQueue,
        Kind::BTreeMap,
    ];
    const MEMORY: [Kind; 4] = [
        Kind::TardyGrowing,
        Kind::DelayQueue,
        Kind::BinaryHeap,
        Kind::BTreeMap,
    ];
    fn arg(self) -> &'static str {
        match self {
            Kind::TardyGrowing => "tardy",
            Kind::TardyReserved => "tardy-reserved",
            Kind::BinaryHeap => "binary-heap",
            Kind::DelayQueue => "delay-queue",
            Kind::BTreeMap => "btree-map",
        }
    }
    fn from_arg(s: &str) -> Option<Self> {
        Self::GROWTH.into_iter().find(|k| k.arg() == s)
    }
    fn label(self, n: usize) -> String {
        match self {
            Kind::TardyGrowing => "tardy `AllocScheduler::new` (grows)".to_owned(),
            Kind::TardyReserved => format!("tardy `AllocScheduler::with_capacity({n})`"),
            Kind::BinaryHeap => "std `BinaryHeap` (doubles)".to_owned(),
            Kind::DelayQueue => "tokio-util `DelayQueue` (slab doubles)".to_owned(),
            Kind::BTreeMap => "std `BTreeMap<(deadline, seq), _>`".to_owned(),
        }
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
}

fn tardy(reserve: usize) -> (Tardy, QueueId) {
    let mut s = if reserve == 0 {
        Tardy::new(ManualClock::new(0))
    } else {
        Tardy::with_capacity(ManualClock::new(0), reserve)
    };
    let q = s.add_queue("q", 0).expect("queue");
    (s, q)
}

fn deadlines(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng(seed | 1);
    (0..n).map(|_| 1 + rng.below(SPAN)).collect()
}

/// The rest of the program allocates one small block every `FENCE_EVERY`
/// calls (outside the timing) and keeps it, as a daemon allocates records
/// between schedulings: a growing array is then seldom the last block of
/// the heap, where the allocator could extend it in place.
const FENCE_EVERY: u64 = 64;

/// Calls `call(i)` for every `i` in `0..times.len()` and stores in
/// `times[i]` its nanoseconds (two clock reads around each call); between
/// calls, the fences of [`FENCE_EVERY`].
fn time_each(times: &mut [u32], mut call: impl FnMut(u64)) {
    let mut fences: Vec<Box<u64>> = Vec::with_capacity(times.len() / FENCE_EVERY as usize + 1);
    for (i, t) in (0u64..).zip(times.iter_mut()) {
        let start = Instant::now();
        call(i);
        let end = Instant::now();
        *t = u32::try_from(end.duration_since(start).as_nanos()).unwrap_or(u32::MAX);
        if i % FENCE_EVERY == 0 {
            fences.push(Box::new(i));
        }
    }
    black_box(fences);
}

// ----- growth -------------------------------------------------------------

/// The figures of one run, in nanoseconds.
#[derive(Clone, Copy)]
struct Run {
    max: u32,
    p999: u32,
    p99: u32,
    p50: u32,
    total: u64,
    stalls: usize,
}

impl Run {
    fn of(times: &[u32]) -> Self {
        let total = times.iter().map(|&t| u64::from(t)).sum();
        let stalls = times.iter().filter(|&&t| t > STALL_NS).count();
        let mut v = times.to_vec();
        v.sort_unstable();
        let pct = |p: f64| v[((p / 100.0) * (v.len() - 1) as f64).round() as usize];
        Self {
            max: v[v.len() - 1],
            p999: pct(99.9),
            p99: pct(99.0),
            p50: pct(50.0),
            total,
            stalls,
        }
    }
}

/// Schedules every deadline into a fresh structure of `kind`, timing each
/// call into `times`; the structure is dropped after the timing.
fn grow(kind: Kind, ds: &[u64], times: &mut [u32], rt: &Runtime) {
    match kind {
        Kind::TardyGrowing | Kind::TardyReserved => {
            let reserve = if kind == Kind::TardyReserved {
                ds.len()
            } else {
                0
            };
            let (mut s, q) = tardy(reserve);
            time_each(times, |i| {
                let at = When::At(ds[i as usize]);
                black_box(s.schedule(Task::new(q, i, i), at).expect("schedule"));
            });
            assert_eq!(s.len(), ds.len());
        }
        Kind::BinaryHeap => {
            let mut h = Heap::new();
            time_each(times, |i| h.push(Reverse((ds[i as usize], i, (i, i)))));
            assert_eq!(h.len(), ds.len());
        }
        Kind::DelayQueue => {
            // `DelayQueue` reads the paused tokio clock, which stays put.
            let _rt = rt.enter();
            let base = tokio::time::Instant::now();
            let mut q = DelayQueue::new();
            time_each(times, |i| {
                let at = base + Duration::from_millis(ds[i as usize]);
                black_box(q.insert_at((i, i), at));
            });
            assert_eq!(q.len(), ds.len());
        }
        Kind::BTreeMap => {
            let mut m = BTree::new();
            time_each(times, |i| {
                black_box(m.insert((ds[i as usize], i), (i, i)));
            });
            assert_eq!(m.len(), ds.len());
        }
    }
}

fn us(ns: u32) -> String {
    format!("{:.1}", f64::from(ns) / 1000.0)
}

fn median<X: Copy + Ord>(mut v: Vec<X>) -> X {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Per call, its fastest time over the repeats so far: a stall the
/// structure causes recurs at the same call in every repeat (a doubling at
/// call 2^k, a new segment every 4 096 calls), the OS taking the core away
/// does not.
struct Recurring(Vec<u32>);

impl Recurring {
    fn add(&mut self, times: &[u32]) {
        for (m, &t) in self.0.iter_mut().zip(times) {
            *m = (*m).min(t);
        }
    }
    /// The slowest recurring call: (its time, its index).
    fn slowest(&self) -> (u32, usize) {
        self.top(1).first().copied().unwrap_or((0, 0))
    }
    /// The `k` slowest recurring calls, slowest first.
    fn top(&self, k: usize) -> Vec<(u32, usize)> {
        let mut v: Vec<(u32, usize)> = self.0.iter().enumerate().map(|(i, &t)| (t, i)).collect();
        let k = k.min(v.len());
        if k > 0 && k < v.len() {
            v.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        }
        v.truncate(k);
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    }
    fn stalls(&self) -> usize {
        self.0.iter().filter(|&&t| t > STALL_NS).count()
    }
}

/// The allocator state a growth run starts from.
#[derive(Clone, Copy)]
enum State {
    /// A fresh process: glibc serves blocks of 128 KiB and more with
    /// `mmap`, and `realloc` grows them with `mremap`, which moves page
    /// table entries and copies no data.
    Fresh,
    /// A process that has once freed a large block, as a long-running one
    /// has: glibc then raises its `mmap` threshold to that block's size (up
    /// to 32 MiB), and a `realloc` below it copies the data.
    Warm,
}

impl State {
    const ALL: [State; 2] = [State::Fresh, State::Warm];
    fn section(self) -> &'static str {
        match self {
            State::Fresh => "growth",
            State::Warm => "growth-warm",
        }
    }
    fn title(self) -> &'static str {
        match self {
            State::Fresh => "fresh process",
            State::Warm => "warm process (one 32 MiB block allocated and freed first)",
        }
    }
}

/// Just below glibc's largest dynamic `mmap` threshold (32 MiB on 64-bit
/// targets), so that freeing it raises the threshold as far as it goes.
const WARM_BYTES: usize = (32 << 20) - (64 << 10);

/// Every run of every structure in one allocator state.
struct Runs {
    runs: Vec<Vec<Run>>,
    recurring: Vec<Recurring>,
}

fn growth(args: &Args, report: &mut String) {
    let n = args.tasks;
    // The clock floor first, then the structures.
    let kinds: Vec<&str> = std::iter::once("clock")
        .chain(Kind::GROWTH.iter().map(|k| k.arg()))
        .collect();
    let mut states: Vec<Runs> = State::ALL
        .iter()
        .map(|_| Runs {
            runs: vec![Vec::new(); kinds.len()],
            recurring: (0..kinds.len())
                .map(|_| Recurring(vec![u32::MAX; n]))
                .collect(),
        })
        .collect();
    for _ in 0..args.repeat {
        for (state, runs) in State::ALL.iter().zip(&mut states) {
            for (k, kind) in kinds.iter().enumerate() {
                let Some(out) = run_child(state.section(), kind, n) else {
                    continue;
                };
                let times: Vec<u32> = out
                    .chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                if times.len() != n {
                    eprintln!("growth: child {kind} gave {} times", times.len());
                    FAILED.store(true, Ordering::Relaxed);
                    continue;
                }
                runs.runs[k].push(Run::of(&times));
                runs.recurring[k].add(&times);
            }
        }
    }
    if states.iter().any(|s| s.runs.iter().any(Vec::is_empty)) {
        report.push_str("\n**growth: a child process failed; see stderr.**\n");
        return;
    }
    let _ = writeln!(
        report,
        "\n## growth: {n} tasks scheduled one by one into an empty structure\n\n\
         Every call timed, {} repeats, structures interleaved, each run in a fresh process \
         started in one of two allocator states (below). \"slowest\": the median over the \
         repeats of each repeat's slowest call, and each repeat's. \"recurring\": every \
         call's fastest time over the repeats, then the slowest of those and its call number \
         (0-based); a stall the structure causes comes back at the same call in every \
         repeat, one where the OS took the core away does not. Percentiles and totals: \
         medians over the repeats.",
        args.repeat
    );
    let labels: Vec<String> = std::iter::once("clock read alone (the floor)".to_owned())
        .chain(Kind::GROWTH.iter().map(|k| k.label(n)))
        .collect();
    let row = |kind: Kind| Kind::GROWTH.iter().position(|&x| x == kind).unwrap_or(0) + 1;
    let slowest =
        |r: &Runs, kind: Kind| median(r.runs[row(kind)].iter().map(|x| x.max).collect()).max(1);
    let recurring_slowest = |r: &Runs, kind: Kind| r.recurring[row(kind)].slowest().0.max(1);
    for (state, r) in State::ALL.iter().zip(&states) {
        let _ = writeln!(
            report,
            "\n### {}\n\n\
             | structure | slowest, µs | slowest per repeat, µs | recurring slowest, µs (call) | \
             p99.9, ns | p99, ns | p50, ns | total, ms | calls over 100 µs per repeat | \
             recurring over 100 µs |\n|---|---|---|---|---|---|---|---|---|---|",
            state.title()
        );
        for (label, (rs, rec)) in labels.iter().zip(r.runs.iter().zip(&r.recurring)) {
            let per: Vec<String> = rs.iter().map(|x| us(x.max)).collect();
            let stalls: Vec<String> = rs.iter().map(|x| x.stalls.to_string()).collect();
            let (slow, at) = rec.slowest();
            let _ = writeln!(
                report,
                "| {label} | {} | {} | {} ({at}) | {} | {} | {} | {:.1} | {} | {} |",
                us(median(rs.iter().map(|x| x.max).collect())),
                per.join(" / "),
                us(slow),
                median(rs.iter().map(|x| x.p999).collect()),
                median(rs.iter().map(|x| x.p99).collect()),
                median(rs.iter().map(|x| x.p50).collect()),
                median(rs.iter().map(|x| x.total).collect()) as f64 / 1e6,
                stalls.join(" / "),
                rec.stalls(),
            );
        }
        let _ = writeln!(
            report,
            "\nThe five slowest recurring calls, µs (call number):\n\n| structure | calls |\n|---|---|"
        );
        for (label, rec) in labels.iter().zip(&r.recurring).skip(1) {
            let top: Vec<String> = rec
                .top(5)
                .iter()
                .map(|&(t, i)| format!("{} ({i})", us(t)))
                .collect();
            let _ = writeln!(report, "| {label} | {} |", top.join(", "));
        }
    }
    let _ = writeln!(
        report,
        "\n### Ratios: the slowest call of each over tardy's (growing)\n\n\
         | structure | fresh: slowest | fresh: recurring | warm: slowest | warm: recurring |\n\
         |---|---|---|---|---|"
    );
    for kind in [
        Kind::BinaryHeap,
        Kind::DelayQueue,
        Kind::BTreeMap,
        Kind::TardyReserved,
    ] {
        let ratio = |r: &Runs, f: &dyn Fn(&Runs, Kind) -> u32| {
            f64::from(f(r, kind)) / f64::from(f(r, Kind::TardyGrowing))
        };
        let _ = writeln!(
            report,
            "| {} | {:.1}x | {:.1}x | {:.1}x | {:.1}x |",
            kind.label(n),
            ratio(&states[0], &slowest),
            ratio(&states[0], &recurring_slowest),
            ratio(&states[1], &slowest),
            ratio(&states[1], &recurring_slowest),
        );
    }
    let _ = writeln!(
        report,
        "\nTarget: tardy's slowest call at most a tenth of the doubling baseline's (std \
         `BinaryHeap`), recurring slowest:"
    );
    for (state, r) in State::ALL.iter().zip(&states) {
        let (t, h) = (
            recurring_slowest(r, Kind::TardyGrowing),
            recurring_slowest(r, Kind::BinaryHeap),
        );
        let ratio = f64::from(h) / f64::from(t);
        let met = if ratio >= 10.0 { "met" } else { "NOT met" };
        let _ = writeln!(
            report,
            "- {}: {} µs against {} µs, {ratio:.1}x: **{met}**",
            state.title(),
            us(t),
            us(h)
        );
    }
    if args.repeat < 2 {
        report.push_str(
            "\n(One repeat: \"recurring\" cannot tell a stall from the OS taking the core.)\n",
        );
    }
}

// ----- memory -------------------------------------------------------------

/// What a child measured, in bytes.
struct Memory {
    held: i64,
    rss: i64,
    /// `AllocScheduler::allocated_bytes` while holding (tardy only).
    reported: i64,
    /// Still allocated after delivering every task, before shrinking.
    drained: i64,
    /// Still allocated after shrinking.
    kept: i64,
    rss_kept: i64,
}

impl Memory {
    fn line(&self) -> String {
        format!(
            "MEMORY {} {} {} {} {} {}",
            self.held, self.rss, self.reported, self.drained, self.kept, self.rss_kept
        )
    }
    fn parse(out: &str) -> Option<Self> {
        let line = out.lines().find(|l| l.starts_with("MEMORY "))?;
        let v: Vec<i64> = line
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        match v[..] {
            [held, rss, reported, drained, kept, rss_kept] => Some(Self {
                held,
                rss,
                reported,
                drained,
                kept,
                rss_kept,
            }),
            _ => None,
        }
    }
}

/// Runs `command` (this binary with `--child SECTION KIND N`) and hands
/// back its standard output, `None` (and the run marked failed) when it
/// fails.
fn run_child(section: &str, kind: &str, n: usize) -> Option<Vec<u8>> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .args(["--child", section, kind, &n.to_string()])
        .output();
    match out {
        Ok(o) if o.status.success() => Some(o.stdout),
        Ok(o) => {
            eprintln!(
                "growth: child {section} {kind} {n} failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
            FAILED.store(true, Ordering::Relaxed);
            None
        }
        Err(e) => {
            eprintln!("growth: cannot run child {section} {kind} {n}: {e}");
            FAILED.store(true, Ordering::Relaxed);
            None
        }
    }
}

/// In a fresh process, in `state`: times the growth of one structure
/// (`clock`: the clock reads alone) and writes every call's nanoseconds to standard
/// output, 4 bytes little-endian each.
fn growth_child(kind: &str, n: usize, state: State) -> Result<(), String> {
    if let State::Warm = state {
        let block: Vec<u8> = Vec::with_capacity(WARM_BYTES);
        drop(black_box(block));
    }
    let ds = deadlines(n, 0x6772_6f77);
    let mut times = vec![0u32; n];
    if kind == "clock" {
        time_each(&mut times, |i| {
            black_box(i);
        });
    } else {
        let kind = Kind::from_arg(kind).ok_or_else(|| format!("unknown structure {kind}"))?;
        grow(kind, &ds, &mut times, &runtime());
    }
    let bytes: Vec<u8> = times.iter().flat_map(|t| t.to_le_bytes()).collect();
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| e.to_string())
}

/// In a fresh process: holds `n` tasks in a structure of `kind`, then
/// delivers them all and shrinks it; prints a [`Memory`] line.
fn memory_child(kind: Kind, n: usize) {
    let ds = deadlines(n, 0x6d65_6d6f);
    let rt = runtime();
    let _rt = rt.enter();
    let (live0, rss0) = (live_bytes(), rss_bytes());
    let mut m = Memory {
        held: 0,
        rss: 0,
        reported: 0,
        drained: 0,
        kept: 0,
        rss_kept: 0,
    };
    let held = |m: &mut Memory| {
        m.held = live_bytes() - live0;
        m.rss = rss_bytes() - rss0;
    };
    let count = n as u64;
    match kind {
        Kind::TardyGrowing | Kind::TardyReserved => {
            let (mut s, q) = tardy(if kind == Kind::TardyReserved { n } else { 0 });
            for (i, &d) in (0u64..).zip(&ds) {
                s.schedule(Task::new(q, i, i), When::At(d))
                    .expect("schedule");
            }
            held(&mut m);
            m.reported = i64::try_from(s.allocated_bytes()).unwrap_or(i64::MAX);
            // Deliver in 1000 steps of the clock, so the queue stays short.
            let mut taken = 0u64;
            for step in 1..=1000 {
                s.clock().set(step * (SPAN / 1000));
                s.run_pending();
                while let Ok(t) = s.get_task(q) {
                    black_box(t);
                    taken += 1;
                }
            }
            assert_eq!((taken, s.len()), (count, 0));
            m.drained = live_bytes() - live0;
            s.shrink_to_fit();
            m.kept = live_bytes() - live0;
        }
        Kind::BinaryHeap => {
            let mut h = Heap::new();
            for (i, &d) in (0u64..).zip(&ds) {
                h.push(Reverse((d, i, (i, i))));
            }
            held(&mut m);
            while let Some(e) = h.pop() {
                black_box(e);
            }
            m.drained = live_bytes() - live0;
            h.shrink_to_fit();
            m.kept = live_bytes() - live0;
            black_box(&h);
        }
        Kind::BTreeMap => {
            let mut b = BTree::new();
            for (i, &d) in (0u64..).zip(&ds) {
                b.insert((d, i), (i, i));
            }
            held(&mut m);
            while let Some(e) = b.pop_first() {
                black_box(e);
            }
            m.drained = live_bytes() - live0;
            m.kept = m.drained; // nothing to shrink: nodes are freed as they empty
            black_box(&b);
        }
        Kind::DelayQueue => {
            let base = tokio::time::Instant::now();
            let mut q = DelayQueue::new();
            for (i, &d) in (0u64..).zip(&ds) {
                q.insert_at((i, i), base + Duration::from_millis(d));
            }
            held(&mut m);
            let taken = rt.block_on(async {
                tokio::time::advance(Duration::from_millis(SPAN + 1)).await;
                let mut taken = 0u64;
                loop {
                    match poll_fn(|cx| Poll::Ready(q.poll_expired(cx))).await {
                        Poll::Ready(Some(e)) => {
                            black_box(e);
                            taken += 1;
                        }
                        Poll::Ready(None) => return taken,
                        Poll::Pending => tokio::time::advance(Duration::from_millis(1)).await,
                    }
                }
            });
            assert_eq!(taken, count);
            m.drained = live_bytes() - live0;
            q.shrink_to_fit();
            m.kept = live_bytes() - live0;
            black_box(&q);
        }
    }
    m.rss_kept = rss_bytes() - rss0;
    println!("{}", m.line());
}

fn per_task(bytes: i64, n: usize) -> f64 {
    bytes as f64 / n as f64
}

fn memory(args: &Args, report: &mut String) {
    let sizes: &[usize] = if args.quick {
        &[100_000]
    } else {
        &[100_000, 1_000_000]
    };
    let _ = writeln!(
        report,
        "\n## memory: bytes per task while holding N tasks\n\n\
         One fresh process per structure and N. Subject and payload are `u64` \
         ({USER_BYTES} bytes per task), subtracted in the \"beyond\" columns. \"counted\": \
         bytes the allocator handed out (requested sizes), over N; \"resident\": `VmRSS` \
         after minus before, over N. After delivering every task and shrinking \
         (`shrink_to_fit` where the structure has one), the bytes still allocated.\n"
    );
    let _ = writeln!(
        report,
        "| N | structure | counted, B/task | beyond subject and payload | resident, B/task | \
         beyond subject and payload | `allocated_bytes()`/N | after delivering all | \
         kept after shrink |\n|---|---|---|---|---|---|---|---|---|"
    );
    let mut target = None;
    for &n in sizes {
        for kind in Kind::MEMORY {
            let m = run_child("memory", kind.arg(), n)
                .and_then(|out| Memory::parse(&String::from_utf8_lossy(&out)));
            let Some(m) = m else {
                let _ = writeln!(
                    report,
                    "| {n} | {} | child failed | | | | | | |",
                    kind.arg()
                );
                FAILED.store(true, Ordering::Relaxed);
                continue;
            };
            let counted = per_task(m.held, n);
            let resident = per_task(m.rss, n);
            let reported = if kind == Kind::TardyGrowing {
                format!("{:.1}", per_task(m.reported, n))
            } else {
                "-".to_owned()
            };
            let _ = writeln!(
                report,
                "| {n} | {} | {counted:.1} | {:.1} | {resident:.1} | {:.1} | {reported} | {} B | {} B |",
                kind.label(n),
                counted - USER_BYTES,
                resident - USER_BYTES,
                m.drained,
                m.kept,
            );
            if kind == Kind::TardyGrowing {
                target = Some((n, counted - USER_BYTES, resident - USER_BYTES, m.rss_kept));
            }
        }
    }
    if let Some((n, counted, resident, rss_kept)) = target {
        let met = if counted <= 64.0 && resident <= 64.0 {
            "met"
        } else {
            "NOT met"
        };
        let _ = writeln!(
            report,
            "\nTarget: at most 64 bytes per task beyond subject and payload for tardy at \
             N = {n}: {counted:.1} counted, {resident:.1} resident: **{met}**. \
             Resident memory still held after shrinking: {:.1} MiB. \
             (`size_of::<Task<u64, u64>>()` is {} bytes, subject and payload 16 of them.)",
            rss_kept as f64 / f64::from(1 << 20),
            std::mem::size_of::<T>()
        );
    }
}

// ----- main ---------------------------------------------------------------

static FAILED: AtomicBool = AtomicBool::new(false);

fn main() {
    let args = Args::parse();
    if let Some((section, kind, n)) = &args.child {
        let done = match (section.as_str(), Kind::from_arg(kind)) {
            (_, _) if *n == 0 => Err("no tasks".to_owned()),
            ("growth", _) => growth_child(kind, *n, State::Fresh),
            ("growth-warm", _) => growth_child(kind, *n, State::Warm),
            ("memory", Some(kind)) => {
                memory_child(kind, *n);
                Ok(())
            }
            _ => Err("unknown section or structure".to_owned()),
        };
        if let Err(e) = done {
            eprintln!("growth: --child {section} {kind} {n}: {e}");
            std::process::exit(2);
        }
        return;
    }
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!(
        "# tardy growth and memory harness\n\n{cores} cores, {cpu}; {} tasks, {} repeats{}",
        args.tasks,
        args.repeat,
        if args.quick { " (--quick)" } else { "" }
    );
    let started = Instant::now();
    let mut report = String::new();
    if args.wants("growth") {
        growth(&args, &mut report);
        print!("{report}");
        report.clear();
    }
    if args.wants("memory") {
        memory(&args, &mut report);
        print!("{report}");
    }
    println!("\n(total {:.1} s)", started.elapsed().as_secs_f64());
    if FAILED.load(Ordering::Relaxed) {
        eprintln!("growth harness: FAILED (see above)");
        std::process::exit(1);
    }
}
