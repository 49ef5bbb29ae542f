//! [`FlowEvent`]s and the bounded, batched channel that carries them from
//! FlowActors to the ObservabilityActor.
//!
//! A FlowActor collects the events of one handler run (a state transition,
//! later backpressure changes) in a small buffer and sends them as one
//! [`EventBatch`] with `try_send`: a full channel never blocks a flow; the
//! events are dropped and counted (per flow in [`FlowCounters`], host-wide
//! in [`EventPublisher::dropped`]).
//!
//! [`FlowCounters`]: crate::FlowCounters

use crate::counters::FlowCounters;
use crate::ids::FlowId;
use crate::observability::level::LevelSwitch;
use crate::state::FlowState;
use crate::trace::TracePublisher;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::SystemTime;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowEventKind {
    /// A lifecycle transition.
    StateChanged {
        /// The state left.
        from: FlowState,
        /// The state entered.
        to: FlowState,
    },
    /// A queue reached its capacity: its producer is held (`block`,
    /// `rate-limit`).
    BackpressureTriggered {
        /// Index of the queue (edge) in flow order.
        queue: usize,
        /// Its depth at that moment.
        depth: usize,
    },
    /// A held queue drained to its low watermark.
    BackpressureRelieved {
        /// Index of the queue (edge) in flow order.
        queue: usize,
        /// Its depth at that moment.
        depth: usize,
        /// How long it was backpressured, in microseconds.
        duration_us: u64,
    },
}

/// One event of one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowEvent {
    /// The flow.
    pub flow: FlowId,
    /// When, as wall-clock time.
    pub at: SystemTime,
    /// What.
    pub kind: FlowEventKind,
}

/// The events of one flow produced by one handler run.
#[derive(Debug)]
pub struct EventBatch {
    /// The flow.
    pub flow: FlowId,
    /// Its events, in order.
    pub events: Vec<FlowEvent>,
}

/// The sending side shared by every FlowActor of a host.
#[derive(Debug, Clone)]
pub struct EventPublisher {
    tx: kanal::Sender<EventBatch>,
    dropped: Arc<AtomicU64>,
    /// The host's observability level, which every FlowActor reads
    /// between batches through its publisher.
    level: LevelSwitch,
    /// Where FlowActors send their trace records (`None`: nowhere).
    traces: Option<TracePublisher>,
}

impl EventPublisher {
    /// A channel holding at most `capacity` batches, and its receiver
    /// (at the default observability level).
    pub fn bounded(capacity: usize) -> (Self, kanal::Receiver<EventBatch>) {
        Self::with_level(capacity, LevelSwitch::default())
    }

    /// A channel holding at most `capacity` batches, carrying the host's
    /// observability `level` to every FlowActor.
    pub fn with_level(capacity: usize, level: LevelSwitch) -> (Self, kanal::Receiver<EventBatch>) {
        let (tx, rx) = kanal::bounded(capacity.max(1));
        (
            Self {
                tx,
                dropped: Arc::new(AtomicU64::new(0)),
                level,
                traces: None,
            },
            rx,
        )
    }

    /// The same publisher, also carrying `traces` to every FlowActor.
    pub fn with_traces(mut self, traces: TracePublisher) -> Self {
        self.traces = Some(traces);
        self
    }

    /// Where trace records go, if anywhere.
    pub fn traces(&self) -> Option<&TracePublisher> {
        self.traces.as_ref()
    }

    /// The host's observability level switch.
    pub fn level(&self) -> &LevelSwitch {
        &self.level
    }

    /// Sends `batch` unless the channel is full or closed; what is not sent
    /// is counted, per flow and host-wide.
    pub fn publish(&self, batch: EventBatch, counters: &FlowCounters) {
        let n = batch.events.len() as u64;
        if n == 0 {
            return;
        }
        match self.tx.try_send(batch) {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                self.dropped.fetch_add(n, Relaxed);
                counters.add_events_dropped(n);
            }
        }
    }

    /// Events dropped host-wide because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: usize) -> EventBatch {
        let event = FlowEvent {
            flow: FlowId::new(1),
            at: SystemTime::UNIX_EPOCH,
            kind: FlowEventKind::StateChanged {
                from: FlowState::Created,
                to: FlowState::Validated,
            },
        };
        EventBatch {
            flow: FlowId::new(1),
            events: vec![event; n],
        }
    }

    #[test]
    fn test_event_publisher_full_channel_counts_dropped_events() {
        let (publisher, rx) = EventPublisher::bounded(1);
        let counters = FlowCounters::default();
        publisher.publish(batch(2), &counters);
        publisher.publish(batch(3), &counters);
        assert_eq!(publisher.dropped(), 3);
        assert_eq!(counters.snapshot().events_dropped, 3);
        assert_eq!(
            rx.try_recv().ok().flatten().map(|b| b.events.len()),
            Some(2)
        );
    }
}
