//! End-to-end tests: the real `torvyn` binary against real Wasm components.
//! One file per behaviour; `harness` holds the shared plumbing.

mod backpressure;
mod bad_input;
mod bench;
mod build;
mod capabilities;
mod check;
mod completions;
mod component_cache;
mod connectors;
mod contract_evolution;
mod copy_ledger;
mod diagnostics;
mod doctor;
mod error_codes;
mod examples;
mod flow_context;
mod flow_restart;
mod fuzz_bodies;
mod harness;
mod hello_world;
mod hostile_guests;
mod init;
mod inspect;
mod inspect_component;
mod link;
mod nats;
mod otlp;
mod process_errors;
mod python;
mod registry;
mod run_output;
mod serve;
mod topologies;
mod trace;
mod tutorials;
