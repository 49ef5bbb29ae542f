//! A real OTLP trace receiver for tests: decodes what an exporter sends
//! and collects the spans, so tests can assert ids and parent links.
//!
//! [`OtlpReceiver::start_http`] serves OTLP/HTTP protobuf
//! (`POST /v1/traces`) with tiny_http; [`OtlpReceiver::start_grpc`] serves
//! OTLP/gRPC (`TraceService/Export`) with tonic.

mod collected;
mod grpc;
mod http;

pub use collected::{ReceivedPoint, ReceivedSpan};

use collected::Collected;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A running receiver; stops when dropped.
pub struct OtlpReceiver {
    collected: Arc<Collected>,
    stop: Option<Box<dyn FnOnce() + Send>>,
    thread: Option<JoinHandle<()>>,
}

impl OtlpReceiver {
    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.collected.spans()
    }

    /// Every OTLP metrics request received so far (its points), in
    /// arrival order.
    pub fn metric_requests(&self) -> Vec<Vec<ReceivedPoint>> {
        self.collected.metric_requests()
    }

    /// How many export requests arrived (each may hold several spans).
    pub fn requests(&self) -> usize {
        self.collected.requests()
    }

    /// The headers (HTTP) or metadata (gRPC) of the latest request, names
    /// lowercased, and whether its body was gzip-compressed.
    pub fn last_request_headers(&self) -> (Vec<(String, String)>, bool) {
        self.collected.last_headers()
    }

    /// Waits until at least `n` spans arrived or `timeout` passed, and
    /// returns every span received by then.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        self.collected.wait_for(n, timeout)
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
