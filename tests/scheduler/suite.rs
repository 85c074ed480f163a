// The suite of tests/scheduler.rs, compiled once per storage: the includer
// defines `T` (`Task<u32, u32>`), `Sched` (8 task slots, 4 queue slots,
// queues of at most 4 tasks) with `sched`, and `wide` (16 task slots,
// queues of 16).

use tardy::{
    AddQueueError, Clock, GetTaskError, NotScheduled, QueueId, ScheduleError, Task,
    TaskDoneError, TaskId, UnknownQueue, When, MAX_NAME_LEN,
};


/// Takes every task from `q`, returning the payloads in order.
fn drain(s: &mut Sched<'_>, q: QueueId) -> Vec<u32> {
    let mut out = Vec::new();
    while let Ok(t) = s.get_task(q) {
        out.push(*t.payload());
    }
    out
}

fn collect_back(f: impl FnOnce(&mut dyn FnMut(T)) -> usize) -> (usize, Vec<u32>) {
    let mut back = Vec::new();
    let n = f(&mut |t: T| back.push(*t.payload()));
    back.sort_unstable();
    (n, back)
}

// ----- add_queue / queue_id ----------------------------------------------

#[test]
fn add_queue_and_look_it_up() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let a = s.add_queue("a", 2).unwrap();
    let b = s.add_queue("b", 0).unwrap();
    assert_ne!(a, b);
    assert_eq!(s.queue_id("a"), Ok(a));
    assert_eq!(s.queue_id("b"), Ok(b));
    assert_eq!(s.queue_id("c"), Err(UnknownQueue));
    assert_eq!(s.queue_name(a), Some("a"));
    assert_eq!(s.stats(a).unwrap().max_size, 2);
    // 0 means "as many as the queue type holds".
    assert_eq!(s.stats(b).unwrap().max_size, 4);
    assert_eq!(s.stats(b).unwrap().room, 4);
    let mut ids: Vec<QueueId> = s.queue_ids().collect();
    ids.sort_by_key(|q| s.queue_name(*q).map(str::to_owned));
    assert_eq!(ids, [a, b]);
}

#[test]
fn add_queue_errors() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    s.add_queue("a", 0).unwrap();
    assert_eq!(s.add_queue("a", 1), Err(AddQueueError::NameTaken));
    assert_eq!(s.add_queue("", 1), Err(AddQueueError::InvalidName));
    let longest = "x".repeat(MAX_NAME_LEN);
    let too_long = "x".repeat(MAX_NAME_LEN + 1);
    assert_eq!(s.add_queue(&too_long, 1), Err(AddQueueError::InvalidName));
    assert_eq!(s.queue_id(&too_long), Err(UnknownQueue));
    // A multi-byte name is measured in bytes.
    let wide = "é".repeat(MAX_NAME_LEN / 2 + 1);
    assert!(wide.len() > MAX_NAME_LEN);
    assert_eq!(s.add_queue(&wide, 1), Err(AddQueueError::InvalidName));
    assert_eq!(s.add_queue("big", 5), Err(AddQueueError::InvalidMaxSize));
    s.add_queue(&longest, 4).unwrap();
    s.add_queue("b", 1).unwrap();
    s.add_queue("c", 1).unwrap();
    // All four queue slots are in use.
    assert_eq!(s.add_queue("d", 1), Err(AddQueueError::NoQueueSlot));
    // A failed add takes no slot and leaves the others alone.
    assert_eq!(s.queue_ids().count(), 4);
    let b = s.queue_id("b").unwrap();
    s.remove_queue(b, |_| {}).unwrap();
    assert!(s.add_queue("d", 1).is_ok());
}

// ----- schedule / get_task -------------------------------------------------

#[test]
fn now_goes_straight_into_the_queue() {
    let clock = ManualClock::new(5);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s.schedule(Task::new(q, 1, 10), When::Now).unwrap();
    assert!(
        !s.is_scheduled(id),
        "an ASAP task is in its queue, not scheduled"
    );
    assert!(s.is_empty());
    assert_eq!(s.stats(q).unwrap().queued, 1);
    let t = s.get_task(q).unwrap();
    assert_eq!(
        (*t.payload(), t.deadline(), t.attempt(), t.id()),
        (10, 5, 1, Some(id))
    );
}

#[test]
fn at_and_after_wait_for_their_deadline() {
    let clock = ManualClock::new(100);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let at = s.schedule(Task::new(q, 1, 1), When::At(150)).unwrap();
    let after = s.schedule(Task::new(q, 1, 2), When::After(20)).unwrap();
    assert_ne!(at, after);
    assert_eq!(s.scheduled_task(after).unwrap().deadline(), 120);
    assert_eq!(s.scheduled_task(at).unwrap().deadline(), 150);
    assert_eq!(s.len(), 2);
    assert_eq!(s.next_deadline(), Some(120));
    clock.set(119);
    assert_eq!(s.run_pending(), 0);
    assert_eq!(s.get_task(q), Err(GetTaskError::Empty));
    clock.set(120);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(s.next_deadline(), Some(150));
    assert_eq!(drain(&mut s, q), [2]);
    clock.set(149);
    assert_eq!(s.run_pending(), 0);
    clock.set(150);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [1]);
    assert_eq!(s.next_deadline(), None);
    assert!(s.is_empty());
}

