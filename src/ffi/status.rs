//! The one status type of the C ABI, [`tardy_status`], and its text.

use core::ffi::{c_char, c_int, CStr};

use crate::error::{
    AddQueueError, GetTaskError, NotScheduled, ScheduleError, TaskDoneError, UnknownQueue,
};

/// What a tardy function did: `TARDY_OK` (0) or a negative error.
///
/// A function that fails leaves its out-parameters untouched and changes
/// nothing in the scheduler.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum tardy_status {
    /// Success.
    TARDY_OK = 0,
    /// A required pointer argument was NULL.
    TARDY_ERR_NULL = -1,
    /// An argument is invalid: a queue name that is empty, not UTF-8 or
    /// longer than `TARDY_MAX_NAME_LEN` bytes, a `max_size` above
    /// `TARDY_MAX_QUEUE_SIZE`, `tardy_task_done` called more often than
    /// tasks were taken, a tick length of 0 (or not 1 with the built-in
    /// clock), a `tardy_options` field out of range (its `size`, a capacity
    /// above `TARDY_MAX_CAPACITY`, a maximum below the initial capacity),
    /// a `timeout_ms` other than 0 on bare metal, storage too small
    /// or misaligned for `tardy_init`, a misaligned out-pointer, or a call
    /// into a scheduler whose clock callback runs on this thread (also
    /// through other schedulers' clocks).
    TARDY_ERR_INVALID_ARG = -2,
    /// No queue has that name.
    TARDY_ERR_NO_QUEUE = -3,
    /// A queue of that name exists already.
    TARDY_ERR_QUEUE_EXISTS = -4,
    /// The queue is full: a task scheduled "now" cannot enter it (nothing
    /// was scheduled).
    TARDY_ERR_QUEUE_FULL = -5,
    /// No task slot is left, or no room for another queue: the scheduler
    /// holds its `max_capacity` of tasks or the allocator refused room for
    /// one more (bare metal: `TARDY_CAPACITY` tasks are scheduled), or
    /// `TARDY_MAX_QUEUES` queues exist.
    TARDY_ERR_CAPACITY = -6,
    /// The task id names no scheduled task: it was delivered, cancelled,
    /// handed back, never existed, or is 0.
    TARDY_ERR_NOT_SCHEDULED = -7,
    /// Nothing there: no task came from the queue in time, or nothing is
    /// scheduled.
    TARDY_ERR_EMPTY = -8,
    /// An internal failure was caught at the boundary; the scheduler may be
    /// unusable afterwards (every later call may return this status), but
    /// the process is not crashed.
    TARDY_ERR_PANIC = -9,
    /// The call does not fit the scheduler's state: `tardy_start` while the
    /// background thread runs, `tardy_drain` before `tardy_stop`, or any
    /// call but `tardy_drain` and `tardy_free` after `tardy_stop`.
    TARDY_ERR_STATE = -10,
    /// The operating system refused a resource (the background thread could
    /// not be started).
    TARDY_ERR_SYSTEM = -11,
}

use tardy_status::*;

/// The value of a [`tardy_status`] as C passes it: any `int`, including
/// values that are no status at all.
///
/// The header spells it `tardy_status`; Rust takes the raw integer so that
/// an unknown value from C is never an invalid enum.
pub type tardy_status_value = c_int;

/// Every status, in the order of their values.
const ALL: [tardy_status; 12] = [
    TARDY_OK,
    TARDY_ERR_NULL,
    TARDY_ERR_INVALID_ARG,
    TARDY_ERR_NO_QUEUE,
    TARDY_ERR_QUEUE_EXISTS,
    TARDY_ERR_QUEUE_FULL,
    TARDY_ERR_CAPACITY,
    TARDY_ERR_NOT_SCHEDULED,
    TARDY_ERR_EMPTY,
    TARDY_ERR_PANIC,
    TARDY_ERR_STATE,
    TARDY_ERR_SYSTEM,
];

