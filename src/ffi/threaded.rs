//! The threaded `tardy_scheduler`: the core behind one mutex, a condition
//! variable per queue for waiting workers, and an optional background
//! thread that sleeps until the next deadline.

use core::cell::Cell;
use core::ffi::c_void;
use core::ptr;
use std::boxed::Box;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::clock::{Clock, Ticks};
use crate::queue::TaskQueue;
use crate::task::QueueId;

use super::engine::{self, Core};
use super::status::tardy_status::{self, *};
use super::types::{tardy_task, CTask, HostClock, TARDY_CAPACITY, TARDY_MAX_QUEUES};

/// The clock of a C scheduler: the host's callback, or the built-in
/// monotonic clock (nanoseconds since the scheduler was created).
#[derive(Debug)]
pub(crate) enum FfiClock {
    /// `std::time::Instant`, in nanoseconds since this instant.
    Monotonic(Instant),
    /// The host's `tardy_clock_fn`.
    Host(HostClock),
}

impl Clock for FfiClock {
    fn now(&self) -> Ticks {
        match self {
            Self::Monotonic(origin) => {
                Ticks::try_from(origin.elapsed().as_nanos()).unwrap_or(Ticks::MAX)
            }
            Self::Host(clock) => clock.now(),
        }
    }
}

/// A FIFO on a `VecDeque` that grows as needed up to its bound, at most
/// `TARDY_CAPACITY`.
#[derive(Debug)]
pub(crate) struct VecQueue {
    items: VecDeque<CTask>,
    max_size: usize,
}

impl TaskQueue<CTask> for VecQueue {
    fn with_max_size(max_size: usize) -> Option<Self> {
        let max_size = match max_size {
            0 => TARDY_CAPACITY,
            n if n <= TARDY_CAPACITY => n,
            _ => return None,
        };
        Some(Self {
            items: VecDeque::new(),
            max_size,
        })
    }

