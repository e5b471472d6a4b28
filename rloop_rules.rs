// SPDX-License-Identifier: GPL-2.0

//! The rules of rloop that need no kernel: the geometry of a device over its backing file,
//! the checks of a create request, file positions, and what a backing file's answer means
//! for a bio.
//!
//! It uses nothing but `core`, so the module includes it and so does the host test crate
//! (`tools/rloopctl`, with `#[path]`, as `uapi/rloop_uapi.rs` is): the edges are tested on the
//! host with `cargo test`, and `rloopctl` checks a request with the very rules the module
//! applies before it makes the ioctl.

/// `errno` values the rules name (`include/uapi/asm-generic/errno-base.h`, the same on every
/// architecture the kernel builds Rust for). The module asserts them against its bindings.
pub mod errno {
    /// I/O error.
    pub const EIO: i32 = 5;
    /// Try again.
    pub const EAGAIN: i32 = 11;
    /// Out of memory.
    pub const ENOMEM: i32 = 12;
    /// Device or resource busy.
    pub const EBUSY: i32 = 16;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
}

pub use crate::file_pos::FilePos;

/// Why a request is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refusal {
    /// `EINVAL`: a value out of its range or against a rule.
    Invalid(&'static str),
    /// `EOVERFLOW`: a byte position beyond what a file position can hold.
    Overflow(&'static str),
}

impl Refusal {
    /// The rule that was broken, in words.
    pub fn rule(self) -> &'static str {
        match self {
            Refusal::Invalid(why) | Refusal::Overflow(why) => why,
        }
    }
}

/// Whether a disk can have `size`-byte blocks: a power of two from 512 to `page_size`.
pub fn valid_block_size(size: u32, page_size: u32) -> bool {
    size.is_power_of_two() && (512..=page_size).contains(&size)
}

/// The window a request asks for, checked on its own: its offset and, with a size limit, its
/// end must be file positions. Returns the offset.
pub fn check_window(offset: u64, sizelimit: u64) -> Result<FilePos, Refusal> {
    let start = FilePos::new(offset).ok_or(Refusal::Overflow("offset beyond 2^63 - 1"))?;
    if sizelimit != 0 {
        start
            .checked_add(sizelimit)
            .ok_or(Refusal::Overflow("offset + sizelimit beyond 2^63 - 1"))?;
    }
    Ok(start)
}

/// The block size of a device: `requested`, or `inherited` (the backing file's direct-I/O
/// alignment) if 0. Smaller than `inherited`, the file would refuse the device's I/O.
pub fn choose_block_size(requested: u32, inherited: u32, page_size: u32) -> Result<u32, Refusal> {
    if !valid_block_size(inherited, page_size) {
        return Err(Refusal::Invalid(
            "the backing file's direct-I/O alignment is not a block size (a power of two from 512 to the page size)",
        ));
    }
    match requested {
        0 => Ok(inherited),
        bs if !valid_block_size(bs, page_size) => Err(Refusal::Invalid(
            "block size must be a power of two from 512 to the page size",
        )),
        bs if bs < inherited => Err(Refusal::Invalid(
            "block size below the backing file's direct-I/O alignment",
        )),
        bs => Ok(bs),
    }
}

/// The bytes of a `size`-byte file a device shows from `offset`, at most `sizelimit` (0: no
/// limit), in whole `block_size` blocks. Refused if that is nothing, or `offset` is not
/// block-aligned.
pub fn window_len(size: u64, offset: u64, sizelimit: u64, block_size: u32) -> Result<u64, Refusal> {
    let block = u64::from(block_size);
    if block == 0 || offset % block != 0 {
        return Err(Refusal::Invalid(
            "offset must be a multiple of the block size",
        ));
    }
    if offset >= size {
        return Err(Refusal::Invalid(
            "offset at or beyond the end of the backing file",
        ));
    }
    let available = size - offset;
    let len = match sizelimit {
        0 => available,
        limit => limit.min(available),
    };
    let len = len - len % block;
    if len == 0 {
        return Err(Refusal::Invalid("less than one block to show"));
    }
    Ok(len)
}

/// The capacity of a device whose backing file is now `size` bytes, as `RLOOP_SET_CAPACITY`
/// sets it: like [`window_len`], but a file that shrank below the window gives 0, not an
/// error.
pub fn resized_len(size: u64, offset: u64, sizelimit: u64, block_size: u32) -> u64 {
    window_len(size, offset, sizelimit, block_size).unwrap_or(0)
}

/// What a backing file's answer to a read or write of `requested` bytes means for the bio.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IoOutcome {
    /// All of it was done.
    Done,
    /// End the bio with this (positive) errno.
    Failed(i32),
}

