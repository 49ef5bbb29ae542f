//! [`ExportConfig`]: what the span exporter sends where, and how the
//! configured endpoint is checked and normalized at start.

use super::error::ExportError;
use torvyn_runtime::config::TracingExporter;

/// The OTLP/HTTP endpoint used when `tracing_endpoint` is empty.
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://127.0.0.1:4318";
/// The OTLP/gRPC endpoint used when `tracing_endpoint` is empty.
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://127.0.0.1:4317";
/// The path OTLP/HTTP appends to an endpoint that has none.
pub const HTTP_TRACES_PATH: &str = "/v1/traces";

/// What the span exporter sends where.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportConfig {
    /// The transport.
    pub exporter: TracingExporter,
    /// `OtlpHttp`: `http://host:port` (`/v1/traces` is appended unless the
    /// URL has a path). `OtlpGrpc`: `http://host:port`. Both default to the
    /// OTLP ports on 127.0.0.1 when empty. `File`: the file path (appended
    /// to). `Stdout`: `""` or `"stdout"` for standard output, `"stderr"`
    /// for standard error (the CLI keeps stdout for guests' output).
    pub endpoint: String,
    /// The resource attribute `service.name` (default `"torvyn"`).
    pub service_name: String,
    /// Batches buffered before `export` drops (default 256).
    pub queue_capacity: usize,
    /// Spans per export request (default 512).
    pub max_batch_spans: usize,
}

impl Default for ExportConfig {
    fn default() -> Self {
        Self {
            exporter: TracingExporter::default(),
            endpoint: String::new(),
            service_name: "torvyn".into(),
            queue_capacity: 256,
            max_batch_spans: 512,
        }
    }
}

/// Where standard-stream output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StdStream {
    Stdout,
    Stderr,
}

impl ExportConfig {
    /// `exporter` to `endpoint`, with the default service name and queue
    /// sizes.
    pub fn new(exporter: TracingExporter, endpoint: impl Into<String>) -> Self {
        Self {
            exporter,
            endpoint: endpoint.into(),
            ..Self::default()
        }
    }

    fn invalid(&self, reason: impl Into<String>) -> ExportError {
        ExportError::InvalidEndpoint {
            exporter: self.exporter,
            endpoint: self.endpoint.clone(),
            reason: reason.into(),
        }
    }

    /// The full OTLP/HTTP traces URL.
    pub(crate) fn http_url(&self) -> Result<String, ExportError> {
        let base = self.endpoint_or(DEFAULT_HTTP_ENDPOINT);
        let path = self.authority_and_path(base)?.1;
        if path.is_empty() || path == "/" {
            Ok(format!("{}{HTTP_TRACES_PATH}", base.trim_end_matches('/')))
        } else {
            Ok(base.to_string())
        }
    }

    /// The OTLP/gRPC endpoint URL (`http://host:port`).
    pub(crate) fn grpc_url(&self) -> Result<String, ExportError> {
        let base = self.endpoint_or(DEFAULT_GRPC_ENDPOINT);
        let path = self.authority_and_path(base)?.1;
        if !(path.is_empty() || path == "/") {
            return Err(self.invalid("a gRPC endpoint has no path"));
        }
        Ok(base.trim_end_matches('/').to_string())
    }

    /// Which standard stream the `Stdout` exporter writes to.
    pub(crate) fn std_stream(&self) -> Result<StdStream, ExportError> {
        match self.endpoint.trim() {
            "" | "stdout" => Ok(StdStream::Stdout),
            "stderr" => Ok(StdStream::Stderr),
            _ => Err(self.invalid("the stdout exporter takes \"\", \"stdout\" or \"stderr\"")),
        }
    }

    /// The `File` exporter's path.
    pub(crate) fn file_path(&self) -> Result<&str, ExportError> {
        match self.endpoint.trim() {
            "" => Err(self.invalid("the file exporter needs a path")),
            path => Ok(path),
        }
    }

    fn endpoint_or<'a>(&'a self, default: &'a str) -> &'a str {
        match self.endpoint.trim() {
            "" => default,
            e => e,
        }
    }

    /// Splits `http://authority/path` after checking the scheme and that
    /// the authority is `host[:port]` with a numeric port.
    fn authority_and_path<'a>(&self, url: &'a str) -> Result<(&'a str, &'a str), ExportError> {
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => return Err(self.invalid("https is not supported (no TLS)")),
            _ => return Err(self.invalid("not an http:// URL")),
        };
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') && host.contains(':') => {
                return Err(self.invalid(format!("bad host `{host}:{port}`")))
            }
            Some((host, port)) => {
                port.parse::<u16>()
                    .map_err(|_| self.invalid(format!("bad port `{port}`")))?;
                host
            }
            None => authority,
        };
        if host.is_empty() || host.contains(['@', '?', '#', ' ']) {
            return Err(self.invalid("missing or bad host"));
        }
        Ok((authority, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_brief() {
        let c = ExportConfig::default();
        assert_eq!(
            (c.service_name.as_str(), c.queue_capacity, c.max_batch_spans),
            ("torvyn", 256, 512)
        );
    }

    #[test]
    fn http_url_appends_the_traces_path_only_without_a_path() {
        let http = |e| {
            ExportConfig::new(TracingExporter::OtlpHttp, e)
                .http_url()
                .expect(e)
        };
        assert_eq!(http(""), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(http("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(http("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            http("http://c:4318/custom/traces"),
            "http://c:4318/custom/traces"
        );
        assert_eq!(http("http://[::1]:4318"), "http://[::1]:4318/v1/traces");
    }

    #[test]
    fn bad_urls_are_rejected() {
        for e in [
            "127.0.0.1:4318",
            "https://c:4318",
            "http://:4318",
            "http://c:port",
            "ftp://c",
        ] {
            let err = ExportConfig::new(TracingExporter::OtlpHttp, e)
                .http_url()
                .expect_err(e);
            assert!(
                matches!(err, ExportError::InvalidEndpoint { .. }),
                "{e}: {err}"
            );
        }
        let grpc = ExportConfig::new(TracingExporter::OtlpGrpc, "http://c:4317/v1/traces");
        assert!(grpc.grpc_url().is_err());
    }

    #[test]
    fn grpc_url_defaults_to_4317() {
        let c = ExportConfig::new(TracingExporter::OtlpGrpc, "");
        assert_eq!(c.grpc_url().expect("default"), "http://127.0.0.1:4317");
        let c = ExportConfig::new(TracingExporter::OtlpGrpc, "http://collector:4317/");
        assert_eq!(
            c.grpc_url().expect("trailing slash"),
            "http://collector:4317"
        );
    }

    #[test]
    fn stdout_endpoint_picks_the_stream() {
        let stream = |e| ExportConfig::new(TracingExporter::Stdout, e).std_stream();
        assert_eq!(stream("").expect("empty"), StdStream::Stdout);
        assert_eq!(stream("stdout").expect("stdout"), StdStream::Stdout);
        assert_eq!(stream("stderr").expect("stderr"), StdStream::Stderr);
        assert!(stream("/dev/null").is_err());
    }

    #[test]
    fn file_needs_a_path() {
        assert!(ExportConfig::new(TracingExporter::File, " ")
            .file_path()
            .is_err());
        assert_eq!(
            ExportConfig::new(TracingExporter::File, "t.jsonl")
                .file_path()
                .expect("path"),
            "t.jsonl"
        );
    }
}
