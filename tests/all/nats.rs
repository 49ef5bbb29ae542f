//! NATS JetStream connectors through the real binary: three `torvyn
//! serve` hosts share one durable consumer (nats-source → uppercase →
//! nats-sink), one is killed with SIGKILL mid-run, and the output stream
//! still holds every input message at least once; and the errors of an
//! unreachable server and of bad settings.

use crate::harness::{component, Project, FILTER, PROCESSOR, SINK, SOURCE};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use torvyn_e2e::http::{http, Target};
use torvyn_e2e::nats::{Jet, NatsServer};
use torvyn_e2e::tools::outside_tool;

/// Messages the scale-out test publishes.
const MESSAGES: u64 = 100_000;

fn nats_server_installed(checks: &str) -> bool {
    outside_tool("nats-server", "Debian package nats-server", checks)
}

/// nats-source (stream IN, durable `upper`) → uppercase → nats-sink
/// (subject out.upper, stream OUT).
fn manifest(url: &str) -> String {
    let upper = component("uppercase");
    format!(
        r#"[torvyn]
name = "nats-e2e"
version = "0.1.0"
contract_version = "0.1.0"

[flow.upper.nodes.input]
component = "builtin:nats-source"
interface = "{SOURCE}"
config = '{{"url": "{url}", "stream": "IN", "subject": "in.>", "durable": "upper", "batch": 256, "ack_wait": "5s"}}'

[flow.upper.nodes.upper]
component = "{upper}"
interface = "{PROCESSOR}"

[flow.upper.nodes.output]
component = "builtin:nats-sink"
interface = "{SINK}"
config = '{{"url": "{url}", "subject": "out.upper", "stream": "OUT"}}'

[[flow.upper.edges]]
from = {{ node = "input", port = "output" }}
to = {{ node = "upper", port = "input" }}

[[flow.upper.edges]]
from = {{ node = "upper", port = "output" }}
to = {{ node = "output", port = "input" }}
"#
    )
}

/// A `torvyn serve` host with its inspection API on its own socket.
struct Host {
    child: Child,
    state: tempfile::TempDir,
}

impl Host {
    /// `torvyn serve --inspect` in `dir`, its stdout discarded.
    fn start(dir: &std::path::Path) -> Self {
        let state = tempfile::tempdir().expect("a state directory");
        let child = serve(dir, state.path());
        Self { child, state }
    }

