//! [`SchedulerThread`] and its [`SchedulerHandle`]: the core [`Scheduler`]
//! behind one mutex, a background thread that sleeps until the next
//! deadline, and workers that wait for tasks on condition variables.
//!
//! # How it waits
//!
//! One `Mutex` guards the boxed core; every operation on it is O(log n), so
//! a single lock is held only briefly (moving due tasks goes in batches of
//! at most 64, releasing the lock in between). Four kinds of `Condvar` share
//! that mutex:
//!
//! - `wake`: the scheduler thread sleeps on it with `wait_timeout` until the
//!   earliest deadline (or without timeout when nothing is scheduled). It
//!   records the deadline it sleeps until; scheduling or rescheduling a task
//!   for an earlier time notifies it. Nothing else wakes it: there is no
//!   polling interval. A full queue regaining room needs no wake-up either:
//!   the core moves the first waiting due task into the queue inside the
//!   `get_task` that made room, under the same lock.
//! - `lead`: at most one worker blocked in
//!   [`get_task`](SchedulerHandle::get_task), the leader, waits on it with a
//!   timeout bounded by the earliest deadline (and by its own timeout). When
//!   it wakes at that deadline it moves the due tasks itself, under the
//!   lock, and takes its own: a due task reaches a waiting worker with one
//!   wake-up instead of two (the thread's, then the worker's), which is what
//!   costs time when the CPUs are busy. The scheduler thread keeps its own
//!   timer: whichever of the two takes the lock first delivers, the other
//!   finds nothing due. A task scheduled earlier than the leader's deadline
//!   notifies `lead` (as it does `wake`). When no worker leads and something
//!   is scheduled, one waiting worker is woken to take the lead (at most one
//!   such wake-up in flight), so other workers never wake for deadlines: no
//!   thundering herd.
//! - `ready[q]`, one per queue slot: the other workers blocked in
//!   `get_task` wait on it, without timeout (or their own). Whoever puts
//!   tasks into a queue notifies the leader if it waits for that queue, and
//!   as many other waiters as there are further queued tasks (all of them
//!   when there are at least as many tasks), after releasing the lock, so a
//!   woken worker does not block on the mutex at once.
//! - `idle[q]`: [`join`](SchedulerHandle::join) waits on it;
//!   [`task_done`](SchedulerHandle::task_done) notifies it when the queue
//!   becomes idle.
//!
//! A worker in `get_task` that finds its queue empty while tasks are due
//! moves them (a batch of at most 64 at a time), whether it led or not.
//!
//! Every waiter re-checks its condition under the lock after waking, so
//! spurious wake-ups, timeouts racing a notification, and other threads
//! taking the task first are all harmless, and a notification cannot be
//! lost: a waiter is counted in `waiters[q]` (or recorded as the leader)
//! and enters its wait while holding the lock. Stopping notifies every
//! condition variable.
//!
//! The core never delivers a task before the clock reads its deadline, so a
//! wake-up that comes early (spuriously) delivers nothing early: the thread
//! just computes its sleep again, and a worker that wakes early leads
//! again until the same deadline.

use core::fmt;
use core::ops::Deref;
use std::boxed::Box;
use std::string::String;
use std::sync::PoisonError;
use std::time::{Duration, Instant, SystemTime};
use std::vec::Vec;

use super::channel_queue::ChannelQueue;
use super::clock::MonotonicClock;
use super::error::{
    CancelError, DoneError, NewQueueError, QueueError, StartError, Stopped, SubmitError, TakeError,
};
use super::sync::{Arc, Builder, Condvar, JoinHandle, Mutex, MutexGuard};
use crate::clock::{Clock, Ticks};
use crate::error::{AddQueueError, GetTaskError};
use crate::scheduler::{QueueStats, Scheduler};
use crate::subject::Subject;
use crate::task::{QueueId, Task, TaskId, When};

/// The task slots of a [`SchedulerThread`] unless its `N` says otherwise.
pub const DEFAULT_CAPACITY: usize = 4096;

