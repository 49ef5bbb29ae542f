//! Talking to an OCI distribution registry with `oci-client`: the client (plain HTTP only for a
//! loopback registry), publishing an [`Artifact`] (blobs, then the
//! manifest exactly as packed, so its digest does not change) and pulling
//! one back. The client is async; each operation runs on a short-lived
//! current-thread Tokio runtime of its own thread, so callers may be
//! synchronous or already inside another runtime (the actor system).

use super::artifact::{Artifact, MANIFEST_MEDIA_TYPE};
use super::credentials::credentials;
use super::error::PackagingError;
use super::layout::{digest_of, MAX_ENTRY_BYTES};
use super::reference::{OciReference, Pin};
use super::signature::{Signature, EMPTY_BLOB, SIGNATURE_ARTIFACT_TYPE};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{ImageIndexEntry, OciImageIndex};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// How a registry is accessed, for messages.
fn describe(auth: &RegistryAuth) -> &'static str {
    match auth {
        RegistryAuth::Anonymous => "anonymously",
        RegistryAuth::Basic(..) => "with a user name and password",
        RegistryAuth::Bearer(_) => "with a token",
    }
}

/// A client for `reference`'s registry: HTTPS, except plain HTTP for a
/// loopback registry (a local test or mirror registry has no certificate).
fn client_for(reference: &OciReference) -> Client {
    // rustls needs a process-wide crypto provider: ring (an error only
    // means one is installed already). rustls deprecates ring's provider
    // for lacking post-quantum key exchange; aws-lc-rs, which has it,
    // needs a C/CMake build a machine with only Rust may lack.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let _ = provider.install_default();
    let protocol = if reference.is_loopback() {
        ClientProtocol::HttpsExcept(vec![reference.registry.clone()])
    } else {
        ClientProtocol::Https
    };
    Client::new(ClientConfig {
        protocol,
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(60)),
        ..ClientConfig::default()
    })
}

/// Runs `future` to completion on a runtime of its own thread.
fn block_on<F>(future: F) -> Result<F::Output, String>
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| runtime.block_on(future))
                    .map_err(|e| format!("cannot start the registry client: {e}"))
            })
            .join()
            .unwrap_or_else(|_| Err("the registry client panicked".into()))
    })
}

/// Whether the registry said "who are you" or "not you".
fn is_auth_error(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)),
        OciDistributionError::ServerError { code, .. } => *code == 401 || *code == 403,
        _ => false,
    }
}

/// Whether the registry says the manifest (or the repository) does not
/// exist.
fn is_not_found(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
            )
        }),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        _ => false,
    }
}

/// Whether the registry could not be reached at all (so a cached copy may
/// stand in).
pub(crate) fn is_unreachable(error: &PackagingError) -> bool {
    matches!(error, PackagingError::PullFailed { reason, .. } if reason.starts_with(UNREACHABLE))
}

const UNREACHABLE: &str = "the registry is unreachable";

/// The full message of `error` and its sources.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn auth_failed(
    reference: &OciReference,
    auth: &RegistryAuth,
    error: &OciDistributionError,
) -> PackagingError {
    PackagingError::AuthFailed {
        registry: reference.registry.clone(),
        reason: format!("access {} was refused ({})", describe(auth), chain(error)),
    }
}

fn pull_failed(
    reference: &OciReference,
    auth: &RegistryAuth,
    error: OciDistributionError,
) -> PackagingError {
    if is_auth_error(&error) {
        return auth_failed(reference, auth, &error);
    }
    let reason = match &error {
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
            format!("{UNREACHABLE} ({})", chain(&error))
        }
        _ if is_not_found(&error) => "the registry has no such manifest".to_string(),
        _ => chain(&error),
    };
    PackagingError::PullFailed {
        reference: reference.to_string(),
        reason,
    }
}

