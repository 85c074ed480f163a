//! Extending a narrow, wrapping hardware counter to the monotonic 64-bit
//! [`Ticks`] a [`Clock`](crate::Clock) returns.
//!
//! Microcontroller timers count in 16, 24 or 32 bits and wrap: a 16-bit
//! timer at 1 MHz wraps every 65.5 ms. Two helpers turn such a counter into
//! a clock that does not wrap: it reaches [`Ticks::MAX`] after 2^64 ticks
//! (584 years at 1 GHz) and stays there:
//!
//! - [`HalfPeriodCounter`]: for a timer that can raise an interrupt when it
//!   wraps *and* when it passes half its range (an overflow and a compare
//!   interrupt). The interrupts count half-periods; a reading combines that
//!   count with the counter. Reading writes nothing, so it is race-free from
//!   any context, with no critical section, even while the interrupt that
//!   counts the wrap is pending. This is the technique of embassy-stm32's
//!   time driver.
//! - [`WrapExtender`] (and, with the `critical-section` feature,
//!   `CsWrapClock`): for a counter without interrupts,
//!   or a free-running one whose interrupts the firmware uses otherwise. It
//!   remembers the last extended reading and adds how far the counter moved
//!   since. It must be read at least once per half wrap.
//!
//! # Choosing a tick rate
//!
//! The tick is the scheduler's unit of time, so it is the resolution of
//! every deadline. A faster counter resolves finer but wraps sooner, so the
//! extension must be serviced more often: the overflow and half-period
//! interrupts fire `2 * hz / 2^BITS` times a second, and a [`WrapExtender`]
//! must be read at least that often. For a 16-bit timer: 1 MHz gives 1 µs
//! ticks and 30.5 interrupts a second; 32 768 Hz gives 30.5 µs ticks and one
//! interrupt a second. A 32-bit timer at 1 MHz wraps every 71.6 minutes.
//! Convert delays to ticks with [`delay_from_micros`](crate::delay_from_micros)
//! and friends, which add the tick that a reading rounded down can lose, so
//! that a delay is never shorter than asked in real time (see
//! [`ticks_from_micros`](crate::ticks_from_micros) for spans).

use core::sync::atomic::{compiler_fence, AtomicU32, Ordering};

use crate::clock::Ticks;

const fn check_bits(bits: u32) {
    assert!(
        bits >= 2 && bits <= 32,
        "counter width must be 2 to 32 bits"
    );
}

