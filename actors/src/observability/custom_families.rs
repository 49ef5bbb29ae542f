//! The custom metrics components emit through
//! `torvyn:capabilities/metrics` ([`torvyn_runtime::custom_metrics`]),
//! rendered in the Prometheus text format after the catalog: one family
//! `torvyn_custom_<name>` (counters `…_total`) per name, each series
//! labelled with its component's `component_id`.

use super::histogram_families::{escape, write_buckets};
use std::collections::BTreeMap;
use std::fmt::Write;
use torvyn_runtime::custom_metrics::{CustomMetric, Kind, BUCKETS};

/// `{a="x",component_id="c"}` without the braces: `labels` and the
/// component, sorted by name.
fn label_text(component: &str, labels: &[(String, String)]) -> String {
    let mut all: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("component_id", component));
    all.sort();
    all.iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Appends `metrics` (nothing when there are none). A name emitted as
/// two kinds by two components keeps the first component's kind.
pub fn render(out: &mut String, metrics: &[CustomMetric]) {
    let mut families: BTreeMap<&str, Vec<&CustomMetric>> = BTreeMap::new();
    for metric in metrics {
        families
            .entry(metric.name.as_str())
            .or_default()
            .push(metric);
    }
    for (name, metrics) in families {
        let kind = metrics[0].kind;
        let family = match kind {
            Kind::Counter => format!("torvyn_custom_{name}_total"),
            _ => format!("torvyn_custom_{name}"),
        };
        let _ = writeln!(
            out,
            "# HELP {family} Custom {} `{name}` emitted by components.\n# TYPE {family} {}",
            kind.name(),
            kind.name()
        );
        for metric in metrics.iter().filter(|m| m.kind == kind) {
            for (labels, series) in &metric.series {
                let labels = label_text(&metric.component, labels);
                match kind {
                    Kind::Counter | Kind::Gauge => {
                        let _ = writeln!(out, "{family}{{{labels}}} {}", series.value);
                    }
                    Kind::Histogram => {
                        let mut running = 0;
                        let cumulative: Vec<u64> = series
                            .buckets
                            .iter()
                            .map(|c| {
                                running += c;
                                running
                            })
                            .collect();
                        write_buckets(out, &family, &labels, &BUCKETS, &cumulative, series.value);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_runtime::custom_metrics::Series;

    fn metric(name: &str, kind: Kind, labels: &[(&str, &str)], series: Series) -> CustomMetric {
        CustomMetric {
            component: "unit-a".into(),
            name: name.into(),
            kind,
            series: vec![(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                series,
            )],
        }
    }

    #[test]
    fn counters_gauges_and_histograms_render_with_the_component_label() {
        let mut size = Series {
            value: 20_000.2,
            count: 2,
            ..Series::default()
        };
        size.buckets[5] = 1;
        size.buckets[BUCKETS.len()] = 1;
        let metrics = [
            metric(
                "unit_hits",
                Kind::Counter,
                &[("kind", "x\"y")],
                Series {
                    value: 5.0,
                    ..Series::default()
                },
            ),
            metric(
                "unit_level",
                Kind::Gauge,
                &[],
                Series {
                    value: 7.5,
                    ..Series::default()
                },
            ),
            metric("unit_size", Kind::Histogram, &[], size),
        ];
        let mut text = String::new();
        render(&mut text, &metrics);
        for line in [
            "# TYPE torvyn_custom_unit_hits_total counter\n",
            "torvyn_custom_unit_hits_total{component_id=\"unit-a\",kind=\"x\\\"y\"} 5\n",
            "# TYPE torvyn_custom_unit_level gauge\n",
            "torvyn_custom_unit_level{component_id=\"unit-a\"} 7.5\n",
            "torvyn_custom_unit_size_bucket{component_id=\"unit-a\",le=\"0.1\"} 0\n",
            "torvyn_custom_unit_size_bucket{component_id=\"unit-a\",le=\"0.5\"} 1\n",
            "torvyn_custom_unit_size_bucket{component_id=\"unit-a\",le=\"+Inf\"} 2\n",
            "torvyn_custom_unit_size_count{component_id=\"unit-a\"} 2\n",
        ] {
            assert!(text.contains(line), "no {line:?} in\n{text}");
        }
        let mut empty = String::new();
        render(&mut empty, &[]);
        assert!(empty.is_empty());
    }
}
