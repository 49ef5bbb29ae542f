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
    /// Headers sent with every OTLP request (HTTP headers, gRPC metadata),
    /// e.g. a collector's `authorization`.
    pub headers: Vec<(String, String)>,
    /// Request body compression of the OTLP exporters.
    pub compression: OtlpCompression,
}

/// How OTLP request bodies are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OtlpCompression {
    /// Sent as encoded.
    #[default]
    None,
    /// gzip (`Content-Encoding: gzip`; gRPC `grpc-encoding: gzip`).
    Gzip,
}

/// The OpenTelemetry variables [`ExportConfig::with_env`] reads, the
/// traces-specific one first.
pub const HEADERS_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_HEADERS",
];
/// See [`HEADERS_VARIABLES`].
pub const COMPRESSION_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
];

impl Default for ExportConfig {
    fn default() -> Self {
        Self {
            exporter: TracingExporter::default(),
            endpoint: String::new(),
            service_name: "torvyn".into(),
            queue_capacity: 256,
            max_batch_spans: 512,
            headers: Vec::new(),
            compression: OtlpCompression::None,
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

    /// Takes headers and compression from the standard OpenTelemetry
    /// variables, read through `var` (`std::env::var` in the CLI):
    /// `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` (`key=value,key2=value2`,
    /// values percent-encoded) and `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`
    /// (`gzip` or `none`). A malformed value is an error naming the
    /// variable. The `file` and `stdout` exporters ignore them.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self, ExportError> {
        if !matches!(
            self.exporter,
            TracingExporter::OtlpHttp | TracingExporter::OtlpGrpc
        ) {
            return Ok(self);
        }
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|name| var(name).map(|value| (name, value)))
        };
        if let Some((variable, value)) = first(HEADERS_VARIABLES) {
            self.headers = parse_headers(&value).map_err(|reason| ExportError::InvalidEnv {
                variable,
                value: value.clone(),
                reason,
            })?;
        }
        if let Some((variable, value)) = first(COMPRESSION_VARIABLES) {
            self.compression = match value.trim() {
                "gzip" => OtlpCompression::Gzip,
                "" | "none" => OtlpCompression::None,
                other => {
                    return Err(ExportError::InvalidEnv {
                        variable,
                        value: value.clone(),
                        reason: format!("unknown compression `{other}`"),
                    })
                }
            };
        }
        Ok(self)
    }

    pub(crate) fn invalid(&self, reason: impl Into<String>) -> ExportError {
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

/// `key=value,key2=value2` (the W3C baggage form the OpenTelemetry
/// variables use; values percent-decoded) into header pairs whose names
/// are valid HTTP header names and whose values are visible ASCII.
pub fn parse_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!("`{pair}` is not key=value"));
        };
        let key = key.trim().to_ascii_lowercase();
        let is_token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if key.is_empty() || !key.chars().all(is_token) {
            return Err(format!("`{key}` is not a valid header name"));
        }
        let value = percent_decode(value.trim())
            .ok_or_else(|| format!("the value of `{key}` has a bad percent escape"))?;
        if !value
            .chars()
            .all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic())
        {
            return Err(format!("the value of `{key}` is not visible ASCII"));
        }
        headers.push((key, value));
    }
    Ok(headers)
}

/// `%XX` escapes decoded; `None` for a broken escape or invalid UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    use torvyn_runtime::error::Coded;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn headers_are_parsed_lowercased_and_percent_decoded() {
        assert_eq!(
            parse_headers("Authorization=Basic%20dXNlcjpwYXNz, x-scope-orgid = tenant-1,").unwrap(),
            vec![
                (
                    "authorization".to_string(),
                    "Basic dXNlcjpwYXNz".to_string()
                ),
                ("x-scope-orgid".to_string(), "tenant-1".to_string()),
            ]
        );
        assert_eq!(parse_headers("").unwrap(), Vec::new());
        for bad in ["novalue", "bad name=x", "=x", "k=%zz", "k=%4", "k=a%0Ab"] {
            assert!(parse_headers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_traces_variables_win_and_a_bad_value_names_its_variable() {
        let otlp = || ExportConfig::new(TracingExporter::OtlpHttp, "");
        let config = otlp()
            .with_env(env(&[
                ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
                ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ]))
            .unwrap();
        assert_eq!(config.headers, vec![("b".to_string(), "2".to_string())]);
        assert_eq!(config.compression, OtlpCompression::Gzip);
        let untouched = otlp().with_env(env(&[])).unwrap();
        assert_eq!(untouched.headers, Vec::new());
        assert_eq!(untouched.compression, OtlpCompression::None);
        let err = otlp()
            .with_env(env(&[("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "brotli")]))
            .expect_err("unknown compression");
        assert!(
            err.to_string()
                .contains("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
            "{err}"
        );
        assert_eq!(
            err.code(),
            torvyn_runtime::error::ErrorCode::ConstraintViolation
        );
        let err = otlp()
            .with_env(env(&[("OTEL_EXPORTER_OTLP_HEADERS", "oops")]))
            .expect_err("malformed headers");
        assert!(
            err.to_string().contains("OTEL_EXPORTER_OTLP_HEADERS"),
            "{err}"
        );
    }

    #[test]
    fn only_the_otlp_exporters_read_the_otlp_variables() {
        let malformed = env(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "oops"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ]);
        for exporter in [TracingExporter::File, TracingExporter::Stdout] {
            let config = ExportConfig::new(exporter, "")
                .with_env(&malformed)
                .expect("ignored");
            assert_eq!(config.headers, Vec::new());
            assert_eq!(config.compression, OtlpCompression::None);
        }
        assert!(ExportConfig::new(TracingExporter::OtlpGrpc, "")
            .with_env(&malformed)
            .is_err());
    }

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
