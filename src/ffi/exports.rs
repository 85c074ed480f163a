//! The exported functions of the C ABI, written once for both C
//! libraries: each checks its pointers and names, calls the backend chosen
//! by feature (`threaded.rs` for `capi`, `baremetal.rs` for
//! `capi-baremetal` without `std`, the same `pub(crate)` methods in both),
//! and writes its out-parameters only when it returns `TARDY_OK`. Every one
//! runs inside [`ffi_panic_boundary!`].
//!
//! Where the two libraries answer differently, the doc says so ("bare
//! metal: ..."); what only one of them has is exported by its backend.

use core::ffi::{c_char, c_void};

use crate::task::When;

use super::backend::{tardy_scheduler, Tasks};
use super::boundary::{
    self, check_opt_out, check_out, ffi_panic_boundary, hand_back, sched, write_out,
};
use super::status::tardy_status;
use super::types::{
    missed_tick_behavior, tardy_clock_fn, tardy_missed_tick_behavior_value, tardy_task,
    tardy_task_fn, tardy_task_id, Every, NewTask, UserData,
};

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
/// The scheduler grows as tasks come, with no maximum but the memory the
/// allocator gives (`TARDY_MAX_CAPACITY` tasks at most); to allocate room
/// up front, bound it, or bound the background thread's sleep, use
/// `tardy_new_with_options`. The background thread's sleep is bounded by
/// 1 s with a host clock (after the clock steps back and reads correctly
/// again, due tasks are delivered within it), and not at all with the
/// built-in clock, which never steps back.
///
/// Bare metal: the clock is required (there is no built-in one), and
/// `tardy_new` hands out the one static scheduler until `tardy_free` gives
/// it back; `tardy_init` builds more in memory the caller provides.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `out` is NULL (bare metal: also `clock`);
/// bare metal: `TARDY_ERR_CAPACITY` while the static scheduler is taken.
///
/// # Safety
///
/// - `out` is NULL or valid for writing a pointer;
/// - `clock`, if not NULL, may be called with `clock_user` from any thread
///   (bare metal: any context, with interrupts masked) that uses the
///   scheduler, until `tardy_free` returns, and follows the rules of
///   `tardy_clock_fn`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_new(
    clock: tardy_clock_fn,
    clock_user: *mut c_void,
    out: *mut *mut tardy_scheduler,
) -> tardy_status {
    ffi_panic_boundary! {
        check_out(out)?;
        let s = tardy_scheduler::create(clock, clock_user)?;
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
/// Bare metal: empties the scheduler (its tasks are dropped, its queues
/// removed); the static scheduler can then be taken again by `tardy_new`,
/// and memory given to `tardy_init` is the caller's again.
///
/// Called from inside a clock callback of the scheduler it does nothing.
///
/// # Safety
///
/// - `s` is NULL or a pointer returned by `tardy_new` (or `tardy_init`)
///   and not yet freed;
/// - no other thread uses `s` during or after the call (workers waiting in
///   `tardy_get_task` included: stop the scheduler and join them first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_free(s: *mut tardy_scheduler) {
    let _ = ffi_panic_boundary! {
        if s.is_null() {
            return Ok(());
        }
        // SAFETY: a live scheduler nobody else uses (caller's promise).
        unsafe { tardy_scheduler::free(s) }
    };
}

/// Adds a queue named `name` holding at most `max_size` tasks. Threads: 0
/// means unbounded, and the queue allocates nothing for its bound (room
/// is taken as tasks arrive). Bare metal: 0 means the most a queue holds,
/// `TARDY_MAX_QUEUE_SIZE`, reserved in the static storage.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (a name that is empty, too
/// long or not UTF-8; `max_size > TARDY_MAX_QUEUE_SIZE`),
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

/// The body of the `tardy_schedule_*` functions. `when` turns the caller's
/// time into the task's [`When`] once the pointers are checked; it may
/// refuse it (nothing is scheduled). `every` makes the task periodic: a
/// period in ticks and the raw `tardy_missed_tick_behavior` from C,
/// checked here.
///
/// # Safety
///
/// As for `tardy_schedule_now`.
pub(super) unsafe fn schedule(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    when: impl FnOnce(&tardy_scheduler) -> Result<When, tardy_status>,
    every: Option<(u64, tardy_missed_tick_behavior_value)>,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        // SAFETY: `queue` is NULL or a string (caller's promise).
        let name = unsafe { boundary::name(queue) }?;
        check_opt_out(out_id)?;
        let every = match every {
            Some((period, missed)) => Some(Every {
                period,
                missed: missed_tick_behavior(missed)?,
            }),
            None => None,
        };
        let new = NewTask {
            subject,
            user_data: UserData(user_data),
            when: when(s)?,
            every,
        };
        let id = s.schedule(name, new)?;
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
    unsafe {
        schedule(
            s,
            queue,
            subject,
            user_data,
            |_| Ok(When::Now),
            None,
            out_id,
        )
    }
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
/// `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_CAPACITY` (nothing was scheduled; the
/// host keeps its `user_data`): the scheduler holds the `max_capacity` of
/// its `tardy_options`, or the allocator refused room for one more task
/// (bare metal: `TARDY_CAPACITY` tasks are scheduled).
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
    unsafe {
        schedule(
            s,
            queue,
            subject,
            user_data,
            |_| Ok(When::After(delay)),
            None,
            out_id,
        )
    }
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
    unsafe {
        schedule(
            s,
            queue,
            subject,
            user_data,
            |_| Ok(When::At(deadline)),
            None,
            out_id,
        )
    }
}

/// Schedules a new periodic task for the queue `queue`: its first deadline
/// is `delay` ticks after the clock's reading now (saturating; 0: due now,
/// delivered like any due task, never refused as `TARDY_ERR_QUEUE_FULL`),
/// and at each deadline `period` ticks apart one occurrence of it enters
/// the queue, until it is cancelled or handed back. `missed` says what
/// happens to the periods that pass while it cannot be delivered (see
/// `tardy_missed_tick_behavior`). Writes its id to `*out_id` unless
/// `out_id` is NULL.
///
/// The id names the periodic task for as long as it repeats:
/// `tardy_cancel(id)` stops it and hands its `user_data` back,
/// `tardy_reschedule_at(id, t)` moves its next deadline (the periods after
/// it follow from `t`). It counts as one scheduled task (one task slot).
///
/// Each occurrence is a `tardy_task` with `periodic` 1, its
/// `period_index` and `missed`, the deadline of its period and an id of its
/// own. A worker that takes one may schedule a retry of it as an ordinary
/// task (`tardy_schedule_after` with its subject and `user_data`) without
/// touching the periodic task.
///
/// `user_data` is stored once and is the same pointer in every occurrence:
/// what it points to is shared by all of them and stays the host's while
/// the task repeats. It is handed back once, in a record with `periodic` 0,
/// by whichever ends the periodic task: `tardy_cancel`,
/// `tardy_cancel_subject`, `tardy_remove_queue`, or `tardy_stop` then
/// `tardy_drain`. Occurrences still in the queue that `tardy_remove_queue`
/// or `tardy_drain` hand over too have `periodic` 1: they are deliveries,
/// not the hand-back. The host may free what `user_data` points to after
/// the hand-back, once its workers are done with the occurrences they took.
///
/// # Errors
///
/// As for `tardy_schedule_after` (nothing is scheduled; the host keeps its
/// `user_data`), and `TARDY_ERR_INVALID_ARG` when `period` is 0 or
/// `missed` is no `tardy_missed_tick_behavior`.
///
/// # Safety
///
/// As for `tardy_schedule_now`.
// The arguments of `tardy_schedule_after` / `_at`, in their order, and the
// period and its policy: a struct would be a second way to schedule.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_schedule_periodic_after(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    delay: u64,
    period: u64,
    missed: tardy_missed_tick_behavior_value,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe {
        schedule(
            s,
            queue,
            subject,
            user_data,
            |_| Ok(When::After(delay)),
            Some((period, missed)),
            out_id,
        )
    }
}

