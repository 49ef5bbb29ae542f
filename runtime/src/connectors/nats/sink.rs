//! `builtin:nats-sink`: publishes each element to a JetStream subject and
//! confirms it once the server's publish ack came back.
//!
//! `push` hands the element to a publish task on the I/O runtime through a
//! bounded channel (it waits only when [`WINDOW`] publishes are already
//! outstanding) and answers [`Delivery::Deferred`]; an ack task awaits the
//! server's acks in order and reports each one, which the flow collects
//! through [`SinkConnector::settle`]. An element whose origin is known
//! carries `Nats-Msg-Id: <source stream>:<stream sequence>:<subject>`, so
//! a message the source reads again (after a crash) does not duplicate the
//! output inside the stream's duplicate window, while one element fanned
//! out to two subjects of the same stream keeps both.

use super::{check_name, check_subject, required, wait_io, Connection, CONNECT_TIMEOUT};
use crate::connectors::metrics::{ConnectorCounters, ConnectorReport};
use crate::connectors::settings::{Settings, SettingsError};
use crate::connectors::{Delivery, Origin, SinkConnector};
use crate::engine::bindings::types::ProcessError;
use crate::engine::wasi_io::io_runtime;
use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Publishes sent and not yet acknowledged, at most.
const WINDOW: usize = 1024;

/// How long completing waits for the outstanding publish acks.
const COMPLETE_WAIT: Duration = Duration::from_secs(30);

/// How long stopping (a cancel, a failure) waits for them.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// A nats-sink's settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NatsSinkSettings {
    connection: Connection,
    subject: String,
    /// The stream that must capture `subject` (checked at start and by the
    /// server on every publish).
    stream: Option<String>,
}

impl NatsSinkSettings {
    /// `url`, `credentials`, `subject` (required), `stream`.
    pub(crate) fn read(mut settings: Settings, root: &Path) -> Result<Self, SettingsError> {
        let connection = Connection::read(&mut settings, root)?;
        let subject = required(&mut settings, "subject", "the subject to publish to")?;
        check_subject("subject", &subject, false)?;
        let stream = settings.take_string("stream")?;
        if let Some(stream) = &stream {
            check_name("stream", stream)?;
        }
        settings.finish(&["url", "credentials", "subject", "stream"])?;
        Ok(Self {
            connection,
            subject,
            stream,
        })
    }
}

/// One element on its way to the publish task.
struct Publish {
    sequence: u64,
    id: Option<String>,
    payload: bytes::Bytes,
}

/// A running nats-sink.
pub(crate) struct NatsSink {
    settings: NatsSinkSettings,
    counters: Arc<ConnectorCounters>,
    running: Option<Running>,
}

struct Running {
    /// To the publish task; `None` once completing.
    publishes: Option<kanal::Sender<Publish>>,
    /// Confirmations: (sequence, accepted).
    settled: kanal::Receiver<(u64, bool)>,
    /// Signalled when every publish was acknowledged (or failed).
    done: std::sync::mpsc::Receiver<()>,
}

impl NatsSink {
    pub(crate) fn new(settings: NatsSinkSettings) -> Self {
        Self {
            settings,
            counters: Arc::default(),
            running: None,
        }
    }

    /// Closes the publish channel and waits for the outstanding acks.
    fn finish(&mut self, wait: Duration) -> Result<(), ProcessError> {
        let Some(running) = self.running.as_mut() else {
            return Ok(());
        };
        if running.publishes.take().is_none() {
            return Ok(());
        }
        running.done.recv_timeout(wait).map_err(|_| {
            ProcessError::Unavailable(format!(
                "NATS did not acknowledge every publish to `{}` within {wait:?}",
                self.settings.subject
            ))
        })
    }
}

