//! [`BenchReport`]: the spec's benchmark report (throughput, latency,
//! per-component latency, resources, scheduling) plus the machine,
//! versions and settings it was measured with, and its renderings:
//! pretty (the spec's layout), JSON, CSV and Markdown.
//!
//! Latency percentiles come from an HDR histogram (`hdrhistogram`, 3
//! significant digits) fed with the reactor's fixed-bucket histograms
//! (each bucket's midpoint, with its count; buckets are at most 3.1 %
//! wide, see `torvyn_runtime::reactor::latency`), so a percentile is
//! within 1.6 % of the true value. `max` is the largest value recorded.

use super::window::Window;
use crate::units::{bytes, group};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::fmt::Write as _;
use torvyn_runtime::reactor::latency::MAX_RESOLVED_NS;
use torvyn_runtime::reactor::HistogramSnapshot;

/// The Wasmtime release the workspace pins (`=48.0.8` in Cargo.toml; a
/// unit test keeps the two equal).
pub const WASMTIME_VERSION: &str = "48.0.8";
/// Version of the report's JSON layout.
pub const REPORT_VERSION: u32 = 1;

/// Latency percentiles of one histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
    pub count: u64,
}

fn us(ns: u64) -> f64 {
    round3(ns as f64 / 1_000.0)
}

fn round3(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Percentiles {
    /// Percentiles of `h` through an HDR histogram.
    pub fn of(h: &HistogramSnapshot) -> Self {
        if h.count == 0 {
            return Self::default();
        }
        let Ok(mut hdr) = Histogram::<u64>::new_with_bounds(1, 2 * MAX_RESOLVED_NS, 3) else {
            return Self::default();
        };
        for (value, count) in h.values() {
            // In range by construction (values are at most MAX_RESOLVED_NS).
            let _ = hdr.record_n(value.max(1), count);
        }
        let q = |q: f64| us(hdr.value_at_quantile(q));
        Self {
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: us(h.max_ns),
            mean: us(h.sum_ns / h.count.max(1)),
            count: h.count,
        }
    }
}

/// One component's invocation latency.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentRow {
    pub name: String,
    pub invocations: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
    /// Share of the measured wall time spent inside this component.
    pub busy_share: f64,
}

/// Copies of one reason.
#[derive(Debug, Clone, Serialize)]
pub struct CopyRow {
    pub reason: &'static str,
    pub operations: u64,
    pub bytes: u64,
}

/// One stream's queue figures.
#[derive(Debug, Clone, Serialize)]
pub struct StreamRow {
    pub name: String,
    pub queue_peak: usize,
    pub queue_capacity: usize,
    pub backpressure_events: u64,
}

/// The options the benchmark ran with.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub manifest: String,
    pub flow: String,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub input: Option<String>,
    pub worker_threads: usize,
    pub latency_source: &'static str,
}

/// Where it ran.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub os: &'static str,
    pub arch: &'static str,
    pub cpus: usize,
    pub cpu_model: Option<String>,
    pub kernel: Option<String>,
}

impl Machine {
    /// This machine (CPU model and kernel from /proc on Linux).
    pub fn current() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_string());
        Self {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel,
        }
    }
}

/// Software versions.
#[derive(Debug, Clone, Serialize)]
pub struct Versions {
    pub torvyn: &'static str,
    pub wasmtime: &'static str,
    pub report: u32,
}

impl Versions {
    pub fn current() -> Self {
        Self {
            torvyn: env!("CARGO_PKG_VERSION"),
            wasmtime: WASMTIME_VERSION,
            report: REPORT_VERSION,
        }
    }
}

/// The comparison with a baseline (present with `--compare`).
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub baseline: String,
    pub threshold_pct: f64,
    pub throughput_delta_pct: f64,
    pub latency_p50_delta_pct: f64,
    pub latency_p99_delta_pct: f64,
    pub total_copies_delta_pct: Option<f64>,
    pub regression: bool,
    pub reasons: Vec<String>,
}

