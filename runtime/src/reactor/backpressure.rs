//! What a stream does when it is full: the policy, the high/low watermark
//! hysteresis, and the rate limiter of `rate-limit`.

use std::time::{Duration, Instant};

/// A stream's overflow policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Suspend the producer until the consumer frees capacity (no loss).
    Block,
    /// Remove the oldest queued element to make room.
    DropOldest,
    /// Reject the new element; the producer continues.
    DropNewest,
    /// Fail the flow when the queue is full.
    Error,
    /// Hold the producer to at most this many elements per second (no loss).
    RateLimit {
        /// Elements per second.
        per_second: u64,
    },
}

impl Policy {
    /// Whether a full queue stops the producer (as opposed to dropping or failing).
    pub fn gates_producer(self) -> bool {
        matches!(self, Policy::Block | Policy::RateLimit { .. })
    }

    /// Name as configured.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Block => "block",
            Policy::DropOldest => "drop-oldest",
            Policy::DropNewest => "drop-newest",
            Policy::Error => "error",
            Policy::RateLimit { .. } => "rate-limit",
        }
    }
}

/// A stream's queue and backpressure settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamSettings {
    /// Queue capacity (≥ 1).
    pub capacity: usize,
    /// Overflow policy.
    pub policy: Policy,
    /// Depth ratio at or below which backpressure is relieved (0 < r < 1).
    pub low_watermark_ratio: f64,
}

impl Default for StreamSettings {
    /// The settings of a stream under the default `[runtime.backpressure]`.
    fn default() -> Self {
        let defaults = crate::config::BackpressureConfig::default();
        Self {
            capacity: defaults.default_queue_depth as usize,
            policy: Policy::Block,
            low_watermark_ratio: defaults.low_watermark_ratio,
        }
    }
}

/// A change of a stream's backpressure state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatermarkChange {
    /// The queue reached capacity.
    Triggered,
    /// The queue drained to the low watermark after `after`.
    Relieved {
        /// How long backpressure lasted.
        after: Duration,
    },
}

/// High/low watermark hysteresis of one stream: active from the moment the
/// queue is full until it drains to the low watermark.
#[derive(Debug, Clone)]
pub struct Watermark {
    capacity: usize,
    low: usize,
    active_since: Option<Instant>,
    episodes: u64,
    total: Duration,
}

impl Watermark {
    /// Watermarks for `capacity` with `low_ratio` (clamped to [0, 1)).
    pub fn new(capacity: usize, low_ratio: f64) -> Self {
        let ratio = if low_ratio.is_finite() {
            low_ratio.clamp(0.0, 0.999)
        } else {
            0.5
        };
        Self {
            capacity,
            low: (capacity as f64 * ratio).floor() as usize,
            active_since: None,
            episodes: 0,
            total: Duration::ZERO,
        }
    }

    /// Updates with the queue's new depth; reports a change.
    // HOT PATH: one comparison unless a threshold is crossed.
    pub fn observe(&mut self, depth: usize) -> Option<WatermarkChange> {
        match self.active_since {
            None if depth >= self.capacity => {
                self.active_since = Some(Instant::now());
                self.episodes += 1;
                Some(WatermarkChange::Triggered)
            }
            Some(since) if depth <= self.low => {
                let after = since.elapsed();
                self.total += after;
                self.active_since = None;
                Some(WatermarkChange::Relieved { after })
            }
            _ => None,
        }
    }

    /// Whether backpressure is active.
    pub fn is_active(&self) -> bool {
        self.active_since.is_some()
    }

    /// Backpressure episodes so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }

    /// Time spent in backpressure (the current episode included).
    pub fn total(&self) -> Duration {
        self.total + self.active_since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// The low watermark depth.
    pub fn low(&self) -> usize {
        self.low
    }
}

/// A token bucket: `per_second` tokens per second, holding at most one
/// second's worth.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    per_second: u64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A limiter at `per_second` (≥ 1), starting with one token.
    pub fn new(per_second: u64) -> Self {
        Self {
            per_second: per_second.max(1),
            tokens: 1.0,
            last: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second as f64).min(self.per_second as f64);
    }

    /// Whether one element may go now; `Err(wait)` tells how long until it may.
    pub fn check(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second as f64,
            ))
        }
    }

    /// Starts over at `now` with one token: time before it (a flow's
    /// component start-up) earns no burst.
    pub fn restart(&mut self, now: Instant) {
        self.tokens = 1.0;
        self.last = now;
    }

    /// Spends one token (after a successful [`RateLimiter::check`]).
    pub fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_has_hysteresis() {
        let mut w = Watermark::new(16, 0.5);
        assert_eq!(w.observe(15), None);
        assert_eq!(w.observe(16), Some(WatermarkChange::Triggered));
        assert!(w.is_active());
        // Draining, but still above the low watermark: stays active.
        assert_eq!(w.observe(12), None);
        assert_eq!(w.observe(9), None);
        assert!(w.is_active());
        assert!(matches!(
            w.observe(8),
            Some(WatermarkChange::Relieved { .. })
        ));
        assert!(!w.is_active());
        // Refilling below capacity does not re-trigger.
        assert_eq!(w.observe(15), None);
        assert_eq!(w.episodes(), 1);
    }

    #[test]
    fn a_capacity_one_stream_relieves_when_empty() {
        let mut w = Watermark::new(1, 0.5);
        assert_eq!(w.observe(1), Some(WatermarkChange::Triggered));
        assert!(matches!(
            w.observe(0),
            Some(WatermarkChange::Relieved { .. })
        ));
    }

    #[test]
    fn the_rate_limiter_spaces_elements() {
        let start = Instant::now();
        let mut r = RateLimiter::new(10);
        assert!(r.check(start).is_ok());
        r.take();
        let wait = r.check(start).expect_err("bucket empty");
        assert!(
            wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        assert!(r.check(start + Duration::from_millis(100)).is_ok());
    }

    #[test]
    fn a_restarted_limiter_earns_nothing_for_the_time_before() {
        let created = Instant::now();
        let mut r = RateLimiter::new(10);
        let later = created + Duration::from_secs(1);
        r.restart(later);
        assert!(r.check(later).is_ok());
        r.take();
        assert!(r.check(later).is_err(), "no burst from the second before");
        assert!(r.check(later + Duration::from_millis(100)).is_ok());
    }

    #[test]
    fn only_block_and_rate_limit_gate_the_producer() {
        assert!(Policy::Block.gates_producer());
        assert!(Policy::RateLimit { per_second: 5 }.gates_producer());
        assert!(!Policy::DropOldest.gates_producer());
        assert!(!Policy::DropNewest.gates_producer());
        assert!(!Policy::Error.gates_producer());
    }
}