/// The queue slots of a [`SchedulerThread`] unless its `QN` says otherwise.
pub const DEFAULT_QUEUES: usize = 16;

type Core<S, P, C, const N: usize, const QN: usize> =
    Scheduler<C, ChannelQueue<Task<S, P>>, S, P, N, QN>;

/// How long [`get_task`](SchedulerHandle::get_task) waits for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Do not wait: [`TakeError::Empty`] when the queue is empty.
    NoWait,
    /// Wait until a task comes, the queue is removed or the scheduler stops.
    Forever,
    /// Wait at most this long, then [`TakeError::TimedOut`].
    Timeout(Duration),
}

/// Settings of a [`SchedulerThread`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tardy::Options;
///
/// let options = Options::new().thread_name("renewals").max_sleep(Duration::from_secs(60));
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    tick: Duration,
    max_sleep: Option<Duration>,
    thread_name: String,
}

impl Options {
    /// The defaults: ticks of 1 ns, no bound on a sleep, thread named
    /// `tardy`.
    #[must_use]
    pub fn new() -> Self {
        Self {
            tick: Duration::from_nanos(1),
            max_sleep: None,
            thread_name: String::from("tardy"),
        }
    }

    /// How long one tick of the clock lasts; the thread uses it only to turn
    /// "ticks until the next deadline" into a sleep. The default, 1 ns, is
    /// right for [`MonotonicClock`]. A zero duration counts as 1 ns.
    ///
    /// A wrong value never makes a task early (the clock decides when a
    /// task is due): too long a tick makes tasks late, too short makes the
    /// thread wake, find nothing due, and sleep again.
    #[must_use]
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick.max(Duration::from_nanos(1));
        self
    }

    /// The longest the thread sleeps before it reads the clock again, even
    /// if the next deadline is further away (the reference's `sleep`, as a
    /// bound only: it never delays a task). Useful with a clock that the
    /// thread cannot predict, such as a simulated one moved by the host.
    /// Default: no bound.
    #[must_use]
    pub fn max_sleep(mut self, max_sleep: Duration) -> Self {
        self.max_sleep = Some(max_sleep.max(Duration::from_nanos(1)));
        self
    }

    /// The name of the scheduler thread. Default: `tardy`.
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Created, thread not started: tasks move only with `run_pending`.
    Idle,
    Running,
    Stopped,
}

struct State<S, P, C, const N: usize, const QN: usize> {
    core: Box<Core<S, P, C, N, QN>>,
    phase: Phase,
    /// The deadline the scheduler thread sleeps until (`Ticks::MAX`: no
    /// deadline); `None` while it is awake or not running.
    sleep_until: Option<Ticks>,
    /// Workers blocked in `get_task` on `ready[q]`, per queue slot (the
    /// leader, waiting on `lead`, is not counted).
    waiters: [usize; QN],
    /// The worker blocked in `get_task` that also waits for the next
    /// deadline, if any: at most one at a time.
    leader: Option<Lead>,
    /// A waiting worker was notified to become the leader and has not woken
    /// yet: do not notify another.
    promoting: bool,
}

/// The leading worker: the queue slot it waits for, and the deadline it
/// sleeps until.
#[derive(Clone, Copy)]
struct Lead {
    slot: usize,
    until: Ticks,
}

/// The most due tasks a worker moves per step of its `get_task` loop, so
/// that it holds the lock briefly; it takes its own task in between, and
/// moves more if its queue is empty again and tasks are still due.
const WORKER_RUN_MAX: usize = 64;

struct Shared<S, P, C, const N: usize, const QN: usize> {
    state: Mutex<State<S, P, C, N, QN>>,
    wake: Condvar,
    lead: Condvar,
    ready: [Condvar; QN],
    idle: [Condvar; QN],
    tick: Duration,
    max_sleep: Option<Duration>,
}

/// Notifications computed under the lock and sent after releasing it.
struct Wake<const QN: usize> {
    /// Per queue slot: how many `notify_one`, `usize::MAX` for `notify_all`.
    ready: [usize; QN],
    thread: bool,
    lead: bool,
}

