//! Random sequences of calls to the exported C functions, as a C host would
//! make them (bad names, NULL pointers, stale and random ids, edge times
//! included), checked against a model after every call.
//!
//! Each task's `user_data` is its number (as a pointer). The model knows
//! where every number is and checks that every status is one the call may
//! return, that no number comes out twice (delivered by `tardy_get_task` or
//! handed back by cancel, cancel-by-subject or queue removal), that nothing
//! is delivered before `tardy_run_pending` saw its deadline pass (or
//! `tardy_run_all` forced it), and that `tardy_next_deadline` agrees. At the
//! end everything is taken out, by `tardy_run_all` and `tardy_get_task` or
//! (when op 15 came an odd number of times, threaded library only) by
//! `tardy_stop` and `tardy_drain`, and every number is accounted for
//! exactly once.
//!
//! It drives either C library: `--features capi` (threaded) or
//! `--no-default-features --features capi-baremetal` (bare metal, built for
//! the host), the same exports over the other backend.

#![no_main]

#[cfg(not(any(feature = "capi", feature = "capi-baremetal")))]
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {
    panic!(
        "build c_api_ops with --features capi or --no-default-features --features capi-baremetal"
    )
});
#[cfg(any(feature = "capi", feature = "capi-baremetal"))]
mod ops {

    use std::ffi::{c_char, c_void};
    use std::ptr;
    use std::sync::atomic::{AtomicU64, Ordering};

    use libfuzzer_sys::fuzz_target;
    use tardy::ffi::tardy_status::*;
    use tardy::ffi::*;

    /// Queue names by index: valid ones, and invalid ones (empty, too long, not
    /// UTF-8); index 7 stands for NULL.
    const NAMES: [&[u8]; 7] = [
        b"q0\0",
        b"q1\0",
        b"q2\0",
        b"\0",
        b"a-queue-name-that-is-much-longer-than-31-bytes\0",
        b"\xff\xfe\0",
        b"0123456789012345678901234567890\0", // exactly 31 bytes: valid
    ];
    const VALID: [bool; 7] = [true, true, true, false, false, false, true];

    fn name_ptr(i: usize) -> *const c_char {
        match NAMES.get(i) {
            Some(n) => n.as_ptr().cast(),
            None => ptr::null(),
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum State {
        In {
            queue: usize,
            deadline: u64,
            released: bool,
        },
        Out,
    }

    struct Input<'a>(&'a [u8]);

    impl Input<'_> {
        fn byte(&mut self) -> Option<u8> {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            Some(b)
        }
        fn u64(&mut self) -> Option<u64> {
            let mut v = 0u64;
            for _ in 0..8 {
                v = (v << 8) | u64::from(self.byte()?);
            }
            Some(v)
        }
        fn time(&mut self, now: u64) -> Option<u64> {
            let b = self.byte()?;
            let small = u64::from(b >> 3);
            Some(match b & 7 {
                0 => u64::MAX,
                1 => 0,
                2 => now.saturating_sub(small),
                7 => self.u64()?,
                _ => now.saturating_add(small),
            })
        }
    }

    unsafe extern "C" fn clock_fn(user: *mut c_void) -> u64 {
        // SAFETY: the user pointer is the model's clock, alive while the
        // scheduler is.
        unsafe { &*user.cast::<AtomicU64>() }.load(Ordering::SeqCst)
    }

    /// Collects handed-back tasks into the `Vec<tardy_task>` given as `user`.
    unsafe extern "C" fn collect(user: *mut c_void, task: *const tardy_task) {
        // SAFETY: `user` is a live `Vec<tardy_task>` for the call that passed
        // it, and `task` is valid for this call.
        unsafe { (*user.cast::<Vec<tardy_task>>()).push(*task) };
    }

