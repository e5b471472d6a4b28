// SPDX-License-Identifier: GPL-2.0

//! A spinlock taken with interrupts off (`spin_lock_irqsave`), which 6.12's kernel crate
//! lacks: for data that interrupt context touches too. It plugs into the crate's generic
//! [`Lock`], as `kernel::sync::lock::spinlock` does, so guards work the same way. Built for
//! 6.12 only (`compat.rs`): 7.x has `kernel::sync::SpinLockIrq`.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h).

use crate::bindings_ext::{rloop_helper_spin_lock_irqsave, rloop_helper_spin_unlock_irqrestore};
use kernel::{
    bindings,
    ffi::{c_char, c_ulong},
    sync::lock::{Backend, Lock},
};

/// A spinlock whose holder runs with local interrupts off.
pub(crate) type IrqSpinLock<T> = Lock<T, IrqSpinLockBackend>;

/// The [`Backend`] of [`IrqSpinLock`]: `spin_lock_irqsave` and `spin_unlock_irqrestore`.
pub(crate) struct IrqSpinLockBackend;

// SAFETY: The underlying kernel `spinlock_t` object ensures mutual exclusion; the guard state
// is the interrupt flags `spin_lock_irqsave` saved, restored by the matching unlock.
unsafe impl Backend for IrqSpinLockBackend {
    type State = bindings::spinlock_t;
    type GuardState = c_ulong;

    unsafe fn init(ptr: *mut Self::State, name: *const c_char, key: *mut bindings::lock_class_key) {
        // SAFETY: The safety requirements ensure that `ptr` is valid for writes, and `name`
        // and `key` are valid for reads indefinitely.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory for the lifetime of the returned guard state.
        unsafe { rloop_helper_spin_lock_irqsave(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements of this function ensure that the caller is the
        // owner of the lock, and `guard_state` is what its `lock` returned.
        unsafe { rloop_helper_spin_unlock_irqrestore(ptr, *guard_state) }
    }
}
