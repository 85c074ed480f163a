//! [`SchedulerThread`]: the owner of the shared state and of the
//! background thread; it builds the core, starts the thread and stops it,
//! handing every task back.

use core::any::TypeId;
use core::fmt;
use core::ops::Deref;
use std::string::String;
use std::sync::PoisonError;
use std::time::Duration;
use std::vec::Vec;

use super::clock::MonotonicClock;
use super::error::{NewError, StartError, Stopped};
use super::handle::SchedulerHandle;
use super::loom::{Arc, Builder, Condvar, JoinHandle, Mutex};
use super::options::{Options, DEFAULT_QUEUES};
use super::waker_list::WakerList;
use super::wakeup::{Core, Phase, Shared, State, Waiters, DEFAULT_MAX_SLEEP, HOLD_MAX};
use crate::clock::Clock;
use crate::scheduler::{AllocStorage, Storage};
use crate::subject::Subject;
use crate::task::Task;

/// A background thread that moves due tasks into named queues, and the
/// owner of that thread.
///
/// - `S`: the [`Subject`] of tasks; `P`: their payload;
/// - `C`: the [`Clock`], [`MonotonicClock`] by default;
/// - `QN`: the most queues at once ([`DEFAULT_QUEUES`]), a power of two from 2 to 256.
///
/// The task capacity is not a type parameter: the core is an
/// [`AllocScheduler`](crate::AllocScheduler) that grows as tasks come, in segments of 4 096 task
/// slots that never move (growing copies no task under the lock), from
/// [`Options::capacity`] (default 0) up to [`Options::max_capacity`]
/// (default: no maximum). Past the maximum, or when the allocator refuses,
/// scheduling answers [`SubmitError::Capacity`](crate::SubmitError::Capacity)
/// with the task handed back. Memory is given back only by
/// [`shrink_to_fit`](SchedulerHandle::shrink_to_fit).
///
/// Every operation on tasks and queues is on [`SchedulerHandle`], which this
/// type dereferences to; [`handle`](Self::handle) gives a clone to other
/// threads. Create it with its queues, [`start`](Self::start) the thread,
/// and [`stop`](Self::stop) it to get every task that is still scheduled or
/// queued back. Until it is started, tasks move only when someone calls
/// [`run_pending`](SchedulerHandle::run_pending) or
/// [`run_all`](SchedulerHandle::run_all). Dropping it stops the thread and
/// drops the tasks it still holds. A stopped scheduler cannot be started
/// again, and every handle then answers [`Stopped`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait};
///
/// let sched: SchedulerThread<u32, &str> =
///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
/// sched.start()?;
/// let renew = sched.queue_id("renew")?;
///
/// let worker = {
///     let h = sched.handle();
///     std::thread::spawn(move || {
///         let task = h.get_task(renew, Wait::Forever).unwrap();
///         h.task_done(renew).unwrap();
///         task.into_payload()
///     })
/// };
/// sched.schedule_after(Task::new(renew, 42, "example.org"), Duration::from_millis(1))?;
/// assert_eq!(worker.join().unwrap(), "example.org");
///
/// sched.schedule_after(Task::new(renew, 7, "later.example"), Duration::from_secs(3600))?;
/// let left = sched.stop()?; // graceful: everything still scheduled comes back
/// assert_eq!(left.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct SchedulerThread<
    S: Subject,
    P,
    C: Clock = MonotonicClock,
    const QN: usize = DEFAULT_QUEUES,
> {
    pub(super) handle: SchedulerHandle<S, P, C, QN>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_name: String,
}

/// The most tasks a scheduler can hold: its slot numbers are `u32`.
const MAX_TASKS: usize = <AllocStorage as Storage>::MAX_SLOTS;

