// SPDX-License-Identifier: GPL-2.0

//! [`BackingFile`]: a file taken from a descriptor, and what a loop-style driver asks of it
//! besides reads and writes: what it is, its size and direct-I/O alignment, fsync,
//! fallocate, its path.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use crate::bindings_ext::{
    rloop_helper_bdev_can_poll, rloop_helper_bdev_logical_block_size, rloop_helper_bdev_nonrot,
    rloop_helper_bdev_nr_sectors, rloop_helper_file_inode, rloop_helper_file_path,
    rloop_helper_inode_is_append, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE,
    FMODE_CAN_ODIRECT, FMODE_READ, FMODE_WRITE,
};
use crate::file_pos::FilePos;
use crate::kernel_extras::OwnedFile;
use core::ptr::{self, NonNull};
use kernel::{
    bindings,
    error::{from_err_ptr, to_result},
    ffi::{c_char, c_int, c_uint},
    prelude::*,
};

/// The kinds of file a backing file can be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FileKind {
    /// `S_IFREG`.
    Regular,
    /// `S_IFBLK`.
    BlockDevice,
    /// Anything else: directories, pipes, sockets, character devices, ...
    Other,
}

/// What the file system says of direct-I/O alignment (`STATX_DIOALIGN`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DioAlign {
    /// Direct I/O must be aligned to `offset` bytes in the file and `memory` bytes in memory.
    Aligned {
        /// `dio_offset_align`.
        offset: u32,
        /// `dio_mem_align`.
        memory: u32,
    },
    /// The file system answered, and this file cannot do direct I/O (`dio_offset_align` 0):
    /// ext4 `data=journal`, verity, fscrypt without inline encryption.
    Unsupported,
    /// The file system does not answer `STATX_DIOALIGN` (tmpfs, btrfs, network file
    /// systems): see [`BackingFile::unreported_dio_align`].
    Unknown,
}

/// What `vfs_getattr` says of a backing file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileAttrs {
    /// Size in bytes (of the device, for a block device).
    pub(crate) size: u64,
    /// Inode number.
    pub(crate) ino: u64,
    /// The device holding the inode (`st_dev`).
    pub(crate) dev: u32,
    /// Direct-I/O alignment.
    pub(crate) dio: DioAlign,
}

/// How [`BackingFile::fallocate`] changes a range; the file's size never changes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Fallocate {
    /// `FALLOC_FL_PUNCH_HOLE`: deallocate.
    PunchHole,
    /// `FALLOC_FL_ZERO_RANGE`: zero, keeping the blocks allocated.
    ZeroRange,
}

/// A reference to an open file, taken from a file descriptor; given back on drop.
pub(crate) struct BackingFile {
    file: OwnedFile,
}

// SAFETY: The methods only read fields fixed at open or call thread-safe VFS functions.
unsafe impl Sync for BackingFile {}

