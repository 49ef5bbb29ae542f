//! `torvyn init`: a new project from a template, with its manifest, WIT
//! contract (the Torvyn packages vendored in `wit/deps/`), a working
//! implementation, and a git repository.

pub(crate) mod templates;
mod wizard;

use crate::output::Output;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use templates::{Params, Template};
use torvyn_runtime::config;
use torvyn_runtime::error::{Coded, ErrorCode};

/// The contract version the embedded WIT packages carry.
const CONTRACT_VERSION: &str = "0.1.0";

/// `torvyn init` arguments.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory and project name (default: the current directory's name,
    /// initialised in place).
    #[arg(value_name = "PROJECT_NAME")]
    name: Option<String>,
    /// Project template: source, batch-source, sink, transform, filter,
    /// router, aggregator, full-pipeline, empty.
    #[arg(long, value_name = "TEMPLATE", default_value = "transform")]
    template: String,
    /// Implementation language: rust or python (built with
    /// componentize-py).
    #[arg(long, value_enum, value_name = "LANG", default_value_t = Language::Rust)]
    language: Language,
    /// Skip git repository initialization.
    #[arg(long)]
    no_git: bool,
    /// Generate contract stubs only, skip the example implementation.
    #[arg(long)]
    no_example: bool,
    /// Torvyn contract version to target.
    #[arg(long, value_name = "V", default_value = CONTRACT_VERSION)]
    contract_version: String,
    /// Launch an interactive wizard for guided setup.
    #[arg(long)]
    interactive: bool,
    /// Overwrite existing directory contents.
    #[arg(long)]
    force: bool,
}

/// `--language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Rust,
    Go,
    Python,
    Zig,
}

impl Language {
    /// `[[component]] language` in Torvyn.toml.
    pub fn manifest_name(self) -> &'static str {
        let language = match self {
            Language::Rust => config::Language::Rust,
            Language::Go => config::Language::Go,
            Language::Python => config::Language::Python,
            Language::Zig => config::Language::Zig,
        };
        language.as_str()
    }
}

/// Why a project could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The target directory has files and `--force` was not given.
    #[error("directory {} already exists and is not empty", .0.display())]
    DirectoryExists(PathBuf),
    /// `--template` names no template.
    #[error("unknown template `{0}`")]
    UnknownTemplate(String),
    /// The name cannot name a WIT package and a crate.
    #[error("`{0}` is not a valid project name")]
    InvalidName(String),
    /// A language whose templates or toolchain support is missing.
    #[error("`torvyn init` cannot write {language} components yet: {missing}")]
    Unsupported {
        language: &'static str,
        missing: &'static str,
        hint: &'static str,
    },
    /// A contract version other than the one embedded.
    #[error("contract version `{0}` is not available: this torvyn ships the {CONTRACT_VERSION} contracts")]
    ContractVersion(String),
    /// `--interactive` with a standard input that is not a terminal.
    #[error("--interactive needs a terminal, but standard input is not one")]
    NotATerminal,
    /// The wizard's prompt failed (terminal closed, interrupted).
    #[error("the interactive wizard stopped: {0}")]
    Wizard(String),
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Coded for InitError {
    fn code(&self) -> ErrorCode {
        match self {
            InitError::DirectoryExists(_) => ErrorCode::DirectoryExists,
            InitError::Unsupported { .. } => ErrorCode::ToolchainMissing,
            InitError::ContractVersion(_) => ErrorCode::VersionMismatch,
            InitError::UnknownTemplate(_)
            | InitError::InvalidName(_)
            | InitError::NotATerminal
            | InitError::Wizard(_)
            | InitError::Write { .. } => ErrorCode::ConstraintViolation,
        }
    }

    fn help(&self) -> String {
        match self {
            InitError::DirectoryExists(_) => self.code().default_help().to_string(),
            InitError::UnknownTemplate(_) => {
                format!("use one of: {}", Template::names().join(", "))
            }
            InitError::InvalidName(_) => "use lowercase letters, digits and dashes, each word starting with a letter (e.g. `my-transform`): the name is the WIT package and the crate name".into(),
            InitError::Unsupported { hint, .. } => (*hint).to_string(),
            InitError::ContractVersion(_) => {
                format!("use --contract-version {CONTRACT_VERSION}, or omit it")
            }
            InitError::NotATerminal | InitError::Wizard(_) => {
                "run without --interactive: torvyn init NAME --template TEMPLATE".into()
            }
            InitError::Write { .. } => "check the directory's permissions and free space".into(),
        }
    }
}

/// What to create, once the arguments (or the wizard) are settled.
struct Plan {
    dir: PathBuf,
    name: String,
    template: Template,
    in_place: bool,
    example: bool,
    git: bool,
    language: Language,
}

pub fn run(args: InitArgs, out: &Output) -> u8 {
    match create(args, out) {
        Ok(()) => 0,
        Err(e) => out.fail_all(&[e.diagnostic()], &[], 1, Some("init")),
    }
}

fn create(mut args: InitArgs, out: &Output) -> Result<(), InitError> {
    if args.interactive {
        if !std::io::stdin().is_terminal() {
            return Err(InitError::NotATerminal);
        }
        wizard::ask(&mut args)?;
    }
    let plan = settle(&args)?;
    let existing = std::fs::read_dir(&plan.dir)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if existing && !args.force {
        return Err(InitError::DirectoryExists(plan.dir));
    }
    let files = templates::files(
        plan.template,
        &Params {
            name: &plan.name,
            contract_version: &args.contract_version,
            example: plan.example,
            language: plan.language,
        },
    );
    for file in &files {
        write(&plan.dir.join(&file.path), &file.text)?;
    }
    if plan.git {
        git_init(&plan.dir);
    }
    report(&plan, &files, out);
    Ok(())
}

