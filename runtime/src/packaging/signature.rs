//! Ed25519 signatures of artifacts. The signature is two manifest
//! annotations (`dev.torvyn.signature`, `dev.torvyn.signature.key`) over a
//! payload that pins everything else: the config's digest, every layer's
//! digest and every other annotation ([`payload`]). Ed25519 signatures are
//! deterministic, so a signed artifact is still reproducible.
//!
//! Keys are PEM files as `openssl genpkey -algorithm ed25519` and
//! `openssl pkey -pubout` write them: `[security] signing_key` (private,
//! for `torvyn pack --sign`) and `[security] trusted_keys` (public; when
//! any is set, every `oci://` component must be signed by one of them).

use super::error::PackagingError;
use super::layout::{canonical_json, sha256_hex};
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signer, Verifier};
use std::collections::BTreeMap;
use std::path::Path;

/// The signature annotation (base64 of the 64-byte Ed25519 signature).
pub const SIGNATURE: &str = "dev.torvyn.signature";
/// The signing key's id annotation ([`key_id`]).
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

    /// The signature of `payload` (pure Ed25519), base64.
    pub fn sign(&self, payload: &[u8]) -> Result<String, PackagingError> {
        let signature = self.key.sign(payload);
        Ok(base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()))
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

/// What is signed: the config digest, the layer digests in order, and
/// every annotation except the signature's own, as canonical JSON.
pub fn payload(
    config_digest: &str,
    layer_digests: &[String],
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let annotations: BTreeMap<&String, &String> = annotations
        .iter()
        .filter(|(k, _)| k.as_str() != SIGNATURE && k.as_str() != SIGNATURE_KEY)
        .collect();
    canonical_json(&serde_json::json!({
        "config": config_digest,
        "layers": layer_digests,
        "annotations": annotations,
    }))
}

/// Checks that the artifact whose parts are given is signed by one of
/// `trusted`; the id of the key that signed it.
pub fn verify(
    what: &str,
    config_digest: &str,
    layer_digests: &[String],
    annotations: &BTreeMap<String, String>,
    trusted: &[TrustedKey],
) -> Result<String, PackagingError> {
    let unverified = |reason: String| PackagingError::Unverified {
        what: what.to_string(),
        reason,
    };
    let Some(signature) = annotations.get(SIGNATURE) else {
        return Err(unverified("it is not signed".into()));
    };
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|e| unverified(format!("its signature is not base64: {e}")))?;
    let claimed = annotations.get(SIGNATURE_KEY).map(String::as_str);
    let payload = payload(config_digest, layer_digests, annotations);
    trusted
        .iter()
        .find(|k| claimed.is_none_or(|c| c == k.id()) && k.verifies(&signature, &payload))
        .map(|k| k.id().to_string())
        .ok_or_else(|| match claimed {
            Some(id) if !trusted.iter().any(|k| k.id() == id) => {
                unverified(format!("it is signed by {id}, which is not a trusted key"))
            }
            _ => unverified("its signature does not match its content".into()),
        })
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

    fn annotations(signing: &SigningKey, layers: &[String]) -> BTreeMap<String, String> {
        let mut a = BTreeMap::from([(
            "org.opencontainers.image.title".to_string(),
            "x".to_string(),
        )]);
        let signature = signing
            .sign(&payload("sha256:c", layers, &a))
            .expect("signs");
        a.insert(SIGNATURE.into(), signature);
        a.insert(SIGNATURE_KEY.into(), signing.id().into());
        a
    }

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        let (signing, trusted) = keys();
        let layers = vec!["sha256:l".to_string()];
        let a = annotations(&signing, &layers);
        assert_eq!(
            verify("t", "sha256:c", &layers, &a, std::slice::from_ref(&trusted)).expect("valid"),
            trusted.id()
        );
        let (_, stranger) = keys_from(8);
        let error = verify("t", "sha256:c", &layers, &a, &[stranger]).expect_err("untrusted");
        assert!(error.to_string().contains("not a trusted key"), "{error}");
    }

    #[test]
    fn altered_content_or_no_signature_is_refused() {
        use crate::error::{Coded, ErrorCode};
        let (signing, trusted) = keys();
        let layers = vec!["sha256:l".to_string()];
        let mut a = annotations(&signing, &layers);
        let other_layers = vec!["sha256:m".to_string()];
        let error = verify(
            "t",
            "sha256:c",
            &other_layers,
            &a,
            std::slice::from_ref(&trusted),
        )
        .expect_err("altered layer");
        assert!(error.to_string().contains("does not match"), "{error}");
        assert_eq!(error.code(), ErrorCode::SigningFailed);
        a.insert("org.opencontainers.image.title".into(), "y".into());
        assert!(verify("t", "sha256:c", &layers, &a, std::slice::from_ref(&trusted)).is_err());
        a.remove(SIGNATURE);
        let error = verify("t", "sha256:c", &layers, &a, &[trusted]).expect_err("unsigned");
        assert!(error.to_string().contains("not signed"), "{error}");
    }

    #[test]
    fn signing_is_deterministic_and_keys_must_be_ed25519() {
        let (signing, _) = keys();
        assert_eq!(
            signing.sign(b"payload").expect("signs"),
            signing.sign(b"payload").expect("signs")
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
