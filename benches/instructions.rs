//! A small driver for counting instructions with callgrind, which is
//! deterministic where wall time on a shared machine is not. It does one
//! workload of `benches/core.rs` for a given number of steps, the same way:
//!
//! - `hold STEPS`: 10 000 live tasks on 16 384 slots, each with its own
//!   subject; each step moves the clock to the earliest deadline, runs what
//!   is due, takes the task and schedules a new one;
//! - `std_hold STEPS [LIVE]`: the same on `std::collections::BinaryHeap`
//!   (with LIVE live tasks, 10 000 unless given);
//! - `alloc_hold LIVE STEPS`: `hold` on the growing storage
//!   (`AllocScheduler`) with LIVE live tasks, for counting cache misses at
//!   millions of tasks (`valgrind --tool=cachegrind --cache-sim=yes`);
//! - `cancel_by_subject K ROUNDS`: each round schedules 10 000 tasks, K per
//!   subject, in random order, then cancels every subject in random order.
//!
//! Instructions per step are the difference of two runs over the difference
//! of their steps (the set-up cancels out); for cancelling, only
//! `cancel_by_subject` is counted with `--toggle-collect`:
//!
//! ```sh
//! cargo bench --bench instructions --no-run   # prints the binary's path
//! valgrind --tool=callgrind BIN hold 20000    # "Collected : A"
//! valgrind --tool=callgrind BIN hold 120000   # "Collected : B": (B - A) / 100000
//! valgrind --tool=callgrind --toggle-collect='*cancel_by_subject*' BIN cancel_by_subject 4 3
//! ```
//!
//! Run directly, it prints what it did.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};

/// Deadlines are `1..=SPAN` ms after "now", as in `benches/core.rs`.
const SPAN: u64 = 1_000_000;
/// Ticks are `ms << TOKEN_BITS | token`, unique among live tasks.
const TOKEN_BITS: u32 = 20;
const CAP: usize = 16_384;
const LIVE: u32 = 10_000;

type T = Task<u32, u32>;
type Sched = Scheduler<ManualClock, HeaplessQueue<T, CAP>, u32, u32, CAP, 2>;

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

impl Rng {
    fn delay(&mut self) -> u64 {
        1 + self.below(SPAN)
    }
}

fn tick(ms: u64, token: u32) -> u64 {
    (ms << TOKEN_BITS) | u64::from(token)
}

fn hold(steps: u64, rng: &mut Rng) {
    let mut s = Box::new(Sched::new(ManualClock::new(0)));
    let q = s.add_queue("q", 0).expect("queue");
    let mut now = 0;
    for token in 0..LIVE {
        let at = When::At(tick(now + rng.delay(), token));
        s.schedule(Task::new(q, token, token), at)
            .expect("schedule");
    }
    for _ in 0..steps {
        let d = s.next_deadline().expect("a live task");
        s.clock().set(d);
        now = d >> TOKEN_BITS;
        s.run_pending();
        let token = *s.get_task(q).expect("the earliest task").payload();
        let at = When::At(tick(now + rng.delay(), token));
        black_box(
            s.schedule(Task::new(q, token, token), at)
                .expect("schedule"),
        );
    }
    println!("hold: {steps} steps on {LIVE} live tasks");
}

#[cfg(feature = "alloc")]
fn alloc_hold(live: u32, steps: u64, rng: &mut Rng) {
    use tardy::{AllocScheduler, VecDequeQueue};
    let mut s: AllocScheduler<ManualClock, VecDequeQueue<T>, u32, u32> =
        AllocScheduler::new(ManualClock::new(0));
    let q = s.add_queue("q", 0).expect("queue");
    let mut now = 0;
    for token in 0..live {
        let at = When::At(tick(now + rng.delay(), token));
        s.schedule(Task::new(q, token, token), at)
            .expect("schedule");
    }
    for _ in 0..steps {
        let d = s.next_deadline().expect("a live task");
        s.clock().set(d);
        now = d >> TOKEN_BITS;
        s.run_pending();
        let token = *s.get_task(q).expect("the earliest task").payload();
        let at = When::At(tick(now + rng.delay(), token));
        black_box(
            s.schedule(Task::new(q, token, token), at)
                .expect("schedule"),
        );
    }
    println!("alloc_hold: {steps} steps on {live} live tasks");
}

fn std_hold(steps: u64, live: u32, rng: &mut Rng) {
    let mut h = BinaryHeap::with_capacity(CAP.max(live as usize));
    let (mut now, mut seq) = (0, 0u64);
    for token in 0..live {
        seq += 1;
        h.push(Reverse((now + rng.delay(), seq, token, token)));
    }
    for _ in 0..steps {
        let Reverse((d, _, subject, token)) = h.pop().expect("a live task");
        now = d;
        seq += 1;
        h.push(Reverse((now + rng.delay(), seq, subject, token)));
    }
    println!(
        "std_hold: {steps} steps on {} live tasks",
        black_box(h.len())
    );
}

fn cancel_by_subject(k: u32, rounds: u64, rng: &mut Rng) {
    let mut s = Box::new(Sched::new(ManualClock::new(0)));
    let q = s.add_queue("q", 0).expect("queue");
    let subjects = LIVE / k;
    for _ in 0..rounds {
        let mut tokens: Vec<u32> = (0..LIVE).collect();
        rng.shuffle(&mut tokens);
        for token in tokens {
            let at = When::At(tick(rng.delay(), token));
            s.schedule(Task::new(q, token % subjects, token), at)
                .expect("schedule");
        }
        let mut order: Vec<u32> = (0..subjects).collect();
        rng.shuffle(&mut order);
        let cancelled: usize = order
            .iter()
            .map(|subject| {
                s.cancel_by_subject(subject, |t| {
                    black_box(t);
                })
            })
            .sum();
        assert_eq!(cancelled, LIVE as usize, "every task handed back");
        assert!(s.is_empty(), "nothing left");
    }
    println!("cancel_by_subject: {rounds} rounds of {LIVE} tasks, {k} per subject");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| {
        args.get(i)
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let mut rng = Rng(0x1234_5678_9abc_def1);
    match args.first().map(String::as_str) {
        Some("hold") => hold(num(1, 100_000), &mut rng),
        Some("std_hold") => std_hold(
            num(1, 100_000),
            u32::try_from(num(2, LIVE.into())).unwrap_or(LIVE),
            &mut rng,
        ),
        #[cfg(feature = "alloc")]
        Some("alloc_hold") => alloc_hold(
            u32::try_from(num(1, 1_000_000)).unwrap_or(1 << 20),
            num(2, 100_000),
            &mut rng,
        ),
        Some("cancel_by_subject") => {
            let k = u32::try_from(num(1, 4)).unwrap_or(4).clamp(1, LIVE);
            cancel_by_subject(k, num(2, 3), &mut rng);
        }
        // `cargo bench` runs every bench target with `--bench`: do nothing.
        _ => println!("usage: instructions hold STEPS | std_hold STEPS [LIVE] | alloc_hold LIVE STEPS | cancel_by_subject K ROUNDS"),
    }
}
