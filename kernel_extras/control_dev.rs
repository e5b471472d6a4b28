// SPDX-License-Identifier: GPL-2.0

//! The control node: a character device `/dev/<name>` whose ioctls go to the driver.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h) (`__register_chrdev`),
//! [`include/linux/device.h`](srctree/include/linux/device.h).

use core::{
    marker::PhantomData,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    bindings, c_str,
    error::from_err_ptr,
    ffi::{c_long, c_uint, c_ulong, c_void},
    prelude::*,
    str::CStr,
    types::ScopeGuard,
};

/// `MKDEV()`, [`include/linux/kdev_t.h`](srctree/include/linux/kdev_t.h).
const fn mkdev(major: u32, minor: u32) -> bindings::dev_t {
    (major << bindings::MINORBITS) | minor
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
