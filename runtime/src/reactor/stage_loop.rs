//! The synchronous stage loop: runs a linear flow (source → processors /
//! filters / aggregators → sink) on the current thread, in bounded batches,
//! with no actors.
//!
//! Scheduling is consumer-first: each step runs the most downstream stage
//! that has input and room for its output, and pulls from the source only
//! when nothing downstream can run. Queues are fixed-capacity rings, so a
//! fast source can never run ahead of its consumers by more than the queue
//! depth.

use super::element::QueuedElement;
use super::error::FlowError;
use super::queue::BoundedQueue;
use super::report::{FlowReport, StageReport};
use crate::engine::bindings::types::{
    BackpressureSignal, ElementMeta, FlowContext, OutputElement, ProcessError, ProcessResult,
    StreamElement,
};
use crate::engine::{
    CompiledComponent, ComponentInstance, FlowContextData, FlowShared, TorvynInterface, WasmEngine,
};
use crate::resources::{BufferId, ComponentId, PoolConfig, ResourceLimits, ResourceManager};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime::component::Resource;

/// What a stage does in a linear flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageRole {
    /// Produces elements (`source.pull`).
    Source,
    /// Transforms elements (`processor.process`).
    Processor,
    /// Passes or drops elements (`filter.evaluate`).
    Filter,
    /// Absorbs elements, emits aggregates (`aggregator.ingest` / `flush`).
    Aggregator,
    /// Consumes elements (`sink.push` / `complete`).
    Sink,
}

impl StageRole {
    /// The role a node's declared `interface` gives it.
    pub fn from_interface(interface: TorvynInterface) -> Option<Self> {
        match interface {
            TorvynInterface::Source => Some(StageRole::Source),
            TorvynInterface::Processor => Some(StageRole::Processor),
            TorvynInterface::Filter => Some(StageRole::Filter),
            TorvynInterface::Aggregator => Some(StageRole::Aggregator),
            TorvynInterface::Sink => Some(StageRole::Sink),
            TorvynInterface::Router | TorvynInterface::Lifecycle => None,
        }
    }

    /// The interface a component must export to play this role.
    pub fn interface(self) -> TorvynInterface {
        match self {
            StageRole::Source => TorvynInterface::Source,
            StageRole::Processor => TorvynInterface::Processor,
            StageRole::Filter => TorvynInterface::Filter,
            StageRole::Aggregator => TorvynInterface::Aggregator,
            StageRole::Sink => TorvynInterface::Sink,
        }
    }
}

/// One node of a linear flow, in flow order.
#[derive(Clone)]
pub struct StageSpec {
    /// Node name.
    pub name: String,
    /// Its compiled component.
    pub component: CompiledComponent,
    /// Its role.
    pub role: StageRole,
    /// The string passed to `lifecycle.init`.
    pub config: String,
}

/// Flow-wide settings.
#[derive(Debug, Clone)]
pub struct FlowSettings {
    /// Flow name.
    pub flow_name: String,
    /// Capacity of each queue between two stages.
    pub queue_depth: usize,
    /// Buffer pools.
    pub pools: PoolConfig,
    /// Buffer limits.
    pub limits: ResourceLimits,
    /// Pull at most this many elements from the source.
    pub element_limit: Option<u64>,
    /// Stop with E0400 when the flow runs longer.
    pub deadline: Option<Duration>,
    /// Individual copy records to keep (0 = counters only).
    pub copy_records: usize,
    /// Measure the wall time of every component call (two clock reads per
    /// call; off unless a report needs per-stage times).
    pub stage_timing: bool,
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            flow_name: "main".into(),
            queue_depth: 64,
            pools: PoolConfig::default(),
            limits: ResourceLimits::default(),
            element_limit: None,
            deadline: None,
            copy_records: 0,
            stage_timing: false,
        }
    }
}

/// Whether a flow has more work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowProgress {
    /// More batches to run.
    Running,
    /// Every element reached the sink (or was dropped) and the flow is torn down.
    Finished,
}

struct Stage {
    name: String,
    role: StageRole,
    instance: ComponentInstance,
    /// Re-used argument of every call (its strings keep their capacity).
    scratch: StreamElement,
    invocations: u64,
    errors: u64,
    busy_ns: u64,
}

/// A running linear flow.
pub struct LinearFlow {
    settings: FlowSettings,
    stages: Vec<Stage>,
    /// `queues[i]` feeds `stages[i + 1]`.
    queues: Vec<BoundedQueue<QueuedElement>>,
    shared: Option<Box<FlowShared>>,
    next_sequence: u64,
    source_done: bool,
    finished: bool,
    delivered: u64,
    dropped: u64,
    started: Instant,
    finished_after: Option<Duration>,
    clock: FlowClock,
}

