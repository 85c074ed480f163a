//! The errors of the threaded layer, one type per operation.
//!
//! Each adds to the core's error the two things that only a threaded
//! scheduler can say: it was stopped, or its thread failed (user code, a
//! [`Clock`](crate::Clock), [`TaskQueue`](crate::TaskQueue) or
//! [`Subject`](crate::Subject), panicked on it). Errors that are given a
//! task hand it back ([`SubmitError::into_inner`]).
//!
//! `Display`, `Error` and `source` come from `thiserror`'s derive (without
//! std, so nothing of it reaches a binary but the code it writes).

use core::fmt;
use std::io;

use thiserror::Error;

use crate::error::{
    AddQueueError, GetTaskError, NotScheduled, ScheduleError, TaskDoneError, UnknownQueue,
};

/// The text of every `Failed` error.
const FAILED: &str = "the scheduler thread failed: a clock, queue or subject panicked on it";

/// The scheduler was stopped (or dropped): it takes no more work.
///
/// # Examples
///
/// ```
/// use tardy::{MonotonicClock, Options, SchedulerThread, Stopped};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// sched.stop()?;
/// assert_eq!(sched.stop().unwrap_err(), Stopped); // stopped once only
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("the scheduler is stopped")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct Stopped;

/// Why a scheduler takes no more work: it was stopped, or its thread
/// failed.
///
/// # Examples
///
/// ```
/// use tardy::{Halted, MonotonicClock, Options, SchedulerThread};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// sched.stop()?;
/// assert_eq!(sched.scheduled_len(), Err(Halted::Stopped));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum Halted {
    /// The scheduler was stopped (or dropped).
    #[error("the scheduler is stopped")]
    Stopped,
    /// The scheduler thread ended with a panic in user code it ran (the
    /// clock, a queue, or a subject's `Hash`/`Eq`, which their contracts
    /// forbid). Nothing moves due tasks any more;
    /// [`stop`](crate::SchedulerThread::stop) still hands every task back.
    #[error("{FAILED}")]
    Failed,
}

/// Why [`SchedulerThread::start`](crate::SchedulerThread::start) failed.
///
/// # Examples
///
/// ```
/// use tardy::{MonotonicClock, Options, SchedulerThread, StartError};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// sched.start()?;
/// assert_eq!(sched.start(), Err(StartError::AlreadyStarted));
/// sched.stop()?;
/// assert_eq!(sched.start(), Err(StartError::Stopped));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum StartError {
    /// The thread is already running.
    #[error("the scheduler thread is already running")]
    AlreadyStarted,
    /// The scheduler was stopped; it cannot be started again.
    #[error("the scheduler is stopped and cannot be started again")]
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]); it cannot be
    /// started again.
    #[error("{FAILED}")]
    Failed,
    /// The operating system refused to create the thread.
    #[error("cannot create the scheduler thread: {0}")]
    Spawn(io::ErrorKind),
}

/// Why a task was not scheduled by a
/// [`SchedulerHandle`](crate::SchedulerHandle); it holds the task, handed
/// back.
///
/// Its `Debug` shows the variant only, so that any task type can be handed
/// back (`unwrap` works without `T: Debug`).
///
/// # Examples
///
/// ```
/// use tardy::{MonotonicClock, Options, SchedulerThread, SubmitError, Task, When};
///
/// let sched: SchedulerThread<u32, &str> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 1)], Options::new())?;
/// let renew = sched.queue_id("renew")?;
/// sched.schedule(Task::new(renew, 1, "first"), When::Now)?;
/// match sched.schedule(Task::new(renew, 2, "second"), When::Now) {
///     Err(SubmitError::QueueFull(task)) => assert_eq!(task.payload(), &"second"),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum SubmitError<T> {
    /// The task's queue does not exist.
    #[error("no such queue")]
    UnknownQueue(T),
    /// [`When::Now`](crate::When::Now) and the queue is full.
    #[error("queue is full")]
    QueueFull(T),
    /// Every task slot is in use.
    #[error("no task slot left")]
    Capacity(T),
    /// The scheduler was stopped.
    #[error("the scheduler is stopped")]
    Stopped(T),
    /// The scheduler thread failed ([`Halted::Failed`]).
    #[error("{FAILED}")]
    Failed(T),
    /// A periodic task was given a period of 0.
    #[cfg(feature = "periodic")]
    #[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
    #[error("the period is 0")]
    ZeroPeriod(T),
}

