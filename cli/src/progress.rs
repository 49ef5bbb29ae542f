//! `torvyn run`'s live progress line: elements delivered, throughput,
//! errors and the flow's state, redrawn a few times a second on stderr
//! while the flow runs, and cleared before the summary.
//!
//! The figures come from the flow's counters ([`TorvynHandle::metrics`]:
//! atomics the observability actor reads), polled from the CLI's thread;
//! nothing is asked of the flow itself. The line is drawn only on a
//! terminal's stderr, in human format, without `--quiet`.
//!
//! Guests print too. While the line is drawn, the guests' writes to the
//! terminal do not go straight from their sandbox to it (they would land in
//! the middle of the line): the engine hands them to [`GuestLines`], which
//! writes each complete line above the progress line (clearing and
//! redrawing it), and whatever is left without a newline when the run ends.
//! Output to a file or a pipe (`torvyn run > out.txt`) is not a terminal
//! and stays the sandbox's inherited stream.
//!
//! [`TorvynHandle::metrics`]: torvyn_actors::TorvynHandle::metrics

use crate::output::{Format, Output};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use torvyn_actors::observability::FlowMetrics;
use torvyn_actors::{FlowId, FlowState, TorvynHandle};
use torvyn_runtime::engine::{GuestOutput, GuestOutputs};

/// The progress line on screen now, if any: the CLI's other stderr
/// writers (status lines, logs) print around it through
/// [`around_progress`].
static ON_SCREEN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `write` (something printed to the terminal) with the progress
/// line, when one is drawn, cleared first and redrawn after.
pub fn around_progress<R>(write: impl FnOnce() -> R) -> R {
    let bar = match ON_SCREEN.lock() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

fn set_on_screen(bar: Option<ProgressBar>) {
    match ON_SCREEN.lock() {
        Ok(mut guard) => *guard = bar,
        Err(poisoned) => *poisoned.into_inner() = bar,
    }
}

/// A `tracing` writer for stderr that prints each log line around the
/// progress line.
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        around_progress(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// How often the line is refreshed from the counters.
pub const REFRESH: Duration = Duration::from_millis(200);

/// What one refresh of the progress line shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressSnapshot {
    /// The flow's state.
    pub state: FlowState,
    /// Elements delivered to the sinks so far.
    pub delivered: u64,
    /// Elements whose processing returned an error so far.
    pub errors: u64,
    /// Elements delivered per second since the previous refresh.
    pub rate: f64,
}

/// The text of the progress line for `snapshot`.
pub fn render_line(snapshot: &ProgressSnapshot) -> String {
    let errors = match snapshot.errors {
        1 => "1 error".to_string(),
        n => format!("{n} errors"),
    };
    format!(
        "{}: {} elements | {} elem/s | {}",
        snapshot.state,
        snapshot.delivered,
        format_rate(snapshot.rate),
        errors
    )
}

/// Elements per second, rounded to what a person reads: `~333`, `~2.5`.
pub fn format_rate(rate: f64) -> String {
    if !rate.is_finite() || rate <= 0.0 {
        "~0".to_string()
    } else if rate >= 100.0 {
        format!("~{rate:.0}")
    } else if rate >= 1.0 {
        format!("~{rate:.1}")
    } else {
        format!("~{rate:.2}")
    }
}

/// Whether `torvyn run` draws the progress line: human format, not
/// quiet, stderr a terminal.
pub fn wanted(format: Format, quiet: bool, stderr_tty: bool) -> bool {
    format == Format::Human && !quiet && stderr_tty
}

/// The live progress line of one flow.
pub struct Progress {
    bar: ProgressBar,
    last: Option<(Instant, u64)>,
    /// The guests' streams that go through the line (flushed at the end).
    guest_lines: Vec<Arc<GuestLines>>,
}

impl Progress {
    /// A progress line drawn on `target`.
    pub fn new(target: ProgressDrawTarget) -> Self {
        let bar = ProgressBar::with_draw_target(None, target);
        // A constant template: it parses, and the fallback is the default.
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        Self {
            bar,
            last: None,
            guest_lines: Vec::new(),
        }
    }

    /// The line for this `torvyn run`, on stderr, when [`wanted`].
    pub fn for_run(out: &Output) -> Option<Self> {
        let (format, quiet) = out.mode();
        wanted(format, quiet, std::io::stderr().is_terminal())
            .then(|| Self::new(ProgressDrawTarget::stderr()))
    }

    /// Where the guests' output must go while the line is drawn: the
    /// streams that are terminals through [`GuestLines`] (stderr always
    /// is: the line is drawn there), the others inherited.
    pub fn guest_outputs(&mut self) -> GuestOutputs {
        let mut outputs = GuestOutputs::default();
        if std::io::stdout().is_terminal() {
            let lines = Arc::new(GuestLines::new(Stream::Stdout));
            self.guest_lines.push(Arc::clone(&lines));
            outputs.stdout = Some(lines);
        }
        let lines = Arc::new(GuestLines::new(Stream::Stderr));
        self.guest_lines.push(Arc::clone(&lines));
        outputs.stderr = Some(lines);
        outputs
    }

    /// Redraws the line from the flow's counters: `delivered` and `errors`
    /// so far, in `state`, read `now`.
    pub fn update(&mut self, state: FlowState, delivered: u64, errors: u64, now: Instant) {
        let rate = match self.last {
            Some((at, before)) if now > at => {
                delivered.saturating_sub(before) as f64 / (now - at).as_secs_f64()
            }
            _ => 0.0,
        };
        let first = self.last.is_none();
        self.last = Some((now, delivered));
        let line = render_line(&ProgressSnapshot {
            state,
            delivered,
            errors,
            rate,
        });
        self.bar.set_message(line);
        self.bar.tick();
        if first {
            // Drawn now: from here on other writers go around the line.
            set_on_screen(Some(self.bar.clone()));
        }
    }

    /// Reads flow `id`'s counters from `host` and redraws; a host that
    /// does not answer leaves the line as it was.
    pub fn poll(&mut self, host: &TorvynHandle, id: FlowId) {
        let Ok(flows) = host.metrics() else { return };
        // A replicated flow's counters are its replicas' added up.
        if let Some(flow) = FlowMetrics::of(&flows, id) {
            let c = &flow.counters;
            self.update(flow.state, c.elements_delivered, c.errors, Instant::now());
        }
    }

    /// The text the line shows now.
    #[cfg(test)]
    pub fn message(&self) -> String {
        self.bar.message()
    }

    /// Removes the line (before the summary is printed), then writes what
    /// the guests left without a newline.
    pub fn finish(self) {
        set_on_screen(None);
        self.bar.finish_and_clear();
        for lines in &self.guest_lines {
            lines.write_rest();
        }
    }
}

/// One of the process's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    fn write_all(self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Stream::Stderr => std::io::stderr().lock().write_all(bytes),
        }
    }
}

