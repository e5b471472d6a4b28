// SPDX-License-Identifier: GPL-2.0

//! The I/O path, top to bottom: `submit_bio` checks a bio and queues it on its CPU's list; a
//! worker takes the list and turns each bio into a direct read or write of the backing file
//! (or an fsync, or an fallocate); the completion ends the bio.
//!
//! `submit_bio` never calls into the backing file: while it runs, `current->bio_list` parks
//! every bio the file system would issue, so any wait there (extent reads, `inode_dio_wait`)
//! would deadlock, and the task may carry the upper file system's state
//! (`current->journal_info`, locks held, a deep stack). Upstream loop tried issuing from
//! `queue_rq` with `IOCB_NOWAIT` and took it out again for exactly these reasons.

#![forbid(unsafe_code)]

use crate::backing::{BackingFile, Completion, DirectOp, Fallocate};
use crate::block::{
    Bio, BioList, BioOp, BlkStatus, CompatIoctl, DiskRef, Features, GenDiskBuilder, OpenMode,
    Operations,
};
use crate::kernel_extras::{
    current_cpu, eopnotsupp, nr_cpu_ids, CgroupScope, IoWorkerScope, Workqueue,
};
use crate::rloop_rules::{caller_errno, io_outcome, FilePos, IoOutcome};
use crate::rloop_uapi::RLOOP_FLAG_PARTSCAN;
use crate::{Attach, Device};
use core::sync::atomic::Ordering;
use kernel::{
    new_spinlock, new_work,
    prelude::*,
    sync::{Arc, SpinLock},
    workqueue::{impl_has_work, Work, WorkItem},
};

/// The block operations of an rloop disk.
pub(crate) struct RloopDisk;

#[vtable]
impl Operations for RloopDisk {
    type Data = Arc<Device>;

    fn submit_bio(dev: &Arc<Device>, bio: Bio<Self>) {
        let writes = match bio.op() {
            BioOp::Read => false,
            // An empty `REQ_PREFLUSH` write is how a bio-based disk is asked to flush; an
            // fsync is harmless on a read-only device too.
            BioOp::Write => bio.len() > 0,
            BioOp::Discard | BioOp::WriteZeroes => true,
            BioOp::Other => return bio.end(BlkStatus::NOTSUPP),
        };
        // The block layer only warns about writes to a read-only disk; refuse them.
        if writes && dev.attach.read_only {
            return bio.end(BlkStatus::IOERR);
        }
        // Queueing takes a spinlock and allocates nothing: `REQ_NOWAIT` bios are fine here.
        dev.io.queue(bio);
    }

    fn open(dev: &Arc<Device>, _mode: OpenMode) -> Result {
        dev.opened()
    }

    fn release(dev: &Arc<Device>) {
        Device::released(dev);
    }

    fn ioctl(
        dev: &Arc<Device>,
        disk: DiskRef<'_, Self>,
        mode: OpenMode,
        cmd: u32,
        arg: usize,
    ) -> Result<i32> {
        crate::rloop_ioctl::device_ioctl(dev, disk, mode, cmd, arg)
    }
}

/// The disk an attach describes, with the limits and features of this I/O path.
pub(crate) fn disk_builder(attach: &Attach) -> Result<GenDiskBuilder> {
    // `NOWAIT`: `submit_bio` only queues, so it never sleeps. Without it upper layers drop
    // `REQ_NOWAIT` (io_uring would hand every I/O to a helper thread, md and dm stacked on
    // rloop would lose it for the whole stack).
    let mut features = Features::WRITE_CACHE | Features::FUA | Features::NOWAIT | Features::IO_STAT;
    if attach.rotational {
        features = features | Features::ROTATIONAL;
    }
    Ok(GenDiskBuilder::new()
        .block_size(attach.block_size)?
        .dma_alignment(attach.dma_alignment)?
        // The file's direct-I/O path takes any size and any number of segments, and nobody
        // splits bios for a bio-based disk: say so, or md and file systems cut every large
        // I/O to the 127.5 KiB default.
        .max_io(u32::MAX >> 9, u16::MAX, u32::MAX)
        .discard(u32::MAX >> 9, attach.block_size)
        .write_zeroes(u32::MAX >> 9)
        .features(features)
        .capacity_sectors(attach.capacity_sectors)
        .read_only(attach.read_only)
        .partitions(attach.flag(RLOOP_FLAG_PARTSCAN))
        // The device's ioctls take integers, not pointers.
        .compat_ioctl(CompatIoctl::SameAsNative))
}

