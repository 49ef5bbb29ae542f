//! The metrics catalog as an OTLP `ExportMetricsServiceRequest`: counters
//! become cumulative monotonic sums, gauges gauges, histograms cumulative
//! explicit-bucket histograms; labels become attributes.

use super::exposition::{Family, FamilyType, Sample};
use crate::observability::export::proto::SCOPE_NAME;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// When the series started counting and when they were read (Unix ns).
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// When the host started (cumulative series count from there).
    pub start_unix_ns: u64,
    /// When the catalog was read.
    pub now_unix_ns: u64,
}

/// One request for `families`, under a resource named `service_name`.
pub fn export_request(
    service_name: &str,
    families: &[Family],
    times: Times,
) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![attribute("service.name", service_name)],
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..InstrumentationScope::default()
                }),
                metrics: families
                    .iter()
                    .filter(|f| !f.samples.is_empty())
                    .map(|f| metric(f, times))
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..KeyValue::default()
    }
}

fn attributes(labels: &[(String, String)]) -> Vec<KeyValue> {
    labels.iter().map(|(k, v)| attribute(k, v)).collect()
}

fn number(sample: &Sample, times: Times) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes(&sample.labels),
        start_time_unix_nano: times.start_unix_ns,
        time_unix_nano: times.now_unix_ns,
        value: Some(number_data_point::Value::AsDouble(sample.value)),
        ..NumberDataPoint::default()
    }
}

fn metric(family: &Family, times: Times) -> Metric {
    let data = match family.kind {
        FamilyType::Counter => metric::Data::Sum(Sum {
            data_points: family.samples.iter().map(|s| number(s, times)).collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
        FamilyType::Gauge | FamilyType::Other => metric::Data::Gauge(Gauge {
            data_points: family.samples.iter().map(|s| number(s, times)).collect(),
        }),
        FamilyType::Histogram => metric::Data::Histogram(Histogram {
            data_points: histogram_points(family, times),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
    };
    Metric {
        name: family.name.clone(),
        description: family.help.clone(),
        unit: unit_of(&family.name).to_string(),
        data: Some(data),
        ..Metric::default()
    }
}

/// The UCUM unit a catalog name's suffix says.
fn unit_of(name: &str) -> &'static str {
    let name = name.strip_suffix("_total").unwrap_or(name);
    if name.ends_with("_seconds") {
        "s"
    } else if name.ends_with("_bytes") {
        "By"
    } else {
        "1"
    }
}

/// One point per label set (without `le`): Prometheus' cumulative
/// `_bucket` counts become OTLP's per-bucket counts, the `+Inf` bucket the
/// overflow.
fn histogram_points(family: &Family, times: Times) -> Vec<HistogramDataPoint> {
    struct Point {
        labels: Vec<(String, String)>,
        bounds: Vec<(f64, f64)>,
        sum: f64,
        count: f64,
    }
    let mut points: Vec<Point> = Vec::new();
    for sample in &family.samples {
        let labels: Vec<(String, String)> = sample
            .labels
            .iter()
            .filter(|(k, _)| k != "le")
            .cloned()
            .collect();
        let index = match points.iter().position(|p| p.labels == labels) {
            Some(i) => i,
            None => {
                points.push(Point {
                    labels,
                    bounds: Vec::new(),
                    sum: 0.0,
                    count: 0.0,
                });
                points.len() - 1
            }
        };
        let point = &mut points[index];
        let suffix = &sample.name[family.name.len().min(sample.name.len())..];
        match suffix {
            "_bucket" => {
                let le = sample
                    .labels
                    .iter()
                    .find(|(k, _)| k == "le")
                    .and_then(|(_, v)| match v.as_str() {
                        "+Inf" => Some(f64::INFINITY),
                        v => v.parse().ok(),
                    });
                if let Some(le) = le {
                    point.bounds.push((le, sample.value));
                }
            }
            "_sum" => point.sum = sample.value,
            "_count" => point.count = sample.value,
            _ => {}
        }
    }
    points
        .into_iter()
        .map(|mut p| {
            p.bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut explicit_bounds = Vec::new();
            let mut bucket_counts = Vec::new();
            let mut below = 0.0;
            for (le, cumulative) in &p.bounds {
                if le.is_finite() {
                    explicit_bounds.push(*le);
                }
                bucket_counts.push((cumulative - below).max(0.0) as u64);
                below = *cumulative;
            }
            // Without a `+Inf` bucket, the overflow is count − last bucket.
            if p.bounds.last().is_none_or(|(le, _)| le.is_finite()) {
                bucket_counts.push((p.count - below).max(0.0) as u64);
            }
            HistogramDataPoint {
                attributes: attributes(&p.labels),
                start_time_unix_nano: times.start_unix_ns,
                time_unix_nano: times.now_unix_ns,
                count: p.count as u64,
                sum: Some(p.sum),
                bucket_counts,
                explicit_bounds,
                ..HistogramDataPoint::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::exposition::parse;
    use super::*;

    const TIMES: Times = Times {
        start_unix_ns: 1,
        now_unix_ns: 2,
    };

    #[test]
    fn counters_gauges_and_histograms_map_to_their_otlp_forms() {
        let text = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 7\n\
                    # TYPE g_bytes gauge\ng_bytes 3\n\
                    # TYPE h_seconds histogram\n\
                    h_seconds_bucket{le=\"0.1\"} 2\nh_seconds_bucket{le=\"1\"} 5\n\
                    h_seconds_bucket{le=\"+Inf\"} 6\nh_seconds_sum 2.5\nh_seconds_count 6\n";
        let request = export_request("svc", &parse(text), TIMES);
        let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 3);
        match &metrics[0].data {
            Some(metric::Data::Sum(sum)) => {
                assert!(sum.is_monotonic);
                assert_eq!(sum.data_points[0].attributes[0].key, "x");
                assert_eq!(
                    sum.data_points[0].value,
                    Some(number_data_point::Value::AsDouble(7.0))
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(metrics[0].description, "A.");
        assert_eq!(metrics[1].unit, "By");
        assert!(matches!(metrics[1].data, Some(metric::Data::Gauge(_))));
        match &metrics[2].data {
            Some(metric::Data::Histogram(h)) => {
                let p = &h.data_points[0];
                assert_eq!(p.explicit_bounds, vec![0.1, 1.0]);
                assert_eq!(p.bucket_counts, vec![2, 3, 1]);
                assert_eq!(p.count, 6);
                assert_eq!(p.sum, Some(2.5));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(metrics[2].unit, "s");
    }
}
