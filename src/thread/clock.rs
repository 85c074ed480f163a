//! [`MonotonicClock`]: the std [`Clock`], nanoseconds since an [`Instant`].

use std::time::{Duration, Instant, SystemTime};

use crate::clock::{Clock, Ticks};

/// A [`Clock`] on [`Instant`]: ticks are nanoseconds since the clock's
/// origin, the instant it was created.
///
/// It is monotonic (it never goes backwards), never blocks and never panics,
/// so it meets the [`Clock`] contract. Copies share the origin and read the
/// same time. The conversions below saturate: an instant before the origin
/// is tick 0, and a span too long for a `u64` of nanoseconds (about 584
/// years) is [`Ticks::MAX`], "never".
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use tardy::{Clock, MonotonicClock};
///
/// let clock = MonotonicClock::new();
/// let soon = Instant::now() + Duration::from_millis(5);
/// assert!(clock.ticks_at(soon) >= clock.now());
/// assert_eq!(MonotonicClock::ticks_of(Duration::from_micros(3)), 3_000);
/// assert_eq!(clock.ticks_at(clock.origin()), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock whose origin (tick 0) is now.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{Clock, MonotonicClock};
    ///
    /// let clock = MonotonicClock::new();
    /// let copy = clock; // Copy: shares the origin
    /// assert!(clock.now() <= copy.now());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_origin(Instant::now())
    }

    /// A clock whose origin (tick 0) is `origin`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use tardy::MonotonicClock;
    ///
    /// let start = Instant::now(); // e.g. when the process started
    /// let clock = MonotonicClock::with_origin(start);
    /// assert_eq!(clock.ticks_at(start), 0);
    /// ```
    #[must_use]
    pub const fn with_origin(origin: Instant) -> Self {
        Self { origin }
    }

    /// The instant of tick 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::MonotonicClock;
    ///
    /// let clock = MonotonicClock::new();
    /// assert_eq!(clock.instant_at(0), Some(clock.origin()));
    /// ```
    #[must_use]
    pub const fn origin(&self) -> Instant {
        self.origin
    }

    /// The span `duration` in ticks (nanoseconds), saturating at
    /// [`Ticks::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::MonotonicClock;
    ///
    /// assert_eq!(MonotonicClock::ticks_of(Duration::from_millis(5)), 5_000_000);
    /// assert_eq!(MonotonicClock::ticks_of(Duration::MAX), u64::MAX); // saturates
    /// ```
    #[must_use]
    pub fn ticks_of(duration: Duration) -> Ticks {
        Ticks::try_from(duration.as_nanos()).unwrap_or(Ticks::MAX)
    }

    /// The span of `ticks` as a [`Duration`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::MonotonicClock;
    ///
    /// assert_eq!(MonotonicClock::duration_of(1_500), Duration::from_nanos(1_500));
    /// ```
    #[must_use]
    pub const fn duration_of(ticks: Ticks) -> Duration {
        Duration::from_nanos(ticks)
    }

    /// The tick of `instant`: 0 for an instant at or before the origin.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use tardy::MonotonicClock;
    ///
    /// let origin = Instant::now();
    /// let clock = MonotonicClock::with_origin(origin);
    /// assert_eq!(clock.ticks_at(origin + Duration::from_secs(2)), 2_000_000_000);
    /// assert_eq!(clock.ticks_at(origin - Duration::from_secs(2)), 0); // before the origin
    /// ```
    #[must_use]
    pub fn ticks_at(&self, instant: Instant) -> Ticks {
        Self::ticks_of(instant.saturating_duration_since(self.origin))
    }

    /// The instant of tick `ticks`; `None` if the platform's `Instant`
    /// cannot represent it (whether [`Ticks::MAX`], 584 years on, fits
    /// depends on the platform: on Linux it does).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::MonotonicClock;
    ///
    /// let clock = MonotonicClock::new();
    /// let at = clock.instant_at(1_000_000).unwrap();
    /// assert_eq!(at - clock.origin(), Duration::from_millis(1));
    /// ```
    #[must_use]
    pub fn instant_at(&self, ticks: Ticks) -> Option<Instant> {
        self.origin.checked_add(Self::duration_of(ticks))
    }

    /// The tick that the wall-clock time `time` maps to, seen from now: the
    /// clock's reading plus (or minus) how far `time` lies from
    /// [`SystemTime::now`], saturating at 0 and [`Ticks::MAX`].
    ///
    /// The mapping is made once, when called: a later change of the wall
    /// clock does not move the tick. That is what a scheduler wants (the
    /// Python scheduler tardy re-implements used the wall clock directly, so
    /// a clock change moved every task).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use tardy::{Clock, MonotonicClock};
    ///
    /// let clock = MonotonicClock::new();
    /// let next_update = SystemTime::now() + Duration::from_secs(3600);
    /// assert!(clock.ticks_at_system_time(next_update) > clock.now());
    /// assert_eq!(clock.ticks_at_system_time(SystemTime::UNIX_EPOCH), 0); // long past
    /// ```
    #[must_use]
    pub fn ticks_at_system_time(&self, time: SystemTime) -> Ticks {
        let now = self.now();
        match time.duration_since(SystemTime::now()) {
            Ok(ahead) => now.saturating_add(Self::ticks_of(ahead)),
            Err(behind) => now.saturating_sub(Self::ticks_of(behind.duration())),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    #[inline]
    fn now(&self) -> Ticks {
        self.ticks_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_saturate() {
        let clock = MonotonicClock::new();
        assert_eq!(MonotonicClock::ticks_of(Duration::MAX), Ticks::MAX);
        assert_eq!(
            MonotonicClock::ticks_of(Duration::from_secs(2)),
            2_000_000_000
        );
        let before = clock.origin().checked_sub(Duration::from_millis(1));
        if let Some(before) = before {
            assert_eq!(clock.ticks_at(before), 0);
        }
        assert_eq!(clock.instant_at(0), Some(clock.origin()));
        assert_eq!(
            clock.instant_at(Ticks::MAX),
            clock.origin().checked_add(Duration::from_nanos(u64::MAX))
        );
        let later = clock.origin() + Duration::from_millis(7);
        assert_eq!(clock.ticks_at(later), 7_000_000);
    }

    #[test]
    fn system_time_maps_relative_to_now() {
        let clock = MonotonicClock::new();
        let ahead = clock.ticks_at_system_time(SystemTime::now() + Duration::from_secs(3600));
        let now = clock.now();
        // At least 59 minutes ahead whatever happened in between.
        assert!(ahead >= now + 59 * 60 * 1_000_000_000);
        assert_eq!(clock.ticks_at_system_time(SystemTime::UNIX_EPOCH), 0);
        let far = SystemTime::now().checked_add(Duration::from_secs(1 << 40));
        if let Some(far) = far {
            assert_eq!(clock.ticks_at_system_time(far), Ticks::MAX);
        }
    }

    #[test]
    fn never_goes_backwards() {
        let clock = MonotonicClock::new();
        let copy = clock;
        let mut last = 0;
        for _ in 0..1000 {
            let t = if last % 2 == 0 {
                clock.now()
            } else {
                copy.now()
            };
            assert!(t >= last);
            last = t;
        }
    }
}
