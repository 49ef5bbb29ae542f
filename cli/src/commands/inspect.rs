//! `torvyn inspect <TARGET>`: what a compiled component is — its
//! interfaces and the roles it can play, the capabilities its imports
//! imply, the contract versions it was built against, its size and who
//! produced it. The target is a .wasm, a packed artifact (`torvyn pack`'s
//! .tar) or a registry reference (`oci://…`); for the last two the
//! artifact's own metadata (digest, tag, layers, annotations, benchmark
//! summary) is shown too. The description comes from the library
//! ([`ComponentProfile`], [`Artifact`]); this file only prints it.

use crate::output::Output;
use std::path::Path;
use torvyn_runtime::contracts::profile::ComponentProfile;
use torvyn_runtime::error::Coded;
use torvyn_runtime::packaging::artifact::keys;
use torvyn_runtime::packaging::{Artifact, OciCache, OciReference, PackagingError};

/// `torvyn inspect` arguments.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A compiled component (.wasm), a packed artifact (.tar) or a
    /// registry reference (oci://HOST[:PORT]/REPO:TAG).
    #[arg(value_name = "TARGET")]
    target: String,
    /// What to show.
    #[arg(long, value_enum, default_value_t = Section::All)]
    show: Section,
}

/// A section of the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Section {
    All,
    Interfaces,
    Capabilities,
    Metadata,
    Size,
    Contracts,
    Benchmarks,
    Artifact,
}

/// Exit code when the target is missing or not a component (the CLI
/// reference's 1 for `inspect`).
const TARGET_INVALID: u8 = 1;

/// The artifact `target` names, if it is one (a .tar or `oci://`).
fn artifact(target: &str, out: &Output) -> Option<Result<Artifact, PackagingError>> {
    if target.starts_with(torvyn_runtime::packaging::reference::SCHEME) {
        let reference = match OciReference::parse(target) {
            Ok(reference) => reference,
            Err(e) => return Some(Err(e.into())),
        };
        return Some(torvyn_runtime::packaging::pull::fetch_artifact(
            &reference,
            &OciCache::from_env(),
            out,
        ));
    }
    target
        .ends_with(".tar")
        .then(|| Artifact::open(Path::new(target)))
}

pub fn run(args: InspectArgs, out: &Output) -> u8 {
    let fail = |e: &dyn Coded| out.fail_all(&e.diagnostics(), &[], TARGET_INVALID, Some("inspect"));
    let artifact = match artifact(&args.target, out).transpose() {
        Ok(artifact) => artifact,
        Err(e) => return fail(&e),
    };
    let described = match &artifact {
        Some(a) => ComponentProfile::describe(Path::new(&args.target), a.wasm()),
        None => ComponentProfile::load(Path::new(&args.target)),
    };
    let profile = match described {
        Ok(profile) => profile,
        Err(e) => return fail(&e),
    };
    let wanted = |s: Section| args.show == Section::All || args.show == s;
    match &artifact {
        Some(_) => out.line(&format!("Artifact {}", args.target)),
        None => out.line(&format!("Component {}", profile.path.display())),
    }
    if let (Some(a), true) = (&artifact, wanted(Section::Artifact)) {
        print_artifact(a, out);
    }
    if wanted(Section::Metadata) {
        print_metadata(&profile, out);
    }
    if wanted(Section::Size) {
        print_size(&profile, out);
    }
    if wanted(Section::Interfaces) {
        print_interfaces(&profile, out);
    }
    if wanted(Section::Capabilities) {
        print_capabilities(&profile, out);
    }
    if wanted(Section::Contracts) {
        print_contracts(&profile, out);
    }
    let benchmarks: Option<serde_json::Value> = artifact
        .as_ref()
        .and_then(|a| a.annotations.get(keys::BENCHMARKS))
        .and_then(|b| serde_json::from_str(b).ok());
    if wanted(Section::Benchmarks) {
        print_benchmarks(benchmarks.as_ref(), artifact.is_some(), out);
    }
    let mut json = serde_json::to_value(&profile).unwrap_or_default();
    if let Some(map) = json.as_object_mut() {
        map.insert("command".into(), "inspect".into());
        map.insert("benchmarks".into(), benchmarks.unwrap_or_default());
        map.insert(
            "artifact".into(),
            artifact.as_ref().map(artifact_json).unwrap_or_default(),
        );
    }
    out.json(json, 0);
    0
}

fn print_artifact(a: &Artifact, out: &Output) {
    out.line("");
    out.line("Artifact");
    out.line(&format!("  digest        {}", a.digest));
    out.line(&format!(
        "  tag           {}",
        a.tag.as_deref().unwrap_or("none")
    ));
    out.line(&format!(
        "  signed by     {}",
        a.signed_by()
            .unwrap_or("nobody (`torvyn pack --sign` signs)")
    ));
    out.line(&format!(
        "  config        {} ({})",
        torvyn_runtime::packaging::artifact::CONFIG_MEDIA_TYPE,
        bytes(a.config.len() as u64)
    ));
    for (i, layer) in a.layers.iter().enumerate() {
        let label = if i == 0 { "layers" } else { "" };
        out.line(&format!(
            "  {label:<13} {} {} ({}) {}",
            layer.title.as_deref().unwrap_or("-"),
            layer.media_type,
            bytes(layer.bytes.len() as u64),
            layer.digest
        ));
    }
    let contracts = a.contracts();
    for (i, path) in contracts.keys().enumerate() {
        let label = if i == 0 { "contracts" } else { "" };
        out.line(&format!("  {label:<13} {path}"));
    }
    for (i, (key, value)) in a
        .annotations
        .iter()
        .filter(|(k, _)| k.as_str() != keys::BENCHMARKS)
        .enumerate()
    {
        let label = if i == 0 { "annotations" } else { "" };
        out.line(&format!("  {label:<13} {key} = {value}"));
    }
}

