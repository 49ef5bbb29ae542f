//! The trace recorder's tests: sampling, timing, promotion and the
//! export buffer.

use super::recorder::PerCallFields;
use super::ring::FREE_SLOT;
use super::sampling::threshold_of;
use super::*;
use proptest::prelude::*;

fn call(sequence: u64, duration_ns: u64, outcome: StageOutcome, detailed: bool) -> StageRecord {
    StageRecord {
        node: 1,
        op: StageOp::Process,
        sequence,
        start_unix_ns: 1_000,
        duration_ns,
        element_timestamp_ns: 1_000,
        input: None,
        output: None,
        copies: 0,
        copied_bytes: 0,
        outcome,
        routes: 0,
        detailed,
        measured: true,
    }
}

fn sequences(recorder: &mut TraceRecorder) -> Vec<u64> {
    let mut out = Vec::new();
    recorder.drain_into(&mut out);
    out.iter()
        .filter_map(|r| match r {
            TraceRecord::Stage(s) => Some(s.sequence),
            _ => None,
        })
        .collect()
}

#[test]
fn off_records_nothing_and_full_details_everything() {
    let mut off = TraceRecorder::new(TraceMode::Off, TraceSettings::default());
    assert!(!off.is_detailed(3));
    off.record_stage(call(3, 5, StageOutcome::Failed, false));
    assert!(sequences(&mut off).is_empty());

    let mut full = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
    assert!((0..100).all(|s| full.is_detailed(s)));
    full.record_stage(call(3, 5, StageOutcome::Emitted, true));
    assert_eq!(sequences(&mut full), vec![3]);
}

#[test]
fn head_sampling_keeps_about_the_configured_share() {
    let settings = TraceSettings {
        sample_rate: 0.1,
        ..TraceSettings::default()
    };
    let recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    let sampled = (0..100_000).filter(|&s| recorder.is_detailed(s)).count();
    assert!((9_000..11_000).contains(&sampled), "{sampled} of 100000");
    let none = TraceRecorder::new(
        TraceMode::Sampled,
        TraceSettings {
            sample_rate: 0.0,
            ..settings
        },
    );
    assert!((0..10_000).all(|s| !none.is_detailed(s)));
}

