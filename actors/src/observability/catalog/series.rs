//! The label series each flow wrote into the [`MetricsCatalog`], and their
//! removal when the flow is forgotten. Prometheus removes a series only by
//! its exact label values, so the catalog remembers the flow's names and
//! the component and stream names of its reports.

use super::{FlowSample, MetricsCatalog, DROP_REASONS};
use crate::ids::FlowId;
use crate::state::FlowState;
use prometheus::core::{MetricVec, MetricVecBuilder};
use std::collections::BTreeSet;

/// The label values one flow's series use.
#[derive(Debug, Default)]
pub(super) struct FlowSeries {
    /// Its names (normally one; a scrape before its registration sees "").
    names: BTreeSet<String>,
    /// `component_id` values.
    components: BTreeSet<String>,
    /// `stream_id` values.
    streams: BTreeSet<String>,
}

impl FlowSeries {
    /// Adds the label values `flow` is about to be exported with.
    pub(super) fn record(&mut self, flow: &FlowSample) {
        if !self.names.contains(&flow.name) {
            self.names.insert(flow.name.clone());
        }
        let Some(report) = &flow.report else { return };
        for stage in &report.stages {
            if !self.components.contains(&stage.name) {
                self.components.insert(stage.name.clone());
            }
        }
        for stream in &report.streams {
            if !self.streams.contains(&stream.name) {
                self.streams.insert(stream.name.clone());
            }
        }
    }
}

/// Removes one series; one that was never written is no error.
fn remove<T: MetricVecBuilder>(vec: &MetricVec<T>, labels: &[&str]) {
    let _ = vec.remove_label_values(labels);
}