    struct Model {
        clock: Box<AtomicU64>,
        s: *mut tardy_scheduler,
        /// Number `n` (user_data `n + 1`) and its id.
        numbers: Vec<(State, u64, u64)>, // (state, id, subject)
        live: [bool; 7],
        taken: [u64; 7],
        done: [u64; 7],
        ids: Vec<u64>,
        /// End with `tardy_stop` and `tardy_drain` rather than by delivering.
        stop_at_end: bool,
    }

    fn number_of(task: &tardy_task) -> usize {
        (task.user_data as usize) - 1
    }

    impl Model {
        fn new() -> Self {
            let clock = Box::new(AtomicU64::new(1_000));
            let mut s = ptr::null_mut();
            let user = ptr::from_ref::<AtomicU64>(&clock).cast_mut().cast();
            // SAFETY: valid out-pointer; the clock outlives the scheduler.
            assert_eq!(unsafe { tardy_new(Some(clock_fn), user, &mut s) }, TARDY_OK);
            Self {
                clock,
                s,
                numbers: Vec::new(),
                live: [false; 7],
                taken: [0; 7],
                done: [0; 7],
                ids: Vec::new(),
                stop_at_end: false,
            }
        }

        fn now(&self) -> u64 {
            self.clock.load(Ordering::SeqCst)
        }

        /// A task left the scheduler: it must have been in, and the first time.
        fn out(&mut self, task: &tardy_task, must_be_released: bool) -> usize {
            let n = number_of(task);
            let (state, id, subject) = self.numbers[n];
            let State::In {
                queue,
                deadline,
                released,
            } = state
            else {
                panic!("task {n} came out twice");
            };
            if id != 0 {
                assert_eq!(task.id, id);
            }
            assert_ne!(task.id, 0);
            assert_eq!(task.subject, subject);
            assert_eq!(task.deadline, deadline);
            if must_be_released {
                assert!(released, "task {n} delivered early");
            }
            self.numbers[n].0 = State::Out;
            queue
        }

        fn schedule(&mut self, input: &mut Input<'_>, kind: u8) -> Option<()> {
            let q = usize::from(input.byte()?) % 8;
            let subject = u64::from(input.byte()? % 4);
            let now = self.now();
            let n = self.numbers.len();
            let user = (n + 1) as *mut c_void;
            let mut id = 0u64;
            let out_id = if input.byte()? & 1 == 0 {
                ptr::from_mut(&mut id)
            } else {
                ptr::null_mut()
            };
            // SAFETY: live scheduler, name NULL or NUL-terminated, out valid.
            let (st, deadline) = unsafe {
                match kind {
                    0 => (
                        tardy_schedule_now(self.s, name_ptr(q), subject, user, out_id),
                        now,
                    ),
                    1 => {
                        let delay = input.time(0)?;
                        (
                            tardy_schedule_after(self.s, name_ptr(q), subject, user, delay, out_id),
                            now.saturating_add(delay),
                        )
                    }
                    _ => {
                        let at = input.time(now)?;
                        (
                            tardy_schedule_at(self.s, name_ptr(q), subject, user, at, out_id),
                            at,
                        )
                    }
                }
            };
            match st {
                TARDY_OK => {
                    assert!(q < 7 && self.live[q]);
                    if out_id.is_null() {
                        // The id is not known (0 names no task); cancel and
                        // reschedule by id cannot reach this task, other calls
                        // can.
                        id = 0;
                    } else {
                        assert_ne!(id, 0, "0 never names a task");
                        self.ids.push(id);
                    }
                    self.numbers.push((
                        State::In {
                            queue: q,
                            deadline,
                            released: kind == 0,
                        },
                        id,
                        subject,
                    ));
                }
                TARDY_ERR_NULL => assert_eq!(q, 7),
                TARDY_ERR_INVALID_ARG => assert!(q < 7 && !VALID[q]),
                TARDY_ERR_NO_QUEUE => assert!(q < 7 && VALID[q] && !self.live[q]),
                TARDY_ERR_QUEUE_FULL => assert_eq!(kind, 0),
                TARDY_ERR_CAPACITY => assert_ne!(kind, 0),
                other => panic!("schedule: {other:?}"),
            }
            if st != TARDY_OK {
                assert_eq!(id, 0, "out_id written on failure");
            }
            Some(())
        }

