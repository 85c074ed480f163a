//! tardy driven by RTIC 2 on a Cortex-M3, as QEMU's `lm3s6965evb` models it
//! (the board of RTIC's own examples).
//!
//! - The clock: rtic-monotonics' SysTick monotonic at 1 kHz (`Mono`);
//!   tardy reads the same ticks (32-bit, widened: it wraps after 49 days,
//!   more than this example runs).
//! - The scheduler: a `static CsScheduler` (feature `async`), shared by
//!   every task without a lock of RTIC's: its methods take a critical
//!   section of O(log N) each.
//! - `driver` (priority 1): [`CsScheduler::drive`] with `Mono::delay_until`
//!   as its sleep: it delivers due jobs and sleeps until the next deadline
//!   or until an earlier job is scheduled.
//! - `worker` (priority 1): awaits [`CsScheduler::get_task_async`] and
//!   checks each job: never early, late by at most `MAX_LATENESS` ticks, in
//!   deadline order.
//! - `producer` (priority 2, preempting the others): schedules a job
//!   `LATE_MS` ahead (the driver sleeps until it), waits `GAP_MS`, then
//!   schedules a job due `EARLY_MS` after that, long before the pending
//!   one, and one more at once (`When::Now`).
//!
//! The earlier job must be delivered at its own deadline, not at the old
//! one. The worker prints one result line over semihosting and exits with a
//! semihosting exit status (`run-qemu.sh` checks both).

#![no_std]
#![no_main]

use cortex_m_semihosting::{debug, hprintln};
use rtic_monotonics::rtic_time::monotonic::TimerQueueBasedInstant;
use rtic_monotonics::systick::prelude::*;
use tardy::{CsScheduler, FnClock, HeaplessQueue, QueueId, Task, When};

systick_monotonic!(Mono, 1_000);

/// The core clock of QEMU's LM3S6965 model: SysTick counts at this rate.
const SYSCLK_HZ: u32 = 12_000_000;
/// The first job's delay: the driver sleeps until it.
const LATE_MS: u64 = 500;
/// When the producer schedules the earlier job, after the first.
const GAP_MS: u32 = 20;
/// The earlier job's delay from then: due long before the first one.
const EARLY_MS: u64 = 30;
/// The most a job may be late, in ticks (1 ms each): room for a loaded
/// host under QEMU, and far below the 450 ticks an earlier job would be
/// late if the driver slept on until the old deadline.
const MAX_LATENESS: u64 = 10;
/// How many jobs the worker expects.
const JOBS: usize = 3;

/// A job: its number as subject and payload.
type Job = Task<u8, u32>;

/// tardy reads the monotonic's ticks: the scheduler and the driver's sleep
/// count the same ticks.
fn ticks() -> u64 {
    u64::from(Mono::now().ticks())
}

/// The scheduler: 8 task slots, queues of at most 4 jobs, 2 queue slots.
type Sched = CsScheduler<FnClock<fn() -> u64>, HeaplessQueue<Job, 4>, u8, u32, 8, 2>;

static SCHED: Sched = CsScheduler::new(FnClock(ticks));

#[rtic::app(device = lm3s6965, dispatchers = [SSI0, QEI0])]
mod app {
    use super::*;

    #[shared]
    struct Shared {}

    #[local]
    struct Local {}

    #[init]
    fn init(cx: init::Context) -> (Shared, Local) {
        Mono::start(cx.core.SYST, SYSCLK_HZ);
        let queue = match SCHED.with(|s| s.add_queue("work", 0)) {
            Ok(Ok(q)) => q,
            _ => fail("add_queue"),
        };
        if driver::spawn().is_err() || worker::spawn(queue).is_err() {
            fail("spawn");
        }
        if producer::spawn(queue).is_err() {
            fail("spawn");
        }
        (Shared {}, Local {})
    }

    #[task(priority = 1)]
    async fn driver(_: driver::Context) {
        let Err(_busy) = SCHED
            .drive(|t| {
                // The clock is the monotonic's 32-bit count, widened.
                Mono::delay_until(<Mono as Timebase>::Instant::from_ticks(t as u32))
            })
            .await;
        fail("the driver found the scheduler busy");
    }

    #[task(priority = 2)]
    async fn producer(_: producer::Context, queue: QueueId) {
        let first = ticks() + LATE_MS;
        if !matches!(
            SCHED.schedule(Task::new(queue, 1, 1), When::At(first)),
            Ok(Ok(_))
        ) {
            fail("schedule the later job");
        }
        // The driver now sleeps until `first`.
        Mono::delay(GAP_MS.millis()).await;
        if !matches!(
            SCHED.schedule(Task::new(queue, 2, 2), When::After(EARLY_MS)),
            Ok(Ok(_))
        ) {
            fail("schedule the earlier job");
        }
        if !matches!(SCHED.schedule(Task::new(queue, 3, 3), When::Now), Ok(Ok(_))) {
            fail("schedule the job for now");
        }
    }

    #[task(priority = 1)]
    async fn worker(_: worker::Context, queue: QueueId) {
        let mut order = [0u32; JOBS];
        let mut worst = 0u64;
        let mut early = 0u32;
        for slot in order.iter_mut() {
            let Ok(job) = SCHED.get_task_async(queue).await else {
                fail("the queue is gone");
            };
            let now = ticks();
            if now < job.deadline() {
                early += 1;
            }
            let late = now.saturating_sub(job.deadline());
            worst = worst.max(late);
            *slot = *job.payload();
            hprintln!(
                "tardy rtic: job {} due at tick {}, taken at tick {} ({} ticks late)",
                job.payload(),
                job.deadline(),
                now,
                late
            );
        }
        // The job for now, then the earlier job at its own deadline, then
        // the later one.
        let ok = order == [3, 2, 1] && early == 0 && worst <= MAX_LATENESS;
        hprintln!(
            "tardy rtic: order {:?} (expected [3, 2, 1]), early {}, worst lateness {} ticks (at most {})",
            order,
            early,
            worst,
            MAX_LATENESS
        );
        finish(ok);
    }
}

fn finish(ok: bool) -> ! {
    hprintln!("tardy rtic: {}", if ok { "PASS" } else { "FAIL" });
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

fn fail(what: &str) -> ! {
    hprintln!("tardy rtic: error: {}", what);
    finish(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("tardy rtic: panic: {}", info);
    finish(false)
}
