// SPDX-License-Identifier: GPL-2.0

//! The control ioctls of `/dev/rloop-control`: copy-in, validation, create+attach, remove.
//!
//! Every number here comes from user space: it is checked before use, with checked
//! arithmetic (an overflow under `CONFIG_RUST_OVERFLOW_CHECKS` would panic the kernel).

use crate::rloop_sys::{eoverflow, BackingFile, ControlOps, DiskParams, DiskRef, FileKind};
use crate::rloop_uapi::{
    RloopConfig, RLOOP_CONFIG_SIZE_V1, RLOOP_CTL_CREATE, RLOOP_CTL_REMOVE, RLOOP_FLAGS_ALL,
    RLOOP_FLAG_PARTSCAN, RLOOP_FLAG_READ_ONLY, RLOOP_SET_CAPACITY,
};
use crate::{rloop_sys::capable_sys_admin, Attach, Device, Registry};
use kernel::{prelude::*, sync::Arc, uaccess::UserSlice};

/// The ioctl handler of the control node.
pub(crate) struct Control;

impl ControlOps for Control {
    type Data = Arc<Registry>;

    fn ioctl(registry: &Arc<Registry>, cmd: u32, arg: usize) -> Result<i32> {
        if !capable_sys_admin() {
            return Err(EPERM);
        }
        match cmd {
            RLOOP_CTL_CREATE => create(registry, arg).map(|()| 0),
            RLOOP_CTL_REMOVE => {
                let index = u32::try_from(arg).map_err(|_| ENODEV)?;
                registry.remove(index).map(|()| 0)
            }
            _ => Err(ENOTTY),
        }
    }
}

fn create(registry: &Arc<Registry>, arg: usize) -> Result {
    let (mut reader, mut writer) =
        UserSlice::new(arg, core::mem::size_of::<RloopConfig>()).reader_writer();
    let mut config: RloopConfig = reader.read()?;
    check_config(&config)?;
    let attach = resolve(BackingFile::from_fd(config.fd)?, &config)?;
    let index = registry.create(attach)?;
    config.index = index;
    if let Err(e) = writer.write(&config) {
        // User space cannot learn the index: do not leave a device it does not know of.
        let _ = registry.remove(index);
        return Err(e);
    }
    Ok(())
}

/// The checks that need nothing but the structure.
fn check_config(config: &RloopConfig) -> Result {
    if config.size != RLOOP_CONFIG_SIZE_V1 {
        return Err(EINVAL);
    }
    if config.flags & !RLOOP_FLAGS_ALL != 0 {
        return Err(EINVAL);
    }
    if config.reserved0 != 0 || config.reserved.iter().any(|&r| r != 0) {
        return Err(EINVAL);
    }
    if config.sizelimit != 0 {
        // The end of the window must be a file position.
        let end = config
            .offset
            .checked_add(config.sizelimit)
            .ok_or(eoverflow())?;
        i64::try_from(end).map_err(|_| eoverflow())?;
    }
    i64::try_from(config.offset).map_err(|_| eoverflow())?;
    Ok(())
}

/// The bytes of a `size`-byte file a device exposes from `offset`, at most `sizelimit` (0: no
/// limit), in whole blocks.
fn window_len(size: u64, offset: u64, sizelimit: u64, block_size: u32) -> u64 {
    let available = size.saturating_sub(offset);
    let len = match sizelimit {
        0 => available,
        limit => limit.min(available),
    };
    // `checked_rem` rather than `%`: no division-by-zero panic path in the kernel.
    len - len.checked_rem(u64::from(block_size)).unwrap_or(len)
}

/// Ioctls on `/dev/rloopN` itself.
pub(crate) fn device_ioctl(dev: &Device, disk: DiskRef<'_>, cmd: u32, _arg: usize) -> Result<i32> {
    match cmd {
        RLOOP_SET_CAPACITY => {
            // The file may have grown or shrunk: take its size now. Past a shrunk end, I/O
            // fails with short reads and writes.
            let size = dev.file.attrs()?.size;
            let len = window_len(size, dev.offset, dev.sizelimit, dev.block_size);
            disk.set_capacity_and_notify(len >> 9);
            pr_info!("rloop{}: capacity now {} bytes\n", dev.index, len);
            Ok(0)
        }
        _ => Err(ENOTTY),
    }
}

/// A block size a disk can have: a power of two from 512 to `PAGE_SIZE`.
fn valid_block_size(size: u32) -> bool {
    size.is_power_of_two() && (512..=kernel::page::PAGE_SIZE as u32).contains(&size)
}

/// Checks the backing file against the request and works out the disk's geometry.
fn resolve(file: BackingFile, config: &RloopConfig) -> Result<Attach> {
    if file.kind() == FileKind::Other {
        return Err(EINVAL);
    }
    if !file.can_read() {
        return Err(EBADF);
    }
    if !file.can_direct_io() {
        pr_warn!(
            "fd {}: the backing file cannot do direct I/O; rloop does no buffered I/O\n",
            config.fd
        );
        return Err(EINVAL);
    }
    let attrs = file.attrs()?;

    // The smallest unit the file takes direct I/O in: below it the block layer must refuse
    // I/O before it reaches us.
    let inherited = match attrs.dio_offset_align {
        0 => file.bdev_logical_block_size().unwrap_or(512),
        align => align,
    };
    if !valid_block_size(inherited) {
        return Err(EINVAL);
    }
    let block_size = match config.block_size {
        0 => inherited,
        bs if valid_block_size(bs) && bs >= inherited => bs,
        _ => return Err(EINVAL),
    };
    if config.offset.checked_rem(u64::from(block_size)) != Some(0) || config.offset >= attrs.size {
        return Err(EINVAL);
    }
    let len = window_len(attrs.size, config.offset, config.sizelimit, block_size);
    if len == 0 {
        return Err(EINVAL);
    }

    let read_only = config.flags & RLOOP_FLAG_READ_ONLY != 0 || !file.can_write();
    let dma_alignment = block_size
        .max(attrs.dio_mem_align)
        .checked_sub(1)
        .ok_or(EINVAL)?;
    let params = DiskParams {
        block_size,
        dma_alignment,
        capacity_sectors: len >> 9,
        read_only,
        partscan: config.flags & RLOOP_FLAG_PARTSCAN != 0,
        rotational: file.is_rotational(),
    };
    Ok(Attach {
        flags: config.flags | if read_only { RLOOP_FLAG_READ_ONLY } else { 0 },
        offset: config.offset,
        sizelimit: config.sizelimit,
        ino: attrs.ino,
        dev: attrs.dev,
        params,
        file,
    })
}