#[test]
fn past_deadline_and_after_zero_go_through_the_schedule() {
    let clock = ManualClock::new(100);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    s.schedule(Task::new(q, 1, 1), When::At(3)).unwrap();
    s.schedule(Task::new(q, 1, 2), When::After(0)).unwrap();
    assert_eq!(
        s.stats(q).unwrap().queued,
        0,
        "not delivered before run_pending"
    );
    assert_eq!(s.next_deadline(), Some(3));
    assert_eq!(s.run_pending(), 2);
    assert_eq!(drain(&mut s, q), [1, 2]);
}

#[test]
fn get_task_errors() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    assert_eq!(s.get_task(q), Err(GetTaskError::Empty));
    s.remove_queue(q, |_| {}).unwrap();
    assert_eq!(s.get_task(q), Err(GetTaskError::UnknownQueue));
}

#[test]
fn schedule_into_unknown_queue_hands_the_task_back() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    s.remove_queue(q, |_| {}).unwrap();
    for when in [When::Now, When::At(1), When::After(1)] {
        match s.schedule(Task::new(q, 4, 44), when) {
            Err(ScheduleError::UnknownQueue(t)) => {
                assert_eq!(
                    (*t.subject(), *t.payload(), t.attempt(), t.id()),
                    (4, 44, 0, None)
                );
            }
            other => panic!("expected UnknownQueue, got {other:?}"),
        }
    }
}

// ----- ordering ---------------------------------------------------------

#[test]
fn deadline_order_with_ties_in_scheduling_order() {
    let clock = ManualClock::new(0);
    let mut s = wide(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let deadlines = [30, 10, 20, 10, 30, 0, 20, 10];
    for (i, d) in (0u32..).zip(deadlines) {
        s.schedule(Task::new(q, 1, i), When::At(d)).unwrap();
    }
    clock.set(100);
    assert_eq!(s.run_pending(), 8);
    let mut got = Vec::new();
    while let Ok(t) = s.get_task(q) {
        got.push(*t.payload());
    }
    assert_eq!(got, [5, 1, 3, 7, 2, 6, 0, 4]);
}

#[test]
fn never_early_one_tick_at_a_time() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    for d in [7u32, 3, 5, 3] {
        s.schedule(Task::new(q, 1, d), When::At(u64::from(d)))
            .unwrap();
    }
    for now in 0..10u64 {
        clock.set(now);
        s.run_pending();
        while let Ok(t) = s.get_task(q) {
            assert!(
                t.deadline() <= now,
                "delivered at {now} before {}",
                t.deadline()
            );
            assert_eq!(t.deadline(), now, "delivered late although run every tick");
        }
    }
    assert!(s.is_empty());
}

#[test]
fn run_all_delivers_everything_in_deadline_order() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    s.schedule(Task::new(q, 1, 1), When::At(u64::MAX)).unwrap();
    s.schedule(Task::new(q, 1, 2), When::At(500)).unwrap();
    s.schedule(Task::new(q, 1, 3), When::After(9)).unwrap();
    assert_eq!(s.run_all(), 3);
    assert!(s.is_empty());
    assert_eq!(s.next_deadline(), None);
    assert_eq!(drain(&mut s, q), [3, 2, 1]);
    assert_eq!(s.run_all(), 0);
}

#[test]
fn run_all_into_a_full_queue_leaves_the_rest_waiting_in_order() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 2).unwrap();
    for i in 0..5u32 {
        s.schedule(Task::new(q, 1, i), When::At(1000 - u64::from(i)))
            .unwrap();
    }
    assert_eq!(s.run_all(), 2);
    let st = s.stats(q).unwrap();
    assert_eq!((st.queued, st.scheduled, st.waiting, st.room), (2, 3, 3, 0));
    assert_eq!(
        s.next_deadline(),
        None,
        "waiting tasks are not in the schedule"
    );
    assert_eq!(drain(&mut s, q), [4, 3, 2, 1, 0]);
}

// ----- full queues -------------------------------------------------------

