//! The per-component sandbox (spec: "Sandbox Configurator"): which WASI
//! authority a component's `WasiCtx` carries, built from its resolved
//! grants only.
//!
//! Default (no grants): no preopened directories, no environment
//! variables, no sockets, stdin empty; stdout and stderr inherited (so the
//! spec's examples print); the wall and monotonic clocks frozen at zero
//! and secure / insecure random returning zeros — each such call counted
//! in `capability.denials` and audited as an E0500 denial.
//!
//! What is and is not observable: clocks and random are host callbacks,
//! so every denied call is seen and counted. A denied filesystem or socket
//! operation fails inside the guest (no preopen to open from, a socket
//! address check that refuses) and only the socket refusals reach the host;
//! a guest looking for a directory it was not given just sees none.

use super::audit::AuditLog;
use super::error::SecurityError;
use super::monitor::CapabilityMonitor;
use super::resolve::ResolvedCapabilities;
use super::scope::Scope;
use super::taxonomy::{Capability, CapabilityKind};
use crate::engine::guest_output::{GuestOutputs, HostStream, StandsFor};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

/// A directory exposed to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The directory on the host.
    pub host: PathBuf,
    /// The path the guest opens it as (the grant's path as written).
    pub guest: String,
    /// Whether the guest may write.
    pub write: bool,
}

/// A component's WASI authority.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Directories exposed.
    pub preopens: Vec<Preopen>,
    /// Inherit the host's environment variables.
    pub environment: bool,
    /// Real wall clock.
    pub wall_clock: bool,
    /// Real monotonic clock.
    pub monotonic_clock: bool,
    /// Real secure random.
    pub random: bool,
    /// Real insecure random.
    pub insecure_random: bool,
    /// Granted network endpoints (TCP connect / listen, UDP).
    pub network: Vec<Capability>,
    /// Inherit stdout.
    pub stdout: bool,
    /// Inherit stderr.
    pub stderr: bool,
    /// `torvyn:capabilities/metrics` works (`torvyn:observability/custom-metrics`).
    pub custom_metrics: bool,
    /// `torvyn:capabilities/flow-metadata` works (`torvyn:streaming/flow-metadata`).
    pub flow_metadata: bool,
    /// `torvyn:capabilities/diagnostics` works (`torvyn:runtime/diagnostics`).
    pub diagnostics: bool,
    /// Where denials are counted; `None` counts nothing.
    pub monitor: Option<Arc<CapabilityMonitor>>,
    /// The linear memory the component's manifest says it needs at most
    /// (`[capabilities.torvyn] max-memory`, when written): its memory is
    /// capped there instead of at the host's `max_memory_per_component`.
    pub max_memory: Option<u64>,
    /// The largest single buffer the component's manifest says it needs
    /// (`[capabilities.torvyn] max-buffer-size`, when written): a larger
    /// allocation by this component is refused.
    pub max_buffer_size: Option<u64>,
}

impl SandboxConfig {
    /// Whether the component's WASI calls may block on Tokio in ways only a
    /// thread that drives no Tokio runtime survives: filesystem and socket
    /// calls keep wasmtime-wasi's own blocking implementation (see
    /// [`crate::engine::wasi_io`]); stdio, clocks and poll do not.
    pub fn needs_tokio_free_thread(&self) -> bool {
        !self.preopens.is_empty() || !self.network.is_empty()
    }
}

impl Default for SandboxConfig {
    /// Deny-all except stdout and stderr.
    fn default() -> Self {
        SandboxConfig {
            preopens: Vec::new(),
            environment: false,
            wall_clock: false,
            monotonic_clock: false,
            random: false,
            insecure_random: false,
            network: Vec::new(),
            stdout: true,
            stderr: true,
            custom_metrics: false,
            flow_metadata: false,
            diagnostics: false,
            monitor: None,
            max_memory: None,
            max_buffer_size: None,
        }
    }
}

