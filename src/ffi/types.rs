//! The plain data of the C ABI: constants, ids, the task record and the
//! callback types.

use core::ffi::{c_int, c_void};

use crate::clock::{Clock, Ticks};
use crate::task::{MissedTickBehavior, QueueId, Task, When};

use super::status::tardy_status::{self, TARDY_ERR_INVALID_ARG};

/// The longest queue name, in bytes of UTF-8, without the terminating NUL.
pub const TARDY_MAX_NAME_LEN: usize = 31;

const _: () = assert!(TARDY_MAX_NAME_LEN == crate::MAX_NAME_LEN);

/// The id of one scheduling of one task. 0 never names a task; an id that
/// is no longer scheduled is harmless (every call given it answers
/// `TARDY_ERR_NOT_SCHEDULED`), even after its slot is reused.
pub type tardy_task_id = u64;

/// A task as tardy hands it to C: by `tardy_get_task`, and to the
/// `tardy_task_fn` callbacks of the functions that hand tasks back.
///
/// The record is a copy; `user_data` is the pointer given when the task was
/// scheduled, returned as is. tardy never reads, writes nor frees what it
/// points to: what it points to belongs to the host.
///
/// A task scheduled with `tardy_schedule_periodic_at` / `_after` delivers
/// one record per period (an occurrence): `periodic` is 1, `period_index`
/// and `missed` say which periods it stands for, `id` is the occurrence's
/// own (it names no scheduled task: cancel the periodic task with the id
/// the scheduling call wrote, or by subject), and `user_data` is the same
/// pointer in every occurrence. When the periodic task itself is handed
/// back (`tardy_cancel`, `tardy_cancel_subject`, `tardy_remove_queue`,
/// `tardy_drain`), its record has the id the scheduling call wrote, the
/// next deadline, and `periodic` 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct tardy_task {
    /// The id returned when the task was scheduled (never 0); for an
    /// occurrence of a periodic task, an id of its own.
    pub id: tardy_task_id,
    /// The subject given when the task was scheduled.
    pub subject: u64,
    /// The host's pointer given when the task was scheduled.
    pub user_data: *mut c_void,
    /// The deadline in clock ticks; for a task scheduled with
    /// `tardy_schedule_now`, the clock's reading when it was scheduled; for
    /// an occurrence, the deadline of the period it belongs to.
    pub deadline: u64,
    /// For an occurrence (`periodic` 1): the number of its period, 0 for
    /// the first deadline, k for the k-th period after it (the count goes
    /// on after a `TARDY_MISSED_TICK_BEHAVIOR_DELAY` shift or a
    /// `tardy_reschedule_at`; it saturates at 2^62 - 1). 0 otherwise.
    pub period_index: u64,
    /// For an occurrence: how many later periods passed without a delivery
    /// of their own and are coalesced into this one (always 0 under
    /// `TARDY_MISSED_TICK_BEHAVIOR_BURST`; at most `UINT32_MAX`). The next
    /// occurrence's `period_index` is `period_index + missed + 1`. 0
    /// otherwise.
    pub missed: u64,
    /// 1 for an occurrence of a periodic task, 0 for any other task
    /// (a one-shot task, or a periodic task handed back).
    pub periodic: u8,
}

/// A record with every field 0 and `user_data` NULL (for out-parameters).
impl Default for tardy_task {
    fn default() -> Self {
        Self {
            id: 0,
            subject: 0,
            user_data: core::ptr::null_mut(),
            deadline: 0,
            period_index: 0,
            missed: 0,
            periodic: 0,
        }
    }
}

/// What a periodic task does about periods that pass while it cannot be
/// delivered (no `tardy_run_pending` call in time, a slow worker, a clock
/// that jumped forward, or a full queue): tokio's `MissedTickBehavior`,
/// with the same names and meanings. The timelines are for period 10,
/// first deadline 0, nothing delivered from 10 to 35 (`#k`: the occurrence
/// of period k, `+m`: its `missed`, in parentheses its deadline).
///
/// A C enum holds any `int`: a value that is none of these is
/// `TARDY_ERR_INVALID_ARG`, never undefined behaviour (tardy reads it as
/// an `int`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum tardy_missed_tick_behavior {
    /// Catch up: every period gets an occurrence of its own, as fast as the
    /// queue takes them; deadlines stay on the grid first + k * period.
    /// Delivered at 0: #0, 10: #1, 35: #2 (20) and #3 (30), 40: #4, 50: #5.
    TARDY_MISSED_TICK_BEHAVIOR_BURST = 0,
    /// Shift the schedule: one occurrence for the missed periods, and the
    /// next deadline is one period after that delivery.
    /// Delivered at 0: #0, 10: #1, 35: #2+1 (20), 45: #4, 55: #5.
    TARDY_MISSED_TICK_BEHAVIOR_DELAY = 1,
    /// Skip: one occurrence for the missed periods, and the next deadline
    /// is the next one on the grid first + k * period.
    /// Delivered at 0: #0, 10: #1, 35: #2+1 (20), 40: #4, 50: #5.
    TARDY_MISSED_TICK_BEHAVIOR_SKIP = 2,
}

