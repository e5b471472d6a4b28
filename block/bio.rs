// SPDX-License-Identifier: GPL-2.0

//! Bios as a bio-based disk receives them: [`Bio`], [`BioList`], [`BioOp`], [`BlkStatus`] and
//! the [`Segments`] of a bio's data.
//!
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h),
//! [`include/linux/blk_types.h`](srctree/include/linux/blk_types.h).

use super::disk_shared::{DiskHold, DiskShared};
use super::gen_disk::{DiskRef, Operations};
use crate::bindings_ext::{
    rloop_helper_bio_advance_iter_single, rloop_helper_bio_iter_bvec, rloop_helper_bio_op,
    BLK_STS_IOERR, BLK_STS_NOTSUPP, BLK_STS_OK, REQ_FUA, REQ_NOUNMAP, REQ_POLLED, REQ_PREFLUSH,
};
use crate::kernel_extras::compat::bvec_iter_done;
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ptr::{self, NonNull},
};
use kernel::{bindings, ffi::c_ulong, prelude::*};

/// The address of a bio, only ever compared: a bio that [`Operations::poll_bio`] is asked
/// about may have ended and been reused for another I/O (bios are `SLAB_TYPESAFE_BY_RCU`), so
/// nothing reads through it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct BioKey(usize);

impl BioKey {
    /// The key of the bio at `bio`.
    pub(super) fn from_raw(bio: *const bindings::bio) -> Self {
        Self(bio as usize)
    }
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

    /// The status `errno_to_blk_status()` gives an error (`ENOSPC` is `BLK_STS_NOSPC`,
    /// `EOPNOTSUPP` `BLK_STS_NOTSUPP`, an errno it does not know `BLK_STS_IOERR`).
    pub(crate) fn from_error(err: Error) -> Self {
        // SAFETY: `errno_to_blk_status` only looks the value up in a constant table.
        Self(unsafe { bindings::errno_to_blk_status(err.to_errno()) })
    }
}

/// What a bio asks for.
///
/// There is no flush: the block layer refuses `REQ_OP_FLUSH` bios to a bio-based disk
/// (`submit_bio_noacct`); a flush arrives as an empty [`BioOp::Write`] with
/// [`Bio::is_preflush`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BioOp {
    /// `REQ_OP_READ`.
    Read,
    /// `REQ_OP_WRITE`.
    Write,
    /// `REQ_OP_DISCARD`.
    Discard,
    /// `REQ_OP_WRITE_ZEROES`.
    WriteZeroes,
    /// Anything else (secure erase, zone operations, driver-private operations).
    Other,
}

/// A bio the driver holds: the only owner of a bio submitted to a `GenDisk<T>`.
///
/// It ends exactly once: by [`Bio::end`], or on drop with `BLK_STS_IOERR`. Moving it into a
/// [`BioList`] or into another owner (a direct-I/O context) moves that duty with it.
///
/// # Invariants
///
/// `ptr` points to a bio submitted to a `GenDisk<T>` that has not been ended, and this handle
/// holds one reference of the disk's in-flight count ([`DiskShared`]), which keeps the disk
/// and its data alive. If `acct_start` is `Some`, `bio_start_io_acct` was called for the bio
/// and returned that value.
pub(crate) struct Bio<T: Operations> {
    ptr: NonNull<bindings::bio>,
    acct_start: Option<c_ulong>,
    _p: PhantomData<T>,
}

// SAFETY: A bio may be handled and completed from any thread.
unsafe impl<T: Operations> Send for Bio<T> {}

