//! The core's data-structure workloads, tardy and its peers in one group
//! each, so that the ratios inside a group come from the same run:
//!
//! - `fill_drain/N`: schedule N tasks with random deadlines, run everything
//!   due, take them all;
//! - `hold/N`: steady state of N tasks: take the earliest, schedule one;
//! - `churn/N/r`: steady state of N tasks; each step schedules one, then with
//!   probability r cancels a random live one, otherwise delivers one;
//! - `churn_resched/N/r`: each step with probability r reschedules a random
//!   live task, otherwise schedules one and delivers one;
//! - `cancel_by_subject/N/k`: N tasks, k per subject; cancel every subject in
//!   random order (only the cancelling is timed) and check nothing is left.
//!
//! Peers: `std::collections::BinaryHeap` (no cancel by key: with lazy
//! deletion it is a floor, and its `retain` is the naive retain-scan for
//! cancel-by-subject), `heapless::BinaryHeap` (no cancel at all),
//! `BTreeMap<(deadline, seq), _>`, and `tokio_util::time::DelayQueue` on a
//! paused tokio clock. Deadlines are milliseconds, random in `1..=SPAN`
//! after "now", and "delivering" moves each peer's clock to the earliest
//! deadline.
//!
//! N is 1000 and 10 000 (fixed schedulers of 1024 and 16 384 slots, and the
//! growing one); with `TARDY_BENCH_LARGE=1`, `hold`, `churn/N/0.5` and
//! `fill_drain` also run at 100 000 and 1 000 000, on the growing storage
//! (the fixed one holds at most `MAX_CAPACITY` = 32 768 tasks) and the std
//! and tokio peers, with 10 flat samples.
//!
//! `cargo bench --bench core`; criterion's own options work after `--`
//! (`--measurement-time 5 --sample-size 50` for a longer, steadier run).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use heapless::binary_heap::Min;
use tardy::{
    AllocScheduler, HeaplessQueue, ManualClock, QueueId, Scheduler, SchedulerInner, Storage, Task,
    TaskId, TaskQueue, VecDequeQueue, When,
};
use tokio::runtime::Runtime;
use tokio_util::time::{delay_queue, DelayQueue};

/// Deadlines are `1..=SPAN` ms after the peer's "now".
const SPAN: u64 = 1_000_000;
/// Tardy's ticks are `ms << TOKEN_BITS | token`: unique among live tasks, so
/// "deliver the earliest" moves exactly one task, as it does for the peers.
const TOKEN_BITS: u32 = 20;

type T = Task<u32, u32>;
type Sched<const CAP: usize> = Scheduler<ManualClock, HeaplessQueue<T, CAP>, u32, u32, CAP, 2>;
/// The growing storage: capacity chosen at run time (10^5 and 10^6 work
/// too; `SIZES` runs the small ones).
type AllocSched = AllocScheduler<ManualClock, VecDequeQueue<T>, u32, u32, 2>;

// ----- deterministic randomness -----------------------------------------

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    fn delay(&mut self) -> u64 {
        1 + self.below(SPAN)
    }
    fn chance(&mut self, r: f64) -> bool {
        ((self.next() >> 11) as f64) < r * (1u64 << 53) as f64
    }
}

// ----- the live set, shared bookkeeping of every peer -------------------

/// Live tasks by token, with O(1) random pick and removal. Allocates
/// nothing after `new`.
struct Live<K> {
    items: Vec<(u32, K)>,
    pos: Vec<u32>,
    free: Vec<u32>,
}

