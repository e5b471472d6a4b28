// SPDX-License-Identifier: GPL-2.0

//! The one file of rloop that talks to C: small safe types over `kernel::bindings`.
//!
//! Every `unsafe` block of the driver is here, with the reason it is sound. The rest of the
//! driver (`rloop.rs`, `rloop_bio.rs`, `rloop_ioctl.rs`) is safe Rust built on these types. The
//! shapes follow `rust/kernel/block/mq/*` of the 6.12 tree; 6.12 has no `miscdevice`, `File`,
//! `Kiocb` or `iov_iter` abstractions, so the ones needed are written here, small.

use crate::rloop_uapi::RloopConfig;
use core::{
    fmt,
    marker::PhantomData,
    mem::ManuallyDrop,
    pin::Pin,
    ptr::{self, NonNull},
    sync::atomic::{AtomicIsize, AtomicPtr, AtomicUsize, Ordering},
};
use kernel::{
    bindings, c_str,
    error::{code::*, from_err_ptr, to_result, Error},
    ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void},
    prelude::*,
    static_lock_class,
    str::CStr,
    sync::{Arc, LockClassKey},
    types::{AsBytes, FromBytes, Opaque, ScopeGuard},
    workqueue::Queue,
};

// SAFETY: `RloopConfig` is `repr(C)` and made only of integers, with no padding (its size is
// asserted in the uAPI file), so every bit pattern is a valid value.
unsafe impl FromBytes for RloopConfig {}
// SAFETY: `RloopConfig` is `repr(C)`, made only of integers and has no padding, so all its
// bytes are initialised.
unsafe impl AsBytes for RloopConfig {}

/// Constants bindgen cannot see: they are macros with casts, or they live in headers that
/// `bindings_helper.h` does not include.
mod consts {
    use super::bindings;

    /// `BLK_FEAT_*`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
    pub(super) const BLK_FEAT_WRITE_CACHE: u32 = 1 << 0;
    pub(super) const BLK_FEAT_FUA: u32 = 1 << 1;
    pub(super) const BLK_FEAT_ROTATIONAL: u32 = 1 << 2;
    pub(super) const BLK_FEAT_IO_STAT: u32 = 1 << 4;
    pub(super) const BLK_FEAT_NOWAIT: u32 = 1 << 7;
    /// `GENHD_FL_NO_PART`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
    pub(super) const GENHD_FL_NO_PART: c_int = 1 << 2;
    use core::ffi::c_int;

    /// `BLK_STS_*`, [`include/linux/blk_types.h`](srctree/include/linux/blk_types.h).
    pub(super) const BLK_STS_OK: u8 = 0;
    pub(super) const BLK_STS_NOTSUPP: u8 = 1;
    pub(super) const BLK_STS_IOERR: u8 = 10;
    /// `REQ_OP_MASK`, [`include/linux/blk_types.h`](srctree/include/linux/blk_types.h).
    pub(super) const REQ_OP_MASK: u32 = (1 << 8) - 1;
    pub(super) const REQ_FUA: u32 = 1 << bindings::req_flag_bits___REQ_FUA;
    pub(super) const REQ_PREFLUSH: u32 = 1 << bindings::req_flag_bits___REQ_PREFLUSH;
    pub(super) const REQ_NOUNMAP: u32 = 1 << bindings::req_flag_bits___REQ_NOUNMAP;

    /// `FMODE_*`, [`include/linux/fs.h`](srctree/include/linux/fs.h).
    pub(super) const FMODE_READ: u32 = 1 << 0;
    pub(super) const FMODE_WRITE: u32 = 1 << 1;
    pub(super) const FMODE_CAN_ODIRECT: u32 = 1 << 22;
    /// `IOCB_DSYNC` is `RWF_DSYNC`, [`include/linux/fs.h`](srctree/include/linux/fs.h).
    pub(super) const IOCB_DSYNC: c_int = 0x2;
    /// `-EIOCBQUEUED`, [`include/linux/errno.h`](srctree/include/linux/errno.h).
    pub(super) const EIOCBQUEUED: isize = -529;

    /// `FALLOC_FL_*`, [`include/uapi/linux/falloc.h`](srctree/include/uapi/linux/falloc.h).
    pub(super) const FALLOC_FL_KEEP_SIZE: c_int = 0x01;
    pub(super) const FALLOC_FL_PUNCH_HOLE: c_int = 0x02;
    pub(super) const FALLOC_FL_ZERO_RANGE: c_int = 0x10;

    /// `SLAB_HWCACHE_ALIGN`, [`include/linux/slab.h`](srctree/include/linux/slab.h).
    pub(super) const SLAB_HWCACHE_ALIGN: bindings::slab_flags_t =
        1 << bindings::_slab_flag_bits__SLAB_HWCACHE_ALIGN;

    /// `PF_MEMALLOC_NOIO`, [`include/linux/sched.h`](srctree/include/linux/sched.h).
    pub(super) const PF_MEMALLOC_NOIO: c_uint = 0x0008_0000;
    use core::ffi::c_uint;
    /// `GFP_NOIO`: `GFP_KERNEL` without `__GFP_IO` and `__GFP_FS`,
    /// [`include/linux/gfp_types.h`](srctree/include/linux/gfp_types.h).
    pub(super) const GFP_NOIO: bindings::gfp_t =
        bindings::GFP_KERNEL & !((1 << bindings::___GFP_IO_BIT) | (1 << bindings::___GFP_FS_BIT));
    /// `MINORBITS`, [`include/linux/kdev_t.h`](srctree/include/linux/kdev_t.h).
    pub(super) const MINORBITS: u32 = bindings::MINORBITS;
}
use consts::*;

/// The C key behind a `LockClassKey` (its `as_ptr` is crate-private in 6.12).
fn lock_class_ptr(key: &'static LockClassKey) -> *mut bindings::lock_class_key {
    // `LockClassKey` is a `repr(transparent)` wrapper of `Opaque<lock_class_key>`, itself a
    // transparent `UnsafeCell`: the address of the one is the address of the other.
    ptr::from_ref(key).cast_mut().cast()
}

/// `EOPNOTSUPP`, which `kernel::error::code` lacks in 6.12.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}

/// `EOVERFLOW`, which `kernel::error::code` lacks in 6.12.
pub(crate) fn eoverflow() -> Error {
    Error::from_errno(-(bindings::EOVERFLOW as i32))
}

/// `MKDEV()`, [`include/linux/kdev_t.h`](srctree/include/linux/kdev_t.h).
const fn mkdev(major: u32, minor: u32) -> bindings::dev_t {
    (major << MINORBITS) | minor
}

/// `MAJOR()` and `MINOR()` of a `dev_t`.
pub(crate) fn dev_major_minor(dev: u32) -> (u32, u32) {
    (dev >> MINORBITS, dev & ((1 << MINORBITS) - 1))
}

/// Whether the caller has `CAP_SYS_ADMIN`.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: `capable` only reads the current task's credentials.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as c_int) }
}

/// A block-layer completion status, `blk_status_t`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct BlkStatus(bindings::blk_status_t);

impl BlkStatus {
    /// `BLK_STS_OK`.
    pub(crate) const OK: Self = Self(BLK_STS_OK);
    /// `BLK_STS_IOERR`.
    pub(crate) const IOERR: Self = Self(BLK_STS_IOERR);
    /// `BLK_STS_NOTSUPP`.
    pub(crate) const NOTSUPP: Self = Self(BLK_STS_NOTSUPP);

    /// The status for an error, as `errno_to_blk_status()` maps it (`ENOSPC` to
    /// `BLK_STS_NOSPC`, `EOPNOTSUPP` to `BLK_STS_NOTSUPP`, unknown ones to `BLK_STS_IOERR`).
    pub(crate) fn from_error(err: Error) -> Self {
        // SAFETY: `errno_to_blk_status` only looks the value up in a constant table.
        Self(unsafe { bindings::errno_to_blk_status(err.to_errno()) })
    }
}

/// What a bio asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BioOp {
    /// `REQ_OP_READ`.
    Read,
    /// `REQ_OP_WRITE`.
    Write,
    /// `REQ_OP_FLUSH` (an empty `REQ_PREFLUSH` bio).
    Flush,
    /// `REQ_OP_DISCARD`.
    Discard,
    /// `REQ_OP_WRITE_ZEROES`.
    WriteZeroes,
    /// Anything else (secure erase, zone operations, driver-private ops).
    Other,
}

