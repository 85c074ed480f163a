//! Periodic tasks under attack: edge values, limits and races that the
//! per-layer tests do not reach, each with the invariant it checks.
//!
//! No test asserts how long anything took.

#![cfg(all(feature = "std", feature = "periodic"))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use tardy::{
    Clock, MissedTickBehavior, Options, QueueId, SchedulerThread, Task, Ticks, Wait, When,
};

use MissedTickBehavior::{Burst, Delay, Skip};

/// A clock the test sets by hand.
#[derive(Clone)]
struct SetClock(Arc<AtomicU64>);

impl SetClock {
    fn at(now: Ticks) -> Self {
        Self(Arc::new(AtomicU64::new(now)))
    }
}

impl Clock for SetClock {
    fn now(&self) -> Ticks {
        self.0.load(Ordering::SeqCst)
    }
}

type Sched = SchedulerThread<u32, u32, SetClock>;

fn sched(queues: &[(&str, usize)]) -> (Sched, SetClock, QueueId) {
    let clock = SetClock::at(0);
    let s = Sched::new(clock.clone(), queues, Options::new()).unwrap();
    let q = s.queue_id(queues[0].0).unwrap();
    (s, clock, q)
}

/// Two `run_all` calls at once, each with more tasks than a batch so both
/// release the lock between batches. Each lifts the periodic tasks it
/// re-armed to `Ticks::MAX` while it moves the rest; the other one must
/// not deliver a lifted task from there (its occurrence would say its
/// deadline is `Ticks::MAX`, and its next deadline would stay at
/// `Ticks::MAX` for ever, the put-back no longer matching its key).
#[test]
fn concurrent_run_all_never_strands_a_periodic_task_at_the_end_of_time() {
    for round in 0..50 {
        let (s, _clock, q) = sched(&[("q", 0)]);
        let mut ids = Vec::new();
        for (i, missed) in [Burst, Delay, Skip].into_iter().enumerate() {
            ids.push(
                s.schedule_periodic(Task::new(q, 1, 0), When::At(i as u64), 1, missed)
                    .unwrap(),
            );
        }
        let barrier = Arc::new(Barrier::new(2));
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let h = s.handle();
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    for k in 0..5u64 {
                        for j in 0..300 {
                            h.schedule(Task::new(q, 2, 0), When::At(1_000_000 + k * 1000 + j))
                                .unwrap();
                        }
                        h.run_all().unwrap();
                    }
                })
            })
            .collect();
        for r in runs {
            r.join().unwrap();
        }
        for (i, id) in ids.iter().enumerate() {
            let deadline = s.inspect_task(*id, |t| t.deadline());
            assert!(
                deadline.is_some_and(|d| d < Ticks::MAX),
                "round {round}: periodic task {i} left at {deadline:?}"
            );
        }
        while let Ok(t) = s.get_task(q, Wait::NoWait) {
            assert!(
                t.deadline() < Ticks::MAX,
                "round {round}: an occurrence or task delivered with deadline MAX: {:?}",
                (t.subject(), t.period())
            );
        }
    }
}

mod core_stress {
    //! The core (fixed and growing storage) driven at random with a clock
    //! that jumps forward, steps back and reaches `Ticks::MAX`, small
    //! bounded queues, periods of 1 and `u64::MAX`, and every hand-back
    //! path; checked against the invariants of periodic tasks.

    use std::collections::HashMap;

    use tardy::{
        AllocScheduler, Clock, HeaplessQueue, ManualClock, MissedTickBehavior, Scheduler,
        SchedulerInner, Storage, Task, TaskId, Ticks, When,
    };

    use super::{Burst, Delay, Skip};

