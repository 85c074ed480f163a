// The README is the crate's documentation, and its Rust snippets are whole
// programs run as doctests: they need the default features (`std`,
// `periodic`). Other feature sets get a pointer to it.
#![cfg_attr(all(feature = "std", feature = "periodic"), doc = include_str!("../README.md"))]
#![cfg_attr(
    not(all(feature = "std", feature = "periodic")),
    doc = "A deadline task scheduler: see README.md (the documentation built with the default features)."
)]
#![no_std]
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]
// docs.rs (`--cfg docsrs`, nightly): a badge naming the feature each gated item needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

// Features are additive, but these two select different C libraries under
// the same names: with `std` on, `capi-baremetal` would silently give the
// threaded one.
#[cfg(all(feature = "capi-baremetal", feature = "std"))]
compile_error!(
    "tardy: feature `capi-baremetal` is the C ABI without std; turn off the default `std` \
     feature (`default-features = false`), or use feature `capi` for the threaded C ABI"
);

// Time: the `Clock` seam, `ManualClock` and `FnClock`, tick conversions,
// and extenders for narrow hardware counters.
mod clock;
// The core's errors, each handing back the value it could not take.
mod error;
// The C ABI (features `capi` and `capi-baremetal`): one export set over a
// threaded and a bare-metal backend, the functions of `include/tardy*.h`.
#[cfg(any(feature = "capi", feature = "capi-baremetal"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "capi", feature = "capi-baremetal"))))]
pub mod ffi;
// The `TaskQueue` seam that receives due tasks, and its stock queues.
mod queue;
// The no_std core: `Scheduler` over fixed or growing storage, its heap,
// per-queue and per-subject indexes.
mod scheduler;
// The `Subject` seam: what a task is about, the key of cancel-by-subject.
mod subject;
// Interrupt-safe sharing of a `static` scheduler: `CsScheduler`
// (critical-section) and `SpinScheduler` (spin lock).
#[cfg(any(feature = "critical-section", feature = "spin"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "critical-section", feature = "spin"))))]
pub mod sync;
// A task, its id, its queue's id and when it is due.
mod task;
// The threaded layer (feature `std`): a background thread, cloneable
// handles, blocking and async workers.
#[cfg(feature = "std")]
mod thread;

#[cfg(feature = "critical-section")]
pub use clock::CsWrapClock;
pub use clock::{
    delay_from_duration, delay_from_micros, delay_from_millis, delay_from_nanos, delay_from_secs,
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
#[cfg(feature = "async")]
pub use sync::CsGetTaskFuture;
#[cfg(feature = "critical-section")]
pub use sync::CsScheduler;
#[cfg(feature = "spin")]
pub use sync::SpinScheduler;
#[cfg(feature = "periodic")]
pub use task::{MissedTickBehavior, Period};
pub use task::{QueueId, ScheduledTask, Task, TaskId, When};
#[cfg(feature = "std")]
pub use thread::{
    CancelError, ChannelQueue, DoneError, GetTaskFuture, Halted, MonotonicClock, NewError,
    NewQueueError, Options, QueueError, SchedulerHandle, SchedulerThread, StartError, Stopped,
    SubmitError, TakeError, Wait, DEFAULT_QUEUES,
};
