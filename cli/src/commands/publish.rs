//! `torvyn publish`: a packed artifact (`torvyn pack`) pushed to an OCI
//! registry as `<registry>/<component name>:<tag>` (see
//! `torvyn_runtime::packaging::registry`). This file only parses and
//! prints.

use crate::output::Output;
use std::path::{Path, PathBuf};
use torvyn_runtime::assembly::project::root_of;
use torvyn_runtime::config::Manifest;
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::packaging::reference::check_tag;
use torvyn_runtime::packaging::{publish, Artifact, PackagingError, RegistryTarget};

/// `torvyn publish` arguments.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Path to Torvyn.toml (for `[registry] default` and the default
    /// artifact).
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Path to a packed artifact (default: the one .tar in
    /// .torvyn/artifacts/).
    #[arg(long, value_name = "PATH")]
    artifact: Option<PathBuf>,
    /// Target registry, HOST[:PORT][/NAMESPACE] (default: [registry] default).
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
    /// Override the tag (default: the artifact's tag, its version).
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Validate the artifact and the target without pushing.
    #[arg(long)]
    dry_run: bool,
    /// Overwrite an existing tag.
    #[arg(long)]
    force: bool,
}

/// The CLI reference's exit codes: 1 authentication failed, 2 push failed,
/// 3 artifact invalid.
fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::RegistryAuthFailed => 1,
        ErrorCode::ArtifactInvalid => 3,
        _ => 2,
    }
}

pub fn run(args: PublishArgs, out: &Output) -> u8 {
    let root = root_of(&args.manifest);
    out.set_root(&root);
    let fail = |e: &PackagingError| {
        out.fail_all(&e.diagnostics(), &[], exit_code(e.code()), Some("publish"))
    };
    // The manifest is optional: an artifact can be published from anywhere.
    let manifest = if args.manifest.is_file() {
        match Manifest::load(&args.manifest) {
            Ok(manifest) => Some(manifest),
            Err(e) => return out.fail_all(&e.diagnostics(), &[], 2, Some("publish")),
        }
    } else {
        None
    };
    let path = match args
        .artifact
        .clone()
        .map_or_else(|| default_artifact(&root), Ok)
    {
        Ok(path) => path,
        Err(e) => return fail(&e),
    };
    let artifact = match Artifact::open(&path) {
        Ok(artifact) => artifact,
        Err(e) => return fail(&e),
    };
    let registry = args.registry.clone().or_else(|| {
        manifest
            .as_ref()
            .map(|m| m.registry.default.clone())
            .filter(|d| !d.is_empty())
    });
    let target = match target(&artifact, registry.as_deref(), args.tag.as_deref()) {
        Ok(target) => target,
        Err(e) => return fail(&e),
    };
    if args.dry_run {
        out.line(&format!(
            "  ✓ Artifact valid: {} ({})",
            path.display(),
            artifact.digest
        ));
        out.line(&format!(
            "  Would publish to {target} (dry run: nothing pushed)"
        ));
        out.json(
            serde_json::json!({
                "command": "publish", "dry_run": true,
                "reference": target.to_string(), "digest": artifact.digest,
            }),
            0,
        );
        return 0;
    }
    out.status(&format!("Publishing {} to {target}", path.display()));
    match publish(&artifact, &target, args.force) {
        Ok(published) => {
            out.line(&format!("  ✓ Published {}", published.reference));
            out.line(&format!("  Digest:   {}", published.digest));
            out.line(&format!(
                "  Blobs:    {} uploaded, {} already present",
                published.uploaded, published.reused
            ));
            if let Some(previous) = &published.replaced {
                out.line(&format!("  Replaced: {previous} (--force)"));
            }
            out.json(
                serde_json::json!({
                    "command": "publish",
                    "dry_run": false,
                    "reference": published.reference.to_string(),
                    "digest": published.digest,
                    "uploaded": published.uploaded,
                    "reused": published.reused,
                    "replaced": published.replaced,
                }),
                0,
            );
            0
        }
        Err(e) => fail(&e),
    }
}

/// The only `.tar` under `.torvyn/artifacts/` of the project.
fn default_artifact(root: &Path) -> Result<PathBuf, PackagingError> {
    let dir = root.join(".torvyn").join("artifacts");
    let mut tars: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "tar"))
                .collect()
        })
        .unwrap_or_default();
    tars.sort();
    match tars.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(PackagingError::ArtifactInvalid {
            what: dir.display().to_string(),
            reason: "there is no packed artifact; run `torvyn pack` first, or pass --artifact PATH"
                .into(),
        }),
        many => Err(PackagingError::ArtifactInvalid {
            what: dir.display().to_string(),
            reason: format!(
                "it holds {} artifacts; pass --artifact PATH to choose one",
                many.len()
            ),
        }),
    }
}

fn target(
    artifact: &Artifact,
    registry: Option<&str>,
    tag: Option<&str>,
) -> Result<torvyn_runtime::packaging::OciReference, PackagingError> {
    let registry = RegistryTarget::parse(registry.ok_or(PackagingError::NoRegistry)?)?;
    let name = artifact
        .name()
        .ok_or_else(|| PackagingError::ArtifactInvalid {
            what: "the artifact".into(),
            reason: "it records no component name (org.opencontainers.image.title)".into(),
        })?;
    let tag = tag
        .or(artifact.tag.as_deref())
        .or(artifact.version())
        .ok_or_else(|| PackagingError::ArtifactInvalid {
            what: "the artifact".into(),
            reason: "it records no tag or version; pass --tag".into(),
        })?;
    check_tag(tag).map_err(|reason| PackagingError::ArtifactInvalid {
        what: "--tag".into(),
        reason,
    })?;
    Ok(registry.reference(name, tag)?)
}