#[test]
fn now_into_a_full_queue_hands_the_task_back() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 1).unwrap();
    s.schedule(Task::new(q, 1, 1), When::Now).unwrap();
    let mut retry = s.get_task(q).unwrap();
    s.schedule(Task::new(q, 1, 2), When::Now).unwrap();
    // A retried task keeps its handle and attempt when it comes back.
    let old = (retry.id(), retry.attempt(), retry.deadline());
    *retry.payload_mut() = 3;
    match s.schedule(retry, When::Now) {
        Err(ScheduleError::QueueFull(t)) => {
            assert_eq!((t.id(), t.attempt(), t.deadline()), old);
            assert_eq!(*t.payload(), 3);
        }
        other => panic!("expected QueueFull, got {other:?}"),
    }
    assert_eq!(s.stats(q).unwrap().queued, 1);
    assert_eq!(drain(&mut s, q), [2]);
}

#[test]
fn due_tasks_for_a_full_queue_wait_in_order_and_enter_as_room_is_made() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 2).unwrap();
    for i in 0..5u32 {
        s.schedule(Task::new(q, 1, i), When::At(u64::from(i)))
            .unwrap();
    }
    clock.set(10);
    assert_eq!(s.run_pending(), 2);
    assert_eq!(s.stats(q).unwrap().waiting, 3);
    assert_eq!(s.len(), 3, "waiting tasks are still scheduled");
    // No overtaking: an ASAP task is refused while due tasks wait.
    assert!(matches!(
        s.schedule(Task::new(q, 1, 99), When::Now),
        Err(ScheduleError::QueueFull(_))
    ));
    // Taking one makes room for exactly the next in line.
    assert_eq!(*s.get_task(q).unwrap().payload(), 0);
    let st = s.stats(q).unwrap();
    assert_eq!((st.queued, st.waiting, st.taken), (2, 2, 1));
    // A later task due now goes behind those already waiting.
    s.schedule(Task::new(q, 1, 5), When::At(0)).unwrap();
    assert_eq!(s.run_pending(), 0);
    assert_eq!(s.stats(q).unwrap().waiting, 3);
    assert_eq!(drain(&mut s, q), [1, 2, 3, 4, 5]);
    assert!(s.is_empty());
    // Once drained, ASAP works again.
    assert!(s.schedule(Task::new(q, 1, 6), When::Now).is_ok());
}

#[test]
fn a_full_queue_does_not_hold_up_other_queues() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let full = s.add_queue("full", 1).unwrap();
    let free = s.add_queue("free", 0).unwrap();
    // The full queue's tasks are earlier than the other queue's.
    for i in 0..3u32 {
        s.schedule(Task::new(full, 1, i), When::At(u64::from(i)))
            .unwrap();
    }
    for i in 10..13u32 {
        s.schedule(Task::new(free, 1, i), When::At(u64::from(i)))
            .unwrap();
    }
    clock.set(100);
    assert_eq!(s.run_pending(), 4);
    assert_eq!(drain(&mut s, free), [10, 11, 12]);
    assert_eq!(s.stats(full).unwrap().waiting, 2);
    assert_eq!(drain(&mut s, full), [0, 1, 2]);
}

// ----- capacity -----------------------------------------------------------

#[test]
fn no_free_slot_hands_the_task_back() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let ids: Vec<TaskId> = (0..8)
        .map(|i| s.schedule(Task::new(q, i, i), When::At(10)).unwrap())
        .collect();
    assert_eq!(s.len(), s.capacity());
    for when in [When::At(1), When::After(1)] {
        match s.schedule(Task::new(q, 9, 99), when) {
            Err(ScheduleError::Capacity(t)) => {
                assert_eq!((*t.payload(), t.attempt(), t.id()), (99, 0, None));
            }
            other => panic!("expected Capacity, got {other:?}"),
        }
    }
    // ASAP needs no slot.
    assert!(s.schedule(Task::new(q, 9, 100), When::Now).is_ok());
    // A freed slot is usable again, and the others are untouched.
    s.cancel(ids[3]).unwrap();
    s.schedule(Task::new(q, 9, 8), When::At(1)).unwrap();
    assert_eq!(s.len(), 8);
    clock.set(10);
    assert_eq!(s.run_pending(), 3, "queue holds 4, one was there");
    assert_eq!(drain(&mut s, q), [100, 8, 0, 1, 2, 4, 5, 6, 7]);
}

// ----- cancel and stale handles --------------------------------------------

#[test]
fn cancel_hands_the_task_back_once() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let id = s.schedule(Task::new(q, 3, 33), When::At(10)).unwrap();
    let t = s.cancel(id).unwrap();
    assert_eq!(
        (*t.subject(), *t.payload(), t.id(), t.attempt()),
        (3, 33, Some(id), 1)
    );
    assert_eq!(s.cancel(id), Err(NotScheduled));
    assert!(s.is_empty());
    clock.set(100);
    assert_eq!(s.run_all(), 0);
    assert_eq!(s.get_task(q), Err(GetTaskError::Empty));
}

