//! The public API of the core scheduler, driven by a `ManualClock`, over
//! both storages: the suite (tests/scheduler/suite.rs) runs once on the
//! fixed storage (`Scheduler`) and, with the `alloc` feature, once on the
//! growing one (`AllocScheduler`) bounded to the same capacity.

/// Fixed storage.
mod fixed {
    use tardy::{HeaplessQueue, ManualClock, Scheduler};

    type T = tardy::Task<u32, u32>;
    type Sched<'a> = Scheduler<&'a ManualClock, HeaplessQueue<T, 4>, u32, u32, 8, 4>;

    fn sched(clock: &ManualClock) -> Sched<'_> {
        Scheduler::new(clock)
    }

    fn wide(clock: &ManualClock) -> Scheduler<&ManualClock, HeaplessQueue<T, 16>, u32, u32, 16, 2> {
        Scheduler::new(clock)
    }

    include!("scheduler/suite.rs");

    #[cfg(feature = "periodic")]
    mod periodic {
        use super::*;
        include!("scheduler/periodic.rs");
    }

    use tardy::FnClock;

    #[test]
    fn a_scheduler_can_be_built_in_a_const_context() {
        fn zero() -> u64 {
            0
        }
        type C = FnClock<fn() -> u64>;
        type Q = HeaplessQueue<Task<u8, ()>, 2>;
        const EMPTY: Scheduler<C, Q, u8, (), 4, 2> = Scheduler::new(FnClock(zero as fn() -> u64));
        let mut s = EMPTY;
        let q = s.add_queue("q", 0).unwrap();
        s.schedule(Task::new(q, 1, ()), When::At(0)).unwrap();
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.capacity(), 4);
    }
}

/// Growing storage, bounded to the fixed one's capacity.
#[cfg(feature = "alloc")]
mod growing {
    use tardy::{AllocScheduler, HeaplessQueue, ManualClock};

    type T = tardy::Task<u32, u32>;
    type Sched<'a> = AllocScheduler<&'a ManualClock, HeaplessQueue<T, 4>, u32, u32, 4>;

    fn sched(clock: &ManualClock) -> Sched<'_> {
        let mut s = AllocScheduler::new(clock);
        s.set_max_capacity(Some(8));
        s
    }

    fn wide(
        clock: &ManualClock,
    ) -> AllocScheduler<&ManualClock, HeaplessQueue<T, 16>, u32, u32, 2> {
        let mut s = AllocScheduler::new(clock);
        s.set_max_capacity(Some(16));
        s
    }

    include!("scheduler/suite.rs");

    #[cfg(feature = "periodic")]
    mod periodic {
        use super::*;
        include!("scheduler/periodic.rs");
    }
}