/// The operations of a bio-based disk: the driver side of [`Disk`].
pub(crate) trait DiskOps: Sized + 'static {
    /// Per-disk data, owned by the disk until it is freed.
    type Data: Send + Sync;

    /// A bio was submitted to the disk. Runs in the submitter's context; must not sleep if
    /// the bio has `REQ_NOWAIT`.
    fn submit_bio(data: &Self::Data, bio: Bio<Self>);

    /// A read or write issued with [`Bio::submit_direct`] finished with `result`: the number
    /// of bytes transferred or a negative errno. May run in interrupt context.
    fn direct_io_done(bio: Bio<Self>, result: isize);

    /// The disk is being opened. `disk` gives the current state.
    fn open(data: &Self::Data, disk: DiskRef<'_>) -> Result;

    /// An opener closed the disk; `disk.openers()` are left.
    fn release(data: &Self::Data, disk: DiskRef<'_>);

    /// An ioctl on the disk that the block layer does not handle itself.
    fn ioctl(data: &Self::Data, disk: DiskRef<'_>, cmd: u32, arg: usize) -> Result<i32>;

    /// A read of one of the disk's sysfs attributes.
    fn show(data: &Self::Data, attr: &DiskAttribute, out: &mut SysfsBuffer<'_>) -> Result;
}

/// The per-disk state shared by every callback of a [`Disk`]: the driver's data and the count
/// of bios the driver holds.
///
/// # Invariants
///
/// `inflight` is one (the disk's own reference, dropped by [`Disk::drop`]) plus the number of
/// live [`Bio`] handles of the disk. `drained` is an initialised `struct completion`, completed
/// once `inflight` reaches zero.
#[pin_data]
struct DiskShared<T: DiskOps> {
    data: T::Data,
    inflight: AtomicUsize,
    #[pin]
    drained: Opaque<bindings::completion>,
}

impl<T: DiskOps> DiskShared<T> {
    fn new(data: T::Data) -> impl PinInit<Self> {
        // INVARIANT: no bio is live yet, so `inflight` is just the disk's own reference.
        pin_init!(Self {
            data,
            inflight: AtomicUsize::new(1),
            drained <- Opaque::ffi_init(|c: *mut bindings::completion| {
                // `init_completion()`, a static inline in
                // [`include/linux/completion.h`](srctree/include/linux/completion.h).
                // SAFETY: `c` points to memory for a completion that nothing else uses yet.
                unsafe {
                    (*c).done = 0;
                    bindings::__init_swait_queue_head(
                        &raw mut (*c).wait,
                        c_str!("rloop::drained").as_char_ptr(),
                        lock_class_ptr(static_lock_class!()),
                    );
                }
            }),
        })
    }

    /// Drops one reference to the in-flight count and wakes [`Disk::drop`] on the last one.
    fn put(&self) {
        if self.inflight.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: `drained` was initialised by `new`. The waiter in `Disk::drop` keeps
            // `self` alive until `complete` has released the completion's lock.
            unsafe { bindings::complete(self.drained.get()) };
        }
    }

    /// # Safety
    ///
    /// `disk` must be a disk created by [`Disk::new`] for `T` that has not been freed.
    unsafe fn from_disk<'a>(disk: *mut bindings::gendisk) -> &'a Self {
        // SAFETY: `Disk::new` set `private_data` to a pinned `DiskShared<T>` that lives until
        // `free_disk_callback` runs, which happens only after the disk is gone.
        unsafe { &*((*disk).private_data as *const Self) }
    }
}

/// A bio the driver holds. It must be ended exactly once: [`Bio::end`], or a handover to
/// [`Bio::submit_direct`] or a [`BioList`]; dropping it ends it with `BLK_STS_IOERR`.
///
/// # Invariants
///
/// `ptr` points to a bio that was submitted to a `Disk<T>` and has not been ended. This handle
/// is its only owner and holds one reference of the disk's in-flight count. If `accounted`,
/// `bio_start_io_acct` was called for it at `start` (jiffies).
pub(crate) struct Bio<T: DiskOps> {
    ptr: NonNull<bindings::bio>,
    accounted: bool,
    start: c_ulong,
    _p: PhantomData<T>,
}

// SAFETY: A bio may be completed from any context and any thread.
unsafe impl<T: DiskOps> Send for Bio<T> {}

/// The current `jiffies`.
fn jiffies() -> c_ulong {
    // SAFETY: `jiffies` is a valid, always-mapped kernel variable; it is read volatile as
    // the C `volatile` declaration asks.
    unsafe { ptr::read_volatile(&raw const bindings::jiffies) }
}

impl<T: DiskOps> Bio<T> {
    fn raw(&self) -> *mut bindings::bio {
        self.ptr.as_ptr()
    }

    fn opf(&self) -> u32 {
        // SAFETY: By the type invariant the bio is live and owned by this handle.
        unsafe { (*self.raw()).bi_opf }
    }

    /// The operation of the bio.
    pub(crate) fn op(&self) -> BioOp {
        match self.opf() & REQ_OP_MASK {
            bindings::req_op_REQ_OP_READ => BioOp::Read,
            bindings::req_op_REQ_OP_WRITE => BioOp::Write,
            bindings::req_op_REQ_OP_FLUSH => BioOp::Flush,
            bindings::req_op_REQ_OP_DISCARD => BioOp::Discard,
            bindings::req_op_REQ_OP_WRITE_ZEROES => BioOp::WriteZeroes,
            _ => BioOp::Other,
        }
    }

    /// `REQ_PREFLUSH`: flush the cache before the data.
    pub(crate) fn is_preflush(&self) -> bool {
        self.opf() & REQ_PREFLUSH != 0
    }

    /// `REQ_FUA`: the data must be stable when the bio completes.
    pub(crate) fn is_fua(&self) -> bool {
        self.opf() & REQ_FUA != 0
    }

    /// `REQ_NOUNMAP`: a write-zeroes that must keep the blocks allocated.
    pub(crate) fn is_nounmap(&self) -> bool {
        self.opf() & REQ_NOUNMAP != 0
    }

    /// The first 512-byte sector of the bio.
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: By the type invariant the bio is live and owned by this handle.
        unsafe { (*self.raw()).bi_iter.bi_sector }
    }

    /// The number of bytes the bio covers.
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: By the type invariant the bio is live and owned by this handle.
        unsafe { (*self.raw()).bi_iter.bi_size }
    }

    /// The gendisk the bio was submitted to: a `Disk<T>`, which outlives its in-flight bios
    /// (`Disk::drop` waits for them), so live while this handle is.
    fn gendisk(&self) -> *mut bindings::gendisk {
        // SAFETY: The bio is live, so its `bi_bdev` is too.
        unsafe { (*(*self.raw()).bi_bdev).bd_disk }
    }

    /// The disk the bio was submitted to.
    pub(crate) fn disk(&self) -> DiskRef<'_> {
        // SAFETY: The disk is live while this handle is (`gendisk`).
        unsafe { DiskRef::from_raw(self.gendisk()) }
    }

    /// Starts I/O accounting (`/proc/diskstats`) for the bio, once.
    pub(crate) fn start_io_acct(&mut self) {
        if !self.accounted {
            // SAFETY: The bio is live; `bio_start_io_acct` only updates the disk's counters.
            self.start = unsafe { bindings::bio_start_io_acct(self.raw()) };
            self.accounted = true;
        }
    }

    /// Gives the bio back to its submitter with `status`.
    pub(crate) fn end(self, status: BlkStatus) {
        let bio = ManuallyDrop::new(self);
        let raw = bio.raw();
        // SAFETY: The bio's disk is a live `Disk<T>` (`gendisk`).
        let shared = unsafe { DiskShared::<T>::from_disk(bio.gendisk()) };
        // SAFETY: The bio is live and owned by this handle, which is consumed here: nothing
        // touches the bio after `bio_endio`.
        unsafe {
            if bio.accounted {
                bindings::bio_end_io_acct_remapped(raw, bio.start, (*raw).bi_bdev);
            }
            (*raw).bi_status = status.0;
            bindings::bio_endio(raw);
        }
        shared.put();
    }

    /// Reads (`write == false`) or writes the bio's data at byte `pos` of `file` with direct
    /// I/O, through the file's `read_iter`/`write_iter`, using the bio's own vector.
    /// [`DiskOps::direct_io_done`] gets the result, from this call or from the file system's
    /// completion.
    pub(crate) fn submit_direct(
        self,
        file: &BackingFile,
        pool: &IoPool,
        pos: i64,
        write: bool,
        fua: bool,
    ) {
        DirectIo::<T>::submit(self, file, pool, pos, write, fua);
    }

    fn into_raw(self) -> *mut bindings::bio {
        ManuallyDrop::new(self).raw()
    }

    /// # Safety
    ///
    /// `ptr` must be a live bio of a `Disk<T>` that nothing else owns, accounted for in the
    /// disk's in-flight count; if `accounted`, `bio_start_io_acct` was called for it.
    unsafe fn from_raw(ptr: *mut bindings::bio, accounted: bool, start: c_ulong) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            // SAFETY: The caller passes a live bio, which is not null.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            accounted,
            start,
            _p: PhantomData,
        }
    }
}

