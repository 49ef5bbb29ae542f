use crate::common::*;
use std::collections::BTreeSet;

/// Flows are spread over the fixed pool of worker arbiters (least-loaded),
/// never one thread per flow.
#[test]
fn flows_spread_over_the_worker_arbiters() {
    let host = host(3);
    assert_eq!(host.worker_threads(), 3);
    let ids: Vec<_> = (0..7)
        .map(|i| {
            host.start_flow(spec(&format!("idle{i}"), source_pass_sink(10)).suspended())
                .expect("starts")
        })
        .collect();
    assert_eq!(host.arbiter_loads().expect("loads"), vec![3, 2, 2]);
    let arbiters: BTreeSet<usize> = ids
        .iter()
        .map(|id| host.inspect(*id).expect("inspect").arbiter)
        .collect();
    assert_eq!(arbiters, BTreeSet::from([0, 1, 2]));
    for id in &ids {
        host.resume(*id).expect("resumes");
    }
    for id in ids {
        assert_eq!(
            host.await_completion(id)
                .expect("completes")
                .elements_delivered,
            10
        );
    }
    assert_eq!(host.arbiter_loads().expect("loads"), vec![0, 0, 0]);
    host.shutdown();
}
