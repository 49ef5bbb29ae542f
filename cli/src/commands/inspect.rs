//! `torvyn inspect <TARGET>`: what a compiled component is — its
//! interfaces and the roles it can play, the capabilities its imports
//! imply, the contract versions it was built against, its size and who
//! produced it. The description comes from the library
//! ([`ComponentProfile`]); this file only prints it.

use crate::output::Output;
use std::path::PathBuf;
use torvyn_runtime::contracts::profile::ComponentProfile;
use torvyn_runtime::error::Coded;

/// `torvyn inspect` arguments.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Path to a compiled component (.wasm).
    #[arg(value_name = "TARGET")]
    target: PathBuf,
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
}

/// Exit code when the target is missing or not a component (the CLI
/// reference's 1 for `inspect`).
const TARGET_INVALID: u8 = 1;

pub fn run(args: InspectArgs, out: &Output) -> u8 {
    let profile = match ComponentProfile::load(&args.target) {
        Ok(profile) => profile,
        Err(e) => return out.fail_all(&e.diagnostics(), &[], TARGET_INVALID, Some("inspect")),
    };
    let wanted = |s: Section| args.show == Section::All || args.show == s;
    out.line(&format!("Component {}", profile.path.display()));
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
    if wanted(Section::Benchmarks) {
        out.line("");
        out.line("Benchmarks");
        out.line("  none recorded (a packaged artifact carries its benchmark summary)");
    }
    let mut json = serde_json::to_value(&profile).unwrap_or_default();
    if let Some(map) = json.as_object_mut() {
        map.insert("command".into(), "inspect".into());
        map.insert("benchmarks".into(), serde_json::Value::Null);
    }
    out.json(json, 0);
    0
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
