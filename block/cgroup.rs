// SPDX-License-Identifier: GPL-2.0

//! Work done for a bio, charged to the cgroups of the task that submitted it, as loop does
//! for each command (`loop_handle_cmd()`): the I/O the backing file system issues goes to
//! the bio's block cgroup (`kthread_associate_blkcg`, so `io.max` holds), the memory it
//! allocates to the memory cgroup of the same cgroup (`set_active_memcg`).
//!
//! C header: [`include/linux/blk-cgroup.h`](srctree/include/linux/blk-cgroup.h),
//! [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).

use super::{Bio, Operations};
use crate::bindings_ext::{
    rloop_helper_bio_blkcg_css, rloop_helper_blkcg_root_css, rloop_helper_css_put,
    rloop_helper_memcg_css_get, rloop_helper_set_active_memcg, rloop_helper_set_active_memcg_css,
};
use core::{marker::PhantomData, ptr};
use kernel::bindings;

/// Which block cgroup a bio was submitted from, as an identity only: never dereferenced, so
/// it may outlive the cgroup. A cgroup freed and another made at the same address share a
/// key, which can only make their bios share a queue for a while.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct CgroupKey(usize);

impl CgroupKey {
    /// The root cgroup's, and that of a bio associated with none.
    pub(crate) const ROOT: Self = Self(0);

    /// The key as a number, to keep in an atomic.
    pub(crate) fn bits(self) -> usize {
        self.0
    }

    /// A small number made from the key, the same for equal keys.
    pub(crate) fn hash(self) -> usize {
        // Cgroup states are allocations of a few hundred bytes: the low bits are all alike.
        self.0 >> 8
    }
}

impl<T: Operations> Bio<T> {
    /// The block cgroup the bio was submitted from, unless that is the root (or none): live
    /// while the bio is, as `bi_blkg` holds a reference to it.
    fn non_root_blkcg_css(&self) -> Option<*mut bindings::cgroup_subsys_state> {
        // SAFETY: The bio is live; `bio_blkcg_css` reads its `bi_blkg`. The root's is a
        // constant.
        let (css, root) = unsafe {
            (
                rloop_helper_bio_blkcg_css(self.as_raw()),
                rloop_helper_blkcg_root_css(),
            )
        };
        (!css.is_null() && css != root).then_some(css)
    }

    /// The block cgroup the bio was submitted from.
    pub(crate) fn cgroup_key(&self) -> CgroupKey {
        // The address as a number: an identity, never turned back into a pointer.
        self.non_root_blkcg_css()
            .map_or(CgroupKey::ROOT, |css| CgroupKey(css as usize))
    }

    /// Runs `f` with the bio, the current task charging what it does to the bio's cgroups
    /// (nothing changes for a bio of the root cgroup). The current task must be a kthread (a
    /// worker): a user task's own association is left alone.
    ///
    /// A closure, not a guard: scopes end in the order they began, so the memory cgroup
    /// restored at the end is always the one this scope replaced. At the end the task is
    /// associated with no block cgroup: a call inside `f` ends the outer association early
    /// (charging the rest of `f` to the root), never to a cgroup that is gone.
    pub(crate) fn in_submitter_cgroups<R>(self, f: impl FnOnce(Self) -> R) -> R {
        let Some(css) = self.non_root_blkcg_css() else {
            return f(self);
        };
        // SAFETY: `css` is live (the bio holds it), and the scope takes its own references:
        // `f` may end the bio.
        let _scope = unsafe { CgroupScope::enter(css) };
        f(self)
    }
}

/// The association made by [`Bio::in_submitter_cgroups`], undone on drop.
///
/// # Invariants
///
/// The current task is associated with a block cgroup. `memcg_css` is null, or a memory
/// cgroup we hold a reference to and made the active one, `old_memcg` being the one before.
struct CgroupScope {
    memcg_css: *mut bindings::cgroup_subsys_state,
    old_memcg: *mut bindings::mem_cgroup,
    _not_send: PhantomData<*mut ()>,
}

impl CgroupScope {
    /// # Safety
    ///
    /// `css` must be a live block cgroup for the call.
    unsafe fn enter(css: *mut bindings::cgroup_subsys_state) -> Self {
        // SAFETY: `css` is live (caller); `kthread_associate_blkcg` takes its own reference
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
        // SAFETY: Same task as in `enter` (not `Send`), and scopes end in the order they began
        // (only `in_submitter_cgroups` makes one, around a closure): the memory cgroup we set
        // is still the active one. The references taken there are given back once.
        unsafe {
            if !self.memcg_css.is_null() {
                rloop_helper_set_active_memcg(self.old_memcg);
                rloop_helper_css_put(self.memcg_css);
            }
            bindings::kthread_associate_blkcg(ptr::null_mut());
        }
    }
}