impl SinkConnector for NatsSink {
    fn start(&mut self) -> Result<(), ProcessError> {
        let settings = self.settings.clone();
        let context = wait_io(CONNECT_TIMEOUT * 2, async move {
            let client = settings.connection.connect().await?;
            let context = jetstream::new(client);
            let capturing = context
                .stream_by_subject(settings.subject.as_str())
                .await
                .map_err(|e| {
                    format!(
                        "no JetStream stream captures subject `{}` on {} ({e}); create one, for \
                         example `nats stream add {} --subjects '{}'`",
                        settings.subject,
                        settings.connection.describe(),
                        settings.stream.as_deref().unwrap_or("OUT"),
                        settings.subject
                    )
                })?;
            if let Some(stream) = &settings.stream {
                if *stream != capturing {
                    return Err(format!(
                        "subject `{}` is captured by stream `{capturing}`, not by `{stream}` as the node's `stream` says",
                        settings.subject
                    ));
                }
            }
            Ok(context)
        })?;
        let (publishes, publish_receive) = kanal::bounded(WINDOW);
        let (acks, ack_receive) = tokio::sync::mpsc::channel(WINDOW);
        let (settle_send, settled) = kanal::unbounded();
        let (done_send, done) = std::sync::mpsc::sync_channel(1);
        let subject = async_nats::Subject::from(self.settings.subject.as_str());
        let stream = self.settings.stream.clone();
        io_runtime().spawn(collect_acks(
            context.clone(),
            ack_receive,
            settle_send.clone_async(),
            done_send,
            Arc::clone(&self.counters),
        ));
        io_runtime().spawn(publish(
            context,
            subject,
            stream,
            publish_receive.to_async(),
            acks,
            settle_send.to_async(),
            Arc::clone(&self.counters),
        ));
        self.running = Some(Running {
            publishes: Some(publishes),
            settled,
            done,
        });
        Ok(())
    }

    fn push(&mut self, payload: &[u8]) -> Result<u64, ProcessError> {
        match self.push_from(payload, 0, None)? {
            Delivery::Accepted(bytes) | Delivery::Deferred(bytes) => Ok(bytes),
        }
    }

    // HOT PATH: one copy into the message (the client owns its bytes) and
    // one bounded-channel send.
    fn push_from(
        &mut self,
        payload: &[u8],
        sequence: u64,
        origin: Option<Origin<'_>>,
    ) -> Result<Delivery, ProcessError> {
        let Some(publishes) = self.running.as_ref().and_then(|r| r.publishes.as_ref()) else {
            return Err(ProcessError::Unavailable(
                "the NATS sink is not connected".into(),
            ));
        };
        let publish = Publish {
            sequence,
            id: origin.map(|o| message_id(o, &self.settings.subject)),
            payload: bytes::Bytes::copy_from_slice(payload),
        };
        publishes
            .send(publish)
            .map_err(|_| ProcessError::Unavailable("the NATS publish task stopped".into()))?;
        Ok(Delivery::Deferred(payload.len() as u64))
    }

    fn defers(&self) -> bool {
        true
    }

    fn settle(&mut self, settled: &mut dyn FnMut(u64, bool)) {
        let Some(running) = self.running.as_ref() else {
            return;
        };
        while let Ok(Some((sequence, accepted))) = running.settled.try_recv() {
            settled(sequence, accepted);
        }
    }

    fn complete(&mut self) -> Result<(), ProcessError> {
        self.finish(COMPLETE_WAIT)
    }

    fn report(&self) -> Option<ConnectorReport> {
        Some(self.counters.snapshot())
    }

    fn stop(&mut self) {
        if let Err(e) = self.finish(STOP_WAIT) {
            tracing::warn!(error = ?e, "stopping the NATS sink");
        }
    }
}

/// The deduplication id of an element from `origin` published to
/// `subject`.
fn message_id(origin: Origin<'_>, subject: &str) -> String {
    format!("{}:{}:{subject}", origin.namespace, origin.id)
}

