//! What gets scheduled: [`Task`], its handle [`TaskId`], the [`QueueId`] it
//! is delivered into, [`When`] it is due, and for a periodic task (feature
//! `periodic`) its `MissedTickBehavior` and the `Period` each delivery
//! belongs to.

use core::num::{NonZeroU32, NonZeroU64};

use crate::clock::Ticks;

/// The handle of a scheduled task, returned by
/// [`Scheduler::schedule`](crate::Scheduler::schedule).
///
/// A handle names one scheduling of one task and nothing else: once the task
/// is delivered, cancelled or handed back, the handle is stale and every
/// operation given it answers "not scheduled", even after its slot is reused
/// by another task. Its raw value is never 0.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    /// The raw value, never 0 (for the C ABI and logs).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::TaskId;
    ///
    /// let id = TaskId::from_raw(42).unwrap();
    /// assert_eq!(id.get(), 42);
    /// ```
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0.get()
    }

    /// A handle from its raw value; `None` for 0, which never names a task.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::TaskId;
    ///
    /// assert_eq!(TaskId::from_raw(7).map(TaskId::get), Some(7));
    /// assert_eq!(TaskId::from_raw(0), None);
    /// ```
    #[must_use]
    pub const fn from_raw(raw: u64) -> Option<Self> {
        match NonZeroU64::new(raw) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    pub(crate) const fn new(raw: NonZeroU64) -> Self {
        Self(raw)
    }
}

/// The handle of a queue, returned by
/// [`Scheduler::add_queue`](crate::Scheduler::add_queue).
///
/// A removed queue's handle stays stale even if a queue of the same name is
/// added again: it holds the queue index's 48-bit generation, which grows
/// with every removal, and a queue index whose generation is spent is never
/// used again. 8 bytes.
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
///     Scheduler::new(ManualClock::new(0));
/// let q = s.add_queue("renew", 0)?;
/// s.remove_queue(q, |_| {})?;
/// let again = s.add_queue("renew", 0)?;
/// assert_ne!(q, again); // the old handle stays stale
/// assert!(s.stats(q).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QueueId {
    pub(crate) index: u16,
    /// The high 16 bits of the slot's generation.
    pub(crate) generation_high: u16,
    /// The low 32 bits of the slot's generation (never 0).
    pub(crate) generation: NonZeroU32,
}

impl QueueId {
    /// A handle of queue index `index` that names no queue (its last
    /// generation is the retired one, never given to a queue): for a task
    /// whose queue is gone.
    pub(crate) const fn stale(index: u16) -> Self {
        Self {
            index,
            generation_high: u16::MAX,
            generation: NonZeroU32::MAX,
        }
    }
}

/// When a task is due.
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
///
/// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
///     Scheduler::new(ManualClock::new(100));
/// let q = s.add_queue("q", 0)?;
/// let (_, d1) = s.schedule_with_deadline(Task::new(q, 1, ()), When::At(150))?;
/// let (_, d2) = s.schedule_with_deadline(Task::new(q, 2, ()), When::After(50))?;
/// let (_, d3) = s.schedule_with_deadline(Task::new(q, 3, ()), When::Now)?;
/// assert_eq!((d1, d2, d3), (150, 150, 100));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// As soon as possible: straight into its queue, bypassing the schedule.
    Now,
    /// At an absolute time on the scheduler's clock. A time in the past is
    /// due at the next [`run_pending`](crate::Scheduler::run_pending).
    At(Ticks),
    /// After a delay from the clock's reading when scheduled (saturating).
    /// `After(0)` is due at once but, unlike [`When::Now`], goes through the
    /// schedule.
    After(Ticks),
}

