//! [`OtlpGrpc`]: OTLP/gRPC `TraceService/Export` through tonic, on a
//! current-thread Tokio runtime owned by the exporter thread.
//!
//! The endpoint is checked at start; the runtime and the connection are
//! created on the first send, on the exporter thread, so no Tokio object
//! is built or dropped on the caller's (possibly async) thread.

use super::config::{ExportConfig, OtlpCompression};
use super::error::ExportError;
use super::http::{CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use super::sink::{Sink, SinkError};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::runtime::Runtime;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Channel, Endpoint};

/// Sends each request with a unary `Export` call.
pub(crate) struct OtlpGrpc {
    endpoint: Endpoint,
    /// The configured headers, as gRPC metadata (sent with every call).
    metadata: MetadataMap,
    compression: OtlpCompression,
    /// Built on the first send (on the exporter thread).
    connected: Option<(Runtime, TraceServiceClient<Channel>)>,
}

impl OtlpGrpc {
    /// A sink for `config`'s gRPC endpoint; fails only if the endpoint is
    /// invalid (the connection is made lazily).
    pub(crate) fn connect_lazy(config: &ExportConfig) -> Result<Box<dyn Sink>, ExportError> {
        let url = config.grpc_url()?;
        let endpoint = Endpoint::from_shared(url)
            .map_err(|e| ExportError::InvalidEndpoint {
                exporter: config.exporter,
                endpoint: config.endpoint.clone(),
                reason: e.to_string(),
            })?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT);
        let mut metadata = MetadataMap::new();
        for (name, value) in &config.headers {
            // parse_headers admitted only token names and visible ASCII.
            let key = name.parse::<AsciiMetadataKey>();
            let value = value.parse::<AsciiMetadataValue>();
            match (key, value) {
                (Ok(key), Ok(value)) => {
                    metadata.append(key, value);
                }
                _ => {
                    return Err(
                        config.invalid(format!("header `{name}` is not valid gRPC metadata"))
                    )
                }
            }
        }
        Ok(Box::new(Self {
            endpoint,
            metadata,
            compression: config.compression,
            connected: None,
        }))
    }

    fn connected(&mut self) -> Result<&mut (Runtime, TraceServiceClient<Channel>), SinkError> {
        if self.connected.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let channel = {
                let _entered = runtime.enter();
                self.endpoint.connect_lazy()
            };
            let mut client = TraceServiceClient::new(channel);
            if self.compression == OtlpCompression::Gzip {
                client = client.send_compressed(CompressionEncoding::Gzip);
            }
            self.connected = Some((runtime, client));
        }
        self.connected
            .as_mut()
            .ok_or_else(|| SinkError::Transport("no gRPC connection".into()))
    }
}

impl Sink for OtlpGrpc {
    fn send(&mut self, request: &ExportTraceServiceRequest) -> Result<(), SinkError> {
        let uri = self.endpoint.uri().to_string();
        let mut call = tonic::Request::new(request.clone());
        *call.metadata_mut() = self.metadata.clone();
        let (runtime, client) = self.connected()?;
        runtime
            .block_on(client.export(call))
            .map(|_| ())
            .map_err(|status| SinkError::Transport(format!("gRPC Export to {uri}: {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::export::proto::{export_request, tests::sample_span};
    use torvyn_runtime::config::TracingExporter;

    fn config(endpoint: &str) -> ExportConfig {
        ExportConfig::new(TracingExporter::OtlpGrpc, endpoint)
    }

    #[test]
    fn a_closed_port_is_a_transport_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut sink = OtlpGrpc::connect_lazy(&config(&format!("http://127.0.0.1:{port}")))
            .expect("a valid endpoint");
        let err = sink
            .send(&export_request("svc", &[sample_span()]))
            .expect_err("nothing listens");
        assert!(matches!(err, SinkError::Transport(_)), "{err}");
    }

    #[test]
    fn an_invalid_endpoint_fails_at_start() {
        for endpoint in ["127.0.0.1:4317", "http://c:4317/v1/traces", "http://c:x"] {
            let err = OtlpGrpc::connect_lazy(&config(endpoint))
                .err()
                .expect(endpoint);
            assert!(matches!(err, ExportError::InvalidEndpoint { .. }), "{err}");
        }
    }
}
