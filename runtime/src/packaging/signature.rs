//! Ed25519 signatures of artifacts, stored beside them as OCI referrers
//! ([`Signature`]: a manifest whose `subject` is the artifact's manifest),
//! the way cosign and notation sign images. What is signed is the
//! artifact's manifest digest ([`payload`]), which pins its config, every
//! layer and every annotation; so signing does not change the artifact's
//! digest, and Ed25519 being deterministic, a signed pack is reproducible.
//!
//! Keys are PEM files as `openssl genpkey -algorithm ed25519` and
//! `openssl pkey -pubout` write them: `[security] signing_key` (private,
//! for `torvyn pack --sign`) and `[security] trusted_keys` (public; when
//! any is set, every `oci://` component must be signed by one of them).

use super::artifact::MANIFEST_MEDIA_TYPE;
use super::error::PackagingError;
use super::layout::{canonical_json, digest_of, sha256_hex};
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signer, Verifier};
use std::path::Path;

/// The signing key's id annotation of a signature manifest ([`key_id`]).
pub const SIGNATURE_KEY: &str = "dev.torvyn.signature.key";

/// A private key for `torvyn pack --sign`.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    id: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.id)
    }
}

/// A public key an `oci://` component may be signed by.
#[derive(Clone)]
pub struct TrustedKey {
    key: ed25519_dalek::VerifyingKey,
    id: String,
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustedKey({})", self.id)
    }
}

fn signing_error(reason: String) -> PackagingError {
    PackagingError::Signing { reason }
}

/// `ed25519:` and the first 16 hex digits of SHA-256 of the raw public key.
pub fn key_id(raw_public: &[u8]) -> String {
    format!("ed25519:{}", &sha256_hex(raw_public)[..16])
}

fn read_pem(path: &Path, what: &str) -> Result<String, PackagingError> {
    std::fs::read_to_string(path)
        .map_err(|e| signing_error(format!("cannot read the {what} {}: {e}", path.display())))
}

impl SigningKey {
    /// Reads an Ed25519 private key (PEM, PKCS#8, as `openssl genpkey
    /// -algorithm ed25519` writes it).
    pub fn load(path: &Path) -> Result<Self, PackagingError> {
        let pem = read_pem(path, "signing key")?;
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            signing_error(format!(
                "{} is not an Ed25519 private key in PEM (PKCS#8) ({e}); make one with `openssl genpkey -algorithm ed25519`",
                path.display()
            ))
        })?;
        Ok(Self::from_key(key))
    }

    /// A key made from `seed` (distinct seeds, distinct keys), for tests.
    #[cfg(test)]
    pub(crate) fn from_seed(seed: u8) -> Self {
        Self::from_key(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    fn from_key(key: ed25519_dalek::SigningKey) -> Self {
        Self {
            id: key_id(key.verifying_key().as_bytes()),
            key,
        }
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl TrustedKey {
    /// Reads an Ed25519 public key (PEM, SubjectPublicKeyInfo, as
    /// `openssl pkey -pubout` writes it).
    pub fn load(path: &Path) -> Result<Self, PackagingError> {
        let pem = read_pem(path, "trusted key")?;
        let key = ed25519_dalek::VerifyingKey::from_public_key_pem(&pem).map_err(|e| {
            signing_error(format!(
                "{} is not an Ed25519 public key in PEM ({e})",
                path.display()
            ))
        })?;
        Ok(Self {
            id: key_id(key.as_bytes()),
            key,
        })
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn verifies(&self, signature: &[u8], payload: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|signature| self.key.verify(payload, &signature).is_ok())
    }
}

/// Loads `paths` (relative to `root`) as trusted keys.
pub fn trusted_keys(root: &Path, paths: &[String]) -> Result<Vec<TrustedKey>, PackagingError> {
    paths
        .iter()
        .map(|p| TrustedKey::load(&root.join(p)))
        .collect()
}

/// The `artifactType` of a signature manifest.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.torvyn.signature.v1+json";
/// The OCI empty descriptor's media type (a signature's config).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The OCI empty blob (`{}`).
pub const EMPTY_BLOB: &[u8] = b"{}";

/// What is signed: the subject manifest's digest, which pins its config,
/// every layer and every annotation.
pub fn payload(subject_digest: &str) -> Vec<u8> {
    canonical_json(&serde_json::json!({
        "type": SIGNATURE_ARTIFACT_TYPE,
        "subject": subject_digest,
    }))
}

/// The subject of a signature: the manifest it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Its media type.
    pub media_type: String,
    /// `sha256:<hex>` of the manifest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A signature, stored as an OCI referrer of the artifact it signs: an
/// image manifest whose `artifactType` is [`SIGNATURE_ARTIFACT_TYPE`],
/// whose `subject` is the artifact's manifest, with the empty config and
/// one layer (canonical JSON: the key id, the payload, the base64
/// Ed25519 signature). Registries list it under the artifact's referrers
/// (or, without the referrers API, in the `sha256-<hex>` tag's index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The signature manifest, as pushed or stored.
    pub manifest: Vec<u8>,
    /// `sha256:<hex>` of [`Signature::manifest`].
    pub digest: String,
    /// The layer: `{"key","payload","signature"}`.
    pub content: Vec<u8>,
    /// The manifest it signs.
    pub subject: String,
    /// The signing key's id, as the signature claims it.
    pub key: String,
    /// The raw signature.
    signature: Vec<u8>,
}

fn invalid(what: &str, reason: impl Into<String>) -> PackagingError {
    PackagingError::ArtifactInvalid {
        what: format!("the signature of {what}"),
        reason: reason.into(),
    }
}

fn descriptor_json(media_type: &str, bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "mediaType": media_type,
        "digest": digest_of(bytes),
        "size": bytes.len(),
    })
}

