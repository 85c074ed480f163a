//! The exported C functions, called from Rust as C would call them, against
//! both backends: the threaded one (`--features capi`) and the bare-metal
//! one built for the host (`--no-default-features --features
//! capi-baremetal`, with the std critical-section implementation of the
//! dev-dependencies). Tests of what only threads have are marked
//! `cfg(feature = "capi")`. Single-threaded except the background-thread
//! tests, and small enough for Miri (`cargo +nightly miri test --features
//! capi --test ffi`), which also checks that no call reads or writes out of
//! bounds.

#![cfg(any(
    feature = "capi",
    all(feature = "capi-baremetal", not(feature = "std"))
))]

use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use tardy::ffi::tardy_status::*;
use tardy::ffi::*;

/// A C string literal as the `*const c_char` C passes.
macro_rules! c {
    ($s:literal) => {
        concat!($s, "\0").as_ptr().cast::<c_char>()
    };
}

/// A simulated clock: ticks read from an `AtomicU64` given as `user`.
unsafe extern "C" fn sim_clock(user: *mut c_void) -> u64 {
    // SAFETY: every test passes a pointer to an AtomicU64 that outlives the
    // scheduler.
    unsafe { &*user.cast::<AtomicU64>() }.load(Ordering::SeqCst)
}

/// A scheduler on `clock`, freed on drop.
struct Sched(
    *mut tardy_scheduler,
    // Keeps the memory of a bare-metal scheduler until it is freed.
    #[allow(dead_code)] Storage,
);

impl Sched {
    fn new(clock: &AtomicU64) -> Self {
        let user = ptr::from_ref(clock).cast_mut().cast();
        // SAFETY: the clock outlives the scheduler.
        unsafe { Self::on(sim_clock, user) }
    }

    /// A scheduler on the C clock `clock(user)`: made by `tardy_new`
    /// (threaded), or by `tardy_init` in memory of its own (bare metal,
    /// whose `tardy_new` hands out one static scheduler, which tests
    /// running at once would share).
    ///
    /// # Safety
    ///
    /// `clock` may be called with `user` until the scheduler is dropped.
    unsafe fn on(clock: unsafe extern "C" fn(*mut c_void) -> u64, user: *mut c_void) -> Self {
        let mut s = ptr::null_mut();
        let storage = Storage::new();
        // SAFETY: `out` is valid; the rest is the caller's promise.
        let status = unsafe { storage.make(clock, user, &mut s) };
        assert_eq!(status, TARDY_OK);
        assert!(!s.is_null());
        Self(s, storage)
    }
}

impl Drop for Sched {
    fn drop(&mut self) {
        // SAFETY: created by `Sched::on`, freed once, before its storage.
        unsafe { tardy_free(self.0) };
    }
}

/// Where a scheduler of the tests lives: nowhere of the test's own with
/// the threaded backend (it allocates), memory for `tardy_init` on bare
/// metal.
#[cfg(feature = "capi")]
struct Storage;

#[cfg(feature = "capi")]
impl Storage {
    fn new() -> Self {
        Self
    }

    unsafe fn make(
        &self,
        clock: unsafe extern "C" fn(*mut c_void) -> u64,
        user: *mut c_void,
        out: *mut *mut tardy_scheduler,
    ) -> tardy_status {
        // SAFETY: passed on from the caller.
        unsafe { tardy_new(Some(clock), user, out) }
    }
}

#[cfg(not(feature = "capi"))]
struct Storage(*mut u8, std::alloc::Layout);

#[cfg(not(feature = "capi"))]
impl Storage {
    fn new() -> Self {
        let layout =
            std::alloc::Layout::from_size_align(tardy_scheduler_size(), tardy_scheduler_align())
                .unwrap();
        // SAFETY: a scheduler is never zero-sized.
        let mem = unsafe { std::alloc::alloc(layout) };
        assert!(!mem.is_null());
        Self(mem, layout)
    }

    unsafe fn make(
        &self,
        clock: unsafe extern "C" fn(*mut c_void) -> u64,
        user: *mut c_void,
        out: *mut *mut tardy_scheduler,
    ) -> tardy_status {
        // SAFETY: `self.0` is ours, large and aligned enough; the rest is
        // passed on from the caller.
        unsafe { tardy_init(self.0.cast(), self.1.size(), Some(clock), user, out) }
    }
}

#[cfg(not(feature = "capi"))]
impl Drop for Storage {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.0, self.1) };
    }
}

fn text(status: tardy_status) -> &'static str {
    // SAFETY: tardy_status_str returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(tardy_status_str(status as tardy_status_value)) }
        .to_str()
        .unwrap()
}

#[test]
fn every_status_has_a_distinct_text_and_unknown_values_are_safe() {
    let all = tardy_status::all();
    assert_eq!(all.len(), 12);
    let mut texts: Vec<&str> = all.iter().map(|s| text(*s)).collect();
    for value in [1, 12, -12, i32::MIN, i32::MAX] {
        // SAFETY: any int is a valid argument.
        let t = unsafe { CStr::from_ptr(tardy_status_str(value)) };
        assert_eq!(t.to_str().unwrap(), "unknown status");
    }
    texts.push("unknown status");
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), 13);
    // SAFETY: static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(tardy_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn null_pointers_are_refused() {
    let mut task = tardy_task::default();
    let mut n = 0usize;
    let mut u = 0u64;
    let s = ptr::null_mut();
    // SAFETY: NULL schedulers and valid out-pointers.
    unsafe {
        assert_eq!(
            tardy_new(None, ptr::null_mut(), ptr::null_mut()),
            TARDY_ERR_NULL
        );
        assert_eq!(tardy_add_queue(s, c!("q"), 0), TARDY_ERR_NULL);
        assert_eq!(
            tardy_remove_queue(s, c!("q"), None, ptr::null_mut()),
            TARDY_ERR_NULL
        );
        assert_eq!(
            tardy_schedule_now(s, c!("q"), 1, ptr::null_mut(), ptr::null_mut()),
            TARDY_ERR_NULL
        );
        assert_eq!(
            tardy_schedule_after(s, c!("q"), 1, ptr::null_mut(), 1, ptr::null_mut()),
            TARDY_ERR_NULL
        );
        assert_eq!(
            tardy_schedule_at(s, c!("q"), 1, ptr::null_mut(), 1, ptr::null_mut()),
            TARDY_ERR_NULL
        );
        assert_eq!(tardy_reschedule_at(s, 1, 1), TARDY_ERR_NULL);
        assert_eq!(tardy_cancel(s, 1, ptr::null_mut()), TARDY_ERR_NULL);
        assert_eq!(
            tardy_cancel_subject(s, 1, None, ptr::null_mut(), &mut n),
            TARDY_ERR_NULL
        );
        assert_eq!(tardy_get_task(s, c!("q"), 0, &mut task), TARDY_ERR_NULL);
        assert_eq!(tardy_task_done(s, c!("q")), TARDY_ERR_NULL);
        assert_eq!(tardy_run_pending(s, &mut n), TARDY_ERR_NULL);
        assert_eq!(tardy_run_all(s, &mut n), TARDY_ERR_NULL);
        assert_eq!(tardy_next_deadline(s, &mut u), TARDY_ERR_NULL);
        assert_eq!(tardy_now(s, &mut u), TARDY_ERR_NULL);
        #[cfg(feature = "capi")]
        {
            assert_eq!(tardy_start(s), TARDY_ERR_NULL);
            assert_eq!(tardy_stop(s), TARDY_ERR_NULL);
            assert_eq!(
                tardy_drain(s, None, ptr::null_mut(), &mut n),
                TARDY_ERR_NULL
            );
            assert_eq!(
                tardy_drain(s, Some(collect), ptr::null_mut(), ptr::null_mut()),
                TARDY_ERR_NULL
            );
        }
        tardy_free(s);
    }
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    // SAFETY: a live scheduler, NULL names and out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, ptr::null(), 0), TARDY_ERR_NULL);
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        assert_eq!(
            tardy_get_task(s.0, c!("q"), 0, ptr::null_mut()),
            TARDY_ERR_NULL
        );
        assert_eq!(tardy_next_deadline(s.0, ptr::null_mut()), TARDY_ERR_NULL);
        assert_eq!(tardy_now(s.0, ptr::null_mut()), TARDY_ERR_NULL);
    }
}

