// SPDX-License-Identifier: GPL-2.0

//! Bio-based generic disks: [`GenDiskBuilder`] makes a [`GenDisk`] whose bios go straight to
//! the driver's [`Operations::submit_bio`], with no request queue, tag set or scheduler.
//!
//! The shape follows `rust/kernel/block/mq/gen_disk.rs`; what differs is what a bio-based
//! disk must do itself: count the bios it holds, so that deleting the disk can wait for them.
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).

use super::bio::{Bio, BioKey};
use super::sysfs::AttributeGroups;
use crate::bindings_ext::{
    rloop_helper_disk_devt, rloop_helper_init_completion, rloop_helper_may_freeze_queue,
    rloop_helper_percpu_ref_get, rloop_helper_percpu_ref_put,
    rloop_helper_queue_limits_start_update, BLK_FEAT_FUA, BLK_FEAT_IO_STAT, BLK_FEAT_NOWAIT,
    BLK_FEAT_POLL, BLK_FEAT_WRITE_CACHE, BLK_OPEN_READ, BLK_OPEN_WRITE,
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
    ffi::{c_int, c_uint, c_ulong, c_void},
    prelude::*,
    static_lock_class,
    types::{Opaque, ScopeGuard},
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
    iob: *mut bindings::io_comp_batch,
    flags: c_uint,
    _p: PhantomData<&'a mut bindings::io_comp_batch>,
}

impl PollCtx<'_> {
    /// The batch (null or live while `self` is) and the flags, for the `iopoll` of a file.
    pub(crate) fn as_raw(&self) -> (*mut bindings::io_comp_batch, c_uint) {
        (self.iob, self.flags)
    }
}

/// The mode a disk is opened or an ioctl issued with (`blk_mode_t`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpenMode(bindings::blk_mode_t);

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

/// The state every callback of a [`GenDisk`] shares: the driver's data and the count of bios
/// the driver holds. Owned by the gendisk (`private_data`) and freed with it.
///
/// The count is a `percpu_ref`: every bio takes and gives back a reference, and a per-CPU
/// counter keeps that off any cache line the other CPUs write. Only [`GenDisk::drop`] makes
/// it an atomic count (`percpu_ref_kill`), to see it reach zero.
///
/// # Invariants
///
/// `kind` is `DiskKind::of::<T>()`, at offset 0 whatever `T` is (`repr(C)`): a poller that
/// finds a disk of this module by a bio that may have been reused reads it to learn the
/// disk's type ([`poll_bio_callback`]). Once [`GenDiskBuilder::build`] has set it up,
/// `inflight` is a `percpu_ref` holding one reference for the [`GenDisk`] (its initial one,
/// given back by `percpu_ref_kill` when the disk is dropped) and one for each live [`Bio`]
/// handle and [`DiskHold`] of the disk; its release completes `drained`, an initialised
/// `struct completion`.
#[pin_data(PinnedDrop)]
#[repr(C)]
pub(super) struct DiskShared<T: Operations> {
    kind: DiskKind,
    pub(super) data: T::Data,
    #[pin]
    inflight: Opaque<bindings::percpu_ref>,
    #[pin]
    drained: Opaque<bindings::completion>,
}

impl<T: Operations> DiskShared<T> {
    /// A `DiskShared` whose `inflight` is all zeroes, which `percpu_ref_exit` takes: set up
    /// by [`DiskShared::init_inflight`] once pinned.
    fn new(data: T::Data) -> impl PinInit<Self> {
        pin_init!(Self {
            kind: DiskKind::of::<T>(),
            data,
            inflight <- Opaque::ffi_init(|r: *mut bindings::percpu_ref| {
                // SAFETY: `r` points to memory for a `percpu_ref` that nothing uses yet.
                unsafe { ptr::write_bytes(r, 0, 1) }
            }),
            drained <- Opaque::ffi_init(|c: *mut bindings::completion| {
                // SAFETY: `c` points to memory for a completion that nothing uses yet.
                unsafe { rloop_helper_init_completion(c) }
            }),
        })
    }

    /// Sets up the in-flight count, holding the disk's own reference.
    fn init_inflight(self: Pin<&mut Self>) -> Result {
        // SAFETY: Pinned and not shared yet; the release finds the `DiskShared` from the
        // `percpu_ref`'s address, which does not move.
        to_result(unsafe {
            bindings::percpu_ref_init(
                self.inflight.get(),
                Some(inflight_released::<T>),
                0,
                bindings::GFP_KERNEL,
            )
        })
    }