impl<T: DiskOps> Drop for Bio<T> {
    fn drop(&mut self) {
        let bio = Bio::<T> {
            ptr: self.ptr,
            accounted: self.accounted,
            start: self.start,
            _p: PhantomData,
        };
        bio.end(BlkStatus::IOERR);
    }
}

/// A FIFO of bios linked through their own `bi_next`: pushing allocates nothing.
///
/// # Invariants
///
/// `head` to `tail` is a `bi_next`-linked chain of accounted bios of a `Disk<T>` owned by the
/// list (each holding an in-flight reference), `tail` is the last one, both are null when the
/// list is empty.
pub(crate) struct BioList<T: DiskOps> {
    head: *mut bindings::bio,
    tail: *mut bindings::bio,
    _p: PhantomData<T>,
}

// SAFETY: The list owns its bios, which may be handled on any thread.
unsafe impl<T: DiskOps> Send for BioList<T> {}

impl<T: DiskOps> BioList<T> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            _p: PhantomData,
        }
    }

    /// Whether the list has no bios.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// Appends `bio`, starting its I/O accounting if that has not happened yet.
    pub(crate) fn push(&mut self, mut bio: Bio<T>) {
        bio.start_io_acct();
        let raw = bio.into_raw();
        // SAFETY: `raw` is a live bio now owned by the list; `tail`, if not null, is the last
        // bio of the list, also owned by it.
        unsafe {
            (*raw).bi_next = ptr::null_mut();
            if self.tail.is_null() {
                self.head = raw;
            } else {
                (*self.tail).bi_next = raw;
            }
        }
        // INVARIANT: `raw` is linked after the old tail.
        self.tail = raw;
    }

    /// Takes the first bio off the list.
    pub(crate) fn pop(&mut self) -> Option<Bio<T>> {
        let raw = NonNull::new(self.head)?.as_ptr();
        // SAFETY: `raw` is the list's first bio, owned by the list.
        unsafe {
            self.head = (*raw).bi_next;
            (*raw).bi_next = ptr::null_mut();
        }
        if self.head.is_null() {
            self.tail = ptr::null_mut();
        }
        // The accounting start is taken again here: the time spent on the list is below the
        // resolution of jiffies, and keeping the first one would need per-bio storage.
        // SAFETY: The bio was accounted by `push` and its ownership moves out of the list.
        Some(unsafe { Bio::from_raw(raw, true, jiffies()) })
    }

    /// Takes every bio, leaving the list empty.
    pub(crate) fn take(&mut self) -> Self {
        core::mem::replace(self, Self::new())
    }

    /// Hands every bio of the list, in order, to `f` together with its disk's data.
    ///
    /// The data stays valid for each whole call, even after `f` has ended the bio: an extra
    /// in-flight reference is held on each disk while its bios are handled (one per run of
    /// bios of the same disk, not one per bio).
    pub(crate) fn drain(mut self, mut f: impl FnMut(&T::Data, Bio<T>)) {
        let mut held: Option<(*mut bindings::gendisk, &DiskShared<T>)> = None;
        while let Some(bio) = self.pop() {
            let disk = bio.gendisk();
            let shared = match held {
                Some((d, shared)) if d == disk => shared,
                _ => {
                    // SAFETY: The bio holds an in-flight reference of its disk, so the disk and
                    // its `DiskShared` are live; the reference taken here keeps them so until
                    // the `put` below, after the last use of `shared`.
                    let shared = unsafe { DiskShared::<T>::from_disk(disk) };
                    shared.inflight.fetch_add(1, Ordering::Relaxed);
                    if let Some((_, old)) = held.replace((disk, shared)) {
                        old.put();
                    }
                    shared
                }
            };
            f(&shared.data, bio);
        }
        if let Some((_, shared)) = held {
            shared.put();
        }
    }
}

impl<T: DiskOps> Drop for BioList<T> {
    fn drop(&mut self) {
        while let Some(bio) = self.pop() {
            bio.end(BlkStatus::IOERR);
        }
    }
}

/// The per-I/O context of [`Bio::submit_direct`]: the `kiocb` and the `iov_iter` over the
/// bio's vector. It comes from an [`IoPool`] and goes back to it on completion.
///
/// Two references (`refs`): one for `ki_complete`, one for the submitter. File systems touch
/// the iocb after `read_iter` returned `-EIOCBQUEUED` (ext4's `file_accessed(iocb->ki_filp)`),
/// possibly after `ki_complete` ran, so the context lives until both are done, as loop's
/// `cmd->ref` does.
#[repr(C)]
struct DirectIo<T: DiskOps> {
    iocb: bindings::kiocb,
    iter: bindings::iov_iter,
    bio: *mut bindings::bio,
    start: c_ulong,
    pool: *mut bindings::mempool_t,
    refs: AtomicUsize,
    ret: AtomicIsize,
    _p: PhantomData<T>,
}

impl<T: DiskOps> DirectIo<T> {
    /// The number of `bio_vec`s from `bi_idx` that the bio's iterator covers: walking
    /// `bi_iter`, never `bi_vcnt` (split and cloned bios share their parent's vector).
    ///
    /// # Safety
    ///
    /// `bio` must be live.
    unsafe fn nr_segs(bio: *const bindings::bio) -> c_ulong {
        // SAFETY: The caller guarantees the bio is live; its iterator stays within the vector.
        unsafe {
            let iter = (*bio).bi_iter;
            let mut left = iter.bi_size as usize + iter.bi_bvec_done as usize;
            let mut bv = (*bio).bi_io_vec.add(iter.bi_idx as usize);
            let mut n: c_ulong = 0;
            while left > 0 {
                left -= core::cmp::min(left, (*bv).bv_len as usize);
                bv = bv.add(1);
                n += 1;
            }
            n
        }
    }

    fn submit(bio: Bio<T>, file: &BackingFile, pool: &IoPool, pos: i64, write: bool, fua: bool) {
        // SAFETY: `pool.pool` is a live mempool of `DirectIo` sized elements. With
        // `__GFP_DIRECT_RECLAIM` in `GFP_NOIO` `mempool_alloc` waits for an element rather than
        // fail, so a NULL below is defensive only.
        let io =
            unsafe { bindings::mempool_alloc_noprof(pool.pool.as_ptr(), GFP_NOIO) } as *mut Self;
        if io.is_null() {
            bio.end(BlkStatus::from_error(ENOMEM));
            return;
        }
        let start = bio.start;
        let accounted = bio.accounted;
        let len = bio.len() as usize;
        let raw = bio.into_raw();
        let f = file.raw();
        // SAFETY: `io` is an object of `IoCache::OBJECT_SIZE` bytes owned by us until it is
        // freed in `complete`. `raw` is a live bio we own; its vector and iterator are valid.
        // `f` is a file we hold a reference to for the duration of the call.
        let ret = unsafe {
            ptr::write_bytes(io, 0, 1);
            (*io).refs = AtomicUsize::new(2);
            (*io).bio = raw;
            (*io).start = if accounted { start } else { jiffies() };
            (*io).pool = pool.pool.as_ptr();
            let iocb = &raw mut (*io).iocb;
            (*iocb).ki_filp = f;
            (*iocb).ki_pos = pos;
            (*iocb).ki_flags = bindings::IOCB_DIRECT as c_int | if fua { IOCB_DSYNC } else { 0 };
            (*iocb).ki_ioprio = (*raw).bi_ioprio;
            (*iocb).ki_complete = Some(Self::complete_callback);
            let iter = &raw mut (*io).iter;
            bindings::iov_iter_bvec(
                iter,
                if write {
                    bindings::ITER_SOURCE
                } else {
                    bindings::ITER_DEST
                },
                (*raw).bi_io_vec.add((*raw).bi_iter.bi_idx as usize),
                Self::nr_segs(raw),
                len + (*raw).bi_iter.bi_bvec_done as usize,
            );
            (*iter).iov_offset = (*raw).bi_iter.bi_bvec_done as usize;
            (*iter).__bindgen_anon_1.__bindgen_anon_1.as_mut().count = len;
            let op = if write {
                (*(*f).f_op).write_iter
            } else {
                (*(*f).f_op).read_iter
            };
            match op {
                Some(op) => op(iocb, iter),
                None => EINVAL.to_errno() as isize,
            }
        };
        // SAFETY: `io` is live: we still hold the submitter's reference.
        unsafe {
            if ret != consts::EIOCBQUEUED {
                // Not queued: the file system will not call `ki_complete`; both references
                // are ours.
                (*io).ret.store(ret, Ordering::Relaxed);
                Self::finish(io);
            } else {
                Self::put(io);
            }
        }
    }

