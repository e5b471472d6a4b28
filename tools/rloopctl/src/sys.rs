// SPDX-License-Identifier: GPL-2.0

//! The raw `ioctl(2)` call and the `_IOC()` encoding, for this crate and for
//! `rloop-raw`.

use std::os::fd::RawFd;

/// `_IOC_NONE`.
pub const IOC_NONE: u32 = 0;
/// `_IOC_WRITE`: user space writes, the kernel reads.
pub const IOC_WRITE: u32 = 1;
/// `_IOC_READ`: the kernel writes back.
pub const IOC_READ: u32 = 2;
/// Largest size the 14-bit size field holds.
pub const IOC_SIZE_MAX: u32 = (1 << 14) - 1;

/// The generic `_IOC(dir, type, nr, size)` encoding (x86, arm64, riscv...),
/// the same one `uapi/rloop_uapi.rs` uses.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: u32) -> u32 {
    ((dir & 3) << 30) | ((size & IOC_SIZE_MAX) << 16) | ((ty & 0xff) << 8) | (nr & 0xff)
}

/// `_IOC_DIR(cmd)`.
pub const fn ioc_dir(cmd: u32) -> u32 {
    cmd >> 30
}

/// `_IOC_TYPE(cmd)`.
pub const fn ioc_type(cmd: u32) -> u32 {
    (cmd >> 8) & 0xff
}

/// `_IOC_NR(cmd)`.
pub const fn ioc_nr(cmd: u32) -> u32 {
    cmd & 0xff
}

/// `_IOC_SIZE(cmd)`.
pub const fn ioc_size(cmd: u32) -> u32 {
    (cmd >> 16) & IOC_SIZE_MAX
}

/// Issues `ioctl(fd, cmd, arg)`; returns its non-negative result or the
/// errno.
///
/// # Safety
///
/// If the ioctl `cmd` means on `fd` takes a pointer, `arg` must be a pointer
/// to memory the kernel may read and write as that ioctl defines (an invalid
/// address is fine: the kernel answers `EFAULT`), or a value the kernel never
/// dereferences into this process's own memory.
pub unsafe fn ioctl(fd: RawFd, cmd: u32, arg: usize) -> Result<i32, i32> {
    // SAFETY: The caller vouches for `arg` as described above.
    let r = unsafe { libc::ioctl(fd, cmd as _, arg) };
    if r < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi;

    #[test]
    fn encoding_matches_uapi() {
        assert_eq!(
            ioc(IOC_READ | IOC_WRITE, abi::RLOOP_IOCTL_TYPE, 0xa0, 72),
            abi::RLOOP_CTL_CREATE
        );
        assert_eq!(
            ioc(IOC_NONE, abi::RLOOP_IOCTL_TYPE, 0xa1, 0),
            abi::RLOOP_CTL_REMOVE
        );
        assert_eq!(
            ioc(IOC_NONE, abi::RLOOP_IOCTL_TYPE, 0xa2, 0),
            abi::RLOOP_SET_CAPACITY
        );
        let c = abi::RLOOP_CTL_CREATE;
        assert_eq!(
            (ioc_dir(c), ioc_type(c), ioc_nr(c), ioc_size(c)),
            (3, 0x4c, 0xa0, 72)
        );
        // BLKSSZGET = _IO(0x12, 104).
        assert_eq!(ioc(IOC_NONE, 0x12, 104, 0), libc::BLKSSZGET as u32);
    }
}