#[test]
fn stale_handles_never_touch_another_task() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    // Delivered.
    let delivered = s.schedule(Task::new(q, 1, 1), When::At(0)).unwrap();
    s.run_pending();
    // Cancelled.
    let cancelled = s.schedule(Task::new(q, 1, 2), When::At(5)).unwrap();
    s.cancel(cancelled).unwrap();
    // Their slots are reused by new tasks.
    let a = s.schedule(Task::new(q, 1, 3), When::At(7)).unwrap();
    let b = s.schedule(Task::new(q, 1, 4), When::At(8)).unwrap();
    assert_eq!(s.len(), 2);
    for stale in [delivered, cancelled] {
        assert!(!s.is_scheduled(stale));
        assert!(s.scheduled_task(stale).is_none());
        assert_eq!(s.cancel(stale), Err(NotScheduled));
        assert_eq!(s.reschedule(stale, When::At(100)), Err(NotScheduled));
    }
    // Handles that never existed.
    assert_eq!(TaskId::from_raw(0), None);
    for raw in [1, 2, 0xFFFF, 1 << 16, (1 << 16) | 1, u64::MAX] {
        let id = TaskId::from_raw(raw).unwrap();
        if id != a && id != b {
            assert_eq!(s.cancel(id), Err(NotScheduled));
        }
    }
    assert_eq!(s.len(), 2);
    assert_eq!(s.scheduled_task(a).unwrap().deadline(), 7);
    assert_eq!(s.scheduled_task(b).unwrap().deadline(), 8);
    clock.set(8);
    assert_eq!(s.run_pending(), 2);
    assert_eq!(drain(&mut s, q), [1, 3, 4]);
}

#[test]
fn a_stale_handle_of_a_retried_task_is_stale() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let first = s.schedule(Task::new(q, 1, 1), When::At(0)).unwrap();
    s.run_pending();
    let t = s.get_task(q).unwrap();
    let second = s.schedule(t, When::After(5)).unwrap();
    assert_ne!(first, second);
    assert_eq!(s.cancel(first), Err(NotScheduled));
    assert!(s.is_scheduled(second));
}

#[test]
fn cancel_a_waiting_task() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 1).unwrap();
    let ids: Vec<TaskId> = (0..4u32)
        .map(|i| {
            s.schedule(Task::new(q, 1, i), When::At(u64::from(i)))
                .unwrap()
        })
        .collect();
    clock.set(5);
    s.run_pending();
    assert_eq!(s.stats(q).unwrap().waiting, 3);
    assert_eq!(s.cancel(ids[0]), Err(NotScheduled), "already in the queue");
    assert_eq!(*s.cancel(ids[2]).unwrap().payload(), 2);
    assert_eq!(s.stats(q).unwrap().waiting, 2);
    assert_eq!(drain(&mut s, q), [0, 1, 3]);
}

// ----- reschedule -----------------------------------------------------------

#[test]
fn reschedule_moves_the_task_and_keeps_its_handle() {
    let clock = ManualClock::new(100);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let a = s.schedule(Task::new(q, 1, 1), When::At(110)).unwrap();
    let b = s.schedule(Task::new(q, 1, 2), When::At(120)).unwrap();
    s.reschedule(a, When::At(130)).unwrap();
    assert_eq!(s.next_deadline(), Some(120));
    assert_eq!(s.len(), 2, "rescheduling replaces, never duplicates");
    s.reschedule(b, When::After(50)).unwrap();
    assert_eq!(s.scheduled_task(b).unwrap().deadline(), 150);
    let t = s.scheduled_task(a).unwrap();
    assert_eq!((t.deadline(), t.attempt(), t.id()), (130, 1, a));
    clock.set(129);
    assert_eq!(s.run_pending(), 0);
    clock.set(200);
    assert_eq!(s.run_pending(), 2);
    assert_eq!(drain(&mut s, q), [1, 2]);
    assert_eq!(s.reschedule(a, When::Now), Err(NotScheduled));
}

#[test]
fn reschedule_now_is_due_at_once_but_goes_through_the_schedule() {
    let clock = ManualClock::new(40);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let a = s.schedule(Task::new(q, 1, 1), When::At(1000)).unwrap();
    s.reschedule(a, When::Now).unwrap();
    assert_eq!(s.next_deadline(), Some(40));
    assert_eq!(s.stats(q).unwrap().queued, 0);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [1]);
}

#[test]
fn a_rescheduled_task_goes_behind_ties() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let a = s.schedule(Task::new(q, 1, 1), When::At(10)).unwrap();
    s.schedule(Task::new(q, 1, 2), When::At(10)).unwrap();
    let c = s.schedule(Task::new(q, 1, 3), When::At(5)).unwrap();
    s.schedule(Task::new(q, 1, 4), When::At(10)).unwrap();
    // Same deadline again: it still goes to the back of the tie.
    s.reschedule(a, When::At(10)).unwrap();
    s.reschedule(c, When::At(10)).unwrap();
    clock.set(10);
    assert_eq!(s.run_pending(), 4);
    assert_eq!(drain(&mut s, q), [2, 4, 1, 3]);
}