    /// `ki_complete`: may run in interrupt context, before or after `submit` returns.
    ///
    /// # Safety
    ///
    /// `iocb` must be the `iocb` of a `DirectIo<T>` from `submit`, completed once.
    unsafe extern "C" fn complete_callback(iocb: *mut bindings::kiocb, ret: c_long) {
        let io = iocb as *mut Self;
        // SAFETY: `iocb` is the first field of a `repr(C)` `DirectIo<T>` (caller's guarantee)
        // and the completion's reference keeps it live.
        unsafe {
            (*io).ret.store(ret as isize, Ordering::Relaxed);
            Self::put(io);
        }
    }

    /// Drops one reference; the last one finishes the I/O.
    ///
    /// # Safety
    ///
    /// `io` must be live and the caller must own one of its references.
    unsafe fn put(io: *mut Self) {
        // SAFETY: The caller owns a reference, so `io` is live. `AcqRel` makes the other
        // side's `ret` visible to whoever finishes.
        if unsafe { (*io).refs.fetch_sub(1, Ordering::AcqRel) } == 1 {
            // SAFETY: This was the last reference.
            unsafe { Self::finish(io) };
        }
    }

    /// Frees the context and ends the bio with the result.
    ///
    /// # Safety
    ///
    /// Nothing else may use `io` any more.
    unsafe fn finish(io: *mut Self) {
        // SAFETY: `io` is ours alone. The element goes back to its pool before the bio ends:
        // ending the last bio lets the disk, and with it the pool, go away.
        let (bio, ret) = unsafe {
            let raw = (*io).bio;
            let start = (*io).start;
            let ret = (*io).ret.load(Ordering::Relaxed);
            bindings::mempool_free(io as *mut c_void, (*io).pool);
            // The bio was owned by the `DirectIo`; it moves back into a handle here.
            (Bio::<T>::from_raw(raw, true, start), ret)
        };
        T::direct_io_done(bio, ret);
    }
}

/// The slab cache the per-I/O contexts of every [`IoPool`] come from.
///
/// # Invariants
///
/// `cache` is a live slab cache of objects of [`IoCache::OBJECT_SIZE`] bytes, destroyed on
/// drop.
pub(crate) struct IoCache {
    cache: NonNull<bindings::kmem_cache>,
}

// SAFETY: Slab caches are safe to use from any thread and context.
unsafe impl Send for IoCache {}
// SAFETY: Slab caches are safe to use from any thread and context.
unsafe impl Sync for IoCache {}

impl IoCache {
    /// The size of one context; the same for every `T`.
    const OBJECT_SIZE: usize = core::mem::size_of::<DirectIo<NoDisk>>();

    /// Creates the cache, named `name` in `/proc/slabinfo`.
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: `kmem_cache_args` is plain data; all zeroes means "no extras".
        let mut args: bindings::kmem_cache_args = unsafe { core::mem::zeroed() };
        // SAFETY: `name` is static; `args` is valid for the call.
        let cache = unsafe {
            bindings::__kmem_cache_create_args(
                name.as_char_ptr(),
                Self::OBJECT_SIZE as c_uint,
                &mut args,
                SLAB_HWCACHE_ALIGN,
            )
        };
        // INVARIANT: a non-null return is a live cache of `OBJECT_SIZE` objects.
        Ok(Self {
            cache: NonNull::new(cache).ok_or(ENOMEM)?,
        })
    }
}

impl Drop for IoCache {
    fn drop(&mut self) {
        // SAFETY: The cache is live; every pool holds an `Arc` of it and gives its objects
        // back before it drops that, so no object is out.
        unsafe { bindings::kmem_cache_destroy(self.cache.as_ptr()) };
    }
}

/// A reserve of per-I/O contexts so that reads and writes make progress under memory pressure.
///
/// # Invariants
///
/// `pool` is a live mempool over `cache` (`mempool_alloc_slab`), whose objects are at least
/// `size_of::<DirectIo<_>>()` bytes.
pub(crate) struct IoPool {
    pool: NonNull<bindings::mempool_t>,
    // Dropped after `pool` (declaration order): the pool gives its reserve back to it.
    _cache: Arc<IoCache>,
}

// SAFETY: mempools are safe to use from any thread and context.
unsafe impl Send for IoPool {}
// SAFETY: mempools are safe to use from any thread and context.
unsafe impl Sync for IoPool {}

impl IoPool {
    /// A pool of contexts from `cache`, holding `reserved` of them in reserve.
    pub(crate) fn new(cache: &Arc<IoCache>, reserved: u32) -> Result<Self> {
        // SAFETY: `mempool_alloc_slab`/`mempool_free_slab` take the cache as their pool data;
        // the cache outlives the pool, which holds an `Arc` of it.
        let pool = unsafe {
            bindings::mempool_create_node_noprof(
                reserved as c_int,
                Some(bindings::mempool_alloc_slab),
                Some(bindings::mempool_free_slab),
                cache.cache.as_ptr() as *mut c_void,
                bindings::GFP_KERNEL,
                bindings::NUMA_NO_NODE,
            )
        };
        // INVARIANT: the pool was created over `cache`, whose objects are `OBJECT_SIZE` bytes.
        Ok(Self {
            pool: NonNull::new(pool).ok_or(ENOMEM)?,
            _cache: cache.clone(),
        })
    }
}

impl Drop for IoPool {
    fn drop(&mut self) {
        // SAFETY: The pool is live and, since every `DirectIo` returns its element before its
        // bio ends and the owner of the pool outlives its bios, no element is out.
        unsafe { bindings::mempool_destroy(self.pool.as_ptr()) };
    }
}

/// A `DiskOps` that only exists to size [`IoCache`] objects.
struct NoDisk;

