//! One road from a Torvyn.toml to a flow ready to start, for the CLI and
//! for programs that embed Torvyn alike:
//!
//! ```text
//! Project::load ─▶ plan_flow ─▶ FlowPlan ─▶ (actors) TorvynHandle::start_plan
//!   config layers    graph (E0203), components (file://, named
//!                    [[component]] built when stale), check + link,
//!                    components loaded, settings mapped
//! ```
//!
//! - [`project`]: the loaded manifest and where it lives.
//! - [`check`]: `torvyn check`'s static validation of a project.
//! - [`components`]: a node's `component` → a .wasm file or a built-in
//!   connector.
//! - [`toolchains`]: how a `[[component]]` is built, by its `language`,
//!   and where its .wasm lands.
//! - [`endpoints`]: a source and a sink attached where a flow has none;
//!   `--input` / `--output` replacing them.
//! - [`plan`]: [`FlowPlan`], which only [`plan_flow`] builds.
//! - [`error`]: [`AssemblyError`], every diagnostic of a failed step.

pub mod check;
pub mod components;
pub mod endpoints;
pub mod error;
pub mod plan;
pub mod project;
pub mod toolchains;

pub use components::{ComponentResolver, NodeComponent, ResolveError};
pub use endpoints::{complete_flow, EndpointOverride, Endpoints};
pub use error::AssemblyError;
pub use plan::{plan_flow, plan_flow_with, FlowPlan};
pub use project::Project;
pub use toolchains::{artifact_path, build_component, Profile};

/// Where assembly reports what it is doing (building a component,
/// validating, linking): `torvyn run` prints these lines; embedders may
/// log or ignore them.
pub trait Observer {
    /// One progress line.
    fn status(&self, line: &str);

    /// One detail line (shown with `--verbose`).
    fn detail(&self, _line: &str) {}
}

/// An [`Observer`] that ignores every line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn status(&self, _: &str) {}
}
