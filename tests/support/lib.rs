//! Shared helpers for end-to-end tests and benchmarks.
//!
//! - Locating the repository and its example directories ([`repo_root`],
//!   [`test_components_dir`], [`hello_world_dir`], [`example_dir`],
//!   [`tutorial_dir`]).
//! - Building the guest components on demand ([`build_test_components`],
//!   [`test_component`], [`build_hello_world`], [`hello_world_component`],
//!   [`build_example`], [`build_tutorial`]).
//!   Nothing is built at compile time: the first call in a process runs
//!   `cargo build --release --target wasm32-wasip2` (for a tutorial, without
//!   `--release`) in the example's own workspace; later calls reuse the
//!   result. Concurrent test processes are
//!   safe because cargo serializes builds of one target directory with a file
//!   lock.
//! - Recomputing what the test guests produce ([`guest`], [`counter_payloads`],
//!   [`quiet_sink_line`]), so tests can assert exact sink output.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The std-only helpers compiled into the test guests (payload generator,
/// FNV-1a checksum, config parser), shared as source so host-side
/// expectations cannot drift from what the guests compute.
#[path = "../../examples/test-components/guest-util/src/lib.rs"]
pub mod guest;

pub mod http;
pub mod nats;
pub mod otlp;
pub mod registry;
pub mod tools;

/// The wasm target every guest is built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Every component crate in `examples/test-components` (the names
/// [`test_component`] accepts).
pub const TEST_COMPONENTS: &[&str] = &[
    "counter-source",
    "passthrough",
    "uppercase",
    "quiet-sink",
    "slow-sink",
    "error-processor",
    "trap-processor",
    "infinite-loop",
    "memory-bomb",
    "deep-recursion",
    "even-filter",
    "parity-router",
    "count-aggregator",
    "fs-reader",
    "context-sink",
];

/// The repository root (the directory holding the root `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// `examples/test-components`: the cargo workspace of test guests.
pub fn test_components_dir() -> PathBuf {
    repo_root().join("examples").join("test-components")
}

/// `examples/hello-world`: the spec's Hello World example.
pub fn hello_world_dir() -> PathBuf {
    repo_root().join("examples").join("hello-world")
}

/// Builds `examples/test-components` (once per process) and returns the
/// directory holding the `.wasm` components.
///
/// # Panics
///
/// Panics with cargo's stderr if the build fails.
pub fn build_test_components() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| build_wasm_workspace(&test_components_dir(), Profile::Release))
        .clone()
}

/// Path to the test component `name` (e.g. `"quiet-sink"`), building the
/// test components first if this process has not yet done so.
///
/// # Panics
///
/// Panics if the build fails or no component of that name was produced.
pub fn test_component(name: &str) -> PathBuf {
    component_in(&build_test_components(), name)
}

/// Node `name` running test component `component` (compiled on `engine`)
/// in `role`, with `config` passed to `lifecycle.init`, default sandbox
/// and scheduling.
///
/// # Panics
///
/// Panics when the component cannot be built or loaded.
pub fn test_stage(
    engine: &torvyn_runtime::engine::WasmEngine,
    name: &str,
    component: &str,
    role: torvyn_runtime::reactor::StageRole,
    config: impl Into<String>,
) -> torvyn_runtime::reactor::StageSpec {
    torvyn_runtime::reactor::StageSpec {
        name: name.into(),
        component: engine
            .load_component(&test_component(component))
            .expect("component")
            .into(),
        role,
        config: config.into(),
        sandbox: Default::default(),
        scheduling: Default::default(),
    }
}

/// Builds `examples/hello-world` (once per process) and returns the directory
/// holding `hello_source.wasm` and `hello_sink.wasm`.
///
/// # Panics
///
/// Panics with cargo's stderr if the build fails.
pub fn build_hello_world() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| build_wasm_workspace(&hello_world_dir(), Profile::Release))
        .clone()
}

/// Path to a Hello World component (`"hello-source"` or `"hello-sink"`),
/// building the example first if this process has not yet done so.
pub fn hello_world_component(name: &str) -> PathBuf {
    component_in(&build_hello_world(), name)
}

/// `examples/<name>`: one of the spec's example pipelines (`"hello-world"`,
/// `"stream-transform"`, `"fan-out"`, ...).
pub fn example_dir(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}

/// Builds the example workspace `examples/<name>` (once per process and
/// name) and returns the directory holding its `.wasm` components. Build an
/// example through this before running `torvyn` in it, so that concurrent
/// tests never race `torvyn`'s own on-demand builds of the same crates.
///
/// # Panics
///
/// Panics with cargo's stderr if the build fails.
pub fn build_example(name: &str) -> PathBuf {
    build_once(&example_dir(name), Profile::Release)
}

/// `examples/tutorials/<name>`: the project a reader of one of the spec's
/// tutorials ends with (`"log-pipeline"`, `"token-pipeline"`,
/// `"enrichment-pipeline"`, `"rate-limiter"`).
pub fn tutorial_dir(name: &str) -> PathBuf {
    repo_root().join("examples").join("tutorials").join(name)
}

