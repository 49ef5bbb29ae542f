//! OTLP span export: finished [`SpanData`] go to a background thread that
//! sends them as OTLP over HTTP (protobuf) or gRPC, or writes them as OTLP
//! JSON lines to stdout/stderr or a file.
//!
//! - [`SpanExporter::start`] checks the [`ExportConfig`] and starts the
//!   thread; [`ExportHandle`]s queue batches without blocking and count
//!   what a full queue drops (`system.spans_dropped`).
//! - A failed request is retried once after a short backoff; then its
//!   spans are counted as dropped and one warning is logged per burst of
//!   failures.
//! - [`ids`] generates W3C ids and formats/parses `traceparent`.

pub mod config;
pub mod error;
pub mod exporter;
mod grpc;
pub mod handle;
pub mod http;
pub mod ids;
pub mod json;
pub mod proto;
pub mod sink;
pub mod span;
mod transport;
mod worker;

pub use config::{parse_headers, ExportConfig, OtlpCompression};
pub use error::ExportError;
pub use exporter::{ExportSummary, SpanExporter};
pub use handle::ExportHandle;
pub use ids::{
    new_span_id, new_trace_id, parse_traceparent, span_id_hex, trace_id_hex, traceparent,
    TraceParent, TraceparentError,
};
pub use span::{AttrValue, SpanData, SpanEvent, SpanStatus};
