//! [`PackagingError`]: everything packing, publishing and pulling can
//! report, with the spec's packaging codes (E0600–E0603).

use super::reference::ReferenceError;
use crate::assembly::ResolveError;
use crate::error::{Coded, ErrorCode};
use std::path::PathBuf;

/// A packaging, publishing or pulling failure.
#[derive(Debug, thiserror::Error)]
pub enum PackagingError {
    /// The artifact (a tar, or what a registry returned) is not a valid
    /// Torvyn component artifact.
    #[error("{what} is not a valid component artifact: {reason}")]
    ArtifactInvalid {
        /// The file or reference.
        what: String,
        /// Why.
        reason: String,
    },
    /// Reading or writing a local file failed.
    #[error("cannot {action} {}: {reason}", path.display())]
    Io {
        /// `read`, `write`, …
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A malformed reference or registry.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// No `--registry` and no `[registry] default`.
    #[error("no registry to publish to")]
    NoRegistry,
    /// The registry refused the credentials (or asked for some).
    #[error("authentication with registry `{registry}` failed: {reason}")]
    AuthFailed {
        /// `HOST[:PORT]`.
        registry: String,
        /// What the registry said.
        reason: String,
    },
    /// The tag already exists and `--force` was not given.
    #[error("{reference} already exists (manifest {digest})")]
    TagExists {
        /// The reference pushed to.
        reference: String,
        /// The digest the tag points at now.
        digest: String,
    },
    /// Uploading a blob or the manifest failed.
    #[error("pushing {reference} failed: {reason}")]
    PushFailed {
        /// The reference pushed to.
        reference: String,
        /// Why.
        reason: String,
    },
    /// Fetching a component from a registry failed, and no cached copy
    /// could stand in.
    #[error("cannot pull {reference}: {reason}")]
    PullFailed {
        /// The reference.
        reference: String,
        /// Why.
        reason: String,
    },
    /// Content from a registry or the cache does not match its digest.
    #[error("{what} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was checked.
        what: String,
        /// The digest it should have.
        expected: String,
        /// The digest it has.
        actual: String,
    },
    /// `--component` names no `[[component]]` (or there is none).
    #[error("{}", unknown_component(name))]
    UnknownComponent {
        /// The name asked for (empty: none was, and none is declared).
        name: String,
        /// Declared component names.
        declared: Vec<String>,
    },
    /// The component could not be located or built.
    #[error(transparent)]
    Resolve(Box<ResolveError>),
    /// Signing failed (no key, an unreadable or non-Ed25519 key).
    #[error("artifact signing failed: {reason}")]
    Signing {
        /// Why.
        reason: String,
    },
    /// `[security] trusted_keys` is set and the artifact is not signed by
    /// one of them.
    #[error("{what} is not signed by a trusted key: {reason}")]
    Unverified {
        /// The artifact.
        what: String,
        /// Why.
        reason: String,
    },
}

fn unknown_component(name: &str) -> String {
    if name.is_empty() {
        "the manifest declares no [[component]] to pack".into()
    } else {
        format!("no component named `{name}` is declared in Torvyn.toml")
    }
}

impl Coded for PackagingError {
    fn location(&self) -> Option<String> {
        match self {
            PackagingError::Resolve(e) => e.location(),
            _ => None,
        }
    }

    fn code(&self) -> ErrorCode {
        match self {
            PackagingError::UnknownComponent { .. } => ErrorCode::ComponentNotFound,
            PackagingError::Resolve(e) => e.code(),
            PackagingError::ArtifactInvalid { .. }
            | PackagingError::Io { .. }
            | PackagingError::DigestMismatch { .. } => ErrorCode::ArtifactInvalid,
            PackagingError::Reference(_) | PackagingError::NoRegistry => {
                ErrorCode::ConstraintViolation
            }
            PackagingError::AuthFailed { .. } => ErrorCode::RegistryAuthFailed,
            PackagingError::TagExists { .. } | PackagingError::PushFailed { .. } => {
                ErrorCode::PushFailed
            }
            PackagingError::PullFailed { .. } => ErrorCode::ComponentNotFound,
            PackagingError::Signing { .. } | PackagingError::Unverified { .. } => {
                ErrorCode::SigningFailed
            }
        }
    }

    fn help(&self) -> String {
        match self {
            PackagingError::UnknownComponent { declared, .. } if declared.is_empty() => {
                "declare the component in a [[component]] table".into()
            }
            PackagingError::UnknownComponent { declared, .. } => {
                format!("declared components: {}", declared.join(", "))
            }
            PackagingError::Resolve(e) => e.help(),
            PackagingError::ArtifactInvalid { .. } => {
                "pack it again with `torvyn pack` (after `torvyn check` passes)".into()
            }
            PackagingError::Io { .. } => "check that the path exists and is writable".into(),
            PackagingError::Reference(_) => {
                "write `oci://HOST[:PORT]/REPOSITORY:TAG` or `oci://HOST[:PORT]/REPOSITORY@sha256:DIGEST`".into()
            }
            PackagingError::NoRegistry => {
                "pass --registry HOST[:PORT][/NAMESPACE], or set [registry] default in Torvyn.toml".into()
            }
            PackagingError::AuthFailed { .. } => {
                "check the credentials: `docker login HOST` (~/.docker/config.json, or $DOCKER_CONFIG), or TORVYN_REGISTRY_USERNAME and TORVYN_REGISTRY_PASSWORD".into()
            }
            PackagingError::TagExists { .. } => {
                "publish with another --tag (bump the version), or pass --force to move the tag".into()
            }
            PackagingError::PushFailed { .. } => {
                "check network connectivity and registry availability".into()
            }
            PackagingError::PullFailed { .. } => {
                "check that the registry is reachable and the reference exists; a component pulled once runs offline from the cache".into()
            }
            PackagingError::DigestMismatch { .. } => {
                "the content was altered in transit or in the cache; delete the cache entry and pull again".into()
            }
            PackagingError::Signing { .. } => {
                "set [security] signing_key to an Ed25519 private key in PEM (`openssl genpkey -algorithm ed25519 -out key.pem`)".into()
            }
            PackagingError::Unverified { .. } => {
                "publish it packed with `torvyn pack --sign` by a key whose public half is in [security] trusted_keys".into()
            }
        }
    }
}
