// SPDX-License-Identifier: GPL-2.0

//! Direct I/O of a bio's data on a [`BackingFile`]: a `kiocb` with `IOCB_DIRECT` and an
//! `iov_iter` over the bio's own vector, through the file's `read_iter`/`write_iter`, as
//! loop's `lo_rw_aio()` does. The per-I/O context comes from an [`IoPool`].
//!
//! A bio whose submitter polls (`REQ_POLLED`) is issued with `IOCB_HIPRI` when the file can
//! be polled, and [`IoPool::poll`] drives the file's `iopoll` for it: the completion then
//! happens in the polling task, with no interrupt and no wake-up on the way back.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h),
//! [`include/linux/uio.h`](srctree/include/linux/uio.h).

use super::{AttachedFile, FileUse};
use crate::bindings_ext::{
    rloop_helper_file_iopoll, rloop_helper_file_read_iter, rloop_helper_file_write_iter,
    rloop_helper_kiocb_end_write, rloop_helper_kiocb_start_write, rloop_helper_kmem_cache_create,
    rloop_helper_mempool_alloc, rloop_helper_mempool_create_slab_pool, rloop_helper_rcu_read_lock,
    rloop_helper_rcu_read_unlock, EIOCBQUEUED, GFP_NOIO, IOCB_DSYNC, IOCB_HIPRI,
    SLAB_HWCACHE_ALIGN,
};
use crate::block::{Bio, BioKey, Operations, PollCtx};
use crate::file_pos::FilePos;
use crate::kernel_extras::{new_irq_spinlock, IrqSpinLock};
use core::{
    marker::PhantomData,
    pin::Pin,
    ptr::{self, NonNull},
    sync::atomic::{AtomicIsize, AtomicUsize, Ordering},
};
use kernel::{
    bindings,
    ffi::{c_int, c_long, c_uint},
    prelude::*,
    str::CStr,
    sync::Arc,
};

/// The driver side of direct I/O: where a disk's contexts come from, and who gets the bio
/// back when the file is done with it.
pub(crate) trait Completion: Operations {
    /// The pool of the disk whose data is `data`. [`IoPool::submit`] takes a bio's contexts
    /// from the pool of the bio's own disk: the pool lives as long as the disk's data, which
    /// outlives every bio of the disk, so no context outlives its pool.
    fn io_pool(data: &Self::Data) -> &IoPool<Self>;

    /// The backing file of the disk whose data is `data`, which [`IoPool::submit`] reads or
    /// writes a bio of the disk on, holding a use of it until the I/O is done.
    fn backing_file(data: &Self::Data) -> &AttachedFile;

    /// A read or write from [`IoPool::submit`] finished with `result`: the bytes
    /// transferred or a negative errno. Runs in whatever context the file system completes
    /// in, interrupt context included.
    fn direct_io_done(bio: Bio<Self>, result: isize);
}

/// What a direct I/O does with the bio's data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DirectOp {
    /// Read the file into it.
    Read,
    /// Write it to the file.
    Write,
    /// Write it, durable when done (`IOCB_DSYNC`: the file system syncs this range and
    /// the metadata it needs, not the whole file).
    WriteDsync,
}

impl DirectOp {
    fn writes(self) -> bool {
        self != DirectOp::Read
    }
}

