//! `builtin:nats-source`: a JetStream stream read through a durable pull
//! consumer, acknowledged at least once.
//!
//! A fetch task on the I/O runtime pulls batches into a bounded channel;
//! when the flow falls behind the channel fills and fetching stops. The
//! flow polls the channel ([`Pulled::NotYet`] when it is empty), tells
//! the source which sequence each element got ([`SourceConnector::track`])
//! and, once every sink the element reached accepted it, that it was
//! handled: the message is then acknowledged (or, when a sink failed it,
//! handed back for redelivery with a NAK) by an ack task. Nothing is
//! acknowledged when the flow fails, is cancelled or the host dies: the
//! server delivers those messages again after `ack_wait`, to this host or
//! to another bound to the same durable consumer.

use super::{check_name, check_subject, required, wait_io, Connection, CONNECT_TIMEOUT};
use crate::connectors::metrics::{ConnectorCounters, ConnectorReport};
use crate::connectors::settings::{Settings, SettingsError};
use crate::connectors::{Pulled, SourceConnector};
use crate::engine::bindings::types::ProcessError;
use crate::engine::wasi_io::io_runtime;
use async_nats::jetstream::{self, consumer::pull, message::Acker, AckKind};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long the flow waits before polling an empty channel again: 1 ms,
/// doubling while it stays empty up to 16 ms (an idle host does not wake
/// a thousand times a second; a busy one never waits).
const POLL: Duration = Duration::from_millis(1);
const MAX_POLL_SHIFT: u32 = 4;

/// How long a pull request waits on the server for messages.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

/// How long stopping waits for the last acknowledgements to leave.
const ACK_FLUSH: Duration = Duration::from_secs(5);

/// How long the server waits before redelivering a message handed back
/// (a sink failed it): a refusing output is not hammered.
const NAK_DELAY: Duration = Duration::from_secs(1);

/// Messages fetched per pull request when `batch` is unset.
const DEFAULT_BATCH: u64 = 256;

/// The consumer's ack wait when `ack_wait` is unset (the server's default).
const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);

/// Unacknowledged messages the consumer allows (over every host bound to
/// it) when `max_ack_pending` is unset.
const DEFAULT_MAX_ACK_PENDING: u64 = 20_000;

/// A nats-source's settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NatsSourceSettings {
    connection: Connection,
    stream: String,
    /// Filter subject (empty: the whole stream).
    subject: Option<String>,
    durable: String,
    batch: usize,
    ack_wait: Duration,
    max_ack_pending: u64,
}

impl NatsSourceSettings {
    /// `url`, `credentials`, `stream` (required), `subject`, `durable`
    /// (required), `batch`, `ack_wait`, `max_ack_pending`.
    pub(crate) fn read(mut settings: Settings, root: &Path) -> Result<Self, SettingsError> {
        let connection = Connection::read(&mut settings, root)?;
        let stream = required(&mut settings, "stream", "the JetStream stream to read")?;
        check_name("stream", &stream)?;
        let durable = required(
            &mut settings,
            "durable",
            "the durable consumer's name (hosts that share it share the messages)",
        )?;
        check_name("durable", &durable)?;
        let subject = settings.take_string("subject")?;
        if let Some(subject) = &subject {
            check_subject("subject", subject, true)?;
        }
        let batch = settings.take_positive("batch")?.unwrap_or(DEFAULT_BATCH);
        if batch > 10_000 {
            return Err(SettingsError(format!(
                "`batch` = {batch} is more than 10000 messages per pull"
            )));
        }
        let ack_wait = settings
            .take_duration("ack_wait")?
            .unwrap_or(DEFAULT_ACK_WAIT);
        if ack_wait < Duration::from_secs(1) {
            return Err(SettingsError(format!(
                "`ack_wait` = {ack_wait:?} is under 1s: messages would be redelivered while the flow still holds them"
            )));
        }
        let max_ack_pending = settings
            .take_positive("max_ack_pending")?
            .unwrap_or(DEFAULT_MAX_ACK_PENDING);
        settings.finish(&[
            "url",
            "credentials",
            "stream",
            "subject",
            "durable",
            "batch",
            "ack_wait",
            "max_ack_pending",
        ])?;
        Ok(Self {
            connection,
            stream,
            subject,
            durable,
            batch: batch as usize,
            ack_wait,
            max_ack_pending,
        })
    }

