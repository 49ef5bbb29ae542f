//! Packaging and distribution: components as OCI artifacts.
//!
//! - [`reference`]: `oci://HOST[:PORT]/REPO:TAG|@sha256:…` and publish
//!   targets.
//! - [`layout`]: the deterministic OCI image layout tar, digests.
//! - [`artifact`]: [`Artifact`], the CNCF Wasm OCI artifact with Torvyn's
//!   contracts layer and annotations; built, read back and validated.
//! - [`pack`]: `torvyn pack` for a project's components.
//! - [`credentials`]: registry credentials (environment, Docker config,
//!   credential helpers).
//! - [`registry`]: publish and pull with `oci-client`.
//! - [`signature`]: Ed25519 signatures (`--sign`, `[security] trusted_keys`).
//! - [`cache`]: the content-addressed cache of pulled components.
//! - [`pull`]: a node's `oci://` component → a verified, cached .wasm.
//! - [`error`]: [`PackagingError`] (E0600–E0603).

pub mod artifact;
pub mod cache;
pub mod credentials;
pub mod error;
pub mod layout;
pub mod pack;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod signature;

pub use artifact::Artifact;
pub use cache::OciCache;
pub use error::PackagingError;
pub use pack::{pack_project, PackOptions, Packed};
pub use pull::{pull_component, PulledComponent};
pub use reference::{OciReference, RegistryTarget};
pub use registry::{publish, Published};