impl<S, P, C, const QN: usize> SchedulerThread<S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    /// A scheduler on `clock` with the queues `queues` (name, max_size; 0
    /// means unbounded), not yet started; its task capacity and the rest
    /// come from `options`. Any clock: see [`Options::tick`] for one whose
    /// ticks are not nanoseconds, and [`Options::max_sleep`] for one that
    /// may step back.
    ///
    /// It allocates room for [`Options::capacity`] tasks (nothing by
    /// default) and the queue table; nothing of its size is built on the
    /// calling thread's stack, so it can be created from a thread with a
    /// small stack.
    ///
    /// # Errors
    ///
    /// - [`NewError::Queue`] with the [`AddQueueError`](crate::AddQueueError) of the first queue
    ///   that could not be added (a duplicate or invalid name, more than
    ///   `QN` queues, a `max_size` whose tasks could never fit in memory);
    /// - [`NewError::ZeroMaxCapacity`], [`NewError::MaxBelowInitial`],
    ///   [`NewError::CapacityTooLarge`] (above 2^32 - 2 tasks) for the
    ///   capacities of `options`;
    /// - [`NewError::Alloc`] when the allocator refused the initial
    ///   capacity;
    /// - [`NewError::InvalidThreadName`] for a thread name with a NUL byte.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// // Two queues: "renew" unbounded, "audit" at most 64 tasks.
    /// let options = Options::new().thread_name("renewals").max_capacity(100_000);
    /// let sched: SchedulerThread<u64, String> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0), ("audit", 64)], options)?;
    /// assert!(!sched.is_running()); // until started
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(clock: C, queues: &[(&str, usize)], options: Options) -> Result<Self, NewError>
    where
        S: Send,
        P: Send,
        C: Send,
    {
        let Options {
            tick,
            max_sleep,
            thread_name,
            capacity,
            max_capacity,
        } = options;
        if thread_name.contains('\0') {
            return Err(NewError::InvalidThreadName);
        }
        match max_capacity {
            _ if capacity > MAX_TASKS => return Err(NewError::CapacityTooLarge),
            Some(max) if max > MAX_TASKS => return Err(NewError::CapacityTooLarge),
            Some(0) => return Err(NewError::ZeroMaxCapacity),
            Some(max) if max < capacity => return Err(NewError::MaxBelowInitial),
            _ => {}
        }
        let mut core = Core::<S, P, C, QN>::new(clock);
        core.set_max_capacity(max_capacity);
        if capacity > 0 {
            core.reserve(capacity).map_err(|_| NewError::Alloc)?;
        }
        for &(name, max_size) in queues {
            core.add_queue(name, max_size)?;
        }
        let shared = Shared {
            state: Mutex::new(State {
                core,
                phase: Phase::Idle,
                sleep_until: None,
                waiters: [Waiters::default(); QN],
                leader: None,
                promoting: false,
                wakers: core::array::from_fn(|_| WakerList::new()),
                max_sleep,
                // Unbounded in unit tests (they count whole batches) and under
                // loom (a model must not depend on the time it takes).
                hold_max: if cfg!(any(test, tardy_loom)) {
                    Duration::MAX
                } else {
                    HOLD_MAX
                },
                #[cfg(test)]
                largest_batch: 0,
            }),
            wake: Condvar::new(),
            lead: Condvar::new(),
            ready: core::array::from_fn(|_| Condvar::new()),
            idle: core::array::from_fn(|_| Condvar::new()),
            tick,
            run_all: Mutex::new(()),
        };
        Ok(Self {
            handle: SchedulerHandle {
                shared: Arc::new(shared),
            },
            thread: Mutex::new(None),
            thread_name,
        })
    }

    /// A handle for another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// let h = sched.handle(); // Clone + Send + Sync
    /// std::thread::spawn(move || h.schedule(Task::new(renew, 1, ()), When::Now).unwrap())
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(sched.stats(renew)?.queued, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn handle(&self) -> SchedulerHandle<S, P, C, QN> {
        self.handle.clone()
    }

    /// Stops the thread (if it was started), waking every worker blocked in
    /// [`get_task`](SchedulerHandle::get_task) or
    /// [`join`](SchedulerHandle::join) with a `Stopped` error, waits for the
    /// thread to end, and hands back every task still scheduled or queued
    /// (queue by queue: scheduled, then waiting for room, then queued).
    /// Tasks that workers hold are theirs; scheduling them again answers
    /// [`SubmitError::Stopped`](crate::SubmitError::Stopped) with the task.
    /// After the thread failed ([`Halted::Failed`](crate::Halted::Failed)) it still hands every
    /// task back.
    ///
    /// # Errors
    ///
    /// [`Stopped`] when it was already stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, When};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.start()?;
    /// sched.schedule(Task::new(renew, 1, ()), When::At(u64::MAX))?;
    /// sched.schedule(Task::new(renew, 2, ()), When::Now)?;
    /// let left = sched.stop()?; // scheduled and queued tasks come back
    /// assert_eq!(left.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop(&self) -> Result<Vec<Task<S, P>>, Stopped> {
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        let tasks = self.handle.shared.shutdown()?;
        if let Some(thread) = thread.take() {
            // A panic in user code on the thread is caught there and marks
            // the scheduler failed, so the thread always ends normally.
            let _ = thread.join();
        }
        Ok(tasks)
    }

    /// `true` while the thread runs: `false` before
    /// [`start`](Self::start), after [`stop`](Self::stop), and once the
    /// thread failed ([`Halted::Failed`](crate::Halted::Failed)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{MonotonicClock, Options, SchedulerThread};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[], Options::new())?;
    /// assert!(!sched.is_running());
    /// sched.start()?;
    /// assert!(sched.is_running());
    /// sched.stop()?;
    /// assert!(!sched.is_running());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_running(&self) -> bool {
        self.handle.shared.lock().phase == Phase::Running
    }
}

