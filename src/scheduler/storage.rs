//! The storage seam: where the core keeps its per-task arrays.
//!
//! Every algorithm of the core (slots, heap, subject index, queue lists) is
//! written once against [`Storage`]: an index type for slot numbers and an
//! array type with `get`/`get_mut`/`push`/`pop`/`len`, and a [`View`] of its
//! entries for the loops that touch many of them in one operation (the
//! heap's sifting): a plain slice in fixed storage. Two storages exist:
//!
//! - [`FixedStorage<N>`]: plain arrays of `N` entries inside the scheduler
//!   (heapless vectors), `u16` slot numbers, no allocator, const
//!   construction. [`Scheduler`](crate::Scheduler) uses it.
//! - `AllocStorage` (feature `alloc`): arrays that grow on demand in
//!   segments of [`SEGMENT`] entries that never move once allocated, so
//!   growing never copies the tasks already held; `u32` slot numbers.
//!   Each array allocates its next segment and writes to its new pages
//!   ahead of need, on pushes of its own, so that no call pays for the
//!   new memory of several arrays (see `SegmentedArray`).
//!   `AllocScheduler` uses it.
//!
//! The trait is sealed: the core relies on what each storage promises
//! (a failed `push` leaves the array unchanged, indexes stay below `NIL`).

use core::fmt::Debug;
use core::hash::{Hash, Hasher};

/// A slot number type: `u16` for fixed storage, `u32` for allocated storage.
/// Its largest value, [`Index::NIL`], names no slot.
pub trait Index: Copy + Eq + Ord + Debug + sealed::Sealed {
    /// No slot: the end of a list, "not in the heap", an empty bucket.
    const NIL: Self;
    /// Bits of a [`TaskId`](crate::TaskId) that hold the slot number; the
    /// rest (64 minus these) hold the slot's generation.
    const BITS: u32;
    /// A slot's generation, stored in the `64 - BITS` bits it needs.
    type Generation: Generation;
    /// What a slot keeps of a periodic task's period (feature `periodic`):
    /// the state itself in fixed storage, nothing in growing storage.
    #[cfg(feature = "periodic")]
    type Period: PeriodPlace;
    /// The slot number as a `usize`.
    fn to_usize(self) -> usize;
    /// `i` as a slot number, `None` when it does not fit below `NIL`.
    fn from_usize(i: usize) -> Option<Self>;
    /// `i`, known to be below `NIL` (a heap position), as a slot number:
    /// the low bits, without a check.
    fn from_usize_below_nil(i: usize) -> Self;
}

/// A slot's generation as stored in its slot.
pub trait Generation: Copy + Debug + sealed::Sealed {
    /// `g`, which fits in the type's bits.
    fn new(g: u64) -> Self;
    /// The generation.
    fn get(self) -> u64;
}

/// A 48-bit generation as three `u16`s: 6 bytes, 2-byte aligned, so a
/// slot with 4-byte user data stays 4-byte aligned.
impl Generation for [u16; 3] {
    #[inline]
    fn new(g: u64) -> Self {
        // The low 48 bits, in three parts.
        #[allow(clippy::cast_possible_truncation)]
        [g as u16, (g >> 16) as u16, (g >> 32) as u16]
    }
    #[inline]
    fn get(self) -> u64 {
        u64::from(self[0]) | u64::from(self[1]) << 16 | u64::from(self[2]) << 32
    }
}

impl Generation for u32 {
    #[inline]
    fn new(g: u64) -> Self {
        // At most 2^32 - 1 with u32 slot numbers.
        #[allow(clippy::cast_possible_truncation)]
        {
            g as u32
        }
    }
    #[inline]
    fn get(self) -> u64 {
        u64::from(self)
    }
}

impl Index for u16 {
    const NIL: Self = u16::MAX;
    const BITS: u32 = 16;
    type Generation = [u16; 3];
    #[cfg(feature = "periodic")]
    type Period = PeriodState;
    #[inline]
    fn to_usize(self) -> usize {
        usize::from(self)
    }
    #[inline]
    fn from_usize(i: usize) -> Option<Self> {
        u16::try_from(i).ok().filter(|&v| v != Self::NIL)
    }
    #[inline]
    fn from_usize_below_nil(i: usize) -> Self {
        // Heap positions are below the capacity, at most 2^15.
        #[allow(clippy::cast_possible_truncation)]
        {
            i as u16
        }
    }
}

impl Index for u32 {
    const NIL: Self = u32::MAX;
    const BITS: u32 = 32;
    type Generation = u32;
    #[cfg(feature = "periodic")]
    type Period = ();
    #[inline]
    fn to_usize(self) -> usize {
        // usize is at least 32 bits on every target that has `alloc` here.
        usize::try_from(self).unwrap_or(usize::MAX)
    }
    #[inline]
    fn from_usize(i: usize) -> Option<Self> {
        u32::try_from(i).ok().filter(|&v| v != Self::NIL)
    }
    #[inline]
    fn from_usize_below_nil(i: usize) -> Self {
        // Heap positions are below the slot count, below u32::MAX.
        #[allow(clippy::cast_possible_truncation)]
        {
            i as u32
        }
    }
}

