//! Embedding Torvyn: load a Torvyn.toml, start one of its flows on a host,
//! pause it, look inside, resume it, wait for it and print its report —
//! the same flow `torvyn run` would run, driven from plain Rust.
//!
//! ```text
//! cd examples/embedding && cargo run --release [-- MANIFEST [FLOW]]
//! ```
//!
//! Defaults: `../hello-world/Torvyn.toml`, flow `main`. The hello-sink's
//! lines go to stdout (the guests print through the host); the report
//! follows as JSON.

use std::process::ExitCode;
use std::time::Duration;
use torvyn_actors::{FlowState, TorvynHost};
use torvyn_runtime::assembly::Project;
use torvyn_runtime::error::Coded;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let manifest = args
        .next()
        .unwrap_or_else(|| "../hello-world/Torvyn.toml".into());
    let flow = args.next().unwrap_or_else(|| "main".into());
    match run(&manifest, &flow) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            for d in error.diagnostics() {
                eprintln!("error[{}]: {}", d.code, d.message);
                if let Some(location) = &d.location {
                    eprintln!("  at {location}");
                }
                eprintln!("  help: {}", d.help);
            }
            ExitCode::FAILURE
        }
    }
}

fn run(manifest: &str, flow: &str) -> Result<(), Box<dyn Coded>> {
    // The project: Torvyn.toml with its configuration layers.
    let project = Project::load(manifest).map_err(boxed)?;
    // A host with the project's [runtime] and [observability] settings.
    let host = TorvynHost::builder()
        .project(&project)
        .build()
        .map_err(boxed)?;
    // Plan the flow (components built when stale, checked and linked) and
    // start it suspended, so that it can be inspected before it runs.
    let plan = host.plan(&project, Some(flow)).map_err(boxed)?;
    let id = host
        .start_flow(torvyn_actors::FlowSpec::from_plan(plan).suspended())
        .map_err(boxed)?;
    while host.inspect(id).map_err(boxed)?.state != FlowState::Suspended {
        std::thread::sleep(Duration::from_millis(1));
    }
    let inspection = host.inspect(id).map_err(boxed)?;
    eprintln!(
        "{} '{}' is {:?} on worker {} ({} elements delivered so far)",
        inspection.id,
        inspection.name,
        inspection.state,
        inspection.arbiter,
        inspection.counters.elements_delivered
    );
    host.resume(id).map_err(boxed)?;
    let report = host.await_completion(id).map_err(boxed)?;
    host.shutdown();
    eprintln!(
        "Flow '{}' completed: {} elements delivered, {} copies.",
        report.flow, report.elements_delivered, report.payload_copies.operations
    );
    println!("{}", report.to_json());
    Ok(())
}

fn boxed<E: Coded + 'static>(error: E) -> Box<dyn Coded> {
    Box::new(error)
}
