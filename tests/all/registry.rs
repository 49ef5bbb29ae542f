//! `torvyn pack`, `torvyn publish` and `oci://` components, through the
//! real binary against a real registry (Debian's `docker-registry`, read
//! back with `skopeo`): init → build → pack (twice: same digest) →
//! publish (twice: refused without --force) → a second project whose
//! transform is `oci://127.0.0.1:PORT/<name>:<version>` runs with an empty
//! cache, and again offline from the cache; wrong credentials are E0601.

use crate::harness::{command, generated_target_dir, torvyn, Run};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use torvyn_e2e::registry::{skopeo_manifest, write_docker_config, Registry};
use torvyn_e2e::tools::outside_tool;

const NAME: &str = "t-registry";
const TRANSFORM: &str = "t-registry-transform";

/// `torvyn <args>` in a generated project, guests built into the shared
/// target dir, with `env` on top.
fn generated(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let target = generated_target_dir().display().to_string();
    let output = command(dir, args)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("TORVYN_REGISTRY_USERNAME")
        .env_remove("TORVYN_REGISTRY_PASSWORD")
        .env("DOCKER_CONFIG", dir.join(".no-docker-config"))
        .envs(env.iter().copied())
        .output()
        .expect("the torvyn binary runs");
    Run::from(output)
}

/// `openssl genpkey` / `openssl pkey -pubout`: an Ed25519 key pair in
/// `dir` (`NAME.pem`, `NAME.pub.pem`).
fn key_pair(dir: &Path, name: &str) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let ok = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&private)
        .status()
        .expect("openssl runs")
        .success()
        && std::process::Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(&public)
            .status()
            .expect("openssl runs")
            .success();
    assert!(ok, "openssl could not make a key pair");
}

