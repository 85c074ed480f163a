//! tardy driven by embassy on a Cortex-M4F, as QEMU's `mps2-an386` models
//! it (the board of the `firmware` example).
//!
//! Why this board: QEMU emulates no board that an embassy HAL supports with
//! working timers out of the box, and embassy-time needs only a time
//! driver, which embassy-time-driver lets a firmware bring itself. The
//! example's driver (src/time_driver.rs) counts SysTick interrupts at
//! 1 kHz: the smallest driver that is right on any Cortex-M QEMU models.
//! embassy-executor's thread-mode executor runs the tasks (WFE between
//! polls).
//!
//! The tasks:
//!
//! - `driver`: [`CsScheduler::drive`] with `embassy_time::Timer::at` as its
//!   sleep: it delivers due jobs and sleeps until the next deadline or
//!   until an earlier job is scheduled.
//! - `worker`: awaits [`CsScheduler::get_task_async`] and checks each job:
//!   never early, late by at most `MAX_LATENESS` ticks, in deadline order.
//! - `producer`: schedules a job `LATE_MS` ahead (the driver sleeps until
//!   it), waits `GAP_MS`, then schedules a job due `EARLY_MS` after that,
//!   long before the pending one, and one more at once (`When::Now`).
//!
//! The earlier job must be delivered at its own deadline, not at the old
//! one. The worker prints one result line over semihosting and exits with a
//! semihosting exit status (`run-qemu.sh` checks both).

#![no_std]
#![no_main]

mod time_driver;

use cortex_m_semihosting::{debug, hprintln};
use embassy_executor::Spawner;
use embassy_time::{Instant, Timer};
use tardy::{CsScheduler, FnClock, HeaplessQueue, QueueId, Task, When};

/// The first job's delay: the driver sleeps until it.
const LATE_MS: u64 = 500;
/// When the producer schedules the earlier job, after the first.
const GAP_MS: u64 = 20;
/// The earlier job's delay from then: due long before the first one.
const EARLY_MS: u64 = 30;
/// The most a job may be late, in ticks (1 ms each): room for a loaded
/// host under QEMU, and far below the 450 ticks an earlier job would be
/// late if the driver slept on until the old deadline.
const MAX_LATENESS: u64 = 10;
/// How many jobs the worker expects.
const JOBS: u32 = 3;

/// A job: its number as subject and payload.
type Job = Task<u8, u32>;

/// tardy reads embassy-time's tick count: the scheduler and the driver's
/// sleep count the same ticks.
fn ticks() -> u64 {
    Instant::now().as_ticks()
}

/// The scheduler: 8 task slots, queues of at most 4 jobs, 2 queue slots.
type Sched = CsScheduler<FnClock<fn() -> u64>, HeaplessQueue<Job, 4>, u8, u32, 8, 2>;

static SCHED: Sched = CsScheduler::new(FnClock(ticks));

#[embassy_executor::task]
async fn driver() {
    let Err(_busy) = SCHED.drive(|t| Timer::at(Instant::from_ticks(t))).await;
    fail("the driver found the scheduler busy");
}

#[embassy_executor::task]
async fn producer(queue: QueueId) {
    let first = ticks() + LATE_MS;
    if !matches!(
        SCHED.schedule(Task::new(queue, 1, 1), When::At(first)),
        Ok(Ok(_))
    ) {
        fail("schedule the later job");
    }
    // The driver now sleeps until `first`.
    Timer::after_millis(GAP_MS).await;
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

#[embassy_executor::task]
async fn worker(queue: QueueId) {
    let mut order = [0u32; JOBS as usize];
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
            "tardy embassy: job {} due at tick {}, taken at tick {} ({} ticks late)",
            job.payload(),
            job.deadline(),
            now,
            late
        );
    }
    // The job for now, then the earlier job at its own deadline, then the
    // later one.
    let ok = order == [3, 2, 1] && early == 0 && worst <= MAX_LATENESS;
    hprintln!(
        "tardy embassy: order {:?} (expected [3, 2, 1]), early {}, worst lateness {} ticks (at most {})",
        order,
        early,
        worst,
        MAX_LATENESS
    );
    finish(ok);
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    // SAFETY: the first statement of the program; nothing else has taken
    // the core peripherals.
    let mut cp = unsafe { cortex_m::Peripherals::steal() };
    time_driver::init(&mut cp.SYST);

    let queue = match SCHED.with(|s| s.add_queue("work", 0)) {
        Ok(Ok(q)) => q,
        _ => fail("add_queue"),
    };
    match (driver(), worker(queue), producer(queue)) {
        (Ok(d), Ok(w), Ok(p)) => {
            spawner.spawn(d);
            spawner.spawn(w);
            spawner.spawn(p);
        }
        _ => fail("spawn"),
    }
}

fn finish(ok: bool) -> ! {
    hprintln!("tardy embassy: {}", if ok { "PASS" } else { "FAIL" });
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
    hprintln!("tardy embassy: error: {}", what);
    finish(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("tardy embassy: panic: {}", info);
    finish(false)
}
