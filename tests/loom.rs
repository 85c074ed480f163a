//! loom models of the threaded layer's shared state: schedule, cancel,
//! reschedule, delivery and stop racing each other. loom runs each model
//! under every interleaving of its threads (bounded by the preemption bound)
//! and checks the claims in every one of them.
//!
//! Only in a loom build (the library then takes its Mutex, Condvar, Arc and
//! threads from loom):
//!
//! ```text
//! RUSTFLAGS="--cfg tardy_loom" cargo test --release --features loom --test loom
//! ```
//!
//! The models of `get_task_async` drive futures with loom's `block_on`.
//!
//! The models are small on purpose (one task, two or three threads besides
//! the scheduler thread) so that the whole file finishes in about a minute.

#![cfg(tardy_loom)]

use std::future::Future;
use std::sync::atomic::AtomicUsize;

use loom::sync::atomic::{AtomicU64, Ordering};
use loom::sync::Arc;
use loom::thread;

use tardy::{
    CancelError, Clock, Options, SchedulerThread, SubmitError, TakeError, Task, Ticks, Wait, When,
};

/// A clock the model moves by hand, shared with the scheduler thread.
#[derive(Clone)]
struct ModelClock(Arc<AtomicU64>);

impl Clock for ModelClock {
    fn now(&self) -> Ticks {
        self.0.load(Ordering::SeqCst)
    }
}

type Sched = SchedulerThread<u8, u8, ModelClock, 2>;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Counts, across all the interleavings of one model, how often each outcome
/// came up, so that a test can check that loom reached every one of them
/// (a model that only ever saw one order would prove little).
struct Outcomes<const K: usize>([AtomicUsize; K]);