/// The per-I/O context: the `kiocb`, the iterator over the bio's vector and the bio.
///
/// References (`refs`): one for `ki_complete`, one for the submitter, and one for each
/// [`IoPool::poll`] in progress. File systems touch the iocb after `read_iter` returned
/// `-EIOCBQUEUED` (ext4's `file_accessed(iocb->ki_filp)`), possibly after `ki_complete` ran,
/// and a poller passes it to the file's `iopoll`, so the context lives until all are done, as
/// loop's `cmd->ref` does.
///
/// # Invariants
///
/// `iocb` is the first field (`ki_complete` finds the context from it); `pool` is the live
/// mempool the context came from and `polled` the live table of its [`IoPool`]; `file` holds a
/// raw use of the bio's disk's file until `finish`; `bio` is `Some` until
/// [`DirectIo::finish`]; if `poll_slot` is `Some(i)`, slot `i` of `polled` holds
/// this context until `finish` empties it.
#[repr(C)]
struct DirectIo<T: Completion> {
    iocb: bindings::kiocb,
    iter: bindings::iov_iter,
    /// A use of the file, held until the I/O is done: `ki_filp` is used until then.
    file: NonNull<AttachedFile>,
    bio: Option<Bio<T>>,
    op: DirectOp,
    pool: NonNull<bindings::mempool_t>,
    polled: NonNull<PollTableLock<T>>,
    poll_slot: Option<usize>,
    refs: AtomicUsize,
    ret: AtomicIsize,
}

impl<T: Completion> DirectIo<T> {
    /// `ki_complete`: may run in interrupt context, before or after `submit` returns.
    ///
    /// # Safety
    ///
    /// `iocb` must be the `iocb` of a `DirectIo<T>` whose I/O was queued (`-EIOCBQUEUED`),
    /// completed once.
    unsafe extern "C" fn complete_callback(iocb: *mut bindings::kiocb, ret: c_long) {
        let io = iocb.cast::<Self>();
        // SAFETY: `iocb` is the first field of a `repr(C)` `DirectIo<T>` (caller's guarantee)
        // whose completion reference we now own.
        unsafe {
            (*io).ret.store(ret, Ordering::Relaxed);
            Self::put(io, 1);
        }
    }

    /// Takes a reference unless the last one is gone (the context is being finished).
    fn try_get(&self) -> bool {
        self.refs
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |r| {
                r.checked_add(1).filter(|_| r > 0)
            })
            .is_ok()
    }

    /// Drops `n` references; the last one finishes the I/O.
    ///
    /// # Safety
    ///
    /// `io` must be live and the caller must own `n` of its references.
    unsafe fn put(io: *mut Self, n: usize) {
        // SAFETY: The caller owns a reference, so `io` is live. `AcqRel` makes the other
        // side's `ret` visible to whoever finishes.
        if unsafe { (*io).refs.fetch_sub(n, Ordering::AcqRel) } == n {
            // SAFETY: That was the last reference.
            unsafe { Self::finish(io) };
        }
    }

    /// Ends freeze protection, frees the context and hands the bio back to the driver.
    ///
    /// # Safety
    ///
    /// Nothing else may use `io` any more.
    unsafe fn finish(io: *mut Self) {
        // SAFETY: `io` is ours alone. `kiocb_end_write` pairs the `kiocb_start_write` of
        // `submit`; the context holds a use of the file. The element and the use go back
        // before the bio is handed on: ending the last bio may free the pool and the file's
        // `AttachedFile`.
        let (bio, ret) = unsafe {
            if (*io).op.writes() {
                rloop_helper_kiocb_end_write(&raw mut (*io).iocb);
            }
            // No poller finds the context any more once its slot is empty; one that found
            // it before holds a reference, so it is not here.
            if let Some(slot) = (*io).poll_slot {
                (*io).polled.as_ref().lock().slots[slot] = None;
            }
            let bio = (*io).bio.take();
            let ret = (*io).ret.load(Ordering::Relaxed);
            let pool = (*io).pool;
            let file = (*io).file;
            ptr::drop_in_place(io);
            bindings::mempool_free(io.cast(), pool.as_ptr());
            AttachedFile::put_raw(file);
            (bio, ret)
        };
        if let Some(bio) = bio {
            // The file system may complete the I/O in a context module exit cannot wait for
            // (a work item of its own, say), and ending the bio can let the disk, and with it
            // the module, go: module exit waits for the disk's bios, and then `free_module`
            // for a grace period (`synchronize_rcu`) before it frees the module's text. So
            // the rest of the completion is an RCU read-side section: the text outlives it
            // but for the return from the unlock, the window every module that lets itself
            // go from its own code has (kthreads close it with
            // `module_put_and_kthread_exit`; a completion has no such exit).
            // SAFETY: Balanced below; `direct_io_done` ends the bio, which must not sleep.
            unsafe { rloop_helper_rcu_read_lock() };
            T::direct_io_done(bio, ret);
            // SAFETY: Taken above, in this task.
            unsafe { rloop_helper_rcu_read_unlock() };
        }
    }
}

