//! [`ExportError`]: why the span exporter could not start.

use torvyn_runtime::config::TracingExporter;
use torvyn_runtime::error::{Coded, ErrorCode};

/// The span exporter could not start. Failures after start (an
/// unreachable collector) never surface as errors: their spans are counted
/// as dropped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// `tracing_endpoint` is not usable for the chosen exporter.
    #[error("invalid tracing_endpoint `{endpoint}` for the {exporter:?} exporter: {reason}")]
    InvalidEndpoint {
        /// The configured exporter.
        exporter: TracingExporter,
        /// The configured endpoint.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The trace file could not be opened for appending.
    #[error("the trace file `{path}` could not be opened: {source}")]
    File {
        /// The configured path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An OpenTelemetry environment variable has a malformed value.
    #[error("{variable}=`{value}` is not usable: {reason}")]
    InvalidEnv {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The exporter thread (or its runtime) could not be started.
    #[error("the span exporter thread could not start: {0}")]
    Spawn(std::io::Error),
}

impl Coded for ExportError {
    /// All startup failures come from `[observability]` values (or the
    /// host's limits); the spec has no observability code, so they use
    /// E0702 ("a configuration value is outside its valid range"), like
    /// the host's other startup errors.
    fn code(&self) -> ErrorCode {
        ErrorCode::ConstraintViolation
    }

    fn location(&self) -> Option<String> {
        match self {
            ExportError::InvalidEndpoint { .. } | ExportError::File { .. } => {
                Some("[observability] tracing_endpoint".into())
            }
            ExportError::InvalidEnv { variable, .. } => Some(format!("environment {variable}")),
            ExportError::Spawn(_) => None,
        }
    }

    fn help(&self) -> String {
        match self {
            ExportError::InvalidEndpoint { exporter, .. } => match exporter {
                TracingExporter::OtlpHttp => {
                    "use a plain-http URL such as http://127.0.0.1:4318 (TLS is not supported)"
                        .into()
                }
                TracingExporter::OtlpGrpc => {
                    "use a plain-http URL such as http://127.0.0.1:4317 (TLS is not supported)"
                        .into()
                }
                TracingExporter::Stdout => "use \"\", \"stdout\" or \"stderr\"".into(),
                _ => "set tracing_endpoint to a file path".into(),
            },
            ExportError::File { .. } => {
                "check that the directory exists and is writable, or pick another path".into()
            }
            ExportError::InvalidEnv { .. } => "headers are key=value pairs separated by commas (values percent-encoded); compression is gzip or none".into(),
            ExportError::Spawn(_) => "check the process's thread limit (ulimit -u)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_errors_point_at_the_config_field() {
        let err = ExportError::InvalidEndpoint {
            exporter: TracingExporter::OtlpHttp,
            endpoint: "ftp://x".into(),
            reason: "not http".into(),
        };
        let d = err.diagnostic();
        assert_eq!(d.code.as_str(), "E0702");
        assert_eq!(
            d.location.as_deref(),
            Some("[observability] tracing_endpoint")
        );
        assert!(d.help.contains("4318"), "{}", d.help);
        assert!(d.message.contains("ftp://x"), "{}", d.message);
    }

    #[test]
    fn file_errors_carry_the_path_and_cause() {
        let err = ExportError::File {
            path: "/nope/t.jsonl".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(err.to_string().contains("/nope/t.jsonl"));
        assert!(err.help().contains("writable"));
        assert!(ExportError::Spawn(std::io::ErrorKind::Other.into())
            .location()
            .is_none());
    }
}
