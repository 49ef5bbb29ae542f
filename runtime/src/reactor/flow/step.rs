//! One step of a stage: pulling from a source, running a stage on an
//! element (the call itself, its error policy and supervision), and
//! finishing a stage whose inputs ended (an aggregator's flush, a sink's
//! `complete`).

use super::completion::Completion;
use super::failures::CallFailure;
use super::stage::Pull;
use super::Flow;
use crate::engine::bindings::types::{
    BackpressureSignal, OutputElement, ProcessError, ProcessResult, StreamElement,
};
use crate::reactor::element::QueuedElement;
use crate::reactor::error::FlowError;
use crate::reactor::events::FlowEvent;
use crate::reactor::spec::StageRole;
use crate::reactor::supervision::{ErrorPolicy, ExitKind};
use crate::reactor::trace::StageOutcome;
use crate::resources::{ComponentId, ResourceManager};
use wasmtime::component::Resource;

use super::buffers::ownership;

/// Bytes of an element's metadata besides its content type, as the
/// resource ledger counts them.
const METADATA_FIXED_BYTES: u64 = 16;

/// What follows a failed call on an element.
pub(super) enum AfterFailure {
    /// Call again with it (a retry).
    Retry,
    /// It was disposed of (skipped, dead-lettered, or dropped with its
    /// closed node).
    Done,
}

/// What a call on an element returned, by role.
pub(super) enum Outcome {
    /// A processor's result.
    Processed(ProcessResult),
    /// A filter's verdict.
    Filtered(bool),
    /// The ports a router chose.
    Routed(Vec<String>),
    /// What an aggregator emitted, if anything.
    Ingested(Option<OutputElement>),
    /// A sink's backpressure answer.
    Pushed(BackpressureSignal),
}

impl Flow {
    /// Runs node `n` once, within `budget` steps: one batch call when its
    /// component offers the batch form and a batch fits (see `batch`),
    /// else a pull, an aggregate it still has to emit, or a call on its
    /// next input. Returns the steps taken (elements a batch carried).
    // HOT PATH
    pub(super) fn run_node(&mut self, n: usize, budget: usize) -> Result<usize, FlowError> {
        let size = self.batch_size(n, budget);
        if size >= 2 {
            return self.run_batch_call(n, size);
        }
        if self.nodes[n].role == StageRole::Source {
            return self.pull_source(n).map(|()| 1);
        }
        if let Some(element) = self.nodes[n].state.pending.pop_front() {
            let targets = self.nodes[n].outputs.len();
            return self.emit(n, element, None, targets).map(|()| 1);
        }
        match self.take_input(n) {
            Some(input) => self.run_element(n, input).map(|()| 1),
            None => Ok(1),
        }
    }

    /// Pauses or resumes source `n`: tells it through
    /// `notify-backpressure` (guest code, so the last clock reading no
    /// longer stands) and notes the event.
    pub(super) fn signal_source(&mut self, n: usize, paused: bool) -> Result<(), FlowError> {
        self.nodes[n].state.source_paused = paused;
        self.probe.forget_reading();
        let (signal, event) = if paused {
            (
                BackpressureSignal::Pause,
                FlowEvent::SourcePaused { node: n },
            )
        } else {
            (
                BackpressureSignal::Ready,
                FlowEvent::SourceResumed { node: n },
            )
        };
        self.nodes[n]
            .instance
            .notify_backpressure(&mut self.shared, signal)?;
        self.note(event);
        Ok(())
    }

