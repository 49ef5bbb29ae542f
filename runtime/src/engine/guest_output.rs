//! Where the guests' stdout and stderr go when the embedder takes them
//! instead of letting the sandbox inherit the process's (the default).
//!
//! `torvyn run` uses it to keep its live progress line on a terminal that
//! the guests print to as well: their bytes reach a [`GuestOutput`] the CLI
//! supplies, which writes whole lines above the progress line. The sandbox
//! still decides whether a component may write at all (`wasi-stdout`,
//! `wasi-stderr`); this only decides where allowed writes land.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};
use wasmtime_wasi_io::bytes::Bytes;

/// A destination for the bytes guests write to one of their output
/// streams. Called on the flow's thread, for every guest write: it must not
/// block for long.
pub trait GuestOutput: Send + Sync {
    /// Takes bytes a guest wrote.
    fn write(&self, bytes: &[u8]) -> io::Result<()>;
    /// A guest flushed its stream.
    fn flush(&self) -> io::Result<()>;
}

/// Replacements for the inherited stdout and stderr of every component of
/// an engine (`None`: inherited, as usual).
#[derive(Clone, Default)]
pub struct GuestOutputs {
    /// The guests' stdout.
    pub stdout: Option<Arc<dyn GuestOutput>>,
    /// The guests' stderr.
    pub stderr: Option<Arc<dyn GuestOutput>>,
}

impl std::fmt::Debug for GuestOutputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestOutputs")
            .field("stdout", &self.stdout.as_ref().map(|_| "host"))
            .field("stderr", &self.stderr.as_ref().map(|_| "host"))
            .finish()
    }
}

impl PartialEq for GuestOutputs {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &Option<Arc<dyn GuestOutput>>, b: &Option<Arc<dyn GuestOutput>>| match (a, b)
        {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same(&self.stdout, &other.stdout) && same(&self.stderr, &other.stderr)
    }
}

impl Eq for GuestOutputs {}

/// Which of the process's streams a [`HostStream`] stands in for (what a
/// guest asking whether its output is a terminal is told).
#[derive(Debug, Clone, Copy)]
pub(crate) enum StandsFor {
    Stdout,
    Stderr,
}

/// A guest output stream that hands its bytes to a [`GuestOutput`].
pub(crate) struct HostStream {
    sink: Arc<dyn GuestOutput>,
    stands_for: StandsFor,
}

impl HostStream {
    pub(crate) fn new(sink: Arc<dyn GuestOutput>, stands_for: StandsFor) -> Self {
        Self { sink, stands_for }
    }
}

impl IsTerminal for HostStream {
    fn is_terminal(&self) -> bool {
        match self.stands_for {
            StandsFor::Stdout => io::IsTerminal::is_terminal(&io::stdout()),
            StandsFor::Stderr => io::IsTerminal::is_terminal(&io::stderr()),
        }
    }
}

impl StdoutStream for HostStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(HostWriter(Arc::clone(&self.sink)))
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(HostWriter(Arc::clone(&self.sink)))
    }
}

/// Room a guest may write at once (any amount is taken synchronously).
const WRITE_PERMIT: usize = 64 * 1024;

struct HostWriter(Arc<dyn GuestOutput>);

fn failed(e: io::Error) -> StreamError {
    StreamError::LastOperationFailed(e.into())
}

impl OutputStream for HostWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.0.write(&bytes).map_err(failed)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.0.flush().map_err(failed)
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for HostWriter {
    async fn ready(&mut self) {}
}

impl AsyncWrite for HostWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.0.write(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