    /// The `DiskShared` of `disk`.
    ///
    /// # Safety
    ///
    /// `disk` must be a live gendisk made by [`GenDiskBuilder::build`] for `T`.
    pub(super) unsafe fn from_disk(disk: *mut bindings::gendisk) -> NonNull<Self> {
        // SAFETY: `build` set `private_data` to a pinned `DiskShared<T>` that lives until
        // `free_disk_callback`, which runs only once the disk is gone.
        unsafe { NonNull::new_unchecked((*disk).private_data.cast()) }
    }

    /// The in-flight count of `this`, without making a reference to the `DiskShared`.
    ///
    /// # Safety
    ///
    /// `this` must be live.
    unsafe fn inflight(this: NonNull<Self>) -> *mut bindings::percpu_ref {
        // SAFETY: Live (caller); only the field's address is taken. `Opaque<T>` is
        // `repr(transparent)` over the `T` (6.12's `Opaque::raw_get` is gone in 7.x).
        unsafe { (&raw const (*this.as_ptr()).inflight).cast_mut().cast() }
    }

    /// Takes one in-flight reference.
    ///
    /// # Safety
    ///
    /// `this` must be live and stay so for the call: the caller holds a reference or the
    /// disk is in a callback.
    unsafe fn get(this: NonNull<Self>) {
        // SAFETY: Live, by the caller's guarantee; `percpu_ref_get` may follow
        // `percpu_ref_kill` as long as a reference is held, which the caller's is.
        unsafe { rloop_helper_percpu_ref_get(Self::inflight(this)) };
    }

    /// Gives one in-flight reference back; the last one wakes [`GenDisk::drop`].
    ///
    /// Takes a pointer, not `&self`: once the count is down, the disk may free the
    /// `DiskShared` under us, and a reference would claim it is live to the end of the call.
    ///
    /// # Safety
    ///
    /// The caller must own one of the references and not use `this` afterwards.
    pub(super) unsafe fn put(this: NonNull<Self>) {
        // SAFETY: Live until our reference is given back, which is this call. The last one
        // runs the release (`inflight_released`) inside it, which completes `drained`; the
        // `percpu_ref` is not touched after the release returns.
        unsafe { rloop_helper_percpu_ref_put(Self::inflight(this)) };
    }
}

#[pinned_drop]
impl<T: Operations> PinnedDrop for DiskShared<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: No reference is left (released, or never set up: all zeroes), and nothing
        // uses the count any more.
        unsafe { bindings::percpu_ref_exit(self.inflight.get()) };
    }
}

/// The release of a disk's in-flight count: the last reference is gone after
/// `percpu_ref_kill`. Runs in the context of that last put (an interrupt, say) or of the RCU
/// callback of the kill.
///
/// # Safety
///
/// `r` must be the `inflight` of a live `DiskShared<T>`.
unsafe extern "C" fn inflight_released<T: Operations>(r: *mut bindings::percpu_ref) {
    // SAFETY: `r` is the `inflight` field of a `DiskShared<T>` (caller), so the struct starts
    // that many bytes before it. The waiter in `GenDisk::drop` keeps it until `complete` has
    // released the completion's lock (`wait_for_completion` takes it before returning).
    unsafe {
        let shared = r
            .cast::<u8>()
            .sub(core::mem::offset_of!(DiskShared<T>, inflight))
            .cast::<DiskShared<T>>();
        bindings::complete((*shared).drained.get());
    }
}

/// The type of a disk's operations: what a `DiskShared` starts with.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
struct DiskKind(core::any::TypeId);

impl DiskKind {
    fn of<T: Operations>() -> Self {
        Self(core::any::TypeId::of::<T>())
    }
}

/// A reference to a disk's data that keeps the disk's bios from being considered drained:
/// [`GenDisk::drop`] waits for it. Only the block room makes one ([`BioList::drain`]), and
/// lends its data for a call: a hold kept in the driver's own state would keep the disk
/// from ever being drained.
///
/// [`BioList::drain`]: super::BioList::drain
///
/// # Invariants
///
/// `shared` is the live `DiskShared<T>` of a `GenDisk<T>`, and this handle owns one of its
/// in-flight references.
pub(super) struct DiskHold<T: Operations> {
    shared: NonNull<DiskShared<T>>,
}

