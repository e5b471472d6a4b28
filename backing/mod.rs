// SPDX-License-Identifier: GPL-2.0

//! The backing file of a loop-style device: [`BackingFile`], the device's hold on it
//! ([`AttachedFile`]), and direct I/O of a bio's data on it ([`IoPool::submit`]), with the
//! per-I/O context cache and pool.
//!
//! Built on [`crate::block`] for the bios; the driver decides which bio becomes which I/O.

#![allow(unsafe_code)]

mod attached;
mod direct_io;
mod file;

pub(crate) use attached::{AttachedFile, FileUse};
pub(crate) use direct_io::{Completion, DirectOp, IoCache, IoPool};
pub(crate) use file::{BackingFile, DioAlign, Fallocate, FileKind};