/// The slab cache the per-I/O contexts of every [`IoPool<T>`] come from.
///
/// # Invariants
///
/// `cache` is a live slab cache of objects the size of `DirectIo<T>`, destroyed on drop.
pub(crate) struct IoCache<T: Completion> {
    cache: NonNull<bindings::kmem_cache>,
    _p: PhantomData<T>,
}

// SAFETY: Slab caches are used from any thread and context.
unsafe impl<T: Completion> Send for IoCache<T> {}
// SAFETY: Slab caches are used from any thread and context.
unsafe impl<T: Completion> Sync for IoCache<T> {}

impl<T: Completion> IoCache<T> {
    /// Creates the cache, named `name` in `/proc/slabinfo`.
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        let size = c_uint::try_from(core::mem::size_of::<DirectIo<T>>()).map_err(|_| EINVAL)?;
        // SAFETY: `name` is static.
        let cache =
            unsafe { rloop_helper_kmem_cache_create(name.as_char_ptr(), size, SLAB_HWCACHE_ALIGN) };
        // INVARIANT: A non-null return is a live cache of `DirectIo<T>`-sized objects.
        Ok(Self {
            cache: NonNull::new(cache).ok_or(ENOMEM)?,
            _p: PhantomData,
        })
    }
}

impl<T: Completion> Drop for IoCache<T> {
    fn drop(&mut self) {
        // SAFETY: The cache is live; every pool holds an `Arc` of it and gives its objects
        // back before it drops that, so no object is out.
        unsafe { bindings::kmem_cache_destroy(self.cache.as_ptr()) };
    }
}

/// Per-I/O contexts with a reserve, so that reads and writes make progress under memory
/// pressure, as a device on the writeback path must.
///
/// # Invariants
///
/// `pool` is a live mempool over the cache of `_cache`.
pub(crate) struct IoPool<T: Completion> {
    pool: NonNull<bindings::mempool_t>,
    // Dropped after `pool` (declaration order): the pool gives its reserve back to it.
    _cache: Arc<IoCache<T>>,
    /// The polled I/Os in flight, for [`IoPool::poll`] to find.
    polled: Pin<KBox<PollTableLock<T>>>,
}

/// How many polled I/Os of one pool can be in flight at once; more are issued unpolled and
/// complete the usual way. io_uring's default queue depth is well below.
const POLL_SLOTS: usize = 64;

/// The polled I/Os of a pool in flight, by the key of their bio. An interrupt may complete
/// an I/O (a backing device without poll queues), so the lock keeps interrupts off.
type PollTableLock<T> = IrqSpinLock<PollTable<T>>;

/// See [`PollTableLock`].
struct PollTable<T: Completion> {
    slots: [Option<(BioKey, NonNull<DirectIo<T>>)>; POLL_SLOTS],
}

// SAFETY: The table only holds addresses of contexts, used by whoever holds the lock.
unsafe impl<T: Completion> Send for PollTable<T> {}

// SAFETY: mempools are used from any thread and context.
unsafe impl<T: Completion> Send for IoPool<T> {}
// SAFETY: mempools are used from any thread and context.
unsafe impl<T: Completion> Sync for IoPool<T> {}

