//! The stage loop's instrumentation: times every component call (when the
//! observability level asks for it), feeds the flow's histograms, and
//! writes the per-element trace ([`super::trace`]).
//!
//! A call is bracketed by [`Flow::probe_begin`] and [`Flow::probe_end`];
//! once the stage loop knows what became of the element it calls
//! [`Flow::trace_call`]. Everything here is on the hot path: no
//! allocation, no lock, no message — two clock reads per call when timing,
//! a few more field copies when the element is traced in detail.

use super::{Flow, QueuedElement, StageRole};
use crate::config::ObservabilityLevel;
use crate::reactor::clock::Tick;
use crate::reactor::events::FlowEvent;
use crate::reactor::trace::{
    BackpressurePhase, BufferRef, StageOp, StageOutcome, StageRecord, TraceMode, TraceRecord,
    PREVIEW_BYTES,
};
use crate::resources::{BufferId, CopyStats};

/// What the instrumentation knows about the call in progress.
#[derive(Debug, Default)]
pub(super) struct CallProbe {
    /// When the call began (`None`: not timed).
    began: Option<Tick>,
    /// When the last timed call ended (elements it emitted were enqueued
    /// then: their queue wait starts here).
    pub(super) ended: Tick,
    duration_ns: u64,
    /// The element is traced in detail.
    detailed: bool,
    copies_before: CopyStats,
    input: Option<BufferRef>,
    output: Option<BufferRef>,
    /// The stream the input was taken from, until its queue wait is recorded.
    pub(super) input_stream: Option<usize>,
    preview: [u8; PREVIEW_BYTES],
    preview_len: u8,
}

/// The call a role makes per element.
pub(super) fn op_of(role: StageRole) -> StageOp {
    match role {
        StageRole::Source => StageOp::Pull,
        StageRole::Processor => StageOp::Process,
        StageRole::Filter => StageOp::Evaluate,
        StageRole::Router => StageOp::Route,
        StageRole::Aggregator => StageOp::Ingest,
        StageRole::Sink => StageOp::Push,
    }
}

/// Lowercase hex of `bytes` into `out`, reusing its capacity.
fn write_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.clear();
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
}

impl Flow {
    /// Sets what the flow measures from its next call on: nothing
    /// (`off`, unless the flow was started with `stage_timing`), call
    /// timing, histograms and sampled traces (`production`), or every
    /// element traced in detail (`diagnostic`).
    pub fn set_observability(&mut self, level: ObservabilityLevel) {
        let mode = match level {
            ObservabilityLevel::Off => TraceMode::Off,
            ObservabilityLevel::Production => TraceMode::Sampled,
            ObservabilityLevel::Diagnostic => TraceMode::Full,
        };
        self.observed = level != ObservabilityLevel::Off;
        self.timed = self.observed || self.settings.stage_timing;
        self.tracer.set_mode(mode);
        let Some(trace) = self.settings.trace_context else {
            return;
        };
        let Some(shared) = self.shared.as_deref_mut() else {
            return;
        };
        let context = &mut shared.context;
        if mode == TraceMode::Off {
            context.trace_id.clear();
            context.span_id.clear();
        } else {
            write_hex(&mut context.trace_id, &trace.trace_id);
            write_hex(&mut context.span_id, &trace.root_span_id);
        }
    }

    /// Moves the trace records ready for export to `out`.
    pub fn drain_trace(&mut self, out: &mut Vec<TraceRecord>) {
        self.tracer.drain_into(out);
    }

    /// Trace records waiting to be drained.
    pub fn trace_pending(&self) -> usize {
        self.tracer.pending()
    }

    /// Trace records dropped because nobody drained them in time.
    pub fn trace_dropped(&self) -> u64 {
        self.tracer.dropped()
    }

