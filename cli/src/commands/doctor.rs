//! `torvyn doctor [--fix]`: checks the developer's machine and project —
//! the Rust toolchain and its wasm32-wasip2 target (required), optional
//! tools (cargo-component, wasm-tools, componentize-py, wasmtime), the
//! project in the current directory (manifest, contracts, vendored WIT
//! packages against the copies in this binary) and the registry of
//! `[registry] default` — each failure with its fix. `--fix` adds the wasm
//! target and re-vendors stale or missing WIT packages. Exit 1 when
//! anything required fails.

use super::init::templates::{Package, PACKAGES};
use crate::output::Output;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use torvyn_runtime::assembly::check::check_project;
use torvyn_runtime::assembly::toolchains::cargo::{
    add_wasm_target, wasm_target_installed, WASM_TARGET,
};
use torvyn_runtime::assembly::toolchains::python;
use torvyn_runtime::assembly::{Project, Quiet};
use torvyn_runtime::error::Coded;

/// The oldest Rust that builds Torvyn and its guests.
const MIN_RUST: (u64, u64) = (1, 85);

/// `torvyn doctor` arguments.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Fix what can be fixed: add the wasm32-wasip2 target, re-vendor the
    /// project's WIT packages.
    #[arg(long)]
    fix: bool,
    /// The project to check (checked only when the file exists).
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
}

/// How one check came out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Ok(String),
    /// Optional and absent: shown, never a failure.
    Missing(String),
    /// Required and failing: what is wrong and how to fix it.
    Failed {
        what: String,
        fix: String,
    },
}

struct Section {
    title: &'static str,
    checks: Vec<Verdict>,
}

pub fn run(args: DoctorArgs, out: &Output) -> u8 {
    let mut sections = vec![
        Section {
            title: "Torvyn CLI",
            checks: vec![Verdict::Ok(format!("torvyn {}", env!("CARGO_PKG_VERSION")))],
        },
        Section {
            title: "Rust toolchain",
            checks: rust_checks(args.fix, out),
        },
        Section {
            title: "WebAssembly tools (optional)",
            checks: optional_tools(),
        },
    ];
    if args.manifest.is_file() {
        sections.push(Section {
            title: "Project",
            checks: project_checks(&args.manifest, args.fix, out),
        });
    }
    let mut failed = 0;
    let mut json = Vec::new();
    for section in &sections {
        out.line(&format!("  {}", section.title));
        for check in &section.checks {
            let (mark, text) = match check {
                Verdict::Ok(text) => ("✓", text.clone()),
                Verdict::Missing(text) => ("○", text.clone()),
                Verdict::Failed { what, fix } => {
                    failed += 1;
                    ("✗", format!("{what}\n      fix: {fix}"))
                }
            };
            out.line(&format!("    {mark} {text}"));
            json.push(serde_json::json!({
                "section": section.title,
                "status": match check { Verdict::Ok(_) => "ok", Verdict::Missing(_) => "optional-missing", Verdict::Failed { .. } => "failed" },
                "message": match check { Verdict::Ok(t) | Verdict::Missing(t) => t.clone(), Verdict::Failed { what, .. } => what.clone() },
                "fix": match check { Verdict::Failed { fix, .. } => Some(fix.clone()), _ => None },
            }));
        }
        out.line("");
    }
    let code = u8::from(failed > 0);
    out.line(&if failed == 0 {
        "  All checks passed!".to_string()
    } else {
        format!("  {failed} check(s) failed; each says how to fix it (`torvyn doctor --fix` fixes some).")
    });
    out.json(
        serde_json::json!({ "command": "doctor", "checks": json }),
        code,
    );
    code
}

/// The output of `program args…` when it runs and succeeds.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())
}