    /// The sum of metric `name` over its series in the host's /metrics.
    fn metric(&self, name: &str) -> f64 {
        let socket = self.state.path().join("torvyn.sock");
        let reply = http(Target::Unix(&socket), "GET", "/metrics", &[], "");
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply
            .body
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// `torvyn serve --inspect` in `dir`, its stdout discarded.
fn serve(dir: &std::path::Path, state: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_torvyn"))
        .args(["serve", "--inspect", "--status-interval", "0s"])
        .current_dir(dir)
        .env("TORVYN_STATE_DIR", state)
        .env(
            "TORVYN_CACHE_DIR",
            torvyn_e2e::repo_root()
                .join("target")
                .join("torvyn-test-cache"),
        )
        .env("NO_COLOR", "1")
        .env_remove("TORVYN_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("torvyn serve starts")
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on our own child's pid has no memory effects.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

/// Waits until `done` holds, checking every 50 ms, for at most `limit`.
fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn three_hosts_share_a_stream_and_one_killed_loses_nothing() {
    if !nats_server_installed(
        "three hosts sharing a durable consumer, at least once across SIGKILL",
    ) {
        return;
    }
    let server = NatsServer::start();
    let jet = Jet::connect(&server.url());
    jet.create_stream("IN", &["in.>"]);
    jet.create_stream("OUT", &["out.>"]);
    let started = Instant::now();
    jet.publish_all(
        "in.events",
        (0..MESSAGES).map(|i| format!("message-{i}").into_bytes()),
        4096,
    );
    eprintln!("published {MESSAGES} messages in {:?}", started.elapsed());
    assert_eq!(jet.stream_messages("IN"), MESSAGES);

    let project = Project::with_manifest(&manifest(&server.url()));
    // The first host compiles the component into the shared cache before
    // the others start.
    let mut hosts = vec![Host::start(project.path())];
    wait_until("the first host's output", Duration::from_secs(120), || {
        jet.stream_messages("OUT") > 0
    });
    hosts.push(Host::start(project.path()));
    hosts.push(Host::start(project.path()));
    wait_until("a fifth of the output", Duration::from_secs(120), || {
        jet.stream_messages("OUT") >= MESSAGES / 5
    });
    let mut killed = hosts.remove(1);
    signal(&killed.child, libc::SIGKILL);
    killed.child.wait().expect("the killed host is reaped");
    let at_kill = jet.stream_messages("OUT");
    assert!(
        at_kill < MESSAGES,
        "the run ended before the kill ({at_kill} out)"
    );

    // The survivors take over the killed host's messages after ack_wait.
    wait_until("every message handled", Duration::from_secs(300), || {
        jet.consumer_backlog("IN", "upper") == (0, 0)
    });
    // The survivors' connector metrics: the killed host's messages came
    // back to them as redeliveries.
    let survivors = |name: &str| hosts.iter().map(|h| h.metric(name)).sum::<f64>();
    let (fetched, acked, redelivered, published) = (
        survivors("torvyn_connector_fetched_total"),
        survivors("torvyn_connector_acked_total"),
        survivors("torvyn_connector_redelivered_total"),
        survivors("torvyn_connector_published_total"),
    );
    eprintln!(
        "survivors: fetched {fetched}, acked {acked}, redelivered {redelivered}, published {published}"
    );
    assert!(redelivered > 0.0, "no redelivery reached the survivors");
    assert!(acked >= (MESSAGES - at_kill) as f64, "acked {acked}");
    assert!(published >= acked, "published {published} < acked {acked}");
    for host in &hosts {
        signal(&host.child, libc::SIGTERM);
    }
    for mut host in hosts {
        let status = host.child.wait().expect("a survivor exits");
        let mut stderr = String::new();
        use std::io::Read;
        host.child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("stderr read");
        assert!(status.success(), "a survivor failed: {status}\n{stderr}");
    }

    let output = jet.read_all("OUT");
    let distinct: HashSet<&[u8]> = output.iter().map(|(p, _)| p.as_slice()).collect();
    let duplicates = output.len() - distinct.len();
    eprintln!(
        "output: {} messages, {} distinct, {duplicates} duplicates ({at_kill} out when one host was killed)",
        output.len(),
        distinct.len()
    );
    assert_eq!(distinct.len() as u64, MESSAGES);
    for i in [0, MESSAGES / 2, MESSAGES - 1] {
        let expected = format!("MESSAGE-{i}");
        assert!(distinct.contains(expected.as_bytes()), "{expected} missing");
    }
    // Every published message names its source message.
    assert!(
        output
            .iter()
            .all(|(_, id)| id.as_deref().is_some_and(|id| id.starts_with("IN:"))),
        "a message without Nats-Msg-Id IN:<sequence>"
    );
}

/// nats-source → even-filter → nats-sink under `torvyn run --limit`: the
/// filter's drops are acknowledged as handled, the limited run drains and
/// acknowledges everything it took, and the summary shows the counters.
#[test]
fn filtered_elements_are_acknowledged_and_a_limited_run_drains() {
    if !nats_server_installed("acknowledging filtered elements and draining a run") {
        return;
    }
    let server = NatsServer::start();
    let jet = Jet::connect(&server.url());
    jet.create_stream("IN", &["in.>"]);
    jet.create_stream("OUT", &["out.>"]);
    jet.publish_all("in.x", (0..100).map(|i| format!("m-{i}").into_bytes()), 100);
    let url = server.url();
    let filter = component("even-filter");
    let project = Project::linear(&[
        (
            "input",
            "builtin:nats-source",
            SOURCE,
            &format!(r#"{{"url": "{url}", "stream": "IN", "durable": "even"}}"#),
        ),
        ("even", &filter, FILTER, ""),
        (
            "output",
            "builtin:nats-sink",
            SINK,
            &format!(r#"{{"url": "{url}", "subject": "out.even"}}"#),
        ),
    ]);
    let run = project.run(&["run", "--limit", "100"]);
    run.expect_code(0);
    assert_eq!(jet.stream_messages("OUT"), 50);
    assert_eq!(jet.consumer_backlog("IN", "even"), (0, 0), "all 100 acked");
    for needle in [
        "Connector 'input': fetched 100 | acked 100 | nacked 0 | redelivered 0",
        "Connector 'output': published 50 | failed 0",
    ] {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?} in\n{}",
            run.stderr
        );
    }
}

/// A publish the output stream refuses (it is full) is not acknowledged
/// at the source: the message is handed back (NAK) for redelivery.
#[test]
fn a_refused_publish_hands_the_source_message_back() {
    if !nats_server_installed("NAKing a message whose publish was refused") {
        return;
    }
    let server = NatsServer::start();
    let jet = Jet::connect(&server.url());
    jet.create_stream("IN", &["in.>"]);
    jet.create_bounded_stream("OUT", &["out.>"], 10);
    jet.publish_all("in.x", (0..20).map(|i| format!("m-{i}").into_bytes()), 20);
    let url = server.url();
    let project = Project::linear(&[
        (
            "input",
            "builtin:nats-source",
            SOURCE,
            &format!(r#"{{"url": "{url}", "stream": "IN", "durable": "full"}}"#),
        ),
        (
            "output",
            "builtin:nats-sink",
            SINK,
            &format!(r#"{{"url": "{url}", "subject": "out.x"}}"#),
        ),
    ]);
    let run = project.run(&["run", "--limit", "20"]);
    run.expect_code(0);
    assert_eq!(jet.stream_messages("OUT"), 10);
    for needle in [
        "acked 10 | nacked 10",
        "Connector 'output': published 10 | failed 10",
        "Not clean: 10 element errors",
    ] {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?} in\n{}",
            run.stderr
        );
    }
}

/// A nats-sink behind an ordinary source publishes every element, without
/// a deduplication id (the source names no origin).
#[test]
fn a_sink_publishes_what_an_ordinary_source_makes() {
    if !nats_server_installed("publishing a generator's elements") {
        return;
    }
    let server = NatsServer::start();
    let jet = Jet::connect(&server.url());
    jet.create_stream("OUT", &["out.>"]);
    let url = server.url();
    let project = Project::linear(&[
        ("input", "builtin:test-source", SOURCE, r#"{"count": 20}"#),
        (
            "output",
            "builtin:nats-sink",
            SINK,
            &format!(r#"{{"url": "{url}", "subject": "out.greetings", "stream": "OUT"}}"#),
        ),
    ]);
    let run = project.run(&["run"]);
    run.expect_code(0);
    let output = jet.read_all("OUT");
    assert_eq!(output.len(), 20, "{}", run.stderr);
    assert_eq!(output[0].0, b"Hello, Torvyn! (1)");
    assert!(output.iter().all(|(_, id)| id.is_none()));
    let json = project.run(&["run", "--format", "json"]);
    json.expect_code(0);
    assert!(json.stdout.contains("\"published\":20"), "{}", json.stdout);
}

#[test]
fn an_unreachable_server_fails_the_flow_with_a_hint() {
    // A port nothing listens on: no server needed.
    let url = format!("nats://127.0.0.1:{}", torvyn_e2e::registry::free_port());
    let project = Project::with_manifest(&manifest(&url));
    let run = project.run(&["run"]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    run.expect_error("E0410");
    for needle in [
        "cannot connect to NATS at nats://127.0.0.1:",
        "nats-server -js",
        "could not reach",
    ] {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?} in\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_missing_stream_is_named_with_the_command_that_creates_it() {
    if !nats_server_installed("the error for a stream that does not exist") {
        return;
    }
    let server = NatsServer::start();
    let project = Project::with_manifest(&manifest(&server.url()));
    let run = project.run(&["run"]);
    run.expect_error("E0410");
    assert!(
        run.stderr.contains("cannot open JetStream stream `IN`")
            && run.stderr.contains("nats stream add IN"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_nats_settings_are_e0702() {
    let cases = [
        (
            "builtin:nats-source",
            SOURCE,
            r#"{"stream": "IN"}"#,
            "`durable` is required",
        ),
        (
            "builtin:nats-source",
            SOURCE,
            r#"{"stream": "IN", "durable": "d", "url": "http://x:y"}"#,
            "not a NATS server address",
        ),
        (
            "builtin:nats-source",
            SOURCE,
            r#"{"stream": "IN", "durable": "d", "ack_wait": "soon"}"#,
            "`ack_wait`",
        ),
        (
            "builtin:nats-sink",
            SINK,
            r#"{"subject": "out.>"}"#,
            "no wildcards",
        ),
    ];
    for (reference, interface, config, needle) in cases {
        let nodes: Vec<(&str, &str, &str, &str)> = if interface == SOURCE {
            vec![
                ("a", reference, interface, config),
                ("sink", "builtin:stdout-sink", SINK, ""),
            ]
        } else {
            vec![
                ("source", "builtin:test-source", SOURCE, ""),
                ("a", reference, interface, config),
            ]
        };
        let run = Project::linear(&nodes).run(&["run"]);
        run.expect_code(2).expect_error("E0702");
        assert!(
            run.stderr.contains(needle),
            "{config}: {needle:?} in\n{}",
            run.stderr
        );
    }
}
