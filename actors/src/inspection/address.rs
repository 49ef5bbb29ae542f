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
            InspectionAddress::Unix(path) => write!(f, "unix:{}", path.display()),
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
            return Ok(InspectionAddress::Unix(default_socket_path()));
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
            InspectionAddress::Unix(_) => None,
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
                prepare_socket_path(path).map_err(|e| failed(e.to_string()))?;
                let server =
                    tiny_http::Server::http_unix(path).map_err(|e| failed(e.to_string()))?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| failed(e.to_string()))?;
                Ok((server, self.clone(), Some(path.clone())))
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
            InspectionAddress::Unix(path) => assert!(path.ends_with(SOCKET_NAME)),
            other => panic!("{other}"),
        }
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
