//! The adapter between a FlowActor and the runtime's synchronous [`Flow`]:
//! the only file of the actor layer that calls the stage loop.
//!
//! # From elements to steps
//!
//! [`Flow::run_batch`] takes a budget of *steps*, one stage
//! invocation each. In a flow of S stages an element costs about S steps
//! (one pull plus one call per downstream stage), so a batch of N elements
//! is a budget of N × S steps. The budget is spent in chunks of
//! [`CHUNK_ELEMENTS`] elements with one clock read after each chunk, so the
//! time quantum is honoured within one chunk and the clock is read once per
//! 8 elements, not per element. Aggregators that drop elements make an
//! element cost fewer steps downstream; the batch then covers a few more
//! elements, which is harmless.
//!
//! # Fair shares
//!
//! The driver runs the batch it is given and says how many elements it
//! ran; how big each batch is and how long it may take is the flow's fair
//! share on its worker (see `fair_share`), so that a batch cut short by
//! the quantum, or a turn that came late, is made up in the next turns.
//!
//! # Which thread runs the guests
//!
//! Normally the arbiter thread itself: the engine's blocking WASI I/O
//! (stdio, clocks, poll) does not need the arbiter's Tokio runtime (see
//! `torvyn_runtime::engine::wasi_io`), so a batch is a plain function call.
//! A flow with a component granted filesystem or network access is the
//! exception: wasmtime-wasi's filesystem and socket calls block on the
//! *current* Tokio runtime and panic on a thread that already drives one, as
//! an arbiter does. Such a flow ([`Placement::WasmThread`]) runs its
//! batches on the arbiter's companion plain thread ("torvyn-wasm", created
//! on first use); the arbiter waits for the batch, so the scheduling model
//! is the same, at the cost of two thread hand-offs per batch.

use std::cell::RefCell;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::engine::{EngineError, WasmEngine};
use torvyn_runtime::reactor::{
    validate_graph, Flow, FlowError, FlowProgress, FlowReport, FlowSettings, FlowSpec, TraceRecord,
};

/// Elements run between two clock reads.
pub(crate) const CHUNK_ELEMENTS: usize = 8;

/// Whether the flow has more work after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BatchOutcome {
    /// More batches to run.
    More,
    /// Nothing can run before this much time passes (rate limiting).
    Wait(Duration),
    /// The source ended, everything was delivered and the flow is torn down.
    Finished,
}

/// Where a flow's guest calls run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On the arbiter thread, inline.
    Inline,
    /// On the arbiter's companion thread (filesystem or network granted).
    WasmThread,
}

impl Placement {
    fn of(graph: &FlowSpec) -> Self {
        if graph
            .stages
            .iter()
            .any(|stage| stage.sandbox.needs_tokio_free_thread())
        {
            Placement::WasmThread
        } else {
            Placement::Inline
        }
    }
}

/// A running flow, as the FlowActor sees it.
pub(crate) struct FlowDriver {
    /// `None` only while a batch runs on the Wasm thread, or after that
    /// thread died with it.
    flow: Option<Box<Flow>>,
    steps_per_element: usize,
    placement: Placement,
}

/// Work for a worker's companion thread.
type Job = Box<dyn FnOnce() + Send>;

struct WasmThread {
    jobs: mpsc::SyncSender<Job>,
}

thread_local! {
    static WASM_THREAD: RefCell<Option<WasmThread>> = const { RefCell::new(None) };
}

fn spawn_wasm_thread() -> Option<WasmThread> {
    let (jobs, rx) = mpsc::sync_channel::<Job>(1);
    std::thread::Builder::new()
        .name("torvyn-wasm".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job();
            }
        })
        .ok()?;
    Some(WasmThread { jobs })
}

fn wasm_thread_died() -> FlowError {
    FlowError::Engine(EngineError::Setup(
        "the worker's Wasm thread stopped during a component call".into(),
    ))
}

