//! Converting durations to clock ticks and back, for a clock of `hz` ticks
//! per second.
//!
//! Every function is a `const fn`, so a firmware computes its delays at
//! compile time: `const DEBOUNCE: Ticks = ticks_from_millis(32_768, 20);`.
//! Durations to ticks round *up*, so a delay is never shorter than asked
//! (a task is never due early); ticks to durations round down. Results
//! saturate at `u64::MAX` instead of overflowing, and a rate of 0 gives 0
//! ticks (and `u64::MAX` for the way back).

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
}