impl<K: Copy> Live<K> {
    fn new(cap: usize) -> Self {
        Self {
            items: Vec::with_capacity(cap),
            pos: vec![u32::MAX; cap],
            free: (0..cap as u32).rev().collect(),
        }
    }
    fn token(&mut self) -> u32 {
        self.free.pop().expect("token")
    }
    fn insert(&mut self, token: u32, key: K) {
        self.pos[token as usize] = self.items.len() as u32;
        self.items.push((token, key));
    }
    fn remove(&mut self, token: u32) -> K {
        let p = self.pos[token as usize] as usize;
        let (_, key) = self.items.swap_remove(p);
        if let Some(&(moved, _)) = self.items.get(p) {
            self.pos[moved as usize] = p as u32;
        }
        self.pos[token as usize] = u32::MAX;
        self.free.push(token);
        key
    }
    fn pick(&self, rng: &mut Rng) -> (u32, K) {
        self.items[rng.below(self.items.len() as u64) as usize]
    }
    fn set_key(&mut self, token: u32, key: K) {
        let p = self.pos[token as usize] as usize;
        self.items[p].1 = key;
    }
}

// ----- the peers ---------------------------------------------------------

/// What a workload needs of a scheduler. `deliver` and `drain_all` are
/// async only because `DelayQueue` must let the tokio timer run.
trait Peer {
    type Key: Copy;
    /// Schedules `token` about `subject`, due `delay` ms from now.
    fn schedule(&mut self, delay: u64, token: u32, subject: u32) -> Self::Key;
    /// Moves time to the earliest deadline and takes that task's token.
    fn deliver(&mut self) -> impl Future<Output = Option<u32>>;
    /// Moves time past every deadline and takes every task.
    fn drain_all(&mut self) -> impl Future<Output = usize>;
    fn cancel(&mut self, key: Self::Key, token: u32);
    fn reschedule(&mut self, key: Self::Key, token: u32, delay: u64) -> Self::Key;
    fn cancel_subject(&mut self, subject: u32) -> usize;
    fn len(&self) -> usize;
}

/// tardy over either storage: `Tardy<Sched<CAP>>` (fixed) or
/// `Tardy<AllocSched>` (growing).
struct Tardy<X> {
    s: Box<X>,
    q: QueueId,
    now: u64,
}

impl<const CAP: usize> Tardy<Sched<CAP>> {
    fn new() -> Self {
        // About 2 MiB at 16 384 slots: built once, on the heap, and reused.
        let mut s = Box::new(Sched::<CAP>::new(ManualClock::new(0)));
        let q = s.add_queue("q", 0).expect("queue");
        Self { s, q, now: 0 }
    }
}

impl Tardy<AllocSched> {
    fn alloc() -> Self {
        let mut s = Box::new(AllocSched::new(ManualClock::new(0)));
        let q = s.add_queue("q", 0).expect("queue");
        Self { s, q, now: 0 }
    }
}

impl<Q: TaskQueue<T>, St: Storage> Tardy<SchedulerInner<ManualClock, Q, u32, u32, St, 2>> {
    fn tick(&self, delay: u64, token: u32) -> u64 {
        ((self.now + delay) << TOKEN_BITS) | u64::from(token)
    }
}

impl<Q: TaskQueue<T>, St: Storage> Peer for Tardy<SchedulerInner<ManualClock, Q, u32, u32, St, 2>> {
    type Key = TaskId;
    fn schedule(&mut self, delay: u64, token: u32, subject: u32) -> TaskId {
        let at = When::At(self.tick(delay, token));
        match self.s.schedule(Task::new(self.q, subject, token), at) {
            Ok(id) => id,
            Err(e) => panic!("schedule: {e:?}"),
        }
    }
    async fn deliver(&mut self) -> Option<u32> {
        if let Ok(t) = self.s.get_task(self.q) {
            return Some(*t.payload());
        }
        let d = self.s.next_deadline()?;
        self.s.clock().set(d);
        self.now = d >> TOKEN_BITS;
        self.s.run_pending();
        self.s.get_task(self.q).ok().map(|t| *t.payload())
    }
    async fn drain_all(&mut self) -> usize {
        self.now += SPAN + 1;
        self.s.clock().set(self.now << TOKEN_BITS);
        self.s.run_pending();
        let mut n = 0;
        while let Ok(t) = self.s.get_task(self.q) {
            black_box(t);
            n += 1;
        }
        n
    }
    fn cancel(&mut self, key: TaskId, _token: u32) {
        black_box(self.s.cancel(key).expect("cancel"));
    }
    fn reschedule(&mut self, key: TaskId, token: u32, delay: u64) -> TaskId {
        let at = When::At(self.tick(delay, token));
        self.s.reschedule(key, at).expect("reschedule");
        key
    }
    fn cancel_subject(&mut self, subject: u32) -> usize {
        self.s.cancel_by_subject(&subject, |t| {
            black_box(t);
        })
    }
    fn len(&self) -> usize {
        self.s.len()
    }
}

