// SPDX-License-Identifier: GPL-2.0

//! The I/O path: `submit_bio` only queues; a worker turns each bio into a direct read or
//! write of the backing file (or an fsync, or an fallocate) and ends it.
//!
//! `submit_bio` never calls into the backing file: while it runs, `current->bio_list` parks
//! every bio the file system would issue, so any wait there (extent reads, `inode_dio_wait`)
//! would deadlock or recurse down the stack.

use crate::rloop_sys::{
    eopnotsupp, Bio, BioList, BioOp, BlkStatus, DiskAttribute, DiskOps, DiskRef, Fallocate,
    NoIoScope, SysfsBuffer,
};
use crate::Device;
use core::sync::atomic::Ordering;
use kernel::{
    prelude::*,
    sync::{Arc, SpinLock},
};

/// The `DiskOps` of an rloop disk.
pub(crate) struct RloopDisk;

impl DiskOps for RloopDisk {
    type Data = Arc<Device>;

    fn submit_bio(dev: &Arc<Device>, bio: Bio<Self>) {
        let writes = match bio.op() {
            BioOp::Read | BioOp::Flush => false,
            // An empty `REQ_PREFLUSH` write is how a bio-based disk is asked to flush; an
            // fsync is harmless on a read-only device too.
            BioOp::Write => bio.len() > 0,
            BioOp::Discard | BioOp::WriteZeroes => true,
            BioOp::Other => return bio.end(BlkStatus::NOTSUPP),
        };
        // The block layer only warns about writes to a read-only disk; refuse them.
        if writes && dev.read_only {
            return bio.end(BlkStatus::IOERR);
        }
        let queue = dev.local_queue();
        let was_empty = {
            let mut bios = queue.bios.lock();
            let was_empty = bios.is_empty();
            bios.push(bio);
            was_empty
        };
        // A non-empty list means a queued or running worker has yet to take it.
        if was_empty {
            dev.kick(queue);
        }
    }

    fn direct_io_done(bio: Bio<Self>, result: isize) {
        let status = match usize::try_from(result) {
            Ok(done) if done == bio.len() as usize => BlkStatus::OK,
            // A short read or write is an error: the rest of the bio did not happen.
            Ok(_) => BlkStatus::IOERR,
            Err(_) => i32::try_from(result)
                .map(|e| BlkStatus::from_error(Error::from_errno(e)))
                .unwrap_or(BlkStatus::IOERR),
        };
        bio.end(status);
    }

    fn open(dev: &Arc<Device>, _disk: DiskRef<'_>) -> Result {
        dev.opened()
    }

    fn release(dev: &Arc<Device>, disk: DiskRef<'_>) {
        Device::released(dev, disk);
    }

    fn ioctl(dev: &Arc<Device>, disk: DiskRef<'_>, cmd: u32, arg: usize) -> Result<i32> {
        crate::rloop_ioctl::device_ioctl(dev, disk, cmd, arg)
    }

    fn show(dev: &Arc<Device>, attr: &DiskAttribute, out: &mut SysfsBuffer<'_>) -> Result {
        crate::show(dev, attr, out)
    }
}

/// A worker: drains one CPU's list of a device until it stays empty.
///
/// No block plug around a batch: iomap already plugs the bios of each direct I/O, and one
/// across bios held every completion back to the end of the plug. Measured (`make bench`):
/// it helped on virtio but cost a third of 4k random-write IOPS on `null_blk`.
pub(crate) fn run_queue(bios: &SpinLock<BioList<RloopDisk>>) {
    // The backing file system must not recurse into I/O to get memory for our I/O.
    let _noio = NoIoScope::enter();
    loop {
        let batch = bios.lock().take();
        if batch.is_empty() {
            break;
        }
        batch.drain(|dev, bio| handle(dev, bio));
    }
}

/// Where in the file sector `sector` of the device is.
fn file_pos(dev: &Device, sector: u64) -> Option<i64> {
    let pos = sector.checked_mul(512)?.checked_add(dev.offset)?;
    i64::try_from(pos).ok()
}

fn status_of(r: Result) -> BlkStatus {
    match r {
        Ok(()) => BlkStatus::OK,
        Err(e) => BlkStatus::from_error(e),
    }
}

fn handle(dev: &Device, bio: Bio<RloopDisk>) {
    let Some(pos) = file_pos(dev, bio.sector()) else {
        return bio.end(BlkStatus::IOERR);
    };
    match bio.op() {
        BioOp::Read => bio.submit_direct(&dev.file, &dev.pool, pos, false, false),
        BioOp::Write => {
            if bio.is_preflush() {
                let flushed = dev.file.fsync();
                if flushed.is_err() || bio.len() == 0 {
                    return bio.end(status_of(flushed));
                }
            }
            let fua = bio.is_fua();
            bio.submit_direct(&dev.file, &dev.pool, pos, true, fua);
        }
        BioOp::Flush => bio.end(status_of(dev.file.fsync())),
        BioOp::Discard => fallocate(dev, bio, pos, Fallocate::PunchHole),
        BioOp::WriteZeroes => {
            let how = if bio.is_nounmap() {
                Fallocate::ZeroRange
            } else {
                Fallocate::PunchHole
            };
            fallocate(dev, bio, pos, how);
        }
        BioOp::Other => bio.end(BlkStatus::NOTSUPP),
    }
}

/// Discard and write-zeroes. A file that cannot do it turns the feature off for the disk.
fn fallocate(dev: &Device, bio: Bio<RloopDisk>, pos: i64, how: Fallocate) {
    let offset = pos as u64;
    let r = dev.file.fallocate(how, offset, u64::from(bio.len()));
    if r == Err(eopnotsupp()) {
        let (flag, what) = match bio.op() {
            BioOp::Discard => (&dev.discard_off, "discard"),
            _ => (&dev.write_zeroes_off, "write-zeroes"),
        };
        if !flag.swap(true, Ordering::AcqRel) {
            let disk = bio.disk();
            let off = if bio.op() == BioOp::Discard {
                disk.disable_discard()
            } else {
                disk.disable_write_zeroes()
            };
            pr_info!(
                "rloop{}: backing file does not support {}, turned off ({:?})\n",
                dev.index,
                what,
                off
            );
        }
    }
    bio.end(status_of(r));
}
