//! Built-in connectors: source and sink nodes the host provides itself,
//! with no Wasm — named in a manifest with the `builtin:` scheme beside
//! `file://` (`component = "builtin:stdout-sink"`), attached by `torvyn
//! run` to a flow that has no source or no sink, and chosen by `--input` /
//! `--output`.
//!
//! The stage loop drives a connector exactly like a component (the seam
//! is `reactor::flow::stage`): a source fills a payload the host copies
//! into a pooled buffer (a `PayloadWrite` in the copy ledger, as a Wasm
//! source's `append` is), a sink reads the buffer in place and writes it
//! out (a `HostSerialize`). A source that has nothing yet says when to ask
//! again ([`Pulled::NotYet`]) instead of blocking the flow's thread, so a
//! paced generator, stdin or a network consumer share the same loop.
//!
//! - [`settings`]: a connector's `config` (JSON) or override
//!   (`key=value,…`), read by typed getters; unknown keys are errors.
//! - `generator`: `test-source` (numbered greetings) and `generator`
//!   (count / size / rate).
//! - `lines`: `file-source` and `stdin-source`.
//! - `writer`: `stdout-sink`, `file-sink` and `discard-sink`.
//! - `nats`: `nats-source` and `nats-sink` (NATS JetStream, at least
//!   once: the source acknowledges a message once every sink its element
//!   reached accepted it, see [`crate::reactor::completion`]).
//! - [`metrics`]: what networked connectors count (fetched, acked, …).

mod generator;
mod lines;
pub mod metrics;
mod nats;
pub mod settings;
mod writer;

use crate::engine::bindings::types::ProcessError;
use crate::engine::{GuestOutputs, TorvynInterface};
use generator::{Generator, GeneratorSettings};
use lines::{LineSource, LinesSettings};
pub use metrics::ConnectorReport;
use nats::{NatsSink, NatsSinkSettings, NatsSource, NatsSourceSettings};
pub use settings::{Settings, SettingsError};
use std::path::Path;
use std::time::Duration;
use writer::{WriterSettings, WriterSink};

/// The reference scheme of built-in connectors.
pub const SCHEME: &str = "builtin:";

/// The connectors the host provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    /// Numbered greetings: `Hello, Torvyn! (1)`, `(2)`, …
    TestSource,
    /// Payloads of a given size, at a given rate, a given number of times.
    Generator,
    /// A file's lines (or fixed-size chunks).
    FileSource,
    /// Standard input's lines (or chunks).
    StdinSource,
    /// One line per element on standard output.
    StdoutSink,
    /// One line per element in a file.
    FileSink,
    /// Takes every element and writes nothing (benchmarks).
    DiscardSink,
    /// A NATS JetStream stream, through a durable pull consumer.
    NatsSource,
    /// Publishes to a NATS JetStream subject and waits for its ack.
    NatsSink,
}

impl ConnectorKind {
    /// Every connector, in the order help texts list them.
    pub const ALL: [ConnectorKind; 9] = [
        ConnectorKind::TestSource,
        ConnectorKind::Generator,
        ConnectorKind::FileSource,
        ConnectorKind::StdinSource,
        ConnectorKind::NatsSource,
        ConnectorKind::StdoutSink,
        ConnectorKind::FileSink,
        ConnectorKind::DiscardSink,
        ConnectorKind::NatsSink,
    ];