impl DiskOps for NoDisk {
    type Data = ();
    fn submit_bio(_: &(), _: Bio<Self>) {}
    fn direct_io_done(_: Bio<Self>, _: isize) {}
    fn open(_: &(), _: DiskRef<'_>) -> Result {
        Err(ENXIO)
    }
    fn release(_: &(), _: DiskRef<'_>) {}
    fn ioctl(_: &(), _: DiskRef<'_>, _: u32, _: usize) -> Result<i32> {
        Err(ENOTTY)
    }
    fn show(_: &(), _: &DiskAttribute, _: &mut SysfsBuffer<'_>) -> Result {
        Err(EIO)
    }
}

/// While alive, every allocation of the current task behaves as `GFP_NOIO`
/// (`memalloc_noio_save()`, [`include/linux/sched/mm.h`](srctree/include/linux/sched/mm.h)):
/// the backing file system must not recurse into I/O on the device it serves.
pub(crate) struct NoIoScope {
    was_set: bool,
    _not_send: PhantomData<*mut ()>,
}

impl NoIoScope {
    /// Enters the scope.
    pub(crate) fn enter() -> Self {
        // SAFETY: `get_current` returns the running task, whose `flags` only it changes.
        let was_set = unsafe {
            let cur = bindings::get_current();
            let was = (*cur).flags & PF_MEMALLOC_NOIO != 0;
            (*cur).flags |= PF_MEMALLOC_NOIO;
            was
        };
        Self {
            was_set,
            _not_send: PhantomData,
        }
    }
}

impl Drop for NoIoScope {
    fn drop(&mut self) {
        if !self.was_set {
            // SAFETY: As in `enter`; the scope is `!Send`, so this is still the same task.
            unsafe { (*bindings::get_current()).flags &= !PF_MEMALLOC_NOIO };
        }
    }
}

/// The CPU the caller is running on, as `raw_smp_processor_id()`: a hint, since the task may
/// move right after.
pub(crate) fn current_cpu() -> usize {
    // SAFETY: `get_current` returns the running task; `task_cpu()` reads its
    // `thread_info.cpu` the same way.
    unsafe { ptr::read_volatile(&raw const (*bindings::get_current()).thread_info.cpu) as usize }
}

/// The number of possible CPU ids (`nr_cpu_ids`): every CPU id is below it.
pub(crate) fn nr_cpu_ids() -> usize {
    // SAFETY: `nr_cpu_ids` is set once at boot, before modules load.
    unsafe { ptr::read_volatile(&raw const bindings::nr_cpu_ids) as usize }
}

/// A workqueue this module allocates.
///
/// # Invariants
///
/// `wq` is a live workqueue from `alloc_workqueue`, destroyed on drop.
pub(crate) struct Workqueue {
    wq: NonNull<bindings::workqueue_struct>,
}

// SAFETY: workqueues are used from any thread.
unsafe impl Send for Workqueue {}
// SAFETY: workqueues are used from any thread.
unsafe impl Sync for Workqueue {}

impl Workqueue {
    /// An unbound workqueue with a rescuer thread (`WQ_MEM_RECLAIM`), so the work on it makes
    /// progress under memory pressure, as a queue on the writeback path must. Unbound: a
    /// worker runs on whichever CPU is free, beside the task that queued the work rather than
    /// in its way.
    pub(crate) fn new_reclaim(name: &'static CStr) -> Result<Self> {
        let flags = bindings::wq_flags_WQ_MEM_RECLAIM | bindings::wq_flags_WQ_UNBOUND;
        // SAFETY: The format is `"%s"` with one string argument, `name`, which is static.
        let wq = unsafe {
            bindings::alloc_workqueue(
                c_str!("%s").as_char_ptr(),
                flags as c_uint,
                0,
                name.as_char_ptr(),
            )
        };
        // INVARIANT: a non-null return is a live workqueue.
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

/// The kinds of file a backing file can be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FileKind {
    /// `S_IFREG`.
    Regular,
    /// `S_IFBLK`.
    BlockDevice,
    /// Anything else: directories, pipes, sockets, character devices, ...
    Other,
}

/// What `vfs_getattr` says about a backing file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileAttrs {
    /// Size in bytes (of the device, for a block device).
    pub(crate) size: u64,
    /// Inode number.
    pub(crate) ino: u64,
    /// The device holding the inode.
    pub(crate) dev: u32,
    /// `STATX_DIOALIGN`'s file-offset alignment for direct I/O, 0 if unknown.
    pub(crate) dio_offset_align: u32,
    /// `STATX_DIOALIGN`'s memory alignment for direct I/O, 0 if unknown.
    pub(crate) dio_mem_align: u32,
}

/// How [`BackingFile::fallocate`] changes a range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Fallocate {
    /// `FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE`: deallocate.
    PunchHole,
    /// `FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE`: zero, keeping the blocks allocated.
    ZeroRange,
}

/// A reference to an open file, taken from a file descriptor.
///
/// # Invariants
///
/// `file` is a file we hold a reference to (`fget`), dropped with `fput`.
pub(crate) struct BackingFile {
    file: NonNull<bindings::file>,
}

// SAFETY: File references may be used and dropped on any thread.
unsafe impl Send for BackingFile {}
// SAFETY: The methods only read immutable fields or call thread-safe VFS functions.
unsafe impl Sync for BackingFile {}

impl BackingFile {
    /// The file open at `fd` in the calling process. `EBADF` for a bad descriptor and for an
    /// `O_PATH` one (`fget` ignores those).
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        let fd = c_uint::try_from(fd).map_err(|_| EBADF)?;
        // SAFETY: `fget` is safe to call with any number.
        let file = unsafe { bindings::fget(fd) };
        // INVARIANT: a non-null `fget` result carries a reference.
        Ok(Self {
            file: NonNull::new(file).ok_or(EBADF)?,
        })
    }

    fn raw(&self) -> *mut bindings::file {
        self.file.as_ptr()
    }

    fn inode(&self) -> *mut bindings::inode {
        // SAFETY: The file is live; `f_inode` is set at open and never changes.
        unsafe { (*self.raw()).f_inode }
    }

    fn mode(&self) -> u32 {
        // SAFETY: The file is live; `f_mode` is set at open.
        unsafe { (*self.raw()).f_mode }
    }

    /// What kind of file this is.
    pub(crate) fn kind(&self) -> FileKind {
        // SAFETY: The inode of a live file is live; its mode type bits never change.
        let mode = unsafe { (*self.inode()).i_mode } as u32 & bindings::S_IFMT;
        match mode {
            bindings::S_IFREG => FileKind::Regular,
            bindings::S_IFBLK => FileKind::BlockDevice,
            _ => FileKind::Other,
        }
    }

    /// Whether the file was opened for reading and can be read with `read_iter`.
    pub(crate) fn can_read(&self) -> bool {
        // SAFETY: The file is live; `f_op` is set at open.
        let has = unsafe { (*(*self.raw()).f_op).read_iter.is_some() };
        self.mode() & FMODE_READ != 0 && has
    }

    /// Whether the file was opened for writing and can be written with `write_iter`.
    pub(crate) fn can_write(&self) -> bool {
        // SAFETY: The file is live; `f_op` is set at open.
        let has = unsafe { (*(*self.raw()).f_op).write_iter.is_some() };
        self.mode() & FMODE_WRITE != 0 && has
    }

    /// Whether the file supports `O_DIRECT` (`FMODE_CAN_ODIRECT`).
    pub(crate) fn can_direct_io(&self) -> bool {
        self.mode() & FMODE_CAN_ODIRECT != 0
    }

    /// The block device behind the file: the file itself if it is one, else the device of its
    /// file system, if it has one.
    fn bdev(&self) -> Option<NonNull<bindings::block_device>> {
        // SAFETY: The file and its inode are live. An open block-device file's mapping is the
        // device's own (`f_inode` is the device node's, on devtmpfs say), so `file_bdev`
        // gives its device; for other files the super block is live and `s_bdev` is fixed
        // while it is mounted.
        let bdev = unsafe {
            if self.kind() == FileKind::BlockDevice {
                bindings::file_bdev(self.raw())
            } else {
                (*(*self.inode()).i_sb).s_bdev
            }
        };
        NonNull::new(bdev)
    }

    /// The logical block size of the block device behind the file, if there is one.
    pub(crate) fn bdev_logical_block_size(&self) -> Option<u32> {
        let bdev = self.bdev()?;
        // `bdev_logical_block_size()`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
        // SAFETY: The device is live while the file is open; its disk and queue live as long.
        Some(unsafe {
            (*(*(*bdev.as_ptr()).bd_disk).queue)
                .limits
                .logical_block_size
        })
    }

    /// Whether the block device behind the file is rotational (`false` if there is none).
    pub(crate) fn is_rotational(&self) -> bool {
        self.bdev().is_some_and(|bdev| {
            // SAFETY: As in `bdev_logical_block_size`.
            let features = unsafe { (*(*(*bdev.as_ptr()).bd_disk).queue).limits.features };
            features & BLK_FEAT_ROTATIONAL != 0
        })
    }

    /// Size, identity and direct-I/O alignment of the file.
    pub(crate) fn attrs(&self) -> Result<FileAttrs> {
        // SAFETY: `kstat` is plain data; all zeroes is a valid value.
        let mut st: bindings::kstat = unsafe { core::mem::zeroed() };
        // SAFETY: The file and its path are live; `st` is a valid `kstat` to fill.
        to_result(unsafe {
            bindings::vfs_getattr(
                &raw const (*self.raw()).f_path,
                &mut st,
                bindings::STATX_BASIC_STATS | bindings::STATX_DIOALIGN,
                bindings::AT_STATX_SYNC_AS_STAT,
            )
        })?;
        let size = match (self.kind(), self.bdev()) {
            // `bdev_nr_bytes()`, [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).
            // SAFETY: The device is live while the file is open.
            (FileKind::BlockDevice, Some(bdev)) => (unsafe { (*bdev.as_ptr()).bd_nr_sectors }) << 9,
            _ => u64::try_from(st.size).map_err(|_| EINVAL)?,
        };
        let dio = st.result_mask & bindings::STATX_DIOALIGN != 0;
        Ok(FileAttrs {
            size,
            ino: st.ino,
            dev: st.dev,
            dio_offset_align: if dio { st.dio_offset_align } else { 0 },
            dio_mem_align: if dio { st.dio_mem_align } else { 0 },
        })
    }

    /// Writes the file's data and metadata back (`vfs_fsync`).
    pub(crate) fn fsync(&self) -> Result {
        // SAFETY: The file is live.
        to_result(unsafe { bindings::vfs_fsync_range(self.raw(), 0, i64::MAX, 0) })
    }

    /// Deallocates or zeroes `len` bytes at `offset`.
    pub(crate) fn fallocate(&self, how: Fallocate, offset: u64, len: u64) -> Result {
        let mode = FALLOC_FL_KEEP_SIZE
            | match how {
                Fallocate::PunchHole => FALLOC_FL_PUNCH_HOLE,
                Fallocate::ZeroRange => FALLOC_FL_ZERO_RANGE,
            };
        let offset = i64::try_from(offset).map_err(|_| EINVAL)?;
        let len = i64::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: The file is live; `vfs_fallocate` checks the mode and the range itself.
        to_result(unsafe { bindings::vfs_fallocate(self.raw(), mode, offset, len) })
    }
}