    /// The durable pull consumer's configuration.
    fn consumer(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.durable.clone()),
            filter_subject: self.subject.clone().unwrap_or_default(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            max_ack_pending: self.max_ack_pending as i64,
            ..Default::default()
        }
    }
}

/// A message fetched and not yet handed to the flow.
struct Fetched {
    payload: bytes::Bytes,
    stream_sequence: u64,
    acker: Acker,
}

/// A running nats-source.
pub(crate) struct NatsSource {
    settings: NatsSourceSettings,
    counters: Arc<ConnectorCounters>,
    running: Option<Running>,
}

struct Running {
    fetched: kanal::Receiver<Result<Fetched, String>>,
    /// The message last pulled, until the flow tracks it.
    in_hand: Option<Fetched>,
    /// Messages the flow holds, by the flow's sequence.
    unacked: HashMap<u64, Acker>,
    /// Polls in a row that found the channel empty (at most
    /// `MAX_POLL_SHIFT`).
    empty_polls: u32,
    /// To the ack task; `None` once stopping.
    acks: Option<kanal::Sender<(Acker, bool)>>,
    /// Signalled when the ack task has sent everything.
    acks_done: std::sync::mpsc::Receiver<()>,
    fetch_task: tokio::task::JoinHandle<()>,
}

impl NatsSource {
    pub(crate) fn new(settings: NatsSourceSettings) -> Self {
        Self {
            settings,
            counters: Arc::default(),
            running: None,
        }
    }
}

impl SourceConnector for NatsSource {
    fn start(&mut self) -> Result<(), ProcessError> {
        self.stop();
        let settings = self.settings.clone();
        let (client, consumer) = wait_io(CONNECT_TIMEOUT * 2, async move {
            let client = settings.connection.connect().await?;
            let context = jetstream::new(client.clone());
            let stream = context.get_stream(&settings.stream).await.map_err(|e| {
                format!(
                    "cannot open JetStream stream `{}` on {} ({e}); create it first, for example \
                     `nats stream add {} --subjects '{}'`",
                    settings.stream,
                    settings.connection.describe(),
                    settings.stream,
                    settings.subject.as_deref().unwrap_or(">"),
                )
            })?;
            let consumer: jetstream::consumer::PullConsumer = stream
                .get_or_create_consumer(&settings.durable, settings.consumer())
                .await
                .map_err(|e| {
                    format!(
                        "cannot bind durable consumer `{}` on stream `{}` ({e}); an existing consumer \
                         of that name must be a pull consumer with the same filter subject",
                        settings.durable, settings.stream
                    )
                })?;
            Ok((client, consumer))
        })?;
        let (fetch_send, fetched) = kanal::bounded_async(self.settings.batch);
        let fetch_task = io_runtime().spawn(fetch(
            consumer,
            self.settings.batch,
            fetch_send,
            Arc::clone(&self.counters),
        ));
        let (acks, ack_receive) = kanal::unbounded();
        let (done, acks_done) = std::sync::mpsc::sync_channel(1);
        io_runtime().spawn(acknowledge(
            client,
            ack_receive.to_async(),
            done,
            Arc::clone(&self.counters),
        ));
        self.running = Some(Running {
            fetched: fetched.to_sync(),
            in_hand: None,
            unacked: HashMap::with_capacity(4 * self.settings.batch),
            empty_polls: 0,
            acks: Some(acks),
            acks_done,
            fetch_task,
        });
        Ok(())
    }

