//! The catalog's histogram families (`flow.latency`,
//! `component.processing_time`, `stream.queue.wait_time`) and
//! `system.spans_dropped`, rendered in the Prometheus text format straight
//! from the flows' shared atomic histograms.
//!
//! The `prometheus` crate's histograms own their buckets and are fed one
//! observation at a time; Torvyn's are written by the stage loop itself
//! (relaxed atomics, fixed buckets), so at scrape time the counts are
//! only read and printed, with the same name conventions as the rest of
//! the catalog (seconds, `le` buckets, `_sum`, `_count`).

use super::messages::FlowHistogramLabels;
use crate::ids::FlowId;
use std::fmt::Write;
use torvyn_runtime::reactor::histogram::{HistogramCounts, LogHistogram, BOUNDS_NS};

/// `flow.latency`.
pub const FLOW_LATENCY: &str = "torvyn_flow_latency_seconds";
/// `component.processing_time`.
pub const PROCESSING_TIME: &str = "torvyn_component_processing_time_seconds";
/// `stream.queue.wait_time`.
pub const QUEUE_WAIT: &str = "torvyn_stream_queue_wait_time_seconds";
/// `system.spans_dropped`.
pub const SPANS_DROPPED: &str = "torvyn_system_spans_dropped_total";

/// One flow's histograms, as the renderer sees them.
pub struct FlowHistogramSample<'a> {
    /// The flow.
    pub id: FlowId,
    /// Its name.
    pub name: &'a str,
    /// Its histograms and labels.
    pub labels: &'a FlowHistogramLabels,
}

/// A label value escaped for the text format.
pub(super) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// One histogram's `_bucket`, `_sum` and `_count` lines.
fn write_histogram(out: &mut String, name: &str, labels: &str, counts: &HistogramCounts) {
    let bounds: Vec<f64> = BOUNDS_NS.iter().map(|b| seconds(*b)).collect();
    write_buckets(
        out,
        name,
        labels,
        &bounds,
        &counts.cumulative(),
        seconds(counts.sum_ns),
    );
}

/// The `_bucket` lines of `bounds` then `+Inf`, `_sum` and `_count` of a
/// histogram labelled `labels` (non-empty): `cumulative` holds the count
/// at or below each bound, then the total.
pub(super) fn write_buckets(
    out: &mut String,
    name: &str,
    labels: &str,
    bounds: &[f64],
    cumulative: &[u64],
    sum: f64,
) {
    for (bound, count) in bounds.iter().zip(cumulative) {
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
    }
    let total = cumulative.get(bounds.len()).copied().unwrap_or(0);
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {total}");
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{labels}}} {total}");
}

/// One per-node or per-stream family: every flow's histograms, each
/// labelled with the flow and `key` = its name.
fn write_family<'a, F, I>(
    out: &mut String,
    flows: &'a [FlowHistogramSample<'a>],
    name: &str,
    help: &str,
    key: &str,
    histograms: F,
) where
    F: Fn(&'a FlowHistogramSample<'a>) -> I,
    I: Iterator<Item = (&'a String, &'a LogHistogram)>,
{
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for flow in flows {
        for (label, histogram) in histograms(flow) {
            let labels = format!(
                "flow_id=\"{}\",flow=\"{}\",{key}=\"{}\"",
                flow.id,
                escape(flow.name),
                escape(label)
            );
            write_histogram(out, name, &labels, &histogram.counts());
        }
    }
}

/// Appends the three histogram families for `flows`, then
/// `system.spans_dropped`.
pub fn render(out: &mut String, flows: &[FlowHistogramSample<'_>], spans_dropped: u64) {
    let _ = writeln!(
        out,
        "# HELP {FLOW_LATENCY} End-to-end latency per delivered element (source entry to sink exit).\n# TYPE {FLOW_LATENCY} histogram"
    );
    for flow in flows {
        let labels = format!("flow_id=\"{}\",flow=\"{}\"", flow.id, escape(flow.name));
        write_histogram(
            out,
            FLOW_LATENCY,
            &labels,
            &flow.labels.histograms.latency.counts(),
        );
    }
    write_family(
        out,
        flows,
        PROCESSING_TIME,
        "Wall time per component invocation (excludes queue wait; at the production level, invocations of one element in 16).",
        "component_id",
        |flow| {
            let h = &flow.labels.histograms;
            flow.labels.components.iter().zip(h.processing_time.iter())
        },
    );
    write_family(
        out,
        flows,
        QUEUE_WAIT,
        "Time each element waited in a stream's queue (at the production level, one element in 16).",
        "stream_id",
        |flow| {
            let h = &flow.labels.histograms;
            flow.labels.streams.iter().zip(h.queue_wait.iter())
        },
    );
    let _ = writeln!(
        out,
        "# HELP {SPANS_DROPPED} Trace records dropped because the trace pipeline was full or the export failed.\n# TYPE {SPANS_DROPPED} counter\n{SPANS_DROPPED} {spans_dropped}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use torvyn_runtime::reactor::FlowHistograms;

    #[test]
    fn renders_cumulative_buckets_sum_and_count_with_escaped_labels() {
        let labels = FlowHistogramLabels {
            histograms: Arc::new(FlowHistograms::new(1, 1)),
            components: vec!["say \"hi\"".into()],
            streams: vec!["a-to-b".into()],
        };
        labels.histograms.processing_time[0].record(150);
        labels.histograms.processing_time[0].record(2_000);
        let flows = [FlowHistogramSample {
            id: FlowId::new(3),
            name: "main",
            labels: &labels,
        }];
        let mut out = String::new();
        render(&mut out, &flows, 4);
        assert!(out.contains(
            "torvyn_component_processing_time_seconds_bucket{flow_id=\"flow-3\",flow=\"main\",component_id=\"say \\\"hi\\\"\",le=\"0.00000025\"} 1"
        ), "{out}");
        assert!(out.contains("component_id=\"say \\\"hi\\\"\",le=\"+Inf\"} 2"));
        assert!(out.contains("torvyn_component_processing_time_seconds_count{flow_id=\"flow-3\",flow=\"main\",component_id=\"say \\\"hi\\\"\"} 2"));
        assert!(out.contains("torvyn_stream_queue_wait_time_seconds_count{flow_id=\"flow-3\",flow=\"main\",stream_id=\"a-to-b\"} 0"));
        assert!(out.contains("torvyn_system_spans_dropped_total 4"));
        assert_eq!(out.matches("# TYPE").count(), 4);
    }

    #[test]
    fn no_flows_still_declares_every_family() {
        let mut out = String::new();
        render(&mut out, &[], 0);
        assert!(out.contains("# TYPE torvyn_flow_latency_seconds histogram"));
        assert!(!out.contains("_bucket"));
    }
}
