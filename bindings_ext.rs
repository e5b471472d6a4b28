// SPDX-License-Identifier: GPL-2.0

//! What `kernel::bindings` lacks (6.12's, and 7.x's where noted): the functions of `rloop_helpers.c` (static inlines
//! wrapped in real functions) and the constants bindgen drops (macros with casts, or headers
//! `bindings_helper.h` does not include). Each constant is defined here once, with its source.
//!
//! Only the abstraction rooms (`block`, `backing`, `kernel_extras`) use this module.

#![allow(unsafe_code)]
// As in `rust/bindings/lib.rs`: bindgen makes fieldless structs of C types it cannot see into.
#![allow(improper_ctypes)]

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};

/// `struct miscdevice`, [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h),
/// which 6.12's bindings lack: only `rloop_helpers.c` sees its fields.
#[repr(C)]
pub(crate) struct miscdevice {
    _opaque: [u8; 0],
}

extern "C" {
    /// Allocates a `struct miscdevice` for `name` (static), `minor` and `fops` (static),
    /// carrying `data`, and `misc_register()`s it; an `ERR_PTR` on failure.
    pub(crate) fn rloop_helper_misc_register(
        name: *const c_char,
        minor: c_int,
        fops: *const bindings::file_operations,
        data: *mut c_void,
    ) -> *mut miscdevice;
    /// The `data` a device of `rloop_helper_misc_register` carries.
    pub(crate) fn rloop_helper_misc_data(misc: *const miscdevice) -> *mut c_void;
    /// `misc_deregister()`, then frees what `rloop_helper_misc_register` allocated.
    pub(crate) fn rloop_helper_misc_deregister(misc: *mut miscdevice);
    /// `bio_op()`, [`include/linux/blk_types.h`](srctree/include/linux/blk_types.h).
    pub(crate) fn rloop_helper_bio_op(bio: *const bindings::bio) -> bindings::req_op;
    /// `mp_bvec_iter_bvec(bio->bi_io_vec, iter)`,
    /// [`include/linux/bvec.h`](srctree/include/linux/bvec.h).
    pub(crate) fn rloop_helper_bio_iter_bvec(
        bio: *const bindings::bio,
        iter: bindings::bvec_iter,
    ) -> bindings::bio_vec;
    /// `bio_advance_iter_single()`, [`include/linux/bio.h`](srctree/include/linux/bio.h).
    pub(crate) fn rloop_helper_bio_advance_iter_single(
        bio: *const bindings::bio,
        iter: *mut bindings::bvec_iter,
        bytes: c_uint,
    );
    /// `bio_blkcg_css()`, [`include/linux/blk-cgroup.h`](srctree/include/linux/blk-cgroup.h).
    pub(crate) fn rloop_helper_bio_blkcg_css(
        bio: *mut bindings::bio,
    ) -> *mut bindings::cgroup_subsys_state;
    /// `blkcg_root_css`, [`include/linux/blk-cgroup.h`](srctree/include/linux/blk-cgroup.h).
    pub(crate) fn rloop_helper_blkcg_root_css() -> *mut bindings::cgroup_subsys_state;
    /// `cgroup_get_e_css(css->cgroup, &memory_cgrp_subsys)`, null without memcg,
    /// [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h).
    pub(crate) fn rloop_helper_memcg_css_get(
        blkcg_css: *mut bindings::cgroup_subsys_state,
    ) -> *mut bindings::cgroup_subsys_state;
    /// `set_active_memcg(mem_cgroup_from_css(css))`,
    /// [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).
    pub(crate) fn rloop_helper_set_active_memcg_css(
        memcg_css: *mut bindings::cgroup_subsys_state,
    ) -> *mut bindings::mem_cgroup;
    /// `set_active_memcg()`, [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).
    pub(crate) fn rloop_helper_set_active_memcg(
        memcg: *mut bindings::mem_cgroup,
    ) -> *mut bindings::mem_cgroup;
    /// `css_put()`, [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h).
    pub(crate) fn rloop_helper_css_put(css: *mut bindings::cgroup_subsys_state);
    /// `queue_limits_start_update()`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
    pub(crate) fn rloop_helper_queue_limits_start_update(
        q: *mut bindings::request_queue,
    ) -> bindings::queue_limits;
    /// `might_sleep()`, then whether the current task is outside every `->submit_bio`
    /// (`current->bio_list` is null), [`include/linux/sched.h`](srctree/include/linux/sched.h).
    pub(crate) fn rloop_helper_may_freeze_queue() -> bool;
    /// `percpu_ref_get()`, [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h).
    pub(crate) fn rloop_helper_percpu_ref_get(r: *mut bindings::percpu_ref);
    /// `percpu_ref_tryget_live()`, [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h).
    pub(crate) fn rloop_helper_percpu_ref_tryget_live(r: *mut bindings::percpu_ref) -> bool;
    /// `percpu_ref_put()`, [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h).
    pub(crate) fn rloop_helper_percpu_ref_put(r: *mut bindings::percpu_ref);
    /// `rcu_read_lock()`, [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h).
    pub(crate) fn rloop_helper_rcu_read_lock();
    /// `rcu_read_unlock()`, [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h).
    pub(crate) fn rloop_helper_rcu_read_unlock();
    /// `disk_devt()`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
    pub(crate) fn rloop_helper_disk_devt(disk: *mut bindings::gendisk) -> bindings::dev_t;
    /// `bdev_nr_sectors()`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
    pub(crate) fn rloop_helper_bdev_nr_sectors(bdev: *mut bindings::block_device) -> u64;
    /// `bdev_logical_block_size()`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
    pub(crate) fn rloop_helper_bdev_logical_block_size(bdev: *mut bindings::block_device)
        -> c_uint;
    /// `bdev_nonrot()` (6.12) or `!bdev_rot()` (7.x),
    /// [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
    pub(crate) fn rloop_helper_bdev_nonrot(bdev: *mut bindings::block_device) -> bool;
    /// Whether the device's queue has `BLK_FEAT_POLL` (`bdev_get_queue()`,
    /// [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h)).
    pub(crate) fn rloop_helper_bdev_can_poll(bdev: *mut bindings::block_device) -> bool;
    /// `init_completion()`, [`include/linux/completion.h`](srctree/include/linux/completion.h).
    pub(crate) fn rloop_helper_init_completion(x: *mut bindings::completion);
    /// `alloc_workqueue("%s", flags, 0, name)`, a macro in 7.x,
    /// [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h).
    pub(crate) fn rloop_helper_alloc_workqueue(
        name: *const c_char,
        flags: c_uint,
    ) -> *mut bindings::workqueue_struct;
    /// `file_inode()`, [`include/linux/fs.h`](srctree/include/linux/fs.h).
    pub(crate) fn rloop_helper_file_inode(file: *const bindings::file) -> *mut bindings::inode;
    /// `IS_APPEND()`, [`include/linux/fs.h`](srctree/include/linux/fs.h).
    pub(crate) fn rloop_helper_inode_is_append(inode: *const bindings::inode) -> bool;
    /// `&file->f_path`, in an anonymous union in 7.x,
    /// [`include/linux/fs.h`](srctree/include/linux/fs.h).
    pub(crate) fn rloop_helper_file_path(file: *const bindings::file) -> *const bindings::path;
    /// `kiocb_start_write()`, [`include/linux/fs.h`](srctree/include/linux/fs.h).
    pub(crate) fn rloop_helper_kiocb_start_write(iocb: *mut bindings::kiocb);
    /// `kiocb_end_write()`, [`include/linux/fs.h`](srctree/include/linux/fs.h).
    pub(crate) fn rloop_helper_kiocb_end_write(iocb: *mut bindings::kiocb);
    /// `file->f_op->read_iter(iocb, iter)`.
    pub(crate) fn rloop_helper_file_read_iter(
        file: *mut bindings::file,
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
    ) -> isize;
    /// `file->f_op->write_iter(iocb, iter)`.
    pub(crate) fn rloop_helper_file_write_iter(
        file: *mut bindings::file,
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
    ) -> isize;
    /// `file->f_op->iopoll(iocb, iob, flags)`.
    pub(crate) fn rloop_helper_file_iopoll(
        file: *mut bindings::file,
        iocb: *mut bindings::kiocb,
        iob: *mut bindings::io_comp_batch,
        flags: c_uint,
    ) -> c_int;
    /// `mempool_create_slab_pool()`, [`include/linux/mempool.h`](srctree/include/linux/mempool.h).
    pub(crate) fn rloop_helper_mempool_create_slab_pool(
        min_nr: c_int,
        kc: *mut bindings::kmem_cache,
    ) -> *mut bindings::mempool_t;
    /// `mempool_alloc()`, [`include/linux/mempool.h`](srctree/include/linux/mempool.h).
    pub(crate) fn rloop_helper_mempool_alloc(
        pool: *mut bindings::mempool_t,
        gfp: bindings::gfp_t,
    ) -> *mut c_void;
    /// `kmem_cache_create()` with no constructor and natural alignment,
    /// [`include/linux/slab.h`](srctree/include/linux/slab.h).
    pub(crate) fn rloop_helper_kmem_cache_create(
        name: *const c_char,
        size: c_uint,
        flags: bindings::slab_flags_t,
    ) -> *mut bindings::kmem_cache;
    /// `memalloc_noio_save()`, [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).
    pub(crate) fn rloop_helper_memalloc_noio_save() -> c_uint;
    /// `memalloc_noio_restore()`, [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h).
    pub(crate) fn rloop_helper_memalloc_noio_restore(flags: c_uint);
    /// Sets `PF_LOCAL_THROTTLE` on the current task, returning the old state.
    pub(crate) fn rloop_helper_local_throttle_save() -> c_uint;
    /// Restores `PF_LOCAL_THROTTLE` as `rloop_helper_local_throttle_save` found it.
    pub(crate) fn rloop_helper_local_throttle_restore(old: c_uint);
    /// `raw_smp_processor_id()`, [`include/linux/smp.h`](srctree/include/linux/smp.h).
    pub(crate) fn rloop_helper_raw_smp_processor_id() -> c_uint;
    /// `need_resched()`, [`include/linux/sched.h`](srctree/include/linux/sched.h).
    pub(crate) fn rloop_helper_need_resched() -> bool;
    /// `cond_resched()`, [`include/linux/sched.h`](srctree/include/linux/sched.h).
    pub(crate) fn rloop_helper_cond_resched();
    /// `cpu_relax()`, [`arch/x86/include/asm/vdso/processor.h`](srctree/arch/x86/include/asm/vdso/processor.h).
    pub(crate) fn rloop_helper_cpu_relax();
    /// The `linger_us` module parameter (`rloop_params.c`).
    pub(crate) fn rloop_param_linger_us() -> c_uint;
    /// `single_task_running()`, [`kernel/sched/core.c`](srctree/kernel/sched/core.c): an
    /// exported function 6.12's bindings do not include.
    pub(crate) fn single_task_running() -> bool;
}

