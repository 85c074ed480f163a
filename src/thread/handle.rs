//! [`SchedulerHandle`]: what every thread uses to schedule, cancel, manage
//! queues and take tasks.

use core::fmt;
use std::sync::PoisonError;
use std::time::{Duration, Instant, SystemTime};
use std::vec::Vec;

use super::clock::MonotonicClock;
use super::error::{
    CancelError, DoneError, Halted, NewQueueError, QueueError, SubmitError, TakeError,
};
use super::loom::{Arc, MutexGuard};
use super::options::{Wait, DEFAULT_QUEUES};
use super::wakeup::{queue_index, Core, Lead, Phase, Shared, State, Wake, BATCH_MAX};
use crate::clock::{Clock, Ticks};
use crate::error::{GetTaskError, ScheduleError};
use crate::scheduler::QueueStats;
use crate::subject::Subject;
#[cfg(feature = "periodic")]
use crate::task::MissedTickBehavior;
use crate::task::{QueueId, ScheduledTask, Task, TaskId, When};

/// A cloneable, `Send + Sync` handle to a [`SchedulerThread`](crate::SchedulerThread): schedule,
/// cancel, manage queues and take tasks, from any thread at once.
///
/// Every method takes the scheduler's lock for an O(log n) step (O(k log n)
/// for the k tasks of [`cancel_by_subject`](Self::cancel_by_subject) and
/// [`remove_queue`](Self::remove_queue)); only
/// [`get_task`](Self::get_task) and [`join`](Self::join) wait, and they wait
/// on condition variables, without holding the lock. Once the scheduler is
/// stopped, every method answers `Stopped` (in its error type); once its
/// thread failed ([`Halted::Failed`]), `Failed`.
///
/// # Retrying
///
/// A worker that took a task owns it, and puts it back by scheduling it
/// again, for example with [`schedule_after`](Self::schedule_after) and a
/// back-off: the task's [`attempt`](Task::attempt) count grows by one with
/// each scheduling. This is `ctx.reschedule(time)` of the Python scheduler
/// tardy re-implements.
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct SchedulerHandle<S, P, C = MonotonicClock, const QN: usize = DEFAULT_QUEUES> {
    pub(super) shared: Arc<Shared<S, P, C, QN>>,
}

impl<S, P, C, const QN: usize> Clone for SchedulerHandle<S, P, C, QN> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, P, C, const QN: usize> fmt::Debug for SchedulerHandle<S, P, C, QN> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerHandle")
            .field("max_queues", &QN)
            .finish_non_exhaustive()
    }
}