/// A benchmark report. The JSON field names `throughput_eps`,
/// `latency_p50_us`, `latency_p99_us` and `total_copies` are the ones the
/// spec's benchmark-comparison script reads.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub flow: String,
    // Throughput
    pub throughput_eps: f64,
    pub throughput_bytes_per_s: f64,
    // Latency (end to end, µs)
    pub latency_p50_us: f64,
    pub latency_p90_us: f64,
    pub latency_p95_us: f64,
    pub latency_p99_us: f64,
    pub latency_p999_us: f64,
    pub latency_max_us: f64,
    pub latency_mean_us: f64,
    pub latency_samples: u64,
    // Per component
    pub components: Vec<ComponentRow>,
    // Resources
    pub buffer_allocations: u64,
    pub pool_hits: u64,
    pub pool_fallbacks: u64,
    pub pool_reuse_rate: f64,
    pub total_copies: u64,
    pub copy_bytes: u64,
    pub copies_per_element: f64,
    pub copy_amplification: f64,
    pub copies_by_reason: Vec<CopyRow>,
    pub peak_memory_bytes: Option<u64>,
    // Scheduling
    pub wakeups: u64,
    pub batches: u64,
    pub backpressure_events: u64,
    pub queue_peak: usize,
    pub queue_capacity: usize,
    pub streams: Vec<StreamRow>,
    // Counts
    pub elements: u64,
    pub elements_pulled: u64,
    pub elements_dropped: u64,
    pub element_errors: u64,
    pub bytes: u64,
    pub measured_s: f64,
    pub flow_runs: u64,
    // Context
    pub settings: Settings,
    pub machine: Machine,
    pub versions: Versions,
    pub comparison: Option<Comparison>,
}

