//! Sharing one [`Scheduler`] between interrupt handlers, the main loop and
//! cores, from a `static`, without allocation.
//!
//! - [`CsScheduler`] (feature `critical-section`): the scheduler in a
//!   [`critical_section::Mutex`]`<`[`RefCell`]`<_>>`. Every access runs
//!   inside one critical section, so an interrupt handler and the main loop
//!   (or several cores, with a multi-core critical-section implementation)
//!   see a consistent scheduler. The firmware chooses the critical-section
//!   implementation (for example `cortex-m`'s `critical-section-single-core`
//!   feature); tardy never does.
//! - With the feature `async`, [`CsScheduler`] also drives itself on an
//!   async executor: `CsScheduler::get_task_async` (a future per queue) and
//!   `CsScheduler::drive` (delivers due tasks, sleeping with the executor's
//!   timer). Operations wake them after their critical section: a task
//!   entering a queue wakes that queue's future, an earlier earliest
//!   deadline wakes the driver.
//! - [`SpinScheduler`] (feature `spin`): the scheduler behind a spin lock,
//!   for cores that share memory without an OS. Interrupts stay on, so it is
//!   not for sharing with an interrupt handler on the same core (the handler
//!   would spin forever on a lock its own core holds).
//!
//! # Time spent with interrupts off
//!
//! A call holds the critical section (or the lock) for one scheduler
//! operation, never a scan of the scheduled tasks: `schedule`, `cancel`,
//! `reschedule` and `get_task` are O(log N), `next_deadline` O(1).
//! `run_pending` takes one due task per critical section
//! ([`Scheduler::run_pending_max`]`(1)`: O(log N + QN) each), so a burst of
//! due tasks does not hold interrupts off for longer. Inside a
//! [`with`](CsScheduler::with) closure the costs are the scheduler's own
//! (`Scheduler::run_pending` delivers every due task in one go; use
//! `run_pending_max` there too), and the rest is the caller's: keep it short
//! (take tasks out, handle them after the closure).
//! With the feature `async`, `run_pending` and every `with` then look at
//! each queue once (O(QN)) to wake the futures of those holding tasks.
//! The clock is read inside the critical section; it must be cheap (see
//! [`Clock`]).
//!
//! # Cores without compare-and-swap
//!
//! `CsScheduler` needs no atomics of its own, except with the feature
//! `async` (its wakers). The spin lock and those wakers need
//! compare-and-swap, which thumbv6m (Cortex-M0/M0+) lacks: there, turn on
//! tardy's `portable-atomic` feature and give portable-atomic a fallback,
//! either tardy's `portable-atomic-critical-section` feature together with
//! a critical-section implementation, or portable-atomic's
//! `unsafe-assume-single-core` feature in the firmware's manifest. The
//! firmware picks, as it picks its critical-section implementation.
//!
//! # Two types, not one generic over the lock
//!
//! embassy-sync has one `Mutex<R: RawMutex, T>` for every lock. These two
//! differ in what a caller sees, not just in the lock: a critical section
//! cannot be contended (one context runs at a time), so the only way to find
//! the scheduler taken is re-entry, which the `RefCell` detects and every
//! `CsScheduler` method answers with [`Busy`] (holding the value passed).
//! On a spin lock, re-entry cannot be told from another core holding the
//! lock, so `SpinScheduler` waits and its methods return the scheduler's
//! answer directly (`try_with` is the way that never waits). One generic
//! type would need each method's return type to be an associated type of
//! the lock (`Result<R, Busy<V>>` or `R`), and the scheduler in an
//! `UnsafeCell` guarded by hand-written `unsafe` code in place of the two
//! locks' safe containers, to save some one-line forwarding methods. What
//! the two share, the step of their `run_pending`, is written once.

#[cfg(feature = "async")]
mod future;
#[cfg(feature = "critical-section")]
mod wake;

#[cfg(feature = "critical-section")]
use core::cell::RefCell;

#[cfg(feature = "async")]
pub use self::future::CsGetTaskFuture;

#[cfg(feature = "critical-section")]
use self::wake::{Before, Wake, Wakers};

use crate::clock::{Clock, Ticks};
use crate::error::{Busy, GetTaskError, NotScheduled, ScheduleError};
use crate::queue::TaskQueue;
use crate::scheduler::Scheduler;
use crate::subject::Subject;
#[cfg(feature = "periodic")]
use crate::task::MissedTickBehavior;
use crate::task::{QueueId, Task, TaskId, When};

/// One step of the shared schedulers' `run_pending`, under one lock hold:
/// delivers at most one due task ([`Scheduler::run_pending_max`]`(1)`) and
/// returns how many entered their queues, whether another is due in this
/// run, and the run's clock reading and tie order (taken at the first
/// step, when `None`).
///
/// The run ends at the reading it started with: a periodic task whose
/// period is shorter than a step would otherwise keep it going forever.
/// A deadline of [`Ticks::MAX`] counts only for the tasks scheduled before
/// the run began: a clock that reads it gets every task due there in one
/// run, and a periodic task saturated there one occurrence per run, not an
/// endless run.
fn run_pending_step<C, Q, S, P, const N: usize, const QN: usize>(
    s: &mut Scheduler<C, Q, S, P, N, QN>,
    run: Option<(Ticks, u64)>,
) -> (usize, bool, (Ticks, u64))
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    #[cfg(feature = "periodic")]
    let (until, mark) = run.unwrap_or_else(|| (s.now(), s.last_order()));
    #[cfg(not(feature = "periodic"))]
    let (until, mark) = run.unwrap_or_else(|| (s.now(), u64::MAX));
    let n = s.run_pending_max(1);
    (n, s.due_in_pass(until, mark), (until, mark))
}

