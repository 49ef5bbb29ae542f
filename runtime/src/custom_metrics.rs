//! Custom metrics that components emit through `torvyn:capabilities/metrics`:
//! a process-wide registry, apart from the pre-allocated element-path
//! metrics, bounded in metrics per component and series per metric. The
//! observability actor renders its [`snapshot`] on `/metrics` (and so in
//! the OTLP push) as `torvyn_custom_<name>`.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Metrics one component may create.
pub const MAX_METRICS_PER_COMPONENT: usize = 32;
/// Label sets (series) one metric may have.
pub const MAX_SERIES_PER_METRIC: usize = 64;
/// Labels one series may carry.
pub const MAX_LABELS: usize = 8;
/// Longest metric or label name.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest label value.
pub const MAX_VALUE_BYTES: usize = 128;
/// Histogram bucket bounds.
pub const BUCKETS: [f64; 15] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0,
];

/// A metric's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Set to a value.
    Gauge,
    /// Observations in buckets.
    Histogram,
}

impl Kind {
    /// The Prometheus type name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Why an emission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// A name, label or value is not valid.
    #[error("{0}")]
    Invalid(String),
    /// A bound was reached, or the name is another kind already.
    #[error("{0}")]
    LimitExceeded(String),
}

/// One label set's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Counter total or gauge value; a histogram's sum.
    pub value: f64,
    /// A histogram's count per bucket of [`BUCKETS`] (not cumulative),
    /// then the overflow.
    pub buckets: [u64; BUCKETS.len() + 1],
    /// A histogram's observations.
    pub count: u64,
}

#[derive(Debug)]
struct Metric {
    kind: Kind,
    series: BTreeMap<Vec<(String, String)>, Series>,
}

/// One metric of one component, as [`snapshot`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMetric {
    /// The emitting component (node).
    pub component: String,
    /// The metric's name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Its series: sorted labels and figures.
    pub series: Vec<(Vec<(String, String)>, Series)>,
}

/// (component, metric name) → metric.
static REGISTRY: Mutex<BTreeMap<(String, String), Metric>> = Mutex::new(BTreeMap::new());

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check(name: &str, labels: &[(String, String)], value: f64) -> Result<(), EmitError> {
    if !valid_name(name) {
        return Err(EmitError::Invalid(format!(
            "metric name `{name}` is not [a-z_][a-z0-9_]* of at most {MAX_NAME_BYTES} bytes"
        )));
    }
    if !value.is_finite() {
        return Err(EmitError::Invalid(format!("value {value} is not finite")));
    }
    if labels.len() > MAX_LABELS {
        return Err(EmitError::Invalid(format!(
            "{} labels; at most {MAX_LABELS}",
            labels.len()
        )));
    }
    for (label, value) in labels {
        if !valid_name(label) || label == "component_id" || label == "le" {
            return Err(EmitError::Invalid(format!(
                "label name `{label}` is not [a-z_][a-z0-9_]* of at most {MAX_NAME_BYTES} bytes, or is reserved (component_id, le)"
            )));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(EmitError::Invalid(format!(
                "the value of label `{label}` has {} bytes; at most {MAX_VALUE_BYTES}",
                value.len()
            )));
        }
    }
    Ok(())
}

/// Records one emission by `component`.
pub fn emit(
    component: &str,
    kind: Kind,
    name: &str,
    value: f64,
    mut labels: Vec<(String, String)>,
) -> Result<(), EmitError> {
    check(name, &labels, value)?;
    if kind == Kind::Counter && value < 0.0 {
        return Err(EmitError::Invalid("a counter only goes up".into()));
    }
    labels.sort();
    let mut registry = REGISTRY.lock().map_err(|_| {
        EmitError::LimitExceeded("the custom metrics registry is unavailable".into())
    })?;
    let key = (component.to_string(), name.to_string());
    if !registry.contains_key(&key) {
        let owned = registry.keys().filter(|(c, _)| c == component).count();
        if owned >= MAX_METRICS_PER_COMPONENT {
            return Err(EmitError::LimitExceeded(format!(
                "component `{component}` has {MAX_METRICS_PER_COMPONENT} metrics already"
            )));
        }
        registry.insert(
            key.clone(),
            Metric {
                kind,
                series: BTreeMap::new(),
            },
        );
    }
    let Some(metric) = registry.get_mut(&key) else {
        return Ok(());
    };
    if metric.kind != kind {
        return Err(EmitError::LimitExceeded(format!(
            "`{name}` is a {}, not a {}",
            metric.kind.name(),
            kind.name()
        )));
    }
    if !metric.series.contains_key(&labels) && metric.series.len() >= MAX_SERIES_PER_METRIC {
        return Err(EmitError::LimitExceeded(format!(
            "`{name}` has {MAX_SERIES_PER_METRIC} label sets already"
        )));
    }
    let series = metric.series.entry(labels).or_default();
    match kind {
        Kind::Counter => series.value += value,
        Kind::Gauge => series.value = value,
        Kind::Histogram => {
            let bucket = BUCKETS
                .iter()
                .position(|bound| value <= *bound)
                .unwrap_or(BUCKETS.len());
            series.buckets[bucket] += 1;
            series.value += value;
            series.count += 1;
        }
    }
    Ok(())
}