/// `rustc 1.95.0 (…)` → (1, 95).
fn rust_version(text: &str) -> Option<(u64, u64)> {
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn rust_checks(fix: bool, out: &Output) -> Vec<Verdict> {
    let install =
        "install Rust with rustup (https://rustup.rs), then `rustup target add wasm32-wasip2`";
    let mut checks = Vec::new();
    match output_of(&rustc(), &["--version"]) {
        Some(text) if rust_version(&text).is_some_and(|v| v >= MIN_RUST) => {
            checks.push(Verdict::Ok(text))
        }
        Some(text) => checks.push(Verdict::Failed {
            what: format!("{text} is older than {}.{}", MIN_RUST.0, MIN_RUST.1),
            fix: "`rustup update stable`".into(),
        }),
        None => checks.push(Verdict::Failed {
            what: "rustc not found".into(),
            fix: install.into(),
        }),
    }
    match output_of(&cargo(), &["--version"]) {
        Some(text) => checks.push(Verdict::Ok(text)),
        None => checks.push(Verdict::Failed {
            what: "cargo not found".into(),
            fix: install.into(),
        }),
    }
    let here = Path::new(".");
    if !wasm_target_installed(here) && fix {
        if let Err(reason) = add_wasm_target(here, out) {
            out.status(&reason);
        }
    }
    checks.push(if wasm_target_installed(here) {
        Verdict::Ok(format!("{WASM_TARGET} target installed"))
    } else {
        Verdict::Failed {
            what: format!("the {WASM_TARGET} target is not installed"),
            fix: "`rustup target add wasm32-wasip2` (or `torvyn doctor --fix`)".into(),
        }
    });
    checks
}

fn optional_tools() -> Vec<Verdict> {
    let python_hint = format!(
        "for Python components: `pip install {}`",
        python::componentize_py_requirement()
    );
    [
        (
            cargo(),
            vec!["component", "--version"],
            "cargo-component",
            "guests build with plain cargo; not needed",
        ),
        (
            "wasm-tools".to_string(),
            vec!["--version"],
            "wasm-tools",
            "`cargo install wasm-tools`",
        ),
        (
            python::program(),
            vec!["--version"],
            "componentize-py",
            python_hint.as_str(),
        ),
        (
            "wasmtime".to_string(),
            vec!["--version"],
            "wasmtime CLI",
            "not needed: Torvyn embeds Wasmtime",
        ),
    ]
    .into_iter()
    .map(
        |(program, args, name, hint)| match output_of(&program, &args) {
            Some(version)
                if name == "componentize-py"
                    && !version.ends_with(python::componentize_py_version()) =>
            {
                Verdict::Ok(format!(
                    "{name}: {version} (Torvyn is tested with {}: `pip install {}`)",
                    python::componentize_py_version(),
                    python::componentize_py_requirement()
                ))
            }
            Some(version) => Verdict::Ok(format!("{name}: {version}")),
            None => Verdict::Missing(format!("{name} not installed ({hint})")),
        },
    )
    .collect()
}

fn project_checks(manifest: &Path, fix: bool, out: &Output) -> Vec<Verdict> {
    let mut checks = Vec::new();
    let project = match Project::load(manifest) {
        Ok(project) => {
            checks.push(Verdict::Ok(format!("{} loads", project.file_name())));
            project
        }
        Err(e) => {
            checks.push(Verdict::Failed {
                what: e.to_string(),
                fix: e.diagnostic().help,
            });
            return checks;
        }
    };
    if fix {
        for dir in stale_wit_deps(&project) {
            out.status(&format!(
                "Re-vendoring the WIT packages in {}",
                dir.display()
            ));
            if let Err(e) = vendor_into(&dir) {
                checks.push(Verdict::Failed {
                    what: format!("cannot write {}: {e}", dir.display()),
                    fix: "check the directory's permissions".into(),
                });
            }
        }
    }
    let stale = stale_wit_deps(&project);
    checks.push(if stale.is_empty() {
        Verdict::Ok("WIT dependencies match this Torvyn's contracts (0.1.0)".into())
    } else {
        Verdict::Failed {
            what: format!(
                "WIT dependencies missing or out of date in {}",
                stale
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            fix: "`torvyn doctor --fix` re-vendors them from this binary".into(),
        }
    });
    let report = check_project(project.path(), &Quiet);
    checks.push(match report.errors.first() {
        None => Verdict::Ok("`torvyn check` passes".into()),
        Some(first) => Verdict::Failed {
            what: format!(
                "`torvyn check` finds {} error(s), first {}: {}",
                report.errors.len(),
                first.code,
                first.message
            ),
            fix: "run `torvyn check` for every error and its fix".into(),
        },
    });
    let registry = &project.manifest().registry.default;
    if !registry.is_empty() {
        checks.push(registry_check(registry));
    }
    checks
}

/// The `wit/` folders of the project and its components whose `deps/`
/// lack a package their WIT uses, or hold a copy that differs from this
/// binary's.
fn stale_wit_deps(project: &Project) -> Vec<PathBuf> {
    let mut roots = vec![project.root().join("wit")];
    for component in &project.manifest().components {
        roots.push(project.root().join(&component.path).join("wit"));
    }
    roots.sort();
    roots.dedup();
    roots
        .into_iter()
        .filter(|wit| wit.is_dir() && !deps_current(wit))
        .collect()
}

/// Whether every Torvyn package `wit`'s own files use is vendored under
/// `wit/deps/` exactly as this binary carries it.
fn deps_current(wit: &Path) -> bool {
    PACKAGES.iter().all(|package| {
        if !wanted(wit, package) {
            return true;
        }
        let dir = wit.join("deps").join(package.dir);
        package
            .files
            .iter()
            .all(|(name, text)| std::fs::read_to_string(dir.join(name)).is_ok_and(|t| t == *text))
    })
}

/// Whether `wit/` needs `package` vendored: its own .wit files name it,
/// or it is vendored already.
fn wanted(wit: &Path, package: &Package) -> bool {
    let name = format!("torvyn:{}", package.dir);
    wit.join("deps").join(package.dir).exists()
        || std::fs::read_dir(wit)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "wit"))
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(&name)))
}