/// A [`Scheduler`] shared through critical sections: between interrupt
/// handlers and the main loop, from a `static`.
///
/// Every method runs one critical section (`critical_section::with`). The
/// scheduler is borrowed for the length of the call; using the same
/// `CsScheduler` again inside (from a [`with`](Self::with) closure or a
/// hand-back callback) is refused with [`Busy`], never a panic.
///
/// See the [module docs](crate::sync) for the time spent with interrupts
/// off: O(log N) per operation, never a scan.
///
/// # Examples
///
/// ```
/// use tardy::{CsScheduler, FnClock, HeaplessQueue, Task, When};
///
/// type Ctx = Task<u8, u32>;
/// fn ticks() -> u64 { 100 } // read the hardware counter here
///
/// static SCHED: CsScheduler<FnClock<fn() -> u64>, HeaplessQueue<Ctx, 4>, u8, u32, 8, 2> =
///     CsScheduler::new(FnClock(ticks));
///
/// // main loop, once:
/// let q = SCHED.with(|s| s.add_queue("work", 0)).unwrap().unwrap();
/// // an interrupt handler:
/// SCHED.schedule(Task::new(q, 1, 42), When::At(50)).unwrap().unwrap();
/// // main loop:
/// assert_eq!(SCHED.run_pending(), Ok(1));
/// let task = SCHED.get_task(q).unwrap().unwrap();
/// assert_eq!(task.payload(), &42);
/// assert_eq!(SCHED.next_deadline(), Ok(None));
/// ```
#[cfg(feature = "critical-section")]
#[cfg_attr(docsrs, doc(cfg(feature = "critical-section")))]
pub struct CsScheduler<C, Q, S, P, const N: usize, const QN: usize> {
    inner: critical_section::Mutex<RefCell<Scheduler<C, Q, S, P, N, QN>>>,
    /// The wakers of the futures (feature `async`; empty without it).
    wakers: Wakers<QN>,
}

