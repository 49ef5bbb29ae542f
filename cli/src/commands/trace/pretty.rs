//! `--trace-format pretty`: each element's path through the stages, with
//! timings, buffers, copies, drops and routes, then the summary.

use super::collect::{ElementTrace, FlowTrace, TracedCall};
use super::summary::TraceSummary;
use std::fmt::Write;
use torvyn_runtime::reactor::trace::{
    BackpressurePhase, BufferRef, StageOp, StageOutcome, TraceRecord,
};

/// What to show besides the calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrettyOptions {
    /// Payload snapshots.
    pub show_buffers: bool,
    /// Backpressure and pause events between elements.
    pub show_backpressure: bool,
}

/// A duration the way people read it: `850ns`, `4.2µs`, `1.25ms`, `2.10s`.
pub fn format_ns(ns: u64) -> String {
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{:.1}µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2}ms", ns as f64 / 1e6)
    } else {
        format!("{:.2}s", ns as f64 / 1e9)
    }
}

fn buffer(b: BufferRef, how: &str) -> String {
    format!("{} ({}B, {how})", b.id, b.bytes)
}

/// What a call did, after its timing: buffers, copies, the outcome.
fn call_detail(trace: &FlowTrace, call: &TracedCall) -> String {
    let r = &call.record;
    let mut parts: Vec<String> = Vec::new();
    if let Some(input) = r.input {
        parts.push(buffer(input, "borrowed"));
    }
    if let Some(output) = r.output {
        let produced = buffer(output, "new");
        if r.input.is_some() {
            parts.push(format!("→ {produced}"));
        } else {
            parts.push(produced);
        }
    }
    match r.outcome {
        StageOutcome::Passed => parts.push("pass".into()),
        StageOutcome::Dropped => parts.push("drop".into()),
        StageOutcome::Failed => parts.push("FAILED".into()),
        StageOutcome::Routed => {
            let routes = trace.routes(r.node as usize, r.routes);
            if routes.is_empty() {
                parts.push("routed".into());
            } else {
                parts.push(format!("routed: {}", routes.join(", ")));
            }
        }
        StageOutcome::Emitted | StageOutcome::Delivered | StageOutcome::Ended => {}
    }
    if r.copies > 0 {
        let noun = if r.copies == 1 { "copy" } else { "copies" };
        parts.push(format!("{} {noun} ({}B)", r.copies, r.copied_bytes));
    }
    parts.join("  ")
}

/// A payload snapshot as an escaped string.
fn payload_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    format!("\"{}\"", text.escape_debug())
}

