//! Routing what a stage returned: to every output stream, to the ports a
//! router chose, or to none; and enqueueing one element on one stream,
//! with the stream's policy when it is full.

use super::step::Outcome;
use super::Flow;
use crate::engine::bindings::types::{BackpressureSignal, ProcessResult};
use crate::reactor::backpressure::{Policy, WatermarkChange};
use crate::reactor::element::QueuedElement;
use crate::reactor::error::FlowError;
use crate::reactor::events::FlowEvent;
use crate::reactor::spec::FanOut;

use super::buffers::ownership;

impl Flow {
    /// Routes what stage `n` returned for `input`.
    pub(super) fn route_outcome(
        &mut self,
        n: usize,
        input: QueuedElement,
        outcome: Outcome,
    ) -> Result<(), FlowError> {
        match outcome {
            Outcome::Filtered(true) => {
                // The same buffer moves on: no copy, no allocation.
                self.forward(n, input)?;
                let targets = self.nodes[n].regular_outputs;
                self.emit(n, input, None, targets)
            }
            Outcome::Routed(ports) => {
                let targets = match self.route_targets(n, &ports) {
                    Ok(targets) => targets,
                    Err(e) => {
                        // The element goes back to the pool before the
                        // flow fails: an unknown port is not a leak.
                        self.release(n, input.buffer)?;
                        return Err(e);
                    }
                };
                if targets == 0 {
                    self.dropped += 1;
                    return self.release(n, input.buffer);
                }
                self.forward(n, input)?;
                self.emit(n, input, Some(&ports), targets)
            }
            Outcome::Processed(ProcessResult::Emit(output)) | Outcome::Ingested(Some(output)) => {
                let element = self.accept(n, output, input.sequence, input.timestamp_ns)?;
                self.release(n, input.buffer)?;
                let targets = self.nodes[n].regular_outputs;
                self.emit(n, element, None, targets)
            }
            Outcome::Pushed(signal) => {
                self.delivered += 1;
                self.record_delivery(input);
                if signal == BackpressureSignal::Pause {
                    self.nodes[n].state.sink_paused = true;
                    self.note(FlowEvent::SinkPaused { node: n });
                }
                self.release(n, input.buffer)
            }
            Outcome::Filtered(false)
            | Outcome::Processed(ProcessResult::Drop)
            | Outcome::Ingested(None) => {
                self.dropped += 1;
                self.release(n, input.buffer)
            }
        }
    }

    /// How many output streams `ports` name; an unknown port is E0204.
    pub(super) fn route_targets(&self, n: usize, ports: &[String]) -> Result<usize, FlowError> {
        let node = &self.nodes[n];
        let mut targets = 0;
        for port in ports {
            let matching = node
                .outputs
                .iter()
                .filter(|&&s| self.streams[s].from_port == *port)
                .count();
            if matching == 0 {
                let known: Vec<&str> = node
                    .outputs
                    .iter()
                    .map(|&s| self.streams[s].from_port.as_str())
                    .collect();
                return Err(FlowError::UnknownPort {
                    component: node.name.clone(),
                    port: port.clone(),
                    known: known.join(", "),
                });
            }
            targets += matching;
        }
        Ok(targets)
    }

    /// Sends `element` down the output streams of `n` — all of them, or only
    /// those whose port is in `ports` — sharing one buffer among `targets`
    /// streams.
    pub(super) fn emit(
        &mut self,
        n: usize,
        element: QueuedElement,
        ports: Option<&[String]>,
        targets: usize,
    ) -> Result<(), FlowError> {
        if targets == 0 {
            self.dropped += 1;
            return self.release(n, element.buffer);
        }
        if targets > 1 {
            self.shared_mut()
                .resources
                .share(element.buffer, (targets - 1) as u32)
                .map_err(|source| ownership(&self.nodes[n].name, source))?;
        }
        for k in 0..self.nodes[n].outputs.len() {
            let s = self.nodes[n].outputs[k];
            if self.streams[s].dead_letter && ports.is_none() {
                continue;
            }
            if let Some(ports) = ports {
                if !ports.iter().any(|p| *p == self.streams[s].from_port) {
                    continue;
                }
            }
            self.enqueue(n, s, element)?;
        }
        Ok(())
    }

    /// Puts one reference of `element` on stream `s`, applying its policy when full.
    // HOT PATH
    pub(super) fn enqueue(
        &mut self,
        n: usize,
        s: usize,
        element: QueuedElement,
    ) -> Result<(), FlowError> {
        let independent = self.nodes[n].scheduling.fan_out == FanOut::IndependentPerBranch;
        let stream = &mut self.streams[s];
        if stream.closed {
            // Its consumer ended abnormally and was not restarted.
            stream.counters.dropped_closed += 1;
            self.dropped += 1;
            return self.release(n, element.buffer);
        }
        if independent && stream.settings.policy.gates_producer() && !stream.has_room(&mut None) {
            // An independent branch that cannot keep up misses the element.
            stream.counters.lagged += 1;
            self.dropped += 1;
            return self.release(n, element.buffer);
        }
        if stream.queue.is_full() {
            match stream.settings.policy {
                Policy::DropOldest => {
                    if let Some(oldest) = stream.queue.pop() {
                        let _ = stream.credit.grant(1);
                        stream.counters.dropped_oldest += 1;
                        self.dropped += 1;
                        self.release(n, oldest.buffer)?;
                        // Dropped by the stream's policy: handled.
                        self.release_element(oldest.sequence);
                    }
                }
                Policy::DropNewest => {
                    let stream = &mut self.streams[s];
                    stream.counters.dropped_newest += 1;
                    self.dropped += 1;
                    return self.release(n, element.buffer);
                }
                Policy::Error => {
                    let error = FlowError::QueueFull {
                        stream: stream.name.clone(),
                        capacity: stream.settings.capacity,
                    };
                    let _ = self.release(n, element.buffer);
                    return Err(error);
                }
                Policy::Block | Policy::RateLimit { .. } => {
                    // Gated producers only run with credit; reaching here is a bug.
                    let _ = self.release(n, element.buffer);
                    return Err(FlowError::Stalled {
                        flow: self.settings.flow_name.clone(),
                    });
                }
            }
        }
        let element = QueuedElement {
            enqueued: self.enqueue_tick(),
            ..element
        };
        let stream = &mut self.streams[s];
        if stream.queue.push(element).is_err() {
            return Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            });
        }
        let _ = stream.credit.consume();
        if let Some(limiter) = stream.limiter.as_mut() {
            limiter.take();
        }
        let sequence = element.sequence;
        self.hold_element(sequence);
        let stream = &mut self.streams[s];
        stream.counters.transferred += 1;
        let depth = stream.queue.len();
        if let Some(WatermarkChange::Triggered) = stream.watermark.observe(depth) {
            self.note(FlowEvent::BackpressureTriggered { stream: s, depth });
        }
        Ok(())
    }
}
