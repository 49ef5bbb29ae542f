//! The OTLP/HTTP side of [`OtlpReceiver`]: `POST /v1/traces` and
//! `POST /v1/metrics` with a protobuf body, answered with an empty
//! export response.

use super::collected::Collected;
use super::OtlpReceiver;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::io::Read;
use std::sync::Arc;

impl OtlpReceiver {
    /// Serves OTLP/HTTP on a free loopback port; returns the receiver and
    /// its base URL `http://127.0.0.1:PORT` (the exporter appends
    /// `/v1/traces`). Panics if it cannot bind (test helper).
    pub fn start_http() -> (OtlpReceiver, String) {
        let server =
            Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind a loopback port"));
        let port = server.server_addr().to_ip().expect("a TCP address").port();
        let collected = Arc::new(Collected::default());
        let thread = {
            let (server, collected) = (server.clone(), collected.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    serve(request, &collected);
                }
            })
        };
        let receiver = OtlpReceiver {
            collected,
            stop: Some(Box::new(move || server.unblock())),
            thread: Some(thread),
        };
        (receiver, format!("http://127.0.0.1:{port}"))
    }
}

fn serve(mut request: tiny_http::Request, collected: &Collected) {
    let path = request.url().to_string();
    let status = if request.method() != &tiny_http::Method::Post
        || !(path == "/v1/traces" || path == "/v1/metrics")
    {
        404
    } else if !is_protobuf(&request) {
        415
    } else {
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.to_string(),
                )
            })
            .collect();
        let gzip = headers
            .iter()
            .any(|(k, v)| k == "content-encoding" && v == "gzip");
        collected.note_headers(headers, gzip);
        let mut body = Vec::new();
        let read = if gzip {
            flate2::read::GzDecoder::new(request.as_reader()).read_to_end(&mut body)
        } else {
            request.as_reader().read_to_end(&mut body)
        };
        match read {
            Ok(_) if path == "/v1/metrics" => {
                match ExportMetricsServiceRequest::decode(body.as_slice()) {
                    Ok(decoded) => {
                        collected.add_metrics(&decoded);
                        200
                    }
                    Err(_) => 400,
                }
            }
            Ok(_) => match ExportTraceServiceRequest::decode(body.as_slice()) {
                Ok(decoded) => {
                    collected.add(&decoded);
                    200
                }
                Err(_) => 400,
            },
            Err(_) => 400,
        }
    };
    let body = if status == 200 && path == "/v1/metrics" {
        ExportMetricsServiceResponse::default().encode_to_vec()
    } else if status == 200 {
        ExportTraceServiceResponse::default().encode_to_vec()
    } else {
        Vec::new()
    };
    let response = tiny_http::Response::from_data(body).with_status_code(status);
    let _ = request.respond(response);
}

fn is_protobuf(request: &tiny_http::Request) -> bool {
    request
        .headers()
        .iter()
        .any(|h| h.field.equiv("Content-Type") && h.value.as_str() == "application/x-protobuf")
}
