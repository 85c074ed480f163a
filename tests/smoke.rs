use tardy::{GetTaskError, HeaplessQueue, ManualClock, ScheduleError, Scheduler, Task, When};
type T = Task<u32, u32>;
type S<'a> = Scheduler<&'a ManualClock, HeaplessQueue<T, 4>, u32, u32, 8, 2>;
#[test]
fn smoke() {
    let clock = ManualClock::new(100);
    let mut s: S = Scheduler::new(&clock);
    let q = s.add_queue("a", 2).unwrap();
    let ids: Vec<_> = (0..5u32)
        .map(|i| {
            s.schedule(Task::new(q, i % 2, i), When::At(110 - (i as u64 % 3)))
                .unwrap()
        })
        .collect();
    assert_eq!(s.next_deadline(), Some(108));
    let back = s.cancel(ids[1]).unwrap();
    assert_eq!(*back.payload(), 1);
    assert!(s.cancel(ids[1]).is_err());
    clock.set(200);
    assert_eq!(s.run_pending(), 2); // queue max 2
    assert_eq!(s.stats(q).unwrap().waiting, 2);
    let order: Vec<u32> = (0..4).map(|_| *s.get_task(q).unwrap().payload()).collect();
    assert_eq!(order, vec![2, 4, 0, 3]); // 108:2, 109:4? deadlines: 0->110,2->108,3->110,4->109
    assert_eq!(s.get_task(q), Err(GetTaskError::Empty));
    let mut n = 0;
    for i in 0..8 {
        s.schedule(Task::new(q, 9, i), When::After(5)).unwrap();
    }
    assert!(matches!(
        s.schedule(Task::new(q, 9, 99), When::After(5)),
        Err(ScheduleError::Capacity(_))
    ));
    assert_eq!(s.cancel_by_subject(&9, |_| n += 1), 8);
    assert_eq!(n, 8);
    assert!(s.is_empty());
}