/// As `tardy_schedule_periodic_after`, with the first deadline when the
/// clock reads `deadline` (a deadline in the past is due at once; the
/// periods after it follow from it: `deadline + k * period`, so a host can
/// keep a periodic task on a grid of its own, such as multiples of
/// `period`). Under `TARDY_MISSED_TICK_BEHAVIOR_BURST` every period from
/// `deadline` on is delivered, also those already past.
///
/// # Errors
///
/// As for `tardy_schedule_periodic_after`.
///
/// # Safety
///
/// As for `tardy_schedule_now`.
// The arguments of `tardy_schedule_after` / `_at`, in their order, and the
// period and its policy: a struct would be a second way to schedule.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_schedule_periodic_at(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    deadline: u64,
    period: u64,
    missed: tardy_missed_tick_behavior_value,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe {
        schedule(
            s,
            queue,
            subject,
            user_data,
            |_| Ok(When::At(deadline)),
            Some((period, missed)),
            out_id,
        )
    }
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
    // SAFETY: the same obligations, passed on.
    unsafe {
        hand_back_counted(s, on_cancelled, user, out_count, |s| {
            s.cancel_subject(subject)
        })
    }
}

/// The body of the functions that hand tasks back with a count
/// (`tardy_cancel_subject`, `tardy_drain`): takes the tasks with `take`,
/// hands each to `f(user, task)` with no lock held, writes how many to
/// `*out_count` unless that is NULL.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler;
/// - `f`, if not NULL, is safe to call with `user`;
/// - `out_count` is NULL or valid for writing a `size_t`.
pub(crate) unsafe fn hand_back_counted(
    s: *mut tardy_scheduler,
    f: tardy_task_fn,
    user: *mut c_void,
    out_count: *mut usize,
    take: impl FnOnce(&tardy_scheduler) -> Result<Tasks, tardy_status>,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_count)?;
        let tasks = take(s)?;
        // SAFETY: `f` may be called with `user` (caller's promise).
        unsafe { hand_back(f, user, &tasks) };
        // SAFETY: checked above; writable by the caller's promise.
        unsafe { write_out(out_count, tasks.len()) };
        Ok(())
    }
}