impl<T: Operations> Bio<T> {
    /// # Safety
    ///
    /// `ptr` must be a live bio of a `GenDisk<T>` that nothing else owns and whose in-flight
    /// reference moves into the handle; `acct_start` as in the type invariant.
    pub(super) unsafe fn from_raw(
        ptr: NonNull<bindings::bio>,
        acct_start: Option<c_ulong>,
    ) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            ptr,
            acct_start,
            _p: PhantomData,
        }
    }

    /// Gives up ownership; [`Bio::from_raw`] takes it back.
    fn into_raw(self) -> (NonNull<bindings::bio>, Option<c_ulong>) {
        let this = ManuallyDrop::new(self);
        (this.ptr, this.acct_start)
    }

    /// The C bio, valid while `self` is.
    pub(crate) fn as_raw(&self) -> *mut bindings::bio {
        self.ptr.as_ptr()
    }

    fn opf(&self) -> u32 {
        // SAFETY: By the type invariant the bio is live and owned by this handle.
        unsafe { (*self.as_raw()).bi_opf }
    }

    /// The operation of the bio.
    pub(crate) fn op(&self) -> BioOp {
        // SAFETY: By the type invariant the bio is live.
        match unsafe { rloop_helper_bio_op(self.as_raw()) } {
            bindings::req_op_REQ_OP_READ => BioOp::Read,
            bindings::req_op_REQ_OP_WRITE => BioOp::Write,
            bindings::req_op_REQ_OP_DISCARD => BioOp::Discard,
            bindings::req_op_REQ_OP_WRITE_ZEROES => BioOp::WriteZeroes,
            _ => BioOp::Other,
        }
    }

    /// `REQ_PREFLUSH`: write the volatile cache back before the data.
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

    /// `REQ_POLLED`: the submitter polls for the completion (`RWF_HIPRI`, io_uring
    /// `IOPOLL`) through [`Operations::poll_bio`] rather than wait for it. The block layer
    /// only lets such a bio through to a disk with [`Features::POLL`].
    ///
    /// [`Features::POLL`]: super::Features::POLL
    pub(crate) fn is_polled(&self) -> bool {
        self.opf() & REQ_POLLED != 0
    }

    /// Makes `bio_poll()` call [`Operations::poll_bio`] for the bio: it skips a bio whose
    /// `bi_cookie` is still `BLK_QC_T_NONE`, as `bio_init` leaves it. A bio-based disk has no
    /// queue to name there, so the cookie only says "poll me", as dm's does.
    pub(crate) fn mark_pollable(&mut self) {
        // SAFETY: By the type invariant the bio is live and owned by this handle; `bio_poll`
        // reads the cookie with `READ_ONCE`. It shares a union with `__bi_nr_segments`, which
        // only blk-mq uses.
        unsafe { ptr::write_volatile(&raw mut (*self.as_raw()).__bindgen_anon_1.bi_cookie, 0) };
    }

    /// The bio's identity while it is in flight: what [`Operations::poll_bio`] is asked
    /// about.
    pub(crate) fn key(&self) -> BioKey {
        BioKey(self.as_raw() as usize)
    }

    /// The first 512-byte sector of the bio.
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: By the type invariant the bio is live and owned by this handle.
        unsafe { (*self.as_raw()).bi_iter.bi_sector }
    }

    /// The number of bytes the bio covers.
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: By the type invariant the bio is live and owned by this handle.
        unsafe { (*self.as_raw()).bi_iter.bi_size }
    }

    /// The I/O priority the submitter gave the bio.
    pub(crate) fn ioprio(&self) -> u16 {
        // SAFETY: By the type invariant the bio is live and owned by this handle.
        unsafe { (*self.as_raw()).bi_ioprio }
    }

    /// The data segments of the bio, as its own iterator (`bi_iter`) covers them. A split or
    /// cloned bio shares its parent's vector and may start or end inside one of its entries.
    pub(crate) fn segments(&self) -> Segments<'_> {
        Segments {
            bio: self.as_raw(),
            // SAFETY: By the type invariant the bio is live; the iterator is a plain copy.
            iter: unsafe { (*self.as_raw()).bi_iter },
            _p: PhantomData,
        }
    }

    /// The bio's data as the `bio_vec` array an `iov_iter_bvec` takes: the entries from the
    /// iterator's `bi_idx` on, the `skip` bytes of the first already done, `len` bytes in all.
    /// Valid while the bio is.
    pub(crate) fn bvec_array(&self) -> BvecArray {
        let raw = self.as_raw();
        // SAFETY: By the type invariant the bio is live; `bi_idx` indexes its vector.
        let (first, skip, len) = unsafe {
            let iter = (*raw).bi_iter;
            (
                (*raw).bi_io_vec.add(iter.bi_idx as usize).cast_const(),
                bvec_iter_done(&iter) as usize,
                iter.bi_size as usize,
            )
        };
        BvecArray {
            first,
            nr_segs: self.segments().count(),
            skip,
            len,
        }
    }

    /// The gendisk of the bio: a `GenDisk<T>`'s, live while this handle is (type invariant).
    pub(super) fn gendisk(&self) -> *mut bindings::gendisk {
        // SAFETY: The bio is live, and so are its `bi_bdev` and that device's disk.
        unsafe { (*(*self.as_raw()).bi_bdev).bd_disk }
    }

    /// The data of the disk the bio was submitted to, live while this handle is.
    pub(crate) fn disk_data(&self) -> &T::Data {
        // SAFETY: The disk is a `GenDisk<T>` whose `DiskShared` our in-flight reference keeps
        // alive (type invariant).
        unsafe { &DiskShared::<T>::from_disk(self.gendisk()).as_ref().data }
    }

    /// The disk the bio was submitted to.
    pub(crate) fn disk(&self) -> DiskRef<'_, T> {
        // SAFETY: The disk is a `GenDisk<T>`, live while this handle is (`gendisk`).
        unsafe { DiskRef::from_raw(self.gendisk()) }
    }

    /// A reference to the disk's data that outlives the bio: the caller may end the bio
    /// and go on using the data.
    fn hold_disk(&self) -> DiskHold<T> {
        // SAFETY: The disk is a live `GenDisk<T>` (`gendisk`) with a live `DiskShared`.
        unsafe { DiskHold::new(DiskShared::<T>::from_disk(self.gendisk())) }
    }

    /// Starts I/O accounting (`/proc/diskstats`) for the bio; [`Bio::end`] ends it. Does
    /// nothing the second time.
    pub(crate) fn start_io_acct(&mut self) {
        if self.acct_start.is_none() {
            // SAFETY: The bio is live; `bio_start_io_acct` only updates the disk's counters.
            self.acct_start = Some(unsafe { bindings::bio_start_io_acct(self.as_raw()) });
        }
    }

    /// Gives the bio back to its submitter with `status`.
    pub(crate) fn end(self, status: BlkStatus) {
        let mut this = ManuallyDrop::new(self);
        this.end_in_place(status);
    }

    /// Ends the bio; the handle must not be used or dropped afterwards.
    fn end_in_place(&mut self, status: BlkStatus) {
        let raw = self.as_raw();
        // Taken before `bio_endio`: the bio may be gone after it.
        // SAFETY: The disk is a live `GenDisk<T>` (type invariant).
        let shared = unsafe { DiskShared::<T>::from_disk(self.gendisk()) };
        // SAFETY: The bio is live and owned by this handle, and nothing touches it after
        // `bio_endio`; its device is live (type invariant).
        unsafe {
            if let Some(start) = self.acct_start {
                bindings::bio_end_io_acct_remapped(raw, start, (*raw).bi_bdev);
            }
            (*raw).bi_status = status.0;
            bindings::bio_endio(raw);
        }
        // SAFETY: The handle's in-flight reference is given back; `shared` is not used again.
        unsafe { DiskShared::put(shared) };
    }
}