// SAFETY: The handle only gives shared access to `T::Data`, which is `Send + Sync`, and its
// reference may be given back from any thread.
unsafe impl<T: Operations> Send for DiskHold<T> {}
// SAFETY: As above.
unsafe impl<T: Operations> Sync for DiskHold<T> {}

impl<T: Operations> DiskHold<T> {
    /// # Safety
    ///
    /// `shared` must be the live `DiskShared<T>` of a `GenDisk<T>`, live during the call.
    pub(super) unsafe fn new(shared: NonNull<DiskShared<T>>) -> Self {
        // SAFETY: Live, by the caller's guarantee.
        unsafe { DiskShared::get(shared) };
        // INVARIANT: The reference just taken is ours.
        Self { shared }
    }

    /// The disk's data.
    pub(super) fn data(&self) -> &T::Data {
        // SAFETY: Our in-flight reference keeps the `DiskShared` alive.
        unsafe { &self.shared.as_ref().data }
    }
}

impl<T: Operations> Drop for DiskHold<T> {
    fn drop(&mut self) {
        // SAFETY: We own a reference, given back once here.
        unsafe { DiskShared::put(self.shared) };
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
        let mut shared = KBox::pin_init(DiskShared::<T>::new(data), GFP_KERNEL)?;
        shared.as_mut().init_inflight()?;

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
        // SAFETY: `shared` is live: our base reference is still out. `percpu_ref_kill` gives
        // it back and makes the count atomic; its release completes `drained` once no `Bio` or
        // `DiskHold` is left.
        unsafe {
            bindings::percpu_ref_kill_and_confirm(DiskShared::inflight(shared), None);
            bindings::wait_for_completion((*shared.as_ptr()).drained.get());
        }
        // SAFETY: No bio of the disk is left; this drops the reference `build` got.
        unsafe { bindings::put_disk(disk) };
    }
}

/// The `block_device_operations` of a `GenDisk<T>`, as consts so that they can name `T`;
/// promoted to statics where their address is taken.
struct Fops<T>(PhantomData<T>);

impl<T: Operations> Fops<T> {
    const NATIVE_IOCTL: bindings::block_device_operations = bindings::block_device_operations {
        submit_bio: Some(submit_bio_callback::<T>),
        open: if T::HAS_OPEN {
            Some(open_callback::<T>)
        } else {
            None
        },
        release: if T::HAS_RELEASE {
            Some(release_callback::<T>)
        } else {
            None
        },
        ioctl: if T::HAS_IOCTL {
            Some(ioctl_callback::<T>)
        } else {
            None
        },
        poll_bio: if T::HAS_POLL_BIO {
            Some(poll_bio_callback::<T>)
        } else {
            None
        },
        free_disk: Some(free_disk_callback::<T>),
        // An open disk pins the module.
        owner: &raw mut bindings::__this_module,
        // SAFETY: All zeroes is "no callback" for the remaining members.
        ..unsafe { core::mem::zeroed() }
    };

    const SAME_COMPAT_IOCTL: bindings::block_device_operations =
        bindings::block_device_operations {
            compat_ioctl: Self::NATIVE_IOCTL.ioctl,
            ..Self::NATIVE_IOCTL
        };
}

/// # Safety
///
/// Called by the block layer with a live bio of a `GenDisk<T>`, which is live for the call.
unsafe extern "C" fn submit_bio_callback<T: Operations>(bio: *mut bindings::bio) {
    // SAFETY: The bio's disk is a live `GenDisk<T>` during `submit_bio`.
    let (shared, bio) = unsafe {
        let shared = DiskShared::<T>::from_disk((*(*bio).bi_bdev).bd_disk);
        DiskShared::get(shared);
        // The bio is now ours, with the in-flight reference just taken.
        (
            shared,
            Bio::<T>::from_raw(NonNull::new_unchecked(bio), None),
        )
    };
    // SAFETY: The bio's reference keeps `shared` live for the call.
    T::submit_bio(unsafe { &shared.as_ref().data }, bio);
}