/// Signs the published `0.1.0` content (tag `signed`), publishes other
/// content signed by another key (`stranger`) and unsigned (`unsigned`);
/// a consumer with `[security] trusted_keys` runs `signed` and `0.1.0`
/// (the signature is a referrer of the content, found even for a copy
/// cached before it was signed) and refuses the other two (E0603).
fn signed_components_are_verified(
    producer: &Path,
    consumer: &Path,
    address: &str,
    unsigned_tar: &str,
    env: &[(&str, &str)],
) {
    key_pair(producer, "release");
    key_pair(producer, "stranger");
    let manifest = std::fs::read_to_string(producer.join("Torvyn.toml")).expect("manifest");
    let with_key = |key: &str| format!("{manifest}\n[security]\nsigning_key = \"{key}.pem\"\n");
    // The producer signs with its `release` key; the consumer trusts the
    // public half of that key only (copied into its own folder).
    std::fs::copy(
        producer.join("release.pub.pem"),
        consumer.join("trusted.pub.pem"),
    )
    .expect("copy key");
    for (key, tag) in [
        (Some("release"), "signed"),
        (Some("stranger"), "stranger"),
        (None, "unsigned"),
    ] {
        // Other content than 0.1.0's: a description (an annotation).
        let changed = manifest.replacen(
            "[torvyn]\n",
            &format!("[torvyn]\ndescription = \"The {tag} build\"\n"),
            1,
        );
        let producer_manifest = match key {
            Some("release") => with_key("release"),
            Some(key) => format!("{changed}\n[security]\nsigning_key = \"{key}.pem\"\n"),
            None => changed.clone(),
        };
        assert_ne!(producer_manifest, manifest);
        std::fs::write(producer.join("Torvyn.toml"), producer_manifest).expect("write manifest");
        let tar = format!("{tag}.tar");
        let mut args = vec![
            "pack",
            "--component",
            TRANSFORM,
            "--output",
            &tar,
            "--tag",
            tag,
        ];
        if key.is_some() {
            args.push("--sign");
        }
        let packed = generated(producer, &args, &[]);
        packed.expect_code(0);
        assert_eq!(
            packed.stdout.contains("Signed:   ed25519:"),
            key.is_some(),
            "{}",
            packed.stdout
        );
        let pushed = generated(producer, &["publish", "--artifact", &tar], &[]);
        pushed.expect_code(0);
        if key.is_none() {
            continue;
        }
        // The signature is an OCI referrer of the artifact: another OCI
        // client finds it in the referrers tag schema's index.
        let digest = pushed
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("Digest:"))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no digest: {}", pushed.stdout))
            .to_string();
        let referrers = skopeo_manifest(
            &format!("{address}/{TRANSFORM}:{}", digest.replace(':', "-")),
            None,
        );
        let signature = &referrers["manifests"][0];
        assert_eq!(
            signature["artifactType"], "application/vnd.dev.torvyn.signature.v1+json",
            "{referrers}"
        );
        let signature = skopeo_manifest(
            &format!(
                "{address}/{TRANSFORM}@{}",
                signature["digest"].as_str().expect("a digest")
            ),
            None,
        );
        assert_eq!(
            signature["subject"]["digest"],
            digest.as_str(),
            "{signature}"
        );
    }
    std::fs::write(producer.join("Torvyn.toml"), &manifest).expect("restore manifest");
    let consumer_manifest =
        std::fs::read_to_string(consumer.join("Torvyn.toml")).expect("consumer manifest");
    let reference = |tag: &str| format!("oci://{address}/{TRANSFORM}:{tag}");
    let with_trust = |tag: &str| {
        consumer_manifest.replace(&reference("0.1.0"), &reference(tag))
            + "\n[security]\ntrusted_keys = [\"trusted.pub.pem\"]\n"
    };
    for tag in ["signed", "0.1.0"] {
        std::fs::write(consumer.join("Torvyn.toml"), with_trust(tag)).expect("write");
        let run = generated(consumer, &["run", "--limit", "2"], env);
        run.expect_code(0);
        assert!(
            run.stderr.contains("signed by ed25519:"),
            "{tag}: {}",
            run.stderr
        );
    }
    for (tag, why) in [
        ("unsigned", "not signed"),
        ("stranger", "not a trusted key"),
    ] {
        std::fs::write(consumer.join("Torvyn.toml"), with_trust(tag)).expect("write");
        let refused = generated(consumer, &["run", "--limit", "2"], env);
        refused.expect_error("E0603");
        assert!(refused.stderr.contains(why), "{tag}: {}", refused.stderr);
        assert_eq!(refused.stdout, "", "{tag} ran");
        // The refusal is audited.
        let audit = std::fs::read_to_string(consumer.join(".torvyn").join("audit.log"))
            .expect("an audit log");
        assert!(
            audit.lines().any(|l| l.contains("signature-refusal")
                && l.contains(&format!(":{tag}"))
                && l.contains(why)),
            "{audit}"
        );
    }
    std::fs::write(consumer.join("Torvyn.toml"), consumer_manifest).expect("restore");
    // Inspect names the signer.
    let inspected = generated(
        producer,
        &["inspect", "signed.tar", "--show", "artifact"],
        &[],
    );
    assert!(
        inspected.stdout.contains("signed by     ed25519:"),
        "{}",
        inspected.stdout
    );
    let unsigned = generated(
        producer,
        &["inspect", unsigned_tar, "--show", "artifact"],
        &[],
    );
    assert!(
        unsigned.stdout.contains("signed by     nobody"),
        "{}",
        unsigned.stdout
    );
    // --sign without a key is E0603.
    let no_key = generated(producer, &["pack", "--component", TRANSFORM, "--sign"], &[]);
    no_key.expect_code(2).expect_error("E0603");
}

