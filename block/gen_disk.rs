// SPDX-License-Identifier: GPL-2.0

//! Bio-based generic disks: [`GenDiskBuilder`] makes a [`GenDisk`] whose bios go straight to
//! the driver's [`Operations::submit_bio`], with no request queue, tag set or scheduler.
//!
//! The shape follows `rust/kernel/block/mq/gen_disk.rs`; what differs is what a bio-based
//! disk must do itself: count the bios it holds, so that deleting the disk can wait for them.
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).

use super::bio::{Bio, BioKey};
use super::disk_shared::DiskShared;
use super::fops::Fops;
use super::sysfs::AttributeGroups;
use crate::bindings_ext::{
    rloop_helper_disk_devt, rloop_helper_may_freeze_queue, rloop_helper_queue_limits_start_update,
    BLK_FEAT_FUA, BLK_FEAT_IO_STAT, BLK_FEAT_NOWAIT, BLK_FEAT_POLL, BLK_FEAT_WRITE_CACHE,
    BLK_OPEN_READ, BLK_OPEN_WRITE,
};
use crate::kernel_extras::{compat::lock_class_ptr, OwnedFile};
use core::{
    fmt::{self, Write},
    marker::PhantomData,
    ops::BitOr,
    pin::Pin,
    ptr::{self, NonNull},
};
use kernel::{
    bindings, build_error,
    error::{from_err_ptr, to_result, VTABLE_DEFAULT_ERROR},
    ffi::{c_int, c_uint, c_void},
    prelude::*,
    static_lock_class,
    types::ScopeGuard,
};

/// The operations of a bio-based disk: the driver side of a [`GenDisk`].
#[vtable]
pub(crate) trait Operations: Sized + 'static {
    /// Per-disk data, owned by the disk until it is freed.
    type Data: Send + Sync;

    /// A bio was submitted to the disk. Runs in the submitter's context, with
    /// `current->bio_list` active (bios submitted meanwhile are only queued); must not sleep
    /// if the bio has `REQ_NOWAIT` and the disk [`Features::NOWAIT`].
    fn submit_bio(data: &Self::Data, bio: Bio<Self>);

    /// The disk is being opened, with the disk's `open_mutex` held.
    fn open(_data: &Self::Data, _mode: OpenMode) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// An opener closed the disk, with the disk's `open_mutex` held.
    fn release(_data: &Self::Data) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// An ioctl on the disk that the block layer does not handle itself.
    fn ioctl(
        _data: &Self::Data,
        _disk: DiskRef<'_, Self>,
        _mode: OpenMode,
        _cmd: u32,
        _arg: usize,
    ) -> Result<i32> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// A submitter polls for the completion of `bio`, a bio of the disk marked with
    /// [`Bio::mark_pollable`]. Returns how many completions the call found; 0 if there was
    /// nothing to do (the bio may long have ended). Runs in the polling task's context,
    /// possibly under `rcu_read_lock()`: must not sleep.
    fn poll_bio(_data: &Self::Data, _bio: BioKey, _ctx: PollCtx<'_>) -> u32 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// What the block layer hands one poll (`struct io_comp_batch` and `BLK_POLL_*` flags), to be
/// passed on unchanged to the poll of whatever the driver issued the bio to.
///
/// Only `poll_bio_callback` makes one, for the duration of the call: it is neither `Copy`
/// nor `Clone`, and its lifetime ends with the callback.
///
/// # Invariants
///
/// `iob` is null or the block layer's live batch for this poll, for `'a`.
pub(crate) struct PollCtx<'a> {
    pub(super) iob: *mut bindings::io_comp_batch,
    pub(super) flags: c_uint,
    pub(super) _p: PhantomData<&'a mut bindings::io_comp_batch>,
}

impl PollCtx<'_> {
    /// The batch (null or live while `self` is) and the flags, for the `iopoll` of a file.
    pub(crate) fn as_raw(&self) -> (*mut bindings::io_comp_batch, c_uint) {
        (self.iob, self.flags)
    }
}

/// The mode a disk is opened or an ioctl issued with (`blk_mode_t`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpenMode(pub(super) bindings::blk_mode_t);

impl OpenMode {
    /// `BLK_OPEN_WRITE`: open for writing.
    pub(crate) fn can_write(self) -> bool {
        self.0 & BLK_OPEN_WRITE != 0
    }
}

/// Features of a disk's queue (`blk_features_t`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Features(u32);