/// A task context: the queue it is delivered into, its subject, its
/// deadline, how often it was scheduled, a user payload, and for an
/// occurrence of a periodic task (feature `periodic`) the `Period` it
/// belongs to.
///
/// A task is owned by whoever holds it: the caller until it is scheduled,
/// the scheduler while it is scheduled, the queue until a worker takes it,
/// then the worker, who may schedule it again to retry (its
/// [`attempt`](Task::attempt) counts schedulings).
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
///
/// type Ctx = Task<u32, &'static str>;
/// let clock = ManualClock::new(0);
/// let mut s: Scheduler<&ManualClock, HeaplessQueue<Ctx, 4>, u32, &str, 8, 2> =
///     Scheduler::new(&clock);
/// let q = s.add_queue("renew", 0).unwrap();
/// s.schedule(Task::new(q, 7, "cert-7"), When::After(10)).unwrap();
/// clock.advance(10);
/// assert_eq!(s.run_pending(), 1);
/// let task = s.get_task(q).unwrap();
/// assert_eq!((task.subject(), task.payload(), task.attempt()), (&7, &"cert-7", 1));
/// // retry: the same context goes back with a new time
/// s.schedule(task, When::After(5)).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
// On 32-bit targets, fields in declaration order: a task then moves as whole
// words, where the reordered default layout split its moves into odd-sized
// pieces that call `memcpy` (730 bytes of code in the firmware example). On
// 64-bit targets the default layout moves faster (5 % fewer instructions per
// step of benches/instructions.rs).
#[cfg_attr(target_pointer_width = "32", repr(C))]
pub struct Task<S, P> {
    pub(crate) id: Option<TaskId>,
    pub(crate) queue: QueueId,
    pub(crate) deadline: Ticks,
    pub(crate) attempt: u32,
    /// With `period`: how many periods it stands for beyond its own,
    /// saturating at `u32::MAX` (beside `attempt`, filling the 8-byte word
    /// it starts).
    #[cfg(feature = "periodic")]
    pub(crate) missed: u32,
    pub(crate) subject: S,
    pub(crate) payload: P,
    /// For an occurrence of a periodic task, its period's index plus one
    /// (`None` for every other task); 8 bytes, see [`Task::period`].
    #[cfg(feature = "periodic")]
    pub(crate) period: Option<NonZeroU64>,
}

impl<S, P> Task<S, P> {
    /// A new task for `queue`, about `subject`, carrying `payload`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, &str>, 4>, u32, &str, 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// let task = Task::new(q, 42, "example.org");
    /// assert_eq!((task.id(), task.attempt()), (None, 0));
    /// s.schedule(task, When::After(10))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn new(queue: QueueId, subject: S, payload: P) -> Self {
        Self {
            id: None,
            queue,
            deadline: 0,
            attempt: 0,
            subject,
            payload,
            #[cfg(feature = "periodic")]
            period: None,
            #[cfg(feature = "periodic")]
            missed: 0,
        }
    }

    /// The handle of its latest scheduling; `None` before it was scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// let id = s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// s.run_all();
    /// assert_eq!(s.get_task(q)?.id(), Some(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn id(&self) -> Option<TaskId> {
        self.id
    }

    /// The queue it is delivered into.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    /// # let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    /// #     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// let task = Task::new(q, 42, ());
    /// assert_eq!(task.queue(), q);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn queue(&self) -> QueueId {
        self.queue
    }

    /// Sends the task to another queue the next time it is scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let (fast, slow) = (s.add_queue("fast", 0)?, s.add_queue("slow", 0)?);
    /// let mut task = Task::new(fast, 42, ());
    /// task.set_queue(slow); // e.g. a retry goes to the slow lane
    /// s.schedule(task, When::Now)?;
    /// assert_eq!(s.get_task(slow)?.subject(), &42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_queue(&mut self, queue: QueueId) {
        self.queue = queue;
    }

    /// Its deadline in ticks: the time it was due, or for a task scheduled
    /// with [`When::Now`] the time it was scheduled. 0 before it was
    /// scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(100));
    /// let q = s.add_queue("q", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(20))?;
    /// s.clock().set(125);
    /// s.run_pending();
    /// let task = s.get_task(q)?;
    /// assert_eq!(s.now() - task.deadline(), 5); // delivered 5 ticks late
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn deadline(&self) -> Ticks {
        self.deadline
    }

    /// How many times it was scheduled (1 after the first scheduling; a
    /// retry makes it 2, and so on). Saturates at `u32::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::Now)?;
    /// let task = s.get_task(q)?;
    /// assert_eq!(task.attempt(), 1);
    /// s.schedule(task, When::Now)?; // a retry
    /// assert_eq!(s.get_task(q)?.attempt(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn attempt(&self) -> u32 {
        self.attempt
    }

    /// What the task is about.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    /// # let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    /// #     Scheduler::new(ManualClock::new(0));
    /// # let q = s.add_queue("q", 0)?;
    /// let task = Task::new(q, 42_u32, "example.org");
    /// assert_eq!(task.subject(), &42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn subject(&self) -> &S {
        &self.subject
    }

    /// The user payload.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    /// # let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    /// #     Scheduler::new(ManualClock::new(0));
    /// # let q = s.add_queue("q", 0)?;
    /// let task = Task::new(q, 42_u32, "example.org");
    /// assert_eq!(task.payload(), &"example.org");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn payload(&self) -> &P {
        &self.payload
    }

    /// The user payload, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    /// # let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    /// #     Scheduler::new(ManualClock::new(0));
    /// # let q = s.add_queue("q", 0)?;
    /// let mut task = Task::new(q, 42_u32, 0_u8); // payload: failures so far
    /// *task.payload_mut() += 1;
    /// assert_eq!(task.payload(), &1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn payload_mut(&mut self) -> &mut P {
        &mut self.payload
    }

    /// The subject and the payload.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    /// # let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    /// #     Scheduler::new(ManualClock::new(0));
    /// # let q = s.add_queue("q", 0)?;
    /// let task = Task::new(q, 42_u32, "example.org");
    /// let (subject, payload) = task.into_parts();
    /// assert_eq!((subject, payload), (42, "example.org"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_parts(self) -> (S, P) {
        (self.subject, self.payload)
    }

    /// The payload alone.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    /// # let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    /// #     Scheduler::new(ManualClock::new(0));
    /// # let q = s.add_queue("q", 0)?;
    /// let task = Task::new(q, 42_u32, String::from("example.org"));
    /// let name: String = task.into_payload();
    /// assert_eq!(name, "example.org");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_payload(self) -> P {
        self.payload
    }
}

