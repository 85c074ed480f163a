//! The C ABI without `std` and without an allocator (feature
//! `capi-baremetal`): the same status codes, task record, callbacks and
//! function names as the threaded C ABI, on a fixed-capacity scheduler
//! shared through critical sections, for firmware written in C.
//!
//! Differences from the threaded C ABI:
//!
//! - Storage is static or the caller's: `tardy_new` hands out the one
//!   static scheduler (a second `tardy_new` before `tardy_free` is
//!   `TARDY_ERR_CAPACITY`); `tardy_init` builds one in memory the caller
//!   provides (`tardy_scheduler_size` / `tardy_scheduler_align` bytes).
//! - The clock is required (there is no built-in one): `tardy_new` and
//!   `tardy_init` with a NULL clock are `TARDY_ERR_NULL`.
//! - Nothing blocks and no thread runs: `tardy_get_task` with a non-zero
//!   timeout is `TARDY_ERR_INVALID_ARG`; the host calls `tardy_run_pending`
//!   from its main loop or a timer interrupt. `tardy_start`/`tardy_stop`
//!   do not exist.
//! - Capacities are small: [`TARDY_BAREMETAL_CAPACITY`] task slots,
//!   [`TARDY_BAREMETAL_MAX_QUEUES`] queues of at most
//!   [`TARDY_BAREMETAL_QUEUE_CAPACITY`] tasks.
//! - Every function runs inside one critical section (`critical-section`
//!   crate; the static library forwards it to the host's hooks), so any
//!   function may be called from interrupt handlers and the main loop.
//!   Callbacks (`tardy_task_fn`) run after the critical section, and may
//!   call back into the scheduler. The clock runs inside it; a tardy call
//!   from the clock is `TARDY_ERR_STATE`.

use core::cell::Cell;
use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of};

use crate::clock::{Clock, Ticks};
use crate::queue::HeaplessQueue;
use crate::scheduler::Scheduler;
use crate::sync::CsScheduler;
use crate::task::{QueueId, Task, TaskId, When};

use super::boundary::{self, check_opt_out, check_out, ffi_panic_boundary, write_out};
use super::status::tardy_status::{self, *};
use super::types::{
    tardy_clock_fn, tardy_task, tardy_task_fn, tardy_task_id, CTask, HostClock, UserData,
};

/// Task slots of a bare-metal scheduler.
pub const TARDY_BAREMETAL_CAPACITY: usize = 32;
/// Queues of a bare-metal scheduler.
pub const TARDY_BAREMETAL_MAX_QUEUES: usize = 4;
/// The most tasks one queue of a bare-metal scheduler holds.
pub const TARDY_BAREMETAL_QUEUE_CAPACITY: usize = 16;

const CAP: usize = TARDY_BAREMETAL_CAPACITY;
const QCAP: usize = TARDY_BAREMETAL_QUEUE_CAPACITY;

/// The host clock once `tardy_new` / `tardy_init` set it; 0 before.
#[derive(Clone, Copy, Debug)]
struct SetClock(Option<HostClock>);

impl Clock for SetClock {
    fn now(&self) -> Ticks {
        self.0.map_or(0, |c| c.now())
    }
}

type Core =
    Scheduler<SetClock, HeaplessQueue<CTask, QCAP>, u64, UserData, CAP, TARDY_BAREMETAL_MAX_QUEUES>;

/// A bare-metal scheduler (opaque to C).
pub struct tardy_scheduler(
    CsScheduler<
        SetClock,
        HeaplessQueue<CTask, QCAP>,
        u64,
        UserData,
        CAP,
        TARDY_BAREMETAL_MAX_QUEUES,
    >,
);

impl tardy_scheduler {
    const fn empty(clock: SetClock) -> Self {
        Self(CsScheduler::new(clock))
    }

