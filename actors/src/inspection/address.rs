//! Where the inspection API listens: [`InspectionAddress`], the default
//! socket path, and binding.

use std::fmt;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use torvyn_runtime::error::{Coded, ErrorCode};

/// The directory of the default socket (`$TORVYN_STATE_DIR/torvyn.sock`).
pub const STATE_DIR_ENV: &str = "TORVYN_STATE_DIR";

/// The socket's file name.
const SOCKET_NAME: &str = "torvyn.sock";

/// `$TORVYN_STATE_DIR/torvyn.sock`, else `$XDG_RUNTIME_DIR/torvyn/torvyn.sock`,
/// else `<temp dir>/torvyn-$USER/torvyn.sock`.
pub fn default_socket_path() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(STATE_DIR_ENV) {
        return PathBuf::from(dir).join(SOCKET_NAME);
    }
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        return PathBuf::from(dir).join("torvyn").join(SOCKET_NAME);
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    std::env::temp_dir()
        .join(format!("torvyn-{user}"))
        .join(SOCKET_NAME)
}

/// Where the inspection API listens.
#[derive(Clone, PartialEq, Eq)]
pub enum InspectionAddress {
    /// A Unix domain socket (only its owner may connect: mode 0600 in a
    /// 0700 directory when the directory is created here).
    Unix(PathBuf),
    /// The default socket, [`default_socket_path`]: when another host
    /// serves it, this host serves `torvyn-<pid>.sock` beside it instead
    /// (so two hosts never take over each other's socket, and neither
    /// fails to start).
    DefaultUnix(PathBuf),
    /// Loopback TCP; every request must carry `Authorization: Bearer <token>`.
    Tcp {
        /// A loopback address (`127.0.0.1:9464`, `[::1]:9464`).
        addr: SocketAddr,
        /// The bearer token.
        token: String,
    },
}

impl fmt::Debug for InspectionAddress {
    /// Never prints the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for InspectionAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectionAddress::Unix(path) | InspectionAddress::DefaultUnix(path) => {
                write!(f, "unix:{}", path.display())
            }
            InspectionAddress::Tcp { addr, .. } => write!(f, "http://{addr}"),
        }
    }
}

/// The inspection API could not be configured or started.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InspectionError {
    /// `inspection_address` is neither empty nor `HOST:PORT`.
    #[error("inspection_address `{0}` is not a HOST:PORT socket address")]
    InvalidAddress(String),
    /// TCP on a non-loopback address.
    #[error("inspection_address `{0}` is not a loopback address")]
    NotLoopback(String),
    /// TCP without a token.
    #[error("the TCP inspection API at `{0}` needs an inspection_token")]
    MissingToken(String),
    /// Binding failed (address in use, permissions, …).
    #[error("the inspection API could not listen at {address}: {reason}")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
}

impl Coded for InspectionError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ConstraintViolation
    }

    fn location(&self) -> Option<String> {
        Some("[observability]".into())
    }

    fn help(&self) -> String {
        match self {
            InspectionError::InvalidAddress(_) | InspectionError::NotLoopback(_) => {
                "set inspection_address to \"\" (Unix socket) or a loopback address like 127.0.0.1:9464".into()
            }
            InspectionError::MissingToken(_) => {
                "set [observability] inspection_token or TORVYN_OBSERVABILITY_INSPECTION_TOKEN".into()
            }
            InspectionError::Bind { .. } => format!(
                "free the address, or choose another one (${STATE_DIR_ENV} moves the socket)"
            ),
        }
    }
}

impl InspectionAddress {
    /// `address` "" is the Unix socket at [`default_socket_path`]; a
    /// loopback `HOST:PORT` is TCP and needs a non-empty `token`.
    pub fn parse(address: &str, token: &str) -> Result<Self, InspectionError> {
        let address = address.trim();
        if address.is_empty() {
            return Ok(InspectionAddress::DefaultUnix(default_socket_path()));
        }
        let addr: SocketAddr = address
            .parse()
            .map_err(|_| InspectionError::InvalidAddress(address.into()))?;
        if !addr.ip().is_loopback() {
            return Err(InspectionError::NotLoopback(address.into()));
        }
        if token.is_empty() {
            return Err(InspectionError::MissingToken(address.into()));
        }
        Ok(InspectionAddress::Tcp {
            addr,
            token: token.into(),
        })
    }

    /// The bearer token requests must carry (TCP only).
    pub fn token(&self) -> Option<&str> {
        match self {
            InspectionAddress::Unix(_) | InspectionAddress::DefaultUnix(_) => None,
            InspectionAddress::Tcp { token, .. } => Some(token),
        }
    }