    // HOT PATH: one channel poll; the payload's capacity is reused.
    fn pull(&mut self, payload: &mut Vec<u8>) -> Result<Pulled, ProcessError> {
        let Some(running) = self.running.as_mut() else {
            return Ok(Pulled::Ended);
        };
        match running.fetched.try_recv() {
            Ok(Some(Ok(message))) => {
                payload.extend_from_slice(&message.payload);
                running.in_hand = Some(message);
                running.empty_polls = 0;
                Ok(Pulled::Element)
            }
            Ok(Some(Err(message))) => Err(ProcessError::Unavailable(message)),
            Ok(None) => {
                let wait = POLL * (1 << running.empty_polls);
                running.empty_polls = (running.empty_polls + 1).min(MAX_POLL_SHIFT);
                Ok(Pulled::NotYet(wait))
            }
            Err(_) => Err(ProcessError::Unavailable(
                "the NATS fetch task stopped".into(),
            )),
        }
    }

    fn content_type(&self) -> &str {
        "application/octet-stream"
    }

    fn acknowledges(&self) -> bool {
        true
    }

    fn namespace(&self) -> &str {
        &self.settings.stream
    }

    fn track(&mut self, sequence: u64) -> u64 {
        let Some(running) = self.running.as_mut() else {
            return 0;
        };
        let Some(message) = running.in_hand.take() else {
            return 0;
        };
        running.unacked.insert(sequence, message.acker);
        self.counters.set_unacked(running.unacked.len() as u64);
        message.stream_sequence
    }

    fn handled(&mut self, sequence: u64, accepted: bool) {
        let Some(running) = self.running.as_mut() else {
            return;
        };
        let Some(acker) = running.unacked.remove(&sequence) else {
            return;
        };
        self.counters.set_unacked(running.unacked.len() as u64);
        if let Some(acks) = &running.acks {
            let _ = acks.send((acker, accepted));
        }
    }

    fn report(&self) -> Option<ConnectorReport> {
        Some(self.counters.snapshot())
    }

    /// Stops fetching, sends the acknowledgements already due and leaves
    /// every other message for redelivery.
    fn stop(&mut self) {
        let Some(mut running) = self.running.take() else {
            return;
        };
        running.fetch_task.abort();
        drop(running.acks.take());
        if running.acks_done.recv_timeout(ACK_FLUSH).is_err() {
            tracing::warn!(
                stream = %self.settings.stream,
                "the last NATS acknowledgements may not have been sent; those messages will be redelivered"
            );
        }
    }
}

