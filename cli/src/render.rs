//! Rendering a [`Diagnostic`] for people with miette: the header names
//! the severity and stable code (`error[E0200]`), then the message, the
//! location — as a source snippet with the place underlined when it is a
//! `file:line:col` of a readable file (the snippet's title keeps the
//! `file:line:col`), otherwise as an `at …` line — and the fix.
//!
//! ```text
//! error[E0002]
//!
//!   × Torvyn.toml is not valid TOML: string values must be quoted
//!    ╭─[Torvyn.toml:3:11]
//!  2 │ name = "x"
//!  3 │ version =
//!    ·           ▲
//!    ╰────
//!   help: check the indicated line and column for TOML syntax errors
//! ```

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::path::{Path, PathBuf};
use torvyn_runtime::error::Diagnostic;

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `error[…]`.
    Error,
    /// `warning[…]`.
    Warning,
}

/// `diagnostic` as text ending in a newline. `root` is the project
/// directory, where relative locations are also looked up.
pub fn render(
    diagnostic: &Diagnostic,
    severity: Severity,
    color: bool,
    root: Option<&Path>,
) -> String {
    let report = Report::new(diagnostic, severity, root);
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_wrap_lines(false)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // Rendering into a String cannot fail; keep the plain form anyway.
        out = format!("{diagnostic}\n");
    }
    out
}

/// A [`Diagnostic`] as miette sees it.
#[derive(Debug)]
struct Report {
    header: String,
    message: String,
    help: String,
    severity: Severity,
    source: Option<NamedSource<String>>,
    span: Option<SourceSpan>,
}

impl Report {
    fn new(d: &Diagnostic, severity: Severity, root: Option<&Path>) -> Self {
        let word = match severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let snippet = d
            .location
            .as_deref()
            .and_then(|location| snippet(location, root));
        let message = match (&d.location, &snippet) {
            (Some(location), None) => format!("{}\nat {location}", d.message),
            _ => d.message.clone(),
        };
        let (source, span) = snippet.unzip();
        Self {
            header: format!("{word}[{}]", d.code),
            message,
            help: d.help.clone(),
            severity,
            source,
            span,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.header))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            None, span,
        ))))
    }
}

/// The file a `file:line:col` location names, with the span of the
/// token there; `None` when the location is not of that form or the file
/// cannot be read.
fn snippet(location: &str, root: Option<&Path>) -> Option<(NamedSource<String>, SourceSpan)> {
    let (file, line, column) = parse_location(location)?;
    let text = candidates(&file, root)
        .into_iter()
        .find_map(|path| std::fs::read_to_string(path).ok())?;
    let offset = offset_of(&text, line, column)?;
    let len = token_len(&text[offset..]);
    // miette titles the snippet `name:line:col` itself.
    let name = file.display().to_string();
    Some((
        NamedSource::new(name, text),
        SourceSpan::from((offset, len)),
    ))
}

/// `path:line:col` → its parts (line and column 1-based).
fn parse_location(location: &str) -> Option<(PathBuf, usize, usize)> {
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    if file.is_empty() || line == 0 || column == 0 {
        return None;
    }
    Some((PathBuf::from(file), line, column))
}

fn candidates(file: &Path, root: Option<&Path>) -> Vec<PathBuf> {
    let mut paths = vec![file.to_path_buf()];
    if let Some(root) = root {
        if file.is_relative() {
            paths.push(root.join(file));
        }
    }
    paths
}

/// Byte offset of 1-based `line` and `column` (in characters).
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let line_text = text[start..].split('\n').next().unwrap_or("");
    let within = line_text
        .char_indices()
        .nth(column - 1)
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

/// Length of the word at the start of `rest` (an identifier, a quoted
/// string or a single character); 0 at the end of a line.
fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    match chars.next() {
        None | Some((_, '\n')) | Some((_, '\r')) => 0,
        Some((_, '"')) => rest[1..]
            .find(['"', '\n'])
            .map_or(rest.len(), |end| end + 2),
        Some((_, c)) if is_word(c) => rest
            .char_indices()
            .find(|&(_, c)| !is_word(c))
            .map_or(rest.len(), |(i, _)| i),
        Some((_, c)) => c.len_utf8(),
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/' | '@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_runtime::error::ErrorCode;

    fn diagnostic(location: Option<&str>) -> Diagnostic {
        Diagnostic {
            code: ErrorCode::UnknownField,
            message: "unknown field `worker_thread` in [runtime]".into(),
            location: location.map(str::to_string),
            help: "did you mean `worker_threads`?".into(),
        }
    }

    #[test]
    fn a_file_location_becomes_an_underlined_snippet() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Torvyn.toml"),
            "[runtime]\nworker_thread = 4\n",
        )
        .unwrap();
        let text = render(
            &diagnostic(Some("Torvyn.toml:2:1")),
            Severity::Error,
            false,
            Some(dir.path()),
        );
        assert!(text.starts_with("error[E0701]\n"), "{text}");
        assert!(text.contains("[Torvyn.toml:2:1]"), "{text}");
        assert!(text.contains("worker_thread = 4"), "{text}");
        assert!(text.contains("· ─────────────"), "{text}");
        assert!(
            text.contains("help: did you mean `worker_threads`?"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "no colour: {text:?}");
    }

    #[test]
    fn other_locations_are_an_at_line() {
        let text = render(
            &diagnostic(Some("node `sink`")),
            Severity::Warning,
            false,
            None,
        );
        assert!(text.starts_with("warning[E0701]\n"), "{text}");
        assert!(text.contains("at node `sink`"), "{text}");
    }

    #[test]
    fn colour_is_ansi_escapes() {
        let text = render(&diagnostic(None), Severity::Error, true, None);
        assert!(text.contains('\u{1b}'), "{text:?}");
    }

    #[test]
    fn locations_parse_and_map_to_offsets() {
        assert_eq!(
            parse_location("wit/world.wit:4:21"),
            Some((PathBuf::from("wit/world.wit"), 4, 21))
        );
        assert_eq!(parse_location("node `a`"), None);
        assert_eq!(parse_location("a:0:1"), None);
        assert_eq!(offset_of("ab\ncd\n", 2, 2), Some(4));
        assert_eq!(offset_of("ab\n", 5, 1), None);
        assert_eq!(offset_of("é\nx", 1, 2), Some(2));
        assert_eq!(token_len("worker_thread = 4"), 13);
        assert_eq!(token_len("\"a b\" x"), 5);
        assert_eq!(token_len("\n"), 0);
        assert_eq!(token_len("= 1"), 1);
    }
}
