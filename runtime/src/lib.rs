//! Torvyn runtime core: everything that runs a flow, synchronously and
//! without actors — configuration, the resource manager, the Wasmtime
//! host and the stage loop.

#![deny(missing_docs)]

pub mod assembly;
pub mod config;
pub mod connectors;
pub mod contracts;
pub mod custom_metrics;
mod dag;
pub mod engine;
pub mod error;
pub mod flow_config;
mod interface_ref;
pub mod packaging;
pub mod reactor;
pub mod resources;
pub mod security;
pub mod topology;
pub mod trace_context;
