//! [`SchedulerThread`]: the owner of the shared state and of the
//! background thread; it builds the core, starts the thread and stops it,
//! handing every task back.

use core::any::TypeId;
use core::fmt;
use core::ops::Deref;
use std::boxed::Box;
use std::string::String;
use std::sync::PoisonError;
use std::vec::Vec;

use super::clock::MonotonicClock;
use super::error::{StartError, Stopped};
use super::handle::SchedulerHandle;
use super::loom::{Arc, Builder, Condvar, JoinHandle, Mutex};
use super::options::{Options, DEFAULT_CAPACITY, DEFAULT_QUEUES};
use super::waker_list::WakerList;
use super::wakeup::{Phase, Shared, State, Waiters, DEFAULT_MAX_SLEEP};
use crate::clock::Clock;
use crate::error::AddQueueError;
use crate::scheduler::Scheduler;
use crate::subject::Subject;
use crate::task::Task;

/// A background thread that moves due tasks into named queues, and the
/// owner of that thread.
///
/// - `S`: the [`Subject`] of tasks; `P`: their payload;
/// - `C`: the [`Clock`], [`MonotonicClock`] by default;
/// - `N`: task slots ([`DEFAULT_CAPACITY`]); `QN`: queue slots
///   ([`DEFAULT_QUEUES`]), powers of two as for [`Scheduler`].
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
/// The core lives in one heap allocation: about 450 KB with the default `N`
/// and `QN` (it grows linearly with `N`). It is built on the stack of the
/// creating thread before it moves into the box, in unoptimised builds
/// possibly more than once, so a large `N` (16 384 and up) wants to be
/// created on a thread with a large stack, such as the main thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tardy::{Options, SchedulerThread, Task, Wait};
///
/// let sched: SchedulerThread<u32, &str> =
///     SchedulerThread::new(&[("renew", 0)], Options::new())?;
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
pub struct SchedulerThread<
    S: Subject,
    P,
    C: Clock = MonotonicClock,
    const N: usize = DEFAULT_CAPACITY,
    const QN: usize = DEFAULT_QUEUES,
> {
    pub(super) handle: SchedulerHandle<S, P, C, N, QN>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_name: String,
}

/// The core scheduler on `clock`, boxed.
///
/// `Box::new(Scheduler::new(clock))` builds the value on the calling thread's
/// stack first, optimised or not, and the core with the default sizes is
/// close to half a MiB: more than many threads have (a C thread on musl gets
/// 128 KiB) and a stack overflow aborts the process. A core larger than
/// `ON_STACK` is therefore built on a short-lived thread whose stack is sized
/// for it. Building it in place instead would take `unsafe` field-by-field
/// initialisation through heapless' private layout. If that thread cannot be
/// spawned, the core is built here after all.
fn boxed_core<C, Q, S, P, const N: usize, const QN: usize>(
    clock: C,
) -> Box<Scheduler<C, Q, S, P, N, QN>>
where
    C: Clock + Send,
    Q: crate::queue::TaskQueue<Task<S, P>> + Send,
    S: Subject + Send,
    P: Send,
{
    const ON_STACK: usize = 16 * 1024;
    let size = core::mem::size_of::<Scheduler<C, Q, S, P, N, QN>>();
    if size <= ON_STACK || cfg!(tardy_loom) {
        return build_here(clock);
    }
    let clock = std::sync::Mutex::new(Some(clock));
    let take = || clock.lock().ok().and_then(|mut c| c.take());
    let built = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("tardy-init".into())
            .stack_size(size.saturating_mul(4).saturating_add(1 << 20))
            .spawn_scoped(scope, || take().map(build_here))
            .ok()
            .and_then(|t| t.join().ok())
            .flatten()
    });
    match (built, take()) {
        (Some(core), _) => core,
        (None, Some(clock)) => build_here(clock),
        // Only a panic of the thread after it took the clock gets here, and
        // building an empty scheduler does not panic.
        (None, None) => unreachable!("building an empty scheduler panicked"),
    }
}

