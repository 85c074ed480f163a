//! Every error the core returns, one type per operation.
//!
//! Errors that are given a value hand it back ([`ScheduleError::into_inner`]),
//! so nothing is dropped on the way out.

use core::fmt;

/// Why [`Scheduler::add_queue`](crate::Scheduler::add_queue) failed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddQueueError {
    /// A queue of that name exists.
    NameTaken,
    /// The name is empty or longer than [`MAX_NAME_LEN`](crate::MAX_NAME_LEN) bytes.
    InvalidName,
    /// The queue type cannot hold `max_size` items.
    InvalidMaxSize,
    /// Every queue slot of the scheduler is in use.
    NoQueueSlot,
}

/// The queue does not exist (never added, or removed).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownQueue;

/// Why [`Scheduler::schedule`](crate::Scheduler::schedule) failed; it holds
/// the task, handed back.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScheduleError<T> {
    /// The task's queue does not exist.
    UnknownQueue(T),
    /// [`When::Now`](crate::When::Now) and the queue is full.
    QueueFull(T),
    /// Every task slot is in use.
    Capacity(T),
}

impl<T> ScheduleError<T> {
    /// The task that was not scheduled.
    pub fn into_inner(self) -> T {
        match self {
            Self::UnknownQueue(t) | Self::QueueFull(t) | Self::Capacity(t) => t,
        }
    }

    /// The task that was not scheduled, by reference.
    pub fn task(&self) -> &T {
        match self {
            Self::UnknownQueue(t) | Self::QueueFull(t) | Self::Capacity(t) => t,
        }
    }
}

/// Why `AllocScheduler::reserve` allocated less than asked.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReserveError {
    /// The room asked for is beyond the scheduler's maximum capacity.
    MaxCapacity,
    /// The allocator refused.
    Alloc,
}

impl fmt::Display for ReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MaxCapacity => "beyond the maximum capacity",
            Self::Alloc => "the allocator refused",
        })
    }
}

impl core::error::Error for ReserveError {}

/// The handle names no scheduled task: it was delivered, cancelled, handed
/// back, or never existed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotScheduled;

/// Why [`Scheduler::get_task`](crate::Scheduler::get_task) returned no task.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GetTaskError {
    /// The queue does not exist.
    UnknownQueue,
    /// The queue is empty.
    Empty,
}

/// Why [`Scheduler::task_done`](crate::Scheduler::task_done) failed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskDoneError {
    /// The queue does not exist.
    UnknownQueue,
    /// Every task taken from the queue is already marked done.
    NotTaken,
}

impl fmt::Display for AddQueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NameTaken => "a queue of that name exists",
            Self::InvalidName => "queue name is empty or too long",
            Self::InvalidMaxSize => "the queue cannot hold that many tasks",
            Self::NoQueueSlot => "no queue slot left",
        })
    }
}

impl fmt::Display for UnknownQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no such queue")
    }
}

impl<T> fmt::Debug for ScheduleError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue(_) => "UnknownQueue(..)",
            Self::QueueFull(_) => "QueueFull(..)",
            Self::Capacity(_) => "Capacity(..)",
        })
    }
}

impl<T> fmt::Display for ScheduleError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue(_) => "no such queue",
            Self::QueueFull(_) => "queue is full",
            Self::Capacity(_) => "no task slot left",
        })
    }
}

impl fmt::Display for NotScheduled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task is not scheduled")
    }
}

impl fmt::Display for GetTaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue => "no such queue",
            Self::Empty => "queue is empty",
        })
    }
}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownQueue => "no such queue",
            Self::NotTaken => "task_done called more often than tasks were taken",
        })
    }
}

impl core::error::Error for AddQueueError {}
impl core::error::Error for UnknownQueue {}
impl<T> core::error::Error for ScheduleError<T> {}
impl core::error::Error for NotScheduled {}
impl core::error::Error for GetTaskError {}
impl core::error::Error for TaskDoneError {}

/// A shared scheduler (`CsScheduler`, `SpinScheduler`) was used again from
/// inside its own `with` closure, or from a hand-back callback run by it:
/// the scheduler is already borrowed, and the inner call is refused instead
/// of panicking or deadlocking. It holds the value the call was given, if
/// any ([`Busy::into_inner`]), so nothing is dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
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

impl<T> fmt::Display for Busy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scheduler already borrowed by an enclosing call")
    }
}

impl<T> core::error::Error for Busy<T> {}

#[cfg(feature = "defmt")]
impl<T> defmt::Format for ScheduleError<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::UnknownQueue(_) => defmt::write!(f, "UnknownQueue(..)"),
            Self::QueueFull(_) => defmt::write!(f, "QueueFull(..)"),
            Self::Capacity(_) => defmt::write!(f, "Capacity(..)"),
        }
    }
}

#[cfg(feature = "defmt")]
impl<T> defmt::Format for Busy<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Busy(..)");
    }
}