/// Random access to the entries of an [`Array`] for the length of one
/// operation, without growing or shrinking it: what the heap's sifting
/// loops and the slot lookups of the hot paths use.
///
/// Fixed storage hands out a plain slice, whose length stays in a register
/// however many entries are written through it (a heapless vector's length
/// lives beside its entries, so every write could change it and every
/// bounds check would read it again); growing storage hands out its
/// segment table.
pub trait View<T> {
    /// Whether a comparison of two positions (`i < j`, `j` known to be in
    /// the view) lets the optimiser drop the bounds check of `i`: true for
    /// a slice, whose length is one register; not for the segment table,
    /// whose look-up checks the segment number whatever is known of `i`.
    /// The sifting loops test such a bound only where it folds checks away.
    const ORDERED_BOUNDS: bool = false;
    /// Entry `i`, `None` at or beyond the length.
    fn at(&self, i: usize) -> Option<&T>;
    /// Entry `i`, mutably.
    fn at_mut(&mut self, i: usize) -> Option<&mut T>;
    /// Applies `f` to entry `i`; nothing at or beyond the length.
    #[inline]
    fn update(&mut self, i: usize, f: impl FnOnce(&mut T)) {
        if let Some(entry) = self.at_mut(i) {
            f(entry);
        }
    }
    /// The first `len` entries only; `None` if there are fewer.
    fn prefix(self, len: usize) -> Option<Self>
    where
        Self: Sized;
    /// Entries `first..first + 4`, `None` unless all four exist.
    #[inline]
    fn four(&self, first: usize) -> Option<[T; 4]>
    where
        T: Copy,
    {
        Some([
            *self.at(first)?,
            *self.at(first + 1)?,
            *self.at(first + 2)?,
            *self.at(first + 3)?,
        ])
    }
}

impl<T> View<T> for &mut [T] {
    const ORDERED_BOUNDS: bool = true;
    #[inline]
    fn at(&self, i: usize) -> Option<&T> {
        self.get(i)
    }
    #[inline]
    fn at_mut(&mut self, i: usize) -> Option<&mut T> {
        self.get_mut(i)
    }
    #[inline]
    fn update(&mut self, i: usize, f: impl FnOnce(&mut T)) {
        // Indexing after the comparison, not `get_mut`: the optimiser then
        // needs no test that the slice's pointer is not null (the index
        // cannot panic: it is below the length).
        if i < self.len() {
            f(&mut self[i]);
        }
    }
    #[inline]
    fn prefix(self, len: usize) -> Option<Self> {
        // The result's length is `len` itself, so that two views cut to
        // the same `len` are known to be as long as each other.
        self.split_at_mut_checked(len).map(|(first, _)| first)
    }
    #[inline]
    fn four(&self, first: usize) -> Option<[T; 4]>
    where
        T: Copy,
    {
        match self.get(first..first.checked_add(4)?) {
            Some(&[a, b, c, d]) => Some([a, b, c, d]),
            _ => None,
        }
    }
}

/// An array that grows at its end, as far as its storage allows.
pub trait Array<T>: sealed::Sealed {
    /// The array's entries borrowed for one operation.
    type View<'a>: View<T>
    where
        Self: 'a;
    /// An empty array (const, so a fixed scheduler can be a `static`).
    const EMPTY: Self;
    /// The entries, for random access during one operation.
    fn view(&mut self) -> Self::View<'_>;
    /// The number of entries.
    fn len(&self) -> usize;
    /// Entry `i`, `None` at or beyond `len`.
    fn get(&self, i: usize) -> Option<&T>;
    /// Entry `i`, mutably.
    fn get_mut(&mut self, i: usize) -> Option<&mut T>;
    /// Appends `value`, or hands it back when the storage is full or an
    /// allocation fails; the array is then unchanged.
    fn push(&mut self, value: T) -> Result<(), T>;
    /// Removes the last entry.
    fn pop(&mut self) -> Option<T>;
    /// `true` when the array can hold `total` entries without a failing
    /// [`push`](Array::push) (allocating now what it would need).
    fn reserve(&mut self, total: usize) -> bool;
}

/// How subjects are hashed into buckets: FNV with an optional seed for the
/// fixed storage (cheap on microcontrollers), keyed foldhash for the
/// allocated storage.
pub trait SubjectHashing: sealed::Sealed {
    /// The hash of `subject`.
    fn hash<T: Hash + ?Sized>(&self, subject: &T) -> u64;
}

/// FNV-1a (32 bits, as heapless uses), seeded by a value written first.
///
/// Kept as the hasher's state after the seed (computed once, at
/// construction), so hashing a subject neither tests nor writes the seed.
/// Written here rather than with `hash32::FnvHasher`, which always starts
/// from the offset basis and cannot be built in a `const fn`; the hashes
/// are the same as that hasher's after `write_u64(seed)` (none for seed 0).
#[derive(Clone, Copy, Debug)]
pub struct SeededFnv(u32);

/// FNV-1a's 32-bit offset basis and prime.
const FNV_BASIS: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

impl SeededFnv {
    /// The hasher for `seed`: 0 leaves FNV unseeded.
    pub(crate) const fn new(seed: u64) -> Self {
        let mut state = FNV_BASIS;
        if seed != 0 {
            let bytes = seed.to_ne_bytes();
            let mut i = 0;
            while i < bytes.len() {
                state = (state ^ bytes[i] as u32).wrapping_mul(FNV_PRIME);
                i += 1;
            }
        }
        Self(state)
    }
}