#[test]
fn names_are_validated_without_reading_past_the_limit() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    // No NUL in the first TARDY_MAX_NAME_LEN + 1 bytes, and nothing after
    // them: reading one byte more would be out of bounds (Miri checks).
    let unterminated = [b'x'; TARDY_MAX_NAME_LEN + 1];
    let longest = [[b'y'; TARDY_MAX_NAME_LEN].as_slice(), b"\0"].concat();
    let bad: [&[u8]; 4] = [b"\0", b"\xff\0", b"ab\xc3\0", b"\xed\xa0\x80\0"];
    // SAFETY: every name is readable up to its NUL or the limit.
    unsafe {
        assert_eq!(
            tardy_add_queue(s.0, unterminated.as_ptr().cast(), 0),
            TARDY_ERR_INVALID_ARG
        );
        for name in bad {
            assert_eq!(
                tardy_add_queue(s.0, name.as_ptr().cast(), 0),
                TARDY_ERR_INVALID_ARG
            );
            assert_eq!(
                tardy_task_done(s.0, name.as_ptr().cast()),
                TARDY_ERR_INVALID_ARG
            );
        }
        assert_eq!(tardy_add_queue(s.0, longest.as_ptr().cast(), 0), TARDY_OK);
        assert_eq!(
            tardy_add_queue(s.0, longest.as_ptr().cast(), 0),
            TARDY_ERR_QUEUE_EXISTS
        );
        assert_eq!(
            tardy_add_queue(s.0, c!("big"), TARDY_MAX_QUEUE_SIZE + 1),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(
            tardy_add_queue(s.0, c!("big"), TARDY_MAX_QUEUE_SIZE),
            TARDY_OK
        );
        assert_eq!(tardy_add_queue(s.0, c!("h\u{e9}"), 1), TARDY_OK);
        for i in 3..TARDY_MAX_QUEUES {
            let name = format!("q{i}\0");
            assert_eq!(tardy_add_queue(s.0, name.as_ptr().cast(), 1), TARDY_OK);
        }
        assert_eq!(tardy_add_queue(s.0, c!("more"), 1), TARDY_ERR_CAPACITY);
        assert_eq!(
            tardy_remove_queue(s.0, c!("big"), None, ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_remove_queue(s.0, c!("big"), None, ptr::null_mut()),
            TARDY_ERR_NO_QUEUE
        );
        assert_eq!(tardy_add_queue(s.0, c!("more"), 1), TARDY_OK);
    }
}

#[test]
fn out_parameters_are_written_only_on_success() {
    let clock = AtomicU64::new(10);
    let s = Sched::new(&clock);
    let mut id: tardy_task_id = 77;
    let mut user: *mut c_void = ptr::dangling_mut();
    let mut u = 88u64;
    let mut task = tardy_task {
        id: 99,
        subject: 99,
        user_data: ptr::null_mut(),
        deadline: 99,
        period_index: 99,
        missed: 99,
        periodic: 99,
    };
    let before = task;
    // SAFETY: a live scheduler, valid out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 1), TARDY_OK);
        assert_eq!(
            tardy_schedule_at(s.0, c!("none"), 1, ptr::null_mut(), 5, &mut id),
            TARDY_ERR_NO_QUEUE
        );
        assert_eq!(
            tardy_schedule_now(s.0, c!("q"), 1, ptr::null_mut(), ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_now(s.0, c!("q"), 1, ptr::null_mut(), &mut id),
            TARDY_ERR_QUEUE_FULL
        );
        assert_eq!(id, 77);
        assert_eq!(tardy_cancel(s.0, 12345, &mut user), TARDY_ERR_NOT_SCHEDULED);
        assert_eq!(user, ptr::dangling_mut());
        assert_eq!(tardy_next_deadline(s.0, &mut u), TARDY_ERR_EMPTY);
        assert_eq!(u, 88);
        assert_eq!(
            tardy_get_task(s.0, c!("none"), 0, &mut task),
            TARDY_ERR_NO_QUEUE
        );
        assert_eq!(task, before);
        assert_eq!(tardy_get_task(s.0, c!("q"), 0, &mut task), TARDY_OK);
        assert_ne!(task, before);
        assert_eq!(tardy_get_task(s.0, c!("q"), 0, &mut task), TARDY_ERR_EMPTY);
        // A misaligned out-pointer is refused, not written.
        let mut buf = [0u64; 2];
        let odd = buf.as_mut_ptr().cast::<u8>().wrapping_add(1).cast::<u64>();
        assert_eq!(tardy_now(s.0, odd), TARDY_ERR_INVALID_ARG);
        assert_eq!(buf, [0, 0]);
    }
}

#[test]
fn tasks_come_in_deadline_order_and_never_early() {
    let clock = AtomicU64::new(100);
    let s = Sched::new(&clock);
    let mut data = [0u8; 4];
    let base = data.as_mut_ptr().cast::<c_void>();
    let (p0, p1, p2, p3) = (
        base,
        base.wrapping_byte_add(1),
        base.wrapping_byte_add(2),
        base.wrapping_byte_add(3),
    );
    let mut ids = [0u64; 4];
    let mut moved = 0usize;
    let mut task = tardy_task::default();
    // SAFETY: a live scheduler, valid out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        assert_eq!(
            tardy_schedule_at(s.0, c!("q"), 1, p0, 130, &mut ids[0]),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_after(s.0, c!("q"), 2, p1, 10, &mut ids[1]),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_at(s.0, c!("q"), 3, p2, 110, &mut ids[2]),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_at(s.0, c!("q"), 4, p3, 120, &mut ids[3]),
            TARDY_OK
        );
        assert_eq!(tardy_reschedule_at(s.0, ids[3], 105), TARDY_OK);
        assert_eq!(tardy_reschedule_at(s.0, 0, 105), TARDY_ERR_NOT_SCHEDULED);
        let mut next = 0;
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, 105);
        clock.store(104, Ordering::SeqCst);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 0);
        clock.store(115, Ordering::SeqCst);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 3);
        for (id, user, deadline) in [(ids[3], p3, 105), (ids[1], p1, 110), (ids[2], p2, 110)] {
            assert_eq!(tardy_get_task(s.0, c!("q"), 0, &mut task), TARDY_OK);
            assert_eq!(
                (task.id, task.user_data, task.deadline),
                (id, user, deadline)
            );
            assert_eq!(tardy_task_done(s.0, c!("q")), TARDY_OK);
        }
        assert_eq!(tardy_task_done(s.0, c!("q")), TARDY_ERR_INVALID_ARG);
        let mut back = ptr::null_mut();
        assert_eq!(tardy_cancel(s.0, ids[0], &mut back), TARDY_OK);
        assert_eq!(back, p0);
        assert_eq!(
            tardy_cancel(s.0, ids[0], &mut back),
            TARDY_ERR_NOT_SCHEDULED
        );
        assert_eq!(
            tardy_schedule_after(s.0, c!("q"), 5, p0, u64::MAX, ptr::null_mut()),
            TARDY_OK
        );
        clock.store(u64::MAX - 1, Ordering::SeqCst);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 0);
        assert_eq!(tardy_run_all(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 1);
    }
}

/// Collects handed-back tasks; optionally schedules into "again" from
/// inside the callback, to show that callbacks run without the lock.
struct Collector {
    tasks: Vec<tardy_task>,
    reenter: *mut tardy_scheduler,
    status: Option<tardy_status>,
}

unsafe extern "C" fn collect(user: *mut c_void, task: *const tardy_task) {
    // SAFETY: the tests pass a live Collector; `task` is valid for the call.
    let (c, task) = unsafe { (&mut *user.cast::<Collector>(), *task) };
    c.tasks.push(task);
    if !c.reenter.is_null() {
        // SAFETY: a live scheduler and a valid name.
        c.status = Some(unsafe {
            tardy_schedule_at(
                c.reenter,
                c!("again"),
                task.subject,
                task.user_data,
                1_000,
                ptr::null_mut(),
            )
        });
    }
}

#[test]
fn handed_back_tasks_reach_the_callback_which_may_call_back_in() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    // Only ever used through this pointer, as C would.
    let c = Box::into_raw(Box::new(Collector {
        tasks: Vec::new(),
        reenter: s.0,
        status: None,
    }));
    let user = c.cast::<c_void>();
    let mut count = 0usize;
    // SAFETY: a live scheduler and collector.
    unsafe {
        for q in [c!("a"), c!("b"), c!("again")] {
            assert_eq!(tardy_add_queue(s.0, q, 0), TARDY_OK);
        }
        for delay in 1..=3 {
            assert_eq!(
                tardy_schedule_after(s.0, c!("a"), 42, ptr::null_mut(), delay, ptr::null_mut()),
                TARDY_OK
            );
        }
        assert_eq!(
            tardy_schedule_after(s.0, c!("b"), 7, ptr::null_mut(), 1, ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_now(s.0, c!("b"), 7, ptr::null_mut(), ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_cancel_subject(s.0, 42, Some(collect), user, &mut count),
            TARDY_OK
        );
        assert_eq!(count, 3);
        assert_eq!((*c).tasks.len(), 3);
        assert_eq!((*c).status, Some(TARDY_OK));
        assert!((*c).tasks.iter().all(|t| t.subject == 42 && t.id != 0));
        // The callback's three new tasks for subject 42 are scheduled.
        assert_eq!(
            tardy_cancel_subject(s.0, 42, None, ptr::null_mut(), &mut count),
            TARDY_OK
        );
        assert_eq!(count, 3);
        (*c).tasks.clear();
        (*c).reenter = ptr::null_mut();
        assert_eq!(
            tardy_remove_queue(s.0, c!("b"), Some(collect), user),
            TARDY_OK
        );
        assert_eq!((*c).tasks.len(), 2, "one scheduled, one queued");
        assert_eq!(
            tardy_remove_queue(s.0, c!("b"), Some(collect), user),
            TARDY_ERR_NO_QUEUE
        );
        assert_eq!((*c).tasks.len(), 2);
        drop(Box::from_raw(c));
    }
}

/// A clock that calls back into its own scheduler, recording the answers.
#[cfg(feature = "capi")]
struct Reentrant {
    sched: *mut tardy_scheduler,
    answer: Option<tardy_status>,
    stop: Option<tardy_status>,
    drain: Option<tardy_status>,
}

#[cfg(feature = "capi")]
unsafe extern "C" fn reentrant_clock(user: *mut c_void) -> u64 {
    // SAFETY: the test passes a live Reentrant.
    let r = unsafe { &mut *user.cast::<Reentrant>() };
    if !r.sched.is_null() {
        let mut now = 0;
        let mut count = 99;
        // SAFETY: a live scheduler and valid out-pointers.
        unsafe {
            r.answer = Some(tardy_now(r.sched, &mut now));
            r.stop = Some(tardy_stop(r.sched));
            r.drain = Some(tardy_drain(r.sched, None, ptr::null_mut(), &mut count));
        }
        assert_eq!(count, 99, "written on failure");
    }
    5
}

#[test]
#[cfg(feature = "capi")]
fn the_clock_cannot_call_its_own_scheduler() {
    let mut r = Reentrant {
        sched: ptr::null_mut(),
        answer: None,
        stop: None,
        drain: None,
    };
    let user = ptr::from_mut(&mut r).cast::<c_void>();
    let mut s = ptr::null_mut();
    let mut now = 0;
    // SAFETY: valid pointers; `r` outlives the scheduler.
    unsafe {
        assert_eq!(tardy_new(Some(reentrant_clock), user, &mut s), TARDY_OK);
        (*user.cast::<Reentrant>()).sched = s;
        assert_eq!(tardy_now(s, &mut now), TARDY_OK);
        assert_eq!(now, 5);
        let r = &mut *user.cast::<Reentrant>();
        assert_eq!(r.answer, Some(TARDY_ERR_INVALID_ARG));
        assert_eq!(r.stop, Some(TARDY_ERR_INVALID_ARG));
        assert_eq!(r.drain, Some(TARDY_ERR_INVALID_ARG));
        r.sched = ptr::null_mut();
        // The refused stop did not stop it.
        assert_eq!(tardy_add_queue(s, c!("alive"), 0), TARDY_OK);
        assert_eq!(tardy_stop(s), TARDY_OK);
        tardy_free(s);
    }
}

#[test]
fn capacity_is_reported_and_never_lossy() {
    let clock = AtomicU64::new(0);
    // Threads: a scheduler bounded by `max_capacity`; bare metal: the
    // fixed `TARDY_CAPACITY`.
    #[cfg(feature = "capi")]
    let (s, cap) = {
        let cap = if cfg!(miri) { 64 } else { 4096 };
        let mut opts = options();
        opts.max_capacity = cap;
        (SchedWith::new(&opts, &clock), cap)
    };
    #[cfg(not(feature = "capi"))]
    let (s, cap) = (Sched::new(&clock), TARDY_CAPACITY);
    let tasks = if cfg!(miri) { cap.min(64) } else { cap };
    let mut count = 0;
    // SAFETY: a live scheduler.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        for i in 0..tasks {
            assert_eq!(
                tardy_schedule_after(s.0, c!("q"), 1, ptr::null_mut(), i as u64, ptr::null_mut()),
                TARDY_OK
            );
        }
        if tasks == cap {
            let mut id = 5;
            assert_eq!(
                tardy_schedule_after(s.0, c!("q"), 1, ptr::null_mut(), 1, &mut id),
                TARDY_ERR_CAPACITY
            );
            assert_eq!(id, 5);
        }
        assert_eq!(
            tardy_cancel_subject(s.0, 1, None, ptr::null_mut(), &mut count),
            TARDY_OK
        );
        assert_eq!(count, tasks);
    }
}

