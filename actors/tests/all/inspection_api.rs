//! The inspection API over a real host running real components: metrics
//! that move and pass `promtool`, JSON views, control endpoints, the TCP
//! token, error answers, and switching the observability level live.

use crate::common::*;
use std::path::PathBuf;
use torvyn_actors::{FlowId, FlowState, InspectionAddress, InspectionConfig, InspectionServer};
use torvyn_e2e::http::{http, promtool_check_metrics, Target};
use torvyn_runtime::config::ObservabilityLevel;

fn unix_server(
    host: &torvyn_actors::TorvynHandle,
) -> (tempfile::TempDir, PathBuf, InspectionServer) {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("state").join("torvyn.sock");
    let server = InspectionServer::start(
        host.clone(),
        InspectionConfig {
            address: InspectionAddress::Unix(socket.clone()),
            prometheus: true,
        },
    )
    .expect("server starts");
    (dir, socket, server)
}

/// The value of the first sample line starting with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

fn elements_series(id: FlowId) -> String {
    format!(r#"torvyn_flow_elements_total{{flow="scraped",flow_id="{id}"}}"#)
}

#[test]
fn metrics_of_a_running_flow_move_between_scrapes_and_pass_promtool() {
    let host = host(1);
    let (_dir, socket, server) = unix_server(&host);
    let id = host
        .start_flow(spec("scraped", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 100);

    let first = http(Target::Unix(&socket), "GET", "/metrics", &[], "");
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")));
    promtool_check_metrics(&first.body);
    let before = sample(&first.body, &elements_series(id)).expect("flow series");
    assert!(before >= 100.0, "{before}");
    for series in [
        format!(
            r#"torvyn_component_invocations_total{{component_id="pass",flow="scraped",flow_id="{id}"}}"#
        ),
        format!(r#"torvyn_flow_state{{flow="scraped",flow_id="{id}",state="running"}} 1"#),
        r#"torvyn_pool_capacity{tier="small"}"#.to_string(),
        "torvyn_system_flows_active 1".to_string(),
    ] {
        assert!(first.body.contains(&series), "missing {series}");
    }
    assert!(first.body.contains("torvyn_stream_queue_depth{"));

    wait_until(&host, id, "more deliveries", |i| {
        i.counters.elements_delivered as f64 > before + 100.0
    });
    let second = http(Target::Unix(&socket), "GET", "/metrics", &[], "");
    promtool_check_metrics(&second.body);
    let after = sample(&second.body, &elements_series(id)).expect("flow series");
    assert!(after > before, "counter did not move: {before} → {after}");

    host.cancel(id).expect("cancels");
    server.stop();
    assert!(!socket.exists(), "the socket file is removed at stop");
    host.shutdown();
}

#[test]
fn json_views_and_control_endpoints_follow_the_handle_api() {
    let host = host(1);
    let (_dir, socket, server) = unix_server(&host);
    let target = Target::Unix(&socket);
    let id = host
        .start_flow(spec("controlled", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 50);

    let flows = http(target, "GET", "/flows", &[], "").json();
    let listed = flows
        .as_array()
        .expect("array")
        .iter()
        .find(|f| f["id"] == id.to_string())
        .expect("the flow is listed");
    assert_eq!(listed["name"], "controlled");

    let path = format!("/flows/{id}/pause");
    let paused = http(target, "POST", &path, &[], "");
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(paused.json()["state"], "Suspended");
    assert_eq!(
        host.inspect(id).expect("inspect").state,
        FlowState::Suspended
    );

    let one = http(target, "GET", &format!("/flows/{}", id.get()), &[], "");
    assert_eq!(one.status, 200);
    let one = one.json();
    assert_eq!(one["state"], "Suspended");
    let streams = one["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), 2, "{one}");
    for stream in streams {
        assert!(stream["depth"].is_u64(), "{stream}");
        assert!(stream["backpressure_active"].is_boolean(), "{stream}");
    }
    assert!(
        one["counters"]["elements_delivered"]
            .as_u64()
            .expect("count")
            >= 50
    );

    let resumed = http(target, "POST", &format!("/flows/{id}/resume"), &[], "");
    assert_eq!(resumed.json()["state"], "Running");
    let cancelled = http(target, "POST", &format!("/flows/{id}/cancel"), &[], "");
    assert_eq!(cancelled.json()["state"], "Failed");
    assert!(host.await_completion(id).is_err(), "cancelled flows fail");

    // Errors: coded JSON with a matching status.
    let unknown = http(target, "GET", "/flows/flow-999", &[], "");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "E0702");
    let unknown = http(target, "POST", "/flows/flow-999/pause", &[], "");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "E0702");
    let bad_id = http(target, "GET", "/flows/not-a-flow", &[], "");
    assert_eq!(bad_id.status, 404);
    let bad_action = http(target, "POST", &format!("/flows/{id}/explode"), &[], "");
    assert_eq!(bad_action.status, 404);
    let no_route = http(target, "GET", "/nothing", &[], "");
    assert_eq!(no_route.status, 404);
    assert!(no_route.json()["error"]["message"].is_string());
    let wrong_method = http(target, "DELETE", "/flows", &[], "");
    assert_eq!(wrong_method.status, 405);

    server.stop();
    host.shutdown();
}

#[test]
fn the_level_switches_live_through_the_api_without_restarting_flows() {
    let host = host(1);
    let (_dir, socket, server) = unix_server(&host);
    let target = Target::Unix(&socket);
    assert_eq!(
        http(target, "GET", "/level", &[], "").json()["level"],
        "production"
    );
    let id = host
        .start_flow(spec("levels", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 50);

    // Off: the flow keeps running, but stops publishing its counters.
    let off = http(target, "PUT", "/level", &[], r#"{"level": "off"}"#);
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.json()["previous"], "production");
    assert_eq!(host.observability_level(), ObservabilityLevel::Off);
    // Let a batch that started before the switch publish, then freeze.
    let batches_after =
        |host: &torvyn_actors::TorvynHandle| host.inspect(id).expect("inspect").counters.batches;
    let progress = |host: &torvyn_actors::TorvynHandle| {
        host.inspect(id)
            .expect("inspect")
            .report
            .expect("report")
            .elements_delivered
    };
    let frozen = batches_after(&host);
    let delivered = progress(&host);
    wait_until(&host, id, "progress while off", |i| {
        i.report
            .as_ref()
            .is_some_and(|r| r.elements_delivered > delivered + 1000)
    });
    assert_eq!(batches_after(&host), frozen, "no counters published at off");
    let metrics = http(target, "GET", "/metrics", &[], "").body;
    assert!(metrics.contains(r#"torvyn_observability_level{level="off"} 1"#));

    // Diagnostic (bare name body): counters flow again, same flow.
    let diag = http(target, "POST", "/level", &[], "diagnostic");
    assert_eq!(diag.json()["level"], "diagnostic");
    wait_until(&host, id, "counters again", |i| i.counters.batches > frozen);
    assert_eq!(host.inspect(id).expect("inspect").state, FlowState::Running);

    let bad = http(target, "PUT", "/level", &[], r#"{"level": "verbose"}"#);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "E0700");
    assert_eq!(
        host.set_observability_level(ObservabilityLevel::Production),
        ObservabilityLevel::Diagnostic
    );

    host.cancel(id).expect("cancels");
    server.stop();
    host.shutdown();
}

#[test]
fn tcp_inspection_requires_the_bearer_token() {
    let host = host(1);
    let server = InspectionServer::start(
        host.clone(),
        InspectionConfig {
            address: InspectionAddress::parse("127.0.0.1:0", "s3cret").expect("address"),
            prometheus: true,
        },
    )
    .expect("server starts");
    let InspectionAddress::Tcp { addr, .. } = server.address() else {
        panic!("not TCP: {}", server.address());
    };
    assert_ne!(addr.port(), 0, "the bound port is reported");
    let addr = addr.to_string();
    let target = Target::Tcp(&addr);

    let anonymous = http(target, "GET", "/flows", &[], "");
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["error"]["code"], "E0500");
    let wrong = http(
        target,
        "GET",
        "/metrics",
        &["Authorization: Bearer nope"],
        "",
    );
    assert_eq!(wrong.status, 401);
    let right = http(
        target,
        "GET",
        "/metrics",
        &["Authorization: Bearer s3cret"],
        "",
    );
    assert_eq!(right.status, 200, "{}", right.body);
    promtool_check_metrics(&right.body);

    server.stop();
    host.shutdown();
}

/// Sends `bytes` raw on a new connection and reads whatever comes back
/// (a reply or a closed connection) within a few seconds.
fn raw_exchange(socket: &std::path::Path, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    // The server may close before reading everything: not a failure.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

/// Hostile input never takes the API (or the host) down: idle
/// connections, bytes that are not HTTP, an oversized body, a huge path
/// and header flood each get an error or a closed connection, and a
/// well-formed request still gets its answer afterwards, with the flow
/// still running.
#[test]
fn hostile_requests_leave_the_api_and_the_flows_serving() {
    let host = host(1);
    let (_dir, socket, server) = unix_server(&host);
    let id = host
        .start_flow(spec("hostile", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 10);
    // Connections that never send a byte.
    let idle: Vec<_> = (0..32)
        .map(|_| std::os::unix::net::UnixStream::connect(&socket).expect("connect"))
        .collect();
    let status_of = |reply: &[u8]| {
        String::from_utf8_lossy(reply)
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
    };
    // Not HTTP at all.
    let reply = raw_exchange(&socket, b"\x00\xff\xfeNOT HTTP AT ALL\r\n\r\n");
    assert!(
        reply.is_empty() || status_of(&reply).is_some_and(|s| s >= 400),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    // A 32 MiB body on PUT /level: read up to the limit, refused.
    let big = vec![b'a'; 32 << 20];
    let mut request = format!(
        "PUT /level HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        big.len()
    )
    .into_bytes();
    request.extend_from_slice(&big);
    let reply = raw_exchange(&socket, &request);
    assert!(
        reply.is_empty() || status_of(&reply).is_some_and(|s| s == 400 || s == 413),
        "{}",
        String::from_utf8_lossy(&reply[..reply.len().min(200)])
    );
    // A 1 MiB path and a flood of headers.
    let path = format!("/flows/{}", "9".repeat(1 << 20));
    let reply = raw_exchange(
        &socket,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert!(
        reply.is_empty() || status_of(&reply).is_some_and(|s| s >= 400),
        "{}",
        String::from_utf8_lossy(&reply[..reply.len().min(200)])
    );
    let headers: String = (0..10_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let reply = raw_exchange(
        &socket,
        format!("GET /flows HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n").as_bytes(),
    );
    assert!(
        reply.is_empty() || status_of(&reply).is_some(),
        "{}",
        String::from_utf8_lossy(&reply[..reply.len().min(200)])
    );
    // An unknown flow id that overflows u64, and a bad level.
    let reply = http(
        Target::Unix(&socket),
        "GET",
        "/flows/flow-99999999999999999999999",
        &[],
        "",
    );
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = http(
        Target::Unix(&socket),
        "PUT",
        "/level",
        &[],
        "{\"level\": [1, 2]}",
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    // Still serving, with the idle connections still open.
    let flows = http(Target::Unix(&socket), "GET", "/flows", &[], "");
    assert_eq!(flows.status, 200, "{}", flows.body);
    let before = host
        .inspect(id)
        .expect("inspect")
        .counters
        .elements_delivered;
    wait_delivered(&host, id, before + 10);
    drop(idle);
    server.stop();
    host.shutdown();
}