impl tardy_status {
    /// Every status, in the order of their values.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::ffi::tardy_status;
    ///
    /// let all = tardy_status::all();
    /// assert_eq!(all[0], tardy_status::TARDY_OK);
    /// assert!(all.iter().skip(1).all(|s| (*s as i32) < 0)); // errors are negative
    /// ```
    pub const fn all() -> &'static [Self] {
        &ALL
    }

    /// The status whose value is `value`, `None` when there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::ffi::tardy_status;
    ///
    /// assert_eq!(tardy_status::from_value(-5), Some(tardy_status::TARDY_ERR_QUEUE_FULL));
    /// assert_eq!(tardy_status::from_value(42), None); // not a status
    /// ```
    #[must_use]
    pub fn from_value(value: tardy_status_value) -> Option<Self> {
        ALL.into_iter().find(|s| *s as c_int == value)
    }

    /// A short English description, NUL-terminated, static.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::ffi::tardy_status;
    ///
    /// let text = tardy_status::TARDY_ERR_QUEUE_FULL.message();
    /// assert_eq!(text.to_str(), Ok("queue is full"));
    /// ```
    #[must_use]
    pub const fn message(self) -> &'static CStr {
        match self {
            TARDY_OK => c"ok",
            TARDY_ERR_NULL => c"a required pointer argument is NULL",
            TARDY_ERR_INVALID_ARG => c"invalid argument",
            TARDY_ERR_NO_QUEUE => c"no such queue",
            TARDY_ERR_QUEUE_EXISTS => c"a queue of that name exists",
            TARDY_ERR_QUEUE_FULL => c"queue is full",
            TARDY_ERR_CAPACITY => c"scheduler full (its maximum of tasks, or the allocator refused room), or no room for another queue",
            TARDY_ERR_NOT_SCHEDULED => c"task is not scheduled",
            TARDY_ERR_EMPTY => c"empty",
            TARDY_ERR_PANIC => c"internal failure (caught)",
            TARDY_ERR_STATE => c"wrong state for this call",
            TARDY_ERR_SYSTEM => c"the operating system refused a resource",
        }
    }
}

/// The text of an unknown status value.
const UNKNOWN: &CStr = c"unknown status";

/// A short, static, NUL-terminated English description of `status`.
///
/// Never returns NULL: a value that is no `tardy_status` gives
/// `"unknown status"`. The string must not be freed or modified. Safe to
/// call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn tardy_status_str(status: tardy_status_value) -> *const c_char {
    tardy_status::from_value(status)
        .map_or(UNKNOWN, tardy_status::message)
        .as_ptr()
}

impl From<AddQueueError> for tardy_status {
    fn from(e: AddQueueError) -> Self {
        match e {
            AddQueueError::NameTaken => TARDY_ERR_QUEUE_EXISTS,
            AddQueueError::NoQueueSlot => TARDY_ERR_CAPACITY,
            AddQueueError::InvalidName | AddQueueError::InvalidMaxSize => TARDY_ERR_INVALID_ARG,
        }
    }
}

impl From<UnknownQueue> for tardy_status {
    fn from(_: UnknownQueue) -> Self {
        TARDY_ERR_NO_QUEUE
    }
}

impl<T> From<ScheduleError<T>> for tardy_status {
    fn from(e: ScheduleError<T>) -> Self {
        match e {
            ScheduleError::UnknownQueue(_) => TARDY_ERR_NO_QUEUE,
            ScheduleError::QueueFull(_) => TARDY_ERR_QUEUE_FULL,
            ScheduleError::Capacity(_) => TARDY_ERR_CAPACITY,
            #[cfg(feature = "periodic")]
            ScheduleError::ZeroPeriod(_) => TARDY_ERR_INVALID_ARG,
        }
    }
}

impl From<NotScheduled> for tardy_status {
    fn from(_: NotScheduled) -> Self {
        TARDY_ERR_NOT_SCHEDULED
    }
}

impl From<GetTaskError> for tardy_status {
    fn from(e: GetTaskError) -> Self {
        match e {
            GetTaskError::UnknownQueue => TARDY_ERR_NO_QUEUE,
            GetTaskError::Empty => TARDY_ERR_EMPTY,
        }
    }
}