impl<T: Operations> Drop for Bio<T> {
    fn drop(&mut self) {
        self.end_in_place(BlkStatus::IOERR);
    }
}

/// One contiguous piece of a bio's data: `len` bytes at `offset` in `page` (a multi-page
/// segment may run on into the pages after it).
#[derive(Clone, Copy, Debug)]
#[expect(
    dead_code,
    reason = "rloop only counts segments; a driver that copies reads them"
)]
pub(crate) struct Segment {
    /// The first page.
    pub(crate) page: *mut bindings::page,
    /// Byte offset into `page`.
    pub(crate) offset: u32,
    /// Length in bytes.
    pub(crate) len: u32,
}

/// The data of a bio as a `bio_vec` array (see [`Bio::bvec_array`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BvecArray {
    /// The first entry the bio's iterator covers.
    pub(crate) first: *const bindings::bio_vec,
    /// How many entries it covers, from `first`.
    pub(crate) nr_segs: usize,
    /// Bytes of the first entry before the bio's data.
    pub(crate) skip: usize,
    /// Bytes of data.
    pub(crate) len: usize,
}

/// The segments of a bio, walked with a copy of its `bi_iter` (`bio_for_each_bvec()`).
pub(crate) struct Segments<'a> {
    bio: *const bindings::bio,
    iter: bindings::bvec_iter,
    _p: PhantomData<&'a bindings::bio>,
}

impl Iterator for Segments<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        if self.iter.bi_size == 0 {
            return None;
        }
        // SAFETY: The bio is live for `'a`; `iter` stays within its vector, as it is only
        // advanced by the length of the segment it gives.
        let bv = unsafe { rloop_helper_bio_iter_bvec(self.bio, self.iter) };
        // SAFETY: As above.
        unsafe { rloop_helper_bio_advance_iter_single(self.bio, &mut self.iter, bv.bv_len) };
        Some(Segment {
            page: bv.bv_page,
            offset: bv.bv_offset,
            len: bv.bv_len,
        })
    }
}