    /// Before a call of node `n` on element `sequence` (holding `input`,
    /// lent to the call).
    // HOT PATH
    pub(super) fn probe_begin(&mut self, n: usize, sequence: u64, input: Option<QueuedElement>) {
        let probe = &mut self.probe;
        probe.output = None;
        probe.input = None;
        probe.preview_len = 0;
        if !self.timed {
            probe.began = None;
            probe.detailed = false;
            probe.input_stream = None;
            return;
        }
        probe.detailed = self.tracer.is_detailed(sequence);
        if probe.detailed {
            if let Some(shared) = self.shared.as_deref_mut() {
                probe.copies_before = shared.resources.ledger().total();
                if let Some(element) = input {
                    if let Ok(bytes) = shared.resources.bytes(element.buffer) {
                        probe.input = Some(BufferRef {
                            id: element.buffer,
                            bytes: bytes.len() as u32,
                        });
                        let keep = bytes.len().min(self.tracer.preview_bytes());
                        probe.preview[..keep].copy_from_slice(&bytes[..keep]);
                        probe.preview_len = keep as u8;
                    }
                }
                if let Some(trace) = self.settings.trace_context {
                    let span = trace.span_id(n as u32, sequence);
                    write_hex(&mut shared.context.span_id, &span);
                }
            }
        }
        let now = self.clock.tick();
        if let (Some(element), Some(s)) = (input, probe.input_stream.take()) {
            if element.enqueued != Tick::default() {
                let wait = self.clock.nanos_between(element.enqueued, now);
                if let Some(h) = self.histograms.as_deref() {
                    if let Some(h) = h.queue_wait.get(s) {
                        h.record(wait);
                    }
                }
            }
        }
        probe.began = Some(now);
    }

    /// After the call of node `n` returned (or trapped).
    // HOT PATH
    pub(super) fn probe_end(&mut self, n: usize) {
        let Some(began) = self.probe.began else {
            return;
        };
        let ended = self.clock.tick();
        let ns = self.clock.nanos_between(began, ended);
        self.probe.ended = ended;
        self.probe.duration_ns = ns;
        self.nodes[n].busy_ns += ns;
        if self.observed {
            if let Some(h) = self.histograms.as_deref() {
                if let Some(h) = h.processing_time.get(n) {
                    h.record(ns);
                }
            }
        }
        if let Some(latency) = self.latency.as_deref_mut() {
            latency.record_invocation(n, ns);
        }
    }

    /// The tick an element emitted now is enqueued at (its queue wait
    /// starts then): the end of the call that produced it, or none when
    /// calls are not timed.
    // HOT PATH
    pub(super) fn enqueue_tick(&self) -> Tick {
        if self.timed {
            self.probe.ended
        } else {
            Tick::default()
        }
    }

    /// A component produced `buffer` in the call in progress.
    // HOT PATH
    pub(super) fn probe_output(&mut self, buffer: BufferId) {
        if !self.probe.detailed {
            return;
        }
        if let Some(shared) = self.shared.as_deref() {
            if let Ok(bytes) = shared.resources.bytes(buffer) {
                self.probe.output = Some(BufferRef {
                    id: buffer,
                    bytes: bytes.len() as u32,
                });
                if self.probe.input.is_none() {
                    let keep = bytes.len().min(self.tracer.preview_bytes());
                    self.probe.preview[..keep].copy_from_slice(&bytes[..keep]);
                    self.probe.preview_len = keep as u8;
                }
            }
        }
    }

