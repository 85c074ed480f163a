//! tardy on a Cortex-M4F, as QEMU's `mps2-an386` models it.
//!
//! - The clock: SysTick free-running as a 24-bit counter at the 25 MHz core
//!   clock, extended to 64 bits by [`CsWrapClock`] (one tick = 40 ns).
//! - A timer interrupt (CMSDK APB TIMER0, every millisecond) keeps the clock
//!   extension fresh and schedules work: every other tick it schedules one
//!   job with a delay from `DELAYS_MS`, so deadlines are out of scheduling
//!   order.
//! - The main loop delivers due jobs (`run_pending`, one per critical
//!   section), drains the queue, retries one job once, and sleeps with WFI
//!   until the next deadline.
//! - With the feature `periodic-sampler` (tardy's `periodic`), a periodic
//!   task also samples every 2 ms (`MissedTickBehavior::Skip`) into the
//!   same queue; each occurrence says which period it belongs to and how
//!   many it stands for, and once every job is done the sampler is
//!   cancelled, which hands its payload back.
//!
//! It checks that every job arrives once, in deadline order, never before
//! its deadline (and that the samples account for every period once),
//! prints its result over semihosting and exits with a semihosting exit
//! status (`run-qemu.sh` checks both).
//!
//! Built with `--release` (opt-level "z", LTO), its panic handler calls a
//! function that does not exist, so any panic path left in tardy or in this
//! firmware fails the link.

#![no_std]
#![no_main]

use core::cell::Cell;
use core::ptr;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{NVIC, SYST};
use cortex_m_rt::{entry, exception};
use cortex_m_semihosting::{debug, hio};
use tardy::{
    ticks_from_millis, Clock, CsScheduler, CsWrapClock, HeaplessQueue, QueueId, Task, When,
};

/// The core clock of the MPS2 board: SysTick and TIMER0 count at this rate.
const SYSCLK_HZ: u64 = 25_000_000;
/// How many jobs the timer interrupt schedules.
const JOBS: u32 = 8;
/// The delay of each job, in milliseconds.
const DELAYS_MS: [u64; JOBS as usize] = [9, 3, 7, 1, 5, 2, 8, 4];
/// The job that fails once and is retried.
const RETRIED: u32 = 3;
/// The delay of the retry.
const RETRY_DELAY: u64 = ticks_from_millis(SYSCLK_HZ, 2);

/// TIMER0 of the CMSDK APB subsystem, and its interrupt number.
const TIMER0_BASE: usize = 0x4000_0000;
const TIMER_CTRL: usize = 0x00;
const TIMER_VALUE: usize = 0x04;
const TIMER_RELOAD: usize = 0x08;
const TIMER_INTCLEAR: usize = 0x0C;
const TIMER0_IRQ: i16 = 8;

#[derive(Clone, Copy)]
struct Timer0;

// SAFETY: 8 is TIMER0's interrupt number on the MPS2 AN385/AN386 images.
unsafe impl InterruptNumber for Timer0 {
    fn number(self) -> u16 {
        TIMER0_IRQ as u16
    }
}

/// SysTick counts down from its reload value: turn it into an up-counter.
fn systick_up() -> u32 {
    0x00FF_FFFF - SYST::get_current()
}

type Clk = CsWrapClock<fn() -> u32, 24>;
/// The subject of a job (what `cancel_by_subject` keys on). This firmware
/// never cancels by subject, so by default it is `()`: a unit subject keeps
/// the scheduler's subject index small, and with it the code (see the README
/// footprint figures). The `u8-subject` feature makes it the job number, to
/// measure the cost of a real subject.
#[cfg(not(feature = "u8-subject"))]
type Subject = ();
#[cfg(feature = "u8-subject")]
type Subject = u8;

/// Job number `n` for `queue`.
#[cfg(not(feature = "u8-subject"))]
fn job(queue: QueueId, n: u32) -> Job {
    Task::new(queue, (), n)
}
#[cfg(feature = "u8-subject")]
fn job(queue: QueueId, n: u32) -> Job {
    Task::new(queue, n as u8, n)
}

/// A job: its subject, and its number as payload.
type Job = Task<Subject, u32>;

static CLOCK: Clk = CsWrapClock::new(systick_up);
/// The scheduler core behind [`SCHED`].
type Scheduler = tardy::Scheduler<&'static Clk, HeaplessQueue<Job, 8>, Subject, u32, 16, 2>;

static SCHED: CsScheduler<&Clk, HeaplessQueue<Job, 8>, Subject, u32, 16, 2> =
    CsScheduler::new(&CLOCK);
static QUEUE: critical_section::Mutex<Cell<Option<QueueId>>> =
    critical_section::Mutex::new(Cell::new(None));

/// Written by the timer interrupt only (load then store: one writer).
static TIMER_TICKS: AtomicU32 = AtomicU32::new(0);
static SCHEDULED: AtomicU32 = AtomicU32::new(0);
static SCHEDULE_ERRORS: AtomicU32 = AtomicU32::new(0);

