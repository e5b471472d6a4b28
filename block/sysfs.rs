// SPDX-License-Identifier: GPL-2.0

//! Sysfs attributes of a [`GenDisk`](super::GenDisk), typed by its
//! [`Operations`]: an [`Attribute<T>`] can only end up in the [`AttributeGroups<T>`] of a
//! `GenDisk<T>`, so its `show` always finds the data of the disk type it was written for.
//!
//! C header: [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h).

use super::disk_shared::DiskShared;
use super::gen_disk::Operations;
use crate::kernel_extras::compat::{cstr_ptr, set_dev_attr_callbacks, set_group_attrs};
use core::{fmt, marker::PhantomData, ptr};
use kernel::{bindings, ffi::c_char, prelude::*, str::CStr};

/// The text of an attribute being read: one page, filled with `write!` or
/// [`SysfsBuffer::fill_with`].
pub(crate) struct SysfsBuffer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl SysfsBuffer<'_> {
    /// Appends what `f` writes at the start of the free part of the buffer; `f` returns how
    /// many bytes it wrote.
    pub(crate) fn fill_with(&mut self, f: impl FnOnce(&mut [u8]) -> Result<usize>) -> Result {
        let spare = &mut self.buf[self.len..];
        let room = spare.len();
        let n = f(spare)?;
        if n > room {
            return Err(EINVAL);
        }
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

/// What an attribute's read prints, from the disk's data.
pub(crate) type ShowFn<T> = fn(&<T as Operations>::Data, &mut SysfsBuffer<'_>) -> Result;

/// What a write to an attribute does with the bytes written (at most a page).
pub(crate) type StoreFn<T> = fn(&<T as Operations>::Data, &[u8]) -> Result;

/// An attribute of a `GenDisk<T>`, declared as a `static`: read-only (0444), or writable by
/// root (0644) if it has a `store`.
///
/// # Invariants
///
/// `attr.show` is `show_callback::<T>`, and `attr.store` is `store_callback::<T>` if `store`
/// is `Some`: both find this `Attribute<T>` around `attr`.
#[repr(C)]
pub(crate) struct Attribute<T: Operations> {
    attr: bindings::device_attribute,
    show: ShowFn<T>,
    store: Option<StoreFn<T>>,
}

// SAFETY: Immutable after construction; sysfs only reads it.
unsafe impl<T: Operations> Sync for Attribute<T> {}

impl<T: Operations> Attribute<T> {
    /// The attribute `name`, whose reads print what `show` writes.
    pub(crate) const fn new(name: &'static CStr, show: ShowFn<T>) -> Self {
        // SAFETY: `device_attribute` is plain data for which all zeroes is valid (no
        // callbacks, null name and lockdep key).
        let mut attr: bindings::device_attribute = unsafe { core::mem::zeroed() };
        attr.attr.name = cstr_ptr(name);
        attr.attr.mode = 0o444;
        // INVARIANT: Set here; `store` is `None`.
        set_dev_attr_callbacks(&mut attr, Some(show_callback::<T>), None);
        Self {
            attr,
            show,
            store: None,
        }
    }

    /// The attribute `name`, whose reads print what `show` writes and whose writes go to
    /// `store`.
    pub(crate) const fn new_rw(name: &'static CStr, show: ShowFn<T>, store: StoreFn<T>) -> Self {
        let mut this = Self::new(name, show);
        this.attr.attr.mode = 0o644;
        // INVARIANT: `store` is `Some`, and so is the callback.
        set_dev_attr_callbacks(
            &mut this.attr,
            Some(show_callback::<T>),
            Some(store_callback::<T>),
        );
        this.store = Some(store);
        this
    }
}

/// A NULL-terminated list of `N` attributes of a `GenDisk<T>`.
#[repr(C)]
pub(crate) struct AttributeList<T: Operations, const N: usize> {
    attrs: [*const bindings::attribute; N],
    end: *const bindings::attribute,
    _p: PhantomData<T>,
}

// SAFETY: Immutable pointers to immutable statics.
unsafe impl<T: Operations, const N: usize> Sync for AttributeList<T, N> {}

impl<T: Operations, const N: usize> AttributeList<T, N> {
    /// The list of `attrs`.
    pub(crate) const fn new(attrs: [&'static Attribute<T>; N]) -> Self {
        let mut list = [ptr::null(); N];
        let mut i = 0;
        while i < N {
            list[i] = &attrs[i].attr.attr;
            i += 1;
        }
        Self {
            attrs: list,
            end: ptr::null(),
            _p: PhantomData,
        }
    }
}

/// A named directory of attributes of a `GenDisk<T>` (`/sys/block/<disk>/<name>/`).
#[repr(transparent)]
pub(crate) struct AttributeGroup<T: Operations> {
    group: bindings::attribute_group,
    _p: PhantomData<T>,
}

// SAFETY: Immutable after construction; it points only to immutable statics.
unsafe impl<T: Operations> Sync for AttributeGroup<T> {}

impl<T: Operations> AttributeGroup<T> {
    /// The group `name` of the attributes in `list`.
    pub(crate) const fn new<const N: usize>(
        name: &'static CStr,
        list: &'static AttributeList<T, N>,
    ) -> Self {
        // SAFETY: `attribute_group` is plain data for which all zeroes is valid.
        let mut group: bindings::attribute_group = unsafe { core::mem::zeroed() };
        group.name = cstr_ptr(name);
        set_group_attrs(&mut group, ptr::from_ref(list).cast_mut().cast());
        Self {
            group,
            _p: PhantomData,
        }
    }
}

/// The NULL-terminated list of groups `device_add_disk` takes, for a `GenDisk<T>`.
#[repr(C)]
pub(crate) struct AttributeGroups<T: Operations> {
    group: *const bindings::attribute_group,
    end: *const bindings::attribute_group,
    _p: PhantomData<T>,
}

// SAFETY: Immutable pointers to immutable statics.
unsafe impl<T: Operations> Sync for AttributeGroups<T> {}

impl<T: Operations> AttributeGroups<T> {
    /// The list holding `group`.
    pub(crate) const fn new(group: &'static AttributeGroup<T>) -> Self {
        Self {
            group: &group.group,
            end: ptr::null(),
            _p: PhantomData,
        }
    }

    pub(super) fn as_raw(&'static self) -> *mut *const bindings::attribute_group {
        ptr::from_ref(self).cast_mut().cast()
    }
}

/// `show` of every [`Attribute<T>`].
///
/// # Safety
///
/// Called by sysfs for an `Attribute<T>` of a `GenDisk<T>` (the only disks its group can be
/// given to), with `buf` a page.
unsafe extern "C" fn show_callback<T: Operations>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: The attribute belongs to a disk's device, embedded in its `block_device`
    // (`dev_to_disk()`); sysfs keeps the disk alive during the call, and it is a `GenDisk<T>`.
    // `attr` is the first field of a `repr(C)` `Attribute<T>` (type invariant). `buf` is a
    // page we may fill.
    let (data, attr, page) = unsafe {
        let bdev = kernel::container_of!(dev, bindings::block_device, bd_device);
        (
            &DiskShared::<T>::from_disk((*bdev).bd_disk).as_ref().data,
            &*attr.cast::<Attribute<T>>(),
            core::slice::from_raw_parts_mut(buf.cast::<u8>(), bindings::PAGE_SIZE),
        )
    };
    let mut out = SysfsBuffer { buf: page, len: 0 };
    match (attr.show)(data, &mut out) {
        Ok(()) => out.len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `store` of every writable [`Attribute<T>`].
///
/// # Safety
///
/// Called by sysfs for an `Attribute<T>` of a `GenDisk<T>` (the only disks its group can be
/// given to), with `buf` holding `count` bytes (at most a page).
unsafe extern "C" fn store_callback<T: Operations>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: As for `show_callback`; `buf` holds `count` bytes for the call.
    let (data, attr, text) = unsafe {
        let bdev = kernel::container_of!(dev, bindings::block_device, bd_device);
        (
            &DiskShared::<T>::from_disk((*bdev).bd_disk).as_ref().data,
            &*attr.cast::<Attribute<T>>(),
            core::slice::from_raw_parts(buf.cast::<u8>(), count),
        )
    };
    // By the type invariant, sysfs only calls this for an attribute with a `store`.
    let Some(store) = attr.store else {
        return EINVAL.to_errno() as isize;
    };
    match store(data, text) {
        // `count` is at most a page.
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
