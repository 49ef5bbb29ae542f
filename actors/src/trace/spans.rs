//! [`SpanConsumer`]: turns trace batches into OTLP spans and hands them to
//! a [`SpanExporter`] — a root span per flow run, a child span per
//! component call (buffers, copies and outcome as attributes), and at the
//! diagnostic level a span per backpressure episode.

use super::{FlowTraceInfo, TraceBatch, TraceBatchKind, TraceConsumer};
use crate::ids::FlowId;
use crate::observability::export::{AttrValue, SpanData, SpanEvent, SpanExporter, SpanStatus};
use std::collections::HashMap;
use std::time::Duration;
use torvyn_runtime::reactor::trace::{BackpressurePhase, StageOutcome, StageRecord};
use torvyn_runtime::reactor::TraceRecord;

/// How long the host's shutdown waits for the last spans to go out.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Exports every flow's trace through `exporter`.
pub struct SpanConsumer {
    exporter: Option<SpanExporter>,
    /// When each running flow started (its root span's start).
    started: HashMap<FlowId, u64>,
    /// Backpressure episodes in progress: (flow, stream) → start.
    backpressure: HashMap<(FlowId, u32), u64>,
    dropped: u64,
}

impl SpanConsumer {
    /// A consumer exporting through `exporter`.
    pub fn new(exporter: SpanExporter) -> Self {
        Self {
            exporter: Some(exporter),
            started: HashMap::new(),
            backpressure: HashMap::new(),
            dropped: 0,
        }
    }

    fn export(&mut self, spans: Vec<SpanData>) {
        if spans.is_empty() {
            return;
        }
        if let Some(exporter) = &self.exporter {
            exporter.export(spans);
        }
    }
}

fn flow_attributes(info: &FlowTraceInfo) -> Vec<(&'static str, AttrValue)> {
    vec![
        ("torvyn.flow.name", info.name.as_str().into()),
        ("torvyn.flow.id", info.flow.to_string().into()),
    ]
}

/// The span of one component call.
pub fn call_span(info: &FlowTraceInfo, r: &StageRecord) -> SpanData {
    let node = info
        .nodes
        .get(r.node as usize)
        .map_or("?", |n| n.name.as_str());
    let mut attributes = flow_attributes(info);
    attributes.extend([
        ("torvyn.component", node.into()),
        ("torvyn.operation", r.op.as_str().into()),
        ("torvyn.element.sequence", (r.sequence as i64).into()),
        ("torvyn.outcome", r.outcome.as_str().into()),
    ]);
    if !r.measured {
        // Production times a sample of elements; this call, exported
        // because its element was promoted later, was not one of them.
        attributes.push(("torvyn.timing", "not measured".into()));
    }
    if let Some(input) = r.input {
        attributes.push(("torvyn.buffer.input", input.id.to_string().into()));
        attributes.push(("torvyn.buffer.input_bytes", i64::from(input.bytes).into()));
    }
    if let Some(output) = r.output {
        attributes.push(("torvyn.buffer.output", output.id.to_string().into()));
        attributes.push(("torvyn.buffer.output_bytes", i64::from(output.bytes).into()));
    }
    let mut events = Vec::new();
    if r.copies > 0 {
        attributes.push(("torvyn.copies", i64::from(r.copies).into()));
        events.push(SpanEvent {
            name: "copy".into(),
            time_unix_ns: r.start_unix_ns + r.duration_ns,
            attributes: vec![
                ("torvyn.copies", i64::from(r.copies).into()),
                ("torvyn.copied_bytes", (r.copied_bytes as i64).into()),
            ],
        });
    }
    SpanData {
        trace_id: info.context.trace_id,
        span_id: info.context.span_id(r.node, r.sequence),
        parent_span_id: Some(info.context.root_span_id),
        name: format!("{node} {}", r.op.as_str()),
        start_unix_ns: r.start_unix_ns,
        end_unix_ns: r.start_unix_ns + r.duration_ns,
        attributes,
        events,
        status: if r.outcome == StageOutcome::Failed {
            SpanStatus::Error(format!("{node} {} failed", r.op.as_str()))
        } else {
            SpanStatus::Unset
        },
    }
}

