//! End-to-end messages/s through NATS JetStream with 1, 2 and 3 `torvyn
//! serve` hosts sharing one durable consumer (nats-source → uppercase →
//! nats-sink), next to raw async-nats figures measured in the same run on
//! the same server: the ceiling.
//!
//! `cargo bench -p torvyn-benches --bench nats_scaleout [-- MESSAGES]`
//!
//! Needs `nats-server` on PATH (Debian package nats-server) and a built
//! `torvyn` binary: `$TORVYN_BIN`, else `target/release/torvyn`, else
//! `target/debug/torvyn` (dependencies are optimized in the dev profile;
//! Torvyn's own crates are not — build with `--release` for final figures).
//! Not a criterion benchmark: it prints a table.
//!
//! Raw figures (one async-nats client, 64 B-ish payloads):
//! - publish: pipelined publishes with acks awaited 4,096 behind;
//! - consume: a durable pull consumer, every message acked;
//! - pipe: consume, publish to the output stream with `Nats-Msg-Id`, ack
//!   the input once the publish ack came back — the same work a Torvyn
//!   host does, minus the Wasm processor and the flow.
//!
//! Torvyn figures: the input stream is filled first, then N hosts start at
//! once; the rate is measured from the 1st to the last percent of the
//! output (host start-up is not counted).

use async_nats::jetstream::{self, consumer, context::PublishAckFuture, message::PublishMessage};
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use torvyn_e2e::nats::{Jet, NatsServer};

const WINDOW: usize = 4096;

fn main() {
    let messages: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    if torvyn_e2e::tools::find_on_path("nats-server").is_none() {
        eprintln!("nats-server is not installed (Debian package nats-server): nothing measured");
        return;
    }
    let torvyn = torvyn_binary();
    println!("torvyn binary: {}", torvyn.display());
    let upper = torvyn_e2e::test_component("uppercase");
    let server = NatsServer::start();
    let jet = Jet::connect(&server.url());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let context = {
        let client = runtime
            .block_on(async_nats::connect(server.url()))
            .expect("connects");
        let _entered = runtime.enter();
        jetstream::new(client)
    };

    // Raw ceiling.
    jet.create_stream("RAWIN", &["rawin.>"]);
    jet.create_stream("RAWOUT", &["rawout.>"]);
    let started = Instant::now();
    jet.publish_all("rawin.x", payloads(messages), WINDOW);
    let publish = rate(messages, started.elapsed());
    let consume = runtime.block_on(raw_consume(&context, "RAWIN", "consume", messages));
    let pipe = runtime.block_on(raw_pipe(&context, "RAWIN", "pipe", "rawout.x", messages));
    println!("\nmessages per run: {messages}");
    println!("{:<34} {:>12}", "raw (async-nats)", "msg/s");
    println!("{:<34} {:>12.0}", "publish (pipelined acks)", publish);
    println!("{:<34} {:>12.0}", "consume + ack (pull, durable)", consume);
    println!("{:<34} {:>12.0}", "pipe: consume → publish → ack", pipe);

    // Torvyn hosts.
    println!(
        "\n{:<34} {:>12} {:>10} {:>10} {:>10}",
        "torvyn serve hosts", "msg/s", "÷ pipe", "÷ publish", "÷ consume"
    );
    for hosts in 1..=3 {
        let input = format!("IN{hosts}");
        let output = format!("OUT{hosts}");
        jet.create_stream(&input, &[&format!("in{hosts}.>")]);
        jet.create_stream(&output, &[&format!("out{hosts}.>")]);
        jet.publish_all(&format!("in{hosts}.x"), payloads(messages), WINDOW);
        let project = tempfile::tempdir().expect("a project directory");
        std::fs::write(
            project.path().join("Torvyn.toml"),
            manifest(&server.url(), hosts, &upper),
        )
        .expect("manifest");
        let mut children: Vec<Child> = (0..hosts).map(|_| serve(&torvyn, project.path())).collect();
        let first = messages / 100;
        let wait = |count: u64| {
            let deadline = Instant::now() + Duration::from_secs(600);
            while jet.stream_messages(&output) < count {
                assert!(Instant::now() < deadline, "the hosts stalled");
                std::thread::sleep(Duration::from_millis(10));
            }
            Instant::now()
        };
        let t0 = wait(first.max(1));
        let t1 = wait(messages);
        let measured = rate(messages - first, t1 - t0);
        for child in &children {
            // SAFETY: kill(2) on our own child's pid has no memory effects.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        }
        for child in &mut children {
            let _ = child.wait();
        }
        println!(
            "{:<34} {:>12.0} {:>10.2} {:>10.2} {:>10.2}",
            format!("{hosts} host{}", if hosts == 1 { "" } else { "s" }),
            measured,
            measured / pipe,
            measured / publish,
            measured / consume
        );
    }
}

fn payloads(count: u64) -> impl Iterator<Item = Vec<u8>> {
    (0..count).map(|i| format!("message-{i:08}").into_bytes())
}

fn rate(messages: u64, elapsed: Duration) -> f64 {
    messages as f64 / elapsed.as_secs_f64()
}

fn torvyn_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TORVYN_BIN") {
        return PathBuf::from(path);
    }
    let target = torvyn_e2e::repo_root().join("target");
    let release = target.join("release").join("torvyn");
    if release.is_file() {
        return release;
    }
    let debug = target.join("debug").join("torvyn");
    assert!(
        debug.is_file(),
        "no torvyn binary: cargo build --release --bin torvyn, or set TORVYN_BIN"
    );
    debug
}