impl<S, P, C, const QN: usize> SchedulerHandle<S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    fn submit(
        &self,
        task: Task<S, P>,
        when: impl FnOnce(&C) -> When,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit_with(task, when, Core::schedule_with_deadline)
    }

    /// As [`submit`](Self::submit), scheduling with `schedule` (see
    /// [`submit_locked`](Self::submit_locked)).
    fn submit_with(
        &self,
        task: Task<S, P>,
        when: impl FnOnce(&C) -> When,
        schedule: impl FnOnce(
            &mut Core<S, P, C, QN>,
            Task<S, P>,
            When,
        ) -> Result<(TaskId, Ticks), ScheduleError<Task<S, P>>>,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        let st = match self.shared.lock_open() {
            Ok(st) => st,
            Err(halted) => return Err(SubmitError::halted(halted, task)),
        };
        self.submit_locked(st, task, when, schedule)
    }

    /// As [`schedule`](Self::schedule), with the task made by `make` from
    /// the core under the same lock hold (the C ABI resolves a queue name
    /// this way); `make` is not called when the scheduler is halted.
    #[cfg(feature = "capi")]
    pub(crate) fn schedule_made<E>(
        &self,
        make: impl FnOnce(&Core<S, P, C, QN>) -> Result<Task<S, P>, E>,
        when: When,
    ) -> Result<TaskId, E>
    where
        E: From<SubmitError<Task<S, P>>> + From<Halted>,
    {
        let st = self.shared.lock_open()?;
        let task = make(&st.core)?;
        Ok(self.submit_locked(st, task, |_| when, Core::schedule_with_deadline)?)
    }

    /// As [`schedule_periodic`](Self::schedule_periodic), with the task made
    /// by `make` from the core under the same lock hold (the C ABI resolves
    /// a queue name this way); `make` is not called when the scheduler is
    /// halted.
    #[cfg(all(feature = "capi", feature = "periodic"))]
    #[allow(dead_code)] // for the C ABI's periodic calls
    pub(crate) fn schedule_periodic_made<E>(
        &self,
        make: impl FnOnce(&Core<S, P, C, QN>) -> Result<Task<S, P>, E>,
        first: When,
        period: Ticks,
        missed: MissedTickBehavior,
    ) -> Result<TaskId, E>
    where
        S: Clone,
        P: Clone,
        E: From<SubmitError<Task<S, P>>> + From<Halted>,
    {
        let st = self.shared.lock_open()?;
        let task = make(&st.core)?;
        Ok(
            self.submit_locked(st, task, first_at(first), move |core, task, when| {
                core.schedule_periodic_with_deadline(task, when, period, missed)
            })?,
        )
    }

    /// Schedules `task` with `schedule` on the core at the time `when` gives
    /// for the clock, under the lock hold `st`, and plans the wake-ups: a
    /// task queued at once ([`When::Now`]) wakes a worker of its queue, a
    /// deadline wakes whoever sleeps past it (see [`State::deadline_set`]).
    fn submit_locked(
        &self,
        mut st: MutexGuard<'_, State<S, P, C, QN>>,
        task: Task<S, P>,
        when: impl FnOnce(&C) -> When,
        schedule: impl FnOnce(
            &mut Core<S, P, C, QN>,
            Task<S, P>,
            When,
        ) -> Result<(TaskId, Ticks), ScheduleError<Task<S, P>>>,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        let when = when(st.core.clock());
        let queue = task.queue();
        let (id, deadline) = schedule(&mut st.core, task, when)?;
        let mut wake = Wake::NONE;
        if when == When::Now {
            log_debug!("tardy: task {} queued now", id.get());
            st.ready(queue, &mut wake);
        } else {
            log_debug!("tardy: task {} scheduled at tick {deadline}", id.get());
            st.deadline_set(deadline, &mut wake);
        }
        drop(st);
        self.shared.send(&wake);
        Ok(id)
    }

    /// Schedules `task` for its queue: [`When::Now`] puts it straight into
    /// the queue (waking a waiting worker), [`When::At`] and [`When::After`]
    /// into the schedule. Returns its new handle; its
    /// [`attempt`](Task::attempt) count grows by one.
    ///
    /// # Errors
    ///
    /// The task comes back inside [`SubmitError::UnknownQueue`],
    /// [`SubmitError::QueueFull`] (only with [`When::Now`]: a scheduled task
    /// for a full queue waits instead), [`SubmitError::Capacity`] when the
    /// scheduler holds [`Options::max_capacity`](crate::Options::max_capacity)
    /// tasks or the allocator refused room for one more,
    /// [`SubmitError::Stopped`] or [`SubmitError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait, When};
    ///
    /// let sched: SchedulerThread<u32, &str> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// let id = sched.schedule(Task::new(renew, 42, "example.org"), When::After(3_600_000_000_000))?;
    /// assert!(sched.is_scheduled(id)); // due in an hour (ticks are ns)
    /// sched.schedule(Task::new(renew, 7, "now.example"), When::Now)?;
    /// assert_eq!(sched.get_task(renew, Wait::NoWait)?.subject(), &7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule(
        &self,
        task: Task<S, P>,
        when: When,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit(task, |_| when)
    }

    /// Schedules `task` to repeat: its first occurrence is due at `first`,
    /// then one every `period` ticks of the clock. Returns its handle, valid
    /// across periods until the task is cancelled or handed back.
    ///
    /// Each period delivers one occurrence into the task's queue, which a
    /// worker takes with [`get_task`](Self::get_task) like any task: the
    /// subject and the payload cloned (pass an `Arc` where a clone should be
    /// shared or cheap), its own id, the period's deadline, and
    /// [`Task::period`] saying which period it is and how many later ones
    /// it stands for (see [`Scheduler::schedule_periodic`](crate::Scheduler::schedule_periodic)
    /// for the details and [`MissedTickBehavior`] for the policies). A worker
    /// may schedule an occurrence again (a retry of that period): that is a
    /// one-shot task, and the period goes on undisturbed.
    ///
    /// The periodic task keeps the original and counts as one scheduled
    /// task ([`is_scheduled`](Self::is_scheduled), [`stats`](Self::stats),
    /// [`scheduled_len`](Self::scheduled_len)) until
    /// [`cancel`](Self::cancel), [`cancel_by_subject`](Self::cancel_by_subject),
    /// [`remove_queue`](Self::remove_queue) or
    /// [`stop`](crate::SchedulerThread::stop) hands it back, once, with its
    /// handle as [`Task::id`] and its next deadline.
    /// [`reschedule`](Self::reschedule) moves its next deadline.
    /// [`When::Now`] makes the first occurrence due at the clock's reading:
    /// it goes through the schedule like any due task (so never
    /// [`SubmitError::QueueFull`]). Each period's occurrence for a full
    /// queue waits in order and is never lost.
    ///
    /// # Errors
    ///
    /// The task comes back unchanged inside [`SubmitError::ZeroPeriod`]
    /// when `period` is 0, [`SubmitError::UnknownQueue`],
    /// [`SubmitError::Capacity`], [`SubmitError::Stopped`] or
    /// [`SubmitError::Failed`] (as for [`schedule`](Self::schedule); never
    /// [`SubmitError::QueueFull`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    /// use tardy::{FnClock, MissedTickBehavior, Options, SchedulerThread, Task, Wait, When};
    ///
    /// static NOW: AtomicU64 = AtomicU64::new(0); // a clock set by hand
    /// let sched: SchedulerThread<u32, &str, _> =
    ///     SchedulerThread::new(FnClock(|| NOW.load(SeqCst)), &[("sample", 0)], Options::new())?;
    /// let q = sched.queue_id("sample")?;
    /// let id = sched.schedule_periodic(
    ///     Task::new(q, 1, "sensor"),
    ///     When::At(10),
    ///     10, // ticks
    ///     MissedTickBehavior::Skip,
    /// )?;
    /// NOW.store(35, SeqCst); // the periods at 10, 20 and 30 have passed
    /// sched.run_pending()?;
    /// let sample = sched.get_task(q, Wait::NoWait)?;
    /// let period = sample.period().unwrap();
    /// assert_eq!((sample.deadline(), period.index, period.missed), (10, 0, 2));
    /// assert_eq!(sched.next_deadline()?, Some(40)); // on the grid
    /// assert_eq!(sched.cancel(id)?.into_payload(), "sensor"); // the original, once
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
    ) -> Result<TaskId, SubmitError<Task<S, P>>>
    where
        S: Clone,
        P: Clone,
    {
        self.submit_with(task, first_at(first), move |core, task, when| {
            core.schedule_periodic_with_deadline(task, when, period, missed)
        })
    }

    /// Moves the scheduled task `id` to a new time; it keeps its handle and
    /// attempt count (see [`Scheduler::reschedule`](crate::Scheduler::reschedule)).
    ///
    /// # Errors
    ///
    /// [`CancelError::NotScheduled`] when `id` names no scheduled task,
    /// [`CancelError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// let id = sched.schedule(Task::new(renew, 42, ()), When::At(u64::MAX))?;
    /// sched.reschedule(id, When::At(5_000))?; // same handle, new deadline
    /// assert_eq!(sched.next_deadline()?, Some(5_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reschedule(&self, id: TaskId, when: When) -> Result<(), CancelError> {
        let mut st = self.shared.lock_open()?;
        let deadline = st.core.reschedule(id, when)?;
        log_debug!("tardy: task {} rescheduled at tick {deadline}", id.get());
        let mut wake = Wake::NONE;
        st.deadline_set(deadline, &mut wake);
        drop(st);
        self.shared.send(&wake);
        Ok(())
    }

    /// Cancels the scheduled task `id` and hands it back. A task already in
    /// a queue can no longer be cancelled.
    ///
    /// # Errors
    ///
    /// [`CancelError::NotScheduled`] when `id` names no scheduled task (a
    /// stale handle never cancels another task), [`CancelError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, &str> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// let id = sched.schedule(Task::new(renew, 42, "example.org"), When::At(u64::MAX))?;
    /// let task = sched.cancel(id)?; // handed back
    /// assert_eq!(task.payload(), &"example.org");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&self, id: TaskId) -> Result<Task<S, P>, CancelError> {
        let mut st = self.shared.lock_open()?;
        let task = st.core.cancel(id)?;
        log_debug!("tardy: task {} cancelled", id.get());
        Ok(task)
    }

    /// `true` when `id` names a scheduled task (false once stopped).
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// let id = sched.schedule(Task::new(renew, 42, ()), When::At(u64::MAX))?;
    /// assert!(sched.is_scheduled(id));
    /// sched.cancel(id)?;
    /// assert!(!sched.is_scheduled(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_scheduled(&self, id: TaskId) -> bool {
        self.shared.lock().core.is_scheduled(id)
    }

    /// Looks at the scheduled task `id` without taking it: runs `f` on it
    /// and returns what `f` returns, `None` when `id` names no scheduled
    /// task (delivered, cancelled, handed back, never existed; every task
    /// once stopped). The threaded counterpart of
    /// [`Scheduler::scheduled_task`](crate::Scheduler::scheduled_task).
    ///
    /// `f` runs under the scheduler's lock, so the task cannot be delivered
    /// or cancelled meanwhile and nothing is copied but what `f` returns:
    /// keep it short, and do not call this scheduler from it (that would
    /// deadlock). A panic in `f` reaches the caller and leaves the
    /// scheduler as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task};
    ///
    /// let sched: SchedulerThread<u32, &str> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// let id = sched
    ///     .schedule_after(Task::new(renew, 42, "ocsp"), Duration::from_secs(3600))
    ///     .map_err(|e| e.into_inner())
    ///     .expect("room for one task");
    /// let seen = sched.inspect_task(id, |task| (*task.subject(), *task.payload(), task.attempt()));
    /// assert_eq!(seen, Some((42, "ocsp", 1)));
    /// let deadline = sched.inspect_task(id, |task| task.deadline());
    /// assert_eq!(deadline, sched.next_deadline()?);
    ///
    /// sched.cancel(id)?;
    /// assert_eq!(sched.inspect_task(id, |task| task.attempt()), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inspect_task<R>(
        &self,
        id: TaskId,
        f: impl FnOnce(ScheduledTask<'_, S, P>) -> R,
    ) -> Option<R> {
        self.shared.lock().core.scheduled_task(id).map(f)
    }

    /// Cancels every scheduled task about `subject` and hands them back, in
    /// the order they were scheduled. Tasks already in a queue stay there.
    ///
    /// # Errors
    ///
    /// [`Halted`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 42, ()), When::At(u64::MAX))?;
    /// sched.schedule(Task::new(renew, 42, ()), When::At(u64::MAX))?;
    /// sched.schedule(Task::new(renew, 7, ()), When::At(u64::MAX))?;
    /// let back = sched.cancel_by_subject(&42)?; // e.g. certificate 42 was revoked
    /// assert_eq!(back.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel_by_subject(&self, subject: &S) -> Result<Vec<Task<S, P>>, Halted> {
        let mut st = self.shared.lock_open()?;
        let mut tasks = Vec::new();
        st.core.cancel_by_subject(subject, |t| tasks.push(t));
        log_debug!("tardy: {} task(s) cancelled by subject", tasks.len());
        Ok(tasks)
    }

    /// Adds a queue named `name` holding at most `max_size` tasks (0:
    /// unbounded).
    ///
    /// # Errors
    ///
    /// [`NewQueueError::Queue`] with the core's [`AddQueueError`](crate::AddQueueError) (name taken
    /// or invalid, all `QN` queues in use), [`NewQueueError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], Options::new())?;
    /// let audit = sched.add_queue("audit", 100)?;
    /// assert_eq!(sched.queue_id("audit")?, audit);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_queue(&self, name: &str, max_size: usize) -> Result<QueueId, NewQueueError> {
        let mut st = self.shared.lock_open()?;
        Ok(st.core.add_queue(name, max_size)?)
    }

    /// Removes `queue` and hands back every task scheduled for it or in it.
    /// Workers waiting on it in [`get_task`](Self::get_task) get
    /// [`TakeError::UnknownQueue`], those in [`join`](Self::join)
    /// [`QueueError::UnknownQueue`].
    ///
    /// # Errors
    ///
    /// [`QueueError::UnknownQueue`], [`QueueError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::At(u64::MAX))?;
    /// sched.schedule(Task::new(renew, 2, ()), When::Now)?;
    /// let back = sched.remove_queue(renew)?; // scheduled and queued tasks
    /// assert_eq!(back.len(), 2);
    /// assert!(sched.queue_id("renew").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_queue(&self, queue: QueueId) -> Result<Vec<Task<S, P>>, QueueError> {
        let mut st = self.shared.lock_open()?;
        let mut tasks = Vec::new();
        st.core.remove_queue(queue, |t| tasks.push(t))?;
        // Notified before the lock is released: every worker of the removed
        // queue leaves the wait sets of its queue index before a queue added
        // at that index can have workers of its own, so a later `notify_one`
        // for the new queue never lands on a worker of the old one.
        self.shared.lead.notify_all();
        if let (Some(ready), Some(idle)) = (
            self.shared.ready.get(queue_index(queue)),
            self.shared.idle.get(queue_index(queue)),
        ) {
            ready.notify_all();
            idle.notify_all();
        }
        // Futures of the removed queue are dropped from the list of its
        // queue index now, under the lock, for the same reason; woken after.
        let mut wake = Wake::NONE;
        st.drain_futures(queue, &mut wake);
        drop(st);
        self.shared.send(&wake);
        Ok(tasks)
    }

    /// The queue named `name`.
    ///
    /// # Errors
    ///
    /// [`QueueError::UnknownQueue`], [`QueueError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// assert_eq!(sched.stats(renew)?.queued, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue_id(&self, name: &str) -> Result<QueueId, QueueError> {
        let st = self.shared.lock_open()?;
        Ok(st.core.queue_id(name)?)
    }

    /// The counters of `queue`.
    ///
    /// # Errors
    ///
    /// [`QueueError::UnknownQueue`], [`QueueError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 8)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::At(u64::MAX))?;
    /// sched.schedule(Task::new(renew, 2, ()), When::Now)?;
    /// let st = sched.stats(renew)?;
    /// assert_eq!((st.queued, st.scheduled, st.room, st.max_size), (1, 1, 7, 8));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self, queue: QueueId) -> Result<QueueStats, QueueError> {
        let st = self.shared.lock_open()?;
        Ok(st.core.stats(queue)?)
    }

    /// The number of scheduled tasks (due ones waiting for room included).
    ///
    /// # Errors
    ///
    /// [`Halted`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::At(u64::MAX))?;
    /// sched.schedule(Task::new(renew, 2, ()), When::Now)?; // queued, not scheduled
    /// assert_eq!(sched.scheduled_len()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scheduled_len(&self) -> Result<usize, Halted> {
        let st = self.shared.lock_open()?;
        Ok(st.core.len())
    }

    /// Tasks the scheduler holds without allocating (it grows beyond, up to
    /// [`Options::max_capacity`](crate::Options::max_capacity)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], Options::new().capacity(10_000))?;
    /// assert!(sched.capacity() >= 10_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.lock().core.capacity()
    }

    /// Bytes allocated for the scheduled tasks (slots, heap, subject
    /// index; see [`AllocScheduler::allocated_bytes`](crate::AllocScheduler::allocated_bytes)).
    /// Tasks in queues are not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], Options::new())?;
    /// assert_eq!(sched.allocated_bytes(), 0); // nothing until tasks come
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocated_bytes(&self) -> usize {
        self.shared.lock().core.allocated_bytes()
    }

    /// Gives memory back after a burst (see
    /// [`AllocScheduler::shrink_to_fit`](crate::AllocScheduler::shrink_to_fit)):
    /// never done automatically. O(task slots) under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// for i in 0..10_000 {
    ///     sched.schedule(Task::new(renew, i, ()), When::At(u64::MAX))?;
    /// }
    /// let peak = sched.allocated_bytes();
    /// sched.remove_queue(renew)?; // the burst is over
    /// sched.shrink_to_fit();
    /// assert!(sched.allocated_bytes() < peak);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shrink_to_fit(&self) {
        self.shared.lock().core.shrink_to_fit();
    }

    /// The clock's reading, in ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// let in_a_second = sched.now() + 1_000_000_000; // ticks of the clock: ns here
    /// sched.schedule(Task::new(renew, 1, ()), When::At(in_a_second))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn now(&self) -> Ticks {
        self.shared.lock().core.now()
    }

    /// The earliest deadline in the schedule; `None` when nothing is
    /// scheduled.
    ///
    /// # Errors
    ///
    /// [`Halted`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// assert_eq!(sched.next_deadline()?, None);
    /// sched.schedule(Task::new(renew, 1, ()), When::At(9_000))?;
    /// assert_eq!(sched.next_deadline()?, Some(9_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_deadline(&self) -> Result<Option<Ticks>, Halted> {
        let st = self.shared.lock_open()?;
        Ok(st.core.next_deadline())
    }

    /// Moves every task whose deadline the clock has reached into its queue
    /// now; returns how many entered. The thread does this by itself; this
    /// is for hosts that drive time themselves, before (or without)
    /// [`start`](crate::SchedulerThread::start). It moves them in batches,
    /// releasing the lock between batches, so other threads are not held up
    /// by a long run.
    ///
    /// # Errors
    ///
    /// [`Halted`] when the scheduler is stopped or failed before the first
    /// batch (a stop between batches ends the run with the count so far).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait, When};
    ///
    /// let sched: SchedulerThread<u32, ()> = // not started: the host moves time
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::At(0))?; // due already
    /// sched.schedule(Task::new(renew, 2, ()), When::At(u64::MAX))?;
    /// assert_eq!(sched.run_pending()?, 1);
    /// assert_eq!(sched.get_task(renew, Wait::NoWait)?.subject(), &1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_pending(&self) -> Result<usize, Halted> {
        let mut st = self.shared.lock_open()?;
        let (until, mark) = (st.core.now(), st.all_mark());
        let mut moved = 0;
        loop {
            let mut wake = Wake::NONE;
            moved += st.move_until(until, mark, &mut wake);
            let left = st.core.due_in_pass(until, mark);
            drop(st);
            self.shared.send(&wake);
            if !left {
                return Ok(moved);
            }
            st = match self.shared.lock_open() {
                Ok(st) => st,
                Err(_) => return Ok(moved),
            };
        }
    }

    /// Moves every task scheduled when it is called into its queue now,
    /// whatever its deadline, in deadline order; returns how many entered
    /// (tasks for a full queue wait for room, in order). Like
    /// [`run_pending`](Self::run_pending), it moves them in batches of at
    /// most 64, releasing the lock between batches, so other threads are
    /// not held up by a long run. Tasks scheduled by other threads during
    /// the run stay scheduled. One `run_all` runs at a time: a second call
    /// waits for the first to return.
    ///
    /// A periodic task is never done: `run_all` delivers one occurrence of
    /// it (the next one), and it stays scheduled with the deadline after
    /// that, so `run_all` always returns. Its next occurrence may come
    /// before tasks still to be moved; while the run moves those, it waits
    /// behind them (at deadline `Ticks::MAX`, which
    /// [`inspect_task`](Self::inspect_task) and a [`cancel`](Self::cancel)
    /// meanwhile would show), and it goes back to its deadline before
    /// `run_all` returns.
    ///
    /// # Errors
    ///
    /// [`Halted`] when the scheduler is stopped or failed before the first
    /// batch (a stop between batches ends the run with the count so far).
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::At(u64::MAX))?;
    /// assert_eq!(sched.run_all()?, 1); // whatever the deadline
    /// assert_eq!(sched.get_task(renew, Wait::NoWait)?.subject(), &1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// With a periodic task (feature `periodic`):
    ///
    /// ```
    /// # use tardy::{MissedTickBehavior, MonotonicClock, Options, SchedulerThread, Task, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// let hour = 3_600_000_000_000; // ticks (ns)
    /// let id = sched.schedule_periodic(Task::new(renew, 1, ()), When::At(hour), hour, MissedTickBehavior::Skip)?;
    /// sched.schedule(Task::new(renew, 2, ()), When::At(100 * hour))?;
    /// assert_eq!(sched.run_all()?, 2); // one occurrence, and the one-shot task
    /// assert_eq!(sched.next_deadline()?, Some(2 * hour)); // the period goes on
    /// assert!(sched.is_scheduled(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_all(&self) -> Result<usize, Halted> {
        // One run at a time (see `Shared::run_all`); a poisoned guard
        // guards nothing.
        let _one = self
            .shared
            .run_all
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut st = self.shared.lock_open()?;
        let mark = st.all_mark();
        let (mut moved, mut lifted) = (0, Vec::new());
        loop {
            let mut wake = Wake::NONE;
            moved += st.move_all(mark, &mut wake);
            let left = st.lift_newer(mark, &mut lifted);
            drop(st);
            self.shared.send(&wake);
            st = self.shared.lock();
            if !left || st.halted().is_some() {
                break;
            }
        }
        // The lifted tasks go back to their deadlines (not after a stop,
        // which handed them back), a batch per hold.
        for chunk in lifted.chunks(BATCH_MAX) {
            if st.phase == Phase::Stopped {
                break;
            }
            let mut wake = Wake::NONE;
            st.put_back(chunk, &mut wake);
            drop(st);
            self.shared.send(&wake);
            st = self.shared.lock();
        }
        Ok(moved)
    }

    /// Takes the oldest task from `queue`, waiting as `wait` says. Taking a
    /// task makes room, so the first due task waiting for that queue enters
    /// it. Mark the task done with [`task_done`](Self::task_done) when
    /// finished with it if anyone [`join`](Self::join)s the queue.
    ///
    /// While the thread runs, a call that finds `queue` empty moves the
    /// tasks already due into their queues itself (never one before its
    /// deadline), and one waiting worker at a time also waits for the next
    /// deadline, so that it can deliver it without waiting for the
    /// scheduler thread (see the module's notes on waiting).
    ///
    /// # Errors
    ///
    /// [`TakeError::Empty`] ([`Wait::NoWait`] and nothing queued),
    /// [`TakeError::TimedOut`] ([`Wait::Timeout`] passed with nothing
    /// queued; also for a zero timeout), [`TakeError::UnknownQueue`] (also
    /// when the queue is removed while waiting), [`TakeError::Stopped`]
    /// (also when the scheduler stops while waiting), [`TakeError::Failed`]
    /// (also when the scheduler thread fails while waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait};
    ///
    /// let sched: SchedulerThread<u32, &str> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.start()?;
    /// sched.schedule_after(Task::new(renew, 42, "example.org"), Duration::from_millis(1))?;
    /// let task = sched.get_task(renew, Wait::Forever)?; // blocks until it is due
    /// assert_eq!(task.payload(), &"example.org");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_task(&self, queue: QueueId, wait: Wait) -> Result<Task<S, P>, TakeError> {
        let until = match wait {
            Wait::Timeout(d) => Instant::now().checked_add(d),
            Wait::NoWait | Wait::Forever => None,
        };
        let mut wake = Wake::NONE;
        // The clock reading up to which this worker moves due tasks until
        // it waits again: a periodic task due again after each move (a
        // period shorter than a batch, catching up) does not keep it here.
        let mut due_until = None;
        let mut st = self.shared.lock();
        let taken = loop {
            if let Some(halted) = st.halted() {
                break Err(halted.into());
            }
            match st.take(queue, &mut wake) {
                Ok(task) => {
                    log_trace!(
                        "tardy: task {} taken, {} ticks after its deadline",
                        task.id().map_or(0, TaskId::get),
                        st.core.now().saturating_sub(task.deadline())
                    );
                    // Room made may have let a waiting task in: tell the
                    // next worker.
                    st.ready(queue, &mut wake);
                    break Ok(task);
                }
                Err(GetTaskError::Empty) => {}
                Err(e) => break Err(e.into()),
            }
            // Nothing queued, but tasks are due: move them here rather than
            // wait for the scheduler thread to do it and wake us (a bounded
            // batch, then take ours).
            let now = st.core.now();
            let due_by = *due_until.get_or_insert(now);
            if st.phase == Phase::Running && st.due_by(due_by) {
                let mark = st.all_mark();
                st.move_until(due_by, mark, &mut wake);
                continue;
            }
            let timeout = match (wait, until) {
                (Wait::NoWait, _) => break Err(TakeError::Empty),
                (Wait::Timeout(_), Some(until)) => {
                    let now = Instant::now();
                    if now >= until {
                        break Err(TakeError::TimedOut);
                    }
                    Some(until - now)
                }
                // Forever, or a timeout too long to represent.
                _ => None,
            };
            let Some(cv) = self.shared.ready.get(queue_index(queue)) else {
                break Err(TakeError::UnknownQueue);
            };
            if !wake.is_empty() {
                // Tasks moved for other queues: tell their workers before
                // waiting, then look again.
                drop(st);
                self.shared.send(&wake);
                wake = Wake::NONE;
                st = self.shared.lock();
                continue;
            }
            // A deadline of `Ticks::MAX` is never waited for (see
            // `State::due_by`).
            let lead = match (st.phase, st.leader) {
                (Phase::Running, None) => st.core.next_deadline().filter(|&d| d < Ticks::MAX),
                _ => None,
            };
            if let Some(deadline) = lead {
                // Lead: wait for a task or the next deadline, whichever
                // comes first (deadline > now: it was not due above), and
                // no longer than `max_sleep` (a clock that stepped back
                // reads the deadline sooner than computed here).
                let mut t = self.shared.ticks_to_duration(deadline.saturating_sub(now));
                if let Some(max) = st.max_sleep {
                    t = t.min(max);
                }
                if let Some(timeout) = timeout {
                    t = t.min(timeout);
                }
                st.leader = Some(Lead {
                    queue,
                    until: deadline,
                });
                st = self
                    .shared
                    .lead
                    .wait_timeout(st, t)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                st.leader = None;
                due_until = None;
            } else {
                st.begin_wait(queue);
                st = match timeout {
                    None => cv.wait(st).unwrap_or_else(PoisonError::into_inner),
                    Some(t) => {
                        cv.wait_timeout(st, t)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                };
                st.end_wait(queue);
                st.promoting = false;
                due_until = None;
            }
        };
        // Leaving: if nobody leads now, hand the lead to a waiting worker.
        st.promote(&mut wake);
        drop(st);
        self.shared.send(&wake);
        taken
    }

    /// Marks one task taken from `queue` as done (Python's
    /// `Queue.task_done`), waking [`join`](Self::join) when the queue
    /// becomes idle.
    ///
    /// # Errors
    ///
    /// [`DoneError::UnknownQueue`], [`DoneError::NotTaken`] when every task
    /// taken is already done, [`DoneError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait, When};
    /// # let sched: SchedulerThread<u32, ()> =
    /// #     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// # let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::Now)?;
    /// let _task = sched.get_task(renew, Wait::NoWait)?;
    /// // ... renew the certificate ...
    /// sched.task_done(renew)?;
    /// assert_eq!(sched.stats(renew)?.done, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task_done(&self, queue: QueueId) -> Result<(), DoneError> {
        let mut st = self.shared.lock_open()?;
        st.core.task_done(queue)?;
        if st.is_idle(queue) == Ok(true) {
            drop(st);
            if let Some(cv) = self.shared.idle.get(queue_index(queue)) {
                cv.notify_all();
            }
        }
        Ok(())
    }

    /// Waits until `queue` is idle: nothing in it, no due task waiting for
    /// room, and every task taken from it marked done with
    /// [`task_done`](Self::task_done) (Python's `Queue.join`). Tasks already
    /// due count (a running scheduler moves them into the queue first);
    /// tasks scheduled for later are not waited for: call
    /// [`run_all`](Self::run_all) first to include them.
    ///
    /// # Errors
    ///
    /// [`QueueError::UnknownQueue`] (also when the queue is removed while
    /// waiting), [`QueueError::Stopped`] (also when the scheduler stops
    /// while waiting), [`QueueError::Failed`] (also when the scheduler
    /// thread fails while waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait, When};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::Now)?;
    /// let h = sched.handle();
    /// let worker = std::thread::spawn(move || {
    ///     let _task = h.get_task(renew, Wait::Forever).unwrap();
    ///     h.task_done(renew).unwrap();
    /// });
    /// sched.join(renew)?; // returns once the task was taken and marked done
    /// worker.join().unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join(&self, queue: QueueId) -> Result<(), QueueError> {
        let mut st = self.shared.lock();
        let cv = self
            .shared
            .idle
            .get(queue_index(queue))
            .ok_or(QueueError::UnknownQueue)?;
        loop {
            if let Some(halted) = st.halted() {
                return Err(halted.into());
            }
            // Tasks already due count as queued, even if the thread has not
            // moved them yet: move them now, a batch per hold of the lock.
            if st.phase == Phase::Running && st.is_due() {
                let mut wake = Wake::NONE;
                st.move_due(&mut wake);
                drop(st);
                self.shared.send(&wake);
                st = self.shared.lock();
                continue;
            }
            if st.is_idle(queue)? {
                return Ok(());
            }
            st = cv.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// `true` once the scheduler is stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], Options::new())?;
    /// let h = sched.handle();
    /// assert!(!h.is_stopped());
    /// sched.stop()?;
    /// assert!(h.is_stopped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_stopped(&self) -> bool {
        self.shared.lock().phase == Phase::Stopped
    }

    /// `true` once the scheduler thread failed ([`Halted::Failed`]) and
    /// until the scheduler is stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], Options::new())?;
    /// sched.start()?;
    /// assert!(!sched.is_failed()); // true only after a panic in a clock, queue or subject
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_failed(&self) -> bool {
        self.shared.lock().phase == Phase::Failed
    }
}

