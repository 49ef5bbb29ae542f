//! A running flow: any DAG of sources, processors, filters, routers,
//! aggregators and sinks, run on the current thread in bounded batches,
//! with no actors.
//!
//! Every stream is a fixed-capacity ring with a credit ledger, a watermark
//! (backpressure with hysteresis) and an overflow policy. End of stream
//! propagates downstream: a stage finishes once all its inputs ended and
//! drained, and every sink gets `complete()` exactly once.
//!
//! Where each part lives:
//! - `build`: from a [`FlowSpec`](crate::reactor::FlowSpec) to a
//!   running flow ([`Flow::start_graph`]);
//! - `schedule`: which stage runs next;
//! - `step`: running one stage once (pull, call, finish);
//! - `batch`: one call on many elements, for components offering the
//!   batch form of their role (`torvyn:batching`);
//! - `route`: where its output goes, and enqueueing;
//! - `buffers`: buffer ownership between the flow and components;
//! - `failures`: supervision, error policies, dead letters, injected
//!   faults;
//! - `observe`: timing, histograms and the per-element trace, with
//!   `probe` (the call in progress) and `paths` (how elements reach
//!   each node);
//! - `report`: the [`FlowReport`] snapshot;
//! - `node` and `stream`: the per-stage and per-stream state.

mod batch;
mod buffers;
mod build;
mod completion;
mod failures;
mod node;
mod observe;
mod paths;
mod probe;
mod report;
mod route;
mod schedule;
mod stage;
mod step;
mod stream;

pub use batch::MAX_BATCH_ELEMENTS;
pub use step::describe;

use crate::engine::{FlowShared, WasmEngine};
use crate::reactor::clock::FlowClock;
use crate::reactor::error::FlowError;
use crate::reactor::events::{EventBuffer, FlowEvent};
use crate::reactor::histogram::{FlowHistograms, SampleBuffer};
use crate::reactor::latency::LatencyRecorder;
use crate::reactor::report::FlowReport;
use crate::reactor::spec::{FlowProgress, FlowSettings};
use crate::reactor::supervision::RestartWindow;
use crate::reactor::trace::TraceRecorder;
use crate::resources::ResourceManager;
use node::Node;
use observe::TimingWindow;
use probe::CallProbe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream::Stream;

/// A running flow.
pub struct Flow {
    settings: FlowSettings,
    nodes: Vec<Node>,
    streams: Vec<Stream>,
    /// Node indices, most downstream first, sources excluded.
    order: Vec<usize>,
    /// Source nodes, pulled round-robin (fan-in fairness).
    sources: Vec<usize>,
    /// Where the next round-robin scan of `sources` starts.
    next_source: usize,
    /// Elements pulled from sources.
    pulled: u64,
    shared: Option<Box<FlowShared>>,
    next_sequence: u64,
    finished: bool,
    delivered: u64,
    dropped: u64,
    started: Instant,
    finished_after: Option<Duration>,
    clock: FlowClock,
    events: EventBuffer,
    /// Buffers still alive at teardown (reclaimed then): a guest that kept
    /// a handle, or elements in flight when the flow failed or was cancelled.
    leaked: usize,
    /// For restarts.
    engine: WasmEngine,
    /// Position of each node in topological order (`rest_for_one`).
    topo_position: Vec<usize>,
    restart_window: RestartWindow,
    /// Latency histograms (`settings.stage_timing`).
    latency: Option<Box<LatencyRecorder>>,
    /// The catalog's histograms (updated while `observed`).
    histograms: Option<Arc<FlowHistograms>>,
    /// Histogram samples taken since the last [`Flow::record_samples`].
    samples: SampleBuffer,
    /// The per-element trace.
    tracer: TraceRecorder,
    /// The call in progress, as the instrumentation sees it.
    probe: CallProbe,
    /// The rate the `production` timing share follows.
    timing_window: TimingWindow,
    /// At-least-once tracking (`None` unless a connector needs it).
    completion: Option<Box<completion::Completion>>,
}

/// A chain is just a flow whose graph is a line ([`Flow::start`]); the
/// name reads better where only chains are built.
pub type LinearFlow = Flow;

/// Steps per batch in [`Flow::run_to_completion`]: the spec's default batch
/// of 32 elements. A sink's `pause` lasts until the next batch.
pub const DEFAULT_BATCH_STEPS: usize = 32;

