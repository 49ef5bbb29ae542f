//! Batch calls: a component that offers the batch form of its role
//! (`torvyn:batching`: `process-batch`, `pull-batch`, `push-batch`) gets
//! many elements per call, so the fixed cost of a component call is paid
//! once per batch.
//!
//! A batch keeps every promise of the per-element path:
//!
//! - **size**: at most the step budget left in the flow's batch (the
//!   driver's element count and time quantum bound it, a batch of `k`
//!   elements counts as `k` steps), the elements queued, and the credit of
//!   every gating output (each element emits at most one element per
//!   output stream, so nothing is enqueued beyond the credit a per-element
//!   producer would have had). A rate-limited output, a node with pending
//!   aggregates, fewer than two elements, and the `diagnostic` level (where
//!   every element is its own traced and timed call) take the per-element
//!   path;
//! - **order and sequences**: results are routed in input order; a
//!   source's elements are numbered in the order it returned them and all
//!   carry the batch call's start as their timestamp (their source entry);
//! - **errors**: an element's `process-error` goes through the node's
//!   `on_error` policy exactly as a per-element call's would (a `retry`
//!   calls the per-element function again); `fatal` ends the component as
//!   `process` does, and the results after it are discarded;
//! - **traps**: a trapped batch call has failed every element in it; the
//!   component is supervised once (restart or close). Restarted, each
//!   element is called again, one at a time, on the fresh instance: nothing
//!   was delivered by the trapped call, so nothing is delivered twice and
//!   nothing is lost; an element that traps again is the culprit and meets
//!   the policy alone. Closed, every element of the batch is disposed of as
//!   the element in hand of a per-element call would be. Under `fail`, a
//!   trapped batch fails the flow, as a trapped call does;
//! - **copies**: each element is lent and its metadata recorded as for a
//!   per-element call, and the guest's copies are its own: the same logic
//!   makes the same ledger entries;
//! - **traces**: each element gets its own trace record (untimed; the
//!   batch call is timed once, its time counted as the node's busy time);
//! - **backpressure**: credit bounds the batch as it bounds a per-element
//!   producer (a batch may fill an output queue, never overflow it; a full
//!   queue triggers backpressure and holds the producer as before), and a
//!   sink's `pause` answers for its whole batch.
//!
//! Batches form where elements are queued: behind a batch source or a
//! batch processor, or a slower stage. Behind a per-element producer,
//! consumer-first scheduling hands a consumer one element at a time, which
//! takes the per-element path.

use super::failures::CallFailure;
use super::node::BatchScratch;
use super::step::{lend_into, AfterFailure, Outcome};
use super::Flow;
use crate::engine::bindings::batch_sink::PushFailure;
use crate::engine::bindings::types::{
    BackpressureSignal, OutputElement, ProcessError, ProcessResult,
};
use crate::engine::{InvokeError, InvokeFailure};
use crate::error::ErrorCode;
use crate::reactor::element::QueuedElement;
use crate::reactor::error::FlowError;
use crate::reactor::events::FlowEvent;
use crate::reactor::spec::StageRole;
use crate::reactor::supervision::{ErrorPolicy, ExitKind};
use crate::reactor::trace::{StageOutcome, TraceMode};
use crate::resources::ComponentId;

/// The most elements one batch call carries (bounds what a node's
/// re-used arguments grow to).
pub const MAX_BATCH_ELEMENTS: usize = 256;

/// The number of elements a batch of node `n` may carry, from what it can
/// do now: its queued input (a source: the element limit), the credit of
/// its gating outputs, and `budget`. Pure, so that the rules are tested
/// without a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BatchBounds {
    /// Steps left in the flow's batch.
    pub(super) budget: usize,
    /// Elements available: queued inputs, or what the element limit
    /// leaves a source (`usize::MAX`: no limit).
    pub(super) available: usize,
    /// The smallest credit among gating outputs (`usize::MAX`: none gate).
    pub(super) credit: usize,
    /// An output is rate-limited (each element takes its own token).
    pub(super) rate_limited: bool,
}

