// SPDX-License-Identifier: GPL-2.0

//! The control node: a misc character device `/dev/<name>` whose ioctls go to the driver.
//!
//! A fixed minor lets the module be loaded on the node's first open, as loop's
//! `/dev/loop-control` is: `kmod static-nodes` creates the node at boot from the module's
//! `devname:` alias, and an open of it asks for `char-major-10-<minor>`.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h).

use super::compat::COMPAT_PTR_IOCTL;
use crate::bindings_ext::{miscdevice, rloop_helper_misc_deregister, rloop_helper_misc_register};
use core::{
    marker::PhantomData,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_int, c_long, c_uint, c_ulong, c_void},
    prelude::*,
    str::CStr,
    types::ScopeGuard,
};

/// The ioctl handler of a [`ControlDev`].
pub(crate) trait ControlOps: Sized + 'static {
    /// Data the handler gets.
    type Data: Send + Sync;

    /// `ioctl(cmd, arg)` on the control node.
    fn ioctl(data: &Self::Data, cmd: u32, arg: usize) -> Result<i32>;
}

/// The data of the one [`ControlDev`]: the ioctl callback has nothing but the file to go on.
static CONTROL_DATA: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// A misc device node (`/dev/<name>`, mode 0600 unless udev says otherwise) whose ioctls go
/// to `T`. A module has at most one.
///
/// # Invariants
///
/// `misc` is a registered misc device with `ControlFops::<T>::FOPS`; `CONTROL_DATA` points to
/// a leaked `KBox<T::Data>` owned by this value.
pub(crate) struct ControlDev<T: ControlOps> {
    misc: NonNull<miscdevice>,
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
        compat_ioctl: COMPAT_PTR_IOCTL,
        llseek: Some(bindings::noop_llseek),
        // SAFETY: All zeroes is "no callback" for the remaining members.
        ..unsafe { core::mem::zeroed() }
    };
}

impl<T: ControlOps> ControlDev<T> {
    /// Registers `/dev/<name>` on misc minor `minor` (`EBUSY` if another driver has it).
    pub(crate) fn new(name: &'static CStr, minor: u32, data: T::Data) -> Result<Self> {
        let minor = c_int::try_from(minor).map_err(|_| EINVAL)?;
        let data = KBox::into_raw(KBox::new(data, GFP_KERNEL)?);
        let free_data = ScopeGuard::new(|| {
            // SAFETY: `data` came from `Box::into_raw` and is not published.
            drop(unsafe { KBox::from_raw(data) });
        });
        if CONTROL_DATA
            .compare_exchange(
                ptr::null_mut(),
                data.cast::<c_void>(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(EBUSY);
        }
        let unpublish = ScopeGuard::new(|| CONTROL_DATA.store(ptr::null_mut(), Ordering::Release));

        // SAFETY: `name` is static and `FOPS` is promoted to a static.
        let misc = from_err_ptr(unsafe {
            rloop_helper_misc_register(name.as_char_ptr(), minor, &ControlFops::<T>::FOPS)
        })?;
        let misc = NonNull::new(misc).ok_or(ENOMEM)?;
        unpublish.dismiss();
        free_data.dismiss();
        // INVARIANT: Registered, and `CONTROL_DATA` holds our data.
        Ok(Self {
            misc,
            _p: PhantomData,
        })
    }
}

impl<T: ControlOps> Drop for ControlDev<T> {
    fn drop(&mut self) {
        // SAFETY: Registered in `new`. No ioctl can run any more: the node is gone and an open
        // node would pin the module, so its exit (the only drop site) could not run.
        unsafe {
            rloop_helper_misc_deregister(self.misc.as_ptr());
            let data = CONTROL_DATA
                .swap(ptr::null_mut(), Ordering::AcqRel)
                .cast::<T::Data>();
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
    match T::ioctl(data, cmd, arg) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}
