// SPDX-License-Identifier: GPL-2.0

//! [`AttachedFile`]: a device's backing file as its I/O path uses it, without a lock or a
//! shared reference count, that can still be let go of before the device goes.
//!
//! An autoclear device lets its backing file go on its last close, in the closing task, so
//! that the file's last `fput` is done when `close()` returns; the disk goes later, on a
//! worker. Each use of the file holds a reference of a per-CPU count (`percpu_ref`), which
//! [`AttachedFile::release`] kills and waits for before it drops the file: taking and
//! giving back a use writes only this CPU's counter.
//!
//! C header: [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h).

use super::BackingFile;
use crate::bindings_ext::{
    rloop_helper_init_completion, rloop_helper_percpu_ref_put, rloop_helper_percpu_ref_tryget_live,
};
use crate::kernel_extras::compat::opaque_try_ffi_init;
use core::{
    cell::UnsafeCell,
    ops::Deref,
    pin::Pin,
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{bindings, prelude::*, types::Opaque};

/// A device's backing file: [`AttachedFile::get`] lends it for a use,
/// [`AttachedFile::release`] lets it go once no use is left.
///
/// # Invariants
///
/// `users` is an initialised `percpu_ref` whose release completes `drained`, an initialised
/// completion. While `users` is live (not killed), `file` is `Some` and only read; it is
/// taken only by `release`, after killing `users` and seeing it drained. Every [`FileUse`]
/// and every raw use ([`FileUse::into_raw`]) holds one reference of `users`. `released` is set
/// once, by the `release` that kills `users`.
#[pin_data(PinnedDrop)]
pub(crate) struct AttachedFile {
    file: UnsafeCell<Option<BackingFile>>,
    #[pin]
    users: Opaque<bindings::percpu_ref>,
    #[pin]
    drained: Opaque<bindings::completion>,
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
            drained <- Opaque::ffi_init(|c: *mut bindings::completion| {
                // SAFETY: `c` points to memory for a completion that nothing uses yet.
                unsafe { rloop_helper_init_completion(c) }
            }),
            users <- opaque_try_ffi_init(|r: *mut bindings::percpu_ref| {
                // SAFETY: `r` is pinned memory for a `percpu_ref` nothing uses yet; the
                // release finds the `AttachedFile` from its address.
                kernel::error::to_result(unsafe {
                    bindings::percpu_ref_init(r, Some(users_released), 0, bindings::GFP_KERNEL)
                })
            }),
            released: AtomicBool::new(false),
        }? Error)
    }

    /// A use of the file, unless it was let go.
    pub(crate) fn get(&self) -> Option<FileUse<'_>> {
        // SAFETY: `users` is initialised (type invariant); `tryget_live` fails once it is
        // killed.
        if !unsafe { rloop_helper_percpu_ref_tryget_live(self.users.get()) } {
            return None;
        }
        // INVARIANT: The reference just taken is the use's.
        Some(FileUse { owner: self })
    }

    /// Lets the file go: no use can be taken from now on, and once the uses in progress are
    /// done the file is dropped, here. Sleeps until then; does nothing the second time.
    pub(crate) fn release(&self) {
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: Killed once (`released`); `percpu_ref_kill` gives back the initial reference
        // and its release completes `drained` once no use is left. After that no use exists
        // or can be made (`tryget_live` fails on a killed count): `file` is ours alone.
        unsafe {
            bindings::percpu_ref_kill_and_confirm(self.users.get(), None);
            bindings::wait_for_completion(self.drained.get());
            drop((*self.file.get()).take());
        }
    }
}

#[pinned_drop]
impl PinnedDrop for AttachedFile {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Dropped with no use left (each borrows the `AttachedFile` or, raw, is given
        // back before what owns the `AttachedFile` can go); `percpu_ref_exit` takes a count
        // killed or not.
        unsafe { bindings::percpu_ref_exit(self.users.get()) };
    }
}

/// The release of the uses' count: the last use is gone after `release` killed it.
///
/// # Safety
///
/// `r` must be the `users` of a live `AttachedFile`.
unsafe extern "C" fn users_released(r: *mut bindings::percpu_ref) {
    // SAFETY: `r` is the `users` field of an `AttachedFile` (caller), which starts that many
    // bytes before it; `release` waits for `drained` and keeps the `AttachedFile` meanwhile.
    unsafe {
        let this = r
            .cast::<u8>()
            .sub(core::mem::offset_of!(AttachedFile, users))
            .cast::<AttachedFile>();
        bindings::complete((*this).drained.get());
    }
}

/// A use of an [`AttachedFile`]'s file: the file stays while it lives.
///
/// # Invariants
///
/// Holds one reference of `owner.users`.
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
        // SAFETY: Our reference, given back once; the count's release, if this is the last
        // use after `release`, touches nothing of ours after completing `drained`.
        unsafe { rloop_helper_percpu_ref_put(Opaque::get(&(*this.as_ptr()).users)) };
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
        // SAFETY: Our reference (type invariant), given back once.
        unsafe { rloop_helper_percpu_ref_put(self.owner.users.get()) };
    }
}
