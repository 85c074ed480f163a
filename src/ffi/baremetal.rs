//! The bare-metal backend of the C ABI (feature `capi-baremetal`, without
//! `std` and without an allocator): a fixed-capacity scheduler shared
//! through critical sections behind the opaque `tardy_scheduler`, for
//! firmware written in C, and what only bare metal has: static or
//! caller-provided storage (`tardy_init`, `tardy_scheduler_size`,
//! `tardy_scheduler_align`).
//!
//! The exports shared with the threaded backend are in `exports.rs`; this
//! file gives them the same `pub(crate)` methods as `threaded.rs`.
//! Differences from the threaded C library:
//!
//! - Storage is static or the caller's: `tardy_new` hands out the one
//!   static scheduler (a second `tardy_new` before `tardy_free` is
//!   `TARDY_ERR_CAPACITY`); `tardy_init` builds one in memory the caller
//!   provides (`tardy_scheduler_size` / `tardy_scheduler_align` bytes).
//! - The clock is required (there is no built-in one): `tardy_new` and
//!   `tardy_init` with a NULL clock are `TARDY_ERR_NULL`.
//! - Nothing blocks and no thread runs: `tardy_get_task` with a non-zero
//!   timeout is `TARDY_ERR_INVALID_ARG`; the host calls `tardy_run_pending`
//!   from its main loop or a timer interrupt. `tardy_new_with_tick`,
//!   `tardy_start`, `tardy_stop` and `tardy_drain` do not exist.
//! - Capacities are small: [`TARDY_CAPACITY`] task slots,
//!   [`TARDY_MAX_QUEUES`] queues of at most [`TARDY_MAX_QUEUE_SIZE`] tasks.
//! - Every function runs inside one critical section (`critical-section`
//!   crate; the static library forwards it to the host's hooks), so any
//!   function may be called from interrupt handlers and the main loop.
//!   Callbacks (`tardy_task_fn`) run after the critical section, and may
//!   call back into the scheduler. The clock runs inside it; a tardy call
//!   into a scheduler whose clock runs (however deep) is
//!   `TARDY_ERR_INVALID_ARG`.

use core::cell::Cell;
use core::ffi::c_void;
use core::mem::{align_of, size_of};

use crate::clock::{Clock, Ticks};
use crate::queue::HeaplessQueue;
use crate::scheduler::Scheduler;
use crate::sync::CsScheduler;
use crate::task::{QueueId, TaskId, When};

use super::boundary::{check_out, ffi_panic_boundary, write_out};
use super::status::tardy_status::{self, *};
use super::types::{tardy_clock_fn, tardy_task, CTask, HostClock, NewTask, UserData};

/// Task slots of a bare-metal scheduler: at most this many tasks are
/// scheduled (not yet delivered) at once.
#[cfg_attr(docsrs, doc(cfg(feature = "capi-baremetal")))]
pub const TARDY_CAPACITY: usize = 32;
/// The most queues a bare-metal scheduler has at once.
#[cfg_attr(docsrs, doc(cfg(feature = "capi-baremetal")))]
pub const TARDY_MAX_QUEUES: usize = 4;
/// The most tasks one queue of a bare-metal scheduler holds (and the
/// largest `max_size`).
#[cfg_attr(docsrs, doc(cfg(feature = "capi-baremetal")))]
pub const TARDY_MAX_QUEUE_SIZE: usize = 16;

/// `TARDY_CAPACITY`, by its earlier name.
#[cfg_attr(docsrs, doc(cfg(feature = "capi-baremetal")))]
pub const TARDY_BAREMETAL_CAPACITY: usize = TARDY_CAPACITY;
/// `TARDY_MAX_QUEUES`, by its earlier name.
#[cfg_attr(docsrs, doc(cfg(feature = "capi-baremetal")))]
pub const TARDY_BAREMETAL_MAX_QUEUES: usize = TARDY_MAX_QUEUES;
/// `TARDY_MAX_QUEUE_SIZE`, by its earlier name.
#[cfg_attr(docsrs, doc(cfg(feature = "capi-baremetal")))]
pub const TARDY_BAREMETAL_QUEUE_CAPACITY: usize = TARDY_MAX_QUEUE_SIZE;

const CAP: usize = TARDY_CAPACITY;
const QCAP: usize = TARDY_MAX_QUEUE_SIZE;

/// The tasks a call hands back: at most every scheduled task and one full
/// queue.
pub(crate) type Tasks = heapless::Vec<tardy_task, { CAP + QCAP }>;

/// The host clock once `tardy_new` / `tardy_init` set it; 0 before.
#[derive(Clone, Copy, Debug)]
struct SetClock(Option<HostClock>);

impl Clock for SetClock {
    fn now(&self) -> Ticks {
        self.0.map_or(0, |c| c.now())
    }
}

type Core = Scheduler<SetClock, HeaplessQueue<CTask, QCAP>, u64, UserData, CAP, TARDY_MAX_QUEUES>;