fn tools() -> bool {
    outside_tool(
        "docker-registry",
        "apt-get install docker-registry",
        "publishing to and pulling from a real OCI registry",
    ) && outside_tool(
        "skopeo",
        "apt-get install skopeo",
        "that another OCI client reads the published manifest",
    ) && outside_tool(
        "htpasswd",
        "apt-get install apache2-utils",
        "that wrong registry credentials are E0601",
    ) && outside_tool(
        "openssl",
        "apt-get install openssl",
        "that signed artifacts verify against [security] trusted_keys",
    )
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn release_wasm(part: &str) -> PathBuf {
    generated_target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{}_{part}.wasm", NAME.replace('-', "_")))
}

/// `sha256:<64 hex>` → `sha256:[DIGEST]`, `(1,234 B (1.2 KiB))` → `([SIZE])`.
fn redact_artifact(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        out.push_str(&rest[..at + 7]);
        rest = &rest[at + 7..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 64 {
            out.push_str("[DIGEST]");
            rest = &rest[64..];
        }
    }
    out.push_str(rest);
    let mut sized = String::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find('(') {
        sized.push_str(&rest[..at]);
        let after = &rest[at..];
        if after[1..].starts_with(|c: char| c.is_ascii_digit()) {
            let mut depth = 0;
            let end = after
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(after.len(), |(i, _)| i + 1);
            sized.push_str("([SIZE])");
            rest = &after[end..];
        } else {
            sized.push('(');
            rest = &after[1..];
        }
    }
    sized.push_str(rest);
    sized
}

#[test]
fn packed_components_publish_to_a_registry_and_run_from_it() {
    if !tools() {
        return;
    }
    let parent = tempfile::tempdir().expect("temp dir");
    torvyn(
        parent.path(),
        &["init", NAME, "--template", "full-pipeline", "--no-git"],
    )
    .expect_code(0);
    let dir = parent.path().join(NAME);
    generated(&dir, &["build", "--release"], &[]).expect_code(0);

    // Pack twice: the same manifest digest and the same bytes.
    let pack = |out: &str| {
        let run = generated(
            &dir,
            &[
                "--format",
                "json",
                "pack",
                "--component",
                TRANSFORM,
                "--output",
                out,
            ],
            &[],
        );
        run.expect_code(0);
        json(&run)["artifacts"][0].clone()
    };
    let first = pack("first.tar");
    let second = pack("second.tar");
    assert_eq!(
        first["digest"], second["digest"],
        "packing is not deterministic"
    );
    assert_eq!(
        std::fs::read(dir.join("first.tar")).expect("tar"),
        std::fs::read(dir.join("second.tar")).expect("tar")
    );
    let wasm_digest = sha256(&release_wasm("transform"));
    assert_eq!(first["wasm_digest"], wasm_digest.as_str());

    // The default output, and the human report.
    let packed = generated(&dir, &["pack", "--component", TRANSFORM], &[]);
    packed.expect_code(0);
    let artifact = dir.join(format!(".torvyn/artifacts/{TRANSFORM}-0.1.0.tar"));
    assert!(artifact.is_file(), "{}", packed.stdout);
    assert!(
        packed.stdout.contains("component.wasm"),
        "{}",
        packed.stdout
    );
    assert!(
        packed.stdout.contains(&format!(
            "Digest:   {}",
            first["digest"].as_str().unwrap_or_default()
        )),
        "{}",
        packed.stdout
    );

    // Inspect the packed artifact.
    let path = artifact.display().to_string();
    let inspected = generated(&dir, &["inspect", &path, "--show", "artifact"], &[]);
    inspected.expect_code(0);
    let shown = redact_artifact(&inspected.stdout.replace(&path, "[ARTIFACT]"));
    insta::assert_snapshot!("inspect_packed_artifact", shown);
    let as_json = generated(&dir, &["--format", "json", "inspect", &path], &[]);
    as_json.expect_code(0);
    let as_json = json(&as_json);
    assert_eq!(as_json["artifact"]["digest"], first["digest"]);
    assert_eq!(
        as_json["artifact"]["config"]["component"]["exports"],
        as_json["exports"]
    );
    assert_eq!(as_json["sha256"], wasm_digest.as_str());

    // --include-source adds a layer with the crate.
    let with_source = generated(
        &dir,
        &[
            "--format",
            "json",
            "pack",
            "--component",
            TRANSFORM,
            "--include-source",
            "--output",
            "src.tar",
        ],
        &[],
    );
    with_source.expect_code(0);
    let layers = json(&with_source)["artifacts"][0]["layers"].clone();
    assert_eq!(
        layers[2]["media_type"], "application/vnd.torvyn.source.v0+tar",
        "{layers}"
    );

    let roles = generated(&dir, &["inspect", &path, "--show", "interfaces"], &[]);
    assert!(
        roles.stdout.contains("torvyn:streaming/processor"),
        "{}",
        roles.stdout
    );

    // Publish: the default registry comes from [registry] default.
    let mut registry = Registry::start();
    let address = registry.address();
    let manifest = std::fs::read_to_string(dir.join("Torvyn.toml")).expect("manifest");
    std::fs::write(
        dir.join("Torvyn.toml"),
        format!("{manifest}\n[registry]\ndefault = \"{address}\"\n"),
    )
    .expect("write manifest");
    let dry = generated(&dir, &["publish", "--artifact", &path, "--dry-run"], &[]);
    dry.expect_code(0);
    assert!(dry.stdout.contains("nothing pushed"), "{}", dry.stdout);
    let published = generated(
        &dir,
        &["--format", "json", "publish", "--artifact", &path],
        &[],
    );
    published.expect_code(0);
    let published = json(&published);
    let reference = format!("oci://{address}/{TRANSFORM}:0.1.0");
    assert_eq!(published["reference"], reference.as_str());
    assert_eq!(published["digest"], first["digest"]);

    // Another OCI client reads it back.
    let raw = skopeo_manifest(&format!("{address}/{TRANSFORM}:0.1.0"), None);
    assert_eq!(
        raw["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(raw["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(raw["layers"][0]["digest"], wasm_digest.as_str());

    // The same tag again: refused without --force.
    let again = generated(&dir, &["publish", "--artifact", &path], &[]);
    again.expect_code(2).expect_error("E0602");
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    generated(&dir, &["publish", "--artifact", &path, "--force"], &[]).expect_code(0);

    // A second project runs the published transform, with an empty cache.
    let consumer = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        consumer.path().join("Torvyn.toml"),
        format!(
            r#"[torvyn]
name = "consumer"
version = "0.1.0"
contract_version = "0.1.0"

[flow.main.nodes.source]
component = "file://{source}"
interface = "torvyn:streaming/source"

[flow.main.nodes.transform]
component = "{reference}"
interface = "torvyn:streaming/processor"

[flow.main.nodes.sink]
component = "file://{sink}"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "transform", port = "input" }}

[[flow.main.edges]]
from = {{ node = "transform", port = "output" }}
to = {{ node = "sink", port = "input" }}
"#,
            source = release_wasm("source").display(),
            sink = release_wasm("sink").display(),
        ),
    )
    .expect("write consumer manifest");
    let cache_env = cache.path().display().to_string();
    let env = [("TORVYN_CACHE_DIR", cache_env.as_str())];
    // The template's transform passes greetings on unchanged.
    let expected: Vec<String> = (1..=5).map(|n| format!("Hello, Torvyn! ({n})")).collect();
    let run = generated(consumer.path(), &["run", "--limit", "5"], &env);
    run.expect_code(0);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        expected,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("Pulling {reference}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "Resolved {reference} → {}",
            first["digest"].as_str().unwrap_or_default()
        )),
        "{}",
        run.stderr
    );
    let audit =
        std::fs::read_to_string(consumer.path().join(".torvyn/audit.log")).expect("the audit log");
    let resolution = audit
        .lines()
        .find(|l| l.contains("\"event\":\"component-resolution\""))
        .unwrap_or_else(|| panic!("no component-resolution record in\n{audit}"));
    assert!(resolution.contains(&reference), "{resolution}");
    assert!(
        resolution.contains(&format!(
            "manifest {}",
            first["digest"].as_str().unwrap_or("?")
        )),
        "{resolution}"
    );
    assert!(
        resolution.contains(&format!("component {wasm_digest}")),
        "{resolution}"
    );
    let cached = cache
        .path()
        .join("oci/blobs/sha256")
        .join(&wasm_digest[7..]);
    assert_eq!(sha256(&cached), wasm_digest);

    // `inspect oci://…` shows the same artifact.
    let remote = generated(
        consumer.path(),
        &["inspect", &reference, "--show", "artifact"],
        &env,
    );
    remote.expect_code(0);
    assert!(
        remote
            .stdout
            .contains(first["digest"].as_str().unwrap_or("?")),
        "{}",
        remote.stdout
    );
    let shown = redact_artifact(&remote.stdout.replace(&address, "[REGISTRY]"));
    insta::assert_snapshot!("inspect_oci_reference", shown);

    // A cached blob that no longer matches its digest is pulled again.
    std::fs::write(&cached, b"tampered").expect("tamper");
    let repaired = generated(consumer.path(), &["run", "--limit", "5"], &env);
    repaired.expect_code(0);
    assert!(repaired.stderr.contains("Pulling"), "{}", repaired.stderr);
    assert_eq!(sha256(&cached), wasm_digest);

    // A digest-pinned reference, with another empty cache.
    let pinned_cache = tempfile::tempdir().expect("temp dir");
    let pinned_env = pinned_cache.path().display().to_string();
    let manifest_digest = first["digest"].as_str().unwrap_or_default();
    let pinned = format!("oci://{address}/{TRANSFORM}@{manifest_digest}");
    let consumer_manifest =
        std::fs::read_to_string(consumer.path().join("Torvyn.toml")).expect("manifest");
    std::fs::write(
        consumer.path().join("Torvyn.toml"),
        consumer_manifest.replace(&reference, &pinned),
    )
    .expect("write");
    let by_digest = generated(
        consumer.path(),
        &["run", "--limit", "5"],
        &[("TORVYN_CACHE_DIR", pinned_env.as_str())],
    );
    by_digest.expect_code(0);
    assert_eq!(
        by_digest.stdout.lines().collect::<Vec<_>>(),
        expected,
        "{}",
        by_digest.stderr
    );
    std::fs::write(consumer.path().join("Torvyn.toml"), consumer_manifest).expect("restore");

    // Signatures: a consumer that trusts a key runs only what it signed.
    signed_components_are_verified(&dir, consumer.path(), &address, &path, &env);

    // Offline: the registry is gone, the cache answers.
    registry.stop();
    let offline = generated(consumer.path(), &["run", "--limit", "5"], &env);
    offline.expect_code(0);
    assert_eq!(
        offline.stdout.lines().collect::<Vec<_>>(),
        expected,
        "{}",
        offline.stderr
    );
    assert!(
        offline.stderr.contains("Registry unreachable"),
        "{}",
        offline.stderr
    );
    assert!(!offline.stderr.contains("Pulling"), "{}", offline.stderr);
    // …but nothing is cached for a reference never pulled: E0210.
    let never = generated(
        consumer.path(),
        &["inspect", &format!("oci://{address}/{TRANSFORM}:9.9.9")],
        &env,
    );
    never.expect_code(1).expect_error("E0210");

    // A registry with basic auth: wrong credentials are E0601 (exit 1),
    // the right ones from the Docker config publish.
    let guarded = Registry::start_with_user("alice", "s3cret");
    let target = guarded.address();
    let wrong = generated(
        &dir,
        &["publish", "--artifact", &path, "--registry", &target],
        &[
            ("TORVYN_REGISTRY_USERNAME", "alice"),
            ("TORVYN_REGISTRY_PASSWORD", "wrong"),
        ],
    );
    wrong.expect_code(1).expect_error("E0601");
    let anonymous = generated(
        &dir,
        &["publish", "--artifact", &path, "--registry", &target],
        &[],
    );
    anonymous.expect_code(1).expect_error("E0601");
    let docker = tempfile::tempdir().expect("temp dir");
    write_docker_config(docker.path(), &target, "alice", "s3cret");
    let docker_env = docker.path().display().to_string();
    generated(
        &dir,
        &["publish", "--artifact", &path, "--registry", &target],
        &[("DOCKER_CONFIG", docker_env.as_str())],
    )
    .expect_code(0);
    let raw = skopeo_manifest(&format!("{target}/{TRANSFORM}:0.1.0"), Some("alice:s3cret"));
    assert_eq!(raw["layers"][0]["digest"], wasm_digest.as_str());
}

