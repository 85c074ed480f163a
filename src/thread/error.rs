//! The errors of the threaded layer, one type per operation.
//!
//! Each adds to the core's error the two things that only a threaded
//! scheduler can say: it was stopped, or its thread failed (user code, a
//! [`Clock`](crate::Clock), [`TaskQueue`](crate::TaskQueue) or
//! [`Subject`](crate::Subject), panicked on it). Errors that are given a
//! task hand it back ([`SubmitError::into_inner`]).

use core::fmt;
use std::io;

use crate::error::{
    AddQueueError, GetTaskError, NotScheduled, ScheduleError, TaskDoneError, UnknownQueue,
};

/// The scheduler was stopped (or dropped): it takes no more work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped;

/// Why a scheduler takes no more work: it was stopped, or its thread
/// failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Halted {
    /// The scheduler was stopped (or dropped).
    Stopped,
    /// The scheduler thread ended with a panic in user code it ran (the
    /// clock, a queue, or a subject's `Hash`/`Eq`, which their contracts
    /// forbid). Nothing moves due tasks any more;
    /// [`stop`](crate::SchedulerThread::stop) still hands every task back.
    Failed,
}

/// Why [`SchedulerThread::start`](crate::SchedulerThread::start) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// The thread is already running.
    AlreadyStarted,
    /// The scheduler was stopped; it cannot be started again.
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]); it cannot be
    /// started again.
    Failed,
    /// The operating system refused to create the thread.
    Spawn(io::ErrorKind),
}

/// Why a task was not scheduled by a
/// [`SchedulerHandle`](crate::SchedulerHandle); it holds the task, handed
/// back.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitError<T> {
    /// The task's queue does not exist.
    UnknownQueue(T),
    /// [`When::Now`](crate::When::Now) and the queue is full.
    QueueFull(T),
    /// Every task slot is in use.
    Capacity(T),
    /// The scheduler was stopped.
    Stopped(T),
    /// The scheduler thread failed ([`Halted::Failed`]).
    Failed(T),
}

impl<T> SubmitError<T> {
    /// The task that was not scheduled.
    pub fn into_inner(self) -> T {
        match self {
            Self::UnknownQueue(t)
            | Self::QueueFull(t)
            | Self::Capacity(t)
            | Self::Stopped(t)
            | Self::Failed(t) => t,
        }
    }

    /// The task that was not scheduled, by reference.
    pub fn task(&self) -> &T {
        match self {
            Self::UnknownQueue(t)
            | Self::QueueFull(t)
            | Self::Capacity(t)
            | Self::Stopped(t)
            | Self::Failed(t) => t,
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
        }
    }
}

/// Why [`cancel`](crate::SchedulerHandle::cancel) or
/// [`reschedule`](crate::SchedulerHandle::reschedule) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelError {
    /// The handle names no scheduled task: it was delivered, cancelled,
    /// handed back, or never existed.
    NotScheduled,
    /// The scheduler was stopped (and handed every task back).
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueError {
    /// The queue does not exist (never added, or removed).
    UnknownQueue,
    /// The scheduler was stopped.
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewError {
    /// The core refused a queue of the list (name taken or invalid, too
    /// many queues, a `max_size` that could never be honoured).
    Queue(AddQueueError),
    /// [`Options::capacity`](crate::Options::capacity) or
    /// [`Options::max_capacity`](crate::Options::max_capacity) above
    /// 2^32 - 2 tasks, the most the slot numbers name.
    CapacityTooLarge,
    /// [`Options::max_capacity`](crate::Options::max_capacity) of 0: no task
    /// could ever be scheduled.
    ZeroMaxCapacity,
    /// [`Options::max_capacity`](crate::Options::max_capacity) below
    /// [`Options::capacity`](crate::Options::capacity).
    MaxBelowInitial,
    /// The allocator refused room for
    /// [`Options::capacity`](crate::Options::capacity) tasks.
    Alloc,
    /// [`Options::thread_name`](crate::Options::thread_name) contains a NUL
    /// byte, which no thread name can hold.
    InvalidThreadName,
}

impl From<AddQueueError> for NewError {
    fn from(e: AddQueueError) -> Self {
        Self::Queue(e)
    }
}

impl fmt::Display for NewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Queue(e) => write!(f, "cannot add a queue: {e}"),
            Self::CapacityTooLarge => f.write_str("capacity above 2^32 - 2 tasks"),
            Self::ZeroMaxCapacity => f.write_str("a maximum capacity of 0 tasks"),
            Self::MaxBelowInitial => f.write_str("a maximum capacity below the initial capacity"),
            Self::Alloc => f.write_str("the allocator refused the initial capacity"),
            Self::InvalidThreadName => f.write_str("a thread name with a NUL byte"),
        }
    }
}

