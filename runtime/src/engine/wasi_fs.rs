//! `wasi:filesystem/types` with capability accounting.
//!
//! wasmtime-wasi enforces a filesystem grant by what it preopens (and
//! with which permissions), but it has no hook that tells the host when a
//! component *uses* the grant. The spec counts each use — "each time a
//! component uses a granted capability (opens a file, makes a network
//! connection), the exercise is recorded" — in `capability.exercises` and
//! the audit log.
//!
//! This module shadows `wasi:filesystem/types` in the linker with a thin
//! layer over wasmtime-wasi's own synchronous implementation (so the
//! semantics do not change) that records, on the component's
//! [`CapabilityMonitor`]:
//!
//! - an exercise of `wasi:filesystem/read` for each file or directory
//!   opened for reading, each directory listed and each link read;
//! - an exercise of `wasi:filesystem/write` for each file opened for
//!   writing (or created or truncated) and each change to the tree
//!   (create, remove, rename, link, unlink, set times);
//! - a denial (E0500) of the same capability when wasmtime-wasi refuses
//!   the operation for lack of permission (a write under a read-only
//!   grant, a path that climbs out of the granted directory).
//!
//! Reads and writes through an open descriptor are not counted again: the
//! open was the exercise. A path no grant covers never reaches the host
//! (the guest's libc finds no preopen for it), so it cannot be counted.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::filesystem::{WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode as RefusalCode;
use wasmtime_wasi::p2::bindings::sync::filesystem::types as fs;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    HostDescriptor, HostDirectoryEntryStream,
};
use wasmtime_wasi::p2::bindings::sync::io::streams;
use wasmtime_wasi::p2::{FsError, FsResult};

use super::state::ComponentState;
use crate::security::monitor::CapabilityMonitor;
use crate::security::taxonomy::CapabilityKind;

const READ: CapabilityKind = CapabilityKind::FilesystemRead;
const WRITE: CapabilityKind = CapabilityKind::FilesystemWrite;

/// The shadowing host: wasmtime-wasi's filesystem view of the component,
/// and where its uses are counted.
pub(crate) struct CountingFilesystem<'a> {
    fs: WasiFilesystemCtxView<'a>,
    monitor: Option<Arc<CapabilityMonitor>>,
}

struct HasCountingFilesystem;

impl HasData for HasCountingFilesystem {
    type Data<'a> = CountingFilesystem<'a>;
}

