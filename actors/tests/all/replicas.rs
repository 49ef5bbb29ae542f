//! Replicated flows (`replicas = N`): N copies on N worker arbiters, each
//! source told its partition, one report with a per-replica breakdown, and
//! one supervision policy (a replica failing past its intensity fails the
//! flow and cancels the others, nothing leaked).

use crate::common::*;
use std::collections::BTreeSet;
use torvyn_actors::observability::FlowMetrics;
use torvyn_actors::{FlowId, FlowSpec, FlowState, HostError, TorvynHandle};
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::StageRole;

/// partition-source (granted flow-metadata, `source_config`) → quiet-sink,
/// `replicas` copies.
fn replicated(name: &str, source_config: &str, replicas: u32) -> FlowSpec {
    let mut source = stage(
        "source",
        "partition-source",
        StageRole::Source,
        source_config,
    );
    source.sandbox.flow_metadata = true;
    let mut spec = spec(
        name,
        vec![source, stage("sink", "quiet-sink", StageRole::Sink, "")],
    );
    spec.settings.replicas = replicas;
    spec
}

/// The replicas of `parent` as the host lists them: (id, index).
fn replicas_of(host: &TorvynHandle, parent: FlowId) -> Vec<(FlowId, u32)> {
    let mut replicas: Vec<(FlowId, u32)> = host
        .metrics()
        .expect("metrics")
        .iter()
        .filter_map(|f| {
            f.replica
                .filter(|r| r.parent == parent)
                .map(|r| (f.id, r.index))
        })
        .collect();
    replicas.sort_by_key(|r| r.1);
    replicas
}