/// The bios of one device submitted on one CPU, and the work item that drains them: bios
/// submitted on different CPUs share no lock and no cache line on their way to the file,
/// and each CPU's bios get a worker of their own.
#[pin_data]
struct CpuQueue {
    #[pin]
    bios: SpinLock<BioList<RloopDisk>>,
    #[pin]
    work: Work<CpuQueue>,
}

impl_has_work! {
    impl HasWork<Self> for CpuQueue { self.work }
}

impl WorkItem for CpuQueue {
    type Pointer = Arc<CpuQueue>;

    /// The worker: drains the list until it stays empty.
    ///
    /// No block plug around a batch: iomap already plugs the bios of each direct I/O, and
    /// one across bios held every completion back to the end of the plug. Measured
    /// (`make bench`): it helped on virtio but cost a third of 4k random-write IOPS on
    /// `null_blk`.
    fn run(this: Arc<CpuQueue>) {
        let _scope = IoWorkerScope::enter();
        loop {
            let batch = this.bios.lock().take();
            if batch.is_empty() {
                break;
            }
            batch.drain(issue);
        }
    }
}

/// A device's per-CPU queues and the workqueue their workers run on. The workers hold no
/// reference to the device: they reach it through each bio's disk.
pub(crate) struct IoQueues {
    /// One per possible CPU id.
    queues: KVec<Arc<CpuQueue>>,
    /// The device's own: a device stacked on a file on another rloop device never waits
    /// for a worker queued behind its own, and each has its own rescuer.
    wq: Workqueue,
}

impl IoQueues {
    /// The queues of device `rloop<index>`.
    pub(crate) fn new(index: u32) -> Result<Self> {
        let ncpus = nr_cpu_ids();
        let mut queues = KVec::with_capacity(ncpus, GFP_KERNEL)?;
        for _ in 0..ncpus {
            let queue = Arc::pin_init(
                pin_init!(CpuQueue {
                    bios <- new_spinlock!(BioList::new(), "rloop::bios"),
                    work <- new_work!("rloop::io_work"),
                }),
                GFP_KERNEL,
            )?;
            queues.push(queue, GFP_KERNEL)?;
        }
        Ok(Self {
            queues,
            wq: Workqueue::new_io(format_args!("rloop{index}"))?,
        })
    }

    /// Queues `bio` on the caller's CPU and wakes that CPU's worker unless it already has
    /// bios to take.
    fn queue(&self, bio: Bio<RloopDisk>) {
        // `queues` has `nr_cpu_ids` entries, so the fallback is never taken.
        let cpu = current_cpu().min(self.queues.len() - 1);
        let queue = &self.queues[cpu];
        let was_empty = {
            let mut bios = queue.bios.lock();
            let was_empty = bios.is_empty();
            bios.push(bio);
            was_empty
        };
        // A non-empty list means a queued or running worker has yet to take it.
        if was_empty {
            // Already queued: the queued run will see the new bio.
            let _ = self.wq.enqueue(queue.clone());
        }
    }
}

