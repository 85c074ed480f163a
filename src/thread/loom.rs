//! The synchronisation primitives of the threaded layer: `std`'s, or
//! [loom](https://docs.rs/loom)'s when the crate is built with
//! `RUSTFLAGS="--cfg tardy_loom"` and `--features loom`, so that
//! `tests/loom.rs` can explore every interleaving of the scheduler thread,
//! producers and workers on the shared state. Nothing else changes between the two builds.

#[cfg(tardy_loom)]
pub(crate) use ::loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(tardy_loom)]
pub(crate) use ::loom::thread::{Builder, JoinHandle};

#[cfg(not(tardy_loom))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(tardy_loom))]
pub(crate) use std::thread::{Builder, JoinHandle};