impl<const QN: usize> Wake<QN> {
    const NONE: Self = Self {
        ready: [0; QN],
        thread: false,
        lead: false,
    };

    fn is_empty(&self) -> bool {
        !self.thread && !self.lead && self.ready.iter().all(|&n| n == 0)
    }

    fn send(&self, wake: &Condvar, lead: &Condvar, ready: &[Condvar; QN]) {
        if self.thread {
            wake.notify_one();
        }
        if self.lead {
            lead.notify_one();
        }
        for (&n, cv) in self.ready.iter().zip(ready) {
            if n == usize::MAX {
                cv.notify_all();
            } else {
                (0..n).for_each(|_| cv.notify_one());
            }
        }
    }
}

fn slot(q: QueueId) -> usize {
    usize::from(q.index)
}

impl<S, P, C, const N: usize, const QN: usize> State<S, P, C, N, QN>
where
    C: Clock,
    S: Subject,
{
    /// Plans to wake as many workers of `q` as it has queued tasks: the
    /// leader first if it waits for `q`, then the others.
    fn ready(&self, q: QueueId, wake: &mut Wake<QN>) {
        let i = slot(q);
        let leads = self.leader.is_some_and(|l| l.slot == i);
        let waiters = self.waiters.get(i).copied().unwrap_or(0);
        if !leads && waiters == 0 {
            return;
        }
        let mut queued = self.core.stats(q).map_or(0, |s| s.queued);
        if leads && queued > 0 {
            wake.lead = true;
            queued -= 1;
        }
        if waiters == 0 || queued == 0 {
            return;
        }
        if let Some(n) = wake.ready.get_mut(i) {
            let want = if queued >= waiters {
                usize::MAX
            } else {
                queued
            };
            *n = (*n).max(want);
        }
    }

    /// When something is scheduled and no worker leads, plans to wake one
    /// waiting worker (of the first queue that has one) so that it becomes
    /// the leader. O(QN), and at most one such wake-up in flight.
    fn promote(&mut self, wake: &mut Wake<QN>) {
        if self.phase != Phase::Running
            || self.leader.is_some()
            || self.promoting
            || self.core.next_deadline().is_none()
        {
            return;
        }
        let follower = wake
            .ready
            .iter_mut()
            .zip(&self.waiters)
            .find(|(_, &w)| w > 0);
        if let Some((n, _)) = follower {
            *n = n.saturating_add(1);
            self.promoting = true;
        }
    }

    /// [`ready`](Self::ready) for every queue with waiting workers.
    fn all_ready(&self, wake: &mut Wake<QN>) {
        for q in self.core.queue_ids() {
            self.ready(q, wake);
        }
    }

    /// After a task got `deadline`: deliver it at once if it is already due
    /// and the thread runs (rather than wake the thread for it), or wake the
    /// thread if it sleeps past `deadline`.
    fn deadline_set(&mut self, deadline: Ticks, wake: &mut Wake<QN>) {
        if self.phase != Phase::Running {
            return;
        }
        if deadline <= self.core.now() {
            if self.core.run_pending() > 0 {
                self.all_ready(wake);
            }
        } else {
            if self.sleep_until.is_some_and(|t| deadline < t) {
                self.sleep_until = None;
                wake.thread = true;
            }
            match &mut self.leader {
                Some(lead) if deadline < lead.until => {
                    lead.until = deadline;
                    wake.lead = true;
                }
                Some(_) => {}
                None => self.promote(wake),
            }
        }
    }

    fn is_idle(&self, q: QueueId) -> Result<bool, QueueError> {
        let s = self.core.stats(q)?;
        Ok(s.queued == 0 && s.waiting == 0 && s.done >= s.taken)
    }
}