impl Signature {
    /// Signs `subject` with `key`. Ed25519 is deterministic: the same key
    /// and subject always give the same manifest.
    pub fn sign(key: &SigningKey, subject: &Subject) -> Result<Self, PackagingError> {
        let payload = payload(&subject.digest);
        let signature = key.key.sign(&payload).to_bytes().to_vec();
        let content = canonical_json(&serde_json::json!({
            "key": key.id(),
            "payload": String::from_utf8_lossy(&payload),
            "signature": base64::engine::general_purpose::STANDARD.encode(&signature),
        }));
        let manifest = canonical_json(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "artifactType": SIGNATURE_ARTIFACT_TYPE,
            "config": descriptor_json(EMPTY_MEDIA_TYPE, EMPTY_BLOB),
            "layers": [descriptor_json(SIGNATURE_ARTIFACT_TYPE, &content)],
            "subject": {
                "mediaType": subject.media_type,
                "digest": subject.digest,
                "size": subject.size,
            },
            "annotations": { SIGNATURE_KEY: key.id() },
        }));
        Ok(Self {
            digest: digest_of(&manifest),
            manifest,
            content,
            subject: subject.digest.clone(),
            key: key.id().to_string(),
            signature,
        })
    }

    /// Reads a signature manifest and its layer (`blob(digest)` fetches
    /// it, checked against its digest); `what` names the signed artifact
    /// in errors.
    pub fn assemble(
        what: &str,
        manifest: Vec<u8>,
        mut blob: impl FnMut(&str) -> Result<Vec<u8>, PackagingError>,
    ) -> Result<Self, PackagingError> {
        let parsed: serde_json::Value = serde_json::from_slice(&manifest)
            .map_err(|e| invalid(what, format!("its manifest is not JSON: {e}")))?;
        if parsed["artifactType"] != SIGNATURE_ARTIFACT_TYPE {
            return Err(invalid(
                what,
                format!("its manifest's artifactType is not `{SIGNATURE_ARTIFACT_TYPE}`"),
            ));
        }
        let subject = parsed["subject"]["digest"]
            .as_str()
            .ok_or_else(|| invalid(what, "its manifest has no subject"))?
            .to_string();
        let layer = parsed["layers"][0]["digest"]
            .as_str()
            .ok_or_else(|| invalid(what, "its manifest has no layer"))?;
        let content = blob(layer)?;
        if digest_of(&content) != layer {
            return Err(PackagingError::DigestMismatch {
                what: format!("the signature layer of {what}"),
                expected: layer.to_string(),
                actual: digest_of(&content),
            });
        }
        let body: serde_json::Value = serde_json::from_slice(&content)
            .map_err(|e| invalid(what, format!("its layer is not JSON: {e}")))?;
        let signature = body["signature"]
            .as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            .ok_or_else(|| invalid(what, "its layer holds no base64 signature"))?;
        Ok(Self {
            digest: digest_of(&manifest),
            manifest,
            content,
            subject,
            key: body["key"].as_str().unwrap_or_default().to_string(),
            signature,
        })
    }

    /// The layer's digest.
    pub fn content_digest(&self) -> String {
        digest_of(&self.content)
    }

    /// Whether `key` signed `subject_digest` with it.
    fn signed_by(&self, key: &TrustedKey, subject_digest: &str) -> bool {
        self.subject == subject_digest
            && key.id() == self.key
            && key.verifies(&self.signature, &payload(subject_digest))
    }
}

