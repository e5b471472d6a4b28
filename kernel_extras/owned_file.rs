// SPDX-License-Identifier: GPL-2.0

//! A `struct file` reference the driver owns, which it can give to the calling process as a
//! new file descriptor.
//!
//! C header: [`include/linux/file.h`](srctree/include/linux/file.h).

use core::ptr::NonNull;
use kernel::{bindings, prelude::*};

/// A reference to an open file.
///
/// # Invariants
///
/// `file` is a file we hold a reference to, given back with `fput` unless it is installed
/// in a descriptor table.
pub(crate) struct OwnedFile {
    file: NonNull<bindings::file>,
}

// SAFETY: File references may be used and dropped on any thread.
unsafe impl Send for OwnedFile {}

impl OwnedFile {
    /// # Safety
    ///
    /// `file` must be a file whose reference the caller gives to the new value.
    pub(crate) unsafe fn from_raw(file: NonNull<bindings::file>) -> Self {
        // INVARIANT: The caller gives us the reference.
        Self { file }
    }

    /// The C file, live while `self` is.
    pub(crate) fn as_raw(&self) -> *mut bindings::file {
        self.file.as_ptr()
    }

    /// Installs the file in the calling process's descriptor table, close-on-exec, and
    /// returns the descriptor.
    pub(crate) fn into_fd(self) -> Result<i32> {
        // SAFETY: Any flags are valid; `O_CLOEXEC` is what the descriptor gets.
        let fd = unsafe { bindings::get_unused_fd_flags(bindings::O_CLOEXEC) };
        let slot = u32::try_from(fd).map_err(|_| Error::from_errno(fd))?;
        let file = core::mem::ManuallyDrop::new(self);
        // SAFETY: `slot` is a reserved, unused descriptor of the current process; our
        // reference moves into the table.
        unsafe { bindings::fd_install(slot, file.file.as_ptr()) };
        Ok(fd)
    }
}

impl Drop for OwnedFile {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold a reference, given back once here.
        unsafe { bindings::fput(self.file.as_ptr()) };
    }
}