#[cfg(feature = "critical-section")]
impl<C, Q, S, P, const N: usize, const QN: usize> CsScheduler<C, Q, S, P, N, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    /// An empty shared scheduler reading `clock`; `const`, for a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, FnClock, HeaplessQueue, Task};
    ///
    /// fn ticks() -> u64 { 0 } // read the hardware timer here
    /// static SCHED: CsScheduler<FnClock<fn() -> u64>, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     CsScheduler::new(FnClock(ticks));
    /// assert_eq!(SCHED.len(), Ok(0));
    /// ```
    pub const fn new(clock: C) -> Self {
        Self::from_scheduler(Scheduler::new(clock))
    }

    /// Shares an existing scheduler.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("work", 0)?; // set up before sharing
    /// let shared = CsScheduler::from_scheduler(s);
    /// assert_eq!(shared.with(|s| s.queue_name(q).map(str::len))?, Some(4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn from_scheduler(scheduler: Scheduler<C, Q, S, P, N, QN>) -> Self {
        Self {
            inner: critical_section::Mutex::new(RefCell::new(scheduler)),
            wakers: Wakers::new(),
        }
    }

    /// Runs `f` on the scheduler inside one critical section and returns
    /// what it returns.
    ///
    /// With the `async` feature, what `f` did wakes the waiting futures
    /// after the critical section, as the methods do: the `drive` future if
    /// the earliest deadline became earlier, and the `get_task_async`
    /// future of every queue that holds tasks or was removed (O(QN) more
    /// per call).
    ///
    /// # Errors
    ///
    /// [`Busy`] when called from inside another `with` on the same
    /// scheduler (or from a callback such a call runs); `f` is not run.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task};
    ///
    /// let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     CsScheduler::new(ManualClock::new(0));
    /// let q = s.with(|s| s.add_queue("work", 0))??;
    /// assert!(s.with(|_| s.len()).is_ok_and(|inner| inner.is_err())); // nested: Busy
    /// assert_eq!(s.with(|s| s.stats(q).map(|st| st.queued))??, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with<R>(
        &self,
        f: impl FnOnce(&mut Scheduler<C, Q, S, P, N, QN>) -> R,
    ) -> Result<R, Busy> {
        let mut wake = Wake::NONE;
        let r = self.with_quiet(|s| {
            let before = Before::read(s);
            let r = f(s);
            wake.earlier(before, s);
            wake.held(s);
            r
        })?;
        self.wakers.wake(&wake);
        Ok(r)
    }

    /// [`with`](Self::with) without waking anyone: for operations that
    /// cannot make a deadline earlier or put a task in a queue, and for the
    /// methods that work out what to wake themselves.
    fn with_quiet<R>(
        &self,
        f: impl FnOnce(&mut Scheduler<C, Q, S, P, N, QN>) -> R,
    ) -> Result<R, Busy> {
        critical_section::with(|cs| {
            let mut guard = self
                .inner
                .borrow(cs)
                .try_borrow_mut()
                .map_err(|_| Busy(()))?;
            Ok(f(&mut guard))
        })
    }

    /// The scheduler, without a critical section: `&mut self` proves no one
    /// else can reach it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task};
    ///
    /// let mut s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     CsScheduler::new(ManualClock::new(0));
    /// s.get_mut().add_queue("work", 0)?; // no critical section needed
    /// assert!(s.with(|s| s.queue_id("work").is_ok())?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut Scheduler<C, Q, S, P, N, QN> {
        self.inner.get_mut().get_mut()
    }

    /// The scheduler, unshared.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task};
    ///
    /// let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     CsScheduler::new(ManualClock::new(0));
    /// s.with(|s| s.add_queue("work", 0))??;
    /// let mut unshared = s.into_inner();
    /// assert!(unshared.queue_id("work").is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> Scheduler<C, Q, S, P, N, QN> {
        self.inner.into_inner().into_inner()
    }

    /// [`Scheduler::schedule`] in a critical section.
    ///
    /// # Errors
    ///
    /// The outer [`Busy`] holds the task when the scheduler is already
    /// borrowed; the inner error is the scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    ///
    /// let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     CsScheduler::new(ManualClock::new(0));
    /// let q = s.with(|s| s.add_queue("work", 0))??;
    /// // Busy (outer) and ScheduleError (inner) both hold the task, handed back.
    /// let id = s.schedule(Task::new(q, 1, ()), When::After(10))??;
    /// assert_eq!(s.with(|s| s.is_scheduled(id))?, true);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn schedule(
        &self,
        task: Task<S, P>,
        when: When,
    ) -> Result<Result<TaskId, ScheduleError<Task<S, P>>>, Busy<Task<S, P>>> {
        let mut wake = Wake::NONE;
        let queue = task.queue();
        let r = critical_section::with(|cs| match self.inner.borrow(cs).try_borrow_mut() {
            Ok(mut s) => {
                let before = Before::read(&s);
                let r = s.schedule(task, when);
                if r.is_ok() {
                    if when == When::Now {
                        wake.queue(queue);
                    } else {
                        wake.earlier(before, &s);
                    }
                }
                Ok(r)
            }
            Err(_) => Err(Busy(task)),
        });
        self.wakers.wake(&wake);
        r
    }

    /// [`Scheduler::schedule_periodic`] in a critical section: a periodic
    /// task, whose handle stays valid across periods. With the `async`
    /// feature each occurrence wakes its queue's future like any task
    /// entering a queue, and an earlier first deadline wakes the driver.
    ///
    /// # Errors
    ///
    /// The outer [`Busy`] holds the task when the scheduler is already
    /// borrowed; the inner error is the scheduler's (with
    /// [`ScheduleError::ZeroPeriod`] for a period of 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, FnClock, HeaplessQueue, MissedTickBehavior, Task, When};
    ///
    /// type Ctx = Task<u8, u32>;
    /// fn ticks() -> u64 { 100 } // read the hardware counter here
    ///
    /// static SCHED: CsScheduler<FnClock<fn() -> u64>, HeaplessQueue<Ctx, 4>, u8, u32, 8, 2> =
    ///     CsScheduler::new(FnClock(ticks));
    ///
    /// let q = SCHED.with(|s| s.add_queue("sample", 0)).unwrap().unwrap();
    /// let id = SCHED
    ///     .schedule_periodic(Task::new(q, 1, 7), When::At(100), 10, MissedTickBehavior::Skip)
    ///     .unwrap()
    ///     .unwrap();
    /// assert_eq!(SCHED.run_pending(), Ok(1));
    /// let sample = SCHED.get_task(q).unwrap().unwrap();
    /// assert_eq!(sample.period().map(|p| p.index), Some(0));
    /// assert_eq!(SCHED.next_deadline(), Ok(Some(110)));
    /// assert_eq!(SCHED.cancel(id).unwrap().unwrap().into_payload(), 7);
    /// ```
    #[cfg(feature = "periodic")]
    #[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
    #[allow(clippy::type_complexity)]
    pub fn schedule_periodic(
        &self,
        task: Task<S, P>,
        first: When,
        period: Ticks,
        missed: MissedTickBehavior,
    ) -> Result<Result<TaskId, ScheduleError<Task<S, P>>>, Busy<Task<S, P>>>
    where
        S: Clone,
        P: Clone,
    {
        let mut wake = Wake::NONE;
        let r = critical_section::with(|cs| match self.inner.borrow(cs).try_borrow_mut() {
            Ok(mut s) => {
                let before = Before::read(&s);
                let r = s.schedule_periodic(task, first, period, missed);
                if r.is_ok() {
                    wake.earlier(before, &s);
                }
                Ok(r)
            }
            Err(_) => Err(Busy(task)),
        });
        self.wakers.wake(&wake);
        r
    }

    /// [`Scheduler::reschedule`] in a critical section.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the scheduler is already borrowed; the inner error is
    /// the scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    /// # let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     CsScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))??;
    /// let id = s.schedule(Task::new(q, 1, ()), When::At(100))??;
    /// assert_eq!(s.reschedule(id, When::At(50))??, 50);
    /// assert_eq!(s.next_deadline()?, Some(50));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reschedule(&self, id: TaskId, when: When) -> Result<Result<Ticks, NotScheduled>, Busy> {
        let mut wake = Wake::NONE;
        let r = self.with_quiet(|s| {
            let before = Before::read(s);
            let r = s.reschedule(id, when);
            wake.earlier(before, s);
            if when == When::Now {
                wake.held(s);
            }
            r
        })?;
        self.wakers.wake(&wake);
        Ok(r)
    }

    /// [`Scheduler::cancel`] in a critical section.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the scheduler is already borrowed; the inner error is
    /// the scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    /// # let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     CsScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))??;
    /// let id = s.schedule(Task::new(q, 7, ()), When::At(100))??;
    /// let task = s.cancel(id)??; // handed back
    /// assert_eq!(task.subject(), &7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&self, id: TaskId) -> Result<Result<Task<S, P>, NotScheduled>, Busy> {
        self.with_quiet(|s| s.cancel(id))
    }

    /// [`Scheduler::get_task`] in a critical section. With `async`, a
    /// periodic task re-armed by the room it makes (its occurrence waited
    /// for room) wakes the `drive` future when its next deadline is
    /// earlier than the earliest before.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the scheduler is already borrowed; the inner error is
    /// the scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    /// # let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     CsScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))??;
    /// s.schedule(Task::new(q, 7, ()), When::Now)??;
    /// let task = s.get_task(q)??;
    /// assert_eq!(task.subject(), &7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_task(&self, queue: QueueId) -> Result<Result<Task<S, P>, GetTaskError>, Busy> {
        let mut wake = Wake::NONE;
        let taken = self.with_quiet(|s| {
            let before = Before::read(s);
            let taken = s.get_task(queue);
            wake.earlier(before, s);
            taken
        })?;
        self.wakers.wake(&wake);
        Ok(taken)
    }

    /// Delivers every due task like [`Scheduler::run_pending`], one task
    /// per critical section ([`Scheduler::run_pending_max`]`(1)`), so
    /// interrupts are off for O(log N + QN) at a time however many tasks
    /// are due. Returns how many entered their queues. It delivers the
    /// tasks due at the clock's reading when it starts (a periodic task
    /// whose next occurrence falls due while it runs is delivered at the
    /// next call).
    ///
    /// # Errors
    ///
    /// [`Busy`] when the scheduler is already borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    ///
    /// let clock = ManualClock::new(0);
    /// let s: CsScheduler<&ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     CsScheduler::new(&clock);
    /// let q = s.with(|s| s.add_queue("work", 0))??;
    /// s.schedule(Task::new(q, 1, ()), When::At(10))??;
    /// clock.set(10); // e.g. in the timer interrupt:
    /// assert_eq!(s.run_pending()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_pending(&self) -> Result<usize, Busy> {
        let (mut moved, mut until) = (0, None);
        loop {
            let (n, more, at) = self.with_quiet(|s| run_pending_step(s, until))?;
            (moved, until) = (moved + n, Some(at));
            if !more {
                break;
            }
        }
        if moved > 0 && cfg!(feature = "async") {
            let mut wake = Wake::NONE;
            self.with_quiet(|s| wake.held(s))?;
            self.wakers.wake(&wake);
        }
        Ok(moved)
    }

    /// [`Scheduler::next_deadline`] in a critical section.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the scheduler is already borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    /// # let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     CsScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))??;
    /// assert_eq!(s.next_deadline()?, None);
    /// s.schedule(Task::new(q, 1, ()), When::At(10))??;
    /// assert_eq!(s.next_deadline()?, Some(10)); // program the timer compare for it
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_deadline(&self) -> Result<Option<Ticks>, Busy> {
        self.with_quiet(|s| s.next_deadline())
    }

    /// [`Scheduler::len`] in a critical section.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the scheduler is already borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    /// # let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     CsScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))??;
    /// s.schedule(Task::new(q, 1, ()), When::At(10))??;
    /// assert_eq!(s.len()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> Result<usize, Busy> {
        self.with_quiet(|s| s.len())
    }

    /// [`Scheduler::is_empty`] in a critical section.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the scheduler is already borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{CsScheduler, HeaplessQueue, ManualClock, Task, When};
    /// # let s: CsScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     CsScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))??;
    /// assert!(s.is_empty()?);
    /// s.schedule(Task::new(q, 1, ()), When::At(10))??;
    /// assert!(!s.is_empty()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, Busy> {
        self.with_quiet(|s| s.is_empty())
    }
}

