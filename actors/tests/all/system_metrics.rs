//! The catalog's figures that come from outside the flows' own counters:
//! per-component fuel and linear memory, the derived throughput and pool
//! reuse, the worker schedulers and the process's memory — read off a
//! real host that ran real components.

use crate::common::*;
use torvyn_e2e::http::promtool_check_metrics;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};

#[test]
fn a_finished_flow_reports_fuel_memory_throughput_and_the_host_its_scheduler_and_memory() {
    let host = host(1);
    let id = host
        .start_flow(spec("sys", source_pass_sink(500)))
        .expect("starts");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, 500);
    for stage in &report.stages {
        // The test engine meters fuel (1,000,000 per call).
        assert!(stage.fuel_consumed > 0, "{}: no fuel counted", stage.name);
        // At least one 64 KiB Wasm page.
        assert!(
            stage.memory_bytes >= 65_536,
            "{}: {}",
            stage.name,
            stage.memory_bytes
        );
    }
    let text = host.prometheus_metrics().expect("scrape");
    promtool_check_metrics(&text);
    let labels =
        |component: &str| format!(r#"{{component_id="{component}",flow="sys",flow_id="{id}"}}"#);
    for stage in &report.stages {
        let fuel = metric_value(
            &text,
            &format!(
                "torvyn_component_fuel_consumed_total{}",
                labels(&stage.name)
            ),
        );
        assert_eq!(fuel, Some(stage.fuel_consumed as f64), "{}", stage.name);
        let memory = metric_value(
            &text,
            &format!("torvyn_component_memory_bytes{}", labels(&stage.name)),
        );
        assert_eq!(memory, Some(stage.memory_bytes as f64), "{}", stage.name);
    }
    let throughput = metric_value(
        &text,
        &format!(r#"torvyn_flow_throughput_elements_per_second{{flow="sys",flow_id="{id}"}}"#),
    )
    .expect("throughput");
    let expected = 500.0 / report.duration.as_secs_f64();
    assert!(
        (throughput - expected).abs() <= expected * 1e-6,
        "{throughput} vs {expected}"
    );
    let reuse =
        metric_value(&text, r#"torvyn_pool_reuse_ratio{tier="small"}"#).expect("small tier used");
    assert!((0.0..=1.0).contains(&reuse), "{reuse}");
    // The worker parked at least while it waited for the flow.
    let wakeups = metric_value(&text, "torvyn_system_scheduler_wakeups_total").expect("wakeups");
    assert!(wakeups >= 1.0, "{wakeups}");
    let idle = metric_value(&text, "torvyn_system_scheduler_idle_seconds_total").expect("idle");
    assert!(idle > 0.0, "{idle}");
    let total = metric_value(&text, "torvyn_system_memory_total_bytes").expect("total memory");
    let host_only = metric_value(&text, "torvyn_system_memory_host_bytes").expect("host memory");
    assert!(total > 1e6, "{total}");
    assert!(
        host_only <= total && host_only > 0.0,
        "{host_only} of {total}"
    );
    host.shutdown();
}

#[test]
fn without_fuel_metering_no_fuel_is_counted_or_exported() {
    let engine = WasmEngine::new(EngineConfig {
        fuel_per_invocation: 0,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let stages = source_sink_on(&engine, 20, "quiet-sink", "");
    let host = host_on(&engine, 1);
    let id = host.start_flow(spec("unmetered", stages)).expect("starts");
    let report = host.await_completion(id).expect("completes");
    assert!(report.stages.iter().all(|s| s.fuel_consumed == 0));
    assert!(report.stages.iter().all(|s| s.memory_bytes >= 65_536));
    let text = host.prometheus_metrics().expect("scrape");
    assert!(
        !text.contains("torvyn_component_fuel_consumed_total{"),
        "{text}"
    );
    assert!(text.contains("torvyn_component_memory_bytes{"));
    host.shutdown();
}