impl<S, P, C, const N: usize, const QN: usize> Shared<S, P, C, N, QN> {
    /// The state, also when a thread panicked while holding the lock: every
    /// core operation leaves the core consistent between calls, so the data
    /// is still usable.
    fn lock(&self) -> MutexGuard<'_, State<S, P, C, N, QN>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, wake: &Wake<QN>) {
        wake.send(&self.wake, &self.lead, &self.ready);
    }

    fn ticks_to_duration(&self, ticks: Ticks) -> Duration {
        let nanos = u128::from(ticks).saturating_mul(self.tick.as_nanos());
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

impl<S, P, C, const N: usize, const QN: usize> Shared<S, P, C, N, QN>
where
    C: Clock,
    S: Subject,
{
    /// Marks the scheduler stopped, hands back every task, wakes everyone.
    fn shutdown(&self) -> Result<Vec<Task<S, P>>, Stopped> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(Stopped);
        }
        st.phase = Phase::Stopped;
        st.sleep_until = None;
        let mut tasks = Vec::with_capacity(st.core.len());
        st.core.clear(|t| tasks.push(t));
        drop(st);
        self.wake.notify_all();
        self.lead.notify_all();
        for cv in self.ready.iter().chain(&self.idle) {
            cv.notify_all();
        }
        log_debug!("tardy: stopped, {} task(s) handed back", tasks.len());
        Ok(tasks)
    }

    /// The scheduler thread.
    fn run(&self) {
        let mut st = self.lock();
        loop {
            if st.phase != Phase::Running {
                return;
            }
            #[cfg(feature = "log")]
            let (due, now) = (st.core.next_deadline(), st.core.now());
            let moved = st.core.run_pending_max(WORKER_RUN_MAX);
            if moved > 0 {
                #[cfg(feature = "log")]
                if let Some(due) = due {
                    log_trace!(
                        "tardy: moved {moved} task(s), {} ticks after the earliest deadline",
                        now.saturating_sub(due)
                    );
                }
                let mut wake = Wake::NONE;
                st.all_ready(&mut wake);
                drop(st);
                self.send(&wake);
                st = self.lock();
                continue;
            }
            let now = st.core.now();
            let next = st.core.next_deadline();
            if next.is_some_and(|d| d <= now) {
                continue; // due since run_pending read the clock
            }
            let until = next.map(|d| self.ticks_to_duration(d.saturating_sub(now)));
            let wait = match (until, self.max_sleep) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            st.sleep_until = Some(next.unwrap_or(Ticks::MAX));
            st = match wait {
                None => self.wake.wait(st).unwrap_or_else(PoisonError::into_inner),
                Some(wait) => {
                    self.wake
                        .wait_timeout(st, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            st.sleep_until = None;
        }
    }
}

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
    handle: SchedulerHandle<S, P, C, N, QN>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_name: String,
}

/// A cloneable, `Send + Sync` handle to a [`SchedulerThread`]: schedule,
/// cancel, manage queues and take tasks, from any thread at once.
///
/// Every method takes the scheduler's lock for an O(log n) step (O(k log n)
/// for the k tasks of [`cancel_by_subject`](Self::cancel_by_subject) and
/// [`remove_queue`](Self::remove_queue)); only
/// [`get_task`](Self::get_task) and [`join`](Self::join) wait, and they wait
/// on condition variables, without holding the lock. Once the scheduler is
/// stopped, every method answers [`Stopped`] (in its error type).
///
/// # Retrying
///
/// A worker that took a task owns it, and puts it back by scheduling it
/// again, for example with [`schedule_after`](Self::schedule_after) and a
/// back-off: the task's [`attempt`](Task::attempt) count grows by one with
/// each scheduling. This is the reference's `ctx.reschedule(time)`.
pub struct SchedulerHandle<
    S,
    P,
    C = MonotonicClock,
    const N: usize = DEFAULT_CAPACITY,
    const QN: usize = DEFAULT_QUEUES,
> {
    shared: Arc<Shared<S, P, C, N, QN>>,
}

impl<S, P, C, const N: usize, const QN: usize> Clone for SchedulerHandle<S, P, C, N, QN> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
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
    if size <= ON_STACK || cfg!(loom) {
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
                waiters: [0; QN],
                leader: None,
                promoting: false,
            }),
            wake: Condvar::new(),
            lead: Condvar::new(),
            ready: core::array::from_fn(|_| Condvar::new()),
            idle: core::array::from_fn(|_| Condvar::new()),
            tick: options.tick,
            max_sleep: options.max_sleep,
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
    /// [`SubmitError::Stopped`] with the task.
    ///
    /// # Errors
    ///
    /// [`Stopped`] when it was already stopped.
    pub fn stop(&self) -> Result<Vec<Task<S, P>>, Stopped> {
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        let tasks = self.handle.shared.shutdown()?;
        if let Some(thread) = thread.take() {
            // The thread never panics; if it did, there is nothing to add.
            let _ = thread.join();
        }
        Ok(tasks)
    }

    /// `true` while the thread runs.
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
            Phase::Idle => {}
        }
        let name = self.thread_name.clone();
        let shared = Arc::clone(&self.handle.shared);
        let spawned = Builder::new()
            .name(name)
            .spawn(move || shared.run())
            .map_err(|e| StartError::Spawn(e.kind()))?;
        st.phase = Phase::Running;
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

