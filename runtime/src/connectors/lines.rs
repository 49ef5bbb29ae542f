//! `builtin:file-source` and `builtin:stdin-source`: a file's or standard
//! input's lines (without their `\n` or `\r\n`), or fixed-size chunks of
//! its bytes (`format = "chunks"`, `chunk_size`).
//!
//! A file is read on the flow's thread (a local read is short). Standard
//! input can wait forever on a terminal or a pipe, so a reader thread
//! reads it and the source answers [`Pulled::NotYet`] while nothing has
//! arrived: the flow's thread never blocks on it.

use super::settings::{Settings, SettingsError};
use super::{io_failure, Pulled, SourceConnector};
use crate::engine::bindings::types::ProcessError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::time::Duration;

/// How input is cut into elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// One element per line.
    Lines,
    /// Elements of `chunk_size` bytes (the last may be shorter).
    Chunks(usize),
}

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    File(PathBuf),
    Stdin,
}

/// A line source's settings.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LinesSettings {
    input: Input,
    format: Format,
    content_type: String,
}

/// Chunk size when `format = "chunks"` and `chunk_size` is unset.
const DEFAULT_CHUNK: u64 = 64 * 1024;

/// How long a stdin source waits before asking its reader thread again.
const STDIN_POLL: Duration = Duration::from_millis(2);

/// Lines read ahead of the flow from standard input.
const STDIN_READ_AHEAD: usize = 1024;

impl LinesSettings {
    /// `builtin:file-source`: `path` (required, relative to the project),
    /// `format`, `chunk_size`, `content_type`.
    pub(super) fn file(mut settings: Settings, root: &Path) -> Result<Self, SettingsError> {
        let Some(path) = settings.take_string("path")? else {
            return Err(SettingsError(
                "`path` is required: the file to read, relative to the manifest's directory".into(),
            ));
        };
        let path = root.join(path);
        if !path.is_file() {
            return Err(SettingsError(format!(
                "`path` names {}, which is not a readable file",
                path.display()
            )));
        }
        Self::read(settings, Input::File(path), &["path"])
    }

    /// `builtin:stdin-source`: `format`, `chunk_size`, `content_type`.
    pub(super) fn stdin(settings: Settings) -> Result<Self, SettingsError> {
        Self::read(settings, Input::Stdin, &[])
    }

    fn read(mut settings: Settings, input: Input, extra: &[&str]) -> Result<Self, SettingsError> {
        let chunk_size = settings.take_positive("chunk_size")?;
        let format = match settings.take_string("format")?.as_deref() {
            None | Some("lines") if chunk_size.is_none() => Format::Lines,
            None | Some("chunks") => Format::Chunks(chunk_size.unwrap_or(DEFAULT_CHUNK) as usize),
            Some("lines") => {
                return Err(SettingsError(
                    "`chunk_size` applies to `format = \"chunks\"` only".into(),
                ))
            }
            Some(other) => {
                return Err(SettingsError(format!(
                    "`format` is \"lines\" or \"chunks\", not \"{other}\""
                )))
            }
        };
        let content_type = settings.take_string("content_type")?.unwrap_or_else(|| {
            match format {
                Format::Lines => "text/plain",
                Format::Chunks(_) => "application/octet-stream",
            }
            .into()
        });
        let mut known = extra.to_vec();
        known.extend(["format", "chunk_size", "content_type"]);
        settings.finish(&known)?;
        Ok(Self {
            input,
            format,
            content_type,
        })
    }
}

/// A running file or stdin source.
pub(super) struct LineSource {
    settings: LinesSettings,
    reader: Option<Reader>,
}

enum Reader {
    File(BufReader<File>),
    /// Elements read ahead by a thread; disconnected at end of input.
    Thread(Receiver<std::io::Result<Vec<u8>>>),
}

impl LineSource {
    pub(super) fn new(settings: LinesSettings) -> Self {
        Self {
            settings,
            reader: None,
        }
    }
}

impl SourceConnector for LineSource {
    fn start(&mut self) -> Result<(), ProcessError> {
        self.reader = Some(match &self.settings.input {
            Input::File(path) => {
                let file = File::open(path)
                    .map_err(|e| io_failure(&format!("cannot open {}", path.display()), &e))?;
                Reader::File(BufReader::with_capacity(64 * 1024, file))
            }
            Input::Stdin => Reader::Thread(read_stdin_ahead(self.settings.format)),
        });
        Ok(())
    }