/// Issues one bio on the backing file, from a worker. The file reference taken here is
/// gone before the bio ends (moved into the direct I/O, or dropped), so that the last close
/// of an autoclear device holds the last one.
fn issue(dev: &Arc<Device>, bio: Bio<RloopDisk>) {
    // The backing file's I/O and allocations count against the issuer's cgroups, not the
    // root's: an `io.max` on the issuer holds through rloop.
    let _cgroup = bio.blkcg().map(|blkcg| CgroupScope::enter(&blkcg));
    let (Some(file), Some(pos)) = (dev.file(), dev.attach.offset.of_sector(bio.sector())) else {
        return bio.end(BlkStatus::IOERR);
    };
    match bio.op() {
        BioOp::Read => dev.pool.submit(file, bio, pos, DirectOp::Read),
        BioOp::Write => {
            if bio.is_preflush() {
                let flushed = file.fsync();
                if flushed.is_err() || bio.len() == 0 {
                    drop(file);
                    return bio.end(status_of(flushed));
                }
            }
            let op = if bio.is_fua() {
                DirectOp::WriteDsync
            } else {
                DirectOp::Write
            };
            dev.pool.submit(file, bio, pos, op);
        }
        BioOp::Discard => fallocate(dev, file, bio, pos, &[Fallocate::PunchHole]),
        // Without `REQ_NOUNMAP` the blocks may go: a hole reads as zeroes and costs no
        // space. A block device answers `EOPNOTSUPP` to a hole when it cannot unmap and may
        // still zero a range.
        BioOp::WriteZeroes if bio.is_nounmap() => {
            fallocate(dev, file, bio, pos, &[Fallocate::ZeroRange])
        }
        BioOp::WriteZeroes => fallocate(
            dev,
            file,
            bio,
            pos,
            &[Fallocate::PunchHole, Fallocate::ZeroRange],
        ),
        BioOp::Other => bio.end(BlkStatus::NOTSUPP),
    }
}

impl Completion for RloopDisk {
    fn direct_io_done(bio: Bio<Self>, result: isize) {
        let status = match io_outcome(bio.len(), result) {
            IoOutcome::Done => BlkStatus::OK,
            IoOutcome::Failed(errno) => failed(errno),
        };
        bio.end(status);
    }
}

/// The status of a bio that failed with `errno` (positive, as the rules give it).
fn failed(errno: i32) -> BlkStatus {
    BlkStatus::from_error(Error::from_errno(-errno))
}

/// The status of a bio whose fsync or fallocate gave `r`, mapped as a read or write is.
fn status_of(r: Result) -> BlkStatus {
    match r {
        Ok(()) => BlkStatus::OK,
        // `to_errno` is in -4095..=-1: its negation is the errno.
        Err(e) => failed(caller_errno(-e.to_errno())),
    }
}

/// Discard and write-zeroes: the first of `ways` the file takes. A file that takes none
/// turns the operation off for the disk, once, with a line in the log.
fn fallocate(
    dev: &Device,
    file: Arc<BackingFile>,
    bio: Bio<RloopDisk>,
    pos: FilePos,
    ways: &[Fallocate],
) {
    let len = u64::from(bio.len());
    let mut result = Err(eopnotsupp());
    for &how in ways {
        result = file.fallocate(how, pos, len);
        if result != Err(eopnotsupp()) {
            break;
        }
    }
    drop(file);
    if result == Err(eopnotsupp()) {
        let discard = bio.op() == BioOp::Discard;
        let (flag, what) = if discard {
            (&dev.discard_off, "discard")
        } else {
            (&dev.write_zeroes_off, "write-zeroes")
        };
        if !flag.swap(true, Ordering::AcqRel) {
            let disk = bio.disk();
            let off = if discard {
                disk.disable_discard()
            } else {
                disk.disable_write_zeroes()
            };
            match off {
                Ok(()) => pr_info!(
                    "rloop{}: the backing file does not support {}: turned off\n",
                    dev.index,
                    what
                ),
                Err(e) => pr_warn!(
                    "rloop{}: the backing file does not support {}, and turning it off failed (errno {})\n",
                    dev.index,
                    what,
                    e.to_errno()
                ),
            }
        }
    }
    bio.end(status_of(result));
}
