// SPDX-License-Identifier: GPL-2.0

//! The ioctls: create+attach and remove on `/dev/rloop-control`, `RLOOP_SET_CAPACITY` on a
//! device.
//!
//! Every number here comes from user space and is checked before use, by the rules of
//! `rloop_rules.rs` (an overflow under `CONFIG_RUST_OVERFLOW_CHECKS` would panic the
//! kernel).

#![forbid(unsafe_code)]

use crate::backing::{BackingFile, DioAlign, FileKind};
use crate::block::{DiskRef, OpenMode};
use crate::kernel_extras::{capable_sys_admin, eoverflow, user_slice, ControlOps};
use crate::rloop_bio::RloopDisk;
use crate::rloop_rules::{self, FilePos, Refusal};
use crate::rloop_uapi::{
    RloopConfig, RLOOP_CONFIG_SIZE_V1, RLOOP_CTL_CREATE_NR, RLOOP_CTL_DETACH_NR,
    RLOOP_CTL_REMOVE_NR, RLOOP_FLAGS_ALL, RLOOP_FLAG_READ_ONLY, RLOOP_IOCTL_TYPE,
    RLOOP_SET_CAPACITY_NR,
};
use crate::{Attach, Device, IfOpen, Registry, Removal};
use kernel::{
    ioctl::{_IO, _IOWR},
    page::PAGE_SIZE,
    prelude::*,
    sync::Arc,
};

// The commands, encoded by this architecture's `_IOC()`.
const RLOOP_CTL_CREATE: u32 = _IOWR::<RloopConfig>(RLOOP_IOCTL_TYPE, RLOOP_CTL_CREATE_NR);
const RLOOP_CTL_REMOVE: u32 = _IO(RLOOP_IOCTL_TYPE, RLOOP_CTL_REMOVE_NR);
const RLOOP_CTL_DETACH: u32 = _IO(RLOOP_IOCTL_TYPE, RLOOP_CTL_DETACH_NR);
const RLOOP_SET_CAPACITY: u32 = _IO(RLOOP_IOCTL_TYPE, RLOOP_SET_CAPACITY_NR);

/// The rules' errnos are the kernel's.
const _: () = {
    use kernel::bindings;
    assert!(rloop_rules::errno::EIO == bindings::EIO as i32);
    assert!(rloop_rules::errno::EAGAIN == bindings::EAGAIN as i32);
    assert!(rloop_rules::errno::ENOMEM == bindings::ENOMEM as i32);
    assert!(rloop_rules::errno::EBUSY == bindings::EBUSY as i32);
    assert!(rloop_rules::errno::EINVAL == bindings::EINVAL as i32);
};

/// The ioctls of the control node.
pub(crate) struct Control;

impl ControlOps for Control {
    type Data = Arc<Registry>;

    fn ioctl(registry: &Arc<Registry>, cmd: u32, arg: usize) -> Result<i32> {
        if !capable_sys_admin() {
            return Err(EPERM);
        }
        match cmd {
            RLOOP_CTL_CREATE => create(registry, arg),
            RLOOP_CTL_REMOVE | RLOOP_CTL_DETACH => {
                let index = u32::try_from(arg).map_err(|_| ENODEV)?;
                let if_open = if cmd == RLOOP_CTL_DETACH {
                    IfOpen::Autoclear
                } else {
                    IfOpen::Refuse
                };
                match registry.remove(index, if_open)? {
                    Removal::Done => Ok(0),
                    // Only a detach leaves an open device to its last close.
                    Removal::OnLastClose => Ok(1),
                }
            }
            _ => Err(ENOTTY),
        }
    }
}

/// `RLOOP_CTL_CREATE`: 0, or for an autoclear device a new descriptor of it, the creator's
/// hold on it.
fn create(registry: &Arc<Registry>, arg: usize) -> Result<i32> {
    let (mut reader, mut writer) =
        user_slice(arg, core::mem::size_of::<RloopConfig>()).reader_writer();
    let mut config: RloopConfig = reader.read()?;
    let offset = check_config(&config)?;
    let file = BackingFile::from_fd(config.fd)?;
    let attach = resolve(&file, &config, offset)?;
    // The index is copied out before the disk is made: removing a disk after a failed
    // copy-out could find it already opened by a partition scan or by udev.
    let holder = registry.create(attach, file, |index| {
        config.index = index;
        writer.write(&config)
    })?;
    match holder {
        Some(file) => file.into_fd(),
        None => Ok(0),
    }
}