/// `std::collections::BinaryHeap`. With `LAZY`, cancelling marks the token
/// dead and the entry is skipped when it reaches the top (the usual
/// workaround: no removal by key). `cancel_subject` is the retain-scan.
struct StdHeap<const LAZY: bool> {
    h: BinaryHeap<Reverse<(u64, u64, u32, u32)>>,
    alive: Vec<u64>,
    now: u64,
    seq: u64,
}

impl<const LAZY: bool> StdHeap<LAZY> {
    fn new(cap: usize) -> Self {
        Self {
            h: BinaryHeap::with_capacity(4 * cap),
            alive: vec![0; cap],
            now: 0,
            seq: 0,
        }
    }
}

impl<const LAZY: bool> Peer for StdHeap<LAZY> {
    type Key = u64;
    fn schedule(&mut self, delay: u64, token: u32, subject: u32) -> u64 {
        self.seq += 1;
        self.h
            .push(Reverse((self.now + delay, self.seq, subject, token)));
        if LAZY {
            self.alive[token as usize] = self.seq;
        }
        self.seq
    }
    async fn deliver(&mut self) -> Option<u32> {
        while let Some(Reverse((d, seq, _, token))) = self.h.pop() {
            if LAZY {
                if self.alive[token as usize] != seq {
                    continue;
                }
                self.alive[token as usize] = 0;
            }
            self.now = d;
            return Some(token);
        }
        None
    }
    async fn drain_all(&mut self) -> usize {
        self.now += SPAN + 1;
        let mut n = 0;
        while let Some(e) = self.h.pop() {
            black_box(e);
            n += 1;
        }
        n
    }
    fn cancel(&mut self, _key: u64, token: u32) {
        self.alive[token as usize] = 0;
    }
    fn reschedule(&mut self, _key: u64, token: u32, delay: u64) -> u64 {
        self.schedule(delay, token, 0)
    }
    fn cancel_subject(&mut self, subject: u32) -> usize {
        let before = self.h.len();
        self.h.retain(|Reverse(e)| e.2 != subject);
        before - self.h.len()
    }
    fn len(&self) -> usize {
        self.h.len()
    }
}

/// `heapless::BinaryHeap`: fixed capacity, no removal but the top.
struct HeaplessHeap<const CAP: usize> {
    h: Box<heapless::BinaryHeap<(u64, u64, u32, u32), Min, CAP>>,
    now: u64,
    seq: u64,
}

impl<const CAP: usize> HeaplessHeap<CAP> {
    fn new() -> Self {
        Self {
            h: Box::new(heapless::BinaryHeap::new()),
            now: 0,
            seq: 0,
        }
    }
}

impl<const CAP: usize> Peer for HeaplessHeap<CAP> {
    type Key = ();
    fn schedule(&mut self, delay: u64, token: u32, subject: u32) {
        self.seq += 1;
        if self
            .h
            .push((self.now + delay, self.seq, subject, token))
            .is_err()
        {
            panic!("heapless heap full");
        }
    }
    async fn deliver(&mut self) -> Option<u32> {
        let (d, _, _, token) = self.h.pop()?;
        self.now = d;
        Some(token)
    }
    async fn drain_all(&mut self) -> usize {
        self.now += SPAN + 1;
        let mut n = 0;
        while let Some(e) = self.h.pop() {
            black_box(e);
            n += 1;
        }
        n
    }
    fn cancel(&mut self, (): (), _token: u32) {
        unreachable!("heapless::BinaryHeap cannot cancel")
    }
    fn reschedule(&mut self, (): (), _token: u32, _delay: u64) {
        unreachable!("heapless::BinaryHeap cannot reschedule")
    }
    fn cancel_subject(&mut self, _subject: u32) -> usize {
        unreachable!("not measured")
    }
    fn len(&self) -> usize {
        self.h.len()
    }
}