    /// Runs `f` in a critical section; `TARDY_ERR_STATE` when called from
    /// inside another call on the same scheduler (its clock).
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<R, tardy_status>,
    ) -> Result<R, tardy_status> {
        self.0.with(f).map_err(|_| TARDY_ERR_STATE)?
    }
}

static STATIC: tardy_scheduler = tardy_scheduler::empty(SetClock(None));
static STATIC_TAKEN: critical_section::Mutex<Cell<bool>> =
    critical_section::Mutex::new(Cell::new(false));

/// The scheduler behind `s`.
///
/// # Safety
///
/// - `s` is NULL or a pointer from `tardy_new` / `tardy_init` not yet given
///   to `tardy_free`, for as long as the reference is used.
unsafe fn sched<'a>(s: *mut tardy_scheduler) -> Result<&'a tardy_scheduler, tardy_status> {
    // SAFETY: by the caller's promise, a non-NULL `s` points to a live
    // scheduler; all access goes through its critical-section mutex, so a
    // shared reference is enough.
    unsafe { s.cast_const().as_ref() }.ok_or(TARDY_ERR_NULL)
}

/// The queue named by the C string `name`.
///
/// # Safety
///
/// As for [`boundary::name`].
unsafe fn queue(core: &Core, name: *const c_char) -> Result<QueueId, tardy_status> {
    // SAFETY: passed on to the caller.
    let name = unsafe { boundary::name(name) }?;
    Ok(core.queue_id(name)?)
}

/// Hands `tasks` to `f`, one call each, outside the critical section.
///
/// # Safety
///
/// - `f`, if not NULL, is safe to call with `user` and a valid task.
unsafe fn hand_back(f: tardy_task_fn, user: *mut c_void, tasks: &[tardy_task]) {
    if let Some(f) = f {
        for task in tasks {
            // SAFETY: `task` is valid for the call; the caller promised `f`
            // may be called with `user`.
            unsafe { f(user, task) };
        }
    }
}

/// Takes the static scheduler, reading `clock(clock_user)` for the time,
/// and writes it to `*out`. Give it back with `tardy_free`.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `clock` or `out` is NULL, `TARDY_ERR_CAPACITY`
/// when the static scheduler is taken.
///
/// # Safety
///
/// - `out` is NULL or valid for writing a pointer;
/// - `clock` may be called with `clock_user` from every context that uses
///   the scheduler (interrupts included), with interrupts masked, until
///   `tardy_free` returns; it must not call tardy.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_new(
    clock: tardy_clock_fn,
    clock_user: *mut c_void,
    out: *mut *mut tardy_scheduler,
) -> tardy_status {
    ffi_panic_boundary! {
        check_out(out)?;
        let func = clock.ok_or(TARDY_ERR_NULL)?;
        let taken = critical_section::with(|cs| STATIC_TAKEN.borrow(cs).replace(true));
        if taken {
            return Err(TARDY_ERR_CAPACITY);
        }
        STATIC.with(|c| {
            *c.clock_mut() = SetClock(Some(HostClock { func, user: clock_user }));
            Ok(())
        })?;
        let s = core::ptr::from_ref(&STATIC).cast_mut();
        // SAFETY: `out` was checked and is writable by the caller's promise.
        unsafe { write_out(out, s) };
        Ok(())
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
        check_out(out)?;
        let func = clock.ok_or(TARDY_ERR_NULL)?;
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

/// Empties a scheduler: drops every task scheduled or queued without
/// calling anything and removes every queue. The static scheduler can then
/// be taken again by `tardy_new`; caller memory can be reused. NULL is a
/// no-op, and so is a call from inside the scheduler's clock.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler, not used by anyone during or after
///   the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_free(s: *mut tardy_scheduler) {
    let _ = ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let sched = unsafe { sched(s) }?;
        sched.with(|c| {
            c.clear(drop);
            let ids: heapless::Vec<QueueId, TARDY_BAREMETAL_MAX_QUEUES> = c.queue_ids().collect();
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
    };
}

/// Adds a queue named `name` holding at most `max_size` tasks (0: as many
/// as a queue holds, `TARDY_BAREMETAL_QUEUE_CAPACITY`).
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name, `max_size` too
/// large), `TARDY_ERR_QUEUE_EXISTS`, `TARDY_ERR_CAPACITY` (no queue slot),
/// `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_add_queue(
    s: *mut tardy_scheduler,
    name: *const c_char,
    max_size: usize,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        // SAFETY: `name` is NULL or a string (caller's promise).
        let name = unsafe { boundary::name(name) }?;
        s.with(|c| c.add_queue(name, max_size).map(drop).map_err(Into::into))
    }
}