/// One FNV-1a hash under way.
struct Fnv1a(u32);

impl Hasher for Fnv1a {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u32::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }
    #[inline]
    fn finish(&self) -> u64 {
        u64::from(self.0)
    }
}

impl SubjectHashing for SeededFnv {
    #[inline(always)]
    fn hash<T: Hash + ?Sized>(&self, subject: &T) -> u64 {
        let mut hasher = Fnv1a(self.0);
        subject.hash(&mut hasher);
        hasher.finish()
    }
}

/// The arrays of one kind of storage; see the module docs.
pub trait Storage: sealed::Sealed + Sized {
    /// The slot number type.
    type Index: Index;
    /// An array of per-task entries.
    type Array<T>: Array<T>;
    /// The subject buckets: `FIXED_BUCKETS` entries from the start, or an
    /// array that grows one bucket at a time (linear hashing).
    type Buckets: Array<Self::Index>;
    /// The subject hash.
    type Hashing: SubjectHashing;
    /// Buckets the index starts with; with `GROWS` false, the only count.
    const FIXED_BUCKETS: usize;
    /// Whether the subject index splits buckets as tasks are added.
    const GROWS: bool;
    /// The most task slots the storage can ever have.
    const MAX_SLOTS: usize;
    /// Where periodic tasks keep their period (feature `periodic`).
    #[cfg(feature = "periodic")]
    type Periods: PeriodTable<Place = <Self::Index as Index>::Period>;
}

#[cfg(feature = "periodic")]
use super::periodic::{PeriodPlace, PeriodState, PeriodTable};

/// Fixed-capacity storage: arrays of `N` entries inside the scheduler.
#[derive(Debug)]
pub struct FixedStorage<const N: usize>;

/// A plain array of at most `N` entries (a heapless vector).
pub type FixedArray<T, const N: usize> = heapless::Vec<T, N, u16>;

impl<T, const N: usize> sealed::Sealed for FixedArray<T, N> {}

impl<T, const N: usize> Array<T> for FixedArray<T, N> {
    type View<'a>
        = &'a mut [T]
    where
        T: 'a;
    const EMPTY: Self = heapless::Vec::new();
    #[inline]
    fn view(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
    #[inline]
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    #[inline]
    fn get(&self, i: usize) -> Option<&T> {
        self.as_slice().get(i)
    }
    #[inline]
    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.as_mut_slice().get_mut(i)
    }
    #[inline]
    fn push(&mut self, value: T) -> Result<(), T> {
        heapless::Vec::push(self, value)
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        heapless::Vec::pop(self)
    }
    #[inline]
    fn reserve(&mut self, total: usize) -> bool {
        total <= N
    }
}

/// `N` bucket heads, all present from the start.
#[derive(Debug)]
pub struct FixedBuckets<const N: usize>([u16; N]);

impl<const N: usize> sealed::Sealed for FixedBuckets<N> {}

impl<const N: usize> Array<u16> for FixedBuckets<N> {
    type View<'a> = &'a mut [u16];
    const EMPTY: Self = Self([u16::NIL; N]);
    #[inline]
    fn view(&mut self) -> &mut [u16] {
        &mut self.0
    }
    #[inline]
    fn len(&self) -> usize {
        N
    }
    #[inline]
    fn get(&self, i: usize) -> Option<&u16> {
        self.0.get(i)
    }
    #[inline]
    fn get_mut(&mut self, i: usize) -> Option<&mut u16> {
        self.0.get_mut(i)
    }
    fn push(&mut self, value: u16) -> Result<(), u16> {
        Err(value)
    }
    fn pop(&mut self) -> Option<u16> {
        None
    }
    fn reserve(&mut self, total: usize) -> bool {
        total <= N
    }
}

impl<const N: usize> sealed::Sealed for FixedStorage<N> {}

impl<const N: usize> Storage for FixedStorage<N> {
    type Index = u16;
    type Array<T> = FixedArray<T, N>;
    type Buckets = FixedBuckets<N>;
    type Hashing = SeededFnv;
    const FIXED_BUCKETS: usize = N;
    const GROWS: bool = false;
    const MAX_SLOTS: usize = N;
    #[cfg(feature = "periodic")]
    type Periods = super::periodic::InSlot;
}

/// Entries per segment of the allocated storage (a multiple of 4, so a
/// heap node's four children rarely straddle two segments).
#[cfg(feature = "alloc")]
pub const SEGMENT: usize = 1 << SEGMENT_BITS;
#[cfg(feature = "alloc")]
const SEGMENT_BITS: u32 = 12;

#[cfg(feature = "alloc")]
pub use self::segmented::AllocStorage;

#[cfg(feature = "alloc")]
mod segmented {
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use core::hash::{BuildHasher, Hash};
    use core::hint::black_box;
    use core::mem::MaybeUninit;

    use super::{sealed, Array, Storage, SubjectHashing, View, SEGMENT, SEGMENT_BITS};

    /// A segmented array prepares memory ahead on one push in this many
    /// (see [`SegmentedArray`]): often enough that every page of its
    /// entries is written ahead (32 entries of 64 bytes, twice that when
    /// a push allocates instead, stay within a 4 KiB page; larger entries
    /// leave some pages to be first written when pushed), rarely enough
    /// that the arrays of a scheduler each have pushes of their own.
    pub(crate) const PREPARE_EVERY: usize = 32;

