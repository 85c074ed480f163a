//! The threaded backend of the C ABI (feature `capi`): a
//! [`SchedulerThread`] of `u64` subjects and host pointers behind the
//! opaque `tardy_scheduler`, a clock that may be a C callback, the refusal
//! of calls made from inside a clock callback, and what only threads have:
//! `tardy_new_with_tick`, `tardy_start`, `tardy_stop` and `tardy_drain`.
//!
//! The exports shared with the bare-metal backend are in `exports.rs`;
//! this file gives them the same `pub(crate)` methods as `baremetal.rs`.

use core::cell::RefCell;
use core::ffi::c_void;
use core::sync::atomic::{AtomicU64, Ordering};
use std::boxed::Box;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use std::vec::Vec;

use crate::clock::{Clock, Ticks};
use crate::task::{TaskId, When};
use crate::thread::{MonotonicClock, Options, SchedulerThread, Wait};

use super::boundary::{check_out, ffi_panic_boundary, sched, write_out};
use super::exports::hand_back_counted;
use super::status::tardy_status::{self, *};
use super::types::{
    tardy_clock_fn, tardy_task, tardy_task_fn, CTask, HostClock, NewTask, UserData,
};

/// Task slots per scheduler: at most this many tasks are scheduled (not yet
/// delivered) at once.
pub const TARDY_CAPACITY: usize = 4096;

/// The most queues a scheduler has at once.
pub const TARDY_MAX_QUEUES: usize = 16;

/// The largest `max_size` of a queue (the scheduler's task capacity).
pub const TARDY_MAX_QUEUE_SIZE: usize = TARDY_CAPACITY;

const _: () = assert!(TARDY_CAPACITY.is_power_of_two() && TARDY_CAPACITY <= crate::MAX_CAPACITY);
const _: () = assert!(TARDY_MAX_QUEUES.is_power_of_two() && TARDY_MAX_QUEUES <= 256);

/// The tasks a call hands back.
pub(crate) type Tasks = Vec<tardy_task>;