impl BackingFile {
    /// The file open at `fd` in the calling process. `EBADF` for a bad descriptor and for an
    /// `O_PATH` one (`fget` ignores those).
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        let fd = c_uint::try_from(fd).map_err(|_| EBADF)?;
        // SAFETY: `fget` takes any number.
        let file = NonNull::new(unsafe { bindings::fget(fd) }).ok_or(EBADF)?;
        Ok(Self {
            // SAFETY: A non-null `fget` result carries a reference, which moves in.
            file: unsafe { OwnedFile::from_raw(file) },
        })
    }

    /// The C file, live while `self` is.
    pub(super) fn as_raw(&self) -> *mut bindings::file {
        self.file.as_raw()
    }

    fn inode(&self) -> *mut bindings::inode {
        // SAFETY: The file is live.
        unsafe { rloop_helper_file_inode(self.as_raw()) }
    }

    fn mode(&self) -> u32 {
        // SAFETY: The file is live; `f_mode` is set at open.
        unsafe { (*self.as_raw()).f_mode }
    }

    /// What kind of file this is.
    pub(crate) fn kind(&self) -> FileKind {
        // SAFETY: The inode of a live file is live; its type bits never change.
        let mode = u32::from(unsafe { (*self.inode()).i_mode }) & bindings::S_IFMT;
        match mode {
            bindings::S_IFREG => FileKind::Regular,
            bindings::S_IFBLK => FileKind::BlockDevice,
            _ => FileKind::Other,
        }
    }

    /// Whether the file was opened for reading and has `read_iter`.
    pub(crate) fn can_read(&self) -> bool {
        // SAFETY: The file is live; `f_op` is set at open.
        let has = unsafe { (*(*self.as_raw()).f_op).read_iter.is_some() };
        self.mode() & FMODE_READ != 0 && has
    }

    /// Whether the file was opened for writing and has `write_iter`.
    pub(crate) fn can_write(&self) -> bool {
        // SAFETY: The file is live; `f_op` is set at open.
        let has = unsafe { (*(*self.as_raw()).f_op).write_iter.is_some() };
        self.mode() & FMODE_WRITE != 0 && has
    }

    /// Whether the file is append-only (`chattr +a`): the VFS lets a writable open of it
    /// write only at its end (`O_APPEND`), which a disk's writes at any offset are not.
    pub(crate) fn is_append_only(&self) -> bool {
        // SAFETY: The file is live, and so is its inode.
        unsafe { rloop_helper_inode_is_append(rloop_helper_file_inode(self.as_raw())) }
    }

    /// Whether the file's direct I/O can be polled for now: the file has `f_op->iopoll`
    /// (block devices and iomap file systems such as xfs and ext4 do) and the device under
    /// it polls (`BLK_FEAT_POLL`: NVMe or `null_blk` with poll queues; virtio-blk without
    /// them would fail a polled bio with `EOPNOTSUPP`).
    pub(crate) fn can_iopoll(&self) -> bool {
        // SAFETY: The file is live; `f_op` is set at open.
        let has = unsafe { (*(*self.as_raw()).f_op).iopoll.is_some() };
        let Some(bdev) = self.bdev() else {
            return false;
        };
        // SAFETY: The device is live while the file is open.
        has && unsafe { rloop_helper_bdev_can_poll(bdev.as_ptr()) }
    }

    /// Whether the file system takes `O_DIRECT` for the file (`FMODE_CAN_ODIRECT`).
    pub(crate) fn can_direct_io(&self) -> bool {
        self.mode() & FMODE_CAN_ODIRECT != 0
    }

    /// The block device behind the file: the file itself if it is one, else its file
    /// system's device, if it has one.
    fn bdev(&self) -> Option<NonNull<bindings::block_device>> {
        // SAFETY: The file and its inode are live. An open block-device file gives its device
        // through `file_bdev` (its `f_inode` is the device node's, on devtmpfs say); for other
        // files the super block is live and `s_bdev` fixed while it is mounted.
        let bdev = unsafe {
            if self.kind() == FileKind::BlockDevice {
                bindings::file_bdev(self.as_raw())
            } else {
                (*(*self.inode()).i_sb).s_bdev
            }
        };
        NonNull::new(bdev)
    }

    /// The logical block size of the block device behind the file, if there is one.
    fn bdev_logical_block_size(&self) -> Option<u32> {
        let bdev = self.bdev()?;
        // SAFETY: The device is live while the file is open.
        Some(unsafe { rloop_helper_bdev_logical_block_size(bdev.as_ptr()) })
    }

    /// The direct-I/O alignment to assume where the file system does not answer
    /// `STATX_DIOALIGN`: its device's logical block size; for btrfs, which spans devices and
    /// so has none, its sector size, below which it serves direct I/O through the page
    /// cache (`check_direct_IO()` in `fs/btrfs/direct-io.c`); else 512.
    pub(crate) fn unreported_dio_align(&self) -> u32 {
        if let Some(size) = self.bdev_logical_block_size() {
            return size;
        }
        // SAFETY: The file, its inode and its super block are live while the file is open;
        // `s_magic` and `s_blocksize` are fixed while it is mounted.
        let (magic, block_size) = unsafe {
            let sb = (*self.inode()).i_sb;
            ((*sb).s_magic, (*sb).s_blocksize)
        };
        if usize::try_from(bindings::BTRFS_SUPER_MAGIC).is_ok_and(|btrfs| btrfs == magic) {
            // A power of two of at most 64 KiB; whether rloop takes it is for the caller.
            u32::try_from(block_size).unwrap_or(u32::MAX)
        } else {
            512
        }
    }

    /// Whether the block device behind the file spins (`false` if there is none).
    pub(crate) fn is_rotational(&self) -> bool {
        let Some(bdev) = self.bdev() else {
            return false;
        };
        // SAFETY: The device is live while the file is open.
        !unsafe { rloop_helper_bdev_nonrot(bdev.as_ptr()) }
    }

    /// Size, identity and direct-I/O alignment of the file.
    pub(crate) fn attrs(&self) -> Result<FileAttrs> {
        // SAFETY: `kstat` is plain data; all zeroes is a valid value.
        let mut st: bindings::kstat = unsafe { core::mem::zeroed() };
        // SAFETY: The file and its path are live; `st` is a `kstat` to fill.
        to_result(unsafe {
            bindings::vfs_getattr(
                rloop_helper_file_path(self.as_raw()),
                &mut st,
                bindings::STATX_BASIC_STATS | bindings::STATX_DIOALIGN,
                bindings::AT_STATX_SYNC_AS_STAT,
            )
        })?;
        let size = match (self.kind(), self.bdev()) {
            (FileKind::BlockDevice, Some(bdev)) => {
                // SAFETY: The device is live while the file is open.
                let sectors = unsafe { rloop_helper_bdev_nr_sectors(bdev.as_ptr()) };
                sectors.checked_mul(512).ok_or(EINVAL)?
            }
            _ => u64::try_from(st.size).map_err(|_| EINVAL)?,
        };
        let dio = if st.result_mask & bindings::STATX_DIOALIGN == 0 {
            DioAlign::Unknown
        } else if st.dio_offset_align == 0 {
            DioAlign::Unsupported
        } else {
            DioAlign::Aligned {
                offset: st.dio_offset_align,
                memory: st.dio_mem_align,
            }
        };
        Ok(FileAttrs {
            size,
            ino: st.ino,
            dev: st.dev,
            dio,
        })
    }

    /// Writes the file's data and metadata back (`vfs_fsync`).
    pub(crate) fn fsync(&self) -> Result {
        // SAFETY: The file is live.
        to_result(unsafe { bindings::vfs_fsync_range(self.as_raw(), 0, i64::MAX, 0) })
    }

    /// Deallocates or zeroes `len` bytes at `pos`.
    pub(crate) fn fallocate(&self, how: Fallocate, pos: FilePos, len: u64) -> Result {
        let mode = FALLOC_FL_KEEP_SIZE
            | match how {
                Fallocate::PunchHole => FALLOC_FL_PUNCH_HOLE,
                Fallocate::ZeroRange => FALLOC_FL_ZERO_RANGE,
            };
        let len = i64::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: The file is live; `vfs_fallocate` checks the mode and the range itself.
        to_result(unsafe { bindings::vfs_fallocate(self.as_raw(), mode as c_int, pos.get(), len) })
    }

    /// Writes the file's path (`d_path`, as `/proc/*/fd` links show it) at the start of `buf`
    /// and returns its length.
    pub(crate) fn path_into(&self, buf: &mut [u8]) -> Result<usize> {
        let room = c_int::try_from(buf.len()).map_err(|_| EINVAL)?;
        let dst = buf.as_mut_ptr();
        // SAFETY: `dst` has `room` writable bytes; the file's path is live.
        let p = from_err_ptr(unsafe {
            bindings::d_path(
                rloop_helper_file_path(self.as_raw()),
                dst.cast::<c_char>(),
                room,
            )
        })?;
        // `d_path` builds the name at the end of the buffer: its NUL is the buffer's last
        // byte, so the name is what lies between `p` and that.
        let start = (p as usize).checked_sub(dst as usize).ok_or(EINVAL)?;
        let n = buf
            .len()
            .checked_sub(start)
            .and_then(|r| r.checked_sub(1))
            .ok_or(EINVAL)?;
        // SAFETY: Both ranges are inside `buf`; `ptr::copy` allows them to overlap.
        unsafe { ptr::copy(p.cast::<u8>(), dst, n) };
        Ok(n)
    }
}