/// `BLK_FEAT_*` (`blk_features_t`), [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
/// `BLK_FEAT_ROTATIONAL` is `bindings::BLK_FEAT_ROTATIONAL`.
pub(crate) const BLK_FEAT_WRITE_CACHE: u32 = 1 << 0;
pub(crate) const BLK_FEAT_FUA: u32 = 1 << 1;
pub(crate) const BLK_FEAT_IO_STAT: u32 = 1 << 4;
pub(crate) const BLK_FEAT_NOWAIT: u32 = 1 << 7;
pub(crate) const BLK_FEAT_POLL: u32 = 1 << 9;

/// `BLK_STS_*` (`blk_status_t`), [`include/linux/blk_types.h`](srctree/include/linux/blk_types.h).
pub(crate) const BLK_STS_OK: u8 = 0;
pub(crate) const BLK_STS_NOTSUPP: u8 = 1;
pub(crate) const BLK_STS_IOERR: u8 = 10;

/// `REQ_*` flags of `bi_opf`, [`include/linux/blk_types.h`](srctree/include/linux/blk_types.h).
pub(crate) const REQ_FUA: u32 = 1 << bindings::req_flag_bits___REQ_FUA;
pub(crate) const REQ_PREFLUSH: u32 = 1 << bindings::req_flag_bits___REQ_PREFLUSH;
pub(crate) const REQ_NOUNMAP: u32 = 1 << bindings::req_flag_bits___REQ_NOUNMAP;
pub(crate) const REQ_POLLED: u32 = 1 << bindings::req_flag_bits___REQ_POLLED;

