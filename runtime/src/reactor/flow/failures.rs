//! What the stage loop does when a component fails: supervision (restart
//! or close, see [`crate::reactor::supervision`]), the element in hand's
//! disposal (skip or dead-letter), and injected faults.

use super::buffers::ownership;
use super::node::Node;
use super::stage::StageInstance;
use super::{describe, Flow};
use crate::engine::bindings::types::ProcessError;
use crate::engine::{InvokeError, InvokeFailure};
use crate::error::Coded;
use crate::reactor::element::QueuedElement;
use crate::reactor::error::FlowError;
use crate::reactor::events::FlowEvent;
use crate::reactor::supervision::{ErrorPolicy, ExitKind, FaultKind, InjectedError, Strategy};
use crate::resources::ComponentId;
use std::io::Write;
use std::time::Instant;

pub(super) use crate::reactor::supervision::DEAD_LETTER_PORT;

/// A call that did not produce an outcome (a real one, or an injected
/// fault standing in for it).
pub(super) enum CallFailure {
    /// The call trapped (the instance is poisoned).
    Trap(InvokeError),
    /// The component returned a process-error.
    Error(ProcessError),
}

impl Node {
    /// `dead-letter` needs somewhere to send.
    pub(super) fn check_dead_letter_destination(&self) -> Result<(), FlowError> {
        if self.supervision.on_error == ErrorPolicy::DeadLetter
            && !self.has_dead_letter_destination()
        {
            return Err(FlowError::Supervision {
                component: self.name.clone(),
                message: "on_error = \"dead-letter\" but the node has no `dead-letter` edge and no dead_letter_file".into(),
            });
        }
        Ok(())
    }

    fn has_dead_letter_destination(&self) -> bool {
        self.has_dead_letter_stream || self.supervision.dead_letter_file.is_some()
    }
}

impl Flow {
    /// Plans `fault` on a running flow (tests). Unknown node: an error.
    pub fn inject_fault(
        &mut self,
        fault: crate::reactor::supervision::Fault,
    ) -> Result<(), FlowError> {
        let Some(node) = self.nodes.iter_mut().find(|node| node.name == fault.node) else {
            return Err(FlowError::Supervision {
                component: fault.node,
                message: "no such node to inject a fault into".into(),
            });
        };
        let at = node.counters.invocations + fault.at.max(1);
        let position = node.faults[node.next_fault..]
            .iter()
            .position(|(due, _)| *due > at)
            .map_or(node.faults.len(), |p| p + node.next_fault);
        node.faults.insert(position, (at, fault.kind));
        Ok(())
    }

    /// The fault due at node `n`'s next invocation, if any. A stall is
    /// served here (the call then runs); the others replace the call.
    // HOT PATH: one bounds check when no fault is planned.
    pub(super) fn take_fault(&mut self, n: usize, function: &'static str) -> Option<CallFailure> {
        let node = &mut self.nodes[n];
        let (at, kind) = node.faults.get(node.next_fault)?;
        if *at != node.counters.invocations + 1 {
            return None;
        }
        let kind = kind.clone();
        node.next_fault += 1;
        tracing::debug!(component = %node.name, fault = ?kind, "injecting a fault");
        let trap = |node: &mut Node, kind| {
            Some(CallFailure::Trap(node.instance.inject_trap(function, kind)))
        };
        match kind {
            FaultKind::Stall(duration) => {
                std::thread::sleep(duration);
                None
            }
            FaultKind::Trap => trap(node, InvokeFailure::Trapped),
            FaultKind::Hang => trap(node, InvokeFailure::OutOfFuel),
            FaultKind::GrowMemory => trap(node, InvokeFailure::MemoryLimit),
            FaultKind::Error(error) => {
                let message = "injected fault".to_string();
                Some(CallFailure::Error(match error {
                    InjectedError::InvalidInput => ProcessError::InvalidInput(message),
                    InjectedError::Unavailable => ProcessError::Unavailable(message),
                    InjectedError::Internal => ProcessError::Internal(message),
                    InjectedError::DeadlineExceeded => ProcessError::DeadlineExceeded,
                    InjectedError::Fatal => ProcessError::Fatal(message),
                }))
            }
        }
    }

