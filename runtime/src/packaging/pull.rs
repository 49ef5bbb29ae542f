//! A node's `component = "oci://…"`: the component is pulled once into
//! the [`OciCache`], verified, and run from there. A tag is resolved to a
//! digest each time a flow starts (so a moved tag is noticed, and the
//! digest run is reported); when the registry cannot be reached the digest
//! the tag resolved to last time is used, so cached components run
//! offline.

use super::cache::OciCache;
use super::error::PackagingError;
use super::reference::{OciReference, Pin};
use super::registry;
use super::signature::trusted_keys;
use crate::assembly::Observer;
use crate::config::SecurityConfig;
use crate::security::{AuditKind, AuditLog, SecurityError};
use std::path::{Path, PathBuf};

/// A registry component ready to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledComponent {
    /// The reference as written.
    pub reference: OciReference,
    /// The manifest digest it resolved to (`sha256:<hex>`).
    pub digest: String,
    /// The verified .wasm in the cache.
    pub wasm: PathBuf,
    /// Whether it was fetched now (`false`: served from the cache).
    pub fetched: bool,
    /// The artifact it came in.
    pub artifact: super::Artifact,
}

/// Resolves `reference` to a cached, verified .wasm, pulling it if
/// needed; `observer` is told which digest runs.
pub fn pull_component(
    reference: &OciReference,
    cache: &OciCache,
    observer: &dyn Observer,
) -> Result<PulledComponent, PackagingError> {
    let digest = match &reference.pin {
        Pin::Digest(hex) => format!("sha256:{hex}"),
        Pin::Tag(_) => match registry::resolve_digest(reference) {
            Ok(digest) => digest,
            Err(e) if registry::is_unreachable(&e) => match cache.tagged(reference) {
                Some(digest) => {
                    observer.status(&format!(
                        "Registry unreachable; using the cached {reference} ({digest})"
                    ));
                    digest
                }
                None => return Err(e),
            },
            Err(e) => return Err(e),
        },
    };
    let (mut artifact, fetched) = match cache.load(&digest) {
        Some(artifact) => (artifact, false),
        None => {
            observer.status(&format!("Pulling {reference}"));
            let artifact = registry::pull(
                &reference.at_digest(digest.strip_prefix("sha256:").unwrap_or(&digest)),
            )?;
            (artifact, true)
        }
    };
    if fetched {
        cache.store(&artifact, reference)?;
    } else {
        // The blobs are there: only (re)record what the tag resolved to.
        cache.record_tag(reference, &digest)?;
    }
    if let Pin::Tag(tag) = &reference.pin {
        artifact.tag = Some(tag.clone());
    }
    observer.status(&format!(
        "Resolved {reference} → {digest} (component {})",
        artifact.wasm_digest()
    ));
    Ok(PulledComponent {
        reference: reference.clone(),
        digest,
        wasm: cache.blob_path(artifact.wasm_digest()),
        fetched,
        artifact,
    })
}

/// [`pull_component`] for node `node`'s `component = "oci://…"`, with the
/// cache of [`OciCache::from_env`]: what the component resolver calls.
/// When `security` lists trusted keys (relative to `root`), the artifact
/// must be signed by one of them (E0603).
pub fn pull_node(
    node: &str,
    reference: &str,
    root: &Path,
    security: &SecurityConfig,
    observer: &dyn Observer,
) -> Result<PathBuf, crate::assembly::ResolveError> {
    let registry_error = |error: PackagingError| crate::assembly::ResolveError::Registry {
        node: node.to_string(),
        error: Box::new(error),
    };
    let reference = OciReference::parse(reference).map_err(|e| registry_error(e.into()))?;
    let trusted = trusted_keys(root, &security.trusted_keys).map_err(registry_error)?;
    let cache = OciCache::from_env();
    let pulled = pull_component(&reference, &cache, observer).map_err(registry_error)?;
    if !trusted.is_empty() {
        match verify_signature(&pulled, &cache, &trusted) {
            Ok(key) => observer.status(&format!("Verified {reference}: signed by {key}")),
            Err(error) => {
                // A refusal is a security event: it is audited before the
                // run stops.
                AuditLog::for_project(root, security)
                    .record(
                        AuditKind::SignatureRefusal,
                        node,
                        &reference.to_string(),
                        &format!("manifest {}: {error}", pulled.digest),
                    )
                    .map_err(|e| crate::assembly::ResolveError::Audit {
                        node: node.to_string(),
                        error: Box::new(e),
                    })?;
                return Err(registry_error(error));
            }
        }
    }
    Ok(pulled.wasm)
}

/// Checks `pulled` against `trusted`. A cached artifact whose cached
/// signatures do not verify is checked again against the signatures the
/// registry holds now (it may have been signed since it was cached).
fn verify_signature(
    pulled: &PulledComponent,
    cache: &OciCache,
    trusted: &[super::signature::TrustedKey],
) -> Result<String, PackagingError> {
    let first = pulled.artifact.verify(trusted);
    if first.is_ok() || pulled.fetched {
        return first;
    }
    let Ok(signatures) = registry::signatures(&pulled.reference, &pulled.digest) else {
        return first;
    };
    cache.store_signatures(&pulled.digest, &signatures)?;
    let mut artifact = pulled.artifact.clone();
    artifact.signatures = signatures;
    artifact.verify(trusted)
}

/// The whole artifact `reference` names (`torvyn inspect oci://…`),
/// through the cache like a node's component.
pub fn fetch_artifact(
    reference: &OciReference,
    cache: &OciCache,
    observer: &dyn Observer,
) -> Result<super::Artifact, PackagingError> {
    pull_component(reference, cache, observer).map(|pulled| pulled.artifact)
}

/// One `component-resolution` audit record for node `node`, whose
/// component is `reference` (`oci://…`) and resolved to `wasm` in the
/// cache: which manifest digest (the tag's, as last resolved) and which
/// component digest run. Other references record nothing.
pub fn audit_resolution(
    audit: &AuditLog,
    node: &str,
    reference: &str,
    wasm: &Path,
) -> Result<(), SecurityError> {
    let Ok(parsed) = OciReference::parse(reference) else {
        return Ok(());
    };
    let manifest = match &parsed.pin {
        Pin::Digest(hex) => Some(format!("sha256:{hex}")),
        Pin::Tag(_) => OciCache::from_env().tagged(&parsed),
    };
    let component = wasm
        .file_name()
        .map(|hex| format!("sha256:{}", hex.to_string_lossy()))
        .unwrap_or_default();
    audit.record(
        AuditKind::ComponentResolution,
        node,
        reference,
        &format!(
            "manifest {} component {component}",
            manifest.as_deref().unwrap_or("unknown")
        ),
    )
}
