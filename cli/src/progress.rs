//! `torvyn run`'s live progress line: elements delivered, throughput,
//! errors and the flow's state, redrawn a few times a second on stderr
//! while the flow runs, and cleared before the summary.
//!
//! The figures come from the flow's counters ([`TorvynHandle::metrics`]:
//! atomics the observability actor reads), polled from the CLI's thread;
//! nothing is asked of the flow itself. The line is drawn only on a
//! terminal's stderr, in human format, without `--quiet`, and only when
//! stdout is not that terminal too: guests write to stdout straight from
//! their sandbox (WASI's inherited stdout), so the CLI cannot suspend the
//! line around their writes, and a line drawn between them would garble
//! them. Redirect stdout (`torvyn run > out.txt`) to watch progress.
//!
//! [`TorvynHandle::metrics`]: torvyn_actors::TorvynHandle::metrics

use crate::output::{Format, Output};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};
use torvyn_actors::{FlowId, FlowState, TorvynHandle};

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
/// quiet, stderr a terminal and stdout not one (see the module docs).
pub fn wanted(format: Format, quiet: bool, stderr_tty: bool, stdout_tty: bool) -> bool {
    format == Format::Human && !quiet && stderr_tty && !stdout_tty
}

/// The live progress line of one flow.
pub struct Progress {
    bar: ProgressBar,
    last: Option<(Instant, u64)>,
}

impl Progress {
    /// A progress line drawn on `target`.
    pub fn new(target: ProgressDrawTarget) -> Self {
        let bar = ProgressBar::with_draw_target(None, target);
        // A constant template: it parses, and the fallback is the default.
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        Self { bar, last: None }
    }

    /// The line for this `torvyn run`, on stderr, when [`wanted`].
    pub fn for_run(out: &Output) -> Option<Self> {
        let (format, quiet) = out.mode();
        wanted(
            format,
            quiet,
            std::io::stderr().is_terminal(),
            std::io::stdout().is_terminal(),
        )
        .then(|| Self::new(ProgressDrawTarget::stderr()))
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
        self.last = Some((now, delivered));
        let line = render_line(&ProgressSnapshot {
            state,
            delivered,
            errors,
            rate,
        });
        self.bar.set_message(line);
        self.bar.tick();
    }

    /// Reads flow `id`'s counters from `host` and redraws; a host that
    /// does not answer leaves the line as it was.
    pub fn poll(&mut self, host: &TorvynHandle, id: FlowId) {
        let Ok(flows) = host.metrics() else { return };
        if let Some(flow) = flows.iter().find(|f| f.id == id) {
            let c = &flow.counters;
            self.update(flow.state, c.elements_delivered, c.errors, Instant::now());
        }
    }

    /// The text the line shows now.
    #[cfg(test)]
    pub fn message(&self) -> String {
        self.bar.message()
    }

    /// Removes the line (before the summary is printed).
    pub fn finish(self) {
        self.bar.finish_and_clear();
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
    fn drawn_only_for_people_watching_stderr_with_stdout_elsewhere() {
        assert!(wanted(Format::Human, false, true, false));
        assert!(!wanted(Format::Json, false, true, false), "machine output");
        assert!(!wanted(Format::Human, true, true, false), "--quiet");
        assert!(!wanted(Format::Human, false, false, false), "stderr piped");
        assert!(
            !wanted(Format::Human, false, true, true),
            "guests write to the same terminal"
        );
    }
}