#[test]
fn replicas_run_on_different_arbiters_and_report_once() {
    let host = host(2);
    let id = host
        .start_flow(replicated("wide", r#"{"count": 100}"#, 2).suspended())
        .expect("starts");
    assert_eq!(host.arbiter_loads().expect("loads"), vec![1, 1]);
    let replicas = replicas_of(&host, id);
    assert_eq!(replicas.iter().map(|r| r.1).collect::<Vec<_>>(), [0, 1]);
    let arbiters: BTreeSet<usize> = replicas
        .iter()
        .map(|(r, _)| host.inspect(*r).expect("inspect").arbiter)
        .collect();
    assert_eq!(arbiters.len(), 2, "one replica per arbiter");
    wait_until(&host, id, "suspended", |i| i.state == FlowState::Suspended);
    host.resume(id).expect("resumes");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, 100);
    assert_eq!(report.elements_pulled, 100);
    assert_eq!(report.leaked_buffers, 0);
    let per_replica: Vec<(u32, u64)> = report
        .replicas
        .iter()
        .map(|r| (r.index, r.elements_delivered))
        .collect();
    assert_eq!(per_replica, [(0, 50), (1, 50)]);
    assert_eq!(report.replicas[0].flow_id, replicas[0].0.to_string());
    // The stage counters are the replicas' totals.
    assert_eq!(report.stages[1].invocations, 100);
    let inspection = host.inspect(id).expect("inspect after the end");
    assert_eq!(inspection.state, FlowState::Completed);
    assert_eq!(inspection.counters.elements_delivered, 100);
    assert_eq!(host.arbiter_loads().expect("loads"), vec![0, 0]);
    // `/metrics`: each replica's series carry its `replica` label.
    let text = host.prometheus_metrics().expect("metrics");
    for (replica, index) in &replicas {
        let series = format!(
            "torvyn_flow_elements_total{{flow=\"wide\",flow_id=\"{replica}\",replica=\"{index}\"}}"
        );
        assert_eq!(metric_value(&text, &series), Some(50.0), "{series}\n{text}");
    }
    host.shutdown();
}

#[test]
fn a_limit_is_shared_between_the_replicas() {
    let host = host(2);
    let mut spec = replicated("limited", r#"{"count": 0}"#, 2);
    spec.settings.element_limit = Some(7);
    let id = host.start_flow(spec).expect("starts");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, 7);
    let shares: Vec<u64> = report.replicas.iter().map(|r| r.elements_pulled).collect();
    assert_eq!(shares, [4, 3]);
    host.shutdown();
}

#[test]
fn a_failing_replica_fails_the_flow_and_cancels_the_others() {
    let host = host(2);
    // Replica 0 never ends on its own; replica 1 traps after 5 elements,
    // on every restart, until it is past the flow's restart intensity.
    let id = host
        .start_flow(replicated(
            "doomed",
            r#"{"count": 0, "fail_index": 1, "fail_after": 5}"#,
            2,
        ))
        .expect("starts");
    let error = host.await_completion(id).expect_err("the flow fails");
    let HostError::Flow {
        diagnostic, report, ..
    } = &error
    else {
        panic!("a flow failure: {error:?}");
    };
    // The failing replica's own failure (not the others' cancellation),
    // naming that replica.
    assert_eq!(diagnostic.code, ErrorCode::FatalComponentError, "{error}");
    assert!(
        diagnostic.message.contains("restart intensity exceeded"),
        "{error}"
    );
    let failing = replicas_of(&host, id)[1].0;
    assert!(
        error.to_string().starts_with(&format!("{failing} ")),
        "{error}"
    );
    let report = report.as_deref().expect("a report");
    assert_eq!(report.replicas.len(), 2);
    assert!(report.replicas[1].restarts > 0, "{report:?}");
    assert_eq!(report.leaked_buffers, 0);
    // Every replica ended; none runs on.
    for (replica, _) in replicas_of(&host, id) {
        assert_eq!(
            host.inspect(replica).expect("inspect").state,
            FlowState::Failed
        );
    }
    assert_eq!(host.arbiter_loads().expect("loads"), vec![0, 0]);
    let stats = host.resource_stats().expect("stats");
    assert!(stats.leaking_flows.is_empty(), "{:?}", stats.leaking_flows);
    host.shutdown();
}

#[test]
fn pause_resume_and_cancel_apply_to_every_replica() {
    let host = host(2);
    let id = host
        .start_flow(replicated("endless", r#"{"count": 0}"#, 2))
        .expect("starts");
    let replicas = replicas_of(&host, id);
    for (replica, _) in &replicas {
        wait_delivered(&host, *replica, 10);
    }
    assert_eq!(host.pause(id).expect("pauses"), FlowState::Suspended);
    for (replica, _) in &replicas {
        assert_eq!(
            host.inspect(*replica).expect("inspect").state,
            FlowState::Suspended
        );
    }
    assert_eq!(
        host.inspect(id).expect("inspect").state,
        FlowState::Suspended
    );
    // The counters snapshot of the parent: its replicas' added up.
    let metrics = host.metrics().expect("metrics");
    let totals = FlowMetrics::of(&metrics, id).expect("the parent's counters");
    let by_replica: u64 = replicas
        .iter()
        .filter_map(|(r, _)| FlowMetrics::of(&metrics, *r))
        .map(|m| m.counters.elements_delivered)
        .sum();
    assert_eq!(totals.counters.elements_delivered, by_replica);
    assert!(by_replica > 0);
    assert_eq!(host.resume(id).expect("resumes"), FlowState::Running);
    host.cancel(id).expect("cancels");
    let error = host.await_completion(id).expect_err("cancelled");
    assert_eq!(error.code(), ErrorCode::FlowCancelled, "{error}");
    for (replica, _) in &replicas {
        assert_eq!(
            host.inspect(*replica).expect("inspect").state,
            FlowState::Failed
        );
    }
    assert_eq!(host.arbiter_loads().expect("loads"), vec![0, 0]);
    host.shutdown();
}

/// The inspection API: `/flows` lists each replica with the flow it
/// belongs to; `/flows/{parent}` is the replicated flow's own view;
/// `/metrics` passes `promtool` with the `replica` labels; pausing the
/// parent over the API pauses every replica.
#[test]
fn the_inspection_api_shows_the_replicas_with_their_parent() {
    use torvyn_actors::{InspectionAddress, InspectionConfig, InspectionServer};
    use torvyn_e2e::http::{http, promtool_check_metrics, Target};
    let host = host(2);
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("torvyn.sock");
    let _server = InspectionServer::start(
        host.clone(),
        InspectionConfig {
            address: InspectionAddress::Unix(socket.clone()),
            prometheus: true,
        },
    )
    .expect("server starts");
    let target = Target::Unix(&socket);
    let id = host
        .start_flow(replicated("listed", r#"{"count": 0}"#, 2))
        .expect("starts");
    let replicas = replicas_of(&host, id);
    for (replica, _) in &replicas {
        wait_delivered(&host, *replica, 10);
    }

    let flows = http(target, "GET", "/flows", &[], "").json();
    let listed: Vec<(String, u64)> = flows
        .as_array()
        .expect("array")
        .iter()
        .filter(|f| f["replica"]["of"] == id.to_string())
        .map(|f| {
            assert_eq!(f["name"], "listed");
            assert_eq!(f["replica"]["count"], 2);
            (
                f["id"].as_str().unwrap_or_default().to_string(),
                f["replica"]["index"].as_u64().unwrap_or(9),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = replicas
        .iter()
        .map(|(r, i)| (r.to_string(), u64::from(*i)))
        .collect();
    assert_eq!(listed, expected, "{flows}");

    let paused = http(target, "POST", &format!("/flows/{id}/pause"), &[], "");
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(paused.json()["state"], "Suspended");
    let one = http(target, "GET", &format!("/flows/{}", id.get()), &[], "");
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["state"], "Suspended");

    let metrics = http(target, "GET", "/metrics", &[], "");
    assert_eq!(metrics.status, 200);
    promtool_check_metrics(&metrics.body);
    assert!(
        metrics
            .body
            .contains(&format!("flow_id=\"{}\",replica=\"1\"", replicas[1].0)),
        "{}",
        metrics.body
    );
    host.cancel(id).expect("cancels");
    host.shutdown();
}

/// A replicated flow whose replicas do not all fit the host's buffer
/// budget does not start at all: the refusal comes back and what the
/// others reserved is given back.
#[test]
fn replicas_beyond_the_buffer_budget_start_none() {
    let spec = replicated("too-wide", r#"{"count": 10}"#, 3);
    let one = spec.settings.limits.component_budget * spec.stage_count() as u64;
    let host = torvyn_actors::TorvynHost::builder()
        .engine(engine().clone())
        .worker_threads(2)
        .buffer_budget(2 * one)
        .build()
        .expect("host starts");
    let error = host.start_flow(spec).expect_err("refused");
    assert!(matches!(error, HostError::Flow { .. }), "{error:?}");
    let stats = host.resource_stats().expect("stats");
    assert_eq!(stats.refused, 1);
    assert_eq!(stats.reserved_bytes, 0);
    assert_eq!(stats.active_flows, 0);
    assert_eq!(stats.flows_torn_down, 2);
    assert_eq!(host.arbiter_loads().expect("loads"), vec![0, 0]);
    // Within the budget, the same host runs them.
    let id = host
        .start_flow(replicated("fits", r#"{"count": 10}"#, 2))
        .expect("starts");
    assert_eq!(
        host.await_completion(id)
            .expect("completes")
            .elements_delivered,
        10
    );
    host.shutdown();
}