        fn step(&mut self, input: &mut Input<'_>) -> Option<()> {
            let now = self.now();
            match input.byte()? % 16 {
                0 => {
                    let q = usize::from(input.byte()?) % 8;
                    let max =
                        [0usize, 1, 2, TARDY_MAX_QUEUE_SIZE + 1][usize::from(input.byte()? % 4)];
                    // SAFETY: live scheduler, name NULL or NUL-terminated.
                    let st = unsafe { tardy_add_queue(self.s, name_ptr(q), max) };
                    match st {
                        TARDY_OK => {
                            assert!(
                                q < 7 && VALID[q] && !self.live[q] && max <= TARDY_MAX_QUEUE_SIZE
                            );
                            self.live[q] = true;
                            self.taken[q] = 0;
                            self.done[q] = 0;
                        }
                        TARDY_ERR_NULL => assert_eq!(q, 7),
                        TARDY_ERR_INVALID_ARG => {
                            assert!(q < 7 && (!VALID[q] || max > TARDY_MAX_QUEUE_SIZE))
                        }
                        TARDY_ERR_CAPACITY => {
                            let live = self.live.iter().filter(|&&l| l).count();
                            assert!(q < 7 && VALID[q] && !self.live[q] && live == TARDY_MAX_QUEUES);
                        }
                        TARDY_ERR_QUEUE_EXISTS => assert!(self.live[q]),
                        other => panic!("add_queue: {other:?}"),
                    }
                }
                1 => {
                    let q = usize::from(input.byte()?) % 8;
                    let with_cb = input.byte()? & 1 == 0;
                    let mut back: Vec<tardy_task> = Vec::new();
                    let user = ptr::from_mut(&mut back).cast();
                    let cb: tardy_task_fn = if with_cb { Some(collect) } else { None };
                    // SAFETY: live scheduler; `collect` gets a live Vec.
                    let st = unsafe { tardy_remove_queue(self.s, name_ptr(q), cb, user) };
                    match st {
                        TARDY_OK => {
                            assert!(q < 7 && self.live[q]);
                            self.live[q] = false;
                            if with_cb {
                                for t in &back {
                                    assert_eq!(self.out(t, false), q);
                                }
                            }
                            // Every task of the queue is gone (handed back, or
                            // dropped for want of a callback).
                            for (state, _, _) in &mut self.numbers {
                                if matches!(*state, State::In { queue, .. } if queue == q) {
                                    assert!(!with_cb, "a task of the removed queue stayed");
                                    *state = State::Out;
                                }
                            }
                        }
                        TARDY_ERR_NULL => assert_eq!(q, 7),
                        TARDY_ERR_INVALID_ARG => assert!(q < 7 && !VALID[q]),
                        TARDY_ERR_NO_QUEUE => assert!(q < 7 && !self.live[q]),
                        other => panic!("remove_queue: {other:?}"),
                    }
                }
                2..=4 => {
                    let kind = input.byte()? % 3;
                    self.schedule(input, kind)?;
                }
                5 | 6 => {
                    let b = input.byte()?;
                    let raw = b == 0xff || self.ids.is_empty();
                    let id = if raw {
                        input.u64()?
                    } else {
                        self.ids[usize::from(b) % self.ids.len()]
                    };
                    let owner = self.numbers.iter().position(|&(st, i, _)| {
                        i != 0 && i == id && matches!(st, State::In { .. })
                    });
                    let scheduled = owner.is_some_and(|n| {
                        matches!(
                            self.numbers[n].0,
                            State::In {
                                released: false,
                                ..
                            }
                        )
                    });
                    if b & 1 == 0 {
                        // A raw id here is made far larger than any id a run
                        // can issue: a lucky guess of the id of a task scheduled
                        // with a NULL `out_id` would move a task the model
                        // cannot name. Cancel below takes raw ids as they come.
                        let id = if raw { id | 1 << 63 } else { id };
                        let owner = owner.filter(|&n| self.numbers[n].1 == id);
                        let scheduled = scheduled && owner.is_some();
                        let at = input.time(now)?;
                        // SAFETY: live scheduler.
                        let st = unsafe { tardy_reschedule_at(self.s, id, at) };
                        match (st, owner) {
                            (TARDY_OK, Some(n)) => {
                                if let State::In { queue, .. } = self.numbers[n].0 {
                                    self.numbers[n].0 = State::In {
                                        queue,
                                        deadline: at,
                                        released: false,
                                    };
                                }
                            }
                            (TARDY_ERR_NOT_SCHEDULED, _) => assert!(!scheduled),
                            other => panic!("reschedule_at: {other:?}"),
                        }
                    } else {
                        let mut user: *mut c_void = ptr::null_mut();
                        // SAFETY: live scheduler, valid out.
                        let st = unsafe { tardy_cancel(self.s, id, &mut user) };
                        match (st, owner) {
                            (TARDY_OK, Some(n)) => {
                                assert_eq!(user as usize, n + 1);
                                self.numbers[n].0 = State::Out;
                            }
                            (TARDY_OK, None) => {
                                // A raw id that guessed the id of a task
                                // scheduled with a NULL `out_id`.
                                let n = (user as usize) - 1;
                                let (state, known, _) = self.numbers[n];
                                assert!(matches!(state, State::In { .. }), "cancelled twice");
                                assert_eq!(known, 0, "cancelled by a wrong id");
                                self.numbers[n].0 = State::Out;
                            }
                            (TARDY_ERR_NOT_SCHEDULED, _) => {
                                assert!(!scheduled);
                                assert!(user.is_null(), "out written on failure");
                            }
                            other => panic!("cancel: {other:?}"),
                        }
                    }
                }
                7 => {
                    let subject = u64::from(input.byte()? % 5);
                    let mut back: Vec<tardy_task> = Vec::new();
                    let mut count = usize::MAX;
                    // SAFETY: live scheduler; `collect` gets a live Vec.
                    let st = unsafe {
                        tardy_cancel_subject(
                            self.s,
                            subject,
                            Some(collect),
                            ptr::from_mut(&mut back).cast(),
                            &mut count,
                        )
                    };
                    assert_eq!(st, TARDY_OK);
                    assert_eq!(count, back.len());
                    for t in &back {
                        assert_eq!(t.subject, subject);
                        self.out(t, false);
                    }
                    let left = self.numbers.iter().any(|&(st, _, sub)| {
                        sub == subject
                            && matches!(
                                st,
                                State::In {
                                    released: false,
                                    ..
                                }
                            )
                    });
                    assert!(!left, "cancel_subject left a scheduled task");
                }
                8 | 9 => {
                    let q = usize::from(input.byte()?) % 8;
                    let mut task = tardy_task {
                        id: 0,
                        subject: 0,
                        user_data: ptr::null_mut(),
                        deadline: 0,
                    };
                    // SAFETY: live scheduler, valid out; timeout 0 never waits.
                    let st = unsafe { tardy_get_task(self.s, name_ptr(q), 0, &mut task) };
                    match st {
                        TARDY_OK => {
                            assert_eq!(self.out(&task, true), q);
                            self.taken[q] += 1;
                        }
                        TARDY_ERR_EMPTY => {
                            assert!(self.live[q]);
                            assert!(task.user_data.is_null(), "out written on failure");
                            let due = self.numbers.iter().any(|&(st, _, _)| {
                            matches!(st, State::In { queue, released: true, .. } if queue == q)
                        });
                            assert!(!due, "queue empty while a due task waits");
                        }
                        TARDY_ERR_NULL => assert_eq!(q, 7),
                        TARDY_ERR_INVALID_ARG => assert!(q < 7 && !VALID[q]),
                        TARDY_ERR_NO_QUEUE => assert!(q < 7 && !self.live[q]),
                        other => panic!("get_task: {other:?}"),
                    }
                }
                10 => {
                    let q = usize::from(input.byte()?) % 8;
                    // SAFETY: live scheduler.
                    let st = unsafe { tardy_task_done(self.s, name_ptr(q)) };
                    match st {
                        TARDY_OK => {
                            assert!(self.done[q] < self.taken[q]);
                            self.done[q] += 1;
                        }
                        TARDY_ERR_INVALID_ARG => {
                            assert!(q < 7 && (!VALID[q] || self.done[q] >= self.taken[q]))
                        }
                        TARDY_ERR_NULL => assert_eq!(q, 7),
                        TARDY_ERR_NO_QUEUE => assert!(q < 7 && !self.live[q]),
                        other => panic!("task_done: {other:?}"),
                    }
                }
                11 => {
                    let b = input.byte()?;
                    let small = u64::from(b >> 3);
                    let to = match b & 7 {
                        0 => u64::MAX,
                        1 => 0,
                        2 => now.saturating_sub(small),
                        3 => now.saturating_add(1 << 40),
                        7 => input.u64()?,
                        _ => now.saturating_add(small),
                    };
                    self.clock.store(to, Ordering::SeqCst);
                }
                12 => {
                    let mut moved = usize::MAX;
                    // SAFETY: live scheduler, valid out.
                    assert_eq!(unsafe { tardy_run_pending(self.s, &mut moved) }, TARDY_OK);
                    assert_ne!(moved, usize::MAX);
                    self.release(|d| d <= now);
                }
                13 => {
                    // SAFETY: live scheduler; out may be NULL.
                    assert_eq!(unsafe { tardy_run_all(self.s, ptr::null_mut()) }, TARDY_OK);
                    self.release(|_| true);
                }
                14 => {
                    // NULL scheduler and NULL required out-parameters.
                    let mut t = 0u64;
                    // SAFETY: NULL is allowed and refused.
                    unsafe {
                        assert_eq!(tardy_next_deadline(ptr::null_mut(), &mut t), TARDY_ERR_NULL);
                        assert_eq!(tardy_next_deadline(self.s, ptr::null_mut()), TARDY_ERR_NULL);
                        assert_eq!(
                            tardy_run_pending(ptr::null_mut(), ptr::null_mut()),
                            TARDY_ERR_NULL
                        );
                        assert_eq!(
                            tardy_get_task(self.s, name_ptr(0), 0, ptr::null_mut()),
                            TARDY_ERR_NULL
                        );
                    }
                }
                15 => self.stop_at_end = !self.stop_at_end,
                _ => {}
            }
            Some(())
        }

