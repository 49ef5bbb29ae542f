//! Custom metrics that components emit through `torvyn:capabilities/metrics`:
//! a process-wide registry, apart from the pre-allocated element-path
//! metrics, bounded in metrics per component and series per metric, and
//! rendered in the Prometheus text format as `torvyn_custom_<name>`
//! (counters `…_total`) with the component's `component_id` label — the
//! text `/metrics` appends and the OTLP push carries.

use std::collections::BTreeMap;
use std::fmt::Write as _;
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
    fn name(self) -> &'static str {
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

#[derive(Debug, Clone, Default)]
struct Series {
    /// Counter total or gauge value; a histogram's sum.
    value: f64,
    /// A histogram's count per bucket (not cumulative) and its overflow.
    buckets: [u64; BUCKETS.len() + 1],
    count: u64,
}

#[derive(Debug)]
struct Metric {
    kind: Kind,
    series: BTreeMap<Vec<(String, String)>, Series>,
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

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(component: &str, labels: &[(String, String)], le: Option<&str>) -> String {
    let mut all: Vec<(String, String)> = labels.to_vec();
    all.push(("component_id".into(), component.to_string()));
    if let Some(le) = le {
        all.push(("le".into(), le.to_string()));
    }
    all.sort();
    let inner: Vec<String> = all
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The registry in the Prometheus text format (empty when no component
/// emitted anything).
pub fn render() -> String {
    let Ok(registry) = REGISTRY.lock() else {
        return String::new();
    };
    // One family per name, over every component that emitted it.
    let mut families: BTreeMap<&str, Vec<(&str, &Metric)>> = BTreeMap::new();
    for ((component, name), metric) in registry.iter() {
        families
            .entry(name.as_str())
            .or_default()
            .push((component.as_str(), metric));
    }
    let mut out = String::new();
    for (name, metrics) in families {
        // A name emitted as two kinds by two components: the first wins.
        let kind = metrics[0].1.kind;
        let family = match kind {
            Kind::Counter => format!("torvyn_custom_{name}_total"),
            _ => format!("torvyn_custom_{name}"),
        };
        let _ = writeln!(
            out,
            "# HELP {family} Custom {} `{name}` emitted by components.",
            kind.name()
        );
        let _ = writeln!(out, "# TYPE {family} {}", kind.name());
        for (component, metric) in metrics.iter().filter(|(_, m)| m.kind == kind) {
            for (labels, series) in &metric.series {
                match kind {
                    Kind::Counter | Kind::Gauge => {
                        let _ = writeln!(
                            out,
                            "{family}{} {}",
                            label_text(component, labels, None),
                            series.value
                        );
                    }
                    Kind::Histogram => {
                        let mut cumulative = 0;
                        for (i, bound) in BUCKETS.iter().enumerate() {
                            cumulative += series.buckets[i];
                            let _ = writeln!(
                                out,
                                "{family}_bucket{} {cumulative}",
                                label_text(component, labels, Some(&bound.to_string()))
                            );
                        }
                        let _ = writeln!(
                            out,
                            "{family}_bucket{} {}",
                            label_text(component, labels, Some("+Inf")),
                            series.count
                        );
                        let _ = writeln!(
                            out,
                            "{family}_sum{} {}",
                            label_text(component, labels, None),
                            series.value
                        );
                        let _ = writeln!(
                            out,
                            "{family}_count{} {}",
                            label_text(component, labels, None),
                            series.count
                        );
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(k: &str, v: &str) -> Vec<(String, String)> {
        vec![(k.into(), v.into())]
    }

    #[test]
    fn counters_gauges_and_histograms_render_with_the_component_label() {
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
        emit("unit-a", Kind::Histogram, "unit_size", 0.2, vec![]).unwrap();
        emit("unit-a", Kind::Histogram, "unit_size", 20_000.0, vec![]).unwrap();
        let text = render();
        assert!(
            text.contains("torvyn_custom_unit_hits_total{component_id=\"unit-a\",kind=\"x\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE torvyn_custom_unit_level gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("torvyn_custom_unit_level{component_id=\"unit-a\"} 7.5\n"),
            "{text}"
        );
        assert!(
            text.contains("torvyn_custom_unit_size_bucket{component_id=\"unit-a\",le=\"0.5\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "torvyn_custom_unit_size_bucket{component_id=\"unit-a\",le=\"+Inf\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("torvyn_custom_unit_size_count{component_id=\"unit-a\"} 2\n"),
            "{text}"
        );
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
