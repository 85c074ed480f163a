//! The time source: the [`Clock`] trait and its stock implementations.

use core::cell::Cell;

/// A point in time or a span of time, in clock ticks.
///
/// The unit is the clock's own: nanoseconds for the `std` feature's
/// `MonotonicClock`, timer counts on a microcontroller, anything for a
/// [`ManualClock`].
pub type Ticks = u64;

/// A monotonic source of [`Ticks`], implemented by the host for its timer.
///
/// # Contract
///
/// An implementation MUST:
///
/// - return a count of ticks that never decreases while a scheduler uses it
///   (monotonic), in a unit of the host's choice, starting anywhere;
/// - never panic and never block for long: the scheduler reads the clock
///   inside every operation that needs "now", possibly with interrupts off.
///
/// If a clock breaks the first rule and goes backwards, nothing unsound
/// happens: a task is still delivered only once the clock reads at least its
/// deadline, so a backward jump delays deliveries until the clock catches up
/// again, and relative deadlines are computed from the reading at the time
/// they are scheduled. A clock that jumps far forwards makes every task whose
/// deadline it passes due at once. Deadline arithmetic saturates at
/// [`Ticks::MAX`], which therefore means "never, unless run explicitly".
///
/// Shared references to clocks are clocks too, and [`FnClock`] makes one of
/// a closure.
///
/// # Examples
///
/// ```
/// use tardy::{Clock, Ticks};
///
/// struct Timer;
/// impl Clock for Timer {
///     fn now(&self) -> Ticks {
///         42 // read the hardware counter here
///     }
/// }
/// assert_eq!(Timer.now(), 42);
/// assert_eq!((&Timer).now(), 42);
/// ```
pub trait Clock {
    /// The current time in ticks.
    fn now(&self) -> Ticks;
}

/// A [`Clock`] that calls a closure.
///
/// # Examples
///
/// ```
/// use tardy::{Clock, FnClock};
///
/// let clock = FnClock(|| 7);
/// assert_eq!(clock.now(), 7);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FnClock<F>(pub F);

impl<F: Fn() -> Ticks> Clock for FnClock<F> {
    #[inline]
    fn now(&self) -> Ticks {
        (self.0)()
    }
}

/// A clock that moves only when told to: for tests and simulations.
///
/// It is not `Sync`; share it between a scheduler and a test by reference
/// (`&ManualClock` is a [`Clock`]).
///
/// # Examples
///
/// ```
/// use tardy::{Clock, ManualClock};
///
/// let clock = ManualClock::new(10);
/// clock.advance(5);
/// assert_eq!(clock.now(), 15);
/// clock.set(3); // going backwards is allowed, to test that case
/// assert_eq!(clock.now(), 3);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<Ticks>,
}

impl ManualClock {
    /// A clock that reads `start` until it is moved.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new(1_000);
    /// assert_eq!(clock.now(), 1_000);
    /// ```
    pub const fn new(start: Ticks) -> Self {
        Self {
            now: Cell::new(start),
        }
    }

    /// Moves the clock forwards by `ticks`, saturating at [`Ticks::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new(0);
    /// clock.advance(30);
    /// clock.advance(u64::MAX); // saturates
    /// assert_eq!(clock.now(), u64::MAX);
    /// ```
    pub fn advance(&self, ticks: Ticks) {
        self.now.set(self.now.get().saturating_add(ticks));
    }

    /// Sets the clock to `now`, forwards or backwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new(100);
    /// clock.set(40); // backwards, to test a clock that steps back
    /// assert_eq!(clock.now(), 40);
    /// ```
    pub fn set(&self, now: Ticks) {
        self.now.set(now);
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> Ticks {
        self.now.get()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now(&self) -> Ticks {
        (**self).now()
    }
}

mod narrow;
mod rate;

#[cfg(feature = "critical-section")]
pub use narrow::CsWrapClock;
pub use narrow::{HalfPeriodCounter, WrapExtender};
pub use rate::{
    delay_from_duration, delay_from_micros, delay_from_millis, delay_from_nanos, delay_from_secs,
    micros_from_ticks, nanos_from_ticks, ticks_from_duration, ticks_from_micros, ticks_from_millis,
    ticks_from_nanos, ticks_from_secs,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// `ManualClock` saturates at the end of time instead of wrapping, and
    /// `FnClock` passes the closure's readings through untouched up to
    /// `Ticks::MAX`: neither adds a jump of its own.
    #[test]
    fn manual_and_fn_clocks_never_wrap() {
        let clock = ManualClock::new(Ticks::MAX - 2);
        clock.advance(1);
        assert_eq!(clock.now(), Ticks::MAX - 1);
        clock.advance(5);
        assert_eq!(clock.now(), Ticks::MAX);
        clock.advance(Ticks::MAX);
        assert_eq!(clock.now(), Ticks::MAX);

        let reading = Cell::new(Ticks::MAX - 1);
        let f = FnClock(|| reading.get());
        assert_eq!(f.now(), Ticks::MAX - 1);
        reading.set(Ticks::MAX);
        assert_eq!(f.now(), Ticks::MAX);
    }
}
