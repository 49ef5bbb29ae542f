//! [`TraceHub`]: the thread between the flows' trace channel and whoever
//! reads traces.

use super::{TraceBatch, TraceBatchKind, TraceConsumer, TraceReceiver};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

/// How often the trace thread looks for batches while they keep coming
/// (the most a batch waits before its consumers see it).
const POLL_PERIOD: std::time::Duration = std::time::Duration::from_millis(1);

/// Empty polls in a row before the trace thread parks (100 ms idle).
const IDLE_POLLS: u32 = 100;

/// Capacity of each subscriber channel, in batches.
pub const TRACE_SUBSCRIBER_CAPACITY: usize = 1024;

/// Counts of what went through the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceStats {
    /// Records handed to consumers and subscribers.
    pub records: u64,
    /// Records dropped on the way (flow buffers, the channel, consumers).
    pub dropped: u64,
}

#[derive(Default)]
struct Shared {
    subscribers: Mutex<Vec<mpsc::SyncSender<Arc<TraceBatch>>>>,
    records: AtomicU64,
    consumer_dropped: AtomicU64,
    /// Empty polls the thread made (each a [`POLL_PERIOD`] sleep).
    empty_polls: AtomicU64,
}

/// The trace thread and its subscriber list.
pub struct TraceHub {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for TraceHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceHub").finish_non_exhaustive()
    }
}

impl TraceHub {
    /// Starts the thread reading `batches` until every sender is gone,
    /// passing each batch to `consumers` and to the subscribers.
    pub fn start(
        receiver: TraceReceiver,
        mut consumers: Vec<Box<dyn TraceConsumer>>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let inner = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("torvyn-trace".into())
            .spawn(move || {
                let mut handle = |batch: TraceBatch| {
                    inner
                        .records
                        .fetch_add(batch.record_count() as u64, Relaxed);
                    for consumer in consumers.iter_mut() {
                        consumer.consume(&batch);
                    }
                    if let Some(TraceBatch {
                        kind: TraceBatchKind::Records(records),
                        ..
                    }) = deliver(&inner, batch)
                    {
                        // Back to the flows, to be filled again.
                        receiver.spares.give_back(records);
                    }
                };
                // Parked while nothing comes (one wake-up per burst); while
                // record batches come, polled every POLL_PERIOD instead, so
                // a flow's send finds no parked receiver to wake: a wake-up
                // is a futex call on the flow's thread, several µs on a
                // virtual machine, once per shipped batch. A flow's start
                // and end markers (all a flow sends at `off`) do not start
                // the polling: two wake-ups per flow are cheaper than a
                // thread waking every millisecond.
                'parked: while let Ok(batch) = receiver.batches.recv() {
                    let records = carries_records(&batch);
                    handle(batch);
                    if !records {
                        continue 'parked;
                    }
                    let mut idle_polls = 0;
                    loop {
                        match receiver.batches.try_recv() {
                            Ok(batch) => {
                                if carries_records(&batch) {
                                    idle_polls = 0;
                                }
                                handle(batch);
                            }
                            Err(mpsc::TryRecvError::Empty) if idle_polls < IDLE_POLLS => {
                                std::thread::sleep(POLL_PERIOD);
                                inner.empty_polls.fetch_add(1, Relaxed);
                                idle_polls += 1;
                            }
                            Err(mpsc::TryRecvError::Empty) => continue 'parked,
                            Err(mpsc::TryRecvError::Disconnected) => break 'parked,
                        }
                    }
                }
                for consumer in consumers.iter_mut() {
                    consumer.flush();
                }
                let dropped = consumers.iter().map(|c| c.dropped()).sum();
                inner.consumer_dropped.store(dropped, Relaxed);
                // Subscribers see their channel close.
                if let Ok(mut subscribers) = inner.subscribers.lock() {
                    subscribers.clear();
                }
            })?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// A receiver of every trace batch from now on; it closes when the
    /// host stops. A subscriber that does not keep up slows the hub, never
    /// the flows (whose batches are then dropped and counted).
    pub fn subscribe(&self) -> mpsc::Receiver<Arc<TraceBatch>> {
        let (tx, rx) = mpsc::sync_channel(TRACE_SUBSCRIBER_CAPACITY);
        if let Ok(mut subscribers) = self.shared.subscribers.lock() {
            subscribers.push(tx);
        }
        rx
    }

    /// Records handed on so far, and dropped by consumers (known once the
    /// hub has stopped).
    pub fn stats(&self) -> (u64, u64) {
        (
            self.shared.records.load(Relaxed),
            self.shared.consumer_dropped.load(Relaxed),
        )
    }

