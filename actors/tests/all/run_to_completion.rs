use crate::common::*;
use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::reactor::{FlowSettings, LinearFlow};

/// A flow run through the handle delivers exactly what the bare stage loop
/// delivers, with the same copy ledger and per-stage invocation counts.
#[test]
fn a_flow_through_the_handle_matches_the_stage_loop() {
    let host = host(2);
    let id = host
        .start_flow(spec("e2e", source_pass_sink(1000)))
        .expect("starts");
    let actor_report = host.await_completion(id).expect("completes");

    let engine: &WasmEngine = engine();
    let settings = FlowSettings {
        flow_name: "e2e".into(),
        ..FlowSettings::default()
    };
    let bare = LinearFlow::start(engine, source_pass_sink(1000), settings)
        .expect("starts")
        .run_to_completion()
        .expect("completes");

    assert_eq!(actor_report.elements_pulled, 1000);
    assert_eq!(actor_report.elements_delivered, 1000);
    assert_eq!(actor_report.elements_dropped, 0);
    assert_eq!(actor_report.live_buffers, 0);
    assert_eq!(actor_report.elements_pulled, bare.elements_pulled);
    assert_eq!(actor_report.elements_delivered, bare.elements_delivered);
    assert_eq!(actor_report.errors, bare.errors);
    assert_eq!(actor_report.payload_copies, bare.payload_copies);
    assert_eq!(actor_report.all_copies, bare.all_copies);
    assert_eq!(actor_report.payload_copies.operations, 4000);
    let invocations = |r: &torvyn_runtime::reactor::FlowReport| -> Vec<u64> {
        r.stages.iter().map(|s| s.invocations).collect()
    };
    assert_eq!(invocations(&actor_report), invocations(&bare));

    let stats = host.resource_stats().expect("stats");
    assert_eq!(stats.flows_torn_down, 1);
    assert!(stats.leaking_flows.is_empty());
    host.shutdown();
}

/// Flows allocate from the host's shared pools through their per-flow
/// caches and give every buffer back at teardown: afterwards nothing is
/// outstanding, and the caches recycled buffers locally.
#[test]
fn flows_borrow_from_the_shared_pools_and_return_everything() {
    let host = host(2);
    let ids: Vec<_> = (0..4)
        .map(|i| {
            host.start_flow(spec(&format!("pooled-{i}"), source_pass_sink(500)))
                .expect("starts")
        })
        .collect();
    for id in ids {
        let report = host.await_completion(id).expect("completes");
        assert_eq!(report.elements_delivered, 500);
        assert_eq!(report.pool_buffers_held, 0, "teardown gave everything back");
    }
    let stats = host.resource_stats().expect("stats");
    assert!(stats.leaking_flows.is_empty());
    assert_eq!(stats.pool_buffers_outstanding(), 0);
    let small = stats.pools[0];
    assert!(small.handed_out > 0, "the flows used the shared pool");
    assert_eq!(small.handed_out, small.taken_back);
    assert_eq!(small.available, small.created, "every buffer is home");
    // Two allocations per element (source and pass-through), 4,000 in all;
    // the caches recycle buffers, so few move to and from the shared pool.
    assert!(
        small.handed_out < 4 * 500,
        "caches recycle buffers: {} handed out for 4000 allocations",
        small.handed_out
    );
    host.shutdown();
}