    /// Records what the call of node `n` on element `sequence` (source
    /// timestamp `element_ns`) did.
    // HOT PATH: a copy into the recorder's reserved storage.
    pub(super) fn trace_call(
        &mut self,
        n: usize,
        sequence: u64,
        element_ns: u64,
        outcome: StageOutcome,
        routes: u64,
    ) {
        let Some(began) = self.probe.began else {
            return;
        };
        if !self.tracer.enabled() {
            return;
        }
        let probe = &self.probe;
        let (copies, copied_bytes) = if probe.detailed {
            let now = self
                .shared
                .as_deref()
                .map(|s| s.resources.ledger().total())
                .unwrap_or_default();
            (
                now.operations
                    .saturating_sub(probe.copies_before.operations) as u32,
                now.bytes.saturating_sub(probe.copies_before.bytes),
            )
        } else {
            (0, 0)
        };
        let record = StageRecord {
            node: n as u32,
            op: op_of(self.nodes[n].role),
            sequence,
            start_unix_ns: self.clock.unix_ns(began),
            duration_ns: probe.duration_ns,
            element_timestamp_ns: element_ns,
            input: probe.input,
            output: probe.output,
            copies,
            copied_bytes,
            outcome,
            routes,
            detailed: probe.detailed,
        };
        let preview = (probe.preview_len > 0).then_some((probe.preview, probe.preview_len));
        self.tracer.record_stage(record);
        if let Some((bytes, len)) = preview {
            self.tracer.record(TraceRecord::Payload {
                node: n as u32,
                sequence,
                bytes,
                len,
            });
        }
    }

    /// Records a delivered element's end-to-end latency.
    // HOT PATH: no clock read (the sink call's end is the delivery time).
    pub(super) fn record_delivery(&mut self, element: QueuedElement) {
        if !self.timed {
            return;
        }
        let delivered_at = self.clock.unix_ns(self.probe.ended);
        let ns = delivered_at.saturating_sub(element.timestamp_ns);
        if self.observed {
            if let Some(h) = self.histograms.as_deref() {
                h.latency.record(ns);
            }
        }
        if let Some(latency) = self.latency.as_deref_mut() {
            let bytes = self
                .shared
                .as_deref()
                .and_then(|s| s.resources.bytes(element.buffer).ok())
                .map_or(0, |b| b.len() as u64);
            latency.record_delivery(ns, bytes);
        }
    }

    /// Buffers `event` for the driver and, at the diagnostic level, traces it.
    pub(super) fn note(&mut self, event: FlowEvent) {
        self.events.push(event);
        if !self.tracer.records_events() {
            return;
        }
        let at_unix_ns = self.clock.now_ns();
        let record = match event {
            FlowEvent::BackpressureTriggered { stream, depth } => TraceRecord::Backpressure {
                stream: stream as u32,
                at_unix_ns,
                depth: depth as u32,
                capacity: self.streams[stream].settings.capacity as u32,
                phase: BackpressurePhase::Triggered,
            },
            FlowEvent::BackpressureRelieved {
                stream,
                depth,
                duration,
            } => TraceRecord::Backpressure {
                stream: stream as u32,
                at_unix_ns,
                depth: depth as u32,
                capacity: self.streams[stream].settings.capacity as u32,
                phase: BackpressurePhase::Relieved {
                    duration_ns: duration.as_nanos() as u64,
                },
            },
            FlowEvent::SourcePaused { node } => TraceRecord::SourceSignal {
                node: node as u32,
                at_unix_ns,
                paused: true,
            },
            FlowEvent::SourceResumed { node } => TraceRecord::SourceSignal {
                node: node as u32,
                at_unix_ns,
                paused: false,
            },
            FlowEvent::SinkPaused { node } => TraceRecord::SinkPaused {
                node: node as u32,
                at_unix_ns,
            },
            FlowEvent::ComponentRestarted { .. } => return,
        };
        self.tracer.record(record);
    }

    /// Whether the call in progress is traced in detail.
    pub(super) fn probe_detailed(&self) -> bool {
        self.probe.detailed
    }

    /// Bit `k` set for each of node `n`'s outputs whose port is in `ports`.
    pub(super) fn route_mask(&self, n: usize, ports: &[String]) -> u64 {
        let mut mask = 0;
        for (k, &s) in self.nodes[n].outputs.iter().enumerate().take(64) {
            if ports.iter().any(|p| *p == self.streams[s].from_port) {
                mask |= 1 << k;
            }
        }
        mask
    }
}