/// `tardy_options` filled with the defaults by `tardy_options_init`.
#[cfg(feature = "capi")]
fn options() -> tardy_options {
    let mut opts = std::mem::MaybeUninit::<tardy_options>::uninit();
    // SAFETY: valid for writing; initialised by the call when it succeeds.
    unsafe {
        assert_eq!(tardy_options_init(opts.as_mut_ptr()), TARDY_OK);
        opts.assume_init()
    }
}

/// A threaded scheduler made by `tardy_new_with_options` on the simulated
/// clock, freed on drop.
#[cfg(feature = "capi")]
struct SchedWith(*mut tardy_scheduler);

#[cfg(feature = "capi")]
impl SchedWith {
    fn new(opts: &tardy_options, clock: &AtomicU64) -> Self {
        let user = ptr::from_ref(clock).cast_mut().cast();
        let mut s = ptr::null_mut();
        // SAFETY: valid pointers; the clock outlives the scheduler.
        let status = unsafe { tardy_new_with_options(opts, Some(sim_clock), user, 1, &mut s) };
        assert_eq!(status, TARDY_OK);
        Self(s)
    }
}

#[cfg(feature = "capi")]
impl Drop for SchedWith {
    fn drop(&mut self) {
        // SAFETY: made by `SchedWith::new`, freed once.
        unsafe { tardy_free(self.0) };
    }
}

/// The defaults of `tardy_options_init`, and the threaded scheduler of
/// `tardy_new` growing far beyond any fixed size, with queues of
/// `max_size` 0 unbounded.
#[test]
#[cfg(feature = "capi")]
fn the_default_scheduler_grows_and_queues_of_max_size_zero_are_unbounded() {
    let opts = options();
    assert_eq!(opts.size, std::mem::size_of::<tardy_options>());
    assert_eq!(
        (opts.initial_capacity, opts.max_capacity, opts.max_sleep_ms),
        (0, 0, 0)
    );
    // SAFETY: NULL is refused without a write.
    assert_eq!(
        unsafe { tardy_options_init(ptr::null_mut()) },
        TARDY_ERR_NULL
    );
    let tasks: u64 = if cfg!(miri) { 200 } else { 20_000 };
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    let mut count = 0;
    // SAFETY: a live scheduler, NUL-terminated names, valid out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("later"), 0), TARDY_OK);
        assert_eq!(tardy_add_queue(s.0, c!("now"), 0), TARDY_OK);
        for i in 0..tasks {
            assert_eq!(
                tardy_schedule_after(s.0, c!("later"), 1, ptr::null_mut(), 1 + i, ptr::null_mut()),
                TARDY_OK
            );
            assert_eq!(
                tardy_schedule_now(s.0, c!("now"), 2, ptr::null_mut(), ptr::null_mut()),
                TARDY_OK
            );
        }
        assert_eq!(
            tardy_cancel_subject(s.0, 1, None, ptr::null_mut(), &mut count),
            TARDY_OK
        );
        assert_eq!(count as u64, tasks);
    }
}

/// Every field of `tardy_options` is checked: a bad one is
/// `TARDY_ERR_INVALID_ARG` (or `TARDY_ERR_NULL`) and nothing is created.
#[test]
#[cfg(feature = "capi")]
fn bad_options_are_refused() {
    let clock = AtomicU64::new(0);
    let user: *mut c_void = ptr::from_ref(&clock).cast_mut().cast();
    let new = |opts: *const tardy_options, tick: u64| {
        let mut s = ptr::null_mut();
        // SAFETY: `opts` is NULL or a whole `tardy_options`; the clock
        // outlives the scheduler, freed here.
        let status = unsafe { tardy_new_with_options(opts, Some(sim_clock), user, tick, &mut s) };
        assert_eq!(status == TARDY_OK, !s.is_null());
        // SAFETY: NULL or made above.
        unsafe { tardy_free(s) };
        status
    };
    let with = |f: &dyn Fn(&mut tardy_options)| {
        let mut opts = options();
        f(&mut opts);
        new(&opts, 1)
    };
    assert_eq!(new(ptr::null(), 1), TARDY_ERR_NULL);
    assert_eq!(new(&options(), 0), TARDY_ERR_INVALID_ARG);
    // SAFETY: a valid options record; NULL `out` is refused.
    assert_eq!(
        unsafe { tardy_new_with_options(&options(), None, ptr::null_mut(), 1, ptr::null_mut()) },
        TARDY_ERR_NULL
    );
    let size = std::mem::size_of::<tardy_options>();
    for bad in [0, 1, size - 1, size + 1, usize::MAX] {
        assert_eq!(with(&|o| o.size = bad), TARDY_ERR_INVALID_ARG, "size {bad}");
    }
    assert_eq!(
        with(&|o| o.initial_capacity = TARDY_MAX_CAPACITY + 1),
        TARDY_ERR_INVALID_ARG
    );
    assert_eq!(
        with(&|o| o.max_capacity = TARDY_MAX_CAPACITY + 1),
        TARDY_ERR_INVALID_ARG
    );
    assert_eq!(
        with(&|o| o.initial_capacity = usize::MAX),
        TARDY_ERR_INVALID_ARG
    );
    assert_eq!(
        with(&|o| o.max_capacity = usize::MAX),
        TARDY_ERR_INVALID_ARG
    );
    assert_eq!(
        with(&|o| {
            o.initial_capacity = 10;
            o.max_capacity = 9;
        }),
        TARDY_ERR_INVALID_ARG
    );
    // Accepted: a maximum equal to the initial capacity, the largest
    // maximum (nothing is allocated for it), any sleep bound.
    assert_eq!(
        with(&|o| {
            o.initial_capacity = 10;
            o.max_capacity = 10;
        }),
        TARDY_OK
    );
    assert_eq!(with(&|o| o.max_capacity = TARDY_MAX_CAPACITY), TARDY_OK);
    for ms in [0, 1, 1000, u64::MAX] {
        assert_eq!(
            with(&|o| o.max_sleep_ms = ms),
            TARDY_OK,
            "max_sleep_ms {ms}"
        );
    }
    // The built-in clock still counts nanoseconds.
    let mut s = ptr::null_mut();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(
            tardy_new_with_options(&options(), None, ptr::null_mut(), 1000, &mut s),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(
            tardy_new_with_options(&options(), None, ptr::null_mut(), 1, &mut s),
            TARDY_OK
        );
        tardy_free(s);
    }
}

/// A millisecond host clock that reads `stuck_at` on the thread named
/// `worker` and counts the reads of the background thread (`tardy`).
#[cfg(feature = "capi")]
struct SteppingClock {
    now: AtomicU64,
    stuck_at: AtomicU64,
    thread_reads: AtomicU64,
}

#[cfg(feature = "capi")]
unsafe extern "C" fn stepping_clock(user: *mut c_void) -> u64 {
    // SAFETY: the test passes a `SteppingClock` that outlives the scheduler.
    let c = unsafe { &*user.cast::<SteppingClock>() };
    match std::thread::current().name() {
        Some("tardy") => {
            c.thread_reads.fetch_add(1, Ordering::SeqCst);
        }
        Some("worker") => return c.stuck_at.load(Ordering::SeqCst),
        _ => {}
    }
    c.now.load(Ordering::SeqCst)
}