/// What [`publish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Where it went.
    pub reference: OciReference,
    /// The manifest digest.
    pub digest: String,
    /// Blobs uploaded.
    pub uploaded: usize,
    /// Blobs the registry already had.
    pub reused: usize,
    /// The digest the tag pointed at before (`--force`).
    pub replaced: Option<String>,
}

/// The digest `reference`'s tag points at, or `None` when it does not
/// exist.
async fn existing(
    client: &Client,
    reference: &OciReference,
    auth: &RegistryAuth,
) -> Result<Option<String>, PackagingError> {
    match client
        .fetch_manifest_digest(&reference.to_client(), auth)
        .await
    {
        Ok(digest) => Ok(Some(digest)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) if is_auth_error(&e) => Err(auth_failed(reference, auth, &e)),
        Err(e) => Err(PackagingError::PushFailed {
            reference: reference.to_string(),
            reason: chain(&e),
        }),
    }
}

/// Pushes `artifact` to `reference` (a tag): refuses an existing tag
/// unless `force`, uploads the blobs the registry lacks, then the
/// manifest byte for byte.
pub fn publish(
    artifact: &Artifact,
    reference: &OciReference,
    force: bool,
) -> Result<Published, PackagingError> {
    let auth = credentials(&reference.registry);
    let client = client_for(reference);
    let push_failed = |e: OciDistributionError| {
        if is_auth_error(&e) {
            auth_failed(reference, &auth, &e)
        } else {
            PackagingError::PushFailed {
                reference: reference.to_string(),
                reason: chain(&e),
            }
        }
    };
    let work = async {
        let image = reference.to_client();
        client
            .auth(&image, &auth, RegistryOperation::Push)
            .await
            .map_err(push_failed)?;
        let replaced = existing(&client, reference, &auth).await?;
        if let Some(digest) = &replaced {
            if !force {
                return Err(PackagingError::TagExists {
                    reference: reference.to_string(),
                    digest: digest.clone(),
                });
            }
        }
        let mut blobs = vec![(digest_of(&artifact.config), artifact.config.clone())];
        blobs.extend(
            artifact
                .layers
                .iter()
                .map(|l| (l.digest.clone(), l.bytes.clone())),
        );
        for signature in &artifact.signatures {
            blobs.push((digest_of(EMPTY_BLOB), EMPTY_BLOB.to_vec()));
            blobs.push((signature.content_digest(), signature.content.clone()));
        }
        let (mut uploaded, mut reused) = (0, 0);
        for (digest, bytes) in blobs {
            if client.blob_exists(&image, &digest).await.unwrap_or(false) {
                reused += 1;
                continue;
            }
            client
                .push_blob(&image, bytes, &digest)
                .await
                .map_err(push_failed)?;
            uploaded += 1;
        }
        client
            .push_manifest_raw(
                &image,
                artifact.manifest.clone(),
                http::HeaderValue::from_static(MANIFEST_MEDIA_TYPE),
            )
            .await
            .map_err(push_failed)?;
        for signature in &artifact.signatures {
            push_signature(&client, reference, &auth, &artifact.digest, signature)
                .await
                .map_err(push_failed)?;
        }
        Ok(Published {
            reference: reference.clone(),
            digest: artifact.digest.clone(),
            uploaded,
            reused,
            replaced: replaced.filter(|d| *d != artifact.digest),
        })
    };
    block_on(work).map_err(|reason| PackagingError::PushFailed {
        reference: reference.to_string(),
        reason,
    })?
}

/// `reference`'s repository at manifest `digest`.
fn at_digest(reference: &OciReference, digest: &str) -> oci_client::Reference {
    oci_client::Reference::with_digest(
        reference.registry.clone(),
        reference.repository.clone(),
        digest.to_string(),
    )
}

/// The referrers tag schema's tag for manifest `digest`
/// (`sha256-<hex>`), for registries without the referrers API.
fn referrers_tag(reference: &OciReference, digest: &str) -> oci_client::Reference {
    oci_client::Reference::with_tag(
        reference.registry.clone(),
        reference.repository.clone(),
        digest.replace(':', "-"),
    )
}

