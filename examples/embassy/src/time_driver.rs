//! The embassy-time driver of this example: SysTick interrupts at 1 kHz
//! (the `tick-hz-1_000` feature of embassy-time), counted into a 64-bit
//! tick count, and a fixed-size timer queue from embassy-time-queue-utils.
//!
//! The board (QEMU's `mps2-an386`) has no embassy HAL, so the example
//! brings its own driver, as embassy-time-driver documents: `now` reads the
//! count, `schedule_wake` files the waker in the queue, and every SysTick
//! interrupt wakes the timers that are due. One interrupt per tick is the
//! simplest robust driver (no alarm to program, no race between reading
//! the counter and arming it); a low-power one would program a one-shot
//! alarm for the queue's next expiration instead.

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

/// The core clock of the MPS2 board: SysTick counts at this rate.
const SYSCLK_HZ: u32 = 25_000_000;
/// One embassy tick, in core clock cycles (1 ms).
const CYCLES_PER_TICK: u32 = SYSCLK_HZ / 1_000;

struct SysTickDriver {
    ticks: Mutex<Cell<u64>>,
    queue: Mutex<RefCell<Queue>>,
}

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.ticks.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut queue = self.queue.borrow(cs).borrow_mut();
            if queue.schedule_wake(at, waker) {
                // The queue changed: wake a timer already due now rather
                // than at the next tick.
                queue.next_expiration(self.ticks.borrow(cs).get());
            }
        });
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    ticks: Mutex::new(Cell::new(0)),
    queue: Mutex::new(RefCell::new(Queue::new())),
});

/// Starts SysTick: an interrupt every tick.
pub fn init(syst: &mut SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CYCLES_PER_TICK - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        let ticks = DRIVER.ticks.borrow(cs);
        let now = ticks.get() + 1;
        ticks.set(now);
        DRIVER.queue.borrow(cs).borrow_mut().next_expiration(now);
    });
}