#[cfg(feature = "critical-section")]
impl<C, Q, S, P, const N: usize, const QN: usize> core::fmt::Debug
    for CsScheduler<C, Q, S, P, N, QN>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CsScheduler").finish_non_exhaustive()
    }
}

/// A [`Scheduler`] shared between cores through a spin lock, from a
/// `static`, without an OS.
///
/// [`with`](Self::with) spins until the lock is free. Interrupts stay on
/// while it is held, so do not use one `SpinScheduler` from an interrupt
/// handler and from code it interrupts on the same core: use
/// [`CsScheduler`] with a multi-core critical-section implementation for
/// that. A nested `with` on the same scheduler would spin forever;
/// [`try_with`](Self::try_with) never spins.
///
/// The time the lock is held is that of one operation: O(log N), never a
/// scan (see the [module docs](crate::sync)).
///
/// # Examples
///
/// ```
/// use tardy::{FnClock, HeaplessQueue, SpinScheduler, Task, When};
///
/// type Ctx = Task<u8, ()>;
/// fn ticks() -> u64 { 10 }
/// static SCHED: SpinScheduler<FnClock<fn() -> u64>, HeaplessQueue<Ctx, 4>, u8, (), 8, 2> =
///     SpinScheduler::new(FnClock(ticks));
///
/// let q = SCHED.with(|s| s.add_queue("core1", 0)).unwrap();
/// SCHED.schedule(Task::new(q, 3, ()), When::Now).unwrap();
/// assert_eq!(SCHED.get_task(q).unwrap().subject(), &3);
/// ```
#[cfg(feature = "spin")]
#[cfg_attr(docsrs, doc(cfg(feature = "spin")))]
pub struct SpinScheduler<C, Q, S, P, const N: usize, const QN: usize> {
    inner: spin::mutex::SpinMutex<Scheduler<C, Q, S, P, N, QN>>,
}

