// SPDX-License-Identifier: GPL-2.0

//! A Rust abstraction for bio-based block drivers: disks whose bios go to the driver's
//! `submit_bio` with no request queue, laid out like `rust/kernel/block/mq` of the 6.12 tree.
//!
//! - [`bio`]: the bios a driver holds ([`Bio`], [`BioList`]) and what they ask for.
//! - `cgroup`: work for a bio charged to its submitter's cgroups.
//! - [`gen_disk`]: [`GenDiskBuilder`], [`GenDisk`] and the [`Operations`] a driver implements.
//! - [`sysfs`]: read-only attributes typed by the disk's operations.
//!
//! It knows nothing of files, kiocbs or any backend; the driver decides what a bio becomes.
//! No such abstraction exists upstream (Rust-for-Linux lists bio-based submission as not
//! implemented); this one is written to be proposable there.

#![allow(unsafe_code)]

pub(crate) mod bio;
mod cgroup;
mod disk_shared;
mod fops;
pub(crate) mod gen_disk;
pub(crate) mod sysfs;

pub(crate) use bio::{Bio, BioKey, BioList, BioOp, BlkStatus};
pub(crate) use cgroup::CgroupKey;
pub(crate) use gen_disk::{
    CompatIoctl, DiskRef, Features, GenDisk, GenDiskBuilder, OpenMode, Operations, PollCtx,
};
pub(crate) use sysfs::{Attribute, AttributeGroup, AttributeGroups, AttributeList, SysfsBuffer};