impl Drop for BackingFile {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold a reference, given back once here.
        unsafe { bindings::fput(self.raw()) };
    }
}

/// The text of a sysfs attribute being read: one page, filled with `write!`.
pub(crate) struct SysfsBuffer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl SysfsBuffer<'_> {
    /// Appends the path of `file` (`d_path`), as `/proc/*/fd` links show it.
    pub(crate) fn write_path(&mut self, file: &BackingFile) -> Result {
        let room = self.buf.len() - self.len;
        let avail = c_int::try_from(room).map_err(|_| EINVAL)?;
        let dst = self.buf[self.len..].as_mut_ptr();
        // SAFETY: `dst` has `room` writable bytes; the file's path is live.
        let p =
            unsafe { bindings::d_path(&raw const (*file.raw()).f_path, dst as *mut c_char, avail) };
        let p = from_err_ptr(p)? as *mut u8;
        // `d_path` builds the name at the end of the buffer, NUL-terminated.
        // SAFETY: `p` points into `dst[..room]` and the NUL-terminated name ends inside it.
        let n = unsafe { CStr::from_char_ptr(p as *const c_char) }.len();
        // SAFETY: Both ranges are inside `dst[..room]`; `ptr::copy` allows overlap.
        unsafe { ptr::copy(p, dst, n) };
        self.len += n;
        Ok(())
    }
}

impl fmt::Write for SysfsBuffer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A read-only sysfs attribute of a [`Disk`]: `struct device_attribute` with a `show` that
/// calls [`DiskOps::show`]. Declared as a `static`.
#[repr(transparent)]
pub(crate) struct DiskAttribute(bindings::device_attribute);

// SAFETY: The attribute is immutable after construction; sysfs only reads it.
unsafe impl Sync for DiskAttribute {}

impl DiskAttribute {
    /// A mode 0444 attribute called `name`.
    pub(crate) const fn new<T: DiskOps>(name: &'static CStr) -> Self {
        // SAFETY: `device_attribute` is plain data for which all zeroes is valid (no callback,
        // null name and lockdep key).
        let mut attr: bindings::device_attribute = unsafe { core::mem::zeroed() };
        attr.attr.name = name.as_char_ptr();
        attr.attr.mode = 0o444;
        attr.show = Some(show_callback::<T>);
        Self(attr)
    }
}

/// A NULL-terminated list of `N` attributes, for an [`AttributeGroup`].
#[repr(C)]
pub(crate) struct AttributeList<const N: usize> {
    attrs: [*const bindings::attribute; N],
    end: *const bindings::attribute,
}

// SAFETY: Immutable pointers to immutable statics.
unsafe impl<const N: usize> Sync for AttributeList<N> {}

impl<const N: usize> AttributeList<N> {
    /// The list of `attrs`.
    pub(crate) const fn new(attrs: [&'static DiskAttribute; N]) -> Self {
        let mut list = [ptr::null(); N];
        let mut i = 0;
        while i < N {
            list[i] = &attrs[i].0.attr;
            i += 1;
        }
        Self {
            attrs: list,
            end: ptr::null(),
        }
    }
}

/// A named sysfs directory of disk attributes (`/sys/block/<disk>/<name>/`), with the
/// NULL-terminated group list `device_add_disk` takes.
#[repr(C)]
pub(crate) struct AttributeGroup {
    group: bindings::attribute_group,
}

// SAFETY: Immutable after construction; it points only to immutable statics.
unsafe impl Sync for AttributeGroup {}

impl AttributeGroup {
    /// The group `name` of the attributes in `list`.
    pub(crate) const fn new<const N: usize>(
        name: &'static CStr,
        list: &'static AttributeList<N>,
    ) -> Self {
        // SAFETY: `attribute_group` is plain data for which all zeroes is valid.
        let mut group: bindings::attribute_group = unsafe { core::mem::zeroed() };
        group.name = name.as_char_ptr();
        group.attrs = list as *const AttributeList<N> as *mut *mut bindings::attribute;
        Self { group }
    }
}

/// The NULL-terminated list of one group that `device_add_disk` takes.
#[repr(C)]
pub(crate) struct AttributeGroups {
    group: *const bindings::attribute_group,
    end: *const bindings::attribute_group,
}

// SAFETY: Immutable pointers to immutable statics.
unsafe impl Sync for AttributeGroups {}

impl AttributeGroups {
    /// The list holding `group`.
    pub(crate) const fn new(group: &'static AttributeGroup) -> Self {
        Self {
            group: &group.group,
            end: ptr::null(),
        }
    }
}

/// `show` of every [`DiskAttribute`].
///
/// # Safety
///
/// Called by sysfs for an attribute made by `DiskAttribute::new::<T>` on a disk of `Disk<T>`,
/// with `buf` a page.
unsafe extern "C" fn show_callback<T: DiskOps>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: The attribute belongs to a disk's device, embedded in its `block_device`
    // (`dev_to_disk()`); sysfs keeps the disk alive during the call. `attr` is a
    // `DiskAttribute` (transparent). `buf` is a page we may fill.
    let (shared, attr, page) = unsafe {
        let bdev = kernel::container_of!(dev, bindings::block_device, bd_device);
        (
            DiskShared::<T>::from_disk((*bdev).bd_disk),
            &*(attr as *const DiskAttribute),
            core::slice::from_raw_parts_mut(buf as *mut u8, bindings::PAGE_SIZE),
        )
    };
    let mut out = SysfsBuffer { buf: page, len: 0 };
    match T::show(&shared.data, attr, &mut out) {
        Ok(()) => out.len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Limits and properties of a new [`Disk`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct DiskParams {
    /// Logical = physical block size = minimum I/O size, in bytes.
    pub(crate) block_size: u32,
    /// Required memory alignment of data buffers, minus one.
    pub(crate) dma_alignment: u32,
    /// Capacity in 512-byte sectors.
    pub(crate) capacity_sectors: u64,
    /// Whether the disk rejects writes.
    pub(crate) read_only: bool,
    /// Whether partitions are scanned and shown.
    pub(crate) partscan: bool,
    /// Whether the backing device spins.
    pub(crate) rotational: bool,
}

/// A borrowed gendisk.
///
/// # Invariants
///
/// `disk` points to a live gendisk for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct DiskRef<'a> {
    disk: NonNull<bindings::gendisk>,
    _p: PhantomData<&'a bindings::gendisk>,
}

impl DiskRef<'_> {
    /// # Safety
    ///
    /// `disk` must be live for the returned lifetime.
    unsafe fn from_raw(disk: *mut bindings::gendisk) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            // SAFETY: The caller passes a live disk, which is not null.
            disk: unsafe { NonNull::new_unchecked(disk) },
            _p: PhantomData,
        }
    }

    fn raw(&self) -> *mut bindings::gendisk {
        self.disk.as_ptr()
    }

    /// How many times the disk is open (`disk_openers()`).
    pub(crate) fn openers(&self) -> u32 {
        // SAFETY: The disk and its whole-disk device are live; `bd_openers` is an atomic_t
        // read with a single volatile load, as `atomic_read()` does.
        let n = unsafe { ptr::read_volatile(&raw const (*(*self.raw()).part0).bd_openers.counter) };
        n.try_into().unwrap_or(0)
    }

    /// Runs `f` with the disk's `open_mutex` held, so no open or release runs meanwhile.
    pub(crate) fn with_open_mutex<R>(&self, f: impl FnOnce(&Self) -> R) -> R {
        // SAFETY: The disk is live; `open_mutex` is initialised at allocation.
        unsafe { bindings::mutex_lock(&raw mut (*self.raw()).open_mutex) };
        let _unlock = ScopeGuard::new(|| {
            // SAFETY: We locked it above.
            unsafe { bindings::mutex_unlock(&raw mut (*self.raw()).open_mutex) };
        });
        f(self)
    }

    /// Stops advertising discard (`max_hw_discard_sectors = 0`).
    pub(crate) fn disable_discard(&self) -> Result {
        self.update_limits(|lim| {
            lim.max_hw_discard_sectors = 0;
            lim.discard_granularity = 0;
        })
    }

    /// Stops advertising write-zeroes.
    pub(crate) fn disable_write_zeroes(&self) -> Result {
        self.update_limits(|lim| lim.max_write_zeroes_sectors = 0)
    }

    /// Sets the capacity and tells user space (a `RESIZE=1` change uevent).
    pub(crate) fn set_capacity_and_notify(&self, sectors: u64) {
        // SAFETY: The disk is live.
        unsafe { bindings::set_capacity_and_notify(self.raw(), sectors) };
    }

    fn update_limits(&self, f: impl FnOnce(&mut bindings::queue_limits)) -> Result {
        // `queue_limits_start_update()`, a static inline in
        // [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h): lock, then copy.
        // SAFETY: The disk and its queue are live; `queue_limits_commit_update` unlocks
        // `limits_lock` whatever it returns.
        unsafe {
            let q = (*self.raw()).queue;
            bindings::mutex_lock(&raw mut (*q).limits_lock);
            let mut lim = (*q).limits;
            f(&mut lim);
            to_result(bindings::queue_limits_commit_update(q, &mut lim))
        }
    }
}