#[cfg(feature = "spin")]
impl<C, Q, S, P, const N: usize, const QN: usize> SpinScheduler<C, Q, S, P, N, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    /// An empty shared scheduler reading `clock`; `const`, for a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{FnClock, HeaplessQueue, SpinScheduler, Task};
    ///
    /// fn ticks() -> u64 { 0 } // read the hardware timer here
    /// static SCHED: SpinScheduler<FnClock<fn() -> u64>, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(FnClock(ticks));
    /// assert!(SCHED.is_empty());
    /// ```
    pub const fn new(clock: C) -> Self {
        Self::from_scheduler(Scheduler::new(clock))
    }

    /// Shares an existing scheduler.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, SpinScheduler, Task};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("work", 0)?; // set up before sharing
    /// let shared = SpinScheduler::from_scheduler(s);
    /// assert_eq!(shared.with(|s| s.queue_name(q).map(str::len)), Some(4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn from_scheduler(scheduler: Scheduler<C, Q, S, P, N, QN>) -> Self {
        Self {
            inner: spin::mutex::SpinMutex::new(scheduler),
        }
    }

    /// Runs `f` on the scheduler with the lock held, spinning until it is
    /// free.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task};
    ///
    /// let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(ManualClock::new(0));
    /// let q = s.with(|s| s.add_queue("work", 0))?;
    /// assert_eq!(s.with(|s| s.stats(q))?.queued, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&mut Scheduler<C, Q, S, P, N, QN>) -> R) -> R {
        f(&mut self.inner.lock())
    }

    /// Runs `f` on the scheduler if the lock is free now.
    ///
    /// # Errors
    ///
    /// [`Busy`] when another core (or an enclosing `with`) holds the lock;
    /// `f` is not run.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task};
    ///
    /// let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(ManualClock::new(0));
    /// assert_eq!(s.try_with(|s| s.len()), Ok(0));
    /// s.with(|_| assert!(s.try_with(|s| s.len()).is_err())); // held: Busy, no spinning
    /// ```
    pub fn try_with<R>(
        &self,
        f: impl FnOnce(&mut Scheduler<C, Q, S, P, N, QN>) -> R,
    ) -> Result<R, Busy> {
        let mut guard = self.inner.try_lock().ok_or(Busy(()))?;
        Ok(f(&mut guard))
    }

    /// The scheduler, without locking: `&mut self` proves no one else can
    /// reach it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task};
    ///
    /// let mut s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(ManualClock::new(0));
    /// s.get_mut().add_queue("work", 0)?; // no locking needed
    /// assert!(s.with(|s| s.queue_id("work").is_ok()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut Scheduler<C, Q, S, P, N, QN> {
        self.inner.get_mut()
    }

    /// The scheduler, unshared.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task};
    ///
    /// let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(ManualClock::new(0));
    /// s.with(|s| s.add_queue("work", 0))?;
    /// let unshared = s.into_inner();
    /// assert!(unshared.queue_id("work").is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> Scheduler<C, Q, S, P, N, QN> {
        self.inner.into_inner()
    }

    /// [`Scheduler::schedule`] with the lock held.
    ///
    /// # Errors
    ///
    /// The scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    ///
    /// let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(ManualClock::new(0));
    /// let q = s.with(|s| s.add_queue("work", 0))?;
    /// let id = s.schedule(Task::new(q, 1, ()), When::After(10))?;
    /// assert!(s.with(|s| s.is_scheduled(id)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule(
        &self,
        task: Task<S, P>,
        when: When,
    ) -> Result<TaskId, ScheduleError<Task<S, P>>> {
        self.with(|s| s.schedule(task, when))
    }

    /// [`Scheduler::schedule_periodic`] with the lock held.
    ///
    /// # Errors
    ///
    /// The scheduler's (with [`ScheduleError::ZeroPeriod`] for a period of
    /// 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, MissedTickBehavior, SpinScheduler, Task, When};
    ///
    /// let clock = ManualClock::new(0);
    /// let s: SpinScheduler<&ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(&clock);
    /// let q = s.with(|s| s.add_queue("sample", 0))?;
    /// let id = s.schedule_periodic(Task::new(q, 1, ()), When::At(10), 10, MissedTickBehavior::Skip)?;
    /// clock.set(10);
    /// assert_eq!(s.run_pending(), 1);
    /// assert_eq!(s.get_task(q)?.period().map(|p| p.index), Some(0));
    /// assert_eq!(s.next_deadline(), Some(20));
    /// assert_eq!(s.cancel(id)?.subject(), &1); // the periodic task, handed back
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "periodic")]
    #[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
    pub fn schedule_periodic(
        &self,
        task: Task<S, P>,
        first: When,
        period: Ticks,
        missed: MissedTickBehavior,
    ) -> Result<TaskId, ScheduleError<Task<S, P>>>
    where
        S: Clone,
        P: Clone,
    {
        self.with(|s| s.schedule_periodic(task, first, period, missed))
    }

    /// [`Scheduler::reschedule`] with the lock held.
    ///
    /// # Errors
    ///
    /// The scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    /// # let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     SpinScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))?;
    /// let id = s.schedule(Task::new(q, 1, ()), When::At(100))?;
    /// assert_eq!(s.reschedule(id, When::At(50))?, 50);
    /// assert_eq!(s.next_deadline(), Some(50));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reschedule(&self, id: TaskId, when: When) -> Result<Ticks, NotScheduled> {
        self.with(|s| s.reschedule(id, when))
    }

    /// [`Scheduler::cancel`] with the lock held.
    ///
    /// # Errors
    ///
    /// The scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    /// # let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     SpinScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))?;
    /// let id = s.schedule(Task::new(q, 7, ()), When::At(100))?;
    /// assert_eq!(s.cancel(id)?.subject(), &7); // handed back
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&self, id: TaskId) -> Result<Task<S, P>, NotScheduled> {
        self.with(|s| s.cancel(id))
    }

    /// [`Scheduler::get_task`] with the lock held.
    ///
    /// # Errors
    ///
    /// The scheduler's.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    /// # let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     SpinScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))?;
    /// s.schedule(Task::new(q, 7, ()), When::Now)?;
    /// assert_eq!(s.get_task(q)?.subject(), &7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_task(&self, queue: QueueId) -> Result<Task<S, P>, GetTaskError> {
        self.with(|s| s.get_task(queue))
    }

    /// Delivers every due task like [`Scheduler::run_pending`], taking the
    /// lock once per task ([`Scheduler::run_pending_max`]`(1)`), so other
    /// cores wait O(log N + QN) at most. Returns how many entered their
    /// queues. It delivers the tasks due at the clock's reading when it
    /// starts.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    ///
    /// let clock = ManualClock::new(0);
    /// let s: SpinScheduler<&ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     SpinScheduler::new(&clock);
    /// let q = s.with(|s| s.add_queue("work", 0))?;
    /// s.schedule(Task::new(q, 1, ()), When::At(10))?;
    /// clock.set(10);
    /// assert_eq!(s.run_pending(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_pending(&self) -> usize {
        let (mut moved, mut until) = (0, None);
        loop {
            let (n, more, at) = self.with(|s| run_pending_step(s, until));
            (moved, until) = (moved + n, Some(at));
            if !more {
                return moved;
            }
        }
    }

    /// [`Scheduler::next_deadline`] with the lock held.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    /// # let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     SpinScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))?;
    /// assert_eq!(s.next_deadline(), None);
    /// s.schedule(Task::new(q, 1, ()), When::At(10))?;
    /// assert_eq!(s.next_deadline(), Some(10));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_deadline(&self) -> Option<Ticks> {
        self.with(|s| s.next_deadline())
    }

    /// [`Scheduler::len`] with the lock held.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    /// # let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     SpinScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))?;
    /// s.schedule(Task::new(q, 1, ()), When::At(10))?;
    /// assert_eq!(s.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.with(|s| s.len())
    }

    /// [`Scheduler::is_empty`] with the lock held.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, SpinScheduler, Task, When};
    /// # let s: SpinScheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    /// #     SpinScheduler::new(ManualClock::new(0));
    /// # let q = s.with(|s| s.add_queue("work", 0))?;
    /// assert!(s.is_empty());
    /// s.schedule(Task::new(q, 1, ()), When::At(10))?;
    /// assert!(!s.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.with(|s| s.is_empty())
    }
}