/// A guest stream written line by line above the progress line: each
/// complete line clears the progress line, is written, and the progress
/// line is drawn again below it. A partial line waits for its newline (or
/// the end of the run, or [`GuestLines::LONGEST_PARTIAL`] bytes).
pub struct GuestLines {
    stream: Stream,
    partial: Mutex<Vec<u8>>,
}

impl GuestLines {
    /// A partial line this long is written without waiting for its
    /// newline.
    pub const LONGEST_PARTIAL: usize = 64 * 1024;

    /// Lines of `stream`, written around the progress line while one is
    /// drawn.
    pub fn new(stream: Stream) -> Self {
        Self {
            stream,
            partial: Mutex::new(Vec::new()),
        }
    }

    /// Takes a guest's write; returns what is ready to be written now
    /// (whole lines, or a partial line grown too long).
    fn take_ready(&self, bytes: &[u8]) -> Vec<u8> {
        let mut partial = match self.partial.lock() {
            Ok(partial) => partial,
            Err(poisoned) => poisoned.into_inner(),
        };
        partial.extend_from_slice(bytes);
        let ready = match partial.iter().rposition(|&b| b == b'\n') {
            Some(last) => last + 1,
            None if partial.len() >= Self::LONGEST_PARTIAL => partial.len(),
            None => 0,
        };
        partial.drain(..ready).collect()
    }

    /// Writes what no newline ended (the run is over).
    pub fn write_rest(&self) {
        let rest = match self.partial.lock() {
            Ok(mut partial) => std::mem::take(&mut *partial),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        if !rest.is_empty() {
            let _ = self.stream.write_all(&rest);
        }
    }
}

impl GuestOutput for GuestLines {
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let ready = self.take_ready(bytes);
        if ready.is_empty() {
            return Ok(());
        }
        around_progress(|| self.stream.write_all(&ready))
    }

    fn flush(&self) -> std::io::Result<()> {
        // A partial line stays until its newline: written now, the
        // progress line would be drawn right after it.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(delivered: u64, errors: u64, rate: f64) -> ProgressSnapshot {
        ProgressSnapshot {
            state: FlowState::Running,
            delivered,
            errors,
            rate,
        }
    }

    #[test]
    fn line_shows_state_elements_rate_and_errors() {
        assert_eq!(
            render_line(&snapshot(1234, 0, 5678.4)),
            "Running: 1234 elements | ~5678 elem/s | 0 errors"
        );
        assert_eq!(
            render_line(&snapshot(3, 1, 2.54)),
            "Running: 3 elements | ~2.5 elem/s | 1 error"
        );
    }