const fn mask(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

/// Extends a `BITS`-bit wrapping up-counter to 64-bit [`Ticks`] from
/// half-period interrupts.
///
/// # The algorithm
///
/// The timer raises one interrupt when the counter wraps to 0 and one when
/// it reaches `2^(BITS-1)` (half its range); both call
/// [`on_half_period`](Self::on_half_period), which counts half-periods in
/// `period`. So `period` is even while the counter is in its lower half and
/// odd while it is in its upper half, *when the interrupts have run*. A
/// reading takes `period`, then the counter, and returns
///
/// ```text
/// (period << (BITS - 1)) + (counter ^ ((period & 1) << (BITS - 1)))
/// ```
///
/// When `period` and the counter agree on the half (the usual case) the
/// XOR clears the top bit that `period` already counts. When the counter has
/// moved into the next half but its interrupt has not run yet (it is
/// pending, or masked by a critical section, or the reading was interrupted
/// between the two loads), the top bit of the counter and the parity of
/// `period` disagree, and the XOR adds exactly the half-period that `period`
/// lacks. The reading is therefore exact as long as each half-period
/// interrupt runs less than half a period after its event; no reading
/// writes anything, so readers need no lock.
///
/// `period` is 64 bits, kept in two 32-bit atomics (cores such as the
/// Cortex-M have no 64-bit atomic load) and read without a lock by the same
/// trick one level up: the low word counts half-periods and the high word
/// counts the low word's half-wraps, updated after it by the same
/// interrupt, so a reader that loads the high word, then the low word, gets
/// the exact count with `(high << 31) + (low ^ ((high & 1) << 31))`.
///
/// # Requirements
///
/// - The counter counts up (invert a down-counter: `max - value`) over the
///   full `BITS`-bit range.
/// - Both interrupts call `on_half_period`, each less than half a period
///   after its event, and from one priority level (one writer).
///
/// The extended clock does not wrap: it reaches [`Ticks::MAX`] after 2^64
/// ticks (584 years at 1 GHz) and stays there.
///
/// # Examples
///
/// ```
/// use tardy::HalfPeriodCounter;
///
/// static TIME: HalfPeriodCounter<16> = HalfPeriodCounter::new();
/// // the counter passed 0x8000 and its interrupt ran:
/// TIME.on_half_period();
/// // the counter wrapped to 0x0005 but the overflow interrupt is pending:
/// assert_eq!(TIME.now(|| 0x0005), 0x1_0005);
/// TIME.on_half_period(); // now it ran
/// assert_eq!(TIME.now(|| 0x0006), 0x1_0006);
/// ```
#[derive(Debug)]
pub struct HalfPeriodCounter<const BITS: u32> {
    /// Half-periods counted, modulo 2^32.
    low: AtomicU32,
    /// Half-wraps of `low` (each time it reaches a multiple of 2^31).
    high: AtomicU32,
}

impl<const BITS: u32> HalfPeriodCounter<BITS> {
    /// A counter at period 0: the hardware counter starts in its lower half.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::HalfPeriodCounter;
    ///
    /// // A 16-bit timer, extended to 64 bits; const, for a static.
    /// static TIME: HalfPeriodCounter<16> = HalfPeriodCounter::new();
    /// assert_eq!(TIME.now(|| 0x1234), 0x1234);
    /// ```
    pub const fn new() -> Self {
        Self::at_period(0)
    }

    /// A counter that has counted `period` half-periods (a test hook: the
    /// words as `on_half_period` leaves them).
    const fn at_period(period: u64) -> Self {
        const { check_bits(BITS) };
        // Truncations intended: the low word is `period` modulo 2^32, and
        // the high word counts 2^31 steps of it (modulo 2^32, reached only
        // after 2^63 half-periods, far beyond the end of the clock).
        #[allow(clippy::cast_possible_truncation)]
        Self {
            low: AtomicU32::new(period as u32),
            high: AtomicU32::new((period >> 31) as u32),
        }
    }

    /// Counts one half-period. Call it from the overflow interrupt (counter
    /// wrapped to 0) and from the half-range compare interrupt (counter
    /// reached `2^(BITS-1)`), both at one priority level.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::HalfPeriodCounter;
    ///
    /// static TIME: HalfPeriodCounter<16> = HalfPeriodCounter::new();
    /// // In the compare interrupt (counter reached 0x8000) and the overflow one:
    /// TIME.on_half_period();
    /// TIME.on_half_period();
    /// assert_eq!(TIME.now(|| 0x0001), 0x1_0001);
    /// ```
    pub fn on_half_period(&self) {
        // One writer (see the requirements): loads and stores need no
        // read-modify-write atomics, so this works on cores without them.
        let low = self.low.load(Ordering::Relaxed).wrapping_add(1);
        self.low.store(low, Ordering::Release);
        if low & ((1 << 31) - 1) == 0 {
            // The low word reached 0 or 2^31: the high word follows it,
            // stored after it (a reader that sees it sees the low word too).
            let high = self.high.load(Ordering::Relaxed);
            self.high.store(high.wrapping_add(1), Ordering::Release);
        }
    }

    /// The half-periods counted so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::HalfPeriodCounter;
    ///
    /// let time = HalfPeriodCounter::<16>::new();
    /// time.on_half_period();
    /// assert_eq!(time.period(), 1);
    /// ```
    pub fn period(&self) -> u64 {
        let high = self.high.load(Ordering::Acquire);
        let low = self.low.load(Ordering::Acquire);
        Self::combine_words(high, low)
    }

    /// The extended time: reads `period`, then calls `read_counter` for the
    /// hardware counter (bits above `BITS` are ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::HalfPeriodCounter;
    ///
    /// let time = HalfPeriodCounter::<16>::new();
    /// let read_timer = || 0x0042; // read the hardware counter register here
    /// assert_eq!(time.now(read_timer), 0x42);
    /// ```
    pub fn now(&self, read_counter: impl FnOnce() -> u32) -> Ticks {
        let period = self.period();
        // The counter must be read after `period`, never before.
        compiler_fence(Ordering::SeqCst);
        let counter = read_counter();
        Self::combine(period, counter)
    }

    /// The half-period count from its two words, read high first.
    const fn combine_words(high: u32, low: u32) -> u64 {
        let half_bit = 1u32 << 31;
        let low = low ^ if high & 1 == 1 { half_bit } else { 0 };
        ((high as u64) << 31) + low as u64
    }

    /// The formula of [`now`](Self::now), for a `period` and a `counter`
    /// read in that order; [`Ticks::MAX`] from 2^64 ticks on.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::HalfPeriodCounter;
    ///
    /// // Two half-periods (one wrap) and a counter reading of 5:
    /// assert_eq!(HalfPeriodCounter::<16>::combine(2, 5), 0x1_0005);
    /// // Odd period, counter still below half: the overflow interrupt is pending.
    /// assert_eq!(HalfPeriodCounter::<16>::combine(1, 5), 0x1_0005);
    /// ```
    pub const fn combine(period: u64, counter: u32) -> Ticks {
        const { check_bits(BITS) };
        let half_bit = 1u32 << (BITS - 1);
        let low = (counter & mask(BITS)) ^ if period & 1 == 1 { half_bit } else { 0 };
        match period.checked_mul(1 << (BITS - 1)) {
            Some(high) => high.saturating_add(low as u64),
            None => Ticks::MAX,
        }
    }
}

impl<const BITS: u32> Default for HalfPeriodCounter<BITS> {
    fn default() -> Self {
        Self::new()
    }
}

/// Extends readings of a `BITS`-bit wrapping up-counter to 64-bit [`Ticks`]
/// by remembering the last extended reading.
///
/// # The algorithm
///
/// Each reading `raw` is compared with the low `BITS` bits of the last
/// extended value: `delta = (raw - last) mod 2^BITS`. A `delta` below half
/// the range is how far time moved, and is added. A `delta` of half the
/// range or more is a reading *older* than the last one (taken before it,
/// but applied after it, for instance by code that read the counter and was
/// then interrupted by a handler that read and applied a newer value); it
/// is ignored and the last value is returned, so time never goes backwards.
/// The first reading is taken as it is.
///
/// # Requirement: one reading per half wrap
///
/// Successive readings must be less than half a wrap (`2^(BITS-1)` ticks)
/// apart. Read it from a periodic interrupt, or from the interrupt of the
/// timer itself, at least that often; otherwise a forward move of half a
/// wrap or more is taken for a stale reading (the clock stalls until the
/// counter comes round), and a whole wrap between readings is lost.
///
/// `extend` takes `&mut self`: share it between contexts inside a critical
/// section, as `CsWrapClock` does (feature
/// `critical-section`).
///
/// # Examples
///
/// ```
/// use tardy::WrapExtender;
///
/// let mut ext = WrapExtender::<16>::new();
/// assert_eq!(ext.extend(0xFFF0), 0xFFF0);
/// assert_eq!(ext.extend(0x0010), 0x1_0010); // wrapped
/// assert_eq!(ext.extend(0xFFF8), 0x1_0010); // a stale reading: no step back
/// assert_eq!(ext.extend(0x0020), 0x1_0020);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WrapExtender<const BITS: u32> {
    last: Ticks,
    started: bool,
}