        fn release(&mut self, due: impl Fn(u64) -> bool) {
            for (state, _, _) in &mut self.numbers {
                if let State::In {
                    queue,
                    deadline,
                    released: false,
                } = *state
                {
                    if due(deadline) {
                        *state = State::In {
                            queue,
                            deadline,
                            released: true,
                        };
                    }
                }
            }
        }

        fn check(&self) {
            let earliest = self
                .numbers
                .iter()
                .filter_map(|&(st, _, _)| match st {
                    State::In {
                        deadline,
                        released: false,
                        ..
                    } => Some(deadline),
                    _ => None,
                })
                .min();
            let mut next = 0u64;
            // SAFETY: live scheduler, valid out.
            let st = unsafe { tardy_next_deadline(self.s, &mut next) };
            match earliest {
                Some(d) => assert_eq!((st, next), (TARDY_OK, d), "next_deadline differs"),
                None => assert_eq!(st, TARDY_ERR_EMPTY),
            }
        }

        fn finish(mut self) {
            #[cfg(feature = "capi")]
            if self.stop_at_end {
                self.finish_by_stopping();
                return;
            }
            // SAFETY: live scheduler.
            assert_eq!(unsafe { tardy_run_all(self.s, ptr::null_mut()) }, TARDY_OK);
            self.release(|_| true);
            for q in 0..7 {
                if !self.live[q] {
                    continue;
                }
                loop {
                    let mut task = tardy_task {
                        id: 0,
                        subject: 0,
                        user_data: ptr::null_mut(),
                        deadline: 0,
                    };
                    // SAFETY: live scheduler, valid out.
                    match unsafe { tardy_get_task(self.s, name_ptr(q), 0, &mut task) } {
                        TARDY_OK => {
                            assert_eq!(self.out(&task, true), q);
                        }
                        TARDY_ERR_EMPTY => break,
                        other => panic!("drain: {other:?}"),
                    }
                }
            }
            for (n, &(st, _, _)) in self.numbers.iter().enumerate() {
                assert_eq!(st, State::Out, "task {n} lost");
            }
            self.check();
        }
    }

