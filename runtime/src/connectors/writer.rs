//! `builtin:stdout-sink` and `builtin:file-sink`: each element's bytes
//! followed by a delimiter (`"\n"` by default: one line per element;
//! `""` writes the bytes back to back); `builtin:discard-sink` takes
//! elements and writes nothing (benchmarks).
//!
//! Writes are buffered and flushed at least every [`FLUSH_EVERY`], at
//! completion and when the flow stops; standard output on a terminal is
//! flushed per element. When the embedder took the guests' stdout (the
//! CLI keeps its progress line below them), the stdout sink writes there.

use super::settings::{Settings, SettingsError};
use super::{io_failure, SinkConnector};
use crate::engine::bindings::types::ProcessError;
use crate::engine::GuestOutput;
use std::fs::OpenOptions;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a written element waits in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Where the bytes go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Stdout,
    Discard,
    File { path: PathBuf, append: bool },
}

/// A writer sink's settings.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WriterSettings {
    target: Target,
    delimiter: Vec<u8>,
}

impl WriterSettings {
    /// `builtin:stdout-sink`: `delimiter`.
    pub(super) fn stdout(settings: Settings) -> Result<Self, SettingsError> {
        Self::read(settings, Target::Stdout, &[])
    }

    /// The settings of a discard sink.
    pub(super) fn discarding() -> Self {
        Self {
            target: Target::Discard,
            delimiter: Vec::new(),
        }
    }

    /// `builtin:discard-sink`: no settings.
    pub(super) fn discard(settings: Settings) -> Result<Self, SettingsError> {
        Self::read(settings, Target::Discard, &[])
    }

    /// `builtin:file-sink`: `path` (required, relative to the project;
    /// its directory must exist), `append`, `delimiter`.
    pub(super) fn file(mut settings: Settings, root: &Path) -> Result<Self, SettingsError> {
        let Some(path) = settings.take_string("path")? else {
            return Err(SettingsError(
                "`path` is required: the file to write, relative to the manifest's directory"
                    .into(),
            ));
        };
        let path = root.join(path);
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) {
            return Err(SettingsError(format!(
                "`path` names {}, whose directory does not exist",
                path.display()
            )));
        }
        let append = settings.take_bool("append")?.unwrap_or(false);
        Self::read(settings, Target::File { path, append }, &["path", "append"])
    }

    fn read(mut settings: Settings, target: Target, extra: &[&str]) -> Result<Self, SettingsError> {
        let delimiter = settings
            .take_string("delimiter")?
            .unwrap_or_else(|| "\n".into())
            .into_bytes();
        let mut known = extra.to_vec();
        known.push("delimiter");
        settings.finish(&known)?;
        Ok(Self { target, delimiter })
    }
}

/// A running writer sink.
pub(super) struct WriterSink {
    settings: WriterSettings,
    /// The embedder's replacement for stdout, if any.
    host_stdout: Option<Arc<dyn GuestOutput>>,
    out: Option<Out>,
    /// The element and its delimiter, written at once (reused).
    line: Vec<u8>,
    last_flush: Instant,
}

enum Out {
    Buffered {
        writer: BufWriter<Box<dyn Write + Send>>,
        /// Flush after every element (a terminal).
        eager: bool,
    },
    Host(Arc<dyn GuestOutput>),
    Discard,
}

impl WriterSink {
    pub(super) fn new(settings: WriterSettings, host_stdout: Option<Arc<dyn GuestOutput>>) -> Self {
        Self {
            settings,
            host_stdout,
            out: None,
            line: Vec::new(),
            last_flush: Instant::now(),
        }
    }

    fn flush(&mut self) -> Result<(), ProcessError> {
        self.last_flush = Instant::now();
        match &mut self.out {
            Some(Out::Buffered { writer, .. }) => writer
                .flush()
                .map_err(|e| io_failure("cannot flush the sink's output", &e)),
            Some(Out::Host(host)) => host
                .flush()
                .map_err(|e| io_failure("cannot flush standard output", &e)),
            None | Some(Out::Discard) => Ok(()),
        }
    }
}