impl<T: Completion> IoPool<T> {
    /// A pool of contexts from `cache`, holding `reserved` of them in reserve.
    pub(crate) fn new(cache: &Arc<IoCache<T>>, reserved: u32) -> Result<Self> {
        let reserved = c_int::try_from(reserved).map_err(|_| EINVAL)?;
        // SAFETY: The cache is live, and outlives the pool, which holds an `Arc` of it.
        let pool = unsafe { rloop_helper_mempool_create_slab_pool(reserved, cache.cache.as_ptr()) };
        let pool = NonNull::new(pool).ok_or(ENOMEM)?;
        let destroy_on_error = kernel::types::ScopeGuard::new(|| {
            // SAFETY: The pool was just created and nothing uses it.
            unsafe { bindings::mempool_destroy(pool.as_ptr()) }
        });
        let polled = KBox::pin_init(
            new_irq_spinlock!(
                PollTable {
                    slots: [None; POLL_SLOTS],
                },
                "rloop::polled"
            ),
            GFP_KERNEL,
        )?;
        destroy_on_error.dismiss();
        // INVARIANT: The pool was created over `cache`.
        Ok(Self {
            pool,
            _cache: cache.clone(),
            polled,
        })
    }

    /// Polls the file for the I/O of the bio `key`, if it is one of this pool's polled I/Os
    /// in flight: the file's `iopoll` may complete it, here. Returns what `iopoll` found (0
    /// if the bio is not in flight here: not issued yet, issued unpolled or done).
    pub(crate) fn poll(&self, key: BioKey, ctx: PollCtx<'_>) -> u32 {
        let found = self
            .polled
            .lock()
            .slots
            .iter()
            .flatten()
            .find(|(k, _)| *k == key)
            // SAFETY: A context in the table is live: `finish` empties its slot, under the
            // lock, before freeing it.
            .filter(|(_, io)| unsafe { io.as_ref() }.try_get())
            .map(|&(_, io)| io.as_ptr());
        let Some(io) = found else {
            return 0;
        };
        let (iob, flags) = ctx.as_raw();
        // SAFETY: We hold a reference, so the context, its iocb and its file are live; the
        // batch is the block layer's for this poll (`PollCtx`). `iopoll` does not sleep (the
        // block layer's spins), as `poll_bio` must not.
        let found = unsafe {
            let found =
                rloop_helper_file_iopoll((*io).iocb.ki_filp, &raw mut (*io).iocb, iob, flags);
            DirectIo::put(io, 1);
            found
        };
        u32::try_from(found).unwrap_or(0)
    }

