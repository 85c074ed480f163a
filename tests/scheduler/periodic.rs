// Periodic tasks, compiled once per storage inside `mod periodic` of
// tests/scheduler.rs (the includer's `T`, `Sched`, `sched` and `wide` are
// in scope through `super::*`). Each timeline below was worked out by hand
// from the rules of `MissedTickBehavior` (period 10 ticks unless said).

use tardy::MissedTickBehavior::{self, Burst, Delay, Skip};

/// What a delivered occurrence says: (period index, deadline, missed).
type Occ = (u64, u64, u64);

/// A step of a timeline: (clock, run_pending's count, occurrences then
/// taken, next deadline).
type Step = (u64, usize, &'static [Occ], Option<u64>);

/// A step of a full-queue log: (clock, occurrence taken, next deadline).
type Logged = (u64, Vec<Occ>, Option<u64>);

fn occ(t: &T) -> Occ {
    let p = t.period().expect("an occurrence of a periodic task");
    (p.index, t.deadline(), p.missed)
}

/// Takes every task from `q`, as `occ` tuples.
fn take_all(s: &mut Sched<'_>, q: QueueId) -> Vec<Occ> {
    let mut out = Vec::new();
    while let Ok(t) = s.get_task(q) {
        out.push(occ(&t));
    }
    out
}

/// Runs `steps` of (clock, run_pending's count, occurrences then taken,
/// next deadline) with the worker draining the queue after every step.
fn timeline(behavior: MissedTickBehavior, steps: &[Step]) {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 7, 70), When::At(0), 10, behavior)
        .unwrap();
    for (n, &(at, moved, taken, next)) in steps.iter().enumerate() {
        clock.set(at);
        assert_eq!(s.run_pending(), moved, "{behavior:?} step {n}: run_pending at {at}");
        assert_eq!(take_all(&mut s, q), taken, "{behavior:?} step {n}: occurrences at {at}");
        assert_eq!(s.next_deadline(), next, "{behavior:?} step {n}: next deadline");
        assert!(s.is_scheduled(id));
        assert_eq!(s.len(), 1);
    }
}

#[test]
fn burst_catches_up_one_occurrence_per_call_on_the_grid() {
    // The host is away from 10 to 35 (a slow worker, or a clock jump).
    // clock  run_pending  delivered (index, deadline, missed)  next
    // 0      1            #0 (0, 0, 0)                         10
    // 10     1            #1 (1, 10, 0)                        20
    // 35     1            #2 (2, 20, 0)                        30 (due: the call stops)
    // 35     1            #3 (3, 30, 0)                        40
    // 35     0            -                                    40
    // 40     1            #4 (4, 40, 0)                        50
    timeline(
        Burst,
        &[
            (0, 1, &[(0, 0, 0)], Some(10)),
            (10, 1, &[(1, 10, 0)], Some(20)),
            (35, 1, &[(2, 20, 0)], Some(30)),
            (35, 1, &[(3, 30, 0)], Some(40)),
            (35, 0, &[], Some(40)),
            (40, 1, &[(4, 40, 0)], Some(50)),
        ],
    );
}

#[test]
fn skip_coalesces_missed_periods_and_stays_on_the_grid() {
    // clock  run_pending  delivered                next
    // 0      1            #0 (0, 0, 0)             10
    // 10     1            #1 (1, 10, 0)            20
    // 35     1            #2 (2, 20, 1): 30 passed 40 (= 0 + 4 * 10)
    // 35     0            -                        40
    // 40     1            #4 (4, 40, 0)            50
    // 99     1            #5 (5, 50, 4): 60..90    100
    timeline(
        Skip,
        &[
            (0, 1, &[(0, 0, 0)], Some(10)),
            (10, 1, &[(1, 10, 0)], Some(20)),
            (35, 1, &[(2, 20, 1)], Some(40)),
            (35, 0, &[], Some(40)),
            (40, 1, &[(4, 40, 0)], Some(50)),
            (99, 1, &[(5, 50, 4)], Some(100)),
        ],
    );
}

