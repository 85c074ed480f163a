//! The plain data of the C ABI: constants, ids, the task record and the
//! callback types.

use core::ffi::c_void;

use crate::clock::{Clock, Ticks};
use crate::task::{QueueId, Task, When};

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
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct tardy_task {
    /// The id returned when the task was scheduled (never 0).
    pub id: tardy_task_id,
    /// The subject given when the task was scheduled.
    pub subject: u64,
    /// The host's pointer given when the task was scheduled.
    pub user_data: *mut c_void,
    /// The deadline in clock ticks; for a task scheduled with
    /// `tardy_schedule_now`, the clock's reading when it was scheduled.
    pub deadline: u64,
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
    pub(crate) when: When,
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
