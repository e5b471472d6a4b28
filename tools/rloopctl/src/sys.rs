// SPDX-License-Identifier: GPL-2.0

//! The raw `ioctl(2)` call and the `_IOC()` encoding, for this crate and for
//! `rloop-raw`.

use crate::abi;
use rustix::ioctl::{opcode, Direction};
use std::os::fd::RawFd;

/// `_IOWR(RLOOP_IOCTL_TYPE, RLOOP_CTL_CREATE_NR, struct rloop_config)`.
pub const RLOOP_CTL_CREATE: u32 = cmd(opcode::read_write::<abi::RloopConfig>(
    abi::RLOOP_IOCTL_TYPE as u8,
    abi::RLOOP_CTL_CREATE_NR as u8,
));
/// `_IO(RLOOP_IOCTL_TYPE, RLOOP_CTL_REMOVE_NR)`.
pub const RLOOP_CTL_REMOVE: u32 = none(abi::RLOOP_CTL_REMOVE_NR);
/// `_IO(RLOOP_IOCTL_TYPE, RLOOP_SET_CAPACITY_NR)`.
pub const RLOOP_SET_CAPACITY: u32 = none(abi::RLOOP_SET_CAPACITY_NR);
/// `_IO(RLOOP_IOCTL_TYPE, RLOOP_CTL_DETACH_NR)`.
pub const RLOOP_CTL_DETACH: u32 = none(abi::RLOOP_CTL_DETACH_NR);

const fn none(nr: u32) -> u32 {
    cmd(opcode::none(abi::RLOOP_IOCTL_TYPE as u8, nr as u8))
}

/// An opcode as the `u32` the kernel's `ioctl` handlers see.
const fn cmd(op: rustix::ioctl::Opcode) -> u32 {
    op as u32
}

/// `_IOC(dir, ty, nr, size)` with this architecture's encoding, for callers
/// that build odd commands on purpose (`rloop-raw`'s fuzzer); `dir` is
/// `_IOC_NONE` 0, `_IOC_WRITE` 1, `_IOC_READ` 2 or both.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: u32) -> u32 {
    let direction = match dir & 3 {
        0 => Direction::None,
        1 => Direction::Write,
        2 => Direction::Read,
        _ => Direction::ReadWrite,
    };
    cmd(opcode::from_components(
        direction,
        ty as u8,
        nr as u8,
        (size & IOC_SIZE_MAX) as usize,
    ))
}

/// `_IOC_SIZE(cmd)`: the size field starts at bit 16 on every architecture.
pub const fn ioc_size(cmd: u32) -> u32 {
    (cmd >> 16) & IOC_SIZE_MAX
}

/// `_IOC_NONE`.
pub const IOC_NONE: u32 = 0;
/// `_IOC_WRITE`: user space writes, the kernel reads.
pub const IOC_WRITE: u32 = 1;
/// `_IOC_READ`: the kernel writes back.
pub const IOC_READ: u32 = 2;
/// Largest size the size field holds: 13 bits on powerpc, mips and sparc,
/// 14 elsewhere.
pub const IOC_SIZE_MAX: u32 = (1 << IOC_SIZEBITS) - 1;
const IOC_SIZEBITS: u32 = if cfg!(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6",
    target_arch = "sparc",
    target_arch = "sparc64"
)) {
    13
} else {
    14
};

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

    #[test]
    fn encoding_matches_the_generic_ioc() {
        // The generic _IOC() (x86, arm64, riscv): dir << 30 | size << 16 | type << 8 | nr.
        let generic = |dir: u32, nr: u32, size: u32| (dir << 30) | (size << 16) | (0xd1 << 8) | nr;
        assert_eq!(abi::RLOOP_IOCTL_TYPE, 0xd1);
        assert_eq!(RLOOP_CTL_CREATE, generic(IOC_READ | IOC_WRITE, 0, 72));
        assert_eq!(RLOOP_CTL_REMOVE, generic(IOC_NONE, 1, 0));
        assert_eq!(RLOOP_SET_CAPACITY, generic(IOC_NONE, 2, 0));
        assert_eq!(RLOOP_CTL_DETACH, generic(IOC_NONE, 3, 0));
        assert_eq!(ioc(IOC_WRITE, 0xd1, 9, 8), generic(IOC_WRITE, 9, 8));
        // BLKSSZGET = _IO(0x12, 104).
        assert_eq!(ioc(IOC_NONE, 0x12, 104, 0), libc::BLKSSZGET as u32);
    }
}
