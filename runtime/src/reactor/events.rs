//! [`FlowEvent`]: what a flow reports besides its counters — backpressure
//! episodes and sink pauses. Events are kept in a bounded buffer that the
//! driver drains between batches; when it is full, new events are counted
//! as dropped instead of growing it.

use std::time::Duration;

/// Something that happened in a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEvent {
    /// A stream's queue reached capacity; its producer is held (under
    /// `block` / `rate-limit`).
    BackpressureTriggered {
        /// Stream index (see [`crate::reactor::FlowReport::streams`]).
        stream: usize,
        /// Queue depth at that moment.
        depth: usize,
    },
    /// A stream drained to its low watermark.
    BackpressureRelieved {
        /// Stream index.
        stream: usize,
        /// Queue depth at that moment.
        depth: usize,
        /// How long backpressure lasted.
        duration: Duration,
    },
    /// A component was restarted (a fresh instance) by supervision.
    ComponentRestarted {
        /// Node index.
        node: usize,
    },
    /// A sink answered `pause`; delivery to it resumes at the next batch.
    SinkPaused {
        /// Node index.
        node: usize,
    },
    /// A source was told `notify-backpressure(pause)`.
    SourcePaused {
        /// Node index.
        node: usize,
    },
    /// A source was told `notify-backpressure(ready)`.
    SourceResumed {
        /// Node index.
        node: usize,
    },
}

/// Events a new buffer has room for before it first grows.
const INITIAL_EVENT_CAPACITY: usize = 8;

/// A bounded event buffer.
#[derive(Debug)]
pub struct EventBuffer {
    events: Vec<FlowEvent>,
    capacity: usize,
    dropped: u64,
}

impl EventBuffer {
    /// A buffer holding at most `capacity` undrained events. It starts
    /// small and grows (doubling) up to `capacity` the first times a burst
    /// needs it; draining keeps its storage, so a flow in steady state
    /// never allocates here, and an idle flow holds a few hundred bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            events: Vec::with_capacity(capacity.min(INITIAL_EVENT_CAPACITY)),
            capacity,
            dropped: 0,
        }
    }

    /// Records an event, or counts it as dropped when full.
    // HOT PATH: allocates only while the buffer first grows to a burst's
    // size (at most log2(capacity) times per flow).
    pub fn push(&mut self, event: FlowEvent) {
        if self.events.len() < self.capacity {
            self.events.push(event);
        } else {
            self.dropped += 1;
        }
    }

    /// Moves every buffered event to `out`.
    pub fn drain_into(&mut self, out: &mut Vec<FlowEvent>) {
        out.append(&mut self.events);
    }

    /// Events dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}