fn manifest(url: &str, hosts: u32, upper: &std::path::Path) -> String {
    format!(
        r#"[torvyn]
name = "nats-bench"
version = "0.1.0"
contract_version = "0.1.0"

[flow.upper.nodes.input]
component = "builtin:nats-source"
interface = "torvyn:streaming/source"
config = '{{"url": "{url}", "stream": "IN{hosts}", "durable": "bench", "ack_wait": "30s"}}'

[flow.upper.nodes.upper]
component = "file://{}"
interface = "torvyn:streaming/processor"

[flow.upper.nodes.output]
component = "builtin:nats-sink"
interface = "torvyn:streaming/sink"
config = '{{"url": "{url}", "subject": "out{hosts}.x"}}'

[[flow.upper.edges]]
from = {{ node = "input", port = "output" }}
to = {{ node = "upper", port = "input" }}

[[flow.upper.edges]]
from = {{ node = "upper", port = "output" }}
to = {{ node = "output", port = "input" }}
"#,
        upper.display()
    )
}

fn serve(torvyn: &std::path::Path, dir: &std::path::Path) -> Child {
    Command::new(torvyn)
        .args(["--quiet", "serve", "--status-interval", "0s"])
        .current_dir(dir)
        .env(
            "TORVYN_CACHE_DIR",
            torvyn_e2e::repo_root()
                .join("target")
                .join("torvyn-test-cache"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("torvyn serve starts")
}

async fn durable(context: &jetstream::Context, stream: &str, name: &str) -> consumer::PullConsumer {
    context
        .get_stream(stream)
        .await
        .expect("stream")
        .create_consumer(consumer::pull::Config {
            durable_name: Some(name.into()),
            ack_policy: consumer::AckPolicy::Explicit,
            max_ack_pending: 20_000,
            ..Default::default()
        })
        .await
        .expect("consumer")
}

/// Consumes and acks every message: messages/s.
async fn raw_consume(context: &jetstream::Context, stream: &str, name: &str, count: u64) -> f64 {
    let consumer = durable(context, stream, name).await;
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(256)
        .messages()
        .await
        .expect("pull");
    let started = Instant::now();
    for _ in 0..count {
        let message = messages.next().await.expect("a message").expect("no error");
        message.ack().await.expect("ack");
    }
    rate(count, started.elapsed())
}

/// Consumes, republishes with a message id, acks after the publish ack:
/// messages/s.
async fn raw_pipe(
    context: &jetstream::Context,
    stream: &str,
    name: &str,
    subject: &str,
    count: u64,
) -> f64 {
    let consumer = durable(context, stream, name).await;
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(256)
        .messages()
        .await
        .expect("pull");
    let started = Instant::now();
    let mut pending: VecDeque<(jetstream::Message, PublishAckFuture)> = VecDeque::new();
    for _ in 0..count {
        let message = messages.next().await.expect("a message").expect("no error");
        let id = format!("{stream}:{}", message.info().expect("info").stream_sequence);
        let mut upper = message.payload.to_vec();
        upper.make_ascii_uppercase();
        let ack = context
            .send_publish(
                subject.to_string(),
                PublishMessage::build().payload(upper.into()).message_id(id),
            )
            .await
            .expect("publish");
        pending.push_back((message, ack));
        if pending.len() == 1024 {
            let (message, ack) = pending.pop_front().expect("pending");
            ack.await.expect("publish ack");
            message.ack().await.expect("ack");
        }
    }
    for (message, ack) in pending {
        ack.await.expect("publish ack");
        message.ack().await.expect("ack");
    }
    rate(count, started.elapsed())
}