impl Features {
    /// `BLK_FEAT_WRITE_CACHE`: the disk has a volatile cache and takes `REQ_PREFLUSH`.
    pub(crate) const WRITE_CACHE: Self = Self(BLK_FEAT_WRITE_CACHE);
    /// `BLK_FEAT_FUA`: the disk takes `REQ_FUA`.
    pub(crate) const FUA: Self = Self(BLK_FEAT_FUA);
    /// `BLK_FEAT_ROTATIONAL`: the medium spins.
    pub(crate) const ROTATIONAL: Self = Self(bindings::BLK_FEAT_ROTATIONAL);
    /// `BLK_FEAT_IO_STAT`: the disk counts its I/O (the driver calls
    /// [`Bio::start_io_acct`]).
    pub(crate) const IO_STAT: Self = Self(BLK_FEAT_IO_STAT);
    /// `BLK_FEAT_NOWAIT`: `submit_bio` honours `REQ_NOWAIT`.
    pub(crate) const NOWAIT: Self = Self(BLK_FEAT_NOWAIT);
    /// `BLK_FEAT_POLL`: the disk takes `REQ_POLLED` bios and implements
    /// [`Operations::poll_bio`].
    pub(crate) const POLL: Self = Self(BLK_FEAT_POLL);
}

impl BitOr for Features {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// A disk borrowed from a callback or a bio.
///
/// # Invariants
///
/// `disk` is a live gendisk made by [`GenDiskBuilder::build`] for `T`, for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct DiskRef<'a, T: Operations> {
    disk: NonNull<bindings::gendisk>,
    _p: PhantomData<(&'a bindings::gendisk, T)>,
}

impl<T: Operations> DiskRef<'_, T> {
    /// # Safety
    ///
    /// `disk` must be a gendisk of a `GenDisk<T>`, live for the returned lifetime.
    pub(super) unsafe fn from_raw(disk: *mut bindings::gendisk) -> Self {
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

    /// Sets the capacity and tells user space (a `RESIZE=1` change uevent).
    pub(crate) fn set_capacity_and_notify(&self, sectors: u64) {
        // SAFETY: The disk is live.
        unsafe { bindings::set_capacity_and_notify(self.raw(), sectors) };
    }

    /// Stops advertising discard.
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

    /// Changes the queue limits with the queue frozen, as `queue_limits_commit_update`'s
    /// contract asks of a live disk: nobody sees half of the change. Freezing a bio-based
    /// queue waits only for `submit_bio` calls in progress, never for the bios we hold; so
    /// from inside `submit_bio` (this task's or a stacked driver's, all of which keep
    /// `current->bio_list` set) it would wait for itself: `EDEADLK` there. It sleeps, so an
    /// atomic caller is a bug the kernel's `might_sleep()` reports.
    fn update_limits(&self, f: impl FnOnce(&mut bindings::queue_limits)) -> Result {
        // SAFETY: Only looks at the current task.
        if !unsafe { rloop_helper_may_freeze_queue() } {
            return Err(Error::from_errno(-(bindings::EDEADLK as i32)));
        }
        // SAFETY: The disk and its queue are live. `queue_limits_start_update` takes
        // `limits_lock`, which `queue_limits_commit_update_frozen` releases whatever it
        // returns, after freezing the queue for the commit and unfreezing it.
        unsafe {
            let q = (*self.raw()).queue;
            let mut lim = rloop_helper_queue_limits_start_update(q);
            f(&mut lim);
            to_result(bindings::queue_limits_commit_update_frozen(q, &mut lim))
        }
    }
}

/// How a disk answers 32-bit ioctls on a 64-bit kernel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CompatIoctl {
    /// The block layer's own ioctls only (`ENOIOCTLCMD` for the driver's).
    None,
    /// The driver's ioctls take integers, not pointers: [`Operations::ioctl`] serves both.
    SameAsNative,
}

/// A builder for a bio-based [`GenDisk`].
pub(crate) struct GenDiskBuilder {
    lim: bindings::queue_limits,
    capacity_sectors: u64,
    read_only: bool,
    partitions: bool,
    compat_ioctl: CompatIoctl,
}