#[test]
fn delay_shifts_the_schedule_to_one_period_after_a_late_delivery() {
    // clock  run_pending  delivered                next
    // 0      1            #0 (0, 0, 0)             10
    // 10     1            #1 (1, 10, 0)            20
    // 35     1            #2 (2, 20, 1): 30 passed 45 (= 35 + 10)
    // 40     0            -                        45
    // 45     1            #4 (4, 45, 0)            55
    // 56     1            #5 (5, 55, 0)            66
    timeline(
        Delay,
        &[
            (0, 1, &[(0, 0, 0)], Some(10)),
            (10, 1, &[(1, 10, 0)], Some(20)),
            (35, 1, &[(2, 20, 1)], Some(45)),
            (40, 0, &[], Some(45)),
            (45, 1, &[(4, 45, 0)], Some(55)),
            (56, 1, &[(5, 55, 0)], Some(66)),
        ],
    );
}

#[test]
fn a_clock_jump_forward_follows_the_policy() {
    // A jump of a million periods: Skip and Delay deliver once, counting
    // the rest as missed; Burst delivers one per call, on the grid.
    let jump = 10_000_005;
    for (behavior, first, next) in [
        (Skip, (1, 10, 999_999), 10_000_010),
        (Delay, (1, 10, 999_999), 10_000_015),
        (Burst, (1, 10, 0), 20),
    ] {
        let clock = ManualClock::new(0);
        let mut s = sched(&clock);
        let q = s.add_queue("q", 0).unwrap();
        s.schedule_periodic(Task::new(q, 1, 1), When::At(0), 10, behavior)
            .unwrap();
        assert_eq!(s.run_pending(), 1);
        assert_eq!(take_all(&mut s, q), [(0, 0, 0)]);
        clock.set(jump);
        assert_eq!(s.run_pending(), 1, "{behavior:?}");
        assert_eq!(take_all(&mut s, q), [first], "{behavior:?}");
        assert_eq!(s.next_deadline(), Some(next), "{behavior:?}");
    }
}

/// A slow worker: the queue (2 places) stays full from 10 to 35.
fn full_queue(behavior: MissedTickBehavior) -> Vec<Logged> {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 2).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 1, 1), When::At(0), 10, behavior)
        .unwrap();
    let mut log = Vec::new();
    for t in [0, 10, 20, 30] {
        clock.set(t);
        s.run_pending();
    }
    // #0 and #1 fill the queue; the occurrence of period 2 waits.
    assert_eq!(s.stats(q).unwrap().queued, 2);
    assert_eq!(s.stats(q).unwrap().waiting, 1);
    assert_eq!(s.stats(q).unwrap().scheduled, 1);
    assert_eq!(s.next_deadline(), None, "a waiting task is not in the schedule");
    assert!(s.is_scheduled(id));
    // From 35 on, the worker takes one task per step.
    for t in [35, 35, 40, 45, 50, 55] {
        clock.set(t);
        s.run_pending();
        let got = s.get_task(q).map(|t| occ(&t)).into_iter().collect();
        log.push((t, got, s.next_deadline()));
    }
    log
}

#[test]
fn burst_with_a_full_queue_loses_no_period() {
    // A taken task makes room: the waiting occurrence enters at once.
    // clock  taken         enters       next deadline
    // 35     #0            #2 (20, +0)  30 (due)
    // 35     #1 (run: #3 waits) #3 (30) 40
    // 40     #2            #4 (40)      50
    // 45     #3            -            50
    // 50     #4            #5 (50)      60
    // 55     #5            -            60
    let log = full_queue(Burst);
    assert_eq!(
        log,
        [
            (35, vec![(0, 0, 0)], Some(30)),
            (35, vec![(1, 10, 0)], Some(40)),
            (40, vec![(2, 20, 0)], Some(50)),
            (45, vec![(3, 30, 0)], Some(50)),
            (50, vec![(4, 40, 0)], Some(60)),
            (55, vec![(5, 50, 0)], Some(60)),
        ]
    );
}

