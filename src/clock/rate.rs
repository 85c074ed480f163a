//! Converting durations to clock ticks and back, for a clock of `hz` ticks
//! per second.
//!
//! Every function is a `const fn`, so a firmware computes its delays at
//! compile time: `const DEBOUNCE: Ticks = delay_from_millis(32_768, 20);`.
//! Results saturate at `u64::MAX` instead of overflowing; a rate of 0 gives
//! 0 ticks (and `u64::MAX` for the way back).
//!
//! # Spans and delays
//!
//! - `ticks_from_*` give a **span**: the fewest ticks that last at least the
//!   duration (rounded up). `ticks_from_millis(32_768, 20)` is 656 ticks,
//!   20.0195 ms. Ticks to durations round down.
//! - `delay_from_*` give a **delay** for [`When::After`](crate::When): the
//!   span plus one tick (0 stays 0). A task scheduled with it is due no
//!   sooner than the duration after it was scheduled, in real time.
//!
//! The extra tick is needed because a clock that counts whole ticks (a
//! hardware counter, read as it is) rounds the time down: a reading of
//! `now` means real time is somewhere in tick `now`, up to one tick past
//! its start. `When::After(d)` is due when the clock reads `now + d`, which
//! is therefore more than `d - 1` but possibly less than `d` ticks of real
//! time after scheduling. With the 656-tick span above, scheduled just
//! before the counter stepped, the task was due after 655.0x ticks:
//! 19.989 ms, not 20. With `delay_from_millis(32_768, 20)` (657 ticks) it
//! is due after more than 656 ticks, at least 20.0195 ms. The same holds for
//! an absolute deadline computed from a reading (`When::At(now + span)`):
//! add the tick there too. `When::After(d)` itself stays exact in ticks
//! (due when the clock reads `now + d`), which is what a clock that moves
//! only when told to, such as [`ManualClock`](crate::ManualClock), wants.
//!
//! The promise holds for a clock whose reading is the number of whole ticks
//! since some origin (or that number rounded to nearest): every reading
//! lies within one tick of a fixed offset from real time.
use core::time::Duration;

use crate::clock::Ticks;

const fn scale_up(value: u64, hz: u64, per_second: u64) -> Ticks {
    let wide = (value as u128 * hz as u128).div_ceil(per_second as u128);
    if wide > u64::MAX as u128 {
        u64::MAX
    } else {
        wide as u64
    }
}

const fn scale_down(ticks: Ticks, hz: u64, per_second: u64) -> u64 {
    if hz == 0 {
        return u64::MAX;
    }
    let wide = ticks as u128 * per_second as u128 / hz as u128;
    if wide > u64::MAX as u128 {
        u64::MAX
    } else {
        wide as u64
    }
}

/// Ticks of a `hz` clock in `ns` nanoseconds, rounded up, saturating.
///
/// ```
/// assert_eq!(tardy::ticks_from_nanos(1_000_000, 1), 1); // rounded up
/// ```
pub const fn ticks_from_nanos(hz: u64, ns: u64) -> Ticks {
    scale_up(ns, hz, 1_000_000_000)
}

/// Ticks of a `hz` clock in `us` microseconds, rounded up, saturating.
///
/// ```
/// use tardy::ticks_from_micros;
/// assert_eq!(ticks_from_micros(1_000_000, 250), 250);
/// assert_eq!(ticks_from_micros(32_768, 1_000_000), 32_768);
/// assert_eq!(ticks_from_micros(32_768, 1), 1); // never 0 for a non-zero delay
/// assert_eq!(ticks_from_micros(u64::MAX, u64::MAX), u64::MAX); // saturates
/// ```
pub const fn ticks_from_micros(hz: u64, us: u64) -> Ticks {
    scale_up(us, hz, 1_000_000)
}

/// Ticks of a `hz` clock in `ms` milliseconds, rounded up, saturating.
///
/// ```
/// assert_eq!(tardy::ticks_from_millis(25_000_000, 10), 250_000);
/// ```
pub const fn ticks_from_millis(hz: u64, ms: u64) -> Ticks {
    scale_up(ms, hz, 1_000)
}

/// Ticks of a `hz` clock in `s` seconds, saturating.
///
/// ```
/// assert_eq!(tardy::ticks_from_secs(32_768, 60), 1_966_080);
/// ```
pub const fn ticks_from_secs(hz: u64, s: u64) -> Ticks {
    s.saturating_mul(hz)
}

