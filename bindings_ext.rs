// SPDX-License-Identifier: GPL-2.0

//! What `kernel::bindings` lacks (6.12's, and 7.x's where noted): the functions of
//! `rloop_helpers.c` (static inlines wrapped in real functions, declared by bindgen at build
//! time), one exported function 6.12's bindings leave out, and the constants bindgen drops (macros with casts, or headers
//! `bindings_helper.h` does not include). Each constant is defined here once, with its source.
//!
//! Only the abstraction rooms (`block`, `backing`, `kernel_extras`) use this module.

#![allow(unsafe_code)]
// As in `rust/bindings/lib.rs`: bindgen makes fieldless structs of C types it cannot see into.
#![allow(improper_ctypes)]

use kernel::bindings;
use kernel::ffi::c_int;

/// `struct miscdevice`, [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h),
/// which 6.12's bindings lack: only `rloop_helpers.c` sees its fields.
#[repr(C)]
pub(crate) struct miscdevice {
    _opaque: [u8; 0],
}

/// The functions of `rloop_helpers.c` (and `rloop_params.c`'s reader of its parameter),
/// declared by bindgen from that file at build time (`Kbuild`), with the types of
/// `kernel::bindings`. What each wraps is in the C.
#[allow(
    unreachable_pub,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]
mod helpers {
    // An explicit import wins over the glob: 7.x's bindings have their own `miscdevice`.
    use super::miscdevice;
    use kernel::bindings::*;
    include!(env!("RLOOP_HELPERS_RS"));
}
pub(crate) use helpers::*;

extern "C" {
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