/// Maps a backing file's result (bytes done, or a negative errno) to what happens to the bio.
///
/// A short transfer is an error: the rest of the bio did not happen. Direct I/O on a local
/// file system is short only at the file's end (a file truncated under the device), where
/// loop's retry of the rest reads nothing and fails the same way; a write that falls short
/// is an error too, where loop would end it as done. Errors go through [`caller_errno`].
pub fn io_outcome(requested: u32, result: isize) -> IoOutcome {
    match usize::try_from(result) {
        Ok(done) if done == requested as usize => IoOutcome::Done,
        Ok(_) => IoOutcome::Failed(errno::EIO),
        Err(_) => IoOutcome::Failed(match i32::try_from(result.unsigned_abs()) {
            Ok(e) => caller_errno(e),
            Err(_) => errno::EIO,
        }),
    }
}

/// The (positive) errno a bio ends with when the backing file's read, write, fsync or
/// fallocate failed with `errno` (positive).
///
/// `EAGAIN`, `ENOMEM` and `EBUSY` are the backing file's own transient states (rloop never
/// asks it not to wait), which the block layer would turn into `BLK_STS_AGAIN`,
/// `BLK_STS_RESOURCE` and `BLK_STS_DEV_RESOURCE`: statuses that tell a driver to retry,
/// meaningless to an upper layer, which would take `BLK_STS_AGAIN` for "you asked not to
/// wait". They are I/O errors, as is anything that is not an errno.
pub fn caller_errno(errno: i32) -> i32 {
    match errno {
        errno::EAGAIN | errno::ENOMEM | errno::EBUSY => errno::EIO,
        e if e > 0 && e < 4096 => e,
        _ => errno::EIO,
    }
}

/// The largest linger cap a device takes, in microseconds: lingering longer than this would
/// hold a CPU for a whole scheduler slice to save a wake-up worth a few microseconds.
pub const LINGER_US_MAX: u32 = 1000;

/// Parses a write to a device's `linger_us` (a decimal number of microseconds, 0 to
/// [`LINGER_US_MAX`], one trailing newline allowed).
pub fn parse_linger_us(text: &[u8]) -> Result<u32, Refusal> {
    const WHY: &str = "linger_us takes a whole number of microseconds from 0 to 1000";
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    if text.is_empty() || text.len() > 4 {
        return Err(Refusal::Invalid(WHY));
    }
    let mut us: u32 = 0;
    for &c in text {
        if !c.is_ascii_digit() {
            return Err(Refusal::Invalid(WHY));
        }
        us = us * 10 + u32::from(c - b'0');
    }
    if us > LINGER_US_MAX {
        return Err(Refusal::Invalid(WHY));
    }
    Ok(us)
}

/// The adaptive linger window of one worker (how long it keeps watching its empty list
/// before it sleeps), from the gaps it has seen between its list running dry and the next
/// bio arriving.
///
/// The worker lingers when bios have been arriving within the cap: for twice the average gap,
/// so that a typical arrival is caught and a late one does not cost more than that, and never
/// longer than the cap. A device that is idle, or whose bios arrive further apart than the
/// cap, makes gaps the average follows up within a few samples, and the window drops to 0.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LingerWindow {
    /// Average gap in nanoseconds, weighted 1/8 to the newest; `u64::MAX` before the first.
    avg_gap_ns: u64,
}

impl LingerWindow {
    /// Nothing learnt yet: no lingering until a gap has been seen.
    pub const fn new() -> Self {
        Self {
            avg_gap_ns: u64::MAX,
        }
    }

    /// The window as stored in an atomic.
    pub const fn from_bits(bits: u64) -> Self {
        Self { avg_gap_ns: bits }
    }

    /// The window to store in an atomic.
    pub const fn to_bits(self) -> u64 {
        self.avg_gap_ns
    }

    /// The average gap, if one has been seen.
    pub fn avg_gap_ns(self) -> Option<u64> {
        (self.avg_gap_ns != u64::MAX).then_some(self.avg_gap_ns)
    }

    /// Learns one gap: the time from the list running dry to the next bio.
    pub fn learn(self, gap_ns: u64) -> Self {
        // Gaps beyond a second weigh as a second: far above any cap, and the sum cannot
        // overflow.
        let gap = gap_ns.min(1_000_000_000);
        let avg_gap_ns = match self.avg_gap_ns() {
            None => gap,
            Some(avg) => (avg * 7 + gap) / 8,
        };
        Self { avg_gap_ns }
    }

    /// How long to linger, in nanoseconds, under a cap of `cap_ns` (0: never).
    pub fn window_ns(self, cap_ns: u64) -> u64 {
        match self.avg_gap_ns() {
            Some(avg) if avg <= cap_ns => avg.saturating_mul(2).min(cap_ns),
            _ => 0,
        }
    }
}

impl Default for LingerWindow {
    fn default() -> Self {
        Self::new()
    }
}
