#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

mod clock;
mod error;
#[cfg(any(feature = "capi", feature = "capi-baremetal"))]
pub mod ffi;
mod queue;
mod scheduler;
mod subject;
#[cfg(any(feature = "critical-section", feature = "spin"))]
pub mod sync;
mod task;
#[cfg(feature = "std")]
mod thread;

#[cfg(feature = "critical-section")]
pub use clock::CsWrapClock;
pub use clock::{
    micros_from_ticks, nanos_from_ticks, ticks_from_duration, ticks_from_micros, ticks_from_millis,
    ticks_from_nanos, ticks_from_secs, Clock, FnClock, HalfPeriodCounter, ManualClock, Ticks,
    WrapExtender,
};
pub use error::{
    AddQueueError, Busy, GetTaskError, NotScheduled, ReserveError, ScheduleError, TaskDoneError,
    UnknownQueue,
};
#[cfg(feature = "alloc")]
pub use queue::VecDequeQueue;
pub use queue::{HeaplessQueue, TaskQueue};
#[cfg(feature = "alloc")]
pub use scheduler::{AllocScheduler, AllocStorage};
pub use scheduler::{
    FixedStorage, QueueStats, Scheduler, SchedulerInner, Storage, MAX_CAPACITY, MAX_NAME_LEN,
};
pub use subject::Subject;
#[cfg(feature = "critical-section")]
pub use sync::CsScheduler;
#[cfg(feature = "spin")]
pub use sync::SpinScheduler;
pub use task::{QueueId, Task, TaskId, When};
#[cfg(feature = "std")]
pub use thread::{
    CancelError, ChannelQueue, DoneError, MonotonicClock, NewQueueError, Options, QueueError,
    SchedulerHandle, SchedulerThread, StartError, Stopped, SubmitError, TakeError, Wait,
    DEFAULT_CAPACITY, DEFAULT_QUEUES,
};