/// Checks that one of `signatures` of the artifact whose manifest digest
/// is `subject_digest` was made by one of `trusted`; that key's id.
pub fn verify(
    what: &str,
    subject_digest: &str,
    signatures: &[Signature],
    trusted: &[TrustedKey],
) -> Result<String, PackagingError> {
    let unverified = |reason: String| PackagingError::Unverified {
        what: what.to_string(),
        reason,
    };
    if let Some(key) = trusted
        .iter()
        .find(|k| signatures.iter().any(|s| s.signed_by(k, subject_digest)))
    {
        return Ok(key.id().to_string());
    }
    let ours: Vec<&Signature> = signatures
        .iter()
        .filter(|s| s.subject == subject_digest)
        .collect();
    if ours.is_empty() {
        return Err(unverified("it is not signed".into()));
    }
    let by_a_trusted_key = ours.iter().any(|s| trusted.iter().any(|k| k.id() == s.key));
    if by_a_trusted_key {
        Err(unverified(
            "its signature does not match its content".into(),
        ))
    } else {
        Err(unverified(format!(
            "it is signed by {}, which is not a trusted key",
            ours[0].key
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key pair from `seed` (distinct seeds, distinct keys).
    fn keys_from(seed: u8) -> (SigningKey, TrustedKey) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let public = key.verifying_key();
        (
            SigningKey::from_key(key),
            TrustedKey {
                id: key_id(public.as_bytes()),
                key: public,
            },
        )
    }

    fn keys() -> (SigningKey, TrustedKey) {
        keys_from(7)
    }

    fn subject(digest: &str) -> Subject {
        Subject {
            media_type: MANIFEST_MEDIA_TYPE.into(),
            digest: digest.into(),
            size: 42,
        }
    }

    #[test]
    fn a_signature_is_a_referrer_that_verifies_with_its_key_only() {
        let (signing, trusted) = keys();
        let signature = Signature::sign(&signing, &subject("sha256:a")).expect("signs");
        let manifest: serde_json::Value =
            serde_json::from_slice(&signature.manifest).expect("json");
        assert_eq!(manifest["artifactType"], SIGNATURE_ARTIFACT_TYPE);
        assert_eq!(manifest["subject"]["digest"], "sha256:a");
        assert_eq!(manifest["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(
            manifest["layers"][0]["digest"],
            signature.content_digest().as_str()
        );
        let back = Signature::assemble("t", signature.manifest.clone(), |_| {
            Ok(signature.content.clone())
        })
        .expect("reads back");
        assert_eq!(back, signature);
        let all = [back];
        assert_eq!(
            verify("t", "sha256:a", &all, std::slice::from_ref(&trusted)).expect("valid"),
            trusted.id()
        );
        let (_, stranger) = keys_from(8);
        let error = verify("t", "sha256:a", &all, &[stranger]).expect_err("untrusted");
        assert!(error.to_string().contains("not a trusted key"), "{error}");
    }

    #[test]
    fn another_subject_an_altered_layer_or_no_signature_is_refused() {
        use crate::error::{Coded, ErrorCode};
        let (signing, trusted) = keys();
        let signature = Signature::sign(&signing, &subject("sha256:a")).expect("signs");
        let trusted = std::slice::from_ref(&trusted);
        // Signed for another artifact: this one is unsigned.
        let error = verify("t", "sha256:b", std::slice::from_ref(&signature), trusted)
            .expect_err("other subject");
        assert!(error.to_string().contains("not signed"), "{error}");
        assert_eq!(error.code(), ErrorCode::SigningFailed);
        // A signature claiming the subject but made over something else.
        let forged = String::from_utf8(signature.manifest.clone())
            .expect("utf8")
            .replace("sha256:a", "sha256:b");
        let forged =
            Signature::assemble("t", forged.into_bytes(), |_| Ok(signature.content.clone()))
                .expect("well-formed");
        let error = verify("t", "sha256:b", &[forged], trusted).expect_err("forged");
        assert!(error.to_string().contains("does not match"), "{error}");
        // A layer that is not the one the manifest names.
        let error = Signature::assemble("t", signature.manifest.clone(), |_| Ok(b"{}".to_vec()))
            .expect_err("altered layer");
        assert!(
            matches!(error, PackagingError::DigestMismatch { .. }),
            "{error}"
        );
        let error = verify("t", "sha256:a", &[], trusted).expect_err("unsigned");
        assert!(error.to_string().contains("not signed"), "{error}");
    }

    #[test]
    fn signing_is_deterministic_and_keys_must_be_ed25519() {
        let (signing, _) = keys();
        assert_eq!(
            Signature::sign(&signing, &subject("sha256:a")).expect("signs"),
            Signature::sign(&signing, &subject("sha256:a")).expect("signs")
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let not_a_key = dir.path().join("rsa.pem");
        std::fs::write(
            &not_a_key,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .expect("write");
        let error = SigningKey::load(&not_a_key).expect_err("not Ed25519");
        assert!(
            error.to_string().contains("not an Ed25519 private key"),
            "{error}"
        );
        let missing = SigningKey::load(Path::new("/nonexistent/key.pem")).expect_err("missing");
        assert!(missing.to_string().contains("cannot read"), "{missing}");
    }
}
