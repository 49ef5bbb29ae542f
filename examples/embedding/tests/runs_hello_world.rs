//! The embedding example runs the Hello World flow end to end.

use std::path::Path;
use std::process::Command;

/// `cargo run` from the example's folder: the hello-sink's seven lines on
/// stdout, then the report as JSON, exit 0.
#[test]
fn the_embedding_example_runs_hello_world_and_prints_its_report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_torvyn-embedding"))
        .current_dir(dir)
        .env(
            "TORVYN_CACHE_DIR",
            dir.join("../../target/torvyn-test-cache"),
        )
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let sink_lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("[hello-sink]"))
        .collect();
    assert_eq!(sink_lines.len(), 7, "{stdout}");
    assert_eq!(
        sink_lines[0],
        "[hello-sink] seq=0: Hello, World! (message 1)"
    );
    assert_eq!(sink_lines[6], "[hello-sink] Received 5 messages total.");
    let report = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("the report's JSON line");
    assert!(report.contains("\"elements_delivered\":5"), "{report}");
    assert!(stderr.contains("is Suspended"), "{stderr}");
}

/// A manifest that does not exist is E0001, exit 1, no panic.
#[test]
fn a_missing_manifest_is_reported_with_its_code() {
    let output = Command::new(env!("CARGO_BIN_EXE_torvyn-embedding"))
        .arg("/nonexistent/Torvyn.toml")
        .output()
        .expect("the example runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0001]"), "{stderr}");
}
