//! `torvyn pack`: `torvyn check`, then each chosen `[[component]]` (built
//! when stale) packaged as an OCI artifact — an image layout tar under
//! `.torvyn/artifacts/` (see `torvyn_runtime::packaging`). This file only
//! parses and prints.

use crate::output::{diagnostic_json, Output};
use std::path::{Path, PathBuf};
use torvyn_runtime::assembly::check::check_project;
use torvyn_runtime::assembly::project::root_of;
use torvyn_runtime::assembly::Project;
use torvyn_runtime::error::Coded;
use torvyn_runtime::packaging::{pack_project, PackOptions, Packed};

/// Exit code when `torvyn check` finds errors.
const CHECK_FAILED: u8 = 1;
/// Exit code for a packaging error (the CLI reference's 2).
const PACK_FAILED: u8 = 2;

/// `torvyn pack` arguments.
#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// Path to Torvyn.toml.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Pack only this component (default: all).
    #[arg(long, value_name = "NAME")]
    component: Option<String>,
    /// Output: a `.tar` file (one component) or a directory (default:
    /// .torvyn/artifacts/).
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// OCI tag recorded in the artifact (default: the version).
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Also include the component's sources (crate, WIT) in a layer.
    #[arg(long)]
    include_source: bool,
    /// Sign the artifact with the Ed25519 key of [security] signing_key.
    #[arg(long)]
    sign: bool,
}

pub fn run(args: PackArgs, out: &Output) -> u8 {
    let root = root_of(&args.manifest);
    out.set_root(&root);
    let report = check_project(&args.manifest, out);
    if !report.errors.is_empty() {
        for line in &report.lines {
            out.line(&format!("  ✓ {line}"));
        }
        return out.fail_all(&report.errors, &report.warnings, CHECK_FAILED, Some("pack"));
    }
    out.line("  ✓ Contracts valid ✓");
    out.warn_all(&report.warnings);
    let fail = |e: &dyn Coded| out.fail_all(&e.diagnostics(), &[], PACK_FAILED, Some("pack"));
    let project = match Project::load(&args.manifest) {
        Ok(project) => project,
        Err(e) => return out.fail_all(&e.diagnostics(), &[], CHECK_FAILED, Some("pack")),
    };
    let options = PackOptions {
        component: args.component,
        output: args.output,
        tag: args.tag,
        include_source: args.include_source,
        sign: args.sign,
    };
    let packed = match pack_project(&project, &options, out) {
        Ok(packed) => packed,
        Err(e) => return fail(&e),
    };
    for p in &packed {
        print_packed(p, &root, out);
    }
    out.json(
        serde_json::json!({
            "command": "pack",
            "artifacts": packed.iter().map(packed_json).collect::<Vec<_>>(),
            "warnings": report.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
        }),
        0,
    );
    0
}

fn print_packed(p: &Packed, root: &Path, out: &Output) {
    let file = p.path.file_name().map_or_else(
        || p.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    out.line(&format!("  ✓ Packed: {file} ({})", size(p.bytes)));
    out.line("");
    out.line(&format!("  Artifact: {}", shown(&p.path, root).display()));
    out.line(&format!("  Digest:   {}", p.artifact.digest));
    if let Some(tag) = &p.artifact.tag {
        out.line(&format!("  Tag:      {tag}"));
    }
    if let Some(key) = p.artifact.signed_by() {
        out.line(&format!("  Signed:   {key}"));
    }
    out.line("");
    out.line("  Artifact contents:");
    for layer in &p.artifact.layers {
        out.line(&format!(
            "    {:<17} {:>10}  {}",
            layer.title.as_deref().unwrap_or("layer"),
            size(layer.bytes.len() as u64),
            layer.media_type
        ));
    }
    out.line(&format!(
        "    {:<17} {:>10}  {}",
        "config",
        size(p.artifact.config.len() as u64),
        torvyn_runtime::packaging::artifact::CONFIG_MEDIA_TYPE
    ));
    out.line(&format!(
        "    {:<17} {:>10}  {}",
        "manifest.json",
        size(p.artifact.manifest.len() as u64),
        torvyn_runtime::packaging::artifact::MANIFEST_MEDIA_TYPE
    ));
}

fn packed_json(p: &Packed) -> serde_json::Value {
    serde_json::json!({
        "component": p.component,
        "version": p.version,
        "path": p.path.display().to_string(),
        "bytes": p.bytes,
        "digest": p.artifact.digest,
        "tag": p.artifact.tag,
        "signed_by": p.artifact.signed_by(),
        "wasm_digest": p.artifact.wasm_digest(),
        "layers": p.artifact.layers.iter().map(|l| serde_json::json!({
            "media_type": l.media_type,
            "digest": l.digest,
            "bytes": l.bytes.len(),
            "title": l.title,
        })).collect::<Vec<_>>(),
    })
}

/// `path` relative to the project `root` when inside it.
fn shown<'a>(path: &'a Path, root: &Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

fn size(bytes: u64) -> String {
    crate::units::bytes(bytes as f64)
}
