//! [`Sink`]: one transport the exporter thread hands requests to, and the
//! line-writing sinks (stdout, stderr, file).

use super::json::json_line;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::io::Write;

/// Why one export request failed (the exporter retries once, then counts
/// the spans as dropped).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing to the stream or file failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// The request could not be encoded.
    #[error("encoding failed: {0}")]
    Encode(#[from] serde_json::Error),
    /// The collector could not be reached or answered with an error.
    #[error("the collector rejected or did not answer the request: {0}")]
    Transport(String),
}

/// One transport. Lives on the exporter thread; `send` may block (bounded
/// by the transport's own timeouts).
pub trait Sink: Send {
    /// Delivers one request.
    fn send(&mut self, request: &ExportTraceServiceRequest) -> Result<(), SinkError>;
}

/// Writes each request as one OTLP JSON line and flushes it.
pub struct JsonLines<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> JsonLines<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

impl<W: Write + Send> Sink for JsonLines<W> {
    fn send(&mut self, request: &ExportTraceServiceRequest) -> Result<(), SinkError> {
        let line = json_line(request)?;
        self.out.write_all(line.as_bytes())?;
        self.out.flush()?;
        Ok(())
    }
}

/// Discards everything (`tracing_exporter = "none"` never gets here; used
/// by tests).
#[cfg(test)]
pub(crate) struct Discard;

#[cfg(test)]
impl Sink for Discard {
    fn send(&mut self, _: &ExportTraceServiceRequest) -> Result<(), SinkError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::export::proto::{export_request, tests::sample_span};

    /// A writer that always fails.
    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_writes_one_line_per_request() {
        let mut sink = JsonLines::new(Vec::new());
        let request = export_request("svc", &[sample_span()]);
        sink.send(&request).expect("first");
        sink.send(&request).expect("second");
        let text = String::from_utf8(sink.out).expect("utf-8");
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().all(|l| l.starts_with("{\"resourceSpans\"")));
    }

    #[test]
    fn json_lines_reports_write_errors() {
        let mut sink = JsonLines::new(Broken);
        let err = sink
            .send(&export_request("svc", &[]))
            .expect_err("broken pipe");
        assert!(matches!(err, SinkError::Io(_)), "{err}");
        assert!(Discard.send(&export_request("svc", &[])).is_ok());
    }
}