#[test]
fn reschedule_a_waiting_task_back_into_the_schedule() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 1).unwrap();
    let ids: Vec<TaskId> = (0..3u32)
        .map(|i| {
            s.schedule(Task::new(q, 1, i), When::At(u64::from(i)))
                .unwrap()
        })
        .collect();
    clock.set(5);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(s.stats(q).unwrap().waiting, 2);
    s.reschedule(ids[1], When::At(50)).unwrap();
    let st = s.stats(q).unwrap();
    assert_eq!((st.waiting, st.scheduled), (1, 2));
    assert_eq!(s.next_deadline(), Some(50));
    assert_eq!(drain(&mut s, q), [0, 2]);
    clock.set(49);
    assert_eq!(s.run_pending(), 0);
    clock.set(50);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [1]);
    // A waiting task rescheduled to now goes behind those still waiting.
    let ids: Vec<TaskId> = (10..13u32)
        .map(|i| s.schedule(Task::new(q, 1, i), When::At(50)).unwrap())
        .collect();
    assert_eq!(s.run_pending(), 1);
    s.reschedule(ids[1], When::Now).unwrap();
    assert_eq!(s.run_pending(), 0);
    assert_eq!(s.stats(q).unwrap().waiting, 2);
    assert_eq!(drain(&mut s, q), [10, 12, 11]);
}

// ----- cancel_by_subject ------------------------------------------------------

#[test]
fn cancel_by_subject_hands_back_every_scheduled_task_of_the_subject() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let a = s.add_queue("a", 1).unwrap();
    let b = s.add_queue("b", 0).unwrap();
    // Subject 7 on both queues, one already delivered, one waiting.
    s.schedule(Task::new(a, 7, 0), When::At(0)).unwrap();
    s.schedule(Task::new(a, 7, 1), When::At(1)).unwrap();
    s.schedule(Task::new(a, 8, 2), When::At(20)).unwrap();
    s.schedule(Task::new(b, 7, 3), When::At(30)).unwrap();
    s.schedule(Task::new(b, 7, 4), When::At(30)).unwrap();
    s.schedule(Task::new(b, 9, 5), When::At(30)).unwrap();
    clock.set(1);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(s.stats(a).unwrap().waiting, 1);
    let (n, back) = collect_back(|f| s.cancel_by_subject(&7, f));
    assert_eq!((n, back), (3, vec![1, 3, 4]));
    assert_eq!(s.cancel_by_subject(&7, |_| panic!("none left behind")), 0);
    assert_eq!(s.cancel_by_subject(&1234, |_| panic!("unknown subject")), 0);
    assert_eq!(s.len(), 2);
    clock.set(100);
    s.run_pending();
    assert_eq!(
        drain(&mut s, a),
        [0, 2],
        "the delivered task stays in its queue"
    );
    assert_eq!(drain(&mut s, b), [5]);
}

#[test]
fn cancel_by_subject_leaves_nothing_behind_at_full_capacity() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    // Interleaved subjects so the subject's tasks are spread over the slots.
    for i in 0..8u32 {
        s.schedule(Task::new(q, i % 2, i), When::At(u64::from(8 - i)))
            .unwrap();
    }
    let (n, back) = collect_back(|f| s.cancel_by_subject(&0, f));
    assert_eq!((n, back), (4, vec![0, 2, 4, 6]));
    let (n, back) = collect_back(|f| s.cancel_by_subject(&1, f));
    assert_eq!((n, back), (4, vec![1, 3, 5, 7]));
    assert!(s.is_empty());
    assert_eq!(s.next_deadline(), None);
}

// ----- remove_queue / clear ---------------------------------------------------

#[test]
fn remove_queue_hands_everything_back_and_leaves_other_queues_intact() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let a = s.add_queue("a", 1).unwrap();
    let b = s.add_queue("b", 0).unwrap();
    // Queue a: one queued, one waiting, two scheduled; same subject on b.
    for i in 0..4u32 {
        s.schedule(Task::new(a, 5, i), When::At(u64::from(i) * 10))
            .unwrap();
    }
    s.schedule(Task::new(b, 5, 10), When::At(5)).unwrap();
    s.schedule(Task::new(b, 5, 11), When::At(50)).unwrap();
    clock.set(10);
    assert_eq!(s.run_pending(), 2);
    assert_eq!(s.stats(a).unwrap().waiting, 1);
    let (n, back) = collect_back(|f| s.remove_queue(a, f).unwrap());
    assert_eq!((n, back), (4, vec![0, 1, 2, 3]));
    assert_eq!(s.len(), 1);
    // The removed queue is gone for every operation.
    assert_eq!(s.remove_queue(a, |_| {}), Err(UnknownQueue));
    assert_eq!(s.clear_queue(a, |_| {}), Err(UnknownQueue));
    assert_eq!(s.stats(a), Err(UnknownQueue));
    assert_eq!(s.get_task(a), Err(GetTaskError::UnknownQueue));
    assert_eq!(s.task_done(a), Err(TaskDoneError::UnknownQueue));
    assert_eq!(s.queue_name(a), None);
    assert_eq!(s.queue_id("a"), Err(UnknownQueue));
    // Queue b and its subject index are intact.
    assert_eq!(drain(&mut s, b), [10]);
    let (n, back) = collect_back(|f| s.cancel_by_subject(&5, f));
    assert_eq!((n, back), (1, vec![11]));
}

