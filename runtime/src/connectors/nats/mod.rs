//! `builtin:nats-source` and `builtin:nats-sink`: NATS JetStream through
//! the official async client (`async-nats`), on the host's I/O runtime
//! ([`crate::engine::wasi_io::io_runtime`]). The flow's thread never waits on the
//! network for an element: the source's fetch task fills a bounded
//! channel the source polls (a full channel stops fetching), and the
//! sink's publish task takes elements from a bounded channel and reports
//! each server ack back, which the flow turns into the source's
//! acknowledgement ([`crate::reactor::completion`]).
//!
//! Here: the settings both read and the connection they share.
//! - `source`: the durable pull consumer, its fetch and ack tasks;
//! - `sink`: publishing with `Nats-Msg-Id` and collecting publish acks.

mod sink;
mod source;

pub(super) use sink::{NatsSink, NatsSinkSettings};
pub(super) use source::{NatsSource, NatsSourceSettings};

use super::settings::{Settings, SettingsError};
use crate::engine::bindings::types::ProcessError;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The server when `url` is not set (the NATS default).
const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// How long connecting (and binding the stream) may take at start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to connect: what both connectors read.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Connection {
    /// Servers, tried in turn (`url`: one, or several for a cluster).
    servers: Vec<String>,
    /// A `.creds` file (`credentials`), relative to the project.
    credentials: Option<PathBuf>,
}

impl Connection {
    /// Reads `url` and `credentials`.
    fn read(settings: &mut Settings, root: &Path) -> Result<Self, SettingsError> {
        let servers = settings
            .take_string_list("url")?
            .unwrap_or_else(|| vec![DEFAULT_URL.to_string()]);
        for server in &servers {
            server.parse::<async_nats::ServerAddr>().map_err(|e| {
                SettingsError(format!(
                    "`url` item `{server}` is not a NATS server address such as nats://127.0.0.1:4222: {e}"
                ))
            })?;
        }
        let credentials = match settings.take_string("credentials")? {
            None => None,
            Some(path) => {
                let path = root.join(path);
                if !path.is_file() {
                    return Err(SettingsError(format!(
                        "`credentials` names {}, which is not a readable file (a NATS .creds file)",
                        path.display()
                    )));
                }
                Some(path)
            }
        };
        Ok(Self {
            servers,
            credentials,
        })
    }

    /// The servers, for messages.
    fn describe(&self) -> String {
        self.servers.join(", ")
    }

    /// Connects (on the I/O runtime). A server that cannot be reached
    /// fails at once instead of being retried: a flow should not start
    /// against nothing. Once connected, the client reconnects by itself.
    async fn connect(&self) -> Result<async_nats::Client, String> {
        let options = match &self.credentials {
            Some(path) => async_nats::ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| format!("cannot read the credentials file {}: {e}", path.display()))?,
            None => async_nats::ConnectOptions::new(),
        };
        options
            .name("torvyn")
            .connection_timeout(CONNECT_TIMEOUT)
            .max_reconnects(None)
            .connect(self.servers.as_slice())
            .await
            .map_err(|e| {
                format!(
                    "cannot connect to NATS at {} ({e}); is nats-server running with JetStream \
                     (`nats-server -js`), and is the node's `url` right?",
                    self.describe()
                )
            })
    }
}

/// Checks a name JetStream uses as a token (stream, consumer).
fn check_name(key: &str, name: &str) -> Result<(), SettingsError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| matches!(c, '.' | '*' | '>' | '/' | '\\') || c.is_whitespace())
    {
        return Err(SettingsError(format!(
            "`{key}` = \"{name}\" is not a JetStream name (non-empty, without spaces, `.`, `*`, `>`, `/` or `\\`)"
        )));
    }
    Ok(())
}

/// Checks a subject (wildcards allowed where `wildcards`).
fn check_subject(key: &str, subject: &str, wildcards: bool) -> Result<(), SettingsError> {
    let bad_token = subject
        .split('.')
        .any(|t| t.is_empty() || (!wildcards && (t == "*" || t == ">")));
    if subject.chars().any(char::is_whitespace) || bad_token {
        return Err(SettingsError(format!(
            "`{key}` = \"{subject}\" is not a NATS subject{} (dot-separated tokens such as orders.new)",
            if wildcards { "" } else { " to publish to (no wildcards)" }
        )));
    }
    Ok(())
}

/// A required string setting.
fn required(settings: &mut Settings, key: &str, what: &str) -> Result<String, SettingsError> {
    settings
        .take_string(key)?
        .ok_or_else(|| SettingsError(format!("`{key}` is required: {what}")))
}

/// Runs `future` on the I/O runtime and waits for it on this thread (at
/// start and stop only, never per element), at most `timeout`.
fn wait_io<T: Send + 'static>(
    timeout: Duration,
    future: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, ProcessError> {
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    crate::engine::wasi_io::io_runtime().spawn(async move {
        let _ = send.send(future.await);
    });
    match receive.recv_timeout(timeout) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(ProcessError::Unavailable(message)),
        Err(_) => Err(ProcessError::Unavailable(format!(
            "NATS did not answer within {timeout:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_reads_one_or_several_servers_and_defaults_to_localhost() {
        let root = Path::new(".");
        let mut none = Settings::default();
        let c = Connection::read(&mut none, root).expect("default");
        assert_eq!(c.servers, [DEFAULT_URL]);
        let mut two =
            Settings::from_json(r#"{"url": "nats://a:4222,nats://b:4223"}"#).expect("json");
        let c = Connection::read(&mut two, root).expect("two servers");
        assert_eq!(c.describe(), "nats://a:4222, nats://b:4223");
    }

    #[test]
    fn bad_connection_settings_are_refused() {
        let root = Path::new(".");
        let mut bad = Settings::from_json(r#"{"url": "nats://host:notaport"}"#).expect("json");
        let e = Connection::read(&mut bad, root).expect_err("bad url");
        assert!(e.0.contains("not a NATS server address"), "{e}");
        let mut creds = Settings::from_json(r#"{"credentials": "nope.creds"}"#).expect("json");
        let e = Connection::read(&mut creds, root).expect_err("missing file");
        assert!(e.0.contains("not a readable file"), "{e}");
    }

    #[test]
    fn names_and_subjects_are_checked() {
        assert!(check_name("stream", "ORDERS").is_ok());
        assert!(check_name("stream", "a.b").is_err());
        assert!(check_name("durable", "").is_err());
        assert!(check_subject("subject", "in.>", true).is_ok());
        assert!(check_subject("subject", "in.>", false).is_err());
        assert!(check_subject("subject", "a..b", true).is_err());
        assert!(check_subject("subject", "a b", true).is_err());
    }

    #[test]
    fn an_unreachable_server_is_an_unavailable_error_that_says_what_to_check() {
        // Port 1 on loopback: nothing listens there.
        let mut s = Settings::from_json(r#"{"url": "nats://127.0.0.1:1"}"#).expect("json");
        let c = Connection::read(&mut s, Path::new(".")).expect("valid");
        let e = wait_io(Duration::from_secs(10), async move {
            c.connect().await.map(|_| ())
        })
        .expect_err("nothing listens");
        let ProcessError::Unavailable(message) = e else {
            panic!("not unavailable: {e:?}");
        };
        assert!(
            message.contains("cannot connect to NATS at nats://127.0.0.1:1"),
            "{message}"
        );
        assert!(message.contains("nats-server -js"), "{message}");
    }
}