/// A bio-based gendisk (`submit_bio`, no request queue) with a driver's [`DiskOps`].
///
/// # Invariants
///
/// `disk` was allocated by `__blk_alloc_disk`, added by `device_add_disk`, has `fops` =
/// `&Self::FOPS` and `private_data` pointing to a pinned `DiskShared<T>` owned by the disk
/// (freed by `free_disk_callback`). This handle holds the disk's reference and the
/// `DiskShared`'s base in-flight reference.
pub(crate) struct Disk<T: DiskOps> {
    disk: NonNull<bindings::gendisk>,
    _p: PhantomData<T>,
}

// SAFETY: The gendisk may be deleted from any thread; `T::Data` is `Send + Sync`.
unsafe impl<T: DiskOps> Send for Disk<T> {}
// SAFETY: Shared access only reads or uses the gendisk's own locking.
unsafe impl<T: DiskOps> Sync for Disk<T> {}

impl<T: DiskOps> Disk<T> {
    const FOPS: bindings::block_device_operations = bindings::block_device_operations {
        submit_bio: Some(submit_bio_callback::<T>),
        open: Some(open_callback::<T>),
        release: Some(release_callback::<T>),
        free_disk: Some(free_disk_callback::<T>),
        ioctl: Some(ioctl_callback::<T>),
        // The commands take integers, not pointers: no translation needed.
        compat_ioctl: Some(ioctl_callback::<T>),
        // An open disk pins the module.
        owner: &raw mut bindings::__this_module,
        // SAFETY: All zeroes is "no callback" for the remaining members.
        ..unsafe { core::mem::zeroed() }
    };

    /// Allocates a disk with `params`, names it `name`, gives it `data` and the sysfs
    /// `groups`, and adds it: from here on it can be opened and receive bios.
    pub(crate) fn new(
        name: fmt::Arguments<'_>,
        params: &DiskParams,
        data: T::Data,
        groups: &'static AttributeGroups,
    ) -> Result<Self> {
        let shared = KBox::pin_init(DiskShared::<T>::new(data), GFP_KERNEL)?;

        // SAFETY: `queue_limits` is plain data; all zeroes means "defaults".
        let mut lim: bindings::queue_limits = unsafe { core::mem::zeroed() };
        lim.logical_block_size = params.block_size;
        lim.physical_block_size = params.block_size;
        lim.io_min = params.block_size;
        lim.dma_alignment = params.dma_alignment;
        // The file's direct-I/O path takes any size and any number of segments, and nobody
        // splits bios for a bio-based driver: advertise that, so 1 MiB I/O arrives whole.
        lim.max_hw_sectors = u32::MAX >> 9;
        lim.max_segments = u16::MAX;
        lim.max_segment_size = u32::MAX;
        lim.max_hw_discard_sectors = u32::MAX >> 9;
        lim.discard_granularity = params.block_size;
        lim.max_write_zeroes_sectors = u32::MAX >> 9;
        lim.features = BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA | BLK_FEAT_NOWAIT | BLK_FEAT_IO_STAT;
        if params.rotational {
            lim.features |= BLK_FEAT_ROTATIONAL;
        }

        // SAFETY: `lim` is a valid `queue_limits`; the lock class key is static.
        let disk = from_err_ptr(unsafe {
            bindings::__blk_alloc_disk(
                &mut lim,
                bindings::NUMA_NO_NODE,
                lock_class_ptr(static_lock_class!()),
            )
        })?;
        let put_on_error = ScopeGuard::new_with_data(disk, |disk| {
            // SAFETY: The disk was allocated above and not added: `put_disk` frees it without
            // calling `free_disk`.
            unsafe { bindings::put_disk(disk) };
        });

        // SAFETY: The disk is live and not yet visible to anyone else.
        unsafe {
            (*disk).fops = &Self::FOPS;
            if !params.partscan {
                (*disk).flags |= GENHD_FL_NO_PART;
            }
            write_c_name(&mut (*disk).disk_name, name)?;
            bindings::set_capacity(disk, params.capacity_sectors);
            bindings::set_disk_ro(disk, params.read_only);
        }

        // SAFETY: The pinned `DiskShared` is never moved: it is only reached through this
        // pointer until `free_disk_callback` rebuilds the box to drop it.
        let shared = KBox::into_raw(unsafe { Pin::into_inner_unchecked(shared) });
        // SAFETY: The disk is live and not yet added.
        unsafe { (*disk).private_data = shared as *mut c_void };
        let free_shared_on_error = ScopeGuard::new(|| {
            // SAFETY: `device_add_disk` failed, so the disk never calls `free_disk`: the
            // `DiskShared` is still ours.
            drop(unsafe { KBox::from_raw(shared) });
        });

        // SAFETY: The disk is fully set up; `groups` is a static NULL-terminated list.
        to_result(unsafe {
            bindings::device_add_disk(
                ptr::null_mut(),
                disk,
                groups as *const AttributeGroups as *mut *const bindings::attribute_group,
            )
        })?;
        free_shared_on_error.dismiss();
        put_on_error.dismiss();
        // INVARIANT: The disk was added with our fops and `DiskShared`.
        Ok(Self {
            // SAFETY: `from_err_ptr` succeeded, so `disk` is not null.
            disk: unsafe { NonNull::new_unchecked(disk) },
            _p: PhantomData,
        })
    }

    /// The disk as a [`DiskRef`].
    pub(crate) fn as_ref(&self) -> DiskRef<'_> {
        // SAFETY: The disk is live while `self` is.
        unsafe { DiskRef::from_raw(self.disk.as_ptr()) }
    }
}

impl<T: DiskOps> Drop for Disk<T> {
    /// Deletes the disk, waits until every bio it received has ended, then drops our reference.
    fn drop(&mut self) {
        let disk = self.disk.as_ptr();
        // SAFETY: The disk is live and added. `del_gendisk` waits for running `submit_bio`
        // calls and fails later ones, so no bio reference is taken after it.
        let shared = unsafe {
            bindings::del_gendisk(disk);
            DiskShared::<T>::from_disk(disk)
        };
        if shared.inflight.fetch_sub(1, Ordering::AcqRel) != 1 {
            // SAFETY: `drained` is initialised and completed by the last `put`.
            unsafe { bindings::wait_for_completion(shared.drained.get()) };
        }
        // SAFETY: No bio of the disk is left; this drops the reference `Disk::new` got.
        unsafe { bindings::put_disk(disk) };
    }
}