#[test]
fn a_queue_added_again_under_the_same_name_is_a_new_queue() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let old = s.add_queue("q", 0).unwrap();
    s.schedule(Task::new(old, 1, 1), When::Now).unwrap();
    let held = s.get_task(old).unwrap();
    s.remove_queue(old, |_| {}).unwrap();
    let new = s.add_queue("q", 0).unwrap();
    assert_ne!(old, new);
    assert_eq!(s.queue_id("q"), Ok(new));
    assert_eq!(s.stats(new).unwrap().taken, 0, "counters start again");
    // The old handle stays stale, even for a worker's retry.
    assert_eq!(s.get_task(old), Err(GetTaskError::UnknownQueue));
    let held = match s.schedule(held, When::Now) {
        Err(ScheduleError::UnknownQueue(t)) => t,
        other => panic!("expected UnknownQueue, got {other:?}"),
    };
    assert_eq!(s.stats(new).unwrap().queued, 0);
    // Pointed at the new queue, the retry works.
    let mut held = held;
    held.set_queue(new);
    s.schedule(held, When::Now).unwrap();
    let t = s.get_task(new).unwrap();
    assert_eq!((*t.payload(), t.attempt()), (1, 2));
}

#[test]
fn clear_queue_and_clear_hand_everything_back_and_keep_the_queues() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let a = s.add_queue("a", 1).unwrap();
    let b = s.add_queue("b", 0).unwrap();
    for i in 0..3u32 {
        s.schedule(Task::new(a, 1, i), When::At(u64::from(i)))
            .unwrap();
        s.schedule(Task::new(b, 2, 10 + i), When::At(u64::from(i)))
            .unwrap();
    }
    clock.set(1);
    s.run_pending();
    assert_eq!(*s.get_task(a).unwrap().payload(), 0);
    s.task_done(a).unwrap();
    let (n, back) = collect_back(|f| s.clear_queue(a, f).unwrap());
    assert_eq!((n, back), (2, vec![1, 2]));
    let st = s.stats(a).unwrap();
    assert_eq!(
        (st.queued, st.scheduled, st.waiting, st.taken, st.done),
        (0, 0, 0, 1, 1)
    );
    assert_eq!(s.len(), 1);
    let (n, back) = collect_back(|f| s.clear(f));
    assert_eq!((n, back), (3, vec![10, 11, 12]));
    assert!(s.is_empty());
    assert_eq!(s.queue_ids().count(), 2);
    assert!(s.schedule(Task::new(a, 1, 9), When::Now).is_ok());
}

// ----- task_done / stats ----------------------------------------------------

#[test]
fn task_done_more_often_than_taken_is_an_error() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    assert_eq!(s.task_done(q), Err(TaskDoneError::NotTaken));
    for i in 0..3 {
        s.schedule(Task::new(q, 1, i), When::Now).unwrap();
    }
    // Queued but not taken does not count.
    assert_eq!(s.task_done(q), Err(TaskDoneError::NotTaken));
    s.get_task(q).unwrap();
    s.get_task(q).unwrap();
    s.task_done(q).unwrap();
    s.task_done(q).unwrap();
    assert_eq!(s.task_done(q), Err(TaskDoneError::NotTaken));
    let st = s.stats(q).unwrap();
    assert_eq!((st.queued, st.taken, st.done), (1, 2, 2));
}

#[test]
fn stats_count_every_state() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 2).unwrap();
    for i in 0..5u32 {
        s.schedule(Task::new(q, 1, i), When::At(u64::from(i)))
            .unwrap();
    }
    clock.set(2);
    s.run_pending();
    s.get_task(q).unwrap();
    let st = s.stats(q).unwrap();
    // 0 taken, 1 and 2 queued (2 entered when 0 was taken), 3 and 4 scheduled.
    assert_eq!(
        (
            st.queued,
            st.scheduled,
            st.waiting,
            st.taken,
            st.done,
            st.room,
            st.max_size
        ),
        (2, 2, 0, 1, 0, 0, 2)
    );
}

// ----- time edge cases ----------------------------------------------------------

