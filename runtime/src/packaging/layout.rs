//! The OCI image layout as one deterministic tar: `oci-layout`,
//! `index.json` and `blobs/sha256/<hex>`, entries sorted, every header
//! fixed (mode 0644, owner 0, mtime 0), JSON written with sorted keys — so
//! the same inputs always give the same bytes and the same digests.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

/// The content of the `oci-layout` file.
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// The largest single entry read from a tar (a component, its contracts).
pub const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;

/// `hex(sha256(bytes))`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// `value` as compact JSON with every object's keys sorted: the bytes a
/// digest is taken of.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(&sorted(value)).unwrap_or_default()
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, sorted(v))).collect();
            let mut out = serde_json::Map::new();
            for (k, v) in ordered {
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A tar of `files` (path → bytes), sorted by path, with fixed headers.
pub fn deterministic_tar(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut dirs: BTreeMap<String, ()> = BTreeMap::new();
    for path in files.keys() {
        let mut parts: Vec<&str> = path.split('/').collect();
        parts.pop();
        for i in 1..=parts.len() {
            dirs.insert(format!("{}/", parts[..i].join("/")), ());
        }
    }
    let mut entries: BTreeMap<&str, Option<&[u8]>> = BTreeMap::new();
    for dir in dirs.keys() {
        entries.insert(dir.as_str(), None);
    }
    for (path, bytes) in files {
        entries.insert(path.as_str(), Some(bytes.as_slice()));
    }
    for (path, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        // Paths are ours (short, relative, `/`-separated): set_path only
        // fails on absolute or over-long paths, which pack never makes.
        let _ = header.set_path(path);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        match bytes {
            Some(bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(bytes.len() as u64);
                header.set_cksum();
                let _ = builder.append(&header, bytes);
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_cksum();
                let _ = builder.append(&header, std::io::empty());
            }
        }
    }
    builder.into_inner().unwrap_or_default()
}

/// The regular files of tar `bytes` (path → bytes). Directories, links
/// and other entry kinds are skipped; a path that climbs (`..`) or an
/// entry over [`MAX_ENTRY_BYTES`] is an error.
pub fn read_tar(reader: impl Read) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut archive = tar::Archive::new(reader);
    let mut files = BTreeMap::new();
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("unreadable tar entry: {e}"))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| format!("unreadable tar path: {e}"))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if path.split('/').any(|part| part == "..") || path.starts_with('/') {
            return Err(format!("tar entry `{path}` leaves the archive"));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > MAX_ENTRY_BYTES {
            return Err(format!("tar entry `{path}` is too large ({size} bytes)"));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("unreadable tar entry `{path}`: {e}"))?;
        files.insert(path, bytes);
    }
    Ok(files)
}

/// An OCI image layout in memory: its `index.json` and its blobs by
/// SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLayout {
    /// `index.json`, as written.
    pub index: Vec<u8>,
    /// Blob hex digest → content.
    pub blobs: BTreeMap<String, Vec<u8>>,
}

impl ImageLayout {
    /// The layout as a deterministic tar.
    pub fn to_tar(&self) -> Vec<u8> {
        let mut files = BTreeMap::new();
        files.insert("oci-layout".to_string(), OCI_LAYOUT.to_vec());
        files.insert("index.json".to_string(), self.index.clone());
        for (hex, bytes) in &self.blobs {
            files.insert(format!("blobs/sha256/{hex}"), bytes.clone());
        }
        deterministic_tar(&files)
    }

    /// Reads a layout tar, checking that it is one (`oci-layout`,
    /// `index.json`) and that every blob's content matches its name.
    pub fn from_tar(reader: impl Read) -> Result<Self, String> {
        let mut files = read_tar(reader)?;
        let layout = files
            .remove("oci-layout")
            .ok_or("it has no `oci-layout` file: not an OCI image layout")?;
        let version: Value = serde_json::from_slice(&layout)
            .map_err(|e| format!("`oci-layout` is not JSON: {e}"))?;
        if version["imageLayoutVersion"] != "1.0.0" {
            return Err("`oci-layout` is not image layout version 1.0.0".into());
        }
        let index = files.remove("index.json").ok_or("it has no `index.json`")?;
        let mut blobs = BTreeMap::new();
        for (path, bytes) in files {
            let Some(hex) = path.strip_prefix("blobs/sha256/") else {
                continue;
            };
            let actual = sha256_hex(&bytes);
            if actual != hex {
                return Err(format!(
                    "blob `{path}` is corrupt: its content has digest sha256:{actual}"
                ));
            }
            blobs.insert(hex.to_string(), bytes);
        }
        Ok(Self { index, blobs })
    }

    /// The blob with digest `sha256:<hex>`.
    pub fn blob(&self, digest: &str) -> Option<&[u8]> {
        let hex = digest.strip_prefix("sha256:")?;
        self.blobs.get(hex).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        files.insert("wit/world.wit".into(), b"package a:b;".to_vec());
        files.insert("wit/deps/streaming/types.wit".into(), b"x".to_vec());
        files
    }

    #[test]
    fn the_same_files_make_the_same_bytes_whatever_the_order() {
        let a = deterministic_tar(&files());
        let mut reversed = BTreeMap::new();
        for (k, v) in files().into_iter().rev() {
            reversed.insert(k, v);
        }
        assert_eq!(a, deterministic_tar(&reversed));
        let back = read_tar(a.as_slice()).expect("reads");
        assert_eq!(back, files());
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[{"y":1,"x":2}],"c":3}}"#).expect("json");
        assert_eq!(
            String::from_utf8(canonical_json(&v)).expect("utf8"),
            r#"{"a":{"c":3,"z":[{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn a_layout_round_trips_and_a_corrupt_blob_is_refused() {
        let blob = b"hello".to_vec();
        let mut blobs = BTreeMap::new();
        blobs.insert(sha256_hex(&blob), blob.clone());
        let layout = ImageLayout {
            index: b"{}".to_vec(),
            blobs,
        };
        let tar = layout.to_tar();
        assert_eq!(tar, layout.to_tar());
        let back = ImageLayout::from_tar(tar.as_slice()).expect("reads");
        assert_eq!(back, layout);
        assert_eq!(back.blob(&digest_of(&blob)), Some(blob.as_slice()));

        let mut files = BTreeMap::new();
        files.insert("oci-layout".to_string(), OCI_LAYOUT.to_vec());
        files.insert("index.json".to_string(), b"{}".to_vec());
        files.insert(format!("blobs/sha256/{}", sha256_hex(b"other")), blob);
        let error =
            ImageLayout::from_tar(deterministic_tar(&files).as_slice()).expect_err("corrupt");
        assert!(error.contains("corrupt"), "{error}");
        let error = ImageLayout::from_tar(&b"not a tar at all"[..]).expect_err("not a tar");
        assert!(!error.is_empty());
    }
}
