//! `torvyn init --interactive`: a terminal wizard that asks for what the
//! flags would say (name, template, language, example, git). The caller
//! makes sure standard input is a terminal.

use super::templates::Template;
use super::{InitArgs, InitError, Language};
use dialoguer::{Confirm, Input, Select};

/// Fills `args` from the answers; the flags given are the defaults.
pub fn ask(args: &mut InitArgs) -> Result<(), InitError> {
    let fail = |e: dialoguer::Error| InitError::Wizard(e.to_string());
    let default_name = args.name.clone().unwrap_or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default()
    });
    let name: String = Input::new()
        .with_prompt("Project name")
        .default(default_name)
        .interact_text()
        .map_err(fail)?;
    args.name = Some(name);

    let items: Vec<String> = Template::ALL
        .iter()
        .map(|t| format!("{:<14} {}", t.name(), t.summary()))
        .collect();
    let current = Template::ALL
        .iter()
        .position(|t| t.name() == args.template)
        .unwrap_or(0);
    let chosen = Select::new()
        .with_prompt("Template")
        .items(&items)
        .default(current)
        .interact()
        .map_err(fail)?;
    args.template = Template::ALL[chosen].name().to_string();

    // Only the languages the chosen template can be written in.
    let languages: Vec<Language> = [Language::Rust, Language::Python]
        .into_iter()
        .filter(|l| Template::ALL[chosen].supports(*l))
        .collect();
    if languages.len() > 1 {
        let names: Vec<&str> = languages.iter().map(|l| l.manifest_name()).collect();
        let current = languages
            .iter()
            .position(|l| *l == args.language)
            .unwrap_or(0);
        let language = Select::new()
            .with_prompt("Language")
            .items(&names)
            .default(current)
            .interact()
            .map_err(fail)?;
        args.language = languages[language];
    }

    args.no_example = !Confirm::new()
        .with_prompt("Include the example implementation?")
        .default(!args.no_example)
        .interact()
        .map_err(fail)?;
    args.no_git = !Confirm::new()
        .with_prompt("Initialize a git repository?")
        .default(!args.no_git)
        .interact()
        .map_err(fail)?;
    Ok(())
}