#[test]
fn skip_with_a_full_queue_coalesces_the_periods_it_waited() {
    // The occurrence of period 2 (due 20) enters at 35: 30 passed too.
    // clock  taken      enters         next deadline
    // 35     #0         #2 (20, +1)    40
    // 35     #1         -              40
    // 40     #2+1       (#4 enters at run_pending, then) -> taken next
    // ...
    let log = full_queue(Skip);
    assert_eq!(
        log,
        [
            (35, vec![(0, 0, 0)], Some(40)),
            (35, vec![(1, 10, 0)], Some(40)),
            (40, vec![(2, 20, 1)], Some(50)),
            (45, vec![(4, 40, 0)], Some(50)),
            (50, vec![(5, 50, 0)], Some(60)),
            (55, vec![], Some(60)),
        ]
    );
}

#[test]
fn delay_with_a_full_queue_restarts_one_period_after_it_entered() {
    // The occurrence of period 2 (due 20) enters at 35 (+1), next at 45.
    let log = full_queue(Delay);
    assert_eq!(
        log,
        [
            (35, vec![(0, 0, 0)], Some(45)),
            (35, vec![(1, 10, 0)], Some(45)),
            (40, vec![(2, 20, 1)], Some(45)),
            (45, vec![(4, 45, 0)], Some(55)),
            (50, vec![], Some(55)),
            (55, vec![(5, 55, 0)], Some(65)),
        ]
    );
}

#[test]
fn occurrences_are_ordinary_tasks_with_their_own_ids() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 3, 30), When::After(5), 10, Skip)
        .unwrap();
    assert_eq!(s.scheduled_task(id).unwrap().deadline(), 5);
    clock.set(5);
    assert_eq!(s.run_pending(), 1);
    let o = s.get_task(q).unwrap();
    assert_ne!(o.id(), Some(id), "an occurrence has its own id");
    assert!(!s.is_scheduled(o.id().unwrap()));
    assert_eq!((o.subject(), o.payload(), o.attempt()), (&3, &30, 1));
    assert_eq!(o.period(), Some(tardy::Period { index: 0, missed: 0 }));
    assert_eq!(s.cancel(o.id().unwrap()), Err(NotScheduled));
    assert!(s.is_scheduled(id), "the periodic task goes on");
    assert_eq!(s.stats(q).unwrap().scheduled, 1);
}

#[test]
fn a_worker_retries_an_occurrence_without_disturbing_the_period() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 1, 10), When::At(10), 10, Burst)
        .unwrap();
    clock.set(10);
    s.run_pending();
    let o = s.get_task(q).unwrap();
    // The fetch failed: retry this renewal in 3 ticks.
    let retry = s.schedule(o, When::After(3)).unwrap();
    assert_ne!(retry, id);
    assert_eq!(s.len(), 2);
    clock.set(13);
    assert_eq!(s.run_pending(), 1);
    let r = s.get_task(q).unwrap();
    assert_eq!((r.id(), r.deadline(), r.attempt()), (Some(retry), 13, 2));
    assert_eq!(r.period(), None, "a retry is an ordinary task");
    // The period is untouched: period 1 at 20.
    clock.set(20);
    assert_eq!(s.run_pending(), 1);
    let o = s.get_task(q).unwrap();
    assert_eq!(occ(&o), (1, 20, 0));
    // A retry straight into the queue is an ordinary task too.
    s.schedule(o, When::Now).unwrap();
    let r = s.get_task(q).unwrap();
    assert_eq!((r.period(), r.attempt()), (None, 2));
    assert!(s.is_scheduled(id));
}

#[test]
fn cancel_hands_the_periodic_task_back_once() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 1, 42), When::At(10), 10, Skip)
        .unwrap();
    for t in [10, 20] {
        clock.set(t);
        s.run_pending();
    }
    let back = s.cancel(id).unwrap();
    assert_eq!((back.id(), back.deadline(), back.payload()), (Some(id), 30, &42));
    assert_eq!(back.period(), None);
    assert_eq!(s.cancel(id), Err(NotScheduled));
    assert!(!s.is_scheduled(id));
    assert_eq!(s.reschedule(id, When::At(1)), Err(NotScheduled));
    assert!(s.is_empty());
    // Occurrences already delivered stay in the queue.
    assert_eq!(take_all(&mut s, q), [(0, 10, 0), (1, 20, 0)]);
    clock.set(100);
    assert_eq!(s.run_pending(), 0);
}

