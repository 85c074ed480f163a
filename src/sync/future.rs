//! [`CsScheduler`] on an async executor (feature `async`): a future per
//! queue ([`CsScheduler::get_task_async`]) and a driver future
//! ([`CsScheduler::drive`]) that delivers due tasks with the executor's own
//! timer. Generic over the executor: embassy, RTIC, or any other that
//! polls with a [`Waker`](core::task::Waker).

use core::convert::Infallible;
use core::fmt;
use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::task::{Context, Poll};

use super::wake::is_earlier;
use super::CsScheduler;
use crate::clock::{Clock, Ticks};
use crate::error::{Busy, GetTaskError, UnknownQueue};
use crate::queue::TaskQueue;
use crate::subject::Subject;
use crate::task::{QueueId, Task};

/// The future returned by [`CsScheduler::get_task_async`]: the oldest task
/// of a queue, once there is one. See that method for what it answers and
/// its cancel safety.
#[must_use = "futures do nothing unless polled"]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct CsGetTaskFuture<'a, C, Q, S, P, const N: usize, const QN: usize> {
    scheduler: &'a CsScheduler<C, Q, S, P, N, QN>,
    queue: QueueId,
}

impl<C, Q, S, P, const N: usize, const QN: usize> Future for CsGetTaskFuture<'_, C, Q, S, P, N, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    type Output = Result<Task<S, P>, UnknownQueue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Register first, then look: a task entering after the look wakes
        // the waker registered here.
        self.scheduler.wakers.register_queue(self.queue, cx.waker());
        match self.scheduler.get_task(self.queue) {
            Ok(Ok(task)) => Poll::Ready(Ok(task)),
            Ok(Err(GetTaskError::UnknownQueue)) => Poll::Ready(Err(UnknownQueue)),
            Ok(Err(_)) => Poll::Pending,
            // Polled from inside a `with` on the same scheduler: look
            // again after the executor ran something else.
            Err(Busy(())) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

impl<C, Q, S, P, const N: usize, const QN: usize> fmt::Debug
    for CsGetTaskFuture<'_, C, Q, S, P, N, QN>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsGetTaskFuture")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<C, Q, S, P, const N: usize, const QN: usize> CsScheduler<C, Q, S, P, N, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    /// Takes the oldest task from `queue` once there is one: the future of
    /// [`get_task`](Self::get_task), for a worker task on an async
    /// executor (embassy, RTIC, any other). No allocation; each poll is one
    /// critical section of O(log N).
    ///
    /// It is woken when a task enters `queue`: scheduled with
    /// [`When::Now`](crate::When::Now), or delivered at its deadline by
    /// [`run_pending`](Self::run_pending) (which the [`drive`](Self::drive)
    /// future calls), and when a [`with`](Self::with) call leaves tasks in
    /// the queue or removes it. The future never delivers due tasks itself:
    /// run [`drive`](Self::drive) (or call `run_pending`) somewhere.
    ///
    /// One waker per queue: await one such future per queue at a
    /// time. A second one waiting on the same queue takes its place and
    /// wakes the first, so neither hangs, but while both wait they keep
    /// waking each other (embassy-sync's single-waiter types behave the
    /// same).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. A task is taken from the queue only in
    /// the poll that returns it, so if the future is dropped before it
    /// completes (the other branch of a `select` completed first, a
    /// timeout), no task was taken and none is lost: the next future on
    /// the queue finds it on its first poll.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when `queue` does not exist (also when it is
    /// removed while the future waits).
    ///
    /// # Examples
    ///
    /// ```
    /// use core::future::Future;
    /// use core::pin::pin;
    /// use core::task::{Context, Poll, Waker};
    /// use tardy::{CsScheduler, FnClock, HeaplessQueue, Task, When};
    ///
    /// type Ctx = Task<u8, u32>;
    /// static SCHED: CsScheduler<FnClock<fn() -> u64>, HeaplessQueue<Ctx, 4>, u8, u32, 8, 2> =
    ///     CsScheduler::new(FnClock(|| 0));
    ///
    /// let q = SCHED.with(|s| s.add_queue("work", 0)).unwrap().unwrap();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut next = pin!(SCHED.get_task_async(q));
    /// assert!(next.as_mut().poll(&mut cx).is_pending());
    /// // an interrupt handler or another task:
    /// SCHED.schedule(Task::new(q, 1, 42), When::Now).unwrap().unwrap();
    /// let Poll::Ready(Ok(task)) = next.poll(&mut cx) else { panic!() };
    /// assert_eq!(task.payload(), &42);
    /// ```
    pub fn get_task_async(&self, queue: QueueId) -> CsGetTaskFuture<'_, C, Q, S, P, N, QN> {
        CsGetTaskFuture {
            scheduler: self,
            queue,
        }
    }

    /// Delivers due tasks for ever, sleeping with the executor's timer in
    /// between: the task that drives the scheduler on an async executor.
    ///
    /// It loops: [`run_pending`](Self::run_pending) (which wakes the
    /// futures of the queues that got tasks), then waits for the earlier
    /// of the next deadline and a kick. `sleep_until(t)` is how the
    /// executor sleeps until tick `t` of the scheduler's clock (for
    /// example `embassy_time::Timer::at`, or RTIC's `Mono::delay_until`):
    /// a future that completes at or after `t`. With nothing scheduled it
    /// waits for the kick alone. The kick is a schedule or reschedule (by
    /// the methods or inside [`with`](Self::with)) that makes the earliest
    /// deadline earlier, from another task or an interrupt handler: the
    /// driver then drops its sleep and sleeps again until the new
    /// deadline. So a task scheduled earlier than every other is delivered
    /// at its own deadline, not at the old one.
    ///
    /// Run one driver per scheduler (one waker). The clock the
    /// scheduler reads and the one `sleep_until` sleeps on must count the
    /// same ticks. No allocation; every step is a critical section of
    /// O(log N + QN) at most.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing: tasks stay scheduled (or in their
    /// queues) until another driver or `run_pending` delivers them.
    ///
    /// # Errors
    ///
    /// It returns only with [`Busy`], when polled from inside a
    /// [`with`](Self::with) on the same scheduler.
    ///
    /// # Examples
    ///
    /// With embassy (`Instant` ticks as the scheduler's clock):
    ///
    /// ```ignore
    /// #[embassy_executor::task]
    /// async fn driver() {
    ///     let Err(busy) = SCHED
    ///         .drive(|t| embassy_time::Timer::at(embassy_time::Instant::from_ticks(t)))
    ///         .await;
    /// }
    /// ```
    pub async fn drive<F, Fut>(&self, mut sleep_until: F) -> Result<Infallible, Busy>
    where
        F: FnMut(Ticks) -> Fut,
        Fut: Future,
    {
        loop {
            self.run_pending()?;
            let next = self.next_deadline()?;
            let mut sleep = pin!(next.map(&mut sleep_until));
            poll_fn(|cx| {
                // Register first, then look (see `get_task_async`).
                self.wakers.register_deadline(cx.waker());
                let now_next = self.with_quiet(|s| s.next_deadline())?;
                if is_earlier(now_next, next) {
                    return Poll::Ready(Ok(()));
                }
                match sleep.as_mut().as_pin_mut() {
                    Some(sleep) => sleep.poll(cx).map(|_| Ok(())),
                    None => Poll::Pending,
                }
            })
            .await?;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Futures polled by hand with a counting waker: no runtime, every
    //! wake-up counted.

    use core::future::Future;
    use core::pin::{pin, Pin};
    use core::task::{Context, Poll, Waker};
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::vec::Vec;

    use crate::{CsScheduler, HeaplessQueue, ManualClock, Task, UnknownQueue, When};

    type Ctx = Task<u8, u32>;
    type Shared<'c> = CsScheduler<&'c ManualClock, HeaplessQueue<Ctx, 8>, u8, u32, 16, 2>;

    /// A waker that counts its wake-ups.
    struct Count(AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    impl Count {
        fn get(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// A fake executor sleep: completes once the manual clock reaches
    /// its tick.
    struct Sleep<'a> {
        clock: &'a ManualClock,
        until: u64,
    }

    impl Future for Sleep<'_> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if now(self.clock) >= self.until {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    fn now(clock: &ManualClock) -> u64 {
        crate::Clock::now(clock)
    }

    /// The `sleep_until` of a fake executor; records the ticks asked for.
    fn fake_sleep<'a>(
        clock: &'a ManualClock,
        asked: &'a RefCell<Vec<u64>>,
    ) -> impl FnMut(u64) -> Sleep<'a> {
        move |until| {
            asked.borrow_mut().push(until);
            Sleep { clock, until }
        }
    }

    #[test]
    fn an_earlier_task_wakes_the_driver_and_is_delivered_at_its_deadline() {
        let clock = ManualClock::new(0);
        let sched: Shared<'_> = CsScheduler::new(&clock);
        let q = sched.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
        let asked = RefCell::new(Vec::new());
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut driver = pin!(sched.drive(fake_sleep(&clock, &asked)));

        sched
            .schedule(Task::new(q, 1, 100), When::At(100))
            .unwrap()
            .unwrap();
        assert!(driver.as_mut().poll(&mut cx).is_pending());
        assert_eq!(*asked.borrow(), [100]);
        assert_eq!(count.get(), 0);

        // from "elsewhere" (an interrupt handler, another task): earlier
        sched
            .schedule(Task::new(q, 2, 30), When::At(30))
            .unwrap()
            .unwrap();
        assert_eq!(count.get(), 1, "the driver is kicked");
        // a later one kicks nobody
        sched
            .schedule(Task::new(q, 3, 60), When::At(60))
            .unwrap()
            .unwrap();
        assert_eq!(count.get(), 1);
        assert!(driver.as_mut().poll(&mut cx).is_pending());
        assert_eq!(*asked.borrow(), [100, 30], "sleeps again, until 30");

        // an earlier one through `with`, and through `reschedule`
        let id = sched
            .with(|s| s.schedule(Task::new(q, 4, 20), When::At(20)))
            .unwrap()
            .unwrap();
        assert_eq!(count.get(), 2);
        assert!(driver.as_mut().poll(&mut cx).is_pending());
        assert_eq!(*asked.borrow(), [100, 30, 20]);
        sched.reschedule(id, When::At(10)).unwrap().unwrap();
        assert_eq!(count.get(), 3);
        assert!(driver.as_mut().poll(&mut cx).is_pending());
        assert_eq!(*asked.borrow(), [100, 30, 20, 10]);

        clock.set(10);
        assert!(driver.as_mut().poll(&mut cx).is_pending());
        assert_eq!(*asked.borrow(), [100, 30, 20, 10, 30]);
        let t = sched.get_task(q).unwrap().unwrap();
        assert_eq!((t.deadline(), *t.payload()), (10, 20));
        assert_eq!(sched.len(), Ok(3));
    }

    #[test]
    fn a_task_entering_a_queue_wakes_its_future() {
        let clock = ManualClock::new(0);
        let sched: Shared<'_> = CsScheduler::new(&clock);
        let a = sched.with(|s| s.add_queue("a", 0)).unwrap().unwrap();
        let b = sched.with(|s| s.add_queue("b", 0)).unwrap().unwrap();
        let (count_a, waker_a) = counting();
        let (count_b, waker_b) = counting();
        let mut fa = pin!(sched.get_task_async(a));
        let mut fb = pin!(sched.get_task_async(b));
        assert!(fa
            .as_mut()
            .poll(&mut Context::from_waker(&waker_a))
            .is_pending());
        assert!(fb
            .as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending());

        // When::Now enters the queue at once
        sched
            .schedule(Task::new(a, 1, 1), When::Now)
            .unwrap()
            .unwrap();
        assert_eq!((count_a.get(), count_b.get()), (1, 0));
        let Poll::Ready(Ok(t)) = fa.as_mut().poll(&mut Context::from_waker(&waker_a)) else {
            panic!("the task is there");
        };
        assert_eq!(*t.payload(), 1);

        // run_pending delivers into `b`: only `b`'s future wakes
        assert!(fa
            .as_mut()
            .poll(&mut Context::from_waker(&waker_a))
            .is_pending());
        sched
            .schedule(Task::new(b, 2, 2), When::At(5))
            .unwrap()
            .unwrap();
        assert_eq!((count_a.get(), count_b.get()), (1, 0));
        clock.set(5);
        assert_eq!(sched.run_pending(), Ok(1));
        assert_eq!((count_a.get(), count_b.get()), (1, 1));
        let Poll::Ready(Ok(t)) = fb.as_mut().poll(&mut Context::from_waker(&waker_b)) else {
            panic!("the task is there");
        };
        assert_eq!(*t.payload(), 2);

        // removing a queue wakes its future, which answers UnknownQueue
        assert!(fb
            .as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending());
        let removed = sched.with(|s| s.remove_queue(b, |_| {})).unwrap();
        assert!(removed.is_ok());
        assert_eq!(count_b.get(), 2);
        assert!(matches!(
            fb.as_mut().poll(&mut Context::from_waker(&waker_b)),
            Poll::Ready(Err(UnknownQueue))
        ));
    }

    #[cfg(feature = "periodic")]
    #[test]
    fn periodic_occurrences_wake_the_queue_and_the_driver_sleeps_to_the_next() {
        let clock = ManualClock::new(0);
        let sched: Shared<'_> = CsScheduler::new(&clock);
        let q = sched.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
        let asked = RefCell::new(Vec::new());
        let (count_d, waker_d) = counting();
        let (count_q, waker_q) = counting();
        let mut driver = pin!(sched.drive(fake_sleep(&clock, &asked)));
        let mut fq = pin!(sched.get_task_async(q));
        assert!(driver
            .as_mut()
            .poll(&mut Context::from_waker(&waker_d))
            .is_pending());
        assert!(fq
            .as_mut()
            .poll(&mut Context::from_waker(&waker_q))
            .is_pending());
        let id = sched
            .schedule_periodic(
                Task::new(q, 1, 7),
                When::At(10),
                10,
                crate::MissedTickBehavior::Skip,
            )
            .unwrap()
            .unwrap();
        assert_eq!(count_d.get(), 1, "an earlier deadline kicks the driver");
        for (at, index) in [(10, 0), (20, 1)] {
            assert!(driver
                .as_mut()
                .poll(&mut Context::from_waker(&waker_d))
                .is_pending());
            assert_eq!(asked.borrow().last(), Some(&at));
            clock.set(at);
            assert!(driver
                .as_mut()
                .poll(&mut Context::from_waker(&waker_d))
                .is_pending());
            assert_eq!(asked.borrow().last(), Some(&(at + 10)));
            assert_eq!(
                count_q.get(),
                index as usize + 1,
                "the occurrence wakes its queue"
            );
            let Poll::Ready(Ok(t)) = fq.as_mut().poll(&mut Context::from_waker(&waker_q)) else {
                panic!("the occurrence is there");
            };
            assert_eq!(t.period().map(|p| p.index), Some(index));
            fq.set(sched.get_task_async(q));
            assert!(fq
                .as_mut()
                .poll(&mut Context::from_waker(&waker_q))
                .is_pending());
        }
        assert_eq!(sched.cancel(id).unwrap().unwrap().into_payload(), 7);
    }

    #[cfg(feature = "periodic")]
    #[test]
    fn a_periodic_task_re_armed_by_a_take_kicks_the_driver() {
        let clock = ManualClock::new(0);
        let sched: Shared<'_> = CsScheduler::new(&clock);
        let q = sched.with(|s| s.add_queue("q", 1)).unwrap().unwrap();
        let asked = RefCell::new(Vec::new());
        let (count_d, waker_d) = counting();
        let mut driver = pin!(sched.drive(fake_sleep(&clock, &asked)));
        sched
            .schedule_periodic(
                Task::new(q, 1, 7),
                When::At(0),
                10,
                crate::MissedTickBehavior::Skip,
            )
            .unwrap()
            .unwrap();
        // #0 fills the queue of one; #1 (due at 10) waits for room, and
        // nothing is scheduled: the driver has no deadline to sleep to.
        assert_eq!(sched.run_pending(), Ok(1));
        clock.set(10);
        assert_eq!(sched.run_pending(), Ok(0));
        assert!(driver
            .as_mut()
            .poll(&mut Context::from_waker(&waker_d))
            .is_pending());
        assert_eq!(sched.next_deadline(), Ok(None));
        let kicks = count_d.get();
        let t = sched.get_task(q).unwrap().unwrap();
        assert_eq!(t.period().map(|p| p.index), Some(0));
        // The take let #1 in and re-armed the task at 20: the driver must
        // hear of it.
        assert_eq!(sched.next_deadline(), Ok(Some(20)));
        assert_eq!(count_d.get(), kicks + 1, "the re-arm kicks the driver");
        assert!(driver
            .as_mut()
            .poll(&mut Context::from_waker(&waker_d))
            .is_pending());
        assert_eq!(asked.borrow().last(), Some(&20));
    }

    #[test]
    fn a_second_future_on_a_queue_wakes_the_one_it_displaces() {
        let clock = ManualClock::new(0);
        let sched: Shared<'_> = CsScheduler::new(&clock);
        let q = sched.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
        let (first, w1) = counting();
        let (second, w2) = counting();
        let mut f1 = pin!(sched.get_task_async(q));
        let mut f2 = pin!(sched.get_task_async(q));
        assert!(f1.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
        assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
        assert_eq!((first.get(), second.get()), (1, 0), "displaced: woken");
        sched
            .schedule(Task::new(q, 1, 1), When::Now)
            .unwrap()
            .unwrap();
        assert_eq!((first.get(), second.get()), (1, 1));
    }

    #[test]
    fn dropped_futures_lose_nothing() {
        let clock = ManualClock::new(0);
        let sched: Shared<'_> = CsScheduler::new(&clock);
        let q = sched.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let asked = RefCell::new(Vec::new());

        // a future woken for a task and dropped before its next poll
        {
            let mut f = pin!(sched.get_task_async(q));
            assert!(f.as_mut().poll(&mut cx).is_pending());
            sched
                .schedule(Task::new(q, 1, 1), When::Now)
                .unwrap()
                .unwrap();
            assert_eq!(count.get(), 1);
        }
        // a driver dropped while it sleeps, with tasks scheduled
        sched
            .schedule(Task::new(q, 2, 2), When::At(10))
            .unwrap()
            .unwrap();
        sched
            .schedule(Task::new(q, 3, 3), When::At(20))
            .unwrap()
            .unwrap();
        {
            let mut d = pin!(sched.drive(fake_sleep(&clock, &asked)));
            assert!(d.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(sched.len(), Ok(2));
        clock.set(20);
        // a new driver and new futures get everything, once
        let mut d = pin!(sched.drive(fake_sleep(&clock, &asked)));
        assert!(d.as_mut().poll(&mut cx).is_pending());
        let mut got = Vec::new();
        loop {
            let mut f = pin!(sched.get_task_async(q));
            match f.as_mut().poll(&mut cx) {
                Poll::Ready(Ok(t)) => got.push(*t.payload()),
                Poll::Ready(Err(e)) => panic!("{e:?}"),
                Poll::Pending => break,
            }
        }
        assert_eq!(got, [1, 2, 3]);
        assert_eq!(sched.len(), Ok(0));
        assert_eq!(*asked.borrow(), [10]);
    }

    #[test]
    fn the_driver_delivers_every_task_at_its_deadline() {
        // A deterministic executor: poll the driver, then jump the manual
        // clock to the tick it sleeps until; tasks scheduled on the way
        // (some earlier than the pending ones) must all arrive at their
        // deadlines, in order.
        let clock = ManualClock::new(0);
        let sched: Shared<'_> = CsScheduler::new(&clock);
        let q = sched.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
        let asked = RefCell::new(Vec::new());
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut driver = pin!(sched.drive(fake_sleep(&clock, &asked)));
        let (wcount, wwaker) = counting();
        let mut wcx = Context::from_waker(&wwaker);

        // (at tick, schedule this deadline)
        let plan: [(u64, u64); 6] = [
            (0, 500),
            (0, 300),
            (50, 100),
            (120, 90),
            (200, 250),
            (260, 270),
        ];
        let mut next_plan = 0;
        let mut delivered: Vec<(u64, u64)> = Vec::new();
        for _ in 0..100 {
            while let Some(&(at, deadline)) = plan.get(next_plan) {
                if at > now(&clock) {
                    break;
                }
                let deadline = deadline.max(at);
                sched
                    .schedule(Task::new(q, 0, deadline as u32), When::At(deadline))
                    .unwrap()
                    .unwrap();
                next_plan += 1;
            }
            assert!(driver.as_mut().poll(&mut cx).is_pending());
            loop {
                let mut f = pin!(sched.get_task_async(q));
                match f.as_mut().poll(&mut wcx) {
                    Poll::Ready(Ok(t)) => delivered.push((t.deadline(), now(&clock))),
                    _ => break,
                }
            }
            if next_plan == plan.len() && sched.is_empty() == Ok(true) {
                break;
            }
            // the executor's timer: the earliest of the sleep and the next
            // event of the plan
            let sleep = *asked.borrow().last().unwrap();
            let event = plan.get(next_plan).map_or(u64::MAX, |p| p.0);
            clock.set(sleep.min(event).max(now(&clock)));
        }
        let deadlines: Vec<u64> = delivered.iter().map(|d| d.0).collect();
        assert_eq!(deadlines, [100, 120, 250, 270, 300, 500]);
        for (deadline, at) in delivered {
            assert_eq!(at, deadline, "lateness 0 ticks, never early");
        }
        assert!(count.get() >= 2, "kicked by the earlier tasks");
        assert!(wcount.get() >= 1);
    }
}