    /// How far beyond the end a push writes ahead, in entries: more than
    /// two [`PREPARE_EVERY`] periods, so that each page is written before
    /// an entry is pushed into it.
    pub(crate) const TOUCH_AHEAD: usize = 128;

    /// Entries in the tail when an array that grows on demand allocates
    /// its next segment: early enough that the writes ahead find it.
    pub(crate) const ALLOCATE_AT: usize = SEGMENT / 4;

    /// Growing storage: arrays of segments that never move.
    #[derive(Debug)]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub struct AllocStorage;

    impl sealed::Sealed for AllocStorage {}

    impl Storage for AllocStorage {
        type Index = u32;
        type Array<T> = SegmentedArray<T>;
        type Buckets = SegmentedArray<u32>;
        type Hashing = foldhash::fast::FixedState;
        const FIXED_BUCKETS: usize = 64;
        const GROWS: bool = true;
        // Slot numbers below u32::MAX (NIL), and at least 2^31.
        const MAX_SLOTS: usize = if usize::BITS >= 32 {
            (u32::MAX - 1) as usize
        } else {
            usize::MAX
        };
        #[cfg(feature = "periodic")]
        type Periods = crate::scheduler::periodic::GrowingPeriods;
    }

    impl SubjectHashing for foldhash::fast::FixedState {
        #[inline]
        fn hash<T: Hash + ?Sized>(&self, subject: &T) -> u64 {
            self.hash_one(subject)
        }
    }

    /// One full segment: a fixed-size array, so that an offset within it
    /// (`i & (SEGMENT - 1)`) needs no bounds check.
    type Full<T> = Box<[T; SEGMENT]>;

    /// An array in segments of [`SEGMENT`] entries, each allocated once
    /// (fallibly, with `try_reserve_exact`) and never moved: entry `i` is
    /// entry `i & 4095` of segment `i >> 12`. Growing allocates one segment
    /// and at most doubles the small tables of segment pointers; it never
    /// copies entries, so the slowest push stays short however large the
    /// array.
    ///
    /// New memory costs twice: the allocation, and the first write to each
    /// of its pages (a page fault: a few microseconds, several times a
    /// whole push). Paid when the entries are pushed, these costs would
    /// fall on the same calls for all the arrays of a scheduler (they grow
    /// together, an entry per task, and cross segment and page boundaries
    /// at the same multiples of 1 024 tasks): one `schedule` in 4 096 paid
    /// for four allocations and four faults, and one in 1 024 for several
    /// faults. So each array prepares its memory ahead, on pushes of its
    /// own: on the one push in [`PREPARE_EVERY`] whose offset in the tail
    /// segment is the array's phase (set by its owner, a different one for
    /// each array of a scheduler), the first time the tail reaches that
    /// offset, it either allocates (its next segment, or before that one
    /// of its tables of segment pointers when it must grow) or writes to
    /// the entry [`TOUCH_AHEAD`] entries beyond its end, so that the first
    /// write to each page happens then. (An array that pops and pushes
    /// again at the same offsets, as a heap does at its end, prepares
    /// nothing again.) Arrays of different phases growing in step never
    /// prepare in the same call, and no call pays for more than one
    /// allocation or one first write.
    ///
    /// The next segment is allocated once the tail holds [`ALLOCATE_AT`]
    /// entries (the tables before that), and only by an array that has
    /// grown on demand (asked for room for its next entry): room reserved
    /// by [`reserve_total`](Self::reserve_total) is used without allocating
    /// more until it runs out, and [`shrink_to`](Self::shrink_to) ends the
    /// allocating ahead until the array runs out of room again. A failed
    /// allocation ahead is not an error: the push that needs the room
    /// allocates again, and hands its value back if that fails too. `pop`
    /// never allocates.
    ///
    /// The segments before the last one in use are full and kept as
    /// fixed-size arrays (`full`): reaching an entry there checks only the
    /// segment number against the table's length. The last one in use
    /// (`tail`) is a vector that fills up, and the segments reserved beyond
    /// it wait empty in `spare`. A segment changes form when the tail fills
    /// (it joins `full` and a spare one becomes the tail) or empties (the
    /// last full one becomes the tail again): both without copying or
    /// allocating, so neither `push` nor `pop` ever copies entries.
    #[derive(Debug)]
    pub struct SegmentedArray<T> {
        full: Vec<Full<T>>,
        /// Entries `full.len() * SEGMENT..`; no allocation before the first.
        tail: Vec<T>,
        /// Empty segments of `SEGMENT` entries' capacity, the next tail
        /// last. Its table keeps room for every segment held, so `pop`
        /// never allocates.
        spare: Vec<Vec<T>>,
        /// The tail offset, modulo [`PREPARE_EVERY`], of the pushes that
        /// prepare memory ahead.
        phase: u8,
        /// The tail offset of the next push that prepares memory ahead: it
        /// only moves forward within a segment, so an array whose length
        /// goes back and forth (a heap that pops and pushes) prepares
        /// nothing again.
        prepare_at: usize,
        /// Grown on demand: allocates its next segment ahead.
        ahead: bool,
    }

