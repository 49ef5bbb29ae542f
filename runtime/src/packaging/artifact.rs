//! [`Artifact`]: a component packaged the way the CNCF Wasm OCI artifact
//! layout (wasm-pkg-tools, wasmCloud, Spin) does it — a manifest whose
//! config is `application/vnd.wasm.config.v0+json` (the component's
//! imports and exports), the component as one `application/wasm` layer —
//! plus a layer with its WIT contracts (and, on request, its sources), and
//! annotations (`org.opencontainers.image.*`, the contract version,
//! declared capabilities, a benchmark summary).
//!
//! The same type is built by `torvyn pack`, read back from the image
//! layout tar by `torvyn publish` and `torvyn inspect`, and assembled from
//! a registry's manifest and blobs when a node's component is pulled;
//! every path checks the same things ([`Artifact::assemble`]).

use super::error::PackagingError;
use super::layout::{canonical_json, digest_of, read_tar, ImageLayout};
use super::signature::{self, Signature, Subject};
use oci_spec::image::{
    Descriptor, DescriptorBuilder, ImageIndexBuilder, ImageManifest, ImageManifestBuilder,
    MediaType,
};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

/// The OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The CNCF Wasm config media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The component layer's media type.
pub const WASM_MEDIA_TYPE: &str = "application/wasm";
/// The WIT contracts layer: a tar of `.wit` files.
pub const CONTRACTS_MEDIA_TYPE: &str = "application/vnd.torvyn.contracts.v0+tar";
/// The optional sources layer (`--include-source`): a tar of the
/// component's crate.
pub const SOURCE_MEDIA_TYPE: &str = "application/vnd.torvyn.source.v0+tar";

/// Annotation keys.
pub mod keys {
    /// The component's name.
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// Its version.
    pub const VERSION: &str = "org.opencontainers.image.version";
    /// `[torvyn] description`.
    pub const DESCRIPTION: &str = "org.opencontainers.image.description";
    /// `[torvyn] authors`.
    pub const AUTHORS: &str = "org.opencontainers.image.authors";
    /// `[torvyn] license`.
    pub const LICENSES: &str = "org.opencontainers.image.licenses";
    /// `[torvyn] repository`.
    pub const SOURCE: &str = "org.opencontainers.image.source";
    /// The tag in an image layout's index.
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    /// The Torvyn contract version the component targets.
    pub const CONTRACT_VERSION: &str = "dev.torvyn.contract.version";
    /// The Torvyn roles the component can play.
    pub const ROLES: &str = "dev.torvyn.roles";
    /// Declared capabilities (`[capabilities.required]`, comma-separated).
    pub const CAPABILITIES: &str = "dev.torvyn.capabilities.required";
    /// Optional capabilities (`[capabilities.optional]`).
    pub const OPTIONAL_CAPABILITIES: &str = "dev.torvyn.capabilities.optional";
    /// Benchmark baselines: JSON `{name: {throughput_eps, latency_p99_us}}`.
    pub const BENCHMARKS: &str = "dev.torvyn.benchmarks";
}

/// What goes into an artifact.
#[derive(Debug, Clone)]
pub struct ArtifactSpec {
    /// The component (`application/wasm`).
    pub wasm: Vec<u8>,
    /// Interfaces it imports (config `component.imports`).
    pub imports: Vec<String>,
    /// Interfaces it exports (config `component.exports`).
    pub exports: Vec<String>,
    /// WIT files by path (`wit/world.wit`, …).
    pub contracts: BTreeMap<String, Vec<u8>>,
    /// Source files by path, with `--include-source`.
    pub source: Option<BTreeMap<String, Vec<u8>>>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// The config's `created` (RFC 3339): fixed, so packing is reproducible.
    pub created: String,
    /// The config's `author`, if any.
    pub author: Option<String>,
    /// The tag recorded in the image layout's index.
    pub tag: String,
    /// Sign with this key (`torvyn pack --sign`).
    pub signing_key: Option<super::signature::SigningKey>,
}

/// One layer: its descriptor's fields and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// The `org.opencontainers.image.title` of the layer, if any.
    pub title: Option<String>,
}

/// A packaged component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The manifest, exactly as pushed or stored.
    pub manifest: Vec<u8>,
    /// `sha256:<hex>` of [`Artifact::manifest`].
    pub digest: String,
    /// The config blob.
    pub config: Vec<u8>,
    /// The layers, in manifest order.
    pub layers: Vec<Layer>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The tag an image layout records for it.
    pub tag: Option<String>,
    /// Its signatures (referrers whose subject is its manifest).
    pub signatures: Vec<Signature>,
}