    type Q = HeaplessQueue<Task<u32, u32>, 3>;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// What the test knows of a periodic task (keyed by its subject).
    struct Known {
        id: TaskId,
        period: u64,
        behavior: MissedTickBehavior,
        /// The grid: (deadline, index) of a known point on it (Burst and
        /// Skip); `None` after a Delay shift or a reschedule with unknown
        /// index.
        grid: Option<(Ticks, u64)>,
        /// The index the next occurrence must carry, when known.
        next_index: Option<u64>,
        live: bool,
        payload: u32,
    }

    const SATURATED_MISSED: u64 = u32::MAX as u64;

    fn check_occurrence(known: &mut HashMap<u32, Known>, t: &Task<u32, u32>, latest_now: Ticks) {
        let Some(p) = t.period() else {
            return; // a one-shot task
        };
        let k = known
            .get_mut(t.subject())
            .expect("an occurrence of a known task");
        assert_eq!(*t.payload(), k.payload, "payload cloned");
        assert_ne!(Some(k.id), t.id(), "an occurrence has an id of its own");
        assert!(
            t.deadline() <= latest_now,
            "never early: {} > {latest_now}",
            t.deadline()
        );
        if let Some(want) = k.next_index {
            assert_eq!(
                p.index, want,
                "every period accounted once ({:?})",
                k.behavior
            );
        }
        if k.behavior == Burst {
            assert_eq!(p.missed, 0, "Burst never coalesces");
        }
        if let (Some((d0, i0)), true) = (k.grid, k.behavior != Delay) {
            let want = d0.saturating_add((p.index - i0).saturating_mul(k.period));
            if p.index < (u64::MAX >> 2) {
                assert_eq!(t.deadline(), want, "on the grid ({:?})", k.behavior);
            }
        }
        k.next_index = if p.missed >= SATURATED_MISSED || p.index >= (u64::MAX >> 2) - 1 {
            None
        } else {
            Some(p.index + p.missed + 1)
        };
    }

