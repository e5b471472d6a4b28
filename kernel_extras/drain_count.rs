// SPDX-License-Identifier: GPL-2.0

//! [`DrainCount`]: a count of uses that its owner ends once and waits out, as a disk does
//! with its bios and a device with the uses of its backing file.
//!
//! Taking and giving back a use writes only this CPU's counter (a `percpu_ref`); only
//! [`DrainCount::kill_and_wait`] makes it an atomic count, to see it reach zero.
//!
//! C header: [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h).

use crate::bindings_ext::{
    rloop_helper_init_completion, rloop_helper_percpu_ref_get, rloop_helper_percpu_ref_put,
    rloop_helper_percpu_ref_tryget_live,
};
use crate::kernel_extras::compat::opaque_try_ffi_init;
use core::{pin::Pin, ptr::NonNull};
use kernel::{bindings, error::to_result, prelude::*, types::Opaque};

/// A count of uses, ended once by [`DrainCount::kill_and_wait`].
///
/// # Invariants
///
/// `refs` is an initialised `percpu_ref`, at offset 0 (`repr(C)`), whose release completes
/// `drained`, an initialised completion. It holds one reference for the owner until
/// `kill_and_wait` gives it back, and one for each use.
#[pin_data(PinnedDrop)]
#[repr(C)]
pub(crate) struct DrainCount {
    #[pin]
    refs: Opaque<bindings::percpu_ref>,
    #[pin]
    drained: Opaque<bindings::completion>,
}

// SAFETY: A `percpu_ref` and a completion are used from any CPU.
unsafe impl Send for DrainCount {}
// SAFETY: As above; every operation on them is thread-safe.
unsafe impl Sync for DrainCount {}

impl DrainCount {
    /// A live count, holding the owner's reference.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            drained <- Opaque::ffi_init(|c: *mut bindings::completion| {
                // SAFETY: `c` points to memory for a completion that nothing uses yet.
                unsafe { rloop_helper_init_completion(c) }
            }),
            refs <- opaque_try_ffi_init(|r: *mut bindings::percpu_ref| {
                // SAFETY: `r` is pinned memory for a `percpu_ref` nothing uses yet; the
                // release finds the `DrainCount` at its address.
                to_result(unsafe {
                    bindings::percpu_ref_init(r, Some(drained_callback), 0, bindings::GFP_KERNEL)
                })
            }),
        }? Error)
    }

    /// Takes a use, unless the count was killed.
    pub(crate) fn tryget_live(&self) -> bool {
        // SAFETY: `refs` is initialised (type invariant).
        unsafe { rloop_helper_percpu_ref_tryget_live(self.refs.get()) }
    }

    /// Takes a use.
    ///
    /// # Safety
    ///
    /// The count must not be killed yet, or the caller must hold a use: only then may it not
    /// reach zero meanwhile.
    pub(crate) unsafe fn get(&self) {
        // SAFETY: `refs` is initialised (type invariant); the caller keeps it from zero.
        unsafe { rloop_helper_percpu_ref_get(self.refs.get()) };
    }

    /// Gives a use back.
    ///
    /// Takes a pointer, not `&self`: once the last use is back, `kill_and_wait` returns and
    /// the owner may free the count under us, and a reference would claim it is live to the
    /// end of the call.
    ///
    /// # Safety
    ///
    /// The caller must own a use and not use `this` afterwards.
    pub(crate) unsafe fn put(this: NonNull<Self>) {
        // SAFETY: Live until our use is given back, which is this call; `refs` is at offset 0
        // and `Opaque` is `repr(transparent)`. The last use runs the release inside the call,
        // which completes `drained` and touches nothing after.
        unsafe { rloop_helper_percpu_ref_put(this.as_ptr().cast()) };
    }

    /// Stops new uses ([`DrainCount::tryget_live`] fails from here on), gives the owner's
    /// reference back and sleeps until every use is back.
    ///
    /// # Safety
    ///
    /// Called at most once.
    pub(crate) unsafe fn kill_and_wait(&self) {
        // SAFETY: Killed once (caller): this gives back the owner's reference, and the
        // release completes `drained` once no use is left. `wait_for_completion` returns only
        // after `complete` let go of the completion's lock.
        unsafe {
            bindings::percpu_ref_kill_and_confirm(self.refs.get(), None);
            bindings::wait_for_completion(self.drained.get());
        }
    }
}

#[pinned_drop]
impl PinnedDrop for DrainCount {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: No use is left: each holds the owner (a borrow, or a raw use given back
        // before the owner can go). `percpu_ref_exit` takes a count killed or not.
        unsafe { bindings::percpu_ref_exit(self.refs.get()) };
    }
}

/// The release of a [`DrainCount`]: the last use is back after the kill. Runs in the context
/// of that last put (an interrupt, say) or of the RCU callback of the kill.
///
/// # Safety
///
/// `r` must be the `refs` of a live `DrainCount`.
unsafe extern "C" fn drained_callback(r: *mut bindings::percpu_ref) {
    // SAFETY: `r` is at offset 0 of a live `DrainCount` (caller, type invariant), which
    // `kill_and_wait` keeps until `complete` returns.
    unsafe { bindings::complete((*r.cast::<DrainCount>()).drained.get()) };
}
