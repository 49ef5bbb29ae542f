//! What a networked connector counts: written by its I/O tasks and its
//! stage (relaxed atomics, no lock), read into a [`ConnectorReport`] by
//! the flow's report, and from there into the run report and `/metrics`.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// A connector's live counters.
#[derive(Debug, Default)]
pub(crate) struct ConnectorCounters {
    fetched: AtomicU64,
    acked: AtomicU64,
    nacked: AtomicU64,
    redelivered: AtomicU64,
    pending: AtomicU64,
    unacked: AtomicU64,
    published: AtomicU64,
    publish_failures: AtomicU64,
    publish_latency_ns: AtomicU64,
}

/// A connector's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnectorReport {
    /// Messages received from the server.
    pub fetched: u64,
    /// Messages acknowledged (their elements were handled).
    pub acked: u64,
    /// Messages handed back for redelivery (a sink failed them).
    pub nacked: u64,
    /// Received messages the server had delivered before (to this host or
    /// another).
    pub redelivered: u64,
    /// Messages the server still holds for the consumer (as of the last
    /// message received).
    pub pending: u64,
    /// Messages received here and not yet acknowledged.
    pub unacked: u64,
    /// Messages published and acknowledged by the server.
    pub published: u64,
    /// Publishes the server refused or did not acknowledge in time.
    pub publish_failures: u64,
    /// Time from publish to the server's ack, summed over `published`
    /// (the mean is the ratio).
    pub publish_latency_ns: u64,
}

impl ConnectorCounters {
    pub(crate) fn fetched(&self, redelivered: bool, pending: u64) {
        self.fetched.fetch_add(1, Ordering::Relaxed);
        if redelivered {
            self.redelivered.fetch_add(1, Ordering::Relaxed);
        }
        self.pending.store(pending, Ordering::Relaxed);
    }

    pub(crate) fn acked(&self, accepted: bool) {
        let counter = if accepted { &self.acked } else { &self.nacked };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_unacked(&self, unacked: u64) {
        self.unacked.store(unacked, Ordering::Relaxed);
    }

    pub(crate) fn published(&self, ok: bool, latency_ns: u64) {
        if ok {
            self.published.fetch_add(1, Ordering::Relaxed);
            self.publish_latency_ns
                .fetch_add(latency_ns, Ordering::Relaxed);
        } else {
            self.publish_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> ConnectorReport {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ConnectorReport {
            fetched: read(&self.fetched),
            acked: read(&self.acked),
            nacked: read(&self.nacked),
            redelivered: read(&self.redelivered),
            pending: read(&self.pending),
            unacked: read(&self.unacked),
            published: read(&self.published),
            publish_failures: read(&self.publish_failures),
            publish_latency_ns: read(&self.publish_latency_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_in_the_snapshot() {
        let c = ConnectorCounters::default();
        c.fetched(false, 10);
        c.fetched(true, 9);
        c.acked(true);
        c.acked(false);
        c.set_unacked(3);
        c.published(true, 500);
        c.published(true, 700);
        c.published(false, 0);
        assert_eq!(
            c.snapshot(),
            ConnectorReport {
                fetched: 2,
                acked: 1,
                nacked: 1,
                redelivered: 1,
                pending: 9,
                unacked: 3,
                published: 2,
                publish_failures: 1,
                publish_latency_ns: 1200,
            }
        );
    }
}
