//! `[observability]` (whose keys may also be grouped under
//! `[observability.tracing]`, as the spec's production guide writes them).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How much the runtime observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ObservabilityLevel {
    /// No collection (bare-metal benchmarks only).
    Off,
    /// Counters, histograms and sampled traces (default).
    #[default]
    Production,
    /// Everything, per element.
    Diagnostic,
}

impl ObservabilityLevel {
    /// Every level, lowest first.
    pub const ALL: [ObservabilityLevel; 3] = [
        ObservabilityLevel::Off,
        ObservabilityLevel::Production,
        ObservabilityLevel::Diagnostic,
    ];

    /// The level as written in configuration (`off`, `production`,
    /// `diagnostic`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObservabilityLevel::Off => "off",
            ObservabilityLevel::Production => "production",
            ObservabilityLevel::Diagnostic => "diagnostic",
        }
    }

    /// The level written `name`, if any.
    pub fn from_name(name: &str) -> Option<ObservabilityLevel> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

impl std::fmt::Display for ObservabilityLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where traces go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TracingExporter {
    /// OTLP over gRPC.
    OtlpGrpc,
    /// OTLP over HTTP.
    OtlpHttp,
    /// Standard output (default).
    #[default]
    Stdout,
    /// A file.
    File,
    /// Nowhere (written `"none"`).
    #[serde(rename = "none")]
    Disabled,
}

/// `[observability]` — observability configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[schemars(transform = tracing_holds_the_same_keys)]
pub struct ObservabilityConfig {
    /// Observability level (default `production`).
    pub level: ObservabilityLevel,
    /// Enable trace collection (default true).
    pub tracing_enabled: bool,
    /// Trace export target as written (`None`: not set; the spec's
    /// default is `stdout`). Spans are exported only to an exporter set
    /// explicitly — see [`ObservabilityConfig::trace_export`] — so a plain
    /// `torvyn run` keeps stdout for the components' own output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_exporter: Option<TracingExporter>,
    /// OTLP endpoint URL for `otlp-grpc` / `otlp-http` (default "").
    pub tracing_endpoint: String,
    /// Head-based trace sampling rate, 0.0–1.0 (default 0.01).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub sample_rate: f64,
    /// Promote errored flows to full tracing (default true).
    pub error_promote: bool,
    /// Promote flows slower than this, in milliseconds (default 10).
    pub latency_promote_threshold_ms: u64,
    /// Enable metrics collection (default true). When false, neither
    /// `/metrics` nor the OTLP push exports the metrics catalog.
    pub metrics_enabled: bool,
    /// Serve /metrics on the inspection API (default true).
    pub prometheus_enabled: bool,
    /// Push the metrics catalog via OTLP to the collector of
    /// `tracing_exporter` (`otlp-http` or `otlp-grpc`) and
    /// `tracing_endpoint`, every `otlp_metrics_interval_s` and when the
    /// host stops (default false).
    pub otlp_metrics_enabled: bool,
    /// OTLP metrics push interval in seconds (default 15). Also spelled
    /// `otlp_export_interval_s`.
    #[serde(alias = "otlp_export_interval_s")]
    #[schemars(range(min = 1), extend("x-aliases" = ["otlp_export_interval_s"]))]
    pub otlp_metrics_interval_s: u64,
    /// Per-flow span ring buffer size for retroactive sampling (default 64).
    /// On flows where each node is reached one way, the calls a promotion
    /// can rebuild from the flow's shape are not kept in it.
    /// A flow reserves 32 bytes per slot when it enters production level:
    /// at most 1 Mi slots (32 MiB), far past any useful window.
    #[schemars(range(min = 1, max = 1 << 20))]
    pub ring_buffer_capacity: u32,
    /// Serve the inspection API while `torvyn run`, `trace`, `bench` or
    /// `serve` runs (default true; `--no-inspect` turns it off for one
    /// command).
    pub inspection: bool,
    /// Where the inspection API listens: "" (default) for the Unix socket
    /// `$TORVYN_STATE_DIR/torvyn.sock`, or a loopback `HOST:PORT` for TCP.
    pub inspection_address: String,
    /// Bearer token the TCP inspection API requires (default ""; TCP is
    /// refused without one).
    pub inspection_token: String,
}

/// `[observability.tracing]` holds `[observability]`'s own keys (as the
/// spec's production guide writes them): its schema is an `x-inline`
/// property, which the loader lifts into the parent table.
fn tracing_holds_the_same_keys(schema: &mut schemars::Schema) {
    let Some(properties) = schema.get("properties").cloned() else {
        return;
    };
    let tracing = serde_json::json!({
        "description": "Alternative spelling: [observability] keys grouped under [observability.tracing].",
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "x-inline": true,
    });
    if let Some(serde_json::Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert("tracing".into(), tracing);
    }
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        ObservabilityConfig {
            level: ObservabilityLevel::Production,
            tracing_enabled: true,
            tracing_exporter: None,
            tracing_endpoint: String::new(),
            sample_rate: 0.01,
            error_promote: true,
            latency_promote_threshold_ms: 10,
            metrics_enabled: true,
            prometheus_enabled: true,
            otlp_metrics_enabled: false,
            otlp_metrics_interval_s: 15,
            ring_buffer_capacity: 64,
            inspection: true,
            inspection_address: String::new(),
            inspection_token: String::new(),
        }
    }
}

impl ObservabilityConfig {
    /// The trace export target: as set, else the spec's default `stdout`.
    pub fn exporter(&self) -> TracingExporter {
        self.tracing_exporter.unwrap_or_default()
    }

    /// Where sampled spans are exported, if anywhere: only when tracing is
    /// enabled and an exporter other than `none` was set explicitly.
    pub fn trace_export(&self) -> Option<TracingExporter> {
        match self.tracing_exporter {
            Some(TracingExporter::Disabled) | None => None,
            Some(exporter) if self.tracing_enabled => Some(exporter),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_none_is_spelled_none() {
        let parse = |s: &str| toml::Value::String(s.into()).try_into::<TracingExporter>();
        assert_eq!(parse("none").unwrap(), TracingExporter::Disabled);
        assert_eq!(parse("otlp-grpc").unwrap(), TracingExporter::OtlpGrpc);
        assert!(parse("disabled").is_err());
    }

    #[test]
    fn spans_are_exported_only_to_an_explicit_exporter_with_tracing_on() {
        let mut config = ObservabilityConfig::default();
        assert_eq!(config.exporter(), TracingExporter::Stdout);
        assert_eq!(config.trace_export(), None);
        config.tracing_exporter = Some(TracingExporter::OtlpHttp);
        assert_eq!(config.trace_export(), Some(TracingExporter::OtlpHttp));
        config.tracing_enabled = false;
        assert_eq!(config.trace_export(), None);
        config.tracing_enabled = true;
        config.tracing_exporter = Some(TracingExporter::Disabled);
        assert_eq!(config.trace_export(), None);
    }

    #[test]
    fn level_names_round_trip() {
        for level in ObservabilityLevel::ALL {
            assert_eq!(ObservabilityLevel::from_name(level.as_str()), Some(level));
            let parsed: ObservabilityLevel =
                toml::Value::String(level.to_string()).try_into().unwrap();
            assert_eq!(parsed, level);
        }
        assert_eq!(ObservabilityLevel::from_name("verbose"), None);
    }
}
