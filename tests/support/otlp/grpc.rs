//! The OTLP/gRPC side of [`OtlpReceiver`]: a tonic `TraceService` server
//! on a current-thread Tokio runtime of its own thread.

use super::collected::Collected;
use super::OtlpReceiver;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::sync::Arc;
use tonic::transport::server::TcpIncoming;

/// The service: records every request.
struct Service(Arc<Collected>);

#[tonic::async_trait]
impl TraceService for Service {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let metadata = request.metadata();
        let gzip = metadata
            .get("grpc-encoding")
            .is_some_and(|v| v.as_bytes() == b"gzip");
        let headers = metadata
            .iter()
            .filter_map(|entry| match entry {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                    Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))
                }
                tonic::metadata::KeyAndValueRef::Binary(..) => None,
            })
            .collect();
        self.0.note_headers(headers, gzip);
        self.0.add(request.get_ref());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// The metrics service: records every request.
struct Metrics(Arc<Collected>);

#[tonic::async_trait]
impl MetricsService for Metrics {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.add_metrics(request.get_ref());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

impl OtlpReceiver {
    /// Serves OTLP/gRPC on a free loopback port; returns the receiver and
    /// its URL `http://127.0.0.1:PORT`. Panics if it cannot bind (test
    /// helper).
    pub fn start_grpc() -> (OtlpReceiver, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("a TCP address").port();
        let collected = Arc::new(Collected::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = {
            let collected = collected.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a Tokio runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("a Tokio listener");
                    let served = tonic::transport::Server::builder()
                        .add_service(
                            TraceServiceServer::new(Service(collected.clone()))
                                .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                        )
                        .add_service(
                            MetricsServiceServer::new(Metrics(collected))
                                .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                        )
                        .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                            let _ = stopped.await;
                        })
                        .await;
                    if let Err(e) = served {
                        eprintln!("the OTLP gRPC receiver failed: {e}");
                    }
                });
            })
        };
        let receiver = OtlpReceiver {
            collected,
            stop: Some(Box::new(move || {
                let _ = stop.send(());
            })),
            thread: Some(thread),
        };
        (receiver, format!("http://127.0.0.1:{port}"))
    }
}