#[test]
fn reschedule_moves_the_next_deadline_and_the_periods_follow() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 1, 1), When::At(10), 10, Skip)
        .unwrap();
    clock.set(10);
    s.run_pending();
    assert_eq!(s.reschedule(id, When::At(25)), Ok(25));
    assert_eq!(s.next_deadline(), Some(25));
    clock.set(20);
    assert_eq!(s.run_pending(), 0);
    for t in [25, 35] {
        clock.set(t);
        assert_eq!(s.run_pending(), 1);
    }
    assert_eq!(take_all(&mut s, q), [(0, 10, 0), (1, 25, 0), (2, 35, 0)]);
    assert!(s.is_scheduled(id));
}

#[test]
fn reschedule_a_waiting_periodic_task_back_into_the_schedule() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 1).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 1, 1), When::At(0), 10, Burst)
        .unwrap();
    s.run_pending();
    clock.set(10);
    s.run_pending();
    assert_eq!(s.stats(q).unwrap().waiting, 1);
    assert_eq!(s.reschedule(id, When::At(50)), Ok(50));
    assert_eq!(s.stats(q).unwrap().waiting, 0);
    assert_eq!(take_all(&mut s, q), [(0, 0, 0)]);
    clock.set(50);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(take_all(&mut s, q), [(1, 50, 0)]);
    assert_eq!(s.next_deadline(), Some(60));
}

#[test]
fn cancel_by_subject_remove_queue_and_clear_hand_the_original_back() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let other = s.add_queue("other", 0).unwrap();
    let a = s
        .schedule_periodic(Task::new(q, 5, 1), When::At(0), 10, Burst)
        .unwrap();
    s.schedule_periodic(Task::new(q, 6, 2), When::At(0), 10, Skip)
        .unwrap();
    s.schedule_periodic(Task::new(other, 6, 3), When::At(0), 10, Delay)
        .unwrap();
    assert_eq!(s.run_pending(), 3);
    // cancel_by_subject: the periodic tasks of subject 6, once each; the
    // occurrences already in queues stay.
    let (n, back) = collect_back(|f| s.cancel_by_subject(&6, f));
    assert_eq!((n, back), (2, vec![2, 3]));
    assert_eq!(s.cancel_by_subject(&6, |_| panic!("handed back twice")), 0);
    assert!(s.is_scheduled(a));
    // remove_queue: the periodic task and the occurrences in the queue.
    let (n, back) = collect_back(|f| s.remove_queue(q, f).unwrap());
    assert_eq!((n, back), (3, vec![1, 1, 2]));
    assert!(!s.is_scheduled(a));
    // clear: what is left (the occurrence in `other`).
    let b = s
        .schedule_periodic(Task::new(other, 7, 4), When::At(50), 10, Skip)
        .unwrap();
    let (n, back) = collect_back(|f| s.clear(f));
    assert_eq!((n, back), (2, vec![3, 4]));
    assert!(!s.is_scheduled(b));
    assert!(s.is_empty());
    clock.set(1000);
    assert_eq!(s.run_pending(), 0);
}

#[test]
fn a_period_of_zero_is_refused_and_the_task_handed_back() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let e = s
        .schedule_periodic(Task::new(q, 1, 9), When::At(5), 0, Burst)
        .unwrap_err();
    assert!(matches!(e, ScheduleError::ZeroPeriod(_)));
    assert_eq!(e.to_string(), "the period is 0");
    let t = e.into_inner();
    assert_eq!((t.payload(), t.attempt(), t.id()), (&9, 0, None));
    assert!(s.is_empty());
    // The other errors of `schedule` hand the task back too.
    s.remove_queue(q, drop).unwrap();
    let e = s
        .schedule_periodic(Task::new(q, 1, 9), When::At(5), 10, Burst)
        .unwrap_err();
    assert!(matches!(e, ScheduleError::UnknownQueue(_)));
}