    /// Node `n`'s component exited abnormally with `error`. Restarts it
    /// (and its strategy's siblings) when its restart type says so and the
    /// restart intensity allows: `Ok(true)`. Closes it when it is not to
    /// be restarted: `Ok(false)`. One restart too many fails the flow.
    pub(super) fn component_failed(
        &mut self,
        n: usize,
        exit: ExitKind,
        error: &FlowError,
    ) -> Result<bool, FlowError> {
        let name = self.nodes[n].name.clone();
        if error.code() == crate::error::ErrorCode::FlowCancelled {
            // Interrupted by a cancel: nothing to supervise.
            return Err(FlowError::Cancelled {
                flow: self.settings.flow_name.clone(),
            });
        }
        if !self.nodes[n].supervision.restart.restarts_after(exit) {
            tracing::warn!(component = %name, error = %error, "component ended; its node closes");
            self.close_node(n)?;
            return Ok(false);
        }
        if !self.restart_window.admit(Instant::now()) {
            let intensity = self.restart_window.intensity();
            return Err(FlowError::RestartIntensity {
                component: name,
                restarts: intensity.max_restarts,
                window_ms: intensity.window.as_millis() as u64,
                code: error.code(),
                cause: error.to_string(),
                cause_help: error.help(),
            });
        }
        let position = self.topo_position[n];
        let restart: Vec<usize> = (0..self.nodes.len())
            .filter(|&m| {
                m == n
                    || !self.nodes[m].state.finished
                        && match self.settings.supervision.strategy {
                            Strategy::OneForOne => false,
                            Strategy::OneForAll => true,
                            Strategy::RestForOne => self.topo_position[m] > position,
                        }
            })
            .collect();
        tracing::warn!(component = %name, error = %error, restarting = restart.len(), "component failed; restarting");
        for m in restart {
            self.restart_node(m)?;
        }
        Ok(true)
    }

    /// A fresh instance for node `m` (a new `Store` from the cached
    /// `InstancePre`), initialised again; the old one is torn down if it is
    /// still callable, and the buffers it owned go back to the pool.
    fn restart_node(&mut self, m: usize) -> Result<(), FlowError> {
        let node = &mut self.nodes[m];
        if node.instance.is_connector() {
            // A built-in connector keeps its place in its input or output:
            // starting it again would replay or truncate what it already
            // read or wrote.
            node.counters.restarts += 1;
            self.events.push(FlowEvent::ComponentRestarted { node: m });
            return Ok(());
        }
        let fresh = StageInstance::instantiate(
            &self.engine,
            &node.component,
            ComponentId(m as u32),
            &node.name,
            &node.sandbox,
            self.settings.interrupt.as_ref(),
        )?;
        let mut old = std::mem::replace(&mut node.instance, fresh);
        node.counters.fuel_of_replaced += old.fuel_consumed();
        if !old.is_poisoned() {
            if let Err(e) = old.teardown(&mut self.shared) {
                tracing::debug!(component = %node.name, error = %e, "teardown before restart failed");
            }
        }
        drop(old);
        if let Some(shared) = self.shared.as_deref_mut() {
            let reclaimed = shared.resources.reclaim_owned_by(ComponentId(m as u32));
            if reclaimed > 0 {
                tracing::debug!(component = %node.name, reclaimed, "buffers of the old instance reclaimed");
            }
        }
        node.counters.restarts += 1;
        node.state.source_paused = false;
        node.state.sink_paused = false;
        self.probe.forget_reading();
        if let Err(e) = node.instance.init(&mut self.shared, &node.config)? {
            return Err(FlowError::InitFailed {
                component: node.name.clone(),
                error: describe(&e),
            });
        }
        self.events.push(FlowEvent::ComponentRestarted { node: m });
        Ok(())
    }

