//! Async workers: `SchedulerHandle::get_task_async` on tokio's
//! multi-threaded runtime under stress, its cancel safety (futures dropped
//! at random points lose nothing), its wake-ups on queue removal, stop and
//! failure, and the waker hand-off step by step with a hand-made waker (no
//! runtime, deterministic).
//!
//! No test asserts how long anything took. The stress size is small by
//! default; the full run is
//!
//! ```text
//! TARDY_STRESS_TASKS=1000000 cargo test --release --test async -- --nocapture
//! ```

#![cfg(feature = "std")]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use tardy::{
    CancelError, Clock, MonotonicClock, Options, SchedulerHandle, SchedulerThread, SubmitError,
    TakeError, Task, TaskId, Wait, When,
};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

type Sched = SchedulerThread<u32, u64>;

const HOUR: Duration = Duration::from_secs(3600);

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    (Arc::clone(&count), Waker::from(count))
}

fn woken(count: &Count) -> usize {
    count.0.load(Ordering::SeqCst)
}

/// A clock the test sets by hand, shared with the scheduler.
#[derive(Clone)]
struct SetClock(Arc<AtomicU64>);

impl Clock for SetClock {
    fn now(&self) -> tardy::Ticks {
        self.0.load(Ordering::SeqCst)
    }
}

fn poll_once<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    std::pin::Pin::new(f).poll(&mut Context::from_waker(waker))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------
// The hand-off, step by step: register, deliver, wake, take.
// ---------------------------------------------------------------------------

