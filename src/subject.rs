//! The key of cancel-by-subject: the [`Subject`] trait.

use core::hash::Hash;

/// What a task is about (a certificate, a device, a connection), and the key
/// that [`Scheduler::cancel_by_subject`](crate::Scheduler::cancel_by_subject)
/// cancels by.
///
/// It is implemented for every `Eq + Hash` type. The scheduler never clones
/// a subject: each task's subject stays in its task, and the subject index
/// links the tasks about subjects that hash alike into one chain per hash
/// bucket.
///
/// # Contract
///
/// An implementation MUST keep `Eq` and `Hash` consistent (equal subjects
/// hash alike) and MUST NOT panic in `eq` or `hash`.
///
/// # Cost of cancelling by subject
///
/// [`cancel_by_subject`](crate::Scheduler::cancel_by_subject) walks the
/// chain of the subject's bucket: its own k tasks and the tasks of other
/// subjects in that bucket.
///
/// - `AllocScheduler` (feature `alloc`) hashes
///   with keyed foldhash, under a random key with `std`, into buckets that
///   grow with the tasks: about one task of another subject per walk,
///   whoever picks the subjects.
/// - [`Scheduler`](crate::Scheduler) (fixed storage) hashes with FNV-1a
///   into `N` buckets. With ordinary subjects a chain holds less than one
///   task of another subject on average. FNV is not keyed: someone who
///   chooses the subjects can make them all fall into one bucket, and then
///   cancelling one subject walks every scheduled task (O(N) steps, all
///   inside one call; with `N` = 4 096, 4 095 colliding tasks made one
///   cancellation walk 4 096 slots). Where outsiders choose subjects, build
///   the scheduler with a secret seed,
///   [`Scheduler::with_subject_seed`](crate::SchedulerInner::with_subject_seed)
///   (from a hardware random source, say): the buckets then depend on a
///   value the outsider does not know.
pub trait Subject: Eq + Hash {}

impl<T: Eq + Hash> Subject for T {}
