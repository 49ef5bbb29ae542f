//! Components read the flow's W3C trace context through `flow-context`:
//! the flow's trace id, and the span id of the call in progress (the
//! span the flow's trace export gives that call), empty when the flow is
//! not traced.

use crate::common::*;
use torvyn_actors::FlowSpec;
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::reactor::{FlowSettings, TraceContext};

const ELEMENTS: u64 = 20;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs counter-source → slow-sink (printing each element's trace and span
/// id) at `level` under `context`; the sink's lines as (sequence, trace,
/// span).
fn sink_lines(level: ObservabilityLevel, context: TraceContext) -> Vec<(u64, String, String)> {
    let (engine, captured) = engine_capturing_stdout();
    let stages = source_sink_on(&engine, ELEMENTS, "slow-sink", r#"{"log_trace": 1}"#);
    let host = host_on(&engine, 1);
    host.set_observability_level(level);
    let spec = FlowSpec::new(stages).with_settings(FlowSettings {
        flow_name: "trace-context".into(),
        trace_context: Some(context),
        ..FlowSettings::default()
    });
    let id = host.start_flow(spec).expect("starts");
    host.await_completion(id).expect("completes");
    host.shutdown();
    let text = captured.text();
    let lines: Vec<_> = text
        .lines()
        .filter_map(|line| line.strip_prefix("[slow-sink] seq="))
        .map(|rest| {
            let (seq, rest) = rest.split_once(" trace=").expect("trace field");
            let (trace, span) = rest.split_once(" span=").expect("span field");
            (
                seq.parse().expect("sequence"),
                trace.to_string(),
                span.to_string(),
            )
        })
        .collect();
    assert_eq!(lines.len() as u64, ELEMENTS, "{text}");
    lines
}

fn context() -> TraceContext {
    TraceContext {
        trace_id: [0x4b; 16],
        root_span_id: [0x2c; 8],
    }
}

#[test]
fn a_component_reads_the_flows_trace_id_and_the_span_of_its_call() {
    let context = context();
    let lines = sink_lines(ObservabilityLevel::Production, context);
    let mut spans = std::collections::HashSet::new();
    for (sequence, trace, span) in &lines {
        assert_eq!(trace, &hex(&context.trace_id), "element {sequence}");
        // The sink is node 1: its call on this element has this span.
        assert_eq!(
            span,
            &hex(&context.span_id(1, *sequence)),
            "element {sequence}"
        );
        assert_ne!(
            span,
            &hex(&context.root_span_id),
            "a call's span, not the root"
        );
        spans.insert(span.clone());
    }
    assert_eq!(spans.len() as u64, ELEMENTS, "one span per call");
}

#[test]
fn the_trace_context_is_empty_when_observability_is_off() {
    let lines = sink_lines(ObservabilityLevel::Off, context());
    for (sequence, trace, span) in &lines {
        assert!(
            trace.is_empty() && span.is_empty(),
            "element {sequence}: {trace:?} {span:?}"
        );
    }
}