/// `BTreeMap<(deadline, seq), (token, subject)>`, with a subject index
/// (`HashMap<subject, Vec<key>>`) when measured for cancel-by-subject.
struct BTree {
    m: BTreeMap<(u64, u64), (u32, u32)>,
    subjects: Option<HashMap<u32, Vec<(u64, u64)>>>,
    now: u64,
    seq: u64,
}

impl BTree {
    fn new(index_subjects: bool) -> Self {
        Self {
            m: BTreeMap::new(),
            subjects: index_subjects.then(HashMap::new),
            now: 0,
            seq: 0,
        }
    }
}

impl Peer for BTree {
    type Key = (u64, u64);
    fn schedule(&mut self, delay: u64, token: u32, subject: u32) -> (u64, u64) {
        self.seq += 1;
        let key = (self.now + delay, self.seq);
        self.m.insert(key, (token, subject));
        if let Some(idx) = self.subjects.as_mut() {
            idx.entry(subject).or_default().push(key);
        }
        key
    }
    async fn deliver(&mut self) -> Option<u32> {
        let ((d, _), (token, _)) = self.m.pop_first()?;
        self.now = d;
        Some(token)
    }
    async fn drain_all(&mut self) -> usize {
        self.now += SPAN + 1;
        let mut n = 0;
        while let Some(e) = self.m.pop_first() {
            black_box(e);
            n += 1;
        }
        n
    }
    fn cancel(&mut self, key: (u64, u64), _token: u32) {
        black_box(self.m.remove(&key).expect("cancel"));
    }
    fn reschedule(&mut self, key: (u64, u64), token: u32, delay: u64) -> (u64, u64) {
        let (_, subject) = self.m.remove(&key).expect("reschedule");
        self.schedule(delay, token, subject)
    }
    fn cancel_subject(&mut self, subject: u32) -> usize {
        let keys = self
            .subjects
            .as_mut()
            .and_then(|idx| idx.remove(&subject))
            .unwrap_or_default();
        for key in &keys {
            black_box(self.m.remove(key));
        }
        keys.len()
    }
    fn len(&self) -> usize {
        self.m.len()
    }
}

/// `tokio_util::time::DelayQueue` on the paused clock of a current-thread
/// runtime: time moves with `tokio::time::advance`, and the timer driver
/// runs when the task yields. A subject index as for [`BTree`].
struct Dq {
    q: DelayQueue<u32>,
    subjects: Option<HashMap<u32, Vec<delay_queue::Key>>>,
}

impl Dq {
    /// Must be called inside the runtime.
    fn new(cap: usize, index_subjects: bool) -> Self {
        Self {
            q: DelayQueue::with_capacity(cap),
            subjects: index_subjects.then(HashMap::new),
        }
    }
    fn poll_now(&mut self) -> Poll<Option<u32>> {
        let mut cx = Context::from_waker(Waker::noop());
        self.q
            .poll_expired(&mut cx)
            .map(|e| e.map(|e| e.into_inner()))
    }
}