const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// Pushes `signature` (its blobs are there already) by digest, and lists
/// it in the referrers tag schema's index of its subject. A registry with
/// the referrers API lists it from its `subject` by itself; the tag
/// serves the others (Docker's distribution 2.x among them).
async fn push_signature(
    client: &Client,
    reference: &OciReference,
    auth: &RegistryAuth,
    subject: &str,
    signature: &Signature,
) -> Result<(), OciDistributionError> {
    client
        .push_manifest_raw(
            &at_digest(reference, &signature.digest),
            signature.manifest.clone(),
            http::HeaderValue::from_static(MANIFEST_MEDIA_TYPE),
        )
        .await?;
    let tag = referrers_tag(reference, subject);
    let mut index = match client
        .pull_manifest_raw(&tag, auth, &[INDEX_MEDIA_TYPE])
        .await
    {
        Ok((bytes, _)) => serde_json::from_slice::<OciImageIndex>(&bytes).map_err(|e| {
            OciDistributionError::ManifestParsingError(format!(
                "the referrers index of {subject}: {e}"
            ))
        })?,
        Err(e) if is_not_found(&e) => OciImageIndex {
            schema_version: 2,
            media_type: Some(INDEX_MEDIA_TYPE.into()),
            manifests: Vec::new(),
            artifact_type: None,
            annotations: None,
        },
        Err(e) => return Err(e),
    };
    if index.manifests.iter().any(|m| m.digest == signature.digest) {
        return Ok(());
    }
    index.manifests.push(ImageIndexEntry {
        media_type: MANIFEST_MEDIA_TYPE.into(),
        digest: signature.digest.clone(),
        size: signature.manifest.len() as i64,
        platform: None,
        annotations: None,
        artifact_type: Some(SIGNATURE_ARTIFACT_TYPE.into()),
    });
    let bytes = serde_json::to_vec(&index).map_err(OciDistributionError::JsonError)?;
    client
        .push_manifest_raw(
            &tag,
            bytes,
            http::HeaderValue::from_static(INDEX_MEDIA_TYPE),
        )
        .await?;
    Ok(())
}

/// The signatures of manifest `digest` in `reference`'s repository (the
/// referrers API, or the referrers tag schema), each checked against its
/// digests.
async fn fetch_signatures(
    client: &Client,
    reference: &OciReference,
    auth: &RegistryAuth,
    digest: &str,
) -> Result<Vec<Signature>, PackagingError> {
    let what = reference.to_string();
    let failed = |e| pull_failed(reference, auth, e);
    let index = client
        .pull_referrers(&at_digest(reference, digest), Some(SIGNATURE_ARTIFACT_TYPE))
        .await
        .map_err(failed)?;
    let mut signatures = Vec::new();
    for entry in index.manifests {
        let image = at_digest(reference, &entry.digest);
        let (manifest, _) = client
            .pull_manifest_raw(&image, auth, &[MANIFEST_MEDIA_TYPE])
            .await
            .map_err(failed)?;
        let manifest = manifest.to_vec();
        if digest_of(&manifest) != entry.digest {
            return Err(PackagingError::DigestMismatch {
                what: format!("a signature manifest of {what}"),
                expected: entry.digest,
                actual: digest_of(&manifest),
            });
        }
        let parsed: serde_json::Value =
            serde_json::from_slice(&manifest).unwrap_or(serde_json::Value::Null);
        let layer = parsed["layers"][0]["digest"].as_str().unwrap_or_default();
        let mut content = Vec::new();
        if !layer.is_empty() {
            client
                .pull_blob(&image, layer, &mut content)
                .await
                .map_err(failed)?;
        }
        signatures.push(Signature::assemble(&what, manifest, |_| {
            Ok(content.clone())
        })?);
    }
    Ok(signatures)
}