impl<const K: usize> Outcomes<K> {
    const fn new() -> Self {
        Self([const { AtomicUsize::new(0) }; K])
    }
    fn saw(&self, k: usize) {
        self.0[k].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn assert_all_seen(&self) {
        let seen: Vec<usize> = self
            .0
            .iter()
            .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
            .collect();
        assert!(seen.iter().all(|&n| n > 0), "outcomes seen: {seen:?}");
    }
}

fn new_sched(now: Ticks) -> (Sched, ModelClock) {
    let clock = ModelClock(Arc::new(AtomicU64::new(now)));
    let sched = Sched::new(clock.clone(), &[("q", 0)], Options::new()).unwrap();
    (sched, clock)
}

/// A producer schedules a due task, a worker waits for it, and the owner
/// stops the scheduler, all at once. The task ends in exactly one place:
/// refused (`Stopped`, handed back to the producer), taken by the worker, or
/// handed back by `stop`. Nobody blocks forever.
#[test]
fn schedule_delivery_and_stop_race() {
    model(|| {
        let (sched, _clock) = new_sched(0);
        sched.start().unwrap();
        let q = sched.queue_id("q").unwrap();

        let producer = {
            let h = sched.handle();
            thread::spawn(move || match h.schedule(Task::new(q, 1, 7), When::At(0)) {
                Ok(_) => 0,
                Err(SubmitError::Stopped(t)) => {
                    assert_eq!(*t.payload(), 7);
                    1
                }
                Err(e) => panic!("schedule: {e:?}"),
            })
        };
        let worker = {
            let h = sched.handle();
            thread::spawn(move || match h.get_task(q, Wait::Forever) {
                Ok(t) => {
                    assert_eq!(*t.payload(), 7);
                    1
                }
                Err(TakeError::Stopped) => 0,
                Err(e) => panic!("get_task: {e:?}"),
            })
        };
        let left = sched.stop().unwrap();
        let refused = producer.join().unwrap();
        let taken = worker.join().unwrap();
        assert_eq!(
            refused + taken + left.len(),
            1,
            "the task is in exactly one place"
        );
        STOP_RACE.saw(if refused == 1 {
            0
        } else if taken == 1 {
            1
        } else {
            2
        });
    });
    STOP_RACE.assert_all_seen();
}

static STOP_RACE: Outcomes<3> = Outcomes::new();

/// A cancel races the delivery of a task that becomes due (the clock moves
/// and a host thread runs `run_pending`, then takes without waiting). The
/// task is cancelled or taken, exactly one of the two, and both orders
/// occur.
#[test]
fn cancel_races_delivery() {
    model(|| {
        let (sched, clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        let id = sched.schedule(Task::new(q, 1, 7), When::At(5)).unwrap();
        sched.start().unwrap();

        let canceller = {
            let h = sched.handle();
            thread::spawn(move || match h.cancel(id) {
                Ok(t) => {
                    assert_eq!(*t.payload(), 7);
                    1
                }
                Err(CancelError::NotScheduled) => 0,
                Err(e) => panic!("cancel: {e:?}"),
            })
        };
        let host = {
            let h = sched.handle();
            thread::spawn(move || {
                clock.0.store(5, Ordering::SeqCst);
                h.run_pending().unwrap();
                match h.get_task(q, Wait::NoWait) {
                    Ok(t) => {
                        assert!(t.deadline() <= clock.now(), "delivered early");
                        1
                    }
                    Err(TakeError::Empty) => 0,
                    Err(e) => panic!("get_task: {e:?}"),
                }
            })
        };
        let cancelled = canceller.join().unwrap();
        let taken = host.join().unwrap();
        let left = sched.stop().unwrap();
        assert_eq!(
            cancelled + taken + left.len(),
            1,
            "the task is in exactly one place"
        );
        // The host takes whatever run_pending delivered, so stop finds
        // nothing: the cancel or the delivery wins.
        assert!(left.is_empty());
        CANCEL_RACE.saw(taken);
    });
    CANCEL_RACE.assert_all_seen();
}

static CANCEL_RACE: Outcomes<2> = Outcomes::new();

/// A reschedule to a later time races the delivery at the old time. If the
/// reschedule wins, the task is not delivered at the old time (it comes back
/// from `stop`); if the delivery wins, the reschedule answers
/// `NotScheduled` and the task is taken. Never both, never neither.
#[test]
fn reschedule_races_delivery() {
    model(|| {
        let (sched, clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        let id = sched.schedule(Task::new(q, 1, 7), When::At(5)).unwrap();
        sched.start().unwrap();

        let rescheduler = {
            let h = sched.handle();
            thread::spawn(move || match h.reschedule(id, When::At(100)) {
                Ok(()) => true,
                Err(CancelError::NotScheduled) => false,
                Err(e) => panic!("reschedule: {e:?}"),
            })
        };
        let host = {
            let h = sched.handle();
            thread::spawn(move || {
                clock.0.store(5, Ordering::SeqCst);
                h.run_pending().unwrap();
                h.get_task(q, Wait::NoWait).is_ok()
            })
        };
        let moved = rescheduler.join().unwrap();
        let taken = host.join().unwrap();
        let left = sched.stop().unwrap();
        assert_ne!(moved, taken, "exactly one of reschedule and delivery wins");
        assert_eq!(left.len(), usize::from(moved));
        if let Some(t) = left.first() {
            assert_eq!(t.deadline(), 100);
        }
        RESCHEDULE_RACE.saw(usize::from(moved));
    });
    RESCHEDULE_RACE.assert_all_seen();
}

static RESCHEDULE_RACE: Outcomes<2> = Outcomes::new();

/// Two workers wait on one queue; the scheduler thread is woken by a task
/// scheduled for now, and stop comes last. Exactly one worker gets the task
/// and the other is released by `stop`: a notification is never lost and
/// never delivers one task twice.
#[test]
fn two_waiting_workers_one_task() {
    model(|| {
        let (sched, _clock) = new_sched(0);
        sched.start().unwrap();
        let q = sched.queue_id("q").unwrap();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let h = sched.handle();
                thread::spawn(move || match h.get_task(q, Wait::Forever) {
                    Ok(t) => {
                        h.task_done(q).unwrap();
                        usize::from(*t.payload() == 7)
                    }
                    Err(TakeError::Stopped) => 0,
                    Err(e) => panic!("get_task: {e:?}"),
                })
            })
            .collect();
        sched.schedule(Task::new(q, 1, 7), When::Now).unwrap();
        // Wait, without sleeping, until a worker has the task: join
        // returns once it was taken and marked done.
        sched.join(q).unwrap();
        let left = sched.stop().unwrap();
        let taken: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!((taken, left.len()), (1, 0));
    });
}

/// A queue is removed while a producer schedules into it and a worker waits
/// on it. The task is taken by the worker, handed back by `remove_queue`, or
/// refused to the producer (`UnknownQueue`): exactly one. The waiting worker
/// is never left blocked on a queue that no longer exists.
#[test]
fn remove_queue_races_schedule_and_a_waiting_worker() {
    model(|| {
        let (sched, _clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        let producer = {
            let h = sched.handle();
            thread::spawn(move || match h.schedule(Task::new(q, 1, 7), When::Now) {
                Ok(_) => 0,
                Err(SubmitError::UnknownQueue(t)) => {
                    assert_eq!(*t.payload(), 7);
                    1
                }
                Err(e) => panic!("schedule: {e:?}"),
            })
        };
        let worker = {
            let h = sched.handle();
            thread::spawn(move || match h.get_task(q, Wait::Forever) {
                Ok(t) => {
                    assert_eq!(*t.payload(), 7);
                    1
                }
                Err(TakeError::UnknownQueue) => 0,
                Err(e) => panic!("get_task: {e:?}"),
            })
        };
        let removed = sched.remove_queue(q).unwrap();
        let refused = producer.join().unwrap();
        let taken = worker.join().unwrap();
        assert_eq!(
            refused + taken + removed.len(),
            1,
            "the task is in exactly one place"
        );
        REMOVE_RACE.saw(if refused == 1 {
            0
        } else if taken == 1 {
            1
        } else {
            2
        });
        sched.stop().unwrap();
    });
    REMOVE_RACE.assert_all_seen();
}

static REMOVE_RACE: Outcomes<3> = Outcomes::new();

/// Two workers wait on one queue before anything is scheduled; then a task
/// is scheduled for a later tick, which makes one of them the leader (it
/// waits for that deadline as well as for a task), and a host thread moves
/// the clock to the deadline and runs what is due. Exactly one worker gets
/// the task, never before its deadline, and the other is released by
/// `stop`: the leader's and the followers' wake-ups are never lost.
#[test]
fn a_leading_worker_and_a_follower_share_a_due_task() {
    model(|| {
        let (sched, clock) = new_sched(0);
        sched.start().unwrap();
        let q = sched.queue_id("q").unwrap();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let h = sched.handle();
                let clock = clock.clone();
                thread::spawn(move || match h.get_task(q, Wait::Forever) {
                    Ok(t) => {
                        assert!(t.deadline() <= clock.now(), "delivered early");
                        h.task_done(q).unwrap();
                        1
                    }
                    Err(TakeError::Stopped) => 0,
                    Err(e) => panic!("get_task: {e:?}"),
                })
            })
            .collect();
        sched.schedule(Task::new(q, 1, 7), When::At(5)).unwrap();
        clock.0.store(5, Ordering::SeqCst);
        sched.run_pending().unwrap();
        sched.join(q).unwrap();
        let left = sched.stop().unwrap();
        let taken: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!((taken, left.len()), (1, 0));
    });
}

