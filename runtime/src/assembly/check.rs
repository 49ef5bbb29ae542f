//! `torvyn check`'s static validation of a project, without compiling or
//! running anything. The spec's seven steps: manifest parse and schema
//! (E0001, E0002, E0700–E0702), WIT syntax (E0100) and resolution (E0101),
//! world consistency (E0102), the capability cross-check of each
//! component's manifest against its world's imports (E0103), and
//! deprecations (E0110, a warning; an error under `--strict`).

use super::components::ComponentResolver;
use super::endpoints::{complete_flow, Endpoints};
use super::error::located;
use super::project::root_of;
use super::Observer;
use crate::config::Manifest;
use crate::contracts::graph::graph_problems;
use crate::contracts::link::component_manifest;
use crate::contracts::version::is_deprecated;
use crate::contracts::{wit_dir, world, ContractError, InterfaceRef};
use crate::error::{Coded, Diagnostic};
use crate::security::{self, Declared};
use std::path::{Path, PathBuf};

/// What a check found: the passing steps, warnings, and every error.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// One line per step that passed (`Manifest valid (Torvyn.toml)`, …).
    pub lines: Vec<String>,
    /// Warnings (deprecations).
    pub warnings: Vec<Diagnostic>,
    /// Every error found.
    pub errors: Vec<Diagnostic>,
}

impl CheckReport {
    /// Records `result`'s errors; its value, if it has one.
    fn take<T, E: Coded>(&mut self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.extend(e.diagnostics());
                None
            }
        }
    }
}

/// The seven steps on the project at `manifest_path`; every error found is
/// in the report. Steps after the manifest's run even when an earlier one
/// failed, as long as they have what they need (a manifest that loads).
/// Per-package details go to `observer`.
pub fn check_project(manifest_path: &Path, observer: &dyn Observer) -> CheckReport {
    let mut report = CheckReport::default();
    // Steps 1–2: parse and schema.
    let Some(manifest) = report.take(Manifest::load(manifest_path)) else {
        return report;
    };
    let root = root_of(manifest_path);
    let name = manifest_path.file_name().map_or_else(
        || manifest_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    report.lines.push(format!("Manifest valid ({name})"));

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
    let contract_errors = report.errors.len();
    for dir in &roots {
        let Some(wit) = report.take(wit_dir::load(dir, &root)) else {
            continue;
        };
        for problem in world::world_problems(&wit, &root) {
            report.errors.push(problem.diagnostic());
        }
        observer.detail(&format!(
            "      {}: package {} ({} file{})",
            dir.strip_prefix(&root).unwrap_or(dir).display(),
            wit.resolve.packages[wit.package].name,
            wit.files,
            if wit.files == 1 { "" } else { "s" }
        ));
        files += wit.files;
        parsed.push(wit);
    }
    if report.errors.len() == contract_errors {
        report.lines.push(if manifest.components.len() > 1 {
            format!("Contracts valid ({} components)", manifest.components.len())
        } else {
            format!(
                "Contracts valid ({files} interface file{})",
                if files == 1 { "" } else { "s" }
            )
        });
    }

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
        let Some((own, shown)) = report.take(component_manifest(&manifest, &root, &decl.name))
        else {
            continue;
        };
        let config = own
            .as_ref()
            .map_or(&manifest.capabilities, |m| &m.capabilities);
        let Some(declared) = report.take(Declared::parse(config, &shown)) else {
            continue;
        };
        let mut imports = imports_under(&root.join(&decl.path).join("wit"));
        if imports.is_empty() {
            imports = imports_under(&root.join("wit"));
        }
        let mismatches = security::cross_check_all(&decl.name, &declared, &imports, &shown);
        if mismatches.is_empty() {
            report
                .lines
                .push(format!("Component \"{}\" declared correctly", decl.name));
        }
        report
            .errors
            .extend(mismatches.iter().map(Coded::diagnostic));
    }
    if manifest.components.is_empty() {
        if let Some(declared) = report.take(Declared::parse(&manifest.capabilities, &name)) {
            let imports = imports_under(&root.join("wit"));
            let mismatches =
                security::cross_check_all(&manifest.torvyn.name, &declared, &imports, &name);
            report
                .errors
                .extend(mismatches.iter().map(Coded::diagnostic));
        }
    }
    for (component, grant) in &manifest.security.grants {
        report.take(security::parse_grants(component, &grant.capabilities));
    }

    // Every flow's graph, as it runs (a missing source or sink attached),
    // and where each node's component is.
    check_flows(&manifest, &root, observer, &mut report);

    // Step 7: deprecations.
    let contract = &manifest.torvyn.contract_version;
    if semver::Version::parse(contract).is_ok_and(|v| is_deprecated(&v)) {
        report.warnings.push(
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
                report.warnings.push(
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
    report
}

/// Each flow's graph (E0203) and each node's component (E0210: a missing
/// `file://` file, an undeclared name, an unknown or misconfigured
/// built-in connector), located in the manifest; one detail line per valid
/// flow.
fn check_flows(
    manifest: &Manifest,
    root: &Path,
    observer: &dyn Observer,
    report: &mut CheckReport,
) {
    let resolver = ComponentResolver::new(root, manifest, observer);
    for name in manifest.flow_names() {
        let Some(declared) = manifest.flows.get(name) else {
            continue;
        };
        let before = report.errors.len();
        let Some(flow) = report.take(complete_flow(name, declared, &Endpoints::default())) else {
            continue;
        };
        if let Err(problems) = graph_problems(name, &flow) {
            let at = manifest.location_of(&["flow", name]);
            for problem in problems {
                report.errors.extend(located(&problem, at.clone()));
            }
        }
        for (node, def) in flow.nodes() {
            if let Err(e) = resolver.locate(node, def) {
                let at = manifest.location_of(&["flow", name, "nodes", node, "component"]);
                report.errors.extend(located(&e, at));
            }
        }
        if report.errors.len() == before {
            // A detail (`--verbose`): the report's lines stay the spec's.
            let nodes = flow.nodes.len();
            let edges = flow.edges.len();
            observer.detail(&format!(
                "      Flow \"{name}\" valid ({nodes} node{}, {edges} edge{})",
                if nodes == 1 { "" } else { "s" },
                if edges == 1 { "" } else { "s" }
            ));
        }
    }
}