const METADATA_FIXED_BYTES: u64 = 16;

impl LinearFlow {
    /// Instantiates every stage (a fresh `Store` each) and calls
    /// `lifecycle.init(config)` on the components that export it.
    pub fn start(
        engine: &WasmEngine,
        specs: Vec<StageSpec>,
        settings: FlowSettings,
    ) -> Result<Self, FlowError> {
        validate_linear(&specs)?;
        let resources = ResourceManager::new(
            settings.pools,
            settings.limits,
            specs.len(),
            settings.copy_records,
        );
        let shared = Box::new(FlowShared {
            resources,
            context: FlowContextData {
                flow_id: settings.flow_name.clone(),
                ..FlowContextData::default()
            },
        });
        let mut stages = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let id = ComponentId(i as u32);
            let instance = ComponentInstance::instantiate(engine, &spec.component, id, &spec.name)?;
            stages.push(Stage {
                name: spec.name.clone(),
                role: spec.role,
                instance,
                scratch: StreamElement {
                    meta: ElementMeta {
                        sequence: 0,
                        timestamp_ns: 0,
                        content_type: String::with_capacity(64),
                    },
                    payload: Resource::new_borrow(0),
                    context: Resource::<FlowContext>::new_borrow(0),
                },
                invocations: 0,
                errors: 0,
                busy_ns: 0,
            });
        }
        let queues = (1..specs.len())
            .map(|_| BoundedQueue::new(settings.queue_depth))
            .collect();
        let mut flow = Self {
            settings,
            stages,
            queues,
            shared: Some(shared),
            next_sequence: 0,
            source_done: false,
            finished: false,
            delivered: 0,
            dropped: 0,
            started: Instant::now(),
            finished_after: None,
            clock: FlowClock::new(),
        };
        for (stage, spec) in flow.stages.iter_mut().zip(&specs) {
            match stage.instance.init(&mut flow.shared, &spec.config)? {
                Ok(()) => {}
                Err(e) => {
                    return Err(FlowError::InitFailed {
                        component: stage.name.clone(),
                        error: describe(&e),
                    });
                }
            }
        }
        flow.started = Instant::now();
        Ok(flow)
    }

    /// Runs up to `max_steps` stage invocations. Finishes the flow (sink
    /// `complete`, `teardown` everywhere, buffer reclamation) when the source
    /// has ended and every queue is empty.
    pub fn run_batch(&mut self, max_steps: usize) -> Result<FlowProgress, FlowError> {
        if self.finished {
            return Ok(FlowProgress::Finished);
        }
        let result = self.steps(max_steps);
        if let Err(e) = result {
            self.teardown();
            return Err(e);
        }
        if self.finished {
            return Ok(FlowProgress::Finished);
        }
        Ok(FlowProgress::Running)
    }

    /// Runs the flow until it finishes or fails.
    pub fn run_to_completion(&mut self) -> Result<FlowReport, FlowError> {
        while self.run_batch(256)? == FlowProgress::Running {}
        Ok(self.report())
    }

    // HOT PATH: no allocation, no lock, no message per element.
    fn steps(&mut self, max_steps: usize) -> Result<(), FlowError> {
        // Checked once per batch: a batch is short, and the hot loop stays clock-free.
        if let Some(limit) = self.settings.deadline {
            if self.started.elapsed() > limit {
                return Err(FlowError::DeadlineExceeded {
                    flow: self.settings.flow_name.clone(),
                    limit_ms: limit.as_millis() as u64,
                });
            }
        }
        for _ in 0..max_steps {
            if let Some(stage) = self.runnable_stage() {
                self.run_stage(stage)?;
                continue;
            }
            if !self.source_done && !self.queues.first().is_some_and(BoundedQueue::is_full) {
                self.pull_source()?;
                continue;
            }
            if self.source_done && self.queues.iter().all(BoundedQueue::is_empty) {
                self.end_of_stream()?;
                return Ok(());
            }
        }
        Ok(())
    }

    /// The most downstream stage with input and room for its output.
    fn runnable_stage(&self) -> Option<usize> {
        (1..self.stages.len()).rev().find(|&i| {
            !self.queues[i - 1].is_empty()
                && (i == self.stages.len() - 1 || !self.queues[i].is_full())
        })
    }

    fn pull_source(&mut self) -> Result<(), FlowError> {
        if self
            .settings
            .element_limit
            .is_some_and(|limit| self.next_sequence >= limit)
        {
            self.source_done = true;
            return Ok(());
        }
        let timing = self.settings.stage_timing;
        let stage = &mut self.stages[0];
        let began = timing.then(Instant::now);
        let result = stage.instance.pull(&mut self.shared)?;
        stage.invocations += 1;
        if let Some(began) = began {
            stage.busy_ns += began.elapsed().as_nanos() as u64;
        }
        match result {
            Ok(Some(output)) => {
                let sequence = self.next_sequence;
                self.next_sequence += 1;
                let timestamp = self.clock.now_ns();
                let element = self.accept(0, output, sequence, timestamp)?;
                self.enqueue(0, element);
            }
            Ok(None) => self.source_done = true,
            Err(e) => self.stage_error(0, "pull", e)?,
        }
        Ok(())
    }

    fn run_stage(&mut self, i: usize) -> Result<(), FlowError> {
        let Some(input) = self.queues[i - 1].pop() else {
            return Ok(());
        };
        let role = self.stages[i].role;
        let resources = &mut self.shared_mut().resources;
        let id = ComponentId(i as u32);
        resources
            .lend(input.buffer, id)
            .map_err(|source| self.ownership_error(i, source))?;
        self.shared_mut().resources.record_metadata(
            id,
            input.buffer,
            METADATA_FIXED_BYTES + input.content_type.len() as u64,
        );
        let stage = &mut self.stages[i];
        stage.scratch.meta.sequence = input.sequence;
        stage.scratch.meta.timestamp_ns = input.timestamp_ns;
        stage.scratch.meta.content_type.clear();
        stage
            .scratch
            .meta
            .content_type
            .push_str(&input.content_type);
        stage.scratch.payload = Resource::new_borrow(input.buffer.to_wire());
        let began = self.settings.stage_timing.then(Instant::now);
        let outcome = match role {
            StageRole::Processor => stage
                .instance
                .process(&mut self.shared, &stage.scratch)
                .map(|r| r.map(Outcome::Processed)),
            StageRole::Filter => stage
                .instance
                .evaluate(&mut self.shared, &stage.scratch)
                .map(|r| r.map(Outcome::Filtered)),
            StageRole::Aggregator => stage
                .instance
                .ingest(&mut self.shared, &stage.scratch)
                .map(|r| r.map(Outcome::Ingested)),
            StageRole::Sink => stage
                .instance
                .push(&mut self.shared, &stage.scratch)
                .map(|r| r.map(Outcome::Pushed)),
            StageRole::Source => unreachable_role(),
        };
        stage.invocations += 1;
        if let Some(began) = began {
            stage.busy_ns += began.elapsed().as_nanos() as u64;
        }
        let outcome = outcome?;
        self.shared_mut()
            .resources
            .end_lend(input.buffer)
            .map_err(|source| self.ownership_error(i, source))?;
        match outcome {
            Ok(Outcome::Filtered(true)) => {
                // The same buffer moves on: no copy, no allocation.
                self.shared_mut()
                    .resources
                    .forward(input.buffer)
                    .map_err(|source| self.ownership_error(i, source))?;
                self.enqueue(i, input);
                return Ok(());
            }
            Ok(Outcome::Processed(ProcessResult::Emit(output)))
            | Ok(Outcome::Ingested(Some(output))) => {
                let element = self.accept(i, output, input.sequence, input.timestamp_ns)?;
                self.enqueue(i, element);
            }
            Ok(Outcome::Pushed(signal)) => {
                self.delivered += 1;
                // Pause/resume of sinks arrives with the reactor's credit ledger;
                // the stage loop delivers one element at a time either way.
                let _ = signal == BackpressureSignal::Pause;
            }
            Ok(Outcome::Filtered(false))
            | Ok(Outcome::Processed(ProcessResult::Drop))
            | Ok(Outcome::Ingested(None)) => {
                self.dropped += 1;
            }
            Err(e) => {
                self.release(i, input.buffer)?;
                return self.stage_error(i, function_of(role), e);
            }
        }
        self.release(i, input.buffer)
    }

    fn release(&mut self, stage: usize, buffer: BufferId) -> Result<(), FlowError> {
        self.shared_mut()
            .resources
            .release(buffer)
            .map_err(|source| self.ownership_error(stage, source))
    }

    /// Takes ownership of a component's output buffer.
    fn accept(
        &mut self,
        stage: usize,
        output: OutputElement,
        sequence: u64,
        timestamp_ns: u64,
    ) -> Result<QueuedElement, FlowError> {
        let OutputElement { meta, payload } = output;
        let id = ComponentId(stage as u32);
        let resources = &mut self.shared_mut().resources;
        let buffer = resources
            .resolve(payload.rep(), "output")
            .map_err(|source| self.ownership_error(stage, source))?;
        self.shared_mut()
            .resources
            .accept_output(id, buffer)
            .map_err(|source| self.ownership_error(stage, source))?;
        let mut content_type = meta.content_type;
        if content_type.is_empty() {
            content_type.push_str(
                self.shared_mut()
                    .resources
                    .content_type(buffer)
                    .unwrap_or(""),
            );
        }
        Ok(QueuedElement {
            sequence,
            timestamp_ns,
            content_type,
            buffer,
        })
    }

    fn enqueue(&mut self, stage: usize, element: QueuedElement) {
        if let Err(element) = self.queues[stage].push(element) {
            // Unreachable by construction: a stage only runs when its output queue has room.
            let _ = self.shared_mut().resources.release(element.buffer);
            self.dropped += 1;
        }
    }

    /// A component returned a `process-error`. Until error policies arrive
    /// (supervision), `fatal` fails the flow and every other kind skips the
    /// element, counted as an error.
    fn stage_error(
        &mut self,
        i: usize,
        function: &'static str,
        error: ProcessError,
    ) -> Result<(), FlowError> {
        let stage = &mut self.stages[i];
        stage.errors += 1;
        if let ProcessError::Fatal(message) = error {
            return Err(FlowError::Fatal {
                component: stage.name.clone(),
                function,
                message,
            });
        }
        tracing::warn!(component = %stage.name, function, error = %describe(&error), "element skipped");
        Ok(())
    }

    fn end_of_stream(&mut self) -> Result<(), FlowError> {
        let last = self.stages.len() - 1;
        for i in 1..last {
            if self.stages[i].role == StageRole::Aggregator {
                self.flush_aggregator(i)?;
            }
        }
        // Flushed aggregates may still be queued: drain them before completing.
        while let Some(stage) = self.runnable_stage() {
            self.run_stage(stage)?;
        }
        let sink = &mut self.stages[last];
        if let Err(e) = sink.instance.complete(&mut self.shared)? {
            let component = sink.name.clone();
            self.teardown();
            return Err(FlowError::Fatal {
                component,
                function: "complete",
                message: describe(&e),
            });
        }
        self.finished_after = Some(self.started.elapsed());
        self.teardown();
        Ok(())
    }

    fn flush_aggregator(&mut self, i: usize) -> Result<(), FlowError> {
        let outputs = match self.stages[i].instance.flush(&mut self.shared)? {
            Ok(outputs) => outputs,
            Err(e) => return self.stage_error(i, "flush", e),
        };
        for output in outputs {
            let sequence = self.next_sequence;
            self.next_sequence += 1;
            let timestamp = self.clock.now_ns();
            let element = self.accept(i, output, sequence, timestamp)?;
            // Make room downstream first; aggregates are never dropped.
            while self.queues[i].is_full() {
                match self.runnable_stage() {
                    Some(stage) if stage > i => self.run_stage(stage)?,
                    _ => break,
                }
            }
            self.enqueue(i, element);
        }
        Ok(())
    }

    /// Calls `teardown` on every component (best effort, each at most once)
    /// and reclaims every buffer still alive.
    fn teardown(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.finished_after.is_none() {
            self.finished_after = Some(self.started.elapsed());
        }
        for stage in &mut self.stages {
            if let Err(e) = stage.instance.teardown(&mut self.shared) {
                tracing::warn!(component = %stage.name, error = %e, "teardown failed");
            }
        }
        for queue in &mut self.queues {
            while queue.pop().is_some() {}
        }
        if let Some(shared) = self.shared.as_mut() {
            let leaked = shared.resources.reclaim_all();
            if leaked > 0 {
                tracing::debug!(leaked, "buffers reclaimed at teardown");
            }
        }
    }

    fn shared_mut(&mut self) -> &mut FlowShared {
        // The shared state is only ever out of `self.shared` during a guest
        // call, and guest calls hand it back before returning.
        self.shared.get_or_insert_with(|| {
            Box::new(FlowShared {
                resources: ResourceManager::new(
                    PoolConfig::default(),
                    ResourceLimits::default(),
                    0,
                    0,
                ),
                context: FlowContextData::default(),
            })
        })
    }

    fn ownership_error(&self, stage: usize, source: crate::resources::ResourceError) -> FlowError {
        FlowError::Ownership {
            component: self.stages[stage].name.clone(),
            source,
        }
    }

    /// The resource manager (ledger, pools, live buffers).
    pub fn resources(&self) -> Option<&ResourceManager> {
        self.shared.as_ref().map(|s| &s.resources)
    }

    /// Elements pushed into the sink so far (cheap; no snapshot).
    pub fn report_delivered(&self) -> u64 {
        self.delivered
    }

    /// A snapshot of the flow's counters.
    pub fn report(&self) -> FlowReport {
        let resources = self.resources();
        let ledger = resources.map(|r| r.ledger());
        FlowReport {
            flow: self.settings.flow_name.clone(),
            elements_pulled: self.next_sequence,
            elements_delivered: self.delivered,
            elements_dropped: self.dropped,
            errors: self.stages.iter().map(|s| s.errors).sum(),
            duration: self
                .finished_after
                .unwrap_or_else(|| self.started.elapsed()),
            payload_copies: ledger.map(|l| l.payload_copies()).unwrap_or_default(),
            all_copies: ledger.map(|l| l.total()).unwrap_or_default(),
            copy_amplification: ledger.map(|l| l.amplification()).unwrap_or(0.0),
            peak_queue_depth: self
                .queues
                .iter()
                .map(BoundedQueue::peak)
                .max()
                .unwrap_or(0),
            live_buffers: resources.map(|r| r.live_buffers()).unwrap_or(0),
            stages: self
                .stages
                .iter()
                .map(|s| StageReport {
                    name: s.name.clone(),
                    invocations: s.invocations,
                    errors: s.errors,
                    busy_ns: s.busy_ns,
                })
                .collect(),
        }
    }
}