    fn run<St: Storage>(
        mut s: SchedulerInner<&ManualClock, Q, u32, u32, St, 2>,
        clock: &ManualClock,
        seed: u64,
    ) {
        let mut rng = Rng(seed);
        let qs = [s.add_queue("a", 0).unwrap(), s.add_queue("b", 0).unwrap()];
        let mut known: HashMap<u32, Known> = HashMap::new();
        let mut one_shots: Vec<TaskId> = Vec::new();
        let mut next_subject = 0u32;
        let mut latest_now = 0;
        let periods = [1, 2, 3, 10, 1000, u64::MAX / 2, u64::MAX];
        let behaviors = [Burst, Delay, Skip];
        let handed_back = |known: &mut HashMap<u32, Known>, t: Task<u32, u32>| {
            if t.period().is_some() {
                return; // an occurrence (clear_queue does not hand those)
            }
            if let Some(k) = known.get_mut(t.subject()) {
                if Some(k.id) == t.id() {
                    assert!(k.live, "a periodic task handed back twice");
                    k.live = false;
                    assert_eq!(*t.payload(), k.payload);
                }
            }
        };
        for _step in 0..3_000 {
            match rng.below(14) {
                0 | 1 => {
                    let subject = next_subject;
                    next_subject += 1;
                    let period = periods[rng.below(periods.len() as u64) as usize];
                    let behavior = behaviors[rng.below(3) as usize];
                    let now = clock.now();
                    let first = match rng.below(4) {
                        0 => When::Now,
                        1 => When::At(u64::MAX),
                        2 => When::At(now.saturating_sub(rng.below(50))),
                        _ => When::After(rng.below(50)),
                    };
                    let d0 = match first {
                        When::Now => now,
                        When::At(t) => t,
                        When::After(d) => now.saturating_add(d),
                    };
                    let q = qs[rng.below(2) as usize];
                    let payload = rng.next() as u32;
                    match s.schedule_periodic(
                        Task::new(q, subject, payload),
                        first,
                        period,
                        behavior,
                    ) {
                        Ok(id) => {
                            known.insert(
                                subject,
                                Known {
                                    id,
                                    period,
                                    behavior,
                                    grid: Some((d0, 0)),
                                    next_index: Some(0),
                                    live: true,
                                    payload,
                                },
                            );
                        }
                        Err(e) => {
                            let t = e.into_inner();
                            assert_eq!((*t.subject(), *t.payload()), (subject, payload));
                        }
                    }
                }
                2 => {
                    let q = qs[rng.below(2) as usize];
                    if let Ok(id) =
                        s.schedule(Task::new(q, u32::MAX, 0), When::After(rng.below(30)))
                    {
                        one_shots.push(id);
                    }
                }
                3 | 4 => {
                    // The clock: on a little, a jump, a step back, the end.
                    let now = clock.now();
                    let t = match rng.below(10) {
                        0 => now.saturating_sub(rng.below(40)),
                        1 => now.saturating_add(rng.below(100_000)),
                        2 if rng.below(20) == 0 => u64::MAX - rng.below(3),
                        _ => now.saturating_add(rng.below(5)),
                    };
                    clock.set(t);
                    latest_now = latest_now.max(t);
                }
                5 | 6 => {
                    s.run_pending();
                }
                // Half the seeds use run_all, which delivers early on
                // purpose: "never early" is checked by the other half.
                7 if seed.is_multiple_of(2) => {
                    s.run_all();
                    latest_now = Ticks::MAX;
                }
                8 | 9 => {
                    let q = qs[rng.below(2) as usize];
                    while let Ok(t) = s.get_task(q) {
                        check_occurrence(&mut known, &t, latest_now);
                        if rng.below(3) > 0 {
                            break;
                        }
                    }
                }
                10 => {
                    // cancel one periodic task
                    let live: Vec<u32> = known
                        .iter()
                        .filter(|(_, k)| k.live)
                        .map(|(s, _)| *s)
                        .collect();
                    if let Some(&subject) = live.get(rng.below(live.len().max(1) as u64) as usize) {
                        let id = known[&subject].id;
                        let t = s.cancel(id).expect("a live periodic task is scheduled");
                        assert_eq!((t.id(), t.period()), (Some(id), None));
                        handed_back(&mut known, t);
                        assert!(!s.is_scheduled(id));
                        assert!(s.cancel(id).is_err(), "handed back once");
                    }
                }
                11 => {
                    let live: Vec<u32> = known
                        .iter()
                        .filter(|(_, k)| k.live)
                        .map(|(s, _)| *s)
                        .collect();
                    if let Some(&subject) = live.get(rng.below(live.len().max(1) as u64) as usize) {
                        let k = known.get_mut(&subject).unwrap();
                        let to = clock.now().saturating_add(rng.below(20));
                        s.reschedule(k.id, When::At(to)).expect("scheduled");
                        // The next period is at `to`, its index that of the
                        // next period not yet entered (occurrences may wait
                        // in the queue): the grid is not checked any more.
                        k.grid = None;
                    }
                }
                12 => {
                    let live: Vec<u32> = known
                        .iter()
                        .filter(|(_, k)| k.live)
                        .map(|(s, _)| *s)
                        .collect();
                    if let Some(&subject) = live.get(rng.below(live.len().max(1) as u64) as usize) {
                        let mut back = Vec::new();
                        s.cancel_by_subject(&subject, |t| back.push(t));
                        assert_eq!(back.len(), 1);
                        for t in back {
                            handed_back(&mut known, t);
                        }
                    }
                }
                _ => {
                    let q = qs[rng.below(2) as usize];
                    let mut back = Vec::new();
                    s.clear_queue(q, |t| back.push(t)).unwrap();
                    for t in back {
                        handed_back(&mut known, t);
                    }
                }
            }
            // Counts: every live periodic task is scheduled, once.
            let live = known.values().filter(|k| k.live).count();
            for k in known.values() {
                assert_eq!(s.is_scheduled(k.id), k.live, "is_scheduled");
            }
            one_shots.retain(|id| s.is_scheduled(*id));
            assert_eq!(s.len(), live + one_shots.len(), "len");
            let scheduled: usize = qs.iter().map(|q| s.stats(*q).unwrap().scheduled).sum();
            assert_eq!(scheduled, s.len(), "stats().scheduled");
        }
        let mut back = Vec::new();
        s.clear(|t| back.push(t));
        for t in back {
            handed_back(&mut known, t);
        }
        assert!(
            known.values().all(|k| !k.live),
            "every periodic task handed back"
        );
    }

