//! The stage loop's instrumentation: times every component call (when the
//! observability level asks for it), feeds the flow's histograms, and
//! writes the per-element trace ([`super::trace`]).
//!
//! A call is bracketed by [`Flow::probe_begin`] and [`Flow::probe_end`];
//! once the stage loop knows what became of the element it calls
//! [`Flow::trace_call`]. Everything here is on the hot path: no
//! allocation, no lock, no message — two clock reads per timed call, a
//! few more field copies when the element is traced in detail.
//!
//! Which calls are timed: every call at `diagnostic` and whenever the
//! flow was started with `stage_timing` (`torvyn bench`); at
//! `production`, the calls of a share of the elements (and of every
//! traced element) that follows the flow's rate: one in
//! [`PRODUCTION_TIMING_EVERY`] at first, then about
//! [`PRODUCTION_TIMED_PER_SECOND`] elements a second (every element of a
//! slower flow; see [`Flow::follow_rate`]), while every element's
//! end-to-end latency is measured (one clock read at its delivery).
//!
//! [`PRODUCTION_TIMING_EVERY`]: crate::reactor::PRODUCTION_TIMING_EVERY
//! [`PRODUCTION_TIMED_PER_SECOND`]: crate::reactor::trace::PRODUCTION_TIMED_PER_SECOND
//!
//! End-to-end latency runs from source entry to sink exit (the spec's
//! `flow.latency`): an element's timestamp is when the host began its
//! pull. The clock read at a delivery stands for the next pull's start
//! when no guest ran in between (a linear flow's sink hands over to its
//! source), so at `production` such a flow reads the clock once per
//! element, as at `off`: see
//! [`CallProbe::reading`](super::probe::CallProbe::reading).

use super::paths::op_of;
use super::probe::NO_STREAM;
use super::Flow;
use crate::config::ObservabilityLevel;
use crate::reactor::clock::Tick;
use crate::reactor::element::QueuedElement;
use crate::reactor::events::FlowEvent;
use crate::reactor::histogram::HistogramSlot;
use crate::reactor::trace::{
    timing_every_for, BackpressurePhase, BufferRef, CallRecord, StageOutcome, StageRecord,
    TraceMode, TraceRecord,
};
use crate::resources::BufferId;

/// The elements a flow pulled since a clock reading: its rate, which the
/// `production` timing share follows ([`Flow::follow_rate`]).
#[derive(Debug, Default)]
pub(super) struct TimingWindow {
    /// When the window opened (`Tick::default()`: not yet).
    opened: Tick,
    /// Elements pulled before it opened.
    pulled_before: u64,
}