impl<const BITS: u32> WrapExtender<BITS> {
    /// An extender that takes its first reading as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::WrapExtender;
    ///
    /// let mut ext = WrapExtender::<24>::new(); // SysTick: 24 bits
    /// assert_eq!(ext.extend(0x12), 0x12); // the first reading is taken as it is
    /// ```
    pub const fn new() -> Self {
        const { check_bits(BITS) };
        Self {
            last: 0,
            started: false,
        }
    }

    /// The extended value of the counter reading `raw` (bits above `BITS`
    /// are ignored); never less than the previous result. Saturates at
    /// [`Ticks::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::WrapExtender;
    ///
    /// let mut ext = WrapExtender::<8>::new();
    /// assert_eq!(ext.extend(250), 250);
    /// assert_eq!(ext.extend(4), 260); // wrapped past 255
    /// ```
    pub fn extend(&mut self, raw: u32) -> Ticks {
        let m = mask(BITS);
        let raw = raw & m;
        if !self.started {
            self.started = true;
            self.last = u64::from(raw);
            return self.last;
        }
        // Truncation intended: only the low BITS bits of `last` matter.
        #[allow(clippy::cast_possible_truncation)]
        let delta = raw.wrapping_sub(self.last as u32) & m;
        if delta < 1 << (BITS - 1) {
            self.last = self.last.saturating_add(u64::from(delta));
        }
        self.last
    }