/// The host clock steps back by an hour while a worker waits, a task is
/// scheduled 50 ms ahead of the true time, and once the background thread
/// has computed its sleep on the stepped-back clock, the clock reads
/// correctly again. The thread's sleep is bounded (`max_sleep_ms`, 1000 by
/// default for a host clock), so it delivers the task; the worker reads a
/// clock still an hour back, so only the thread can find it due. The
/// worker's 60 s timeout only keeps a failure from hanging.
#[cfg(feature = "capi")]
fn c_delivered_after_the_clock_steps_back(max_sleep_ms: u64) {
    const HOUR_MS: u64 = 3_600_000;
    let clock = SteppingClock {
        now: AtomicU64::new(10 * HOUR_MS),
        stuck_at: AtomicU64::new(9 * HOUR_MS),
        thread_reads: AtomicU64::new(0),
    };
    let mut opts = options();
    opts.max_sleep_ms = max_sleep_ms;
    let mut s = ptr::null_mut();
    let user: *mut c_void = ptr::from_ref(&clock).cast_mut().cast();
    // SAFETY: valid pointers; the clock outlives the scheduler.
    unsafe {
        assert_eq!(
            tardy_new_with_options(&opts, Some(stepping_clock), user, 1_000_000, &mut s),
            TARDY_OK
        );
        assert_eq!(tardy_add_queue(s, c!("q"), 0), TARDY_OK);
        assert_eq!(tardy_start(s), TARDY_OK);
    }
    struct Ptr(*mut tardy_scheduler);
    // SAFETY: the scheduler may be used from any thread.
    unsafe impl Send for Ptr {}
    let shared = Ptr(s);
    let worker = std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || {
            let s = shared;
            let mut task = tardy_task::default();
            // SAFETY: live until joined below.
            let status = unsafe { tardy_get_task(s.0, c!("q"), 60_000, &mut task) };
            (status, task.subject)
        })
        .unwrap();
    clock.now.store(9 * HOUR_MS, Ordering::SeqCst); // steps back an hour
    let before = clock.thread_reads.load(Ordering::SeqCst);
    // SAFETY: live.
    unsafe {
        assert_eq!(
            tardy_schedule_at(
                s,
                c!("q"),
                7,
                ptr::null_mut(),
                10 * HOUR_MS + 50,
                ptr::null_mut()
            ),
            TARDY_OK
        );
    }
    while clock.thread_reads.load(Ordering::SeqCst) < before + 2 {
        std::thread::yield_now();
    }
    clock.now.store(10 * HOUR_MS + 50, Ordering::SeqCst); // correct again
    assert_eq!(worker.join().unwrap(), (TARDY_OK, 7));
    // SAFETY: nobody else uses it any more.
    unsafe {
        assert_eq!(tardy_stop(s), TARDY_OK);
        tardy_free(s);
    }
}

#[test]
#[cfg(feature = "capi")]
#[cfg_attr(miri, ignore = "waits on real time")]
fn c_delivered_within_max_sleep_after_the_clock_steps_back() {
    c_delivered_after_the_clock_steps_back(50);
}

#[test]
#[cfg(feature = "capi")]
#[cfg_attr(miri, ignore = "waits on real time")]
fn a_c_host_clock_gets_the_default_max_sleep() {
    c_delivered_after_the_clock_steps_back(0);
}

#[test]
#[cfg(feature = "capi")]
fn start_and_stop() {
    let mut s = ptr::null_mut();
    let mut task = tardy_task::default();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(
            tardy_new_with_tick(None, ptr::null_mut(), 0, &mut s),
            TARDY_ERR_INVALID_ARG
        );
        assert!(s.is_null());
        assert_eq!(tardy_new(None, ptr::null_mut(), &mut s), TARDY_OK);
        assert_eq!(tardy_add_queue(s, c!("q"), 0), TARDY_OK);
        assert_eq!(tardy_start(s), TARDY_OK);
        assert_eq!(tardy_start(s), TARDY_ERR_STATE);
        // Due at once: the background thread delivers it; wait for ever.
        assert_eq!(
            tardy_schedule_after(s, c!("q"), 9, ptr::null_mut(), 0, ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(tardy_get_task(s, c!("q"), u64::MAX, &mut task), TARDY_OK);
        assert_eq!(task.subject, 9);
        assert_eq!(tardy_stop(s), TARDY_OK);
        assert_eq!(tardy_stop(s), TARDY_ERR_STATE);
        assert_eq!(tardy_start(s), TARDY_ERR_STATE);
        assert_eq!(tardy_add_queue(s, c!("r"), 0), TARDY_ERR_STATE);
        assert_eq!(tardy_get_task(s, c!("q"), 0, &mut task), TARDY_ERR_STATE);
        tardy_free(s);
    }
}

/// Collects drained tasks; from inside the callback it drains again and
/// schedules, recording the answers, to show that the callback runs
/// without the lock and that a task is handed back only once.
#[cfg(feature = "capi")]
struct Drained {
    sched: *mut tardy_scheduler,
    tasks: Vec<tardy_task>,
    inner_drain: Vec<(tardy_status, usize)>,
    inner_schedule: Vec<tardy_status>,
}

#[cfg(feature = "capi")]
unsafe extern "C" fn drained(user: *mut c_void, task: *const tardy_task) {
    // SAFETY: the tests pass a live Drained; `task` is valid for the call.
    let (d, task) = unsafe { (&mut *user.cast::<Drained>(), *task) };
    d.tasks.push(task);
    let mut count = usize::MAX;
    // SAFETY: a live scheduler, valid names and out-pointers.
    unsafe {
        let st = tardy_drain(d.sched, Some(drained), user, &mut count);
        d.inner_drain.push((st, count));
        let st = tardy_schedule_now(d.sched, c!("a"), 0, ptr::null_mut(), ptr::null_mut());
        d.inner_schedule.push(st);
    }
}

#[test]
#[cfg(feature = "capi")]
fn stop_sets_every_task_aside_and_drain_hands_each_back_once() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    // What user_data points to: the host's, never freed by tardy.
    let mut items = [0u8; 6];
    let base = items.as_mut_ptr();
    let p = |i: usize| base.wrapping_add(i).cast::<c_void>();
    let mut count = 77usize;
    let mut task = tardy_task::default();
    let d = Box::into_raw(Box::new(Drained {
        sched: s.0,
        tasks: Vec::new(),
        inner_drain: Vec::new(),
        inner_schedule: Vec::new(),
    }));
    let user = d.cast::<c_void>();
    // SAFETY: a live scheduler, valid names, pointers and callback.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("a"), 0), TARDY_OK);
        assert_eq!(tardy_add_queue(s.0, c!("full"), 1), TARDY_OK);
        // 0: scheduled; 1: queued; 2: fills "full"; 3: due, waiting for
        // room in "full"; 4: scheduled for never; 5: delivered to a worker.
        assert_eq!(
            tardy_schedule_after(s.0, c!("a"), 10, p(0), 100, ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_now(s.0, c!("a"), 11, p(1), ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_now(s.0, c!("full"), 12, p(2), ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_after(s.0, c!("full"), 13, p(3), 1, ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_at(s.0, c!("a"), 14, p(4), u64::MAX, ptr::null_mut()),
            TARDY_OK
        );
        clock.store(5, Ordering::SeqCst);
        assert_eq!(tardy_run_pending(s.0, &mut count), TARDY_OK);
        assert_eq!(count, 0, "3 waits for room");
        assert_eq!(
            tardy_schedule_now(s.0, c!("full"), 15, p(5), ptr::null_mut()),
            TARDY_ERR_QUEUE_FULL
        );
        assert_eq!(
            tardy_schedule_now(s.0, c!("b"), 15, p(5), ptr::null_mut()),
            TARDY_ERR_NO_QUEUE
        );
        assert_eq!(tardy_add_queue(s.0, c!("b"), 0), TARDY_OK);
        assert_eq!(
            tardy_schedule_now(s.0, c!("b"), 15, p(5), ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(tardy_get_task(s.0, c!("b"), 0, &mut task), TARDY_OK);
        assert_eq!(task.user_data, p(5));

        // Only a stopped scheduler is drained; nothing written on failure.
        count = 77;
        assert_eq!(
            tardy_drain(s.0, Some(drained), user, &mut count),
            TARDY_ERR_STATE
        );
        assert_eq!(
            tardy_drain(s.0, None, ptr::null_mut(), &mut count),
            TARDY_ERR_STATE
        );
        assert_eq!(count, 77);
        assert!((*d).tasks.is_empty());

        assert_eq!(tardy_stop(s.0), TARDY_OK);
        assert_eq!(tardy_stop(s.0), TARDY_ERR_STATE);
        assert_eq!(tardy_get_task(s.0, c!("a"), 0, &mut task), TARDY_ERR_STATE);
        // Tasks are set aside: a NULL callback would drop them, refused.
        assert_eq!(
            tardy_drain(s.0, None, ptr::null_mut(), &mut count),
            TARDY_ERR_NULL
        );
        assert_eq!(
            tardy_drain(s.0, None, ptr::null_mut(), ptr::null_mut()),
            TARDY_ERR_NULL
        );
        assert_eq!(count, 77);

        assert_eq!(tardy_drain(s.0, Some(drained), user, &mut count), TARDY_OK);
        assert_eq!(count, 5);
        // Owned copies: no reference into the collector outlives a call
        // that hands it to the callback.
        let (tasks, inner_drain, inner_schedule) = {
            let d = &mut *d;
            (
                std::mem::take(&mut d.tasks),
                std::mem::take(&mut d.inner_drain),
                std::mem::take(&mut d.inner_schedule),
            )
        };
        assert_eq!(tasks.len(), 5);
        // Each of 0..5 exactly once, with its subject and deadline; 5 was
        // delivered and is not handed back.
        let expected = [(10, 100), (11, 0), (12, 0), (13, 1), (14, u64::MAX)];
        for (i, &(subject, deadline)) in expected.iter().enumerate() {
            let got: Vec<_> = tasks.iter().filter(|t| t.user_data == p(i)).collect();
            assert_eq!(got.len(), 1, "item {i}");
            assert_eq!(
                (got[0].subject, got[0].deadline),
                (subject, deadline),
                "item {i}"
            );
            assert_ne!(got[0].id, 0);
        }
        assert!(tasks.iter().all(|t| t.user_data != p(5)));
        // Inside the callback: nothing left to drain, scheduling refused.
        assert_eq!(inner_drain, vec![(TARDY_OK, 0); 5]);
        assert_eq!(inner_schedule, vec![TARDY_ERR_STATE; 5]);

        // Drained: further drains find nothing, and NULL is then fine.
        count = 77;
        assert_eq!(tardy_drain(s.0, Some(drained), user, &mut count), TARDY_OK);
        assert_eq!(count, 0);
        assert_eq!(
            tardy_drain(s.0, None, ptr::null_mut(), &mut count),
            TARDY_OK
        );
        assert_eq!(
            tardy_drain(s.0, None, ptr::null_mut(), ptr::null_mut()),
            TARDY_OK
        );
        let d = Box::from_raw(d);
        assert!(d.tasks.is_empty(), "handed back twice");
    }
}

#[test]
#[cfg(feature = "capi")]
fn stopping_an_empty_scheduler_sets_nothing_aside() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    let mut count = 77;
    // SAFETY: a live scheduler.
    unsafe {
        assert_eq!(tardy_stop(s.0), TARDY_OK);
        assert_eq!(
            tardy_drain(s.0, None, ptr::null_mut(), &mut count),
            TARDY_OK
        );
        assert_eq!(count, 0);
    }
}

/// A scheduler pointer moved to a worker thread, as C hosts do.
#[cfg(feature = "capi")]
struct SendPtr(*mut tardy_scheduler);

// SAFETY: every tardy function may be called from any thread.
#[cfg(feature = "capi")]
unsafe impl Send for SendPtr {}

#[cfg(feature = "capi")]
impl SendPtr {
    fn get(&self) -> *mut tardy_scheduler {
        self.0
    }
}

#[test]
#[cfg(feature = "capi")]
fn background_thread_delivers_to_waiting_workers() {
    let tasks: u64 = if cfg!(miri) { 8 } else { 500 };
    let mut s = ptr::null_mut();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(tardy_new(None, ptr::null_mut(), &mut s), TARDY_OK);
        assert_eq!(tardy_add_queue(s, c!("q"), 0), TARDY_OK);
        assert_eq!(tardy_start(s), TARDY_OK);
    }
    let shared = SendPtr(s);
    let worker = std::thread::spawn(move || {
        let s = shared.get();
        let mut seen = Vec::new();
        let mut task = tardy_task::default();
        while (seen.len() as u64) < tasks {
            // SAFETY: the scheduler outlives this thread (joined before free).
            let st = unsafe { tardy_get_task(s, c!("q"), u64::MAX, &mut task) };
            assert_eq!(st, TARDY_OK);
            seen.push(task.subject);
        }
        seen
    });
    for i in 0..tasks {
        // SAFETY: a live scheduler.
        let st = unsafe {
            tardy_schedule_after(
                s,
                c!("q"),
                i,
                ptr::null_mut(),
                (i % 7) * 1000,
                ptr::null_mut(),
            )
        };
        assert_eq!(st, TARDY_OK);
    }
    let mut seen = worker.join().unwrap();
    seen.sort_unstable();
    assert_eq!(seen, (0..tasks).collect::<Vec<_>>());
    // SAFETY: no other thread uses it any more.
    unsafe { tardy_free(s) };
}

#[test]
#[cfg(feature = "capi")]
fn removing_a_queue_wakes_its_waiting_worker() {
    let mut s = ptr::null_mut();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(tardy_new(None, ptr::null_mut(), &mut s), TARDY_OK);
        assert_eq!(tardy_add_queue(s, c!("q"), 0), TARDY_OK);
    }
    let shared = SendPtr(s);
    let worker = std::thread::spawn(move || {
        let mut task = tardy_task::default();
        // Waits for ever unless the queue goes away (before or during the
        // wait: either way the answer is the same).
        // SAFETY: the scheduler outlives this thread (joined before free).
        unsafe { tardy_get_task(shared.get(), c!("q"), u64::MAX, &mut task) }
    });
    // SAFETY: a live scheduler.
    let removed = unsafe { tardy_remove_queue(s, c!("q"), None, ptr::null_mut()) };
    assert_eq!(removed, TARDY_OK);
    assert_eq!(worker.join().unwrap(), TARDY_ERR_NO_QUEUE);
    // SAFETY: no other thread uses it any more.
    unsafe { tardy_free(s) };
}

#[test]
#[cfg(feature = "capi")]
fn stop_wakes_waiting_workers_and_keeps_the_tasks_they_did_not_get() {
    let mut s = ptr::null_mut();
    let mut x = 0u8;
    let x = ptr::from_mut(&mut x).cast::<c_void>();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(tardy_new(None, ptr::null_mut(), &mut s), TARDY_OK);
        assert_eq!(tardy_add_queue(s, c!("q"), 0), TARDY_OK);
        assert_eq!(tardy_start(s), TARDY_OK);
        // An hour away: still scheduled at the stop.
        assert_eq!(
            tardy_schedule_after(s, c!("q"), 3, x, 3_600_000_000_000, ptr::null_mut()),
            TARDY_OK
        );
    }
    let shared = SendPtr(s);
    let worker = std::thread::spawn(move || {
        let mut task = tardy_task::default();
        // Waits for ever unless the scheduler stops (before or during the
        // wait: either way the answer is the same).
        // SAFETY: the scheduler outlives this thread (joined before free).
        unsafe { tardy_get_task(shared.get(), c!("q"), u64::MAX, &mut task) }
    });
    // SAFETY: a live scheduler.
    assert_eq!(unsafe { tardy_stop(s) }, TARDY_OK);
    assert_eq!(worker.join().unwrap(), TARDY_ERR_STATE);
    let d = Box::into_raw(Box::new(Drained {
        sched: s,
        tasks: Vec::new(),
        inner_drain: Vec::new(),
        inner_schedule: Vec::new(),
    }));
    let mut count = 0;
    // SAFETY: a live scheduler and collector; no other thread uses them.
    unsafe {
        assert_eq!(
            tardy_drain(s, Some(drained), d.cast(), &mut count),
            TARDY_OK
        );
        assert_eq!(count, 1);
        let got = &(*d).tasks;
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].subject, got[0].user_data), (3, x));
        drop(Box::from_raw(d));
        tardy_free(s);
    }
}