/// How long a rate window lasts: long enough to count a few elements of
/// a fast flow, short enough that a short flow adapts early.
const TIMING_WINDOW_NS: u64 = 1_000_000;

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
        self.probe.observed = level != ObservabilityLevel::Off;
        self.probe.samples_histograms = self.probe.observed && self.histograms.is_some();
        self.probe.time_every_call =
            level == ObservabilityLevel::Diagnostic || self.settings.stage_timing;
        self.probe.forget_reading();
        self.tracer.set_mode(mode);
        self.probe.gate = self.tracer.gate();
        self.timing_window = TimingWindow::default();
        let Some(trace) = self.settings.trace_context else {
            return;
        };
        let Some(shared) = self.shared.as_deref_mut() else {
            return;
        };
        shared.context.trace = (mode != TraceMode::Off).then_some(trace);
    }

    /// Records the histogram samples taken since the last call into the
    /// flow's histograms. The driver calls it after each batch (the flow
    /// itself when its buffer fills and when it finishes), so exporters
    /// see the histograms at most one batch behind.
    pub fn record_samples(&mut self) {
        match self.histograms.as_deref() {
            Some(histograms) => self.samples.record_into(histograms),
            None => self.samples.clear(),
        }
    }

    /// At `production`, once per batch: when the rate window has lasted
    /// [`TIMING_WINDOW_NS`], sets the share of elements timed from the
    /// flow's rate over it ([`timing_every_for`]) and opens the next one.
    /// One clock read per batch; nothing at other levels.
    pub(super) fn follow_rate(&mut self) {
        if !self.probe.observed || self.probe.time_every_call {
            return;
        }
        let now = self.clock.tick();
        let window = &mut self.timing_window;
        if window.opened == Tick::default() {
            window.opened = now;
            window.pulled_before = self.pulled;
            return;
        }
        let ns = self.clock.nanos_between(window.opened, now);
        if ns < TIMING_WINDOW_NS {
            return;
        }
        let every = timing_every_for(self.pulled - window.pulled_before, ns);
        window.opened = now;
        window.pulled_before = self.pulled;
        self.tracer.set_timing_every(every);
        self.probe.gate = self.tracer.gate();
    }

    /// Keeps a histogram sample until the end of the batch (none at `off`
    /// or when the flow keeps no histograms).
    // HOT PATH: one store (see `histogram`: recording here, between two
    // calls into Wasm, was a few cache misses).
    #[inline]
    fn sample(&mut self, slot: HistogramSlot, ns: u64) {
        if self.probe.samples_histograms && self.samples.push(slot, ns) {
            self.record_samples();
        }
    }

    /// Moves the trace records ready for export to `out`. An empty `out`
    /// trades places with the flow's record buffer: its memory takes the
    /// flow's next records (see [`crate::reactor::trace::TraceRecorder::drain_into`]).
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
    // HOT PATH: inlined; an untimed call costs a hash and a few stores,
    // all in the probe's first line (and the component's store).
    #[inline]
    pub(super) fn probe_begin(&mut self, n: usize, sequence: u64, input: Option<QueuedElement>) {
        let probe = &mut self.probe;
        probe.began = None;
        probe.detailed = false;
        probe.forget_reading();
        if !probe.observed && !probe.time_every_call {
            probe.input_stream = NO_STREAM;
            return;
        }
        if probe.observed {
            self.nodes[n].instance.mark_call(sequence);
        }
        if self.probe.gate.is_plain(sequence) && !self.probe.time_every_call {
            self.probe.input_stream = NO_STREAM;
            return;
        }
        let class = self.tracer.classify(sequence);
        if class.timed || self.probe.time_every_call {
            self.probe_begin_timed(input, class.detailed);
        } else {
            self.probe.input_stream = NO_STREAM;
        }
    }

    /// [`Self::probe_begin`] for a timed call: captures the input when
    /// `detailed`, records its queue wait, reads the clock.
    // HOT PATH (timed calls)
    #[inline(never)]
    fn probe_begin_timed(&mut self, input: Option<QueuedElement>, detailed: bool) {
        let probe = &mut self.probe;
        probe.detailed = detailed;
        if detailed {
            probe.output = None;
            probe.input = None;
            probe.preview_len = 0;
            if let Some(shared) = self.shared.as_deref_mut() {
                probe.copies_before = shared.resources.ledger().total();
                if let Some(element) = input {
                    if let Ok(bytes) = shared.resources.bytes(element.buffer) {
                        probe.input = Some(BufferRef {
                            id: element.buffer,
                            bytes: bytes.len() as u32,
                        });
                        probe.capture_preview(bytes, self.tracer.preview_bytes());
                    }
                }
            }
        }
        let now = self.clock.tick();
        probe.began = Some(now);
        let stream = std::mem::replace(&mut probe.input_stream, NO_STREAM);
        if let Some(element) = input {
            if stream != NO_STREAM && element.enqueued != Tick::default() {
                let wait = self.clock.nanos_between(element.enqueued, now);
                self.sample(HistogramSlot::QueueWait(stream), wait);
            }
        }
    }

    /// Before a batch call of node `n` whose first element is `first`: the
    /// call is timed whenever anything is measured (one clock pair per
    /// batch), never traced in detail (the `diagnostic` level runs every
    /// element on its own), and its elements' trace records are untimed.
    // HOT PATH: once per batch.
    #[inline]
    pub(super) fn probe_batch_begin(&mut self, n: usize, first: u64) {
        let probe = &mut self.probe;
        probe.began = None;
        probe.detailed = false;
        probe.input_stream = NO_STREAM;
        probe.forget_reading();
        if !probe.observed && !probe.time_every_call {
            return;
        }
        if probe.observed {
            self.nodes[n].instance.mark_call(first);
        }
        self.probe.began = Some(self.clock.tick());
    }

    /// After a batch call of node `n`: its time is the node's busy time
    /// and one processing-time sample (one invocation); the records of its
    /// elements that follow are untimed.
    // HOT PATH: once per batch.
    #[inline]
    pub(super) fn probe_batch_end(&mut self, n: usize) {
        let Some(began) = self.probe.began.take() else {
            return;
        };
        let ended = self.clock.tick();
        let ns = self.clock.nanos_between(began, ended);
        self.probe.ended = ended;
        self.nodes[n].counters.busy_ns += ns;
        self.sample(HistogramSlot::ProcessingTime(n as u32), ns);
        if let Some(latency) = self.latency.as_deref_mut() {
            latency.record_invocation(n, ns);
        }
    }

    /// After the call of node `n` returned (or trapped).
    // HOT PATH: inlined; nothing for an untimed call.
    #[inline]
    pub(super) fn probe_end(&mut self, n: usize) {
        if let Some(began) = self.probe.began {
            self.probe_end_timed(n, began);
        }
    }

    // HOT PATH (timed calls)
    #[inline(never)]
    fn probe_end_timed(&mut self, n: usize, began: Tick) {
        let ended = self.clock.tick();
        let ns = self.clock.nanos_between(began, ended);
        self.probe.ended = ended;
        self.probe.duration_ns = ns;
        // Busy time is estimated from the timed calls when they are a sample.
        let weight = if self.probe.time_every_call {
            1
        } else {
            self.tracer.timing_weight()
        };
        self.nodes[n].counters.busy_ns += ns * weight;
        self.sample(HistogramSlot::ProcessingTime(n as u32), ns);
        if let Some(latency) = self.latency.as_deref_mut() {
            latency.record_invocation(n, ns);
        }
    }

    /// The tick an element emitted now is enqueued at (its queue wait
    /// starts then): the end of the call that produced it, or none when
    /// that call was not timed.
    // HOT PATH
    pub(super) fn enqueue_tick(&self) -> Tick {
        if self.probe.began.is_some() {
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
                    self.probe
                        .capture_preview(bytes, self.tracer.preview_bytes());
                }
            }
        }
    }

    /// Records what the call of node `n` on element `sequence` (source
    /// timestamp `element_ns`) did.
    // HOT PATH: inlined; an untimed call the gate clears is a few
    // compares in the probe's first line (otherwise, out of line, a
    // 32-byte store into the ring).
    #[inline(always)]
    pub(super) fn trace_call(
        &mut self,
        n: usize,
        sequence: u64,
        element_ns: u64,
        outcome: StageOutcome,
        routes: u64,
    ) {
        // `observed` is the recorder's mode not being off.
        if !self.probe.observed {
            return;
        }
        if self.probe.began.is_some() {
            self.trace_timed_call(n, sequence, element_ns, outcome, routes);
            return;
        }
        // Untimed, so not detailed (a detailed call is timed).
        let end_to_end_ns = self.end_to_end_ns(outcome, element_ns);
        if self.probe.gate.skips(outcome, end_to_end_ns) {
            return;
        }
        self.trace_untimed_call(n, sequence, element_ns, outcome, end_to_end_ns);
    }

    /// [`Self::trace_call`] for an untimed call the gate did not clear: the
    /// recorder keeps it in its ring, or promotes its element.
    #[inline(never)]
    fn trace_untimed_call(
        &mut self,
        n: usize,
        sequence: u64,
        element_ns: u64,
        outcome: StageOutcome,
        end_to_end_ns: u64,
    ) {
        let call = CallRecord {
            sequence,
            start_unix_ns: 0,
            duration_ns: 0,
            node: n as u32,
            op: op_of(self.nodes[n].role),
            outcome,
        };
        self.tracer.record_call(call, element_ns, end_to_end_ns);
        self.probe.gate.refresh(&self.tracer);
    }

    /// For a delivery, the element's end-to-end latency (its source
    /// timestamp `element_ns` to [`Self::record_delivery`]); 0 otherwise.
    #[inline(always)]
    fn end_to_end_ns(&self, outcome: StageOutcome, element_ns: u64) -> u64 {
        if outcome == StageOutcome::Delivered {
            self.probe.reading.saturating_sub(element_ns)
        } else {
            0
        }
    }

    /// [`Self::trace_call`] for a timed call (kept out of line: the
    /// untimed path inlined at every call site stays small).
    // HOT PATH (timed calls)
    #[inline(never)]
    fn trace_timed_call(
        &mut self,
        n: usize,
        sequence: u64,
        element_ns: u64,
        outcome: StageOutcome,
        routes: u64,
    ) {
        let probe = &self.probe;
        if probe.detailed {
            self.trace_detailed_call(n, sequence, element_ns, outcome, routes);
            return;
        }
        let Some(began) = probe.began else {
            return;
        };
        let end_to_end_ns = self.end_to_end_ns(outcome, element_ns);
        let (start_unix_ns, duration_ns) = (self.clock.unix_ns(began), probe.duration_ns);
        self.tracer.record_call(
            CallRecord {
                sequence,
                start_unix_ns,
                duration_ns: duration_ns.min(u64::from(u32::MAX)) as u32,
                node: n as u32,
                op: op_of(self.nodes[n].role),
                outcome,
            },
            element_ns,
            end_to_end_ns,
        );
        self.probe.gate.refresh(&self.tracer);
    }

    /// [`Self::trace_call`] for a call traced in detail.
    // HOT PATH (detailed calls): a copy into the recorder's reserved
    // storage.
    #[inline(never)]
    fn trace_detailed_call(
        &mut self,
        n: usize,
        sequence: u64,
        element_ns: u64,
        outcome: StageOutcome,
        routes: u64,
    ) {
        let probe = &self.probe;
        let Some(began) = probe.began else {
            return;
        };
        let start_unix_ns = self.clock.unix_ns(began);
        let copies_now = self
            .shared
            .as_deref()
            .map(|s| s.resources.ledger().total())
            .unwrap_or_default();
        let copies = copies_now
            .operations
            .saturating_sub(probe.copies_before.operations) as u32;
        let copied_bytes = copies_now.bytes.saturating_sub(probe.copies_before.bytes);
        let record = StageRecord {
            node: n as u32,
            op: op_of(self.nodes[n].role),
            sequence,
            start_unix_ns,
            duration_ns: probe.duration_ns,
            element_timestamp_ns: element_ns,
            input: probe.input,
            output: probe.output,
            copies,
            copied_bytes,
            outcome,
            routes,
            detailed: true,
            measured: true,
        };
        let preview = (probe.preview_len > 0).then_some((probe.preview, probe.preview_len));
        self.tracer.record_detailed(record);
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
    // HOT PATH: at most one clock read (none when the sink call was timed:
    // its end is the delivery time).
    #[inline]
    pub(super) fn record_delivery(&mut self, element: QueuedElement) {
        if !self.probe.observed && !self.probe.time_every_call {
            return;
        }
        let delivered_at = self.call_end_unix_ns();
        self.probe.reading = delivered_at;
        let ns = delivered_at.saturating_sub(element.timestamp_ns);
        self.sample(HistogramSlot::Latency, ns);
        // The benchmark's recorder exists only when every call is timed:
        // production's path does not look for it.
        if self.probe.time_every_call {
            self.record_benchmark_delivery(element, ns);
        }
    }

    /// When the pull about to be made (after [`Self::probe_begin`]) starts,
    /// ns since the Unix epoch: the element's timestamp, its source entry.
    /// The call's measured start when it is timed; else `reading`, the
    /// last delivery's clock reading taken before `probe_begin` forgot it
    /// ([`CallProbe::reading`](super::probe::CallProbe::reading)), when there was one; else now.
    // HOT PATH: at most one clock read.
    #[inline(always)]
    pub(super) fn pull_start_unix_ns(&self, reading: u64) -> u64 {
        if let Some(began) = self.probe.began {
            self.clock.unix_ns(began)
        } else if reading != 0 {
            reading
        } else {
            self.clock.now_ns()
        }
    }

    /// When the call just made ended, ns since the Unix epoch: its
    /// measured end when it was timed (no second clock read), else now.
    /// A delivery's time.
    #[inline(always)]
    pub(super) fn call_end_unix_ns(&self) -> u64 {
        if self.probe.began.is_some() {
            self.clock.unix_ns(self.probe.ended)
        } else {
            self.clock.now_ns()
        }
    }

    /// Gives a delivery to the benchmark's latency recorder, if the flow
    /// has one (`stage_timing`).
    #[inline(never)]
    fn record_benchmark_delivery(&mut self, element: QueuedElement, ns: u64) {
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
