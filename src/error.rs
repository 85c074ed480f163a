//! Every error the core returns, one type per operation.
//!
//! Errors that are given a value hand it back ([`ScheduleError::into_inner`]),
//! so nothing is dropped on the way out. `Display` and `core::error::Error`
//! come from `thiserror` (without std); `Debug` of the errors that hold a
//! value is written by hand so that the value need not be `Debug`.

use core::fmt;

use thiserror::Error;

/// Why [`Scheduler::add_queue`](crate::Scheduler::add_queue) failed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AddQueueError {
    /// A queue of that name exists.
    #[error("a queue of that name exists")]
    NameTaken,
    /// The name is empty or longer than [`MAX_NAME_LEN`](crate::MAX_NAME_LEN) bytes.
    #[error("queue name is empty or too long")]
    InvalidName,
    /// The queue type cannot hold `max_size` items.
    #[error("the queue cannot hold that many tasks")]
    InvalidMaxSize,
    /// Every queue slot of the scheduler is in use.
    #[error("no queue slot left")]
    NoQueueSlot,
}

/// The queue does not exist (never added, or removed).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("no such queue")]
pub struct UnknownQueue;

/// Why [`Scheduler::schedule`](crate::Scheduler::schedule) failed; it holds
/// the task, handed back.
#[derive(Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ScheduleError<T> {
    /// The task's queue does not exist.
    #[error("no such queue")]
    UnknownQueue(T),
    /// [`When::Now`](crate::When::Now) and the queue is full.
    #[error("queue is full")]
    QueueFull(T),
    /// Every task slot is in use.
    #[error("no task slot left")]
    Capacity(T),
    /// A periodic task was given a period of 0 ticks
    /// ([`Scheduler::schedule_periodic`](crate::Scheduler::schedule_periodic)).
    #[error("the period is 0")]
    ZeroPeriod(T),
}

impl<T> ScheduleError<T> {
    /// The task that was not scheduled.
    pub fn into_inner(self) -> T {
        match self {
            Self::UnknownQueue(t)
            | Self::QueueFull(t)
            | Self::Capacity(t)
            | Self::ZeroPeriod(t) => t,
        }
    }

    /// The task that was not scheduled, by reference.
    pub fn task(&self) -> &T {
        match self {
            Self::UnknownQueue(t)
            | Self::QueueFull(t)
            | Self::Capacity(t)
            | Self::ZeroPeriod(t) => t,
        }
    }
}

/// Why `AllocScheduler::reserve` allocated less than asked.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReserveError {
    /// The room asked for is beyond the scheduler's maximum capacity.
    #[error("beyond the maximum capacity")]
    MaxCapacity,
    /// The allocator refused.
    #[error("the allocator refused")]
    Alloc,
}

/// The handle names no scheduled task: it was delivered, cancelled, handed
/// back, or never existed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("task is not scheduled")]
pub struct NotScheduled;

/// Why [`Scheduler::get_task`](crate::Scheduler::get_task) returned no task.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GetTaskError {
    /// The queue does not exist.
    #[error("no such queue")]
    UnknownQueue,
    /// The queue is empty.
    #[error("queue is empty")]
    Empty,
}

/// Why [`Scheduler::task_done`](crate::Scheduler::task_done) failed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TaskDoneError {
    /// The queue does not exist.
    #[error("no such queue")]
    UnknownQueue,
    /// Every task taken from the queue is already marked done.
    #[error("task_done called more often than tasks were taken")]
    NotTaken,
}

impl<T> fmt::Debug for ScheduleError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue(_) => "UnknownQueue(..)",
            Self::QueueFull(_) => "QueueFull(..)",
            Self::Capacity(_) => "Capacity(..)",
            Self::ZeroPeriod(_) => "ZeroPeriod(..)",
        })
    }
}

/// A shared scheduler (`CsScheduler`, `SpinScheduler`) was used again from
/// inside its own `with` closure, or from a hand-back callback run by it:
/// the scheduler is already borrowed, and the inner call is refused instead
/// of panicking or deadlocking. It holds the value the call was given, if
/// any ([`Busy::into_inner`]), so nothing is dropped.
#[derive(Clone, Copy, PartialEq, Eq, Error)]
#[error("scheduler already borrowed by an enclosing call")]
pub struct Busy<T = ()>(pub T);

impl<T> Busy<T> {
    /// The value that was handed back.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Busy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Busy(..)")
    }
}

#[cfg(feature = "defmt")]
impl<T> defmt::Format for ScheduleError<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::UnknownQueue(_) => defmt::write!(f, "UnknownQueue(..)"),
            Self::QueueFull(_) => defmt::write!(f, "QueueFull(..)"),
            Self::Capacity(_) => defmt::write!(f, "Capacity(..)"),
            Self::ZeroPeriod(_) => defmt::write!(f, "ZeroPeriod(..)"),
        }
    }
}

#[cfg(feature = "defmt")]
impl<T> defmt::Format for Busy<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Busy(..)");
    }
}