/// Replaces wasmtime-wasi's `wasi:filesystem/types` in `linker` (after
/// `wasmtime_wasi::p2::add_to_linker_sync`).
pub(crate) fn shadow_filesystem(linker: &mut Linker<ComponentState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    fs::add_to_linker::<ComponentState, HasCountingFilesystem>(linker, |state| {
        // An `Arc` clone per filesystem call (never on the element path)
        // keeps the monitor's borrow apart from the WASI context's.
        let monitor = state.services.monitor.clone();
        CountingFilesystem {
            fs: state.filesystem(),
            monitor,
        }
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Whether wasmtime-wasi refused the operation for lack of permission.
fn is_refusal(error: &FsError) -> bool {
    matches!(
        error.downcast_ref(),
        Some(RefusalCode::NotPermitted | RefusalCode::Access | RefusalCode::ReadOnly)
    )
}

impl CountingFilesystem<'_> {
    /// Records `result` of `operation` on `path` as a use of `kind`: an
    /// exercise when it succeeded, a denial when it was refused for lack
    /// of permission, nothing for any other failure (a missing file is
    /// not a use of the grant).
    fn account<T>(
        &self,
        kind: CapabilityKind,
        operation: &str,
        path: &str,
        result: FsResult<T>,
    ) -> FsResult<T> {
        if let Some(monitor) = &self.monitor {
            match &result {
                Ok(_) => monitor.exercise(kind, &format!("{operation} {path}")),
                Err(e) if is_refusal(e) => {
                    monitor.deny(kind, &format!("{operation} {path} (not permitted)"))
                }
                Err(_) => {}
            }
        }
        result
    }
}

/// Which capability opening a descriptor with these flags uses.
fn open_kind(open: fs::OpenFlags, flags: fs::DescriptorFlags) -> CapabilityKind {
    let writes = flags.contains(fs::DescriptorFlags::WRITE)
        || flags.contains(fs::DescriptorFlags::MUTATE_DIRECTORY)
        || open.contains(fs::OpenFlags::CREATE)
        || open.contains(fs::OpenFlags::TRUNCATE);
    if writes {
        WRITE
    } else {
        READ
    }
}

impl fs::Host for CountingFilesystem<'_> {
    fn convert_error_code(&mut self, err: FsError) -> wasmtime::Result<fs::ErrorCode> {
        fs::Host::convert_error_code(&mut self.fs, err)
    }

    fn filesystem_error_code(
        &mut self,
        err: Resource<streams::Error>,
    ) -> wasmtime::Result<Option<fs::ErrorCode>> {
        fs::Host::filesystem_error_code(&mut self.fs, err)
    }
}

impl HostDescriptor for CountingFilesystem<'_> {
    fn open_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
        oflags: fs::OpenFlags,
        flags: fs::DescriptorFlags,
    ) -> FsResult<Resource<fs::Descriptor>> {
        let kind = open_kind(oflags, flags);
        let shown = path.clone();
        let result = HostDescriptor::open_at(&mut self.fs, fd, path_flags, path, oflags, flags);
        self.account(kind, "open", &shown, result)
    }

    fn read_directory(
        &mut self,
        fd: Resource<fs::Descriptor>,
    ) -> FsResult<Resource<fs::DirectoryEntryStream>> {
        let result = HostDescriptor::read_directory(&mut self.fs, fd);
        self.account(READ, "list", "directory", result)
    }

    fn readlink_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<String> {
        let shown = path.clone();
        let result = HostDescriptor::readlink_at(&mut self.fs, fd, path);
        self.account(READ, "readlink", &shown, result)
    }

    fn create_directory_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<()> {
        let shown = path.clone();
        let result = HostDescriptor::create_directory_at(&mut self.fs, fd, path);
        self.account(WRITE, "mkdir", &shown, result)
    }

    fn remove_directory_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<()> {
        let shown = path.clone();
        let result = HostDescriptor::remove_directory_at(&mut self.fs, fd, path);
        self.account(WRITE, "rmdir", &shown, result)
    }

    fn unlink_file_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<()> {
        let shown = path.clone();
        let result = HostDescriptor::unlink_file_at(&mut self.fs, fd, path);
        self.account(WRITE, "unlink", &shown, result)
    }

    fn rename_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        old_path: String,
        new_fd: Resource<fs::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let shown = format!("{old_path} -> {new_path}");
        let result = HostDescriptor::rename_at(&mut self.fs, fd, old_path, new_fd, new_path);
        self.account(WRITE, "rename", &shown, result)
    }

    fn symlink_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        let shown = format!("{dest_path} -> {src_path}");
        let result = HostDescriptor::symlink_at(&mut self.fs, fd, src_path, dest_path);
        self.account(WRITE, "symlink", &shown, result)
    }

    fn link_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        old_path_flags: fs::PathFlags,
        old_path: String,
        new_descriptor: Resource<fs::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let shown = format!("{new_path} -> {old_path}");
        let result = HostDescriptor::link_at(
            &mut self.fs,
            fd,
            old_path_flags,
            old_path,
            new_descriptor,
            new_path,
        );
        self.account(WRITE, "link", &shown, result)
    }

    fn set_times_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
        atim: fs::NewTimestamp,
        mtim: fs::NewTimestamp,
    ) -> FsResult<()> {
        let shown = path.clone();
        let result = HostDescriptor::set_times_at(&mut self.fs, fd, path_flags, path, atim, mtim);
        self.account(WRITE, "set-times", &shown, result)
    }

    // Uses of an already open descriptor: delegated unchanged.

    fn advise(
        &mut self,
        fd: Resource<fs::Descriptor>,
        offset: fs::Filesize,
        len: fs::Filesize,
        advice: fs::Advice,
    ) -> FsResult<()> {
        HostDescriptor::advise(&mut self.fs, fd, offset, len, advice)
    }

    fn sync_data(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<()> {
        HostDescriptor::sync_data(&mut self.fs, fd)
    }

    fn get_flags(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::DescriptorFlags> {
        HostDescriptor::get_flags(&mut self.fs, fd)
    }

    fn get_type(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::DescriptorType> {
        HostDescriptor::get_type(&mut self.fs, fd)
    }

    fn set_size(&mut self, fd: Resource<fs::Descriptor>, size: fs::Filesize) -> FsResult<()> {
        HostDescriptor::set_size(&mut self.fs, fd, size)
    }

    fn set_times(
        &mut self,
        fd: Resource<fs::Descriptor>,
        atim: fs::NewTimestamp,
        mtim: fs::NewTimestamp,
    ) -> FsResult<()> {
        HostDescriptor::set_times(&mut self.fs, fd, atim, mtim)
    }

    fn read(
        &mut self,
        fd: Resource<fs::Descriptor>,
        len: fs::Filesize,
        offset: fs::Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        HostDescriptor::read(&mut self.fs, fd, len, offset)
    }

    fn write(
        &mut self,
        fd: Resource<fs::Descriptor>,
        buf: Vec<u8>,
        offset: fs::Filesize,
    ) -> FsResult<fs::Filesize> {
        HostDescriptor::write(&mut self.fs, fd, buf, offset)
    }

    fn sync(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<()> {
        HostDescriptor::sync(&mut self.fs, fd)
    }

    fn stat(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::DescriptorStat> {
        HostDescriptor::stat(&mut self.fs, fd)
    }

    fn stat_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
    ) -> FsResult<fs::DescriptorStat> {
        HostDescriptor::stat_at(&mut self.fs, fd, path_flags, path)
    }

    fn drop(&mut self, fd: Resource<fs::Descriptor>) -> wasmtime::Result<()> {
        HostDescriptor::drop(&mut self.fs, fd)
    }

    fn read_via_stream(
        &mut self,
        fd: Resource<fs::Descriptor>,
        offset: fs::Filesize,
    ) -> FsResult<Resource<streams::InputStream>> {
        HostDescriptor::read_via_stream(&mut self.fs, fd, offset)
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<fs::Descriptor>,
        offset: fs::Filesize,
    ) -> FsResult<Resource<streams::OutputStream>> {
        HostDescriptor::write_via_stream(&mut self.fs, fd, offset)
    }

    fn append_via_stream(
        &mut self,
        fd: Resource<fs::Descriptor>,
    ) -> FsResult<Resource<streams::OutputStream>> {
        HostDescriptor::append_via_stream(&mut self.fs, fd)
    }

    fn is_same_object(
        &mut self,
        a: Resource<fs::Descriptor>,
        b: Resource<fs::Descriptor>,
    ) -> wasmtime::Result<bool> {
        HostDescriptor::is_same_object(&mut self.fs, a, b)
    }

    fn metadata_hash(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::MetadataHashValue> {
        HostDescriptor::metadata_hash(&mut self.fs, fd)
    }

    fn metadata_hash_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
    ) -> FsResult<fs::MetadataHashValue> {
        HostDescriptor::metadata_hash_at(&mut self.fs, fd, path_flags, path)
    }
}

impl HostDirectoryEntryStream for CountingFilesystem<'_> {
    fn read_directory_entry(
        &mut self,
        stream: Resource<fs::DirectoryEntryStream>,
    ) -> FsResult<Option<fs::DirectoryEntry>> {
        HostDirectoryEntryStream::read_directory_entry(&mut self.fs, stream)
    }

    fn drop(&mut self, stream: Resource<fs::DirectoryEntryStream>) -> wasmtime::Result<()> {
        HostDirectoryEntryStream::drop(&mut self.fs, stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_for_writing_creating_or_truncating_is_a_write() {
        let none = fs::OpenFlags::empty();
        assert_eq!(open_kind(none, fs::DescriptorFlags::READ), READ);
        assert_eq!(open_kind(none, fs::DescriptorFlags::WRITE), WRITE);
        assert_eq!(
            open_kind(none, fs::DescriptorFlags::MUTATE_DIRECTORY),
            WRITE
        );
        assert_eq!(
            open_kind(fs::OpenFlags::CREATE, fs::DescriptorFlags::READ),
            WRITE
        );
        assert_eq!(
            open_kind(fs::OpenFlags::TRUNCATE, fs::DescriptorFlags::READ),
            WRITE
        );
        assert_eq!(
            open_kind(fs::OpenFlags::DIRECTORY, fs::DescriptorFlags::READ),
            READ
        );
    }

    #[test]
    fn only_permission_errors_are_refusals() {
        assert!(is_refusal(&FsError::from(RefusalCode::NotPermitted)));
        assert!(is_refusal(&FsError::from(RefusalCode::Access)));
        assert!(is_refusal(&FsError::from(RefusalCode::ReadOnly)));
        assert!(!is_refusal(&FsError::from(RefusalCode::NoEntry)));
        assert!(!is_refusal(&FsError::trap(wasmtime::Error::msg("trap"))));
    }
}