impl BatchBounds {
    /// Elements for one batch call; below 2, the per-element path runs.
    pub(super) fn size(self) -> usize {
        if self.rate_limited {
            return 1;
        }
        self.budget
            .min(self.available)
            .min(self.credit)
            .min(MAX_BATCH_ELEMENTS)
    }
}

impl Flow {
    /// How many elements node `n` takes in one call now, within `budget`
    /// steps: 1 for the per-element path (see the module docs).
    // HOT PATH: a few loads per input and output stream.
    pub(super) fn batch_size(&self, n: usize, budget: usize) -> usize {
        let node = &self.nodes[n];
        if !node.offers_batch
            || budget < 2
            || !node.state.pending.is_empty()
            || self.tracer.mode() == TraceMode::Full
        {
            return 1;
        }
        let available = match node.role {
            StageRole::Source => self.settings.element_limit.map_or(usize::MAX, |limit| {
                limit.saturating_sub(self.pulled) as usize
            }),
            _ => node
                .inputs
                .iter()
                .map(|&s| self.streams[s].queue.len())
                .sum(),
        };
        let mut bounds = BatchBounds {
            budget,
            available,
            credit: usize::MAX,
            rate_limited: false,
        };
        for &s in &node.outputs {
            let stream = &self.streams[s];
            if stream.closed || !stream.settings.policy.gates_producer() {
                continue;
            }
            bounds.rate_limited |= stream.limiter.is_some();
            bounds.credit = bounds.credit.min(stream.credit.available() as usize);
        }
        bounds.size()
    }

    /// Runs node `n` as one batch call of up to `size` elements; returns
    /// the steps it took (its elements).
    pub(super) fn run_batch_call(&mut self, n: usize, size: usize) -> Result<usize, FlowError> {
        match self.nodes[n].role {
            StageRole::Source => self.pull_batch(n, size),
            StageRole::Processor | StageRole::Sink => {
                let mut batch = std::mem::take(&mut self.nodes[n].batch);
                batch.inputs.clear();
                let mut handled = 0;
                let result = self.call_on_batch(n, size, &mut batch, &mut handled);
                if result.is_err() {
                    // The flow fails: what it still held goes back to the pool.
                    for k in handled..batch.inputs.len() {
                        self.release_if_held(batch.inputs[k].buffer);
                    }
                }
                self.nodes[n].batch = batch;
                result
            }
            _ => Ok(0),
        }
    }

    /// `process-batch` or `push-batch` on up to `size` queued inputs of
    /// node `n`. `handled` follows the inputs already dealt with.
    // HOT PATH: the inputs and arguments are re-used vectors.
    fn call_on_batch(
        &mut self,
        n: usize,
        size: usize,
        batch: &mut BatchScratch,
        handled: &mut usize,
    ) -> Result<usize, FlowError> {
        while batch.inputs.len() < size {
            match self.take_input(n) {
                Some(input) => batch.inputs.push(input),
                None => break,
            }
        }
        let count = batch.inputs.len();
        if count == 0 {
            return Ok(1);
        }
        while batch.elements.len() < count {
            batch.elements.push(super::build::call_argument());
        }
        let role = self.nodes[n].role;
        let function = batch_function_of(role);
        let injected = self.take_fault(n, function);
        let id = ComponentId(n as u32);
        {
            let node = &self.nodes[n];
            let Some(shared) = self.shared.as_deref_mut() else {
                return Err(FlowError::Stalled {
                    flow: self.settings.flow_name.clone(),
                });
            };
            for (input, argument) in batch.inputs.iter().zip(batch.elements.iter_mut()) {
                lend_into(&mut shared.resources, id, &node.name, *input, argument)?;
            }
        }
        self.probe_batch_begin(n, batch.inputs[0].sequence);
        let arguments = &batch.elements[..count];
        let node = &mut self.nodes[n];
        let call = match injected {
            Some(CallFailure::Trap(e)) => Err(e),
            Some(CallFailure::Error(e)) => Ok(Injected(e)),
            None => match role {
                StageRole::Sink => node
                    .instance
                    .push_batch(&mut self.shared, arguments)
                    .map(BatchReturn::Pushed),
                _ => node
                    .instance
                    .process_batch(&mut self.shared, arguments)
                    .map(BatchReturn::Processed),
            },
        };
        node.counters.invocations += 1;
        self.probe_batch_end(n);
        for input in &batch.inputs {
            self.shared_mut()
                .resources
                .end_lend(input.buffer)
                .map_err(|source| super::buffers::ownership(&self.nodes[n].name, source))?;
        }
        match call {
            Err(trap) => self.batch_failed(n, &batch.inputs, trap, handled),
            Ok(Injected(error)) => {
                // An injected error stands for the first element's result;
                // the others are called one at a time.
                let first = batch.inputs[0];
                *handled = 1;
                self.after_error(n, first, error)?;
                self.replay(n, &batch.inputs[1..], handled)?;
                Ok(count)
            }
            Ok(BatchReturn::Processed(results)) if results.len() != count => {
                let detail = format!(
                    "process-batch returned {} results for {count} inputs",
                    results.len()
                );
                for result in results {
                    self.discard(n, result);
                }
                let error = self.contract_violation(n, "process-batch", detail);
                self.batch_failed(n, &batch.inputs, error, handled)
            }
            Ok(BatchReturn::Processed(results)) => {
                self.route_results(n, &batch.inputs, results, handled)?;
                Ok(count)
            }
            Ok(BatchReturn::Pushed(answer)) => self.pushed(n, &batch.inputs, answer, handled),
        }
    }