impl SandboxConfig {
    /// The sandbox of `resolved`; relative directory grants are relative
    /// to `base` (the manifest's directory). E0702 when a granted directory
    /// does not exist.
    pub fn from_resolved(
        resolved: &ResolvedCapabilities,
        base: &Path,
        audit: Arc<AuditLog>,
    ) -> Result<Self, SecurityError> {
        let mut sandbox = SandboxConfig {
            monitor: Some(Arc::new(CapabilityMonitor::new(&resolved.component, audit))),
            ..SandboxConfig::default()
        };
        for cap in &resolved.granted {
            use CapabilityKind::*;
            match cap.kind {
                FilesystemRead | FilesystemWrite => {
                    let guest = match &cap.scope {
                        Some(Scope::Path(p)) => p.clone(),
                        _ => "/".to_string(),
                    };
                    let host = if Path::new(&guest).is_absolute() {
                        PathBuf::from(&guest)
                    } else {
                        base.join(&guest)
                    };
                    if !host.is_dir() {
                        return Err(SecurityError::GrantDirMissing {
                            component: resolved.component.clone(),
                            grant: cap.to_string(),
                            dir: host.display().to_string(),
                        });
                    }
                    let write = cap.kind == FilesystemWrite;
                    match sandbox.preopens.iter_mut().find(|p| p.guest == guest) {
                        Some(existing) => existing.write |= write,
                        None => sandbox.preopens.push(Preopen { host, guest, write }),
                    }
                }
                TcpConnect | TcpListen | Udp | HttpOutgoing => sandbox.network.push(cap.clone()),
                WallClock => sandbox.wall_clock = true,
                MonotonicClock => sandbox.monotonic_clock = true,
                Random => sandbox.random = true,
                InsecureRandom => sandbox.insecure_random = true,
                Environment => sandbox.environment = true,
                Stdout => sandbox.stdout = true,
                Stderr => sandbox.stderr = true,
                CustomMetrics => sandbox.custom_metrics = true,
                FlowMetadata => sandbox.flow_metadata = true,
                Diagnostics => sandbox.diagnostics = true,
                BufferPool | Backpressure => {}
            }
        }
        Ok(sandbox)
    }

    /// Builds the WASI context; stdout and stderr, where allowed, go to
    /// `outputs` when it replaces them, else to the process's.
    pub fn build_wasi(&self, outputs: &GuestOutputs) -> Result<WasiCtx, SecurityError> {
        let mut builder = WasiCtxBuilder::new();
        if self.stdout {
            match &outputs.stdout {
                Some(sink) => {
                    builder.stdout(HostStream::new(Arc::clone(sink), StandsFor::Stdout));
                }
                None => {
                    builder.inherit_stdout();
                }
            }
        }
        if self.stderr {
            match &outputs.stderr {
                Some(sink) => {
                    builder.stderr(HostStream::new(Arc::clone(sink), StandsFor::Stderr));
                }
                None => {
                    builder.inherit_stderr();
                }
            }
        }
        if self.environment {
            builder.inherit_env();
        }
        let component = self
            .monitor
            .as_ref()
            .map_or("component", |m| m.component())
            .to_string();
        for preopen in &self.preopens {
            let perms = if preopen.write {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            builder
                .preopened_dir(&preopen.host, &preopen.guest, perms)
                .map_err(|e| SecurityError::GrantDirMissing {
                    component: component.clone(),
                    grant: preopen.guest.clone(),
                    dir: format!("{} ({e})", preopen.host.display()),
                })?;
        }
        let monitor = self.monitor.clone();
        if !self.wall_clock {
            builder.wall_clock(DeniedClock(monitor.clone()));
        }
        if !self.monotonic_clock {
            builder.monotonic_clock(DeniedClock(monitor.clone()));
        }
        if !self.random {
            builder.secure_random(DeniedRandom(monitor.clone(), CapabilityKind::Random));
        }
        if !self.insecure_random {
            builder.insecure_random(DeniedRandom(
                monitor.clone(),
                CapabilityKind::InsecureRandom,
            ));
            builder.insecure_random_seed(0);
        }
        configure_network(&mut builder, &self.network, monitor);
        Ok(builder.build())
    }
}

fn configure_network(
    builder: &mut WasiCtxBuilder,
    granted: &[Capability],
    monitor: Option<Arc<CapabilityMonitor>>,
) {
    let tcp = granted.iter().any(|c| {
        matches!(
            c.kind,
            CapabilityKind::TcpConnect | CapabilityKind::TcpListen | CapabilityKind::HttpOutgoing
        )
    });
    let udp = granted.iter().any(|c| c.kind == CapabilityKind::Udp);
    builder.allow_tcp(tcp).allow_udp(udp);
    let granted: Vec<Capability> = granted.to_vec();
    builder.socket_addr_check(move |addr, use_| {
        use wasmtime_wasi::sockets::SocketAddrUse;
        let kind = match use_ {
            SocketAddrUse::TcpBind => CapabilityKind::TcpListen,
            SocketAddrUse::TcpConnect => CapabilityKind::TcpConnect,
            _ => CapabilityKind::Udp,
        };
        let request = Capability {
            kind,
            scope: Scope::endpoint(&format!("{}:{}", addr.ip(), addr.port())),
        };
        let allowed = granted.iter().any(|g| g.satisfies(&request));
        if let Some(m) = &monitor {
            if allowed {
                m.exercise(kind, &addr.to_string());
            } else {
                m.deny(kind, &format!("socket address {addr}"));
            }
        }
        Box::pin(async move { allowed })
    });
}

/// A clock the component was not granted: frozen at zero, every read a denial.
struct DeniedClock(Option<Arc<CapabilityMonitor>>);

impl DeniedClock {
    fn deny(&self, capability: CapabilityKind) {
        if let Some(m) = &self.0 {
            m.deny(capability, "read the clock (returned 0)");
        }
    }
}

impl HostWallClock for DeniedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.deny(CapabilityKind::WallClock);
        Duration::ZERO
    }
}

