//! W3C trace-context ids: generation, hex encoding and the `traceparent`
//! header (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`).

use torvyn_runtime::reactor::trace::lower_hex;

/// A W3C `traceparent` header that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceparentError {
    /// Not four `-`-separated fields of lengths 2, 32, 16 and 2.
    #[error("traceparent `{0}` is not `00-<32 hex>-<16 hex>-<2 hex>`")]
    Malformed(String),
    /// A field holds a character that is not lowercase hex.
    #[error("traceparent `{0}` has a non-hex (or uppercase) character")]
    NotHex(String),
    /// Version `ff` is forbidden, and only version `00` is understood.
    #[error("traceparent version `{0}` is not supported (only `00`)")]
    UnsupportedVersion(String),
    /// An all-zero trace id or span id is invalid.
    #[error("traceparent `{0}` has an all-zero trace id or span id")]
    ZeroId(String),
}

/// A parsed `traceparent` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The parent span id (the caller's span).
    pub span_id: [u8; 8],
    /// Whether the caller sampled the trace (flag bit 0).
    pub sampled: bool,
}

/// A random, non-zero 16-byte trace id.
pub fn new_trace_id() -> [u8; 16] {
    random_non_zero()
}

/// A random, non-zero 8-byte span id.
pub fn new_span_id() -> [u8; 8] {
    random_non_zero()
}

/// Fills `N` bytes from the OS generator until they are not all zero.
/// Falls back to a time-and-counter mix if the OS generator fails, so id
/// generation never fails (ids need to be unique, not secret).
fn random_non_zero<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    loop {
        if getrandom::fill(&mut bytes).is_err() {
            fallback_fill(&mut bytes);
        }
        if bytes.iter().any(|b| *b != 0) {
            return bytes;
        }
    }
}

fn fallback_fill(bytes: &mut [u8]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut state = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    for chunk in bytes.chunks_mut(8) {
        // splitmix64 step.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}

/// A trace id as 32 lowercase hex digits.
pub fn trace_id_hex(trace_id: &[u8; 16]) -> String {
    lower_hex(trace_id)
}

/// A span id as 16 lowercase hex digits.
pub fn span_id_hex(span_id: &[u8; 8]) -> String {
    lower_hex(span_id)
}

/// The W3C `traceparent` header for a span: version `00`, flags `01` if
/// sampled, else `00`.
pub fn traceparent(trace_id: &[u8; 16], span_id: &[u8; 8], sampled: bool) -> String {
    format!(
        "00-{}-{}-{}",
        trace_id_hex(trace_id),
        span_id_hex(span_id),
        if sampled { "01" } else { "00" }
    )
}

/// Parses a W3C `traceparent` header (version `00` only, lowercase hex,
/// non-zero ids).
pub fn parse_traceparent(header: &str) -> Result<TraceParent, TraceparentError> {
    let header = header.trim();
    let malformed = || TraceparentError::Malformed(header.to_string());
    let fields: Vec<&str> = header.split('-').collect();
    let [version, trace, span, flags] = fields.as_slice() else {
        return Err(malformed());
    };
    if version.len() != 2 || trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
        return Err(malformed());
    }
    let not_hex = || TraceparentError::NotHex(header.to_string());
    let version_byte = decode::<1>(version).ok_or_else(not_hex)?;
    let trace_id = decode::<16>(trace).ok_or_else(not_hex)?;
    let span_id = decode::<8>(span).ok_or_else(not_hex)?;
    let flags = decode::<1>(flags).ok_or_else(not_hex)?;
    if version_byte != [0] {
        return Err(TraceparentError::UnsupportedVersion(version.to_string()));
    }
    if trace_id == [0; 16] || span_id == [0; 8] {
        return Err(TraceparentError::ZeroId(header.to_string()));
    }
    Ok(TraceParent {
        trace_id,
        span_id,
        sampled: flags[0] & 1 == 1,
    })
}

/// Decodes exactly `N` bytes of lowercase hex.
fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != N * 2 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in digits.chunks(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_non_zero_and_distinct() {
        let (a, b) = (new_trace_id(), new_trace_id());
        assert_ne!(a, [0; 16]);
        assert_ne!(a, b);
        let (c, d) = (new_span_id(), new_span_id());
        assert_ne!(c, [0; 8]);
        assert_ne!(c, d);
    }

    #[test]
    fn fallback_fill_is_not_all_zero() {
        let mut bytes = [0u8; 16];
        fallback_fill(&mut bytes);
        assert_ne!(bytes, [0; 16]);
    }

    #[test]
    fn ids_encode_as_lowercase_hex() {
        let trace = [0xab; 16];
        assert_eq!(trace_id_hex(&trace), "ab".repeat(16));
        let span = [0, 1, 2, 3, 0xfc, 0xfd, 0xfe, 0xff];
        assert_eq!(span_id_hex(&span), "00010203fcfdfeff");
    }

    #[test]
    fn traceparent_round_trips() {
        let (trace_id, span_id) = (new_trace_id(), new_span_id());
        for sampled in [true, false] {
            let header = traceparent(&trace_id, &span_id, sampled);
            assert_eq!(header.len(), 55);
            let parsed = parse_traceparent(&header).expect("own header parses");
            assert_eq!(
                parsed,
                TraceParent {
                    trace_id,
                    span_id,
                    sampled
                }
            );
        }
    }

    #[test]
    fn parses_the_w3c_example() {
        let parsed = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("the spec's example parses");
        assert_eq!(
            trace_id_hex(&parsed.trace_id),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(span_id_hex(&parsed.span_id), "00f067aa0ba902b7");
        assert!(parsed.sampled);
    }

    #[test]
    fn rejects_malformed_headers() {
        let t = "4bf92f3577b34da6a3ce929d0e0e4736";
        let s = "00f067aa0ba902b7";
        let cases = [
            (String::new(), "Malformed"),
            (format!("00-{t}-{s}"), "Malformed"),
            (format!("00-{t}-{s}-01-extra"), "Malformed"),
            (format!("00-{t}0-{s}-01"), "Malformed"),
            (format!("00-{}-{s}-01", t.to_uppercase()), "NotHex"),
            (format!("00-{t}-{s}-0g"), "NotHex"),
            (format!("ff-{t}-{s}-01"), "UnsupportedVersion"),
            (format!("00-{}-{s}-01", "0".repeat(32)), "ZeroId"),
            (format!("00-{t}-{}-01", "0".repeat(16)), "ZeroId"),
        ];
        for (header, kind) in cases {
            let err = parse_traceparent(&header).expect_err(&header);
            assert!(format!("{err:?}").starts_with(kind), "{header}: {err:?}");
        }
    }
}