/// Bare metal: a queue's `max_size` 0 means the most a queue holds (the
/// threaded library's is unbounded: see
/// `the_default_scheduler_grows_and_queues_of_max_size_zero_are_unbounded`).
#[test]
#[cfg(not(feature = "capi"))]
#[cfg_attr(miri, ignore = "fills every slot: too slow under Miri")]
fn max_size_zero_means_as_large_as_the_store() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    // SAFETY (every call below): `s.0` is live, names are NUL-terminated,
    // out-pointers are NULL or valid.
    assert_eq!(unsafe { tardy_add_queue(s.0, c!("q"), 0) }, TARDY_OK);
    for i in 0..TARDY_MAX_QUEUE_SIZE {
        let status =
            unsafe { tardy_schedule_now(s.0, c!("q"), i as u64, ptr::null_mut(), ptr::null_mut()) };
        assert_eq!(status, TARDY_OK, "task {i}");
    }
    let mut id = 0;
    let status = unsafe { tardy_schedule_now(s.0, c!("q"), 0, ptr::null_mut(), &mut id) };
    assert_eq!(status, TARDY_ERR_QUEUE_FULL);
    assert_eq!(id, 0, "out-parameter untouched");
}

/// One row of the README's C "Bad input" table each: every size, length,
/// duration and count a C caller passes gets its documented answer.
#[test]
fn numbers_from_c_get_their_documented_answer() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    let mut task = tardy_task::default();
    let mut moved = 0;
    let long_name = [[b'n'; TARDY_MAX_NAME_LEN + 1].as_slice(), b"\0"].concat();
    // SAFETY: a live scheduler, NUL-terminated names, valid out-pointers.
    unsafe {
        // Queue names: 1 to TARDY_MAX_NAME_LEN bytes.
        assert_eq!(tardy_add_queue(s.0, c!(""), 1), TARDY_ERR_INVALID_ARG);
        assert_eq!(
            tardy_add_queue(s.0, long_name.as_ptr().cast(), 1),
            TARDY_ERR_INVALID_ARG
        );
        // max_size: 0 (the most) to TARDY_MAX_QUEUE_SIZE.
        assert_eq!(
            tardy_add_queue(s.0, c!("q"), usize::MAX),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(
            tardy_add_queue(s.0, c!("q"), TARDY_MAX_QUEUE_SIZE + 1),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        // Queues: at most TARDY_MAX_QUEUES.
        for i in 1..TARDY_MAX_QUEUES {
            let name = format!("q{i}\0");
            assert_eq!(tardy_add_queue(s.0, name.as_ptr().cast(), 1), TARDY_OK);
        }
        assert_eq!(tardy_add_queue(s.0, c!("one-more"), 1), TARDY_ERR_CAPACITY);
        // Delays and deadlines: any value; a delay saturates at UINT64_MAX,
        // which is due only for tardy_run_all.
        clock.store(10, Ordering::SeqCst);
        assert_eq!(
            tardy_schedule_after(s.0, c!("q"), 1, ptr::null_mut(), u64::MAX, ptr::null_mut()),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_at(s.0, c!("q"), 1, ptr::null_mut(), 0, ptr::null_mut()),
            TARDY_OK
        );
        let mut next = 0;
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, 0);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 1);
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, u64::MAX);
        // Task ids: 0 and ids never handed out name no task.
        assert_eq!(tardy_reschedule_at(s.0, 0, 1), TARDY_ERR_NOT_SCHEDULED);
        assert_eq!(
            tardy_cancel(s.0, u64::MAX, ptr::null_mut()),
            TARDY_ERR_NOT_SCHEDULED
        );
        // timeout_ms: 0 takes without waiting (bare metal: only 0).
        assert_eq!(tardy_get_task(s.0, c!("q"), 0, &mut task), TARDY_OK);
        assert_eq!(tardy_get_task(s.0, c!("q"), 0, &mut task), TARDY_ERR_EMPTY);
        #[cfg(not(feature = "capi"))]
        assert_eq!(
            tardy_get_task(s.0, c!("q"), 1, &mut task),
            TARDY_ERR_INVALID_ARG
        );
        #[cfg(feature = "capi")]
        assert_eq!(tardy_get_task(s.0, c!("q"), 1, &mut task), TARDY_ERR_EMPTY);
        // tardy_task_done: at most once per task taken.
        assert_eq!(tardy_task_done(s.0, c!("q")), TARDY_OK);
        assert_eq!(tardy_task_done(s.0, c!("q")), TARDY_ERR_INVALID_ARG);
    }
}