/// Publishes each element and passes its ack future on, in order.
async fn publish(
    context: jetstream::Context,
    subject: async_nats::Subject,
    stream: Option<String>,
    publishes: kanal::AsyncReceiver<Publish>,
    acks: tokio::sync::mpsc::Sender<(u64, Instant, PublishAckFuture)>,
    settled: kanal::AsyncSender<(u64, bool)>,
    counters: Arc<ConnectorCounters>,
) {
    while let Ok(p) = publishes.recv().await {
        let mut message = PublishMessage::build().payload(p.payload);
        if let Some(id) = &p.id {
            message = message.message_id(id);
        }
        if let Some(stream) = &stream {
            message = message.expected_stream(stream);
        }
        let sent = Instant::now();
        match context.send_publish(subject.clone(), message).await {
            Ok(ack) => {
                if acks.send((p.sequence, sent, ack)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, subject = %subject, "NATS publish failed");
                counters.published(false, 0);
                let _ = settled.send((p.sequence, false)).await;
            }
        }
    }
}

/// Awaits each publish ack in order and reports it; signals `done` when
/// the publish task ended and every ack arrived. It holds the connection
/// (`_context`) open until then: the publish task ends first.
async fn collect_acks(
    _context: jetstream::Context,
    mut acks: tokio::sync::mpsc::Receiver<(u64, Instant, PublishAckFuture)>,
    settled: kanal::AsyncSender<(u64, bool)>,
    done: std::sync::mpsc::SyncSender<()>,
    counters: Arc<ConnectorCounters>,
) {
    while let Some((sequence, sent, ack)) = acks.recv().await {
        let accepted = match ack.await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "NATS did not acknowledge a publish");
                false
            }
        };
        counters.published(accepted, sent.elapsed().as_nanos() as u64);
        let _ = settled.send((sequence, accepted)).await;
    }
    let _ = done.send(());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<NatsSinkSettings, SettingsError> {
        NatsSinkSettings::read(Settings::from_json(json).expect("json"), Path::new("."))
    }

    #[test]
    fn sink_settings_read() {
        let s =
            read(r#"{"url": ["nats://127.0.0.1:4222"], "subject": "out.upper", "stream": "OUT"}"#)
                .expect("valid");
        assert_eq!(s.subject, "out.upper");
        assert_eq!(s.stream.as_deref(), Some("OUT"));
    }

    #[test]
    fn a_message_id_names_the_source_message_and_the_subject() {
        let origin = Origin {
            namespace: "IN",
            id: 42,
        };
        assert_eq!(message_id(origin, "out.upper"), "IN:42:out.upper");
    }

    #[test]
    fn bad_sink_settings_say_what_is_wrong() {
        for (json, expected) in [
            (r#"{}"#, "`subject` is required"),
            (r#"{"subject": "out.>"}"#, "no wildcards"),
            (
                r#"{"subject": "out", "stream": "a b"}"#,
                "not a JetStream name",
            ),
            (
                r#"{"subject": "out", "durable": "d"}"#,
                "unknown setting `durable`",
            ),
        ] {
            let e = read(json).expect_err(json);
            assert!(e.0.contains(expected), "{json}: {e}");
        }
    }

    #[test]
    fn a_sink_that_never_started_refuses_elements() {
        let mut sink = NatsSink::new(read(r#"{"subject": "out"}"#).expect("valid"));
        let e = sink.push(b"x").expect_err("not connected");
        assert!(
            matches!(&e, ProcessError::Unavailable(m) if m.contains("not connected")),
            "{e:?}"
        );
        assert!(sink.complete().is_ok());
    }

    #[test]
    fn an_unreachable_server_fails_the_start_with_a_hint() {
        let mut sink = NatsSink::new(
            read(r#"{"url": "nats://127.0.0.1:1", "subject": "out"}"#).expect("valid"),
        );
        let e = sink.start().expect_err("nothing listens");
        assert!(
            matches!(&e, ProcessError::Unavailable(m) if m.contains("cannot connect to NATS")),
            "{e:?}"
        );
    }
}