/// Ticks of a `hz` clock in `d`, rounded up, saturating.
///
/// ```
/// use core::time::Duration;
/// assert_eq!(tardy::ticks_from_duration(1_000, Duration::from_micros(1_500)), 2);
/// ```
pub const fn ticks_from_duration(hz: u64, d: Duration) -> Ticks {
    ticks_from_secs(hz, d.as_secs()).saturating_add(ticks_from_nanos(hz, d.subsec_nanos() as u64))
}

/// The span plus one tick for a non-zero span: see
/// [the module docs](self#spans-and-delays).
const fn delay(span: Ticks) -> Ticks {
    if span == 0 {
        0
    } else {
        span.saturating_add(1)
    }
}

/// The delay in ticks of a `hz` clock for [`When::After`](crate::When) so
/// that a task is due no sooner than `ns` nanoseconds of real time after it
/// is scheduled: [`ticks_from_nanos`] plus one tick (0 for 0), saturating.
///
/// ```
/// assert_eq!(tardy::delay_from_nanos(1_000_000, 1_000), 2);
/// assert_eq!(tardy::delay_from_nanos(1_000_000, 0), 0); // due at once
/// ```
pub const fn delay_from_nanos(hz: u64, ns: u64) -> Ticks {
    delay(ticks_from_nanos(hz, ns))
}

/// The delay in ticks of a `hz` clock for [`When::After`](crate::When) so
/// that a task is due no sooner than `us` microseconds of real time after
/// it is scheduled: [`ticks_from_micros`] plus one tick (0 for 0),
/// saturating.
///
/// ```
/// assert_eq!(tardy::delay_from_micros(32_768, 1), 2);
/// assert_eq!(tardy::delay_from_micros(u64::MAX, u64::MAX), u64::MAX);
/// ```
pub const fn delay_from_micros(hz: u64, us: u64) -> Ticks {
    delay(ticks_from_micros(hz, us))
}

/// The delay in ticks of a `hz` clock for [`When::After`](crate::When) so
/// that a task is due no sooner than `ms` milliseconds of real time after
/// it is scheduled: [`ticks_from_millis`] plus one tick (0 for 0),
/// saturating.
///
/// ```
/// use tardy::{delay_from_millis, ticks_from_millis};
/// assert_eq!(ticks_from_millis(32_768, 20), 656); // the span: 655.36 rounded up
/// assert_eq!(delay_from_millis(32_768, 20), 657); // due after at least 20 ms
/// ```
pub const fn delay_from_millis(hz: u64, ms: u64) -> Ticks {
    delay(ticks_from_millis(hz, ms))
}

/// The delay in ticks of a `hz` clock for [`When::After`](crate::When) so
/// that a task is due no sooner than `s` seconds of real time after it is
/// scheduled: [`ticks_from_secs`] plus one tick (0 for 0), saturating.
///
/// ```
/// assert_eq!(tardy::delay_from_secs(32_768, 60), 1_966_081);
/// ```
pub const fn delay_from_secs(hz: u64, s: u64) -> Ticks {
    delay(ticks_from_secs(hz, s))
}

/// The delay in ticks of a `hz` clock for [`When::After`](crate::When) so
/// that a task is due no sooner than `d` of real time after it is
/// scheduled: [`ticks_from_duration`] plus one tick (0 for 0), saturating.
///
/// ```
/// use core::time::Duration;
/// assert_eq!(tardy::delay_from_duration(1_000, Duration::from_micros(1_500)), 3);
/// ```
pub const fn delay_from_duration(hz: u64, d: Duration) -> Ticks {
    delay(ticks_from_duration(hz, d))
}

/// Microseconds in `ticks` of a `hz` clock, rounded down, saturating;
/// `u64::MAX` for `hz == 0`.
///
/// ```
/// assert_eq!(tardy::micros_from_ticks(32_768, 32_768), 1_000_000);
/// assert_eq!(tardy::micros_from_ticks(32_768, 1), 30);
/// ```
pub const fn micros_from_ticks(hz: u64, ticks: Ticks) -> u64 {
    scale_down(ticks, hz, 1_000_000)
}

