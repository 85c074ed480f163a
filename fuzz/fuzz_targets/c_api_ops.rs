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
//! end everything is taken out, by `tardy_run_all`, `tardy_get_task` and
//! `tardy_cancel_subject` or (when op 15 came an odd number of times,
//! threaded library only) by `tardy_stop` and `tardy_drain`, and every
//! number is accounted for exactly once.
//!
//! Periodic tasks (`tardy_schedule_periodic_after` / `_at`, with any period
//! and any `int` as the policy) have a number too, shared by every
//! occurrence. The model checks that the number comes back exactly once
//! with `periodic` 0 (by cancel, cancel-by-subject, queue removal or drain)
//! and never from `tardy_get_task`; that the occurrences of each periodic
//! task, wherever they come out, account for every period once (the next
//! `period_index` is `period_index + missed + 1`, up to its saturation at
//! 2^62 - 1), with `missed` 0 under
//! BURST, deadlines on the grid `first + k * period` under BURST and SKIP
//! (until a reschedule), and none before a `tardy_run_pending` saw its
//! deadline pass (or `tardy_run_all` forced it). BURST with a period short
//! enough to catch up for ever is only scheduled for bounded queues (a
//! clock jump of 2^64 ticks would otherwise be 2^64 occurrences). With a
//! periodic task scheduled, `tardy_next_deadline` is checked to be no later
//! than the earliest one-shot deadline.
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

    /// What the model knows of a periodic task.
    #[derive(Clone, Copy, Debug)]
    struct Periodic {
        queue: usize,
        first: u64,
        period: u64,
        policy: tardy_missed_tick_behavior_value,
        /// The `period_index` its next occurrence must have.
        next_index: u64,
        /// The previous occurrence's `missed` was saturated: the next index
        /// may be larger.
        saturated: bool,
        /// Deadlines are on the grid `first + k * period` (BURST and SKIP,
        /// never rescheduled).
        on_grid: bool,
        /// `tardy_run_all` may have delivered an occurrence before its
        /// deadline.
        forced: bool,
    }

    const BURST: tardy_missed_tick_behavior_value =
        tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_BURST as _;
    const DELAY: tardy_missed_tick_behavior_value =
        tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_DELAY as _;
    const SKIP: tardy_missed_tick_behavior_value =
        tardy_missed_tick_behavior::TARDY_MISSED_TICK_BEHAVIOR_SKIP as _;

    /// Where `period_index` saturates.
    const INDEX_MAX: u64 = (1 << 62) - 1;

    /// The shortest BURST period scheduled for an unbounded queue: a clock
    /// jump of 2^64 ticks is then at most 2^10 occurrences.
    const LONG_BURST: u64 = 1 << 54;

    struct Model {
        clock: Box<AtomicU64>,
        s: *mut tardy_scheduler,
        /// Number `n` (user_data `n + 1`) and its id.
        numbers: Vec<(State, u64, u64)>, // (state, id, subject)
        /// `Some` for the numbers of periodic tasks.
        periodic: Vec<Option<Periodic>>,
        /// The latest clock reading a `tardy_run_pending` saw.
        latest_run: Option<u64>,
        live: [bool; 7],
        /// The queue holds a bounded number of tasks.
        bounded: [bool; 7],
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
                periodic: Vec::new(),
                latest_run: None,
                live: [false; 7],
                bounded: [false; 7],
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
        /// An occurrence of a periodic task is checked by `occurrences`
        /// instead.
        fn out(&mut self, task: &tardy_task, must_be_released: bool) -> usize {
            let n = number_of(task);
            assert_eq!(task.periodic, 0, "an occurrence given to out()");
            let (state, id, subject) = self.numbers[n];
            if self.periodic[n].is_some() {
                assert!(!must_be_released, "periodic task {n} delivered as itself");
            }
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
            if self.periodic[n].is_none() {
                assert_eq!(task.deadline, deadline);
            }
            assert_eq!((task.period_index, task.missed), (0, 0));
            if must_be_released {
                assert!(released, "task {n} delivered early");
            }
            self.numbers[n].0 = State::Out;
            queue
        }

        /// Occurrences of periodic tasks came out (from one queue, in
        /// order, or handed over in any order): each is checked against its
        /// periodic task, in the order of their periods. Returns their
        /// queues.
        fn occurrences(&mut self, tasks: &[tardy_task]) -> Vec<usize> {
            let mut sorted: Vec<&tardy_task> = tasks.iter().collect();
            sorted.sort_by_key(|t| (number_of(t), t.period_index));
            let mut queues = Vec::new();
            for t in sorted {
                assert_eq!(t.periodic, 1);
                let n = number_of(t);
                let (_, id, subject) = self.numbers[n];
                let latest_run = self.latest_run;
                let p = self.periodic[n]
                    .as_mut()
                    .unwrap_or_else(|| panic!("occurrence of one-shot task {n}"));
                assert_eq!(t.subject, subject);
                assert!(
                    t.id != 0 && t.id != id,
                    "an occurrence has an id of its own"
                );
                if p.saturated {
                    assert!(
                        t.period_index >= p.next_index,
                        "period {} again",
                        t.period_index
                    );
                } else {
                    assert_eq!(t.period_index, p.next_index, "a period lost or repeated");
                }
                p.next_index = t
                    .period_index
                    .saturating_add(t.missed)
                    .saturating_add(1)
                    .min(INDEX_MAX);
                p.saturated = t.missed >= u64::from(u32::MAX);
                if p.policy == BURST {
                    assert_eq!(t.missed, 0, "BURST coalesced periods");
                }
                if p.on_grid && t.period_index < INDEX_MAX {
                    let on_grid = p
                        .first
                        .saturating_add(t.period_index.saturating_mul(p.period));
                    assert_eq!(t.deadline, on_grid, "off the grid");
                }
                if !p.forced {
                    assert!(
                        latest_run.is_some_and(|r| t.deadline <= r),
                        "occurrence of {n} delivered early"
                    );
                }
                queues.push(p.queue);
            }
            queues
        }

        fn schedule_periodic(&mut self, input: &mut Input<'_>, at: bool) -> Option<()> {
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
            let first = if at { input.time(now)? } else { input.time(0)? };
            let b = input.byte()?;
            let mut period = match b & 3 {
                0 => 0,
                1 => 1 + u64::from(b >> 2),
                2 => u64::from(b >> 2) << 56 | 1 << 54,
                _ => u64::MAX,
            };
            // -1 to 3: the three policies and two values that are none.
            let policy = tardy_missed_tick_behavior_value::from(input.byte()? % 5) - 1;
            let bounded = q < 7 && self.bounded[q];
            if policy == BURST && period != 0 && period < LONG_BURST && !bounded {
                period = LONG_BURST;
            }
            // SAFETY: live scheduler, name NULL or NUL-terminated, out valid.
            let st = unsafe {
                if at {
                    tardy_schedule_periodic_at(
                        self.s,
                        name_ptr(q),
                        subject,
                        user,
                        first,
                        period,
                        policy,
                        out_id,
                    )
                } else {
                    tardy_schedule_periodic_after(
                        self.s,
                        name_ptr(q),
                        subject,
                        user,
                        first,
                        period,
                        policy,
                        out_id,
                    )
                }
            };
            let first = if at { first } else { now.saturating_add(first) };
            let bad_policy = !matches!(policy, BURST | DELAY | SKIP);
            match st {
                TARDY_OK => {
                    assert!(q < 7 && self.live[q] && period != 0 && !bad_policy);
                    if out_id.is_null() {
                        id = 0;
                    } else {
                        assert_ne!(id, 0, "0 never names a task");
                        self.ids.push(id);
                    }
                    self.numbers.push((
                        State::In {
                            queue: q,
                            deadline: first,
                            released: false,
                        },
                        id,
                        subject,
                    ));
                    self.periodic.push(Some(Periodic {
                        queue: q,
                        first,
                        period,
                        policy,
                        next_index: 0,
                        saturated: false,
                        on_grid: policy != DELAY,
                        forced: false,
                    }));
                }
                TARDY_ERR_NULL => assert_eq!(q, 7),
                TARDY_ERR_INVALID_ARG => {
                    assert!(q < 7 && (!VALID[q] || bad_policy || (period == 0 && self.live[q])))
                }
                TARDY_ERR_NO_QUEUE => {
                    assert!(q < 7 && VALID[q] && !self.live[q] && !bad_policy)
                }
                TARDY_ERR_CAPACITY => assert!(!bad_policy && self.live[q]),
                other => panic!("schedule_periodic: {other:?}"),
            }
            if st != TARDY_OK {
                assert_eq!(id, 0, "out_id written on failure");
            }
            Some(())
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
                    self.periodic.push(None);
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
                            // Bare metal: 0 is the largest bound.
                            self.bounded[q] = max != 0 || cfg!(not(feature = "capi"));
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
                                let (occurrences, tasks): (Vec<_>, Vec<_>) =
                                    back.iter().partition(|t| t.periodic == 1);
                                for t in &tasks {
                                    assert_eq!(self.out(t, false), q);
                                }
                                for queue in self.occurrences(&occurrences) {
                                    assert_eq!(queue, q);
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
                    let kind = input.byte()? % 5;
                    if kind < 3 {
                        self.schedule(input, kind)?;
                    } else {
                        self.schedule_periodic(input, kind == 4)?;
                    }
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
                                if let Some(p) = &mut self.periodic[n] {
                                    // Its next deadline moved; the periods
                                    // after it follow from there.
                                    p.on_grid = false;
                                }
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
                        assert_eq!(t.periodic, 0, "cancel_subject handed back an occurrence");
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
                    let mut task = tardy_task::default();
                    // SAFETY: live scheduler, valid out; timeout 0 never waits.
                    let st = unsafe { tardy_get_task(self.s, name_ptr(q), 0, &mut task) };
                    match st {
                        TARDY_OK => {
                            let from = if task.periodic == 1 {
                                self.occurrences(&[task])[0]
                            } else {
                                self.out(&task, true)
                            };
                            assert_eq!(from, q);
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
                    self.latest_run = Some(self.latest_run.map_or(now, |r| r.max(now)));
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

        /// One-shot tasks whose deadline `due` accepts may now be in their
        /// queues; after `tardy_run_all` (every deadline due) periodic tasks
        /// may have delivered an occurrence early.
        fn release(&mut self, due: impl Fn(u64) -> bool) {
            if due(u64::MAX) {
                for p in self.periodic.iter_mut().flatten() {
                    p.forced = true;
                }
            }
            for ((state, _, _), periodic) in self.numbers.iter_mut().zip(&self.periodic) {
                if periodic.is_some() {
                    continue;
                }
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
            // The earliest deadline of the one-shot tasks.
            let earliest = self
                .numbers
                .iter()
                .zip(&self.periodic)
                .filter_map(|(&(st, _, _), p)| match st {
                    State::In {
                        deadline,
                        released: false,
                        ..
                    } if p.is_none() => Some(deadline),
                    _ => None,
                })
                .min();
            let mut next = 0u64;
            // SAFETY: live scheduler, valid out.
            let st = unsafe { tardy_next_deadline(self.s, &mut next) };
            let periodic = self
                .numbers
                .iter()
                .zip(&self.periodic)
                .any(|(&(st, _, _), p)| p.is_some() && st != State::Out);
            match (earliest, periodic) {
                (Some(d), false) => {
                    assert_eq!((st, next), (TARDY_OK, d), "next_deadline differs")
                }
                (None, false) => assert_eq!(st, TARDY_ERR_EMPTY),
                // A periodic task's next deadline depends on its policy and
                // its queue's room: no later than the one-shot tasks'.
                (Some(d), true) => {
                    assert_eq!(st, TARDY_OK);
                    assert!(next <= d, "next_deadline later than a scheduled task");
                }
                (None, true) => assert!(matches!(st, TARDY_OK | TARDY_ERR_EMPTY)),
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
                    let mut task = tardy_task::default();
                    // SAFETY: live scheduler, valid out.
                    match unsafe { tardy_get_task(self.s, name_ptr(q), 0, &mut task) } {
                        TARDY_OK if task.periodic == 1 => {
                            assert_eq!(self.occurrences(&[task]), [q]);
                        }
                        TARDY_OK => {
                            assert_eq!(self.out(&task, true), q);
                        }
                        TARDY_ERR_EMPTY => break,
                        other => panic!("drain: {other:?}"),
                    }
                }
            }
            // Periodic tasks stay scheduled until handed back: by subject.
            for subject in 0..4 {
                let mut back: Vec<tardy_task> = Vec::new();
                // SAFETY: live scheduler; `collect` gets a live Vec.
                let st = unsafe {
                    tardy_cancel_subject(
                        self.s,
                        subject,
                        Some(collect),
                        ptr::from_mut(&mut back).cast(),
                        ptr::null_mut(),
                    )
                };
                assert_eq!(st, TARDY_OK);
                for t in &back {
                    assert!(
                        self.periodic[number_of(t)].is_some(),
                        "a one-shot task left"
                    );
                    self.out(t, false);
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
            let mut task = tardy_task::default();
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
            let (occurrences, tasks): (Vec<_>, Vec<_>) = got.iter().partition(|t| t.periodic == 1);
            assert_eq!((count, tasks.len()), (got.len(), left));
            for t in &tasks {
                let q = self.out(t, false);
                assert!(self.live[q], "task {} of a removed queue", number_of(t));
            }
            for q in self.occurrences(&occurrences) {
                assert!(self.live[q], "an occurrence of a removed queue");
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
