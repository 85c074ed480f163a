//! The threaded layer (feature `std`): [`SchedulerThread`], a background
//! thread that moves due tasks into named queues while any number of threads
//! schedule, cancel and consume through cloneable [`SchedulerHandle`]s; the
//! std clock [`MonotonicClock`]; the crossbeam-channel queue
//! [`ChannelQueue`]; and [`GetTaskFuture`], a worker's wait as a future.

/// `log::debug!` with the `log` feature; without it, nothing (the arguments
/// are type-checked and never evaluated).
macro_rules! log_debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::debug!($($arg)*);
        #[cfg(not(feature = "log"))]
        if false {
            let _ = ::core::format_args!($($arg)*);
        }
    }};
}

/// `log::trace!` with the `log` feature; without it, nothing.
macro_rules! log_trace {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::trace!($($arg)*);
        #[cfg(not(feature = "log"))]
        if false {
            let _ = ::core::format_args!($($arg)*);
        }
    }};
}

mod background;
mod channel_queue;
mod clock;
mod error;
mod future;
mod handle;
mod loom;
mod options;
mod scheduler_thread;
mod waker_list;
mod wakeup;

pub use channel_queue::ChannelQueue;
pub use clock::MonotonicClock;
pub use error::{
    CancelError, DoneError, Halted, NewError, NewQueueError, QueueError, StartError, Stopped,
    SubmitError, TakeError,
};
pub use future::GetTaskFuture;
pub use handle::SchedulerHandle;
pub use options::{Options, Wait, DEFAULT_QUEUES};
pub use scheduler_thread::SchedulerThread;
