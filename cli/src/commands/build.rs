//! `torvyn build`: `torvyn check`'s validation, then each `[[component]]`
//! compiled to a WebAssembly component with its toolchain (its
//! `build_command`, or `cargo build --target wasm32-wasip2` in its
//! `path`), whether or not it is fresh. The artifact's path and size are
//! reported; the compiler's own messages go to stderr.

use crate::output::{diagnostic_json, Output};
use std::path::{Path, PathBuf};
use torvyn_runtime::assembly::check::check_project;
use torvyn_runtime::assembly::project::root_of;
use torvyn_runtime::assembly::{build_component, Profile};
use torvyn_runtime::config::{ComponentDecl, Manifest};
use torvyn_runtime::error::{Coded, ErrorCode};

/// Exit code when `torvyn check` finds errors (or `--target` is unknown).
const CHECK_FAILED: u8 = 1;
/// Exit code when a component does not compile (or its toolchain is missing).
const BUILD_FAILED: u8 = 2;

/// `torvyn build` arguments.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Path to Torvyn.toml.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Build with optimizations (cargo's release profile).
    #[arg(long)]
    release: bool,
    /// Build only this component (multi-component projects).
    #[arg(long, value_name = "COMPONENT", conflicts_with = "all")]
    target: Option<String>,
    /// Build all components (the default).
    #[arg(long)]
    all: bool,
}

/// `--target` names no declared component.
#[derive(Debug, thiserror::Error)]
#[error("no component named `{name}` is declared in Torvyn.toml")]
pub struct UnknownTarget {
    name: String,
    declared: Vec<String>,
}

impl Coded for UnknownTarget {
    fn code(&self) -> ErrorCode {
        ErrorCode::ComponentNotFound
    }

    fn help(&self) -> String {
        if self.declared.is_empty() {
            "the manifest declares no [[component]]".into()
        } else {
            format!("declared components: {}", self.declared.join(", "))
        }
    }
}

pub fn run(args: BuildArgs, out: &Output) -> u8 {
    let root = root_of(&args.manifest);
    out.set_root(&root);
    let report = check_project(&args.manifest, out);
    for line in &report.lines {
        out.line(&format!("  ✓ {line}"));
    }
    if !report.errors.is_empty() {
        return out.fail_all(
            &report.errors,
            &report.warnings,
            CHECK_FAILED,
            Some("build"),
        );
    }
    out.warn_all(&report.warnings);
    // The check has just loaded it: a second load fails only on a race.
    let manifest = match Manifest::load(&args.manifest) {
        Ok(manifest) => manifest,
        Err(e) => return out.fail_all(&e.diagnostics(), &[], CHECK_FAILED, Some("build")),
    };
    let chosen = match select(&manifest, args.target.as_deref()) {
        Ok(chosen) => chosen,
        Err(e) => return out.fail_all(&[e.diagnostic()], &[], CHECK_FAILED, Some("build")),
    };
    let profile = if args.release {
        Profile::Release
    } else {
        Profile::Debug
    };
    let mut built = Vec::new();
    for decl in chosen {
        match build_component(&root, decl, profile, out) {
            Ok(wasm) => {
                let size = std::fs::metadata(&wasm).map_or(0, |m| m.len());
                out.line(&format!(
                    "  ✓ Built \"{}\" → {} ({})",
                    decl.name,
                    shown(&wasm, &root).display(),
                    human_size(size)
                ));
                built.push(serde_json::json!({
                    "component": decl.name,
                    "path": wasm.display().to_string(),
                    "bytes": size,
                }));
            }
            Err(e) => return out.fail_all(&[e.diagnostic()], &[], BUILD_FAILED, Some("build")),
        }
    }
    if built.is_empty() {
        out.line("  No [[component]] to build.");
    }
    out.json(
        serde_json::json!({
            "command": "build",
            "profile": profile.dir_name(),
            "components": built,
            "warnings": report.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
        }),
        0,
    );
    0
}

/// The components `--target` names (all of them without it).
fn select<'a>(
    manifest: &'a Manifest,
    target: Option<&str>,
) -> Result<Vec<&'a ComponentDecl>, UnknownTarget> {
    let Some(name) = target else {
        return Ok(manifest.components.iter().collect());
    };
    manifest
        .component(name)
        .map(|decl| vec![decl])
        .ok_or_else(|| UnknownTarget {
            name: name.to_string(),
            declared: manifest.components.iter().map(|c| c.name.clone()).collect(),
        })
}

/// `path` relative to the project `root` when inside it.
fn shown<'a>(path: &'a Path, root: &Path) -> &'a Path {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    path.strip_prefix(&root)
        .or_else(|_| path.strip_prefix(std::env::current_dir().unwrap_or_default()))
        .unwrap_or(path)
}

/// `12.3 KiB`, `1.2 MiB`, `512 B`.
fn human_size(bytes: u64) -> String {
    crate::units::bytes(bytes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
    }
}
