// SPDX-License-Identifier: GPL-2.0

//! The `block_device_operations` of a [`GenDisk`](super::GenDisk): the C callbacks, each
//! finding the disk's [`DiskShared`] and calling the driver's [`Operations`].
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h).

use super::bio::{Bio, BioKey};
use super::disk_shared::{DiskKind, DiskShared};
use super::gen_disk::{DiskRef, OpenMode, Operations, PollCtx};
use core::{
    marker::PhantomData,
    ptr::{self, NonNull},
};
use kernel::{
    bindings,
    ffi::{c_int, c_uint, c_ulong},
    prelude::*,
};

/// The `block_device_operations` of a `GenDisk<T>`, as consts so that they can name `T`;
/// promoted to statics where their address is taken.
pub(super) struct Fops<T>(PhantomData<T>);

impl<T: Operations> Fops<T> {
    pub(super) const NATIVE_IOCTL: bindings::block_device_operations =
        bindings::block_device_operations {
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

    pub(super) const SAME_COMPAT_IOCTL: bindings::block_device_operations =
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
