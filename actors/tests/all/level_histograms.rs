//! What each observability level feeds into a flow's histograms: at
//! `production`, every delivered element's end-to-end latency and the
//! call times of a sample of elements; at `diagnostic`, every call; at
//! `off`, nothing.

use crate::common::*;
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::reactor::PRODUCTION_TIMING_EVERY;

const ELEMENTS: u64 = 2_000;

/// The value of the series `name` whose labels include `flow="flow"` (and
/// `component_id="component"`, when given); 0 when absent.
fn series(text: &str, name: &str, flow: &str, component: Option<&str>) -> f64 {
    let flow_label = format!("flow=\"{flow}\"");
    let component_label = component.map(|c| format!("component_id=\"{c}\""));
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| l.contains(&flow_label))
        .filter(|l| component_label.as_ref().is_none_or(|c| l.contains(c)))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Runs counter-source → passthrough → quiet-sink at `level`; the
/// flow's (latency count, the pass-through's processing-time count).
fn counts_at(level: ObservabilityLevel) -> (f64, f64) {
    let host = host(1);
    host.set_observability_level(level);
    let name = format!("histograms-{}", level.as_str());
    let id = host
        .start_flow(spec(&name, source_pass_sink(ELEMENTS)))
        .expect("starts");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, ELEMENTS);
    let text = host.prometheus_metrics().expect("scrape");
    host.shutdown();
    (
        series(&text, "torvyn_flow_latency_seconds_count", &name, None),
        series(
            &text,
            "torvyn_component_processing_time_seconds_count",
            &name,
            Some("pass"),
        ),
    )
}

#[test]
fn production_measures_every_deliverys_latency_and_times_a_sample_of_calls() {
    let (latency, processing) = counts_at(ObservabilityLevel::Production);
    assert_eq!(latency, ELEMENTS as f64, "every delivery");
    let expected = (ELEMENTS / PRODUCTION_TIMING_EVERY) as f64;
    assert!(
        processing > expected / 3.0 && processing < expected * 3.0,
        "{processing} timed calls of {ELEMENTS}, expected about {expected}"
    );
}

#[test]
fn diagnostic_times_every_call() {
    let (latency, processing) = counts_at(ObservabilityLevel::Diagnostic);
    assert_eq!(latency, ELEMENTS as f64);
    assert_eq!(processing, ELEMENTS as f64);
}

#[test]
fn off_feeds_no_histogram() {
    assert_eq!(counts_at(ObservabilityLevel::Off), (0.0, 0.0));
}