fn write_reg(offset: usize, value: u32) {
    // SAFETY: TIMER0's registers are at TIMER0_BASE on this board; these
    // are plain 32-bit device registers with no memory-safety effect.
    unsafe { ptr::write_volatile((TIMER0_BASE + offset) as *mut u32, value) }
}

fn bump(counter: &AtomicU32) -> u32 {
    let n = counter.load(Ordering::Relaxed).wrapping_add(1);
    counter.store(n, Ordering::Relaxed);
    n
}

/// Every interrupt the firmware does not name lands here; TIMER0 is the
/// one it uses.
#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn != TIMER0_IRQ {
        return;
    }
    write_reg(TIMER_INTCLEAR, 1);
    // One reading per millisecond: far more than the one per half wrap
    // (0.34 s) that the 24-bit extension needs.
    let _ = CLOCK.now();
    let tick = bump(&TIMER_TICKS);
    let n = SCHEDULED.load(Ordering::Relaxed);
    if !tick.is_multiple_of(2) || n >= JOBS {
        return;
    }
    let queue = critical_section::with(|cs| QUEUE.borrow(cs).get());
    let (Some(queue), Some(&delay_ms)) = (queue, DELAYS_MS.get(n as usize)) else {
        return;
    };
    let delay = ticks_from_millis(SYSCLK_HZ, delay_ms);
    match SCHED.schedule(job(queue, n), When::After(delay)) {
        Ok(Ok(_)) => SCHEDULED.store(n + 1, Ordering::Relaxed),
        _ => {
            bump(&SCHEDULE_ERRORS);
        }
    }
}

fn print(bytes: &[u8]) {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(bytes);
    }
}