/// The signatures of manifest `digest` that `reference`'s registry holds
/// now (to check a cached artifact against a key trusted since).
pub fn signatures(
    reference: &OciReference,
    digest: &str,
) -> Result<Vec<Signature>, PackagingError> {
    let auth = credentials(&reference.registry);
    let client = client_for(reference);
    block_on(fetch_signatures(&client, reference, &auth, digest)).map_err(|reason| {
        PackagingError::PullFailed {
            reference: reference.to_string(),
            reason,
        }
    })?
}

/// The manifest digest `reference` names now (`sha256:<hex>`): the tag
/// resolved by the registry, or the pinned digest.
pub fn resolve_digest(reference: &OciReference) -> Result<String, PackagingError> {
    if let Pin::Digest(hex) = &reference.pin {
        return Ok(format!("sha256:{hex}"));
    }
    let auth = credentials(&reference.registry);
    let client = client_for(reference);
    let work = async {
        client
            .fetch_manifest_digest(&reference.to_client(), &auth)
            .await
            .map_err(|e| pull_failed(reference, &auth, e))
    };
    block_on(work).map_err(|reason| PackagingError::PullFailed {
        reference: reference.to_string(),
        reason,
    })?
}

/// Pulls the artifact `reference` names, checking the manifest's digest
/// (against the pinned one, if any) and every blob's.
pub fn pull(reference: &OciReference) -> Result<Artifact, PackagingError> {
    let auth = credentials(&reference.registry);
    let client = client_for(reference);
    let what = reference.to_string();
    let work = async {
        let image = reference.to_client();
        let (manifest, digest) = client
            .pull_manifest_raw(&image, &auth, &[MANIFEST_MEDIA_TYPE])
            .await
            .map_err(|e| pull_failed(reference, &auth, e))?;
        let manifest = manifest.to_vec();
        let actual = digest_of(&manifest);
        let expected = match &reference.pin {
            Pin::Digest(hex) => format!("sha256:{hex}"),
            Pin::Tag(_) => digest,
        };
        if actual != expected {
            return Err(PackagingError::DigestMismatch {
                what: format!("the manifest of {what}"),
                expected,
                actual,
            });
        }
        let parsed: oci_spec::image::ImageManifest =
            serde_json::from_slice(&manifest).map_err(|e| PackagingError::ArtifactInvalid {
                what: what.clone(),
                reason: format!("its manifest is not an OCI image manifest: {e}"),
            })?;
        let mut blobs = BTreeMap::new();
        for d in std::iter::once(parsed.config()).chain(parsed.layers()) {
            if d.size() > MAX_ENTRY_BYTES {
                return Err(PackagingError::ArtifactInvalid {
                    what: what.clone(),
                    reason: format!("blob {} is too large ({} bytes)", d.digest(), d.size()),
                });
            }
            let digest = d.digest().to_string();
            let mut bytes = Vec::new();
            client
                .pull_blob(&image, digest.as_str(), &mut bytes)
                .await
                .map_err(|e| pull_failed(reference, &auth, e))?;
            blobs.insert(digest, bytes);
        }
        let tag = match &reference.pin {
            Pin::Tag(tag) => Some(tag.clone()),
            Pin::Digest(_) => None,
        };
        let mut artifact = Artifact::assemble(&what, manifest, tag, |d| {
            blobs
                .remove(d)
                .ok_or_else(|| PackagingError::ArtifactInvalid {
                    what: what.clone(),
                    reason: format!("blob {d} is missing"),
                })
        })?;
        artifact.signatures = fetch_signatures(&client, reference, &auth, &actual).await?;
        Ok(artifact)
    };
    block_on(work).map_err(|reason| PackagingError::PullFailed {
        reference: reference.to_string(),
        reason,
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_registry_is_a_pull_failure_that_a_cache_may_answer() {
        let reference = OciReference::parse("oci://127.0.0.1:1/nothing:1.0.0").expect("parses");
        let error = resolve_digest(&reference).expect_err("nothing listens on port 1");
        assert!(is_unreachable(&error), "{error}");
    }
}
