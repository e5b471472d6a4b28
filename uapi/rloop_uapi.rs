// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note

//! The rloop user-space ABI: the ioctls of `/dev/rloop-control` and of
//! `/dev/rloopN`.
//!
//! This file is the one definition of the ABI. The kernel module and the
//! `rloopctl` crate both include it with `#[path]`; `uapi/linux/rloop.h` is
//! its C rendering for C users, checked against it by the layout tests. It
//! uses nothing but `core`, so it builds in both places.

/// The ioctl type byte, `0xd1`: unused in the kernel's registry
/// (`Documentation/userspace-api/ioctl/ioctl-number.rst`, 6.12), unlike
/// loop's `'L'`, which rloop borrowed before. rloop uses numbers `0x00..=0x1f`.
///
/// The numbers and argument types below are the definition; each side
/// encodes them with its architecture's `_IOC()` (the kernel crate's
/// `ioctl` module, rustix's `ioctl::opcode`, the C header's `_IO`/`_IOWR`),
/// which differs on powerpc, mips and sparc.
pub const RLOOP_IOCTL_TYPE: u32 = 0xd1;

/// Path of the control node the module creates.
pub const RLOOP_CONTROL_NAME: &str = "rloop-control";
/// Name prefix of the disks (`rloop0`, `rloop1`, ...).
pub const RLOOP_DISK_PREFIX: &str = "rloop";

/// The disk is read-only even if the file could be written.
pub const RLOOP_FLAG_READ_ONLY: u32 = 1 << 0;
/// The device is detached and removed when its last opener closes it. The
/// create returns a descriptor open on the new device, the first opener:
/// the device lives while it or a later opener holds the device (udev's
/// probes meanwhile do not count as the last close), and goes when the last
/// one closes, also when its creator dies without closing.
pub const RLOOP_FLAG_AUTOCLEAR: u32 = 1 << 2;
/// Partitions on the disk are scanned and exposed.
pub const RLOOP_FLAG_PARTSCAN: u32 = 1 << 3;
/// Every flag this version knows; any other bit gives `EINVAL`.
pub const RLOOP_FLAGS_ALL: u32 = RLOOP_FLAG_READ_ONLY | RLOOP_FLAG_AUTOCLEAR | RLOOP_FLAG_PARTSCAN;

/// Argument of [`RLOOP_CTL_CREATE`]: creates a disk and attaches `fd` to it.
///
/// The bit values of the flags are loop's `LO_FLAGS_*`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RloopConfig {
    /// `size_of::<RloopConfig>()`: the version of this structure.
    pub size: u32,
    /// `RLOOP_FLAG_*`.
    pub flags: u32,
    /// The backing file: a regular file or a block device.
    pub fd: i32,
    /// Logical block size in bytes; 0 inherits the backing file's.
    pub block_size: u32,
    /// Byte offset into the backing file; a multiple of the block size.
    pub offset: u64,
    /// Bytes of the backing file to expose from `offset`; 0 is up to its end.
    pub sizelimit: u64,
    /// Out: the index `N` of `/dev/rloopN`.
    pub index: u32,
    /// Must be zero.
    pub reserved0: u32,
    /// Must be zero.
    pub reserved: [u64; 4],
}

/// Size in bytes of [`RloopConfig`] in this version of the ABI.
pub const RLOOP_CONFIG_SIZE_V1: u32 = 72;

/// `_IOWR(0xd1, 0x00, struct rloop_config)` on `/dev/rloop-control`: create a
/// disk and attach a file in one step. Sets `index` and returns 0, or with
/// [`RLOOP_FLAG_AUTOCLEAR`] a new close-on-exec descriptor open on the disk
/// (read-write unless the disk is read-only).
pub const RLOOP_CTL_CREATE_NR: u32 = 0x00;
/// `_IO(0xd1, 0x01)` on `/dev/rloop-control`: detach and remove the disk
/// whose index is the argument; `EBUSY` if it is open.
pub const RLOOP_CTL_REMOVE_NR: u32 = 0x01;
/// `_IO(0xd1, 0x02)` on `/dev/rloopN`: re-read the backing file's size.
pub const RLOOP_SET_CAPACITY_NR: u32 = 0x02;
/// `_IO(0xd1, 0x03)` on `/dev/rloop-control`: detach and remove the disk
/// whose index is the argument, as `losetup -d` does: returns 0 if it is
/// gone; if it is open, turns autoclear on and returns 1: it goes on its
/// last close.
pub const RLOOP_CTL_DETACH_NR: u32 = 0x03;

const _: () = assert!(core::mem::size_of::<RloopConfig>() == RLOOP_CONFIG_SIZE_V1 as usize);
