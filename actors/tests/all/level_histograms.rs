//! What each observability level feeds into a flow's histograms: at
//! `production`, every delivered element's end-to-end latency and the
//! call times of a share of elements that follows the flow's rate (every
//! element of a slow flow); at `diagnostic`, every call; at `off`,
//! nothing.

use crate::common::*;
use torvyn_actors::FlowSpec;
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::reactor::trace::PRODUCTION_TIMED_PER_SECOND;
use torvyn_runtime::reactor::{FlowSettings, FlowSpec as GraphSpec, Policy, StreamSettings};

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
    counts_of(level, ELEMENTS, StreamSettings::default())
}

/// Runs `elements` through counter-source → passthrough → quiet-sink with
/// `streams` at `level`; the flow's (latency count, the pass-through's
/// processing-time count).
fn counts_of(level: ObservabilityLevel, elements: u64, streams: StreamSettings) -> (f64, f64) {
    let (latency, processing, _) = measured(level, elements, streams);
    (latency, processing)
}

/// [`counts_of`], with how long the flow ran, in seconds.
fn measured(level: ObservabilityLevel, elements: u64, streams: StreamSettings) -> (f64, f64, f64) {
    let host = host(1);
    host.set_observability_level(level);
    let name = format!("histograms-{}-{elements}", level.as_str());
    let graph = GraphSpec::linear(source_pass_sink(elements), streams);
    let spec = FlowSpec::graph(graph).with_settings(FlowSettings {
        flow_name: name.clone(),
        ..FlowSettings::default()
    });
    let id = host.start_flow(spec).expect("starts");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, elements);
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
        report.duration.as_secs_f64(),
    )
}

#[test]
fn production_measures_every_deliverys_latency_and_times_a_sample_of_calls() {
    let (latency, processing, seconds) = measured(
        ObservabilityLevel::Production,
        ELEMENTS,
        StreamSettings::default(),
    );
    assert_eq!(latency, ELEMENTS as f64, "every delivery");
    // Tens of thousands of elements a second: one in 16 to 1,024 timed.
    // Production times about PRODUCTION_TIMED_PER_SECOND elements a second
    // whatever the rate, so a flow slowed down by a busy machine (this
    // debug build shares two cores with the rest of the suite) times
    // more: allow twice that rate over the flow's own duration.
    let follows_the_rate = 2.0 * PRODUCTION_TIMED_PER_SECOND as f64 * seconds;
    assert!(
        processing >= 1.0 && processing <= ((ELEMENTS / 8) as f64).max(follows_the_rate),
        "{processing} timed calls of {ELEMENTS} in {seconds:.3} s"
    );
}

#[test]
fn production_times_every_call_of_a_slow_flow() {
    // 400 elements a second, under the 1,000 a second production times:
    // once the flow knows its rate (its first 1 ms window), every call is
    // timed. The limiter starts with the flow, so a slow start-up gives no
    // burst. One in 64, the share a flow starts with, would time about 2.
    const SLOW: u64 = 120;
    let streams = StreamSettings {
        policy: Policy::RateLimit { per_second: 400 },
        ..StreamSettings::default()
    };
    let (latency, processing) = counts_of(ObservabilityLevel::Production, SLOW, streams);
    assert_eq!(latency, SLOW as f64);
    assert!(
        processing >= (SLOW / 2) as f64,
        "{processing} timed calls of {SLOW}"
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
