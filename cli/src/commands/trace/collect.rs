//! Gathers the trace batches of one flow into per-element traces.

use std::collections::BTreeMap;
use std::sync::Arc;
use torvyn_actors::{FlowId, FlowTraceInfo, TraceBatch, TraceBatchKind};
use torvyn_runtime::reactor::trace::{StageOutcome, StageRecord, TraceRecord, PREVIEW_BYTES};

/// One call in an element's path, with the payload it saw (when captured).
#[derive(Debug, Clone)]
pub struct TracedCall {
    /// The call.
    pub record: StageRecord,
    /// The payload's first bytes (`--show-buffers`).
    pub payload: Option<Vec<u8>>,
}

/// Everything that happened to one element.
#[derive(Debug, Clone)]
pub struct ElementTrace {
    /// Its sequence.
    pub sequence: u64,
    /// Its calls, in the order they ran.
    pub calls: Vec<TracedCall>,
}

impl ElementTrace {
    /// When its first call began (ns since the Unix epoch).
    pub fn began(&self) -> u64 {
        self.calls.first().map_or(0, |c| c.record.start_unix_ns)
    }

    /// From the start of its first call to the end of its last.
    pub fn latency_ns(&self) -> u64 {
        let end = self
            .calls
            .iter()
            .map(|c| c.record.start_unix_ns + c.record.duration_ns)
            .max()
            .unwrap_or(0);
        end.saturating_sub(self.began())
    }

    /// Copies its calls caused.
    pub fn copies(&self) -> u64 {
        self.calls.iter().map(|c| u64::from(c.record.copies)).sum()
    }
}

/// The collected trace of one flow.
#[derive(Debug, Default)]
pub struct FlowTrace {
    /// The flow's names and trace id (from its first batch).
    pub info: Option<Arc<FlowTraceInfo>>,
    /// Elements by sequence.
    pub elements: BTreeMap<u64, ElementTrace>,
    /// Flow-level events (backpressure, source and sink signals), in order.
    pub events: Vec<TraceRecord>,
    /// The flow started and ended at (ns since the Unix epoch).
    pub started: Option<u64>,
    /// When it ended.
    pub ended: Option<u64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

impl FlowTrace {
    /// Adds one batch of `flow` (batches of other flows are ignored).
    /// Returns `true` once the flow's end marker arrived.
    pub fn add(&mut self, flow: FlowId, batch: &TraceBatch) -> bool {
        if batch.info.flow != flow {
            return false;
        }
        if self.info.is_none() {
            self.info = Some(Arc::clone(&batch.info));
        }
        match &batch.kind {
            TraceBatchKind::Started { at_unix_ns } => self.started = Some(*at_unix_ns),
            TraceBatchKind::Ended { at_unix_ns, error } => {
                self.ended = Some(*at_unix_ns);
                self.error = error.clone();
                return true;
            }
            TraceBatchKind::Records(records) => {
                for record in records {
                    self.add_record(record);
                }
            }
        }
        false
    }

    fn add_record(&mut self, record: &TraceRecord) {
        match *record {
            TraceRecord::Stage(stage) => {
                // A source's last pull (no element) is not an element.
                if stage.outcome == StageOutcome::Ended {
                    return;
                }
                self.elements
                    .entry(stage.sequence)
                    .or_insert_with(|| ElementTrace {
                        sequence: stage.sequence,
                        calls: Vec::new(),
                    })
                    .calls
                    .push(TracedCall {
                        record: stage,
                        payload: None,
                    });
            }
            TraceRecord::Payload {
                node,
                sequence,
                bytes,
                len,
            } => {
                let call = self
                    .elements
                    .get_mut(&sequence)
                    .and_then(|e| e.calls.iter_mut().rev().find(|c| c.record.node == node));
                if let Some(call) = call {
                    let len = usize::from(len).min(PREVIEW_BYTES);
                    call.payload = Some(bytes[..len].to_vec());
                }
            }
            TraceRecord::Backpressure { .. }
            | TraceRecord::SourceSignal { .. }
            | TraceRecord::SinkPaused { .. } => self.events.push(*record),
        }
    }

    /// Elements in the order they entered the flow.
    pub fn ordered(&self) -> Vec<&ElementTrace> {
        let mut all: Vec<&ElementTrace> = self.elements.values().collect();
        all.sort_by_key(|e| (e.began(), e.sequence));
        all
    }

    /// A node's name.
    pub fn node_name(&self, node: usize) -> &str {
        self.info
            .as_ref()
            .and_then(|i| i.nodes.get(node))
            .map_or("?", |n| n.name.as_str())
    }

    /// A stream's name.
    pub fn stream_name(&self, stream: usize) -> &str {
        self.info
            .as_ref()
            .and_then(|i| i.streams.get(stream))
            .map_or("?", |s| s.name.as_str())
    }

    /// The ports (stream consumers) a router's `routes` bits name.
    pub fn routes(&self, node: usize, bits: u64) -> Vec<String> {
        let Some(info) = self.info.as_ref() else {
            return Vec::new();
        };
        let Some(n) = info.nodes.get(node) else {
            return Vec::new();
        };
        n.outputs
            .iter()
            .enumerate()
            .filter(|(k, _)| *k < 64 && bits & (1 << k) != 0)
            .filter_map(|(_, &s)| info.streams.get(s))
            .map(|s| {
                format!(
                    "{} → {}",
                    s.port,
                    info.nodes.get(s.to).map_or("?", |n| n.name.as_str())
                )
            })
            .collect()
    }
}