    pub(super) fn pull_source(&mut self, n: usize) -> Result<(), FlowError> {
        if self.completion_full(n) {
            return Ok(());
        }
        if self.nodes[n].state.source_paused {
            self.signal_source(n, false)?;
        }
        let injected = self.take_fault(n, "pull");
        let sequence = self.next_sequence;
        // Taken before `probe_begin` forgets it.
        let reading = self.probe.reading();
        self.probe_begin(n, sequence, None);
        // The pulled element's timestamp: its source entry.
        let timestamp = self.pull_start_unix_ns(reading);
        let node = &mut self.nodes[n];
        let call = match injected {
            Some(CallFailure::Trap(e)) => Err(e),
            Some(CallFailure::Error(e)) => Ok(Err(e)),
            None => node.instance.pull(&mut self.shared),
        };
        node.counters.invocations += 1;
        self.probe_end(n);
        let result = match call {
            Ok(result) => result,
            Err(trap) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.nodes[n].counters.errors += 1;
                self.component_failed(n, ExitKind::Trap, &FlowError::Invoke(trap))?;
                return Ok(());
            }
        };
        match result {
            Ok(Pull::NotYet(wait)) => {
                // Not an element: a connector source has nothing yet.
                self.nodes[n].counters.invocations -= 1;
                self.nodes[n].state.ready_at = Some(std::time::Instant::now() + wait);
                Ok(())
            }
            Ok(Pull::Element(output)) => {
                self.pulled += 1;
                let sequence = self.next_sequence;
                self.next_sequence += 1;
                let element = self.accept(n, output, sequence, timestamp)?;
                self.track_pulled(n, sequence);
                self.trace_call(n, sequence, timestamp, StageOutcome::Emitted, 0);
                let targets = self.nodes[n].regular_outputs;
                self.emit(n, element, None, targets)?;
                // The pull's hold ends: what it emitted holds the element.
                self.release_element(sequence);
                if !self.outputs_ready(n) {
                    self.signal_source(n, true)?;
                }
                Ok(())
            }
            Ok(Pull::Ended) => {
                self.trace_call(n, sequence, 0, StageOutcome::Ended, 0);
                self.finish_node(n)
            }
            Err(ProcessError::Fatal(message)) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.nodes[n].counters.errors += 1;
                let error = FlowError::Fatal {
                    component: self.nodes[n].name.clone(),
                    function: "pull",
                    message,
                };
                self.component_failed(n, ExitKind::Fatal, &error)?;
                Ok(())
            }
            Err(e) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.stage_error(n, "pull", e)
            }
        }
    }

    /// Runs stage `n` on `input`: calls it, applies its error policy and
    /// supervision when the call fails, and routes what it returns. When
    /// the flow fails on it, the element in hand goes back to the pool
    /// first: a failed flow leaks nothing.
    pub(super) fn run_element(&mut self, n: usize, input: QueuedElement) -> Result<(), FlowError> {
        let result = self.run_element_once(n, input);
        match result {
            // The stage's hold ends: what it emitted holds the element.
            Ok(()) => self.release_element(input.sequence),
            Err(_) => self.release_if_held(input.buffer),
        }
        result
    }

    fn run_element_once(&mut self, n: usize, input: QueuedElement) -> Result<(), FlowError> {
        self.run_element_from(n, input, 0)
    }

    /// Calls stage `n` on `input` (its `attempt`-th retry, 0 for the first
    /// call) until it succeeds or its error policy disposes of it.
    pub(super) fn run_element_from(
        &mut self,
        n: usize,
        input: QueuedElement,
        mut attempt: u32,
    ) -> Result<(), FlowError> {
        loop {
            let failure = match self.invoke(n, input)? {
                Ok(outcome) => return self.call_succeeded(n, input, outcome),
                Err(failure) => failure,
            };
            match self.element_failed(n, input, failure, attempt)? {
                AfterFailure::Retry => attempt += 1,
                AfterFailure::Done => return Ok(()),
            }
        }
    }

    /// Traces and routes what a call of stage `n` on `input` returned.
    pub(super) fn call_succeeded(
        &mut self,
        n: usize,
        input: QueuedElement,
        outcome: Outcome,
    ) -> Result<(), FlowError> {
        let (traced, routes) = match &outcome {
            Outcome::Filtered(true) => (StageOutcome::Passed, 0),
            Outcome::Routed(ports) if self.probe_detailed() => {
                (StageOutcome::Routed, self.route_mask(n, ports))
            }
            Outcome::Routed(ports) if ports.is_empty() => (StageOutcome::Dropped, 0),
            Outcome::Routed(_) => (StageOutcome::Routed, 0),
            Outcome::Processed(ProcessResult::Emit(_)) | Outcome::Ingested(Some(_)) => {
                (StageOutcome::Emitted, 0)
            }
            Outcome::Pushed(_) => (StageOutcome::Delivered, 0),
            Outcome::Filtered(false)
            | Outcome::Processed(ProcessResult::Drop)
            | Outcome::Ingested(None) => (StageOutcome::Dropped, 0),
        };
        let routed = self.route_outcome(n, input, outcome);
        self.trace_call(n, input.sequence, input.timestamp_ns, traced, routes);
        routed
    }

    /// A call of stage `n` on `input` failed (its `attempt`-th retry):
    /// counts and traces it, supervises the component when it trapped or
    /// returned `fatal`, and applies the node's error policy. `Retry`: the
    /// caller calls again (the retry is counted); `Done`: the element was
    /// disposed of. `fail` returns the error with the element released.
    pub(super) fn element_failed(
        &mut self,
        n: usize,
        input: QueuedElement,
        failure: CallFailure,
        attempt: u32,
    ) -> Result<AfterFailure, FlowError> {
        self.trace_call(
            n,
            input.sequence,
            input.timestamp_ns,
            StageOutcome::Failed,
            0,
        );
        self.nodes[n].counters.errors += 1;
        let role = self.nodes[n].role;
        let (error, exit) = match failure {
            CallFailure::Trap(trap) => (FlowError::Invoke(trap), Some(ExitKind::Trap)),
            CallFailure::Error(ProcessError::Fatal(message)) => (
                FlowError::Fatal {
                    component: self.nodes[n].name.clone(),
                    function: function_of(role),
                    message,
                },
                Some(ExitKind::Fatal),
            ),
            CallFailure::Error(e) => {
                if matches!(e, ProcessError::DeadlineExceeded) {
                    self.nodes[n].counters.timeouts += 1;
                }
                let error = FlowError::ElementFailed {
                    component: self.nodes[n].name.clone(),
                    function: function_of(role),
                    error: describe(&e),
                };
                tracing::warn!(component = %self.nodes[n].name, error = %error, "element failed");
                (error, None)
            }
        };
        if let Some(exit) = exit {
            if !self.component_failed(n, exit, &error)? {
                // The component ended for good: its element can only be
                // dead-lettered or dropped.
                self.dispose(n, input, false, &error)?;
                return Ok(AfterFailure::Done);
            }
        }
        match self.nodes[n].supervision.on_error {
            ErrorPolicy::Retry { retries } if attempt < retries => {
                self.nodes[n].counters.retries += 1;
                Ok(AfterFailure::Retry)
            }
            ErrorPolicy::Retry { .. } | ErrorPolicy::DeadLetter => {
                self.dispose(n, input, false, &error)?;
                Ok(AfterFailure::Done)
            }
            ErrorPolicy::Skip => {
                self.dispose(n, input, true, &error)?;
                Ok(AfterFailure::Done)
            }
            ErrorPolicy::Fail => {
                self.release(n, input.buffer)?;
                Err(error)
            }
        }
    }

    /// Lends `input` to stage `n` and calls it (or plays an injected
    /// fault). The loan ends whatever happens; the buffer stays alive.
    // HOT PATH
    pub(super) fn invoke(
        &mut self,
        n: usize,
        input: QueuedElement,
    ) -> Result<Result<Outcome, CallFailure>, FlowError> {
        let role = self.nodes[n].role;
        let injected = self.take_fault(n, function_of(role));
        let node = &mut self.nodes[n];
        let Some(shared) = self.shared.as_deref_mut() else {
            return Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            });
        };
        lend_into(
            &mut shared.resources,
            ComponentId(n as u32),
            &node.name,
            input,
            &mut node.scratch,
        )?;
        self.probe_begin(n, input.sequence, Some(input));
        let node = &mut self.nodes[n];
        let outcome = match injected {
            Some(CallFailure::Trap(e)) => Err(e),
            Some(CallFailure::Error(e)) => Ok(Err(e)),
            None => match role {
                StageRole::Processor => node
                    .instance
                    .process(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Processed)),
                StageRole::Filter => node
                    .instance
                    .evaluate(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Filtered)),
                StageRole::Router => node
                    .instance
                    .route(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Routed)),
                StageRole::Aggregator => node
                    .instance
                    .ingest(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Ingested)),
                StageRole::Sink => {
                    let origin = Completion::origin(&self.completion, input.sequence);
                    node.instance
                        .push(&mut self.shared, &node.scratch, origin)
                        .map(|r| r.map(Outcome::Pushed))
                }
                StageRole::Source => Ok(Ok(Outcome::Filtered(false))),
            },
        };
        node.counters.invocations += 1;
        // A deferring sink holds the element until it confirms it.
        if self.completion.is_some() && node.instance.take_deferred() {
            self.hold_element(input.sequence);
        }
        self.probe_end(n);
        self.shared_mut()
            .resources
            .end_lend(input.buffer)
            .map_err(|source| ownership(&self.nodes[n].name, source))?;
        Ok(match outcome {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(CallFailure::Error(error)),
            Err(trap) => Err(CallFailure::Trap(trap)),
        })
    }

    /// A stage has nothing more to do: its source ended, or all its inputs
    /// ended and drained. Aggregators flush first; sinks complete.
    pub(super) fn finish_node(&mut self, n: usize) -> Result<(), FlowError> {
        // Aggregators and sinks run guest code here.
        self.probe.forget_reading();
        match self.nodes[n].role {
            StageRole::Aggregator if !self.nodes[n].state.flushed => {
                self.nodes[n].state.flushed = true;
                let outputs = match self.nodes[n].instance.flush(&mut self.shared)? {
                    Ok(outputs) => outputs,
                    Err(e) => return self.stage_error(n, "flush", e),
                };
                for output in outputs {
                    let sequence = self.next_sequence;
                    self.next_sequence += 1;
                    let timestamp = self.clock.now_ns();
                    let element = self.accept(n, output, sequence, timestamp)?;
                    self.nodes[n].state.pending.push_back(element);
                }
                if !self.nodes[n].state.pending.is_empty() {
                    return Ok(());
                }
            }
            StageRole::Sink => {
                if let Err(e) = self.nodes[n].instance.complete(&mut self.shared)? {
                    return Err(FlowError::Fatal {
                        component: self.nodes[n].name.clone(),
                        function: "complete",
                        message: describe(&e),
                    });
                }
                // A deferring sink confirmed everything it holds.
                self.settle();
            }
            _ => {}
        }
        let node = &mut self.nodes[n];
        node.state.finished = true;
        for k in 0..node.outputs.len() {
            self.streams[node.outputs[k]].upstream_ended = true;
        }
        Ok(())
    }

    /// A `process-error` from a call with no element in hand (a source's
    /// `pull`, an aggregator's `flush`): counted and skipped; `fatal`, or
    /// any error under the node's `on_error = "fail"`, fails the flow.
    pub(super) fn stage_error(
        &mut self,
        n: usize,
        function: &'static str,
        error: ProcessError,
    ) -> Result<(), FlowError> {
        let node = &mut self.nodes[n];
        node.counters.errors += 1;
        if matches!(error, ProcessError::DeadlineExceeded) {
            node.counters.timeouts += 1;
        }
        if let ProcessError::Fatal(message) = error {
            return Err(FlowError::Fatal {
                component: node.name.clone(),
                function,
                message,
            });
        }
        if node.supervision.on_error == ErrorPolicy::Fail {
            // No element to retry or dead-letter, but `fail` means fail.
            return Err(FlowError::ElementFailed {
                component: node.name.clone(),
                function,
                error: describe(&error),
            });
        }
        tracing::warn!(component = %node.name, function, error = %describe(&error), "element skipped");
        Ok(())
    }
}