/// The tick length of `tardy_new_with_tick`: not 0, and with the built-in
/// nanosecond clock only 1 (a millisecond tick there made a 10 ms task
/// wait hours).
#[test]
#[cfg(feature = "capi")]
fn a_tick_length_that_contradicts_the_clock_is_refused() {
    let mut s = ptr::null_mut();
    // SAFETY: valid out-pointer; the clock is a static.
    unsafe {
        for (clock, tick) in [
            (None, 0),
            (None, 1_000_000),
            (None, u64::MAX),
            (
                Some(sim_clock as unsafe extern "C" fn(*mut c_void) -> u64),
                0,
            ),
        ] {
            assert_eq!(
                tardy_new_with_tick(clock, ptr::null_mut(), tick, &mut s),
                TARDY_ERR_INVALID_ARG,
                "tick {tick}"
            );
            assert!(s.is_null());
        }
        static CLOCK: AtomicU64 = AtomicU64::new(0);
        let user = ptr::from_ref(&CLOCK).cast_mut().cast();
        for tick in [1, 1_000_000, u64::MAX] {
            assert_eq!(
                tardy_new_with_tick(Some(sim_clock), user, tick, &mut s),
                TARDY_OK
            );
            tardy_free(s);
        }
        assert_eq!(
            tardy_new_with_tick(None, ptr::null_mut(), 1, &mut s),
            TARDY_OK
        );
        tardy_free(s);
    }
}

/// `tardy_schedule_at_unix_ns`: a wall-clock time is mapped to the built-in
/// clock when scheduled (an hour ahead is an hour of ticks ahead, the
/// epoch is due at once, the largest value never), errors leave `out_id`
/// untouched, and a scheduler on a host clock refuses it.
#[test]
#[cfg(feature = "capi")]
fn wall_clock_deadlines_map_to_the_built_in_clock() {
    const NS_PER_MIN: u64 = 60_000_000_000;
    let unix_now = || {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the wall clock is after 1970");
        u64::try_from(since.as_nanos()).expect("before 2554")
    };
    let mut s = ptr::null_mut();
    let (mut id, mut later, mut never) = (0, 0, 0);
    let (mut now, mut deadline, mut moved) = (0u64, 0u64, 0usize);
    let mut task = tardy_task::default();
    // SAFETY: valid out-pointers, NUL-terminated names, a live scheduler
    // until `tardy_free`.
    unsafe {
        assert_eq!(tardy_new(None, ptr::null_mut(), &mut s), TARDY_OK);
        assert_eq!(tardy_add_queue(s, c!("q"), 0), TARDY_OK);

        // An hour ahead of the wall clock: about an hour of ticks ahead.
        let hour = unix_now() + 60 * NS_PER_MIN;
        assert_eq!(
            tardy_schedule_at_unix_ns(s, c!("q"), 1, ptr::null_mut(), hour, &mut later),
            TARDY_OK
        );
        assert_eq!(tardy_now(s, &mut now), TARDY_OK);
        assert_eq!(tardy_next_deadline(s, &mut deadline), TARDY_OK);
        assert!(
            deadline > now + 59 * NS_PER_MIN && deadline < now + 61 * NS_PER_MIN,
            "an hour ahead became {} ns ahead",
            deadline - now
        );
        // The largest value: accepted, never due but for tardy_run_all.
        assert_eq!(
            tardy_schedule_at_unix_ns(s, c!("q"), 3, ptr::null_mut(), u64::MAX, &mut never),
            TARDY_OK
        );
        // The epoch: in the past, due at once, delivered by run_pending.
        assert_eq!(
            tardy_schedule_at_unix_ns(s, c!("q"), 2, ptr::null_mut(), 0, &mut id),
            TARDY_OK
        );
        assert!(id != 0 && id != later && id != never);
        assert_eq!(tardy_run_pending(s, &mut moved), TARDY_OK);
        assert_eq!(moved, 1);
        assert_eq!(tardy_get_task(s, c!("q"), 0, &mut task), TARDY_OK);
        assert_eq!((task.id, task.subject), (id, 2));
        assert_eq!(tardy_next_deadline(s, &mut deadline), TARDY_OK);
        assert!(deadline < u64::MAX, "the hour-ahead task comes first");
        assert_eq!(tardy_run_all(s, &mut moved), TARDY_OK);
        assert_eq!(moved, 2);

        // Bad input: a named error, `out_id` untouched, nothing scheduled.
        id = 7;
        for (queue, status) in [
            (ptr::null(), TARDY_ERR_NULL),
            (c!(""), TARDY_ERR_INVALID_ARG),
            (c!("none"), TARDY_ERR_NO_QUEUE),
        ] {
            assert_eq!(
                tardy_schedule_at_unix_ns(s, queue, 4, ptr::null_mut(), 0, &mut id),
                status
            );
        }
        assert_eq!(
            tardy_schedule_at_unix_ns(ptr::null_mut(), c!("q"), 4, ptr::null_mut(), 0, &mut id),
            TARDY_ERR_NULL
        );
        assert_eq!(id, 7);
        assert_eq!(tardy_next_deadline(s, &mut deadline), TARDY_ERR_EMPTY);
        tardy_free(s);
    }

    // A host clock's ticks have no known relation to the wall clock.
    let clock = AtomicU64::new(5);
    let host = Sched::new(&clock);
    // SAFETY: a live scheduler, a NUL-terminated name, valid out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(host.0, c!("q"), 0), TARDY_OK);
        for at in [0, unix_now(), u64::MAX] {
            assert_eq!(
                tardy_schedule_at_unix_ns(host.0, c!("q"), 1, ptr::null_mut(), at, &mut id),
                TARDY_ERR_INVALID_ARG
            );
        }
        assert_eq!(id, 7);
        assert_eq!(tardy_next_deadline(host.0, &mut deadline), TARDY_ERR_EMPTY);
    }
}