/// A worker leads (it waits for the deadline at tick 10) when a producer
/// schedules an earlier task, at tick 5, and the clock reaches 5. The
/// earlier task is delivered to the worker whoever moves it (the worker
/// itself, told of the earlier deadline, or the host's `run_pending`), and
/// the later one is still scheduled at `stop`.
#[test]
fn an_earlier_deadline_reaches_the_leader() {
    model(|| {
        let (sched, clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        sched.schedule(Task::new(q, 1, 10), When::At(10)).unwrap();
        sched.start().unwrap();
        let worker = {
            let h = sched.handle();
            let clock = clock.clone();
            thread::spawn(move || {
                let t = h.get_task(q, Wait::Forever).unwrap();
                assert!(t.deadline() <= clock.now(), "delivered early");
                *t.payload()
            })
        };
        sched.schedule(Task::new(q, 2, 5), When::At(5)).unwrap();
        clock.0.store(5, Ordering::SeqCst);
        sched.run_pending().unwrap();
        assert_eq!(worker.join().unwrap(), 5);
        let left = sched.stop().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(*left[0].payload(), 10);
    });
}

/// The lost wake-up of a re-created queue. Worker 1 waits for queue `x`,
/// which holds a task due much later, so it may lead; `x` is removed
/// (handing that task back) and added again at the same queue index; worker
/// 2 waits for the new `x`; a task is queued there. In every interleaving
/// worker 2 gets the task (a wake-up credited to worker 1, which led for
/// the removed queue, would leave worker 2 blocked: loom reports the
/// deadlock) and worker 1 answers `UnknownQueue`.
#[test]
fn a_re_created_queue_wakes_its_own_worker() {
    model(|| {
        let (sched, _clock) = new_sched(0);
        let x = sched.queue_id("q").unwrap();
        sched.schedule(Task::new(x, 1, 1), When::At(100)).unwrap();
        sched.start().unwrap();
        let first = {
            let h = sched.handle();
            thread::spawn(move || h.get_task(x, Wait::Forever).map(|t| *t.payload()))
        };
        let removed = sched.remove_queue(x).unwrap();
        assert_eq!(removed.len(), 1);
        let x2 = sched.add_queue("q", 0).unwrap();
        let second = {
            let h = sched.handle();
            thread::spawn(move || h.get_task(x2, Wait::Forever).map(|t| *t.payload()))
        };
        sched.schedule(Task::new(x2, 2, 2), When::Now).unwrap();
        assert_eq!(second.join().unwrap(), Ok(2));
        assert_eq!(first.join().unwrap(), Err(TakeError::UnknownQueue));
        assert!(sched.stop().unwrap().is_empty());
    });
}

/// A future on `h` waiting for `q` on a loom thread (loom's `block_on`):
/// 1 when it took task 7, 0 when the scheduler stopped.
fn future_worker(
    h: tardy::SchedulerHandle<u8, u8, ModelClock, 2>,
    q: tardy::QueueId,
) -> thread::JoinHandle<usize> {
    thread::spawn(move || match loom::future::block_on(h.get_task_async(q)) {
        Ok(t) => {
            assert_eq!(*t.payload(), 7);
            1
        }
        Err(TakeError::Stopped) => 0,
        Err(e) => panic!("get_task_async: {e:?}"),
    })
}

/// The waker hand-off of `get_task_async`: a future waits on one thread
/// while a producer schedules a task for now on another. Whether the future
/// registers its waker before the task is queued (then it is woken) or
/// after (then its poll finds the task), it takes the task: a wake-up is
/// never lost (loom fails a model in which a thread waits forever).
#[test]
fn a_future_is_woken_by_a_task_scheduled_now() {
    model(|| {
        let (sched, _clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        let worker = future_worker(sched.handle(), q);
        let producer = {
            let h = sched.handle();
            thread::spawn(move || h.schedule(Task::new(q, 1, 7), When::Now).unwrap())
        };
        producer.join().unwrap();
        assert_eq!(worker.join().unwrap(), 1);
        assert!(sched.stop().unwrap().is_empty());
    });
}

/// Stop races a waiting future and a task scheduled for now: the task is
/// taken by the future or handed back by `stop`, exactly one of the two
/// (both occur), and the future is never left waiting.
#[test]
fn a_future_is_woken_by_stop() {
    model(|| {
        let (sched, _clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        let worker = future_worker(sched.handle(), q);
        sched.schedule(Task::new(q, 1, 7), When::Now).unwrap();
        let left = sched.stop().unwrap();
        let taken = worker.join().unwrap();
        assert_eq!(taken + left.len(), 1, "the task is in exactly one place");
        FUTURE_STOP.saw(taken);
    });
    FUTURE_STOP.assert_all_seen();
}

static FUTURE_STOP: Outcomes<2> = Outcomes::new();

/// Cancel safety of the hand-off: future `a` registers first, then another
/// thread waits on future `b`; a producer schedules one task while the
/// owner drops `a` without polling it again. If `a` was the one woken for
/// the task, dropping it hands the wake-up on to `b`: `b` always gets the
/// task, and `a` never took it.
#[test]
fn a_dropped_future_hands_its_wake_up_on() {
    model(|| {
        let (sched, _clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        let mut a = sched.get_task_async(q);
        let noop = std::task::Waker::noop();
        let polled = std::pin::Pin::new(&mut a).poll(&mut std::task::Context::from_waker(noop));
        assert!(polled.is_pending());
        let b = future_worker(sched.handle(), q);
        let producer = {
            let h = sched.handle();
            thread::spawn(move || h.schedule(Task::new(q, 1, 7), When::Now).unwrap())
        };
        drop(a);
        producer.join().unwrap();
        assert_eq!(b.join().unwrap(), 1);
        assert!(sched.stop().unwrap().is_empty());
    });
}

/// A periodic task is delivered by a host thread (`run_pending`, the clock
/// moved one period, `run_pending` again) while another thread cancels it.
/// The cancel always finds it (a periodic task is never done) and hands the
/// original back once; the occurrences delivered before are in the queue in
/// period order, nothing is delivered after, and `stop` hands nothing back
/// a second time. Zero, one and two occurrences all come up.
#[cfg(feature = "periodic")]
#[test]
fn periodic_delivery_races_cancel() {
    model(|| {
        let (sched, clock) = new_sched(0);
        let q = sched.queue_id("q").unwrap();
        let id = sched
            .schedule_periodic(
                Task::new(q, 1, 7),
                When::At(0),
                10,
                tardy::MissedTickBehavior::Skip,
            )
            .unwrap();

        let host = {
            let h = sched.handle();
            let clock = clock.clone();
            thread::spawn(move || {
                h.run_pending().unwrap();
                clock.0.store(10, Ordering::SeqCst);
                h.run_pending().unwrap();
            })
        };
        let canceller = {
            let h = sched.handle();
            thread::spawn(move || h.cancel(id))
        };
        host.join().unwrap();
        let back = canceller.join().unwrap().expect("cancelled once");
        assert_eq!(
            (back.id(), back.period(), *back.payload()),
            (Some(id), None, 7)
        );
        assert_eq!(sched.cancel(id).unwrap_err(), CancelError::NotScheduled);

        clock.0.store(20, Ordering::SeqCst);
        assert_eq!(sched.run_pending(), Ok(0), "nothing after the cancel");
        let mut delivered = 0;
        while let Ok(t) = sched.get_task(q, Wait::NoWait) {
            let p = t.period().expect("an occurrence");
            assert_eq!((p.index, p.missed, *t.payload()), (delivered, 0, 7));
            delivered += 1;
        }
        let left = sched.stop().unwrap();
        assert!(left.is_empty(), "handed back once, by the cancel");
        PERIODIC_CANCEL.saw(usize::try_from(delivered).unwrap());
    });
    PERIODIC_CANCEL.assert_all_seen();
}

#[cfg(feature = "periodic")]
static PERIODIC_CANCEL: Outcomes<3> = Outcomes::new();
