//! Sending one `ExportMetricsServiceRequest`: OTLP/HTTP protobuf to
//! `…/v1/metrics`, or OTLP/gRPC `MetricsService/Export` on a
//! current-thread Tokio runtime owned by the push thread.

use crate::observability::export::config::{OtlpCompression, HTTP_TRACES_PATH};
use crate::observability::export::http::{agent, gzip, CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use crate::observability::export::{ExportConfig, ExportError};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint};
use torvyn_runtime::config::TracingExporter;

/// The OTLP/HTTP metrics path.
pub const HTTP_METRICS_PATH: &str = "/v1/metrics";

pub(super) enum Transport {
    Http {
        url: String,
        agent: ureq::Agent,
        headers: Vec<(String, String)>,
        compression: OtlpCompression,
    },
    Grpc {
        endpoint: Box<Endpoint>,
        headers: Vec<(String, String)>,
        compression: OtlpCompression,
        /// Built on the first send, on the push thread.
        connected: Option<Box<(tokio::runtime::Runtime, MetricsServiceClient<Channel>)>>,
    },
}

impl Transport {
    pub(super) fn new(config: &ExportConfig) -> Result<Self, ExportError> {
        match config.exporter {
            TracingExporter::OtlpGrpc => {
                let url = config.grpc_url()?;
                let endpoint = Endpoint::from_shared(url)
                    .map_err(|e| config.invalid(e.to_string()))?
                    .connect_timeout(CONNECT_TIMEOUT)
                    .timeout(REQUEST_TIMEOUT);
                Ok(Transport::Grpc {
                    endpoint: Box::new(endpoint),
                    headers: config.headers.clone(),
                    compression: config.compression,
                    connected: None,
                })
            }
            _ => {
                // Beside the traces: `…/v1/traces` becomes `…/v1/metrics`.
                let traces = config.http_url()?;
                let url = match traces.strip_suffix(HTTP_TRACES_PATH) {
                    Some(base) => format!("{base}{HTTP_METRICS_PATH}"),
                    None => traces,
                };
                Ok(Transport::Http {
                    url,
                    agent: agent(),
                    headers: config.headers.clone(),
                    compression: config.compression,
                })
            }
        }
    }

    pub(super) fn send(&mut self, request: &ExportMetricsServiceRequest) -> Result<(), String> {
        match self {
            Transport::Http {
                url,
                agent,
                headers,
                compression,
            } => {
                let mut body = request.encode_to_vec();
                let mut post = agent
                    .post(url.as_str())
                    .header("Content-Type", "application/x-protobuf");
                if *compression == OtlpCompression::Gzip {
                    body = gzip(&body).map_err(|e| e.to_string())?;
                    post = post.header("Content-Encoding", "gzip");
                }
                for (name, value) in headers.iter() {
                    post = post.header(name, value);
                }
                post.send(&body[..])
                    .map(|_| ())
                    .map_err(|e| format!("POST {url}: {e}"))
            }
            Transport::Grpc {
                endpoint,
                headers,
                compression,
                connected,
            } => {
                let uri = endpoint.uri().to_string();
                if connected.is_none() {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    let channel = {
                        let _entered = runtime.enter();
                        endpoint.connect_lazy()
                    };
                    let mut client = MetricsServiceClient::new(channel);
                    if *compression == OtlpCompression::Gzip {
                        client = client.send_compressed(CompressionEncoding::Gzip);
                    }
                    *connected = Some(Box::new((runtime, client)));
                }
                let Some(connection) = connected.as_mut() else {
                    return Err("no gRPC connection".into());
                };
                let (runtime, client) = &mut **connection;
                let mut call = tonic::Request::new(request.clone());
                for (name, value) in headers.iter() {
                    if let (Ok(key), Ok(value)) = (
                        name.parse::<tonic::metadata::AsciiMetadataKey>(),
                        value.parse::<tonic::metadata::AsciiMetadataValue>(),
                    ) {
                        call.metadata_mut().append(key, value);
                    }
                }
                runtime
                    .block_on(client.export(call))
                    .map(|_| ())
                    .map_err(|status| format!("gRPC Export to {uri}: {status}"))
            }
        }
    }
}
