//! [`FlowClock`]: the one clock a flow reads on its hot path.
//!
//! Timed component calls cost two reads each (every call at `diagnostic`,
//! a sample at `production`, see `stage_observe`), and every delivered
//! element one more, so the read must be cheap: `quanta` reads the CPU's
//! time-stamp counter (about 9 ns a read on this project's reference
//! machine, against 20 ns for `Instant::now`) and scales differences to
//! nanoseconds. Wall-clock times (element
//! timestamps, span start times) are the wall time at flow start plus the
//! monotonic time elapsed since, so a wall-clock step during a run never
//! makes time go backwards.

use std::time::{SystemTime, UNIX_EPOCH};

/// A raw, unscaled clock reading; only differences (through the
/// [`FlowClock`] that took it) mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Tick(u64);

/// A flow's clock.
#[derive(Debug, Clone)]
pub struct FlowClock {
    clock: quanta::Clock,
    wall_at_start_ns: u64,
    start: Tick,
}

impl Default for FlowClock {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let start = Tick(clock.raw());
        Self {
            clock,
            wall_at_start_ns: wall,
            start,
        }
    }

    /// A raw reading.
    // HOT PATH: one time-stamp-counter read.
    #[inline]
    pub fn tick(&self) -> Tick {
        Tick(self.clock.raw())
    }

    /// Nanoseconds from `earlier` to `later` (0 if `later` is earlier).
    // HOT PATH
    #[inline]
    pub fn nanos_between(&self, earlier: Tick, later: Tick) -> u64 {
        if later.0 <= earlier.0 {
            return 0;
        }
        self.clock.delta_as_nanos(earlier.0, later.0)
    }

    /// The wall-clock time of `tick`, in ns since the Unix epoch.
    #[inline]
    pub fn unix_ns(&self, tick: Tick) -> u64 {
        self.wall_at_start_ns + self.nanos_between(self.start, tick)
    }

    /// Now, in ns since the Unix epoch.
    // HOT PATH: one read.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.unix_ns(self.tick())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn readings_advance_with_real_time() {
        let clock = FlowClock::new();
        let a = clock.tick();
        std::thread::sleep(Duration::from_millis(5));
        let b = clock.tick();
        let ns = clock.nanos_between(a, b);
        assert!(ns >= 4_000_000, "5 ms sleep measured as {ns} ns");
        assert!(ns < 5_000_000_000, "5 ms sleep measured as {ns} ns");
    }

    #[test]
    fn a_reversed_interval_is_zero_and_wall_time_is_close_to_system_time() {
        let clock = FlowClock::new();
        let a = clock.tick();
        let b = clock.tick();
        assert_eq!(clock.nanos_between(b, a), 0);
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let ours = clock.now_ns();
        assert!(ours.abs_diff(system) < 1_000_000_000, "{ours} vs {system}");
    }
}
