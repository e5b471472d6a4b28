// SPDX-License-Identifier: GPL-2.0

//! [`AttachedFile`]: a device's backing file as its I/O path uses it, without a lock or a
//! shared reference count, that can still be let go of before the device goes.
//!
//! An autoclear device lets its backing file go on its last close, in the closing task, so
//! that the file's last `fput` is done when `close()` returns; the disk goes later, on a
//! worker. Each use of the file holds a use of a [`DrainCount`], which
//! [`AttachedFile::release`] ends and waits out before it drops the file: taking and giving
//! back a use writes only this CPU's counter.

use super::BackingFile;
use crate::kernel_extras::DrainCount;
use core::{
    cell::UnsafeCell,
    ops::Deref,
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::prelude::*;

/// A device's backing file: [`AttachedFile::get`] lends it for a use,
/// [`AttachedFile::release`] lets it go once no use is left.
///
/// # Invariants
///
/// While `users` is not ended, `file` is `Some` and only read; it is taken only by
/// `release`, after ending `users` and seeing the last use back. Every [`FileUse`] and every
/// raw use ([`FileUse::into_raw`]) holds one use of `users`. `released` is set once, by the
/// `release` that ends `users`.
#[pin_data]
pub(crate) struct AttachedFile {
    file: UnsafeCell<Option<BackingFile>>,
    #[pin]
    users: DrainCount,
    released: AtomicBool,
}

// SAFETY: `file` is only read while a use is held, and only written by `release` once no use
// is left or can be made (type invariant); the rest is thread-safe by itself.
unsafe impl Sync for AttachedFile {}
// SAFETY: `BackingFile` may be dropped on any thread; nothing is tied to a task.
unsafe impl Send for AttachedFile {}

impl AttachedFile {
    /// Attaches `file`.
    pub(crate) fn new(file: BackingFile) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            file: UnsafeCell::new(Some(file)),
            users <- DrainCount::new(),
            released: AtomicBool::new(false),
        }? Error)
    }

    /// A use of the file, unless it was let go.
    pub(crate) fn get(&self) -> Option<FileUse<'_>> {
        // Fails once `release` ended the count.
        if !self.users.tryget_live() {
            return None;
        }
        // INVARIANT: The use just taken is this one.
        Some(FileUse { owner: self })
    }

    /// Lets the file go: no use can be taken from now on, and once the uses in progress are
    /// done the file is dropped, here. Sleeps until then; does nothing the second time.
    pub(crate) fn release(&self) {
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: Ended once (`released`). After it no use exists or can be made
        // (`tryget_live` fails on an ended count): `file` is ours alone.
        unsafe {
            self.users.kill_and_wait();
            drop((*self.file.get()).take());
        }
    }
}

/// A use of an [`AttachedFile`]'s file: the file stays while it lives.
///
/// # Invariants
///
/// Holds one use of `owner.users`.
pub(crate) struct FileUse<'a> {
    owner: &'a AttachedFile,
}

impl FileUse<'_> {
    /// Keeps the use past the borrow, for an I/O that outlives its submitter's call: given
    /// back by [`AttachedFile::put_raw`].
    pub(super) fn into_raw(self) -> NonNull<AttachedFile> {
        let owner = NonNull::from(self.owner);
        core::mem::forget(self);
        owner
    }
}

impl AttachedFile {
    /// The file of a raw use.
    ///
    /// # Safety
    ///
    /// `this` must hold a raw use ([`FileUse::into_raw`]) not yet given back.
    pub(super) unsafe fn raw_file<'a>(this: NonNull<Self>) -> &'a BackingFile {
        // SAFETY: The use keeps the `AttachedFile` and its file (type invariant).
        unsafe { file_of(this.as_ref()) }
    }

    /// Gives a raw use back.
    ///
    /// # Safety
    ///
    /// `this` must hold a raw use not yet given back, and not be used afterwards.
    pub(super) unsafe fn put_raw(this: NonNull<Self>) {
        // SAFETY: Our use, given back once; only the field's address is taken.
        unsafe { DrainCount::put(NonNull::new_unchecked(&raw mut (*this.as_ptr()).users)) };
    }
}

/// The file of `attached`, while a use of it is held.
///
/// # Safety
///
/// A use of `attached` must be held for `'a`.
unsafe fn file_of<'a>(attached: &'a AttachedFile) -> &'a BackingFile {
    // SAFETY: A use is held, so `users` is live or its uses not yet drained, and `file` is
    // `Some` and not written (type invariant).
    unsafe { (*attached.file.get()).as_ref().unwrap_unchecked() }
}

impl Deref for FileUse<'_> {
    type Target = BackingFile;

    fn deref(&self) -> &BackingFile {
        // SAFETY: We hold a use (type invariant).
        unsafe { file_of(self.owner) }
    }
}

impl Drop for FileUse<'_> {
    fn drop(&mut self) {
        // SAFETY: Our use (type invariant), given back once; `users` is not touched after.
        unsafe { DrainCount::put(NonNull::from(&self.owner.users)) };
    }
}