impl core::error::Error for NewError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Queue(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`add_queue`](crate::SchedulerHandle::add_queue) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewQueueError {
    /// The core refused the queue (name taken or invalid, all `QN` queues
    /// in use).
    Queue(AddQueueError),
    /// The scheduler was stopped.
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
    Failed,
}

impl From<AddQueueError> for NewQueueError {
    fn from(e: AddQueueError) -> Self {
        Self::Queue(e)
    }
}

/// Why [`get_task`](crate::SchedulerHandle::get_task) returned no task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TakeError {
    /// The queue does not exist, or was removed while waiting.
    UnknownQueue,
    /// [`Wait::NoWait`](crate::Wait::NoWait) and the queue is empty.
    Empty,
    /// [`Wait::Timeout`](crate::Wait::Timeout) passed and the queue stayed
    /// empty.
    TimedOut,
    /// The scheduler was stopped, before or while waiting.
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]), before or while
    /// waiting.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DoneError {
    /// The queue does not exist.
    UnknownQueue,
    /// Every task taken from the queue is already marked done.
    NotTaken,
    /// The scheduler was stopped.
    Stopped,
    /// The scheduler thread failed ([`Halted::Failed`]).
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

/// The text of every `Failed` error.
const FAILED: &str = "the scheduler thread failed: a clock, queue or subject panicked on it";

impl fmt::Display for Halted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stopped => "the scheduler is stopped",
            Self::Failed => FAILED,
        })
    }
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the scheduler is stopped")
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str("the scheduler thread is already running"),
            Self::Stopped => f.write_str("the scheduler is stopped and cannot be started again"),
            Self::Failed => f.write_str(FAILED),
            Self::Spawn(kind) => write!(f, "cannot create the scheduler thread: {kind}"),
        }
    }
}

impl<T> fmt::Debug for SubmitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue(_) => "UnknownQueue(..)",
            Self::QueueFull(_) => "QueueFull(..)",
            Self::Capacity(_) => "Capacity(..)",
            Self::Stopped(_) => "Stopped(..)",
            Self::Failed(_) => "Failed(..)",
        })
    }
}

impl<T> fmt::Display for SubmitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue(_) => "no such queue",
            Self::QueueFull(_) => "queue is full",
            Self::Capacity(_) => "no task slot left",
            Self::Stopped(_) => "the scheduler is stopped",
            Self::Failed(_) => FAILED,
        })
    }
}

impl fmt::Display for CancelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotScheduled => "task is not scheduled",
            Self::Stopped => "the scheduler is stopped",
            Self::Failed => FAILED,
        })
    }
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue => "no such queue",
            Self::Stopped => "the scheduler is stopped",
            Self::Failed => FAILED,
        })
    }
}

impl fmt::Display for NewQueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Queue(e) => fmt::Display::fmt(e, f),
            Self::Stopped => f.write_str("the scheduler is stopped"),
            Self::Failed => f.write_str(FAILED),
        }
    }
}

impl fmt::Display for TakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue => "no such queue",
            Self::Empty => "queue is empty",
            Self::TimedOut => "timed out waiting for a task",
            Self::Stopped => "the scheduler is stopped",
            Self::Failed => FAILED,
        })
    }
}

impl fmt::Display for DoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue => "no such queue",
            Self::NotTaken => "task_done called more often than tasks were taken",
            Self::Stopped => "the scheduler is stopped",
            Self::Failed => FAILED,
        })
    }
}

impl core::error::Error for Stopped {}
impl core::error::Error for Halted {}
impl core::error::Error for StartError {}
impl<T> core::error::Error for SubmitError<T> {}
impl core::error::Error for CancelError {}
impl core::error::Error for QueueError {}
impl core::error::Error for NewQueueError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Queue(e) => Some(e),
            Self::Stopped | Self::Failed => None,
        }
    }
}
impl core::error::Error for TakeError {}
impl core::error::Error for DoneError {}

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