impl HostMonotonicClock for DeniedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        self.deny(CapabilityKind::MonotonicClock);
        0
    }
}

/// Randomness the component was not granted: zeros, every call a denial.
struct DeniedRandom(Option<Arc<CapabilityMonitor>>, CapabilityKind);

impl DeniedRandom {
    fn deny(&self) {
        if let Some(m) = &self.0 {
            m.deny(self.1, "requested random bytes (returned zeros)");
        }
    }
}

impl rand_core::TryRng for DeniedRandom {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.deny();
        Ok(0)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.deny();
        Ok(0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.deny();
        dst.fill(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::taxonomy::parse;

    #[test]
    fn the_default_denies_everything_but_stdout_and_stderr() {
        let s = SandboxConfig::default();
        assert!(s.stdout && s.stderr);
        assert!(s.preopens.is_empty() && s.network.is_empty());
        assert!(
            !(s.environment || s.wall_clock || s.monotonic_clock || s.random || s.insecure_random)
        );
        s.build_wasi(&GuestOutputs::default()).unwrap();
    }

    #[test]
    fn grants_become_preopens_and_switches() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("input")).unwrap();
        let resolved = ResolvedCapabilities {
            component: "reader".into(),
            granted: [
                parse("wasi:filesystem/read:input").unwrap(),
                parse("wasi:clocks/wall-clock").unwrap(),
            ]
            .concat(),
            skipped: vec![],
        };
        let s = SandboxConfig::from_resolved(&resolved, dir.path(), Arc::new(AuditLog::disabled()))
            .unwrap();
        assert_eq!(
            s.preopens,
            [Preopen {
                host: dir.path().join("input"),
                guest: "input".into(),
                write: false
            }]
        );
        assert!(s.wall_clock && !s.monotonic_clock);
        s.build_wasi(&GuestOutputs::default()).unwrap();
    }

    #[test]
    fn a_missing_granted_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let resolved = ResolvedCapabilities {
            component: "reader".into(),
            granted: parse("wasi:filesystem/read:nope").unwrap(),
            skipped: vec![],
        };
        assert!(SandboxConfig::from_resolved(
            &resolved,
            dir.path(),
            Arc::new(AuditLog::disabled())
        )
        .is_err());
    }

    #[test]
    fn denied_clocks_are_counted() {
        let monitor = Arc::new(CapabilityMonitor::new("c", Arc::new(AuditLog::disabled())));
        let clock = DeniedClock(Some(monitor.clone()));
        assert_eq!(HostWallClock::now(&clock), Duration::ZERO);
        assert_eq!(HostMonotonicClock::now(&clock), 0);
        assert_eq!(monitor.denials(), 2);
        assert_eq!(
            monitor.uses(),
            vec![
                super::super::monitor::CapabilityUse {
                    capability: "wasi:clocks/wall-clock",
                    exercises: 0,
                    denials: 1,
                },
                super::super::monitor::CapabilityUse {
                    capability: "wasi:clocks/monotonic-clock",
                    exercises: 0,
                    denials: 1,
                },
            ]
        );
        assert_eq!(
            crate::error::Coded::code(&monitor.denied()[0]),
            crate::error::ErrorCode::CapabilityDenied
        );
    }
}
