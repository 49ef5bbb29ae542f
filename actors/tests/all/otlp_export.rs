//! The span exporter against a real OTLP receiver: a span tree arrives
//! intact over OTLP/HTTP and OTLP/gRPC, and an unreachable collector only
//! drops spans.

use std::time::{Duration, Instant};
use torvyn_actors::observability::export::{
    new_span_id, new_trace_id, AttrValue, ExportConfig, SpanData, SpanEvent, SpanExporter,
    SpanStatus,
};
use torvyn_e2e::otlp::OtlpReceiver;
use torvyn_runtime::config::TracingExporter;

/// A root span `flow main` with two children.
fn span_tree() -> Vec<SpanData> {
    let trace_id = new_trace_id();
    let root_id = new_span_id();
    let span = |name: &str, parent: Option<[u8; 8]>, start: u64| SpanData {
        trace_id,
        span_id: if parent.is_none() {
            root_id
        } else {
            new_span_id()
        },
        parent_span_id: parent,
        name: name.into(),
        start_unix_ns: 1_700_000_000_000_000_000 + start,
        end_unix_ns: 1_700_000_000_000_000_000 + start + 500,
        attributes: vec![("torvyn.flow", AttrValue::Str("main".into()))],
        events: Vec::new(),
        status: SpanStatus::Ok,
    };
    let mut child = span("transform process", Some(root_id), 100);
    child.events.push(SpanEvent {
        name: "copy".into(),
        time_unix_ns: child.start_unix_ns + 10,
        attributes: vec![("bytes", AttrValue::Int(64))],
    });
    vec![
        span("flow main", None, 0),
        child,
        span("sink process", Some(root_id), 200),
    ]
}

fn config(exporter: TracingExporter, endpoint: String) -> ExportConfig {
    ExportConfig {
        exporter,
        endpoint,
        service_name: "otlp-test".into(),
        ..ExportConfig::default()
    }
}

/// Exports a span tree to `url` and checks what `receiver` got.
fn delivers_a_span_tree(exporter: TracingExporter, receiver: &OtlpReceiver, url: String) {
    delivers_a_span_tree_with(config(exporter, url), receiver);
}

/// [`delivers_a_span_tree`] with any exporter settings.
fn delivers_a_span_tree_with(config: ExportConfig, receiver: &OtlpReceiver) {
    let exporter = SpanExporter::start(config).expect("start");
    let tree = span_tree();
    assert!(exporter.handle().export(tree.clone()));
    let summary = exporter.shutdown(Duration::from_secs(10));
    assert_eq!(
        (summary.exported, summary.dropped, summary.flushed),
        (3, 0, true)
    );

    let spans = receiver.wait_for(3, Duration::from_secs(5));
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let root = spans.iter().find(|s| s.name == "flow main").expect("root");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(root.span_id, tree[0].span_id.to_vec());
    for span in &spans {
        assert_eq!(span.trace_id, tree[0].trace_id.to_vec(), "{}", span.name);
        assert_eq!(span.service_name, "otlp-test");
        assert_eq!(span.attribute("torvyn.flow"), Some("main"));
        assert_eq!(span.status.0, 1, "ok");
    }
    let children: Vec<_> = spans.iter().filter(|s| s.name != "flow main").collect();
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|c| c.parent_span_id == root.span_id));
    let transform = children
        .iter()
        .find(|c| c.name == "transform process")
        .expect("child");
    assert_eq!(transform.events, vec!["copy".to_string()]);
}

#[test]
fn http_exporter_delivers_a_span_tree() {
    let (receiver, url) = OtlpReceiver::start_http();
    delivers_a_span_tree(TracingExporter::OtlpHttp, &receiver, url);
    assert_eq!(receiver.requests(), 1);
}

#[test]
fn grpc_exporter_delivers_a_span_tree() {
    let (receiver, url) = OtlpReceiver::start_grpc();
    delivers_a_span_tree(TracingExporter::OtlpGrpc, &receiver, url);
    assert_eq!(receiver.requests(), 1);
}

/// A collector that wants credentials and compression, configured the
/// OpenTelemetry way: both transports send the headers (HTTP headers, gRPC
/// metadata) and a gzip body, and the span tree still arrives intact.
#[test]
fn headers_and_gzip_from_the_otel_variables_reach_the_collector() {
    let variables = |name: &str| match name {
        "OTEL_EXPORTER_OTLP_HEADERS" => Some("Authorization=Bearer%20s3cret,x-tenant=acme".into()),
        "OTEL_EXPORTER_OTLP_COMPRESSION" => Some("gzip".into()),
        _ => None,
    };
    for kind in [TracingExporter::OtlpHttp, TracingExporter::OtlpGrpc] {
        let (receiver, url) = match kind {
            TracingExporter::OtlpHttp => OtlpReceiver::start_http(),
            _ => OtlpReceiver::start_grpc(),
        };
        let config = config(kind, url)
            .with_env(variables)
            .expect("valid variables");
        delivers_a_span_tree_with(config, &receiver);
        let (headers, gzip) = receiver.last_request_headers();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            header("authorization"),
            Some("Bearer s3cret"),
            "{kind:?}: {headers:?}"
        );
        assert_eq!(header("x-tenant"), Some("acme"), "{kind:?}");
        assert!(gzip, "{kind:?}: the body was not gzip");
    }
}

#[test]
fn unreachable_collector_counts_drops_without_blocking() {
    for exporter in [TracingExporter::OtlpHttp, TracingExporter::OtlpGrpc] {
        unreachable_drops(exporter);
    }
}

fn unreachable_drops(kind: TracingExporter) {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let exporter = SpanExporter::start(config(kind, endpoint)).expect("start");
    let started = Instant::now();
    assert!(exporter.export(span_tree()));
    let summary = exporter.shutdown(Duration::from_secs(5));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{kind:?}: {:?}",
        started.elapsed()
    );
    assert_eq!((summary.exported, summary.dropped), (0, 3), "{kind:?}");
    assert!(summary.flushed);
}