/// A bare-metal scheduler (opaque to C).
#[cfg_attr(docsrs, doc(cfg(feature = "capi-baremetal")))]
pub struct tardy_scheduler(
    CsScheduler<SetClock, HeaplessQueue<CTask, QCAP>, u64, UserData, CAP, TARDY_MAX_QUEUES>,
);

static STATIC: tardy_scheduler = tardy_scheduler::empty(SetClock(None));
static STATIC_TAKEN: critical_section::Mutex<Cell<bool>> =
    critical_section::Mutex::new(Cell::new(false));

impl tardy_scheduler {
    const fn empty(clock: SetClock) -> Self {
        Self(CsScheduler::new(clock))
    }

    /// Runs `f` in a critical section.
    ///
    /// # Errors
    ///
    /// `f`'s, or `TARDY_ERR_INVALID_ARG` when the scheduler is in use
    /// already: only a call from inside its own clock gets here, directly
    /// or through other schedulers' clocks (callbacks run after the
    /// critical section, and nothing else can interrupt one).
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<R, tardy_status>,
    ) -> Result<R, tardy_status> {
        self.0.with(f).map_err(|_| TARDY_ERR_INVALID_ARG)?
    }

    /// Takes the static scheduler on `clock`, for `tardy_new`.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_NULL` when `clock` is NULL, `TARDY_ERR_CAPACITY` when the
    /// static scheduler is taken.
    pub(crate) fn create(
        clock: tardy_clock_fn,
        clock_user: *mut c_void,
    ) -> Result<*mut Self, tardy_status> {
        let func = clock.ok_or(TARDY_ERR_NULL)?;
        let taken = critical_section::with(|cs| STATIC_TAKEN.borrow(cs).replace(true));
        if taken {
            return Err(TARDY_ERR_CAPACITY);
        }
        STATIC.with(|c| {
            *c.clock_mut() = SetClock(Some(HostClock {
                func,
                user: clock_user,
            }));
            Ok(())
        })?;
        Ok(core::ptr::from_ref(&STATIC).cast_mut())
    }

    /// Empties the scheduler `s`: drops every task without calling
    /// anything, removes every queue; gives the static scheduler back.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` (nothing is done) from inside its clock.
    ///
    /// # Safety
    ///
    /// - `s` is a live scheduler used by nobody else during or after the
    ///   call.
    pub(crate) unsafe fn free(s: *mut Self) -> Result<(), tardy_status> {
        // SAFETY: live by the caller's promise.
        let sched = unsafe { &*s };
        sched.with(|c| {
            c.clear(drop);
            let ids: heapless::Vec<QueueId, TARDY_MAX_QUEUES> = c.queue_ids().collect();
            for q in ids {
                let _ = c.remove_queue(q, drop);
            }
            *c.clock_mut() = SetClock(None);
            Ok(())
        })?;
        if core::ptr::eq(sched, &STATIC) {
            critical_section::with(|cs| STATIC_TAKEN.borrow(cs).set(false));
        }
        Ok(())
    }

    pub(crate) fn add_queue(&self, name: &str, max_size: usize) -> Result<(), tardy_status> {
        self.with(|c| Ok(c.add_queue(name, max_size).map(drop)?))
    }

    pub(crate) fn remove_queue(&self, name: &str) -> Result<Tasks, tardy_status> {
        let mut tasks = Tasks::new();
        self.with(|c| {
            // At most CAP scheduled and QCAP queued tasks: they all fit.
            Ok(c.remove_queue(c.queue_id(name)?, |t| {
                let _ = tasks.push(tardy_task::from(&t));
            })?)
        })?;
        Ok(tasks)
    }

    /// Schedules a task, one-shot or periodic, for the queue `name`,
    /// resolving the name in the same critical section as the scheduling.
    pub(crate) fn schedule(&self, name: &str, new: NewTask) -> Result<u64, tardy_status> {
        let id = self.with(|c| {
            let task = new.into_task(c.queue_id(name)?);
            Ok(match new.every {
                None => c.schedule(task, new.when)?,
                Some(every) => c.schedule_periodic(task, new.when, every.period, every.missed)?,
            })
        })?;
        Ok(id.get())
    }

    pub(crate) fn reschedule_at(&self, id: u64, deadline: Ticks) -> Result<(), tardy_status> {
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        self.with(|c| {
            c.reschedule(id, When::At(deadline))
                .map(drop)
                .map_err(Into::into)
        })
    }

    pub(crate) fn cancel(&self, id: u64) -> Result<UserData, tardy_status> {
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        self.with(|c| Ok(c.cancel(id)?.into_payload()))
    }

    pub(crate) fn cancel_subject(&self, subject: u64) -> Result<Tasks, tardy_status> {
        let mut tasks = Tasks::new();
        self.with(|c| {
            // At most CAP tasks are scheduled: they all fit.
            c.cancel_by_subject(&subject, |t| {
                let _ = tasks.push(tardy_task::from(&t));
            });
            Ok(())
        })?;
        Ok(tasks)
    }

    pub(crate) fn get_task(&self, name: &str, timeout_ms: u64) -> Result<tardy_task, tardy_status> {
        if timeout_ms != 0 {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        self.with(|c| Ok(tardy_task::from(&c.get_task(c.queue_id(name)?)?)))
    }

    pub(crate) fn task_done(&self, name: &str) -> Result<(), tardy_status> {
        self.with(|c| Ok(c.task_done(c.queue_id(name)?)?))
    }

    /// Delivers every task due at the clock's first reading, in one
    /// critical section per pass of the core: a pass delivers at most one
    /// occurrence of each periodic task, so passes go on while a task is
    /// due at that reading (a periodic task catching up). A deadline of
    /// `Ticks::MAX` ends the passes: every task due there was delivered by
    /// the pass that found it, and a periodic task whose deadlines
    /// saturated there would be due again after every pass.
    pub(crate) fn run_pending(&self) -> Result<usize, tardy_status> {
        let mut until = None;
        let mut moved = 0;
        loop {
            let (n, more) = self.with(|c| {
                let until = *until.get_or_insert_with(|| c.now());
                let n = c.run_pending();
                let more = c
                    .next_deadline()
                    .is_some_and(|d| d <= until && d < Ticks::MAX);
                Ok((n, more))
            })?;
            moved += n;
            if !more {
                return Ok(moved);
            }
        }
    }

    /// Delivers every task scheduled when called, whatever its deadline,
    /// and the next occurrence of each periodic task, as the threaded
    /// library does: a pass of the core stops at the first key newer than
    /// the call (a re-armed periodic task), so such keys are lifted to
    /// `Ticks::MAX`, behind every older key, and put back at their
    /// deadlines once the older keys are delivered. All in one critical
    /// section.
    pub(crate) fn run_all(&self) -> Result<usize, tardy_status> {
        self.with(|c| {
            let mark = c.last_order();
            // At most CAP tasks are scheduled: every lift fits.
            let mut lifted: heapless::Vec<(TaskId, Ticks), CAP> = heapless::Vec::new();
            let mut moved = 0;
            loop {
                moved += c.run_all_older_max(mark, usize::MAX);
                match c.first_key() {
                    Some((id, deadline, order)) if order > mark && deadline < Ticks::MAX => {
                        if c.reschedule(id, When::At(Ticks::MAX)).is_err()
                            || lifted.push((id, deadline)).is_err()
                        {
                            break;
                        }
                    }
                    // Nothing left, or only newer keys at `Ticks::MAX`,
                    // which come after every older key.
                    _ => break,
                }
            }
            for (id, deadline) in lifted {
                let _ = c.reschedule(id, When::At(deadline));
            }
            Ok(moved)
        })
    }

    pub(crate) fn next_deadline(&self) -> Result<Ticks, tardy_status> {
        self.with(|c| c.next_deadline().ok_or(TARDY_ERR_EMPTY))
    }

    pub(crate) fn now(&self) -> Result<Ticks, tardy_status> {
        self.with(|c| Ok(c.now()))
    }
}