/// Runs `f` where its guest calls can run: inline for
/// [`Placement::Inline`] or outside a Tokio runtime, else on this thread's
/// companion thread (this thread waits). `f` and its result move across;
/// nothing is borrowed.
// WARM PATH: once per batch (inline: a direct call; else one boxed job and
// two hand-offs).
fn on_wasm_thread<T, F>(placement: Placement, f: F) -> Result<T, FlowError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if placement == Placement::Inline || tokio::runtime::Handle::try_current().is_err() {
        return Ok(f());
    }
    let (tx, rx) = mpsc::sync_channel::<T>(1);
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    let sent = WASM_THREAD.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = spawn_wasm_thread();
        }
        slot.as_ref().map(|t| t.jobs.send(job).is_ok())
    });
    if sent != Some(true) {
        return Err(wasm_thread_died());
    }
    rx.recv().map_err(|_| wasm_thread_died())
}

impl FlowDriver {
    /// Checks the graph and stage roles without instantiating anything.
    pub(crate) fn validate(graph: &FlowSpec) -> Result<(), FlowError> {
        validate_graph(graph).map(|_| ())
    }

    /// Instantiates every stage and initialises it (on the arbiter's Wasm
    /// thread; the stores then belong to this driver on the arbiter).
    pub(crate) fn start(
        engine: &WasmEngine,
        graph: FlowSpec,
        settings: FlowSettings,
    ) -> Result<Self, FlowError> {
        let steps_per_element = graph.stages.len().max(1);
        let placement = Placement::of(&graph);
        let engine = engine.clone();
        let flow = on_wasm_thread(placement, move || {
            Flow::start_graph(&engine, graph, settings).map(Box::new)
        })??;
        Ok(Self {
            flow: Some(flow),
            steps_per_element,
            placement,
        })
    }

    /// Runs up to `elements` elements, stopping early once `quantum` has
    /// passed; returns how the batch ended and how many elements it ran.
    /// On error the flow has already torn itself down.
    // HOT PATH: no allocation, no lock, no message; one clock read per chunk.
    pub(crate) fn run_batch(
        &mut self,
        elements: usize,
        quantum: Duration,
    ) -> Result<(BatchOutcome, usize), FlowError> {
        let steps_per_element = self.steps_per_element;
        // The flow travels to the Wasm thread and back: a pointer move.
        let flow = self.flow.take().ok_or_else(wasm_thread_died)?;
        let (flow, outcome) = on_wasm_thread(self.placement, move || {
            let mut flow = flow;
            let outcome = run_chunks(&mut flow, elements, quantum, steps_per_element);
            // Once per batch: the histograms' cache lines are loaded once
            // for every sample the batch took.
            flow.record_samples();
            (flow, outcome)
        })?;
        self.flow = Some(flow);
        outcome
    }

    /// Plans a component fault (tests).
    pub(crate) fn inject_fault(
        &mut self,
        fault: torvyn_runtime::reactor::supervision::Fault,
    ) -> Result<(), FlowError> {
        match self.flow.as_mut() {
            Some(flow) => flow.inject_fault(fault),
            None => Err(wasm_thread_died()),
        }
    }

    /// Stops the sources; the flow drains in the next batches.
    pub(crate) fn drain(&mut self) -> Result<(), FlowError> {
        match self.flow.as_mut() {
            Some(flow) => flow.drain(),
            None => Err(wasm_thread_died()),
        }
    }

    /// Gives the flow's cached free buffers back to the shared pools.
    pub(crate) fn trim_buffers(&mut self) {
        if let Some(flow) = self.flow.as_mut() {
            flow.trim_buffers();
        }
    }

    /// Sets what the flow measures from its next call on.
    pub(crate) fn set_observability(&mut self, level: ObservabilityLevel) {
        if let Some(flow) = self.flow.as_mut() {
            flow.set_observability(level);
        }
    }