std::thread_local! {
    /// The ids of the schedulers whose clock callback runs on this thread,
    /// innermost last: a clock may call another scheduler, whose clock may
    /// call a third, and a call into any of them from inside would wait
    /// for a lock this thread holds.
    static IN_CLOCK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Ids of schedulers, to recognise calls from inside their clocks. 2^64
/// schedulers are never created, so an id is never reused.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Marks a clock callback of scheduler `id` as running on this thread
/// until dropped (also if the callback unwinds).
struct InClock;

impl InClock {
    fn enter(id: u64) -> Self {
        IN_CLOCK.with(|c| c.borrow_mut().push(id));
        Self
    }
}

impl Drop for InClock {
    fn drop(&mut self) {
        IN_CLOCK.with(|c| c.borrow_mut().pop());
    }
}

/// The clock of a C scheduler: the host's callback, or the built-in
/// [`MonotonicClock`] (nanoseconds since the scheduler was created).
#[derive(Debug)]
pub(crate) struct FfiClock {
    /// The id of the scheduler it belongs to.
    owner: u64,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Monotonic(MonotonicClock),
    Host(HostClock),
}

impl Clock for FfiClock {
    fn now(&self) -> Ticks {
        match &self.source {
            Source::Monotonic(clock) => clock.now(),
            Source::Host(clock) => {
                let _in_clock = InClock::enter(self.owner);
                clock.now()
            }
        }
    }
}

type Inner = SchedulerThread<u64, UserData, FfiClock, TARDY_CAPACITY, TARDY_MAX_QUEUES>;

/// A scheduler, opaque to C: created by `tardy_new`, destroyed by
/// `tardy_free`.
pub struct tardy_scheduler {
    id: u64,
    inner: Inner,
    /// `None` until `tardy_stop`; then the tasks the stop got back, until
    /// `tardy_drain` hands them to the host. Locked before `inner`'s lock,
    /// never the other way round, and never while a host callback runs.
    set_aside: Mutex<Option<Vec<CTask>>>,
}

fn c_task(t: &CTask) -> tardy_task {
    tardy_task::from(t)
}

fn c_tasks(tasks: &[CTask]) -> Tasks {
    tasks.iter().map(c_task).collect()
}

impl tardy_scheduler {
    /// A scheduler on the host clock `clock` (NULL: the built-in clock)
    /// whose background thread takes a tick for `ns_per_tick` nanoseconds.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` when `ns_per_tick` is 0, or not 1 with the
    /// built-in clock (which counts nanoseconds); `TARDY_ERR_PANIC` if the
    /// scheduler could not be built.
    fn new(
        clock: tardy_clock_fn,
        clock_user: *mut c_void,
        ns_per_tick: u64,
    ) -> Result<Self, tardy_status> {
        let source = match clock {
            Some(func) if ns_per_tick > 0 => Source::Host(HostClock {
                func,
                user: clock_user,
            }),
            None if ns_per_tick == 1 => Source::Monotonic(MonotonicClock::new()),
            _ => return Err(TARDY_ERR_INVALID_ARG),
        };
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let clock = FfiClock { owner: id, source };
        let tick = Duration::from_nanos(ns_per_tick);
        let options = Options::new().tick(tick).thread_name("tardy");
        // No queue is given, so no queue error can come back.
        let inner = Inner::with_clock(clock, &[], options).map_err(|_| TARDY_ERR_PANIC)?;
        Ok(Self {
            id,
            inner,
            set_aside: Mutex::new(None),
        })
    }

    /// A new scheduler on the heap, for `tardy_new`: ticks of the host
    /// clock are taken for nanoseconds.
    ///
    /// # Errors
    ///
    /// As for `new`.
    pub(crate) fn create(
        clock: tardy_clock_fn,
        clock_user: *mut c_void,
    ) -> Result<*mut Self, tardy_status> {
        Self::create_with_tick(clock, clock_user, 1)
    }

    /// A new scheduler on the heap, for `tardy_new_with_tick`.
    ///
    /// # Errors
    ///
    /// As for `new`.
    fn create_with_tick(
        clock: tardy_clock_fn,
        clock_user: *mut c_void,
        ns_per_tick: u64,
    ) -> Result<*mut Self, tardy_status> {
        Ok(Box::into_raw(Box::new(Self::new(
            clock,
            clock_user,
            ns_per_tick,
        )?)))
    }

    /// Destroys the scheduler `s` made by [`create`](Self::create).
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` (nothing is freed) from inside one of its
    /// clock callbacks.
    ///
    /// # Safety
    ///
    /// - `s` came from `create`, is not yet freed and is used by nobody
    ///   else during or after the call.
    pub(crate) unsafe fn free(s: *mut Self) -> Result<(), tardy_status> {
        // SAFETY: live by the caller's promise.
        unsafe { &*s }.enter()?;
        // SAFETY: `s` came from `Box::into_raw` in `create`, and nobody
        // else uses it any more (caller's promise).
        drop(unsafe { Box::from_raw(s) });
        Ok(())
    }

    /// The tasks set aside by `stop`, also after a panic elsewhere while it
    /// was locked: every change to it is a single assignment or `take`, so
    /// it is never half done.
    fn set_aside(&self) -> MutexGuard<'_, Option<Vec<CTask>>> {
        self.set_aside
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `TARDY_ERR_INVALID_ARG` when a clock callback of this scheduler runs
    /// on this thread, however deep inside other schedulers' clocks (the
    /// call would wait for a lock this thread holds).
    fn enter(&self) -> Result<&Inner, tardy_status> {
        if IN_CLOCK.with(|c| c.borrow().contains(&self.id)) {
            Err(TARDY_ERR_INVALID_ARG)
        } else {
            Ok(&self.inner)
        }
    }

    pub(crate) fn add_queue(&self, name: &str, max_size: usize) -> Result<(), tardy_status> {
        // 0: as large as the store allows, the scheduler's task capacity.
        let max_size = match max_size {
            0 => TARDY_MAX_QUEUE_SIZE,
            n if n > TARDY_MAX_QUEUE_SIZE => return Err(TARDY_ERR_INVALID_ARG),
            n => n,
        };
        self.enter()?.add_queue(name, max_size)?;
        Ok(())
    }

    pub(crate) fn remove_queue(&self, name: &str) -> Result<Tasks, tardy_status> {
        let inner = self.enter()?;
        let tasks = inner.remove_queue(inner.queue_id(name)?)?;
        Ok(c_tasks(&tasks))
    }

    /// Schedules a task for the queue `name`, resolving the name under the
    /// same lock hold as the scheduling.
    pub(crate) fn schedule(&self, name: &str, new: NewTask) -> Result<u64, tardy_status> {
        let scheduled = self.enter()?.schedule_made::<tardy_status>(
            |core| Ok(new.into_task(core.queue_id(name)?)),
            new.when,
        );
        Ok(scheduled?.get())
    }

    pub(crate) fn reschedule_at(&self, id: u64, deadline: Ticks) -> Result<(), tardy_status> {
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        Ok(self.enter()?.reschedule(id, When::At(deadline))?)
    }

    pub(crate) fn cancel(&self, id: u64) -> Result<UserData, tardy_status> {
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        Ok(self.enter()?.cancel(id)?.into_payload())
    }

    pub(crate) fn cancel_subject(&self, subject: u64) -> Result<Tasks, tardy_status> {
        Ok(c_tasks(&self.enter()?.cancel_by_subject(&subject)?))
    }

    pub(crate) fn get_task(&self, name: &str, timeout_ms: u64) -> Result<tardy_task, tardy_status> {
        let inner = self.enter()?;
        let q = inner.queue_id(name)?;
        let wait = match timeout_ms {
            0 => Wait::NoWait,
            u64::MAX => Wait::Forever,
            ms => Wait::Timeout(Duration::from_millis(ms)),
        };
        Ok(c_task(&inner.get_task(q, wait)?))
    }

    pub(crate) fn task_done(&self, name: &str) -> Result<(), tardy_status> {
        let inner = self.enter()?;
        Ok(inner.task_done(inner.queue_id(name)?)?)
    }

    pub(crate) fn run_pending(&self) -> Result<usize, tardy_status> {
        Ok(self.enter()?.run_pending()?)
    }

    pub(crate) fn run_all(&self) -> Result<usize, tardy_status> {
        Ok(self.enter()?.run_all()?)
    }

    pub(crate) fn next_deadline(&self) -> Result<Ticks, tardy_status> {
        self.enter()?.next_deadline()?.ok_or(TARDY_ERR_EMPTY)
    }

    pub(crate) fn now(&self) -> Result<Ticks, tardy_status> {
        Ok(self.enter()?.now())
    }

    fn start(&self) -> Result<(), tardy_status> {
        Ok(self.enter()?.start()?)
    }

    /// Stops the thread for good and sets aside every task it still held
    /// (scheduled, waiting for room, or queued) for [`drain`](Self::drain).
    ///
    /// The set-aside lock is held across the stop, so a concurrent `drain`
    /// sees either "not stopped" or every task of the stop, never a stopped
    /// scheduler with its tasks missing. The stop waits for the background
    /// thread, which never takes that lock (its clock callback cannot call
    /// in: [`enter`](Self::enter) refuses it before any lock is taken).
    fn stop(&self) -> Result<(), tardy_status> {
        let inner = self.enter()?;
        let mut aside = self.set_aside();
        let tasks = inner.stop()?;
        *aside = Some(tasks);
        Ok(())
    }

    /// Takes every task set aside by [`stop`](Self::stop), converted for C.
    /// With `has_callback` false it takes nothing, and fails if there was
    /// something to take: a task handed to nobody would be lost.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_STATE` before `stop`; `TARDY_ERR_NULL` when tasks are set
    /// aside and `has_callback` is false; `TARDY_ERR_INVALID_ARG` from
    /// inside a clock callback of this scheduler.
    fn drain(&self, has_callback: bool) -> Result<Tasks, tardy_status> {
        self.enter()?;
        let mut aside = self.set_aside();
        let tasks = aside.as_mut().ok_or(TARDY_ERR_STATE)?;
        if !has_callback && !tasks.is_empty() {
            return Err(TARDY_ERR_NULL);
        }
        let taken = core::mem::take(tasks);
        drop(aside);
        Ok(c_tasks(&taken))
    }
}

/// As `tardy_new`, and declares that one tick of `clock` lasts
/// `ns_per_tick` nanoseconds (1000000 for a millisecond clock).
///
/// Only the background thread of `tardy_start` uses the tick length, to
/// turn "the next deadline is N ticks away" into a sleep; after it, it
/// reads the clock again, so a wrong tick length never delivers a task
/// early: too long makes deliveries late, too short wakes the thread early
/// for nothing. The built-in clock (`clock` NULL) counts nanoseconds: its
/// tick length is 1, and any other is refused.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `out` is NULL, `TARDY_ERR_INVALID_ARG` when
/// `ns_per_tick` is 0, or not 1 with `clock` NULL.
///
/// # Safety
///
/// As for `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_new_with_tick(
    clock: tardy_clock_fn,
    clock_user: *mut c_void,
    ns_per_tick: u64,
    out: *mut *mut tardy_scheduler,
) -> tardy_status {
    ffi_panic_boundary! {
        check_out(out)?;
        let s = tardy_scheduler::create_with_tick(clock, clock_user, ns_per_tick)?;
        // SAFETY: `out` was checked and is writable by the caller's promise.
        unsafe { write_out(out, s) };
        Ok(())
    }
}