    #[test]
    fn random_operations_keep_the_periodic_invariants_fixed() {
        for seed in 1..=24u64 {
            let clock = ManualClock::new(0);
            run(
                Scheduler::<_, Q, u32, u32, 16, 2>::new(&clock),
                &clock,
                seed * 0x9E37_79B9,
            );
        }
    }

    #[test]
    fn random_operations_keep_the_periodic_invariants_growing() {
        for seed in 1..=24u64 {
            let clock = ManualClock::new(0);
            run(
                AllocScheduler::<_, Q, u32, u32, 2>::new(&clock),
                &clock,
                seed * 0x85EB_CA6B,
            );
        }
    }
}

/// A clock that moves on by one tick at every reading.
#[derive(Clone)]
struct Ticking(Arc<AtomicU64>);

impl Clock for Ticking {
    fn now(&self) -> Ticks {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

/// The threaded layer under races: the scheduler thread and three
/// workers take occurrences (retrying some), while a controller cancels,
/// reschedules, cancels by subject, removes a queue and schedules new
/// periodic tasks, with periods of 1 to 3 ticks on a clock that moves at
/// every reading, small bounded queues and a capacity limit; then `stop`.
/// Every periodic task comes back exactly once, no occurrence is lost in
/// the middle of a chain (next index = index + missed + 1), Burst never
/// coalesces, and nothing hangs or panics.
#[test]
fn threaded_races_hand_every_periodic_task_back_once_and_lose_no_period() {
    type T = SchedulerThread<u32, u32, Ticking>;
    use std::collections::{HashMap, HashSet};
    use std::sync::Mutex;
    use tardy::{SubmitError, TaskId};

    for round in 0..4u64 {
        let clock = Ticking(Arc::new(AtomicU64::new(0)));
        let s = T::new(
            clock,
            &[("main", 4), ("side", 2)],
            Options::new().capacity(8).max_capacity(48),
        )
        .unwrap();
        let main = s.queue_id("main").unwrap();
        let side = s.queue_id("side").unwrap();
        s.start().unwrap();
        // subject -> (handle, policy); every periodic task has a subject of
        // its own.
        let tasks: Arc<Mutex<HashMap<u32, (TaskId, MissedTickBehavior)>>> = Arc::default();
        let occurrences: Arc<Mutex<Vec<(u32, u64, u64)>>> = Arc::default();
        let back: Arc<Mutex<Vec<TaskId>>> = Arc::default();
        let done = Arc::new(AtomicU64::new(0));
        let record = |occ: &Mutex<Vec<(u32, u64, u64)>>, t: &Task<u32, u32>| {
            if let Some(p) = t.period() {
                occ.lock().unwrap().push((*t.subject(), p.index, p.missed));
            }
        };
        let workers: Vec<_> = (0..3)
            .map(|w| {
                let h = s.handle();
                let occ = Arc::clone(&occurrences);
                let done = Arc::clone(&done);
                thread::spawn(move || {
                    let mut n = 0u64;
                    while done.load(Ordering::SeqCst) == 0 {
                        let q = if (n + w).is_multiple_of(3) {
                            side
                        } else {
                            main
                        };
                        n += 1;
                        match h.get_task(q, Wait::Timeout(std::time::Duration::from_millis(1))) {
                            Ok(t) => {
                                record(&occ, &t);
                                if n.is_multiple_of(7) {
                                    // A retry of this period: a one-shot task.
                                    match h.schedule(t, When::After(2)) {
                                        Ok(_) | Err(SubmitError::Capacity(_)) => {}
                                        Err(SubmitError::UnknownQueue(_)) => {}
                                        Err(SubmitError::Stopped(_)) => return,
                                        Err(e) => panic!("retry: {e:?}"),
                                    }
                                }
                            }
                            Err(tardy::TakeError::Stopped) => return,
                            Err(_) => {}
                        }
                    }
                })
            })
            .collect();
        let mut rng = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut subject = 0u32;
        let mut side_queue = Some(side);
        for step in 0..600 {
            let live: Vec<u32> = tasks.lock().unwrap().keys().copied().collect();
            let pick = live
                .get((next() % live.len().max(1) as u64) as usize)
                .copied();
            match next() % 8 {
                0..=2 => {
                    let q = match side_queue {
                        Some(side) if next() % 3 == 0 => side,
                        _ => main,
                    };
                    let b = [Burst, Delay, Skip][(next() % 3) as usize];
                    let when =
                        [When::Now, When::After(next() % 5), When::At(0)][(next() % 3) as usize];
                    match s.schedule_periodic(
                        Task::new(q, subject, subject),
                        when,
                        1 + next() % 3,
                        b,
                    ) {
                        Ok(id) => {
                            tasks.lock().unwrap().insert(subject, (id, b));
                        }
                        Err(SubmitError::Capacity(_) | SubmitError::UnknownQueue(_)) => {}
                        Err(e) => panic!("schedule_periodic: {e:?}"),
                    }
                    subject += 1;
                }
                3 => {
                    if let Some(sub) = pick {
                        let id = tasks.lock().unwrap()[&sub].0;
                        if let Ok(t) = s.cancel(id) {
                            assert_eq!((t.id(), t.period()), (Some(id), None));
                            back.lock().unwrap().push(id);
                            tasks.lock().unwrap().remove(&sub);
                        } else {
                            panic!("a periodic task not handed back is scheduled");
                        }
                    }
                }
                4 => {
                    if let Some(sub) = pick {
                        let id = tasks.lock().unwrap()[&sub].0;
                        s.reschedule(id, When::After(next() % 4))
                            .expect("still scheduled");
                    }
                }
                5 => {
                    if let Some(sub) = pick {
                        let got = s.cancel_by_subject(&sub).unwrap();
                        let (id, _) = tasks.lock().unwrap().remove(&sub).unwrap();
                        let originals: Vec<_> = got.iter().filter(|t| t.id() == Some(id)).collect();
                        assert_eq!(originals.len(), 1, "by subject: the periodic task once");
                        back.lock().unwrap().push(id);
                    }
                }
                6 if step > 300 && side_queue.is_some() => {
                    let got = s.remove_queue(side).unwrap();
                    side_queue = None;
                    let mut tasks = tasks.lock().unwrap();
                    for t in &got {
                        record(&occurrences, t);
                        if let Some(id) = t.id().filter(|_| t.period().is_none()) {
                            if tasks.remove(t.subject()).is_some_and(|(i, _)| i == id) {
                                back.lock().unwrap().push(id);
                            }
                        }
                    }
                }
                _ => thread::yield_now(),
            }
        }
        let left = s.stop().unwrap();
        done.store(1, Ordering::SeqCst);
        for w in workers {
            w.join().unwrap();
        }
        let mut remaining = tasks.lock().unwrap();
        for t in &left {
            record(&occurrences, t);
            if t.period().is_none() {
                if let Some((id, _)) = remaining.get(t.subject()).copied() {
                    if t.id() == Some(id) {
                        remaining.remove(t.subject());
                        back.lock().unwrap().push(id);
                    }
                }
            }
        }
        assert!(
            remaining.is_empty(),
            "round {round}: not handed back: {remaining:?}"
        );
        let back = back.lock().unwrap();
        let unique: HashSet<_> = back.iter().collect();
        assert_eq!(
            unique.len(),
            back.len(),
            "round {round}: a periodic task handed back twice"
        );
        // Chains: no period lost or delivered twice.
        let mut by_subject: HashMap<u32, Vec<(u64, u64)>> = HashMap::new();
        for (sub, index, missed) in occurrences.lock().unwrap().iter() {
            by_subject.entry(*sub).or_default().push((*index, *missed));
        }
        for (sub, mut chain) in by_subject {
            chain.sort_unstable();
            assert_eq!(
                chain[0].0, 0,
                "round {round}: subject {sub} starts at period 0"
            );
            for w in chain.windows(2) {
                assert_eq!(
                    w[1].0,
                    w[0].0 + w[0].1 + 1,
                    "round {round}: subject {sub}: a period lost or repeated: {chain:?}"
                );
            }
        }
    }
}

/// A growing core at its capacity limit: periodic tasks re-arm without a
/// new slot, a new one or a retry is refused with the task back, and
/// `shrink_to_fit` between cancellations keeps each periodic task's
/// period, policy and payload (its side-table entry).
#[test]
fn growing_core_at_its_limit_keeps_periodic_tasks_right() {
    use tardy::{AllocScheduler, Clock as _, HeaplessQueue, ManualClock, ScheduleError};
    let clock = ManualClock::new(0);
    let mut s: AllocScheduler<&ManualClock, HeaplessQueue<Task<u32, u32>, 64>, u32, u32, 2> =
        AllocScheduler::new(&clock);
    s.set_max_capacity(Some(5));
    let q = s.add_queue("q", 0).unwrap();
    let mut ids = Vec::new();
    for i in 0..5u32 {
        let b = [Burst, Delay, Skip][i as usize % 3];
        ids.push(
            s.schedule_periodic(Task::new(q, i, 100 + i), When::At(0), u64::from(i) + 1, b)
                .unwrap(),
        );
    }
    match s.schedule_periodic(Task::new(q, 9, 9), When::Now, 1, Skip) {
        Err(ScheduleError::Capacity(t)) => assert_eq!((*t.subject(), *t.payload()), (9, 9)),
        other => panic!("expected Capacity, got {other:?}"),
    }
    let mut next_index = [0u64; 5];
    let mut first = [0u64; 5];
    for round in 0..40u64 {
        clock.set(clock.now() + 1 + round % 3);
        s.run_pending();
        while let Ok(t) = s.get_task(q) {
            let i = *t.subject() as usize;
            let p = t.period().unwrap();
            assert_eq!(*t.payload(), 100 + i as u32);
            assert_eq!(p.index, next_index[i], "task {i}");
            next_index[i] = p.index + p.missed + 1;
            if i % 3 != 1 {
                // Burst and Skip: on the grid 0 + k * period.
                assert_eq!(
                    t.deadline(),
                    first[i] + p.index * (i as u64 + 1),
                    "task {i}: on its grid"
                );
            }
            if round % 5 == 0 && round < 20 {
                // A retry needs a slot: refused at the limit, task back.
                let len = s.len();
                match s.schedule(t, When::After(1)) {
                    Err(ScheduleError::Capacity(back)) => assert!(back.period().is_some()),
                    other => panic!("round {round}, len {len}: expected Capacity, got {other:?}"),
                }
            }
        }
        if round == 20 {
            // Free the first two entries and shrink: the others keep theirs.
            s.cancel(ids[0]).unwrap();
            s.cancel(ids[1]).unwrap();
            s.shrink_to_fit();
            ids[0] = s
                .schedule_periodic(Task::new(q, 0, 100), When::Now, 1, Burst)
                .unwrap();
            next_index[0] = 0;
            first[0] = clock.now();
        }
    }
    assert_eq!(s.len(), 4);
}
