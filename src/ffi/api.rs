//! The exported functions of the threaded C ABI.
//!
//! Each one runs inside [`ffi_panic_boundary!`], checks its pointers and
//! names before doing anything, and writes its out-parameters only when it
//! returns `TARDY_OK`.

use core::ffi::{c_char, c_void};
use std::boxed::Box;

use crate::task::When;

use super::boundary::{self, check_opt_out, check_out, ffi_panic_boundary, write_out};
use super::status::tardy_status::{self, *};
use super::threaded::tardy_scheduler;
use super::types::{tardy_clock_fn, tardy_task, tardy_task_fn, tardy_task_id, HostClock, UserData};

/// The scheduler behind `s`.
///
/// # Safety
///
/// - `s` is NULL or a pointer returned by `tardy_new` and not yet given to
///   `tardy_free`, for as long as the returned reference is used.
unsafe fn sched<'a>(s: *mut tardy_scheduler) -> Result<&'a tardy_scheduler, tardy_status> {
    // SAFETY: by the caller's promise, a non-NULL `s` points to a live
    // scheduler; every use goes through its own locks, so a shared
    // reference is enough, also while other threads hold one.
    unsafe { s.cast_const().as_ref() }.ok_or(TARDY_ERR_NULL)
}

/// Hands `tasks` to `f`, one call each, with no lock held.
///
/// # Safety
///
/// - `f`, if not NULL, is safe to call with `user` and a valid task.
unsafe fn hand_back(f: tardy_task_fn, user: *mut c_void, tasks: &[tardy_task]) {
    if let Some(f) = f {
        for task in tasks {
            // SAFETY: `task` is valid for the call; `f` and `user` are the
            // caller's, who promised they may be called this way.
            unsafe { f(user, task) };
        }
    }
}

/// Creates a scheduler with no queue and writes it to `*out`.
///
/// `clock` is the time source: `clock(clock_user)` returns monotonic ticks
/// in the host's unit (see `tardy_clock_fn`). With `clock` NULL the
/// built-in monotonic clock is used: ticks are nanoseconds since the
/// scheduler was created (`clock_user` is then ignored). The background
/// thread of `tardy_start` takes ticks for nanoseconds; for a clock in
/// another unit, use `tardy_new_with_tick`. Free the scheduler with
/// `tardy_free`.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `out` is NULL.
///
/// # Safety
///
/// - `out` is NULL or valid for writing a pointer;
/// - `clock`, if not NULL, may be called with `clock_user` from any thread
///   that uses the scheduler, until `tardy_free` returns, and follows the
///   rules of `tardy_clock_fn`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_new(
    clock: tardy_clock_fn,
    clock_user: *mut c_void,
    out: *mut *mut tardy_scheduler,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { tardy_new_with_tick(clock, clock_user, 1, out) }
}

/// As `tardy_new`, and declares that one tick of `clock` lasts
/// `ns_per_tick` nanoseconds (1000000 for a millisecond clock).
///
/// Only the background thread of `tardy_start` uses the tick length, to
/// turn "the next deadline is N ticks away" into a sleep; after it, it
/// reads the clock again, so a wrong tick length never delivers a task
/// early: too long makes deliveries late, too short wakes the thread early
/// for nothing.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `out` is NULL, `TARDY_ERR_INVALID_ARG` when
/// `ns_per_tick` is 0.
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
        if ns_per_tick == 0 {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        let host = clock.map(|func| HostClock { func, user: clock_user });
        let tick = std::time::Duration::from_nanos(ns_per_tick);
        let s = Box::into_raw(Box::new(tardy_scheduler::new(host, tick)?));
        // SAFETY: `out` was checked and is writable by the caller's promise.
        unsafe { write_out(out, s) };
        Ok(())
    }
}

/// Destroys a scheduler: stops its background thread if it runs (waiting
/// for it), and frees the scheduler. NULL is a no-op.
///
/// Drain a scheduler before freeing it: every task still scheduled or
/// queued, and every task `tardy_stop` set aside, is dropped here without
/// any callback, so the host never sees that `user_data` again (tardy
/// never frees `user_data`; what it points to leaks unless the host tracks
/// it elsewhere). To get every task back, call `tardy_stop`, then
/// `tardy_drain`, then `tardy_free`.
///
/// Called from inside the scheduler's own clock callback it does nothing.
///
/// # Safety
///
/// - `s` is NULL or a pointer returned by `tardy_new` and not yet freed;
/// - no other thread uses `s` during or after the call (workers waiting in
///   `tardy_get_task` included: stop the scheduler and join them first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_free(s: *mut tardy_scheduler) {
    let _ = ffi_panic_boundary! {
        // SAFETY: `s` is NULL or a live scheduler, by the caller's promise.
        let sched = unsafe { sched(s) }?;
        if sched.in_own_clock() {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        // SAFETY: `s` came from `Box::into_raw` in `tardy_new`, and nobody
        // else uses it any more (caller's promise).
        drop(unsafe { Box::from_raw(s) });
        Ok(())
    };
}