#[cfg(not(feature = "capi"))]
#[test]
fn caller_storage_is_checked() {
    let storage = Storage::new();
    let mut s = ptr::null_mut();
    let clock = AtomicU64::new(0);
    let user = ptr::from_ref(&clock).cast_mut().cast();
    let len = storage.1.size();
    // SAFETY: `storage` is writable for `len` bytes; `s` is valid.
    unsafe {
        assert_eq!(
            tardy_init(storage.0.cast(), len - 1, Some(sim_clock), user, &mut s),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(
            tardy_init(
                storage.0.add(1).cast(),
                len - 1,
                Some(sim_clock),
                user,
                &mut s
            ),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(
            tardy_init(storage.0.cast(), len, None, user, &mut s),
            TARDY_ERR_NULL
        );
        assert!(s.is_null());
        assert_eq!(
            tardy_init(storage.0.cast(), len, Some(sim_clock), user, &mut s),
            TARDY_OK
        );
        tardy_free(s);
    }
}

/// One link of a chain of schedulers whose clocks call the next one's
/// `tardy_now`; the last calls back into `target`, an earlier link.
struct Link {
    /// The scheduler this clock belongs to.
    own: *mut tardy_scheduler,
    /// The scheduler whose `tardy_now` this clock calls (NULL: none).
    next: *mut tardy_scheduler,
    /// What the call answered, the first time.
    answer: Option<tardy_status>,
    /// Whether the clock is being read from inside itself (never).
    running: bool,
}

unsafe extern "C" fn link_clock(user: *mut c_void) -> u64 {
    // SAFETY: the test passes a live Link, read through this pointer only
    // while this clock runs (nothing else reads it meanwhile).
    let link = unsafe { &mut *user.cast::<Link>() };
    assert!(!link.running, "a clock was entered twice");
    if !link.next.is_null() && link.answer.is_none() {
        link.running = true;
        let mut now = 0;
        // SAFETY: a live scheduler and a valid out-pointer.
        let status = unsafe { tardy_now(link.next, &mut now) };
        // SAFETY: as above; the inner call has returned.
        let link = unsafe { &mut *user.cast::<Link>() };
        link.running = false;
        link.answer = Some(status);
    }
    7
}

/// A ring of `n` schedulers, each clock calling the next; the last calls
/// the first. Reading the first clock goes round the ring once: every call
/// succeeds but the one that closes the ring, which is refused with
/// `TARDY_ERR_INVALID_ARG` instead of waiting for a lock (or critical
/// section) this thread holds.
fn clock_ring(n: usize) {
    let links: Vec<*mut Link> = (0..n)
        .map(|_| {
            Box::into_raw(Box::new(Link {
                own: ptr::null_mut(),
                next: ptr::null_mut(),
                answer: None,
                running: false,
            }))
        })
        .collect();
    // SAFETY: the links outlive the schedulers (freed after them).
    let scheds: Vec<Sched> = links
        .iter()
        .map(|&l| unsafe { Sched::on(link_clock, l.cast()) })
        .collect();
    // SAFETY: the links are only used through these pointers, and no clock
    // runs while they are set up or read here.
    unsafe {
        for (i, &l) in links.iter().enumerate() {
            (*l).own = scheds[i].0;
            (*l).next = scheds[(i + 1) % n].0;
        }
        let mut now = 0;
        assert_eq!(tardy_now(scheds[0].0, &mut now), TARDY_OK);
        assert_eq!(now, 7);
        for (i, &l) in links.iter().enumerate() {
            let want = if i == n - 1 {
                TARDY_ERR_INVALID_ARG
            } else {
                TARDY_OK
            };
            assert_eq!((*l).answer, Some(want), "ring of {n}, link {i}");
            (*l).next = ptr::null_mut();
        }
        // Refused, not broken: every scheduler still answers.
        for s in &scheds {
            assert_eq!(tardy_add_queue(s.0, c!("alive"), 0), TARDY_OK);
            assert_eq!(tardy_now(s.0, &mut now), TARDY_OK);
        }
    }
    drop(scheds);
    for l in links {
        // SAFETY: from Box::into_raw above, freed once, after the schedulers.
        drop(unsafe { Box::from_raw(l) });
    }
}

#[test]
fn a_clock_calling_its_own_scheduler_is_refused() {
    clock_ring(1);
}

#[test]
fn clocks_calling_each_other_in_a_ring_are_refused_not_deadlocked() {
    clock_ring(2); // A -> B -> A
    clock_ring(3); // A -> B -> C -> A
    clock_ring(5);
}

/// A ring that closes on a middle link: A -> B -> C -> B. The call into B
/// from C's clock is refused; A's call into B succeeds.
#[test]
fn a_ring_closing_on_a_middle_scheduler_is_refused() {
    let links: Vec<*mut Link> = (0..3)
        .map(|_| {
            Box::into_raw(Box::new(Link {
                own: ptr::null_mut(),
                next: ptr::null_mut(),
                answer: None,
                running: false,
            }))
        })
        .collect();
    // SAFETY: the links outlive the schedulers.
    let scheds: Vec<Sched> = links
        .iter()
        .map(|&l| unsafe { Sched::on(link_clock, l.cast()) })
        .collect();
    // SAFETY: as in `clock_ring`.
    unsafe {
        let (a, b, c) = (links[0], links[1], links[2]);
        (*a).next = scheds[1].0;
        (*b).next = scheds[2].0;
        (*c).next = scheds[1].0;
        let mut now = 0;
        assert_eq!(tardy_now(scheds[0].0, &mut now), TARDY_OK);
        assert_eq!((*a).answer, Some(TARDY_OK));
        assert_eq!((*b).answer, Some(TARDY_OK));
        assert_eq!((*c).answer, Some(TARDY_ERR_INVALID_ARG));
    }
    drop(scheds);
    for l in links {
        // SAFETY: from Box::into_raw above, freed once.
        drop(unsafe { Box::from_raw(l) });
    }
}

/// Pushes every handed-back task into the `Vec<tardy_task>` at `user`.
unsafe extern "C" fn gather(user: *mut c_void, task: *const tardy_task) {
    // SAFETY: the tests pass a live Vec; `task` is valid for the call.
    unsafe { (*user.cast::<Vec<tardy_task>>()).push(*task) };
}

/// `TARDY_MISSED_TICK_BEHAVIOR_*` as the `int` C passes.
fn policy(p: tardy_missed_tick_behavior) -> tardy_missed_tick_behavior_value {
    p as tardy_missed_tick_behavior_value
}

/// Takes every task in `queue`: (deadline, period_index, missed) of each,
/// checking that each is an occurrence of the periodic task `periodic_id`
/// (its own id, the subject and the shared `user_data`).
///
/// # Safety
///
/// `s` is a live scheduler.
unsafe fn take_occurrences(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    periodic_id: tardy_task_id,
    user_data: *mut c_void,
) -> Vec<(u64, u64, u64)> {
    let mut got = Vec::new();
    let mut task = tardy_task::default();
    // SAFETY: live scheduler (caller's promise), valid out-pointer.
    while unsafe { tardy_get_task(s, queue, 0, &mut task) } == TARDY_OK {
        assert_eq!(task.periodic, 1);
        assert_eq!((task.subject, task.user_data), (9, user_data));
        assert!(task.id != 0 && task.id != periodic_id);
        // SAFETY: as above.
        assert_eq!(unsafe { tardy_task_done(s, queue) }, TARDY_OK);
        // An occurrence's own id names no scheduled task.
        // SAFETY: as above.
        assert_eq!(
            unsafe { tardy_cancel(s, task.id, ptr::null_mut()) },
            TARDY_ERR_NOT_SCHEDULED
        );
        got.push((task.deadline, task.period_index, task.missed));
    }
    got
}

/// Each policy against the timeline of `tardy_missed_tick_behavior`'s doc:
/// period 10, first deadline 0, delivered on time at 0 and 10, then the
/// host does not call `tardy_run_pending` until 35.
#[test]
fn periodic_tasks_follow_the_timeline_of_their_policy() {
    use tardy_missed_tick_behavior::*;
    // (policy, [(time, occurrences delivered then as (deadline, index,
    // missed))], the next deadline after 35).
    type Step = (u64, &'static [(u64, u64, u64)]);
    let cases: [(tardy_missed_tick_behavior, [Step; 5], u64); 3] = [
        (
            TARDY_MISSED_TICK_BEHAVIOR_BURST,
            [
                (0, &[(0, 0, 0)]),
                (10, &[(10, 1, 0)]),
                (35, &[(20, 2, 0), (30, 3, 0)]),
                (40, &[(40, 4, 0)]),
                (50, &[(50, 5, 0)]),
            ],
            40,
        ),
        (
            TARDY_MISSED_TICK_BEHAVIOR_SKIP,
            [
                (0, &[(0, 0, 0)]),
                (10, &[(10, 1, 0)]),
                (35, &[(20, 2, 1)]),
                (40, &[(40, 4, 0)]),
                (50, &[(50, 5, 0)]),
            ],
            40,
        ),
        (
            TARDY_MISSED_TICK_BEHAVIOR_DELAY,
            [
                (0, &[(0, 0, 0)]),
                (10, &[(10, 1, 0)]),
                (35, &[(20, 2, 1)]),
                (45, &[(45, 4, 0)]),
                (55, &[(55, 5, 0)]),
            ],
            45,
        ),
    ];
    let mut shared = 0u8;
    let user_data = (&raw mut shared).cast::<c_void>();
    for (missed, steps, next_after_35) in cases {
        let clock = AtomicU64::new(0);
        let s = Sched::new(&clock);
        let mut id = 0;
        let mut moved = 0usize;
        let mut next = 0u64;
        // SAFETY: a live scheduler, valid names and out-pointers.
        unsafe {
            assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
            assert_eq!(
                tardy_schedule_periodic_after(
                    s.0,
                    c!("q"),
                    9,
                    user_data,
                    0,
                    10,
                    policy(missed),
                    &mut id
                ),
                TARDY_OK
            );
            assert_ne!(id, 0);
            for (time, want) in steps {
                clock.store(time, Ordering::SeqCst);
                assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
                assert_eq!(moved, want.len(), "{missed:?} at {time}");
                assert_eq!(
                    take_occurrences(s.0, c!("q"), id, user_data),
                    want,
                    "{missed:?} at {time}"
                );
                // Nothing more is due: the next deadline lies ahead.
                assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
                assert!(next > time, "{missed:?} at {time}: next {next}");
                if time == 35 {
                    assert_eq!(next, next_after_35, "{missed:?}");
                }
            }
            // The periodic task stays scheduled until cancelled, and is
            // handed back once, as itself.
            let mut back = ptr::null_mut();
            assert_eq!(tardy_cancel(s.0, id, &mut back), TARDY_OK);
            assert_eq!(back, user_data);
            assert_eq!(tardy_cancel(s.0, id, &mut back), TARDY_ERR_NOT_SCHEDULED);
            assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_ERR_EMPTY);
            clock.store(1_000, Ordering::SeqCst);
            assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
            assert_eq!(moved, 0);
        }
    }
}

/// A full queue holds the next occurrence back; the periods that pass
/// meanwhile are counted when it enters (here under SKIP, with a grid set
/// by `tardy_schedule_periodic_at`).
#[test]
fn a_full_queue_coalesces_periods_under_skip_and_reschedule_moves_the_grid() {
    let clock = AtomicU64::new(5);
    let s = Sched::new(&clock);
    let mut shared = 0u8;
    let user_data = (&raw mut shared).cast::<c_void>();
    let (mut id, mut moved, mut next) = (0, 0usize, 0u64);
    let skip = policy(tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_SKIP);
    // SAFETY: a live scheduler, valid names and out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("one"), 1), TARDY_OK);
        assert_eq!(
            tardy_schedule_periodic_at(s.0, c!("one"), 9, user_data, 10, 10, skip, &mut id),
            TARDY_OK
        );
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, 10);
        clock.store(10, Ordering::SeqCst);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 1); // #0 fills the queue
        for t in [20, 30] {
            clock.store(t, Ordering::SeqCst);
            assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
            assert_eq!(moved, 0); // #1 waits for room
        }
        clock.store(35, Ordering::SeqCst);
        // Taking #0 makes room: #1 enters, standing for period 2 as well.
        let mut task = tardy_task::default();
        assert_eq!(tardy_get_task(s.0, c!("one"), 0, &mut task), TARDY_OK);
        assert_eq!((task.deadline, task.period_index, task.missed), (10, 0, 0));
        assert_eq!(tardy_task_done(s.0, c!("one")), TARDY_OK);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(
            take_occurrences(s.0, c!("one"), id, user_data),
            [(20, 1, 1)]
        );
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, 40); // on the grid 10 + k * 10
                              // Moving the next deadline (period 3) moves the periods after it.
        assert_eq!(tardy_reschedule_at(s.0, id, 43), TARDY_OK);
        for (t, want) in [(40, None), (43, Some((43, 3, 0))), (53, Some((53, 4, 0)))] {
            clock.store(t, Ordering::SeqCst);
            assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
            assert_eq!(
                take_occurrences(s.0, c!("one"), id, user_data),
                Vec::from_iter(want)
            );
        }
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, 63);
    }
}

/// `user_data` of a periodic task comes back once, in a record with
/// `periodic` 0 and the periodic task's id, through every hand-back path;
/// queued occurrences handed over with it have `periodic` 1.
#[test]
fn a_periodic_task_is_handed_back_once_by_cancel_subject_and_remove_queue() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    let mut items = [0u8; 2];
    let (p0, p1) = (
        items.as_mut_ptr().cast::<c_void>(),
        items.as_mut_ptr().wrapping_add(1).cast::<c_void>(),
    );
    let burst = policy(tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_BURST);
    let (mut a, mut b, mut count, mut moved) = (0, 0, 0usize, 0usize);
    let mut got: Vec<tardy_task> = Vec::new();
    let user = (&raw mut got).cast::<c_void>();
    // SAFETY: a live scheduler, valid names, out-pointers and callback.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("a"), 0), TARDY_OK);
        assert_eq!(tardy_add_queue(s.0, c!("b"), 0), TARDY_OK);
        assert_eq!(
            tardy_schedule_periodic_after(s.0, c!("a"), 1, p0, 0, 5, burst, &mut a),
            TARDY_OK
        );
        assert_eq!(
            tardy_schedule_periodic_after(s.0, c!("b"), 2, p1, 0, 5, burst, &mut b),
            TARDY_OK
        );
        clock.store(5, Ordering::SeqCst);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 4); // #0 and #1 of each, left in their queues

        // By subject: the periodic task itself, once; its occurrences stay
        // in the queue.
        assert_eq!(
            tardy_cancel_subject(s.0, 1, Some(gather), user, &mut count),
            TARDY_OK
        );
        assert_eq!(count, 1);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].id, got[0].user_data), (a, p0));
        assert_eq!((got[0].periodic, got[0].deadline), (0, 10));
        assert_eq!(
            tardy_cancel_subject(s.0, 1, Some(gather), user, &mut count),
            TARDY_OK
        );
        assert_eq!(count, 0);
        assert_eq!(
            tardy_cancel(s.0, a, ptr::null_mut()),
            TARDY_ERR_NOT_SCHEDULED
        );
        assert_eq!(take_occurrences_of(s.0, c!("a")), [(p0, 0), (p0, 1)]);

        // With its queue: the periodic task once (periodic 0), and the
        // occurrences waiting there (periodic 1).
        got.clear();
        assert_eq!(
            tardy_remove_queue(s.0, c!("b"), Some(gather), user),
            TARDY_OK
        );
        let originals: Vec<_> = got.iter().filter(|t| t.periodic == 0).collect();
        assert_eq!(originals.len(), 1);
        assert_eq!((originals[0].id, originals[0].user_data), (b, p1));
        let mut occurrences: Vec<_> = got
            .iter()
            .filter(|t| t.periodic == 1)
            .map(|t| (t.user_data, t.period_index))
            .collect();
        occurrences.sort_unstable();
        assert_eq!(occurrences, [(p1, 0), (p1, 1)]);
        assert_eq!(got.len(), 3);
        assert_eq!(
            tardy_cancel(s.0, b, ptr::null_mut()),
            TARDY_ERR_NOT_SCHEDULED
        );
        assert_eq!(tardy_next_deadline(s.0, &mut 0), TARDY_ERR_EMPTY);
    }
}

