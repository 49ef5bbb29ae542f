//! Rust components: `cargo build --target wasm32-wasip2` in the
//! component's `path`; the .wasm lands where `cargo metadata` says.

use super::Profile;
use crate::assembly::{Observer, ResolveError};
use crate::config::ComponentDecl;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Rust target components are built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// What `cargo` is (`$CARGO`, else `cargo` on `PATH`).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A missing cargo or wasm target, with the rustup fix.
fn missing(decl: &ComponentDecl, reason: String) -> ResolveError {
    ResolveError::Toolchain {
        component: decl.name.clone(),
        tool: "cargo",
        reason,
        fix: "install Rust and the wasm32-wasip2 target: `rustup target add wasm32-wasip2`".into(),
    }
}

/// `<target dir>/wasm32-wasip2/<profile>/<lib name>.wasm` of the crate in
/// `dir`.
pub(super) fn artifact(
    dir: &Path,
    decl: &ComponentDecl,
    profile: Profile,
) -> Result<PathBuf, ResolveError> {
    if !dir.join("Cargo.toml").is_file() && decl.build_command.is_none() {
        return Err(ResolveError::BuildFailed {
            component: decl.name.clone(),
            reason: format!(
                "{} has no Cargo.toml and no build_command is set",
                dir.display()
            ),
        });
    }
    expected_wasm(dir, profile).map_err(|reason| match reason {
        MetadataError::NoCargo(reason) => missing(decl, reason),
        MetadataError::Other(reason) => ResolveError::BuildFailed {
            component: decl.name.clone(),
            reason,
        },
    })
}

/// `cargo build --target wasm32-wasip2` (`--release` for
/// [`Profile::Release`]) in `dir`; cargo's diagnostics go to stderr.
pub(super) fn build(
    dir: &Path,
    decl: &ComponentDecl,
    profile: Profile,
    observer: &dyn Observer,
) -> Result<(), ResolveError> {
    if !wasm_target_installed(dir) {
        // A fresh machine with only Rust: add the target, as `torvyn
        // doctor --fix` would, saying so.
        add_wasm_target(dir, observer).map_err(|reason| missing(decl, reason))?;
    }
    let mut cargo = Command::new(cargo());
    cargo.args(["build", "--target", WASM_TARGET]);
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    let status = cargo
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| missing(decl, e.to_string()))?;
    if status.success() {
        return Ok(());
    }
    if !wasm_target_installed(dir) {
        return Err(missing(
            decl,
            format!("the Rust target `{WASM_TARGET}` is not installed"),
        ));
    }
    Err(ResolveError::BuildFailed {
        component: decl.name.clone(),
        reason: format!("the build exited with {status}"),
    })
}

/// `rustup target add wasm32-wasip2` for the toolchain used in `dir`,
/// telling `observer`; why it failed (no rustup, no network, …).
pub fn add_wasm_target(dir: &Path, observer: &dyn Observer) -> Result<(), String> {
    observer.status(&format!(
        "Adding the {WASM_TARGET} target (rustup target add {WASM_TARGET})"
    ));
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| {
            format!("the Rust target `{WASM_TARGET}` is not installed and rustup cannot run: {e}")
        })?;
    if status.success() && wasm_target_installed(dir) {
        Ok(())
    } else {
        Err(format!(
            "the Rust target `{WASM_TARGET}` is not installed and `rustup target add {WASM_TARGET}` failed ({status})"
        ))
    }
}

/// Whether the toolchain used in `dir` (`$RUSTC`, else `rustc`) has the
/// standard library of [`WASM_TARGET`] (`<sysroot>/lib/rustlib/<target>`).
pub fn wasm_target_installed(dir: &Path) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| {
            Path::new(String::from_utf8_lossy(&o.stdout).trim())
                .join("lib/rustlib")
                .join(WASM_TARGET)
                .is_dir()
        })
}

enum MetadataError {
    NoCargo(String),
    Other(String),
}

/// `<target dir>/wasm32-wasip2/<profile>/<lib name>.wasm`, from `cargo metadata`.
fn expected_wasm(dir: &Path, profile: Profile) -> Result<PathBuf, MetadataError> {
    let manifest_path = dir.join("Cargo.toml");
    let output = Command::new(cargo())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest_path)
        .output()
        .map_err(|e| MetadataError::NoCargo(e.to_string()))?;
    if !output.status.success() {
        return Err(MetadataError::Other(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| MetadataError::Other(format!("unreadable cargo metadata: {e}")))?;
    let target_dir = meta["target_directory"]
        .as_str()
        .ok_or_else(|| MetadataError::Other("cargo metadata has no target_directory".into()))?;
    let canonical = std::fs::canonicalize(&manifest_path).unwrap_or(manifest_path);
    let package = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(canonical.as_path()))
        .ok_or_else(|| {
            MetadataError::Other(format!(
                "cargo metadata does not list {}",
                canonical.display()
            ))
        })?;
    let lib = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .ok_or_else(|| {
            MetadataError::Other(
                "the package has no cdylib target (add `crate-type = [\"cdylib\"]`)".into(),
            )
        })?;
    let name = lib["name"].as_str().unwrap_or_default().replace('-', "_");
    Ok(Path::new(target_dir)
        .join(WASM_TARGET)
        .join(profile.dir_name())
        .join(format!("{name}.wasm")))
}
