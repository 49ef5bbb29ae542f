//! What runs beside the host of `torvyn run`, `trace`, `bench` and
//! `serve` ([`HostServices`]):
//!
//! - the inspection API (`/metrics`, `/flows`, control, `/audit`): on by
//!   default at `$TORVYN_STATE_DIR/torvyn.sock`, as the configuration
//!   reference's `prometheus_enabled = true` promises; off with
//!   `--no-inspect` or `[observability] inspection = false`;
//! - the OTLP metrics push (`otlp_metrics_enabled`).

use super::prepare::{pipeline, validation, Failure};
use crate::output::Output;
use torvyn_actors::{
    InspectionConfig, InspectionServer, MetricsPushConfig, MetricsPusher, TorvynHandle,
};
use torvyn_runtime::config::ObservabilityConfig;

/// The flags that turn the inspection API on or off.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct InspectArgs {
    /// Serve the inspection API and print its address (it is served by
    /// default; this also overrides `[observability] inspection = false`).
    #[arg(long, conflicts_with = "no_inspect")]
    pub inspect: bool,
    /// Do not serve the inspection API (/metrics, /flows, control).
    #[arg(long)]
    pub no_inspect: bool,
}

impl InspectArgs {
    /// Whether to serve it under `observability`.
    fn wanted(self, observability: &ObservabilityConfig) -> bool {
        !self.no_inspect && (self.inspect || observability.inspection)
    }
}

/// The inspection API and the metrics push of one host.
pub struct HostServices {
    inspection: Option<InspectionServer>,
    metrics: Option<MetricsPusher>,
}

impl HostServices {
    /// Starts what `observability` and `args` ask for beside `host`. On an
    /// error the host is shut down (nothing else will).
    pub fn start(
        args: InspectArgs,
        observability: &ObservabilityConfig,
        host: &TorvynHandle,
        announce: bool,
        out: &Output,
    ) -> Result<Self, Failure> {
        let started =
            serve_inspection(args, observability, host, announce, out).and_then(|inspection| {
                let metrics = match MetricsPushConfig::from_observability(observability)
                    .map_err(validation)?
                {
                    Some(config) => {
                        Some(MetricsPusher::start(host.clone(), config).map_err(pipeline)?)
                    }
                    None => None,
                };
                Ok(Self {
                    inspection,
                    metrics,
                })
            });
        if started.is_err() {
            host.shutdown();
        }
        started
    }

    /// Pushes the last metrics and stops serving; then the host may shut
    /// down (both hold a handle).
    pub fn stop(self) {
        if let Some(metrics) = self.metrics {
            metrics.stop();
        }
        if let Some(server) = self.inspection {
            server.stop();
        }
    }
}

/// Starts the inspection API for `host` when wanted. Its address is a
/// status line with `--inspect` or `announce` (`torvyn serve`), and a
/// debug log otherwise (the default socket's path is documented).
fn serve_inspection(
    args: InspectArgs,
    observability: &ObservabilityConfig,
    host: &TorvynHandle,
    announce: bool,
    out: &Output,
) -> Result<Option<InspectionServer>, Failure> {
    if !args.wanted(observability) {
        return Ok(None);
    }
    let config = InspectionConfig::from_observability(observability).map_err(validation)?;
    let server = InspectionServer::start(host.clone(), config).map_err(pipeline)?;
    if args.inspect || announce {
        out.status(&format!("Inspection API:          {}", server.address()));
    } else {
        tracing::debug!(address = %server.address(), "inspection API listening");
    }
    Ok(Some(server))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_by_default_off_with_no_inspect_or_the_setting() {
        let on = ObservabilityConfig::default();
        assert!(InspectArgs::default().wanted(&on));
        let no_inspect = InspectArgs {
            no_inspect: true,
            ..InspectArgs::default()
        };
        assert!(!no_inspect.wanted(&on));
        let off = ObservabilityConfig {
            inspection: false,
            ..ObservabilityConfig::default()
        };
        assert!(!InspectArgs::default().wanted(&off));
        let inspect = InspectArgs {
            inspect: true,
            ..InspectArgs::default()
        };
        assert!(inspect.wanted(&off));
    }
}