    impl<T> SegmentedArray<T> {
        /// Prepares memory ahead on the pushes at tail offsets `phase`
        /// modulo [`PREPARE_EVERY`] (reduced to that range): give each
        /// array of one scheduler its own, before its first push.
        pub(crate) fn set_phase(&mut self, phase: u8) {
            self.phase = phase % PREPARE_EVERY as u8;
            self.prepare_at = usize::from(self.phase);
        }

        /// Segments allocated, in use or spare.
        fn segment_count(&self) -> usize {
            self.full.len() + usize::from(self.tail.capacity() > 0) + self.spare.len()
        }

        /// Entries it can hold without allocating.
        pub(crate) fn capacity(&self) -> usize {
            self.segment_count() * SEGMENT
        }

        /// Allocates segments until `n` entries fit; `false` when an
        /// allocation fails (what was allocated stays).
        #[inline(never)]
        pub(crate) fn reserve_total(&mut self, n: usize) -> bool {
            while self.capacity() < n {
                // Room in both tables for every segment, the new one
                // included, so that moving segments between the tail, the
                // full ones and the spare ones never allocates.
                let count = self.segment_count() + 1;
                if self.full.try_reserve(count - self.full.len()).is_err()
                    || self.spare.try_reserve(count - self.spare.len()).is_err()
                {
                    return false;
                }
                let mut segment = Vec::new();
                if segment.try_reserve_exact(SEGMENT).is_err() {
                    return false;
                }
                if self.tail.capacity() == 0 {
                    self.tail = segment;
                } else {
                    self.spare.push(segment);
                }
            }
            true
        }

        /// The tail is full (or not allocated yet): it joins the full
        /// segments and a spare one (allocated if there is none) becomes the
        /// tail. `false` when an
        /// allocation fails; nothing changes then.
        #[inline(never)]
        fn next_segment(&mut self) -> bool {
            if self.spare.is_empty() {
                // Out of room: from now on it allocates ahead.
                self.ahead = true;
            }
            // A new tail, prepared from its start.
            self.prepare_at = usize::from(self.phase);
            if self.tail.capacity() == 0 {
                // No tail yet (then no spare segment either): reserving one
                // segment makes it the tail.
                return self.reserve_total(self.capacity() + 1);
            }
            if self.spare.is_empty() && !self.reserve_total(self.capacity() + 1) {
                return false;
            }
            let Some(next) = self.spare.pop() else {
                return false;
            };
            let tail = core::mem::replace(&mut self.tail, next);
            // `try_reserve_exact` gave the tail exactly `SEGMENT` entries'
            // capacity, so the boxed slice takes its allocation as it is.
            match Full::<T>::try_from(tail.into_boxed_slice()) {
                Ok(segment) => {
                    // Room reserved by `reserve_total`: never reallocates.
                    self.full.push(segment);
                    true
                }
                Err(partial) => {
                    // Not full (never happens): everything back in place.
                    let next = core::mem::replace(&mut self.tail, partial.into_vec());
                    self.spare.push(next);
                    false
                }
            }
        }

        /// The tail is empty: the last full segment becomes the tail again,
        /// and the empty one waits among the spare ones (room kept: no
        /// allocation). `false` when there is no full segment.
        #[inline(never)]
        fn reopen_last(&mut self) -> bool {
            let Some(last) = self.full.pop() else {
                return false;
            };
            let last: Box<[T]> = last;
            let empty = core::mem::replace(&mut self.tail, last.into_vec());
            // Written once already, with the segment after it kept: nothing
            // to prepare until the next segment becomes the tail.
            self.prepare_at = usize::MAX;
            if empty.capacity() > 0 {
                self.spare.push(empty);
            }
            true
        }

        /// Frees the segments not needed for `keep` entries (at least
        /// `len`).
        pub(crate) fn shrink_to(&mut self, keep: usize) {
            let keep = keep.max(self.len()).div_ceil(SEGMENT);
            while self.segment_count() > keep && self.spare.pop().is_some() {}
            if self.segment_count() > keep && self.tail.is_empty() {
                self.tail = Vec::new();
            }
            let count = self.segment_count();
            self.full.shrink_to(count);
            self.spare.shrink_to(count);
            // Nothing allocated ahead until it grows on demand again.
            self.ahead = false;
        }

        /// One push in [`PREPARE_EVERY`]: allocates the next segment if it
        /// is due (or before it, one of the tables of segments when it must
        /// grow), else writes to the entry [`TOUCH_AHEAD`] entries beyond
        /// the end (in the tail or in the next segment), so that the first
        /// write to its page is not paid by a later call together with
        /// other arrays' first writes.
        #[inline(never)]
        fn prepare(&mut self) {
            self.prepare_at += PREPARE_EVERY;
            if self.ahead && self.spare.is_empty() {
                // Failures are not errors here: the push that needs the
                // room tries again and reports it.
                if self.tail.len() >= ALLOCATE_AT {
                    let _ = self.reserve_total(self.capacity() + 1);
                    return;
                }
                // Before that, the tables of segments grow (when they must)
                // on pushes of their own, apart, so that no two writes
                // ahead in a row are left out.
                let count = self.segment_count() + 1;
                if self.tail.len() >= ALLOCATE_AT * 3 / 4 && self.spare.capacity() < count {
                    let _ = self.spare.try_reserve(count - self.spare.len());
                    return;
                }
                if self.tail.len() >= ALLOCATE_AT / 2 && self.full.capacity() < count {
                    let _ = self.full.try_reserve(count - self.full.len());
                    return;
                }
            }
            let room = self.tail.capacity() - self.tail.len();
            let entry = if TOUCH_AHEAD < room {
                self.tail.spare_capacity_mut().get_mut(TOUCH_AHEAD)
            } else {
                self.spare
                    .last_mut()
                    .and_then(|next| next.spare_capacity_mut().get_mut(TOUCH_AHEAD - room))
            };
            if let Some(entry) = entry {
                // A write the optimiser must keep: the entry is not
                // initialised as far as the vector knows, and is written
                // again when pushed.
                *entry = MaybeUninit::zeroed();
                black_box(entry);
            }
        }