fn print_u32(mut n: u32) {
    let mut buf = [0u8; 10];
    let mut at = buf.len();
    loop {
        at -= 1;
        if let Some(b) = buf.get_mut(at) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    print(buf.get(at..).unwrap_or(b"?"));
}

fn finish(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

fn fail(what: &[u8]) -> ! {
    print(b"tardy firmware: FAIL ");
    print(what);
    print(b"\n");
    finish(false)
}

#[derive(Default)]
struct Tally {
    delivered: u32,
    early: u32,
    out_of_order: u32,
    retried: u32,
    last_deadline: u64,
}

#[entry]
fn main() -> ! {
    // SAFETY: the first statement of the program; nothing else has taken
    // the core peripherals.
    let mut cp = unsafe { cortex_m::Peripherals::steal() };
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(0x00FF_FFFF);
    cp.SYST.clear_current();
    cp.SYST.enable_counter();

    let queue = match SCHED.with(|s| s.add_queue("work", 0)) {
        Ok(Ok(q)) => q,
        _ => fail(b"add_queue"),
    };
    critical_section::with(|cs| QUEUE.borrow(cs).set(Some(queue)));
    let mut sampler = sampler::Sampler::start(queue);

    let period = (SYSCLK_HZ / 1_000) as u32; // 1 ms
    write_reg(TIMER_RELOAD, period);
    write_reg(TIMER_VALUE, period);
    write_reg(TIMER_CTRL, 0b1001); // enable, interrupt enable
                                   // SAFETY: the handler and everything it shares are ready.
    unsafe { NVIC::unmask(Timer0) };

    let mut t = Tally::default();
    let mut sleeps = 0u32;
    loop {
        // Deliver due jobs, one per critical section.
        if SCHED.run_pending().is_err() {
            fail(b"scheduler busy");
        }
        // Drain the queue (at most 8 jobs) in one critical section.
        let next = SCHED.with(|s| {
            while let Ok(job) = s.get_task(queue) {
                if job.deadline() > s.now() {
                    t.early += 1;
                }
                if job.deadline() < t.last_deadline {
                    t.out_of_order += 1;
                }
                t.last_deadline = job.deadline();
                let _ = s.task_done(queue);
                if sampler.take(&job) {
                    continue;
                }
                t.delivered += 1;
                if *job.payload() == RETRIED && job.attempt() == 1 {
                    // the job "failed": the same context goes back, later
                    if s.schedule(job, When::After(RETRY_DELAY)).is_ok() {
                        t.retried += 1;
                    }
                }
            }
            (s.next_deadline(), sampler.alone(s))
        });
        let Ok((next, alone)) = next else {
            fail(b"scheduler busy");
        };
        let scheduled = SCHEDULED.load(Ordering::Relaxed);
        if scheduled == JOBS && alone {
            sampler.stop();
            break;
        }
        // Sleep until the next deadline: with interrupts masked, check that
        // nothing is due, then WFI (a pending interrupt still wakes it).
        cortex_m::interrupt::disable();
        let due = next.is_some_and(|d| CLOCK.now() >= d);
        if !due {
            cortex_m::asm::wfi();
            sleeps += 1;
        }
        // SAFETY: re-enables the interrupts masked just above.
        unsafe { cortex_m::interrupt::enable() };
    }

    let errors = SCHEDULE_ERRORS.load(Ordering::Relaxed);
    let expected = JOBS + t.retried;
    let ok = t.delivered == expected
        && t.retried == 1
        && t.early == 0
        && t.out_of_order == 0
        && errors == 0
        && sampler.ok();
    print(b"tardy firmware: delivered ");
    print_u32(t.delivered);
    print(b"/");
    print_u32(expected);
    print(b" jobs (1 retry) in deadline order, early ");
    print_u32(t.early);
    print(b", out of order ");
    print_u32(t.out_of_order);
    print(b", schedule errors ");
    print_u32(errors);
    print(b", sleeps ");
    print_u32(sleeps);
    sampler.report();
    print(if ok {
        b"\ntardy firmware: PASS\n"
    } else {
        b"\ntardy firmware: FAIL\n"
    });
    finish(ok)
}

/// The periodic sampler (feature `periodic-sampler`): a periodic task
/// delivering one sample every `PERIOD_MS` into the jobs' queue.
#[cfg(feature = "periodic-sampler")]
mod sampler {
    use tardy::{ticks_from_millis, MissedTickBehavior, QueueId, TaskId, When};

    use crate::{fail, job, print, print_u32, Job, Scheduler, SCHED, SYSCLK_HZ};

    /// The sampler's payload (jobs are numbered from 0), and its period.
    const SAMPLE: u32 = 100;
    const PERIOD_MS: u64 = 2;

    /// The sampler's handle and what its occurrences said: how many came,
    /// the periods they stood for beyond their own, those whose period
    /// index was not the one owed, and the index owed next.
    pub struct Sampler {
        id: TaskId,
        samples: u32,
        missed: u64,
        miscounted: u32,
        next_index: u64,
    }

    impl Sampler {
        /// Schedules the sampler: first sample in 1 ms, then every
        /// `PERIOD_MS`, missed periods coalesced.
        pub fn start(queue: QueueId) -> Self {
            match SCHED.schedule_periodic(
                job(queue, SAMPLE),
                When::After(ticks_from_millis(SYSCLK_HZ, 1)),
                ticks_from_millis(SYSCLK_HZ, PERIOD_MS),
                MissedTickBehavior::Skip,
            ) {
                Ok(Ok(id)) => Self {
                    id,
                    samples: 0,
                    missed: 0,
                    miscounted: 0,
                    next_index: 0,
                },
                _ => fail(b"schedule_periodic"),
            }
        }

        /// Counts `job` if it is a sample; `false` for a job.
        pub fn take(&mut self, job: &Job) -> bool {
            let Some(p) = job.period() else {
                return false;
            };
            self.samples += 1;
            self.missed += p.missed;
            if p.index != self.next_index {
                self.miscounted += 1;
            }
            self.next_index = p.index + p.missed + 1;
            true
        }

        /// Whether the sampler is all that is scheduled.
        pub fn alone(&self, s: &Scheduler) -> bool {
            s.len() == 1
        }

        /// Cancels the sampler: its payload comes back, once.
        pub fn stop(&self) {
            match SCHED.cancel(self.id) {
                Ok(Ok(back)) if *back.payload() == SAMPLE => {}
                _ => fail(b"cancel of the sampler"),
            }
        }

        /// Enough samples, every period accounted for once.
        pub fn ok(&self) -> bool {
            self.samples >= 5 && self.miscounted == 0
        }

        pub fn report(&self) {
            print(b"\ntardy firmware: sampled ");
            print_u32(self.samples);
            print(b" periods of 2 ms (");
            print_u32(self.missed as u32);
            print(b" coalesced), period index miscounted ");
            print_u32(self.miscounted);
        }
    }
}

/// Without the feature `periodic-sampler`: no sampler, nothing to count.
#[cfg(not(feature = "periodic-sampler"))]
mod sampler {
    use tardy::QueueId;

    use crate::{Job, Scheduler};

    pub struct Sampler;

    impl Sampler {
        pub fn start(_: QueueId) -> Self {
            Self
        }

        pub fn take(&mut self, _: &Job) -> bool {
            false
        }

        /// Done when nothing is scheduled.
        pub fn alone(&self, s: &Scheduler) -> bool {
            s.is_empty()
        }

        pub fn stop(&self) {}

        pub fn ok(&self) -> bool {
            true
        }

        pub fn report(&self) {}
    }
}

/// Release builds: any panic path that survives optimisation references a
/// function that exists nowhere, so the link fails and names it.
#[cfg(all(not(debug_assertions), not(feature = "panic-exit")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    extern "C" {
        fn tardy_panic_path_found() -> !;
    }
    // SAFETY: never runs: the symbol is undefined, so a build that keeps a
    // call to this handler does not link.
    unsafe { tardy_panic_path_found() }
}

/// Debug builds, and release builds with the `panic-exit` feature (to list
/// the panic paths with a disassembler): report and exit with failure.
#[cfg(any(debug_assertions, feature = "panic-exit"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    fail(b"panic")
}
