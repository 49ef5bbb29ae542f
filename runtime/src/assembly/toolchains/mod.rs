//! How a `[[component]]` is built, by its `language`:
//!
//! | `language`        | toolchain                                   | artifact                                          |
//! |-------------------|---------------------------------------------|---------------------------------------------------|
//! | `rust` (default)  | `cargo build --target wasm32-wasip2`        | `<cargo target dir>/wasm32-wasip2/<profile>/<lib>.wasm` |
//! | `python`          | `componentize-py componentize app`          | `<path>/target/python/<name>.wasm`                |
//! | `go`, `zig`       | none yet: only a `build_command` builds one | `<path>/target/<language>/<name>.wasm`            |
//!
//! A `build_command`, when set, replaces the toolchain's command (it runs
//! with `sh -c` in the component's `path`, `$TORVYN_ARTIFACT` naming the
//! .wasm it must write); the artifact stays where the table says.
//! [`artifact_path`] is the one answer to "where is the .wasm", for
//! `torvyn build`, `torvyn run`'s stale-component builds and the tests.

pub mod cargo;
pub mod python;

use super::{Observer, ResolveError};
use crate::config::{ComponentDecl, Language};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `dir` without its `./` segments (`./.` reads as `.`).
fn shown(dir: &Path) -> PathBuf {
    let clean: PathBuf = dir
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if clean.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        clean
    }
}

/// The profile a component is built with (cargo's; other toolchains have
/// one build for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `cargo build` (`target/wasm32-wasip2/debug`).
    Debug,
    /// `cargo build --release` (`target/wasm32-wasip2/release`).
    Release,
}

impl Profile {
    /// The profile's folder under `target/wasm32-wasip2/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// What builds a component of some language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolchain {
    /// Rust: cargo.
    Cargo,
    /// Python: componentize-py.
    ComponentizePy,
    /// A language Torvyn has no toolchain for yet: only its
    /// `build_command` can build it.
    None(Language),
}

impl Toolchain {
    /// The toolchain of `language`.
    pub fn of(language: Language) -> Toolchain {
        match language {
            Language::Rust => Toolchain::Cargo,
            Language::Python => Toolchain::ComponentizePy,
            Language::Go | Language::Zig => Toolchain::None(language),
        }
    }
}

/// Where building `decl` (declared in the project at `root`) with
/// `profile` writes its .wasm.
pub fn artifact_path(
    root: &Path,
    decl: &ComponentDecl,
    profile: Profile,
) -> Result<PathBuf, ResolveError> {
    let dir = root.join(&decl.path);
    match Toolchain::of(decl.language) {
        Toolchain::Cargo => cargo::artifact(&dir, decl, profile),
        Toolchain::None(language) if decl.build_command.is_none() => {
            Err(ResolveError::Unsupported {
                component: decl.name.clone(),
                language: language.as_str(),
            })
        }
        // Absolute, like cargo's: the path is shown relative to the root.
        Toolchain::ComponentizePy | Toolchain::None(_) => Ok(std::fs::canonicalize(&dir)
            .unwrap_or(dir)
            .join("target")
            .join(decl.language.as_str())
            .join(format!("{}.wasm", decl.name))),
    }
}

/// Builds `decl` with its `build_command`, or else with its language's
/// toolchain, in its `path`, whether or not its .wasm is fresh; the .wasm
/// it wrote. The compiler's diagnostics go to stderr.
pub fn build_component(
    root: &Path,
    decl: &ComponentDecl,
    profile: Profile,
    observer: &dyn Observer,
) -> Result<PathBuf, ResolveError> {
    let dir = root.join(&decl.path);
    let wasm = artifact_path(root, decl, profile)?;
    let failed = |reason: String| ResolveError::BuildFailed {
        component: decl.name.clone(),
        reason,
    };
    observer.status(&format!(
        "Building component `{}` ({})",
        decl.name,
        shown(&dir).display()
    ));
    match (&decl.build_command, Toolchain::of(decl.language)) {
        (Some(command), _) => run_build_command(command, &dir, &wasm, decl)?,
        (None, Toolchain::Cargo) => cargo::build(&dir, decl, profile, observer)?,
        (None, Toolchain::ComponentizePy) => python::build(&dir, decl, &wasm, observer)?,
        (None, Toolchain::None(language)) => {
            return Err(ResolveError::Unsupported {
                component: decl.name.clone(),
                language: language.as_str(),
            })
        }
    }
    if !wasm.is_file() {
        return Err(failed(format!(
            "the build succeeded but produced no {}",
            wasm.display()
        )));
    }
    Ok(wasm)
}

