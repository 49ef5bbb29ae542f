//! Torvyn's actor layer: concurrency, lifecycle and supervision around the
//! synchronous runtime core.
//!
//! ```text
//! Supervisor (root)                      system arbiter (host thread)
//! ├── ResourceActor                      global buffer budget, leak checks at teardown
//! ├── CapabilityActor                    grant decisions, audit log
//! ├── ObservabilityActor                 counter snapshots, lifecycle events, subscribers
//! └── FlowSupervisor (one per flow)      the flow's restart policy; escalates to the root
//!     └── FlowActor (one per run)        on one of N worker arbiters, least-loaded
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
//! Start a host, run a two-stage flow, pause it, look inside, resume it and
//! wait for its report (this example runs as a doctest; its two components
//! are the test guests of `examples/test-components`):
//!
//! ```
//! use std::path::Path;
//! use torvyn_actors::{FlowSpec, FlowState, TorvynHost};
//! use torvyn_runtime::engine::{EngineConfig, WasmEngine};
//! use torvyn_runtime::reactor::{StageRole, StageSpec};
//! # let counter_source = torvyn_e2e::test_component("counter-source");
//! # let quiet_sink = torvyn_e2e::test_component("quiet-sink");
//!
//! // One engine per process: it compiles and caches the components.
//! let engine = WasmEngine::new(EngineConfig::default())?;
//! let stage = |name: &str, wasm: &Path, role, config: &str| -> Result<StageSpec, Box<dyn std::error::Error>> {
//!     Ok(StageSpec {
//!         name: name.into(),
//!         component: engine.load_component(wasm)?.into(),
//!         role,
//!         config: config.into(),
//!         sandbox: Default::default(),
//!         scheduling: Default::default(),
//!     })
//! };
//! let host = TorvynHost::builder().engine(engine.clone()).worker_threads(2).build()?;
//!
//! // A flow that starts suspended, so that it can be inspected before it runs.
//! let id = host.start_flow(
//!     FlowSpec::new(vec![
//!         stage("source", &counter_source, StageRole::Source, r#"{"count": 100}"#)?,
//!         stage("sink", &quiet_sink, StageRole::Sink, "")?,
//!     ])
//!     .suspended(),
//! )?;
//! while host.inspect(id)?.state != FlowState::Suspended {
//!     std::thread::yield_now();
//! }
//! let inspection = host.inspect(id)?;
//! assert_eq!(inspection.counters.elements_delivered, 0);
//!
//! host.resume(id)?;
//! let report = host.await_completion(id)?;
//! assert_eq!(report.elements_delivered, 100);
//! assert_eq!(host.inspect(id)?.state, FlowState::Completed);
//! host.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! More: `actors/tests/all/` (pause / resume / cancel mid-flow, lifecycle
//! events, 1,000 concurrent flows).

#![deny(missing_docs)]

pub mod capability;
pub mod counters;
pub mod error;
pub mod events;
pub mod flow;
pub mod flow_supervisor;
pub mod host;
pub mod ids;
pub mod inspection;
pub mod observability;
pub mod resource;
pub mod state;
pub mod supervisor;
pub mod trace;

pub use counters::{CounterSnapshot, FlowCounters};
pub use error::HostError;
pub use events::{FlowEvent, FlowEventKind};
pub use flow::{ActorFault, BatchPolicy, FlowInspection, FlowSpec, Priority};
pub use host::{TorvynHandle, TorvynHost, TorvynHostBuilder};
pub use ids::{FlowId, ReplicaOf};
pub use inspection::{InspectionAddress, InspectionConfig, InspectionServer};
pub use observability::level::LevelSwitch;
pub use observability::metrics_push::{MetricsPushConfig, MetricsPusher};
pub use state::{FlowState, InvalidTransition};
pub use supervisor::CancelBounds;
pub use trace::{
    FlowTraceInfo, SpanConsumer, TraceBatch, TraceBatchKind, TraceConsumer, TraceHub,
    TracePublisher, TraceReceiver, TraceStats,
};
