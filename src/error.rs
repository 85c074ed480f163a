//! Every error the core returns, one type per operation.
//!
//! Errors that are given a value hand it back ([`ScheduleError::into_inner`]),
//! so nothing is dropped on the way out. `Display` and `core::error::Error`
//! come from `thiserror` (without std); `Debug` of the errors that hold a
//! value is written by hand so that the value need not be `Debug`.

use core::fmt;

use thiserror::Error;

/// Why [`Scheduler::add_queue`](crate::Scheduler::add_queue) failed.
///
/// # Examples
///
/// ```
/// use tardy::{AddQueueError, HeaplessQueue, ManualClock, Scheduler, Task};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
///     Scheduler::new(ManualClock::new(0));
/// s.add_queue("renew", 0)?;
/// assert_eq!(s.add_queue("renew", 0), Err(AddQueueError::NameTaken));
/// assert_eq!(s.add_queue("", 0), Err(AddQueueError::InvalidName));
/// assert_eq!(s.add_queue("big", 5), Err(AddQueueError::InvalidMaxSize)); // holds 4
/// s.add_queue("other", 0)?;
/// assert_eq!(s.add_queue("third", 0), Err(AddQueueError::NoQueueSlot)); // QN = 2
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    /// Every queue index of the scheduler (`QN` of them; the variant's
    /// name calls one a slot) holds a queue or is retired.
    #[error("no queue index left")]
    NoQueueSlot,
}

/// The queue does not exist (never added, or removed).
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, UnknownQueue};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
///     Scheduler::new(ManualClock::new(0));
/// assert_eq!(s.queue_id("renew"), Err(UnknownQueue));
/// let q = s.add_queue("renew", 0)?;
/// s.remove_queue(q, |_| {})?;
/// assert_eq!(s.stats(q), Err(UnknownQueue));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("no such queue")]
pub struct UnknownQueue;

/// Why [`Scheduler::schedule`](crate::Scheduler::schedule) failed; it holds
/// the task, handed back.
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, ScheduleError, Task, When};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, &str>, 1>, u32, &str, 8, 2> =
///     Scheduler::new(ManualClock::new(0));
/// let q = s.add_queue("renew", 1)?;
/// s.schedule(Task::new(q, 1, "first"), When::Now)?;
/// match s.schedule(Task::new(q, 2, "second"), When::Now) {
///     Err(ScheduleError::QueueFull(task)) => assert_eq!(task.payload(), &"second"),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    #[cfg(feature = "periodic")]
    #[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
    #[error("the period is 0")]
    ZeroPeriod(T),
}

impl<T> ScheduleError<T> {
    /// The task that was not scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, &str>, 4>, u32, &str, 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.remove_queue(q, |_| {})?;
    /// let err = s.schedule(Task::new(q, 1, "example.org"), When::Now).unwrap_err();
    /// let task = err.into_inner(); // nothing is lost: reschedule it elsewhere
    /// assert_eq!(task.payload(), &"example.org");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::UnknownQueue(t) | Self::QueueFull(t) | Self::Capacity(t) => t,
            #[cfg(feature = "periodic")]
            Self::ZeroPeriod(t) => t,
        }
    }

    /// The task that was not scheduled, by reference.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 2, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// s.schedule(Task::new(q, 2, ()), When::After(5))?;
    /// let err = s.schedule(Task::new(q, 3, ()), When::After(5)).unwrap_err(); // N = 2
    /// assert_eq!(err.task().subject(), &3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task(&self) -> &T {
        match self {
            Self::UnknownQueue(t) | Self::QueueFull(t) | Self::Capacity(t) => t,
            #[cfg(feature = "periodic")]
            Self::ZeroPeriod(t) => t,
        }
    }
}

