//! Scheduling: which stage runs next. Consumer-first and demand-driven:
//! each step runs the most downstream stage that has input and credit on
//! its output streams (all of them, or any one under
//! [`FanOut::IndependentPerBranch`]), and pulls from a source, in turn,
//! only when nothing downstream can run. A stage with several inputs takes
//! its next element round-robin or by priority ([`Merge`]).

use super::Flow;
use crate::reactor::backpressure::WatermarkChange;
use crate::reactor::element::QueuedElement;
use crate::reactor::error::FlowError;
use crate::reactor::events::FlowEvent;
use crate::reactor::spec::{FanOut, FlowProgress, Merge, StageRole};
use std::time::{Duration, Instant};

/// What the next step does.
enum Action {
    /// Runs the node: one pull, one call on an input, or one pending
    /// aggregate emitted.
    Run(usize),
    /// Finishes the node: its inputs ended and drained (or its source
    /// reached the element limit).
    Finish(usize),
}

impl Flow {
    /// Runs up to `max_steps` steps; checks the flow's deadline first.
    // HOT PATH: no allocation, no lock, no message per element.
    pub(super) fn steps(&mut self, max_steps: usize) -> Result<FlowProgress, FlowError> {
        // Checked once per batch: a batch is short, and the hot loop stays clock-free.
        if let Some(limit) = self.settings.deadline {
            if self.started.elapsed() > limit {
                return Err(FlowError::DeadlineExceeded {
                    flow: self.settings.flow_name.clone(),
                    limit_ms: limit.as_millis() as u64,
                });
            }
        }
        // Confirmations deferring sinks received since the last batch.
        self.settle();
        // A batch call of k elements takes k steps.
        let mut left = max_steps;
        while left > 0 {
            let taken = match self.next_action() {
                Some(Action::Run(n)) => self.run_node(n, left)?,
                Some(Action::Finish(n)) => self.finish_node(n).map(|()| 1)?,
                None => return self.idle(),
            };
            left = left.saturating_sub(taken.max(1));
            if self.finished {
                return Ok(FlowProgress::Finished);
            }
        }
        Ok(FlowProgress::Running)
    }

    /// Nothing can run: the flow is done, rate-limited, waiting for a
    /// connector source that has nothing yet, or for a paused sink's next
    /// batch.
    fn idle(&mut self) -> Result<FlowProgress, FlowError> {
        // The caller waits before the next batch.
        self.probe.forget_reading();
        if self.nodes.iter().all(|n| n.state.finished) {
            self.finished_after = Some(self.started.elapsed());
            self.teardown();
            return Ok(FlowProgress::Finished);
        }
        if self.nodes.iter().any(|n| n.state.sink_paused) {
            return Ok(FlowProgress::Running);
        }
        let now = Instant::now();
        let limited = self
            .streams
            .iter_mut()
            .filter_map(|s| s.limiter.as_mut().and_then(|l| l.check(now).err()));
        let not_ready = self
            .nodes
            .iter()
            .filter(|n| !n.state.finished)
            .filter_map(|n| n.state.ready_at.map(|at| at.saturating_duration_since(now)));
        let wait = limited.chain(not_ready).min();
        match wait {
            Some(wait) => Ok(FlowProgress::Waiting(wait.max(Duration::from_micros(50)))),
            None => Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            }),
        }
    }

    /// The most downstream stage that can do something; sources last, in
    /// turn, so that no source starves another (fan-in).
    fn next_action(&mut self) -> Option<Action> {
        for k in 0..self.order.len() {
            let n = self.order[k];
            let node = &self.nodes[n];
            if node.state.finished {
                continue;
            }
            if !node.state.pending.is_empty() {
                if self.outputs_ready(n) {
                    return Some(Action::Run(n));
                }
                continue;
            }
            let has_input = node
                .inputs
                .iter()
                .any(|&s| !self.streams[s].queue.is_empty());
            if has_input {
                let ready = if node.role == StageRole::Sink {
                    !node.state.sink_paused
                } else {
                    self.outputs_ready(n)
                };
                if ready {
                    return Some(Action::Run(n));
                }
                continue;
            }
            if node.inputs.iter().all(|&s| self.streams[s].upstream_ended) {
                return Some(Action::Finish(n));
            }
        }
        let count = self.sources.len();
        for j in 0..count {
            let k = (self.next_source + j) % count;
            let n = self.sources[k];
            if self.nodes[n].state.finished {
                continue;
            }
            if self
                .settings
                .element_limit
                .is_some_and(|limit| self.pulled >= limit)
            {
                return Some(Action::Finish(n));
            }
            if let Some(at) = self.nodes[n].state.ready_at {
                // A connector with nothing yet: asked again once it is due.
                if Instant::now() < at {
                    continue;
                }
                self.nodes[n].state.ready_at = None;
            }
            if self.outputs_ready(n) {
                self.next_source = (k + 1) % count;
                return Some(Action::Run(n));
            }
        }
        None
    }

    /// Whether `n` may produce now: every gating output can take an element
    /// ([`FanOut::MinDemand`]), or at least one can
    /// ([`FanOut::IndependentPerBranch`]). Outputs that drop or fail on
    /// overflow never gate.
    pub(super) fn outputs_ready(&mut self, n: usize) -> bool {
        let independent = self.nodes[n].scheduling.fan_out == FanOut::IndependentPerBranch;
        let mut now = None;
        let mut gating = 0;
        let mut open = 0;
        for k in 0..self.nodes[n].outputs.len() {
            let stream = &mut self.streams[self.nodes[n].outputs[k]];
            if stream.closed || !stream.settings.policy.gates_producer() {
                continue;
            }
            gating += 1;
            if stream.accepts(&mut now) {
                open += 1;
            } else if !independent {
                return false;
            }
        }
        gating == 0 || open > 0
    }

    /// Takes the next input of `n`: round-robin over its non-empty inputs,
    /// or the first non-empty one in priority order ([`Merge::Priority`]).
    pub(super) fn take_input(&mut self, n: usize) -> Option<QueuedElement> {
        let node = &self.nodes[n];
        let count = node.inputs.len();
        let start = match node.scheduling.merge {
            Merge::RoundRobin => node.state.next_input,
            Merge::Priority => 0,
        };
        for offset in 0..count {
            let k = (start + offset) % count;
            let s = node.inputs[k];
            let stream = &mut self.streams[s];
            if let Some(element) = stream.queue.pop() {
                let _ = stream.credit.grant(1);
                let depth = stream.queue.len();
                if let Some(WatermarkChange::Relieved { after }) = stream.watermark.observe(depth) {
                    self.note(FlowEvent::BackpressureRelieved {
                        stream: s,
                        depth,
                        duration: after,
                    });
                }
                self.nodes[n].state.next_input = (k + 1) % count;
                self.probe.input_stream = s as u32;
                return Some(element);
            }
        }
        None
    }
}