impl Flow {
    /// Runs up to `max_steps` stage invocations. Finishes the flow (sinks'
    /// `complete`, `teardown` everywhere, buffer reclamation) once every
    /// stage has finished.
    pub fn run_batch(&mut self, max_steps: usize) -> Result<FlowProgress, FlowError> {
        // The flow may have waited since its last batch: the clock reading
        // that batch ended with is not the time now.
        self.probe.forget_reading();
        self.follow_rate();
        self.continue_batch(max_steps)
    }

    /// [`Self::run_batch`] straight after a batch that returned
    /// [`FlowProgress::Running`], with nothing else run on this thread in
    /// between: the first pull may start at the clock reading of the last
    /// batch's final delivery, one clock read less.
    pub fn continue_batch(&mut self, max_steps: usize) -> Result<FlowProgress, FlowError> {
        if self.finished {
            return Ok(FlowProgress::Finished);
        }
        // A sink's `pause` lasts until the next batch.
        for node in &mut self.nodes {
            node.state.sink_paused = false;
        }
        match self.steps(max_steps) {
            Ok(progress) => Ok(progress),
            Err(e) => {
                self.teardown();
                Err(e)
            }
        }
    }

    /// Runs the flow until it finishes or fails, sleeping while rate limits hold it.
    pub fn run_to_completion(&mut self) -> Result<FlowReport, FlowError> {
        loop {
            // Back to back; a flow that waits forgets its clock reading
            // (`idle`).
            self.follow_rate();
            let progress = self.continue_batch(DEFAULT_BATCH_STEPS)?;
            self.record_samples();
            match progress {
                FlowProgress::Running => {}
                FlowProgress::Waiting(wait) => std::thread::sleep(wait),
                FlowProgress::Finished => return Ok(self.report()),
            }
        }
    }

    /// Stops the flow now: no `complete`, `teardown` everywhere, buffers
    /// reclaimed. Idempotent.
    pub fn cancel(&mut self) {
        for stream in &mut self.streams {
            stream.credit.cancel();
        }
        self.teardown();
    }

    /// Whether the flow has finished (completed, failed or cancelled).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Moves the buffered events to `out`.
    pub fn drain_events(&mut self, out: &mut Vec<FlowEvent>) {
        self.events.drain_into(out);
    }

    /// The resource manager (ledger, pools, live buffers).
    pub fn resources(&self) -> Option<&ResourceManager> {
        self.shared.as_ref().map(|s| &s.resources)
    }

    /// Graceful stop: the sources are not pulled again; what is in flight
    /// drains through the flow, aggregators flush, every sink completes, and
    /// the flow then finishes as if its sources had ended. Idempotent.
    pub fn drain(&mut self) -> Result<(), FlowError> {
        for k in 0..self.sources.len() {
            let n = self.sources[k];
            if !self.nodes[n].state.finished {
                self.finish_node(n)?;
            }
        }
        Ok(())
    }

    /// Gives the flow's cached free buffers back to the shared pools (a
    /// suspended flow keeps none; its live buffers stay).
    pub fn trim_buffers(&mut self) {
        if let Some(shared) = self.shared.as_mut() {
            shared.resources.trim_pool();
        }
    }

    /// Calls `teardown` on every component (best effort, each at most once)
    /// and reclaims every buffer still alive.
    fn teardown(&mut self) {
        if self.finished {
            return;
        }
        self.record_samples();
        self.finished = true;
        if self.finished_after.is_none() {
            self.finished_after = Some(self.started.elapsed());
        }
        for node in &mut self.nodes {
            if let Err(e) = node.instance.teardown(&mut self.shared) {
                tracing::warn!(component = %node.name, error = %e, "teardown failed");
            }
        }
        // Elements still queued (a failure or a cancel) go back to the pool
        // the regular way, so what reclaim finds below is a real leak.
        let shared = self.shared.as_deref_mut();
        if let Some(shared) = shared {
            for stream in &mut self.streams {
                while let Some(element) = stream.queue.pop() {
                    let _ = shared.resources.release(element.buffer);
                }
            }
            for node in &mut self.nodes {
                while let Some(element) = node.state.pending.pop_front() {
                    let _ = shared.resources.release(element.buffer);
                }
            }
        }
        if let Some(shared) = self.shared.as_mut() {
            let leaked = shared.resources.reclaim_all();
            if leaked > 0 {
                tracing::debug!(leaked, "buffers reclaimed at teardown");
            }
            self.leaked = leaked;
            shared.resources.trim_pool();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flow can be built on one thread and driven from another (the actor
    /// layer moves it onto an arbiter).
    #[test]
    fn a_flow_is_send() {
        fn is_send<T: Send>() {}
        is_send::<Flow>();
    }
}
