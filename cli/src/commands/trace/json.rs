//! `--trace-format json`: JSON lines — the flow, one object per element
//! (every call with its timing, buffers, copies and outcome), one per
//! event, and the summary last.

use super::collect::{FlowTrace, TracedCall};
use super::summary::TraceSummary;
use serde_json::{json, Value};
use torvyn_actors::observability::export::{span_id_hex, trace_id_hex};
use torvyn_runtime::reactor::trace::{BackpressurePhase, BufferRef, TraceRecord};

fn buffer(b: Option<BufferRef>) -> Value {
    match b {
        Some(b) => json!({ "buffer": b.id.to_string(), "bytes": b.bytes }),
        None => Value::Null,
    }
}

fn call(trace: &FlowTrace, call: &TracedCall) -> Value {
    let r = &call.record;
    let span_id = trace
        .info
        .as_ref()
        .map(|i| span_id_hex(&i.context.span_id(r.node, r.sequence)));
    json!({
        "node": trace.node_name(r.node as usize),
        "op": r.op.as_str(),
        "span_id": span_id,
        "start_unix_ns": r.start_unix_ns,
        "duration_ns": r.duration_ns,
        "input": buffer(r.input),
        "output": buffer(r.output),
        "copies": r.copies,
        "copied_bytes": r.copied_bytes,
        "outcome": r.outcome.as_str(),
        "routes": trace.routes(r.node as usize, r.routes),
        "payload": call.payload.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()),
    })
}

/// A flow-level event as JSON (`None` for calls and payloads).
fn event(trace: &FlowTrace, e: &TraceRecord) -> Option<Value> {
    let value = match *e {
        TraceRecord::Backpressure {
            stream,
            at_unix_ns,
            depth,
            capacity,
            phase,
        } => {
            let (phase, duration) = match phase {
                BackpressurePhase::Triggered => ("activated", None),
                BackpressurePhase::Relieved { duration_ns } => ("relieved", Some(duration_ns)),
            };
            json!({
                "type": "backpressure", "stream": trace.stream_name(stream as usize), "at_unix_ns": at_unix_ns,
                "depth": depth, "capacity": capacity, "phase": phase, "duration_ns": duration,
            })
        }
        TraceRecord::SourceSignal {
            node,
            at_unix_ns,
            paused,
        } => json!({
            "type": "source_signal", "node": trace.node_name(node as usize), "at_unix_ns": at_unix_ns,
            "signal": if paused { "pause" } else { "ready" },
        }),
        TraceRecord::SinkPaused { node, at_unix_ns } => json!({
            "type": "sink_paused", "node": trace.node_name(node as usize), "at_unix_ns": at_unix_ns,
        }),
        TraceRecord::Stage(_) | TraceRecord::Payload { .. } => return None,
    };
    Some(value)
}

/// The trace as JSON lines.
pub fn render(trace: &FlowTrace, summary: &TraceSummary) -> String {
    let mut lines: Vec<Value> = Vec::new();
    if let Some(info) = &trace.info {
        lines.push(json!({
            "type": "flow",
            "flow": info.name,
            "trace_id": trace_id_hex(&info.context.trace_id),
            "root_span_id": span_id_hex(&info.context.root_span_id),
            "started_unix_ns": trace.started,
            "ended_unix_ns": trace.ended,
            "error": trace.error,
        }));
    }
    for element in trace.ordered() {
        lines.push(json!({
            "type": "element",
            "sequence": element.sequence,
            "latency_ns": element.latency_ns(),
            "calls": element.calls.iter().map(|c| call(trace, c)).collect::<Vec<_>>(),
        }));
    }
    lines.extend(trace.events.iter().filter_map(|e| event(trace, e)));
    lines.push(json!({
        "type": "summary",
        "elements": summary.elements,
        "delivered": summary.delivered,
        "dropped": summary.dropped,
        "failed": summary.failed,
        "avg_latency_ns": summary.avg_ns,
        "p50_latency_ns": summary.p50_ns,
        "p99_latency_ns": summary.p99_ns,
        "copies": summary.copies,
        "copy_bytes": summary.copy_bytes,
        "buffer_reuse": summary.buffer_reuse,
        "backpressure_events": summary.backpressure_events,
        "records_dropped": summary.records_dropped,
    }));
    let mut out = String::new();
    for line in lines {
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_trace_is_one_summary_line() {
        let trace = FlowTrace::default();
        let summary = TraceSummary::of(&trace, None, 0);
        let text = render(&trace, &summary);
        assert_eq!(text.lines().count(), 1);
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["type"], "summary");
        assert_eq!(v["elements"], 0);
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(
            span_id_hex(&[0, 0xab, 7, 0, 0, 0, 0, 1]),
            "00ab070000000001"
        );
    }
}