impl Peer for Dq {
    type Key = delay_queue::Key;
    fn schedule(&mut self, delay: u64, token: u32, subject: u32) -> delay_queue::Key {
        let key = self.q.insert(token, Duration::from_millis(delay));
        if let Some(idx) = self.subjects.as_mut() {
            idx.entry(subject).or_default().push(key);
        }
        key
    }
    async fn deliver(&mut self) -> Option<u32> {
        loop {
            if let Poll::Ready(t) = self.poll_now() {
                return t;
            }
            let key = self.q.peek()?;
            let due = self.q.deadline(&key);
            let now = tokio::time::Instant::now();
            // The timer wheel works in whole milliseconds: once at the
            // deadline, nudge by 1 ms until the driver fires.
            let step = due
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            tokio::time::advance(step).await;
        }
    }
    async fn drain_all(&mut self) -> usize {
        tokio::time::advance(Duration::from_millis(SPAN + 1)).await;
        let mut n = 0;
        loop {
            match poll_fn(|cx| Poll::Ready(self.q.poll_expired(cx))).await {
                Poll::Ready(Some(e)) => {
                    black_box(e);
                    n += 1;
                }
                Poll::Ready(None) => return n,
                Poll::Pending => tokio::time::advance(Duration::from_millis(1)).await,
            }
        }
    }
    fn cancel(&mut self, key: delay_queue::Key, _token: u32) {
        black_box(self.q.remove(&key));
    }
    fn reschedule(&mut self, key: delay_queue::Key, _token: u32, delay: u64) -> delay_queue::Key {
        self.q.reset(&key, Duration::from_millis(delay));
        key
    }
    fn cancel_subject(&mut self, subject: u32) -> usize {
        let keys = self
            .subjects
            .as_mut()
            .and_then(|idx| idx.remove(&subject))
            .unwrap_or_default();
        for key in &keys {
            black_box(self.q.remove(key));
        }
        keys.len()
    }
    fn len(&self) -> usize {
        self.q.len()
    }
}

// ----- the workloads -----------------------------------------------------

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
}

/// `fill_drain`: every iteration schedules `n` and takes `n`.
fn bench_fill_drain<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    n: usize,
    make: impl FnOnce() -> P,
) {
    let mut p = rt.block_on(async { make() });
    let mut rng = Rng::new(1);
    let delays: Vec<u64> = (0..n).map(|_| rng.delay()).collect();
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    for (i, &d) in delays.iter().enumerate() {
                        p.schedule(d, i as u32, i as u32);
                    }
                    let taken = p.drain_all().await;
                    assert_eq!(taken, n);
                }
                start.elapsed()
            })
        });
    });
}

/// Schedules `n` tasks and records them as live.
async fn prefill<P: Peer>(p: &mut P, live: &mut Live<P::Key>, rng: &mut Rng, n: usize) {
    for _ in 0..n {
        let token = live.token();
        let key = p.schedule(rng.delay(), token, token);
        live.insert(token, key);
    }
}

/// `hold`: take the earliest, schedule a new one.
fn bench_hold<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    n: usize,
    make: impl FnOnce() -> P,
) {
    let mut p = rt.block_on(async { make() });
    let mut rng = Rng::new(2);
    let mut live = Live::new(n + 1);
    rt.block_on(prefill(&mut p, &mut live, &mut rng, n));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let token = p.deliver().await.expect("deliver");
                    live.remove(token);
                    let token = live.token();
                    let key = p.schedule(rng.delay(), token, token);
                    live.insert(token, key);
                }
                start.elapsed()
            })
        });
    });
}

/// `churn` (`resched == false`) and `churn_resched`.
fn bench_churn<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    n: usize,
    r: f64,
    resched: bool,
    make: impl FnOnce() -> P,
) {
    let mut p = rt.block_on(async { make() });
    let mut rng = Rng::new(3);
    let mut live = Live::new(n + 1);
    rt.block_on(prefill(&mut p, &mut live, &mut rng, n));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    if resched && rng.chance(r) {
                        let (token, key) = live.pick(&mut rng);
                        let key = p.reschedule(key, token, rng.delay());
                        live.set_key(token, key);
                        continue;
                    }
                    let token = live.token();
                    let key = p.schedule(rng.delay(), token, token);
                    live.insert(token, key);
                    if !resched && rng.chance(r) {
                        let (token, key) = live.pick(&mut rng);
                        p.cancel(key, token);
                        live.remove(token);
                    } else {
                        let token = p.deliver().await.expect("deliver");
                        live.remove(token);
                    }
                }
                start.elapsed()
            })
        });
    });
}

