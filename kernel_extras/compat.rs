// SPDX-License-Identifier: GPL-2.0

//! Everything that is spelt differently in the kernel crates rloop builds against: 6.12 and
//! 7.x (7.3 is the one built and tested). Kbuild sets `--cfg rloop_kernel_7x` for a 7.x
//! kernel. No other Rust file names a kernel version; the C helper has its own few
//! `LINUX_VERSION_CODE` tests for what only C sees.
//!
//! Where one spelling works on both kernels the code uses it and nothing is here.

#[cfg(rloop_kernel_7x)]
use core::pin::Pin;
use kernel::{
    bindings,
    ffi::{c_char, c_long, c_uint, c_ulong},
    str::CStr,
    uaccess::UserSlice,
};

/// The user memory at `addr`, `len` bytes long. 7.x wraps the address in `UserPtr`.
pub(crate) fn user_slice(addr: usize, len: usize) -> UserSlice {
    #[cfg(not(rloop_kernel_7x))]
    let ptr = addr;
    #[cfg(rloop_kernel_7x)]
    let ptr = kernel::uaccess::UserPtr::from_addr(addr);
    UserSlice::new(ptr, len)
}

/// The C string of `s`, in a `const` context: 7.x's `CStr` is `core::ffi::CStr`, whose
/// `as_char_ptr` is a (non-`const`) trait method.
pub(crate) const fn cstr_ptr(s: &'static CStr) -> *const c_char {
    #[cfg(not(rloop_kernel_7x))]
    let p = s.as_char_ptr();
    #[cfg(rloop_kernel_7x)]
    let p = kernel::str::as_char_ptr_in_const_context(s);
    p
}

/// The bytes of the current bvec entry an iterator has done: `bi_bvec_done` in 6.12,
/// `bi_offset` in 7.x. A field read, not a helper call: it runs for every bio.
pub(crate) fn bvec_iter_done(iter: &bindings::bvec_iter) -> u32 {
    #[cfg(not(rloop_kernel_7x))]
    let done = iter.bi_bvec_done;
    #[cfg(rloop_kernel_7x)]
    let done = iter.bi_offset;
    done
}

/// The type of `device_attribute.show`.
pub(crate) type DevAttrShow = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *mut c_char,
) -> isize;

/// The type of `device_attribute.store`.
pub(crate) type DevAttrStore = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const c_char,
    usize,
) -> isize;

/// Sets `attr.show` and `attr.store`: fields of anonymous unions in 7.x (beside their
/// `const` variants), named by bindgen.
pub(crate) const fn set_dev_attr_callbacks(
    attr: &mut bindings::device_attribute,
    show: Option<DevAttrShow>,
    store: Option<DevAttrStore>,
) {
    #[cfg(not(rloop_kernel_7x))]
    {
        attr.show = show;
        attr.store = store;
    }
    #[cfg(rloop_kernel_7x)]
    {
        attr.__bindgen_anon_1.show = show;
        attr.__bindgen_anon_2.store = store;
    }
}

/// Sets `group.attrs`, in an anonymous union in 7.x.
pub(crate) const fn set_group_attrs(
    group: &mut bindings::attribute_group,
    attrs: *mut *mut bindings::attribute,
) {
    #[cfg(not(rloop_kernel_7x))]
    {
        group.attrs = attrs;
    }
    #[cfg(rloop_kernel_7x)]
    {
        group.__bindgen_anon_2.attrs = attrs;
    }
}

/// The type of `file_operations.compat_ioctl`.
pub(crate) type CompatIoctlFn =
    Option<unsafe extern "C" fn(*mut bindings::file, c_uint, c_ulong) -> c_long>;

/// `compat_ptr_ioctl`, as a `file_operations.compat_ioctl`: 7.x's bindings give it as an
/// `Option` already (`None` on a kernel without `CONFIG_COMPAT`).
#[cfg(not(rloop_kernel_7x))]
pub(crate) const COMPAT_PTR_IOCTL: CompatIoctlFn = Some(bindings::compat_ptr_ioctl);
/// `compat_ptr_ioctl`, as a `file_operations.compat_ioctl`: 7.x's bindings give it as an
/// `Option` already (`None` on a kernel without `CONFIG_COMPAT`).
#[cfg(rloop_kernel_7x)]
pub(crate) const COMPAT_PTR_IOCTL: CompatIoctlFn = bindings::compat_ptr_ioctl;

