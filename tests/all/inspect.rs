//! `torvyn run --inspect`: the inspection API of a real run, scraped and
//! controlled over its Unix socket while an endless flow runs.

use crate::harness::{command, component, Project, PROCESSOR, SINK, SOURCE};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use torvyn_e2e::http::{http, promtool_check_metrics, HttpReply, Target};

/// Kills the run if the test fails before it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn endless_project() -> Project {
    let source = component("counter-source");
    let pass = component("passthrough");
    let sink = component("quiet-sink");
    Project::linear(&[
        (
            "source",
            &source,
            SOURCE,
            r#"{"count": 0, "payload_size": 16}"#,
        ),
        ("pass", &pass, PROCESSOR, ""),
        ("sink", &sink, SINK, ""),
    ])
}

/// Polls `get` until `ready` holds (panics after 120 s: the first run may
/// compile the components).
fn poll(
    what: &str,
    mut get: impl FnMut() -> Option<HttpReply>,
    ready: impl Fn(&HttpReply) -> bool,
) -> HttpReply {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(reply) = get() {
            if ready(&reply) {
                return reply;
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn get(socket: &Path, path: &str) -> Option<HttpReply> {
    std::os::unix::net::UnixStream::connect(socket).ok()?;
    Some(http(Target::Unix(socket), "GET", path, &[], ""))
}

fn delivered(flows: &HttpReply) -> u64 {
    flows.json()[0]["counters"]["elements_delivered"]
        .as_u64()
        .unwrap_or(0)
}

fn elements_total(metrics: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with("torvyn_flow_elements_total{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no torvyn_flow_elements_total in\n{metrics}"))
}

#[test]
fn run_serves_metrics_that_move_and_obeys_control_endpoints() {
    let project = endless_project();
    let state = tempfile::tempdir().expect("state dir");
    let socket = state.path().join("torvyn.sock");
    let child = command(project.path(), &["run", "--inspect"])
        .env("TORVYN_STATE_DIR", state.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("torvyn starts");
    let mut run = Running(child);

    let flows = poll(
        "the flow to deliver",
        || get(&socket, "/flows"),
        |r| r.status == 200 && delivered(r) > 0,
    );
    let id = flows.json()[0]["id"].as_str().expect("id").to_string();
    assert_eq!(flows.json()[0]["name"], "main");

    let first = get(&socket, "/metrics").expect("metrics");
    assert_eq!(first.status, 200);
    promtool_check_metrics(&first.body);
    let before = elements_total(&first.body);
    poll(
        "more deliveries",
        || get(&socket, "/flows"),
        |r| delivered(r) as f64 > before + 100.0,
    );
    let second = get(&socket, "/metrics").expect("metrics");
    promtool_check_metrics(&second.body);
    let after = elements_total(&second.body);
    assert!(
        after > before,
        "the counter did not move: {before} → {after}"
    );

    let paused = http(
        Target::Unix(&socket),
        "POST",
        &format!("/flows/{id}/pause"),
        &[],
        "",
    );
    assert_eq!(paused.status, 200, "{}", paused.body);
    let inspected = get(&socket, &format!("/flows/{id}")).expect("flow").json();
    assert_eq!(inspected["state"], "Suspended");
    assert_eq!(inspected["streams"].as_array().map(Vec::len), Some(2));

    let missing = get(&socket, "/flows/flow-4242").expect("reply");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "E0702");

    // Drain ends the run cleanly: exit 0, socket removed.
    let drained = http(
        Target::Unix(&socket),
        "POST",
        &format!("/flows/{id}/drain"),
        &[],
        "",
    );
    assert_eq!(drained.status, 200, "{}", drained.body);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = run.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the drained run did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut err) = run.0.stderr.take() {
        use std::io::Read;
        let _ = err.read_to_string(&mut stderr);
    }
    assert!(status.success(), "exit {status}\n{stderr}");
    assert!(stderr.contains("Inspection API:"), "{stderr}");
    assert!(!socket.exists(), "the socket is removed when the run ends");
}

#[test]
fn run_refuses_a_tcp_inspection_address_that_is_not_loopback() {
    let project = endless_project();
    let run = project.run(&[
        "run",
        "--inspect",
        "--config",
        "observability.inspection_address=0.0.0.0:9464",
        "--config",
        "observability.inspection_token=t",
    ]);
    run.expect_code(2).expect_error("E0702");
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
}

fn spawn(project: &Project, args: &[&str], state: &Path) -> Running {
    Running(
        command(project.path(), args)
            .env("TORVYN_STATE_DIR", state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("torvyn starts"),
    )
}

/// Waits until the flow behind `socket` delivers, then checks its
/// /metrics with promtool; the metrics text.
fn serves_live_metrics(socket: &Path) -> String {
    poll(
        &format!("a flow delivering behind {}", socket.display()),
        || get(socket, "/flows"),
        |r| r.status == 200 && delivered(r) > 0,
    );
    let metrics = get(socket, "/metrics").expect("metrics");
    assert_eq!(metrics.status, 200);
    promtool_check_metrics(&metrics.body);
    assert!(elements_total(&metrics.body) > 0.0);
    metrics.body
}

#[test]
fn serve_and_run_serve_metrics_by_default_on_distinct_sockets() {
    let project = endless_project();
    let state = tempfile::tempdir().expect("state dir");
    let socket = state.path().join("torvyn.sock");
    // `torvyn serve` with no inspection option: /metrics at the default.
    // Its source reads the wall clock it was not granted: the sandbox's
    // denials are in the catalog.
    let reader = Project::with_manifest(&format!(
        "{}\n[security]\naudit_target = \"event-sink\"\n",
        crate::capabilities::clock_reading_manifest(r#"{"repeat": 0, "clock_reads": 1}"#)
    ));
    let mut serve = spawn(&reader, &["serve"], state.path());
    let metrics = serves_live_metrics(&socket);
    let denials = metrics
        .lines()
        .find(|l| {
            l.starts_with("torvyn_capability_denials_total{")
                && l.contains(r#"capability="wasi:clocks/wall-clock""#)
                && l.contains(r#"component_id="source""#)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no wall-clock denials in\n{metrics}"));
    assert!(denials > 0.0);
    // The event-sink audit target is readable: the denials are there.
    let audit = get(&socket, "/audit").expect("audit").json();
    let events = audit["events"].as_array().cloned().unwrap_or_default();
    assert!(
        events.iter().any(|e| e["event"] == "denial"
            && e["component"] == "source"
            && e["capability"] == "wasi:clocks/wall-clock"),
        "{audit}"
    );
    assert!(!reader.path().join(".torvyn").join("audit.log").exists());
    // A second host at the same time gets its own socket beside it.
    let run = spawn(&project, &["run"], state.path());
    let own = state.path().join(format!("torvyn-{}.sock", run.0.id()));
    serves_live_metrics(&own);
    // The first is still served by the first host.
    assert_eq!(get(&socket, "/flows").expect("flows").status, 200);
    // A killed host leaves its socket behind; the next host replaces it.
    serve.0.kill().expect("SIGKILL");
    serve.0.wait().expect("reaped");
    assert!(socket.exists(), "a killed host cannot remove its socket");
    let _next = spawn(&project, &["run"], state.path());
    serves_live_metrics(&socket);
}

/// A long-running flow whose source reads a file under its grant: the
/// sandbox counts each open as an exercise of `wasi:filesystem/read`, and
/// `/metrics` (served by default) shows it for that component.
#[test]
fn reading_a_granted_file_shows_in_the_capability_metrics() {
    let project = crate::capabilities::granted_fs_project("input/a.txt", r#""repeat": 0"#);
    let state = tempfile::tempdir().expect("state dir");
    let _run = spawn(&project, &["run"], state.path());
    let metrics = serves_live_metrics(&state.path().join("torvyn.sock"));
    let exercises = metrics
        .lines()
        .find(|l| {
            l.starts_with("torvyn_capability_exercises_total{")
                && l.contains(r#"capability="wasi:filesystem/read""#)
                && l.contains(r#"component_id="source""#)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no filesystem exercises in\n{metrics}"));
    assert!(exercises > 0.0);
}

/// A component granted `torvyn:observability/custom-metrics` emits a
/// counter, a gauge and a histogram: `/metrics` shows them with its
/// `component_id`, and promtool accepts the page.
#[test]
fn custom_metrics_of_a_granted_component_are_served() {
    let grants = "\n[capabilities.optional]\ntorvyn-custom-metrics = true\ntorvyn-flow-metadata = true\n[security.grants.pass]\ncapabilities = [\"torvyn:observability/custom-metrics\"]\n";
    let project = Project::with_manifest(&crate::capabilities::metrics_emitter_manifest(
        r#"{"count": 0, "payload_size": 16}"#,
        grants,
    ));
    let state = tempfile::tempdir().expect("state dir");
    let socket = state.path().join("torvyn.sock");
    let _run = spawn(&project, &["run"], state.path());
    let metrics = poll(
        "custom metrics",
        || get(&socket, "/metrics"),
        |r| r.status == 200 && r.body.contains("torvyn_custom_elements_total{"),
    );
    promtool_check_metrics(&metrics.body);
    for series in [
        r#"torvyn_custom_elements_total{component_id="pass",parity="even"}"#,
        r#"torvyn_custom_last_sequence{component_id="pass"}"#,
        r#"torvyn_custom_payload_bytes_bucket{component_id="pass",le="+Inf"}"#,
        r#"torvyn_custom_payload_bytes_count{component_id="pass"}"#,
    ] {
        assert!(
            metrics.body.contains(series),
            "no {series} in\n{}",
            metrics.body
        );
    }
}
