//! The key of cancel-by-subject: the [`Subject`] trait.

use core::hash::Hash;

/// What a task is about (a certificate, a device, a connection), and the key
/// that [`Scheduler::cancel_by_subject`](crate::Scheduler::cancel_by_subject)
/// cancels by.
///
/// It is implemented for every `Eq + Hash + Clone` type.
///
/// # Contract
///
/// An implementation MUST keep `Eq` and `Hash` consistent (equal subjects
/// hash alike) and MUST NOT panic in `eq`, `hash` or `clone`. The scheduler
/// keeps one clone of each distinct subject that has scheduled tasks, so a
/// cheap clone (an integer, a short id) is best.
pub trait Subject: Eq + Hash + Clone {}

impl<T: Eq + Hash + Clone> Subject for T {}
