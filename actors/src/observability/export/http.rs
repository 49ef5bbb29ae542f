//! [`OtlpHttp`]: OTLP/HTTP with protobuf bodies (`POST /v1/traces`,
//! `Content-Type: application/x-protobuf`) over a blocking ureq agent.

use super::config::OtlpCompression;
use super::sink::{Sink, SinkError};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::io::Write;
use std::time::Duration;

/// How long to wait for a TCP connection to the collector.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one request may take in all.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends each request to one OTLP/HTTP traces URL.
pub struct OtlpHttp {
    url: String,
    agent: ureq::Agent,
    headers: Vec<(String, String)>,
    compression: OtlpCompression,
}

impl OtlpHttp {
    /// A sink posting to `url` (the full traces URL, e.g.
    /// `http://127.0.0.1:4318/v1/traces`) with `headers`, bodies
    /// compressed as `compression` says. Connects lazily.
    pub fn new(url: String, headers: Vec<(String, String)>, compression: OtlpCompression) -> Self {
        let agent = agent();
        Self {
            url,
            agent,
            headers,
            compression,
        }
    }
}

/// `bytes` gzip-compressed.
/// The HTTP client of every OTLP/HTTP export (spans and metrics): the
/// connect and request timeouts, and HTTP errors as errors.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(REQUEST_TIMEOUT))
        .http_status_as_error(true)
        .build()
        .into()
}

pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}

impl Sink for OtlpHttp {
    fn send(&mut self, request: &ExportTraceServiceRequest) -> Result<(), SinkError> {
        let mut body = request.encode_to_vec();
        let mut post = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-protobuf");
        if self.compression == OtlpCompression::Gzip {
            body = gzip(&body)?;
            post = post.header("Content-Encoding", "gzip");
        }
        for (name, value) in &self.headers {
            post = post.header(name, value);
        }
        post.send(&body[..])
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
        let (url, handle) = serve_once_with_headers(status);
        let handle = std::thread::spawn(move || {
            let (headers, body) = handle.join().expect("server thread");
            let content_type = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (content_type, body)
        });
        (url, handle)
    }

    /// The request a test server got: its headers and raw body.
    type ServedRequest = std::thread::JoinHandle<(Vec<(String, String)>, Vec<u8>)>;

    /// [`serve_once`], yielding every header and the raw body.
    fn serve_once_with_headers(status: u16) -> (String, ServedRequest) {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
        let port = server.server_addr().to_ip().expect("ip").port();
        let handle = std::thread::spawn(move || {
            let mut req = server.recv().expect("a request");
            let headers = req
                .headers()
                .iter()
                .map(|h| (h.field.to_string(), h.value.to_string()))
                .collect();
            let mut body = Vec::new();
            req.as_reader().read_to_end(&mut body).expect("body");
            req.respond(tiny_http::Response::empty(status))
                .expect("respond");
            (headers, body)
        });
        (format!("http://127.0.0.1:{port}/v1/traces"), handle)
    }

    #[test]
    fn sends_the_configured_headers_and_a_gzip_body() {
        use std::io::Read;
        let (url, server) = serve_once_with_headers(200);
        let request = export_request("svc", &[sample_span()]);
        let headers = vec![("authorization".to_string(), "Bearer t0ken".to_string())];
        OtlpHttp::new(url, headers, OtlpCompression::Gzip)
            .send(&request)
            .expect("accepted");
        let (headers, body) = server.join().expect("server thread");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("authorization"), Some("Bearer t0ken"));
        assert_eq!(header("Content-Encoding"), Some("gzip"));
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_end(&mut plain)
            .expect("a gzip body");
        let got = ExportTraceServiceRequest::decode(plain.as_slice()).expect("protobuf inside");
        assert_eq!(got, request);
    }

    #[test]
    fn posts_protobuf_to_the_traces_url() {
        let (url, server) = serve_once(200);
        let request = export_request("svc", &[sample_span()]);
        OtlpHttp::new(url, Vec::new(), OtlpCompression::None)
            .send(&request)
            .expect("accepted");
        let (content_type, body) = server.join().expect("server thread");
        assert_eq!(content_type, "application/x-protobuf");
        let got = ExportTraceServiceRequest::decode(body.as_slice()).expect("protobuf body");
        assert_eq!(got, request);
    }

    #[test]
    fn an_error_status_is_a_transport_error() {
        let (url, server) = serve_once(503);
        let err = OtlpHttp::new(url, Vec::new(), OtlpCompression::None)
            .send(&export_request("svc", &[]))
            .expect_err("503");
        assert!(matches!(err, SinkError::Transport(_)), "{err}");
        server.join().expect("server thread");
    }
}