/// Why `AllocScheduler::reserve` allocated less than asked.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "alloc")] {
/// use tardy::{AllocScheduler, ManualClock, ReserveError, Task, VecDequeQueue};
///
/// let mut s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
///     AllocScheduler::new(ManualClock::new(0));
/// s.set_max_capacity(Some(1_000));
/// assert_eq!(s.reserve(2_000), Err(ReserveError::MaxCapacity));
/// assert_eq!(s.reserve(1_000), Ok(()));
/// # }
/// ```
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
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, NotScheduled, Scheduler, Task, When};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
///     Scheduler::new(ManualClock::new(0));
/// let q = s.add_queue("renew", 0)?;
/// let id = s.schedule(Task::new(q, 1, ()), When::After(5))?;
/// s.cancel(id)?;
/// assert_eq!(s.cancel(id), Err(NotScheduled)); // stale handle
/// assert_eq!(s.reschedule(id, When::Now), Err(NotScheduled));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("task is not scheduled")]
pub struct NotScheduled;

/// Why [`Scheduler::get_task`](crate::Scheduler::get_task) returned no task.
///
/// # Examples
///
/// ```
/// use tardy::{GetTaskError, HeaplessQueue, ManualClock, Scheduler, Task};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
///     Scheduler::new(ManualClock::new(0));
/// let q = s.add_queue("renew", 0)?;
/// assert_eq!(s.get_task(q), Err(GetTaskError::Empty));
/// s.remove_queue(q, |_| {})?;
/// assert_eq!(s.get_task(q), Err(GetTaskError::UnknownQueue));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, TaskDoneError, When};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
///     Scheduler::new(ManualClock::new(0));
/// let q = s.add_queue("renew", 0)?;
/// s.schedule(Task::new(q, 1, ()), When::Now)?;
/// s.get_task(q)?;
/// s.task_done(q)?;
/// assert_eq!(s.task_done(q), Err(TaskDoneError::NotTaken));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
            #[cfg(feature = "periodic")]
            Self::ZeroPeriod(_) => "ZeroPeriod(..)",
        })
    }
}

/// A shared scheduler (`CsScheduler`, `SpinScheduler`) was used again from
/// inside its own `with` closure, or from a hand-back callback run by it:
/// the scheduler is already borrowed, and the inner call is refused instead
/// of panicking or deadlocking. It holds the value the call was given, if
/// any ([`Busy::into_inner`]), so nothing is dropped.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "critical-section")] {
/// use tardy::{Busy, CsScheduler, ManualClock, HeaplessQueue, Task, When};
///
/// type Ctx = Task<u32, &'static str>;
/// let s: CsScheduler<ManualClock, HeaplessQueue<Ctx, 4>, u32, &str, 8, 2> =
///     CsScheduler::new(ManualClock::new(0));
/// let q = s.with(|s| s.add_queue("renew", 0)).unwrap().unwrap();
/// let inner = s.with(|_| s.schedule(Task::new(q, 1, "example.org"), When::Now));
/// // Refused inside `with`: the task comes back in `Busy`.
/// let Ok(Err(Busy(task))) = inner else { panic!() };
/// assert_eq!(task.payload(), &"example.org");
/// # }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Error)]
#[error("scheduler already borrowed by an enclosing call")]
pub struct Busy<T = ()>(pub T);

impl<T> Busy<T> {
    /// The value that was handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "critical-section")] {
    /// use tardy::{CsScheduler, ManualClock, HeaplessQueue, Task, When};
    ///
    /// type Ctx = Task<u32, &'static str>;
    /// let s: CsScheduler<ManualClock, HeaplessQueue<Ctx, 4>, u32, &str, 8, 2> =
    ///     CsScheduler::new(ManualClock::new(0));
    /// let q = s.with(|s| s.add_queue("renew", 0)).unwrap().unwrap();
    /// let busy = s.with(|_| s.schedule(Task::new(q, 1, "example.org"), When::Now).unwrap_err());
    /// assert_eq!(busy.unwrap().into_inner().payload(), &"example.org");
    /// # }
    /// ```
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
            #[cfg(feature = "periodic")]
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
