//! OTLP/gRPC transport (placeholder until tonic is wired in).

use super::config::ExportConfig;
use super::error::ExportError;
use super::sink::Sink;

/// OTLP/gRPC `TraceService/Export`.
pub(crate) struct OtlpGrpc;

impl OtlpGrpc {
    /// Not available yet.
    pub(crate) fn connect_lazy(config: &ExportConfig) -> Result<Box<dyn Sink>, ExportError> {
        config.grpc_url()?;
        Err(ExportError::InvalidEndpoint {
            exporter: config.exporter,
            endpoint: config.endpoint.clone(),
            reason: "otlp-grpc is not available in this build; use otlp-http".into(),
        })
    }
}
