//! A long-lived host forgets old finished flows: only the most recent ones
//! keep their counters and metric series, so `/metrics` stays bounded,
//! while host-wide figures keep counting every flow.

use crate::common::*;
use std::collections::BTreeSet;
use torvyn_actors::observability::DEFAULT_FINISHED_FLOWS_RETAINED;
use torvyn_actors::{FlowId, HostError, TorvynHandle, TorvynHost};
use torvyn_e2e::http::promtool_check_metrics;

/// Every `flow_id` label value in a scrape.
fn flow_ids(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let rest = &l[l.find("flow_id=\"")? + "flow_id=\"".len()..];
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// Runs one short flow (counter-source → passthrough → quiet-sink) to
/// completion.
fn run_one(host: &TorvynHandle, name: &str) -> FlowId {
    let id = host
        .start_flow(spec(name, source_pass_sink(2)))
        .expect("starts");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, 2);
    id
}

/// More flows than the default window, one after another, scraped after
/// each: the scrape holds the series of the last 64 only (component and
/// stream series included), the oldest flow's are gone, and the host-wide
/// count of finished flows never goes back.
#[test]
fn metrics_keep_only_the_default_window_of_finished_flows() {
    let flows = DEFAULT_FINISHED_FLOWS_RETAINED + 6;
    let host = host(1);
    let mut ids = Vec::new();
    let mut finished = 0.0;
    let mut text = String::new();
    for i in 0..flows {
        ids.push(run_one(&host, &format!("f{i}")));
        text = host.prometheus_metrics().expect("scrape");
        let now =
            metric_value(&text, "torvyn_system_flows_finished_total").expect("finished total");
        assert!(now >= finished, "went back from {finished} to {now}");
        finished = now;
        assert!(
            flow_ids(&text).len() <= DEFAULT_FINISHED_FLOWS_RETAINED,
            "bounded after flow {i}"
        );
    }
    promtool_check_metrics(&text);
    assert_eq!(finished, flows as f64);
    let seen = flow_ids(&text);
    assert_eq!(seen.len(), DEFAULT_FINISHED_FLOWS_RETAINED);
    let kept: BTreeSet<String> = ids[flows - DEFAULT_FINISHED_FLOWS_RETAINED..]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(seen, kept, "the newest flows remain");
    let oldest = format!("flow_id=\"{}\"", ids[0]);
    assert!(!text.contains(&oldest), "the oldest flow's series are gone");
    let newest = ids[flows - 1];
    let last = flows - 1;
    for series in [
        format!(r#"torvyn_flow_elements_total{{flow="f{last}",flow_id="{newest}"}}"#),
        format!(
            r#"torvyn_component_invocations_total{{component_id="pass",flow="f{last}",flow_id="{newest}"}}"#
        ),
        format!(
            r#"torvyn_stream_elements_transferred_total{{flow="f{last}",flow_id="{newest}",stream_id="pass-to-sink"}}"#
        ),
    ] {
        assert!(
            metric_value(&text, &series).is_some(),
            "{series} in\n{text}"
        );
    }
    assert_eq!(
        host.metrics().expect("metrics").len(),
        DEFAULT_FINISHED_FLOWS_RETAINED
    );
    host.shutdown();
}

/// A host built with a window of 2: the third finished flow pushes the
/// first out of `metrics()` and `/metrics`, and the forgotten flow can no
/// longer be subscribed to, though its outcome is still known.
#[test]
fn a_configured_window_forgets_older_flows_but_not_their_outcome() {
    let host = TorvynHost::builder()
        .engine(engine().clone())
        .worker_threads(1)
        .finished_flows_retained(2)
        .build()
        .expect("host starts");
    let ids: Vec<FlowId> = (0..3).map(|i| run_one(&host, &format!("w{i}"))).collect();
    let text = host.prometheus_metrics().expect("scrape");
    let seen = flow_ids(&text);
    let kept: BTreeSet<String> = ids[1..].iter().map(ToString::to_string).collect();
    assert_eq!(seen, kept);
    assert_eq!(
        metric_value(&text, "torvyn_system_flows_finished_total"),
        Some(3.0)
    );
    let listed: Vec<FlowId> = host
        .metrics()
        .expect("metrics")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(listed, ids[1..]);
    assert!(matches!(
        host.subscribe(ids[0]),
        Err(HostError::UnknownFlow(id)) if id == ids[0]
    ));
    assert!(host.subscribe(ids[2]).is_ok(), "a retained flow replays");
    let report = host.await_completion(ids[0]).expect("outcome kept");
    assert_eq!(report.elements_delivered, 2);
    host.shutdown();
}
