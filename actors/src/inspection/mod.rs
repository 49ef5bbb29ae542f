//! The inspection API: HTTP/1.1 over a Unix domain socket (default) or
//! loopback TCP with a bearer token, in front of a [`TorvynHandle`].
//!
//! | Request                            | Answer                                            |
//! |------------------------------------|---------------------------------------------------|
//! | `GET /metrics`                     | the metrics catalog, Prometheus text format       |
//! | `GET /flows`                       | every flow: id, name, state, counters (JSON)      |
//! | `GET /flows/{id}`                  | one flow: state, counters, stages, streams (depth, backpressure state) |
//! | `POST /flows/{id}/pause`           | `pause`; answers `{"id", "state"}`                |
//! | `POST /flows/{id}/resume`          | `resume`                                          |
//! | `POST /flows/{id}/drain`           | `drain`                                           |
//! | `POST /flows/{id}/cancel`          | `cancel`                                          |
//! | `GET /level`                       | `{"level": "production"}`                         |
//! | `PUT /level` (or `POST`)           | body `{"level": "diagnostic"}` (or the bare name) |
//! | `GET /audit`                       | `{"events": [...], "dropped": n}`: the `event-sink` audit target's records |
//!
//! A flow id is written `flow-7` or `7`. Errors answer
//! `{"error": {"code": "E0702", "message": …, "help": …}}` with a matching
//! HTTP status (404 unknown flow or path, 409 invalid transition, 401
//! missing or wrong token, 400 bad body, 503 host stopped).
//!
//! The server runs on one thread of its own and answers requests one at a
//! time: each one is a few blocking handle calls (messages to the actors,
//! served between two batches of a flow), never work on a flow's thread.

mod address;
mod routes;

pub use address::{default_socket_path, InspectionAddress, InspectionError, STATE_DIR_ENV};

use crate::host::TorvynHandle;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use torvyn_runtime::config::ObservabilityConfig;

/// Where and how the inspection API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionConfig {
    /// Unix socket or loopback TCP.
    pub address: InspectionAddress,
    /// Serve `GET /metrics` (`[observability] prometheus_enabled` and
    /// `metrics_enabled`).
    pub prometheus: bool,
}

impl InspectionConfig {
    /// From `[observability]`: `inspection_address` ("" for the Unix socket
    /// at [`default_socket_path`]), `inspection_token`,
    /// `prometheus_enabled`.
    pub fn from_observability(config: &ObservabilityConfig) -> Result<Self, InspectionError> {
        Ok(Self {
            address: InspectionAddress::parse(
                &config.inspection_address,
                &config.inspection_token,
            )?,
            prometheus: config.prometheus_enabled && config.metrics_enabled,
        })
    }
}

/// A running inspection API server; stops (and removes its socket file)
/// when dropped.
pub struct InspectionServer {
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    address: InspectionAddress,
    socket: Option<PathBuf>,
}

impl std::fmt::Debug for InspectionServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InspectionServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl InspectionServer {
    /// Starts serving `handle` at `config.address` (a TCP port 0 picks a
    /// free port: see [`address`](Self::address)). The server holds a
    /// clone of the handle: stop it before relying on the last handle's
    /// drop to stop the host (or call `shutdown`).
    pub fn start(handle: TorvynHandle, config: InspectionConfig) -> Result<Self, InspectionError> {
        let (server, address, socket) = config.address.bind()?;
        let server = Arc::new(server);
        let stopping = Arc::new(AtomicBool::new(false));
        let router = routes::Router {
            handle,
            token: config.address.token().map(str::to_owned),
            prometheus: config.prometheus,
        };
        let thread = {
            let (server, stopping) = (server.clone(), stopping.clone());
            std::thread::Builder::new()
                .name("torvyn-inspect".into())
                .spawn(move || serve(&server, &stopping, &router))
                .map_err(|e| InspectionError::Bind {
                    address: address.to_string(),
                    reason: e.to_string(),
                })?
        };
        // The CLI prints the address itself; embedders see it at debug.
        tracing::debug!(%address, "inspection API listening");
        Ok(Self {
            server,
            stopping,
            thread: Some(thread),
            address,
            socket,
        })
    }

    /// Where it listens (with the actual port for a TCP port 0).
    pub fn address(&self) -> &InspectionAddress {
        &self.address
    }

    /// Stops serving and removes the socket file.
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(path) = self.socket.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for InspectionServer {
    fn drop(&mut self) {
        self.shut();
    }
}

fn serve(server: &tiny_http::Server, stopping: &AtomicBool, router: &routes::Router) {
    loop {
        match server.recv() {
            Ok(request) => router.answer(request),
            Err(_) if stopping.load(Ordering::SeqCst) => return,
            // A failed accept: keep serving.
            Err(e) => tracing::debug!(error = %e, "inspection API: accept failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_served_only_when_collected_and_prometheus_is_on() {
        let mut o = ObservabilityConfig::default();
        assert!(InspectionConfig::from_observability(&o).unwrap().prometheus);
        o.metrics_enabled = false;
        assert!(!InspectionConfig::from_observability(&o).unwrap().prometheus);
        o.metrics_enabled = true;
        o.prometheus_enabled = false;
        assert!(!InspectionConfig::from_observability(&o).unwrap().prometheus);
    }
}