    /// The last extended value (0 before the first reading).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::WrapExtender;
    ///
    /// let mut ext = WrapExtender::<16>::new();
    /// assert_eq!(ext.last(), 0);
    /// ext.extend(0x100);
    /// assert_eq!(ext.last(), 0x100);
    /// ```
    pub const fn last(&self) -> Ticks {
        self.last
    }
}

/// A [`Clock`](crate::Clock) over a `BITS`-bit wrapping up-counter,
/// extended by a [`WrapExtender`] inside a critical section (feature
/// `critical-section`), so interrupt handlers and the main loop can read it
/// at once. The counter is read inside the critical section, so no reading
/// is ever stale.
///
/// It must be read at least once per half wrap (see [`WrapExtender`]): for
/// example from the timer interrupt that the firmware already has.
///
/// # Examples
///
/// ```
/// use tardy::{Clock, CsWrapClock};
///
/// // SysTick counts down from 2^24 - 1: invert it into an up-counter.
/// fn systick_cvr() -> u32 { 0x00FF_FFFF - 0x10 } // read SYST_CVR here
/// fn systick_up() -> u32 { 0x00FF_FFFF - systick_cvr() }
/// static CLOCK: CsWrapClock<fn() -> u32, 24> = CsWrapClock::new(systick_up);
/// assert_eq!(CLOCK.now(), 0x10);
/// ```
#[cfg(feature = "critical-section")]
#[cfg_attr(docsrs, doc(cfg(feature = "critical-section")))]
pub struct CsWrapClock<F, const BITS: u32> {
    read: F,
    state: critical_section::Mutex<core::cell::Cell<WrapExtender<BITS>>>,
}

#[cfg(feature = "critical-section")]
impl<F: Fn() -> u32, const BITS: u32> CsWrapClock<F, BITS> {
    /// A clock reading the counter with `read`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{Clock, CsWrapClock};
    ///
    /// fn timer() -> u32 { 0xFFFF } // read a 16-bit up-counter here
    /// static CLOCK: CsWrapClock<fn() -> u32, 16> = CsWrapClock::new(timer);
    /// assert_eq!(CLOCK.now(), 0xFFFF);
    /// ```
    pub const fn new(read: F) -> Self {
        Self {
            read,
            state: critical_section::Mutex::new(core::cell::Cell::new(WrapExtender::new())),
        }
    }
}

#[cfg(feature = "critical-section")]
impl<F: Fn() -> u32, const BITS: u32> crate::Clock for CsWrapClock<F, BITS> {
    fn now(&self) -> Ticks {
        critical_section::with(|cs| {
            let cell = self.state.borrow(cs);
            let mut ext = cell.get();
            let now = ext.extend((self.read)());
            cell.set(ext);
            now
        })
    }
}

