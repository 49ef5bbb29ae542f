//! `builtin:test-source` and `builtin:generator`: elements made up by the
//! host. The test source numbers greetings as the Quickstart prints them
//! (`Hello, Torvyn! (1)` …); the generator makes payloads of a fixed size.
//! Both stop after `count` elements (unbounded when unset: `--limit` or
//! Ctrl+C ends the run) and keep to `rate` elements per second when set.

use super::settings::{Settings, SettingsError};
use super::{Pulled, SourceConnector};
use crate::engine::bindings::types::ProcessError;
use std::io::Write;
use std::time::{Duration, Instant};

/// What each element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Payload {
    /// `<message> (<n>)`, n from 1.
    Greeting(String),
    /// `size` bytes: the element's number, then a repeating pattern.
    Sized(u64),
}

/// A generator's settings.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GeneratorSettings {
    payload: Payload,
    count: Option<u64>,
    rate: Option<u64>,
    content_type: String,
}

/// The test source's greeting.
const GREETING: &str = "Hello, Torvyn!";

/// The generator's payload size when `size` is unset.
const DEFAULT_SIZE: u64 = 64;

/// Largest payload the generator makes (the default `max-buffer-size`).
const MAX_SIZE: u64 = 16 * 1024 * 1024;

impl GeneratorSettings {
    /// `builtin:test-source`: `count`, `rate`, `message`.
    pub(super) fn greetings(mut settings: Settings) -> Result<Self, SettingsError> {
        let count = settings.take_u64("count")?;
        let rate = settings.take_positive("rate")?;
        let message = settings
            .take_string("message")?
            .unwrap_or_else(|| GREETING.to_string());
        settings.finish(&["count", "rate", "message"])?;
        Ok(Self {
            payload: Payload::Greeting(message),
            count,
            rate,
            content_type: "text/plain".into(),
        })
    }

    /// `builtin:generator`: `count`, `rate`, `size`, `content_type`.
    pub(super) fn sized(mut settings: Settings) -> Result<Self, SettingsError> {
        let count = settings.take_u64("count")?;
        let rate = settings.take_positive("rate")?;
        let size = settings.take_u64("size")?.unwrap_or(DEFAULT_SIZE);
        if size > MAX_SIZE {
            return Err(SettingsError(format!(
                "`size` is at most {MAX_SIZE} bytes, not {size}"
            )));
        }
        let content_type = settings
            .take_string("content_type")?
            .unwrap_or_else(|| "application/octet-stream".into());
        settings.finish(&["count", "rate", "size", "content_type"])?;
        Ok(Self {
            payload: Payload::Sized(size),
            count,
            rate,
            content_type,
        })
    }
}

/// A running generator.
pub(super) struct Generator {
    settings: GeneratorSettings,
    /// Elements made so far.
    made: u64,
    /// When the first element was made (the pace counts from it).
    started: Option<Instant>,
}

impl Generator {
    pub(super) fn new(settings: GeneratorSettings) -> Self {
        Self {
            settings,
            made: 0,
            started: None,
        }
    }

    /// How long until element `made` is due under `rate` (`None`: now).
    fn wait(&mut self) -> Option<Duration> {
        let rate = self.settings.rate?;
        let started = *self.started.get_or_insert_with(Instant::now);
        let due = Duration::from_secs_f64(self.made as f64 / rate as f64);
        due.checked_sub(started.elapsed())
            .filter(|wait| !wait.is_zero())
    }
}

impl SourceConnector for Generator {
    fn start(&mut self) -> Result<(), ProcessError> {
        Ok(())
    }

    // HOT PATH: writes into the reused payload; no allocation once it has grown.
    fn pull(&mut self, payload: &mut Vec<u8>) -> Result<Pulled, ProcessError> {
        if self.settings.count.is_some_and(|count| self.made >= count) {
            return Ok(Pulled::Ended);
        }
        if let Some(wait) = self.wait() {
            return Ok(Pulled::NotYet(wait));
        }
        self.made += 1;
        let n = self.made;
        match &self.settings.payload {
            Payload::Greeting(message) => {
                let _ = write!(payload, "{message} ({n})");
            }
            Payload::Sized(size) => {
                let size = *size as usize;
                let _ = write!(payload, "{n} ");
                payload.truncate(size);
                let fill = size - payload.len();
                payload.extend((0..fill).map(|i| b'a' + ((n as usize + i) % 26) as u8));
            }
        }
        Ok(Pulled::Element)
    }

    fn content_type(&self) -> &str {
        &self.settings.content_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pull_all(generator: &mut Generator) -> Vec<String> {
        let mut out = Vec::new();
        let mut payload = Vec::new();
        loop {
            payload.clear();
            match generator.pull(&mut payload).expect("pulls") {
                Pulled::Element => out.push(String::from_utf8_lossy(&payload).into_owned()),
                Pulled::Ended => return out,
                Pulled::NotYet(_) => {}
            }
        }
    }

    #[test]
    fn the_test_source_numbers_greetings_from_one() {
        let settings = Settings::from_json(r#"{"count": 3}"#).expect("parses");
        let mut generator = Generator::new(GeneratorSettings::greetings(settings).expect("valid"));
        assert_eq!(
            pull_all(&mut generator),
            [
                "Hello, Torvyn! (1)",
                "Hello, Torvyn! (2)",
                "Hello, Torvyn! (3)"
            ]
        );
    }

    #[test]
    fn the_generator_makes_payloads_of_its_size() {
        let settings = Settings::from_pairs("count=4,size=10").expect("parses");
        let mut generator = Generator::new(GeneratorSettings::sized(settings).expect("valid"));
        let payloads = pull_all(&mut generator);
        assert_eq!(payloads.len(), 4);
        assert!(payloads.iter().all(|p| p.len() == 10), "{payloads:?}");
        assert!(payloads[0].starts_with("1 "), "{payloads:?}");
        let tiny = Settings::from_pairs("count=1,size=1").expect("parses");
        let mut generator = Generator::new(GeneratorSettings::sized(tiny).expect("valid"));
        assert_eq!(pull_all(&mut generator), ["1"]);
    }

    #[test]
    fn a_paced_generator_says_when_to_ask_again() {
        let settings = Settings::from_pairs("rate=1").expect("parses");
        let mut generator = Generator::new(GeneratorSettings::greetings(settings).expect("valid"));
        let mut payload = Vec::new();
        assert!(matches!(generator.pull(&mut payload), Ok(Pulled::Element)));
        match generator.pull(&mut payload) {
            Ok(Pulled::NotYet(wait)) => assert!(wait <= Duration::from_secs(1), "{wait:?}"),
            other => panic!("expected a wait, got {other:?}"),
        }
    }

    #[test]
    fn bad_generator_settings_are_refused() {
        let e = GeneratorSettings::sized(Settings::from_pairs("size=99999999999").expect("parses"))
            .expect_err("too big");
        assert!(e.0.contains("at most"), "{e}");
        let e = GeneratorSettings::greetings(Settings::from_pairs("rate=0").expect("parses"))
            .expect_err("zero rate");
        assert!(e.0.contains("at least 1"), "{e}");
        let e = GeneratorSettings::greetings(Settings::from_pairs("size=3").expect("parses"))
            .expect_err("the test source has no size");
        assert!(e.0.contains("unknown setting `size`"), "{e}");
    }
}