impl Drop for NatsSource {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Fetches messages into `out` until the source stops (the channel
/// closes); a failed pull is reported once and retried.
async fn fetch(
    consumer: jetstream::consumer::PullConsumer,
    batch: usize,
    out: kanal::AsyncSender<Result<Fetched, String>>,
    counters: Arc<ConnectorCounters>,
) {
    loop {
        let messages = consumer
            .stream()
            .max_messages_per_batch(batch)
            .expires(PULL_EXPIRES)
            .messages()
            .await;
        let mut messages = match messages {
            Ok(messages) => messages,
            Err(e) => {
                // The flow counts it as the source's error; pulling is
                // retried every second.
                let failure = format!("cannot pull from the NATS consumer ({e}); retrying");
                if out.send(Err(failure)).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        while let Some(message) = messages.next().await {
            let message = match message {
                Ok(message) => message,
                Err(e) => {
                    tracing::warn!(error = %e, "NATS pull failed; pulling again");
                    break;
                }
            };
            let (stream_sequence, redelivered, pending) = match message.info() {
                Ok(info) => (info.stream_sequence, info.delivered > 1, info.pending),
                Err(e) => {
                    tracing::warn!(error = %e, "a NATS message without JetStream metadata was skipped");
                    continue;
                }
            };
            counters.fetched(redelivered, pending);
            let (message, acker) = message.split();
            let fetched = Fetched {
                payload: message.payload,
                stream_sequence,
                acker,
            };
            // Waits while the flow is behind: backpressure stops fetching.
            if out.send(Ok(fetched)).await.is_err() {
                return;
            }
        }
    }
}

/// Sends each acknowledgement (or NAK) in order until the source stops,
/// then flushes them to the server and signals `done`.
async fn acknowledge(
    client: async_nats::Client,
    acks: kanal::AsyncReceiver<(Acker, bool)>,
    done: std::sync::mpsc::SyncSender<()>,
    counters: Arc<ConnectorCounters>,
) {
    while let Ok((acker, accepted)) = acks.recv().await {
        let kind = if accepted {
            AckKind::Ack
        } else {
            AckKind::Nak(Some(NAK_DELAY))
        };
        match acker.ack_with(kind).await {
            Ok(()) => counters.acked(accepted),
            Err(e) => {
                tracing::warn!(error = %e, "a NATS acknowledgement failed; the message will be redelivered")
            }
        }
    }
    let _ = client.flush().await;
    let _ = done.send(());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<NatsSourceSettings, SettingsError> {
        NatsSourceSettings::read(Settings::from_json(json).expect("json"), Path::new("."))
    }

    #[test]
    fn source_settings_read_with_defaults() {
        let s = read(r#"{"url": "nats://127.0.0.1:4333", "stream": "IN", "durable": "torvyn", "subject": "in.>", "ack_wait": "2s", "batch": 64}"#)
            .expect("valid");
        assert_eq!(s.stream, "IN");
        assert_eq!(s.batch, 64);
        let consumer = s.consumer();
        assert_eq!(consumer.durable_name.as_deref(), Some("torvyn"));
        assert_eq!(consumer.filter_subject, "in.>");
        assert_eq!(consumer.ack_wait, Duration::from_secs(2));
        assert_eq!(consumer.max_ack_pending, DEFAULT_MAX_ACK_PENDING as i64);
        let minimal = read(r#"{"stream": "IN", "durable": "d"}"#).expect("valid");
        assert_eq!(minimal.batch, DEFAULT_BATCH as usize);
        assert_eq!(minimal.ack_wait, DEFAULT_ACK_WAIT);
        assert_eq!(minimal.consumer().filter_subject, "");
    }

    #[test]
    fn bad_source_settings_say_what_is_wrong() {
        for (json, expected) in [
            (r#"{"durable": "d"}"#, "`stream` is required"),
            (r#"{"stream": "IN"}"#, "`durable` is required"),
            (
                r#"{"stream": "IN", "durable": "a.b"}"#,
                "not a JetStream name",
            ),
            (
                r#"{"stream": "IN", "durable": "d", "batch": 0}"#,
                "at least 1",
            ),
            (
                r#"{"stream": "IN", "durable": "d", "batch": 20000}"#,
                "10000",
            ),
            (
                r#"{"stream": "IN", "durable": "d", "ack_wait": "10ms"}"#,
                "under 1s",
            ),
            (
                r#"{"stream": "IN", "durable": "d", "subject": "a..b"}"#,
                "not a NATS subject",
            ),
            (
                r#"{"stream": "IN", "durable": "d", "path": "x"}"#,
                "unknown setting `path`",
            ),
        ] {
            let e = read(json).expect_err(json);
            assert!(e.0.contains(expected), "{json}: {e}");
        }
    }

    #[test]
    fn a_source_that_never_started_pulls_nothing_and_ignores_acks() {
        let mut source =
            NatsSource::new(read(r#"{"stream": "IN", "durable": "d"}"#).expect("valid"));
        let mut payload = Vec::new();
        assert!(matches!(source.pull(&mut payload), Ok(Pulled::Ended)));
        assert_eq!(source.track(1), 0);
        source.handled(1, true);
        assert_eq!(source.report().map(|r| r.acked), Some(0));
    }

    #[test]
    fn an_unreachable_server_fails_the_start_with_a_hint() {
        let mut source = NatsSource::new(
            read(r#"{"url": "nats://127.0.0.1:1", "stream": "IN", "durable": "d"}"#)
                .expect("valid"),
        );
        let e = source.start().expect_err("nothing listens");
        assert!(
            matches!(&e, ProcessError::Unavailable(m) if m.contains("cannot connect to NATS")),
            "{e:?}"
        );
    }
}