#[test]
fn periodic_tasks_take_one_slot_each_and_capacity_holds() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    for i in 0..8 {
        s.schedule_periodic(Task::new(q, i, i), When::At(0), 10, Skip)
            .unwrap();
    }
    let e = s
        .schedule_periodic(Task::new(q, 9, 9), When::At(0), 10, Skip)
        .unwrap_err();
    assert!(matches!(e, ScheduleError::Capacity(_)));
    // Deliveries keep the slots: the queue (4 places) fills, the rest wait.
    assert_eq!(s.run_pending(), 4);
    assert_eq!(s.len(), 8);
    assert_eq!(s.stats(q).unwrap().waiting, 4);
}

#[test]
fn when_now_makes_the_first_occurrence_due_through_the_schedule() {
    let clock = ManualClock::new(7);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    s.schedule_periodic(Task::new(q, 1, 1), When::Now, 10, Burst)
        .unwrap();
    assert_eq!(s.stats(q).unwrap().queued, 0);
    assert_eq!(s.next_deadline(), Some(7));
    assert_eq!(s.run_pending(), 1);
    assert_eq!(take_all(&mut s, q), [(0, 7, 0)]);
    assert_eq!(s.next_deadline(), Some(17));
}

#[test]
fn deliveries_keep_deadline_order_with_one_shot_tasks() {
    // Burst catching up stops the call at its next occurrence, so a
    // one-shot task due between two occurrences comes between them.
    let clock = ManualClock::new(0);
    let mut s = wide(&clock);
    let q = s.add_queue("q", 0).unwrap();
    s.schedule_periodic(Task::new(q, 1, 100), When::At(0), 10, Burst)
        .unwrap();
    s.schedule(Task::new(q, 2, 15), When::At(15)).unwrap();
    s.schedule(Task::new(q, 2, 25), When::At(25)).unwrap();
    clock.set(30);
    let mut order = Vec::new();
    while s.run_pending() > 0 {
        while let Ok(t) = s.get_task(q) {
            order.push(t.deadline());
        }
    }
    assert_eq!(order, [0, 10, 15, 20, 25, 30]);
    assert_eq!(s.next_deadline(), Some(40));
}

#[test]
fn run_all_delivers_up_to_the_next_occurrence_of_a_periodic_task() {
    // run_all delivers in deadline order; it stops where a periodic task
    // it delivered comes due again, so it always returns.
    let clock = ManualClock::new(0);
    let mut s = wide(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s
        .schedule_periodic(Task::new(q, 1, 100), When::At(100), 10, Skip)
        .unwrap();
    s.schedule(Task::new(q, 2, 105), When::At(105)).unwrap();
    s.schedule(Task::new(q, 2, 200), When::At(200)).unwrap();
    assert_eq!(s.run_all(), 2);
    let got: Vec<_> = std::iter::from_fn(|| s.get_task(q).ok())
        .map(|t| (t.deadline(), t.period().map(|p| p.index)))
        .collect();
    assert_eq!(got, [(100, Some(0)), (105, None)]);
    assert_eq!(s.next_deadline(), Some(110));
    assert!(s.is_scheduled(id));
}

#[test]
fn deadlines_saturate_near_the_end_of_time() {
    let max = u64::MAX;
    for behavior in [Burst, Skip, Delay] {
        let clock = ManualClock::new(max - 15);
        let mut s = sched(&clock);
        let q = s.add_queue("q", 0).unwrap();
        let id = s
            .schedule_periodic(Task::new(q, 1, 1), When::Now, 10, behavior)
            .unwrap();
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.next_deadline(), Some(max - 5), "{behavior:?}");
        clock.set(max - 5);
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.next_deadline(), Some(max), "{behavior:?}: saturated");
        clock.set(max);
        // At the end of time each call delivers one occurrence, due at MAX.
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.next_deadline(), Some(max));
        let got = take_all(&mut s, q);
        assert_eq!(got.len(), 4);
        assert_eq!(got[..2], [(0, max - 15, 0), (1, max - 5, 0)], "{behavior:?}");
        assert!(got[2..].iter().all(|&(_, d, _)| d == max), "{behavior:?}");
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "{behavior:?}: indexes grow");
        // A period as long as time itself.
        s.cancel(id).unwrap();
        clock.set(5);
        s.schedule_periodic(Task::new(q, 1, 1), When::At(5), max, behavior)
            .unwrap();
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.next_deadline(), Some(max), "{behavior:?}");
    }
}