/// Adds a queue named `name` holding at most `max_size` tasks (0: as many
/// as the store allows, `TARDY_CAPACITY`). The queue reserves room for
/// `max_size` tasks at once.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (a name that is empty, too
/// long or not UTF-8; `max_size > TARDY_CAPACITY`),
/// `TARDY_ERR_QUEUE_EXISTS`, `TARDY_ERR_CAPACITY` (`TARDY_MAX_QUEUES`
/// queues exist).
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `name` is NULL or a NUL-terminated string (only its first
///   `TARDY_MAX_NAME_LEN + 1` bytes are ever read).
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
        s.add_queue(name, max_size)
    }
}

/// Removes the queue `name`. Every task scheduled for it and every task
/// waiting in it is handed to `on_removed(user, task)` (may be NULL: the
/// tasks are then dropped; tardy never frees their `user_data`). Workers
/// waiting on the queue return `TARDY_ERR_NO_QUEUE`.
///
/// The callback runs on the calling thread, after the queue is gone and
/// with no lock held, before this function returns.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name),
/// `TARDY_ERR_NO_QUEUE`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `name` is NULL or a NUL-terminated string;
/// - `on_removed`, if not NULL, is safe to call with `user`.
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
        // SAFETY: `name` is NULL or a string (caller's promise).
        let name = unsafe { boundary::name(name) }?;
        let tasks = s.remove_queue(name)?;
        // SAFETY: `on_removed` may be called with `user` (caller's promise).
        unsafe { hand_back(on_removed, user, &tasks) };
        Ok(())
    }
}

/// The body of the three `tardy_schedule_*` functions.
///
/// # Safety
///
/// As for `tardy_schedule_now`.
unsafe fn schedule(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    when: When,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        // SAFETY: `queue` is NULL or a string (caller's promise).
        let name = unsafe { boundary::name(queue) }?;
        check_opt_out(out_id)?;
        let id = s.schedule(name, subject, UserData(user_data), when)?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_id, id) };
        Ok(())
    }
}

/// Puts a new task straight into the queue `queue` (ASAP), bypassing the
/// schedule; its deadline is the clock's reading. Writes its id to
/// `*out_id` unless `out_id` is NULL.
///
/// `user_data` is stored and returned as is; tardy never frees it.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name),
/// `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_QUEUE_FULL` (nothing was scheduled;
/// the host keeps its `user_data`).
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `queue` is NULL or a NUL-terminated string;
/// - `out_id` is NULL or valid for writing a `tardy_task_id`.
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

/// Schedules a new task for the queue `queue`, due `delay` ticks after the
/// clock's reading now (saturating). Writes its id to `*out_id` unless
/// `out_id` is NULL.
///
/// A due task whose queue is full is not dropped: it waits, in order, for a
/// worker to make room.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name),
/// `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_CAPACITY` (`TARDY_CAPACITY` tasks are
/// scheduled).
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

/// Schedules a new task for the queue `queue`, due when the clock reads
/// `deadline` (a deadline in the past is due at once). Writes its id to
/// `*out_id` unless `out_id` is NULL. `UINT64_MAX` means "never, unless
/// `tardy_run_all`".
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

/// Moves the scheduled task `id` to `deadline`; it keeps its id and goes
/// behind the tasks already scheduled for that deadline.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_NOT_SCHEDULED` unless `id` is still
/// scheduled (0, delivered, cancelled, handed back: all harmless).
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_reschedule_at(
    s: *mut tardy_scheduler,
    id: tardy_task_id,
    deadline: u64,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        s.reschedule_at(id, deadline)
    }
}

/// Cancels the scheduled task `id` and writes its `user_data` to
/// `*out_user_data` unless that is NULL. A task already delivered into its
/// queue can no longer be cancelled.
///
/// # Errors
///
/// `TARDY_ERR_NULL` (`s`), `TARDY_ERR_NOT_SCHEDULED`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `out_user_data` is NULL or valid for writing a pointer.
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
        let user_data = s.cancel(id)?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_user_data, user_data.0) };
        Ok(())
    }
}

/// Cancels every scheduled task about `subject` and hands each to
/// `on_cancelled(user, task)` (may be NULL), then writes how many to
/// `*out_count` unless that is NULL. Tasks already in a queue stay there.
/// No task is not an error: the count is 0.
///
/// The callback runs on the calling thread, with no lock held, before this
/// function returns; it may call tardy functions on `s` (a task it
/// schedules for `subject` is not cancelled by this call).
///
/// # Errors
///
/// `TARDY_ERR_NULL` (`s`).
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `on_cancelled`, if not NULL, is safe to call with `user`;
/// - `out_count` is NULL or valid for writing a `size_t`.
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
        let tasks = s.cancel_subject(subject)?;
        // SAFETY: `on_cancelled` may be called with `user` (caller's
        // promise).
        unsafe { hand_back(on_cancelled, user, &tasks) };
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_count, tasks.len()) };
        Ok(())
    }
}