fn invalid(what: &str, reason: impl Into<String>) -> PackagingError {
    PackagingError::ArtifactInvalid {
        what: what.to_string(),
        reason: reason.into(),
    }
}

fn descriptor(
    media_type: &str,
    bytes: &[u8],
    annotations: BTreeMap<String, String>,
) -> Result<Descriptor, PackagingError> {
    let digest = oci_spec::image::Digest::from_str(&digest_of(bytes))
        .map_err(|e| invalid("the artifact", e.to_string()))?;
    let mut builder = DescriptorBuilder::default()
        .media_type(MediaType::from(media_type))
        .digest(digest)
        .size(bytes.len() as u64);
    if !annotations.is_empty() {
        builder = builder.annotations(annotations.into_iter().collect::<HashMap<_, _>>());
    }
    builder
        .build()
        .map_err(|e| invalid("the artifact", e.to_string()))
}

fn titled(title: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(keys::TITLE.to_string(), title.to_string())])
}

/// `value` serialized with sorted keys (oci-spec keeps annotations in a
/// `HashMap`, whose order would change the digest from run to run).
fn canonical<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, PackagingError> {
    let value = serde_json::to_value(value).map_err(|e| invalid("the artifact", e.to_string()))?;
    Ok(canonical_json(&value))
}

