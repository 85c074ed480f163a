//! The settings of a [`SchedulerThread`](crate::SchedulerThread)
//! ([`Options`], the default number of queues) and how long a worker
//! waits for a task ([`Wait`]).

use std::string::String;
use std::time::Duration;

/// The most queues a [`SchedulerThread`](crate::SchedulerThread) holds at once unless its `QN`
/// says otherwise.
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub const DEFAULT_QUEUES: usize = 16;

/// How long [`get_task`](crate::SchedulerHandle::get_task) waits for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub enum Wait {
    /// Do not wait: [`TakeError::Empty`](crate::TakeError::Empty) when the queue is empty.
    NoWait,
    /// Wait until a task comes, the queue is removed or the scheduler stops.
    Forever,
    /// Wait at most this long, then [`TakeError::TimedOut`](crate::TakeError::TimedOut).
    Timeout(Duration),
}

/// Settings of a [`SchedulerThread`](crate::SchedulerThread).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tardy::Options;
///
/// let options = Options::new()
///     .thread_name("renewals")
///     .max_sleep(Duration::from_secs(60))
///     .capacity(100_000) // room for 100 000 tasks allocated at creation
///     .max_capacity(1_000_000); // never more than 10^6 scheduled at once
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct Options {
    pub(super) tick: Duration,
    pub(super) max_sleep: Option<Duration>,
    pub(super) thread_name: String,
    pub(super) capacity: usize,
    pub(super) max_capacity: Option<usize>,
}

impl Options {
    /// The defaults: ticks of 1 ns, the default bound on a sleep (see
    /// [`max_sleep`](Self::max_sleep)), thread named `tardy`, nothing
    /// allocated for tasks up front and no maximum: the scheduler grows as
    /// tasks come.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// assert_eq!(sched.allocated_bytes(), 0); // the defaults allocate no task room
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            tick: Duration::from_nanos(1),
            max_sleep: None,
            thread_name: String::from("tardy"),
            capacity: 0,
            max_capacity: None,
        }
    }

    /// Room for `tasks` scheduled tasks, allocated when the scheduler is
    /// created (it still grows beyond, up to
    /// [`max_capacity`](Self::max_capacity)). Default: 0, everything is
    /// allocated as tasks come, a segment of 4 096 task slots at a time;
    /// segments never move, so growing never copies the tasks under the
    /// lock. Memory is given back only by
    /// [`SchedulerHandle::shrink_to_fit`](crate::SchedulerHandle::shrink_to_fit).
    ///
    /// [`SchedulerThread::new`](crate::SchedulerThread::new) refuses more
    /// than 2^32 - 2 tasks ([`NewError::CapacityTooLarge`](crate::NewError::CapacityTooLarge)),
    /// and answers [`NewError::Alloc`](crate::NewError::Alloc) when the
    /// allocator refuses the room.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let options = Options::new().capacity(50_000); // allocated now, not under load
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], options)?;
    /// assert!(sched.capacity() >= 50_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn capacity(mut self, tasks: usize) -> Self {
        self.capacity = tasks;
        self
    }

    /// The most tasks scheduled at once (delivered tasks, in queues or
    /// taken by workers, do not count): one more is refused with
    /// [`SubmitError::Capacity`](crate::SubmitError::Capacity), the task
    /// handed back. Default: no maximum but the slot numbers' (2^32 - 2
    /// tasks) and the allocator's (a refused allocation is the same
    /// `Capacity` error, never an abort).
    ///
    /// [`SchedulerThread::new`](crate::SchedulerThread::new) refuses 0
    /// ([`NewError::ZeroMaxCapacity`](crate::NewError::ZeroMaxCapacity)),
    /// a maximum below [`capacity`](Self::capacity)
    /// ([`NewError::MaxBelowInitial`](crate::NewError::MaxBelowInitial)) and
    /// more than 2^32 - 2 ([`NewError::CapacityTooLarge`](crate::NewError::CapacityTooLarge)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, SubmitError, Task, When};
    ///
    /// let options = Options::new().max_capacity(1);
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], options)?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.schedule(Task::new(renew, 1, ()), When::At(u64::MAX))?;
    /// let full = sched.schedule(Task::new(renew, 2, ()), When::At(u64::MAX));
    /// assert!(matches!(full, Err(SubmitError::Capacity(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_capacity(mut self, tasks: usize) -> Self {
        self.max_capacity = Some(tasks);
        self
    }

    /// How long one tick of the clock lasts; the thread uses it only to turn
    /// "ticks until the next deadline" into a sleep. The default, 1 ns, is
    /// right for [`MonotonicClock`](crate::MonotonicClock). A zero duration counts as 1 ns.
    ///
    /// A wrong value never makes a task early (the clock decides when a
    /// task is due): too long a tick makes tasks late, too short makes the
    /// thread wake, find nothing due, and sleep again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::{FnClock, Options, SchedulerThread};
    ///
    /// // A clock counting milliseconds (here a fixed reading, for the example).
    /// let clock: FnClock<fn() -> u64> = FnClock(|| 1_000);
    /// let options = Options::new().tick(Duration::from_millis(1));
    /// let sched: SchedulerThread<u32, (), _> = SchedulerThread::new(clock, &[("renew", 0)], options)?;
    /// assert_eq!(sched.now(), 1_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick.max(Duration::from_nanos(1));
        self
    }

    /// The longest the thread, or the worker that waits for the next
    /// deadline, sleeps before it reads the clock again, even if the next
    /// deadline is further away (the `sleep` option of the Python scheduler
    /// tardy re-implements, here as a bound only: it never delays a task).
    /// It bounds how late a due task can be after a clock that stepped back
    /// reads correctly again: within `max_sleep` plus the time to move it. Also useful with a clock that the thread
    /// cannot predict, such as a simulated one moved by the host.
    ///
    /// Default: no bound with [`MonotonicClock`](crate::MonotonicClock),
    /// which never steps back (and no polling); 1 s with any other clock.
    /// `Duration::MAX` means no bound. A zero duration counts as 1 ns.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// // Read the clock at least once a minute, even with nothing due sooner.
    /// let options = Options::new().max_sleep(Duration::from_secs(60));
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], options)?;
    /// sched.start()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_sleep(mut self, max_sleep: Duration) -> Self {
        self.max_sleep = Some(max_sleep.max(Duration::from_nanos(1)));
        self
    }

    /// The name of the scheduler thread. Default: `tardy`. A name with a NUL
    /// byte is refused by [`SchedulerThread::new`](crate::SchedulerThread::new)
    /// ([`NewError::InvalidThreadName`](crate::NewError::InvalidThreadName)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, NewError, Options, SchedulerThread};
    ///
    /// let options = Options::new().thread_name("ocsp-renewals"); // as shown by ps, gdb
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], options)?;
    /// let nul = Options::new().thread_name("a\0b");
    /// let bad = SchedulerThread::<u32, ()>::new(MonotonicClock::new(), &[], nul);
    /// assert_eq!(bad.unwrap_err(), NewError::InvalidThreadName);
    /// # let _ = sched;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}