impl BenchReport {
    /// The report of a measured window.
    pub fn new(window: &Window, settings: Settings, peak_memory_bytes: Option<u64>) -> Self {
        let secs = window.measured.as_secs_f64();
        let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let e2e = Percentiles::of(&window.latency.end_to_end);
        let components = window
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let p = window
                    .latency
                    .stages
                    .get(i)
                    .map(Percentiles::of)
                    .unwrap_or_default();
                ComponentRow {
                    name: stage.name.clone(),
                    invocations: stage.invocations,
                    p50_us: p.p50,
                    p90_us: p.p90,
                    p99_us: p.p99,
                    max_us: p.max,
                    mean_us: p.mean,
                    busy_share: if secs > 0.0 {
                        round3(stage.busy_ns as f64 / 1e9 / secs)
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        let streams: Vec<StreamRow> = window
            .streams
            .iter()
            .map(|s| StreamRow {
                name: s.name.clone(),
                queue_peak: s.peak_depth,
                queue_capacity: s.capacity,
                backpressure_events: s.backpressure_events,
            })
            .collect();
        let fullest = streams
            .iter()
            .max_by(|a, b| {
                (a.queue_peak * b.queue_capacity.max(1))
                    .cmp(&(b.queue_peak * a.queue_capacity.max(1)))
            })
            .map_or((0, 0), |s| (s.queue_peak, s.queue_capacity));
        let allocations = window.buffer_allocations;
        let hits = allocations.saturating_sub(window.pool_fallbacks);
        let delivered = window.elements_delivered;
        let copies = window.payload_copies;
        Self {
            flow: settings.flow.clone(),
            throughput_eps: round1(per_s(delivered)),
            throughput_bytes_per_s: round1(per_s(window.latency.delivered_bytes)),
            latency_p50_us: e2e.p50,
            latency_p90_us: e2e.p90,
            latency_p95_us: e2e.p95,
            latency_p99_us: e2e.p99,
            latency_p999_us: e2e.p999,
            latency_max_us: e2e.max,
            latency_mean_us: e2e.mean,
            latency_samples: e2e.count,
            components,
            buffer_allocations: allocations,
            pool_hits: hits,
            pool_fallbacks: window.pool_fallbacks,
            pool_reuse_rate: if allocations == 0 {
                1.0
            } else {
                round3(hits as f64 / allocations as f64)
            },
            total_copies: copies.operations,
            copy_bytes: copies.bytes,
            copies_per_element: if delivered == 0 {
                0.0
            } else {
                round3(copies.operations as f64 / delivered as f64)
            },
            copy_amplification: if window.bytes_produced == 0 {
                0.0
            } else {
                round3(copies.bytes as f64 / window.bytes_produced as f64)
            },
            copies_by_reason: window
                .copies_by_reason
                .iter()
                .map(|(reason, stats)| CopyRow {
                    reason: reason.name(),
                    operations: stats.operations,
                    bytes: stats.bytes,
                })
                .collect(),
            peak_memory_bytes,
            wakeups: window.stages.iter().map(|s| s.invocations).sum(),
            batches: window.batches,
            backpressure_events: window.streams.iter().map(|s| s.backpressure_events).sum(),
            queue_peak: fullest.0,
            queue_capacity: fullest.1,
            streams,
            elements: delivered,
            elements_pulled: window.elements_pulled,
            elements_dropped: window.elements_dropped,
            element_errors: window.errors,
            bytes: window.latency.delivered_bytes,
            measured_s: round3(secs),
            flow_runs: window.runs,
            settings,
            machine: Machine::current(),
            versions: Versions::current(),
            comparison: None,
        }
    }

    /// The JSON report (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// The spec's human-readable layout.
    pub fn to_pretty(&self) -> String {
        let mut o = String::new();
        let s = &self.settings;
        let _ = writeln!(
            o,
            "▶ Benchmarking flow \"{}\" (warmup: {}, duration: {})",
            self.flow,
            secs(s.warmup_s),
            secs(s.duration_s)
        );
        let _ = writeln!(
            o,
            "  Measured {} over {} run{} of the flow",
            secs(self.measured_s),
            group(self.flow_runs),
            if self.flow_runs == 1 { "" } else { "s" }
        );
        section(&mut o, "Throughput");
        row(
            &mut o,
            "Elements/s:",
            &group(self.throughput_eps.round() as u64),
        );
        row(
            &mut o,
            "Bytes/s:",
            &format!("{}/s", bytes(self.throughput_bytes_per_s)),
        );
        section(&mut o, "Latency (µs)");
        for (label, v) in [
            ("p50:", self.latency_p50_us),
            ("p90:", self.latency_p90_us),
            ("p95:", self.latency_p95_us),
            ("p99:", self.latency_p99_us),
            ("p999:", self.latency_p999_us),
            ("max:", self.latency_max_us),
        ] {
            row(&mut o, label, &micros(v));
        }
        section(&mut o, "Per-Component Latency (µs, p50)");
        for c in &self.components {
            row(
                &mut o,
                &format!("{}:", c.name),
                &format!(
                    "{}  (p99 {}, {} calls)",
                    micros(c.p50_us),
                    micros(c.p99_us),
                    group(c.invocations)
                ),
            );
        }
        section(&mut o, "Resources");
        row(&mut o, "Buffer allocs:", &group(self.buffer_allocations));
        row(
            &mut o,
            "Pool reuse rate:",
            &format!("{:.1}%", self.pool_reuse_rate * 100.0),
        );
        row(
            &mut o,
            "Total copies:",
            &format!(
                "{} ({}, {:.2} per element)",
                group(self.total_copies),
                bytes(self.copy_bytes as f64),
                self.copies_per_element
            ),
        );
        // The total counts payload copies (reads and writes): its rows add
        // up to it. Metadata marshalling and host exports are counted
        // apart, below it.
        let (payload, other): (Vec<&CopyRow>, Vec<&CopyRow>) = self
            .copies_by_reason
            .iter()
            .partition(|c| c.reason.starts_with("Payload"));
        for (indent, c) in payload
            .iter()
            .map(|c| ("  ", c))
            .chain(other.iter().map(|c| ("", c)))
        {
            row(
                &mut o,
                &format!("{indent}{}:", c.reason),
                &format!("{} ({})", group(c.operations), bytes(c.bytes as f64)),
            );
        }
        row(
            &mut o,
            "Copy amplification:",
            &format!("{:.2}", self.copy_amplification),
        );
        row(
            &mut o,
            "Peak memory:",
            &self
                .peak_memory_bytes
                .map_or("n/a".into(), |b| bytes(b as f64)),
        );
        section(&mut o, "Scheduling");
        row(&mut o, "Total wakeups:", &group(self.wakeups));
        row(&mut o, "Batches:", &group(self.batches));
        row(
            &mut o,
            "Backpressure:",
            &format!("{} events", group(self.backpressure_events)),
        );
        row(
            &mut o,
            "Queue peak:",
            &format!("{} / {}", self.queue_peak, self.queue_capacity),
        );
        if let Some(c) = &self.comparison {
            section(&mut o, &format!("Comparison with {}", c.baseline));
            row(&mut o, "Throughput:", &pct(c.throughput_delta_pct));
            row(&mut o, "p50:", &pct(c.latency_p50_delta_pct));
            row(&mut o, "p99:", &pct(c.latency_p99_delta_pct));
            if let Some(d) = c.total_copies_delta_pct {
                row(&mut o, "Total copies:", &pct(d));
            }
            let verdict = if c.regression {
                format!("REGRESSION ({})", c.reasons.join("; "))
            } else {
                format!("ok (threshold {}%)", c.threshold_pct)
            };
            row(&mut o, "Result:", &verdict);
        }
        o
    }

    /// `section,name,metric,value` rows.
    pub fn to_csv(&self) -> String {
        let mut o = String::from("section,name,metric,value\n");
        for (section, name, metric, value) in self.rows() {
            let _ = writeln!(o, "{section},{},{metric},{value}", csv_field(&name));
        }
        o
    }

    /// One Markdown table per section.
    pub fn to_markdown(&self) -> String {
        let mut o = format!("# Benchmark: flow `{}`\n", self.flow);
        let mut current = "";
        for (section, name, metric, value) in self.rows() {
            if section != current {
                current = section;
                let _ = write!(
                    o,
                    "\n## {}\n\n| Name | Metric | Value |\n|---|---|---:|\n",
                    title(section)
                );
            }
            let _ = writeln!(o, "| {} | {metric} | {value} |", name.replace('|', "\\|"));
        }
        o
    }

    /// Every figure as `(section, name, metric, value)`, in report order.
    fn rows(&self) -> Vec<(&'static str, String, &'static str, String)> {
        let mut rows = Vec::new();
        let flow = || self.flow.clone();
        let mut push = |section, name: String, metric, value: String| {
            rows.push((section, name, metric, value));
        };
        push(
            "throughput",
            flow(),
            "elements_per_s",
            self.throughput_eps.to_string(),
        );
        push(
            "throughput",
            flow(),
            "bytes_per_s",
            self.throughput_bytes_per_s.to_string(),
        );
        for (metric, v) in [
            ("p50_us", self.latency_p50_us),
            ("p90_us", self.latency_p90_us),
            ("p95_us", self.latency_p95_us),
            ("p99_us", self.latency_p99_us),
            ("p999_us", self.latency_p999_us),
            ("max_us", self.latency_max_us),
            ("mean_us", self.latency_mean_us),
        ] {
            push("latency", flow(), metric, v.to_string());
        }
        for c in &self.components {
            push(
                "component",
                c.name.clone(),
                "invocations",
                c.invocations.to_string(),
            );
            push("component", c.name.clone(), "p50_us", c.p50_us.to_string());
            push("component", c.name.clone(), "p99_us", c.p99_us.to_string());
            push("component", c.name.clone(), "max_us", c.max_us.to_string());
        }
        push(
            "resources",
            flow(),
            "buffer_allocations",
            self.buffer_allocations.to_string(),
        );
        push(
            "resources",
            flow(),
            "pool_reuse_rate",
            self.pool_reuse_rate.to_string(),
        );
        push(
            "resources",
            flow(),
            "total_copies",
            self.total_copies.to_string(),
        );
        push(
            "resources",
            flow(),
            "copy_bytes",
            self.copy_bytes.to_string(),
        );
        push(
            "resources",
            flow(),
            "copies_per_element",
            self.copies_per_element.to_string(),
        );
        push(
            "resources",
            flow(),
            "copy_amplification",
            self.copy_amplification.to_string(),
        );
        push(
            "resources",
            flow(),
            "peak_memory_bytes",
            self.peak_memory_bytes
                .map_or(String::new(), |b| b.to_string()),
        );
        for c in &self.copies_by_reason {
            push(
                "copies",
                c.reason.to_string(),
                "operations",
                c.operations.to_string(),
            );
            push("copies", c.reason.to_string(), "bytes", c.bytes.to_string());
        }
        push("scheduling", flow(), "wakeups", self.wakeups.to_string());
        push("scheduling", flow(), "batches", self.batches.to_string());
        push(
            "scheduling",
            flow(),
            "backpressure_events",
            self.backpressure_events.to_string(),
        );
        for s in &self.streams {
            push(
                "stream",
                s.name.clone(),
                "queue_peak",
                s.queue_peak.to_string(),
            );
            push(
                "stream",
                s.name.clone(),
                "queue_capacity",
                s.queue_capacity.to_string(),
            );
            push(
                "stream",
                s.name.clone(),
                "backpressure_events",
                s.backpressure_events.to_string(),
            );
        }
        push("run", flow(), "elements", self.elements.to_string());
        push("run", flow(), "measured_s", self.measured_s.to_string());
        push("run", flow(), "flow_runs", self.flow_runs.to_string());
        if let Some(c) = &self.comparison {
            push(
                "comparison",
                c.baseline.clone(),
                "throughput_delta_pct",
                c.throughput_delta_pct.to_string(),
            );
            push(
                "comparison",
                c.baseline.clone(),
                "latency_p50_delta_pct",
                c.latency_p50_delta_pct.to_string(),
            );
            push(
                "comparison",
                c.baseline.clone(),
                "latency_p99_delta_pct",
                c.latency_p99_delta_pct.to_string(),
            );
            push(
                "comparison",
                c.baseline.clone(),
                "regression",
                c.regression.to_string(),
            );
        }
        rows
    }
}

fn title(section: &str) -> String {
    let mut chars = section.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn section(o: &mut String, name: &str) {
    let rule = "─".repeat(24usize.saturating_sub(name.chars().count()).max(2));
    let _ = write!(o, "\n  ── {name} {rule}\n");
}

fn row(o: &mut String, label: &str, value: &str) {
    let _ = writeln!(o, "  {label:<20}{value}");
}

fn micros(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn secs(s: f64) -> String {
    if s > 0.0 && s < 1.0 {
        format!("{}ms", (s * 1000.0).round())
    } else {
        format!("{}s", round3(s))
    }
}

fn pct(d: f64) -> String {
    format!("{d:+.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_runtime::reactor::latency::LatencyHistogram;

    #[test]
    fn the_pinned_wasmtime_version_is_the_workspace_one() {
        let manifest = include_str!("../../../../Cargo.toml");
        assert!(
            manifest.contains(&format!("wasmtime = {{ version = \"={WASMTIME_VERSION}\"")),
            "update WASMTIME_VERSION to the workspace's wasmtime pin"
        );
    }

    #[test]
    fn percentiles_come_within_a_bucket_of_the_true_values() {
        let mut h = LatencyHistogram::new();
        for v in 1..=10_000u64 {
            h.record(v * 100); // 100 ns … 1 ms, uniform
        }
        let p = Percentiles::of(&h.snapshot());
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.02;
        assert!(close(p.p50, 500.0), "p50 {}", p.p50);
        assert!(close(p.p99, 990.0), "p99 {}", p.p99);
        assert_eq!(p.max, 1_000.0);
        assert_eq!(p.count, 10_000);
    }

    #[test]
    fn figures_render_for_people() {
        assert_eq!(secs(0.25), "250ms");
        assert_eq!(secs(5.0), "5s");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