impl Artifact {
    /// Packs `spec`. The same spec always gives the same bytes.
    pub fn build(spec: ArtifactSpec) -> Result<Self, PackagingError> {
        let mut layers = vec![Layer {
            media_type: WASM_MEDIA_TYPE.into(),
            digest: digest_of(&spec.wasm),
            bytes: spec.wasm,
            title: Some("component.wasm".into()),
        }];
        let contracts = super::layout::deterministic_tar(&spec.contracts);
        layers.push(Layer {
            media_type: CONTRACTS_MEDIA_TYPE.into(),
            digest: digest_of(&contracts),
            bytes: contracts,
            title: Some("contracts.tar".into()),
        });
        if let Some(source) = &spec.source {
            let source = super::layout::deterministic_tar(source);
            layers.push(Layer {
                media_type: SOURCE_MEDIA_TYPE.into(),
                digest: digest_of(&source),
                bytes: source,
                title: Some("source.tar".into()),
            });
        }
        let mut config = json!({
            "created": spec.created,
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>(),
            "component": {
                "imports": spec.imports,
                "exports": spec.exports,
                "target": Value::Null,
            },
        });
        if let Some(author) = spec.author.filter(|a| !a.is_empty()) {
            config["author"] = author.into();
        }
        let config = canonical_json(&config);
        let annotations = spec.annotations;
        let layer_descriptors = layers
            .iter()
            .map(|l| {
                descriptor(
                    &l.media_type,
                    &l.bytes,
                    l.title.as_deref().map(titled).unwrap_or_default(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(descriptor(CONFIG_MEDIA_TYPE, &config, BTreeMap::new())?)
            .layers(layer_descriptors)
            .annotations(annotations.clone().into_iter().collect::<HashMap<_, _>>())
            .build()
            .map_err(|e| invalid("the artifact", e.to_string()))?;
        let manifest = canonical(&manifest)?;
        let mut artifact = Self {
            digest: digest_of(&manifest),
            manifest,
            config,
            layers,
            annotations,
            tag: Some(spec.tag),
            signatures: Vec::new(),
        };
        if let Some(key) = &spec.signing_key {
            let signature = Signature::sign(key, &artifact.subject())?;
            artifact.signatures.push(signature);
        }
        Ok(artifact)
    }

    /// Its manifest as the subject of a referrer.
    pub fn subject(&self) -> Subject {
        Subject {
            media_type: MANIFEST_MEDIA_TYPE.into(),
            digest: self.digest.clone(),
            size: self.manifest.len() as u64,
        }
    }

    /// Checks a manifest and the blobs it names (`blob(digest)` fetches
    /// one): an OCI image manifest, a Wasm config, exactly one
    /// `application/wasm` layer, every blob present with its digest and
    /// size. `what` names the source in errors.
    pub fn assemble(
        what: &str,
        manifest: Vec<u8>,
        tag: Option<String>,
        mut blob: impl FnMut(&str) -> Result<Vec<u8>, PackagingError>,
    ) -> Result<Self, PackagingError> {
        let parsed: ImageManifest = serde_json::from_slice(&manifest).map_err(|e| {
            invalid(
                what,
                format!("its manifest is not an OCI image manifest: {e}"),
            )
        })?;
        if let Some(media_type) = parsed.media_type() {
            if media_type.to_string() != MANIFEST_MEDIA_TYPE {
                return Err(invalid(
                    what,
                    format!(
                        "its manifest has media type `{media_type}`, not `{MANIFEST_MEDIA_TYPE}`"
                    ),
                ));
            }
        }
        let config_type = parsed.config().media_type().to_string();
        if config_type != CONFIG_MEDIA_TYPE {
            return Err(invalid(
                what,
                format!("its config has media type `{config_type}`, not `{CONFIG_MEDIA_TYPE}`: it is not a Wasm component artifact"),
            ));
        }
        let mut fetch = |d: &Descriptor| -> Result<Vec<u8>, PackagingError> {
            let digest = d.digest().to_string();
            let bytes = blob(&digest)?;
            let actual = digest_of(&bytes);
            if actual != digest {
                return Err(PackagingError::DigestMismatch {
                    what: format!("blob {digest} of {what}"),
                    expected: digest,
                    actual,
                });
            }
            if bytes.len() as u64 != d.size() {
                return Err(invalid(
                    what,
                    format!(
                        "blob {digest} has {} bytes, its descriptor says {}",
                        bytes.len(),
                        d.size()
                    ),
                ));
            }
            Ok(bytes)
        };
        let config = fetch(parsed.config())?;
        serde_json::from_slice::<Value>(&config)
            .map_err(|e| invalid(what, format!("its config is not JSON: {e}")))?;
        let mut layers = Vec::new();
        for d in parsed.layers() {
            layers.push(Layer {
                media_type: d.media_type().to_string(),
                digest: d.digest().to_string(),
                bytes: fetch(d)?,
                title: d
                    .annotations()
                    .as_ref()
                    .and_then(|a| a.get(keys::TITLE).cloned()),
            });
        }
        let wasm_layers = layers
            .iter()
            .filter(|l| l.media_type == WASM_MEDIA_TYPE)
            .count();
        if wasm_layers != 1 {
            return Err(invalid(
                what,
                format!("it has {wasm_layers} `{WASM_MEDIA_TYPE}` layers; a component artifact has exactly one"),
            ));
        }
        let annotations = parsed
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        Ok(Self {
            digest: digest_of(&manifest),
            manifest,
            config,
            layers,
            annotations,
            tag,
            signatures: Vec::new(),
        })
    }

    /// The artifact as an OCI image layout: its index names the
    /// artifact's manifest (with the tag) and each signature's (with its
    /// `artifactType`).
    pub fn to_layout(&self) -> Result<ImageLayout, PackagingError> {
        let mut annotations = BTreeMap::new();
        if let Some(tag) = &self.tag {
            annotations.insert(keys::REF_NAME.to_string(), tag.clone());
        }
        let mut manifests = vec![descriptor(
            MANIFEST_MEDIA_TYPE,
            &self.manifest,
            annotations,
        )?];
        for s in &self.signatures {
            let mut d = descriptor(MANIFEST_MEDIA_TYPE, &s.manifest, BTreeMap::new())?;
            d.set_artifact_type(Some(MediaType::from(signature::SIGNATURE_ARTIFACT_TYPE)));
            manifests.push(d);
        }
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(manifests)
            .build()
            .map_err(|e| invalid("the artifact", e.to_string()))?;
        let mut blobs = BTreeMap::new();
        for bytes in std::iter::once(&self.manifest)
            .chain(std::iter::once(&self.config))
            .chain(self.layers.iter().map(|l| &l.bytes))
        {
            blobs.insert(super::layout::sha256_hex(bytes), bytes.clone());
        }
        for s in &self.signatures {
            for bytes in [s.manifest.as_slice(), signature::EMPTY_BLOB, &s.content] {
                blobs.insert(super::layout::sha256_hex(bytes), bytes.to_vec());
            }
        }
        Ok(ImageLayout {
            index: canonical(&index)?,
            blobs,
        })
    }

    /// Reads an image layout: its index must name exactly one artifact
    /// manifest, and may name signatures of it.
    pub fn from_layout(what: &str, layout: &ImageLayout) -> Result<Self, PackagingError> {
        let index: Value = serde_json::from_slice(&layout.index)
            .map_err(|e| invalid(what, format!("its index.json is not JSON: {e}")))?;
        let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
        let (signatures, artifacts): (Vec<&Value>, Vec<&Value>) = manifests
            .iter()
            .partition(|m| m["artifactType"] == signature::SIGNATURE_ARTIFACT_TYPE);
        let [entry] = artifacts.as_slice() else {
            return Err(invalid(
                what,
                format!(
                    "its index.json names {} artifact manifests; a component artifact has one",
                    artifacts.len()
                ),
            ));
        };
        let blob = |d: &str| {
            layout
                .blob(d)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| invalid(what, format!("blob {d} is missing")))
        };
        let manifest_of = |entry: &Value| blob(entry["digest"].as_str().unwrap_or_default());
        let tag = entry["annotations"][keys::REF_NAME]
            .as_str()
            .map(str::to_string);
        let mut artifact = Self::assemble(what, manifest_of(entry)?, tag, blob)?;
        for entry in signatures {
            let signature = Signature::assemble(what, manifest_of(entry)?, blob)?;
            artifact.signatures.push(signature);
        }
        Ok(artifact)
    }

    /// Reads the image layout tar at `path`.
    pub fn open(path: &Path) -> Result<Self, PackagingError> {
        let what = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| PackagingError::Io {
            action: "read",
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let layout = ImageLayout::from_tar(std::io::BufReader::new(file))
            .map_err(|reason| invalid(&what, reason))?;
        Self::from_layout(&what, &layout)
    }

    /// Writes the artifact as an image layout tar at `path` (via a
    /// temporary file, so a reader never sees half of it).
    pub fn write(&self, path: &Path) -> Result<u64, PackagingError> {
        let io = |e: std::io::Error| PackagingError::Io {
            action: "write",
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tar = self.to_layout()?.to_tar();
        let tmp = path.with_extension("tar.partial");
        std::fs::write(&tmp, &tar).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(tar.len() as u64)
    }

    /// The component.
    pub fn wasm(&self) -> &[u8] {
        self.layer(WASM_MEDIA_TYPE).map_or(&[], |l| &l.bytes)
    }

    /// The component layer's digest (`sha256:<hex>`).
    pub fn wasm_digest(&self) -> &str {
        self.layer(WASM_MEDIA_TYPE).map_or("", |l| &l.digest)
    }

    /// The first layer of `media_type`.
    pub fn layer(&self, media_type: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.media_type == media_type)
    }

    /// The WIT files of the contracts layer (path → text).
    pub fn contracts(&self) -> BTreeMap<String, Vec<u8>> {
        self.layer(CONTRACTS_MEDIA_TYPE)
            .and_then(|l| read_tar(l.bytes.as_slice()).ok())
            .unwrap_or_default()
    }

    /// The config, parsed.
    pub fn config_json(&self) -> Value {
        serde_json::from_slice(&self.config).unwrap_or(Value::Null)
    }

    /// The component's name (the title annotation), if recorded.
    pub fn name(&self) -> Option<&str> {
        self.annotations.get(keys::TITLE).map(String::as_str)
    }

    /// The id of the key that signed it, if it is signed (unverified).
    pub fn signed_by(&self) -> Option<&str> {
        self.signatures
            .iter()
            .find(|s| s.subject == self.digest)
            .map(|s| s.key.as_str())
    }

    /// Checks that one of `trusted` signed it; the key's id.
    pub fn verify(&self, trusted: &[signature::TrustedKey]) -> Result<String, PackagingError> {
        let what = self.name().map_or_else(
            || self.digest.clone(),
            |n| format!("`{n}` ({})", self.digest),
        );
        signature::verify(&what, &self.digest, &self.signatures, trusted)
    }

    /// The component's version, if recorded.
    pub fn version(&self) -> Option<&str> {
        self.annotations.get(keys::VERSION).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec() -> ArtifactSpec {
        ArtifactSpec {
            wasm: b"\0asm\x0d\0\x01\0".to_vec(),
            imports: vec!["torvyn:streaming/types@0.1.0".into()],
            exports: vec!["torvyn:streaming/processor@0.1.0".into()],
            contracts: BTreeMap::from([("wit/world.wit".into(), b"package a:b;".to_vec())]),
            source: None,
            annotations: BTreeMap::from([
                (keys::TITLE.into(), "upper".into()),
                (keys::VERSION.into(), "0.1.0".into()),
                (keys::CONTRACT_VERSION.into(), "0.1.0".into()),
                (keys::AUTHORS.into(), "A <a@example.com>".into()),
            ]),
            created: "1970-01-01T00:00:00Z".into(),
            author: None,
            tag: "0.1.0".into(),
            signing_key: None,
        }
    }

    #[test]
    fn packing_twice_gives_the_same_bytes_and_digest() {
        let a = Artifact::build(spec()).expect("packs");
        let b = Artifact::build(spec()).expect("packs");
        assert_eq!(a.digest, b.digest);
        let tar_a = a.to_layout().expect("layout").to_tar();
        assert_eq!(tar_a, b.to_layout().expect("layout").to_tar());
        let mut other = spec();
        other.wasm.push(0);
        assert_ne!(Artifact::build(other).expect("packs").digest, a.digest);
    }

    #[test]
    fn the_manifest_follows_the_wasm_oci_layout() {
        let a = Artifact::build(spec()).expect("packs");
        let m: Value = serde_json::from_slice(&a.manifest).expect("json");
        assert_eq!(m["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(m["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        assert_eq!(m["layers"][0]["mediaType"], WASM_MEDIA_TYPE);
        assert_eq!(m["layers"][0]["digest"], digest_of(&spec().wasm));
        assert_eq!(m["layers"][1]["mediaType"], CONTRACTS_MEDIA_TYPE);
        assert_eq!(m["annotations"][keys::TITLE], "upper");
        let config = a.config_json();
        assert_eq!(config["architecture"], "wasm");
        assert_eq!(
            config["component"]["exports"][0],
            "torvyn:streaming/processor@0.1.0"
        );
        assert_eq!(config["layerDigests"][0], a.wasm_digest());
    }

    #[test]
    fn a_layout_reads_back_into_the_same_artifact() {
        let a = Artifact::build(spec()).expect("packs");
        let layout = a.to_layout().expect("layout");
        let back = Artifact::from_layout("test", &layout).expect("valid");
        assert_eq!(back, a);
        assert_eq!(back.tag.as_deref(), Some("0.1.0"));
        assert_eq!(back.wasm(), spec().wasm.as_slice());
        assert_eq!(back.contracts(), spec().contracts);
        assert_eq!(back.name(), Some("upper"));
    }

    #[test]
    fn a_signed_artifact_is_reproducible_and_verifies() {
        use crate::packaging::signature::{SigningKey, TrustedKey};
        let dir = tempfile::tempdir().expect("temp dir");
        use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let private = dir.path().join("key.pem");
        let public = dir.path().join("key.pub.pem");
        let line_ending = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
        let private_pem = key.to_pkcs8_pem(line_ending).expect("pem");
        std::fs::write(&private, private_pem.as_bytes()).expect("write");
        let public_pem = key
            .verifying_key()
            .to_public_key_pem(line_ending)
            .expect("pem");
        std::fs::write(&public, public_pem).expect("write");
        let signed = || {
            let mut s = spec();
            s.signing_key = Some(SigningKey::load(&private).expect("loads"));
            Artifact::build(s).expect("packs")
        };
        let a = signed();
        assert_eq!(a, signed());
        // Signing leaves the artifact itself as it was.
        assert_eq!(a.digest, Artifact::build(spec()).expect("packs").digest);
        let trusted = TrustedKey::load(&public).expect("loads");
        assert_eq!(a.signed_by(), Some(trusted.id()));
        assert_eq!(
            a.verify(std::slice::from_ref(&trusted)).expect("valid"),
            trusted.id()
        );
        let back = Artifact::from_layout("t", &a.to_layout().expect("layout")).expect("valid");
        assert!(back.verify(std::slice::from_ref(&trusted)).is_ok());
        let unsigned = Artifact::build(spec()).expect("packs");
        assert!(unsigned.signed_by().is_none());
        assert!(unsigned.verify(&[trusted]).is_err());
    }

    #[test]
    fn a_missing_blob_or_a_foreign_config_is_e0600() {
        use crate::error::{Coded, ErrorCode};
        let a = Artifact::build(spec()).expect("packs");
        let mut layout = a.to_layout().expect("layout");
        let wasm_hex = a.wasm_digest().trim_start_matches("sha256:").to_string();
        layout.blobs.remove(&wasm_hex);
        let error = Artifact::from_layout("t", &layout).expect_err("missing");
        assert_eq!(error.code(), ErrorCode::ArtifactInvalid);

        let foreign = String::from_utf8(a.manifest.clone())
            .expect("utf8")
            .replace(
                CONFIG_MEDIA_TYPE,
                "application/vnd.oci.image.config.v1+json",
            );
        let error = Artifact::assemble("t", foreign.into_bytes(), None, |_| Ok(Vec::new()))
            .expect_err("not wasm");
        assert!(
            error.to_string().contains("not a Wasm component"),
            "{error}"
        );

        let error = Artifact::assemble("t", a.manifest.clone(), None, |_| Ok(b"x".to_vec()))
            .expect_err("digest");
        assert!(
            matches!(error, PackagingError::DigestMismatch { .. }),
            "{error}"
        );
    }
}
