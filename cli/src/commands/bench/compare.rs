//! `--compare PATH`: the figures of this run against a saved report, and
//! the regression gate (throughput down, or p99 up, by more than the
//! threshold).
//!
//! A baseline is any JSON object with numeric `throughput_eps` and
//! `latency_p99_us` (`latency_p50_us` and `total_copies` are compared when
//! present): a `torvyn bench` JSON report, or the result file of another
//! harness that writes the same fields.

use super::error::BenchError;
use super::report::{BenchReport, Comparison};
use std::path::{Path, PathBuf};

/// The figures read from a baseline file.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub path: PathBuf,
    pub throughput_eps: f64,
    pub latency_p50_us: Option<f64>,
    pub latency_p99_us: f64,
    pub total_copies: Option<f64>,
}

impl Baseline {
    /// Reads and checks a baseline file.
    pub fn load(path: &Path) -> Result<Self, BenchError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| BenchError::BaselineUnreadable {
                path: path.to_path_buf(),
                source,
            })?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Self, BenchError> {
        let invalid = |reason: String| BenchError::BaselineInvalid {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON ({e})")))?;
        let number = |key: &str| value.get(key).and_then(serde_json::Value::as_f64);
        let required = |key: &str| {
            number(key)
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| invalid(format!("no numeric `{key}`")))
        };
        Ok(Self {
            path: path.to_path_buf(),
            throughput_eps: required("throughput_eps")?,
            latency_p99_us: required("latency_p99_us")?,
            latency_p50_us: number("latency_p50_us"),
            total_copies: number("total_copies"),
        })
    }
}

/// `(new - old) / old` in percent; 0 when the baseline figure is 0.
fn delta_pct(new: f64, old: f64) -> f64 {
    if old > 0.0 {
        ((new - old) / old * 1000.0).round() / 10.0
    } else {
        0.0
    }
}

/// Why these deltas (percent) are a regression; empty when they are not.
fn regressions(throughput: f64, p99: f64, threshold_pct: f64) -> Vec<String> {
    let mut reasons = Vec::new();
    if throughput < -threshold_pct {
        reasons.push(format!(
            "throughput {throughput:+.1}% (threshold -{threshold_pct}%)"
        ));
    }
    if p99 > threshold_pct {
        reasons.push(format!(
            "p99 latency {p99:+.1}% (threshold +{threshold_pct}%)"
        ));
    }
    reasons
}

/// Compares `report` with `baseline`: a regression is throughput lower by
/// more than `threshold_pct` percent, or p99 latency higher by more.
pub fn compare(report: &BenchReport, baseline: &Baseline, threshold_pct: f64) -> Comparison {
    let throughput = delta_pct(report.throughput_eps, baseline.throughput_eps);
    let p99 = delta_pct(report.latency_p99_us, baseline.latency_p99_us);
    let reasons = regressions(throughput, p99, threshold_pct);
    Comparison {
        baseline: baseline.path.display().to_string(),
        threshold_pct,
        throughput_delta_pct: throughput,
        latency_p50_delta_pct: baseline
            .latency_p50_us
            .map_or(0.0, |old| delta_pct(report.latency_p50_us, old)),
        latency_p99_delta_pct: p99,
        total_copies_delta_pct: baseline
            .total_copies
            .map(|old| delta_pct(report.total_copies as f64, old)),
        regression: !reasons.is_empty(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_percentages_of_the_baseline() {
        assert_eq!(delta_pct(90.0, 100.0), -10.0);
        assert_eq!(delta_pct(112.0, 100.0), 12.0);
        assert_eq!(delta_pct(5.0, 0.0), 0.0);
    }

    #[test]
    fn parse_needs_the_two_gated_figures() {
        let p = Path::new("b.json");
        let ok = Baseline::parse(p, r#"{"throughput_eps": 10, "latency_p99_us": 2.5}"#).unwrap();
        assert_eq!(ok.throughput_eps, 10.0);
        assert_eq!(ok.latency_p50_us, None);
        for bad in [
            "[]",
            "{}",
            r#"{"throughput_eps": "fast", "latency_p99_us": 1}"#,
            "nope",
        ] {
            assert!(
                matches!(
                    Baseline::parse(p, bad),
                    Err(BenchError::BaselineInvalid { .. })
                ),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn slower_or_later_beyond_the_threshold_is_a_regression() {
        assert!(regressions(0.0, 0.0, 10.0).is_empty());
        assert!(regressions(-9.5, 9.0, 10.0).is_empty());
        assert!(regressions(50.0, -50.0, 10.0).is_empty(), "faster is fine");
        assert_eq!(regressions(-12.0, 0.0, 10.0).len(), 1);
        assert_eq!(regressions(0.0, 15.0, 10.0).len(), 1);
        assert_eq!(regressions(-12.0, 15.0, 10.0).len(), 2);
        assert!(regressions(-12.0, 15.0, 20.0).is_empty());
    }
}