/// Takes the oldest task of the queue `queue` into `*out`, waiting up to
/// `timeout_ms` milliseconds for one to arrive: 0 does not wait,
/// `UINT64_MAX` waits for ever. Bare metal: nothing blocks, and a
/// `timeout_ms` other than 0 is `TARDY_ERR_INVALID_ARG`.
///
/// Tasks arrive when they are scheduled with `tardy_schedule_now`, when the
/// background thread (`tardy_start`) or a call of `tardy_run_pending` /
/// `tardy_run_all` on any thread delivers them, or when a worker makes room
/// in a full queue. Waiting does not deliver anything by itself. Each task
/// is handed to exactly one caller.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_INVALID_ARG` (bad name; bare metal: a
/// `timeout_ms` other than 0), `TARDY_ERR_NO_QUEUE` (also when the queue
/// is removed while waiting),
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
/// themselves (bare metal: from the main loop or a timer interrupt); with
/// `tardy_start` the background thread does this. A periodic task delivers
/// one occurrence for each due period, or fewer as its
/// `tardy_missed_tick_behavior` says, and stays scheduled.
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
    // SAFETY: the same obligations, passed on.
    unsafe { run(s, false, out_moved) }
}

/// Delivers every scheduled task now, whatever its deadline, in deadline
/// order, and writes how many entered their queues to `*out_moved` unless
/// that is NULL. Tasks for a full queue wait, in order, for room. Threads:
/// it moves the tasks in batches of at most 64, releasing the lock in
/// between. A periodic task delivers its next occurrence and stays
/// scheduled.
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
    // SAFETY: the same obligations, passed on.
    unsafe { run(s, true, out_moved) }
}

/// The body of `tardy_run_pending` (`all` false) and `tardy_run_all`.
///
/// # Safety
///
/// As for `tardy_run_pending`.
unsafe fn run(s: *mut tardy_scheduler, all: bool, out_moved: *mut usize) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        check_opt_out(out_moved)?;
        let moved = if all { s.run_all() } else { s.run_pending() }?;
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

/// The library's version, `"MAJOR.MINOR.PATCH"`, static, NUL-terminated
/// (the header's `TARDY_VERSION` is the version it was generated for).
#[unsafe(no_mangle)]
pub extern "C" fn tardy_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