fn print_benchmarks(summary: Option<&serde_json::Value>, packaged: bool, out: &Output) {
    out.line("");
    out.line("Benchmarks");
    let baselines = summary
        .and_then(|s| s.as_object())
        .filter(|s| !s.is_empty());
    match baselines {
        Some(baselines) => {
            for (name, b) in baselines {
                out.line(&format!(
                    "  {name:<13} {} elements/s, p99 {} µs",
                    b["throughput_eps"], b["latency_p99_us"]
                ));
            }
        }
        None if packaged => out.line("  none recorded (pack after `torvyn bench --baseline NAME`)"),
        None => out.line("  none recorded (a packaged artifact carries its benchmark summary)"),
    }
}

fn artifact_json(a: &Artifact) -> serde_json::Value {
    serde_json::json!({
        "digest": a.digest,
        "tag": a.tag,
        "signed_by": a.signed_by(),
        "config": a.config_json(),
        "layers": a.layers.iter().map(|l| serde_json::json!({
            "media_type": l.media_type,
            "digest": l.digest,
            "bytes": l.bytes.len(),
            "title": l.title,
        })).collect::<Vec<_>>(),
        "annotations": a.annotations,
        "contracts": a.contracts().keys().collect::<Vec<_>>(),
    })
}

fn print_metadata(profile: &ComponentProfile, out: &Output) {
    out.line("");
    out.line("Metadata");
    out.line(&format!("  digest        {}", profile.sha256));
    if profile.producers.is_empty() {
        out.line("  producers     none recorded");
    }
    for p in &profile.producers {
        let line = format!("  {:<13} {} {}", p.field, p.name, p.version);
        out.line(line.trim_end());
    }
}

fn print_size(profile: &ComponentProfile, out: &Output) {
    let s = profile.size;
    out.line("");
    out.line("Size");
    out.line(&format!("  total         {}", bytes(s.total_bytes)));
    out.line(&format!(
        "  code          {} in {} core module{}",
        bytes(s.code_bytes),
        s.core_modules,
        if s.core_modules == 1 { "" } else { "s" }
    ));
    out.line(&format!("  data          {}", bytes(s.data_bytes)));
    out.line(&format!("  custom        {}", bytes(s.custom_bytes)));
}

fn print_interfaces(profile: &ComponentProfile, out: &Output) {
    out.line("");
    out.line("Interfaces");
    if profile.roles.is_empty() {
        out.line("  role          none: it exports no Torvyn processing interface");
    } else {
        out.line(&format!("  role          {}", profile.roles.join(", ")));
    }
    if profile.batch_forms.is_empty() {
        out.line("  form          per element");
    } else {
        out.line(&format!(
            "  form          per element and batch ({})",
            profile.batch_forms.join(", ")
        ));
    }
    list(out, "exports", &profile.exports);
    list(out, "imports", &profile.imports);
}

fn print_capabilities(profile: &ComponentProfile, out: &Output) {
    out.line("");
    out.line("Capabilities");
    if profile.implied_capabilities.is_empty() {
        out.line("  implied       none: its imports need no grant");
    }
    for c in &profile.implied_capabilities {
        out.line(&format!(
            "  implied       {} (by {})",
            c.any_of.join(" or "),
            c.import
        ));
    }
    out.line("  declared      in the component's manifest ([capabilities.required]); `torvyn check` cross-checks them");
}

fn print_contracts(profile: &ComponentProfile, out: &Output) {
    out.line("");
    out.line("Contracts");
    for p in &profile.contracts {
        out.line(&format!(
            "  {:<22}{}",
            p.package,
            p.version.as_deref().unwrap_or("unversioned")
        ));
    }
}

fn list(out: &Output, title: &str, items: &[String]) {
    if items.is_empty() {
        out.line(&format!("  {title:<13} none"));
    }
    for (i, item) in items.iter().enumerate() {
        let label = if i == 0 { title } else { "" };
        out.line(&format!("  {label:<13} {item}"));
    }
}

/// `1234567` → `1,234,567 B (1.2 MiB)`.
fn bytes(n: u64) -> String {
    let exact = format!("{} B", crate::units::group(n));
    if n < 1024 {
        exact
    } else {
        format!("{exact} ({})", crate::units::bytes(n as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_are_grouped_with_a_unit() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(2048), "2,048 B (2.0 KiB)");
        assert_eq!(bytes(1_234_567), "1,234,567 B (1.2 MiB)");
    }
}