/// Builds the tutorial `examples/tutorials/<name>` as its reader does, with
/// `cargo build --target wasm32-wasip2` (a debug build: the tutorials'
/// Torvyn.toml name `target/wasm32-wasip2/debug/*.wasm`), once per process
/// and name; returns the directory holding its `.wasm` components. Build a
/// tutorial through this before running `torvyn` in it.
///
/// # Panics
///
/// Panics with cargo's stderr if the build fails.
pub fn build_tutorial(name: &str) -> PathBuf {
    build_once(&tutorial_dir(name), Profile::Debug)
}

/// The cargo profile a guest workspace is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Profile {
    Debug,
    Release,
}

/// [`build_wasm_workspace`]`(dir, profile)`, once per process.
fn build_once(dir: &Path, profile: Profile) -> PathBuf {
    static BUILT: Mutex<BTreeMap<(PathBuf, Profile), PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    built
        .entry((dir.to_path_buf(), profile))
        .or_insert_with(|| build_wasm_workspace(dir, profile))
        .clone()
}

/// The payloads `counter-source` emits for `{"count": count, "payload_size":
/// payload_size}`, in order.
pub fn counter_payloads(count: u64, payload_size: usize) -> impl Iterator<Item = Vec<u8>> {
    (0..count).map(move |i| guest::counter_payload(i, payload_size))
}

/// The line `quiet-sink` prints on `complete()` after receiving `payloads`
/// in this order: `[quiet-sink] received=N bytes=B checksum=XXXXXXXXXXXXXXXX`.
pub fn quiet_sink_line<I, P>(payloads: I) -> String
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    let (mut received, mut bytes) = (0u64, 0u64);
    let mut checksum = guest::Fnv1a::new();
    for payload in payloads {
        let payload = payload.as_ref();
        received += 1;
        bytes += payload.len() as u64;
        checksum.update(payload);
    }
    format!(
        "[quiet-sink] received={received} bytes={bytes} checksum={:016x}",
        checksum.value()
    )
}

/// `<dir>/<name with '-' replaced by '_'>.wasm`, which must exist.
fn component_in(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{}.wasm", name.replace('-', "_")));
    if !path.is_file() {
        let mut available: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".wasm"))
                    .collect()
            })
            .unwrap_or_default();
        available.sort();
        panic!(
            "no component {} in {}; available: {available:?}",
            path.display(),
            dir.display()
        );
    }
    path
}

/// Runs `cargo build [--release] --target wasm32-wasip2` in the workspace
/// at `dir` and returns its `target/wasm32-wasip2/<profile>` directory.
fn build_wasm_workspace(dir: &Path, profile: Profile) -> PathBuf {
    use torvyn_runtime::assembly::toolchains::cargo::{add_wasm_target, wasm_target_installed};
    // The test command needs nothing but Rust: the guests' target is
    // added when it is missing, as `torvyn run` does.
    if !wasm_target_installed(dir) {
        if let Err(reason) = add_wasm_target(dir, &torvyn_runtime::assembly::Quiet) {
            panic!("{reason}");
        }
    }
    let target_dir = dir.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(dir).arg("build");
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    cmd.args(["--target", WASM_TARGET, "--target-dir"])
        .arg(&target_dir)
        // Settings meant for the host build (coverage instrumentation,
        // target-cpu=native, a redirected target dir) must not leak into the
        // guest build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR");
    let output = cmd.output().unwrap_or_else(|e| {
        panic!(
            "failed to run {} in {}: {e}",
            cargo.to_string_lossy(),
            dir.display()
        )
    });
    let (flag, folder) = match profile {
        Profile::Debug => ("", "debug"),
        Profile::Release => (" --release", "release"),
    };
    if !output.status.success() {
        panic!(
            "`cargo build{flag} --target {WASM_TARGET}` failed in {} ({}):\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    target_dir.join(WASM_TARGET).join(folder)
}

#[cfg(test)]
mod support_tests {
    use super::*;

    #[test]
    fn quiet_sink_line_format() {
        assert_eq!(
            quiet_sink_line(Vec::<Vec<u8>>::new()),
            "[quiet-sink] received=0 bytes=0 checksum=cbf29ce484222325"
        );
        assert_eq!(
            quiet_sink_line([b"a"]),
            "[quiet-sink] received=1 bytes=1 checksum=af63dc4c8601ec8c"
        );
        let payloads: Vec<Vec<u8>> = counter_payloads(3, 4).collect();
        assert_eq!(
            payloads,
            [b"0 cd".to_vec(), b"1 cd".to_vec(), b"2 cd".to_vec()]
        );
    }

    #[test]
    fn paths_point_into_the_repo() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(test_components_dir().join("Cargo.toml").is_file());
        assert!(hello_world_dir().join("Torvyn.toml").is_file());
    }
}
