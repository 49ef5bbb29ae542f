//! [`OciCache`]: components pulled from registries, content-addressed,
//! beside the compiled-component cache (`<cache dir>/oci/`):
//!
//! ```text
//! oci/manifests/sha256/<hex>          a manifest, as the registry served it
//! oci/blobs/sha256/<hex>              its config and layers (the .wasm is one)
//! oci/tags/<registry>/<repo>/<tag>    the manifest digest a tag last resolved to
//! oci/referrers/sha256/<hex>          the digests of the signature manifests of
//!                                     manifest <hex>, one per line
//! ```
//!
//! Everything is written to a temporary file and renamed, and verified
//! against its digest when read, so a torn or altered entry is never run.

use super::artifact::Artifact;
use super::error::PackagingError;
use super::layout::sha256_hex;
use super::reference::{OciReference, Pin};
use super::signature::{Signature, EMPTY_BLOB};
use std::path::{Path, PathBuf};

/// The registry component cache.
#[derive(Debug, Clone)]
pub struct OciCache {
    root: PathBuf,
}

impl OciCache {
    /// The cache under `cache_dir` (the engine's cache directory).
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            root: cache_dir.join("oci"),
        }
    }

    /// The cache under [`crate::engine::default_cache_dir`] (or the
    /// temporary directory when there is no home).
    pub fn from_env() -> Self {
        let dir = crate::engine::default_cache_dir()
            .unwrap_or_else(|| std::env::temp_dir().join("torvyn-cache"));
        Self::new(&dir)
    }

    /// Where blob `sha256:<hex>` is stored.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root.join("blobs").join("sha256").join(hex)
    }

    fn manifest_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root.join("manifests").join("sha256").join(hex)
    }

    fn tag_path(&self, reference: &OciReference, tag: &str) -> PathBuf {
        let registry = reference.registry.replace([':', '[', ']'], "_");
        self.root
            .join("tags")
            .join(registry)
            .join(&reference.repository)
            .join(tag)
    }

    /// Stores `artifact` (manifest and every blob) and, for a tag
    /// reference, which digest the tag resolved to.
    pub fn store(
        &self,
        artifact: &Artifact,
        reference: &OciReference,
    ) -> Result<(), PackagingError> {
        write_atomic(&self.manifest_path(&artifact.digest), &artifact.manifest)?;
        write_atomic(
            &self.blob_path(&super::layout::digest_of(&artifact.config)),
            &artifact.config,
        )?;
        for layer in &artifact.layers {
            write_atomic(&self.blob_path(&layer.digest), &layer.bytes)?;
        }
        self.store_signatures(&artifact.digest, &artifact.signatures)?;
        self.record_tag(reference, &artifact.digest)
    }

    fn referrers_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root.join("referrers").join("sha256").join(hex)
    }

    /// Stores the signatures of manifest `digest` (replacing the list of
    /// those known before).
    pub fn store_signatures(
        &self,
        digest: &str,
        signatures: &[Signature],
    ) -> Result<(), PackagingError> {
        let mut list = String::new();
        for s in signatures {
            write_atomic(&self.manifest_path(&s.digest), &s.manifest)?;
            write_atomic(&self.blob_path(&s.content_digest()), &s.content)?;
            write_atomic(
                &self.blob_path(&super::layout::digest_of(EMPTY_BLOB)),
                EMPTY_BLOB,
            )?;
            list.push_str(&s.digest);
            list.push('\n');
        }
        write_atomic(&self.referrers_path(digest), list.as_bytes())
    }

    /// The cached signatures of manifest `digest` that are intact.
    fn signatures(&self, digest: &str) -> Vec<Signature> {
        let list = std::fs::read_to_string(self.referrers_path(digest)).unwrap_or_default();
        list.lines()
            .filter_map(|signature| {
                let manifest = std::fs::read(self.manifest_path(signature)).ok()?;
                if super::layout::digest_of(&manifest) != signature {
                    return None;
                }
                Signature::assemble(digest, manifest, |d| {
                    std::fs::read(self.blob_path(d)).map_err(|e| PackagingError::Io {
                        action: "read",
                        path: self.blob_path(d),
                        reason: e.to_string(),
                    })
                })
                .ok()
            })
            .collect()
    }

    /// Records that `reference`'s tag resolved to manifest `digest` (a
    /// digest reference records nothing).
    pub fn record_tag(&self, reference: &OciReference, digest: &str) -> Result<(), PackagingError> {
        let Pin::Tag(tag) = &reference.pin else {
            return Ok(());
        };
        let path = self.tag_path(reference, tag);
        if std::fs::read_to_string(&path).is_ok_and(|known| known == digest) {
            return Ok(());
        }
        write_atomic(&path, digest.as_bytes())
    }

    /// The cached artifact with manifest digest `digest`, verified; `None`
    /// when any part is missing or does not match its digest.
    pub fn load(&self, digest: &str) -> Option<Artifact> {
        let manifest = std::fs::read(self.manifest_path(digest)).ok()?;
        if format!("sha256:{}", sha256_hex(&manifest)) != digest {
            return None;
        }
        let mut artifact = Artifact::assemble(digest, manifest, None, |d| {
            std::fs::read(self.blob_path(d)).map_err(|e| PackagingError::Io {
                action: "read",
                path: self.blob_path(d),
                reason: e.to_string(),
            })
        })
        .ok()?;
        artifact.signatures = self.signatures(digest);
        Some(artifact)
    }

    /// The manifest digest `reference`'s tag resolved to when last pulled.
    pub fn tagged(&self, reference: &OciReference) -> Option<String> {
        let Pin::Tag(tag) = &reference.pin else {
            return None;
        };
        let digest = std::fs::read_to_string(self.tag_path(reference, tag)).ok()?;
        let digest = digest.trim();
        super::reference::is_sha256_hex(digest.strip_prefix("sha256:")?).then(|| digest.to_string())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PackagingError> {
    let io = |e: std::io::Error| PackagingError::Io {
        action: "write",
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packaging::artifact::{Artifact, ArtifactSpec};
    use std::collections::BTreeMap;

    fn artifact() -> Artifact {
        artifact_signed_by(None)
    }

    fn artifact_signed_by(key: Option<crate::packaging::signature::SigningKey>) -> Artifact {
        Artifact::build(ArtifactSpec {
            wasm: b"\0asm\x0d\0\x01\0".to_vec(),
            imports: vec![],
            exports: vec![],
            contracts: BTreeMap::new(),
            source: None,
            annotations: BTreeMap::new(),
            created: "1970-01-01T00:00:00Z".into(),
            author: None,
            tag: "1.0.0".into(),
            signing_key: key,
        })
        .expect("packs")
    }

    #[test]
    fn signatures_are_cached_with_their_artifact_and_replaced_on_refresh() {
        use crate::packaging::signature::SigningKey;
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = OciCache::new(dir.path());
        let signed = artifact_signed_by(Some(SigningKey::from_seed(1)));
        assert_eq!(signed.signatures.len(), 1);
        let reference = OciReference::parse("oci://h/x:1.0.0").expect("parses");
        cache.store(&signed, &reference).expect("stores");
        let back = cache.load(&signed.digest).expect("cached");
        assert_eq!(back.signatures, signed.signatures);
        assert_eq!(back.signed_by(), signed.signed_by());
        cache.store_signatures(&signed.digest, &[]).expect("stores");
        assert!(cache
            .load(&signed.digest)
            .expect("cached")
            .signatures
            .is_empty());
        // A tampered signature layer is dropped, not trusted.
        cache
            .store_signatures(&signed.digest, &signed.signatures)
            .expect("stores");
        let layer = cache.blob_path(&signed.signatures[0].content_digest());
        std::fs::write(layer, b"{}").expect("tamper");
        assert!(cache
            .load(&signed.digest)
            .expect("cached")
            .signatures
            .is_empty());
    }

    #[test]
    fn a_stored_artifact_is_found_by_digest_and_by_tag() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = OciCache::new(dir.path());
        let a = artifact();
        let reference = OciReference::parse("oci://127.0.0.1:5000/x:1.0.0").expect("parses");
        assert!(cache.load(&a.digest).is_none());
        assert!(cache.tagged(&reference).is_none());
        cache.store(&a, &reference).expect("stores");
        assert_eq!(cache.tagged(&reference).as_deref(), Some(a.digest.as_str()));
        let back = cache.load(&a.digest).expect("cached");
        assert_eq!(back.wasm(), a.wasm());
        assert_eq!(
            std::fs::read(cache.blob_path(a.wasm_digest())).expect("blob"),
            a.wasm()
        );
    }

    #[test]
    fn an_altered_blob_is_not_loaded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = OciCache::new(dir.path());
        let a = artifact();
        let reference = OciReference::parse("oci://h/x:1.0.0").expect("parses");
        cache.store(&a, &reference).expect("stores");
        std::fs::write(cache.blob_path(a.wasm_digest()), b"tampered").expect("write");
        assert!(cache.load(&a.digest).is_none());
    }
}