/// What `static_lock_class!()` gives: a plain static reference in 6.12, pinned in 7.x.
#[cfg(not(rloop_kernel_7x))]
pub(crate) type StaticLockClass = &'static kernel::sync::LockClassKey;
/// What `static_lock_class!()` gives: a plain static reference in 6.12, pinned in 7.x.
#[cfg(rloop_kernel_7x)]
pub(crate) type StaticLockClass = Pin<&'static kernel::sync::LockClassKey>;

/// The C key behind a static `LockClassKey`.
pub(crate) fn lock_class_ptr(key: StaticLockClass) -> *mut bindings::lock_class_key {
    #[cfg(rloop_kernel_7x)]
    let key = key.get_ref();
    // `LockClassKey` is a `repr(transparent)` wrapper of `Opaque<lock_class_key>` in both
    // kernels (its `as_ptr` is crate-private in 6.12): the address of the one is the address
    // of the other.
    core::ptr::from_ref(key).cast_mut().cast()
}

/// The byte-view traits of `UserSliceReader::read` and `UserSliceWriter::write`: in
/// `kernel::types` in 6.12, in `kernel::transmute` in 7.x.
#[cfg(rloop_kernel_7x)]
pub(crate) use kernel::transmute::{AsBytes, FromBytes};
/// The byte-view traits of `UserSliceReader::read` and `UserSliceWriter::write`: in
/// `kernel::types` in 6.12, in `kernel::transmute` in 7.x.
#[cfg(not(rloop_kernel_7x))]
pub(crate) use kernel::types::{AsBytes, FromBytes};

/// A spinlock taken with interrupts off: rloop's own `Lock` backend on 6.12, the kernel
/// crate's `SpinLockIrq` on 7.x.
#[cfg(not(rloop_kernel_7x))]
#[path = "irq_spinlock.rs"]
mod irq_spinlock;
#[cfg(not(rloop_kernel_7x))]
pub(crate) use irq_spinlock::IrqSpinLock;
/// A spinlock taken with interrupts off: rloop's own `Lock` backend on 6.12, the kernel
/// crate's `SpinLockIrq` on 7.x.
#[cfg(rloop_kernel_7x)]
pub(crate) type IrqSpinLock<T> = kernel::sync::SpinLockIrq<T>;

/// Creates an [`IrqSpinLock`] initialiser with a lockdep class of its own, as
/// `kernel::new_spinlock!` does.
#[cfg(not(rloop_kernel_7x))]
macro_rules! new_irq_spinlock {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::kernel_extras::IrqSpinLock::new(
            $inner,
            ::kernel::optional_name!($($name)?),
            ::kernel::static_lock_class!(),
        )
    };
}
/// Creates an [`IrqSpinLock`] initialiser with a lockdep class of its own, as
/// `kernel::new_spinlock!` does.
#[cfg(rloop_kernel_7x)]
macro_rules! new_irq_spinlock {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        ::kernel::new_spinlock_irq!($inner $(, $name)?)
    };
}
pub(crate) use new_irq_spinlock;

/// `Opaque::try_ffi_init`: an `Opaque<T>` set up in place by `f`, which may fail. 6.12's
/// kernel crate has no such constructor.
#[cfg(not(rloop_kernel_7x))]
pub(crate) fn opaque_try_ffi_init<T>(
    f: impl FnOnce(*mut T) -> kernel::error::Result,
) -> impl kernel::prelude::PinInit<kernel::types::Opaque<T>, kernel::error::Error> {
    // SAFETY: `Opaque<T>` is `repr(transparent)` over a `MaybeUninit<T>`, which needs no
    // initialisation to be valid: `f` may leave it as it wants, on success or failure, and
    // the slot is not moved.
    unsafe {
        kernel::init::pin_init_from_closure(move |slot: *mut kernel::types::Opaque<T>| {
            f(slot.cast())
        })
    }
}

/// `Opaque::try_ffi_init`: an `Opaque<T>` set up in place by `f`, which may fail.
#[cfg(rloop_kernel_7x)]
pub(crate) fn opaque_try_ffi_init<T>(
    f: impl FnOnce(*mut T) -> kernel::error::Result,
) -> impl kernel::prelude::PinInit<kernel::types::Opaque<T>, kernel::error::Error> {
    kernel::types::Opaque::try_ffi_init(f)
}
