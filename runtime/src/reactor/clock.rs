//! [`FlowClock`]: the one clock a flow reads on its hot path.
//!
//! Timed component calls cost two reads each (every call at `diagnostic`,
//! a sample at `production`, see `flow::observe`), and every delivered
//! element one more, so the read must be cheap: the CPU's time-stamp
//! counter (about 8 ns a read on this project's reference machine,
//! against 20 ns for `Instant::now`), scaled to nanoseconds with one
//! multiply. `quanta` decides whether the counter can be trusted (an
//! invariant TSC) and calibrates it; the flow then reads the counter
//! inline rather than through `quanta`'s calls (two calls per timed call,
//! and as many scalings: about 0.5 % of a minimal diagnostic pipeline's
//! throughput). Where `quanta` reads the OS clock instead, so does the
//! flow, through it.
//!
//! Wall-clock times (element timestamps, span start times) are the wall
//! time at flow start plus the monotonic time elapsed since, so a
//! wall-clock step during a run never makes time go backwards.

use std::time::{SystemTime, UNIX_EPOCH};

/// A raw, unscaled clock reading; only differences (through the
/// [`FlowClock`] that took it) mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Tick(u64);

/// Fractional bits of [`FlowClock`]'s nanoseconds-per-tick factor.
const SCALE_SHIFT: u32 = 32;

/// A flow's clock.
#[derive(Debug, Clone)]
pub struct FlowClock {
    clock: quanta::Clock,
    /// `quanta` reads the time-stamp counter: read it inline (x86_64).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    reads_tsc: bool,
    /// Nanoseconds per tick, in fixed point ([`SCALE_SHIFT`] fractional
    /// bits): `quanta`'s own scaling, taken once.
    ns_per_tick: u64,
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
        let reads_tsc = reads_the_time_stamp_counter(&clock);
        // `quanta` scales linearly: the nanoseconds of 2^SCALE_SHIFT ticks
        // are the factor (2^SCALE_SHIFT itself when a tick is a ns).
        let ns_per_tick = clock.delta_as_nanos(0, 1 << SCALE_SHIFT).max(1);
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut flow_clock = Self {
            clock,
            reads_tsc,
            ns_per_tick,
            wall_at_start_ns: wall,
            start: Tick::default(),
        };
        flow_clock.start = flow_clock.tick();
        flow_clock
    }

    /// A raw reading.
    // HOT PATH: one time-stamp-counter read, inlined.
    #[inline(always)]
    pub fn tick(&self) -> Tick {
        #[cfg(target_arch = "x86_64")]
        if self.reads_tsc {
            return Tick(read_time_stamp_counter());
        }
        Tick(self.clock.raw())
    }

    /// Nanoseconds from `earlier` to `later` (0 if `later` is earlier).
    // HOT PATH: one widening multiply.
    #[inline(always)]
    pub fn nanos_between(&self, earlier: Tick, later: Tick) -> u64 {
        if later.0 <= earlier.0 {
            return 0;
        }
        let delta = u128::from(later.0 - earlier.0);
        ((delta * u128::from(self.ns_per_tick)) >> SCALE_SHIFT) as u64
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

/// The CPU's time-stamp counter.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn read_time_stamp_counter() -> u64 {
    // SAFETY: `rdtsc` exists on every x86_64 CPU and only reads a counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Whether `clock` reads the time-stamp counter (`quanta` does when the
/// CPU's is invariant; otherwise it reads the OS clock, in ns since boot,
/// which a counter read falls between only by a coincidence that three
/// tries rule out).
fn reads_the_time_stamp_counter(clock: &quanta::Clock) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        (0..3).any(|_| {
            let before = clock.raw();
            let counter = read_time_stamp_counter();
            let after = clock.raw();
            before <= counter && counter <= after
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = clock;
        false
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

    #[test]
    fn the_scaling_agrees_with_quanta() {
        let clock = FlowClock::new();
        for delta in [1u64, 1_000, 1_000_000, 1 << 40] {
            let ours = clock.nanos_between(Tick(5), Tick(5 + delta));
            let theirs = clock.clock.delta_as_nanos(5, 5 + delta);
            // One part in a billion, plus the last ns of rounding.
            assert!(
                ours.abs_diff(theirs) <= theirs / 1_000_000_000 + 1,
                "{delta}: {ours} vs {theirs}"
            );
        }
    }

    #[test]
    fn readings_come_from_the_source_quanta_chose() {
        let clock = FlowClock::new();
        let ours = clock.tick();
        let theirs = clock.clock.raw();
        let again = clock.tick();
        assert!(
            ours.0 <= theirs && theirs <= again.0,
            "{ours:?} {theirs} {again:?}"
        );
    }
}