fn errno(refusal: Refusal) -> Error {
    pr_debug!("create refused: {}\n", refusal.rule());
    match refusal {
        Refusal::Invalid(_) => EINVAL,
        Refusal::Overflow(_) => eoverflow(),
    }
}

/// The checks that need nothing but the structure; returns where the window starts.
fn check_config(config: &RloopConfig) -> Result<FilePos> {
    if config.size != RLOOP_CONFIG_SIZE_V1
        || config.flags & !RLOOP_FLAGS_ALL != 0
        || config.reserved0 != 0
        || config.reserved.iter().any(|&r| r != 0)
    {
        return Err(EINVAL);
    }
    rloop_rules::check_window(config.offset, config.sizelimit).map_err(errno)
}

/// Checks the backing file against the request and works out the device's geometry.
fn resolve(file: &BackingFile, config: &RloopConfig, offset: FilePos) -> Result<Attach> {
    if file.kind() == FileKind::Other {
        return Err(EINVAL);
    }
    if !file.can_read() {
        return Err(EBADF);
    }
    let attrs = file.attrs()?;
    // The smallest unit the file takes direct I/O in: the block size, so that the block
    // layer refuses anything smaller before it reaches us.
    // A file system that does not say (tmpfs, btrfs) but takes `O_DIRECT` gets what its
    // direct I/O needs as far as we know it; sysfs `dio_align` says it was assumed.
    let (inherited, mem_align, reported) = match attrs.dio {
        DioAlign::Aligned { offset, memory } if file.can_direct_io() => (offset, memory, true),
        DioAlign::Unknown if file.can_direct_io() => (file.unreported_dio_align(), 0, false),
        _ => {
            pr_warn!(
                "fd {}: the backing file cannot do direct I/O; rloop does no buffered I/O\n",
                config.fd
            );
            return Err(EINVAL);
        }
    };
    let page_size = PAGE_SIZE as u32;
    let block_size =
        rloop_rules::choose_block_size(config.block_size, inherited, page_size).map_err(errno)?;
    let len = rloop_rules::window_len(attrs.size, config.offset, config.sizelimit, block_size)
        .map_err(errno)?;

    let read_only = config.flags & RLOOP_FLAG_READ_ONLY != 0 || !file.can_write();
    // A writable disk over an append-only file would write at any offset, which the VFS
    // refuses to any writable open but an O_APPEND one: refused as open(2) does.
    if !read_only && file.is_append_only() {
        return Err(EPERM);
    }
    Ok(Attach {
        flags: config.flags | if read_only { RLOOP_FLAG_READ_ONLY } else { 0 },
        offset,
        sizelimit: config.sizelimit,
        ino: attrs.ino,
        dev: attrs.dev,
        dio_align: inherited,
        dio_align_reported: reported,
        block_size,
        dma_alignment: block_size.max(mem_align),
        capacity_sectors: len >> 9,
        read_only,
        rotational: file.is_rotational(),
    })
}

/// Ioctls on `/dev/rloopN` itself.
pub(crate) fn device_ioctl(
    dev: &Device,
    disk: DiskRef<'_, RloopDisk>,
    mode: OpenMode,
    cmd: u32,
    _arg: usize,
) -> Result<i32> {
    match cmd {
        RLOOP_SET_CAPACITY => {
            // As loop's `LOOP_SET_CAPACITY`: a change to the device asks for write access.
            if !mode.can_write() && !capable_sys_admin() {
                return Err(EPERM);
            }
            // The file may have grown or shrunk: take its size now. Past a shrunk end, I/O
            // fails with short reads and writes.
            let a = &dev.attach;
            let size = dev.file.get().ok_or(ENXIO)?.attrs()?.size;
            let len = rloop_rules::resized_len(size, a.offset.bytes(), a.sizelimit, a.block_size);
            disk.set_capacity_and_notify(len >> 9);
            Ok(0)
        }
        _ => Err(ENOTTY),
    }
}