/// Takes every task of `queue`: (user_data, period_index) of each.
///
/// # Safety
///
/// `s` is a live scheduler.
unsafe fn take_occurrences_of(
    s: *mut tardy_scheduler,
    queue: *const c_char,
) -> Vec<(*mut c_void, u64)> {
    let mut got = Vec::new();
    let mut task = tardy_task::default();
    // SAFETY: live scheduler (caller's promise), valid out-pointer.
    while unsafe { tardy_get_task(s, queue, 0, &mut task) } == TARDY_OK {
        assert_eq!(task.periodic, 1);
        got.push((task.user_data, task.period_index));
    }
    got
}

#[test]
#[cfg(feature = "capi")]
fn stop_and_drain_hand_a_periodic_task_back_once() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    let mut item = 0u8;
    let p = (&raw mut item).cast::<c_void>();
    let skip = policy(tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_SKIP);
    let (mut id, mut count, mut moved) = (0, 0usize, 0usize);
    let mut got: Vec<tardy_task> = Vec::new();
    let user = (&raw mut got).cast::<c_void>();
    // SAFETY: a live scheduler, valid names, out-pointers and callback.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        assert_eq!(
            tardy_schedule_periodic_at(s.0, c!("q"), 3, p, 0, 7, skip, &mut id),
            TARDY_OK
        );
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 1);
        assert_eq!(tardy_stop(s.0), TARDY_OK);
        assert_eq!(tardy_drain(s.0, Some(gather), user, &mut count), TARDY_OK);
        assert_eq!(count, 2);
        let mut records: Vec<_> = got
            .iter()
            .map(|t| (t.periodic, t.id == id, t.user_data, t.deadline))
            .collect();
        records.sort_unstable();
        // The queued occurrence #0, then the periodic task (next deadline 7).
        assert_eq!(records, [(0, true, p, 7), (1, false, p, 0)]);
        assert_eq!(tardy_drain(s.0, Some(gather), user, &mut count), TARDY_OK);
        assert_eq!(count, 0);
    }
}

/// A policy C passes may be any `int`, a period any `uint64_t`: values out
/// of range are `TARDY_ERR_INVALID_ARG`, nothing is scheduled, `out_id` is
/// left alone; NULL pointers are `TARDY_ERR_NULL`.
#[test]
fn bad_periodic_arguments_get_their_named_error() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    let skip = policy(tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_SKIP);
    let mut id: tardy_task_id = 77;
    let mut next = 0u64;
    // SAFETY: live or NULL schedulers, valid or NULL names and out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        for bad in [3, -1, i32::MIN, i32::MAX] {
            assert_eq!(
                tardy_schedule_periodic_after(
                    s.0,
                    c!("q"),
                    1,
                    ptr::null_mut(),
                    0,
                    10,
                    bad,
                    &mut id
                ),
                TARDY_ERR_INVALID_ARG
            );
            assert_eq!(
                tardy_schedule_periodic_at(s.0, c!("q"), 1, ptr::null_mut(), 0, 10, bad, &mut id),
                TARDY_ERR_INVALID_ARG
            );
        }
        assert_eq!(
            tardy_schedule_periodic_after(s.0, c!("q"), 1, ptr::null_mut(), 0, 0, skip, &mut id),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(
            tardy_schedule_periodic_at(s.0, c!("q"), 1, ptr::null_mut(), 5, 0, skip, &mut id),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(
            tardy_schedule_periodic_at(s.0, c!("none"), 1, ptr::null_mut(), 5, 1, skip, &mut id),
            TARDY_ERR_NO_QUEUE
        );
        assert_eq!(
            tardy_schedule_periodic_at(s.0, ptr::null(), 1, ptr::null_mut(), 5, 1, skip, &mut id),
            TARDY_ERR_NULL
        );
        assert_eq!(
            tardy_schedule_periodic_after(
                ptr::null_mut(),
                c!("q"),
                1,
                ptr::null_mut(),
                5,
                1,
                skip,
                &mut id
            ),
            TARDY_ERR_NULL
        );
        let mut buf = [0u64; 2];
        let odd = buf.as_mut_ptr().cast::<u8>().wrapping_add(1).cast::<u64>();
        assert_eq!(
            tardy_schedule_periodic_after(s.0, c!("q"), 1, ptr::null_mut(), 5, 1, skip, odd),
            TARDY_ERR_INVALID_ARG
        );
        assert_eq!(buf, [0, 0]);
        assert_eq!(id, 77);
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_ERR_EMPTY);
        // A period of UINT64_MAX: one occurrence, then never again.
        assert_eq!(
            tardy_schedule_periodic_after(
                s.0,
                c!("q"),
                1,
                ptr::null_mut(),
                0,
                u64::MAX,
                skip,
                ptr::null_mut()
            ),
            TARDY_OK
        );
        let mut moved = 0usize;
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 1);
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, u64::MAX);
    }
}

/// At the end of time the deadlines of a periodic task saturate at
/// `UINT64_MAX`: each call delivers one occurrence and returns (no call
/// loops for ever on a task that stays due).
#[test]
fn a_periodic_task_at_the_end_of_time_delivers_one_occurrence_per_call() {
    let clock = AtomicU64::new(u64::MAX - 5);
    let s = Sched::new(&clock);
    let skip = policy(tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_SKIP);
    let (mut moved, mut id) = (0usize, 0);
    // SAFETY: a live scheduler, valid names and out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        assert_eq!(
            tardy_schedule_periodic_after(s.0, c!("q"), 9, ptr::null_mut(), 0, 2, skip, &mut id),
            TARDY_OK
        );
        clock.store(u64::MAX, Ordering::SeqCst);
        for want in [(u64::MAX - 5, 0, 2), (u64::MAX, 3, 0), (u64::MAX, 4, 0)] {
            assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
            assert_eq!(moved, 1);
            assert_eq!(take_occurrences(s.0, c!("q"), id, ptr::null_mut()), [want]);
        }
        assert_eq!(tardy_run_all(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 1);
        assert_eq!(tardy_cancel(s.0, id, ptr::null_mut()), TARDY_OK);
    }
}

/// Tasks due at `UINT64_MAX` when the clock reads it are all delivered by
/// one `tardy_run_pending`, however many (one-shot tasks as before periodic
/// tasks came, which a "`UINT64_MAX` is never" guard must not hold back).
#[test]
fn every_task_due_at_the_end_of_time_is_delivered_by_one_call() {
    let clock = AtomicU64::new(u64::MAX);
    let s = Sched::new(&clock);
    let (mut moved, mut next) = (0usize, 0u64);
    // SAFETY: a live scheduler, valid names and out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        for subject in 0..12 {
            assert_eq!(
                tardy_schedule_at(
                    s.0,
                    c!("q"),
                    subject,
                    ptr::null_mut(),
                    u64::MAX,
                    ptr::null_mut()
                ),
                TARDY_OK
            );
        }
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 12);
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_ERR_EMPTY);
    }
}

/// `tardy_run_all` delivers every task scheduled when it is called,
/// whatever its deadline, and one occurrence of each periodic task, which
/// stays scheduled at its deadline.
#[test]
fn run_all_delivers_every_one_shot_task_and_one_occurrence_of_a_periodic_task() {
    let clock = AtomicU64::new(0);
    let s = Sched::new(&clock);
    let burst = policy(tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_BURST);
    let (mut moved, mut next, mut id) = (0usize, 0u64, 0);
    let mut task = tardy_task::default();
    // SAFETY: a live scheduler, valid names and out-pointers.
    unsafe {
        assert_eq!(tardy_add_queue(s.0, c!("q"), 0), TARDY_OK);
        assert_eq!(
            tardy_schedule_periodic_at(s.0, c!("q"), 9, ptr::null_mut(), 10, 10, burst, &mut id),
            TARDY_OK
        );
        for (subject, at) in [(1, 15), (2, 25), (3, u64::MAX)] {
            assert_eq!(
                tardy_schedule_at(s.0, c!("q"), subject, ptr::null_mut(), at, ptr::null_mut()),
                TARDY_OK
            );
        }
        assert_eq!(tardy_run_all(s.0, &mut moved), TARDY_OK);
        assert_eq!(moved, 4);
        let mut got = Vec::new();
        while tardy_get_task(s.0, c!("q"), 0, &mut task) == TARDY_OK {
            got.push((task.subject, task.deadline, task.periodic));
        }
        assert_eq!(got, [(9, 10, 1), (1, 15, 0), (2, 25, 0), (3, u64::MAX, 0)]);
        // The periodic task goes on from its next deadline.
        assert_eq!(tardy_next_deadline(s.0, &mut next), TARDY_OK);
        assert_eq!(next, 20);
        clock.store(20, Ordering::SeqCst);
        assert_eq!(tardy_run_pending(s.0, &mut moved), TARDY_OK);
        assert_eq!(
            take_occurrences(s.0, c!("q"), id, ptr::null_mut()),
            [(20, 1, 0)]
        );
    }
}