impl GenDiskBuilder {
    /// A disk with the block layer's defaults: 512-byte blocks, no features, no capacity.
    pub(crate) fn new() -> Self {
        Self {
            // SAFETY: `queue_limits` is plain data; all zeroes asks for the defaults.
            lim: unsafe { core::mem::zeroed() },
            capacity_sectors: 0,
            read_only: false,
            partitions: false,
            compat_ioctl: CompatIoctl::None,
        }
    }

    /// Logical = physical block size = minimum I/O size: a power of two from 512 to
    /// `PAGE_SIZE`, else `EINVAL`.
    pub(crate) fn block_size(mut self, size: u32) -> Result<Self> {
        if !size.is_power_of_two() || !(512..=bindings::PAGE_SIZE as u32).contains(&size) {
            return Err(EINVAL);
        }
        self.lim.logical_block_size = size;
        self.lim.physical_block_size = size;
        self.lim.io_min = size;
        Ok(self)
    }

    /// The memory alignment data buffers need: a power of two.
    pub(crate) fn dma_alignment(mut self, align: u32) -> Result<Self> {
        if !align.is_power_of_two() {
            return Err(EINVAL);
        }
        self.lim.dma_alignment = align - 1;
        Ok(self)
    }

    /// The largest read or write, and its segments, the driver takes whole. Nobody splits
    /// bios for a bio-based disk: these are what upper layers size their I/O by.
    pub(crate) fn max_io(mut self, sectors: u32, segments: u16, segment_size: u32) -> Self {
        self.lim.max_hw_sectors = sectors;
        self.lim.max_segments = segments;
        self.lim.max_segment_size = segment_size;
        self
    }

    /// Takes discards of up to `sectors`, in units of `granularity` bytes.
    pub(crate) fn discard(mut self, sectors: u32, granularity: u32) -> Self {
        self.lim.max_hw_discard_sectors = sectors;
        self.lim.discard_granularity = granularity;
        self
    }

    /// Takes write-zeroes of up to `sectors`.
    pub(crate) fn write_zeroes(mut self, sectors: u32) -> Self {
        self.lim.max_write_zeroes_sectors = sectors;
        self
    }

    /// The queue's features.
    pub(crate) fn features(mut self, features: Features) -> Self {
        self.lim.features = features.0;
        self
    }

    /// The capacity in 512-byte sectors.
    pub(crate) fn capacity_sectors(mut self, sectors: u64) -> Self {
        self.capacity_sectors = sectors;
        self
    }

    /// Whether the disk refuses writes.
    pub(crate) fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Whether partitions are scanned and shown.
    pub(crate) fn partitions(mut self, partitions: bool) -> Self {
        self.partitions = partitions;
        self
    }

    /// How 32-bit ioctls are served.
    pub(crate) fn compat_ioctl(mut self, compat: CompatIoctl) -> Self {
        self.compat_ioctl = compat;
        self
    }

    /// Allocates the disk, names it `name`, gives it `data` and the sysfs `groups` and adds
    /// it: from here on it can be opened and receive bios.
    pub(crate) fn build<T: Operations>(
        mut self,
        name: fmt::Arguments<'_>,
        data: T::Data,
        groups: &'static AttributeGroups<T>,
    ) -> Result<GenDisk<T>> {
        let shared = KBox::pin_init(DiskShared::<T>::new(data), GFP_KERNEL)?;

        // SAFETY: `lim` is a valid `queue_limits`; the lock class key is static.
        let disk = from_err_ptr(unsafe {
            bindings::__blk_alloc_disk(
                &mut self.lim,
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
            (*disk).fops = match self.compat_ioctl {
                CompatIoctl::None => &Fops::<T>::NATIVE_IOCTL,
                CompatIoctl::SameAsNative => &Fops::<T>::SAME_COMPAT_IOCTL,
            };
            if !self.partitions {
                (*disk).flags |= bindings::GENHD_FL_NO_PART as c_int;
            }
            write_disk_name(&mut (*disk).disk_name, name)?;
            bindings::set_capacity(disk, self.capacity_sectors);
            bindings::set_disk_ro(disk, self.read_only);
        }

        // SAFETY: The pinned `DiskShared` is never moved: it is only reached through this
        // pointer until `free_disk_callback` rebuilds the box to drop it.
        let shared = KBox::into_raw(unsafe { Pin::into_inner_unchecked(shared) });
        // SAFETY: The disk is live and not yet added.
        unsafe { (*disk).private_data = shared.cast::<c_void>() };
        let free_shared_on_error = ScopeGuard::new(|| {
            // SAFETY: `device_add_disk` failed, so the disk never calls `free_disk`: the
            // `DiskShared` is still ours.
            drop(unsafe { KBox::from_raw(shared) });
        });

        // SAFETY: The disk is fully set up; `groups` is a static NULL-terminated list of
        // attributes made for `T`, whose `show` reads the `DiskShared<T>` set above.
        to_result(unsafe { bindings::device_add_disk(ptr::null_mut(), disk, groups.as_raw()) })?;
        free_shared_on_error.dismiss();
        put_on_error.dismiss();
        // INVARIANT: The disk was added with our fops and `DiskShared`.
        Ok(GenDisk {
            // SAFETY: `from_err_ptr` succeeded, so `disk` is not null.
            disk: unsafe { NonNull::new_unchecked(disk) },
            _p: PhantomData,
        })
    }
}

/// Writes `name` NUL-terminated into `dst`; `EINVAL` if it does not fit.
fn write_disk_name(dst: &mut [kernel::ffi::c_char], name: fmt::Arguments<'_>) -> Result {
    struct Writer<'a> {
        dst: &'a mut [kernel::ffi::c_char],
        len: usize,
    }
    impl Write for Writer<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for &b in s.as_bytes() {
                // Keep one byte for the NUL.
                let slot = self.dst.get_mut(self.len..self.len + 2).ok_or(fmt::Error)?;
                slot[0] = b as kernel::ffi::c_char;
                self.len += 1;
            }
            Ok(())
        }
    }
    let mut w = Writer { dst, len: 0 };
    w.write_fmt(name).map_err(|_| EINVAL)?;
    w.dst[w.len] = 0;
    Ok(())
}