/// What a task entering its queue straight from `schedule`
/// ([`When::Now`]) had before, put back when the queue refuses it.
pub(crate) struct Saved {
    id: Option<TaskId>,
    deadline: Ticks,
    attempt: u32,
    #[cfg(feature = "periodic")]
    period: Option<NonZeroU64>,
    #[cfg(feature = "periodic")]
    missed: u32,
}

impl<S, P> Task<S, P> {
    /// Makes it the task `id`, due `now`, scheduled once more (and no
    /// occurrence of a periodic task); returns what it was.
    pub(crate) fn enter_now(&mut self, id: TaskId, now: Ticks) -> Saved {
        let saved = Saved {
            id: self.id.replace(id),
            deadline: core::mem::replace(&mut self.deadline, now),
            attempt: self.attempt,
            #[cfg(feature = "periodic")]
            period: self.period.take(),
            #[cfg(feature = "periodic")]
            missed: core::mem::take(&mut self.missed),
        };
        self.attempt = self.attempt.saturating_add(1);
        saved
    }

    /// Puts back what [`Task::enter_now`] changed.
    pub(crate) fn restore(&mut self, saved: Saved) {
        (self.id, self.deadline, self.attempt) = (saved.id, saved.deadline, saved.attempt);
        #[cfg(feature = "periodic")]
        {
            (self.period, self.missed) = (saved.period, saved.missed);
        }
    }
}