/// Nanoseconds in `ticks` of a `hz` clock, rounded down, saturating;
/// `u64::MAX` for `hz == 0`.
///
/// ```
/// assert_eq!(tardy::nanos_from_ticks(25_000_000, 25), 1_000);
/// ```
pub const fn nanos_from_ticks(hz: u64, ticks: Ticks) -> u64 {
    scale_down(ticks, hz, 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_never_shortens_and_edges_saturate() {
        for hz in [1u64, 1_000, 32_768, 1_000_000, 25_000_000, 1 << 40] {
            for us in [0u64, 1, 999, 1_000, 65_535, 1 << 33] {
                let t = ticks_from_micros(hz, us);
                // converting back gives at least the asked duration...
                let back = u128::from(t) * 1_000_000;
                assert!(back >= u128::from(us) * u128::from(hz), "hz {hz} us {us}");
                // ...and less than one tick more
                assert!(back < (u128::from(us) * u128::from(hz)) + 1_000_000);
            }
        }
        assert_eq!(ticks_from_micros(0, 5), 0);
        assert_eq!(micros_from_ticks(0, 5), u64::MAX);
        assert_eq!(ticks_from_millis(u64::MAX, 2), u64::MAX / 500 + 1);
        assert_eq!(ticks_from_millis(u64::MAX, 2_000), u64::MAX);
        assert_eq!(ticks_from_secs(u64::MAX, 2), u64::MAX);
        assert_eq!(nanos_from_ticks(1, u64::MAX), u64::MAX);
        assert_eq!(
            ticks_from_duration(u64::MAX, Duration::MAX),
            u64::MAX,
            "saturates"
        );
        const AT_COMPILE_TIME: Ticks = ticks_from_millis(32_768, 20);
        assert_eq!(AT_COMPILE_TIME, 656); // 655.36 rounded up
    }

    /// For a counter of `hz` read by rounding down, a task scheduled at real
    /// time `start_ns` with `When::After(ticks)` is due when the counter
    /// reads `floor(start_ns * hz / 1e9) + ticks`: returns how many
    /// nanoseconds after `start_ns` that is (rounded up to a whole ns).
    fn due_after_ns(hz: u64, start_ns: u64, ticks: Ticks) -> u128 {
        let reading = u128::from(start_ns) * u128::from(hz) / 1_000_000_000;
        let deadline = reading + u128::from(ticks);
        // the first whole nanosecond at which the counter reads `deadline`
        let due_ns = (deadline * 1_000_000_000).div_ceil(u128::from(hz));
        due_ns - u128::from(start_ns)
    }

    /// The shortest real time from scheduling to due, over start times
    /// spread across several ticks (every phase within a tick is reached).
    fn shortest_ns(hz: u64, ticks: Ticks) -> u128 {
        let tick_ns = 1_000_000_000 / hz + 1;
        (0..3 * tick_ns)
            .step_by(usize::try_from(tick_ns / 97 + 1).unwrap())
            .chain([tick_ns - 1, 2 * tick_ns - 1])
            .map(|start| due_after_ns(hz, start, ticks))
            .min()
            .unwrap()
    }

    #[test]
    fn a_span_can_be_due_up_to_one_tick_short_in_real_time() {
        // 656 ticks of 32 768 Hz scheduled just before the counter steps
        // (real time 30 517 ns: the reading is still 0) are due 19.989 ms
        // later.
        let span = ticks_from_millis(32_768, 20);
        assert_eq!(due_after_ns(32_768, 30_517, span), 19_989_015);
        assert!(shortest_ns(32_768, span) < 20_000_000);
    }

    #[test]
    fn a_delay_is_never_shorter_than_asked_in_real_time() {
        for hz in [1u64, 3, 1_000, 32_768, 1_000_000, 25_000_000] {
            for ns in [1u64, 999, 30_517, 1_000_000, 20_000_000, 1_500_000_000] {
                let d = delay_from_nanos(hz, ns);
                assert!(
                    shortest_ns(hz, d) >= u128::from(ns),
                    "hz {hz} ns {ns}: due after {} ns",
                    shortest_ns(hz, d)
                );
                // and it costs at most two ticks more than asked
                assert!(
                    u128::from(d - 1) * 1_000_000_000
                        < u128::from(ns) * u128::from(hz) + 1_000_000_000
                );
            }
            let us = 20_000;
            assert!(shortest_ns(hz, delay_from_micros(hz, us)) >= 20_000_000);
            assert!(shortest_ns(hz, delay_from_millis(hz, 20)) >= 20_000_000);
            assert!(shortest_ns(hz, delay_from_secs(hz, 1)) >= 1_000_000_000);
            let d = Duration::from_nanos(1_000_000_001);
            assert!(shortest_ns(hz, delay_from_duration(hz, d)) >= 1_000_000_001);
        }
        assert_eq!(delay_from_millis(32_768, 0), 0);
        assert_eq!(delay_from_duration(32_768, Duration::ZERO), 0);
        assert_eq!(delay_from_millis(0, 5), 0);
        assert_eq!(delay_from_secs(u64::MAX, 1), u64::MAX);
        assert_eq!(delay_from_duration(u64::MAX, Duration::MAX), u64::MAX);
    }
}