        /// Bytes allocated for entries.
        pub(crate) fn allocated_bytes(&self) -> usize {
            self.capacity() * core::mem::size_of::<T>()
                + self.full.capacity() * core::mem::size_of::<Full<T>>()
                + self.spare.capacity() * core::mem::size_of::<Vec<T>>()
        }
    }

    impl<T> sealed::Sealed for SegmentedArray<T> {}

    /// The entries of a [`SegmentedArray`] in reach for one operation:
    /// whole segments, then the entries after them.
    pub struct Segments<'a, T> {
        full: &'a mut [Full<T>],
        tail: &'a mut [T],
    }

    impl<T> View<T> for Segments<'_, T> {
        #[inline]
        fn at(&self, i: usize) -> Option<&T> {
            match self.full.get(i >> SEGMENT_BITS) {
                Some(segment) => Some(&segment[i & (SEGMENT - 1)]),
                None => self
                    .tail
                    .get(i.wrapping_sub(self.full.len() << SEGMENT_BITS)),
            }
        }
        #[inline]
        fn at_mut(&mut self, i: usize) -> Option<&mut T> {
            let full = self.full.len() << SEGMENT_BITS;
            match self.full.get_mut(i >> SEGMENT_BITS) {
                Some(segment) => Some(&mut segment[i & (SEGMENT - 1)]),
                None => self.tail.get_mut(i.wrapping_sub(full)),
            }
        }
        #[inline]
        fn prefix(self, len: usize) -> Option<Self> {
            let whole = len >> SEGMENT_BITS;
            if whole >= self.full.len() {
                // Within the tail.
                let tail = self
                    .tail
                    .split_at_mut_checked(len - (self.full.len() << SEGMENT_BITS))?
                    .0;
                return Some(Self {
                    full: self.full,
                    tail,
                });
            }
            // Within a full segment, which becomes the tail.
            let (full, rest) = self.full.split_at_mut(whole);
            let tail = &mut rest.first_mut()?[..len & (SEGMENT - 1)];
            Some(Self { full, tail })
        }
        #[inline]
        fn four(&self, first: usize) -> Option<[T; 4]>
        where
            T: Copy,
        {
            let at = first & (SEGMENT - 1);
            if let Some(segment) = self.full.get(first >> SEGMENT_BITS) {
                if let Some(&[a, b, c, d]) = segment.get(at..at + 4) {
                    return Some([a, b, c, d]);
                }
            } else if let Some(&[a, b, c, d]) = self
                .tail
                .get(first.wrapping_sub(self.full.len() << SEGMENT_BITS)..)
                .and_then(|rest| rest.get(..4))
            {
                return Some([a, b, c, d]);
            }
            // Straddling two segments, or fewer than four left.
            Some([
                *self.at(first)?,
                *self.at(first + 1)?,
                *self.at(first + 2)?,
                *self.at(first + 3)?,
            ])
        }
    }

    impl<T> Array<T> for SegmentedArray<T> {
        type View<'a>
            = Segments<'a, T>
        where
            T: 'a;
        const EMPTY: Self = Self {
            full: Vec::new(),
            tail: Vec::new(),
            spare: Vec::new(),
            phase: 0,
            prepare_at: 0,
            ahead: false,
        };
        #[inline]
        fn view(&mut self) -> Segments<'_, T> {
            Segments {
                full: &mut self.full,
                tail: &mut self.tail,
            }
        }
        #[inline]
        fn len(&self) -> usize {
            (self.full.len() << SEGMENT_BITS) + self.tail.len()
        }
        #[inline]
        fn get(&self, i: usize) -> Option<&T> {
            match self.full.get(i >> SEGMENT_BITS) {
                Some(segment) => Some(&segment[i & (SEGMENT - 1)]),
                None => self
                    .tail
                    .get(i.wrapping_sub(self.full.len() << SEGMENT_BITS)),
            }
        }
        #[inline]
        fn get_mut(&mut self, i: usize) -> Option<&mut T> {
            let full = self.full.len() << SEGMENT_BITS;
            match self.full.get_mut(i >> SEGMENT_BITS) {
                Some(segment) => Some(&mut segment[i & (SEGMENT - 1)]),
                None => self.tail.get_mut(i.wrapping_sub(full)),
            }
        }
        #[inline(always)]
        fn push(&mut self, value: T) -> Result<(), T> {
            // A new segment is the rare path: kept out of line.
            if self.tail.len() >= self.tail.capacity().min(SEGMENT) && !self.next_segment() {
                return Err(value);
            }
            if self.tail.len() == self.prepare_at {
                self.prepare();
            }
            // Within the tail's capacity: never reallocates.
            self.tail.push(value);
            Ok(())
        }
        #[inline]
        fn pop(&mut self) -> Option<T> {
            if self.tail.is_empty() && !self.reopen_last() {
                return None;
            }
            self.tail.pop()
        }
        #[inline]
        fn reserve(&mut self, total: usize) -> bool {
            total <= self.capacity() || self.grow_to(total)
        }
    }

    impl<T> SegmentedArray<T> {
        /// [`Array::reserve`] beyond the capacity: room for the next entry
        /// only means it grows on demand, and from then on allocates ahead.
        #[inline(never)]
        fn grow_to(&mut self, total: usize) -> bool {
            if total <= self.len() + 1 {
                self.ahead = true;
            }
            self.reserve_total(total)
        }
    }
}