    /// Binds: the server, the address actually bound, and the socket file
    /// to remove at stop.
    pub(super) fn bind(
        &self,
    ) -> Result<(tiny_http::Server, InspectionAddress, Option<PathBuf>), InspectionError> {
        let failed = |reason: String| InspectionError::Bind {
            address: self.to_string(),
            reason,
        };
        match self {
            InspectionAddress::Unix(path) => {
                let server = bind_unix(path).map_err(|e| failed(e.to_string()))?;
                Ok((server, self.clone(), Some(path.clone())))
            }
            InspectionAddress::DefaultUnix(path) => {
                let (server, path) = match bind_unix(path) {
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                        remove_stale_sockets(path);
                        let own =
                            path.with_file_name(format!("torvyn-{}.sock", std::process::id()));
                        // The CLI prints the address it serves; a log
                        // line at info would land in every run's output.
                        tracing::debug!(
                            default = %path.display(),
                            socket = %own.display(),
                            "another Torvyn host serves the default inspection socket; serving this host's own"
                        );
                        (bind_unix(&own), own)
                    }
                    other => (other, path.clone()),
                };
                let server = server.map_err(|e| failed(e.to_string()))?;
                Ok((server, InspectionAddress::Unix(path.clone()), Some(path)))
            }
            InspectionAddress::Tcp { addr, token } => {
                let server = tiny_http::Server::http(addr).map_err(|e| failed(e.to_string()))?;
                let bound = server.server_addr().to_ip().unwrap_or(*addr);
                let address = InspectionAddress::Tcp {
                    addr: bound,
                    token: token.clone(),
                };
                Ok((server, address, None))
            }
        }
    }
}

/// Listens on Unix socket `path` (mode 0600).
fn bind_unix(path: &Path) -> std::io::Result<tiny_http::Server> {
    prepare_socket_path(path)?;
    let server = listen_unix(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(server)
}

/// Listens on `path`. Another host may bind it between the stale-socket
/// check and here: the error keeps its kind (AddrInUse), so the default
/// socket's caller serves a socket of its own instead of failing.
fn listen_unix(path: &Path) -> std::io::Result<tiny_http::Server> {
    tiny_http::Server::http_unix(path).map_err(|e| match e.downcast_ref::<std::io::Error>() {
        Some(io) => std::io::Error::new(io.kind(), io.to_string()),
        None => std::io::Error::other(e.to_string()),
    })
}

/// Removes the `torvyn-<pid>.sock` files beside `default` that nobody
/// answers on any more (hosts that were killed).
fn remove_stale_sockets(default: &Path) {
    let Some(dir) = default.parent() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("torvyn-")
            && name.ends_with(".sock")
            && std::os::unix::net::UnixStream::connect(entry.path()).is_err()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Creates the socket's directory (0700) and removes a stale socket; a
/// socket someone still answers on is an error (another host serves it).
fn prepare_socket_path(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another Torvyn host is serving this socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_inspection_address_empty_is_the_unix_socket() {
        match InspectionAddress::parse("", "").unwrap() {
            InspectionAddress::DefaultUnix(path) => assert!(path.ends_with(SOCKET_NAME)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_second_host_serves_its_own_socket_and_stale_sockets_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join(SOCKET_NAME);
        // A socket file nobody answers on (a killed host) is replaced.
        drop(std::os::unix::net::UnixListener::bind(&default).unwrap());
        assert!(default.exists());
        let address = InspectionAddress::DefaultUnix(default.clone());
        let (_first, bound, _) = address.bind().unwrap();
        assert_eq!(bound, InspectionAddress::Unix(default.clone()));
        // The default is served now: a second host gets its own socket.
        let own = dir
            .path()
            .join(format!("torvyn-{}.sock", std::process::id()));
        let stale = dir.path().join("torvyn-999999.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let (_second, bound, _) = address.bind().unwrap();
        assert_eq!(bound, InspectionAddress::Unix(own));
        assert!(!stale.exists(), "a killed host's socket is removed");
        // Losing the race to bind after the check is still AddrInUse.
        let taken = listen_unix(&default).err().unwrap();
        assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "{taken}");
        // An explicitly named socket that is served is an error.
        let error = InspectionAddress::Unix(default).bind().err().unwrap();
        assert!(error.to_string().contains("another Torvyn host"), "{error}");
    }

    #[test]
    fn test_inspection_address_tcp_needs_loopback_and_a_token() {
        let tcp = InspectionAddress::parse("127.0.0.1:9464", "s3cret").unwrap();
        assert_eq!(tcp.token(), Some("s3cret"));
        assert!(!format!("{tcp:?}").contains("s3cret"));
        assert!(matches!(
            InspectionAddress::parse("0.0.0.0:9464", "t"),
            Err(InspectionError::NotLoopback(_))
        ));
        assert!(matches!(
            InspectionAddress::parse("127.0.0.1:9464", ""),
            Err(InspectionError::MissingToken(_))
        ));
        assert!(matches!(
            InspectionAddress::parse("localhost", "t"),
            Err(InspectionError::InvalidAddress(_))
        ));
    }
}
