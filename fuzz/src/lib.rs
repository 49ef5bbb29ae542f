//! The bodies of the fuzz targets, in one place so that the repository's
//! own test suite compiles and runs them on stable Rust
//! (`tests/all/fuzz_bodies.rs` includes this file); the binaries under
//! `fuzz_targets/` only hand libFuzzer's input to them.
//!
//! Each body loads its input the way `torvyn check` / `link` would and
//! then runs the checks that follow on whatever loaded. Bad input must
//! come back as errors with stable codes, never as a panic.

use std::path::Path;
use torvyn_runtime::config::Manifest;
use torvyn_runtime::contracts::graph::graph_problems;
use torvyn_runtime::contracts::link::runtime_problems;
use torvyn_runtime::contracts::ports::router_port_problems;
use torvyn_runtime::contracts::{wit_dir, world, ComponentContract};
use torvyn_runtime::error::{Coded, Diagnostic, ErrorCode};

/// What an input did: loaded (and went through the follow-up checks), or
/// was rejected with these codes (never an empty list).
pub type Outcome = Result<(), Vec<ErrorCode>>;

fn rejected<E: Coded>(error: &E) -> Outcome {
    let all = error.diagnostics();
    assert!(!all.is_empty(), "an error without a diagnostic");
    Err(all.iter().map(|d| rendered(d).code).collect())
}

/// Renders a diagnostic (the Display a person sees) and hands it back.
fn rendered(diagnostic: &Diagnostic) -> &Diagnostic {
    let text = diagnostic.to_string();
    assert!(text.starts_with("error["), "{text}");
    diagnostic
}

/// Torvyn.toml: load, then every flow's graph and router ports.
pub fn manifest(data: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(data);
    match Manifest::from_str_at(&text, Path::new("Torvyn.toml")) {
        Ok(manifest) => {
            for name in manifest.flow_names() {
                let Ok((name, flow)) = manifest.flow(Some(name)) else {
                    continue;
                };
                if let Err(problems) = graph_problems(name, flow) {
                    assert!(!problems.is_empty());
                    problems.iter().for_each(|p| {
                        rendered(&p.diagnostic());
                    });
                }
                for problem in router_port_problems(&manifest, name, flow) {
                    rendered(&problem.diagnostic());
                }
            }
            Ok(())
        }
        Err(error) => rejected(&error),
    }
}

/// One WIT document: parse and resolve, then world consistency and
/// each world's imports.
pub fn wit(data: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(data);
    match wit_dir::load_source(Path::new("wit/world.wit"), &text, Path::new("")) {
        Ok(root) => {
            for problem in world::world_problems(&root, Path::new("")) {
                rendered(&problem.diagnostic());
            }
            for id in world::root_worlds(&root) {
                for import in world::world_imports(&root, id) {
                    let _ = import.to_string();
                }
            }
            Ok(())
        }
        Err(error) => rejected(&error),
    }
}

/// A compiled component's bytes: decode its embedded WIT, then check it
/// against the runtime's contract.
pub fn component(data: &[u8]) -> Outcome {
    match ComponentContract::decode(Path::new("component.wasm"), data) {
        Ok(contract) => {
            let _ = (contract.imports(), contract.exports());
            let _ = contract.package_version("torvyn:streaming");
            for problem in runtime_problems("component", &contract, None) {
                rendered(&problem.diagnostic());
            }
            Ok(())
        }
        Err(error) => rejected(&error),
    }
}

/// A packed artifact (`torvyn pack`'s OCI image layout tar, what `torvyn
/// publish` and `torvyn inspect` read): the layout (blob digests), the
/// index and manifest, the Wasm config and layers; then its contracts
/// layer and the component's profile when it loaded.
pub fn artifact(data: &[u8]) -> Outcome {
    use torvyn_runtime::packaging::layout::ImageLayout;
    use torvyn_runtime::packaging::{Artifact, PackagingError};
    let loaded = ImageLayout::from_tar(data)
        .map_err(|reason| PackagingError::ArtifactInvalid {
            what: "artifact.tar".into(),
            reason,
        })
        .and_then(|layout| Artifact::from_layout("artifact.tar", &layout));
    match loaded {
        Ok(artifact) => {
            let _ = (
                artifact.contracts(),
                artifact.config_json(),
                artifact.signed_by(),
            );
            let _ = torvyn_runtime::contracts::profile::ComponentProfile::describe(
                Path::new("artifact.tar"),
                artifact.wasm(),
            );
            Ok(())
        }
        Err(error) => rejected(&error),
    }
}