    /// Its name after `builtin:`.
    pub const fn name(self) -> &'static str {
        match self {
            ConnectorKind::TestSource => "test-source",
            ConnectorKind::Generator => "generator",
            ConnectorKind::FileSource => "file-source",
            ConnectorKind::StdinSource => "stdin-source",
            ConnectorKind::StdoutSink => "stdout-sink",
            ConnectorKind::FileSink => "file-sink",
            ConnectorKind::DiscardSink => "discard-sink",
            ConnectorKind::NatsSource => "nats-source",
            ConnectorKind::NatsSink => "nats-sink",
        }
    }

    /// Its reference in a manifest: `builtin:<name>`.
    pub fn reference(self) -> String {
        format!("{SCHEME}{}", self.name())
    }

    /// The connector a `builtin:` reference names (`None` for an unknown
    /// name or another scheme).
    pub fn from_reference(reference: &str) -> Option<Self> {
        let name = reference.strip_prefix(SCHEME)?;
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The interface it plays.
    pub const fn interface(self) -> TorvynInterface {
        match self {
            ConnectorKind::TestSource
            | ConnectorKind::Generator
            | ConnectorKind::FileSource
            | ConnectorKind::StdinSource
            | ConnectorKind::NatsSource => TorvynInterface::Source,
            ConnectorKind::StdoutSink
            | ConnectorKind::FileSink
            | ConnectorKind::DiscardSink
            | ConnectorKind::NatsSink => TorvynInterface::Sink,
        }
    }

    /// Every connector's reference, for help texts (`builtin:a, builtin:b`).
    pub fn all_references() -> String {
        Self::ALL
            .iter()
            .map(|k| k.reference())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A connector with its settings read and checked: what a stage spec
/// carries, and what every (re)start of the node opens.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorSpec {
    kind: ConnectorKind,
    settings: KindSettings,
}

#[derive(Debug, Clone, PartialEq)]
enum KindSettings {
    Generator(GeneratorSettings),
    Lines(LinesSettings),
    Writer(WriterSettings),
    NatsSource(NatsSourceSettings),
    NatsSink(NatsSinkSettings),
}

impl ConnectorSpec {
    /// Reads `settings` for `kind`; paths are relative to `root`.
    pub fn new(
        kind: ConnectorKind,
        settings: Settings,
        root: &Path,
    ) -> Result<Self, SettingsError> {
        let settings = match kind {
            ConnectorKind::TestSource => {
                KindSettings::Generator(GeneratorSettings::greetings(settings)?)
            }
            ConnectorKind::Generator => {
                KindSettings::Generator(GeneratorSettings::sized(settings)?)
            }
            ConnectorKind::FileSource => KindSettings::Lines(LinesSettings::file(settings, root)?),
            ConnectorKind::StdinSource => KindSettings::Lines(LinesSettings::stdin(settings)?),
            ConnectorKind::StdoutSink => KindSettings::Writer(WriterSettings::stdout(settings)?),
            ConnectorKind::FileSink => KindSettings::Writer(WriterSettings::file(settings, root)?),
            ConnectorKind::DiscardSink => KindSettings::Writer(WriterSettings::discard(settings)?),
            ConnectorKind::NatsSource => {
                KindSettings::NatsSource(NatsSourceSettings::read(settings, root)?)
            }
            ConnectorKind::NatsSink => {
                KindSettings::NatsSink(NatsSinkSettings::read(settings, root)?)
            }
        };
        Ok(Self { kind, settings })
    }

    /// `builtin:discard-sink`.
    pub fn discard() -> Self {
        Self {
            kind: ConnectorKind::DiscardSink,
            settings: KindSettings::Writer(WriterSettings::discarding()),
        }
    }

    /// Which connector.
    pub fn kind(&self) -> ConnectorKind {
        self.kind
    }

    /// A fresh connector of this spec, not yet started. A stdout sink
    /// writes through `outputs.stdout` when the embedder took the guests'
    /// stdout (the CLI's progress line), else to the process's.
    pub fn instantiate(&self, outputs: &GuestOutputs) -> Connector {
        match &self.settings {
            KindSettings::Generator(s) => Connector::Source(Box::new(Generator::new(s.clone()))),
            KindSettings::Lines(s) => Connector::Source(Box::new(LineSource::new(s.clone()))),
            KindSettings::Writer(s) => {
                Connector::Sink(Box::new(WriterSink::new(s.clone(), outputs.stdout.clone())))
            }
            KindSettings::NatsSource(s) => Connector::Source(Box::new(NatsSource::new(s.clone()))),
            KindSettings::NatsSink(s) => Connector::Sink(Box::new(NatsSink::new(s.clone()))),
        }
    }
}

/// A running connector.
pub enum Connector {
    /// It produces elements.
    Source(Box<dyn SourceConnector>),
    /// It consumes elements.
    Sink(Box<dyn SinkConnector>),
}

/// What a source's pull gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulled {
    /// The payload holds the next element.
    Element,
    /// Nothing yet: ask again after this long (the flow's thread is not
    /// blocked meanwhile).
    NotYet(Duration),
    /// The stream ended.
    Ended,
}

/// Where an element came from, as a source that acknowledges its input
/// names it: sinks derive deduplication ids from it (`Nats-Msg-Id`), so
/// that a redelivered element does not duplicate their output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The source's namespace (a stream name).
    pub namespace: &'a str,
    /// The element's id within it (a stream sequence).
    pub id: u64,
}

