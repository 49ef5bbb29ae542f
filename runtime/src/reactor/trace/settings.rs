//! How much a flow traces ([`TraceMode`]) and with which sampling,
//! promotion and buffer sizes ([`TraceSettings`]).

/// Payload bytes a [`TraceRecord::Payload`](super::TraceRecord::Payload) carries at most.
pub const PREVIEW_BYTES: usize = 32;

/// How much a flow traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceMode {
    /// Nothing.
    #[default]
    Off,
    /// Sampled elements, plus promoted ones.
    Sampled,
    /// Every element and event.
    Full,
}

/// Tracing settings of a flow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceSettings {
    /// Head-based sample rate in [`TraceMode::Sampled`], 0.0 – 1.0.
    pub sample_rate: f64,
    /// Export the calls of an element that failed.
    pub error_promote: bool,
    /// Export the calls of an element slower than this, in ns (0 = never).
    pub latency_promote_ns: u64,
    /// Unsampled calls kept for retroactive export.
    pub ring_capacity: usize,
    /// Records kept for export between two drains before new ones are
    /// dropped.
    pub export_capacity: usize,
    /// Payload bytes captured per call in [`TraceMode::Full`] (0 – 32).
    pub preview_bytes: usize,
    /// Mixed into the sampling hash so flows sample different elements.
    pub seed: u64,
}

impl Default for TraceSettings {
    /// The sampling of a default `[observability]` table.
    fn default() -> Self {
        let defaults = crate::config::ObservabilityConfig::default();
        Self {
            sample_rate: defaults.sample_rate,
            error_promote: defaults.error_promote,
            latency_promote_ns: defaults.latency_promote_threshold_ms * 1_000_000,
            ring_capacity: defaults.ring_buffer_capacity as usize,
            export_capacity: 8192,
            preview_bytes: 0,
            seed: 0,
        }
    }
}