/// Validates the arguments into a [`Plan`].
fn settle(args: &InitArgs) -> Result<Plan, InitError> {
    let template = Template::from_name(&args.template)
        .ok_or_else(|| InitError::UnknownTemplate(args.template.clone()))?;
    unsupported(args.language, template)?;
    let version_ok = semver::Version::parse(&args.contract_version)
        .is_ok_and(|v| v.to_string() == CONTRACT_VERSION);
    if !version_ok {
        return Err(InitError::ContractVersion(args.contract_version.clone()));
    }
    let cwd = std::env::current_dir().map_err(|source| InitError::Write {
        path: PathBuf::from("."),
        source,
    })?;
    let (dir, in_place) = match &args.name {
        Some(name) => (cwd.join(name), false),
        None => (cwd, true),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !valid_name(&name) {
        return Err(InitError::InvalidName(name));
    }
    Ok(Plan {
        dir,
        name,
        template,
        in_place,
        example: !args.no_example,
        git: !args.no_git,
        language: args.language,
    })
}

/// Rust and Python have every template; Go and Zig lack their templates
/// and build support.
fn unsupported(language: Language, template: Template) -> Result<(), InitError> {
    if template.supports(language) {
        return Ok(());
    }
    let (language, missing, hint) = match language {
        Language::Rust => return Ok(()),
        Language::Go => (
            "Go",
            "it needs TinyGo with wasip2 support and Go templates",
            "use --language rust or --language python; Go support (TinyGo, `tinygo build -target=wasip2`) is planned",
        ),
        Language::Python => (
            "Python",
            "this template has no Python implementation",
            "use --language rust for this template",
        ),
        Language::Zig => (
            "Zig",
            "it needs a Zig toolchain with component support and Zig templates",
            "use --language rust or --language python; Zig support is planned",
        ),
    };
    Err(InitError::Unsupported {
        language,
        missing,
        hint,
    })
}

/// Kebab-case: dash-separated words of lowercase letters and digits, each
/// starting with a letter (a WIT identifier and a crate name alike).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            word.starts_with(|c: char| c.is_ascii_lowercase())
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn write(path: &Path, text: &str) -> Result<(), InitError> {
    let fail = |source| InitError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

/// `git init` in `dir`, unless it already is a repository; skipped quietly
/// when git is not installed or fails.
fn git_init(dir: &Path) {
    if dir.join(".git").exists() {
        return;
    }
    let _ = Command::new("git")
        .args(["init", "--quiet"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The spec's summary: the created files as a tree and the next steps.
fn report(plan: &Plan, files: &[templates::File], out: &Output) {
    let paths: Vec<String> = files
        .iter()
        .map(|f| f.path.to_string_lossy().replace('\\', "/"))
        .collect();
    // Each folder the contracts were vendored into, once (the project's,
    // or each component's in a full pipeline).
    let mut deps: Vec<&str> = Vec::new();
    for path in &paths {
        if let Some(at) = path.find("wit/deps/") {
            let folder = &path[..at + "wit/deps/".len()];
            if !deps.contains(&folder) {
                deps.push(folder);
            }
        }
    }
    let shown: Vec<String> = paths
        .iter()
        .filter(|p| !p.contains("wit/deps/"))
        .cloned()
        .chain(
            deps.iter()
                .map(|folder| format!("{folder} (Torvyn contracts {CONTRACT_VERSION})")),
        )
        .collect();
    out.line(&format!(
        "  ✓ Created project \"{}\" with template \"{}\"",
        plan.name,
        plan.template.name()
    ));
    out.line("");
    out.line(&format!("  {}", plan.name));
    for (i, path) in shown.iter().enumerate() {
        let branch = if i + 1 == shown.len() {
            "└──"
        } else {
            "├──"
        };
        out.line(&format!("  {branch} {path}"));
    }
    out.line("");
    out.line("  Next steps:");
    if !plan.in_place {
        out.line(&format!("    cd {}", plan.name));
    }
    if plan.language == Language::Python {
        out.line(&format!(
            "    pip install {}   # Once: builds Python components",
            torvyn_runtime::assembly::toolchains::python::componentize_py_requirement()
        ));
    }
    out.line("    torvyn check              # Validate contracts and manifest");
    out.line("    torvyn build              # Compile to WebAssembly component");
    if plan.template != Template::Empty {
        out.line("    torvyn run --limit 10     # Run and see output");
    }
    out.json(
        serde_json::json!({
            "command": "init",
            "project": plan.name,
            "template": plan.template.name(),
            "language": plan.language.manifest_name(),
            "path": plan.dir.display().to_string(),
            "files": files.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>(),
        }),
        0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_names_are_valid() {
        for name in ["demo", "my-transform", "t2-x9"] {
            assert!(valid_name(name), "{name}");
        }
        for name in ["", "My", "my_x", "2x", "a--b", "a-", "-a", "a-2"] {
            assert!(!valid_name(name), "{name}");
        }
    }

    #[test]
    fn rust_and_python_are_supported_and_go_and_zig_are_e0010() {
        for template in Template::ALL {
            assert!(unsupported(Language::Rust, template).is_ok());
            for language in [Language::Go, Language::Zig] {
                let e = unsupported(language, template).unwrap_err();
                assert_eq!(e.code(), ErrorCode::ToolchainMissing);
            }
        }
        for template in Template::ALL {
            let python = unsupported(Language::Python, template);
            if template == Template::BatchSource {
                let e = python.unwrap_err();
                assert_eq!(e.code(), ErrorCode::ToolchainMissing);
            } else {
                assert!(python.is_ok(), "{}", template.name());
            }
        }
    }
}
