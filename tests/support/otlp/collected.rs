//! The spans a receiver collected, and how they are read out of an
//! `ExportTraceServiceRequest`.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// One span as the receiver decoded it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// The trace id (16 bytes as sent).
    pub trace_id: Vec<u8>,
    /// The span id (8 bytes as sent).
    pub span_id: Vec<u8>,
    /// The parent span id; empty for a root span.
    pub parent_span_id: Vec<u8>,
    /// The span name.
    pub name: String,
    /// Start and end, in Unix nanoseconds.
    pub start_unix_ns: u64,
    /// End, in Unix nanoseconds.
    pub end_unix_ns: u64,
    /// Attributes, values rendered as text (`"7"`, `"true"`, `"up"`).
    pub attributes: Vec<(String, String)>,
    /// Event names, in order.
    pub events: Vec<String>,
    /// Status code (0 unset, 1 ok, 2 error) and message.
    pub status: (i32, String),
    /// The resource's `service.name`.
    pub service_name: String,
}

impl ReceivedSpan {
    /// An attribute's value as text.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One metric data point as the receiver decoded it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedPoint {
    /// The metric's name.
    pub name: String,
    /// `sum` (monotonic), `gauge` or `histogram`.
    pub kind: &'static str,
    /// Attributes, values rendered as text.
    pub attributes: Vec<(String, String)>,
    /// A sum's or gauge's value; a histogram's count.
    pub value: f64,
}

/// Spans received so far, with a condition variable for `wait_for`.
#[derive(Default)]
pub(crate) struct Collected {
    state: Mutex<(Vec<ReceivedSpan>, usize)>,
    /// Metric points, per metrics request (the latest last).
    metrics: Mutex<Vec<Vec<ReceivedPoint>>>,
    arrived: Condvar,
    /// The latest request's headers and whether its body was gzip.
    last_headers: Mutex<(Vec<(String, String)>, bool)>,
}

impl Collected {
    /// Records every span of `request`.
    pub(crate) fn add(&self, request: &ExportTraceServiceRequest) {
        let mut new = Vec::new();
        for rs in &request.resource_spans {
            let service_name = rs
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .map(text)
                .unwrap_or_default();
            for span in rs.scope_spans.iter().flat_map(|ss| &ss.spans) {
                new.push(ReceivedSpan {
                    trace_id: span.trace_id.clone(),
                    span_id: span.span_id.clone(),
                    parent_span_id: span.parent_span_id.clone(),
                    name: span.name.clone(),
                    start_unix_ns: span.start_time_unix_nano,
                    end_unix_ns: span.end_time_unix_nano,
                    attributes: span
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), text(kv)))
                        .collect(),
                    events: span.events.iter().map(|e| e.name.clone()).collect(),
                    status: span
                        .status
                        .as_ref()
                        .map(|s| (s.code, s.message.clone()))
                        .unwrap_or_default(),
                    service_name: service_name.clone(),
                });
            }
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0.extend(new);
        state.1 += 1;
        self.arrived.notify_all();
    }

    /// Records the points of one metrics request.
    pub(crate) fn add_metrics(&self, request: &ExportMetricsServiceRequest) {
        let mut points = Vec::new();
        let metrics = request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics);
        for m in metrics {
            let number =
                |p: &opentelemetry_proto::tonic::metrics::v1::NumberDataPoint| match p.value {
                    Some(number_data_point::Value::AsDouble(v)) => v,
                    Some(number_data_point::Value::AsInt(i)) => i as f64,
                    None => f64::NAN,
                };
            let attrs = |kvs: &[KeyValue]| -> Vec<(String, String)> {
                kvs.iter().map(|kv| (kv.key.clone(), text(kv))).collect()
            };
            match &m.data {
                Some(metric::Data::Sum(s)) if s.is_monotonic => {
                    for p in &s.data_points {
                        points.push(ReceivedPoint {
                            name: m.name.clone(),
                            kind: "sum",
                            attributes: attrs(&p.attributes),
                            value: number(p),
                        });
                    }
                }
                Some(metric::Data::Gauge(g)) => {
                    for p in &g.data_points {
                        points.push(ReceivedPoint {
                            name: m.name.clone(),
                            kind: "gauge",
                            attributes: attrs(&p.attributes),
                            value: number(p),
                        });
                    }
                }
                Some(metric::Data::Histogram(h)) => {
                    for p in &h.data_points {
                        points.push(ReceivedPoint {
                            name: m.name.clone(),
                            kind: "histogram",
                            attributes: attrs(&p.attributes),
                            value: p.count as f64,
                        });
                    }
                }
                _ => {}
            }
        }
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(points);
        self.arrived.notify_all();
    }

    /// Every metrics request's points, in arrival order.
    pub(crate) fn metric_requests(&self) -> Vec<Vec<ReceivedPoint>> {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Notes the headers of the request about to be added.
    pub(crate) fn note_headers(&self, headers: Vec<(String, String)>, gzip: bool) {
        *self.last_headers.lock().unwrap_or_else(|e| e.into_inner()) = (headers, gzip);
    }

    pub(crate) fn last_headers(&self) -> (Vec<(String, String)>, bool) {
        self.last_headers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn spans(&self) -> Vec<ReceivedSpan> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    pub(crate) fn requests(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1
    }

    pub(crate) fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.0.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        state.0.clone()
    }
}

/// A key/value's value as text.
fn text(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}
