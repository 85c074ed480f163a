//! The C ABI: the functions, types and constants of `include/tardy.h`
//! (feature `capi`: `libtardy.a`, `libtardy.so`) and of
//! `include/tardy_baremetal.h` (feature `capi-baremetal` without `std`:
//! `libtardy_baremetal.a`, built by c/baremetal/).
//!
//! # Conventions
//!
//! - Every function returns a [`tardy_status`]: `TARDY_OK` (0) or a
//!   negative error, described by [`tardy_status_str`]. A function that
//!   fails changes nothing and writes no out-parameter; optional
//!   out-parameters (`out_id`, `out_moved`, `out_count`, `out_user_data`)
//!   may be NULL.
//! - Pointers are checked (`TARDY_ERR_NULL`), queue names and numbers
//!   validated (`TARDY_ERR_INVALID_ARG`), and a panic never unwinds into C
//!   (`TARDY_ERR_PANIC`).
//! - `user_data` belongs to the host: tardy stores and returns it, never
//!   frees it.
//! - Every function may be called from any thread at once. Callbacks
//!   (`tardy_task_fn`) run on the calling thread with no lock held and may
//!   call back into the scheduler; the clock (`tardy_clock_fn`) runs with
//!   the lock held and must not (such a call is `TARDY_ERR_INVALID_ARG`).
//!
//! The layers: `status` and `types` are the plain data and `boundary` the
//! checks every export makes; `exports` holds the functions both C
//! libraries export, written once against a backend chosen by feature with
//! the same `pub(crate)` methods: `threaded` (a `SchedulerThread`, feature
//! `capi`) or `baremetal` (a static or caller-provided core in a critical
//! section, feature `capi-baremetal` without `std`). Each backend also
//! exports what only it has.

#![allow(non_camel_case_types)]

pub(crate) mod boundary;
mod exports;
mod status;
mod types;

#[cfg(all(feature = "capi-baremetal", not(feature = "std")))]
mod baremetal;
#[cfg(feature = "capi")]
mod threaded;

#[cfg(all(feature = "capi-baremetal", not(feature = "std")))]
use baremetal as backend;
#[cfg(feature = "capi")]
use threaded as backend;

pub use backend::*;
pub use exports::*;
pub use status::{tardy_status, tardy_status_str, tardy_status_value};
pub use types::{
    tardy_clock_fn, tardy_missed_tick_behavior, tardy_missed_tick_behavior_value, tardy_task,
    tardy_task_fn, tardy_task_id, TARDY_MAX_NAME_LEN,
};
