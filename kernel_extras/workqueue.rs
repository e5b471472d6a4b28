// SPDX-License-Identifier: GPL-2.0

//! A workqueue the driver allocates and owns (the kernel crate, 6.12's and 7.3's, only wraps
//! the system ones and borrowed queues).
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h).

use crate::bindings_ext::rloop_helper_alloc_workqueue;
use core::{fmt, ptr::NonNull};
use kernel::{bindings, ffi::c_uint, prelude::*, str::CString, workqueue::Queue};

/// A workqueue made by `alloc_workqueue`.
///
/// # Invariants
///
/// `wq` is a live workqueue, destroyed on drop.
pub(crate) struct Workqueue {
    wq: NonNull<bindings::workqueue_struct>,
}

// SAFETY: Workqueues are used from any thread.
unsafe impl Send for Workqueue {}
// SAFETY: Workqueues are used from any thread.
unsafe impl Sync for Workqueue {}

impl Workqueue {
    /// A workqueue for work on the writeback path, named `name`:
    ///
    /// - `WQ_MEM_RECLAIM`: it has a rescuer thread, so its work makes progress under memory
    ///   pressure;
    /// - `WQ_UNBOUND`: a worker runs on whichever CPU is free, beside the task that queued
    ///   the work rather than in its way;
    /// - `WQ_FREEZABLE`: it stops for system suspend, as loop's does.
    pub(crate) fn new_io(name: fmt::Arguments<'_>) -> Result<Self> {
        let name = CString::try_from_fmt(name)?;
        let flags = bindings::wq_flags_WQ_MEM_RECLAIM
            | bindings::wq_flags_WQ_UNBOUND
            | bindings::wq_flags_WQ_FREEZABLE;
        // SAFETY: `name` is a C string, which `alloc_workqueue` copies.
        let wq = unsafe { rloop_helper_alloc_workqueue(name.as_char_ptr(), flags as c_uint) };
        // INVARIANT: A non-null return is a live workqueue.
        Ok(Self {
            wq: NonNull::new(wq).ok_or(ENOMEM)?,
        })
    }

    /// Waits until every work item queued so far has run.
    pub(crate) fn flush(&self) {
        // SAFETY: The workqueue is live.
        unsafe { bindings::__flush_workqueue(self.wq.as_ptr()) };
    }
}

impl core::ops::Deref for Workqueue {
    type Target = Queue;

    fn deref(&self) -> &Queue {
        // SAFETY: The workqueue is live as long as `self`.
        unsafe { Queue::from_raw(self.wq.as_ptr()) }
    }
}

impl Drop for Workqueue {
    fn drop(&mut self) {
        // SAFETY: The workqueue is live; `destroy_workqueue` drains it first.
        unsafe { bindings::destroy_workqueue(self.wq.as_ptr()) };
    }
}