/// # Safety
///
/// Called by the block layer with a live `GenDisk<T>` and its `open_mutex` held.
unsafe extern "C" fn open_callback<T: Operations>(
    disk: *mut bindings::gendisk,
    mode: bindings::blk_mode_t,
) -> c_int {
    // SAFETY: The disk is a live `GenDisk<T>` for the call.
    let data = unsafe { &DiskShared::<T>::from_disk(disk).as_ref().data };
    match T::open(data, OpenMode(mode)) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the block layer with a live `GenDisk<T>` and its `open_mutex` held.
unsafe extern "C" fn release_callback<T: Operations>(disk: *mut bindings::gendisk) {
    // SAFETY: The disk is a live `GenDisk<T>` for the call.
    let data = unsafe { &DiskShared::<T>::from_disk(disk).as_ref().data };
    T::release(data);
}

/// # Safety
///
/// Called by the block layer for an open device of a live `GenDisk<T>`.
unsafe extern "C" fn ioctl_callback<T: Operations>(
    bdev: *mut bindings::block_device,
    mode: bindings::blk_mode_t,
    cmd: c_uint,
    arg: c_ulong,
) -> c_int {
    // SAFETY: The device is open, so it and its disk, a `GenDisk<T>`, are live for the call.
    let (data, disk) = unsafe {
        let disk = (*bdev).bd_disk;
        (
            &DiskShared::<T>::from_disk(disk).as_ref().data,
            DiskRef::<T>::from_raw(disk),
        )
    };
    match T::ioctl(data, disk, OpenMode(mode), cmd, arg) {
        Ok(v) => v,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by `bio_poll()` for a bio it found on a `GenDisk<T>`, with that disk's queue
/// entered. If the bio may have ended, the caller is under `rcu_read_lock()`
/// (`iocb_bio_iopoll()`), so that whatever device the bio's memory (type-stable under RCU)
/// names now, and that device's disk, stay allocated for the call; if not, the bio is live
/// and so are its device and disk.
unsafe extern "C" fn poll_bio_callback<T: Operations>(
    bio: *mut bindings::bio,
    iob: *mut bindings::io_comp_batch,
    flags: c_uint,
) -> c_int {
    // `bio_poll` pinned the queue of the device it read; the bio may have ended and been
    // reused for another device since, so the device is read again and nothing of it is
    // trusted until known. A disk whose `fops` this module owns is a `GenDisk` of this room
    // (only `Fops` names this module as owner), so its `private_data` is null (being freed)
    // or a `DiskShared` of some type, whose `kind` says which. `free_disk_callback` empties
    // `private_data` and waits for a grace period before it frees: under the caller's RCU
    // read lock, what was read here stays for the call.
    // SAFETY: The device and disk are allocated for the call (caller's guarantee); the fops
    // are static.
    let shared = unsafe {
        let bdev = ptr::read_volatile(&raw const (*bio).bi_bdev);
        if bdev.is_null() {
            return 0;
        }
        let disk = (*bdev).bd_disk;
        if (*(*disk).fops).owner != &raw mut bindings::__this_module {
            return 0;
        }
        let shared = ptr::read_volatile(&raw const (*disk).private_data).cast::<DiskShared<T>>();
        if shared.is_null() || *shared.cast::<DiskKind>() != DiskKind::of::<T>() {
            return 0;
        }
        &*shared
    };
    // INVARIANT: `iob` is the block layer's batch for this call, or null.
    let ctx = PollCtx {
        iob,
        flags,
        _p: PhantomData,
    };
    let n = T::poll_bio(&shared.data, BioKey::from_raw(bio), ctx);
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// # Safety
///
/// Called once by `disk_release` for an added `GenDisk<T>`, when its last reference goes, in
/// a context that may sleep (`disk_release` says `might_sleep()`).
unsafe extern "C" fn free_disk_callback<T: Operations>(disk: *mut bindings::gendisk) {
    // SAFETY: `private_data` is the `DiskShared<T>` box `build` leaked. No bio, open or
    // callback of the disk is left but a poller that found the disk through a reused bio
    // (`poll_bio_callback`), which reads `private_data` under `rcu_read_lock()`: once it is
    // null and a grace period has passed, none can hold the `DiskShared` any more.
    unsafe {
        let shared = (*disk).private_data.cast::<DiskShared<T>>();
        ptr::write_volatile(&raw mut (*disk).private_data, ptr::null_mut());
        bindings::synchronize_rcu();
        drop(KBox::from_raw(shared));
    }
}