    /// Waits for the thread to finish (after every sender is gone).
    pub fn join(&self) {
        let thread = match self.thread.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// Whether `batch` carries records (rather than a flow's start or end).
fn carries_records(batch: &TraceBatch) -> bool {
    matches!(batch.kind, TraceBatchKind::Records(_))
}

/// Hands `batch` to every subscriber still listening (blocking on a full
/// one: a subscriber asked for every batch); gives it back when there is
/// none.
fn deliver(shared: &Shared, batch: TraceBatch) -> Option<TraceBatch> {
    let Ok(mut subscribers) = shared.subscribers.lock() else {
        return Some(batch);
    };
    if subscribers.is_empty() {
        return Some(batch);
    }
    let batch = Arc::new(batch);
    subscribers.retain(|tx| tx.send(Arc::clone(&batch)).is_ok());
    None
}

#[cfg(test)]
mod tests {
    use super::super::tests::records;
    use super::super::TracePublisher;
    use super::*;

    struct Counting(Arc<AtomicU64>, bool);

    impl TraceConsumer for Counting {
        fn consume(&mut self, batch: &TraceBatch) {
            self.0.fetch_add(batch.record_count() as u64, Relaxed);
        }
        fn flush(&mut self) {
            self.1 = true;
        }
        fn dropped(&self) -> u64 {
            u64::from(self.1)
        }
    }

    #[test]
    fn consumers_and_subscribers_see_every_batch_and_consumers_are_flushed() {
        let (publisher, rx) = TracePublisher::bounded(8);
        let seen = Arc::new(AtomicU64::new(0));
        let consumer = Counting(Arc::clone(&seen), false);
        let hub = TraceHub::start(rx, vec![Box::new(consumer)]).unwrap();
        let subscriber = hub.subscribe();
        assert!(publisher.publish(records(2)));
        assert!(publisher.publish(records(3)));
        let first = subscriber.recv().unwrap();
        let second = subscriber.recv().unwrap();
        assert_eq!(first.record_count() + second.record_count(), 5);
        drop(publisher);
        hub.join();
        assert_eq!(seen.load(Relaxed), 5);
        // The flush ran (the consumer reports it as one "dropped").
        assert_eq!(hub.stats(), (5, 1));
        assert!(subscriber.recv().is_err(), "the subscription closes");
    }

    #[test]
    fn batches_sent_while_the_hub_polls_or_after_it_parked_all_arrive() {
        let (publisher, rx) = TracePublisher::bounded(4);
        let seen = Arc::new(AtomicU64::new(0));
        let hub = TraceHub::start(rx, vec![Box::new(Counting(Arc::clone(&seen), false))]).unwrap();
        let subscriber = hub.subscribe();
        // A steady stream (the hub polls between them; a full channel
        // would drop, so each send waits for room).
        for _ in 0..200 {
            while !publisher.publish(records(1)) {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
        for _ in 0..200 {
            subscriber.recv().unwrap();
        }
        // Idle long enough for the hub to park, then one more: it wakes.
        std::thread::sleep(POLL_PERIOD * (IDLE_POLLS + 20));
        assert!(publisher.publish(records(2)));
        assert_eq!(subscriber.recv().unwrap().record_count(), 2);
        drop(publisher);
        hub.join();
        assert_eq!(seen.load(Relaxed), 202);
        assert!(subscriber.recv().is_err(), "the subscription closes");
    }

    #[test]
    fn a_buffer_read_by_consumers_goes_back_to_the_flows_and_one_subscribers_keep_does_not() {
        let (publisher, rx) = TracePublisher::bounded(4);
        let seen = Arc::new(AtomicU64::new(0));
        let hub = TraceHub::start(rx, vec![Box::new(Counting(Arc::clone(&seen), false))]).unwrap();
        let batch = records(3);
        let TraceBatchKind::Records(sent) = &batch.kind else {
            unreachable!("records(3) carries records")
        };
        let address = sent.as_ptr();
        assert!(publisher.publish(batch));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while seen.load(Relaxed) < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(POLL_PERIOD);
        }
        // Given back after the consumers read it: the next buffer a flow
        // takes is that memory, emptied.
        let mut spare = publisher.record_buffer();
        for _ in 0..100 {
            if spare.capacity() > 0 {
                break;
            }
            std::thread::sleep(POLL_PERIOD);
            spare = publisher.record_buffer();
        }
        assert_eq!(spare.as_ptr(), address);
        assert!(spare.is_empty());
        // A subscriber holds its batches: those buffers are not reused.
        let subscriber = hub.subscribe();
        assert!(publisher.publish(records(1)));
        let held = subscriber.recv().unwrap();
        assert_eq!(publisher.record_buffer().capacity(), 0);
        drop(held);
        drop(publisher);
        hub.join();
    }

    #[test]
    fn start_and_end_markers_alone_leave_the_hub_parked() {
        let (publisher, rx) = TracePublisher::bounded(8);
        let hub = TraceHub::start(rx, Vec::new()).unwrap();
        let subscriber = hub.subscribe();
        let marker = |kind| TraceBatch {
            info: records(0).info,
            kind,
        };
        assert!(publisher.publish(marker(TraceBatchKind::Started { at_unix_ns: 1 })));
        assert!(publisher.publish(marker(TraceBatchKind::Ended {
            at_unix_ns: 2,
            error: None,
        })));
        subscriber.recv().unwrap();
        subscriber.recv().unwrap();
        std::thread::sleep(POLL_PERIOD * 20);
        assert_eq!(hub.shared.empty_polls.load(Relaxed), 0, "parked");
        // Records do start the polling.
        assert!(publisher.publish(records(1)));
        subscriber.recv().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while hub.shared.empty_polls.load(Relaxed) == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(POLL_PERIOD);
        }
        assert!(hub.shared.empty_polls.load(Relaxed) > 0, "polling");
        drop(publisher);
        hub.join();
    }

    #[test]
    fn a_subscriber_that_went_away_is_forgotten() {
        let (publisher, rx) = TracePublisher::bounded(8);
        let hub = TraceHub::start(rx, Vec::new()).unwrap();
        drop(hub.subscribe());
        assert!(publisher.publish(records(1)));
        drop(publisher);
        hub.join();
        assert!(hub.shared.subscribers.lock().unwrap().is_empty());
    }
}
