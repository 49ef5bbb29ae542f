//! Contracts: the WIT a project writes and the WIT its compiled
//! components carry, and whether they fit.
//!
//! - [`wit_dir`]: parsing a project's `wit/` with `wit-parser` (E0100, E0101).
//! - [`world`]: world consistency (E0102) and what a world imports.
//! - [`embedded`]: the world a compiled component embeds (`wit-component`).
//! - [`version`]: the spec's version rules (E0201) and deprecations (E0110).
//! - [`compat`]: the structural check, naming what is missing (E0200).
//! - [`graph`]: the flow graph as a DAG with consistent roles (E0203).
//! - [`ports`]: router ports the manifest alone can judge (E0204).
//! - [`host`]: the contract the runtime implements.
//! - [`link`]: `torvyn link` (and the check `torvyn run` makes first).
//! - [`profile`]: what a compiled component is (`torvyn inspect`).

// Checks run once per command and their errors carry names, versions and
// locations; their size does not matter, their detail does.
#![allow(clippy::result_large_err)]

pub mod compat;
pub mod embedded;
mod error;
pub mod graph;
pub mod host;
pub mod link;
pub mod ports;
pub mod profile;
pub mod version;
pub mod wit_dir;
pub mod world;

pub use crate::interface_ref::InterfaceRef;
pub use embedded::ComponentContract;
pub use error::ContractError;
pub use link::{link_flow, LinkError, LinkErrors, LinkInput, LinkedFlow, LinkedNode};