impl<S, P, C, const N: usize, const QN: usize> fmt::Debug for SchedulerHandle<S, P, C, N, QN> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerHandle")
            .field("capacity", &N)
            .field("max_queues", &QN)
            .finish_non_exhaustive()
    }
}

impl<S, P, C, const N: usize, const QN: usize> SchedulerHandle<S, P, C, N, QN>
where
    S: Subject,
    C: Clock,
{
    fn lock(&self) -> MutexGuard<'_, State<S, P, C, N, QN>> {
        self.shared.lock()
    }

    fn submit(
        &self,
        task: Task<S, P>,
        when: impl FnOnce(&C) -> When,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        let st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(SubmitError::Stopped(task));
        }
        self.submit_locked(st, task, when)
    }

    /// As [`schedule`](Self::schedule), with the task made by `make` from
    /// the core under the same lock hold (the C ABI resolves a queue name
    /// this way); `stopped` when stopped, without calling `make`.
    #[cfg(feature = "capi")]
    pub(crate) fn schedule_made<E: From<SubmitError<Task<S, P>>>>(
        &self,
        make: impl FnOnce(&Core<S, P, C, N, QN>) -> Result<Task<S, P>, E>,
        when: When,
        stopped: E,
    ) -> Result<TaskId, E> {
        let st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(stopped);
        }
        let task = make(&st.core)?;
        Ok(self.submit_locked(st, task, |_| when)?)
    }

    fn submit_locked(
        &self,
        mut st: MutexGuard<'_, State<S, P, C, N, QN>>,
        task: Task<S, P>,
        when: impl FnOnce(&C) -> When,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        let when = when(st.core.clock());
        let queue = task.queue();
        let id = st.core.schedule(task, when)?;
        let mut wake = Wake::NONE;
        if when == When::Now {
            log_debug!("tardy: task {} queued now", id.get());
            st.ready(queue, &mut wake);
        } else {
            let deadline = st
                .core
                .scheduled_task(id)
                .map_or(Ticks::MAX, Task::deadline);
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
    /// for a full queue waits instead), [`SubmitError::Capacity`] when all
    /// `N` slots are in use, or [`SubmitError::Stopped`].
    pub fn schedule(
        &self,
        task: Task<S, P>,
        when: When,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit(task, |_| when)
    }

    /// Moves the scheduled task `id` to a new time; it keeps its handle and
    /// attempt count (see [`Scheduler::reschedule`]).
    ///
    /// # Errors
    ///
    /// [`CancelError::NotScheduled`] when `id` names no scheduled task,
    /// [`CancelError::Stopped`].
    pub fn reschedule(&self, id: TaskId, when: When) -> Result<(), CancelError> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(CancelError::Stopped);
        }
        st.core.reschedule(id, when)?;
        let deadline = st
            .core
            .scheduled_task(id)
            .map_or(Ticks::MAX, Task::deadline);
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
    pub fn cancel(&self, id: TaskId) -> Result<Task<S, P>, CancelError> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(CancelError::Stopped);
        }
        let task = st.core.cancel(id)?;
        log_debug!("tardy: task {} cancelled", id.get());
        Ok(task)
    }

    /// `true` when `id` names a scheduled task (false once stopped).
    pub fn is_scheduled(&self, id: TaskId) -> bool {
        self.lock().core.is_scheduled(id)
    }

    /// Cancels every scheduled task about `subject` and hands them back, in
    /// the order they were scheduled. Tasks already in a queue stay there.
    ///
    /// # Errors
    ///
    /// [`Stopped`].
    pub fn cancel_by_subject(&self, subject: &S) -> Result<Vec<Task<S, P>>, Stopped> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(Stopped);
        }
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
    /// [`NewQueueError::Queue`] with the core's [`AddQueueError`] (name taken
    /// or invalid, no queue slot left), [`NewQueueError::Stopped`].
    pub fn add_queue(&self, name: &str, max_size: usize) -> Result<QueueId, NewQueueError> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(NewQueueError::Stopped);
        }
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
    pub fn remove_queue(&self, queue: QueueId) -> Result<Vec<Task<S, P>>, QueueError> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(QueueError::Stopped);
        }
        let mut tasks = Vec::new();
        st.core.remove_queue(queue, |t| tasks.push(t))?;
        drop(st);
        self.shared.lead.notify_all();
        if let (Some(ready), Some(idle)) = (
            self.shared.ready.get(slot(queue)),
            self.shared.idle.get(slot(queue)),
        ) {
            ready.notify_all();
            idle.notify_all();
        }
        Ok(tasks)
    }

    /// The queue named `name`.
    ///
    /// # Errors
    ///
    /// [`QueueError::UnknownQueue`], [`QueueError::Stopped`].
    pub fn queue_id(&self, name: &str) -> Result<QueueId, QueueError> {
        let st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(QueueError::Stopped);
        }
        Ok(st.core.queue_id(name)?)
    }

    /// The counters of `queue`.
    ///
    /// # Errors
    ///
    /// [`QueueError::UnknownQueue`], [`QueueError::Stopped`].
    pub fn stats(&self, queue: QueueId) -> Result<QueueStats, QueueError> {
        let st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(QueueError::Stopped);
        }
        Ok(st.core.stats(queue)?)
    }

    /// The number of scheduled tasks (due ones waiting for room included).
    ///
    /// # Errors
    ///
    /// [`Stopped`].
    pub fn scheduled_len(&self) -> Result<usize, Stopped> {
        let st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(Stopped);
        }
        Ok(st.core.len())
    }

    /// The clock's reading, in ticks.
    pub fn now(&self) -> Ticks {
        self.lock().core.now()
    }

    /// The earliest deadline in the schedule; `None` when nothing is
    /// scheduled.
    ///
    /// # Errors
    ///
    /// [`Stopped`].
    pub fn next_deadline(&self) -> Result<Option<Ticks>, Stopped> {
        let st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(Stopped);
        }
        Ok(st.core.next_deadline())
    }

    /// Moves every task whose deadline the clock has reached into its queue
    /// now; returns how many entered. The thread does this by itself; this
    /// is for hosts that drive time themselves, before (or without)
    /// [`start`](SchedulerThread::start).
    ///
    /// # Errors
    ///
    /// [`Stopped`].
    pub fn run_pending(&self) -> Result<usize, Stopped> {
        self.run(|core| core.run_pending())
    }

    /// Moves every scheduled task into its queue now, whatever its deadline,
    /// in deadline order; returns how many entered (tasks for a full queue
    /// wait for room, in order).
    ///
    /// # Errors
    ///
    /// [`Stopped`].
    pub fn run_all(&self) -> Result<usize, Stopped> {
        self.run(|core| core.run_all())
    }

    fn run(&self, f: impl FnOnce(&mut Core<S, P, C, N, QN>) -> usize) -> Result<usize, Stopped> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(Stopped);
        }
        let moved = f(&mut st.core);
        let mut wake = Wake::NONE;
        if moved > 0 {
            st.all_ready(&mut wake);
        }
        drop(st);
        self.shared.send(&wake);
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
    /// (also when the scheduler stops while waiting).
    pub fn get_task(&self, queue: QueueId, wait: Wait) -> Result<Task<S, P>, TakeError> {
        let until = match wait {
            Wait::Timeout(d) => Instant::now().checked_add(d),
            Wait::NoWait | Wait::Forever => None,
        };
        let mut wake = Wake::NONE;
        let mut st = self.lock();
        let taken = loop {
            if st.phase == Phase::Stopped {
                break Err(TakeError::Stopped);
            }
            match st.core.get_task(queue) {
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
            if st.phase == Phase::Running && st.core.next_deadline().is_some_and(|d| d <= now) {
                if st.core.run_pending_max(WORKER_RUN_MAX) > 0 {
                    st.all_ready(&mut wake);
                }
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
            let Some(cv) = self.shared.ready.get(slot(queue)) else {
                break Err(TakeError::UnknownQueue);
            };
            if !wake.is_empty() {
                // Tasks moved for other queues: tell their workers before
                // waiting, then look again.
                drop(st);
                self.shared.send(&wake);
                wake = Wake::NONE;
                st = self.lock();
                continue;
            }
            let lead = match (st.phase, st.leader) {
                (Phase::Running, None) => st.core.next_deadline(),
                _ => None,
            };
            if let Some(deadline) = lead {
                // Lead: wait for a task or the next deadline, whichever
                // comes first (deadline > now: it was not due above).
                let to_deadline = self.shared.ticks_to_duration(deadline.saturating_sub(now));
                let t = timeout.map_or(to_deadline, |t| t.min(to_deadline));
                st.leader = Some(Lead {
                    slot: slot(queue),
                    until: deadline,
                });
                st = self
                    .shared
                    .lead
                    .wait_timeout(st, t)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                st.leader = None;
            } else {
                if let Some(n) = st.waiters.get_mut(slot(queue)) {
                    *n += 1;
                }
                st = match timeout {
                    None => cv.wait(st).unwrap_or_else(PoisonError::into_inner),
                    Some(t) => {
                        cv.wait_timeout(st, t)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                };
                if let Some(n) = st.waiters.get_mut(slot(queue)) {
                    *n = n.saturating_sub(1);
                }
                st.promoting = false;
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
    pub fn task_done(&self, queue: QueueId) -> Result<(), DoneError> {
        let mut st = self.lock();
        if st.phase == Phase::Stopped {
            return Err(DoneError::Stopped);
        }
        st.core.task_done(queue)?;
        if st.is_idle(queue) == Ok(true) {
            drop(st);
            if let Some(cv) = self.shared.idle.get(slot(queue)) {
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
    /// while waiting).
    pub fn join(&self, queue: QueueId) -> Result<(), QueueError> {
        let mut st = self.lock();
        let cv = self
            .shared
            .idle
            .get(slot(queue))
            .ok_or(QueueError::UnknownQueue)?;
        loop {
            if st.phase == Phase::Stopped {
                return Err(QueueError::Stopped);
            }
            // Tasks already due count as queued, even if the thread has not
            // moved them yet: move them now.
            if st.phase == Phase::Running && st.core.run_pending() > 0 {
                let mut wake = Wake::NONE;
                st.all_ready(&mut wake);
                drop(st);
                self.shared.send(&wake);
                st = self.lock();
                continue;
            }
            if st.is_idle(queue)? {
                return Ok(());
            }
            st = cv.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// `true` once the scheduler is stopped.
    pub fn is_stopped(&self) -> bool {
        self.lock().phase == Phase::Stopped
    }
}

/// Scheduling by [`Instant`], [`Duration`] and [`SystemTime`], on the
/// [`MonotonicClock`].
impl<S, P, const N: usize, const QN: usize> SchedulerHandle<S, P, MonotonicClock, N, QN>
where
    S: Subject,
{
    /// The scheduler's clock (a copy: it reads the same time).
    pub fn clock(&self) -> MonotonicClock {
        *self.lock().core.clock()
    }

    /// Schedules `task` to be due at `at` (an instant in the past is due at
    /// once).
    ///
    /// # Errors
    ///
    /// As [`schedule`](Self::schedule).
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
    pub fn schedule_after(
        &self,
        task: Task<S, P>,
        delay: Duration,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit(task, |_| When::After(MonotonicClock::ticks_of(delay)))
    }

    /// Schedules `task` to be due at the wall-clock time `at`, mapped to the
    /// monotonic clock now: a later change of the wall clock does not move
    /// it (see [`MonotonicClock::ticks_at_system_time`]).
    ///
    /// # Errors
    ///
    /// As [`schedule`](Self::schedule).
    pub fn schedule_at_system_time(
        &self,
        task: Task<S, P>,
        at: SystemTime,
    ) -> Result<TaskId, SubmitError<Task<S, P>>> {
        self.submit(task, |clock| When::At(clock.ticks_at_system_time(at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Sched = SchedulerThread<u32, u32>;

    #[test]
    fn tick_conversion_saturates_and_zero_tick_is_one_ns() {
        let s = Sched::new(&[], Options::new().tick(Duration::ZERO)).unwrap();
        assert_eq!(s.handle.shared.tick, Duration::from_nanos(1));
        assert_eq!(
            s.handle.shared.ticks_to_duration(5),
            Duration::from_nanos(5)
        );
        let hour = Sched::new(&[], Options::new().tick(Duration::from_secs(3600))).unwrap();
        let far = hour.handle.shared.ticks_to_duration(Ticks::MAX);
        assert_eq!(far, Duration::from_nanos(u64::MAX));
    }

    /// The scheduler thread records the deadline it sleeps until, and an
    /// earlier deadline resets it (the wake-up), a later one does not.
    #[test]
    fn only_an_earlier_deadline_wakes_the_thread() {
        let s = Sched::new(&[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        let now = s.now();
        let mut st = s.handle.lock();
        st.phase = Phase::Running; // as if started, without a thread
        st.sleep_until = Some(now + 1_000_000_000);
        let mut wake = Wake::NONE;
        st.deadline_set(now + 2_000_000_000, &mut wake);
        assert!(!wake.thread);
        assert_eq!(st.sleep_until, Some(now + 1_000_000_000));
        st.deadline_set(now + 500_000_000, &mut wake);
        assert!(wake.thread);
        assert_eq!(st.sleep_until, None);
        // Already due: delivered on the spot, no wake-up needed.
        let mut wake = Wake::NONE;
        st.core.schedule(Task::new(q, 0, 7), When::At(0)).unwrap();
        st.deadline_set(0, &mut wake);
        assert!(!wake.thread);
        assert_eq!(st.core.stats(q).unwrap().queued, 1);
        st.phase = Phase::Stopped;
    }

    #[cfg(feature = "log")]
    #[test]
    fn logs_scheduling_and_delivery() {
        use std::sync::atomic::{AtomicBool, Ordering};

        struct Capture;
        static SCHEDULED: AtomicBool = AtomicBool::new(false);
        static TAKEN: AtomicBool = AtomicBool::new(false);
        impl log::Log for Capture {
            fn enabled(&self, _: &log::Metadata<'_>) -> bool {
                true
            }
            fn log(&self, record: &log::Record<'_>) {
                let text = std::format!("{}", record.args());
                if text.contains("scheduled at tick") {
                    SCHEDULED.store(true, Ordering::SeqCst);
                }
                if text.contains("taken") && text.contains("after its deadline") {
                    TAKEN.store(true, Ordering::SeqCst);
                }
            }
            fn flush(&self) {}
        }
        static CAPTURE: Capture = Capture;
        log::set_logger(&CAPTURE).unwrap();
        log::set_max_level(log::LevelFilter::Trace);

        let s = Sched::new(&[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        s.schedule(Task::new(q, 0, 1), When::At(0)).unwrap();
        s.run_pending().unwrap();
        s.get_task(q, Wait::NoWait).unwrap();
        assert!(SCHEDULED.load(Ordering::SeqCst) && TAKEN.load(Ordering::SeqCst));
    }
}