/// Starts the background thread, which delivers every due task into its
/// queue as its deadline passes: it sleeps until the next deadline and is
/// woken early when an earlier task is scheduled. Workers then only call
/// `tardy_get_task` / `tardy_task_done`.
///
/// The thread only moves tasks: it never calls a `tardy_task_fn`. It calls
/// the clock. With a custom clock it sleeps for (deadline - now) ticks,
/// converted with the tick length of `tardy_new_with_tick` (`tardy_new`:
/// ticks are nanoseconds), then reads the clock again, so nothing is
/// delivered early; ticks longer than declared make deliveries late,
/// shorter ones wake it early for nothing. A simulated clock that the host
/// moves by hand is a poor match for the thread: such hosts call
/// `tardy_run_pending` themselves instead.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_STATE` when it runs already or after
/// `tardy_stop`, `TARDY_ERR_SYSTEM` when no thread could be started,
/// `TARDY_ERR_INVALID_ARG` from inside a clock callback of `s`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_start(s: *mut tardy_scheduler) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        s.start()
    }
}

/// Stops the scheduler for good: stops the background thread if it runs
/// (waiting for it), wakes every worker waiting in `tardy_get_task` (they
/// return `TARDY_ERR_STATE`), and sets aside every task still scheduled,
/// waiting for room in a full queue, or queued. Nothing is dropped and no
/// callback runs: `tardy_drain` then hands the tasks set aside to the host.
/// Tasks that workers already took are theirs.
///
/// Every later call but `tardy_drain` and `tardy_free` returns
/// `TARDY_ERR_STATE`. Call `tardy_drain` before `tardy_free`: `tardy_free`
/// drops what is still set aside.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_STATE` when it was already stopped (the
/// tasks set aside by the first stop stay set aside),
/// `TARDY_ERR_INVALID_ARG` from inside a clock callback of `s`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_stop(s: *mut tardy_scheduler) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        s.stop()
    }
}

