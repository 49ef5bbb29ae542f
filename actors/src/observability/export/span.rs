//! [`SpanData`]: one finished span as the exporter receives it.
//!
//! Spans are rebuilt from records the hot path wrote, so every id and
//! timestamp is explicit; nothing here reads the clock.

/// One finished span, with explicit ids and times.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanData {
    /// The W3C trace id (16 bytes, non-zero).
    pub trace_id: [u8; 16],
    /// This span's id (8 bytes, non-zero).
    pub span_id: [u8; 8],
    /// The parent span's id; `None` for a root span.
    pub parent_span_id: Option<[u8; 8]>,
    /// What the span covers, e.g. `"flow main"`, `"transform process"`.
    pub name: String,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// End, in nanoseconds since the Unix epoch.
    pub end_unix_ns: u64,
    /// Key/value attributes.
    pub attributes: Vec<(&'static str, AttrValue)>,
    /// Timed events inside the span (copies, backpressure…).
    pub events: Vec<SpanEvent>,
    /// How the span ended.
    pub status: SpanStatus,
}

/// An attribute value (the OTLP `AnyValue` scalars).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A string.
    Str(String),
    /// A signed integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A floating-point number.
    Double(f64),
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Str(s.to_string())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Str(s)
    }
}

impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        AttrValue::Int(v)
    }
}

impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        AttrValue::Bool(v)
    }
}

impl From<f64> for AttrValue {
    fn from(v: f64) -> Self {
        AttrValue::Double(v)
    }
}

/// A timed event inside a span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEvent {
    /// What happened, e.g. `"copy"`, `"backpressure"`.
    pub name: String,
    /// When, in nanoseconds since the Unix epoch.
    pub time_unix_ns: u64,
    /// Key/value attributes.
    pub attributes: Vec<(&'static str, AttrValue)>,
}

/// How a span ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SpanStatus {
    /// Not set (the OTLP default).
    #[default]
    Unset,
    /// Completed successfully.
    Ok,
    /// Failed, with a message.
    Error(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_values_convert_from_scalars() {
        assert_eq!(AttrValue::from("a"), AttrValue::Str("a".into()));
        assert_eq!(AttrValue::from(3_i64), AttrValue::Int(3));
        assert_eq!(AttrValue::from(true), AttrValue::Bool(true));
        assert_eq!(AttrValue::from(0.5), AttrValue::Double(0.5));
    }

    #[test]
    fn status_defaults_to_unset_not_ok() {
        assert_eq!(SpanStatus::default(), SpanStatus::Unset);
        assert_ne!(SpanStatus::default(), SpanStatus::Ok);
    }
}
