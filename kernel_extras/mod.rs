// SPDX-License-Identifier: GPL-2.0

//! Small pieces of the kernel the kernel crate (6.12 or 7.x) does not wrap and the driver
//! needs: a workqueue it owns, the I/O worker's task scope, an interrupt-safe spinlock, CPU
//! ids and what a lingering loop asks of the scheduler, a few errnos, capabilities, module
//! parameters and the control node; and [`compat`], what is spelt differently for 6.12 and
//! 7.x.

#![allow(unsafe_code)]

pub(crate) mod compat;
mod control_dev;
mod drain_count;
mod owned_file;
mod task_scope;
mod workqueue;

pub(crate) use compat::{new_irq_spinlock, user_slice, IrqSpinLock};
pub(crate) use control_dev::{ControlDev, ControlOps};
pub(crate) use drain_count::DrainCount;
pub(crate) use owned_file::OwnedFile;
pub(crate) use task_scope::IoWorkerScope;
pub(crate) use workqueue::Workqueue;

use crate::rloop_uapi::RloopConfig;
use compat::{AsBytes, FromBytes};
use kernel::{bindings, error::Error, ffi::c_int};

// SAFETY: `RloopConfig` is `repr(C)` and made only of integers, with no padding (its size is
// asserted in the uAPI file), so every bit pattern is a valid value.
unsafe impl FromBytes for RloopConfig {}
// SAFETY: `RloopConfig` is `repr(C)`, made only of integers and has no padding, so all its
// bytes are initialised.
unsafe impl AsBytes for RloopConfig {}

/// `EOPNOTSUPP`, which `kernel::error::code` lacks in 6.12 (7.x has it; this serves both).
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}

/// `EOVERFLOW`, which `kernel::error::code` lacks in 6.12 (7.x has it; this serves both).
pub(crate) fn eoverflow() -> Error {
    Error::from_errno(-(bindings::EOVERFLOW as i32))
}

/// Whether the caller has `CAP_SYS_ADMIN`.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: `capable` only reads the current task's credentials.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as c_int) }
}

/// `MAJOR()` and `MINOR()` of a `dev_t`, [`include/linux/kdev_t.h`](srctree/include/linux/kdev_t.h).
pub(crate) fn dev_major_minor(dev: u32) -> (u32, u32) {
    (
        dev >> bindings::MINORBITS,
        dev & ((1 << bindings::MINORBITS) - 1),
    )
}

/// The CPU the caller runs on (`raw_smp_processor_id()`): a hint, as the task may move right
/// after. Always below [`nr_cpu_ids`].
pub(crate) fn current_cpu() -> usize {
    // SAFETY: Reads the running CPU's id, always valid.
    unsafe { crate::bindings_ext::rloop_helper_raw_smp_processor_id() as usize }
}

/// The number of possible CPU ids (`nr_cpu_ids`).
pub(crate) fn nr_cpu_ids() -> usize {
    // SAFETY: `nr_cpu_ids` is set once at boot, before modules load.
    unsafe { core::ptr::read_volatile(&raw const bindings::nr_cpu_ids) as usize }
}

/// Whether a lingering loop on this CPU should stop for other work: the scheduler wants the
/// CPU back (`need_resched()`) or another task is runnable here (`!single_task_running()`,
/// the test KVM's halt polling uses).
pub(crate) fn cpu_wanted_elsewhere() -> bool {
    // SAFETY: Both only read the current CPU's and task's scheduler state.
    unsafe {
        crate::bindings_ext::rloop_helper_need_resched()
            || !crate::bindings_ext::single_task_running()
    }
}

/// Gives the CPU up if the scheduler wants it (`cond_resched()`): a point where a kernel
/// without preemption may switch tasks. Sleeps; only from a task that may.
pub(crate) fn cond_resched() {
    // SAFETY: Touches no memory of ours. From an atomic context it would be a scheduling
    // bug, which the kernel's `might_sleep()` in it reports, not undefined behaviour.
    unsafe { crate::bindings_ext::rloop_helper_cond_resched() }
}

/// One turn of a busy-wait loop (`cpu_relax()`): lets a sibling hardware thread run.
pub(crate) fn cpu_relax() {
    // SAFETY: A pause instruction; no state.
    unsafe { crate::bindings_ext::rloop_helper_cpu_relax() }
}

/// The `linger_us` module parameter: the linger cap, in microseconds, new devices start with.
pub(crate) fn param_linger_us() -> u32 {
    // SAFETY: Reads an `unsigned int` with `READ_ONCE`; the parameter lives as long as the
    // module.
    unsafe { crate::bindings_ext::rloop_param_linger_us() }
}

/// Nanoseconds of `CLOCK_MONOTONIC` (`ktime_get()`).
pub(crate) fn now_ns() -> u64 {
    // SAFETY: Reads the monotonic clock; no state.
    let ns = unsafe { bindings::ktime_get() };
    // Monotonic time since boot is never negative.
    ns.unsigned_abs()
}