impl<T> fmt::Debug for SubmitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue(_) => "UnknownQueue(..)",
            Self::QueueFull(_) => "QueueFull(..)",
            Self::Capacity(_) => "Capacity(..)",
            Self::Stopped(_) => "Stopped(..)",
            Self::Failed(_) => "Failed(..)",
            #[cfg(feature = "periodic")]
            Self::ZeroPeriod(_) => "ZeroPeriod(..)",
        })
    }
}

impl<T> SubmitError<T> {
    /// The task that was not scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    ///
    /// let sched: SchedulerThread<u32, &str> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.stop()?;
    /// let err = sched.schedule(Task::new(renew, 1, "example.org"), When::Now).unwrap_err();
    /// assert_eq!(err.into_inner().payload(), &"example.org"); // nothing is lost
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::UnknownQueue(t)
            | Self::QueueFull(t)
            | Self::Capacity(t)
            | Self::Stopped(t)
            | Self::Failed(t) => t,
            #[cfg(feature = "periodic")]
            Self::ZeroPeriod(t) => t,
        }
    }

    /// The task that was not scheduled, by reference.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    ///
    /// let sched: SchedulerThread<u32, &str> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.remove_queue(renew)?;
    /// let err = sched.schedule(Task::new(renew, 1, "example.org"), When::Now).unwrap_err();
    /// assert_eq!(err.task().subject(), &1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task(&self) -> &T {
        match self {
            Self::UnknownQueue(t)
            | Self::QueueFull(t)
            | Self::Capacity(t)
            | Self::Stopped(t)
            | Self::Failed(t) => t,
            #[cfg(feature = "periodic")]
            Self::ZeroPeriod(t) => t,
        }
    }
}

impl<T> SubmitError<T> {
    /// The error for `task` refused because the scheduler is `halted`.
    pub(crate) fn halted(halted: Halted, task: T) -> Self {
        match halted {
            Halted::Stopped => Self::Stopped(task),
            Halted::Failed => Self::Failed(task),
        }
    }
}

impl<T> From<ScheduleError<T>> for SubmitError<T> {
    fn from(e: ScheduleError<T>) -> Self {
        match e {
            ScheduleError::UnknownQueue(t) => Self::UnknownQueue(t),
            ScheduleError::QueueFull(t) => Self::QueueFull(t),
            ScheduleError::Capacity(t) => Self::Capacity(t),
            #[cfg(feature = "periodic")]
            ScheduleError::ZeroPeriod(t) => Self::ZeroPeriod(t),
        }
    }
}

/// Why [`cancel`](crate::SchedulerHandle::cancel) or
/// [`reschedule`](crate::SchedulerHandle::reschedule) failed.
///
/// # Examples
///
/// ```
/// use tardy::{CancelError, MonotonicClock, Options, SchedulerThread, Task, When};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// let renew = sched.queue_id("renew")?;
/// let id = sched.schedule(Task::new(renew, 1, ()), When::After(1_000_000_000))?;
/// sched.cancel(id)?;
/// assert_eq!(sched.cancel(id), Err(CancelError::NotScheduled));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum CancelError {
    /// The handle names no scheduled task: it was delivered, cancelled,
    /// handed back, or never existed.
    #[error("task is not scheduled")]
    NotScheduled,
    /// The scheduler was stopped (and handed every task back).
    #[error("the scheduler is stopped")]
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
    #[error("{FAILED}")]
    Failed,
}

impl From<NotScheduled> for CancelError {
    fn from(_: NotScheduled) -> Self {
        Self::NotScheduled
    }
}

/// Why an operation on one queue failed
/// ([`remove_queue`](crate::SchedulerHandle::remove_queue),
/// [`stats`](crate::SchedulerHandle::stats),
/// [`queue_id`](crate::SchedulerHandle::queue_id),
/// [`join`](crate::SchedulerHandle::join)).
///
/// # Examples
///
/// ```
/// use tardy::{MonotonicClock, Options, QueueError, SchedulerThread};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// assert_eq!(sched.queue_id("audit"), Err(QueueError::UnknownQueue));
/// sched.stop()?;
/// assert_eq!(sched.queue_id("renew"), Err(QueueError::Stopped));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum QueueError {
    /// The queue does not exist (never added, or removed).
    #[error("no such queue")]
    UnknownQueue,
    /// The scheduler was stopped.
    #[error("the scheduler is stopped")]
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
    #[error("{FAILED}")]
    Failed,
}