/// `BLK_OPEN_WRITE` (`blk_mode_t`), [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
pub(crate) const BLK_OPEN_WRITE: u32 = 1 << 1;

/// `BLK_OPEN_READ` (`blk_mode_t`), [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
pub(crate) const BLK_OPEN_READ: u32 = 1 << 0;

/// `FMODE_*`, [`include/linux/fs.h`](srctree/include/linux/fs.h).
pub(crate) const FMODE_READ: u32 = 1 << 0;
pub(crate) const FMODE_WRITE: u32 = 1 << 1;
pub(crate) const FMODE_CAN_ODIRECT: u32 = 1 << 22;

/// `IOCB_DSYNC` (`RWF_DSYNC`), [`include/linux/fs.h`](srctree/include/linux/fs.h).
pub(crate) const IOCB_DSYNC: c_int = 0x2;
/// `IOCB_HIPRI` (`RWF_HIPRI`): the submitter polls for the completion.
pub(crate) const IOCB_HIPRI: c_int = 0x1;

/// `-EIOCBQUEUED`, [`include/linux/errno.h`](srctree/include/linux/errno.h).
pub(crate) const EIOCBQUEUED: isize = -529;

/// `FALLOC_FL_*`, [`include/uapi/linux/falloc.h`](srctree/include/uapi/linux/falloc.h).
pub(crate) const FALLOC_FL_KEEP_SIZE: c_int = 0x01;
pub(crate) const FALLOC_FL_PUNCH_HOLE: c_int = 0x02;
pub(crate) const FALLOC_FL_ZERO_RANGE: c_int = 0x10;

/// `SLAB_HWCACHE_ALIGN`, [`include/linux/slab.h`](srctree/include/linux/slab.h).
pub(crate) const SLAB_HWCACHE_ALIGN: bindings::slab_flags_t =
    1 << bindings::_slab_flag_bits__SLAB_HWCACHE_ALIGN;

/// `GFP_NOIO`: `GFP_KERNEL` without `__GFP_IO` and `__GFP_FS`,
/// [`include/linux/gfp_types.h`](srctree/include/linux/gfp_types.h).
pub(crate) const GFP_NOIO: bindings::gfp_t =
    bindings::GFP_KERNEL & !((1 << bindings::___GFP_IO_BIT) | (1 << bindings::___GFP_FS_BIT));
