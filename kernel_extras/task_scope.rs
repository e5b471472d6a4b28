// SPDX-License-Identifier: GPL-2.0

//! The task state an I/O worker runs in.
//!
//! C header: [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).

use crate::bindings_ext::{
    rloop_helper_local_throttle_restore, rloop_helper_local_throttle_save,
    rloop_helper_memalloc_noio_restore, rloop_helper_memalloc_noio_save,
};
use core::marker::PhantomData;
use kernel::ffi::c_uint;

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