    /// Moves the flow's trace records to `out` (an empty `out` becomes the
    /// flow's next record buffer: see [`Flow::drain_trace`]).
    ///
    /// [`Flow::drain_trace`]: torvyn_runtime::reactor::Flow::drain_trace
    pub(crate) fn drain_trace(&mut self, out: &mut Vec<TraceRecord>) {
        if let Some(flow) = self.flow.as_mut() {
            flow.drain_trace(out);
        }
    }

    /// How many records the flow has dropped in all (its buffer was full).
    pub(crate) fn trace_dropped(&self) -> u64 {
        self.flow.as_ref().map_or(0, |f| f.trace_dropped())
    }

    /// Trace records waiting to be drained.
    pub(crate) fn trace_pending(&self) -> usize {
        self.flow.as_ref().map_or(0, |f| f.trace_pending())
    }

    /// Moves the flow's buffered events (backpressure episodes, restarts,
    /// pauses) to `out`.
    pub(crate) fn drain_events(&mut self, out: &mut Vec<torvyn_runtime::reactor::FlowEvent>) {
        if let Some(flow) = self.flow.as_mut() {
            flow.drain_events(out);
        }
    }

    /// Elements delivered so far (cheap).
    pub(crate) fn delivered(&self) -> u64 {
        self.flow.as_ref().map_or(0, |f| f.report_delivered())
    }

    /// A full snapshot (allocates: per-stage names; call per publish, not
    /// per element).
    pub(crate) fn report(&self) -> Option<FlowReport> {
        self.flow.as_ref().map(|f| f.report())
    }

    /// Current depth of each stream's queue, in stream order.
    pub(crate) fn queue_depths(&self) -> Option<Vec<usize>> {
        self.report()
            .map(|r| r.streams.iter().map(|s| s.depth).collect())
    }

    /// Stops the flow where it stands: drops every component instance and
    /// every buffer. Returns the counters at that moment (`live_buffers`
    /// counts the elements in flight, reclaimed by the drop).
    ///
    /// Components get `lifecycle.teardown` (on the Wasm thread, where
    /// guest I/O works) before the flow is dropped.
    pub(crate) fn cancel(mut self) -> Option<FlowReport> {
        let mut report = self.report();
        if let Some(flow) = self.flow.take() {
            // What the flow still holds of the shared pools once torn down
            // (teardown gives everything back; more is a leak).
            let held = on_wasm_thread(self.placement, move || {
                let mut flow = flow;
                flow.cancel();
                flow.resources()
                    .map_or(0, |r| r.pool().borrowed_from_shared())
            });
            if let (Some(report), Ok(held)) = (report.as_mut(), held) {
                report.pool_buffers_held = held;
            }
        }
        report
    }
}

/// Runs up to `elements` elements in chunks of [`CHUNK_ELEMENTS`],
/// stopping once `quantum` has passed; returns how the batch ended and how
/// many elements it ran.
// HOT PATH: no allocation, no lock, no message; one clock read per chunk.
fn run_chunks(
    flow: &mut Flow,
    elements: usize,
    quantum: Duration,
    steps_per_element: usize,
) -> Result<(BatchOutcome, usize), FlowError> {
    let began = Instant::now();
    let mut left = elements;
    while left > 0 {
        let chunk = left.min(CHUNK_ELEMENTS);
        // Chunks after the first follow their predecessor at once.
        let progress = if left == elements {
            flow.run_batch(chunk * steps_per_element)?
        } else {
            flow.continue_batch(chunk * steps_per_element)?
        };
        match progress {
            FlowProgress::Finished => return Ok((BatchOutcome::Finished, elements - left)),
            FlowProgress::Waiting(wait) => return Ok((BatchOutcome::Wait(wait), elements - left)),
            FlowProgress::Running => {}
        }
        left -= chunk;
        if began.elapsed() >= quantum {
            break;
        }
    }
    Ok((BatchOutcome::More, elements - left))
}