/// Writes `name` NUL-terminated into `dst`; `EINVAL` if it does not fit.
fn write_c_name(dst: &mut [c_char], name: fmt::Arguments<'_>) -> Result {
    struct Writer<'a> {
        dst: &'a mut [c_char],
        len: usize,
    }
    impl fmt::Write for Writer<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for &b in s.as_bytes() {
                // Keep one byte for the NUL.
                if self.len + 1 >= self.dst.len() {
                    return Err(fmt::Error);
                }
                self.dst[self.len] = b as c_char;
                self.len += 1;
            }
            Ok(())
        }
    }
    let mut w = Writer { dst, len: 0 };
    fmt::write(&mut w, name).map_err(|_| EINVAL)?;
    w.dst[w.len] = 0;
    Ok(())
}

/// # Safety
///
/// Called by the block layer with a live bio of a `Disk<T>`, which is live during the call.
unsafe extern "C" fn submit_bio_callback<T: DiskOps>(bio: *mut bindings::bio) {
    // SAFETY: The bio's disk is a live `Disk<T>`.
    let shared = unsafe { DiskShared::<T>::from_disk((*(*bio).bi_bdev).bd_disk) };
    shared.inflight.fetch_add(1, Ordering::Relaxed);
    // SAFETY: The bio is now ours and counted in the disk's in-flight count.
    let bio = unsafe { Bio::<T>::from_raw(bio, false, 0) };
    T::submit_bio(&shared.data, bio);
}

/// # Safety
///
/// Called by the block layer with a live `Disk<T>` and its `open_mutex` held.
unsafe extern "C" fn open_callback<T: DiskOps>(
    disk: *mut bindings::gendisk,
    _mode: bindings::blk_mode_t,
) -> c_int {
    // SAFETY: The disk is a live `Disk<T>` for the call.
    let (shared, disk) = unsafe { (DiskShared::<T>::from_disk(disk), DiskRef::from_raw(disk)) };
    match T::open(&shared.data, disk) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the block layer with a live `Disk<T>` and its `open_mutex` held.
unsafe extern "C" fn release_callback<T: DiskOps>(disk: *mut bindings::gendisk) {
    // SAFETY: The disk is a live `Disk<T>` for the call.
    let (shared, disk) = unsafe { (DiskShared::<T>::from_disk(disk), DiskRef::from_raw(disk)) };
    T::release(&shared.data, disk);
}

/// # Safety
///
/// Called by the block layer for an open device of a live `Disk<T>`.
unsafe extern "C" fn ioctl_callback<T: DiskOps>(
    bdev: *mut bindings::block_device,
    _mode: bindings::blk_mode_t,
    cmd: c_uint,
    arg: c_ulong,
) -> c_int {
    // SAFETY: The device is open, so it and its disk, a `Disk<T>`, are live for the call.
    let (shared, disk) = unsafe {
        let disk = (*bdev).bd_disk;
        (DiskShared::<T>::from_disk(disk), DiskRef::from_raw(disk))
    };
    match T::ioctl(&shared.data, disk, cmd, arg as usize) {
        Ok(v) => v,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called once by `disk_release` for an added `Disk<T>`, when the last reference goes.
unsafe extern "C" fn free_disk_callback<T: DiskOps>(disk: *mut bindings::gendisk) {
    // SAFETY: `private_data` is the `DiskShared<T>` box `Disk::new` leaked; nothing uses it
    // any more.
    unsafe {
        let shared = (*disk).private_data as *mut DiskShared<T>;
        (*disk).private_data = ptr::null_mut();
        drop(KBox::from_raw(shared));
    }
}

/// The ioctl handler of a [`ControlDev`].
pub(crate) trait ControlOps: Sized + 'static {
    /// Data the handler gets.
    type Data: Send + Sync;

    /// `ioctl(cmd, arg)` on the control node.
    fn ioctl(data: &Self::Data, cmd: u32, arg: usize) -> Result<i32>;
}

/// The data of the one [`ControlDev`]: the ioctl callback has nothing but the file to go on.
static CONTROL_DATA: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// A character device node (`/dev/<name>`, mode 0600) whose ioctls go to `T`. A module has at
/// most one.
///
/// # Invariants
///
/// `major` is a registered chrdev major with `Self::FOPS`; `class` a live class with a device
/// for it; `CONTROL_DATA` points to a leaked `KBox<T::Data>` owned by this value.
pub(crate) struct ControlDev<T: ControlOps> {
    major: c_uint,
    class: *mut bindings::class,
    name: &'static CStr,
    _p: PhantomData<T>,
}

// SAFETY: Registration handles may be dropped on any thread.
unsafe impl<T: ControlOps> Send for ControlDev<T> {}
// SAFETY: No shared-reference method.
unsafe impl<T: ControlOps> Sync for ControlDev<T> {}

/// `struct file_operations` of the control node; a const so it can name `T`, promoted to a
/// static where its address is taken.
struct ControlFops<T>(PhantomData<T>);

impl<T: ControlOps> ControlFops<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        // The module stays loaded while the node is open.
        owner: &raw mut bindings::__this_module,
        unlocked_ioctl: Some(control_ioctl_callback::<T>),
        compat_ioctl: Some(bindings::compat_ptr_ioctl),
        llseek: Some(bindings::noop_llseek),
        // SAFETY: All zeroes is "no callback" for the remaining members.
        ..unsafe { core::mem::zeroed() }
    };
}

impl<T: ControlOps> ControlDev<T> {
    /// Creates `/dev/<name>` (through devtmpfs or udev) and a class of the same name.
    pub(crate) fn new(name: &'static CStr, data: T::Data) -> Result<Self> {
        let data = KBox::into_raw(KBox::new(data, GFP_KERNEL)?);
        let free_data = ScopeGuard::new(|| {
            // SAFETY: `data` came from `Box::into_raw` and is not published.
            drop(unsafe { KBox::from_raw(data) });
        });
        if CONTROL_DATA
            .compare_exchange(
                ptr::null_mut(),
                data as *mut c_void,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(EBUSY);
        }
        let unpublish = ScopeGuard::new(|| CONTROL_DATA.store(ptr::null_mut(), Ordering::Release));

        // SAFETY: `FOPS` is promoted to a static; `name` is static.
        let major = unsafe {
            bindings::__register_chrdev(0, 0, 1, name.as_char_ptr(), &ControlFops::<T>::FOPS)
        };
        let major = c_uint::try_from(major).map_err(|_| Error::from_errno(major))?;
        let unregister = ScopeGuard::new(|| {
            // SAFETY: Registered above.
            unsafe { bindings::__unregister_chrdev(major, 0, 1, name.as_char_ptr()) };
        });
        // SAFETY: `name` is static.
        let class = from_err_ptr(unsafe { bindings::class_create(name.as_char_ptr()) })?;
        let destroy_class = ScopeGuard::new(|| {
            // SAFETY: Created above.
            unsafe { bindings::class_destroy(class) };
        });
        // SAFETY: `class` is live; the format is `"%s"` with one static string.
        from_err_ptr(unsafe {
            bindings::device_create(
                class,
                ptr::null_mut(),
                mkdev(major, 0),
                ptr::null_mut(),
                c_str!("%s").as_char_ptr(),
                name.as_char_ptr(),
            )
        })?;
        destroy_class.dismiss();
        unregister.dismiss();
        unpublish.dismiss();
        free_data.dismiss();
        // INVARIANT: Everything is registered and `CONTROL_DATA` holds our data.
        Ok(Self {
            major,
            class,
            name,
            _p: PhantomData,
        })
    }
}

impl<T: ControlOps> Drop for ControlDev<T> {
    fn drop(&mut self) {
        // SAFETY: All were set up in `new`. No ioctl can run any more: the node is gone and
        // an open node would pin the module, so its exit (the only drop site) could not run.
        unsafe {
            bindings::device_destroy(self.class, mkdev(self.major, 0));
            bindings::class_destroy(self.class);
            bindings::__unregister_chrdev(self.major, 0, 1, self.name.as_char_ptr());
            let data = CONTROL_DATA.swap(ptr::null_mut(), Ordering::AcqRel) as *mut T::Data;
            drop(KBox::from_raw(data));
        }
    }
}

/// # Safety
///
/// Called by the VFS for an open control node of a live `ControlDev<T>`.
unsafe extern "C" fn control_ioctl_callback<T: ControlOps>(
    _file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    let data = CONTROL_DATA.load(Ordering::Acquire) as *const T::Data;
    if data.is_null() {
        return ENXIO.to_errno() as c_long;
    }
    // SAFETY: `CONTROL_DATA` holds the live `ControlDev<T>`'s data (see its `Drop`).
    let data = unsafe { &*data };
    match T::ioctl(data, cmd, arg as usize) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}