enum Outcome {
    Processed(ProcessResult),
    Filtered(bool),
    Ingested(Option<OutputElement>),
    Pushed(BackpressureSignal),
}

fn unreachable_role() -> Result<Result<Outcome, ProcessError>, crate::engine::InvokeError> {
    // A source never has an input queue, so the scheduler never picks it.
    Ok(Ok(Outcome::Filtered(false)))
}

fn function_of(role: StageRole) -> &'static str {
    match role {
        StageRole::Source => "pull",
        StageRole::Processor => "process",
        StageRole::Filter => "evaluate",
        StageRole::Aggregator => "ingest",
        StageRole::Sink => "push",
    }
}

/// Wall-clock nanoseconds from one monotonic clock read: the wall time at
/// flow start plus the monotonic time elapsed since (immune to wall-clock
/// steps during the run, and one vDSO call per element).
struct FlowClock {
    wall_at_start_ns: u64,
    started: Instant,
}

impl FlowClock {
    fn new() -> Self {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self {
            wall_at_start_ns: wall,
            started: Instant::now(),
        }
    }

    // HOT PATH
    fn now_ns(&self) -> u64 {
        self.wall_at_start_ns + self.started.elapsed().as_nanos() as u64
    }
}

/// Renders a process-error the way the WIT names it.
pub fn describe(error: &ProcessError) -> String {
    match error {
        ProcessError::InvalidInput(m) => format!("invalid-input({m:?})"),
        ProcessError::Unavailable(m) => format!("unavailable({m:?})"),
        ProcessError::Internal(m) => format!("internal({m:?})"),
        ProcessError::DeadlineExceeded => "deadline-exceeded".into(),
        ProcessError::Fatal(m) => format!("fatal({m:?})"),
    }
}