impl MetricsCatalog {
    /// Removes every series labelled with flow `id` (per-flow, per-component
    /// and per-stream families); host-wide families keep their values.
    /// Returns whether the flow had any.
    pub fn forget_flow(&mut self, id: FlowId) -> bool {
        let Some(series) = self.series.remove(&id) else {
            return false;
        };
        let id = id.to_string();
        for name in &series.names {
            let f = &[id.as_str(), name.as_str()];
            for vec in [
                &self.flow_elements,
                &self.flow_pulled,
                &self.flow_dropped,
                &self.flow_errors,
                &self.flow_copies,
                &self.flow_copy_bytes,
                &self.flow_batches,
                &self.flow_events_dropped,
            ] {
                remove(vec, f);
            }
            remove(&self.flow_duration, f);
            remove(&self.flow_throughput, f);
            remove(&self.flow_live_buffers, f);
            remove(&self.flow_peak_depth, f);
            for state in FlowState::ALL {
                let state = state.to_string().to_ascii_lowercase();
                remove(&self.flow_state, &[f[0], f[1], state.as_str()]);
            }
            for component in &series.components {
                let l = &[f[0], f[1], component.as_str()];
                for vec in [
                    &self.component_invocations,
                    &self.component_errors,
                    &self.component_restarts,
                    &self.component_retries,
                    &self.component_dead_lettered,
                    &self.component_timeouts,
                ] {
                    remove(vec, l);
                }
                remove(&self.component_busy, l);
                remove(&self.component_fuel, l);
                remove(&self.component_memory, l);
                for vec in &self.connector_counters {
                    remove(vec, l);
                }
                for vec in &self.connector_gauges {
                    remove(vec, l);
                }
                remove(&self.connector_publish_latency, l);
            }
            for stream in &series.streams {
                let l = &[f[0], f[1], stream.as_str()];
                remove(&self.stream_transferred, l);
                remove(&self.stream_bp_events, l);
                remove(&self.stream_bp_seconds, l);
                for vec in [
                    &self.stream_bp_active,
                    &self.stream_depth,
                    &self.stream_peak,
                    &self.stream_capacity,
                    &self.stream_credit,
                ] {
                    remove(vec, l);
                }
                for reason in DROP_REASONS {
                    remove(&self.stream_dropped, &[l[0], l[1], l[2], reason]);
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::Sample;
    use super::fixtures::report;
    use super::*;
    use crate::counters::CounterSnapshot;
    use torvyn_runtime::reactor::FlowReport;

    fn flow(id: u64, report: Option<FlowReport>) -> FlowSample {
        FlowSample {
            id: FlowId::new(id),
            name: format!("f{id}"),
            state: FlowState::Completed,
            counters: CounterSnapshot {
                elements_delivered: id,
                ..CounterSnapshot::default()
            },
            report,
        }
    }

    fn lines_of(text: &str, flow: &str) -> usize {
        let label = format!("flow_id=\"{flow}\"");
        text.lines().filter(|l| l.contains(&label)).count()
    }

    #[test]
    fn forgetting_a_flow_removes_every_series_it_wrote_and_nothing_else() {
        let mut catalog = MetricsCatalog::new().unwrap();
        let both = Sample {
            flows: vec![
                flow(1, Some(report(&["source", "sink"], &["source-to-sink"]))),
                flow(2, Some(report(&["source", "sink"], &["source-to-sink"]))),
            ],
            flows_finished: 2,
            ..Sample::default()
        };
        let text = catalog.render(&both).unwrap();
        let per_flow = lines_of(&text, "flow-1");
        assert!(per_flow > 20, "flow, component and stream series: {text}");
        assert!(text.contains(r#"component_id="sink",flow="f1",flow_id="flow-1""#));
        assert!(text.contains(r#"flow_id="flow-1",reason="lagged""#));

        assert!(catalog.forget_flow(FlowId::new(1)));
        let only_second = Sample {
            flows: vec![both.flows[1].clone()],
            flows_finished: 2,
            ..Sample::default()
        };
        let text = catalog.render(&only_second).unwrap();
        assert_eq!(lines_of(&text, "flow-1"), 0, "{text}");
        assert_eq!(lines_of(&text, "flow-2"), per_flow, "{text}");
        assert!(text.contains("torvyn_system_flows_finished_total 2"));
    }

    #[test]
    fn forgetting_an_unknown_flow_changes_nothing() {
        let mut catalog = MetricsCatalog::new().unwrap();
        let sample = Sample {
            flows: vec![flow(1, None)],
            ..Sample::default()
        };
        let before = catalog.render(&sample).unwrap();
        assert!(!catalog.forget_flow(FlowId::new(9)));
        assert_eq!(catalog.render(&sample).unwrap(), before);
    }
}

/// Report fixtures for the catalog's tests.
#[cfg(test)]
pub(super) mod fixtures {
    use torvyn_runtime::reactor::{FlowReport, StageReport, StreamReport};

    pub(in crate::observability::catalog) fn report(
        stages: &[&str],
        streams: &[&str],
    ) -> FlowReport {
        FlowReport {
            flow: "f".into(),
            elements_pulled: 0,
            elements_delivered: 0,
            elements_dropped: 0,
            errors: 0,
            duration: std::time::Duration::from_millis(3),
            payload_copies: Default::default(),
            all_copies: Default::default(),
            copy_amplification: 0.0,
            bytes_produced: 0,
            peak_queue_depth: 0,
            live_buffers: 0,
            leaked_buffers: 0,
            pool_buffers_held: 0,
            events_dropped: 0,
            stages: stages.iter().map(|n| stage(n)).collect(),
            streams: streams.iter().map(|n| stream(n)).collect(),
            copies_by_reason: Box::new([]),
            pool_allocations: 0,
            pool_fallbacks: 0,
            latency: None,
            replicas: Vec::new(),
        }
    }

    pub(in crate::observability::catalog) fn stage(name: &str) -> StageReport {
        StageReport {
            capabilities: Vec::new(),
            name: name.into(),
            invocations: 1,
            errors: 0,
            busy_ns: 10,
            restarts: 0,
            retries: 0,
            dead_lettered: 0,
            timeouts: 0,
            ended_abnormally: false,
            fuel_consumed: 0,
            memory_bytes: 0,
            connector: None,
        }
    }

    pub(in crate::observability::catalog) fn stream(name: &str) -> StreamReport {
        StreamReport {
            name: name.into(),
            policy: "block",
            capacity: 4,
            depth: 0,
            peak_depth: 1,
            credit: 0,
            transferred: 1,
            dropped_oldest: 0,
            dropped_newest: 0,
            lagged: 0,
            dropped_closed: 0,
            backpressure_active: false,
            backpressure_events: 0,
            backpressure_ns: 0,
            consumer: "sink".into(),
        }
    }
}