/// `cancel_by_subject`: fill `n` tasks, `k` per subject (untimed), then
/// cancel every subject in random order (timed); nothing may be left.
fn bench_cancel<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    n: usize,
    k: usize,
    make: impl FnOnce() -> P,
) {
    let mut p = rt.block_on(async { make() });
    let mut rng = Rng::new(4);
    let subjects = n / k;
    let mut order: Vec<u32> = (0..(subjects * k) as u32).collect();
    rng.shuffle(&mut order);
    let delays: Vec<u64> = (0..order.len()).map(|_| rng.delay()).collect();
    let mut cancel_order: Vec<u32> = (0..subjects as u32).collect();
    rng.shuffle(&mut cancel_order);
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            // `DelayQueue::insert` reads the paused tokio clock.
            let _rt = rt.enter();
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                for (&token, &d) in order.iter().zip(&delays) {
                    p.schedule(d, token, token / k as u32);
                }
                let start = Instant::now();
                let mut cancelled = 0;
                for &s in &cancel_order {
                    cancelled += p.cancel_subject(s);
                }
                total += start.elapsed();
                assert_eq!(cancelled, order.len());
                assert_eq!(p.len(), 0, "tasks left after cancelling every subject");
            }
            total
        });
    });
}

// ----- groups ------------------------------------------------------------

/// N of every workload; the fixed storage and heapless' heap run at the
/// first two only (their capacity is a constant).
const SIZES: [usize; 2] = [1_000, 10_000];
/// Added to `hold`, `churn/N/0.5` and `fill_drain` with `TARDY_BENCH_LARGE=1`
/// (the growing storage and the std/tokio peers only; a few minutes more).
const LARGE_SIZES: [usize; 2] = [100_000, 1_000_000];

/// `SIZES`, and `LARGE_SIZES` when `TARDY_BENCH_LARGE=1`.
fn sizes() -> Vec<usize> {
    let mut sizes = SIZES.to_vec();
    if std::env::var("TARDY_BENCH_LARGE").is_ok_and(|v| v == "1") {
        sizes.extend(LARGE_SIZES);
    }
    sizes
}

/// Fewer, flat samples for the large sizes, whose iterations are long.
fn large(g: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    if n > SIZES[1] {
        g.sampling_mode(SamplingMode::Flat).sample_size(10);
    }
}

fn fill_drain(c: &mut Criterion) {
    let rt = runtime();
    for n in sizes() {
        let mut g = c.benchmark_group(format!("fill_drain/{n}"));
        large(&mut g, n);
        if n <= 1024 {
            bench_fill_drain(&mut g, &rt, "tardy", n, Tardy::<Sched<1024>>::new);
            bench_fill_drain(&mut g, &rt, "heapless_heap", n, HeaplessHeap::<1024>::new);
        } else if n <= 16384 {
            bench_fill_drain(&mut g, &rt, "tardy", n, Tardy::<Sched<16384>>::new);
            bench_fill_drain(&mut g, &rt, "heapless_heap", n, HeaplessHeap::<16384>::new);
        }
        bench_fill_drain(&mut g, &rt, "tardy_alloc", n, Tardy::alloc);
        bench_fill_drain(&mut g, &rt, "std_heap", n, || StdHeap::<false>::new(n));
        bench_fill_drain(&mut g, &rt, "btree", n, || BTree::new(false));
        bench_fill_drain(&mut g, &rt, "delay_queue", n, || Dq::new(n, false));
        g.finish();
    }
}