/// A linear flow is a source, then zero or more processors, filters or
/// aggregators, then a sink; each stage's component must export its role
/// (E0203 otherwise). [`LinearFlow::start`] checks this too.
pub fn validate_linear(specs: &[StageSpec]) -> Result<(), FlowError> {
    if specs.len() < 2 {
        return Err(FlowError::Topology(format!(
            "a flow needs at least a source and a sink, found {} node(s)",
            specs.len()
        )));
    }
    for (i, spec) in specs.iter().enumerate() {
        let expected_edge = if i == 0 {
            spec.role == StageRole::Source
        } else if i == specs.len() - 1 {
            spec.role == StageRole::Sink
        } else {
            !matches!(spec.role, StageRole::Source | StageRole::Sink)
        };
        if !expected_edge {
            return Err(FlowError::Topology(format!(
                "node `{}` is a {:?} at position {} of the chain; a linear flow runs source → transforms → sink",
                spec.name,
                spec.role,
                i + 1
            )));
        }
        if !spec.component.exports().contains(spec.role.interface()) {
            let found: Vec<String> = spec
                .component
                .exports()
                .iter()
                .map(|i| i.to_string())
                .collect();
            return Err(FlowError::Topology(format!(
                "node `{}` declares interface {} but its component exports only {}",
                spec.name,
                spec.role.interface(),
                found.join(", ")
            )));
        }
    }
    Ok(())
}
