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
    let run = run_with("infinite-loop", &[]);
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