impl From<UnknownQueue> for QueueError {
    fn from(_: UnknownQueue) -> Self {
        Self::UnknownQueue
    }
}

/// Why [`SchedulerThread::new`](crate::SchedulerThread::new) refused to
/// create a scheduler: a queue of its list, or a capacity of its
/// [`Options`](crate::Options).
///
/// # Examples
///
/// ```
/// use tardy::{AddQueueError, MonotonicClock, NewError, Options, SchedulerThread};
///
/// type Sched = SchedulerThread<u32, ()>;
/// let dup = Sched::new(MonotonicClock::new(), &[("a", 0), ("a", 0)], Options::new());
/// assert_eq!(dup.unwrap_err(), NewError::Queue(AddQueueError::NameTaken));
/// let zero = Sched::new(MonotonicClock::new(), &[], Options::new().max_capacity(0));
/// assert_eq!(zero.unwrap_err(), NewError::ZeroMaxCapacity);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum NewError {
    /// The core refused a queue of the list (name taken or invalid, too
    /// many queues, a `max_size` that could never be honoured).
    #[error("cannot add a queue: {0}")]
    Queue(#[from] AddQueueError),
    /// [`Options::capacity`](crate::Options::capacity) or
    /// [`Options::max_capacity`](crate::Options::max_capacity) above
    /// 2^32 - 2 tasks, the most the slot numbers name.
    #[error("capacity above 2^32 - 2 tasks")]
    CapacityTooLarge,
    /// [`Options::max_capacity`](crate::Options::max_capacity) of 0: no task
    /// could ever be scheduled.
    #[error("a maximum capacity of 0 tasks")]
    ZeroMaxCapacity,
    /// [`Options::max_capacity`](crate::Options::max_capacity) below
    /// [`Options::capacity`](crate::Options::capacity).
    #[error("a maximum capacity below the initial capacity")]
    MaxBelowInitial,
    /// The allocator refused room for
    /// [`Options::capacity`](crate::Options::capacity) tasks. Where the
    /// system overcommits memory (Linux by default), a large initial
    /// capacity is usually granted and the process is killed later, when
    /// the memory is touched: choose an initial capacity the machine can
    /// hold, or none and let the scheduler grow.
    #[error("the allocator refused the initial capacity")]
    Alloc,
    /// [`Options::thread_name`](crate::Options::thread_name) contains a NUL
    /// byte, which no thread name can hold.
    #[error("a thread name with a NUL byte")]
    InvalidThreadName,
}

/// Why [`add_queue`](crate::SchedulerHandle::add_queue) failed.
///
/// # Examples
///
/// ```
/// use tardy::{AddQueueError, MonotonicClock, NewQueueError, Options, SchedulerThread};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// let err = sched.add_queue("renew", 0).unwrap_err();
/// assert_eq!(err, NewQueueError::Queue(AddQueueError::NameTaken));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum NewQueueError {
    /// The core refused the queue (name taken or invalid, all `QN` queues
    /// in use). Its text is the core's; the core's error is also its
    /// `source`.
    #[error("{0}")]
    Queue(#[from] AddQueueError),
    /// The scheduler was stopped.
    #[error("the scheduler is stopped")]
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
    #[error("{FAILED}")]
    Failed,
}

/// Why [`get_task`](crate::SchedulerHandle::get_task) returned no task.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tardy::{MonotonicClock, Options, SchedulerThread, TakeError, Wait};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// let renew = sched.queue_id("renew")?;
/// assert_eq!(sched.get_task(renew, Wait::NoWait), Err(TakeError::Empty));
/// let waited = sched.get_task(renew, Wait::Timeout(Duration::from_millis(1)));
/// assert_eq!(waited, Err(TakeError::TimedOut));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum TakeError {
    /// The queue does not exist, or was removed while waiting.
    #[error("no such queue")]
    UnknownQueue,
    /// [`Wait::NoWait`](crate::Wait::NoWait) and the queue is empty.
    #[error("queue is empty")]
    Empty,
    /// [`Wait::Timeout`](crate::Wait::Timeout) passed and the queue stayed
    /// empty.
    #[error("timed out waiting for a task")]
    TimedOut,
    /// The scheduler was stopped, before or while waiting.
    #[error("the scheduler is stopped")]
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]), before or while
    /// waiting.
    #[error("{FAILED}")]
    Failed,
}

