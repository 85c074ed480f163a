#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

#[cfg(any(test, feature = "std"))]
extern crate std;

mod clock;
mod error;
mod queue;
mod scheduler;
mod subject;
mod task;

pub use clock::{Clock, FnClock, ManualClock, Ticks};
pub use error::{
    AddQueueError, GetTaskError, NotScheduled, ScheduleError, TaskDoneError, UnknownQueue,
};
pub use queue::{HeaplessQueue, TaskQueue};
pub use scheduler::{QueueStats, Scheduler, MAX_CAPACITY, MAX_NAME_LEN};
pub use subject::Subject;
pub use task::{QueueId, Task, TaskId, When};