/// What cannot be published fails before any network use.
#[test]
fn publish_refuses_a_missing_or_invalid_artifact_and_a_missing_registry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = torvyn(dir.path(), &["publish"]);
    run.expect_code(3).expect_error("E0600");
    assert!(run.stderr.contains("torvyn pack"), "{}", run.stderr);
    std::fs::write(dir.path().join("bogus.tar"), b"not an artifact").expect("write");
    torvyn(
        dir.path(),
        &[
            "publish",
            "--artifact",
            "bogus.tar",
            "--registry",
            "127.0.0.1:1",
        ],
    )
    .expect_code(3)
    .expect_error("E0600");
    torvyn(dir.path(), &["inspect", "bogus.tar"])
        .expect_code(1)
        .expect_error("E0600");
}

/// A malformed `oci://` reference in a node is reported with what is wrong.
#[test]
fn a_malformed_registry_reference_in_a_node_is_a_coded_error() {
    let project = crate::harness::Project::linear(&[
        (
            "source",
            "oci://127.0.0.1:5000/source",
            "torvyn:streaming/source",
            "",
        ),
        ("sink", "file://sink.wasm", "torvyn:streaming/sink", ""),
    ]);
    let run = project.run(&["run", "--limit", "1"]);
    run.expect_error("E0702");
    assert!(run.stderr.contains("name a tag"), "{}", run.stderr);
}
