//! Hostile guests are stopped by the sandbox and reported with their codes;
//! the host never hangs or crashes. Each hostile element is stopped, the
//! component restarted (default supervision: permanent, 3 restarts in 5 s),
//! and the fourth failure escalates: the flow fails with the sandbox's
//! code (exit 1).

use crate::harness::{component, Project, PROCESSOR, SINK, SOURCE};

fn run_with(processor: &str, extra: &[&str]) -> crate::harness::Run {
    let source = component("counter-source");
    let hostile = component(processor);
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 10}"#),
        ("hostile", &hostile, PROCESSOR, r#"{"at": 2}"#),
        ("sink", &sink, SINK, ""),
    ]);
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    project.run(&args)
}

/// An infinite loop exhausts the per-invocation fuel: E0401.
#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let run = run_with(
        "infinite-loop",
        &["--config", "runtime.fuel_per_invocation=1000000"],
    );
    run.expect_code(1).expect_error("E0401");
    assert!(run.stderr.contains("fuel"), "{}", run.stderr);
}

/// Unbounded memory growth hits the per-component memory limit: E0310.
#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let run = run_with(
        "memory-bomb",
        &[
            "--config",
            "runtime.max_memory_per_component=\"8MiB\"",
            "--config",
            "runtime.fuel_per_invocation=0",
        ],
    );
    run.expect_code(1).expect_error("E0310");
}

/// Unbounded recursion overflows the Wasm stack and is stopped.
#[test]
fn deep_recursion_overflows_the_stack() {
    let run = run_with(
        "deep-recursion",
        &["--config", "runtime.fuel_per_invocation=0"],
    );
    run.expect_code(1).expect_error("E0501");
    assert!(run.stderr.contains("stack"), "{}", run.stderr);
}

/// Under the default settings (no fuel) the epoch deadline stops an
/// infinite loop at `max_invocation_time_ms` (1000 ms): E0401 naming the key.
#[test]
fn an_infinite_loop_is_stopped_by_the_default_deadline() {
    let run = run_with("infinite-loop", &[]);
    run.expect_code(1).expect_error("E0401");
    assert!(
        run.stderr
            .contains("1000 ms deadline ([runtime] max_invocation_time_ms)"),
        "{}",
        run.stderr
    );
}

/// With fuel explicitly off, a shorter epoch deadline stops an infinite
/// loop: E0401 naming the key and the function.
#[test]
fn an_infinite_loop_is_stopped_by_the_epoch_deadline() {
    let run = run_with(
        "infinite-loop",
        &[
            "--config",
            "runtime.fuel_per_invocation=0",
            "--config",
            "runtime.max_invocation_time_ms=50",
        ],
    );
    run.expect_code(1).expect_error("E0401");
    assert!(
        run.stderr.contains("max_invocation_time_ms") && run.stderr.contains("`process`"),
        "{}",
        run.stderr
    );
}

fn run_looping_in(place: &str, extra: &[&str]) -> crate::harness::Run {
    let source = component("counter-source");
    let hostile = component("infinite-loop");
    let sink = component("quiet-sink");
    let config = format!(r#"{{"in": "{place}"}}"#);
    let project = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 5}"#),
        ("hostile", &hostile, PROCESSOR, &config),
        ("sink", &sink, SINK, ""),
    ]);
    let mut args = vec!["run", "--config", "runtime.fuel_per_invocation=0"];
    args.extend_from_slice(extra);
    project.run(&args)
}

/// An init that never returns is interrupted at `component_init_timeout_ms`:
/// E0401 naming init and the key; the flow never starts.
#[test]
fn an_init_past_its_timeout_fails_with_e0401() {
    let run = run_looping_in(
        "init",
        &["--config", "runtime.component_init_timeout_ms=100"],
    );
    run.expect_code(1).expect_error("E0401");
    assert!(
        run.stderr.contains("`init`") && run.stderr.contains("component_init_timeout_ms"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("[quiet-sink]"), "{}", run.stdout);
}

/// A teardown that never returns is interrupted at
/// `component_teardown_timeout_ms`, logged, and the instance dropped: the
/// flow still completes and the host exits normally.
#[test]
fn a_teardown_past_its_timeout_is_logged_and_dropped() {
    let run = run_looping_in(
        "teardown",
        &["--config", "runtime.component_teardown_timeout_ms=100"],
    );
    run.expect_code(0);
    assert!(
        run.stdout.contains("[quiet-sink] received=5 "),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("teardown failed")
            && run.stderr.contains("component_teardown_timeout_ms"),
        "{}",
        run.stderr
    );
}
