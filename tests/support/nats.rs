//! A throwaway NATS server with JetStream on loopback (Debian's
//! `nats-server`: `nats-server -js -a 127.0.0.1 -p PORT -sd DIR`), and a
//! client to fill and read its streams (the official `async-nats`, on a
//! Tokio runtime of its own). Used by the NATS end-to-end tests and the
//! NATS throughput benchmark.

use crate::registry::free_port;
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `nats-server -js`, killed when dropped.
pub struct NatsServer {
    child: Child,
    port: u16,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// Starts one on a free loopback port with a temporary store, and waits
    /// until it accepts connections.
    ///
    /// # Panics
    ///
    /// Panics when `nats-server` cannot start or does not listen within 10 s.
    pub fn start() -> Self {
        let store = tempfile::tempdir().expect("a store directory");
        let port = free_port();
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let server = Self {
            child,
            port,
            _store: store,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JetStream client for tests: every call blocks until done.
pub struct Jet {
    runtime: tokio::runtime::Runtime,
    context: jetstream::Context,
}

impl Jet {
    /// Connects to `url`.
    ///
    /// # Panics
    ///
    /// Panics when the server cannot be reached.
    pub fn connect(url: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let client = runtime
            .block_on(async_nats::connect(url))
            .expect("connects to nats-server");
        // The context spawns its ack handler on the current runtime.
        let context = {
            let _entered = runtime.enter();
            jetstream::new(client)
        };
        Self { runtime, context }
    }

    /// Creates stream `name` capturing `subjects`.
    ///
    /// # Panics
    ///
    /// Panics when the server refuses.
    pub fn create_stream(&self, name: &str, subjects: &[&str]) {
        self.create_bounded_stream(name, subjects, -1);
    }

    /// Creates stream `name` capturing `subjects` that refuses new
    /// messages beyond `max_messages` (-1: no limit).
    ///
    /// # Panics
    ///
    /// Panics when the server refuses.
    pub fn create_bounded_stream(&self, name: &str, subjects: &[&str], max_messages: i64) {
        let config = stream::Config {
            name: name.into(),
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            max_messages,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        };
        self.runtime
            .block_on(self.context.create_stream(config))
            .expect("stream created");
    }

    /// Publishes `payloads` to `subject` with acks pipelined (up to
    /// `window` outstanding): the fastest way to fill a stream.
    ///
    /// # Panics
    ///
    /// Panics when a publish is not acknowledged.
    pub fn publish_all(
        &self,
        subject: &str,
        payloads: impl Iterator<Item = Vec<u8>>,
        window: usize,
    ) {
        let context = self.context.clone();
        let subject = subject.to_string();
        self.runtime.block_on(async move {
            let mut acks = std::collections::VecDeque::with_capacity(window);
            for payload in payloads {
                if acks.len() == window {
                    let ack: jetstream::context::PublishAckFuture =
                        acks.pop_front().expect("a pending ack");
                    ack.await.expect("publish acknowledged");
                }
                let ack = context
                    .publish(subject.clone(), payload.into())
                    .await
                    .expect("publish sent");
                acks.push_back(ack);
            }
            for ack in acks {
                ack.await.expect("publish acknowledged");
            }
        });
    }

    /// Messages stream `name` holds.
    ///
    /// # Panics
    ///
    /// Panics when the stream does not exist.
    pub fn stream_messages(&self, name: &str) -> u64 {
        self.runtime.block_on(async {
            let mut stream = self.context.get_stream(name).await.expect("stream exists");
            stream.info().await.expect("stream info").state.messages
        })
    }

    /// (pending, acknowledgements pending) of durable consumer `durable`
    /// on stream `stream`.
    ///
    /// # Panics
    ///
    /// Panics when the consumer does not exist.
    pub fn consumer_backlog(&self, stream: &str, durable: &str) -> (u64, u64) {
        self.runtime.block_on(async {
            let stream = self
                .context
                .get_stream(stream)
                .await
                .expect("stream exists");
            let mut consumer: consumer::PullConsumer =
                stream.get_consumer(durable).await.expect("consumer exists");
            let info = consumer.info().await.expect("consumer info");
            (info.num_pending, info.num_ack_pending as u64)
        })
    }

    /// Every message of stream `name`, in order: (payload, `Nats-Msg-Id`).
    ///
    /// # Panics
    ///
    /// Panics when the stream cannot be read.
    pub fn read_all(&self, name: &str) -> Vec<(Vec<u8>, Option<String>)> {
        let total = self.stream_messages(name) as usize;
        self.runtime.block_on(async {
            let stream = self.context.get_stream(name).await.expect("stream exists");
            let consumer: consumer::PullConsumer = stream
                .create_consumer(consumer::pull::Config {
                    ack_policy: consumer::AckPolicy::None,
                    ..Default::default()
                })
                .await
                .expect("an ephemeral consumer");
            let mut out = Vec::with_capacity(total);
            while out.len() < total {
                let mut batch = consumer
                    .fetch()
                    .max_messages(1000)
                    .expires(Duration::from_secs(2))
                    .messages()
                    .await
                    .expect("fetch");
                while let Some(message) = batch.next().await {
                    let message = message.expect("a message");
                    let id = message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get("Nats-Msg-Id"))
                        .map(|v| v.to_string());
                    out.push((message.payload.to_vec(), id));
                }
            }
            out
        })
    }
}
