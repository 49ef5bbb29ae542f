//! At-least-once completion in the flow: the [`CompletionTracker`] wired
//! to the stage loop, for flows with a source that acknowledges its input
//! (`builtin:nats-source`) or a sink that confirms elements later
//! (`builtin:nats-sink`). Every other flow has none, and each hook below
//! costs it one `None` check.
//!
//! An element's live count is held once by the call that has it in hand
//! (the pull, or the stage it is being run on), once per stream it is
//! queued on, and once by a deferring sink until the sink confirms it.
//! The hand's hold ends after what the call returned was routed, so a
//! count reaches zero only when nothing derived from the element is left:
//! every sink accepted it, or a filter, router or the `skip` policy
//! dropped it, or its dead-letter destination took it. Then its source
//! hears `handled`. A sink that fails an element makes its source hand
//! the message back (`handled(…, false)`); a flow that fails or is
//! cancelled tells its sources nothing.

use super::Flow;
use crate::connectors::Origin;
use crate::reactor::completion::CompletionTracker;
use std::time::{Duration, Instant};

/// How long an acknowledging source waits when the tracker is full.
const TRACKER_FULL_WAIT: Duration = Duration::from_millis(1);

/// Elements a deferring sink may hold unconfirmed, as the tracker sizes
/// its table (a sink's publish window and its ack queue).
const DEFERRED_PER_SINK: usize = 4096;

/// The flow's completion state.
pub(super) struct Completion {
    tracker: CompletionTracker,
    /// Per node: it is a source that acknowledges.
    acknowledging: Vec<bool>,
    /// Per node: an acknowledging source's namespace (origins).
    namespaces: Vec<String>,
    /// Sinks that confirm later.
    deferring: Vec<usize>,
    /// Confirmations collected from one sink (reused).
    settled: Vec<(u64, bool)>,
}

impl Completion {
    /// Completion for a flow whose streams hold `queued` elements at most,
    /// or `None` when no stage needs it.
    pub(super) fn for_flow(flow: &Flow) -> Option<Box<Self>> {
        let acknowledging: Vec<bool> = flow
            .nodes
            .iter()
            .map(|n| n.instance.acknowledges())
            .collect();
        let deferring: Vec<usize> = (0..flow.nodes.len())
            .filter(|&n| flow.nodes[n].instance.defers())
            .collect();
        if !acknowledging.contains(&true) && deferring.is_empty() {
            return None;
        }
        let queued: usize = flow.streams.iter().map(|s| s.settings.capacity).sum();
        let capacity = queued + flow.nodes.len() + DEFERRED_PER_SINK * deferring.len().max(1);
        Some(Box::new(Self {
            tracker: CompletionTracker::with_capacity(capacity),
            namespaces: flow
                .nodes
                .iter()
                .map(|n| n.instance.namespace().to_string())
                .collect(),
            acknowledging,
            deferring,
            settled: Vec::with_capacity(DEFERRED_PER_SINK),
        }))
    }
}

impl Completion {
    /// Where tracked element `sequence` came from (for a sink's push);
    /// takes the field so the caller may hold a node meanwhile.
    // HOT PATH
    pub(super) fn origin(completion: &Option<Box<Self>>, sequence: u64) -> Option<Origin<'_>> {
        let c = completion.as_deref()?;
        let (source, id) = c.tracker.origin(sequence)?;
        Some(Origin {
            namespace: &c.namespaces[source],
            id,
        })
    }
}

impl Flow {
    /// Whether acknowledging source `n` must wait: its elements would not
    /// fit in the tracker. Sets when to ask again.
    // HOT PATH
    pub(super) fn completion_full(&mut self, n: usize) -> bool {
        let Some(c) = self.completion.as_deref() else {
            return false;
        };
        if !c.acknowledging[n] || c.tracker.has_room() {
            return false;
        }
        self.nodes[n].state.ready_at = Some(Instant::now() + TRACKER_FULL_WAIT);
        true
    }

    /// Element `sequence` was just pulled from source `n`: tracked when
    /// the source acknowledges, held by the pull.
    // HOT PATH
    pub(super) fn track_pulled(&mut self, n: usize, sequence: u64) {
        let Some(c) = self.completion.as_deref_mut() else {
            return;
        };
        if c.acknowledging[n] {
            let origin = self.nodes[n].instance.track(sequence);
            c.tracker.track(sequence, n, origin);
        }
    }

    /// One more derivative of `sequence` is in flight.
    // HOT PATH
    pub(super) fn hold_element(&mut self, sequence: u64) {
        if let Some(c) = self.completion.as_deref_mut() {
            c.tracker.hold(sequence);
        }
    }

    /// One derivative of `sequence` was handled; its source hears when it
    /// was the last.
    // HOT PATH
    pub(super) fn release_element(&mut self, sequence: u64) {
        let Some(c) = self.completion.as_deref_mut() else {
            return;
        };
        if let Some(done) = c.tracker.release(sequence) {
            self.nodes[done.source].instance.handled(sequence, true);
        }
    }

    /// Collects the confirmations deferring sinks received: a confirmed
    /// element's sink hold ends; a failed one is abandoned (its source
    /// hands it back for redelivery) and counted as the sink's error.
    pub(super) fn settle(&mut self) {
        let Some(c) = self.completion.as_deref_mut() else {
            return;
        };
        let mut settled = std::mem::take(&mut c.settled);
        let sinks = c.deferring.len();
        for k in 0..sinks {
            let Some(n) = self.completion.as_deref().map(|c| c.deferring[k]) else {
                break;
            };
            self.nodes[n]
                .instance
                .settle(&mut |sequence, accepted| settled.push((sequence, accepted)));
            for &(sequence, accepted) in &settled {
                if accepted {
                    self.release_element(sequence);
                } else {
                    self.nodes[n].counters.errors += 1;
                    let Some(c) = self.completion.as_deref_mut() else {
                        break;
                    };
                    if let Some(source) = c.tracker.abandon(sequence) {
                        self.nodes[source].instance.handled(sequence, false);
                    }
                }
            }
            settled.clear();
        }
        if let Some(c) = self.completion.as_deref_mut() {
            c.settled = settled;
        }
    }
}