    /// Routes each input's result in order; an element's error meets the
    /// policy; after a `fatal` the remaining results are discarded and
    /// their inputs called again on the restarted instance.
    fn route_results(
        &mut self,
        n: usize,
        inputs: &[QueuedElement],
        results: Vec<Result<ProcessResult, ProcessError>>,
        handled: &mut usize,
    ) -> Result<(), FlowError> {
        let mut results = results.into_iter();
        for (k, result) in results.by_ref().enumerate() {
            let input = inputs[k];
            *handled = k + 1;
            let routed = match result {
                Ok(result) => self.call_succeeded(n, input, Outcome::Processed(result)),
                Err(error @ ProcessError::Fatal(_)) => {
                    for rest in results.by_ref() {
                        self.discard(n, rest);
                    }
                    self.after_error(n, input, error)?;
                    return self.replay(n, &inputs[k + 1..], handled);
                }
                Err(error) => self.after_error(n, input, error),
            };
            if let Err(e) = routed {
                // The flow fails: the outputs not routed go back too.
                for rest in results {
                    self.discard(n, rest);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// What a sink's `push-batch` answered: every element delivered (one
    /// signal for the batch), or delivered up to the one it failed on.
    fn pushed(
        &mut self,
        n: usize,
        inputs: &[QueuedElement],
        answer: Result<BackpressureSignal, PushFailure>,
        handled: &mut usize,
    ) -> Result<usize, FlowError> {
        let count = inputs.len();
        let (delivered, failure) = match answer {
            Ok(signal) => (count, Ok(signal)),
            Err(PushFailure { index, error }) if (index as usize) < count => {
                (index as usize, Err(error))
            }
            Err(PushFailure { index, .. }) => {
                let detail = format!("push-batch failed at index {index} of {count} elements");
                let error = self.contract_violation(n, "push-batch", detail);
                return self.batch_failed(n, inputs, error, handled);
            }
        };
        for (k, &input) in inputs[..delivered].iter().enumerate() {
            *handled = k + 1;
            self.call_succeeded(n, input, Outcome::Pushed(BackpressureSignal::Ready))?;
        }
        match failure {
            Ok(BackpressureSignal::Pause) => {
                self.nodes[n].state.sink_paused = true;
                self.note(FlowEvent::SinkPaused { node: n });
            }
            Ok(BackpressureSignal::Ready) => {}
            Err(error) => {
                let input = inputs[delivered];
                *handled = delivered + 1;
                self.after_error(n, input, error)?;
                self.replay(n, &inputs[delivered + 1..], handled)?;
            }
        }
        Ok(count)
    }

    /// An element's `process-error` from a batch: the policy, as for a
    /// per-element call (a retry calls the per-element function).
    fn after_error(
        &mut self,
        n: usize,
        input: QueuedElement,
        error: ProcessError,
    ) -> Result<(), FlowError> {
        match self.element_failed(n, input, CallFailure::Error(error), 0) {
            Ok(AfterFailure::Retry) => self.run_element_from(n, input, 1),
            Ok(AfterFailure::Done) => Ok(()),
            Err(e) => Err(e),
        }
        .inspect_err(|_| self.release_if_held(input.buffer))
    }

    /// Elements of a batch whose call did not count for them (after a trap
    /// or a `fatal`): called again one at a time, or dropped (counted) when
    /// the node closed.
    fn replay(
        &mut self,
        n: usize,
        inputs: &[QueuedElement],
        handled: &mut usize,
    ) -> Result<(), FlowError> {
        for &input in inputs {
            *handled += 1;
            if self.nodes[n].state.finished {
                self.dropped += 1;
                self.release(n, input.buffer)?;
            } else {
                self.run_element(n, input)?;
            }
        }
        Ok(())
    }

    /// A batch call trapped (or broke the batch contract): every element
    /// in it failed. See the module docs for what follows.
    fn batch_failed(
        &mut self,
        n: usize,
        inputs: &[QueuedElement],
        trap: InvokeError,
        handled: &mut usize,
    ) -> Result<usize, FlowError> {
        for input in inputs {
            self.trace_call(
                n,
                input.sequence,
                input.timestamp_ns,
                StageOutcome::Failed,
                0,
            );
        }
        self.nodes[n].counters.errors += 1;
        let error = FlowError::Invoke(trap);
        *handled = 0;
        if !self.component_failed(n, ExitKind::Trap, &error)? {
            // The component ended for good: as for the element in hand of
            // a per-element call, whatever the policy.
            for &input in inputs {
                *handled += 1;
                self.dispose(n, input, false, &error)?;
            }
            return Ok(inputs.len());
        }
        if self.nodes[n].supervision.on_error == ErrorPolicy::Fail {
            return Err(error);
        }
        self.replay(n, inputs, handled)?;
        Ok(inputs.len())
    }

    /// `pull-batch(size)` on source `n`: its elements are numbered in
    /// order and enqueued; an empty list ends the stream.
    fn pull_batch(&mut self, n: usize, size: usize) -> Result<usize, FlowError> {
        if self.nodes[n].state.source_paused {
            self.signal_source(n, false)?;
        }
        let injected = self.take_fault(n, "pull-batch");
        let sequence = self.next_sequence;
        // Taken before `probe_batch_begin` forgets it.
        let reading = self.probe.reading();
        self.probe_batch_begin(n, sequence);
        // Every element's timestamp: the call's start, their source entry.
        let timestamp = self.pull_start_unix_ns(reading);
        let node = &mut self.nodes[n];
        let call = match injected {
            Some(CallFailure::Trap(e)) => Err(e),
            Some(CallFailure::Error(e)) => Ok(Err(e)),
            None => node.instance.pull_batch(&mut self.shared, size as u32),
        };
        node.counters.invocations += 1;
        self.probe_batch_end(n);
        let outputs = match call {
            Err(trap) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.nodes[n].counters.errors += 1;
                self.component_failed(n, ExitKind::Trap, &FlowError::Invoke(trap))?;
                return Ok(1);
            }
            Ok(Err(ProcessError::Fatal(message))) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.nodes[n].counters.errors += 1;
                let error = FlowError::Fatal {
                    component: self.nodes[n].name.clone(),
                    function: "pull-batch",
                    message,
                };
                self.component_failed(n, ExitKind::Fatal, &error)?;
                return Ok(1);
            }
            Ok(Err(e)) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.stage_error(n, "pull-batch", e)?;
                return Ok(1);
            }
            Ok(Ok(outputs)) => outputs,
        };
        if outputs.is_empty() {
            self.trace_call(n, sequence, 0, StageOutcome::Ended, 0);
            self.finish_node(n)?;
            return Ok(1);
        }
        if outputs.len() > size {
            let detail = format!("pull-batch({size}) returned {} elements", outputs.len());
            for output in outputs {
                self.discard(n, Ok(ProcessResult::Emit(output)));
            }
            self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
            self.nodes[n].counters.errors += 1;
            let error = self.contract_violation(n, "pull-batch", detail);
            self.component_failed(n, ExitKind::Trap, &FlowError::Invoke(error))?;
            return Ok(1);
        }
        let count = outputs.len();
        let targets = self.nodes[n].regular_outputs;
        for output in outputs {
            self.pulled += 1;
            let sequence = self.next_sequence;
            self.next_sequence += 1;
            let element = self.accept(n, output, sequence, timestamp)?;
            self.trace_call(n, sequence, timestamp, StageOutcome::Emitted, 0);
            self.emit(n, element, None, targets)?;
        }
        if !self.outputs_ready(n) {
            self.signal_source(n, true)?;
        }
        Ok(count)
    }

    /// A result the flow will not route: its output buffer, if any, goes
    /// back to the pool (the component's buffers are not left behind).
    fn discard(&mut self, n: usize, result: Result<ProcessResult, ProcessError>) {
        if let Ok(ProcessResult::Emit(output)) = result {
            self.discard_output(n, output);
        }
    }

    fn discard_output(&mut self, n: usize, output: OutputElement) {
        if let Ok(element) = self.accept(n, output, 0, 0) {
            let _ = self.release(n, element.buffer);
        }
    }

    /// The error of a batch call that broke its contract (a trap, as the
    /// WIT says).
    fn contract_violation(&self, n: usize, function: &'static str, detail: String) -> InvokeError {
        InvokeError::new(
            &self.nodes[n].name,
            function,
            InvokeFailure::ContractViolation,
            ErrorCode::FatalComponentError,
            detail,
        )
    }
}

/// What a batch call returned.
enum BatchReturn {
    /// `process-batch`: one result per input.
    Processed(Vec<Result<ProcessResult, ProcessError>>),
    /// `push-batch`.
    Pushed(Result<BackpressureSignal, PushFailure>),
    /// An injected fault's error (tests).
    Injected(ProcessError),
}

use BatchReturn::Injected;

/// The batch function a role calls (only sources, processors and sinks
/// have one).
fn batch_function_of(role: StageRole) -> &'static str {
    match role {
        StageRole::Source => "pull-batch",
        StageRole::Sink => "push-batch",
        _ => "process-batch",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> BatchBounds {
        BatchBounds {
            budget: 32,
            available: 100,
            credit: usize::MAX,
            rate_limited: false,
        }
    }

    #[test]
    fn a_batch_is_bounded_by_budget_input_and_credit() {
        assert_eq!(bounds().size(), 32);
        assert_eq!(
            BatchBounds {
                available: 5,
                ..bounds()
            }
            .size(),
            5
        );
        assert_eq!(
            BatchBounds {
                credit: 3,
                ..bounds()
            }
            .size(),
            3
        );
        assert_eq!(
            BatchBounds {
                budget: 10_000,
                available: usize::MAX,
                ..bounds()
            }
            .size(),
            MAX_BATCH_ELEMENTS
        );
    }

    #[test]
    fn no_credit_or_a_rate_limit_leaves_the_per_element_path() {
        assert_eq!(
            BatchBounds {
                credit: 0,
                ..bounds()
            }
            .size(),
            0
        );
        assert_eq!(
            BatchBounds {
                rate_limited: true,
                ..bounds()
            }
            .size(),
            1
        );
    }

    #[test]
    fn batch_functions_are_named_as_the_wit_names_them() {
        assert_eq!(batch_function_of(StageRole::Processor), "process-batch");
        assert_eq!(batch_function_of(StageRole::Source), "pull-batch");
        assert_eq!(batch_function_of(StageRole::Sink), "push-batch");
    }
}