/// Hands every task that `tardy_stop` set aside to `on_task(user, task)`,
/// once each, and writes how many to `*out_count` unless that is NULL. The
/// tasks come queue by queue, in no order to rely on within a queue. Each
/// task is handed back by exactly one call of `tardy_drain`: a second call,
/// or a call made from `on_task`, finds nothing (count 0).
///
/// `on_task` may be NULL only when nothing is set aside (the call then
/// just reports 0); with tasks set aside a NULL `on_task` is
/// `TARDY_ERR_NULL` and they stay set aside, since dropping them is what
/// `tardy_stop` avoids.
///
/// Only a stopped scheduler can be drained: before `tardy_stop`, take
/// tasks back with `tardy_cancel`, `tardy_cancel_subject` or
/// `tardy_remove_queue` instead (the threaded layer has no way to empty a
/// running scheduler at once without stopping it).
///
/// `on_task` runs on the calling thread, with no lock held, before this
/// function returns; it may call tardy functions on `s` (they answer as
/// after `tardy_stop`), but not `tardy_free`.
///
/// # Errors
///
/// `TARDY_ERR_NULL` (`s`, or `on_task` with tasks set aside),
/// `TARDY_ERR_STATE` before `tardy_stop`, `TARDY_ERR_INVALID_ARG` from
/// inside a clock callback of `s`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `on_task`, if not NULL, is safe to call with `user` and follows the
///   rules of `tardy_task_fn`;
/// - `out_count` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_drain(
    s: *mut tardy_scheduler,
    on_task: tardy_task_fn,
    user: *mut c_void,
    out_count: *mut usize,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { hand_back_counted(s, on_task, user, out_count, |s| s.drain(on_task.is_some())) }
}
