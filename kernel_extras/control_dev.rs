// SPDX-License-Identifier: GPL-2.0

//! The control node: a misc character device `/dev/<name>` whose ioctls go to the driver.
//!
//! A fixed minor lets the module be loaded on the node's first open, as loop's
//! `/dev/loop-control` is: `kmod static-nodes` creates the node at boot from the module's
//! `devname:` alias, and an open of it asks for `char-major-10-<minor>`.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h).

use super::compat::COMPAT_PTR_IOCTL;
use crate::bindings_ext::{
    miscdevice, rloop_helper_misc_data, rloop_helper_misc_deregister, rloop_helper_misc_register,
};
use core::{marker::PhantomData, mem::ManuallyDrop, ptr::NonNull};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_int, c_long, c_uint, c_ulong},
    prelude::*,
    str::CStr,
    sync::Arc,
};

/// The ioctl handler of a [`ControlDev`].
pub(crate) trait ControlOps: Sized + 'static {
    /// Data the handler gets.
    type Data: Send + Sync;

    /// `ioctl(cmd, arg)` on the control node.
    fn ioctl(data: &Self::Data, cmd: u32, arg: usize) -> Result<i32>;
}

/// A misc device node (`/dev/<name>`, mode 0600 unless udev says otherwise) whose ioctls go
/// to `T`.
///
/// Every open file holds its own reference to the data (`private_data`), taken in `open` and
/// given back in `release`: an ioctl in progress, or a file still open, keeps the data alive
/// whenever the node is dropped.
///
/// # Invariants
///
/// `misc` is a registered misc device with `ControlFops::<T>::FOPS`, carrying a pointer from
/// `Arc::into_raw` of a `T::Data`, whose reference this value owns.
pub(crate) struct ControlDev<T: ControlOps> {
    misc: NonNull<miscdevice>,
    _p: PhantomData<Arc<T::Data>>,
}

// SAFETY: Registration handles may be dropped on any thread; the data is `Send + Sync`.
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
        open: Some(control_open_callback::<T>),
        release: Some(control_release_callback::<T>),
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
        let data = Arc::into_raw(Arc::new(data, GFP_KERNEL)?);
        // SAFETY: `name` is static and `FOPS` is promoted to a static; `data` is a reference
        // the registration owns from here on.
        let misc = from_err_ptr(unsafe {
            rloop_helper_misc_register(
                name.as_char_ptr(),
                minor,
                &ControlFops::<T>::FOPS,
                data.cast_mut().cast(),
            )
        })
        .and_then(|misc| NonNull::new(misc).ok_or(ENOMEM));
        match misc {
            // INVARIANT: Registered, carrying `data`.
            Ok(misc) => Ok(Self {
                misc,
                _p: PhantomData,
            }),
            Err(e) => {
                // SAFETY: Not registered: nothing else saw `data`, which came from `into_raw`.
                drop(unsafe { Arc::from_raw(data) });
                Err(e)
            }
        }
    }
}

impl<T: ControlOps> Drop for ControlDev<T> {
    fn drop(&mut self) {
        // SAFETY: Registered in `new`. Once `misc_deregister` returns, no `open` runs or will
        // (both hold `misc_mtx`): every open file holds its own reference, so ours goes.
        unsafe {
            let data = rloop_helper_misc_data(self.misc.as_ptr());
            rloop_helper_misc_deregister(self.misc.as_ptr());
            drop(Arc::from_raw(data.cast::<T::Data>()));
        }
    }
}

/// # Safety
///
/// Called by `misc_open` for a registered `ControlDev<T>`, with `misc_mtx` held and the misc
/// device in `file->private_data`.
unsafe extern "C" fn control_open_callback<T: ControlOps>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: The device is registered while `misc_mtx` is held, so its reference to the
    // data is live: the file takes one of its own, in place of the device.
    unsafe {
        let data = rloop_helper_misc_data((*file).private_data.cast()).cast::<T::Data>();
        let borrowed = ManuallyDrop::new(Arc::from_raw(data));
        (*file).private_data = Arc::into_raw(Arc::clone(&borrowed)).cast_mut().cast();
    }
    0
}

/// # Safety
///
/// Called by the VFS once for a file `control_open_callback::<T>` opened.
unsafe extern "C" fn control_release_callback<T: ControlOps>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `private_data` holds the file's reference, given back once here.
    drop(unsafe { Arc::from_raw((*file).private_data.cast::<T::Data>()) });
    0
}

/// # Safety
///
/// Called by the VFS for a file `control_open_callback::<T>` opened and not yet released.
unsafe extern "C" fn control_ioctl_callback<T: ControlOps>(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: The file's reference keeps the data alive for the call.
    let data = unsafe { &*(*file).private_data.cast::<T::Data>() };
    match T::ioctl(data, cmd, arg) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}