pub(crate) mod sealed {
    /// Only the core's own storages and index types.
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
    impl Sealed for [u16; 3] {}
    impl Sealed for super::SeededFnv {}
    #[cfg(feature = "alloc")]
    impl Sealed for foldhash::fast::FixedState {}
}

#[cfg(test)]
mod fnv_tests {
    use core::hash::Hasher;

    use super::{Fnv1a, SeededFnv, SubjectHashing, FNV_BASIS};

    /// FNV-1a of `bytes` from `state`.
    fn fnv(state: u32, bytes: &[u8]) -> u32 {
        let mut h = Fnv1a(state);
        h.write(bytes);
        h.0
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // From the FNV reference (draft-eastlake-fnv), 32-bit FNV-1a.
        assert_eq!(fnv(FNV_BASIS, b""), 0x811c_9dc5);
        assert_eq!(fnv(FNV_BASIS, b"a"), 0xe40c_292c);
        assert_eq!(fnv(FNV_BASIS, b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn the_seed_is_hashed_first_and_zero_is_none() {
        let x = 0x1234_5678u32;
        let unseeded = fnv(FNV_BASIS, &x.to_ne_bytes());
        assert_eq!(SeededFnv::new(0).hash(&x), u64::from(unseeded));
        let seed = 0x0123_4567_89ab_cdefu64;
        let seeded = fnv(fnv(FNV_BASIS, &seed.to_ne_bytes()), &x.to_ne_bytes());
        assert_eq!(SeededFnv::new(seed).hash(&x), u64::from(seeded));
        assert_ne!(seeded, unseeded);
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::vec::Vec;

    use super::segmented::ALLOCATE_AT;
    use super::{AllocStorage, Array, Storage, View, SEGMENT};

    type Segmented<T> = <AllocStorage as Storage>::Array<T>;

    /// Every entry of `a` through `get`, a view, and views cut to each
    /// length around the segment boundaries.
    fn check(a: &mut Segmented<u32>, len: usize) {
        assert_eq!(a.len(), len);
        assert!(a.capacity() >= len);
        for i in 0..len + 2 {
            let want = (i < len).then_some(i as u32);
            assert_eq!(a.get(i).copied(), want, "get {i}");
            assert_eq!(a.view().at(i).copied(), want, "at {i}");
        }
        for cut in [
            0,
            1,
            len / 2,
            len.saturating_sub(1),
            len,
            SEGMENT,
            SEGMENT + 3,
        ] {
            let Some(mut view) = a.view().prefix(cut) else {
                assert!(cut > len, "prefix {cut} of {len}");
                continue;
            };
            for i in [
                0,
                1,
                cut.saturating_sub(1),
                cut,
                cut + 1,
                SEGMENT - 1,
                SEGMENT,
            ] {
                let want = (i < cut).then_some(i as u32);
                assert_eq!(view.at(i).copied(), want, "prefix {cut}, at {i}");
                assert_eq!(view.at_mut(i).map(|v| *v), want, "prefix {cut}, at_mut {i}");
                let four = (i + 4 <= cut).then(|| [0, 1, 2, 3].map(|d| (i + d) as u32));
                assert_eq!(view.four(i), four, "prefix {cut}, four {i}");
            }
        }
    }

    #[test]
    fn segmented_array_across_segment_boundaries() {
        let mut a: Segmented<u32> = Array::EMPTY;
        check(&mut a, 0);
        let edges = [
            1,
            SEGMENT - 1,
            SEGMENT,
            SEGMENT + 1,
            2 * SEGMENT,
            2 * SEGMENT + 5,
        ];
        let mut len = 0;
        for &edge in &edges {
            while len < edge {
                assert_eq!(a.push(len as u32), Ok(()));
                len += 1;
            }
            check(&mut a, len);
        }
        let held = a.capacity();
        // Back and forth across a boundary: no allocation either way.
        for _ in 0..3 {
            for _ in 0..5 + SEGMENT {
                len -= 1;
                assert_eq!(a.pop(), Some(len as u32));
            }
            check(&mut a, len);
            for _ in 0..5 + SEGMENT {
                assert_eq!(a.push(len as u32), Ok(()));
                len += 1;
            }
            assert_eq!(a.capacity(), held);
        }
        check(&mut a, len);
        // Drained, then the segments given back.
        while len > SEGMENT + 1 {
            len -= 1;
            assert_eq!(a.pop(), Some(len as u32));
        }
        a.shrink_to(0);
        assert_eq!(a.capacity(), 2 * SEGMENT);
        check(&mut a, len);
        while len > 0 {
            len -= 1;
            assert_eq!(a.pop(), Some(len as u32));
        }
        assert_eq!(a.pop(), None);
        a.shrink_to(0);
        assert_eq!((a.capacity(), a.allocated_bytes()), (0, 0));
        // Room reserved ahead is used without further allocation.
        assert!(a.reserve(3 * SEGMENT));
        let bytes = a.allocated_bytes();
        for i in 0..3 * SEGMENT {
            assert_eq!(a.push(i as u32), Ok(()));
        }
        assert_eq!(a.allocated_bytes(), bytes);
        check(&mut a, 3 * SEGMENT);
    }

    // Safe code only, and slow under Miri (tens of seconds);
    // `segmented_array_across_segment_boundaries` takes the same paths
    // there.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn segments_are_allocated_ahead_on_each_arrays_own_push() {
        // Two arrays growing in step, as a scheduler's do: one asks for
        // room before each push (as the slots and the heap do), the other
        // only pushes (as the subject buckets do).
        let mut a: Segmented<u32> = Array::EMPTY;
        let mut b: Segmented<u64> = Array::EMPTY;
        a.set_phase(6);
        b.set_phase(12);
        let (mut grew_a, mut grew_b) = (Vec::new(), Vec::new());
        for i in 0..3 * SEGMENT {
            let (before_a, before_b) = (a.capacity(), b.capacity());
            assert!(a.reserve(i + 1));
            assert_eq!(a.push(i as u32), Ok(()));
            assert_eq!(b.push(i as u64), Ok(()));
            if a.capacity() != before_a {
                grew_a.push(i);
            }
            if b.capacity() != before_b {
                grew_b.push(i);
            }
            // The next segment is there before the tail fills.
            if i % SEGMENT >= ALLOCATE_AT + 32 {
                assert!(a.capacity() > (i / SEGMENT + 1) * SEGMENT, "a at {i}");
                assert!(b.capacity() > (i / SEGMENT + 1) * SEGMENT, "b at {i}");
            }
        }
        // The first segment when needed; each next one a quarter into the
        // tail, on the array's own push.
        let ahead = |phase| {
            [0, 1, 2]
                .map(|s| s * SEGMENT + ALLOCATE_AT + phase)
                .into_iter()
        };
        let want_a: Vec<usize> = core::iter::once(0).chain(ahead(6)).collect();
        let want_b: Vec<usize> = core::iter::once(0).chain(ahead(12)).collect();
        assert_eq!((grew_a, grew_b), (want_a, want_b));
        // The writes ahead changed no entry.
        for i in 0..3 * SEGMENT {
            assert_eq!(a.get(i), Some(&(i as u32)));
            assert_eq!(b.get(i), Some(&(i as u64)));
        }
        // Popping never allocates; shrinking gives the segment ahead back.
        let held = a.allocated_bytes();
        for i in (2 * SEGMENT..3 * SEGMENT).rev() {
            assert_eq!(a.pop(), Some(i as u32));
        }
        assert_eq!(a.allocated_bytes(), held);
        a.shrink_to(0);
        assert_eq!(a.capacity(), 2 * SEGMENT);
        // Room reserved ahead is used without allocating more; running out
        // of it allocates again.
        assert!(a.reserve(3 * SEGMENT));
        for i in 2 * SEGMENT..3 * SEGMENT {
            assert_eq!(a.push(i as u32), Ok(()));
            assert_eq!(a.capacity(), 3 * SEGMENT, "at {i}");
        }
        assert_eq!(a.push(3 * SEGMENT as u32), Ok(()));
        assert_eq!(a.capacity(), 4 * SEGMENT);
        for i in 0..=3 * SEGMENT {
            assert_eq!(a.get(i), Some(&(i as u32)));
        }
    }

    // Safe code only, and slow under Miri (tens of seconds);
    // `segmented_array_across_segment_boundaries` takes the same paths
    // there.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn a_push_allocates_one_segment_or_one_table_at_most() {
        // Growing on demand past the point where the tables of segment
        // pointers must grow: each allocation ahead is alone on its push,
        // a push of the array's phase.
        let mut a: Segmented<u32> = Array::EMPTY;
        a.set_phase(6);
        let segment_bytes = SEGMENT * core::mem::size_of::<u32>();
        let (mut segments, mut tables) = (Vec::new(), Vec::new());
        // The tables (room for 4 segments first) grow before the fifth.
        for i in 0..4 * SEGMENT {
            let (bytes, capacity) = (a.allocated_bytes(), a.capacity());
            assert!(a.reserve(i + 1));
            assert_eq!(a.push(i as u32), Ok(()));
            if i == 0 {
                continue;
            }
            if a.capacity() != capacity {
                assert_eq!(a.allocated_bytes() - bytes, segment_bytes, "at {i}");
                segments.push(i);
            } else if a.allocated_bytes() != bytes {
                tables.push(i);
            }
        }
        let want: Vec<usize> = (0..4).map(|s| s * SEGMENT + ALLOCATE_AT + 6).collect();
        assert_eq!(segments, want);
        assert!(!tables.is_empty(), "the tables grew");
        for i in tables {
            assert_eq!(i % 32, 6, "table grown at {i}");
            assert!(i % SEGMENT < ALLOCATE_AT, "table grown at {i}");
        }
    }
}
