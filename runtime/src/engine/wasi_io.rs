//! Blocking WASI I/O (`wasi:io/poll`, `wasi:io/streams`) that works on any
//! thread, including an actix arbiter.
//!
//! wasmtime-wasi's synchronous bindings run every *blocking* I/O call
//! (`blocking-write-and-flush` behind each `println!` of a guest, the
//! output-stream destructor, `pollable.block` behind a guest's `sleep`)
//! through a private `in_tokio` helper that calls `Handle::block_on` on the
//! current Tokio runtime — which panics on a thread that is already driving
//! a runtime, as every actix arbiter is. The actor layer used to move every
//! batch to a companion thread to dodge that (two thread hand-offs per
//! batch).
//!
//! This module shadows exactly those two interfaces in the linker with
//! implementations that drive the same async futures (wasmtime-wasi-io's own
//! implementations, so the semantics do not change) on a plain
//! `futures` executor, with Torvyn's own I/O runtime ([`io_runtime`]: one
//! worker thread, timers and sockets) entered so that any timer or socket a
//! future touches is driven by that runtime's thread, not by the blocked
//! one. For stdout/stderr the futures complete on first poll: no thread
//! hand-off, no runtime, a few hundred nanoseconds.
//!
//! What it does not cover: `wasi:filesystem` and `wasi:sockets` keep
//! wasmtime-wasi's implementations (35 functions). A component granted
//! filesystem or network access must therefore not run on an arbiter
//! thread; [`crate::security::SandboxConfig::needs_tokio_free_thread`] tells
//! the actor layer which flows to run on a plain thread.

use std::future::Future;
use std::sync::LazyLock;

use wasmtime::component::{HasData, Linker};
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::sync::io::{poll, streams};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, StreamResult};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_io::bindings::wasi::io::poll as async_poll;
use wasmtime_wasi_io::bindings::wasi::io::streams::{
    HostInputStream as AsyncInput, HostOutputStream as AsyncOutput,
};

/// The runtime that drives timers and sockets of blocking WASI calls: one
/// worker thread, created on first use.
pub fn io_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("torvyn-io")
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            // Creating a runtime fails only when the OS refuses a thread;
            // nothing in the host can run then.
            Err(e) => panic!("cannot start Torvyn's I/O runtime thread: {e}"),
        }
    });
    &RUNTIME
}

/// Runs a WASI I/O future to completion on this thread.
fn block<F: Future>(future: F) -> F::Output {
    let _context = io_runtime().enter();
    futures_executor::block_on(future)
}

/// The shadowing host: the component's WASI resource table.
pub(crate) struct BlockingIo<'a>(&'a mut ResourceTable);

struct HasBlockingIo;

impl HasData for HasBlockingIo {
    type Data<'a> = BlockingIo<'a>;
}

/// Replaces wasmtime-wasi's `wasi:io/poll` and `wasi:io/streams` in
/// `linker` (after `wasmtime_wasi::p2::add_to_linker_sync`).
pub(crate) fn shadow_blocking_io<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    poll::add_to_linker::<T, HasBlockingIo>(linker, |t| BlockingIo(t.ctx().table))?;
    streams::add_to_linker::<T, HasBlockingIo>(linker, |t| BlockingIo(t.ctx().table))?;
    linker.allow_shadowing(false);
    Ok(())
}

impl poll::Host for BlockingIo<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        block(async_poll::Host::poll(self.0, pollables))
    }
}

impl poll::HostPollable for BlockingIo<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        block(async_poll::HostPollable::ready(self.0, pollable))
    }
    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        block(async_poll::HostPollable::block(self.0, pollable))
    }
    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        async_poll::HostPollable::drop(self.0, pollable)
    }
}

impl streams::Host for BlockingIo<'_> {
    fn convert_stream_error(
        &mut self,
        err: wasmtime_wasi::p2::StreamError,
    ) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(self.0, err)
    }
}

impl streams::HostOutputStream for BlockingIo<'_> {
    fn drop(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<()> {
        block(AsyncOutput::drop(self.0, stream))
    }
    fn check_write(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<u64> {
        streams::HostOutputStream::check_write(self.0, stream)
    }
    fn write(&mut self, stream: Resource<DynOutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        streams::HostOutputStream::write(self.0, stream, bytes)
    }
    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        block(AsyncOutput::blocking_write_and_flush(self.0, stream, bytes))
    }
    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        block(AsyncOutput::blocking_write_zeroes_and_flush(
            self.0, stream, len,
        ))
    }
    fn subscribe(
        &mut self,
        stream: Resource<DynOutputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostOutputStream::subscribe(self.0, stream)
    }
    fn write_zeroes(&mut self, stream: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        streams::HostOutputStream::write_zeroes(self.0, stream, len)
    }
    fn flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        streams::HostOutputStream::flush(self.0, stream)
    }
    fn blocking_flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        let borrowed = Resource::new_borrow(stream.rep());
        block(AsyncOutput::blocking_flush(self.0, borrowed))
    }
    fn splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        streams::HostOutputStream::splice(self.0, dst, src, len)
    }
    fn blocking_splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        block(AsyncOutput::blocking_splice(self.0, dst, src, len))
    }
}

impl streams::HostInputStream for BlockingIo<'_> {
    fn drop(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<()> {
        block(AsyncInput::drop(self.0, stream))
    }
    fn read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        streams::HostInputStream::read(self.0, stream, len)
    }
    fn blocking_read(
        &mut self,
        stream: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<Vec<u8>> {
        block(AsyncInput::blocking_read(self.0, stream, len))
    }
    fn skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        streams::HostInputStream::skip(self.0, stream, len)
    }
    fn blocking_skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        block(AsyncInput::blocking_skip(self.0, stream, len))
    }
    fn subscribe(
        &mut self,
        stream: Resource<DynInputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostInputStream::subscribe(self.0, stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blocking wait on a timer completes on a thread that is itself
    /// driving a current-thread Tokio runtime (an actix arbiter's
    /// situation), where `Handle::block_on` would panic.
    #[test]
    fn blocks_inside_a_current_thread_runtime() {
        let outer = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let waited = outer.block_on(async {
            let began = std::time::Instant::now();
            // The timer is created inside `block`, as WASI pollables create theirs.
            block(async { tokio::time::sleep(std::time::Duration::from_millis(5)).await });
            began.elapsed()
        });
        assert!(waited >= std::time::Duration::from_millis(5));
    }
}
