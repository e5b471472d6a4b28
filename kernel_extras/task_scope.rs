// SPDX-License-Identifier: GPL-2.0

//! The task state an I/O worker runs in.
//!
//! C header: [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).

use crate::bindings_ext::{
    rloop_helper_css_put, rloop_helper_local_throttle_restore, rloop_helper_local_throttle_save,
    rloop_helper_memalloc_noio_restore, rloop_helper_memalloc_noio_save,
    rloop_helper_memcg_css_get, rloop_helper_set_active_memcg, rloop_helper_set_active_memcg_css,
};
use crate::block::Blkcg;
use core::marker::PhantomData;
use core::ptr;
use kernel::{bindings, ffi::c_uint};

/// While alive, the current task works as loop's worker does (`loop_process_work()`):
///
/// - `PF_MEMALLOC_NOIO`: every allocation behaves as `GFP_NOIO`, so the backing file system
///   does not recurse into I/O on the device it serves to find memory;
/// - `PF_LOCAL_THROTTLE`: if the backing file does dirty page cache, the task is throttled
///   on its own backlog only, not on the device it is writing back for.
///
/// Not `Send`: it restores the flags of the task it was made on.
pub(crate) struct IoWorkerScope {
    noio: c_uint,
    throttle: c_uint,
    _not_send: PhantomData<*mut ()>,
}

impl IoWorkerScope {
    /// Enters the scope.
    pub(crate) fn enter() -> Self {
        // SAFETY: Both only change the current task's own flags.
        let (noio, throttle) = unsafe {
            (
                rloop_helper_memalloc_noio_save(),
                rloop_helper_local_throttle_save(),
            )
        };
        Self {
            noio,
            throttle,
            _not_send: PhantomData,
        }
    }
}

impl Drop for IoWorkerScope {
    fn drop(&mut self) {
        // SAFETY: Same task as in `enter` (the scope is not `Send`), restored in reverse.
        unsafe {
            rloop_helper_local_throttle_restore(self.throttle);
            rloop_helper_memalloc_noio_restore(self.noio);
        }
    }
}

/// While alive, what the current worker does is charged to the cgroups of the task that
/// issued a bio, as loop does for each command (`loop_handle_cmd()`): the I/O the backing
/// file system issues to its block cgroup (`kthread_associate_blkcg`, so `io.max` holds),
/// the memory it allocates to the memory cgroup of the same cgroup (`set_active_memcg`).
///
/// # Invariants
///
/// The current task is associated with a block cgroup. `memcg_css` is null, or a memory
/// cgroup we hold a reference to and made the active one, `old_memcg` being the one before.
pub(crate) struct CgroupScope {
    memcg_css: *mut bindings::cgroup_subsys_state,
    old_memcg: *mut bindings::mem_cgroup,
    _not_send: PhantomData<*mut ()>,
}

impl CgroupScope {
    /// Enters the scope for `blkcg`. The scope keeps its own references: the bio may go
    /// before it ends.
    pub(crate) fn enter(blkcg: &Blkcg<'_>) -> Self {
        let css = blkcg.as_raw();
        // SAFETY: `css` is live (`Blkcg`); `kthread_associate_blkcg` takes its own reference
        // (it does nothing for a task that is not a kthread) and `memcg_css_get` returns one.
        let (memcg_css, old_memcg) = unsafe {
            bindings::kthread_associate_blkcg(css);
            let memcg_css = rloop_helper_memcg_css_get(css);
            let old = if memcg_css.is_null() {
                ptr::null_mut()
            } else {
                rloop_helper_set_active_memcg_css(memcg_css)
            };
            (memcg_css, old)
        };
        // INVARIANT: Set up above.
        Self {
            memcg_css,
            old_memcg,
            _not_send: PhantomData,
        }
    }
}

impl Drop for CgroupScope {
    fn drop(&mut self) {
        // SAFETY: Same task as in `enter` (not `Send`); the references taken there are given
        // back once.
        unsafe {
            if !self.memcg_css.is_null() {
                rloop_helper_set_active_memcg(self.old_memcg);
                rloop_helper_css_put(self.memcg_css);
            }
            bindings::kthread_associate_blkcg(ptr::null_mut());
        }
    }
}