    fn try_push(&mut self, item: CTask) -> Result<(), CTask> {
        if self.items.len() >= self.max_size {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }

    fn pop(&mut self) -> Option<CTask> {
        self.items.pop_front()
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn max_size(&self) -> usize {
        self.max_size
    }
}

/// What the mutex guards.
pub(crate) struct State {
    pub(crate) core: Core<FfiClock, VecQueue>,
    /// Asks the background thread to return.
    stop: bool,
    /// Nanoseconds per clock tick, for the background thread's waits.
    pub(crate) tick_ns: u64,
}

/// The part shared with the background thread.
pub(crate) struct Shared {
    state: Mutex<Box<State>>,
    /// Wakes the background thread: the schedule or the tick changed, or
    /// it must stop.
    work: Condvar,
    /// Per queue slot: a task entered that queue, or it was removed.
    ready: [Condvar; TARDY_MAX_QUEUES],
}

std::thread_local! {
    /// The scheduler whose lock this thread is inside, to refuse calls from
    /// the clock callback instead of deadlocking.
    static ACTIVE: Cell<*const Shared> = const { Cell::new(ptr::null()) };
}

/// Marks this thread as inside an operation on one scheduler.
struct Enter {
    prev: *const Shared,
}

impl Enter {
    fn new(shared: &Shared) -> Result<Self, tardy_status> {
        let me: *const Shared = shared;
        ACTIVE.with(|active| {
            let prev = active.get();
            if prev == me {
                return Err(TARDY_ERR_INVALID_ARG);
            }
            active.set(me);
            Ok(Self { prev })
        })
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        ACTIVE.with(|active| active.set(self.prev));
    }
}

fn poisoned<T>(_: PoisonError<T>) -> tardy_status {
    TARDY_ERR_PANIC
}

impl Shared {
    fn lock(&self) -> Result<MutexGuard<'_, Box<State>>, tardy_status> {
        self.state.lock().map_err(poisoned)
    }

    fn ready(&self, q: QueueId) -> Option<&Condvar> {
        self.ready.get(usize::from(q.index))
    }

    /// Wakes the workers of every queue that has a task to take.
    fn notify_queues(&self, st: &State) {
        for q in st.core.queue_ids() {
            if engine::has_tasks(&st.core, q) {
                if let Some(cv) = self.ready(q) {
                    cv.notify_all();
                }
            }
        }
    }

    /// Wakes the background thread if the earliest deadline moved earlier
    /// than `before`.
    fn notify_if_earlier(&self, st: &State, before: Option<Ticks>) {
        let now = st.core.next_deadline();
        let earlier = match (now, before) {
            (Some(n), Some(b)) => n < b,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if earlier {
            self.work.notify_one();
        }
    }

    /// The background thread: delivers due tasks and sleeps until the next
    /// deadline, or until woken.
    fn run(&self) -> Result<(), tardy_status> {
        let _enter = Enter::new(self)?;
        let mut st = self.lock()?;
        while !st.stop {
            if st.core.run_pending() > 0 {
                self.notify_queues(&st);
            }
            st = match st.core.next_deadline() {
                None => self.work.wait(st).map_err(poisoned)?,
                Some(deadline) => {
                    let ticks = deadline.saturating_sub(st.core.now());
                    if ticks == 0 {
                        continue;
                    }
                    let wait = Duration::from_nanos(ticks.saturating_mul(st.tick_ns));
                    self.work.wait_timeout(st, wait).map_err(poisoned)?.0
                }
            };
        }
        Ok(())
    }
}

/// A scheduler, opaque to C: created by `tardy_new`, destroyed by
/// `tardy_free`.
pub struct tardy_scheduler {
    shared: Arc<Shared>,
    /// The background thread, while it runs.
    runner: Mutex<Option<JoinHandle<()>>>,
}

impl tardy_scheduler {
    pub(crate) fn new(clock: FfiClock) -> Box<Self> {
        let state = Box::new(State {
            core: Core::new(clock),
            stop: false,
            tick_ns: 1,
        });
        Box::new(Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                work: Condvar::new(),
                ready: [const { Condvar::new() }; TARDY_MAX_QUEUES],
            }),
            runner: Mutex::new(None),
        })
    }

    /// Runs `f` with the lock held; `f` also gets the shared part to wake
    /// waiters.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` when called from inside this scheduler's
    /// clock callback, `TARDY_ERR_PANIC` when an earlier panic poisoned the
    /// lock, or `f`'s error.
    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&mut State, &Shared) -> Result<R, tardy_status>,
    ) -> Result<R, tardy_status> {
        let _enter = Enter::new(&self.shared)?;
        let mut st = self.shared.lock()?;
        f(&mut st, &self.shared)
    }

    /// Schedules with `f` and wakes the background thread or the queue's
    /// workers as needed.
    pub(crate) fn schedule(
        &self,
        f: impl FnOnce(&mut State) -> Result<(QueueId, u64), tardy_status>,
    ) -> Result<u64, tardy_status> {
        self.with(|st, shared| {
            let before = st.core.next_deadline();
            let (q, id) = f(st)?;
            shared.notify_if_earlier(st, before);
            if engine::has_tasks(&st.core, q) {
                if let Some(cv) = shared.ready(q) {
                    cv.notify_one();
                }
            }
            Ok(id)
        })
    }

    /// Changes the schedule with `f` and wakes the background thread if the
    /// next deadline moved earlier.
    pub(crate) fn reschedule<R>(
        &self,
        f: impl FnOnce(&mut State) -> Result<R, tardy_status>,
    ) -> Result<R, tardy_status> {
        self.with(|st, shared| {
            let before = st.core.next_deadline();
            let r = f(st)?;
            shared.notify_if_earlier(st, before);
            Ok(r)
        })
    }

    /// Delivers with `f` (run_pending / run_all) and wakes the workers.
    pub(crate) fn deliver(
        &self,
        f: impl FnOnce(&mut State) -> usize,
    ) -> Result<usize, tardy_status> {
        self.with(|st, shared| {
            let moved = f(st);
            if moved > 0 {
                shared.notify_queues(st);
            }
            Ok(moved)
        })
    }

    /// Removes a queue, collecting its tasks, and wakes its waiting workers
    /// (they get `TARDY_ERR_NO_QUEUE`).
    pub(crate) fn remove_queue(
        &self,
        name: &str,
    ) -> Result<std::vec::Vec<tardy_task>, tardy_status> {
        self.with(|st, shared| {
            let mut tasks = std::vec::Vec::new();
            let before = st.core.next_deadline();
            let q = engine::remove_queue(&mut st.core, name, |t| tasks.push(t))?;
            if let Some(cv) = shared.ready(q) {
                cv.notify_all();
            }
            // Only later deadlines can result; the thread finds out when it
            // wakes, but a spurious wake-up is cheap and keeps it simple.
            shared.notify_if_earlier(st, before);
            Ok(tasks)
        })
    }

    /// Takes a task from the queue `name`, waiting up to `timeout_ms`
    /// milliseconds (`u64::MAX`: for ever) for one to arrive.
    pub(crate) fn get_task(&self, name: &str, timeout_ms: u64) -> Result<tardy_task, tardy_status> {
        let _enter = Enter::new(&self.shared)?;
        let shared = &*self.shared;
        let mut st = shared.lock()?;
        let q = engine::queue(&st.core, name)?;
        let cv = shared.ready(q).ok_or(TARDY_ERR_NO_QUEUE)?;
        let until = match timeout_ms {
            u64::MAX => None,
            ms => Instant::now().checked_add(Duration::from_millis(ms)),
        };
        loop {
            match engine::get_task(&mut st.core, q) {
                Ok(task) => {
                    if engine::has_tasks(&st.core, q) {
                        cv.notify_one();
                    }
                    return Ok(task);
                }
                Err(TARDY_ERR_EMPTY) if timeout_ms > 0 => {}
                Err(e) => return Err(e),
            }
            st = match until {
                None => cv.wait(st).map_err(poisoned)?,
                Some(until) => {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(TARDY_ERR_EMPTY);
                    }
                    cv.wait_timeout(st, left).map_err(poisoned)?.0
                }
            };
        }
    }

    /// Starts the background thread.
    pub(crate) fn start(&self) -> Result<(), tardy_status> {
        let _enter = Enter::new(&self.shared)?;
        let mut runner = self.runner.lock().map_err(poisoned)?;
        if runner.is_some() {
            return Err(TARDY_ERR_STATE);
        }
        self.shared.lock()?.stop = false;
        let shared = Arc::clone(&self.shared);
        let handle = thread::Builder::new()
            .name("tardy".into())
            .spawn(move || {
                // A failure here (a poisoned lock) ends the thread; every
                // other call reports it as TARDY_ERR_PANIC.
                let _ = shared.run();
            })
            .map_err(|_| TARDY_ERR_SYSTEM)?;
        *runner = Some(handle);
        Ok(())
    }

    /// Stops the background thread and waits for it to return.
    pub(crate) fn stop(&self) -> Result<(), tardy_status> {
        let _enter = Enter::new(&self.shared)?;
        let mut runner = self.runner.lock().map_err(poisoned)?;
        let handle = runner.take().ok_or(TARDY_ERR_STATE)?;
        self.stop_thread(handle)
    }

    fn stop_thread(&self, handle: JoinHandle<()>) -> Result<(), tardy_status> {
        {
            let mut st = self
                .shared
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            st.stop = true;
        }
        self.shared.work.notify_all();
        handle.join().map_err(|_| TARDY_ERR_PANIC)
    }

    /// `true` when this thread is inside an operation on this scheduler
    /// (that is, in its clock callback).
    pub(crate) fn is_active_here(&self) -> bool {
        let me: *const Shared = &*self.shared;
        ACTIVE.with(|a| a.get() == me)
    }

    /// The host's `user` pointers are only passed back to the host.
    pub(crate) fn host_clock(
        func: unsafe extern "C" fn(*mut c_void) -> u64,
        user: *mut c_void,
    ) -> FfiClock {
        FfiClock::Host(HostClock { func, user })
    }
}

impl Drop for tardy_scheduler {
    fn drop(&mut self) {
        let handle = self
            .runner
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = self.stop_thread(handle);
        }
    }
}
