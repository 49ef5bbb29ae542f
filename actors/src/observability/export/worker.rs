//! The exporter thread: batches queued spans into requests of at most
//! `max_batch_spans`, sends each through the [`Sink`], retries a failure
//! once after a short backoff, and counts what it could not deliver.

use super::handle::Counters;
use super::proto::export_request;
use super::sink::Sink;
use super::span::SpanData;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often an idle exporter thread checks for shutdown.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// The pause before the single retry of a failed request.
pub(crate) const RETRY_BACKOFF: Duration = Duration::from_millis(200);

/// The exporter thread's state.
pub(crate) struct Worker {
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) spans: Receiver<Vec<SpanData>>,
    /// Receives the flush deadline when `shutdown` is called.
    pub(crate) stop: Receiver<Instant>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) service_name: String,
    pub(crate) max_batch_spans: usize,
    /// Whether the last request failed (one warning per failure burst).
    pub(crate) failing: bool,
}

impl Worker {
    /// Runs until shutdown (or until every handle is gone), then flushes
    /// what is queued, bounded by the shutdown deadline.
    pub(crate) fn run(mut self) {
        let deadline = loop {
            match self.spans.recv_timeout(POLL_INTERVAL) {
                Ok(batch) => self.deliver_from(batch, None),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            match self.stop.try_recv() {
                Ok(deadline) => break Some(deadline),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => break None,
            }
        };
        while let Ok(batch) = self.spans.try_recv() {
            self.deliver_from(batch, deadline);
        }
    }

    /// Sends `first` plus whatever else is queued, up to `max_batch_spans`
    /// per request.
    fn deliver_from(&mut self, first: Vec<SpanData>, deadline: Option<Instant>) {
        let max = self.max_batch_spans.max(1);
        let mut pending = first;
        while pending.len() < max {
            match self.spans.try_recv() {
                Ok(more) => pending.extend(more),
                Err(_) => break,
            }
        }
        for chunk in pending.chunks(max) {
            self.deliver(chunk, deadline);
        }
    }

    /// Sends one request, retrying once; counts its spans either way.
    fn deliver(&mut self, chunk: &[SpanData], deadline: Option<Instant>) {
        let before = |t: Instant| deadline.is_none_or(|d| t < d);
        if !before(Instant::now()) {
            self.counters.add_dropped(chunk.len());
            return;
        }
        let request = export_request(&self.service_name, chunk);
        let mut result = self.sink.send(&request);
        if result.is_err() && before(Instant::now() + RETRY_BACKOFF) {
            std::thread::sleep(RETRY_BACKOFF);
            result = self.sink.send(&request);
        }
        match result {
            Ok(()) => {
                self.counters.add_exported(chunk.len());
                if self.failing {
                    tracing::info!("span export recovered");
                    self.failing = false;
                }
            }
            Err(error) => {
                self.counters.add_dropped(chunk.len());
                if !self.failing {
                    tracing::warn!(%error, "span export failed; dropping spans until it recovers");
                    self.failing = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::export::proto::tests::sample_span;
    use crate::observability::export::sink::SinkError;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use std::sync::atomic::Ordering;
    use std::sync::mpsc::{channel, sync_channel, Sender};

    /// Records each request's span count; fails the first `fail` sends.
    struct Recording {
        sizes: Sender<usize>,
        fail: usize,
    }

    impl Sink for Recording {
        fn send(&mut self, request: &ExportTraceServiceRequest) -> Result<(), SinkError> {
            if self.fail > 0 {
                self.fail -= 1;
                return Err(SinkError::Transport("down".into()));
            }
            let spans = request.resource_spans[0].scope_spans[0].spans.len();
            let _ = self.sizes.send(spans);
            Ok(())
        }
    }

    fn worker(fail: usize, max_batch_spans: usize) -> (Worker, Receiver<usize>, Arc<Counters>) {
        let (sizes, seen) = channel();
        let (_, spans) = sync_channel(1);
        let (_, stop) = channel();
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            sink: Box::new(Recording { sizes, fail }),
            spans,
            stop,
            counters: counters.clone(),
            service_name: "svc".into(),
            max_batch_spans,
            failing: false,
        };
        (worker, seen, counters)
    }

    #[test]
    fn splits_into_requests_of_max_batch_spans() {
        let (mut w, seen, counters) = worker(0, 2);
        w.deliver_from(vec![sample_span(); 5], None);
        assert_eq!(seen.try_iter().collect::<Vec<_>>(), vec![2, 2, 1]);
        assert_eq!(counters.exported.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn retries_once_then_succeeds() {
        let (mut w, seen, counters) = worker(1, 10);
        w.deliver_from(vec![sample_span(); 3], None);
        assert_eq!(seen.try_iter().collect::<Vec<_>>(), vec![3]);
        assert_eq!(counters.exported.load(Ordering::Relaxed), 3);
        assert!(!w.failing);
    }

    #[test]
    fn drops_after_the_retry_fails_and_recovers_later() {
        let (mut w, seen, counters) = worker(2, 10);
        w.deliver_from(vec![sample_span(); 3], None);
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 3);
        assert!(w.failing);
        w.deliver_from(vec![sample_span()], None);
        assert!(!w.failing);
        assert_eq!(seen.try_iter().collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn past_the_deadline_spans_are_dropped_unsent() {
        let (mut w, seen, counters) = worker(0, 10);
        w.deliver_from(vec![sample_span(); 2], Some(Instant::now()));
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 2);
        assert_eq!(seen.try_iter().count(), 0);
    }
}