/// Every metric emitted so far, by component then name.
pub fn snapshot() -> Vec<CustomMetric> {
    let Ok(registry) = REGISTRY.lock() else {
        return Vec::new();
    };
    registry
        .iter()
        .map(|((component, name), metric)| CustomMetric {
            component: component.clone(),
            name: name.clone(),
            kind: metric.kind,
            series: metric
                .series
                .iter()
                .map(|(labels, series)| (labels.clone(), series.clone()))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(k: &str, v: &str) -> Vec<(String, String)> {
        vec![(k.into(), v.into())]
    }

    #[test]
    fn counters_add_gauges_set_and_histograms_bucket() {
        emit(
            "unit-a",
            Kind::Counter,
            "unit_hits",
            2.0,
            label("kind", "x"),
        )
        .unwrap();
        emit(
            "unit-a",
            Kind::Counter,
            "unit_hits",
            3.0,
            label("kind", "x"),
        )
        .unwrap();
        emit("unit-a", Kind::Gauge, "unit_level", 7.5, vec![]).unwrap();
        emit("unit-a", Kind::Gauge, "unit_level", 2.5, vec![]).unwrap();
        emit("unit-a", Kind::Histogram, "unit_size", 0.2, vec![]).unwrap();
        emit("unit-a", Kind::Histogram, "unit_size", 20_000.0, vec![]).unwrap();
        let all = snapshot();
        let metric = |name: &str| {
            all.iter()
                .find(|m| m.component == "unit-a" && m.name == name)
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let hits = metric("unit_hits");
        assert_eq!(hits.kind, Kind::Counter);
        assert_eq!(hits.series[0].0, label("kind", "x"));
        assert_eq!(hits.series[0].1.value, 5.0);
        assert_eq!(metric("unit_level").series[0].1.value, 2.5);
        let size = &metric("unit_size").series[0].1;
        assert_eq!(size.count, 2);
        assert_eq!(size.buckets[5], 1, "0.2 falls in the 0.5 bucket");
        assert_eq!(size.buckets[BUCKETS.len()], 1, "20 000 overflows");
    }

    #[test]
    fn bad_names_values_kinds_and_cardinality_are_refused() {
        let invalid = |r: Result<(), EmitError>| matches!(r, Err(EmitError::Invalid(_)));
        assert!(invalid(emit(
            "unit-b",
            Kind::Counter,
            "Bad-Name",
            1.0,
            vec![]
        )));
        assert!(invalid(emit(
            "unit-b",
            Kind::Counter,
            "ok",
            1.0,
            label("component_id", "x")
        )));
        assert!(invalid(emit("unit-b", Kind::Gauge, "ok", f64::NAN, vec![])));
        assert!(invalid(emit("unit-b", Kind::Counter, "ok", -1.0, vec![])));
        assert!(invalid(emit(
            "unit-b",
            Kind::Counter,
            "ok",
            1.0,
            label("k", &"v".repeat(200))
        )));
        emit("unit-b", Kind::Counter, "kinded", 1.0, vec![]).unwrap();
        assert!(matches!(
            emit("unit-b", Kind::Gauge, "kinded", 1.0, vec![]),
            Err(EmitError::LimitExceeded(_))
        ));
        for i in 0..MAX_SERIES_PER_METRIC {
            emit(
                "unit-b",
                Kind::Counter,
                "wide",
                1.0,
                label("i", &i.to_string()),
            )
            .unwrap();
        }
        assert!(matches!(
            emit("unit-b", Kind::Counter, "wide", 1.0, label("i", "one-more")),
            Err(EmitError::LimitExceeded(_))
        ));
        // An existing series still counts.
        emit("unit-b", Kind::Counter, "wide", 1.0, label("i", "0")).unwrap();
        for i in 0..MAX_METRICS_PER_COMPONENT {
            let _ = emit("unit-c", Kind::Gauge, &format!("m{i}"), 1.0, vec![]);
        }
        assert!(matches!(
            emit("unit-c", Kind::Gauge, "one_more", 1.0, vec![]),
            Err(EmitError::LimitExceeded(_))
        ));
    }
}
