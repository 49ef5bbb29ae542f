//! OTLP metrics push (`[observability] otlp_metrics_enabled`): every
//! `otlp_metrics_interval_s`, the metrics catalog — exactly what
//! `/metrics` serves — goes to the OTLP collector that
//! `tracing_exporter` (`otlp-http` or `otlp-grpc`) and `tracing_endpoint`
//! name, as cumulative OTLP metrics; once more when the pusher stops, so
//! a short run's last figures are not lost.
//!
//! - [`exposition`]: the Prometheus text, parsed back into families.
//! - [`otlp`]: families → `ExportMetricsServiceRequest`.
//! - [`transport`]: OTLP/HTTP (`POST …/v1/metrics`) and OTLP/gRPC
//!   (`MetricsService/Export`).

pub mod exposition;
pub mod otlp;
mod transport;

use super::export::{ExportConfig, ExportError};
use crate::host::TorvynHandle;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use torvyn_runtime::config::{ObservabilityConfig, TracingExporter};
use transport::Transport;

/// Where and how often metrics are pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsPushConfig {
    /// `otlp-http` or `otlp-grpc`, its endpoint, headers and compression.
    pub export: ExportConfig,
    /// The push interval.
    pub interval: Duration,
}

impl MetricsPushConfig {
    /// What `[observability]` asks for: `None` unless `metrics_enabled`
    /// and `otlp_metrics_enabled`. Metrics go to the OTLP collector of
    /// `tracing_exporter` / `tracing_endpoint` (with the standard
    /// OpenTelemetry header and compression variables); any other
    /// exporter is an error (E0702), not a silent no-op.
    pub fn from_observability(
        observability: &ObservabilityConfig,
    ) -> Result<Option<Self>, ExportError> {
        if !observability.metrics_enabled || !observability.otlp_metrics_enabled {
            return Ok(None);
        }
        let exporter = observability.exporter();
        if !matches!(
            exporter,
            TracingExporter::OtlpHttp | TracingExporter::OtlpGrpc
        ) {
            return Err(ExportError::InvalidEndpoint {
                exporter,
                endpoint: observability.tracing_endpoint.clone(),
                reason: "otlp_metrics_enabled pushes to the OTLP collector of tracing_exporter: set it to \"otlp-http\" or \"otlp-grpc\" (and tracing_endpoint)".into(),
            });
        }
        let export = ExportConfig::new(exporter, observability.tracing_endpoint.as_str())
            .with_env(|name| std::env::var(name).ok())?;
        Ok(Some(Self {
            export,
            interval: Duration::from_secs(observability.otlp_metrics_interval_s.max(1)),
        }))
    }
}

/// Pushes and failures so far.
#[derive(Debug, Default)]
struct Counters {
    pushed: AtomicU64,
    failed: AtomicU64,
}

/// The push thread; [`stop`](Self::stop) pushes once more and joins it.
pub struct MetricsPusher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for MetricsPusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsPusher")
            .field("pushed", &self.pushed())
            .finish_non_exhaustive()
    }
}

fn unix_ns(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl MetricsPusher {
    /// Starts pushing `handle`'s catalog as `config` says. An invalid
    /// endpoint is an error here; an unreachable collector is a warning
    /// per burst of failed pushes, never an error of the flows.
    pub fn start(handle: TorvynHandle, config: MetricsPushConfig) -> Result<Self, ExportError> {
        let mut transport = Transport::new(&config.export)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let counters = Arc::new(Counters::default());
        let started = unix_ns(SystemTime::now());
        let service = config.export.service_name.clone();
        let thread = {
            let counters = counters.clone();
            std::thread::Builder::new()
                .name("torvyn-metrics-push".into())
                .spawn(move || {
                    let mut failing = false;
                    loop {
                        let last = !matches!(
                            stopped.recv_timeout(config.interval),
                            Err(mpsc::RecvTimeoutError::Timeout)
                        );
                        let result = handle
                            .prometheus_metrics()
                            .map_err(|e| e.to_string())
                            .and_then(|text| {
                                let times = otlp::Times {
                                    start_unix_ns: started,
                                    now_unix_ns: unix_ns(SystemTime::now()),
                                };
                                let request = otlp::export_request(
                                    &service,
                                    &exposition::parse(&text),
                                    times,
                                );
                                transport.send(&request)
                            });
                        match result {
                            Ok(()) => {
                                counters.pushed.fetch_add(1, Ordering::Relaxed);
                                failing = false;
                            }
                            Err(reason) => {
                                counters.failed.fetch_add(1, Ordering::Relaxed);
                                if !failing {
                                    tracing::warn!(%reason, "OTLP metrics push failed");
                                }
                                failing = true;
                            }
                        }
                        if last {
                            break;
                        }
                    }
                })
                .map_err(ExportError::Spawn)?
        };
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
            counters,
        })
    }

    /// Pushes that reached the collector.
    pub fn pushed(&self) -> u64 {
        self.counters.pushed.load(Ordering::Relaxed)
    }

    /// Pushes that failed.
    pub fn failed(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    /// Pushes the final figures and stops. Call it before the host shuts
    /// down, so they are still there to read.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsPusher {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_unless_both_switches_are_on_and_only_to_an_otlp_collector() {
        let mut o = ObservabilityConfig::default();
        assert!(MetricsPushConfig::from_observability(&o).unwrap().is_none());
        o.otlp_metrics_enabled = true;
        // The default exporter (stdout) has no collector to push to.
        let error = MetricsPushConfig::from_observability(&o).unwrap_err();
        assert!(error.to_string().contains("otlp-http"), "{error}");
        o.tracing_exporter = Some(TracingExporter::OtlpGrpc);
        o.tracing_endpoint = "http://127.0.0.1:4317".into();
        o.otlp_metrics_interval_s = 3;
        let config = MetricsPushConfig::from_observability(&o).unwrap().unwrap();
        assert_eq!(config.interval, Duration::from_secs(3));
        o.metrics_enabled = false;
        assert!(MetricsPushConfig::from_observability(&o).unwrap().is_none());
    }
}