/// Removes the queue `name`, handing each task scheduled for it or waiting
/// in it to `on_removed(user, task)` (may be NULL), after the critical
/// section.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG`, `TARDY_ERR_NO_QUEUE`,
/// `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `name` is NULL or a NUL-terminated string;
/// - `on_removed`, if not NULL, may be called with `user`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_remove_queue(
    s: *mut tardy_scheduler,
    name: *const c_char,
    on_removed: tardy_task_fn,
    user: *mut c_void,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        let mut tasks: heapless::Vec<tardy_task, { CAP + QCAP }> = heapless::Vec::new();
        s.with(|c| {
            // SAFETY: `name` is NULL or a string (caller's promise).
            let q = unsafe { queue(c, name) }?;
            // At most CAP scheduled and QCAP queued tasks: they all fit.
            c.remove_queue(q, |t| {
                let _ = tasks.push(tardy_task::from(&t));
            })?;
            Ok(())
        })?;
        // SAFETY: `on_removed` may be called with `user` (caller's promise).
        unsafe { hand_back(on_removed, user, &tasks) };
        Ok(())
    }
}

unsafe fn schedule(
    s: *mut tardy_scheduler,
    name: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    when: When,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_id)?;
        let id = s.with(|c| {
            // SAFETY: `name` is NULL or a string (caller's promise).
            let q = unsafe { queue(c, name) }?;
            Ok(c.schedule(Task::new(q, subject, UserData(user_data)), when)?)
        })?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_id, id.get()) };
        Ok(())
    }
}

/// Puts a task straight into the queue `queue`; its id goes to `*out_id`
/// (may be NULL).
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG`, `TARDY_ERR_NO_QUEUE`,
/// `TARDY_ERR_QUEUE_FULL`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `queue` is NULL or a NUL-terminated string;
///   `out_id` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_schedule_now(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { schedule(s, queue, subject, user_data, When::Now, out_id) }
}

/// Schedules a task for `queue`, due `delay` ticks from now (saturating).
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG`, `TARDY_ERR_NO_QUEUE`,
/// `TARDY_ERR_CAPACITY`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// As for `tardy_schedule_now`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_schedule_after(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    delay: u64,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { schedule(s, queue, subject, user_data, When::After(delay), out_id) }
}

/// Schedules a task for `queue`, due when the clock reads `deadline`.
///
/// # Errors
///
/// As for `tardy_schedule_after`.
///
/// # Safety
///
/// As for `tardy_schedule_now`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_schedule_at(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    deadline: u64,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { schedule(s, queue, subject, user_data, When::At(deadline), out_id) }
}

/// Moves the scheduled task `id` to `deadline`.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_NOT_SCHEDULED`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_reschedule_at(
    s: *mut tardy_scheduler,
    id: tardy_task_id,
    deadline: u64,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        s.with(|c| Ok(c.reschedule(id, When::At(deadline))?))
    }
}

/// Cancels the scheduled task `id`; its `user_data` goes to
/// `*out_user_data` (may be NULL).
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (misaligned out-pointer),
/// `TARDY_ERR_NOT_SCHEDULED`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `out_user_data` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_cancel(
    s: *mut tardy_scheduler,
    id: tardy_task_id,
    out_user_data: *mut *mut c_void,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_user_data)?;
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        let task = s.with(|c| Ok(c.cancel(id)?))?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_user_data, task.payload().0) };
        Ok(())
    }
}