/// Each way a task enters a queue wakes a registered future exactly once,
/// and the task is taken only by the poll that returns it: `When::Now`, a
/// due task moved by `run_pending`, and a due task let in from the waiting
/// line when a blocked worker's take makes room.
#[test]
fn a_registered_future_is_woken_by_every_way_a_task_enters_its_queue() {
    let clock = SetClock(Arc::new(AtomicU64::new(0)));
    let sched: SchedulerThread<u32, u64, SetClock> =
        SchedulerThread::new(clock.clone(), &[("q", 1)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    let (count, waker) = counting_waker();

    // When::Now.
    let mut f = sched.get_task_async(q);
    assert!(poll_once(&mut f, &waker).is_pending());
    assert_eq!(woken(&count), 0);
    sched.schedule(Task::new(q, 1, 10), When::Now).unwrap();
    assert_eq!(woken(&count), 1);
    assert_eq!(
        sched.stats(q).unwrap().queued,
        1,
        "not taken before the poll"
    );
    match poll_once(&mut f, &waker) {
        Poll::Ready(Ok(t)) => assert_eq!(*t.payload(), 10),
        other => panic!("expected the task, got {other:?}"),
    }
    drop(f);

    // A due task moved by run_pending (the thread is not started).
    let mut f = sched.get_task_async(q);
    assert!(poll_once(&mut f, &waker).is_pending());
    sched.schedule(Task::new(q, 1, 11), When::At(5)).unwrap();
    assert_eq!(woken(&count), 1, "not due: no wake-up");
    clock.0.store(5, Ordering::SeqCst);
    assert_eq!(sched.run_pending(), Ok(1));
    assert_eq!(woken(&count), 2);
    assert!(matches!(poll_once(&mut f, &waker), Poll::Ready(Ok(t)) if *t.payload() == 11));
    drop(f);

    // From the waiting line: the queue (size 1) is full and a due task
    // waits for room. The first future takes the queued task; its take lets
    // the waiting one in, which wakes the second future.
    let (cf, wf) = counting_waker();
    let (cg, wg) = counting_waker();
    let mut f = sched.get_task_async(q);
    let mut g = sched.get_task_async(q);
    assert!(poll_once(&mut f, &wf).is_pending());
    assert!(poll_once(&mut g, &wg).is_pending());
    sched.schedule(Task::new(q, 1, 12), When::Now).unwrap();
    assert_eq!((woken(&cf), woken(&cg)), (1, 0), "one task, one wake-up");
    sched.schedule(Task::new(q, 1, 13), When::At(0)).unwrap();
    assert_eq!(sched.run_pending(), Ok(0));
    assert_eq!(sched.stats(q).unwrap().waiting, 1);
    assert_eq!(woken(&cg), 0);
    assert!(matches!(poll_once(&mut f, &wf), Poll::Ready(Ok(t)) if *t.payload() == 12));
    assert_eq!(woken(&cg), 1, "13 entered with the take");
    assert!(matches!(poll_once(&mut g, &wg), Poll::Ready(Ok(t)) if *t.payload() == 13));
    drop((f, g));

    // Polling a completed future again takes the next task.
    let mut f = sched.get_task_async(q);
    sched.schedule(Task::new(q, 1, 14), When::Now).unwrap();
    assert!(matches!(poll_once(&mut f, &waker), Poll::Ready(Ok(t)) if *t.payload() == 14));
    assert!(poll_once(&mut f, &waker).is_pending());
    sched.schedule(Task::new(q, 1, 15), When::Now).unwrap();
    assert!(matches!(poll_once(&mut f, &waker), Poll::Ready(Ok(t)) if *t.payload() == 15));
    assert!(sched.stop().unwrap().is_empty());
}

/// With several futures registered, one task wakes one future (the
/// oldest); a woken future dropped before it is polled hands the wake-up on
/// to the next, which takes the task. A future that was never woken is
/// dropped without waking anyone.
#[test]
fn a_woken_future_dropped_unpolled_hands_its_wake_up_on() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    let (ca, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    let (cc, wc) = counting_waker();
    let mut a = sched.get_task_async(q);
    let mut b = sched.get_task_async(q);
    let mut c = sched.get_task_async(q);
    assert!(poll_once(&mut a, &wa).is_pending());
    assert!(poll_once(&mut b, &wb).is_pending());
    assert!(poll_once(&mut c, &wc).is_pending());

    sched.schedule(Task::new(q, 0, 1), When::Now).unwrap();
    assert_eq!((woken(&ca), woken(&cb), woken(&cc)), (1, 0, 0));
    drop(a);
    assert_eq!((woken(&cb), woken(&cc)), (1, 0), "handed on to b");
    drop(c); // never woken: nothing to hand on
    assert_eq!(woken(&cb), 1);
    assert!(matches!(poll_once(&mut b, &wb), Poll::Ready(Ok(t)) if *t.payload() == 1));
    drop(b);

    // A future polled again with another waker is woken through the new
    // one; two tasks wake two futures.
    let mut d = sched.get_task_async(q);
    let mut e = sched.get_task_async(q);
    let (cd, wd) = counting_waker();
    let (cd2, wd2) = counting_waker();
    let (ce, we) = counting_waker();
    assert!(poll_once(&mut d, &wd).is_pending());
    assert!(poll_once(&mut e, &we).is_pending());
    assert!(poll_once(&mut d, &wd2).is_pending());
    sched.schedule(Task::new(q, 0, 2), When::Now).unwrap();
    sched.schedule(Task::new(q, 0, 3), When::Now).unwrap();
    assert_eq!((woken(&cd), woken(&cd2), woken(&ce)), (0, 1, 1));
    // A woken future that finds its task taken by someone else waits
    // again; the wake-up is not lost for the task that is left.
    assert_eq!(*sched.get_task(q, Wait::NoWait).unwrap().payload(), 2);
    assert!(matches!(poll_once(&mut e, &we), Poll::Ready(Ok(t)) if *t.payload() == 3));
    assert!(poll_once(&mut d, &wd2).is_pending());
    sched.schedule(Task::new(q, 0, 4), When::Now).unwrap();
    assert_eq!(woken(&cd2), 2);
    assert!(matches!(poll_once(&mut d, &wd2), Poll::Ready(Ok(t)) if *t.payload() == 4));
}

/// Dropping a pending future, woken or not, takes nothing: the task stays
/// queued for the next taker.
#[test]
fn a_dropped_future_takes_nothing() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    let (_, waker) = counting_waker();
    let mut f = sched.get_task_async(q);
    assert!(poll_once(&mut f, &waker).is_pending());
    sched.schedule(Task::new(q, 0, 7), When::Now).unwrap();
    drop(f);
    assert_eq!(sched.stats(q).unwrap().queued, 1);
    assert_eq!(*sched.get_task(q, Wait::NoWait).unwrap().payload(), 7);
}

// ---------------------------------------------------------------------------
// Wake-ups on removal, stop and failure, on a runtime.
// ---------------------------------------------------------------------------

#[test]
fn futures_wake_with_unknown_queue_when_their_queue_is_removed() {
    let rt = runtime();
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("gone", 0), ("kept", 0)],
        Options::new(),
    )
    .unwrap();
    sched.start().unwrap();
    let gone = sched.queue_id("gone").unwrap();
    let kept = sched.queue_id("kept").unwrap();
    let waiting: Vec<_> = (0..8)
        .map(|i| {
            let h = sched.handle();
            let q = if i % 2 == 0 { gone } else { kept };
            rt.spawn(async move { h.get_task_async(q).await })
        })
        .collect();
    // Registered or not yet polled: either way the answer is UnknownQueue.
    sched.schedule_after(Task::new(gone, 0, 1), HOUR).unwrap();
    let back = sched.remove_queue(gone).unwrap();
    assert_eq!(back.len(), 1, "the scheduled task is handed back");
    // A queue in the same slot: its tasks go to its own futures only.
    let again = sched.add_queue("gone", 0).unwrap();
    sched.schedule(Task::new(again, 0, 2), When::Now).unwrap();
    // The futures still waiting for "kept" get one task each.
    for _ in 0..4 {
        sched.schedule(Task::new(kept, 0, 100), When::Now).unwrap();
    }
    for (i, w) in waiting.into_iter().enumerate() {
        let got = rt.block_on(w).unwrap();
        if i % 2 == 0 {
            assert_eq!(got.unwrap_err(), TakeError::UnknownQueue);
        } else {
            assert_eq!(*got.unwrap().payload(), 100);
        }
    }
    let h = sched.handle();
    let t = rt.block_on(async move { h.get_task_async(again).await });
    assert_eq!(*t.unwrap().payload(), 2);
    assert!(sched.stop().unwrap().is_empty());
}

