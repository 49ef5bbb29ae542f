//! End-to-end tests: the real `torvyn` binary against real Wasm components.
//! One file per behaviour; `harness` holds the shared plumbing.

mod bad_input;
mod component_cache;
mod copy_ledger;
mod harness;
mod hello_world;
mod hostile_guests;
mod process_errors;
