//! Python components: `componentize-py componentize app` in the
//! component's `path`, against its `wit/` folder (world and vendored
//! `wit/deps/`), writing the component's artifact (see
//! [`super::artifact_path`]). The module must be `app.py`, exporting one
//! class per exported interface (`Processor`, `Source`, `Sink`, `Filter`,
//! `Router`, `Aggregator`).
//!
//! The componentize-py version Torvyn is tested with is pinned in
//! `python-requirements.txt` beside this file (what `.ci/run` installs);
//! `$TORVYN_COMPONENTIZE_PY` names another executable than the one on
//! `PATH`.

use super::Observer;
use crate::assembly::ResolveError;
use crate::config::ComponentDecl;
use std::path::Path;
use std::process::{Command, Stdio};

/// `componentize-py==<version>`: the pip requirement Torvyn is tested with.
const REQUIREMENT: &str = include_str!("python-requirements.txt");

/// The Python module componentize-py builds the component from.
pub const APP_MODULE: &str = "app";

/// The pinned requirement, as `pip install` takes it
/// (`componentize-py==0.25.1`).
pub fn componentize_py_requirement() -> &'static str {
    REQUIREMENT.trim()
}

/// The pinned componentize-py version (`0.25.1`).
pub fn componentize_py_version() -> &'static str {
    let requirement = componentize_py_requirement();
    requirement
        .split_once("==")
        .map_or(requirement, |(_, version)| version)
}

/// The componentize-py executable: `$TORVYN_COMPONENTIZE_PY`, else
/// `componentize-py` on `PATH`.
pub fn program() -> String {
    std::env::var("TORVYN_COMPONENTIZE_PY").unwrap_or_else(|_| "componentize-py".into())
}

/// The fix for a missing or failing componentize-py.
pub fn install_hint() -> String {
    format!(
        "install componentize-py (Python 3.10 or newer): `pip install {}`",
        componentize_py_requirement()
    )
}

/// The version `componentize-py --version` reports (`0.25.1`), or why it
/// cannot run. A pyenv shim for a package not installed in the active
/// Python runs and fails: that is "cannot run" too.
fn installed_version() -> Result<String, String> {
    let output = Command::new(program())
        .arg("--version")
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().next().unwrap_or_default().trim().to_string();
        return Err(if why.is_empty() {
            format!("`componentize-py --version` exited with {}", output.status)
        } else {
            why
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(stdout
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string())
}

/// Builds the component in `dir` into `wasm`; componentize-py's
/// diagnostics (a Python traceback) go to stderr.
pub(super) fn build(
    dir: &Path,
    decl: &ComponentDecl,
    wasm: &Path,
    observer: &dyn Observer,
) -> Result<(), ResolveError> {
    let missing = |reason: String| ResolveError::Toolchain {
        component: decl.name.clone(),
        tool: "componentize-py",
        reason,
        fix: install_hint(),
    };
    let failed = |reason: String| ResolveError::BuildFailed {
        component: decl.name.clone(),
        reason,
    };
    let version = installed_version().map_err(missing)?;
    if version != componentize_py_version() {
        observer.status(&format!(
            "warning: componentize-py {version} is installed; Torvyn is tested with {} (`pip install {}`)",
            componentize_py_version(),
            componentize_py_requirement()
        ));
    }
    if !dir.join(format!("{APP_MODULE}.py")).is_file() {
        return Err(failed(format!(
            "{} has no {APP_MODULE}.py, the module componentize-py builds",
            dir.display()
        )));
    }
    if let Some(parent) = wasm.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| failed(format!("cannot create {}: {e}", parent.display())))?;
    }
    let status = Command::new(program())
        .args(["--wit-path", "wit", "componentize", APP_MODULE])
        .args(["--python-path", ".", "--output"])
        .arg(wasm)
        .current_dir(dir)
        // A Python error is a traceback; componentize-py's own Rust stack
        // (on by a developer's RUST_BACKTRACE) would bury it.
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| missing(e.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(format!("componentize-py exited with {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_is_one_exact_version() {
        let version = componentize_py_version();
        assert!(
            componentize_py_requirement().starts_with("componentize-py=="),
            "{}",
            componentize_py_requirement()
        );
        assert!(semver::Version::parse(version).is_ok(), "{version}");
        assert!(install_hint().contains(&format!("componentize-py=={version}")));
    }
}
