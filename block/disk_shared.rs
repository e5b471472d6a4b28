// SPDX-License-Identifier: GPL-2.0

//! What every callback of a bio-based disk shares: [`DiskShared`] (the driver's data and the
//! count of bios the driver holds, owned by the gendisk) and [`DiskHold`], a reference to it
//! that outlives a bio.
//!
//! C header: [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h).

use super::gen_disk::Operations;
use crate::kernel_extras::DrainCount;
use core::ptr::NonNull;
use kernel::{bindings, prelude::*};

/// The state every callback of a [`GenDisk`](super::GenDisk) shares: the driver's data and
/// the count of bios the driver holds. Owned by the gendisk (`private_data`) and freed with
/// it.
///
/// Every bio takes and gives back a use of the count, which writes only this CPU's counter;
/// only [`GenDisk::drop`](super::GenDisk::drop) ends it, to see the last bio go.
///
/// # Invariants
///
/// `kind` is `DiskKind::of::<T>()`, at offset 0 whatever `T` is (`repr(C)`): a poller that
/// finds a disk of this module by a bio that may have been reused reads it to learn the
/// disk's type ([`poll_bio_callback`](super::fops)). `inflight` holds a use for each live
/// [`Bio`](super::Bio) handle and [`DiskHold`] of the disk, and is ended only by
/// [`GenDisk::drop`](super::GenDisk::drop).
#[pin_data]
#[repr(C)]
pub(super) struct DiskShared<T: Operations> {
    pub(super) kind: DiskKind,
    pub(super) data: T::Data,
    #[pin]
    pub(super) inflight: DrainCount,
}

impl<T: Operations> DiskShared<T> {
    pub(super) fn new(data: T::Data) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            kind: DiskKind::of::<T>(),
            data,
            inflight <- DrainCount::new(),
        }? Error)
    }

    /// The `DiskShared` of `disk`.
    ///
    /// # Safety
    ///
    /// `disk` must be a live gendisk made by
    /// [`GenDiskBuilder::build`](super::GenDiskBuilder::build) for `T`.
    pub(super) unsafe fn from_disk(disk: *mut bindings::gendisk) -> NonNull<Self> {
        // SAFETY: `build` set `private_data` to a pinned `DiskShared<T>` that lives until
        // `free_disk_callback`, which runs only once the disk is gone.
        unsafe { NonNull::new_unchecked((*disk).private_data.cast()) }
    }

    /// Takes one in-flight use.
    ///
    /// # Safety
    ///
    /// `this` must be live and stay so for the call: the caller holds a use, or the disk is
    /// in a callback (so [`GenDisk::drop`](super::GenDisk::drop) has not ended the count).
    pub(super) unsafe fn get(this: NonNull<Self>) {
        // SAFETY: Live, and not ended or kept from zero by the caller's use.
        unsafe { (*this.as_ptr()).inflight.get() };
    }

    /// Gives one in-flight use back; the last one wakes
    /// [`GenDisk::drop`](super::GenDisk::drop).
    ///
    /// Takes a pointer, not `&self`: once the count is down, the disk may free the
    /// `DiskShared` under us.
    ///
    /// # Safety
    ///
    /// The caller must own one of the uses and not use `this` afterwards.
    pub(super) unsafe fn put(this: NonNull<Self>) {
        // SAFETY: Live until our use is given back; only the field's address is taken, no
        // reference to the `DiskShared` is made.
        unsafe {
            let inflight = &raw mut (*this.as_ptr()).inflight;
            DrainCount::put(NonNull::new_unchecked(inflight));
        }
    }
}

/// The type of a disk's operations: what a `DiskShared` starts with.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub(super) struct DiskKind(core::any::TypeId);

impl DiskKind {
    pub(super) fn of<T: Operations>() -> Self {
        Self(core::any::TypeId::of::<T>())
    }
}

/// A reference to a disk's data that keeps the disk's bios from being considered drained:
/// [`GenDisk::drop`](super::GenDisk::drop) waits for it. Only the block room makes one ([`BioList::drain`]), and
/// lends its data for a call: a hold kept in the driver's own state would keep the disk
/// from ever being drained.
///
/// [`BioList::drain`]: super::BioList::drain
///
/// # Invariants
///
/// `shared` is the live `DiskShared<T>` of a `GenDisk<T>`, and this handle owns one of its
/// in-flight references.
pub(super) struct DiskHold<T: Operations> {
    shared: NonNull<DiskShared<T>>,
}

// SAFETY: The handle only gives shared access to `T::Data`, which is `Send + Sync`, and its
// reference may be given back from any thread.
unsafe impl<T: Operations> Send for DiskHold<T> {}
// SAFETY: As above.
unsafe impl<T: Operations> Sync for DiskHold<T> {}

impl<T: Operations> DiskHold<T> {
    /// # Safety
    ///
    /// `shared` must be the live `DiskShared<T>` of a `GenDisk<T>`, live during the call.
    pub(super) unsafe fn new(shared: NonNull<DiskShared<T>>) -> Self {
        // SAFETY: Live, by the caller's guarantee.
        unsafe { DiskShared::get(shared) };
        // INVARIANT: The reference just taken is ours.
        Self { shared }
    }

    /// The disk's data.
    pub(super) fn data(&self) -> &T::Data {
        // SAFETY: Our in-flight reference keeps the `DiskShared` alive.
        unsafe { &self.shared.as_ref().data }
    }
}

impl<T: Operations> Drop for DiskHold<T> {
    fn drop(&mut self) {
        // SAFETY: We own a reference, given back once here.
        unsafe { DiskShared::put(self.shared) };
    }
}