/// Scheduling by [`Instant`], [`Duration`] and [`SystemTime`], on the
/// [`MonotonicClock`].
impl<S, P, const QN: usize> SchedulerHandle<S, P, MonotonicClock, QN>
where
    S: Subject,
{
    /// The scheduler's clock (a copy: it reads the same time).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{Clock, MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], Options::new())?;
    /// let clock = sched.clock();
    /// assert!(clock.now() <= sched.now()); // copies read the same time
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(&self) -> MonotonicClock {
        *self.shared.lock().core.clock()
    }

    /// Schedules `task` to be due at `at` (an instant in the past is due at
    /// once).
    ///
    /// # Errors
    ///
    /// As [`schedule`](Self::schedule).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// let at = Instant::now() + Duration::from_secs(60);
    /// let id = sched.schedule_at_instant(Task::new(renew, 42, ()), at)?;
    /// assert!(sched.is_scheduled(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_at_instant(
        &self,
        task: Task<S, P>,
        at: Instant,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit(task, |clock| When::At(clock.ticks_at(at)))
    }

    /// Schedules `task` to be due `delay` from now.
    ///
    /// # Errors
    ///
    /// As [`schedule`](Self::schedule).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// let id = sched.schedule_after(Task::new(renew, 42, ()), Duration::from_secs(60))?;
    /// assert!(sched.is_scheduled(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_after(
        &self,
        task: Task<S, P>,
        delay: Duration,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit(task, |_| When::After(MonotonicClock::ticks_of(delay)))
    }

    /// Schedules `task` to repeat every `period`, the first occurrence due
    /// `first` from now (see [`schedule_periodic`](Self::schedule_periodic)).
    /// Both spans become ticks (ns) saturating at `Ticks::MAX`; periods
    /// follow the grid `first + k * period` under
    /// [`MissedTickBehavior::Burst`] and [`MissedTickBehavior::Skip`].
    ///
    /// # Errors
    ///
    /// As [`schedule_periodic`](Self::schedule_periodic):
    /// [`SubmitError::ZeroPeriod`] for a zero `period`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tardy::{MissedTickBehavior, MonotonicClock, Options, SchedulerThread, Task, Wait};
    ///
    /// let sched: SchedulerThread<u32, Arc<str>> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.start()?;
    /// let id = sched.schedule_periodic_after(
    ///     Task::new(renew, 42, Arc::from("example.org")), // shared by every occurrence
    ///     Duration::ZERO,
    ///     Duration::from_secs(4 * 3600),
    ///     MissedTickBehavior::Skip,
    /// )?;
    /// let first = sched.get_task(renew, Wait::Forever)?; // due at once
    /// assert_eq!(first.period().map(|p| p.index), Some(0));
    /// assert!(sched.is_scheduled(id)); // the next one in four hours
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "periodic")]
    #[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
    pub fn schedule_periodic_after(
        &self,
        task: Task<S, P>,
        first: Duration,
        period: Duration,
        missed: MissedTickBehavior,
    ) -> Result<TaskId, SubmitError<Task<S, P>>>
    where
        S: Clone,
        P: Clone,
    {
        self.schedule_periodic(
            task,
            When::After(MonotonicClock::ticks_of(first)),
            MonotonicClock::ticks_of(period),
            missed,
        )
    }

    /// Schedules `task` to be due at the wall-clock time `at`, mapped to the
    /// monotonic clock now: a later change of the wall clock does not move
    /// it (see [`MonotonicClock::ticks_at_system_time`]).
    ///
    /// # Errors
    ///
    /// As [`schedule`](Self::schedule).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// let next_update = SystemTime::now() + Duration::from_secs(7 * 24 * 3600); // from a response
    /// let id = sched.schedule_at_system_time(Task::new(renew, 42, ()), next_update)?;
    /// assert!(sched.is_scheduled(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_at_system_time(
        &self,
        task: Task<S, P>,
        at: SystemTime,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit(task, |clock| When::At(clock.ticks_at_system_time(at)))
    }
}

/// The first deadline of a periodic task as a [`When::At`] for the clock's
/// reading (the core's [`When::Now`] for a periodic task: due at the
/// reading, through the schedule).
#[cfg(feature = "periodic")]
fn first_at<C: Clock>(first: When) -> impl FnOnce(&C) -> When {
    move |clock| match first {
        When::At(t) => When::At(t),
        When::After(d) => When::At(clock.now().saturating_add(d)),
        When::Now => When::At(clock.now()),
    }
}