impl From<TaskDoneError> for tardy_status {
    fn from(e: TaskDoneError) -> Self {
        match e {
            TaskDoneError::UnknownQueue => TARDY_ERR_NO_QUEUE,
            TaskDoneError::NotTaken => TARDY_ERR_INVALID_ARG,
        }
    }
}

#[cfg(feature = "capi")]
mod threaded {
    use super::tardy_status::{self, *};
    use crate::thread::{
        CancelError, DoneError, Halted, NewQueueError, QueueError, StartError, Stopped,
        SubmitError, TakeError,
    };

    impl From<Stopped> for tardy_status {
        fn from(_: Stopped) -> Self {
            TARDY_ERR_STATE
        }
    }

    impl From<Halted> for tardy_status {
        fn from(_: Halted) -> Self {
            TARDY_ERR_STATE
        }
    }

    impl From<StartError> for tardy_status {
        fn from(e: StartError) -> Self {
            match e {
                StartError::AlreadyStarted | StartError::Stopped | StartError::Failed => {
                    TARDY_ERR_STATE
                }
                StartError::Spawn(_) => TARDY_ERR_SYSTEM,
            }
        }
    }

    impl<T> From<SubmitError<T>> for tardy_status {
        fn from(e: SubmitError<T>) -> Self {
            match e {
                SubmitError::UnknownQueue(_) => TARDY_ERR_NO_QUEUE,
                SubmitError::QueueFull(_) => TARDY_ERR_QUEUE_FULL,
                SubmitError::Capacity(_) => TARDY_ERR_CAPACITY,
                #[cfg(feature = "periodic")]
                SubmitError::ZeroPeriod(_) => TARDY_ERR_INVALID_ARG,
                SubmitError::Stopped(_) | SubmitError::Failed(_) => TARDY_ERR_STATE,
            }
        }
    }

    impl From<CancelError> for tardy_status {
        fn from(e: CancelError) -> Self {
            match e {
                CancelError::NotScheduled => TARDY_ERR_NOT_SCHEDULED,
                CancelError::Stopped | CancelError::Failed => TARDY_ERR_STATE,
            }
        }
    }

    impl From<QueueError> for tardy_status {
        fn from(e: QueueError) -> Self {
            match e {
                QueueError::UnknownQueue => TARDY_ERR_NO_QUEUE,
                QueueError::Stopped | QueueError::Failed => TARDY_ERR_STATE,
            }
        }
    }

    impl From<NewQueueError> for tardy_status {
        fn from(e: NewQueueError) -> Self {
            match e {
                NewQueueError::Queue(e) => e.into(),
                NewQueueError::Stopped | NewQueueError::Failed => TARDY_ERR_STATE,
            }
        }
    }

    impl From<TakeError> for tardy_status {
        fn from(e: TakeError) -> Self {
            match e {
                TakeError::UnknownQueue => TARDY_ERR_NO_QUEUE,
                TakeError::Empty | TakeError::TimedOut => TARDY_ERR_EMPTY,
                TakeError::Stopped | TakeError::Failed => TARDY_ERR_STATE,
            }
        }
    }

    impl From<DoneError> for tardy_status {
        fn from(e: DoneError) -> Self {
            match e {
                DoneError::UnknownQueue => TARDY_ERR_NO_QUEUE,
                DoneError::NotTaken => TARDY_ERR_INVALID_ARG,
                DoneError::Stopped | DoneError::Failed => TARDY_ERR_STATE,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_texts_are_distinct() {
        for (i, s) in ALL.iter().enumerate() {
            assert_eq!(*s as c_int, -(i as c_int));
            assert_eq!(tardy_status::from_value(*s as c_int), Some(*s));
        }
        assert_eq!(tardy_status::from_value(1), None);
        assert_eq!(tardy_status::from_value(-12), None);
        let mut texts: std::vec::Vec<&CStr> = ALL.iter().map(|s| s.message()).collect();
        texts.push(UNKNOWN);
        let n = texts.len();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), n);
    }
}