/// Writes every package a `wit/` folder uses (or already vendors) into its
/// `deps/`.
fn vendor_into(wit: &Path) -> std::io::Result<()> {
    for package in PACKAGES.iter().filter(|p| wanted(wit, p)) {
        let dir = wit.join("deps").join(package.dir);
        std::fs::create_dir_all(&dir)?;
        for (name, text) in package.files {
            std::fs::write(dir.join(name), text)?;
        }
    }
    Ok(())
}

/// Whether the registry's host answers on its port (a TCP connection
/// within 3 s).
fn registry_check(reference: &str) -> Verdict {
    let host_port = reference
        .trim_start_matches("oci://")
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let address = if host_port.contains(':') {
        host_port.clone()
    } else {
        format!("{host_port}:443")
    };
    let reachable = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(3)).is_ok());
    if reachable {
        Verdict::Ok(format!("registry {host_port} reachable"))
    } else {
        Verdict::Failed {
            what: format!("registry {host_port} ([registry] default) does not answer"),
            fix: "check the address and your network, or unset [registry] default".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_versions_are_read_from_rustc() {
        assert_eq!(
            rust_version("rustc 1.95.0 (59807616e 2026-04-14)"),
            Some((1, 95))
        );
        assert_eq!(rust_version("rustc"), None);
        assert!(rust_version("rustc 1.84.1 (x)").is_some_and(|v| v < MIN_RUST));
    }

    #[test]
    fn a_wit_folder_missing_a_used_package_is_stale_and_fix_vendors_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let wit = dir.path();
        std::fs::write(
            wit.join("world.wit"),
            "package my:thing;\nworld w { export torvyn:streaming/processor@0.1.0; }\n",
        )
        .expect("write");
        assert!(!deps_current(wit));
        vendor_into(wit).expect("vendors");
        assert!(deps_current(wit));
        std::fs::write(wit.join("deps/streaming/types.wit"), "// edited").expect("edit");
        assert!(!deps_current(wit));
    }
}