/// `Box::new(Scheduler::new(clock))` in a frame of its own: the temporary
/// takes stack only while this runs, not in every caller's frame.
#[inline(never)]
fn build_here<C, Q, S, P, const N: usize, const QN: usize>(
    clock: C,
) -> Box<Scheduler<C, Q, S, P, N, QN>>
where
    C: Clock,
    Q: crate::queue::TaskQueue<Task<S, P>>,
    S: Subject,
{
    Box::new(Scheduler::new(clock))
}

impl<S, P> SchedulerThread<S, P>
where
    S: Subject,
{
    /// A scheduler on a new [`MonotonicClock`] with the queues `queues`
    /// (name, max_size; 0 means unbounded), not yet started.
    ///
    /// # Errors
    ///
    /// The [`AddQueueError`] of the first queue that could not be added (a
    /// duplicate or invalid name, more than [`DEFAULT_QUEUES`] queues).
    pub fn new(queues: &[(&str, usize)], options: Options) -> Result<Self, AddQueueError>
    where
        S: Send,
        P: Send,
    {
        Self::with_clock(MonotonicClock::new(), queues, options)
    }
}

impl<S, P, C, const N: usize, const QN: usize> SchedulerThread<S, P, C, N, QN>
where
    S: Subject,
    C: Clock,
{
    /// A scheduler on `clock` with the queues `queues` (name, max_size; 0
    /// means unbounded), not yet started. See [`Options::tick`] for a clock
    /// whose ticks are not nanoseconds.
    ///
    /// The core is built on the heap without passing through the calling
    /// thread's stack, so a scheduler of any size can be created from a
    /// thread with a small stack.
    ///
    /// # Errors
    ///
    /// The [`AddQueueError`] of the first queue that could not be added (a
    /// duplicate or invalid name, more than `QN` queues).
    pub fn with_clock(
        clock: C,
        queues: &[(&str, usize)],
        options: Options,
    ) -> Result<Self, AddQueueError>
    where
        S: Send,
        P: Send,
        C: Send,
    {
        let mut core = boxed_core(clock);
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
                max_sleep: options.max_sleep,
                #[cfg(test)]
                largest_batch: 0,
            }),
            wake: Condvar::new(),
            lead: Condvar::new(),
            ready: core::array::from_fn(|_| Condvar::new()),
            idle: core::array::from_fn(|_| Condvar::new()),
            tick: options.tick,
        };
        Ok(Self {
            handle: SchedulerHandle {
                shared: Arc::new(shared),
            },
            thread: Mutex::new(None),
            thread_name: options.thread_name,
        })
    }

    /// A handle for another thread.
    #[must_use]
    pub fn handle(&self) -> SchedulerHandle<S, P, C, N, QN> {
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
    pub fn is_running(&self) -> bool {
        self.handle.shared.lock().phase == Phase::Running
    }
}

impl<S, P, C, const N: usize, const QN: usize> SchedulerThread<S, P, C, N, QN>
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
        if st.max_sleep.is_none() && TypeId::of::<C>() != TypeId::of::<MonotonicClock>() {
            st.max_sleep = Some(DEFAULT_MAX_SLEEP);
        }
        *thread = Some(spawned);
        log_debug!("tardy: scheduler thread started");
        Ok(())
    }
}

impl<S, P, C, const N: usize, const QN: usize> Deref for SchedulerThread<S, P, C, N, QN>
where
    S: Subject,
    C: Clock,
{
    type Target = SchedulerHandle<S, P, C, N, QN>;

    fn deref(&self) -> &Self::Target {
        &self.handle
    }
}

impl<S: Subject, P, C: Clock, const N: usize, const QN: usize> Drop
    for SchedulerThread<S, P, C, N, QN>
{
    fn drop(&mut self) {
        // Already stopped is fine; the tasks handed back are dropped.
        let _ = self.stop();
    }
}

impl<S: Subject, P, C: Clock, const N: usize, const QN: usize> fmt::Debug
    for SchedulerThread<S, P, C, N, QN>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerThread")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl<S, P, C, const N: usize, const QN: usize> Shared<S, P, C, N, QN>
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
