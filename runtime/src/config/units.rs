//! Size strings (`64MiB`, `512KiB`, `1GiB`, `4096`) and duration strings
//! (`30s`, `5m`, `100ms`, `1h`, `2.5s`, `1h30m`).
//!
//! Sizes accept binary units (`KiB`, `MiB`, `GiB`, `TiB`, also written
//! `Ki`, `Mi`, ...), decimal units (`KB`/`K` = 1000, `MB`/`M`, `GB`/`G`,
//! `TB`/`T`), `B`, or no unit (bytes). Units are case-insensitive and may
//! be separated from the number by spaces; `_` may group digits. A
//! fraction is allowed if the result is a whole number of bytes
//! (`1.5KiB` = 1536).
//!
//! Durations are one or more `<number><unit>` parts with units `ns`,
//! `us` (or `µs`), `ms`, `s`, `m`, `h`, `d`; a bare number is rejected
//! because its unit would be a guess.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Coded, ErrorCode};

/// A size or duration string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} `{input}`: {reason}")]
pub struct UnitError {
    /// `size` or `duration`.
    pub kind: &'static str,
    /// The text as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl UnitError {
    fn size(input: &str, reason: impl Into<String>) -> Self {
        UnitError {
            kind: "size",
            input: input.to_string(),
            reason: reason.into(),
        }
    }

    fn duration(input: &str, reason: impl Into<String>) -> Self {
        UnitError {
            kind: "duration",
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}

impl Coded for UnitError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ConstraintViolation
    }

    fn help(&self) -> String {
        match self.kind {
            "size" => "write a size like `64MiB`, `512KiB`, `1GiB` or a plain byte count".into(),
            _ => "write a duration like `30s`, `5m`, `100ms`, `1h` or `2.5s`".into(),
        }
    }
}

/// A number as written: integer digits, fraction digits.
struct Decimal {
    int: u128,
    frac: u128,
    frac_digits: u32,
}

impl Decimal {
    /// `self × unit`, exactly; `None` on overflow. The second value is
    /// the remainder left over when the result is not a whole number.
    fn times(&self, unit: u128) -> Option<(u128, u128)> {
        let scale = 10u128.checked_pow(self.frac_digits)?;
        let scaled = self.int.checked_mul(scale)?.checked_add(self.frac)?;
        let total = scaled.checked_mul(unit)?;
        Some((total / scale, total % scale))
    }
}

/// Splits a leading decimal number (`12`, `1_000`, `2.5`) off `s`.
fn leading_decimal(s: &str) -> Option<(Decimal, &str)> {
    let end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '_' || c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let (number, rest) = s.split_at(end);
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() || !int_part.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if (number.contains('.') && frac_part.is_empty()) || frac_part.contains(['.', '_']) {
        return None;
    }
    let digits = |part: &str| -> Option<u128> {
        let mut value: u128 = 0;
        for c in part.chars().filter(|&c| c != '_') {
            value = value
                .checked_mul(10)?
                .checked_add(u128::from(c.to_digit(10)?))?;
        }
        Some(value)
    };
    let frac_digits = u32::try_from(frac_part.len()).ok().filter(|&n| n <= 18)?;
    Some((
        Decimal {
            int: digits(int_part)?,
            frac: digits(frac_part)?,
            frac_digits,
        },
        rest,
    ))
}

/// Parses a size string into bytes: `64MiB` → 67108864.
pub fn parse_size(input: &str) -> Result<u64, UnitError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(UnitError::size(input, "it is empty"));
    }
    if s.starts_with('-') {
        return Err(UnitError::size(input, "sizes cannot be negative"));
    }
    let (number, unit) = leading_decimal(s)
        .ok_or_else(|| UnitError::size(input, "it does not start with a number"))?;
    let unit = unit.trim();
    let multiplier: u128 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        "ti" | "tib" => 1 << 40,
        _ => {
            return Err(UnitError::size(
                input,
                format!("unknown unit `{unit}` (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"),
            ))
        }
    };
    let (bytes, remainder) = number
        .times(multiplier)
        .ok_or_else(|| UnitError::size(input, "it is too large"))?;
    if remainder != 0 {
        return Err(UnitError::size(input, "it is not a whole number of bytes"));
    }
    u64::try_from(bytes).map_err(|_| UnitError::size(input, "it is too large"))
}

/// Formats bytes with the largest binary unit (all powers of two) that
/// divides them exactly:
/// 67108864 → `64MiB`, 1000 → `1000B`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (name, unit) in UNITS {
        if bytes >= unit && bytes & (unit - 1) == 0 {
            return format!("{}{name}", bytes / unit);
        }
    }
    format!("{bytes}B")
}