#[cfg(feature = "spin")]
impl<C, Q, S, P, const N: usize, const QN: usize> core::fmt::Debug
    for SpinScheduler<C, Q, S, P, N, QN>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SpinScheduler").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "critical-section")]
    mod cs {
        use crate::{Busy, CsScheduler, GetTaskError, HeaplessQueue, Task, When};
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::vec::Vec;

        type Ctx = Task<u8, u32>;
        type Clk = crate::FnClock<fn() -> u64>;
        type Shared = CsScheduler<Clk, HeaplessQueue<Ctx, 4>, u8, u32, 8, 2>;

        static NOW: AtomicU64 = AtomicU64::new(0);
        fn now() -> u64 {
            NOW.load(Ordering::Relaxed)
        }
        static SHARED: Shared = CsScheduler::new(crate::FnClock(now));

        #[test]
        fn static_scheduler_delivers_in_order_and_refuses_nesting() {
            let q = SHARED.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
            SHARED
                .schedule(Task::new(q, 2, 20), When::At(20))
                .unwrap()
                .unwrap();
            let id = SHARED
                .schedule(Task::new(q, 1, 10), When::At(10))
                .unwrap()
                .unwrap();
            SHARED
                .schedule(Task::new(q, 3, 30), When::At(30))
                .unwrap()
                .unwrap();
            assert_eq!(SHARED.len(), Ok(3));
            assert_eq!(SHARED.is_empty(), Ok(false));
            assert_eq!(SHARED.next_deadline(), Ok(Some(10)));
            // nested use is refused and hands the value back
            let nested = SHARED.with(|_| SHARED.schedule(Task::new(q, 9, 99), When::Now));
            let busy = nested.unwrap().unwrap_err();
            assert_eq!(busy.into_inner().payload(), &99);
            assert_eq!(SHARED.with(|_| SHARED.run_pending()), Ok(Err(Busy(()))));
            let cancelled = SHARED.cancel(id).unwrap().unwrap();
            assert_eq!(cancelled.payload(), &10);
            assert!(SHARED.cancel(id).unwrap().is_err(), "stale handle");
            NOW.store(25, Ordering::Relaxed);
            assert_eq!(SHARED.run_pending(), Ok(1));
            assert_eq!(SHARED.get_task(q).unwrap().unwrap().payload(), &20);
            assert_eq!(SHARED.get_task(q), Ok(Err(GetTaskError::Empty)));
            assert_eq!(SHARED.next_deadline(), Ok(Some(30)));
        }

        #[test]
        fn interrupt_like_contexts_share_one_scheduler() {
            // Threads stand in for interrupt handlers: the std
            // critical-section implementation serialises them.
            type Wide = CsScheduler<Clk, HeaplessQueue<Ctx, 64>, u8, u32, 64, 2>;
            static S2: Wide = CsScheduler::new(crate::FnClock(|| 0));
            let q = S2.with(|s| s.add_queue("isr", 0)).unwrap().unwrap();
            let handles: Vec<_> = (0..4u8)
                .map(|t| {
                    std::thread::spawn(move || {
                        for i in 0..16u32 {
                            S2.schedule(Task::new(q, t, i), When::At(u64::from(i)))
                                .unwrap()
                                .unwrap();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            assert_eq!(S2.len(), Ok(64));
            assert_eq!(S2.with(|s| s.run_all()), Ok(64));
            let mut last = 0;
            let mut per_thread = [0u32; 4];
            while let Ok(Ok(t)) = S2.get_task(q) {
                assert!(t.deadline() >= last, "deadline order");
                last = t.deadline();
                // each thread's tasks arrive in its own order
                assert_eq!(*t.payload(), per_thread[usize::from(*t.subject())]);
                per_thread[usize::from(*t.subject())] += 1;
            }
            assert_eq!(per_thread, [16; 4]);
        }
    }

    /// `run_pending_max` takes at most `max` due tasks per call, in order,
    /// including ones that go to wait for room, and the shared schedulers'
    /// `run_pending` loops on it until nothing due is left.
    #[cfg(feature = "critical-section")]
    mod stepping {
        use crate::{CsScheduler, HeaplessQueue, ManualClock, Scheduler, Task, When};
        use std::vec::Vec;

        #[test]
        fn run_pending_max_bounds_each_call_and_keeps_order() {
            let clock = ManualClock::new(0);
            let mut s: Scheduler<&ManualClock, HeaplessQueue<Task<u8, u8>, 8>, u8, u8, 8, 2> =
                Scheduler::new(&clock);
            let q = s.add_queue("q", 0).unwrap();
            let small = s.add_queue("small", 1).unwrap();
            for (i, at) in [(0u8, 5u64), (1, 3), (2, 4), (3, 4), (4, 9)] {
                s.schedule(Task::new(q, i, i), When::At(at)).unwrap();
            }
            s.schedule(Task::new(small, 10, 10), When::At(1)).unwrap();
            s.schedule(Task::new(small, 11, 11), When::At(2)).unwrap();
            clock.set(5);
            assert_eq!(s.run_pending_max(0), 0);
            assert_eq!(s.len(), 7);
            let mut calls = 0;
            let mut moved = 0;
            while s.next_deadline().is_some_and(|d| d <= s.now()) {
                moved += s.run_pending_max(1);
                calls += 1;
            }
            // six tasks were due; one waits for room in `small`
            assert_eq!((calls, moved), (6, 5));
            assert_eq!(s.stats(small).unwrap().waiting, 1);
            let order: Vec<u8> = core::iter::from_fn(|| s.get_task(q).ok())
                .map(|t| *t.payload())
                .collect();
            assert_eq!(order, [1, 2, 3, 0]);
            assert_eq!(s.next_deadline(), Some(9));
        }

        #[test]
        fn cs_run_pending_delivers_everything_due_one_at_a_time() {
            static NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            fn now() -> u64 {
                NOW.load(std::sync::atomic::Ordering::Relaxed)
            }
            type Shared = CsScheduler<
                crate::FnClock<fn() -> u64>,
                HeaplessQueue<Task<u8, u8>, 16>,
                u8,
                u8,
                16,
                2,
            >;
            static S: Shared = CsScheduler::new(crate::FnClock(now));
            let q = S.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
            for i in 0..10u8 {
                S.schedule(Task::new(q, i, i), When::At(u64::from(10 - i)))
                    .unwrap()
                    .unwrap();
            }
            NOW.store(6, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(S.run_pending(), Ok(6)); // deadlines 1..=6
            assert_eq!(S.next_deadline(), Ok(Some(7)));
            let first = S.get_task(q).unwrap().unwrap();
            assert_eq!(first.deadline(), 1);
        }

        #[cfg(feature = "periodic")]
        #[test]
        fn cs_run_pending_catches_up_a_periodic_task_and_ends() {
            use crate::MissedTickBehavior::Burst;
            static NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            fn now() -> u64 {
                NOW.load(std::sync::atomic::Ordering::Relaxed)
            }
            type Shared = CsScheduler<
                crate::FnClock<fn() -> u64>,
                HeaplessQueue<Task<u8, u8>, 16>,
                u8,
                u8,
                4,
                2,
            >;
            static S: Shared = CsScheduler::new(crate::FnClock(now));
            let q = S.with(|s| s.add_queue("q", 0)).unwrap().unwrap();
            let nested = S.with(|_| S.schedule_periodic(Task::new(q, 1, 1), When::Now, 1, Burst));
            assert_eq!(nested.unwrap().unwrap_err().into_inner().payload(), &1);
            S.schedule_periodic(Task::new(q, 1, 1), When::At(0), 10, Burst)
                .unwrap()
                .unwrap();
            // Burst: periods 0..=5 due at 55, one occurrence per step.
            NOW.store(55, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(S.run_pending(), Ok(6));
            assert_eq!(S.next_deadline(), Ok(Some(60)));
            let indexes: Vec<u64> = core::iter::from_fn(|| S.get_task(q).unwrap().ok())
                .map(|t| t.period().unwrap().index)
                .collect();
            assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
            // At the end of time a periodic task is due at every step: the
            // run ends anyway.
            NOW.store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
            assert!(S.run_pending().unwrap() >= 1);
            assert_eq!(S.len(), Ok(1));
        }
    }

    #[cfg(feature = "spin")]
    mod spin_lock {
        use crate::{Busy, FnClock, HeaplessQueue, SpinScheduler, Task, When};

        type Ctx = Task<u8, ()>;
        type Shared = SpinScheduler<FnClock<fn() -> u64>, HeaplessQueue<Ctx, 4>, u8, (), 4, 2>;
        static SPIN: Shared = SpinScheduler::new(FnClock(|| 5));

        #[test]
        fn every_task_due_at_the_end_of_time_is_delivered_by_one_run_pending() {
            type End = SpinScheduler<FnClock<fn() -> u64>, HeaplessQueue<Ctx, 16>, u8, (), 16, 2>;
            static END: End = SpinScheduler::new(FnClock(|| u64::MAX));
            let q = END.with(|s| s.add_queue("q", 0)).unwrap();
            for subject in 0..9 {
                END.schedule(Task::new(q, subject, ()), When::At(u64::MAX))
                    .unwrap();
            }
            #[cfg(feature = "periodic")]
            END.schedule_periodic(
                Task::new(q, 9, ()),
                When::At(u64::MAX),
                5,
                crate::MissedTickBehavior::Burst,
            )
            .unwrap();
            let periodic = usize::from(cfg!(feature = "periodic"));
            assert_eq!(END.run_pending(), 9 + periodic, "one step each, one run");
            assert_eq!(END.len(), periodic, "a periodic task stays");
            assert_eq!(END.run_pending(), periodic, "its next occurrence, once");
        }

        #[test]
        fn spin_scheduler_locks_and_try_with_refuses_nesting() {
            let q = SPIN.with(|s| s.add_queue("q", 0)).unwrap();
            let id = SPIN.schedule(Task::new(q, 1, ()), When::At(9)).unwrap();
            assert_eq!(SPIN.next_deadline(), Some(9));
            assert_eq!(SPIN.with(|_| SPIN.try_with(|s| s.len())), Err(Busy(())));
            SPIN.reschedule(id, When::At(4)).unwrap();
            assert_eq!(SPIN.run_pending(), 1);
            assert_eq!(SPIN.get_task(q).unwrap().deadline(), 4);
            assert!(SPIN.cancel(id).is_err());
            assert_eq!(SPIN.len(), 0);
            assert!(SPIN.is_empty());
        }

        #[cfg(feature = "periodic")]
        #[test]
        fn spin_scheduler_schedules_periodic_tasks() {
            type Periodic =
                SpinScheduler<FnClock<fn() -> u64>, HeaplessQueue<Ctx, 4>, u8, (), 4, 2>;
            static P: Periodic = SpinScheduler::new(FnClock(|| 25));
            let q = P.with(|s| s.add_queue("q", 0)).unwrap();
            let skip = crate::MissedTickBehavior::Skip;
            let e = P.schedule_periodic(Task::new(q, 1, ()), When::At(0), 0, skip);
            assert!(matches!(e, Err(crate::ScheduleError::ZeroPeriod(_))));
            let id = P
                .schedule_periodic(Task::new(q, 1, ()), When::At(0), 10, skip)
                .unwrap();
            // due at 0, delivered at 25: periods 1 and 2 coalesced
            assert_eq!(P.run_pending(), 1);
            let p = P.get_task(q).unwrap().period().unwrap();
            assert_eq!((p.index, p.missed), (0, 2));
            assert_eq!(P.next_deadline(), Some(30));
            assert_eq!(P.len(), 1);
            assert_eq!(P.cancel(id).unwrap().subject(), &1);
        }
    }
}