#[test]
fn futures_wake_with_stopped_when_the_scheduler_stops() {
    let rt = runtime();
    let sched = Sched::new(MonotonicClock::new(), &[("a", 0), ("b", 4)], Options::new()).unwrap();
    sched.start().unwrap();
    let queues = [sched.queue_id("a").unwrap(), sched.queue_id("b").unwrap()];
    let waiting: Vec<_> = (0..16)
        .map(|i| {
            let h = sched.handle();
            let q = queues[i % 2];
            rt.spawn(async move { h.get_task_async(q).await })
        })
        .collect();
    sched
        .schedule_after(Task::new(queues[0], 0, 1), HOUR)
        .unwrap();
    assert_eq!(sched.stop().unwrap().len(), 1);
    for w in waiting {
        assert_eq!(rt.block_on(w).unwrap().unwrap_err(), TakeError::Stopped);
    }
    let h = sched.handle();
    let late = rt.block_on(async move { h.get_task_async(queues[1]).await });
    assert_eq!(late.unwrap_err(), TakeError::Stopped);
}

#[test]
fn futures_wake_with_failed_when_the_thread_fails() {
    #[derive(Clone)]
    struct Panicky;
    impl Clock for Panicky {
        fn now(&self) -> tardy::Ticks {
            assert_ne!(
                thread::current().name(),
                Some("panicky-async"),
                "clock panics on the scheduler thread"
            );
            0
        }
    }
    let rt = runtime();
    let options = Options::new().thread_name("panicky-async");
    let sched: SchedulerThread<u32, u64, Panicky> =
        SchedulerThread::new(Panicky, &[("q", 0)], options).unwrap();
    let q = sched.queue_id("q").unwrap();
    sched.schedule(Task::new(q, 0, 1), When::At(10)).unwrap();
    let waiting: Vec<_> = (0..4)
        .map(|_| {
            let h = sched.handle();
            rt.spawn(async move { h.get_task_async(q).await })
        })
        .collect();
    sched.start().unwrap();
    for w in waiting {
        assert_eq!(rt.block_on(w).unwrap().unwrap_err(), TakeError::Failed);
    }
    assert_eq!(sched.stop().unwrap().len(), 1, "still handed back");
}

