//! Std-only helpers shared by the test guest components.
//!
//! The guest crates generate their own WIT bindings, so nothing here touches
//! Torvyn types; this crate holds the plain-Rust pieces they have in common:
//!
//! - [`Config`]: a tiny JSON object parser for the `lifecycle.init` config
//!   string (no serde, keeps guest builds fast and small);
//! - [`Fnv1a`]: the 64-bit FNV-1a checksum the sinks report;
//! - [`counter_payload`]: the deterministic payload `counter-source` emits,
//!   so host-side tests can recompute expected bytes and checksums;
//! - [`Global`]: per-instance mutable component state without `static mut`.

use std::collections::BTreeMap;
use std::sync::Mutex;

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

/// A JSON value as far as component configs need it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, kept as its source text so integers stay exact.
    Number(String),
    /// A string with escapes decoded.
    String(String),
    /// An array (accepted so configs may carry extra keys; no accessors).
    Array(Vec<Value>),
    /// A nested object (accepted; no accessors).
    Object(BTreeMap<String, Value>),
}

/// A parsed `lifecycle.init` configuration: the top-level JSON object.
///
/// An empty (or all-whitespace) config string parses to an empty config, so
/// every key falls back to its default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    entries: BTreeMap<String, Value>,
}

impl Config {
    /// Parse `text` as a JSON object. Errors carry a human-readable reason.
    pub fn parse(text: &str) -> Result<Config, String> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        parser.skip_ws();
        let value = parser.value()?;
        parser.skip_ws();
        if parser.pos != parser.bytes.len() {
            return Err(parser.error("trailing characters after JSON value"));
        }
        match value {
            Value::Object(entries) => Ok(Config { entries }),
            _ => Err("config must be a JSON object".to_string()),
        }
    }

    /// The raw value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.get(key)
    }

    /// `key` as a non-negative integer, or `default` when absent or `null`.
    pub fn u64_or(&self, key: &str, default: u64) -> Result<u64, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .parse::<u64>()
                .map_err(|_| format!("config key `{key}` must be a non-negative integer, got {n}")),
            Some(other) => Err(format!(
                "config key `{key}` must be an integer, got {other:?}"
            )),
        }
    }

    /// `key` as a string, or `None` when absent or `null`.
    pub fn str_opt(&self, key: &str) -> Result<Option<&str>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "config key `{key}` must be a string, got {other:?}"
            )),
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("invalid config JSON at byte {}: {what}", self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", byte as char)))
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected token"))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        self.expect(b'{')?;
        let mut entries = BTreeMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(entries));
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let value = self.value()?;
            entries.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(entries));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).expect("ASCII digits");
        if text.parse::<f64>().is_err() {
            return Err(self.error("malformed number"));
        }
        Ok(Value::Number(text.to_string()))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while !matches!(self.peek(), Some(b'"' | b'\\') | None) {
                self.pos += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.bytes[start..self.pos])
                    .map_err(|_| self.error("invalid UTF-8"))?,
            );
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hex = self
                                .bytes
                                .get(self.pos + 1..self.pos + 5)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .ok_or_else(|| self.error("bad \\u escape"))?;
                            self.pos += 4;
                            char::from_u32(hex).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(self.error("bad escape")),
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                _ => return Err(self.error("unterminated string")),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Checksums and payloads
// ---------------------------------------------------------------------------

/// Streaming 64-bit FNV-1a (offset basis `0xcbf29ce484222325`, prime
/// `0x100000001b3`).
///
/// The sinks feed every payload byte, in arrival order, into one hasher, so
/// the checksum covers the concatenation of all payloads of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv1a(u64);

impl Fnv1a {
    /// FNV-1a 64-bit offset basis.
    pub const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    /// FNV-1a 64-bit prime.
    pub const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// A hasher in its initial state.
    pub const fn new() -> Self {
        Fnv1a(Self::OFFSET_BASIS)
    }

    /// Feed `bytes` into the hash.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(Self::PRIME);
        }
        self.0 = h;
    }

    /// The current hash value.
    pub const fn value(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv1a {
    fn default() -> Self {
        Self::new()
    }
}

/// The payload `counter-source` emits for element `index` (0-based), exactly
/// `size` bytes long.
///
/// Byte `j` is byte `j` of the ASCII header `"{index} "` (decimal index and
/// one space) while `j` is inside the header, and `b'a' + (j % 26)` after it.
/// If `size` is smaller than the header, the header is truncated. Example:
/// `counter_payload(7, 8) == b"7 cdefgh"`.
pub fn counter_payload(index: u64, size: usize) -> Vec<u8> {
    let mut payload = Vec::with_capacity(size);
    counter_payload_into(index, size, &mut payload);
    payload
}

/// [`counter_payload`] appended to `out` (a packed batch).
pub fn counter_payload_into(index: u64, size: usize, out: &mut Vec<u8>) {
    let header = format!("{index} ");
    let header = header.as_bytes();
    out.extend((0..size).map(|j| match header.get(j) {
        Some(&b) => b,
        None => b'a' + (j % 26) as u8,
    }));
}

/// The payloads of a `torvyn:batching/batch-buffers.packed-payloads`
/// (`bytes` end to end, each ending at its `ends` entry), as slices.
pub fn packed_slices<'a>(bytes: &'a [u8], ends: &'a [u32]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let starts = std::iter::once(0).chain(ends.iter().map(|&e| e as usize));
    starts
        .zip(ends.iter().map(|&e| e as usize))
        .map(move |(start, end)| bytes.get(start..end).unwrap_or_default())
}

// ---------------------------------------------------------------------------
// Component state
// ---------------------------------------------------------------------------

/// Mutable per-instance component state.
///
/// A component instance is single-threaded and never re-entered, so the lock
/// is never contended; it only exists to avoid `static mut`. State is created
/// with `Default` on first use, so a component works even if the runtime
/// skips `lifecycle.init`.
pub struct Global<T>(Mutex<Option<T>>);

impl<T: Default> Global<T> {
    /// An empty slot (usable in a `static`).
    pub const fn new() -> Self {
        Global(Mutex::new(None))
    }

    /// Replace the state.
    pub fn set(&self, value: T) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
    }

    /// Run `f` with exclusive access to the state.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(guard.get_or_insert_with(T::default))
    }
}

impl<T: Default> Default for Global<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flat_objects() {
        let c =
            Config::parse(r#" {"count": 10, "kind": "fatal", "x": [1, {"y": null}], "b": true} "#)
                .unwrap();
        assert_eq!(c.u64_or("count", 1).unwrap(), 10);
        assert_eq!(c.u64_or("missing", 7).unwrap(), 7);
        assert_eq!(c.str_opt("kind").unwrap(), Some("fatal"));
        assert!(c.u64_or("kind", 0).is_err());
        assert!(Config::parse("").unwrap().get("count").is_none());
        assert!(Config::parse("{\"count\": }").is_err());
        assert!(Config::parse("[1]").is_err());
        assert!(Config::parse("{\"count\": -1}")
            .unwrap()
            .u64_or("count", 0)
            .is_err());
    }

    #[test]
    fn payload_and_checksum() {
        assert_eq!(counter_payload(7, 8), b"7 cdefgh");
        assert_eq!(counter_payload(123, 2), b"12");
        let mut h = Fnv1a::new();
        h.update(b"a");
        assert_eq!(h.value(), 0xaf63dc4c8601ec8c);
    }
}
