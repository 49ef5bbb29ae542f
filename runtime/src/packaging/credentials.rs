//! Registry credentials, looked up the way other OCI tools do:
//! `TORVYN_REGISTRY_USERNAME` / `TORVYN_REGISTRY_PASSWORD`, else the Docker
//! config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`): an
//! `auths` entry, else a credential helper (`credHelpers` for the host, or
//! `credsStore`: `docker-credential-<name> get`), else anonymous. The
//! client answers a bearer-token challenge with these.

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// User name for the registry (with [`PASSWORD_VAR`]); overrides the
/// Docker config.
pub const USERNAME_VAR: &str = "TORVYN_REGISTRY_USERNAME";
/// Password or token for the registry.
pub const PASSWORD_VAR: &str = "TORVYN_REGISTRY_PASSWORD";

/// The credentials for `registry` (`HOST[:PORT]`).
pub fn credentials(registry: &str) -> RegistryAuth {
    if let (Ok(user), Ok(password)) = (std::env::var(USERNAME_VAR), std::env::var(PASSWORD_VAR)) {
        return RegistryAuth::Basic(user, password);
    }
    let Some(config) = docker_config_path()
        .and_then(|path| std::fs::read(path).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    else {
        return RegistryAuth::Anonymous;
    };
    docker_auth(&config, registry)
        .or_else(|| {
            let helper = credential_helper(&config, registry)?;
            helper_auth(Path::new(&format!("docker-credential-{helper}")), registry)
        })
        .unwrap_or(RegistryAuth::Anonymous)
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// The credentials a Docker config holds for `registry` in `auths`
/// (keyed by host, possibly with a scheme and path): `auth` (base64
/// `user:password`), `registrytoken`, or `username` and `password`.
pub fn docker_auth(config: &Value, registry: &str) -> Option<RegistryAuth> {
    let auths = config["auths"].as_object()?;
    let entry = auths.iter().find_map(|(key, value)| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or(key);
        (host == registry).then_some(value)
    })?;
    if let Some(encoded) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        return Some(RegistryAuth::Basic(user.to_string(), password.to_string()));
    }
    if let Some(token) = entry["registrytoken"].as_str() {
        return Some(RegistryAuth::Bearer(token.to_string()));
    }
    let user = entry["username"].as_str()?;
    let password = entry["password"].as_str()?;
    Some(RegistryAuth::Basic(user.to_string(), password.to_string()))
}

/// The credential helper the Docker config names for `registry`:
/// `credHelpers[registry]`, else `credsStore`.
pub fn credential_helper(config: &Value, registry: &str) -> Option<String> {
    config["credHelpers"][registry]
        .as_str()
        .or_else(|| config["credsStore"].as_str())
        .filter(|h| !h.is_empty())
        .map(str::to_string)
}

/// Asks credential helper `program` (the Docker credential-helper
/// protocol: `get`, the server on stdin, `{"Username", "Secret"}` on
/// stdout) for `registry`'s credentials; `None` when it has none or fails.
pub fn helper_auth(program: &Path, registry: &str) -> Option<RegistryAuth> {
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Dropping stdin after the write closes it: the helper reads to EOF.
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    let answer: Value = serde_json::from_slice(&output.stdout).ok()?;
    let user = answer["Username"].as_str()?;
    let secret = answer["Secret"].as_str()?;
    Some(RegistryAuth::Basic(user.to_string(), secret.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Value {
        serde_json::from_str(text).expect("json")
    }

    #[test]
    fn docker_config_credentials_are_found_by_host() {
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
        let c = config(&format!(
            r#"{{"auths":{{"https://registry.example.com/v1/":{{"auth":"{auth}"}},"127.0.0.1:5000":{{"username":"bob","password":"pw"}}}}}}"#
        ));
        assert!(matches!(
            docker_auth(&c, "registry.example.com"),
            Some(RegistryAuth::Basic(u, p)) if u == "alice" && p == "s3cret"
        ));
        assert!(matches!(
            docker_auth(&c, "127.0.0.1:5000"),
            Some(RegistryAuth::Basic(u, _)) if u == "bob"
        ));
        assert!(docker_auth(&c, "other.example.com").is_none());
        assert!(docker_auth(&config("[]"), "x").is_none());
    }

    #[test]
    fn a_credential_helper_is_chosen_per_host_then_globally() {
        let c = config(r#"{"credsStore":"desktop","credHelpers":{"ghcr.io":"gh"}}"#);
        assert_eq!(credential_helper(&c, "ghcr.io").as_deref(), Some("gh"));
        assert_eq!(credential_helper(&c, "quay.io").as_deref(), Some("desktop"));
        assert_eq!(credential_helper(&config("{}"), "quay.io"), None);
    }

    #[test]
    fn a_credential_helper_answers_on_stdout() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let helper = dir.path().join("docker-credential-test");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = reg.example ] || exit 1\necho '{\"ServerURL\":\"reg.example\",\"Username\":\"carol\",\"Secret\":\"tok\"}'\n",
        )
        .expect("write helper");
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(matches!(
            helper_auth(&helper, "reg.example"),
            Some(RegistryAuth::Basic(u, s)) if u == "carol" && s == "tok"
        ));
        assert!(helper_auth(&helper, "other.example").is_none());
        assert!(helper_auth(&dir.path().join("missing"), "reg.example").is_none());
    }
}