    /// Reads or writes the bio's data at `pos` of the backing file of the bio's disk
    /// ([`Completion::backing_file`]) with direct I/O, through the file's
    /// `read_iter`/`write_iter`, using the bio's own vector and a context from the pool of the
    /// bio's disk ([`Completion::io_pool`]). [`Completion::direct_io_done`] gets the bio back,
    /// from this call or from the file system's completion: with `EIO` if the file was let go.
    ///
    /// A write holds the file system's freeze protection (`kiocb_start_write`) until it
    /// completes: on a frozen file system it waits here for the thaw.
    pub(crate) fn submit(bio: Bio<T>, pos: FilePos, op: DirectOp) {
        // Live while the bio is, which the context holds until it has given its element and
        // its use of the file back and left the table.
        let (pool, polled, file) = {
            let data = bio.disk_data();
            let pool = T::io_pool(data);
            let file = T::backing_file(data).get().map(FileUse::into_raw);
            (pool.pool, NonNull::from(&*pool.polled), file)
        };
        let Some(file) = file else {
            return T::direct_io_done(bio, EIO.to_errno() as isize);
        };
        // SAFETY: The pool is live. With `__GFP_DIRECT_RECLAIM` in `GFP_NOIO`, `mempool_alloc`
        // waits for an element rather than fail.
        let io = unsafe { rloop_helper_mempool_alloc(pool.as_ptr(), GFP_NOIO) };
        let Some(io) = NonNull::new(io.cast::<DirectIo<T>>()) else {
            // SAFETY: The use taken above, given back once.
            unsafe { AttachedFile::put_raw(file) };
            return T::direct_io_done(bio, ENOMEM.to_errno() as isize);
        };
        let io = io.as_ptr();
        let data = bio.bvec_array();
        let ioprio = bio.ioprio();
        let key = bio.key();
        // SAFETY: We hold a use of the file, which the context keeps until `finish`.
        let backing = unsafe { AttachedFile::raw_file(file) };
        let polled_io = bio.is_polled() && backing.can_iopoll();
        let f = backing.as_raw();
        // SAFETY: `io` is an element of `DirectIo<T>` size, ours until `finish` frees it; the
        // bio, moved into it, keeps its vector valid; `f` is live while the context's use of
        // the file is.
        let ret = unsafe {
            ptr::write(
                io,
                DirectIo {
                    // SAFETY: `kiocb` and `iov_iter` are plain data; all zeroes is "nothing".
                    iocb: core::mem::zeroed(),
                    iter: core::mem::zeroed(),
                    file,
                    bio: Some(bio),
                    op,
                    pool,
                    polled,
                    poll_slot: None,
                    refs: AtomicUsize::new(2),
                    ret: AtomicIsize::new(0),
                },
            );
            let iocb = &raw mut (*io).iocb;
            (*iocb).ki_filp = f;
            (*iocb).ki_pos = pos.get();
            (*iocb).ki_flags = bindings::IOCB_DIRECT as c_int
                | if op == DirectOp::WriteDsync {
                    IOCB_DSYNC
                } else {
                    0
                };
            (*iocb).ki_ioprio = ioprio;
            (*iocb).ki_complete = Some(DirectIo::<T>::complete_callback);
            // Published once the iocb is set up (the lock orders it for pollers) and before
            // the file sees the I/O: whoever polls the file's queue may complete it from then
            // on. Without a free slot the I/O goes unpolled.
            if polled_io {
                let mut table = polled.as_ref().lock();
                if let Some(i) = table.slots.iter().position(Option::is_none) {
                    table.slots[i] = Some((key, NonNull::new_unchecked(io)));
                    (*io).poll_slot = Some(i);
                    (*iocb).ki_flags |= IOCB_HIPRI;
                }
            }
            let iter = &raw mut (*io).iter;
            let dir = if op.writes() {
                bindings::ITER_SOURCE
            } else {
                bindings::ITER_DEST
            };
            // The iterator starts at the first entry the bio covers and skips what its
            // `bi_bvec_done` says is done: a bio split inside an entry (md raid0 does) starts
            // in the middle of it.
            bindings::iov_iter_bvec(iter, dir, data.first, data.nr_segs, data.skip + data.len);
            bindings::iov_iter_advance(iter, data.skip);
            if op.writes() {
                rloop_helper_kiocb_start_write(iocb);
                rloop_helper_file_write_iter(f, iocb, iter)
            } else {
                rloop_helper_file_read_iter(f, iocb, iter)
            }
        };
        // SAFETY: `io` is live: we still hold the submitter's reference.
        unsafe {
            if ret == EIOCBQUEUED {
                DirectIo::put(io, 1);
            } else {
                // Not queued: the file system will not call `ki_complete`, so its reference
                // is ours too. A poller may still hold one.
                (*io).ret.store(ret, Ordering::Relaxed);
                DirectIo::put(io, 2);
            }
        }
    }
}

impl<T: Completion> Drop for IoPool<T> {
    fn drop(&mut self) {
        // SAFETY: The pool is live and no element is out: each `DirectIo` goes back before
        // its bio is handed on, and only bios of the disk whose data holds the pool take
        // elements from it (`submit`), which the data outlives.
        unsafe { bindings::mempool_destroy(self.pool.as_ptr()) };
    }
}
