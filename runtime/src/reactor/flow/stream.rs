//! One stream of a running flow: its bounded queue, credit ledger,
//! watermark and rate limiter, and its counters.

use crate::reactor::backpressure::{RateLimiter, StreamSettings, Watermark};
use crate::reactor::credit::CreditLedger;
use crate::reactor::element::QueuedElement;
use crate::reactor::queue::BoundedQueue;
use std::time::Instant;

/// A stream (edge) of a running flow.
pub(super) struct Stream {
    /// Carries dead letters (its upstream port is `dead-letter`).
    pub(super) dead_letter: bool,
    /// Its consumer ended abnormally: elements sent here are dropped.
    pub(super) closed: bool,
    pub(super) name: String,
    pub(super) from: usize,
    pub(super) from_port: String,
    pub(super) to: usize,
    pub(super) queue: BoundedQueue<QueuedElement>,
    pub(super) credit: CreditLedger,
    pub(super) settings: StreamSettings,
    pub(super) watermark: Watermark,
    pub(super) limiter: Option<RateLimiter>,
    pub(super) upstream_ended: bool,
    /// What went through it: what reports and metrics read.
    pub(super) counters: StreamCounters,
    /// Merge priority at the consumer.
    pub(super) priority: u32,
}

/// What went through a stream, for its
/// [`StreamReport`](crate::reactor::StreamReport).
#[derive(Default)]
pub(super) struct StreamCounters {
    /// Elements enqueued.
    pub(super) transferred: u64,
    /// Elements `drop-oldest` evicted.
    pub(super) dropped_oldest: u64,
    /// Elements `drop-newest` refused.
    pub(super) dropped_newest: u64,
    /// Elements an independent fan-out branch missed because it was full.
    pub(super) lagged: u64,
    /// Elements dropped because its consumer ended abnormally.
    pub(super) dropped_closed: u64,
}

impl Stream {
    /// Whether a gating stream can take an element now: credit, no active
    /// backpressure, and a rate-limit token if it has a limiter.
    // HOT PATH: one clock read per call at most, shared through `now`.
    pub(super) fn accepts(&mut self, now: &mut Option<Instant>) -> bool {
        !self.watermark.is_active() && self.has_room(now)
    }

    /// Whether the queue has a free slot (credit) and the rate limit, if
    /// any, allows one more element now.
    pub(super) fn has_room(&mut self, now: &mut Option<Instant>) -> bool {
        if self.credit.available() == 0 {
            return false;
        }
        match self.limiter.as_mut() {
            Some(limiter) => limiter.check(*now.get_or_insert_with(Instant::now)).is_ok(),
            None => true,
        }
    }
}