/// `sh -c command` in `dir`, with `$TORVYN_ARTIFACT` set to `wasm` (whose
/// folder exists).
fn run_build_command(
    command: &str,
    dir: &Path,
    wasm: &Path,
    decl: &ComponentDecl,
) -> Result<(), ResolveError> {
    if let Some(parent) = wasm.parent() {
        // Best effort: a command that writes elsewhere needs no folder here.
        let _ = std::fs::create_dir_all(parent);
    }
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("TORVYN_ARTIFACT", wasm)
        .current_dir(dir)
        .status()
        .map_err(|e| ResolveError::Toolchain {
            component: decl.name.clone(),
            tool: "sh",
            reason: e.to_string(),
            fix: "build_command runs with `sh -c`: install a POSIX shell".into(),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(ResolveError::BuildFailed {
            component: decl.name.clone(),
            reason: format!("the build exited with {status}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::Quiet;
    use crate::error::{Coded, ErrorCode};

    fn decl(language: Language, build_command: Option<&str>) -> ComponentDecl {
        ComponentDecl {
            name: "c".into(),
            path: "comp".into(),
            language,
            build_command: build_command.map(str::to_string),
            version: None,
        }
    }

    #[test]
    fn each_language_has_its_toolchain() {
        assert_eq!(Toolchain::of(Language::Rust), Toolchain::Cargo);
        assert_eq!(Toolchain::of(Language::Python), Toolchain::ComponentizePy);
        assert_eq!(Toolchain::of(Language::Go), Toolchain::None(Language::Go));
        assert_eq!(Toolchain::of(Language::Zig), Toolchain::None(Language::Zig));
    }

    #[test]
    fn go_and_zig_without_a_build_command_are_e0010_naming_the_language() {
        let root = tempfile::tempdir().expect("temp dir");
        for (language, name) in [(Language::Go, "go"), (Language::Zig, "zig")] {
            let decl = decl(language, None);
            for error in [
                artifact_path(root.path(), &decl, Profile::Debug).expect_err("unsupported"),
                build_component(root.path(), &decl, Profile::Release, &Quiet)
                    .expect_err("unsupported"),
            ] {
                assert_eq!(error.code(), ErrorCode::ToolchainMissing, "{error}");
                assert!(error.to_string().contains(name), "{error}");
                assert!(error.help().contains("build_command"), "{}", error.help());
            }
        }
    }

    #[test]
    fn a_python_component_is_not_built_with_cargo() {
        // No Cargo.toml: cargo's artifact would be an error; Python's is
        // the component's own target/python folder.
        let root = Path::new("/project");
        let wasm = artifact_path(root, &decl(Language::Python, None), Profile::Debug)
            .expect("python artifact");
        assert_eq!(wasm, root.join("comp/target/python/c.wasm"));
        let release = artifact_path(root, &decl(Language::Python, None), Profile::Release)
            .expect("python artifact");
        assert_eq!(release, wasm, "one build serves both profiles");
        let rust = artifact_path(root, &decl(Language::Rust, None), Profile::Debug)
            .expect_err("no Cargo.toml");
        assert!(rust.to_string().contains("no Cargo.toml"), "{rust}");
    }

    #[test]
    fn a_build_command_builds_any_language_into_its_artifact() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("comp")).expect("comp");
        for language in [Language::Go, Language::Zig, Language::Python] {
            let decl = decl(language, Some("printf 'built' > \"$TORVYN_ARTIFACT\""));
            let wasm = build_component(root.path(), &decl, Profile::Debug, &Quiet).expect("built");
            assert_eq!(
                wasm,
                root.path()
                    .join("comp/target")
                    .join(language.as_str())
                    .join("c.wasm")
            );
            assert_eq!(std::fs::read_to_string(&wasm).expect("wasm"), "built");
        }
    }

    #[test]
    fn a_missing_componentize_py_is_e0010_with_the_pinned_pip_install() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("comp")).expect("comp");
        // nextest runs each test in its own process; under `cargo test`, no
        // other test of this crate builds a Python component.
        std::env::set_var("TORVYN_COMPONENTIZE_PY", "/nonexistent/componentize-py");
        let error = build_component(
            root.path(),
            &decl(Language::Python, None),
            Profile::Debug,
            &Quiet,
        )
        .expect_err("missing");
        std::env::remove_var("TORVYN_COMPONENTIZE_PY");
        assert_eq!(error.code(), ErrorCode::ToolchainMissing, "{error}");
        assert!(error.to_string().contains("componentize-py"), "{error}");
        assert!(
            error.help().contains(&format!(
                "pip install {}",
                python::componentize_py_requirement()
            )),
            "{}",
            error.help()
        );
    }
}
