//! The OTLP JSON encoding (protobuf JSON mapping) used by the stdout and
//! file exporters: one `ExportTraceServiceRequest` object per line, ids as
//! lowercase hex, 64-bit integers as strings, field names in lowerCamelCase
//! (the OTLP file exporter format).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// `request` as one line of OTLP JSON, ending in `\n`.
pub fn json_line(request: &ExportTraceServiceRequest) -> Result<String, serde_json::Error> {
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::export::proto::{export_request, tests::sample_span};
    use crate::observability::export::SpanData;

    #[test]
    fn encodes_ids_as_hex_and_times_as_strings() {
        let line = json_line(&export_request("svc", &[sample_span()])).expect("encodes");
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1, "one line: {line}");
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        let rs = &v["resourceSpans"][0];
        assert_eq!(rs["resource"]["attributes"][0]["key"], "service.name");
        assert_eq!(
            rs["resource"]["attributes"][0]["value"]["stringValue"],
            "svc"
        );
        let span = &rs["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "01".repeat(16));
        assert_eq!(span["spanId"], "02".repeat(8));
        assert_eq!(span["parentSpanId"], "03".repeat(8));
        assert_eq!(span["startTimeUnixNano"], "1000");
        assert_eq!(span["name"], "transform process");
        assert_eq!(span["attributes"][1]["value"]["intValue"], "7");
        assert_eq!(span["events"][0]["name"], "copy");
        assert_eq!(span["status"]["message"], "boom");
    }

    #[test]
    fn decodes_back_to_the_same_request() {
        let request = export_request("svc", &[sample_span()]);
        let line = json_line(&request).expect("encodes");
        let back: ExportTraceServiceRequest = serde_json::from_str(&line).expect("decodes");
        assert_eq!(back, request);
        let root = SpanData {
            parent_span_id: None,
            ..sample_span()
        };
        let line = json_line(&export_request("svc", &[root])).expect("encodes");
        assert!(
            serde_json::from_str::<ExportTraceServiceRequest>(&line[..line.len() / 2]).is_err()
        );
    }
}
