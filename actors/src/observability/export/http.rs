//! [`OtlpHttp`]: OTLP/HTTP with protobuf bodies (`POST /v1/traces`,
//! `Content-Type: application/x-protobuf`) over a blocking ureq agent.

use super::sink::{Sink, SinkError};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::time::Duration;

/// How long to wait for a TCP connection to the collector.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one request may take in all.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends each request to one OTLP/HTTP traces URL.
pub struct OtlpHttp {
    url: String,
    agent: ureq::Agent,
}

impl OtlpHttp {
    /// A sink posting to `url` (the full traces URL, e.g.
    /// `http://127.0.0.1:4318/v1/traces`). Connects lazily.
    pub fn new(url: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(true)
            .build()
            .into();
        Self { url, agent }
    }
}

impl Sink for OtlpHttp {
    fn send(&mut self, request: &ExportTraceServiceRequest) -> Result<(), SinkError> {
        let body = request.encode_to_vec();
        self.agent
            .post(&self.url)
            .header("Content-Type", "application/x-protobuf")
            .send(&body[..])
            .map_err(|e| SinkError::Transport(format!("POST {}: {e}", self.url)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::export::proto::{export_request, tests::sample_span};

    /// Serves one request on a loopback port with `status`, returning the
    /// URL and a handle yielding the request's content type and body.
    fn serve_once(status: u16) -> (String, std::thread::JoinHandle<(String, Vec<u8>)>) {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
        let port = server.server_addr().to_ip().expect("ip").port();
        let handle = std::thread::spawn(move || {
            let mut req = server.recv().expect("a request");
            let content_type = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Content-Type"))
                .map(|h| h.value.to_string())
                .unwrap_or_default();
            let mut body = Vec::new();
            req.as_reader().read_to_end(&mut body).expect("body");
            req.respond(tiny_http::Response::empty(status))
                .expect("respond");
            (content_type, body)
        });
        (format!("http://127.0.0.1:{port}/v1/traces"), handle)
    }

    #[test]
    fn posts_protobuf_to_the_traces_url() {
        let (url, server) = serve_once(200);
        let request = export_request("svc", &[sample_span()]);
        OtlpHttp::new(url).send(&request).expect("accepted");
        let (content_type, body) = server.join().expect("server thread");
        assert_eq!(content_type, "application/x-protobuf");
        let got = ExportTraceServiceRequest::decode(body.as_slice()).expect("protobuf body");
        assert_eq!(got, request);
    }

    #[test]
    fn an_error_status_is_a_transport_error() {
        let (url, server) = serve_once(503);
        let err = OtlpHttp::new(url)
            .send(&export_request("svc", &[]))
            .expect_err("503");
        assert!(matches!(err, SinkError::Transport(_)), "{err}");
        server.join().expect("server thread");
    }
}