/// The period of an occurrence (feature `periodic`).
#[cfg(feature = "periodic")]
impl<S, P> Task<S, P> {
    /// For an occurrence delivered by a periodic task
    /// ([`Scheduler::schedule_periodic`](crate::Scheduler::schedule_periodic)):
    /// which period it belongs to and how many later periods it stands for.
    /// `None` for every other task, including an occurrence scheduled again
    /// (a retry is an ordinary task) and a periodic task handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, MissedTickBehavior, Period, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("sample", 0)?;
    /// s.schedule_periodic(Task::new(q, 1, ()), When::At(0), 10, MissedTickBehavior::Burst)?;
    /// s.run_pending();
    /// let sample = s.get_task(q)?;
    /// assert_eq!(sample.period(), Some(Period { index: 0, missed: 0 }));
    /// s.schedule(sample, When::After(3))?; // a retry is an ordinary task
    /// s.clock().set(3);
    /// s.run_pending();
    /// assert_eq!(s.get_task(q)?.period(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
    #[must_use]
    pub const fn period(&self) -> Option<Period> {
        match self.period {
            Some(p) => Some(Period {
                index: p.get() - 1,
                missed: self.missed as u64,
            }),
            None => None,
        }
    }

    /// Marks it as the occurrence of period `index` standing for `missed`
    /// later periods too.
    pub(crate) fn set_period(&mut self, index: u64, missed: u64) {
        self.period = NonZeroU64::new(index.saturating_add(1));
        self.missed = u32::try_from(missed).unwrap_or(u32::MAX);
    }
}

/// Which period an occurrence of a periodic task belongs to, from
/// [`Task::period`].
///
/// Every period of a periodic task is accounted for exactly once: it has
/// a delivery of its own, or it is counted in the `missed` of the delivery
/// before it. So the next delivery's `index` is this one's
/// `index + missed + 1`.
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, MissedTickBehavior, Scheduler, Task, When};
///
/// let clock = ManualClock::new(0);
/// let mut s: Scheduler<&ManualClock, HeaplessQueue<Task<u8, ()>, 4>, u8, (), 8, 2> =
///     Scheduler::new(&clock);
/// let q = s.add_queue("sample", 0)?;
/// s.schedule_periodic(Task::new(q, 1, ()), When::At(10), 10, MissedTickBehavior::Skip)?;
/// clock.set(35); // the periods due at 10, 20 and 30 have passed
/// s.run_pending();
/// let p = s.get_task(q)?.period().unwrap();
/// assert_eq!((p.index, p.missed), (0, 2)); // one delivery for periods 0, 1 and 2
/// assert_eq!(s.next_deadline(), Some(40)); // period 3
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "periodic")]
#[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    /// The period's number: 0 for the first deadline, `k` for the deadline
    /// `k` periods after it (before any [`MissedTickBehavior::Delay`] shift
    /// or [`reschedule`](crate::Scheduler::reschedule)). Saturates at
    /// 2^62 - 1.
    pub index: u64,
    /// How many periods after `index` passed without a delivery of their
    /// own and are coalesced into this one ([`MissedTickBehavior::Skip`],
    /// [`MissedTickBehavior::Delay`]); always 0 under
    /// [`MissedTickBehavior::Burst`]. Saturates at `u32::MAX`.
    pub missed: u64,
}

/// What a periodic task does about periods that pass while it cannot be
/// delivered: the host called [`run_pending`](crate::Scheduler::run_pending)
/// late (a slow worker, a busy loop, a clock that jumped forward), or its
/// queue was full. The names and meanings are tokio's
/// (`tokio::time::MissedTickBehavior`).
///
/// The timelines below are for a task with first deadline 0 and period 10
/// (ticks), whose deliveries at 0 and 10 are on time, then nothing can be
/// delivered until 35 (the host was away, or the queue was full until 35),
/// then the queue has room again. `#k` is the occurrence of period `k`,
/// `+m` its [`Period::missed`].
///
/// The occurrences' [`deadline`](Task::deadline) is the deadline of the
/// period they belong to. Under `Burst` and `Skip` deadlines are always
/// `first + k * period` (no drift, whatever the lateness); under `Delay`
/// the schedule moves. All deadline arithmetic saturates at
/// [`Ticks::MAX`](crate::Ticks), which means "never".
#[cfg(feature = "periodic")]
#[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTickBehavior {
    /// Catch up: every period gets a delivery of its own, as fast as the
    /// queue takes them, then the schedule goes on where it was. The core's
    /// [`Scheduler::run_pending`](crate::Scheduler::run_pending) delivers
    /// one per call while behind; the interrupt-safe wrappers', the
    /// threaded layer's and the C libraries' `run_pending` loop over the
    /// core and catch up in one call.
    ///
    /// ```text
    /// delivered at   0   10   35   35   40   50
    /// occurrence     #0  #1   #2   #3   #4   #5
    /// its deadline   0   10   20   30   40   50
    /// missed         0   0    0    0    0    0
    /// ```
    #[default]
    Burst,
    /// Postpone: one delivery for the late period, counting the periods
    /// that passed since as missed, then the schedule starts again one
    /// period after that delivery (`time delivered + period`).
    ///
    /// ```text
    /// delivered at   0   10   35   45   55
    /// occurrence     #0  #1   #2   #4   #5
    /// its deadline   0   10   20   45   55
    /// missed         0   0    1    0    0
    /// ```
    Delay,
    /// Coalesce: one delivery for the late period, counting the periods
    /// that passed since as missed, then the schedule goes on at the next
    /// deadline still ahead on the original grid.
    ///
    /// ```text
    /// delivered at   0   10   35   40   50
    /// occurrence     #0  #1   #2   #4   #5
    /// its deadline   0   10   20   40   50
    /// missed         0   0    1    0    0
    /// ```
    Skip,
}