/// A bio-based gendisk with a driver's [`Operations`]. Dropping it deletes the disk and waits
/// until every bio it received has ended.
///
/// # Invariants
///
/// `disk` was allocated by `__blk_alloc_disk` and added by `device_add_disk`, with `fops` from
/// [`Fops<T>`] and `private_data` pointing to a pinned `DiskShared<T>` owned by the disk
/// (freed by `free_disk_callback`). This handle holds the disk's reference and the
/// `DiskShared`'s base in-flight reference.
pub(crate) struct GenDisk<T: Operations> {
    disk: NonNull<bindings::gendisk>,
    _p: PhantomData<T>,
}

impl<T: Operations> GenDisk<T> {
    /// Opens the disk as a process opening `/dev/<name>` would (the disk's
    /// [`Operations::open`] runs), for reading and, with `write`, writing.
    pub(crate) fn open_file(&self, write: bool) -> Result<OwnedFile> {
        let mode = BLK_OPEN_READ | if write { BLK_OPEN_WRITE } else { 0 };
        // SAFETY: The disk is live and added; no holder, so no holder operations.
        let file = from_err_ptr(unsafe {
            bindings::bdev_file_open_by_dev(
                rloop_helper_disk_devt(self.disk.as_ptr()),
                mode,
                ptr::null_mut(),
                ptr::null(),
            )
        })?;
        // SAFETY: `bdev_file_open_by_dev` returned a file with a reference for us; it is not
        // null after `from_err_ptr`.
        Ok(unsafe { OwnedFile::from_raw(NonNull::new_unchecked(file)) })
    }
}

// SAFETY: The gendisk may be deleted from any thread; `T::Data` is `Send + Sync`.
unsafe impl<T: Operations> Send for GenDisk<T> {}
// SAFETY: No method takes `&self`.
unsafe impl<T: Operations> Sync for GenDisk<T> {}

impl<T: Operations> Drop for GenDisk<T> {
    fn drop(&mut self) {
        let disk = self.disk.as_ptr();
        // SAFETY: The disk is live and added. `del_gendisk` waits for `submit_bio` calls in
        // progress and fails later ones, so no in-flight reference is taken after it
        // but through a live `Bio` or `DiskHold`.
        let shared = unsafe {
            bindings::del_gendisk(disk);
            DiskShared::<T>::from_disk(disk)
        };
        // SAFETY: `shared` is live until `free_disk`, after `put_disk` below; only a
        // `GenDisk`'s drop ends the count, once. It returns when no `Bio` or `DiskHold` is
        // left.
        unsafe { (*shared.as_ptr()).inflight.kill_and_wait() };
        // SAFETY: No bio of the disk is left; this drops the reference `build` got.
        unsafe { bindings::put_disk(disk) };
    }
}
