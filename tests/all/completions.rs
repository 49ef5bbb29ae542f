//! `torvyn completions`: a script for each shell, generated from the CLI's
//! own definitions.

use crate::harness::torvyn;

/// Each shell gets a non-empty script naming the binary and its commands.
#[test]
fn completions_are_generated_for_the_four_shells() {
    let dir = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = torvyn(dir.path(), &["completions", shell]);
        run.expect_code(0);
        for word in ["torvyn", "serve", "bench", "manifest"] {
            assert!(
                run.stdout.contains(word),
                "{shell}: no `{word}` in\n{}",
                run.stdout
            );
        }
    }
}

/// The bash script is valid bash (`bash -n`), when bash is there.
#[test]
fn the_bash_script_parses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = torvyn(dir.path(), &["completions", "bash"]);
    let script = dir.path().join("torvyn.bash");
    std::fs::write(&script, &run.stdout).expect("write script");
    match std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("NOT RUN: bash is not installed ({e})"),
    }
}

/// An unknown shell is a usage error naming the ones there are.
#[test]
fn an_unknown_shell_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = torvyn(dir.path(), &["completions", "tcsh"]);
    run.expect_code(2);
    assert!(run.stderr.contains("bash"), "{}", run.stderr);
    assert!(run.stderr.contains("powershell"), "{}", run.stderr);
}