#[test]
fn deadlines_saturate() {
    let clock = ManualClock::new(100);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let a = s
        .schedule(Task::new(q, 1, 1), When::After(u64::MAX))
        .unwrap();
    let b = s.schedule(Task::new(q, 1, 2), When::At(u64::MAX)).unwrap();
    assert_eq!(s.scheduled_task(a).unwrap().deadline(), u64::MAX);
    let c = s.schedule(Task::new(q, 1, 3), When::At(200)).unwrap();
    s.reschedule(c, When::After(u64::MAX - 1)).unwrap();
    assert_eq!(s.scheduled_task(c).unwrap().deadline(), u64::MAX);
    clock.set(u64::MAX - 1);
    assert_eq!(s.run_pending(), 0);
    clock.advance(u64::MAX);
    assert_eq!(s.now(), u64::MAX);
    assert_eq!(s.run_pending(), 3);
    assert_eq!(drain(&mut s, q), [1, 2, 3]);
    // After from the end of time is still the end of time.
    let d = s.schedule(Task::new(q, 1, 4), When::After(5)).unwrap();
    assert_eq!(s.scheduled_task(d).unwrap().deadline(), u64::MAX);
    assert!(!s.is_scheduled(a) && !s.is_scheduled(b) && !s.is_scheduled(c));
}

#[test]
fn a_clock_going_backwards_delivers_nothing_early() {
    let clock = ManualClock::new(100);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    s.schedule(Task::new(q, 1, 1), When::At(150)).unwrap();
    s.schedule(Task::new(q, 1, 2), When::After(20)).unwrap(); // 120
    clock.set(119);
    assert_eq!(s.run_pending(), 0);
    clock.set(10);
    assert_eq!(s.run_pending(), 0);
    // Relative deadlines count from the reading when scheduled.
    s.schedule(Task::new(q, 1, 3), When::After(5)).unwrap(); // 15
    assert_eq!(s.next_deadline(), Some(15));
    clock.set(0);
    assert_eq!(s.run_pending(), 0);
    clock.set(15);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [3]);
    clock.set(120);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [2]);
    clock.set(149);
    assert_eq!(s.run_pending(), 0);
    clock.set(150);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [1]);
}

// ----- retry and the task context ----------------------------------------------

#[test]
fn attempt_counts_schedulings_across_retries() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 1).unwrap();
    let other = s.add_queue("other", 0).unwrap();
    let mut t = Task::new(q, 6, 60);
    assert_eq!((t.attempt(), t.id(), t.deadline()), (0, None, 0));
    let mut last = None;
    for attempt in 1..=3 {
        let id = s.schedule(t, When::After(10)).unwrap();
        assert_ne!(Some(id), last);
        last = Some(id);
        clock.advance(10);
        s.run_pending();
        t = s.get_task(q).unwrap();
        assert_eq!(
            (t.attempt(), t.id(), t.deadline()),
            (attempt, Some(id), clock.now())
        );
        s.task_done(q).unwrap();
    }
    // A refused scheduling does not count.
    s.schedule(Task::new(q, 0, 0), When::Now).unwrap();
    let t = s.schedule(t, When::Now).unwrap_err().into_inner();
    assert_eq!(t.attempt(), 3);
    // Moved to another queue for the next attempt.
    let mut t = t;
    t.set_queue(other);
    assert_eq!(t.queue(), other);
    s.schedule(t, When::Now).unwrap();
    let t = s.get_task(other).unwrap();
    assert_eq!(t.attempt(), 4);
    assert_eq!(t.into_parts(), (6, 60));
}

// ----- errors -------------------------------------------------------------------

#[test]
fn every_error_displays_and_is_an_error() {
    fn check(e: &dyn core::error::Error) -> String {
        let text = e.to_string();
        assert!(!text.is_empty());
        text
    }
    let mut texts = vec![
        check(&AddQueueError::NameTaken),
        check(&AddQueueError::InvalidName),
        check(&AddQueueError::InvalidMaxSize),
        check(&AddQueueError::NoQueueSlot),
        check(&UnknownQueue),
        check(&NotScheduled),
        check(&GetTaskError::Empty),
        check(&TaskDoneError::NotTaken),
    ];
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 0).unwrap();
    for make in [
        ScheduleError::UnknownQueue as fn(T) -> ScheduleError<T>,
        ScheduleError::QueueFull,
        ScheduleError::Capacity,
    ] {
        let e = make(Task::new(q, 1, 42));
        texts.push(check(&e));
        assert!(!format!("{e:?}").is_empty());
        assert_eq!(*e.task().payload(), 42);
        assert_eq!(e.into_inner().into_payload(), 42);
    }
    let n = texts.len();
    texts.sort();
    texts.dedup();
    // "no such queue" is shared by the unknown-queue variants.
    assert!(
        texts.len() >= n - 1,
        "messages tell the errors apart: {texts:?}"
    );
    check(&GetTaskError::UnknownQueue);
    check(&TaskDoneError::UnknownQueue);
}