#[cfg(feature = "critical-section")]
impl<F, const BITS: u32> core::fmt::Debug for CsWrapClock<F, BITS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CsWrapClock").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated 4-bit timer (half period 8) whose half-period interrupts
    /// run `lag` ticks late, read by a reader that loads `period` `gap`
    /// ticks before the counter. Every combination with `lag + gap` below
    /// half a period reads the exact time.
    #[test]
    fn half_period_counter_is_exact_under_every_late_interrupt() {
        const BITS: u32 = 4;
        const HALF: u64 = 1 << (BITS - 1);
        for lag in 0..HALF {
            for gap in 0..HALF - lag {
                for t in gap..16 * (1 << BITS) {
                    // period as seen `gap` ticks before `t`: events happen at
                    // multiples of HALF and are counted `lag` ticks later.
                    let seen_at = t - gap;
                    let period = if seen_at >= lag {
                        (seen_at - lag) / HALF
                    } else {
                        0
                    };
                    let counter = u32::try_from(t % (1 << BITS)).unwrap();
                    let got = HalfPeriodCounter::<BITS>::combine(period, counter);
                    assert_eq!(got, t, "lag {lag} gap {gap} t {t}");
                }
            }
        }
    }

    #[test]
    fn half_period_counter_with_interrupts_run() {
        let c = HalfPeriodCounter::<16>::new();
        assert_eq!(c.now(|| 0x7FFF), 0x7FFF);
        // compare interrupt pending: still right
        assert_eq!(c.now(|| 0x8001), 0x8001);
        c.on_half_period();
        assert_eq!(c.now(|| 0x8002), 0x8002);
        assert_eq!(c.now(|| 0xFFFF), 0xFFFF);
        // overflow interrupt pending
        assert_eq!(c.now(|| 0x0000), 0x1_0000);
        c.on_half_period();
        assert_eq!(c.period(), 2);
        assert_eq!(c.now(|| 0x0001), 0x1_0001);
        // bits above the width are ignored
        assert_eq!(c.now(|| 0xABCD_0001), 0x1_0001);
        // period 3: upper half of the second wrap
        assert_eq!(
            HalfPeriodCounter::<32>::combine(3, 0x8000_0010),
            0x1_8000_0010
        );
        assert_eq!(
            HalfPeriodCounter::<32>::combine(3, 0x0000_0010),
            0x2_0000_0010
        );
    }

    /// Readers race with a "handler" that reads a newer value and applies
    /// it first: every interleaving of two readings a few ticks apart, at
    /// every point of several wraps, stays monotonic and never loses a wrap.
    #[test]
    fn wrap_extender_survives_stale_readings_and_wraps() {
        const BITS: u32 = 8;
        const RANGE: u64 = 1 << BITS;
        for step in [1u64, 7, 63, 127] {
            for skew in 0..4u64 {
                let mut ext = WrapExtender::<BITS>::new();
                let mut prev = 0;
                let mut t = 3u64;
                while t < 12 * RANGE {
                    // the main loop read the counter at `t`, the handler
                    // read it at `t + skew` and applies first
                    let early = u32::try_from(t % RANGE).unwrap();
                    let late = u32::try_from((t + skew) % RANGE).unwrap();
                    let a = ext.extend(late);
                    let b = ext.extend(early);
                    assert_eq!(a, t + skew, "step {step} skew {skew} t {t}");
                    assert_eq!(b, a, "a stale reading never moves time back");
                    assert!(a >= prev);
                    prev = a;
                    t += step;
                }
            }
        }
    }

    #[test]
    fn wrap_extender_first_reading_anywhere_and_full_width() {
        let mut e = WrapExtender::<24>::new();
        assert_eq!(e.last(), 0);
        assert_eq!(e.extend(0xFF_FFF0), 0xFF_FFF0);
        assert_eq!(e.extend(0xFF00_0005), 0x100_0005); // bits above 24 ignored
        let mut w = WrapExtender::<32>::new();
        assert_eq!(w.extend(u32::MAX), u64::from(u32::MAX));
        assert_eq!(w.extend(1), (1 << 32) + 1);
        // half a wrap or more forward is taken as stale (the documented limit)
        let mut h = WrapExtender::<8>::new();
        h.extend(0);
        assert_eq!(h.extend(128), 0);
        assert_eq!(h.extend(127), 127);
    }

    #[cfg(feature = "critical-section")]
    #[test]
    fn cs_wrap_clock_extends_a_16_bit_counter() {
        use crate::Clock;
        use std::sync::atomic::AtomicU64;
        static HW: AtomicU64 = AtomicU64::new(0xFFF0);
        fn read() -> u32 {
            u32::try_from(HW.load(Ordering::Relaxed) & 0xFFFF).unwrap()
        }
        static CLOCK: CsWrapClock<fn() -> u32, 16> = CsWrapClock::new(read);
        let mut t = 0xFFF0u64;
        while t < 0x4_0000 {
            HW.store(t, Ordering::Relaxed);
            assert_eq!(CLOCK.now(), t);
            t += 0x3FFF; // a quarter wrap between readings
        }
    }

    /// A simulated 8-bit timer whose half-period count starts just before
    /// the low word's half-wrap and wrap (2^31 and 2^32 half-periods, where
    /// a 32-bit count ended): every reading, with the interrupt run or
    /// still pending, is the exact time, so no reading jumps.
    #[test]
    fn half_period_counter_crosses_its_low_word_without_a_jump() {
        const BITS: u32 = 8;
        const HALF: u64 = 1 << (BITS - 1);
        for first in [
            (1u64 << 31) - 3,
            (1 << 32) - 3,
            (3 << 31) - 3,
            (1 << 40) - 3,
        ] {
            let c = HalfPeriodCounter::<BITS>::at_period(first);
            assert_eq!(c.period(), first);
            let mut last = 0;
            for step in 0..6 * HALF {
                let t = first * HALF + step;
                let counter = u32::try_from(t % (1 << BITS)).unwrap();
                let expected_period = t / HALF;
                // the interrupt of a half-period that just began is pending
                // for a few ticks: the reading is exact anyway
                if c.period() < expected_period && step % HALF >= 5 {
                    c.on_half_period();
                }
                let now = c.now(|| counter);
                assert_eq!(now, t, "first {first} step {step}");
                assert!(now >= last);
                last = now;
            }
            assert_eq!(c.period(), first + 5, "every interrupt counted");
        }
        // A reader that loaded the high word before the interrupt updated
        // both words, and the low word after: still the exact count.
        for p in [1u64 << 31, 1 << 32, 3 << 31, 5 << 32] {
            let high_before = u32::try_from((p - 1) >> 31).unwrap();
            let low_after = u32::try_from(p & 0xFFFF_FFFF).unwrap();
            assert_eq!(
                HalfPeriodCounter::<BITS>::combine_words(high_before, low_after),
                p
            );
        }
    }

    /// At the end of 64-bit time the clock stays at `Ticks::MAX`: it never
    /// wraps back to a small reading.
    #[test]
    fn half_period_counter_saturates_at_the_end_of_time() {
        const BITS: u32 = 16;
        let last_period = u64::MAX >> (BITS - 1); // 2^49 - 1
        let c = HalfPeriodCounter::<BITS>::at_period(last_period - 1);
        // period even: lower half
        let before = c.now(|| 0x7FFF);
        assert_eq!(before, (last_period - 1) * 0x8000 + 0x7FFF);
        c.on_half_period();
        assert_eq!(c.now(|| 0xFFFF), u64::MAX);
        c.on_half_period(); // one half-period past the end
        assert_eq!(c.period(), last_period + 1);
        assert_eq!(c.now(|| 0x0001), u64::MAX);
        c.on_half_period();
        assert_eq!(c.now(|| 0x8001), u64::MAX);
        assert_eq!(HalfPeriodCounter::<32>::combine(u64::MAX, 5), u64::MAX);
    }

    /// Readings that keep moving forward near the end of 64-bit time climb
    /// to `Ticks::MAX` and stay there, through several wraps of the narrow
    /// counter.
    #[test]
    fn wrap_extender_climbs_to_the_end_of_time_without_a_jump() {
        let start = u64::MAX - 600;
        let mut e = WrapExtender::<8> {
            last: start,
            started: true,
        };
        let mut last = start;
        for t in (start..=u64::MAX).step_by(37).chain([u64::MAX]) {
            let now = e.extend(u32::try_from(t & 0xFF).unwrap());
            assert_eq!(now, t);
            assert!(now >= last);
            last = now;
        }
        for raw in [0x10u32, 0x90, 0x20, 0xFF] {
            assert_eq!(e.extend(raw), u64::MAX, "no wrap back after the end");
        }
    }

    #[cfg(feature = "critical-section")]
    #[test]
    fn cs_wrap_clock_near_the_end_of_time_never_jumps() {
        use crate::Clock;
        use std::sync::atomic::AtomicU32;
        static HW: AtomicU32 = AtomicU32::new(0);
        fn read() -> u32 {
            HW.load(Ordering::Relaxed)
        }
        let start = u64::MAX - 0x3_0000;
        let clock = CsWrapClock::<fn() -> u32, 16> {
            read,
            state: critical_section::Mutex::new(core::cell::Cell::new(WrapExtender {
                last: start,
                started: true,
            })),
        };
        let mut last = start;
        let mut t = start;
        loop {
            HW.store(u32::try_from(t & 0xFFFF).unwrap(), Ordering::Relaxed);
            let now = clock.now();
            assert_eq!(now, t);
            assert!(now >= last);
            last = now;
            match t.checked_add(0x3FFF) {
                Some(next) => t = next,
                None => break,
            }
        }
        HW.store(0x1234, Ordering::Relaxed);
        assert_eq!(clock.now(), u64::MAX);
    }

    #[test]
    fn wrap_extender_saturates() {
        let mut e = WrapExtender::<8> {
            last: u64::MAX - 1,
            started: true,
        };
        assert_eq!(e.extend(0x20), u64::MAX);
        assert_eq!(e.extend(0x30), u64::MAX);
    }
}