/// A FIFO of bios linked through their own `bi_next`: pushing allocates nothing.
///
/// A bio keeps its accounting start on the list, so that the time it waits there (behind a
/// blocking fsync, or a frozen backing file system) counts in its I/O time. The list has no
/// room of its own for it; it lives in the bio's `bi_cookie`, which a bio-based disk owns
/// while it holds the bio ([`Bio::mark_pollable`]): 31 bits of `jiffies`, enough for a wait of
/// 24 days at 1000 Hz, or [`BioList::NOT_ACCOUNTED`]. Neither is `BLK_QC_T_NONE`, so a bio on
/// a list is one `bio_poll()` asks about, as a polled bio must be.
///
/// # Invariants
///
/// `head` to `tail` is a `bi_next`-linked chain of bios of `GenDisk<T>`s owned by the list,
/// each holding its in-flight reference, its `bi_cookie` [`BioList::NOT_ACCOUNTED`] or the
/// low 31 bits of what `bio_start_io_acct` returned for it; `tail` is the last one; both are
/// null when the list is empty.
pub(crate) struct BioList<T: Operations> {
    head: *mut bindings::bio,
    tail: *mut bindings::bio,
    _p: PhantomData<T>,
}

// SAFETY: The list owns its bios, which may be handled on any thread.
unsafe impl<T: Operations> Send for BioList<T> {}

impl<T: Operations> BioList<T> {
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

    /// What a bio's `bi_cookie` holds on a list when it is not accounted.
    const NOT_ACCOUNTED: u32 = 1 << 31;

    /// Appends `bio`.
    pub(crate) fn push(&mut self, bio: Bio<T>) {
        let (raw, acct_start) = bio.into_raw();
        let raw = raw.as_ptr();
        let cookie = acct_start.map_or(Self::NOT_ACCOUNTED, |start| {
            (start as u32) & !Self::NOT_ACCOUNTED
        });
        // SAFETY: `raw` is a live bio now owned by the list; `tail`, if not null, is the last
        // bio of the list, also owned by it. `bio_poll` reads the cookie with `READ_ONCE`.
        unsafe {
            ptr::write_volatile(&raw mut (*raw).__bindgen_anon_1.bi_cookie, cookie);
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
        let raw = NonNull::new(self.head)?;
        // SAFETY: `raw` is the list's first bio, owned by the list.
        unsafe {
            self.head = (*raw.as_ptr()).bi_next;
            (*raw.as_ptr()).bi_next = ptr::null_mut();
        }
        if self.head.is_null() {
            self.tail = ptr::null_mut();
        }
        // SAFETY: The bio is owned by the list; `jiffies` is always mapped, and read volatile
        // as its C declaration asks.
        let (cookie, now) = unsafe {
            (
                ptr::read_volatile(&raw const (*raw.as_ptr()).__bindgen_anon_1.bi_cookie),
                ptr::read_volatile(&raw const bindings::jiffies),
            )
        };
        // The start is the latest time before now whose low 31 bits are the cookie's.
        let acct_start = (cookie != Self::NOT_ACCOUNTED).then(|| {
            now.wrapping_sub(((now as u32).wrapping_sub(cookie) & !Self::NOT_ACCOUNTED) as c_ulong)
        });
        // SAFETY: The cookie holds the start `bio_start_io_acct` gave, or says there is none
        // (type invariant); the bio's ownership moves out of the list.
        Some(unsafe { Bio::from_raw(raw, acct_start) })
    }

    /// Hands every bio of the list, in order, to `f` together with its disk's data, which
    /// stays valid for each whole call even after `f` has ended the bio: one [`DiskHold`] is
    /// taken per run of bios of the same disk, not one per bio.
    pub(crate) fn drain(mut self, mut f: impl FnMut(&T::Data, Bio<T>)) {
        let mut held: Option<(*mut bindings::gendisk, DiskHold<T>)> = None;
        while let Some(bio) = self.pop() {
            let disk = bio.gendisk();
            let hold = match &mut held {
                Some((d, hold)) if *d == disk => hold,
                slot => &mut slot.insert((disk, bio.hold_disk())).1,
            };
            f(hold.data(), bio);
        }
    }

    /// Takes every bio, leaving the list empty.
    pub(crate) fn take(&mut self) -> Self {
        core::mem::replace(self, Self::new())
    }
}

impl<T: Operations> Drop for BioList<T> {
    fn drop(&mut self) {
        while let Some(bio) = self.pop() {
            bio.end(BlkStatus::IOERR);
        }
    }
}