#[test]
fn an_unsampled_failure_is_promoted_with_its_earlier_calls() {
    let settings = TraceSettings {
        sample_rate: 0.0,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    recorder.record_stage(call(7, 5, StageOutcome::Emitted, false));
    recorder.record_stage(call(8, 5, StageOutcome::Emitted, false));
    recorder.record_stage(call(7, 5, StageOutcome::Failed, false));
    assert_eq!(sequences(&mut recorder), vec![7, 7]);
    // Later calls of the promoted element are detailed.
    assert!(recorder.is_detailed(7));
    assert!(!recorder.is_detailed(8));
}

#[test]
fn after_a_promotion_later_elements_are_classified_as_if_none_had_been() {
    let settings = TraceSettings {
        sample_rate: 0.01,
        seed: 99,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    let untouched = TraceRecorder::new(TraceMode::Sampled, settings);
    recorder.record_stage(call(40, 5, StageOutcome::Failed, false));
    recorder.record_stage(call(12, 5, StageOutcome::Failed, false));
    assert!(recorder.is_detailed(40) && recorder.is_detailed(12));
    for sequence in (0..2_000).filter(|s| ![12, 40].contains(s)) {
        assert_eq!(
            recorder.classify(sequence),
            untouched.classify(sequence),
            "sequence {sequence}"
        );
    }
}

#[test]
fn a_slow_call_or_a_slow_element_is_promoted_and_a_fast_one_is_not() {
    let settings = TraceSettings {
        sample_rate: 0.0,
        latency_promote_ns: 1_000_000,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    recorder.record_stage(call(1, 999_999, StageOutcome::Emitted, false));
    recorder.record_stage(call(2, 1_000_000, StageOutcome::Emitted, false));
    let mut late = call(3, 10, StageOutcome::Delivered, false);
    late.start_unix_ns = late.element_timestamp_ns + 2_000_000;
    recorder.record_stage(late);
    assert_eq!(sequences(&mut recorder), vec![2, 3]);
}

#[test]
fn the_timed_share_follows_the_rate_between_every_element_and_one_in_1024() {
    // elements, ns → one timed in
    for (elements, ns, every) in [
        (0, 1_000_000, 1),
        (1, 2_000_000, 1), // 500 a second
        (1, 1_000_000, 1), // 1,000 a second: every one
        (1_001, 1_000_000_000, 2),
        (200, 1_000_000, 256),      // 200,000 a second
        (10_000, 1_000_000, 1_024), // 10 million a second: capped
        (5, 0, 1_024),              // no time elapsed: no division by zero
    ] {
        assert_eq!(
            timing_every_for(elements, ns),
            every,
            "{elements} elements in {ns} ns"
        );
    }
}

#[test]
fn the_timing_weight_counts_the_sampled_elements_too() {
    let n = 640_000u64;
    let untraced = TraceSettings {
        sample_rate: 0.0,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, untraced);
    assert_eq!(recorder.timing_weight(), PRODUCTION_TIMING_EVERY);
    recorder.set_timing_every(256);
    assert_eq!(recorder.timing_weight(), 256);
    let timed = (0..n).filter(|&s| recorder.classify(s).timed).count() as u64;
    assert!(timed.abs_diff(n / 256) < n / 2560, "{timed} of {n} timed");
    recorder.set_timing_every(1);
    assert_eq!(recorder.timing_weight(), 1);
    assert!((0..10_000).all(|s| recorder.classify(s).timed));
    // At the default 1 % sample rate, one in 256 is fewer than the
    // sampled elements, which are all timed: the weight is 100.
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, TraceSettings::default());
    recorder.set_timing_every(256);
    assert_eq!(recorder.timing_weight(), 100);
    let timed = (0..n).filter(|&s| recorder.classify(s).timed).count() as u64;
    assert!(timed.abs_diff(n / 100) < n / 1000, "{timed} of {n} timed");
}

#[test]
fn production_times_a_share_of_elements_and_every_traced_one() {
    let untraced = TraceSettings {
        sample_rate: 0.0,
        ..TraceSettings::default()
    };
    let recorder = TraceRecorder::new(TraceMode::Sampled, untraced);
    let n = 640_000;
    let timed = (0..n).filter(|&s| recorder.classify(s).timed).count() as u64;
    let expected = n / PRODUCTION_TIMING_EVERY;
    assert!(
        timed.abs_diff(expected) < expected / 10,
        "{timed} of {n} timed, expected about {expected}"
    );
    let recorder = TraceRecorder::new(TraceMode::Sampled, TraceSettings::default());
    let classes: Vec<CallClass> = (0..n).map(|s| recorder.classify(s)).collect();
    assert!(classes.iter().all(|c| !c.detailed || c.timed));
    assert!(classes.iter().any(|c| c.detailed));
    let full = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
    assert!((0..100).all(|s| full.classify(s)
        == CallClass {
            detailed: true,
            timed: true
        }));
    let off = TraceRecorder::new(TraceMode::Off, TraceSettings::default());
    assert!((0..100).all(|s| off.classify(s) == CallClass::default()));
}

#[test]
fn an_untimed_element_promoted_by_its_latency_is_exported_unmeasured() {
    let settings = TraceSettings {
        sample_rate: 0.0,
        latency_promote_ns: 1_000_000,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    let element_ns = 50_000_000;
    recorder.record_call(
        untimed(4, 0, StageOp::Process, StageOutcome::Emitted),
        element_ns,
        0,
    );
    recorder.record_call(
        untimed(4, 1, StageOp::Process, StageOutcome::Delivered),
        element_ns,
        3_000_000,
    );
    let stages = stages(&mut recorder);
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(stages.iter().all(|s| !s.measured && s.duration_ns == 0));
    assert_eq!(
        stages[0].start_unix_ns, element_ns,
        "placed at the element's timestamp"
    );
    assert_eq!(
        stages[1].start_unix_ns,
        element_ns + 3_000_000,
        "placed at the delivery"
    );
    assert!(stages.iter().all(|s| s.element_timestamp_ns == element_ns));
}

#[test]
fn a_fast_untimed_delivery_stays_in_the_ring() {
    let settings = TraceSettings {
        sample_rate: 0.0,
        latency_promote_ns: 1_000_000,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    let call = CallRecord {
        sequence: 4,
        start_unix_ns: 0,
        duration_ns: 0,
        node: 1,
        op: StageOp::Push,
        outcome: StageOutcome::Delivered,
    };
    recorder.record_call(call, 10, 999_999);
    assert!(sequences(&mut recorder).is_empty());
    assert_eq!(recorder.ring.iter().filter(|r| r.sequence == 4).count(), 1);
}

/// A chain source (0) → processor (1) → filter (2) → sink (3).
fn chain() -> Vec<NodePath> {
    let step = |upstream: Option<u32>, op, passed_on| NodePath {
        upstream,
        op,
        passed_on,
    };
    vec![
        step(None, StageOp::Pull, StageOutcome::Emitted),
        step(Some(0), StageOp::Process, StageOutcome::Emitted),
        step(Some(1), StageOp::Evaluate, StageOutcome::Passed),
        step(Some(2), StageOp::Push, StageOutcome::Delivered),
    ]
}

#[test]
fn the_gate_clears_only_calls_the_recorder_would_neither_time_nor_keep() {
    let settings = TraceSettings {
        latency_promote_ns: 1_000_000,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    recorder.set_unique_paths(chain());
    let gate = recorder.gate();
    let plain: Vec<u64> = (0..100_000).filter(|&s| gate.is_plain(s)).collect();
    assert!(plain.len() > 90_000, "{} plain", plain.len());
    assert!(plain
        .iter()
        .all(|&s| recorder.classify(s) == CallClass::default()));
    assert!((0..100_000)
        .filter(|s| !gate.is_plain(*s))
        .all(|s| recorder.classify(s).timed));
    assert!(gate.skips(StageOutcome::Emitted, 0));
    assert!(gate.skips(StageOutcome::Delivered, 999_999));
    assert!(
        !gate.skips(StageOutcome::Delivered, 1_000_000),
        "slow: promotes"
    );
    assert!(!gate.skips(StageOutcome::Failed, 0), "failed: promotes");
    assert!(
        !gate.skips(StageOutcome::Dropped, 0),
        "the ring keeps drops"
    );

    // A promotion: once refreshed, the gate sends the promoted
    // element's later calls to the recorder, which traces them.
    let sequence = plain[0];
    recorder.record_call(
        untimed(sequence, 1, StageOp::Process, StageOutcome::Failed),
        0,
        0,
    );
    let mut refreshed = gate;
    refreshed.refresh(&recorder);
    assert!(gate.is_plain(sequence), "a stale gate still clears it");
    assert!(!refreshed.is_plain(sequence));
    assert!(recorder.classify(sequence).detailed);

    // Without unique paths the ring keeps every call: nothing skipped.
    let shared = TraceRecorder::new(TraceMode::Sampled, settings);
    assert!(!shared.gate().skips(StageOutcome::Emitted, 0));
    // Not sampling: the gate clears nothing.
    for mode in [TraceMode::Off, TraceMode::Full] {
        let gate = TraceRecorder::new(mode, settings).gate();
        assert!((0..1_000).all(|s| !gate.is_plain(s)), "{mode:?}");
        assert!(!gate.skips(StageOutcome::Emitted, 0), "{mode:?}");
    }
}

fn untimed(sequence: u64, node: u32, op: StageOp, outcome: StageOutcome) -> CallRecord {
    CallRecord {
        sequence,
        start_unix_ns: 0,
        duration_ns: 0,
        node,
        op,
        outcome,
    }
}

fn stages(recorder: &mut TraceRecorder) -> Vec<StageRecord> {
    let mut out = Vec::new();
    recorder.drain_into(&mut out);
    out.iter()
        .filter_map(|r| match r {
            TraceRecord::Stage(s) => Some(*s),
            _ => None,
        })
        .collect()
}

fn unsampled() -> TraceRecorder {
    let settings = TraceSettings {
        sample_rate: 0.0,
        ..TraceSettings::default()
    };
    TraceRecorder::new(TraceMode::Sampled, settings)
}

#[test]
fn with_unique_paths_routine_untimed_calls_skip_the_ring_and_others_do_not() {
    let mut recorder = unsampled();
    recorder.set_unique_paths(chain());
    recorder.record_call(untimed(1, 0, StageOp::Pull, StageOutcome::Emitted), 10, 0);
    recorder.record_call(
        untimed(1, 1, StageOp::Process, StageOutcome::Emitted),
        10,
        0,
    );
    recorder.record_call(
        untimed(1, 2, StageOp::Evaluate, StageOutcome::Passed),
        10,
        0,
    );
    recorder.record_call(untimed(1, 3, StageOp::Push, StageOutcome::Delivered), 10, 5);
    assert!(recorder.ring.iter().all(|r| r.sequence == FREE_SLOT));
    // A drop ends the element: the ring keeps it, as it keeps a timed call.
    recorder.record_call(
        untimed(2, 2, StageOp::Evaluate, StageOutcome::Dropped),
        10,
        0,
    );
    let mut timed = untimed(3, 1, StageOp::Process, StageOutcome::Emitted);
    timed.start_unix_ns = 20;
    timed.duration_ns = 7;
    recorder.record_call(timed, 10, 0);
    let kept: Vec<u64> = recorder
        .ring
        .iter()
        .map(|r| r.sequence)
        .filter(|&s| s != FREE_SLOT)
        .collect();
    assert_eq!(kept, vec![2, 3]);
    assert!(stages(&mut recorder).is_empty(), "nothing promoted");
}

#[test]
fn a_promotion_on_a_unique_path_rebuilds_the_upstream_calls() {
    let mut recorder = unsampled();
    recorder.set_unique_paths(chain());
    let element_ns = 1_000;
    recorder.record_call(
        untimed(4, 0, StageOp::Pull, StageOutcome::Emitted),
        element_ns,
        0,
    );
    recorder.record_call(
        untimed(4, 1, StageOp::Process, StageOutcome::Emitted),
        element_ns,
        0,
    );
    recorder.record_call(
        untimed(4, 2, StageOp::Evaluate, StageOutcome::Failed),
        element_ns,
        0,
    );
    let exported = stages(&mut recorder);
    let calls: Vec<(u32, StageOp, StageOutcome)> =
        exported.iter().map(|s| (s.node, s.op, s.outcome)).collect();
    assert_eq!(
        calls,
        vec![
            (0, StageOp::Pull, StageOutcome::Emitted),
            (1, StageOp::Process, StageOutcome::Emitted),
            (2, StageOp::Evaluate, StageOutcome::Failed),
        ]
    );
    assert!(exported.iter().all(|s| s.sequence == 4 && !s.measured));
    assert!(exported[..2]
        .iter()
        .all(|s| s.start_unix_ns == element_ns && s.element_timestamp_ns == element_ns));
    assert!(recorder.is_detailed(4), "its later calls are detailed");
}

#[test]
fn a_promotion_exports_timed_upstream_calls_from_the_ring_and_rebuilds_only_the_rest() {
    let mut recorder = unsampled();
    recorder.set_unique_paths(chain());
    let mut timed = untimed(9, 1, StageOp::Process, StageOutcome::Emitted);
    timed.start_unix_ns = 2_000;
    timed.duration_ns = 300;
    recorder.record_call(timed, 1_000, 0);
    // The delivery is slow: the element is promoted.
    recorder.record_call(
        untimed(9, 3, StageOp::Push, StageOutcome::Delivered),
        1_000,
        20_000_000,
    );
    let exported = stages(&mut recorder);
    let nodes: Vec<u32> = exported.iter().map(|s| s.node).collect();
    assert_eq!(
        nodes,
        vec![1, 0, 2, 3],
        "the ring's, then the rebuilt, then the call"
    );
    assert!(exported[0].measured && exported[0].duration_ns == 300);
    assert!(exported[1..3].iter().all(|s| !s.measured));
    assert_eq!(
        exported[3].start_unix_ns,
        1_000 + 20_000_000,
        "at the delivery"
    );
}

#[test]
fn without_unique_paths_a_promotion_exports_only_what_the_ring_holds() {
    let mut recorder = unsampled();
    recorder.record_call(
        untimed(4, 1, StageOp::Process, StageOutcome::Emitted),
        10,
        0,
    );
    recorder.record_call(
        untimed(4, 2, StageOp::Evaluate, StageOutcome::Failed),
        10,
        0,
    );
    let nodes: Vec<u32> = stages(&mut recorder).iter().map(|s| s.node).collect();
    assert_eq!(nodes, vec![1, 2]);
}

#[test]
fn error_promotion_can_be_turned_off() {
    let settings = TraceSettings {
        sample_rate: 0.0,
        error_promote: false,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
    recorder.record_stage(call(7, 5, StageOutcome::Failed, false));
    assert!(sequences(&mut recorder).is_empty());
}

#[test]
fn a_full_export_buffer_counts_drops_instead_of_growing() {
    let settings = TraceSettings {
        export_capacity: 2,
        ..TraceSettings::default()
    };
    let mut recorder = TraceRecorder::new(TraceMode::Full, settings);
    for s in 0..5 {
        recorder.record_stage(call(s, 5, StageOutcome::Emitted, true));
    }
    assert_eq!(recorder.dropped(), 3);
    assert_eq!(sequences(&mut recorder), vec![0, 1]);
    recorder.record_stage(call(9, 5, StageOutcome::Emitted, true));
    assert_eq!(sequences(&mut recorder), vec![9]);
}

#[test]
fn draining_into_an_empty_buffer_swaps_and_into_a_full_one_appends() {
    let mut recorder = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
    recorder.record_stage(call(1, 5, StageOutcome::Emitted, true));
    let mut spare = Vec::with_capacity(64);
    let spare_memory = spare.as_ptr();
    recorder.drain_into(&mut spare);
    assert_eq!(spare.len(), 1);
    recorder.record_stage(call(2, 5, StageOutcome::Emitted, true));
    assert_eq!(
        recorder.export.as_ptr(),
        spare_memory,
        "the spare now takes records"
    );
    recorder.drain_into(&mut spare);
    let sequences: Vec<u64> = spare
        .iter()
        .filter_map(|r| match r {
            TraceRecord::Stage(s) => Some(s.sequence),
            _ => None,
        })
        .collect();
    assert_eq!(sequences, vec![1, 2], "appended, oldest first");
    assert_eq!(recorder.pending(), 0);
}

#[test]
fn events_are_kept_only_in_full_mode() {
    let event = TraceRecord::SinkPaused {
        node: 2,
        at_unix_ns: 5,
    };
    let mut sampled = TraceRecorder::new(TraceMode::Sampled, TraceSettings::default());
    sampled.record(event);
    let mut out = Vec::new();
    sampled.drain_into(&mut out);
    assert!(out.is_empty());
    let mut full = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
    full.record(event);
    full.drain_into(&mut out);
    assert_eq!(out, vec![event]);
}

#[test]
fn what_every_call_reads_fits_one_cache_line() {
    assert_eq!(std::mem::size_of::<PerCallFields>(), 64);
    assert_eq!(std::mem::align_of::<PerCallFields>(), 64);
    assert_eq!(std::mem::offset_of!(TraceRecorder, hot) % 64, 0);
}

#[test]
fn span_ids_are_stable_and_distinct() {
    let a = TraceContext {
        trace_id: [7; 16],
        root_span_id: [9; 8],
    };
    assert_eq!(a.span_id(1, 7), a.span_id(1, 7));
    assert_ne!(a.span_id(1, 7), a.span_id(2, 7));
    assert_ne!(a.span_id(1, 7), a.span_id(1, 8));
    assert_ne!(a.span_id(0, 0), a.root_span_id);
}

proptest! {
    /// The one-compare fast path of `classify` gives what the full
    /// rule gives: timed when the hash is in the lowest 16th, detailed
    /// when it is within the sample rate, for any seed and rate.
    #[test]
    fn classify_agrees_with_the_full_rule(
        sequence in any::<u64>(),
        seed in any::<u64>(),
        rate in prop_oneof![Just(0.0), Just(1.0), 0.0f64..1.0],
    ) {
        let settings = TraceSettings { sample_rate: rate, seed, ..TraceSettings::default() };
        let recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        let hash = (sequence ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let threshold = threshold_of(rate);
        let detailed = threshold > 0 && hash <= threshold;
        let timed_below = u64::MAX / PRODUCTION_TIMING_EVERY;
        let expected = CallClass { detailed, timed: detailed || hash < timed_below };
        prop_assert_eq!(recorder.classify(sequence), expected);
    }

    /// Whatever the order of calls, the ring never exports a record
    /// twice and never holds more than its capacity.
    #[test]
    fn promotion_exports_each_ring_record_once(
        calls in proptest::collection::vec((0u64..6, any::<bool>()), 0..200),
    ) {
        let settings = TraceSettings {
            sample_rate: 0.0,
            ring_capacity: 16,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        let mut recorded = 0usize;
        for (sequence, fail) in calls {
            let outcome = if fail { StageOutcome::Failed } else { StageOutcome::Emitted };
            recorder.record_stage(call(sequence, 5, outcome, false));
            recorded += 1;
            prop_assert!(recorder.ring.len() <= 16);
        }
        let exported = sequences(&mut recorder).len();
        prop_assert!(exported <= recorded);
    }
}
