//! [`SpanExporter`]: owns the background export thread; `export` never
//! blocks, `shutdown` flushes what is queued within a timeout.

use super::config::ExportConfig;
use super::error::ExportError;
use super::handle::{Counters, ExportHandle};
use super::sink::Sink;
use super::span::SpanData;
use super::transport::build_sink;
use super::worker::Worker;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the exporter did over its lifetime, as of `shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    /// Spans written or sent.
    pub exported: u64,
    /// Spans dropped (queue full, export failed, or not flushed in time).
    pub dropped: u64,
    /// Whether the thread finished flushing within the timeout. When
    /// `false`, the thread is left to finish on its own (it stops sending
    /// at the deadline, bounded by the transport's request timeout).
    pub flushed: bool,
}

/// The running exporter thread.
struct Thread {
    stop: Sender<Instant>,
    /// Disconnects when the thread ends (normally or by panic).
    done: Receiver<()>,
    join: JoinHandle<()>,
}

/// A background span exporter: a dedicated thread sends batches to the
/// configured transport. Dropping it without `shutdown` stops the thread
/// after it flushes, without waiting.
pub struct SpanExporter {
    handle: ExportHandle,
    counters: Arc<Counters>,
    thread: Option<Thread>,
}

impl SpanExporter {
    /// Checks `config`, opens the transport (lazily for the network ones:
    /// an unreachable collector is not a startup error) and starts the
    /// thread. `Disabled` starts no thread.
    pub fn start(config: ExportConfig) -> Result<SpanExporter, ExportError> {
        match build_sink(&config)? {
            Some(sink) => Self::start_with_sink(&config, sink),
            None => Ok(Self {
                handle: ExportHandle::new(None, Arc::default()),
                counters: Arc::default(),
                thread: None,
            }),
        }
    }

    /// The exporter `[observability]` asks for (`tracing_exporter` set
    /// explicitly, tracing enabled), with collector credentials and
    /// compression from the standard OpenTelemetry variables; `None` when
    /// spans are not exported. A bad endpoint or an unwritable file is an
    /// error before anything runs.
    pub fn from_observability(
        observability: &torvyn_runtime::config::ObservabilityConfig,
    ) -> Result<Option<SpanExporter>, ExportError> {
        let Some(exporter) = observability.trace_export() else {
            return Ok(None);
        };
        let config = ExportConfig::new(exporter, observability.tracing_endpoint.as_str())
            .with_env(|name| std::env::var(name).ok())?;
        Self::start(config).map(Some)
    }

    /// Starts the thread over an already built sink.
    pub(crate) fn start_with_sink(
        config: &ExportConfig,
        sink: Box<dyn Sink>,
    ) -> Result<SpanExporter, ExportError> {
        let (tx, spans) = mpsc::sync_channel(config.queue_capacity.max(1));
        let (stop, stop_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel::<()>();
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            sink,
            spans,
            stop: stop_rx,
            counters: counters.clone(),
            service_name: config.service_name.clone(),
            max_batch_spans: config.max_batch_spans,
            failing: false,
        };
        let join = std::thread::Builder::new()
            .name("torvyn-span-export".into())
            .spawn(move || {
                let _done = done_tx;
                worker.run();
            })
            .map_err(ExportError::Spawn)?;
        Ok(Self {
            handle: ExportHandle::new(Some(tx), counters.clone()),
            counters,
            thread: Some(Thread { stop, done, join }),
        })
    }

    /// Queues `spans` without blocking; see [`ExportHandle::export`].
    pub fn export(&self, spans: Vec<SpanData>) -> bool {
        self.handle.export(spans)
    }

    /// Spans dropped so far (feeds `system.spans_dropped`).
    pub fn dropped(&self) -> u64 {
        self.handle.dropped()
    }

    /// Spans successfully written or sent so far.
    pub fn exported(&self) -> u64 {
        self.handle.exported()
    }

    /// A cloneable sending side, for FlowActors.
    pub fn handle(&self) -> ExportHandle {
        self.handle.clone()
    }

    /// Stops accepting spans, flushes what is queued and joins the thread,
    /// waiting at most `timeout`.
    pub fn shutdown(mut self, timeout: Duration) -> ExportSummary {
        let flushed = match self.thread.take() {
            Some(thread) => stop(thread, timeout),
            None => true,
        };
        ExportSummary {
            exported: self.counters.exported.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            flushed,
        }
    }
}

/// Signals the thread with a deadline and waits for it until then.
fn stop(thread: Thread, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    // An error means the thread already ended.
    let _ = thread.stop.send(deadline);
    match thread.done.recv_timeout(timeout) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
            if thread.join.join().is_err() {
                tracing::error!("the span export thread panicked");
            }
            true
        }
        Err(RecvTimeoutError::Timeout) => false,
    }
}

impl Drop for SpanExporter {
    fn drop(&mut self) {
        self.counters.closing.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            // Flush in the background; do not wait.
            let _ = thread.stop.send(Instant::now() + Duration::from_secs(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::export::proto::tests::sample_span;
    use crate::observability::export::sink::SinkError;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use std::sync::Mutex;
    use torvyn_runtime::config::TracingExporter;

    /// Blocks every send until the test releases it; reports entry.
    struct Gated {
        entered: Sender<()>,
        release: Mutex<Receiver<()>>,
    }

    impl Sink for Gated {
        fn send(&mut self, _: &ExportTraceServiceRequest) -> Result<(), SinkError> {
            let _ = self.entered.send(());
            let release = self
                .release
                .lock()
                .map_err(|_| SinkError::Transport("poisoned".into()))?;
            release
                .recv()
                .map_err(|_| SinkError::Transport("gate dropped".into()))
        }
    }

    fn config(queue_capacity: usize) -> ExportConfig {
        ExportConfig {
            queue_capacity,
            ..ExportConfig::default()
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (entered_tx, entered) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let sink = Gated {
            entered: entered_tx,
            release: Mutex::new(release_rx),
        };
        let exporter = SpanExporter::start_with_sink(&config(1), Box::new(sink)).expect("start");
        assert!(exporter.export(vec![sample_span()]));
        entered
            .recv_timeout(Duration::from_secs(5))
            .expect("the thread is sending");
        assert!(
            exporter.export(vec![sample_span(); 2]),
            "fills the one slot"
        );
        let handle = exporter.handle();
        assert!(!handle.export(vec![sample_span(); 3]), "queue full");
        assert_eq!(exporter.dropped(), 3);
        release.send(()).expect("release first");
        release.send(()).expect("release second");
        let summary = exporter.shutdown(Duration::from_secs(5));
        assert_eq!(
            summary,
            ExportSummary {
                exported: 3,
                dropped: 3,
                flushed: true
            }
        );
        assert!(!handle.export(vec![sample_span()]), "closed after shutdown");
        assert_eq!(handle.dropped(), 4);
    }

    #[test]
    fn shutdown_gives_up_at_the_timeout() {
        let (entered_tx, entered) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let sink = Gated {
            entered: entered_tx,
            release: Mutex::new(release_rx),
        };
        let exporter = SpanExporter::start_with_sink(&config(4), Box::new(sink)).expect("start");
        assert!(exporter.export(vec![sample_span()]));
        entered
            .recv_timeout(Duration::from_secs(5))
            .expect("the thread is sending");
        let started = Instant::now();
        let summary = exporter.shutdown(Duration::from_millis(200));
        assert!(!summary.flushed);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        drop(release);
    }

    #[test]
    fn file_exporter_writes_json_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("spans.jsonl");
        let exporter = SpanExporter::start(ExportConfig::new(
            TracingExporter::File,
            path.to_string_lossy(),
        ))
        .expect("start");
        assert!(exporter.export(vec![sample_span(); 2]));
        let summary = exporter.shutdown(Duration::from_secs(5));
        assert_eq!(
            (summary.exported, summary.dropped, summary.flushed),
            (2, 0, true)
        );
        let text = std::fs::read_to_string(&path).expect("written");
        let line: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
        let spans = &line["resourceSpans"][0]["scopeSpans"][0]["spans"];
        assert_eq!(spans.as_array().map(Vec::len), Some(2));
        assert_eq!(spans[0]["traceId"], "01".repeat(16));
    }

    #[test]
    fn disabled_starts_no_thread_and_invalid_config_fails() {
        let exporter =
            SpanExporter::start(ExportConfig::new(TracingExporter::Disabled, "")).expect("start");
        assert!(exporter.export(vec![sample_span()]));
        assert_eq!(
            exporter.shutdown(Duration::ZERO),
            ExportSummary {
                exported: 0,
                dropped: 0,
                flushed: true
            }
        );
        let err = SpanExporter::start(ExportConfig::new(
            TracingExporter::OtlpHttp,
            "https://collector:4318",
        ))
        .err()
        .expect("https is refused");
        assert!(matches!(err, ExportError::InvalidEndpoint { .. }), "{err}");
    }
}
