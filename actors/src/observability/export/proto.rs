//! Conversion of [`SpanData`] into the OTLP `ExportTraceServiceRequest`
//! (the generated prost messages every transport sends).

use super::span::{AttrValue, SpanData, SpanEvent, SpanStatus};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span, Status,
};

/// The instrumentation scope every Torvyn span is reported under.
pub const SCOPE_NAME: &str = "torvyn";

/// W3C trace flag "sampled": every exported span was sampled.
const FLAG_SAMPLED: u32 = 0x01;

/// One export request for `spans`, under a resource named `service_name`.
pub fn export_request(service_name: &str, spans: &[SpanData]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![key_value(
                    "service.name",
                    &AttrValue::Str(service_name.into()),
                )],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..InstrumentationScope::default()
                }),
                spans: spans.iter().map(to_span).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn to_span(data: &SpanData) -> Span {
    Span {
        trace_id: data.trace_id.to_vec(),
        span_id: data.span_id.to_vec(),
        parent_span_id: data.parent_span_id.map(|p| p.to_vec()).unwrap_or_default(),
        flags: FLAG_SAMPLED,
        name: data.name.clone(),
        kind: span::SpanKind::Internal as i32,
        start_time_unix_nano: data.start_unix_ns,
        end_time_unix_nano: data.end_unix_ns,
        attributes: attributes(&data.attributes),
        events: data.events.iter().map(to_event).collect(),
        status: Some(to_status(&data.status)),
        ..Span::default()
    }
}

fn to_event(event: &SpanEvent) -> span::Event {
    span::Event {
        time_unix_nano: event.time_unix_ns,
        name: event.name.clone(),
        attributes: attributes(&event.attributes),
        dropped_attributes_count: 0,
    }
}

fn to_status(status: &SpanStatus) -> Status {
    let (code, message) = match status {
        SpanStatus::Unset => (status::StatusCode::Unset, String::new()),
        SpanStatus::Ok => (status::StatusCode::Ok, String::new()),
        SpanStatus::Error(message) => (status::StatusCode::Error, message.clone()),
    };
    Status {
        message,
        code: code as i32,
    }
}

fn attributes(attrs: &[(&'static str, AttrValue)]) -> Vec<KeyValue> {
    attrs.iter().map(|(k, v)| key_value(k, v)).collect()
}

fn key_value(key: &str, value: &AttrValue) -> KeyValue {
    let value = match value {
        AttrValue::Str(s) => any_value::Value::StringValue(s.clone()),
        AttrValue::Int(i) => any_value::Value::IntValue(*i),
        AttrValue::Bool(b) => any_value::Value::BoolValue(*b),
        AttrValue::Double(d) => any_value::Value::DoubleValue(*d),
    };
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A child span with every kind of attribute, an event and an error.
    pub(crate) fn sample_span() -> SpanData {
        SpanData {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: Some([3; 8]),
            name: "transform process".into(),
            start_unix_ns: 1_000,
            end_unix_ns: 2_500,
            attributes: vec![
                ("torvyn.component", AttrValue::Str("upper".into())),
                ("torvyn.element", AttrValue::Int(7)),
                ("torvyn.copied", AttrValue::Bool(true)),
                ("torvyn.ratio", AttrValue::Double(0.25)),
            ],
            events: vec![SpanEvent {
                name: "copy".into(),
                time_unix_ns: 1_200,
                attributes: vec![("bytes", AttrValue::Int(64))],
            }],
            status: SpanStatus::Error("boom".into()),
        }
    }

    fn scalar(kv: &KeyValue) -> Option<&any_value::Value> {
        kv.value.as_ref().and_then(|v| v.value.as_ref())
    }

    #[test]
    fn converts_ids_times_attributes_events_and_status() {
        let request = export_request("svc", &[sample_span()]);
        let rs = &request.resource_spans[0];
        let resource = rs.resource.as_ref().expect("resource");
        assert_eq!(resource.attributes[0].key, "service.name");
        assert_eq!(
            scalar(&resource.attributes[0]),
            Some(&any_value::Value::StringValue("svc".into()))
        );
        let span = &rs.scope_spans[0].spans[0];
        assert_eq!(span.trace_id, vec![1; 16]);
        assert_eq!(span.span_id, vec![2; 8]);
        assert_eq!(span.parent_span_id, vec![3; 8]);
        assert_eq!(
            (span.start_time_unix_nano, span.end_time_unix_nano),
            (1_000, 2_500)
        );
        assert_eq!(span.kind, span::SpanKind::Internal as i32);
        let values: Vec<_> = span.attributes.iter().map(scalar).collect();
        assert_eq!(
            values,
            vec![
                Some(&any_value::Value::StringValue("upper".into())),
                Some(&any_value::Value::IntValue(7)),
                Some(&any_value::Value::BoolValue(true)),
                Some(&any_value::Value::DoubleValue(0.25)),
            ]
        );
        assert_eq!(span.events[0].name, "copy");
        assert_eq!(span.events[0].time_unix_nano, 1_200);
        assert_eq!(span.events[0].attributes[0].key, "bytes");
        let status = span.status.as_ref().expect("status");
        assert_eq!(status.code, status::StatusCode::Error as i32);
        assert_eq!(status.message, "boom");
    }

    #[test]
    fn a_root_span_has_an_empty_parent_and_ok_status() {
        let root = SpanData {
            parent_span_id: None,
            status: SpanStatus::Ok,
            ..sample_span()
        };
        let request = export_request("torvyn", &[root]);
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert!(span.parent_span_id.is_empty());
        let status = span.status.as_ref().expect("status");
        assert_eq!(status.code, status::StatusCode::Ok as i32);
        assert!(status.message.is_empty());
    }

    #[test]
    fn round_trips_through_protobuf_bytes() {
        use prost::Message;
        let request = export_request("svc", &[sample_span()]);
        let bytes = request.encode_to_vec();
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(decoded, request);
        assert!(ExportTraceServiceRequest::decode(&[0xff, 0xff][..]).is_err());
    }
}