    #[test]
    fn rate_of_a_stalled_or_unknown_flow_reads_zero() {
        assert_eq!(format_rate(0.0), "~0");
        assert_eq!(format_rate(f64::NAN), "~0");
        assert_eq!(format_rate(-3.0), "~0");
        assert_eq!(format_rate(0.25), "~0.25");
    }

    #[test]
    fn update_measures_the_rate_between_two_refreshes() {
        let _turn = one_line_at_a_time();
        let mut progress = Progress::new(ProgressDrawTarget::hidden());
        let t0 = Instant::now();
        progress.update(FlowState::Running, 100, 0, t0);
        assert_eq!(
            progress.message(),
            "Running: 100 elements | ~0 elem/s | 0 errors",
            "no rate before a second reading"
        );
        progress.update(FlowState::Draining, 600, 2, t0 + Duration::from_secs(2));
        assert_eq!(
            progress.message(),
            "Draining: 600 elements | ~250 elem/s | 2 errors"
        );
        progress.finish();
    }

    #[test]
    fn update_with_a_clock_that_did_not_move_keeps_a_zero_rate() {
        let _turn = one_line_at_a_time();
        let mut progress = Progress::new(ProgressDrawTarget::hidden());
        let t0 = Instant::now();
        progress.update(FlowState::Running, 10, 0, t0);
        progress.update(FlowState::Running, 20, 0, t0);
        assert_eq!(
            progress.message(),
            "Running: 20 elements | ~0 elem/s | 0 errors"
        );
    }

    #[test]
    fn drawn_only_for_people_watching_stderr() {
        assert!(wanted(Format::Human, false, true));
        assert!(!wanted(Format::Json, false, true), "machine output");
        assert!(!wanted(Format::Human, true, true), "--quiet");
        assert!(!wanted(Format::Human, false, false), "stderr piped");
    }

    /// The tests that draw a line share the process-wide `ON_SCREEN`:
    /// under `cargo test` (threads, one process) they take turns.
    static ON_SCREEN_TESTS: Mutex<()> = Mutex::new(());

    fn one_line_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        ON_SCREEN_TESTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[test]
    fn the_line_is_on_screen_from_its_first_update_until_it_finishes() {
        let _turn = one_line_at_a_time();
        let mut progress = Progress::new(ProgressDrawTarget::hidden());
        let on_screen = || ON_SCREEN.lock().unwrap().is_some();
        assert!(!on_screen(), "not before it is drawn");
        progress.update(FlowState::Running, 1, 0, Instant::now());
        assert!(on_screen());
        progress.finish();
        assert!(!on_screen());
    }

    #[test]
    fn status_and_log_lines_print_around_a_drawn_line_and_straight_otherwise() {
        let _turn = one_line_at_a_time();
        assert_eq!(around_progress(|| 1), 1, "no line drawn");
        let progress = Progress::new(ProgressDrawTarget::hidden());
        set_on_screen(Some(progress.bar.clone()));
        assert_eq!(around_progress(|| 2), 2, "around the line");
        let mut log = LogWriter;
        assert_eq!(std::io::Write::write(&mut log, b"").unwrap(), 0);
        progress.finish();
        let cleared = ON_SCREEN.lock().unwrap().is_none();
        assert!(cleared, "finishing the line unregisters it");
    }

    #[test]
    fn guest_writes_are_released_line_by_line() {
        let lines = GuestLines::new(Stream::Stderr);
        assert!(
            lines.take_ready(b"[sink] seq=0").is_empty(),
            "no newline yet"
        );
        assert_eq!(
            lines.take_ready(b": hello\n[sink] se"),
            b"[sink] seq=0: hello\n"
        );
        assert_eq!(lines.take_ready(b"q=1\nq=2\n"), b"[sink] seq=1\nq=2\n");
        assert!(lines.take_ready(b"").is_empty());
        assert_eq!(*lines.partial.lock().unwrap(), b"");
        lines.take_ready(b"tail without newline");
        assert_eq!(*lines.partial.lock().unwrap(), b"tail without newline");
    }

    #[test]
    fn a_partial_line_that_grows_too_long_is_released_whole() {
        let lines = GuestLines::new(Stream::Stderr);
        let long = vec![b'x'; GuestLines::LONGEST_PARTIAL - 1];
        assert!(lines.take_ready(&long).is_empty());
        assert_eq!(
            lines.take_ready(b"yz").len(),
            GuestLines::LONGEST_PARTIAL + 1
        );
        assert!(lines.partial.lock().unwrap().is_empty());
    }
}