fn hold(c: &mut Criterion) {
    let rt = runtime();
    for n in sizes() {
        let mut g = c.benchmark_group(format!("hold/{n}"));
        large(&mut g, n);
        if n <= 1024 {
            bench_hold(&mut g, &rt, "tardy", n, Tardy::<Sched<1024>>::new);
            bench_hold(&mut g, &rt, "heapless_heap", n, HeaplessHeap::<1024>::new);
        } else if n <= 16384 {
            bench_hold(&mut g, &rt, "tardy", n, Tardy::<Sched<16384>>::new);
            bench_hold(&mut g, &rt, "heapless_heap", n, HeaplessHeap::<16384>::new);
        }
        bench_hold(&mut g, &rt, "tardy_alloc", n, Tardy::alloc);
        bench_hold(&mut g, &rt, "std_heap", n, || StdHeap::<false>::new(n + 1));
        bench_hold(&mut g, &rt, "btree", n, || BTree::new(false));
        bench_hold(&mut g, &rt, "delay_queue", n, || Dq::new(n + 1, false));
        g.finish();
    }
}

fn churn(c: &mut Criterion) {
    let rt = runtime();
    for resched in [false, true] {
        let rates: &[f64] = if resched {
            &[0.1, 0.5, 0.9]
        } else {
            &[0.0, 0.1, 0.5, 0.9]
        };
        for n in sizes() {
            for &r in rates {
                if n > SIZES[1] && (resched || r != 0.5) {
                    continue;
                }
                let kind = if resched { "churn_resched" } else { "churn" };
                let mut g = c.benchmark_group(format!("{kind}/{n}/{r}"));
                large(&mut g, n);
                if n > 16384 {
                    // The fixed storage holds at most 32 768 tasks.
                } else if n <= 1024 {
                    bench_churn(
                        &mut g,
                        &rt,
                        "tardy",
                        n,
                        r,
                        resched,
                        Tardy::<Sched<1024>>::new,
                    );
                } else {
                    bench_churn(
                        &mut g,
                        &rt,
                        "tardy",
                        n,
                        r,
                        resched,
                        Tardy::<Sched<16384>>::new,
                    );
                }
                bench_churn(&mut g, &rt, "tardy_alloc", n, r, resched, Tardy::alloc);
                if r == 0.0 {
                    bench_churn(&mut g, &rt, "std_heap", n, r, resched, || {
                        StdHeap::<false>::new(n + 1)
                    });
                    if n <= 1024 {
                        bench_churn(&mut g, &rt, "heapless_heap", n, r, resched, || {
                            HeaplessHeap::<1024>::new()
                        });
                    } else {
                        bench_churn(&mut g, &rt, "heapless_heap", n, r, resched, || {
                            HeaplessHeap::<16384>::new()
                        });
                    }
                } else {
                    bench_churn(&mut g, &rt, "std_heap_lazy", n, r, resched, || {
                        StdHeap::<true>::new(n + 1)
                    });
                }
                bench_churn(&mut g, &rt, "btree", n, r, resched, || BTree::new(false));
                bench_churn(&mut g, &rt, "delay_queue", n, r, resched, || {
                    Dq::new(n + 1, false)
                });
                g.finish();
            }
        }
    }
}

fn cancel_by_subject(c: &mut Criterion) {
    let rt = runtime();
    for n in SIZES {
        for k in [1, 4, 64] {
            let mut g = c.benchmark_group(format!("cancel_by_subject/{n}/{k}"));
            // The retain-scan takes up to a second per iteration at 10k.
            g.sampling_mode(SamplingMode::Flat);
            if n <= 1024 {
                bench_cancel(&mut g, &rt, "tardy", n, k, Tardy::<Sched<1024>>::new);
            } else {
                bench_cancel(&mut g, &rt, "tardy", n, k, Tardy::<Sched<16384>>::new);
            }
            bench_cancel(&mut g, &rt, "btree_indexed", n, k, || BTree::new(true));
            bench_cancel(&mut g, &rt, "delay_queue_indexed", n, k, || {
                Dq::new(n, true)
            });
            bench_cancel(&mut g, &rt, "retain_scan", n, k, || {
                StdHeap::<false>::new(n)
            });
            g.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = fill_drain, hold, churn, cancel_by_subject
}
criterion_main!(benches);