/// Takes the oldest task of the queue `queue` into `*out`, waiting up to
/// `timeout_ms` milliseconds for one to arrive: 0 does not wait,
/// `UINT64_MAX` waits for ever.
///
/// Tasks arrive when they are scheduled with `tardy_schedule_now`, when the
/// background thread (`tardy_start`) or a call of `tardy_run_pending` /
/// `tardy_run_all` on any thread delivers them, or when a worker makes room
/// in a full queue. Waiting does not deliver anything by itself. Each task
/// is handed to exactly one caller.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name),
/// `TARDY_ERR_NO_QUEUE` (also when the queue is removed while waiting),
/// `TARDY_ERR_EMPTY` when no task came in time.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`, not freed while
///   this call waits;
/// - `queue` is NULL or a NUL-terminated string;
/// - `out` is NULL or valid for writing a `tardy_task`.
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
        // SAFETY: `queue` is NULL or a string (caller's promise).
        let name = unsafe { boundary::name(queue) }?;
        check_out(out)?;
        let task = s.get_task(name, timeout_ms)?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out, task) };
        Ok(())
    }
}

/// Marks one task taken from the queue `queue` as done (a counter, as in
/// Python's `Queue.task_done`).
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name, or every task taken
/// from the queue is already marked done), `TARDY_ERR_NO_QUEUE`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `queue` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_task_done(
    s: *mut tardy_scheduler,
    queue: *const c_char,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        // SAFETY: `queue` is NULL or a string (caller's promise).
        let name = unsafe { boundary::name(queue) }?;
        s.task_done(name)
    }
}

/// Delivers every task whose deadline the clock has reached into its
/// queue, in deadline order (ties in scheduling order), and writes how many
/// entered their queues to `*out_moved` unless that is NULL. Due tasks for
/// a full queue wait, in order, for room. For hosts that drive time
/// themselves; with `tardy_start` the background thread does this.
///
/// # Errors
///
/// `TARDY_ERR_NULL` (`s`).
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `out_moved` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_run_pending(
    s: *mut tardy_scheduler,
    out_moved: *mut usize,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_moved)?;
        let moved = s.run_pending()?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_moved, moved) };
        Ok(())
    }
}

/// Delivers every scheduled task now, whatever its deadline, in deadline
/// order, and writes how many entered their queues to `*out_moved` unless
/// that is NULL. Tasks for a full queue wait, in order, for room.
///
/// # Errors
///
/// `TARDY_ERR_NULL` (`s`).
///
/// # Safety
///
/// As for `tardy_run_pending`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_run_all(
    s: *mut tardy_scheduler,
    out_moved: *mut usize,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_moved)?;
        let moved = s.run_all()?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_moved, moved) };
        Ok(())
    }
}

/// Writes the earliest deadline of the schedule to `*out`, so a host that
/// drives time knows how long it may sleep. Due tasks waiting for room in a
/// full queue are not counted.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_EMPTY` when nothing is scheduled.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `out` is NULL or valid for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_next_deadline(
    s: *mut tardy_scheduler,
    out: *mut u64,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_out(out)?;
        let deadline = s.next_deadline()?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out, deadline) };
        Ok(())
    }
}

/// Writes the clock's reading to `*out`: the time base of
/// `tardy_schedule_at` and `tardy_next_deadline` (with the built-in clock,
/// nanoseconds since `tardy_new`).
///
/// # Errors
///
/// `TARDY_ERR_NULL`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `out` is NULL or valid for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_now(s: *mut tardy_scheduler, out: *mut u64) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_out(out)?;
        let now = s.now()?;
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out, now) };
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
/// `tardy_stop`, `TARDY_ERR_SYSTEM` when no thread could be started.
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
/// `TARDY_ERR_INVALID_ARG` from inside the scheduler's own clock.
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
/// inside the scheduler's own clock.
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
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_count)?;
        let tasks = s.drain(on_task.is_some())?;
        // SAFETY: `on_task` may be called with `user` (caller's promise).
        unsafe { hand_back(on_task, user, &tasks) };
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_count, tasks.len()) };
        Ok(())
    }
}

/// The library's version, `"MAJOR.MINOR.PATCH"`, static, NUL-terminated
/// (the header's `TARDY_VERSION` is the version it was generated for).
#[unsafe(no_mangle)]
pub extern "C" fn tardy_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