    #[cfg(feature = "capi")]
    impl Model {
        /// Stops the scheduler and takes every task still in it back with
        /// `tardy_drain`: each must come back once, none may be lost.
        fn finish_by_stopping(&mut self) {
            let left = self
                .numbers
                .iter()
                .filter(|&&(st, _, _)| st != State::Out)
                .count();
            let mut got: Vec<tardy_task> = Vec::new();
            let user = ptr::from_mut(&mut got).cast::<c_void>();
            let mut count = usize::MAX;
            let mut task = tardy_task {
                id: 0,
                subject: 0,
                user_data: ptr::null_mut(),
                deadline: 0,
            };
            // SAFETY: live scheduler, valid out-pointers, `user` is `got`.
            unsafe {
                assert_eq!(
                    tardy_drain(self.s, Some(collect), user, &mut count),
                    TARDY_ERR_STATE
                );
                assert_eq!(tardy_stop(self.s), TARDY_OK);
                assert_eq!(tardy_stop(self.s), TARDY_ERR_STATE);
                assert_eq!(
                    tardy_get_task(self.s, name_ptr(0), 0, &mut task),
                    TARDY_ERR_STATE
                );
                if left > 0 {
                    assert_eq!(
                        tardy_drain(self.s, None, ptr::null_mut(), &mut count),
                        TARDY_ERR_NULL
                    );
                }
                assert_eq!(count, usize::MAX, "written on failure");
                assert_eq!(
                    tardy_drain(self.s, Some(collect), user, &mut count),
                    TARDY_OK
                );
            }
            assert_eq!((count, got.len()), (left, left));
            for t in &got {
                let q = self.out(t, false);
                assert!(self.live[q], "task {} of a removed queue", number_of(t));
            }
            for (n, &(st, _, _)) in self.numbers.iter().enumerate() {
                assert_eq!(st, State::Out, "task {n} lost");
            }
            // SAFETY: live scheduler, valid out-pointer.
            unsafe {
                assert_eq!(
                    tardy_drain(self.s, Some(collect), user, &mut count),
                    TARDY_OK
                );
                assert_eq!(count, 0, "handed back twice");
                assert_eq!(
                    tardy_drain(self.s, None, ptr::null_mut(), ptr::null_mut()),
                    TARDY_OK
                );
            }
            assert_eq!(got.len(), left);
        }
    }

    impl Drop for Model {
        fn drop(&mut self) {
            // SAFETY: created by tardy_new, freed once.
            unsafe { tardy_free(self.s) };
        }
    }

    fuzz_target!(|data: &[u8]| {
        let mut model = Model::new();
        let mut input = Input(data);
        while model.step(&mut input).is_some() {
            model.check();
        }
        model.finish();
    });
}
