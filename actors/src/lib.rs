//! Torvyn's actor layer: concurrency, lifecycle and supervision around the
//! synchronous runtime core.
//!
//! ```text
//! Supervisor (root)                      system arbiter (host thread)
//! ├── ResourceActor                      global buffer budget, leak checks at teardown
//! ├── CapabilityActor                    grant decisions, audit log
//! ├── ObservabilityActor                 counter snapshots, lifecycle events, subscribers
//! └── FlowActor (one per flow)           on one of N worker arbiters, least-loaded
//! ```
//!
//! A [`FlowActor`](flow::FlowActor) owns its flow (every Wasmtime `Store`)
//! and drives it in batches (32 elements or 100 µs by default, scaled by
//! [`Priority`]); between two batches it yields to its arbiter, so control
//! messages (pause, resume, cancel, inspect) and the other flows on that
//! thread run. Nothing is sent per element: counters are pre-allocated
//! atomics ([`FlowCounters`]) written once per batch, and lifecycle events
//! travel in batches over a bounded channel that counts what it drops.
//!
//! Outside code talks to all of it through [`TorvynHost`] /
//! [`TorvynHandle`], a synchronous API (no async runtime needed by the
//! caller).
//!
//! # Example
//!
//! ```no_run
//! use torvyn_actors::{FlowSpec, TorvynHost};
//! use torvyn_runtime::engine::{EngineConfig, WasmEngine};
//! use torvyn_runtime::reactor::{StageRole, StageSpec};
//!
//! let engine = WasmEngine::new(EngineConfig::default())?;
//! let stage = |name: &str, path: &str, role, config: &str| -> Result<StageSpec, Box<dyn std::error::Error>> {
//!     Ok(StageSpec {
//!         name: name.into(),
//!         component: engine.load_component(std::path::Path::new(path))?,
//!         role,
//!         config: config.into(),
//!         sandbox: Default::default(),
//!     })
//! };
//! let host = TorvynHost::builder().engine(engine.clone()).worker_threads(2).build()?;
//! let id = host.start_flow(FlowSpec::new(vec![
//!     stage("source", "counter_source.wasm", StageRole::Source, r#"{"count": 100}"#)?,
//!     stage("sink", "quiet_sink.wasm", StageRole::Sink, "")?,
//! ]))?;
//! let report = host.await_completion(id)?;
//! assert_eq!(report.elements_delivered, 100);
//! host.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A complete, runnable version of this example that builds the test
//! components is `actors/tests/run_to_completion.rs`.

#![deny(missing_docs)]

pub mod capability;
pub mod counters;
pub mod error;
pub mod events;
pub mod flow;
pub mod host;
pub mod ids;
pub mod observability;
pub mod resource;
pub mod state;
pub mod supervisor;

pub use counters::{CounterSnapshot, FlowCounters};
pub use error::HostError;
pub use events::{FlowEvent, FlowEventKind};
pub use flow::{BatchPolicy, FlowInspection, FlowSpec, Priority, Topology};
pub use host::{TorvynHandle, TorvynHost, TorvynHostBuilder};
pub use ids::FlowId;
pub use state::{FlowState, InvalidTransition};
