use crate::common::*;
use torvyn_runtime::reactor::StageRole;

/// 1,000 concurrent flows (counter-source count 10 → quiet-sink) on one
/// host complete, sharing one engine and its compiled components.
#[test]
fn a_thousand_concurrent_flows_complete() {
    const FLOWS: usize = 1000;
    let host = host(2);
    let source = stage(
        "source",
        "counter-source",
        StageRole::Source,
        r#"{"count": 10}"#,
    );
    let sink = stage("sink", "quiet-sink", StageRole::Sink, "");
    let ids: Vec<_> = (0..FLOWS)
        .map(|i| {
            host.start_flow(spec(&format!("f{i}"), vec![source.clone(), sink.clone()]))
                .expect("starts")
        })
        .collect();
    for id in &ids {
        let report = host.await_completion(*id).expect("completes");
        assert_eq!(report.elements_delivered, 10);
        assert_eq!(report.live_buffers, 0);
    }
    let stats = host.resource_stats().expect("stats");
    assert_eq!(stats.flows_torn_down, FLOWS as u64);
    assert_eq!(stats.active_flows, 0);
    assert!(stats.leaking_flows.is_empty());
    assert_eq!(host.arbiter_loads().expect("loads"), vec![0, 0]);
    host.shutdown();
}