impl SinkConnector for WriterSink {
    fn start(&mut self) -> Result<(), ProcessError> {
        self.out = Some(match (&self.settings.target, &self.host_stdout) {
            (Target::Discard, _) => Out::Discard,
            (Target::Stdout, Some(host)) => Out::Host(Arc::clone(host)),
            (Target::Stdout, None) => Out::Buffered {
                writer: BufWriter::new(Box::new(std::io::stdout())),
                eager: std::io::stdout().is_terminal(),
            },
            (Target::File { path, append }, _) => {
                let file = OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(*append)
                    .truncate(!*append)
                    .open(path)
                    .map_err(|e| io_failure(&format!("cannot open {}", path.display()), &e))?;
                Out::Buffered {
                    writer: BufWriter::with_capacity(
                        64 * 1024,
                        Box::new(file) as Box<dyn Write + Send>,
                    ),
                    eager: false,
                }
            }
        });
        self.last_flush = Instant::now();
        Ok(())
    }

    fn push(&mut self, payload: &[u8]) -> Result<u64, ProcessError> {
        let written = (payload.len() + self.settings.delimiter.len()) as u64;
        let eager = match &mut self.out {
            None => return Err(ProcessError::Internal("the sink was not started".into())),
            Some(Out::Discard) => return Ok(0),
            Some(Out::Host(host)) => {
                self.line.clear();
                self.line.extend_from_slice(payload);
                self.line.extend_from_slice(&self.settings.delimiter);
                host.write(&self.line)
                    .map_err(|e| io_failure("cannot write to standard output", &e))?;
                return Ok(written);
            }
            Some(Out::Buffered { writer, eager }) => {
                writer
                    .write_all(payload)
                    .and_then(|()| writer.write_all(&self.settings.delimiter))
                    .map_err(|e| io_failure("cannot write the sink's output", &e))?;
                *eager
            }
        };
        if eager || self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(written)
    }

    fn complete(&mut self) -> Result<(), ProcessError> {
        self.flush()
    }

    fn stop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = ?e, "a built-in sink could not flush when its flow stopped");
        }
        self.out = None;
    }
}

/// Opens `path` for a test.
#[cfg(test)]
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("reads")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sink_writes_one_line_per_element_and_can_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = Settings::from_json(r#"{"path": "out.txt"}"#).expect("parses");
        let mut sink = WriterSink::new(
            WriterSettings::file(settings, dir.path()).expect("valid"),
            None,
        );
        sink.start().expect("opens");
        sink.push(b"one").expect("writes");
        sink.push(b"two").expect("writes");
        sink.complete().expect("flushes");
        assert_eq!(read(&dir.path().join("out.txt")), "one\ntwo\n");

        let settings =
            Settings::from_json(r#"{"path": "out.txt", "append": true, "delimiter": ";"}"#)
                .expect("parses");
        let mut sink = WriterSink::new(
            WriterSettings::file(settings, dir.path()).expect("valid"),
            None,
        );
        sink.start().expect("opens");
        sink.push(b"three").expect("writes");
        sink.stop();
        assert_eq!(read(&dir.path().join("out.txt")), "one\ntwo\nthree;");
    }

    #[test]
    fn a_file_sink_needs_an_existing_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = Settings::from_json(r#"{"path": "no/such/dir/out.txt"}"#).expect("parses");
        let e = WriterSettings::file(settings, dir.path()).expect_err("no directory");
        assert!(e.0.contains("does not exist"), "{e}");
    }

    #[test]
    fn a_stdout_sink_writes_through_the_embedders_stdout() {
        #[derive(Default)]
        struct Captured(std::sync::Mutex<Vec<u8>>);
        impl GuestOutput for Captured {
            fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
                self.0.lock().expect("lock").extend_from_slice(bytes);
                Ok(())
            }
            fn flush(&self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Arc::new(Captured::default());
        let mut sink = WriterSink::new(
            WriterSettings::stdout(Settings::default()).expect("valid"),
            Some(captured.clone()),
        );
        sink.start().expect("starts");
        assert_eq!(sink.push(b"Hello").expect("writes"), 6);
        sink.complete().expect("flushes");
        assert_eq!(&*captured.0.lock().expect("lock"), b"Hello\n");
    }
}
