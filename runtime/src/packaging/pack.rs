//! `torvyn pack` in the library: a project's `[[component]]` (built when
//! stale) becomes an [`Artifact`] written as an OCI image layout tar
//! (`.torvyn/artifacts/<name>-<version>.tar` by default). The caller runs
//! `torvyn check` first.

use super::artifact::{keys, Artifact, ArtifactSpec};
use super::error::PackagingError;
use super::reference::check_tag;
use super::signature::SigningKey;
use crate::assembly::{ComponentResolver, Observer, Project};
use crate::config::ComponentDecl;
use crate::contracts::profile::ComponentProfile;
use crate::error::Coded;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `torvyn pack` options.
#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    /// Only this component (default: every `[[component]]`).
    pub component: Option<String>,
    /// A `.tar` file (one component) or a directory.
    pub output: Option<PathBuf>,
    /// The tag recorded in the layout (default: the version).
    pub tag: Option<String>,
    /// Add a layer with the component's sources.
    pub include_source: bool,
    /// Sign with `[security] signing_key`.
    pub sign: bool,
}

/// One packed component.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The component's name.
    pub component: String,
    /// Its version.
    pub version: String,
    /// The tar written.
    pub path: PathBuf,
    /// The tar's size.
    pub bytes: u64,
    /// What it holds.
    pub artifact: Artifact,
}

/// Packs the chosen components of `project`.
pub fn pack_project(
    project: &Project,
    options: &PackOptions,
    observer: &dyn Observer,
) -> Result<Vec<Packed>, PackagingError> {
    let manifest = project.manifest();
    let chosen: Vec<&ComponentDecl> = match &options.component {
        Some(name) => {
            vec![manifest
                .component(name)
                .ok_or_else(|| PackagingError::UnknownComponent {
                    name: name.clone(),
                    declared: manifest.components.iter().map(|c| c.name.clone()).collect(),
                })?]
        }
        None => manifest.components.iter().collect(),
    };
    if chosen.is_empty() {
        return Err(PackagingError::UnknownComponent {
            name: String::new(),
            declared: Vec::new(),
        });
    }
    let single_file = options
        .output
        .as_ref()
        .filter(|p| p.extension().is_some_and(|e| e == "tar"));
    if single_file.is_some() && chosen.len() > 1 {
        return Err(PackagingError::ArtifactInvalid {
            what: "--output".into(),
            reason:
                "one .tar file cannot hold several components; pass --component NAME or a directory"
                    .into(),
        });
    }
    let signing_key = if options.sign {
        let path = &manifest.security.signing_key;
        if path.is_empty() {
            return Err(PackagingError::Signing {
                reason: "--sign needs a key, and [security] signing_key is not set".into(),
            });
        }
        Some(SigningKey::load(&project.root().join(path))?)
    } else {
        None
    };
    let resolver = ComponentResolver::new(project.root(), manifest, observer);
    let mut packed = Vec::new();
    for decl in chosen {
        let wasm = resolver
            .resolve(&decl.name, &decl.name)
            .map_err(|e| PackagingError::Resolve(Box::new(e)))?;
        let version = decl
            .version
            .clone()
            .unwrap_or_else(|| manifest.torvyn.version.clone());
        let tag = options.tag.clone().unwrap_or_else(|| version.clone());
        check_tag(&tag).map_err(|reason| PackagingError::ArtifactInvalid {
            what: "--tag".into(),
            reason,
        })?;
        let mut spec = artifact_spec(project, decl, &wasm, &version, tag, options.include_source)?;
        spec.signing_key = signing_key.clone();
        let artifact = Artifact::build(spec)?;
        let path = match (single_file, &options.output) {
            (Some(file), _) => project.root().join(file),
            (None, Some(dir)) => project
                .root()
                .join(dir)
                .join(file_name(&decl.name, &version)),
            (None, None) => project
                .root()
                .join(".torvyn")
                .join("artifacts")
                .join(file_name(&decl.name, &version)),
        };
        let bytes = artifact.write(&path)?;
        packed.push(Packed {
            component: decl.name.clone(),
            version,
            path,
            bytes,
            artifact,
        });
    }
    Ok(packed)
}

fn file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.tar")
}

