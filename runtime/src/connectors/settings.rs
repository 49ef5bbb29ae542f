//! A built-in connector's settings, as written in its node's `config`
//! (a JSON object, `{"count": 10}`) or in a CLI override
//! (`generator:count=10,size=64`): one flat map of keys to values, read
//! through typed getters that name the key and what it should be. A key
//! the connector does not read is an error, never silently ignored.

use std::collections::BTreeMap;

/// A connector's settings before its kind reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    values: BTreeMap<String, serde_json::Value>,
}

/// A setting that is missing, mistyped, out of bounds or unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

impl Settings {
    /// Parses a node's `config`: empty, or a JSON object.
    pub fn from_json(text: &str) -> Result<Self, SettingsError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Ok(Self {
                values: map.into_iter().collect(),
            }),
            Ok(other) => Err(SettingsError(format!(
                "config must be a JSON object such as {{\"count\": 10}}, not {other}"
            ))),
            Err(e) => Err(SettingsError(format!("config is not valid JSON: {e}"))),
        }
    }

    /// Parses `key=value,key=value` (a CLI override). Values that read as
    /// numbers or booleans are those; anything else is a string.
    pub fn from_pairs(text: &str) -> Result<Self, SettingsError> {
        let mut values = BTreeMap::new();
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(SettingsError(format!(
                    "`{pair}` is not `key=value` (separate settings with commas)"
                )));
            };
            let value = value.trim();
            let parsed = serde_json::from_str::<serde_json::Value>(value)
                .ok()
                .filter(|v| v.is_number() || v.is_boolean())
                .unwrap_or_else(|| serde_json::Value::String(value.to_string()));
            values.insert(key.trim().to_string(), parsed);
        }
        Ok(Self { values })
    }

    /// The settings as a node's `config` (a JSON object).
    pub fn to_json(&self) -> String {
        serde_json::Value::Object(self.values.clone().into_iter().collect()).to_string()
    }

    /// Sets `key` (used by overrides that name a path directly).
    pub fn set(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.values.insert(key.to_string(), value.into());
    }

    /// A non-negative integer setting.
    pub fn take_u64(&mut self, key: &str) -> Result<Option<u64>, SettingsError> {
        match self.values.remove(key) {
            None => Ok(None),
            Some(value) => value.as_u64().map(Some).ok_or_else(|| {
                SettingsError(format!(
                    "`{key}` must be a non-negative integer, not {value}"
                ))
            }),
        }
    }

    /// A positive integer setting.
    pub fn take_positive(&mut self, key: &str) -> Result<Option<u64>, SettingsError> {
        match self.take_u64(key)? {
            Some(0) => Err(SettingsError(format!("`{key}` must be at least 1"))),
            other => Ok(other),
        }
    }

    /// A string setting.
    pub fn take_string(&mut self, key: &str) -> Result<Option<String>, SettingsError> {
        match self.values.remove(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            Some(value) => Err(SettingsError(format!(
                "`{key}` must be a string, not {value}"
            ))),
        }
    }

    /// A list of strings: a JSON array of strings, or one string whose
    /// items are separated by commas (`"a,b"`, as an override writes it).
    pub fn take_string_list(&mut self, key: &str) -> Result<Option<Vec<String>>, SettingsError> {
        let items: Vec<String> = match self.values.remove(key) {
            None => return Ok(None),
            Some(serde_json::Value::String(s)) => {
                s.split(',').map(|i| i.trim().to_string()).collect()
            }
            Some(serde_json::Value::Array(values)) => {
                let mut items = Vec::with_capacity(values.len());
                for value in values {
                    match value {
                        serde_json::Value::String(s) => items.push(s.trim().to_string()),
                        other => {
                            return Err(SettingsError(format!(
                                "`{key}` must hold strings, not {other}"
                            )))
                        }
                    }
                }
                items
            }
            Some(value) => {
                return Err(SettingsError(format!(
                    "`{key}` must be a string or an array of strings, not {value}"
                )))
            }
        };
        if items.is_empty() || items.iter().any(|i| i.is_empty()) {
            return Err(SettingsError(format!("`{key}` has an empty item")));
        }
        Ok(Some(items))
    }

    /// A duration setting: `"30s"`, `"500ms"`, `"1m"`, or a number of
    /// seconds.
    pub fn take_duration(
        &mut self,
        key: &str,
    ) -> Result<Option<std::time::Duration>, SettingsError> {
        match self.values.remove(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => crate::config::parse_duration(&s)
                .map(Some)
                .map_err(|e| SettingsError(format!("`{key}`: {e}"))),
            Some(serde_json::Value::Number(n)) if n.as_f64().is_some_and(|f| f >= 0.0) => Ok(Some(
                std::time::Duration::from_secs_f64(n.as_f64().unwrap_or_default()),
            )),
            Some(value) => Err(SettingsError(format!(
                "`{key}` must be a duration such as \"30s\" or \"500ms\", not {value}"
            ))),
        }
    }

    /// A boolean setting.
    pub fn take_bool(&mut self, key: &str) -> Result<Option<bool>, SettingsError> {
        match self.values.remove(key) {
            None => Ok(None),
            Some(serde_json::Value::Bool(b)) => Ok(Some(b)),
            Some(value) => Err(SettingsError(format!(
                "`{key}` must be true or false, not {value}"
            ))),
        }
    }

    /// Fails on keys nothing took: `known` lists what the connector reads.
    pub fn finish(self, known: &[&str]) -> Result<(), SettingsError> {
        match self.values.keys().next() {
            None => Ok(()),
            Some(key) => Err(SettingsError(format!(
                "unknown setting `{key}`; this connector reads {}",
                if known.is_empty() {
                    "no settings".to_string()
                } else {
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_pairs_read_the_same_settings() {
        let mut json = Settings::from_json(r#"{"count": 10, "message": "hi", "append": true}"#)
            .expect("parses");
        let mut pairs = Settings::from_pairs("count=10,message=hi,append=true").expect("parses");
        for s in [&mut json, &mut pairs] {
            assert_eq!(s.take_u64("count"), Ok(Some(10)));
            assert_eq!(s.take_string("message"), Ok(Some("hi".into())));
            assert_eq!(s.take_bool("append"), Ok(Some(true)));
        }
        assert_eq!(json, Settings::default());
    }

    #[test]
    fn lists_and_durations_read_in_both_spellings() {
        let mut s = Settings::from_json(
            r#"{"url": ["nats://a:4222", "nats://b:4222"], "one": "x, y", "wait": "1500ms", "secs": 2}"#,
        )
        .expect("parses");
        assert_eq!(
            s.take_string_list("url"),
            Ok(Some(vec!["nats://a:4222".into(), "nats://b:4222".into()]))
        );
        assert_eq!(
            s.take_string_list("one"),
            Ok(Some(vec!["x".into(), "y".into()]))
        );
        assert_eq!(
            s.take_duration("wait"),
            Ok(Some(std::time::Duration::from_millis(1500)))
        );
        assert_eq!(
            s.take_duration("secs"),
            Ok(Some(std::time::Duration::from_secs(2)))
        );
        let mut bad =
            Settings::from_json(r#"{"url": [1], "u2": "a,,b", "wait": "soon", "w2": true}"#)
                .expect("parses");
        assert!(bad
            .take_string_list("url")
            .expect_err("number")
            .0
            .contains("strings"));
        assert!(bad
            .take_string_list("u2")
            .expect_err("empty")
            .0
            .contains("empty item"));
        assert!(bad
            .take_duration("wait")
            .expect_err("words")
            .0
            .contains("`wait`"));
        assert!(bad
            .take_duration("w2")
            .expect_err("bool")
            .0
            .contains("duration"));
    }

    #[test]
    fn empty_config_is_no_settings() {
        assert_eq!(Settings::from_json("  "), Ok(Settings::default()));
        assert_eq!(Settings::from_pairs(""), Ok(Settings::default()));
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let e = Settings::from_json("[1]").expect_err("not an object");
        assert!(e.0.contains("JSON object"), "{e}");
        let e = Settings::from_json("{").expect_err("not JSON");
        assert!(e.0.contains("not valid JSON"), "{e}");
        let e = Settings::from_pairs("count").expect_err("no =");
        assert!(e.0.contains("key=value"), "{e}");
        let mut s = Settings::from_json(r#"{"count": -1, "size": 0}"#).expect("parses");
        assert!(s
            .take_u64("count")
            .expect_err("negative")
            .0
            .contains("non-negative"));
        assert!(s
            .take_positive("size")
            .expect_err("zero")
            .0
            .contains("at least 1"));
        let s = Settings::from_json(r#"{"cuont": 1}"#).expect("parses");
        let e = s.finish(&["count"]).expect_err("unknown");
        assert!(
            e.0.contains("unknown setting `cuont`") && e.0.contains("`count`"),
            "{e}"
        );
    }
}
