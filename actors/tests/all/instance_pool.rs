use crate::common::*;
use torvyn_actors::{FlowId, FlowSpec, FlowState, HostError, TorvynHandle};
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::error::{Coded, Diagnostic, ErrorCode};
use torvyn_runtime::reactor::FlowSettings;

/// A flow past the host's instance pool (`[runtime]
/// max_component_instances`) is refused with E0300 and a hint naming the
/// setting; the flows already running carry on and complete, and the
/// slots they free take the next flow.
#[test]
fn a_flow_past_the_instance_pool_is_refused_and_the_others_complete() {
    // Two two-stage flows fill a pool of four instances.
    let engine = WasmEngine::new(EngineConfig {
        max_component_instances: 4,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let host = host_on(&engine, 2);
    let flow = |name: &str| {
        FlowSpec::new(source_sink_on(&engine, 100, "quiet-sink", "")).with_settings(FlowSettings {
            flow_name: name.into(),
            ..FlowSettings::default()
        })
    };
    let first: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| host.start_flow(flow(name).suspended()).expect("starts"))
        .collect();
    for id in &first {
        wait_until(&host, *id, "suspended", |i| i.state == FlowState::Suspended);
    }

    let refused = host.start_flow(flow("c")).expect("accepted");
    let error = host.await_completion(refused).expect_err("refused");
    let diagnostic = allocation_refusal(&error);
    assert!(
        diagnostic.help.contains("max_component_instances"),
        "{}",
        diagnostic.help
    );
    assert!(diagnostic.message.contains("= 4"), "{}", diagnostic.message);

    the_others_complete_and_a_later_flow_fits(&host, first, flow("d"));
    host.shutdown();
}

/// The diagnostic of a flow refused for lack of room (E0300).
fn allocation_refusal(error: &HostError) -> &Diagnostic {
    assert_eq!(error.code(), ErrorCode::AllocationFailed, "{error}");
    let HostError::Flow { diagnostic, .. } = error else {
        panic!("not a flow failure: {error:?}");
    };
    diagnostic
}

/// Resumes the suspended flows `ids`, sees each deliver its 100
/// elements, then sees a flow started afterwards (`next`) do the same.
fn the_others_complete_and_a_later_flow_fits(
    host: &TorvynHandle,
    ids: Vec<FlowId>,
    next: FlowSpec,
) {
    for id in &ids {
        host.resume(*id).expect("resumes");
    }
    for id in ids {
        let report = host.await_completion(id).expect("completes");
        assert_eq!(report.elements_delivered, 100);
    }
    let next = host.start_flow(next).expect("starts");
    assert_eq!(
        host.await_completion(next)
            .expect("completes")
            .elements_delivered,
        100
    );
}

/// The process's memory mappings now.
#[cfg(target_os = "linux")]
fn mappings_in_use() -> u64 {
    std::fs::read_to_string("/proc/self/maps")
        .expect("reads /proc/self/maps")
        .lines()
        .count() as u64
}

/// Without the pool each instance maps its own memory: a host close to
/// the kernel's mapping limit (a small `max_map_count` here, as
/// `vm.max_map_count` would be with thousands of flows) refuses the next
/// flow with E0300 and a hint instead of aborting, the flows already
/// running complete, and once they are gone a new flow fits again.
#[cfg(target_os = "linux")]
#[test]
fn a_flow_past_the_mapping_limit_is_refused_and_the_others_complete() {
    // Room for a few dozen instances above what the process maps now
    // (the budget keeps 4,096 mappings free for the rest of the host).
    let engine = WasmEngine::new(EngineConfig {
        max_component_instances: 0,
        max_map_count: Some(mappings_in_use() + 4096 + 300),
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let host = host_on(&engine, 2);
    let flow = |name: String| {
        FlowSpec::new(source_sink_on(&engine, 100, "quiet-sink", "")).with_settings(FlowSettings {
            flow_name: name,
            ..FlowSettings::default()
        })
    };
    let mut running = Vec::new();
    let mut refusal = None;
    for k in 0..500 {
        let id = host
            .start_flow(flow(format!("f{k}")).suspended())
            .expect("accepted");
        let seen = wait_until(&host, id, "suspended or failed", |i| {
            i.state == FlowState::Suspended || i.state.is_terminal()
        });
        if seen.state == FlowState::Suspended {
            running.push(id);
        } else {
            refusal = Some(host.await_completion(id).expect_err("refused"));
            break;
        }
    }
    let error = refusal.expect("a flow is refused before 500 flows");
    assert!(!running.is_empty(), "the first flows fit");
    let diagnostic = allocation_refusal(&error);
    assert!(
        diagnostic.message.contains("memory mappings"),
        "{}",
        diagnostic.message
    );
    assert!(
        diagnostic.help.contains("vm.max_map_count"),
        "{}",
        diagnostic.help
    );
    assert!(
        diagnostic.help.contains("max_component_instances"),
        "{}",
        diagnostic.help
    );

    the_others_complete_and_a_later_flow_fits(&host, running, flow("after".into()));
    host.shutdown();
}
