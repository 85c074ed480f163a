//! The C ABI: the functions, types and constants of `include/tardy.h`,
//! exported by `libtardy.a` and `libtardy.so` (feature `capi`).
//!
//! # Conventions
//!
//! - Every function returns a [`tardy_status`]: `TARDY_OK` (0) or a
//!   negative error, described by [`tardy_status_str`]. A function that
//!   fails changes nothing and writes no out-parameter; optional
//!   out-parameters (`out_id`, `out_moved`, `out_count`, `out_user_data`)
//!   may be NULL.
//! - Pointers are checked (`TARDY_ERR_NULL`), queue names validated
//!   (`TARDY_ERR_INVALID_ARG`), and a panic never unwinds into C
//!   (`TARDY_ERR_PANIC`).
//! - `user_data` belongs to the host: tardy stores and returns it, never
//!   frees it.
//! - Every function may be called from any thread at once. Callbacks
//!   (`tardy_task_fn`) run on the calling thread with no lock held and may
//!   call back into the scheduler; the clock (`tardy_clock_fn`) runs with
//!   the lock held and must not.
//!
//! The layers: `status` and `types` are the plain data and `boundary` the
//! checks every export makes (none of them needs `std`, so a bare-metal
//! build of the same ABI reuses them); `threaded` puts a `SchedulerThread`
//! (feature `std`) behind the opaque `tardy_scheduler`, and `api` holds the
//! exports; `baremetal` (feature `capi-baremetal` without `std`) exports the
//! same functions over a static core in a critical section.

#![allow(non_camel_case_types)]

pub(crate) mod boundary;
mod status;
mod types;

#[cfg(feature = "std")]
mod api;
#[cfg(all(feature = "capi-baremetal", not(feature = "std")))]
mod baremetal;
#[cfg(feature = "std")]
mod threaded;

#[cfg(feature = "std")]
pub use api::*;
#[cfg(all(feature = "capi-baremetal", not(feature = "std")))]
pub use baremetal::*;
pub use status::{tardy_status, tardy_status_str, tardy_status_value};
#[cfg(feature = "std")]
pub use threaded::tardy_scheduler;
pub use types::{
    tardy_clock_fn, tardy_task, tardy_task_fn, tardy_task_id, TARDY_CAPACITY, TARDY_MAX_NAME_LEN,
    TARDY_MAX_QUEUES,
};