/// The value of a [`tardy_missed_tick_behavior`] as C passes it: any
/// `int`, including values that are no policy at all. The header spells it
/// `tardy_missed_tick_behavior`; Rust takes the raw integer so that an
/// unknown value from C is a named error, never an invalid enum.
pub type tardy_missed_tick_behavior_value = c_int;

/// The policy whose value is `value`.
///
/// # Errors
///
/// `TARDY_ERR_INVALID_ARG` for a value that is no
/// `tardy_missed_tick_behavior`.
pub(crate) fn missed_tick_behavior(
    value: tardy_missed_tick_behavior_value,
) -> Result<MissedTickBehavior, tardy_status> {
    use tardy_missed_tick_behavior::*;
    const BURST: c_int = TARDY_MISSED_TICK_BEHAVIOR_BURST as c_int;
    const DELAY: c_int = TARDY_MISSED_TICK_BEHAVIOR_DELAY as c_int;
    const SKIP: c_int = TARDY_MISSED_TICK_BEHAVIOR_SKIP as c_int;
    match value {
        BURST => Ok(MissedTickBehavior::Burst),
        DELAY => Ok(MissedTickBehavior::Delay),
        SKIP => Ok(MissedTickBehavior::Skip),
        _ => Err(TARDY_ERR_INVALID_ARG),
    }
}

/// A clock: returns monotonic ticks, in a unit the host chooses, given the
/// `clock_user` pointer passed to `tardy_new`.
///
/// It is called with the scheduler's lock held (bare metal: inside the
/// critical section), by any thread that calls a tardy function needing the
/// time and by the background thread. It must not call any tardy function
/// on the same scheduler: such a call returns `TARDY_ERR_INVALID_ARG`, also
/// when it comes through other schedulers' clocks (A's clock calls B, whose
/// clock calls A), never a deadlock on the calling thread. A clock that
/// calls another scheduler must not be part of a cycle of clocks running on
/// different threads at once (A's clock calling B on one thread while B's
/// clock calls A on another), which would deadlock. It must not block for
/// long, must be safe to call from every thread that uses the scheduler,
/// and should never go backwards (if it does, nothing is delivered early:
/// tasks wait until the clock reaches their deadline again). It must return
/// normally: a C++ exception or a `longjmp` out of it is undefined
/// behaviour.
pub type tardy_clock_fn = Option<unsafe extern "C" fn(user: *mut c_void) -> u64>;

/// A callback receiving a task that is handed back (cancelled by subject,
/// removed with its queue, or set aside by `tardy_stop` and drained), given
/// the `user` pointer passed to the function that takes the callback.
///
/// It runs on the thread that called that function, before the function
/// returns, once per task, with no lock held: it may call any tardy
/// function on the same scheduler (except `tardy_free`). `task` is valid
/// only during the call. It must return normally: a C++ exception or a
/// `longjmp` out of it is undefined behaviour.
pub type tardy_task_fn = Option<unsafe extern "C" fn(user: *mut c_void, task: *const tardy_task)>;

/// The payload of a task in the core: the host's `user_data` pointer.
///
/// tardy never dereferences it; the host decides which thread may use what
/// it points to, so moving the pointer between threads is sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: tardy only stores and returns the pointer, never dereferences it.
unsafe impl Send for UserData {}

/// The task type of the C scheduler: subject `u64`, payload the host's
/// pointer.
pub(crate) type CTask = Task<u64, UserData>;

/// A task a C caller asks to schedule, and when, before its queue name is
/// resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewTask {
    pub(crate) subject: u64,
    pub(crate) user_data: UserData,
    /// The deadline; for a periodic task, its first deadline.
    pub(crate) when: When,
    /// `None` for a one-shot task.
    pub(crate) every: Option<Every>,
}

/// How a periodic task repeats.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Every {
    /// The period in clock ticks (0 is refused by the core).
    pub(crate) period: Ticks,
    pub(crate) missed: MissedTickBehavior,
}

impl NewTask {
    /// The task for the queue `queue`.
    pub(crate) fn into_task(self, queue: QueueId) -> CTask {
        Task::new(queue, self.subject, self.user_data)
    }
}

impl From<&CTask> for tardy_task {
    fn from(t: &CTask) -> Self {
        Self {
            id: t.id().map_or(0, |id| id.get()),
            subject: *t.subject(),
            user_data: t.payload().0,
            deadline: t.deadline(),
            period_index: t.period().map_or(0, |p| p.index),
            missed: t.period().map_or(0, |p| p.missed),
            periodic: u8::from(t.period().is_some()),
        }
    }
}

/// A host clock: a `tardy_clock_fn` and its `clock_user` pointer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HostClock {
    pub(crate) func: unsafe extern "C" fn(user: *mut c_void) -> u64,
    pub(crate) user: *mut c_void,
}

// SAFETY: `tardy_new` documents that the clock must be callable from every
// thread that uses the scheduler, with its `clock_user`; tardy only passes
// the pointer back to it.
unsafe impl Send for HostClock {}
// SAFETY: as for `Send`: the callback is thread-safe by contract.
unsafe impl Sync for HostClock {}

impl Clock for HostClock {
    fn now(&self) -> Ticks {
        // SAFETY: `tardy_new`'s caller promised a clock that may be called
        // with `user` from any thread for the scheduler's whole life.
        unsafe { (self.func)(self.user) }
    }
}