/// Bytes of memory `tardy_init` needs.
#[unsafe(no_mangle)]
pub extern "C" fn tardy_scheduler_size() -> usize {
    size_of::<tardy_scheduler>()
}

/// The alignment, in bytes, of the memory `tardy_init` needs.
#[unsafe(no_mangle)]
pub extern "C" fn tardy_scheduler_align() -> usize {
    align_of::<tardy_scheduler>()
}

/// Builds a scheduler in `mem`, `len` bytes the caller owns, reading
/// `clock(clock_user)` for the time, and writes it to `*out` (the same
/// address as `mem`). `tardy_free` empties it; the memory stays the
/// caller's.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `mem`, `clock` or `out` is NULL,
/// `TARDY_ERR_INVALID_ARG` when `len` is below `tardy_scheduler_size()` or
/// `mem` is not aligned to `tardy_scheduler_align()`.
///
/// # Safety
///
/// - `mem` is NULL or valid for writing `len` bytes, not used by anything
///   else until the scheduler is freed, and not holding a live scheduler;
/// - `out` and `clock` as for `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_init(
    mem: *mut c_void,
    len: usize,
    clock: tardy_clock_fn,
    clock_user: *mut c_void,
    out: *mut *mut tardy_scheduler,
) -> tardy_status {
    ffi_panic_boundary! {
        let func = clock.ok_or(TARDY_ERR_NULL)?;
        check_out(out)?;
        let place = mem.cast::<tardy_scheduler>();
        check_out(place)?;
        if len < size_of::<tardy_scheduler>() {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        let clock = SetClock(Some(HostClock { func, user: clock_user }));
        // SAFETY: non-NULL, aligned and at least `size_of` bytes (checked),
        // writable and unused by the caller's promise.
        unsafe { place.write(tardy_scheduler::empty(clock)) };
        // SAFETY: `out` was checked and is writable by the caller's promise.
        unsafe { write_out(out, place) };
        Ok(())
    }
}