/// A scheduled task, seen where it waits in the scheduler, from
/// [`Scheduler::scheduled_task`](crate::Scheduler::scheduled_task).
///
/// The scheduler keeps a task's parts rather than the [`Task`] itself; this
/// view reads them. It borrows the scheduler, so it cannot outlive the next
/// change to it.
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
///
/// let clock = ManualClock::new(100);
/// let mut s: Scheduler<&ManualClock, HeaplessQueue<Task<u32, &str>, 4>, u32, &str, 8, 2> =
///     Scheduler::new(&clock);
/// let q = s.add_queue("renew", 0)?;
/// let id = s.schedule(Task::new(q, 7, "cert-7"), When::After(20))?;
/// let t = s.scheduled_task(id).unwrap();
/// assert_eq!((t.id(), t.queue(), t.deadline(), t.attempt()), (id, q, 120, 1));
/// assert_eq!((t.subject(), t.payload()), (&7, &"cert-7"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ScheduledTask<'a, S, P> {
    pub(crate) id: TaskId,
    pub(crate) queue: QueueId,
    pub(crate) deadline: Ticks,
    pub(crate) attempt: u32,
    pub(crate) subject: &'a S,
    pub(crate) payload: &'a P,
}

impl<'a, S, P> ScheduledTask<'a, S, P> {
    /// Its handle.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// let id = s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// assert_eq!(s.scheduled_task(id).map(|t| t.id()), Some(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn id(&self) -> TaskId {
        self.id
    }

    /// The queue it is delivered into.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// let id = s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// assert_eq!(s.scheduled_task(id).map(|t| t.queue()), Some(q));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn queue(&self) -> QueueId {
        self.queue
    }

    /// Its deadline in ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(100));
    /// let q = s.add_queue("q", 0)?;
    /// let id = s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// assert_eq!(s.scheduled_task(id).map(|t| t.deadline()), Some(105));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn deadline(&self) -> Ticks {
        self.deadline
    }

    /// How many times it was scheduled, this scheduling included.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// let id = s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// assert_eq!(s.scheduled_task(id).map(|t| t.attempt()), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn attempt(&self) -> u32 {
        self.attempt
    }

    /// What the task is about.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// let id = s.schedule(Task::new(q, 42, ()), When::After(5))?;
    /// assert_eq!(s.scheduled_task(id).map(|t| *t.subject()), Some(42));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn subject(&self) -> &'a S {
        self.subject
    }

    /// The user payload.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, &str>, 4>, u32, &str, 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// let id = s.schedule(Task::new(q, 42, "example.org"), When::After(5))?;
    /// assert_eq!(s.scheduled_task(id).map(|t| *t.payload()), Some("example.org"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn payload(&self) -> &'a P {
        self.payload
    }
}

impl<S, P> Clone for ScheduledTask<'_, S, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, P> Copy for ScheduledTask<'_, S, P> {}
