//! Outside programs some tests need (promtool, a registry, nats-server,
//! componentize-py, skopeo).
//!
//! A test that needs one calls [`outside_tool`] first. When the program is
//! on `PATH` the test runs. When it is missing, the test says loudly on
//! stderr what it did not check and returns — unless `TORVYN_REQUIRE_TOOLS=1`
//! is set (`.ci/run` sets it after installing every tool), in which case a
//! missing tool fails the test: CI proves every one of them.

use std::path::PathBuf;

/// The environment variable that turns a missing tool into a failure.
pub const REQUIRE_TOOLS: &str = "TORVYN_REQUIRE_TOOLS";

/// Whether a missing tool must fail the test instead of skipping it.
pub fn tools_required() -> bool {
    std::env::var(REQUIRE_TOOLS).is_ok_and(|value| value == "1")
}

/// Where `program` is on `PATH`, if it is.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Whether the test may use `program`. `install` says how to get it (a
/// Debian or PyPI package), `checks` what the test would have proved.
///
/// Returns `false` (after an unmissable message) when the program is absent
/// and tools are not required; panics when they are.
pub fn outside_tool(program: &str, install: &str, checks: &str) -> bool {
    if find_on_path(program).is_some() {
        return true;
    }
    let message =
        format!("`{program}` is not installed ({install}), so this test did NOT check: {checks}");
    if tools_required() {
        panic!("{message}. {REQUIRE_TOOLS}=1 requires every outside tool.");
    }
    eprintln!(
        "\n!!! SKIPPED: {message}. Install it, or set {REQUIRE_TOOLS}=1 to make this a failure.\n"
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_on_path_is_found_and_a_missing_one_is_not() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("surely-no-such-program-torvyn").is_none());
    }

    #[test]
    fn a_missing_tool_skips_unless_tools_are_required() {
        if tools_required() {
            let result = std::panic::catch_unwind(|| {
                outside_tool("surely-no-such-program-torvyn", "nowhere", "nothing")
            });
            assert!(result.is_err(), "a missing tool must fail when required");
        } else {
            assert!(!outside_tool(
                "surely-no-such-program-torvyn",
                "nowhere",
                "nothing"
            ));
        }
        assert!(outside_tool("sh", "always there", "nothing"));
    }
}