impl TraceConsumer for SpanConsumer {
    fn consume(&mut self, batch: &TraceBatch) {
        let info = &batch.info;
        let flow = info.flow;
        match &batch.kind {
            TraceBatchKind::Started { at_unix_ns } => {
                self.started.insert(flow, *at_unix_ns);
            }
            TraceBatchKind::Records(records) => {
                let mut spans = Vec::with_capacity(records.len());
                for record in records {
                    match *record {
                        TraceRecord::Stage(stage) => spans.push(call_span(info, &stage)),
                        TraceRecord::Backpressure {
                            stream,
                            at_unix_ns,
                            depth,
                            capacity,
                            phase,
                        } => match phase {
                            BackpressurePhase::Triggered => {
                                self.backpressure.insert((flow, stream), at_unix_ns);
                            }
                            BackpressurePhase::Relieved { duration_ns } => {
                                let start = self
                                    .backpressure
                                    .remove(&(flow, stream))
                                    .unwrap_or(at_unix_ns.saturating_sub(duration_ns));
                                let name = info
                                    .streams
                                    .get(stream as usize)
                                    .map_or("?", |s| s.name.as_str());
                                let mut attributes = flow_attributes(info);
                                attributes.extend([
                                    ("torvyn.stream", name.into()),
                                    ("torvyn.queue.capacity", i64::from(capacity).into()),
                                    ("torvyn.queue.depth_at_relief", i64::from(depth).into()),
                                ]);
                                spans.push(SpanData {
                                    trace_id: info.context.trace_id,
                                    span_id: info.context.span_id(u32::MAX - stream, start),
                                    parent_span_id: Some(info.context.root_span_id),
                                    name: format!("backpressure {name}"),
                                    start_unix_ns: start,
                                    end_unix_ns: at_unix_ns,
                                    attributes,
                                    events: Vec::new(),
                                    status: SpanStatus::Unset,
                                });
                            }
                        },
                        TraceRecord::Payload { .. }
                        | TraceRecord::SourceSignal { .. }
                        | TraceRecord::SinkPaused { .. } => {}
                    }
                }
                self.export(spans);
            }
            TraceBatchKind::Ended { at_unix_ns, error } => {
                let start = self.started.remove(&flow).unwrap_or(*at_unix_ns);
                self.backpressure.retain(|(f, _), _| *f != flow);
                let root = SpanData {
                    trace_id: info.context.trace_id,
                    span_id: info.context.root_span_id,
                    parent_span_id: None,
                    name: format!("flow {}", info.name),
                    start_unix_ns: start,
                    end_unix_ns: *at_unix_ns,
                    attributes: flow_attributes(info),
                    events: Vec::new(),
                    status: match error {
                        Some(message) => SpanStatus::Error(message.clone()),
                        None => SpanStatus::Ok,
                    },
                };
                self.export(vec![root]);
            }
        }
    }

    fn flush(&mut self) {
        if let Some(exporter) = self.exporter.take() {
            let summary = exporter.shutdown(FLUSH_TIMEOUT);
            self.dropped = summary.dropped;
        }
    }

    fn dropped(&self) -> u64 {
        match &self.exporter {
            Some(exporter) => exporter.dropped(),
            None => self.dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{TracedNode, TracedStream};
    use torvyn_runtime::reactor::trace::StageOp;
    use torvyn_runtime::reactor::StageRole;

    fn info() -> FlowTraceInfo {
        FlowTraceInfo {
            flow: FlowId::new(4),
            name: "main".into(),
            context: crate::trace::new_trace_context(),
            nodes: vec![TracedNode {
                name: "pass".into(),
                role: StageRole::Processor,
                outputs: vec![0],
            }],
            streams: vec![TracedStream {
                name: "pass-to-sink".into(),
                from: 0,
                port: "output".into(),
                to: 1,
            }],
        }
    }

    fn record(outcome: StageOutcome, copies: u32) -> StageRecord {
        StageRecord {
            node: 0,
            op: StageOp::Process,
            sequence: 9,
            start_unix_ns: 1_000,
            duration_ns: 500,
            element_timestamp_ns: 900,
            input: None,
            output: None,
            copies,
            copied_bytes: u64::from(copies) * 16,
            outcome,
            routes: 0,
            detailed: true,
            measured: true,
        }
    }

    #[test]
    fn a_call_is_a_child_of_the_flow_root_with_its_attributes() {
        let info = info();
        let span = call_span(&info, &record(StageOutcome::Emitted, 1));
        assert_eq!(span.trace_id, info.context.trace_id);
        assert_eq!(span.parent_span_id, Some(info.context.root_span_id));
        assert_eq!(span.span_id, info.context.span_id(0, 9));
        assert_eq!(span.name, "pass process");
        assert_eq!((span.start_unix_ns, span.end_unix_ns), (1_000, 1_500));
        assert!(span
            .attributes
            .contains(&("torvyn.element.sequence", AttrValue::Int(9))));
        assert!(!span.attributes.iter().any(|(k, _)| *k == "torvyn.timing"));
        assert_eq!(span.events.len(), 1, "the copy is an event");
        assert_eq!(span.status, SpanStatus::Unset);
    }

    #[test]
    fn an_unmeasured_call_says_so() {
        let mut unmeasured = record(StageOutcome::Emitted, 0);
        unmeasured.measured = false;
        unmeasured.duration_ns = 0;
        let span = call_span(&info(), &unmeasured);
        assert_eq!(span.start_unix_ns, span.end_unix_ns);
        assert!(span
            .attributes
            .contains(&("torvyn.timing", AttrValue::Str("not measured".into()))));
    }

    #[test]
    fn a_failed_call_has_an_error_status() {
        let span = call_span(&info(), &record(StageOutcome::Failed, 0));
        assert!(matches!(span.status, SpanStatus::Error(_)));
        assert!(span.events.is_empty());
    }
}