/// Parses a duration string: `30s`, `5m`, `100ms`, `1h`, `2.5s`, `1h30m`.
pub fn parse_duration(input: &str) -> Result<Duration, UnitError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(UnitError::duration(input, "it is empty"));
    }
    if s.starts_with('-') {
        return Err(UnitError::duration(input, "durations cannot be negative"));
    }
    let mut rest = s;
    let mut total_ns: u128 = 0;
    while !rest.is_empty() {
        let (number, after) = leading_decimal(rest)
            .ok_or_else(|| UnitError::duration(input, format!("expected a number at `{rest}`")))?;
        let unit_end = after
            .char_indices()
            .find(|&(_, c)| c.is_ascii_digit() || c.is_whitespace())
            .map_or(after.len(), |(i, _)| i);
        let (unit, next) = after.split_at(unit_end);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            "" => {
                return Err(UnitError::duration(
                    input,
                    "missing unit (write e.g. `30s`, `100ms` or `5m`)",
                ))
            }
            other => {
                return Err(UnitError::duration(
                    input,
                    format!("unknown unit `{other}` (use ns, us, ms, s, m, h or d)"),
                ))
            }
        };
        let (ns, _sub_ns) = number
            .times(unit_ns)
            .ok_or_else(|| UnitError::duration(input, "it is too large"))?;
        total_ns = total_ns
            .checked_add(ns)
            .ok_or_else(|| UnitError::duration(input, "it is too large"))?;
        rest = next.trim_start();
    }
    let secs = u64::try_from(total_ns / 1_000_000_000)
        .map_err(|_| UnitError::duration(input, "it is too large"))?;
    // The remainder of a division by 10^9 always fits in u32.
    let nanos = (total_ns % 1_000_000_000) as u32;
    Ok(Duration::new(secs, nanos))
}

/// A byte count written in a manifest as `"64MiB"` (or a plain integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// `n` mebibytes.
    pub const fn mib(n: u64) -> Self {
        ByteSize(n << 20)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_size(self.0))
    }
}

impl FromStr for ByteSize {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_size(s).map(ByteSize)
    }
}

/// Matches what [`parse_size`] accepts (the JSON Schema's `pattern`).
const SIZE_PATTERN: &str = "^\\s*[0-9][0-9_]*(\\.[0-9]+)?\\s*([kKmMgGtT][iI]?)?[bB]?\\s*$";

impl schemars::JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }

    /// A size string such as `"64MiB"`, or a byte count; at least one byte.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A size such as \"64MiB\", \"512KiB\" or \"1GiB\", or a byte count.",
            "type": ["string", "integer"],
            "pattern": SIZE_PATTERN,
            "minimum": 1,
        })
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_size(self.0))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl de::Visitor<'_> for SizeVisitor {
            type Value = ByteSize;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"64MiB\" or a byte count")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                parse_size(v).map(ByteSize).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("sizes cannot be negative"))
            }
        }

        deserializer.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_every_spelling() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4096B"), Ok(4096));
        assert_eq!(parse_size("1_048_576"), Ok(1 << 20));
        assert_eq!(parse_size(" 64 mib "), Ok(64 << 20));
        assert_eq!(parse_size("64Mi"), Ok(64 << 20));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("2k"), Ok(2_000));
        assert_eq!(parse_size("0"), Ok(0));
    }

    #[test]
    fn bad_sizes_say_why() {
        for bad in [
            "",
            "MiB",
            "-1MiB",
            "64XB",
            "1.5B",
            "1..5MiB",
            "64 MiB extra",
            "99999999999TiB",
            ".5MiB",
            "1.",
        ] {
            let err = parse_size(bad).expect_err(bad);
            assert_eq!(err.kind, "size");
            assert_eq!(err.code(), ErrorCode::ConstraintViolation);
        }
        assert!(parse_size("64XB")
            .unwrap_err()
            .reason
            .contains("unknown unit `XB`"));
        assert!(parse_size("-1").unwrap_err().reason.contains("negative"));
    }

    #[test]
    fn sizes_format_with_the_largest_exact_unit() {
        assert_eq!(format_size(64 << 20), "64MiB");
        assert_eq!(format_size(1536), "1536B");
        assert_eq!(format_size(512 << 10), "512KiB");
        assert_eq!(format_size(1 << 30), "1GiB");
        assert_eq!(format_size(1000), "1000B");
        assert_eq!(format_size(0), "0B");
        for n in [0u64, 1, 1000, 1536, 64 << 20, 3 << 40] {
            assert_eq!(parse_size(&format_size(n)), Ok(n));
        }
    }

    #[test]
    fn durations_in_every_spelling() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2.5s"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_say_why() {
        for bad in ["", "30", "s", "-5s", "5 minutes", "1.2.3s", "5x"] {
            let err = parse_duration(bad).expect_err(bad);
            assert_eq!(err.kind, "duration");
        }
        assert!(parse_duration("30")
            .unwrap_err()
            .reason
            .contains("missing unit"));
        assert!(parse_duration("5x")
            .unwrap_err()
            .reason
            .contains("unknown unit `x`"));
    }

    #[test]
    fn byte_size_reads_strings_and_integers() {
        #[derive(Deserialize, Serialize)]
        struct T {
            a: ByteSize,
            b: ByteSize,
        }
        let t: T = toml::from_str("a = \"64MiB\"\nb = 4096").unwrap();
        assert_eq!((t.a, t.b), (ByteSize::mib(64), ByteSize(4096)));
        assert_eq!(
            toml::to_string(&t).unwrap(),
            "a = \"64MiB\"\nb = \"4KiB\"\n"
        );
        assert!(toml::from_str::<T>("a = \"64QiB\"\nb = 1").is_err());
        assert!(toml::from_str::<T>("a = -1\nb = 1").is_err());
    }

    proptest::proptest! {
        #[test]
        fn formatted_sizes_parse_back(n in proptest::prelude::any::<u64>()) {
            proptest::prop_assert_eq!(parse_size(&format_size(n)), Ok(n));
        }

        #[test]
        fn parsers_never_panic(s in ".{0,24}") {
            let _ = parse_size(&s);
            let _ = parse_duration(&s);
        }

        #[test]
        fn whole_milliseconds_parse_exactly(ms in 0u64..10_000_000_000) {
            proptest::prop_assert_eq!(parse_duration(&format!("{ms}ms")), Ok(Duration::from_millis(ms)));
        }
    }
}
