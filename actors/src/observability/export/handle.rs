//! [`ExportHandle`]: the cheap, cloneable sending side of the span
//! exporter, with the counters both sides share.

use super::span::SpanData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;

/// Counters shared by every handle and the exporter thread.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Spans dropped: queue full or closed, or export failed after retry.
    pub(crate) dropped: AtomicU64,
    /// Spans written or sent successfully.
    pub(crate) exported: AtomicU64,
    /// Set by `shutdown`: later exports are dropped.
    pub(crate) closing: AtomicBool,
}

impl Counters {
    pub(crate) fn add_dropped(&self, spans: usize) {
        self.dropped.fetch_add(spans as u64, Ordering::Relaxed);
    }

    pub(crate) fn add_exported(&self, spans: usize) {
        self.exported.fetch_add(spans as u64, Ordering::Relaxed);
    }
}

/// Hands finished spans to the exporter thread without blocking.
/// `Clone + Send + Sync`; give one to each FlowActor.
#[derive(Debug, Clone)]
pub struct ExportHandle {
    /// `None` when export is disabled (`tracing_exporter = "none"`).
    tx: Option<SyncSender<Vec<SpanData>>>,
    counters: Arc<Counters>,
}

impl ExportHandle {
    pub(crate) fn new(tx: Option<SyncSender<Vec<SpanData>>>, counters: Arc<Counters>) -> Self {
        Self { tx, counters }
    }

    /// Queues `spans` as one batch. Never blocks: when the queue is full,
    /// or the exporter is shut down, the spans are counted as dropped and
    /// `false` is returned. With export disabled the spans are discarded
    /// (neither exported nor dropped) and `true` is returned.
    pub fn export(&self, spans: Vec<SpanData>) -> bool {
        let Some(tx) = &self.tx else {
            return true;
        };
        if spans.is_empty() {
            return true;
        }
        let count = spans.len();
        if self.counters.closing.load(Ordering::Acquire) {
            self.counters.add_dropped(count);
            return false;
        }
        match tx.try_send(spans) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.add_dropped(count);
                false
            }
        }
    }

    /// Spans dropped so far (feeds `system.spans_dropped`).
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Spans successfully written or sent so far.
    pub fn exported(&self) -> u64 {
        self.counters.exported.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::export::proto::tests::sample_span;

    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn handle_is_send_sync_clone() {
        assert_send_sync_clone::<ExportHandle>();
    }

    #[test]
    fn queues_until_full_then_counts_drops() {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let handle = ExportHandle::new(Some(tx), Arc::default());
        assert!(handle.export(vec![sample_span()]));
        assert!(!handle.export(vec![sample_span(), sample_span()]));
        assert_eq!(handle.dropped(), 2);
        assert_eq!(rx.try_recv().expect("queued").len(), 1);
        assert!(handle.export(Vec::new()), "an empty batch is a no-op");
    }

    #[test]
    fn a_stopped_thread_or_closing_exporter_counts_drops() {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        drop(rx);
        let handle = ExportHandle::new(Some(tx), Arc::default());
        assert!(!handle.export(vec![sample_span()]));
        assert_eq!(handle.dropped(), 1);

        let (tx, _rx) = std::sync::mpsc::sync_channel(4);
        let counters = Arc::new(Counters::default());
        counters.closing.store(true, Ordering::Release);
        let handle = ExportHandle::new(Some(tx), counters);
        assert!(!handle.export(vec![sample_span(), sample_span()]));
        assert_eq!(handle.dropped(), 2);
    }

    #[test]
    fn disabled_export_discards_without_counting() {
        let handle = ExportHandle::new(None, Arc::default());
        assert!(handle.export(vec![sample_span()]));
        assert_eq!((handle.dropped(), handle.exported()), (0, 0));
    }
}
