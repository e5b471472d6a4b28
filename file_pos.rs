// SPDX-License-Identifier: GPL-2.0

//! [`FilePos`], a byte position in a file: what the driver's rules compute and the backing
//! file's I/O takes. A leaf of its own, `core` only, so that the `backing` room does not
//! depend on the driver's rules (`rloop_rules`), and the host test crate includes it as it
//! includes them.

/// A byte position in a file (`loff_t`): from 0 to `i64::MAX`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct FilePos(i64);

impl FilePos {
    /// `pos`, if a file position can hold it.
    pub fn new(pos: u64) -> Option<Self> {
        i64::try_from(pos).ok().map(Self)
    }

    /// The position `bytes` further on, if there is one.
    pub fn checked_add(self, bytes: u64) -> Option<Self> {
        Self::new(self.bytes().checked_add(bytes)?)
    }

    /// Where 512-byte sector `sector` of a device whose sector 0 is at `self` lies.
    pub fn of_sector(self, sector: u64) -> Option<Self> {
        self.checked_add(sector.checked_mul(512)?)
    }

    /// As `loff_t`.
    pub fn get(self) -> i64 {
        self.0
    }

    /// In bytes from the start of the file.
    pub fn bytes(self) -> u64 {
        // Never negative (see `new`).
        self.0.unsigned_abs()
    }
}