/// What a sink did with an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It accepted the element (this many bytes left the host).
    Accepted(u64),
    /// It sent the element (this many bytes) and confirms it later
    /// through [`SinkConnector::settle`].
    Deferred(u64),
}

/// A host-provided source.
pub trait SourceConnector: Send {
    /// Opens what it reads (called once, before the first pull).
    fn start(&mut self) -> Result<(), ProcessError>;
    /// Writes the next element's bytes into `payload` (empty on entry).
    fn pull(&mut self, payload: &mut Vec<u8>) -> Result<Pulled, ProcessError>;
    /// The content type of its elements.
    fn content_type(&self) -> &str;
    /// Releases what it holds (the flow ended or failed).
    fn stop(&mut self) {}
    /// Whether it acknowledges what it read once the flow handled it (the
    /// flow then tracks its elements and calls [`Self::track`] and
    /// [`Self::handled`]).
    fn acknowledges(&self) -> bool {
        false
    }
    /// The element just pulled got the flow's sequence `sequence`; its
    /// origin id (what sinks derive deduplication ids from).
    fn track(&mut self, _sequence: u64) -> u64 {
        0
    }
    /// What [`Origin::namespace`] is for its elements.
    fn namespace(&self) -> &str {
        ""
    }
    /// Element `sequence` was handled: every sink it reached accepted it
    /// (`accepted`), or a sink failed it and it must be read again.
    fn handled(&mut self, _sequence: u64, _accepted: bool) {}
    /// Its counters, when it keeps any.
    fn report(&self) -> Option<ConnectorReport> {
        None
    }
}

/// A host-provided sink.
pub trait SinkConnector: Send {
    /// Opens what it writes to (called once, before the first push).
    fn start(&mut self) -> Result<(), ProcessError>;
    /// Writes one element's bytes; how many left the host (the copy
    /// ledger's `HostSerialize`).
    fn push(&mut self, payload: &[u8]) -> Result<u64, ProcessError>;
    /// Every element was pushed: flushes.
    fn complete(&mut self) -> Result<(), ProcessError>;
    /// Releases what it holds, flushing what it can (the flow ended or
    /// failed).
    fn stop(&mut self) {}
    /// Writes one element whose origin is known (it came from a source
    /// that acknowledges); a sink that confirms later answers
    /// [`Delivery::Deferred`].
    fn push_from(
        &mut self,
        payload: &[u8],
        _sequence: u64,
        _origin: Option<Origin<'_>>,
    ) -> Result<Delivery, ProcessError> {
        self.push(payload).map(Delivery::Accepted)
    }
    /// Whether it may answer [`Delivery::Deferred`].
    fn defers(&self) -> bool {
        false
    }
    /// Hands each confirmation that arrived since the last call to
    /// `settled(sequence, accepted)`.
    fn settle(&mut self, _settled: &mut dyn FnMut(u64, bool)) {}
    /// Its counters, when it keeps any.
    fn report(&self) -> Option<ConnectorReport> {
        None
    }
}

/// An I/O failure as a connector reports it: `unavailable` (the stage
/// loop's error policy and supervision then apply as to a component).
fn io_failure(what: &str, error: &std::io::Error) -> ProcessError {
    ProcessError::Unavailable(format!("{what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connector_is_found_by_its_reference_and_plays_its_role() {
        for kind in ConnectorKind::ALL {
            assert_eq!(ConnectorKind::from_reference(&kind.reference()), Some(kind));
        }
        assert_eq!(ConnectorKind::from_reference("builtin:nope"), None);
        assert_eq!(ConnectorKind::from_reference("file://x.wasm"), None);
        assert_eq!(ConnectorKind::StdoutSink.interface(), TorvynInterface::Sink);
        assert_eq!(
            ConnectorKind::TestSource.interface(),
            TorvynInterface::Source
        );
    }

    #[test]
    fn a_spec_rejects_settings_its_connector_does_not_read() {
        let settings = Settings::from_json(r#"{"path": "x"}"#).expect("parses");
        let e = ConnectorSpec::new(ConnectorKind::StdoutSink, settings, Path::new("."))
            .expect_err("stdout has no path");
        assert!(e.0.contains("unknown setting `path`"), "{e}");
    }
}