/// Only futures wait, and the scheduler thread delivers: tasks scheduled
/// for later reach async workers without any worker leading.
#[test]
fn the_thread_delivers_to_futures_alone() {
    let rt = runtime();
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let h = sched.handle();
            rt.spawn(async move {
                let mut got = Vec::new();
                for _ in 0..25 {
                    got.push(*h.get_task_async(q).await.unwrap().payload());
                }
                got
            })
        })
        .collect();
    for p in 0..100 {
        let delay = Duration::from_micros(100 * (p % 20));
        sched.schedule_after(Task::new(q, 0, p), delay).unwrap();
    }
    let mut all: Vec<u64> = workers
        .into_iter()
        .flat_map(|w| rt.block_on(w).unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert!(sched.stop().unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// Stress and cancel safety.
// ---------------------------------------------------------------------------

const NEW: u8 = 0;
const DELIVERED: u8 = 1;
const HANDED_BACK: u8 = 2;

/// Every task number's fate: delivered or handed back, exactly once.
struct Ledger {
    state: Vec<AtomicU8>,
    settled: AtomicU64,
}

impl Ledger {
    fn new(total: u64) -> Self {
        Self {
            state: (0..total).map(|_| AtomicU8::new(NEW)).collect(),
            settled: AtomicU64::new(0),
        }
    }

    fn settle(&self, number: u64, how: u8) {
        let index = usize::try_from(number).unwrap();
        let was = self.state[index].swap(how, Ordering::AcqRel);
        assert_eq!(
            was, NEW,
            "task {number} settled twice (was {was}, now {how}): duplicated"
        );
        self.settled.fetch_add(1, Ordering::AcqRel);
    }

    fn settled(&self) -> u64 {
        self.settled.load(Ordering::Acquire)
    }

    /// (delivered, handed back); panics on a lost number.
    fn tally(&self) -> (u64, u64) {
        let (mut delivered, mut back) = (0, 0);
        for (n, s) in self.state.iter().enumerate() {
            match s.load(Ordering::Acquire) {
                DELIVERED => delivered += 1,
                HANDED_BACK => back += 1,
                _ => panic!("task {n} lost"),
            }
        }
        (delivered, back)
    }
}

/// Waits (asynchronously) until every number is settled. A watchdog, not a
/// timing assertion: fails only if nothing settles for a whole minute.
async fn all_settled(ledger: &Ledger, total: u64) {
    let mut last = ledger.settled();
    let mut idle = Duration::ZERO;
    while ledger.settled() < total {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let now = ledger.settled();
        if now > last {
            last = now;
            idle = Duration::ZERO;
        } else {
            idle += Duration::from_millis(5);
            assert!(
                idle < Duration::from_secs(60),
                "no progress for a minute: {now} of {total} settled, the rest lost"
            );
        }
    }
}

type Handle = SchedulerHandle<u32, u64, MonotonicClock, 4>;
type SmallSched = SchedulerThread<u32, u64, MonotonicClock, 4>;
/// The task slots of `SmallSched`: few enough that producers meet `Capacity`.
const SMALL: usize = 1024;

/// The longest random delay, in ticks of the monotonic clock (ns).
const MAX_DELAY: u64 = 500_000;

fn random_when(rng: &mut Rng) -> When {
    match rng.below(8) {
        0 => When::Now,
        1 => When::After(0),
        _ => When::After(rng.below(MAX_DELAY)),
    }
}

/// Schedules `task`, yielding to the runtime while the scheduler is full
/// (the workers on it make room).
async fn submit(h: &Handle, mut task: Task<u32, u64>, rng: &mut Rng) -> TaskId {
    loop {
        match h.schedule(task, random_when(rng)) {
            Ok(id) => return id,
            Err(SubmitError::Capacity(t) | SubmitError::QueueFull(t)) => {
                task = t;
                tokio::task::yield_now().await;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
}

/// How an async worker waits for its next task; every kind but `Plain`
/// drops futures at random points.
#[derive(Clone, Copy, Debug)]
enum Style {
    /// `get_task_async(q).await`.
    Plain,
    /// Under `tokio::time::timeout` of 0–50 µs, retried when it elapses.
    Timeout,
    /// In a `select!` against a short sleep, retried when the sleep wins.
    Select,
    /// Polled once or twice by hand, then dropped or awaited.
    Poll,
}

async fn take(
    h: &Handle,
    q: tardy::QueueId,
    style: Style,
    rng: &mut Rng,
) -> Option<Task<u32, u64>> {
    let result = match style {
        Style::Plain => h.get_task_async(q).await,
        Style::Timeout => {
            let d = Duration::from_micros(rng.below(50));
            match tokio::time::timeout(d, h.get_task_async(q)).await {
                Ok(r) => r,
                Err(_) => return None,
            }
        }
        Style::Select => {
            let d = Duration::from_micros(rng.below(200));
            tokio::select! {
                r = h.get_task_async(q) => r,
                () = tokio::time::sleep(d) => return None,
            }
        }
        Style::Poll => {
            let mut f = pin!(h.get_task_async(q));
            let polled = std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await;
            match polled {
                Poll::Ready(r) => r,
                Poll::Pending if rng.below(2) == 0 => return None, // dropped
                Poll::Pending => {
                    tokio::task::yield_now().await;
                    f.await
                }
            }
        }
    };
    match result {
        Ok(t) => Some(t),
        Err(TakeError::Stopped) => None,
        Err(e) => panic!("take: {e:?}"),
    }
}

fn tasks_from_env(default: u64) -> u64 {
    std::env::var("TARDY_STRESS_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 8)
        .unwrap_or(default)
}

/// 4 producers and 8 async workers (two of each waiting style per two
/// queues, one of them bounded) on a 4-thread runtime; random delays,
/// cancels by handle and by subject, reschedules and worker retries. Every
/// task number ends delivered exactly once or handed back exactly once.
#[test]
fn async_producers_and_workers_lose_and_duplicate_nothing() {
    const PRODUCERS: u64 = 4;
    const WORKERS: u64 = 8;
    let total = tasks_from_env(20_000);
    let rt = runtime();
    let sched = SmallSched::new(
        MonotonicClock::new(),
        &[("a", 64), ("b", 0)],
        Options::new().max_capacity(SMALL),
    )
    .unwrap();
    sched.start().unwrap();
    let queues = [sched.queue_id("a").unwrap(), sched.queue_id("b").unwrap()];
    let ledger = Arc::new(Ledger::new(total));
    let retried = Arc::new(AtomicU64::new(0));
    let styles = [Style::Plain, Style::Timeout, Style::Select, Style::Poll];

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let h = sched.handle();
            let (ledger, retried) = (Arc::clone(&ledger), Arc::clone(&retried));
            let q = queues[(w % 2) as usize];
            let style = styles[(w / 2) as usize % styles.len()];
            rt.spawn(async move {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w + 1));
                let mut taken = 0u64;
                while !h.is_stopped() {
                    let Some(task) = take(&h, q, style, &mut rng).await else {
                        continue;
                    };
                    taken += 1;
                    h.task_done(q).unwrap();
                    if task.attempt() == 1 && rng.below(16) == 0 {
                        retried.fetch_add(1, Ordering::Relaxed);
                        submit(&h, task, &mut rng).await;
                    } else {
                        ledger.settle(*task.payload(), DELIVERED);
                    }
                }
                (style, taken)
            })
        })
        .collect();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let h = sched.handle();
            let ledger = Arc::clone(&ledger);
            rt.spawn(async move {
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (p + 1) << 7);
                let mut recent: Vec<TaskId> = Vec::with_capacity(64);
                let per = total / PRODUCERS + u64::from(p < total % PRODUCERS);
                for i in 0..per {
                    let number = i * PRODUCERS + p;
                    let subject = u32::try_from(number % 997).unwrap();
                    let q = queues[(number % 2) as usize];
                    let id = submit(&h, Task::new(q, subject, number), &mut rng).await;
                    if recent.len() == 64 {
                        recent.swap_remove(rng.below(64) as usize);
                    }
                    recent.push(id);
                    let pick = recent[rng.below(recent.len() as u64) as usize];
                    match rng.below(32) {
                        0..=1 => match h.cancel(pick) {
                            Ok(t) => ledger.settle(*t.payload(), HANDED_BACK),
                            Err(CancelError::NotScheduled) => {}
                            Err(e) => panic!("cancel: {e:?}"),
                        },
                        2..=4 => match h.reschedule(pick, random_when(&mut rng)) {
                            Ok(()) | Err(CancelError::NotScheduled) => {}
                            Err(e) => panic!("reschedule: {e:?}"),
                        },
                        5 if rng.below(64) == 0 => {
                            for t in h.cancel_by_subject(&subject).unwrap() {
                                ledger.settle(*t.payload(), HANDED_BACK);
                            }
                        }
                        _ => {}
                    }
                    if i % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();

    rt.block_on(async {
        for p in producers {
            p.await.unwrap();
        }
        all_settled(&ledger, total).await;
    });
    let left = sched.stop().unwrap();
    let mut by_style = Vec::new();
    for w in workers {
        by_style.push(rt.block_on(w).unwrap());
    }
    assert!(
        left.is_empty(),
        "{} task(s) left after all settled",
        left.len()
    );
    let (delivered, back) = ledger.tally();
    assert_eq!(delivered + back, total);
    assert!(
        by_style.iter().all(|&(_, taken)| taken > 0),
        "every waiting style took tasks: {by_style:?}"
    );
    println!(
        "async stress: {total} tasks, {delivered} delivered, {back} handed back, {} retried, 0 lost, 0 duplicated; taken per worker {by_style:?}",
        retried.load(Ordering::Relaxed)
    );
}

/// Cancel safety alone: tasks become due while 16 futures per queue are
/// created and dropped at random points (tiny timeouts, lost `select!`
/// races, a single poll); every task is taken exactly once, and the ones
/// still queued or scheduled at stop come back.
#[test]
fn futures_dropped_at_random_points_lose_nothing() {
    const TASKS: u64 = 4_000;
    let rt = runtime();
    let sched = SmallSched::new(
        MonotonicClock::new(),
        &[("q", 0)],
        Options::new().max_capacity(SMALL),
    )
    .unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    let ledger = Arc::new(Ledger::new(TASKS));
    let dropped = Arc::new(AtomicU64::new(0));
    let styles = [Style::Timeout, Style::Select, Style::Poll];
    let takers: Vec<_> = (0..16u64)
        .map(|w| {
            let h = sched.handle();
            let (ledger, dropped) = (Arc::clone(&ledger), Arc::clone(&dropped));
            let style = styles[(w % 3) as usize];
            rt.spawn(async move {
                let mut rng = Rng(0x51_7cc1_b727_220a ^ (w + 1));
                while !h.is_stopped() {
                    match take(&h, q, style, &mut rng).await {
                        Some(t) => ledger.settle(*t.payload(), DELIVERED),
                        None => {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    let mut rng = Rng(7);
    for p in 0..TASKS {
        let when = match rng.below(4) {
            0 => When::Now,
            _ => When::After(rng.below(2_000_000)),
        };
        // All 1024 slots in use: wait for the takers to make room.
        let mut task = Task::new(q, 0, p);
        while let Err(e) = sched.schedule(task, when) {
            let SubmitError::Capacity(t) = e else {
                panic!("schedule: {e:?}")
            };
            task = t;
            thread::yield_now();
        }
    }
    rt.block_on(all_settled(&ledger, TASKS));
    let left = sched.stop().unwrap();
    for t in left {
        ledger.settle(*t.payload(), HANDED_BACK);
    }
    for t in takers {
        rt.block_on(t).unwrap();
    }
    let (delivered, back) = ledger.tally();
    assert_eq!(delivered + back, TASKS);
    assert!(
        dropped.load(Ordering::Relaxed) > 0,
        "some futures were dropped"
    );
    println!(
        "cancel safety: {TASKS} tasks, {delivered} delivered, {back} handed back, {} futures dropped unfinished, 0 lost, 0 duplicated",
        dropped.load(Ordering::Relaxed)
    );
}

/// Blocked workers and futures wait for the same queue at once: each task
/// goes to exactly one of them, and none of them is left waiting while a
/// task is queued.
#[test]
fn blocked_workers_and_futures_share_a_queue() {
    const TASKS: u64 = 4_000;
    let rt = runtime();
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    let ledger = Arc::new(Ledger::new(TASKS));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (h, ledger) = (sched.handle(), Arc::clone(&ledger));
            thread::spawn(move || {
                let mut n = 0u64;
                while let Ok(t) = h.get_task(q, Wait::Forever) {
                    ledger.settle(*t.payload(), DELIVERED);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let futures: Vec<_> = (0..4)
        .map(|_| {
            let (h, ledger) = (sched.handle(), Arc::clone(&ledger));
            rt.spawn(async move {
                let mut n = 0u64;
                while let Ok(t) = h.get_task_async(q).await {
                    ledger.settle(*t.payload(), DELIVERED);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut rng = Rng(11);
    for p in 0..TASKS {
        let when = if p % 3 == 0 {
            When::Now
        } else {
            When::After(rng.below(1_000_000))
        };
        sched.schedule(Task::new(q, 0, p), when).unwrap();
    }
    rt.block_on(all_settled(&ledger, TASKS));
    assert!(sched.stop().unwrap().is_empty());
    let by_threads: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let by_futures: u64 = futures.into_iter().map(|f| rt.block_on(f).unwrap()).sum();
    assert_eq!(by_threads + by_futures, TASKS);
    assert_eq!(ledger.tally(), (TASKS, 0));
}