    /// Node `n` ended abnormally and stays down: it finishes, its
    /// downstream sees end of stream, what is queued for it is dropped
    /// (counted), and a producer whose every output is now closed ends too.
    fn close_node(&mut self, n: usize) -> Result<(), FlowError> {
        self.nodes[n].state.ended_abnormally = true;
        self.end_node_without_calls(n)
    }

    fn end_node_without_calls(&mut self, n: usize) -> Result<(), FlowError> {
        if self.nodes[n].state.finished {
            return Ok(());
        }
        self.nodes[n].state.finished = true;
        for k in 0..self.nodes[n].outputs.len() {
            let s = self.nodes[n].outputs[k];
            self.streams[s].upstream_ended = true;
        }
        while let Some(element) = self.nodes[n].state.pending.pop_front() {
            self.dropped += 1;
            self.release(n, element.buffer)?;
        }
        for k in 0..self.nodes[n].inputs.len() {
            let s = self.nodes[n].inputs[k];
            self.streams[s].closed = true;
            while let Some(element) = self.streams[s].queue.pop() {
                let _ = self.streams[s].credit.grant(1);
                self.streams[s].counters.dropped_closed += 1;
                self.dropped += 1;
                self.release(n, element.buffer)?;
            }
            let producer = self.streams[s].from;
            let all_closed = self.nodes[producer]
                .outputs
                .iter()
                .all(|&o| self.streams[o].closed);
            if all_closed {
                self.end_node_without_calls(producer)?;
            }
        }
        Ok(())
    }

    /// What becomes of an element node `n` failed on: dead-lettered if the
    /// node has a destination and `skip` is false, else dropped (counted
    /// in the flow's dropped elements, the failure in the node's errors).
    pub(super) fn dispose(
        &mut self,
        n: usize,
        input: QueuedElement,
        skip: bool,
        error: &FlowError,
    ) -> Result<(), FlowError> {
        if skip || !self.nodes[n].has_dead_letter_destination() {
            self.dropped += 1;
            return self.release(n, input.buffer);
        }
        self.nodes[n].counters.dead_lettered += 1;
        if self.nodes[n].has_dead_letter_stream {
            let targets = self.nodes[n]
                .outputs
                .iter()
                .filter(|&&s| self.streams[s].dead_letter)
                .count();
            if targets > 1 {
                self.shared_mut()
                    .resources
                    .share(input.buffer, (targets - 1) as u32)
                    .map_err(|source| ownership(&self.nodes[n].name, source))?;
            }
            self.forward(n, input)?;
            for k in 0..self.nodes[n].outputs.len() {
                let s = self.nodes[n].outputs[k];
                if self.streams[s].dead_letter {
                    self.enqueue(n, s, input)?;
                }
            }
            return Ok(());
        }
        self.write_dead_letter_line(n, input, error);
        self.release(n, input.buffer)
    }

    /// Appends one JSON line for `input` to node `n`'s dead-letter file. A
    /// file that cannot be written is logged; the element is then lost, and
    /// counted as dead-lettered all the same (the log says where).
    fn write_dead_letter_line(&mut self, n: usize, input: QueuedElement, error: &FlowError) {
        let Some(path) = self.nodes[n].supervision.dead_letter_file.clone() else {
            return;
        };
        let payload = self
            .shared
            .as_deref()
            .and_then(|shared| shared.resources.bytes(input.buffer).ok())
            .map(String::from_utf8_lossy)
            .map(|text| text.into_owned())
            .unwrap_or_default();
        let line = serde_json::json!({
            "flow": self.settings.flow_name,
            "node": self.nodes[n].name,
            "sequence": input.sequence,
            "timestamp_ns": input.timestamp_ns,
            "error": error.to_string(),
            "code": error.code().as_str(),
            "payload": payload,
        });
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| writeln!(file, "{line}"));
        if let Err(e) = written {
            tracing::error!(file = %path.display(), error = %e, "cannot write a dead letter");
        }
    }
}