fn write_element(
    out: &mut String,
    trace: &FlowTrace,
    element: &ElementTrace,
    widths: (usize, usize),
    options: PrettyOptions,
) {
    let label = format!("elem-{}", element.sequence);
    let indent = " ".repeat(label.len().max(6));
    let count = element.calls.len();
    // A payload is shown once per buffer: where it appears first.
    let mut last_shown = None;
    for (k, call) in element.calls.iter().enumerate() {
        let branch = match (k, count) {
            (_, 1) => "──",
            (0, _) => "┬─",
            (k, n) if k + 1 == n => "└─",
            _ => "├─",
        };
        let lead = if k == 0 {
            format!("{label:<width$}", width = indent.len())
        } else {
            indent.clone()
        };
        let r = &call.record;
        let detail = call_detail(trace, call);
        let line = format!(
            "  {lead}  {branch} {name:<nw$}  {op:<ow$}  {time:>8}  {detail}",
            name = trace.node_name(r.node as usize),
            nw = widths.0,
            op = r.op.as_str(),
            ow = widths.1,
            time = format_ns(r.duration_ns),
        );
        let _ = writeln!(out, "{}", line.trim_end());
        let shown = r.output.or(r.input).map(|b| b.id);
        if options.show_buffers && shown != last_shown {
            last_shown = shown;
            if let Some(payload) = &call.payload {
                let bar = if k + 1 == count { " " } else { "│" };
                let _ = writeln!(
                    out,
                    "  {indent}  {bar}    payload: {}",
                    payload_text(payload)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "  {indent}  total: {}",
        format_ns(element.latency_ns())
    );
    let _ = writeln!(out);
}

fn write_event(out: &mut String, trace: &FlowTrace, event: &TraceRecord) {
    let line = match *event {
        TraceRecord::Backpressure {
            stream,
            depth,
            capacity,
            phase: BackpressurePhase::Triggered,
            ..
        } => format!(
            "⚠ backpressure ACTIVATED  {}  queue {depth}/{capacity}",
            trace.stream_name(stream as usize)
        ),
        TraceRecord::Backpressure {
            stream,
            depth,
            capacity,
            phase: BackpressurePhase::Relieved { duration_ns },
            ..
        } => format!(
            "✓ backpressure relieved   {}  queue {depth}/{capacity}  after {}",
            trace.stream_name(stream as usize),
            format_ns(duration_ns)
        ),
        TraceRecord::SourceSignal { node, paused, .. } => format!(
            "{} source {} notified: {}",
            if paused { "⏸" } else { "▶" },
            trace.node_name(node as usize),
            if paused { "PAUSE" } else { "READY" }
        ),
        TraceRecord::SinkPaused { node, .. } => {
            format!("⏸ sink {} answered: PAUSE", trace.node_name(node as usize))
        }
        // Calls and payloads are not events.
        TraceRecord::Stage(_) | TraceRecord::Payload { .. } => return,
    };
    let _ = writeln!(out, "  {line}");
}

/// The summary block.
pub fn write_summary(out: &mut String, summary: &TraceSummary) {
    let _ = writeln!(out, "  ── Trace Summary ────────");
    let _ = writeln!(out, "  Elements traced:  {}", summary.elements);
    if summary.dropped > 0 {
        let _ = writeln!(out, "  Dropped:          {}", summary.dropped);
    }
    if summary.failed > 0 {
        let _ = writeln!(out, "  Failed:           {}", summary.failed);
    }
    let _ = writeln!(
        out,
        "  Avg latency:      {} (p50: {}, p99: {})",
        format_ns(summary.avg_ns),
        format_ns(summary.p50_ns),
        format_ns(summary.p99_ns)
    );
    if summary.copy_bytes > 0 {
        let _ = writeln!(
            out,
            "  Copies:           {} ({}B)",
            summary.copies, summary.copy_bytes
        );
    } else {
        let _ = writeln!(out, "  Copies:           {}", summary.copies);
    }
    match summary.buffer_reuse {
        Some(rate) => {
            let _ = writeln!(out, "  Buffer reuse:     {:.0}%", rate * 100.0);
        }
        None => {
            let _ = writeln!(out, "  Buffer reuse:     n/a");
        }
    }
    let noun = if summary.backpressure_events == 1 {
        "event"
    } else {
        "events"
    };
    let _ = writeln!(
        out,
        "  Backpressure:     {} {noun}",
        summary.backpressure_events
    );
    if summary.records_dropped > 0 {
        let _ = writeln!(
            out,
            "  Trace records lost: {} (the trace pipeline was full)",
            summary.records_dropped
        );
    }
}

/// The whole trace, then the summary.
pub fn render(trace: &FlowTrace, summary: &TraceSummary, options: PrettyOptions) -> String {
    let mut out = String::new();
    let elements = trace.ordered();
    let name_width = elements
        .iter()
        .flat_map(|e| e.calls.iter())
        .map(|c| trace.node_name(c.record.node as usize).chars().count())
        .max()
        .unwrap_or(0);
    let op_width = elements
        .iter()
        .flat_map(|e| e.calls.iter())
        .map(|c| c.record.op.as_str().len())
        .max()
        .unwrap_or(StageOp::Push.as_str().len());
    let mut events = trace.events.iter().peekable();
    for element in elements {
        if options.show_backpressure {
            while let Some(event) =
                events.next_if(|e| e.at_unix_ns().unwrap_or(0) <= element.began())
            {
                write_event(&mut out, trace, event);
            }
        }
        write_element(&mut out, trace, element, (name_width, op_width), options);
    }
    if options.show_backpressure {
        let mut rest = false;
        for event in events {
            write_event(&mut out, trace, event);
            rest = true;
        }
        if rest {
            out.push('\n');
        }
    }
    write_summary(&mut out, summary);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_readable_unit() {
        assert_eq!(format_ns(850), "850ns");
        assert_eq!(format_ns(4_200), "4.2µs");
        assert_eq!(format_ns(1_250_000), "1.25ms");
        assert_eq!(format_ns(2_100_000_000), "2.10s");
    }

    #[test]
    fn payloads_are_escaped() {
        assert_eq!(payload_text(b"a\"b\n"), "\"a\\\"b\\n\"");
        assert_eq!(payload_text(&[0xff, b'x']), "\"\u{fffd}x\"");
    }
}