/// Lends `input` to component `id` (named `name`) and makes `argument` the
/// call's view of it: its metadata (recorded in the copy ledger as the
/// per-element path does) and a borrow of its buffer.
// HOT PATH: the argument's content type keeps its capacity.
pub(super) fn lend_into(
    resources: &mut ResourceManager,
    id: ComponentId,
    name: &str,
    input: QueuedElement,
    argument: &mut StreamElement,
) -> Result<(), FlowError> {
    resources
        .lend(input.buffer, id)
        .map_err(|source| ownership(name, source))?;
    resources
        .copy_content_type(input.buffer, &mut argument.meta.content_type)
        .map_err(|source| ownership(name, source))?;
    resources.record_metadata(
        id,
        input.buffer,
        METADATA_FIXED_BYTES + argument.meta.content_type.len() as u64,
    );
    argument.meta.sequence = input.sequence;
    argument.meta.timestamp_ns = input.timestamp_ns;
    argument.payload = Resource::new_borrow(input.buffer.to_wire());
    Ok(())
}

/// The function a role calls per element.
pub(super) fn function_of(role: StageRole) -> &'static str {
    match role {
        StageRole::Source => "pull",
        StageRole::Processor => "process",
        StageRole::Filter => "evaluate",
        StageRole::Router => "route",
        StageRole::Aggregator => "ingest",
        StageRole::Sink => "push",
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
