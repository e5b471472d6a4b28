// SPDX-License-Identifier: GPL-2.0

//! What every callback of a bio-based disk shares: [`DiskShared`] (the driver's data and the
//! count of bios the driver holds, owned by the gendisk) and [`DiskHold`], a reference to it
//! that outlives a bio.
//!
//! C header: [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h).

use super::gen_disk::Operations;
use crate::bindings_ext::{
    rloop_helper_init_completion, rloop_helper_percpu_ref_get, rloop_helper_percpu_ref_put,
};
use core::{
    pin::Pin,
    ptr::{self, NonNull},
};
use kernel::{bindings, error::to_result, prelude::*, types::Opaque};

/// The state every callback of a [`GenDisk`](super::GenDisk) shares: the driver's data and the count of bios
/// the driver holds. Owned by the gendisk (`private_data`) and freed with it.
///
/// The count is a `percpu_ref`: every bio takes and gives back a reference, and a per-CPU
/// counter keeps that off any cache line the other CPUs write. Only [`GenDisk::drop`](super::GenDisk::drop) makes
/// it an atomic count (`percpu_ref_kill`), to see it reach zero.
///
/// # Invariants
///
/// `kind` is `DiskKind::of::<T>()`, at offset 0 whatever `T` is (`repr(C)`): a poller that
/// finds a disk of this module by a bio that may have been reused reads it to learn the
/// disk's type ([`poll_bio_callback`](super::fops)). Once [`GenDiskBuilder::build`](super::GenDiskBuilder::build) has set it up,
/// `inflight` is a `percpu_ref` holding one reference for the [`GenDisk`](super::GenDisk) (its initial one,
/// given back by `percpu_ref_kill` when the disk is dropped) and one for each live [`Bio`](super::Bio)
/// handle and [`DiskHold`] of the disk; its release completes `drained`, an initialised
/// `struct completion`.
#[pin_data(PinnedDrop)]
#[repr(C)]
pub(super) struct DiskShared<T: Operations> {
    pub(super) kind: DiskKind,
    pub(super) data: T::Data,
    #[pin]
    pub(super) inflight: Opaque<bindings::percpu_ref>,
    #[pin]
    pub(super) drained: Opaque<bindings::completion>,
}

impl<T: Operations> DiskShared<T> {
    /// A `DiskShared` whose `inflight` is all zeroes, which `percpu_ref_exit` takes: set up
    /// by [`DiskShared::init_inflight`] once pinned.
    pub(super) fn new(data: T::Data) -> impl PinInit<Self> {
        pin_init!(Self {
            kind: DiskKind::of::<T>(),
            data,
            inflight <- Opaque::ffi_init(|r: *mut bindings::percpu_ref| {
                // SAFETY: `r` points to memory for a `percpu_ref` that nothing uses yet.
                unsafe { ptr::write_bytes(r, 0, 1) }
            }),
            drained <- Opaque::ffi_init(|c: *mut bindings::completion| {
                // SAFETY: `c` points to memory for a completion that nothing uses yet.
                unsafe { rloop_helper_init_completion(c) }
            }),
        })
    }

    /// Sets up the in-flight count, holding the disk's own reference.
    pub(super) fn init_inflight(self: Pin<&mut Self>) -> Result {
        // SAFETY: Pinned and not shared yet; the release finds the `DiskShared` from the
        // `percpu_ref`'s address, which does not move.
        to_result(unsafe {
            bindings::percpu_ref_init(
                self.inflight.get(),
                Some(inflight_released::<T>),
                0,
                bindings::GFP_KERNEL,
            )
        })
    }

    /// The `DiskShared` of `disk`.
    ///
    /// # Safety
    ///
    /// `disk` must be a live gendisk made by [`GenDiskBuilder::build`](super::GenDiskBuilder::build) for `T`.
    pub(super) unsafe fn from_disk(disk: *mut bindings::gendisk) -> NonNull<Self> {
        // SAFETY: `build` set `private_data` to a pinned `DiskShared<T>` that lives until
        // `free_disk_callback`, which runs only once the disk is gone.
        unsafe { NonNull::new_unchecked((*disk).private_data.cast()) }
    }

    /// The in-flight count of `this`, without making a reference to the `DiskShared`.
    ///
    /// # Safety
    ///
    /// `this` must be live.
    pub(super) unsafe fn inflight(this: NonNull<Self>) -> *mut bindings::percpu_ref {
        // SAFETY: Live (caller); only the field's address is taken. `Opaque<T>` is
        // `repr(transparent)` over the `T` (6.12's `Opaque::raw_get` is gone in 7.x).
        unsafe { (&raw const (*this.as_ptr()).inflight).cast_mut().cast() }
    }

    /// Takes one in-flight reference.
    ///
    /// # Safety
    ///
    /// `this` must be live and stay so for the call: the caller holds a reference or the
    /// disk is in a callback.
    pub(super) unsafe fn get(this: NonNull<Self>) {
        // SAFETY: Live, by the caller's guarantee; `percpu_ref_get` may follow
        // `percpu_ref_kill` as long as a reference is held, which the caller's is.
        unsafe { rloop_helper_percpu_ref_get(Self::inflight(this)) };
    }

    /// Gives one in-flight reference back; the last one wakes [`GenDisk::drop`](super::GenDisk::drop).
    ///
    /// Takes a pointer, not `&self`: once the count is down, the disk may free the
    /// `DiskShared` under us, and a reference would claim it is live to the end of the call.
    ///
    /// # Safety
    ///
    /// The caller must own one of the references and not use `this` afterwards.
    pub(super) unsafe fn put(this: NonNull<Self>) {
        // SAFETY: Live until our reference is given back, which is this call. The last one
        // runs the release (`inflight_released`) inside it, which completes `drained`; the
        // `percpu_ref` is not touched after the release returns.
        unsafe { rloop_helper_percpu_ref_put(Self::inflight(this)) };
    }
}

#[pinned_drop]
impl<T: Operations> PinnedDrop for DiskShared<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: No reference is left (released, or never set up: all zeroes), and nothing
        // uses the count any more.
        unsafe { bindings::percpu_ref_exit(self.inflight.get()) };
    }
}

/// The release of a disk's in-flight count: the last reference is gone after
/// `percpu_ref_kill`. Runs in the context of that last put (an interrupt, say) or of the RCU
/// callback of the kill.
///
/// # Safety
///
/// `r` must be the `inflight` of a live `DiskShared<T>`.
unsafe extern "C" fn inflight_released<T: Operations>(r: *mut bindings::percpu_ref) {
    // SAFETY: `r` is the `inflight` field of a `DiskShared<T>` (caller), so the struct starts
    // that many bytes before it. The waiter in `GenDisk::drop` keeps it until `complete` has
    // released the completion's lock (`wait_for_completion` takes it before returning).
    unsafe {
        let shared = r
            .cast::<u8>()
            .sub(core::mem::offset_of!(DiskShared<T>, inflight))
            .cast::<DiskShared<T>>();
        bindings::complete((*shared).drained.get());
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
