//! Global output options through the real binary: `--color`, `NO_COLOR`
//! and `--quiet`.

use crate::harness::{torvyn_with_env, Project};

const ESC: char = '\u{1b}';

fn broken() -> Project {
    Project::with_manifest("[torvyn]\nname = \"x\"\nversion = \n")
}

/// `--color always` colours even when `NO_COLOR` is set and stderr is a
/// pipe; `never` does not; `auto` does not on a pipe, `NO_COLOR` or not.
#[test]
fn color_follows_the_flag_and_no_color() {
    let p = broken();
    let always = torvyn_with_env(p.path(), &["--color", "always", "check"], &[]);
    always.expect_code(1);
    assert!(always.stderr.contains(ESC), "{:?}", always.stderr);
    for (args, no_color) in [
        (&["--color", "never", "check"][..], ""),
        (&["check"][..], ""),
        (&["check"][..], "1"),
    ] {
        let run = torvyn_with_env(p.path(), args, &[("NO_COLOR", no_color)]);
        run.expect_code(1).expect_error("E0002");
        assert!(!run.stderr.contains(ESC), "{args:?}: {:?}", run.stderr);
    }
}

/// `--quiet` drops the progress and result lines but keeps every error.
#[test]
fn quiet_keeps_only_errors() {
    let p = Project::with_manifest(
        "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\n[runtime]\nworker_thread = 4\nfuel_per_invocation = \"x\"\n",
    );
    let run = torvyn_with_env(p.path(), &["--quiet", "check"], &[]);
    run.expect_code(1)
        .expect_error("E0701")
        .expect_error("E0700");
    assert_eq!(run.stdout, "", "nothing on stdout");
    let ok = Project::with_manifest(
        "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n",
    );
    let run = torvyn_with_env(ok.path(), &["--quiet", "check"], &[]);
    run.expect_code(0);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
}