impl<S, P, C, const QN: usize> SchedulerThread<S, P, C, QN>
where
    S: Subject + Send + 'static,
    P: Send + 'static,
    C: Clock + Send + 'static,
{
    /// Starts the thread that moves due tasks into their queues. Tasks
    /// already due are moved at once.
    ///
    /// # Errors
    ///
    /// [`StartError::AlreadyStarted`], [`StartError::Stopped`] after
    /// [`stop`](Self::stop), or [`StartError::Spawn`] when the thread could
    /// not be created.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task, Wait};
    ///
    /// let sched: SchedulerThread<u32, ()> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// let renew = sched.queue_id("renew")?;
    /// sched.start()?; // from now on due tasks move by themselves
    /// sched.schedule_after(Task::new(renew, 1, ()), Duration::from_millis(1))?;
    /// assert_eq!(sched.get_task(renew, Wait::Forever)?.subject(), &1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(&self) -> Result<(), StartError> {
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        let mut st = self.handle.shared.lock();
        match st.phase {
            Phase::Running => return Err(StartError::AlreadyStarted),
            Phase::Stopped => return Err(StartError::Stopped),
            Phase::Failed => return Err(StartError::Failed),
            Phase::Idle => {}
        }
        let name = self.thread_name.clone();
        let shared = Arc::clone(&self.handle.shared);
        let spawned = Builder::new()
            .name(name)
            .spawn(move || shared.background())
            .map_err(|e| StartError::Spawn(e.kind()))?;
        st.phase = Phase::Running;
        st.max_sleep = match st.max_sleep {
            None if TypeId::of::<C>() != TypeId::of::<MonotonicClock>() => Some(DEFAULT_MAX_SLEEP),
            // `Duration::MAX`: no bound, never a timer of that length.
            Some(Duration::MAX) => None,
            bound => bound,
        };
        *thread = Some(spawned);
        log_debug!("tardy: scheduler thread started");
        Ok(())
    }
}

impl<S, P, C, const QN: usize> Deref for SchedulerThread<S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    type Target = SchedulerHandle<S, P, C, QN>;

    fn deref(&self) -> &Self::Target {
        &self.handle
    }
}

impl<S: Subject, P, C: Clock, const QN: usize> Drop for SchedulerThread<S, P, C, QN> {
    fn drop(&mut self) {
        // Already stopped is fine; the tasks handed back are dropped.
        let _ = self.stop();
    }
}

impl<S: Subject, P, C: Clock, const QN: usize> fmt::Debug for SchedulerThread<S, P, C, QN> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerThread")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl<S, P, C, const QN: usize> Shared<S, P, C, QN>
where
    C: Clock,
    S: Subject,
{
    /// Marks the scheduler stopped, hands back every task, wakes everyone.
    pub(super) fn shutdown(&self) -> Result<Vec<Task<S, P>>, Stopped> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(Stopped);
        }
        st.phase = Phase::Stopped;
        st.sleep_until = None;
        let mut tasks = Vec::with_capacity(st.core.len());
        st.core.clear(|t| tasks.push(t));
        drop(st);
        self.notify_everyone();
        log_debug!("tardy: stopped, {} task(s) handed back", tasks.len());
        Ok(tasks)
    }
}