    fn pull(&mut self, payload: &mut Vec<u8>) -> Result<Pulled, ProcessError> {
        let format = self.settings.format;
        match &mut self.reader {
            None => Ok(Pulled::Ended),
            Some(Reader::File(file)) => match next_element(file, format, payload) {
                Ok(true) => Ok(Pulled::Element),
                Ok(false) => Ok(Pulled::Ended),
                Err(e) => Err(io_failure("cannot read the input file", &e)),
            },
            Some(Reader::Thread(lines)) => match lines.try_recv() {
                Ok(Ok(mut line)) => {
                    std::mem::swap(payload, &mut line);
                    Ok(Pulled::Element)
                }
                Ok(Err(e)) => Err(io_failure("cannot read standard input", &e)),
                Err(TryRecvError::Empty) => Ok(Pulled::NotYet(STDIN_POLL)),
                Err(TryRecvError::Disconnected) => Ok(Pulled::Ended),
            },
        }
    }

    fn content_type(&self) -> &str {
        &self.settings.content_type
    }

    fn stop(&mut self) {
        self.reader = None;
    }
}

/// Reads the next element of `input` into `payload`; `false` at the end.
fn next_element(
    input: &mut impl BufRead,
    format: Format,
    payload: &mut Vec<u8>,
) -> std::io::Result<bool> {
    match format {
        Format::Lines => {
            if input.read_until(b'\n', payload)? == 0 {
                return Ok(false);
            }
            if payload.last() == Some(&b'\n') {
                payload.pop();
                if payload.last() == Some(&b'\r') {
                    payload.pop();
                }
            }
            Ok(true)
        }
        Format::Chunks(size) => {
            let read = input.take(size as u64).read_to_end(payload)?;
            Ok(read > 0)
        }
    }
}

/// A thread reading standard input into elements, `STDIN_READ_AHEAD`
/// ahead of the flow. It ends (disconnecting) at end of input or when the
/// source is dropped.
fn read_stdin_ahead(format: Format) -> Receiver<std::io::Result<Vec<u8>>> {
    let (send, receive) = sync_channel(STDIN_READ_AHEAD);
    let spawned = std::thread::Builder::new()
        .name("torvyn-stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            loop {
                let mut element = Vec::new();
                match next_element(&mut input, format, &mut element) {
                    Ok(true) => {
                        if send.send(Ok(element)).is_err() {
                            return;
                        }
                    }
                    Ok(false) => return,
                    Err(e) => {
                        let _ = send.send(Err(e));
                        return;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        let (send, receive) = sync_channel(1);
        let _ = send.send(Err(e));
        return receive;
    }
    receive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(text: &[u8], format: Format) -> Vec<Vec<u8>> {
        let mut input = std::io::Cursor::new(text.to_vec());
        let mut out = Vec::new();
        loop {
            let mut payload = Vec::new();
            if !next_element(&mut input, format, &mut payload).expect("reads") {
                return out;
            }
            out.push(payload);
        }
    }

    #[test]
    fn lines_lose_their_line_endings_and_the_last_needs_none() {
        assert_eq!(
            elements(b"a\r\nb\n\nc", Format::Lines),
            [b"a".to_vec(), b"b".to_vec(), b"".to_vec(), b"c".to_vec()]
        );
    }

    #[test]
    fn chunks_are_cut_at_their_size() {
        assert_eq!(
            elements(b"abcdefg", Format::Chunks(3)),
            [b"abc".to_vec(), b"def".to_vec(), b"g".to_vec()]
        );
    }

    #[test]
    fn a_file_source_reads_its_file_from_the_project_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("in.txt"), "one\ntwo\n").expect("writes");
        let settings = Settings::from_json(r#"{"path": "in.txt"}"#).expect("parses");
        let mut source = LineSource::new(LinesSettings::file(settings, dir.path()).expect("valid"));
        source.start().expect("opens");
        let mut payload = Vec::new();
        assert!(matches!(source.pull(&mut payload), Ok(Pulled::Element)));
        assert_eq!(payload, b"one");
        payload.clear();
        assert!(matches!(source.pull(&mut payload), Ok(Pulled::Element)));
        assert_eq!(payload, b"two");
        payload.clear();
        assert!(matches!(source.pull(&mut payload), Ok(Pulled::Ended)));
    }

    #[test]
    fn bad_file_source_settings_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = LinesSettings::file(Settings::default(), dir.path()).expect_err("no path");
        assert!(missing.0.contains("`path` is required"), "{missing}");
        let absent = Settings::from_json(r#"{"path": "nope.txt"}"#).expect("parses");
        let e = LinesSettings::file(absent, dir.path()).expect_err("no such file");
        assert!(e.0.contains("not a readable file"), "{e}");
        let e = LinesSettings::stdin(Settings::from_pairs("format=xml").expect("parses"))
            .expect_err("bad format");
        assert!(e.0.contains("\"lines\" or \"chunks\""), "{e}");
        let e = LinesSettings::stdin(
            Settings::from_pairs("format=lines,chunk_size=4").expect("parses"),
        )
        .expect_err("chunk size with lines");
        assert!(e.0.contains("chunks"), "{e}");
    }
}
