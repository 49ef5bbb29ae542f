//! `torvyn check`: static validation of a project, without compiling or
//! running anything. The spec's seven steps: manifest parse and schema
//! (E0001, E0002, E0700–E0702), WIT syntax (E0100) and resolution (E0101),
//! world consistency (E0102), the capability cross-check of each
//! component's manifest against its world's imports (E0103), and
//! deprecations (E0110, a warning; an error under `--strict`).

use crate::output::{diagnostic_json, exit_code, Output};
use std::path::{Path, PathBuf};
use torvyn_runtime::config::Manifest;
use torvyn_runtime::contracts::link::component_manifest;
use torvyn_runtime::contracts::version::is_deprecated;
use torvyn_runtime::contracts::{wit_dir, world, ContractError, InterfaceRef};
use torvyn_runtime::error::{Coded, Diagnostic};
use torvyn_runtime::security::{self, Declared};

/// `torvyn check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Path to Torvyn.toml.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Treat warnings as errors (exit 2 when there are any).
    #[arg(long)]
    strict: bool,
}

/// What a passing check found.
struct Report {
    lines: Vec<String>,
    warnings: Vec<Diagnostic>,
}

pub fn run(args: CheckArgs, out: &Output) -> u8 {
    match check(&args.manifest) {
        Ok(report) => {
            for line in &report.lines {
                out.line(&format!("  ✓ {line}"));
            }
            for warning in &report.warnings {
                out.warn(warning);
            }
            let code = if args.strict && !report.warnings.is_empty() {
                2
            } else {
                0
            };
            out.line("");
            out.line(match (code, report.warnings.is_empty()) {
                (0, true) => "  All checks passed.",
                (0, false) => "  All checks passed, with warnings.",
                _ => "  Checks failed: warnings are errors under --strict.",
            });
            out.json(
                serde_json::json!({
                    "command": "check",
                    "checks": report.lines,
                    "warnings": report.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
                }),
                code,
            );
            code
        }
        Err(diagnostic) => {
            let code = if exit_code(&diagnostic) == 2 { 2 } else { 1 };
            out.fail(&diagnostic, code)
        }
    }
}

fn check(manifest_path: &Path) -> Result<Report, Diagnostic> {
    let manifest = Manifest::load(manifest_path).map_err(|e| e.diagnostic())?;
    let root = match manifest_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = manifest_path.file_name().map_or_else(
        || manifest_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut lines = vec![format!("Manifest valid ({name})")];
    let mut warnings = Vec::new();

    // Steps 3–5: every contract root parses, resolves, and its worlds export.
    let mut roots: Vec<PathBuf> = wit_dir::roots_in(&root.join("wit"));
    for decl in &manifest.components {
        for dir in wit_dir::roots_in(&root.join(&decl.path).join("wit")) {
            if !roots.contains(&dir) {
                roots.push(dir);
            }
        }
    }
    let mut parsed = Vec::new();
    let mut files = 0;
    for dir in &roots {
        let wit = wit_dir::load(dir, &root).map_err(|e| e.diagnostic())?;
        world::check_worlds(&wit, &root).map_err(|e| e.diagnostic())?;
        files += wit.files;
        parsed.push(wit);
    }
    lines.push(if manifest.components.len() > 1 {
        format!("Contracts valid ({} components)", manifest.components.len())
    } else {
        format!(
            "Contracts valid ({files} interface file{})",
            if files == 1 { "" } else { "s" }
        )
    });

    // Step 6: each component's declared capabilities against its world's imports.
    let imports_under = |dir: &Path| -> Vec<InterfaceRef> {
        parsed
            .iter()
            .filter(|w| w.dir.starts_with(dir))
            .flat_map(|w| {
                world::root_worlds(w)
                    .into_iter()
                    .flat_map(move |id| world::world_imports(w, id))
            })
            .collect()
    };
    for decl in &manifest.components {
        let (own, shown) =
            component_manifest(&manifest, &root, &decl.name).map_err(|e| e.diagnostic())?;
        let config = own
            .as_ref()
            .map_or(&manifest.capabilities, |m| &m.capabilities);
        let declared = Declared::parse(config, &shown).map_err(|e| e.diagnostic())?;
        let mut imports = imports_under(&root.join(&decl.path).join("wit"));
        if imports.is_empty() {
            imports = imports_under(&root.join("wit"));
        }
        security::cross_check(&decl.name, &declared, &imports, &shown)
            .map_err(|e| e.diagnostic())?;
        lines.push(format!("Component \"{}\" declared correctly", decl.name));
    }
    if manifest.components.is_empty() {
        let declared =
            Declared::parse(&manifest.capabilities, &name).map_err(|e| e.diagnostic())?;
        let imports = imports_under(&root.join("wit"));
        security::cross_check(&manifest.torvyn.name, &declared, &imports, &name)
            .map_err(|e| e.diagnostic())?;
    }
    for (component, grant) in &manifest.security.grants {
        security::parse_grants(component, &grant.capabilities).map_err(|e| e.diagnostic())?;
    }

    // Step 7: deprecations.
    let contract = &manifest.torvyn.contract_version;
    if semver::Version::parse(contract).is_ok_and(|v| is_deprecated(&v)) {
        warnings.push(
            ContractError::Deprecated {
                what: "[torvyn] contract_version".into(),
                version: contract.clone(),
                location: manifest.location_of(&["torvyn", "contract_version"]),
            }
            .diagnostic(),
        );
    }
    for wit in &parsed {
        for (_, package) in wit.resolve.packages.iter() {
            let deprecated = package.name.namespace == "torvyn"
                && package.name.version.as_ref().is_some_and(is_deprecated);
            if deprecated {
                warnings.push(
                    ContractError::Deprecated {
                        what: format!("WIT package `{}`", package.name),
                        version: package
                            .name
                            .version
                            .as_ref()
                            .map_or(String::new(), ToString::to_string),
                        location: Some(
                            wit.dir
                                .strip_prefix(&root)
                                .unwrap_or(&wit.dir)
                                .display()
                                .to_string(),
                        ),
                    }
                    .diagnostic(),
                );
            }
        }
    }
    Ok(Report { lines, warnings })
}