/// Cancels every scheduled task about `subject`, handing each to
/// `on_cancelled(user, task)` (may be NULL) after the critical section;
/// their number goes to `*out_count` (may be NULL).
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `out_count` is NULL or writable;
/// - `on_cancelled`, if not NULL, may be called with `user`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_cancel_subject(
    s: *mut tardy_scheduler,
    subject: u64,
    on_cancelled: tardy_task_fn,
    user: *mut c_void,
    out_count: *mut usize,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_count)?;
        let mut tasks: heapless::Vec<tardy_task, CAP> = heapless::Vec::new();
        s.with(|c| {
            // At most CAP tasks are scheduled: they all fit.
            c.cancel_by_subject(&subject, |t| {
                let _ = tasks.push(tardy_task::from(&t));
            });
            Ok(())
        })?;
        // SAFETY: `on_cancelled` may be called with `user` (caller's
        // promise).
        unsafe { hand_back(on_cancelled, user, &tasks) };
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_count, tasks.len()) };
        Ok(())
    }
}

/// Takes the oldest task of `queue` into `*out`, without waiting.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name, or `timeout_ms` not
/// 0: nothing blocks here), `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_EMPTY`,
/// `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `queue` is NULL or a NUL-terminated string;
///   `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_get_task(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    timeout_ms: u64,
    out: *mut tardy_task,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_out(out)?;
        if timeout_ms != 0 {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        let task = s.with(|c| {
            // SAFETY: `queue` is NULL or a string (caller's promise).
            let q = unsafe { self::queue(c, queue) }?;
            Ok(tardy_task::from(&c.get_task(q)?))
        })?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out, task) };
        Ok(())
    }
}

/// Marks one task taken from `queue` as done.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name, or more
/// `task_done` than tasks taken), `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `queue` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_task_done(
    s: *mut tardy_scheduler,
    queue: *const c_char,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        s.with(|c| {
            // SAFETY: `queue` is NULL or a string (caller's promise).
            let q = unsafe { self::queue(c, queue) }?;
            Ok(c.task_done(q)?)
        })
    }
}

unsafe fn run(s: *mut tardy_scheduler, all: bool, out_moved: *mut usize) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_moved)?;
        let moved = s.with(|c| Ok(if all { c.run_all() } else { c.run_pending() }))?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_moved, moved) };
        Ok(())
    }
}

/// Moves every due task into its queue; how many to `*out_moved` (may be
/// NULL). Call it from the main loop or a timer interrupt.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `out_moved` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_run_pending(
    s: *mut tardy_scheduler,
    out_moved: *mut usize,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { run(s, false, out_moved) }
}

/// Moves every scheduled task into its queue now, in deadline order.
///
/// # Errors
///
/// As for `tardy_run_pending`.
///
/// # Safety
///
/// As for `tardy_run_pending`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_run_all(
    s: *mut tardy_scheduler,
    out_moved: *mut usize,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { run(s, true, out_moved) }
}

/// The earliest deadline scheduled, to `*out`: how long the host may sleep.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG`, `TARDY_ERR_EMPTY` when
/// nothing is scheduled, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_next_deadline(
    s: *mut tardy_scheduler,
    out: *mut u64,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_out(out)?;
        let next = s.with(|c| c.next_deadline().ok_or(TARDY_ERR_EMPTY))?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out, next) };
        Ok(())
    }
}

/// The scheduler's clock reading, to `*out`.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG`, `TARDY_ERR_STATE`.
///
/// # Safety
///
/// - `s` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_now(s: *mut tardy_scheduler, out: *mut u64) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_out(out)?;
        let now = s.with(|c| Ok(c.now()))?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out, now) };
        Ok(())
    }
}

/// The library version, a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn tardy_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