impl From<GetTaskError> for TakeError {
    fn from(e: GetTaskError) -> Self {
        match e {
            GetTaskError::UnknownQueue => Self::UnknownQueue,
            GetTaskError::Empty => Self::Empty,
        }
    }
}

/// Why [`task_done`](crate::SchedulerHandle::task_done) failed.
///
/// # Examples
///
/// ```
/// use tardy::{DoneError, MonotonicClock, Options, SchedulerThread};
///
/// let sched: SchedulerThread<u32, ()> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// let renew = sched.queue_id("renew")?;
/// assert_eq!(sched.task_done(renew), Err(DoneError::NotTaken)); // nothing taken yet
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum DoneError {
    /// The queue does not exist.
    #[error("no such queue")]
    UnknownQueue,
    /// Every task taken from the queue is already marked done.
    #[error("task_done called more often than tasks were taken")]
    NotTaken,
    /// The scheduler was stopped.
    #[error("the scheduler is stopped")]
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
    #[error("{FAILED}")]
    Failed,
}

impl From<TaskDoneError> for DoneError {
    fn from(e: TaskDoneError) -> Self {
        match e {
            TaskDoneError::UnknownQueue => Self::UnknownQueue,
            TaskDoneError::NotTaken => Self::NotTaken,
        }
    }
}

impl From<Halted> for CancelError {
    fn from(h: Halted) -> Self {
        match h {
            Halted::Stopped => Self::Stopped,
            Halted::Failed => Self::Failed,
        }
    }
}

impl From<Halted> for QueueError {
    fn from(h: Halted) -> Self {
        match h {
            Halted::Stopped => Self::Stopped,
            Halted::Failed => Self::Failed,
        }
    }
}

impl From<Halted> for NewQueueError {
    fn from(h: Halted) -> Self {
        match h {
            Halted::Stopped => Self::Stopped,
            Halted::Failed => Self::Failed,
        }
    }
}

impl From<Halted> for TakeError {
    fn from(h: Halted) -> Self {
        match h {
            Halted::Stopped => Self::Stopped,
            Halted::Failed => Self::Failed,
        }
    }
}

impl From<Halted> for DoneError {
    fn from(h: Halted) -> Self {
        match h {
            Halted::Stopped => Self::Stopped,
            Halted::Failed => Self::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use core::error::Error as _;
    use std::string::ToString;

    use super::*;

    /// The derived texts and sources are those the hand-written impls gave.
    #[test]
    fn texts_and_sources() {
        assert_eq!(Halted::Failed.to_string(), FAILED);
        assert_eq!(TakeError::Failed.to_string(), FAILED);
        assert_eq!(SubmitError::Failed(7).to_string(), FAILED);
        assert_eq!(Stopped.to_string(), "the scheduler is stopped");
        assert_eq!(
            StartError::Spawn(io::ErrorKind::OutOfMemory).to_string(),
            std::format!(
                "cannot create the scheduler thread: {}",
                io::ErrorKind::OutOfMemory
            )
        );
        let core = AddQueueError::NameTaken;
        assert_eq!(
            NewError::Queue(core).to_string(),
            std::format!("cannot add a queue: {core}")
        );
        assert_eq!(NewQueueError::Queue(core).to_string(), core.to_string());
        for source in [
            NewError::from(core).source(),
            NewQueueError::from(core).source(),
        ] {
            let source = source.expect("the core's error is the source");
            assert_eq!(source.to_string(), core.to_string());
        }
        assert!(NewQueueError::Stopped.source().is_none());
        assert!(NewError::Alloc.source().is_none());
        // Any task type comes back, `Debug` or not.
        struct Opaque;
        assert_eq!(
            std::format!("{:?}", SubmitError::QueueFull(Opaque)),
            "QueueFull(..)"
        );
    }
}
