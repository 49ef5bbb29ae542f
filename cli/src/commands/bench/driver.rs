//! Sustained load on the actor runtime, measured over a window.
//!
//! The flow runs on a [`TorvynHandle`] exactly as `torvyn run` runs it. A
//! timer thread marks the end of the warmup and the end of the window:
//!
//! - **Sustained load.** When the flow completes before the window ends
//!   (its source ran out), the driver starts it again — fresh instances,
//!   `lifecycle.init` again — and keeps doing so until the window ends.
//!   The restarts count in the measured time; the report says how many
//!   runs there were. A source that can be told to produce more (e.g.
//!   `--input '{"count": 0}'` for a never-ending counter) avoids them.
//! - **Warmup excluded.** At the end of the warmup the timer takes a
//!   snapshot of the running flow's report; everything is measured as the
//!   difference from it (runs that ended during the warmup count for
//!   nothing, runs started after it count whole).
//! - **End.** At the end of the window the timer cancels the running flow;
//!   its counters at that moment close the window.

use super::window::Window;
use crate::commands::prepare::{host_failure, Failure};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use torvyn_actors::{FlowId, FlowSpec, HostError, TorvynHandle};
use torvyn_runtime::error::ErrorCode;
use torvyn_runtime::reactor::FlowReport;

/// How long to warm up and how long to measure.
#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    pub warmup: Duration,
    pub duration: Duration,
}

/// What the timer and the driver share.
#[derive(Default)]
struct Phase {
    /// The flow running now.
    current: Option<FlowId>,
    /// The warmup is over.
    warm: bool,
    /// The running flow's counters when the warmup ended.
    baseline: Option<(FlowId, Counters)>,
    /// The window is over: start nothing more.
    stopped: bool,
    warm_at: Option<Instant>,
    end_at: Option<Instant>,
}

/// A flow's report and batch count at one moment.
#[derive(Clone)]
pub struct Counters {
    pub report: FlowReport,
    pub batches: u64,
}

fn lock(phase: &Mutex<Phase>) -> MutexGuard<'_, Phase> {
    phase
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The flow's report and batch count, live or ended.
fn counters(host: &TorvynHandle, id: FlowId) -> Option<Counters> {
    let inspection = host.inspect(id).ok()?;
    Some(Counters {
        report: inspection.report?,
        batches: inspection.counters.batches,
    })
}

/// Runs `spec` under sustained load for the warmup plus the window and
/// returns what happened in the window.
pub fn drive(host: &TorvynHandle, spec: FlowSpec, plan: LoadPlan) -> Result<Window, Failure> {
    let phase = Arc::new(Mutex::new(Phase::default()));
    let (stop_timer, stop_rx) = mpsc::channel::<()>();
    let timer = {
        let phase = Arc::clone(&phase);
        let host = host.clone();
        std::thread::Builder::new()
            .name("torvyn-bench-timer".into())
            .spawn(move || time_window(&host, &phase, plan, &stop_rx))
            .map_err(|e| host_failure(HostError::Startup(e.to_string())))?
    };
    let result = run_flows(host, spec, &phase);
    let _ = stop_timer.send(());
    let _ = timer.join();
    let mut window = result?;
    let phase = lock(&phase);
    if let (Some(warm), Some(end)) = (phase.warm_at, phase.end_at) {
        window.measured = end.saturating_duration_since(warm);
    }
    Ok(window)
}

/// The timer: end of warmup (baseline snapshot), end of window (cancel).
fn time_window(
    host: &TorvynHandle,
    phase: &Mutex<Phase>,
    plan: LoadPlan,
    stop: &mpsc::Receiver<()>,
) {
    let wait = |d: Duration| matches!(stop.recv_timeout(d), Err(RecvTimeoutError::Timeout));
    if !plan.warmup.is_zero() && !wait(plan.warmup) {
        return;
    }
    {
        let mut p = lock(phase);
        p.warm = true;
        p.warm_at = Some(Instant::now());
        if let Some(id) = p.current {
            p.baseline = counters(host, id).map(|c| (id, c));
        }
    }
    let _ = wait(plan.duration);
    let mut p = lock(phase);
    p.stopped = true;
    p.end_at = Some(Instant::now());
    if let Some(id) = p.current {
        let _ = host.cancel(id);
    }
}

/// Starts the flow again and again until the timer stops the window.
fn run_flows(host: &TorvynHandle, spec: FlowSpec, phase: &Mutex<Phase>) -> Result<Window, Failure> {
    let mut window = Window::default();
    loop {
        let (id, started_warm) = {
            let mut p = lock(phase);
            if p.stopped {
                break;
            }
            let id = host.start_flow(spec.clone()).map_err(host_failure)?;
            p.current = Some(id);
            (id, p.warm)
        };
        let outcome = host.await_completion(id);
        let mut p = lock(phase);
        p.current = None;
        let end = match outcome {
            // The actor counts the batches after which the flow goes on;
            // the one in which it finished is one more.
            Ok(report) => Counters {
                batches: counters(host, id).map_or(0, |c| c.batches) + 1,
                report,
            },
            // The timer cancelled it: the window is over.
            Err(HostError::Flow {
                diagnostic, report, ..
            }) if p.stopped && diagnostic.code == ErrorCode::FlowCancelled => match report {
                Some(report) => Counters {
                    batches: counters(host, id).map_or(0, |c| c.batches),
                    report: *report,
                },
                None => break,
            },
            Err(e) => return Err(host_failure(e)),
        };
        let start = match p.baseline.take() {
            _ if started_warm => None,
            Some((baseline_id, counters)) if baseline_id == id => Some(counters),
            // Ended during the warmup.
            _ => continue,
        };
        window.add_run(&end, start.as_ref());
    }
    Ok(window)
}