fn artifact_spec(
    project: &Project,
    decl: &ComponentDecl,
    wasm_path: &Path,
    version: &str,
    tag: String,
    include_source: bool,
) -> Result<ArtifactSpec, PackagingError> {
    let manifest = project.manifest();
    let wasm = std::fs::read(wasm_path).map_err(|e| PackagingError::Io {
        action: "read",
        path: wasm_path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let profile = ComponentProfile::describe(wasm_path, &wasm).map_err(|e| {
        PackagingError::ArtifactInvalid {
            what: wasm_path.display().to_string(),
            reason: e.diagnostic().message,
        }
    })?;
    let dir = project.root().join(&decl.path);
    let mut contracts = BTreeMap::new();
    collect(&dir.join("wit"), "wit", &mut contracts, &|p| {
        p.extension().is_some_and(|e| e == "wit")
    });
    let project_wit = project.root().join("wit");
    if contracts.is_empty() && project_wit.is_dir() {
        collect(&project_wit, "wit", &mut contracts, &|p| {
            p.extension().is_some_and(|e| e == "wit")
        });
    }
    let source = include_source.then(|| {
        let mut files = BTreeMap::new();
        for name in ["Cargo.toml", "Cargo.lock", "Torvyn.toml"] {
            if let Ok(bytes) = std::fs::read(dir.join(name)) {
                files.insert(format!("source/{name}"), bytes);
            }
        }
        collect(&dir.join("src"), "source/src", &mut files, &|_| true);
        collect(&dir.join("wit"), "source/wit", &mut files, &|_| true);
        files
    });
    let meta = &manifest.torvyn;
    let mut annotations = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        if !value.is_empty() {
            annotations.insert(key.to_string(), value);
        }
    };
    put(keys::TITLE, decl.name.clone());
    put(keys::VERSION, version.to_string());
    put(keys::DESCRIPTION, meta.description.clone());
    put(keys::AUTHORS, meta.authors.join(", "));
    put(keys::LICENSES, meta.license.clone());
    put(keys::SOURCE, meta.repository.clone());
    put(keys::CONTRACT_VERSION, meta.contract_version.clone());
    put(keys::ROLES, profile.roles.join(","));
    let caps = &manifest.capabilities;
    put(
        keys::CAPABILITIES,
        caps.required_ids().collect::<Vec<_>>().join(","),
    );
    put(
        keys::OPTIONAL_CAPABILITIES,
        caps.optional_ids().collect::<Vec<_>>().join(","),
    );
    if let Some(summary) = benchmark_summary(project.root()) {
        put(keys::BENCHMARKS, summary);
    }
    Ok(ArtifactSpec {
        wasm,
        imports: profile.imports,
        exports: profile.exports,
        contracts,
        source,
        annotations,
        created: created(),
        author: (!meta.authors.is_empty()).then(|| meta.authors.join(", ")),
        tag,
        signing_key: None,
    })
}

/// Files under `dir` accepted by `keep`, as `prefix/relative/path`
/// (hidden entries and `target/` skipped), into `out`.
fn collect(
    dir: &Path,
    prefix: &str,
    out: &mut BTreeMap<String, Vec<u8>>,
    keep: &dyn Fn(&Path) -> bool,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        let inner = format!("{prefix}/{name}");
        if path.is_dir() {
            collect(&path, &inner, out, keep);
        } else if keep(&path) {
            if let Ok(bytes) = std::fs::read(&path) {
                out.insert(inner, bytes);
            }
        }
    }
}

/// The benchmark baselines saved under `.torvyn/bench/` (`torvyn bench
/// --baseline NAME`), summarized as JSON `{NAME: {throughput_eps,
/// latency_p99_us}}`, or `None` when there are none.
pub fn benchmark_summary(root: &Path) -> Option<String> {
    let mut summary = serde_json::Map::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join(".torvyn").join("bench"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let Ok(report) = std::fs::read(&path)
            .map_err(|_| ())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|_| ()))
        else {
            continue;
        };
        let (Some(eps), Some(p99)) = (
            report["throughput_eps"].as_f64(),
            report["latency_p99_us"].as_f64(),
        ) else {
            continue;
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        summary.insert(
            name,
            serde_json::json!({"throughput_eps": eps, "latency_p99_us": p99}),
        );
    }
    (!summary.is_empty()).then(|| {
        String::from_utf8(super::layout::canonical_json(&serde_json::Value::Object(
            summary,
        )))
        .unwrap_or_default()
    })
}

/// The config's `created`: `SOURCE_DATE_EPOCH` when set (the
/// reproducible-builds convention), else the Unix epoch — never the
/// clock, so packing twice gives the same digest.
fn created() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0);
    rfc3339(seconds)
}

/// `seconds` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn baselines_are_summarized_in_name_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(benchmark_summary(dir.path()).is_none());
        let bench = dir.path().join(".torvyn").join("bench");
        std::fs::create_dir_all(&bench).expect("mkdir");
        std::fs::write(
            bench.join("b.json"),
            r#"{"throughput_eps":2.0,"latency_p99_us":3.5}"#,
        )
        .expect("write");
        std::fs::write(bench.join("a.json"), r#"{"throughput_eps":1}"#).expect("write");
        assert_eq!(
            benchmark_summary(dir.path()).as_deref(),
            Some(r#"{"b":{"latency_p99_us":3.5,"throughput_eps":2.0}}"#)
        );
    }
}