// ----- introspection -----------------------------------------------------

#[test]
fn peek_names_the_task_due_next() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 1).unwrap();
    assert_eq!(s.peek(), None);
    let late = s.schedule(Task::new(q, 1, 1), When::At(30)).unwrap();
    assert_eq!(s.peek(), Some((late, 30)));
    let first = s.schedule(Task::new(q, 2, 2), When::At(10)).unwrap();
    let tie = s.schedule(Task::new(q, 3, 3), When::At(10)).unwrap();
    assert_eq!(s.peek(), Some((first, 10)), "ties in scheduling order");
    s.cancel(first).unwrap();
    assert_eq!(s.peek(), Some((tie, 10)));
    s.reschedule(late, When::At(5)).unwrap();
    assert_eq!(s.peek(), Some((late, 5)));
    // `late` enters the queue (room for one), `tie` waits: not counted.
    clock.set(20);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(s.peek(), None);
    assert_eq!(s.peek().map(|(_, d)| d), s.next_deadline());
    assert_eq!(s.len(), 1);
}

#[test]
fn iter_views_every_scheduled_task_once() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 2).unwrap();
    assert_eq!(s.iter().count(), 0);
    let mut ids = Vec::new();
    for i in 0..6u32 {
        let id = s
            .schedule(Task::new(q, 100 + i, i), When::At(50 - u64::from(i)))
            .unwrap();
        ids.push((id, 50 - u64::from(i), 100 + i, i));
    }
    // Two enter the queue, two wait for room, two stay in the schedule.
    clock.set(48);
    assert_eq!(s.run_pending(), 2);
    assert_eq!(s.stats(q).unwrap().waiting, 2);
    let mut seen: Vec<_> = s
        .iter()
        .map(|t| {
            assert_eq!(t.queue(), q);
            assert_eq!(t.attempt(), 1);
            (t.id(), t.deadline(), *t.subject(), *t.payload())
        })
        .collect();
    seen.sort_unstable_by_key(|&(_, _, _, p)| p);
    // Payloads 5 and 4 (deadlines 45, 46) were delivered.
    assert_eq!(seen, ids[..4]);
    for (id, ..) in &seen {
        assert_eq!(
            s.scheduled_task(*id).map(|t| t.deadline()),
            seen.iter().find(|x| x.0 == *id).map(|x| x.1)
        );
    }
}

#[cfg(feature = "alloc")]
#[test]
fn iter_by_deadline_is_deadline_order_with_ties_in_scheduling_order() {
    let clock = ManualClock::new(0);
    let mut s = wide(&clock);
    let q = s.add_queue("q", 0).unwrap();
    assert_eq!(s.iter_by_deadline().count(), 0);
    let deadlines = [30, 10, 20, 10, 30, 0, 20, 10, 7, 99, 10, 3];
    for (i, d) in (0u32..).zip(deadlines) {
        s.schedule(Task::new(q, 1, i), When::At(d)).unwrap();
    }
    let expected = [5, 11, 8, 1, 3, 7, 10, 2, 6, 0, 4, 9];
    let order: Vec<u32> = s.iter_by_deadline().map(|t| *t.payload()).collect();
    assert_eq!(order, expected);
    let first3: Vec<u32> = s.iter_by_deadline().take(3).map(|t| *t.payload()).collect();
    assert_eq!(first3, expected[..3]);
    let ds: Vec<u64> = s.iter_by_deadline().map(|t| t.deadline()).collect();
    assert!(ds.windows(2).all(|w| w[0] <= w[1]));
    // The order delivery follows.
    assert_eq!(s.run_all(), 12);
    let mut got = Vec::new();
    while let Ok(t) = s.get_task(q) {
        got.push(*t.payload());
    }
    assert_eq!(got, expected);
}

#[cfg(feature = "alloc")]
#[test]
fn iter_by_deadline_merges_waiting_tasks_at_their_deadlines() {
    let clock = ManualClock::new(0);
    let mut s = sched(&clock);
    let q = s.add_queue("q", 1).unwrap();
    for (i, d) in (0u32..).zip([40, 10, 20, 30]) {
        s.schedule(Task::new(q, 1, i), When::At(d)).unwrap();
    }
    clock.set(25);
    // 1 (10) enters, 2 (20) waits; 3 and 0 stay scheduled.
    assert_eq!(s.run_pending(), 1);
    s.schedule(Task::new(q, 1, 4), When::At(15)).unwrap();
    let order: Vec<(u32, u64)> = s
        .iter_by_deadline()
        .map(|t| (*t.payload(), t.deadline()))
        .collect();
    assert_eq!(order, [(4, 15), (2, 20), (3, 30), (0, 40)]);
    assert_eq!(s.iter().count(), 4);
}
