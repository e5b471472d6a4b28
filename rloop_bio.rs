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
//!
//! The hand-off is made cheap instead. A worker whose list runs dry lingers: it keeps watching
//! the list for a short window before it sleeps, sized from how soon bios have been arriving,
//! so that at low queue depth the next bio needs no wake-up ([`LingerWindow`]). (Lingering is
//! not polling: "poll" here only ever means polled I/O.) And a submitter that polls
//! (`REQ_POLLED`) gets its completion in its own polling loop: the worker issues the I/O
//! polled, and [`Operations::poll_bio`] polls the backing file for it.

#![forbid(unsafe_code)]

use crate::backing::{AttachedFile, Completion, DirectOp, Fallocate, IoPool};
use crate::block::{
    Bio, BioKey, BioList, BioOp, BlkStatus, CgroupKey, CompatIoctl, DiskRef, Features,
    GenDiskBuilder, OpenMode, Operations, PollCtx,
};
use crate::kernel_extras::{
    cond_resched, cpu_relax, cpu_wanted_elsewhere, current_cpu, eopnotsupp, now_ns, nr_cpu_ids,
    IoWorkerScope, Workqueue,
};
use crate::rloop_rules::{caller_errno, io_outcome, FilePos, IoOutcome, LingerWindow};
use crate::rloop_uapi::RLOOP_FLAG_PARTSCAN;
use crate::{Attach, Device};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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

    fn submit_bio(dev: &Arc<Device>, mut bio: Bio<Self>) {
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
        // The block layer lets polled bios through only if the disk has `Features::POLL`.
        if bio.is_polled() {
            bio.mark_pollable();
        }
        // Accounted from here, so that iostat's await counts the time on the queue too.
        bio.start_io_acct();
        // Queueing takes a spinlock and allocates nothing: `REQ_NOWAIT` bios are fine here.
        dev.io.queue(bio);
    }

    fn poll_bio(dev: &Arc<Device>, bio: BioKey, ctx: PollCtx<'_>) -> u32 {
        // Until the worker has issued it there is nothing to poll; the submitter polls again.
        dev.pool.poll(bio, ctx)
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
    // rloop would lose it for the whole stack). `POLL`: a polled bio becomes polled direct
    // I/O where the backing file and its device can poll, and completes the usual way where
    // they cannot; either way the submitter's poll sees it end. (A disk without the feature
    // fails polled bios with `EOPNOTSUPP`.)
    let mut features = Features::WRITE_CACHE
        | Features::FUA
        | Features::NOWAIT
        | Features::IO_STAT
        | Features::POLL;
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

/// How many queues, each with its worker, a device has on each CPU: as many cgroups as can
/// have bios queued there at once without sharing a worker.
const CGROUP_SLOTS: usize = 4;

/// The bios of one device submitted on one CPU from one cgroup, and the work item that
/// drains them: bios submitted on different CPUs share no lock and no cache line on their
/// way to the file, and each CPU's bios get a worker of their own, one per cgroup (see
/// [`IoQueues`]).
#[pin_data]
struct CpuQueue {
    #[pin]
    pending: SpinLock<Pending>,
    /// The [`CgroupKey`] of the cgroup whose bios the queue takes. Changed only with the
    /// lock held and no worker active; read without it to find the queue, and with it to be
    /// sure.
    cgroup: AtomicUsize,
    /// Set with each bio pushed, cleared when the worker takes the list: what a lingering
    /// worker watches without taking the lock.
    arrived: AtomicBool,
    /// The linger cap in nanoseconds (the device's `linger_us`); 0: never linger.
    linger_cap_ns: AtomicU64,
    /// The worker's [`LingerWindow`], in its atomic form; only the worker changes it.
    window: AtomicU64,
    /// When the worker last went to sleep with an empty list (0: it has not, or has
    /// learnt from it since): the next run learns the gap from it.
    idle_since_ns: AtomicU64,
    /// When the bio that woke the worker arrived: the end of that gap, without the
    /// wake-up's own latency.
    woken_at_ns: AtomicU64,
    stats: LingerStats,
    #[pin]
    work: Work<CpuQueue>,
}

/// A CPU's list and whether a worker will look at it again.
struct Pending {
    bios: BioList<RloopDisk>,
    /// A worker is queued, running or lingering, and takes what is pushed without being
    /// woken. Cleared only by the worker, with the lock held and the list empty.
    worker_active: bool,
}

/// What the lingering workers of a device did, for `/sys/block/rloopN/rloop/linger_stats`.
#[derive(Default)]
pub(crate) struct LingerStats {
    /// Windows in which a bio arrived: a wake-up saved.
    pub(crate) hits: AtomicU64,
    /// Windows that ended without a bio (timed out, or the CPU was wanted).
    pub(crate) misses: AtomicU64,
    /// Nanoseconds spent lingering.
    pub(crate) lingered_ns: AtomicU64,
    /// Bios that found no worker active and queued one: the wake-ups lingering did not save.
    pub(crate) wakeups: AtomicU64,
}

impl_has_work! {
    impl HasWork<Self> for CpuQueue { self.work }
}

impl WorkItem for CpuQueue {
    type Pointer = Arc<CpuQueue>;

    /// The worker: drains the list until it stays empty, lingers on it for a while if bios have
    /// been coming soon enough, and goes to sleep.
    ///
    /// No block plug around a batch: iomap already plugs the bios of each direct I/O, and
    /// one across bios held every completion back to the end of the plug. Measured
    /// (`make bench`): it helped on virtio but cost a third of 4k random-write IOPS on
    /// `null_blk`.
    fn run(this: Arc<CpuQueue>) {
        let _scope = IoWorkerScope::enter();
        let idle_since = this.idle_since_ns.swap(0, Ordering::Relaxed);
        if idle_since != 0 {
            // Woken: the gap is how long the list stayed empty.
            let woken_at = this.woken_at_ns.load(Ordering::Relaxed);
            this.learn(woken_at.saturating_sub(idle_since));
        }
        // A file that never makes the worker sleep (its device completes inline) would have
        // it hold the CPU for as long as bios keep coming, which on a kernel without
        // preemption (`preempt=none`) keeps every other task off it. So the worker yields
        // between bios that follow each other, as loop's worker does after each command;
        // not between a bio and lingering on an empty list (which stops when the CPU is
        // wanted), nor after lingering that caught a bio while it was not: a bio every window
        // catches at queue depth 1 gets no added wake-up.
        let mut yield_next = false;
        loop {
            let batch = {
                let mut pending = this.pending.lock();
                this.arrived.store(false, Ordering::Relaxed);
                pending.bios.take()
            };
            if !batch.is_empty() {
                batch.drain(|dev, bio| {
                    if yield_next {
                        cond_resched();
                    }
                    yield_next = true;
                    issue(dev, bio);
                });
                continue;
            }
            let dry_at = now_ns();
            if this.linger(dry_at) {
                yield_next = cpu_wanted_elsewhere();
                continue;
            }
            let mut pending = this.pending.lock();
            if pending.bios.is_empty() {
                pending.worker_active = false;
                // Under the lock: the run a submitter queues from now on sees it.
                this.idle_since_ns.store(dry_at.max(1), Ordering::Relaxed);
                return;
            }
        }
    }
}

impl CpuQueue {
    /// Pushes `bio` and says whether the worker must be woken (none was active).
    fn push(&self, bio: Bio<RloopDisk>) -> bool {
        let mut pending = self.pending.lock();
        self.push_locked(&mut pending, bio)
    }

    /// [`CpuQueue::push`] if the queue is `key`'s, or, with `take_over`, if no worker is
    /// active on it (it becomes `key`'s); the bio comes back otherwise.
    fn push_for(
        &self,
        bio: Bio<RloopDisk>,
        key: CgroupKey,
        take_over: bool,
    ) -> Result<bool, Bio<RloopDisk>> {
        let mut pending = self.pending.lock();
        if self.cgroup.load(Ordering::Relaxed) != key.bits() {
            if !take_over || pending.worker_active {
                return Err(bio);
            }
            // No worker is active, so the list is empty: no other cgroup's bio is left
            // behind the new one's.
            self.cgroup.store(key.bits(), Ordering::Relaxed);
        }
        Ok(self.push_locked(&mut pending, bio))
    }

    fn push_locked(&self, pending: &mut Pending, bio: Bio<RloopDisk>) -> bool {
        pending.bios.push(bio);
        self.arrived.store(true, Ordering::Release);
        !core::mem::replace(&mut pending.worker_active, true)
    }

    /// The window the worker would linger for after a bio arriving at `now`: a sleeping worker
    /// first learns the gap since it went to sleep, so a device left idle has none.
    fn window_if_woken(&self, now: u64) -> u64 {
        let mut window = self.window();
        let idle_since = self.idle_since_ns.load(Ordering::Relaxed);
        if idle_since != 0 {
            window = window.learn(now.saturating_sub(idle_since));
        }
        window.window_ns(self.linger_cap_ns.load(Ordering::Relaxed))
    }

    fn window(&self) -> LingerWindow {
        LingerWindow::from_bits(self.window.load(Ordering::Relaxed))
    }

    fn learn(&self, gap_ns: u64) {
        let window = self.window().learn(gap_ns);
        self.window.store(window.to_bits(), Ordering::Relaxed);
    }

    /// Watches the empty list for as long as the window says, from `dry_at`, when it was
    /// found empty. True if a bio arrived meanwhile.
    fn linger(&self, dry_at: u64) -> bool {
        let cap = self.linger_cap_ns.load(Ordering::Relaxed);
        let window = self.window().window_ns(cap);
        if window == 0 {
            return false;
        }
        let deadline = dry_at.saturating_add(window);
        loop {
            // `Acquire`: pairs with the push, though the lock taken next orders it anyway.
            if self.arrived.load(Ordering::Acquire) {
                let gap = now_ns().saturating_sub(dry_at);
                self.learn(gap);
                self.stats.hits.fetch_add(1, Ordering::Relaxed);
                self.stats.lingered_ns.fetch_add(gap, Ordering::Relaxed);
                return true;
            }
            let now = now_ns();
            // Never in the way of other work on this CPU: the window is only worth a
            // wake-up.
            if now >= deadline || cpu_wanted_elsewhere() {
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .lingered_ns
                    .fetch_add(now.saturating_sub(dry_at), Ordering::Relaxed);
                return false;
            }
            cpu_relax();
        }
    }
}

/// A device's queues, [`CGROUP_SLOTS`] per CPU, and the workqueue their workers run on. The
/// workers hold no reference to the device: they reach it through each bio's disk.
///
/// Each cgroup's bios on a CPU have a queue of their own, and so a worker of their own, as
/// loop has a worker per cgroup: a worker that sleeps for one cgroup (iocost or io.latency
/// throttling it in the backing disk, reclaim under its `memory.high`) holds no other
/// cgroup's bios. A queue no worker is active on goes to the next cgroup that needs one;
/// a cgroup that finds none (more cgroups busy at once on one CPU than there are slots)
/// shares the one its key hashes to.
pub(crate) struct IoQueues {
    /// `CGROUP_SLOTS` per possible CPU id, the CPU's together.
    queues: KVec<Arc<CpuQueue>>,
    /// The device's own: a device stacked on a file on another rloop device never waits
    /// for a worker queued behind its own, and each has its own rescuer.
    wq: Workqueue,
}

impl IoQueues {
    /// The queues of device `rloop<index>`, whose workers linger for up to `linger_us`.
    pub(crate) fn new(index: u32, linger_us: u32) -> Result<Self> {
        let count = nr_cpu_ids().checked_mul(CGROUP_SLOTS).ok_or(ENOMEM)?;
        let mut queues = KVec::with_capacity(count, GFP_KERNEL)?;
        for _ in 0..count {
            let queue = Arc::pin_init(
                pin_init!(CpuQueue {
                    pending <- new_spinlock!(
                        Pending {
                            bios: BioList::new(),
                            worker_active: false,
                        },
                        "rloop::pending"
                    ),
                    cgroup: AtomicUsize::new(CgroupKey::ROOT.bits()),
                    arrived: AtomicBool::new(false),
                    linger_cap_ns: AtomicU64::new(u64::from(linger_us) * 1000),
                    window: AtomicU64::new(LingerWindow::new().to_bits()),
                    idle_since_ns: AtomicU64::new(0),
                    woken_at_ns: AtomicU64::new(0),
                    stats: LingerStats::default(),
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

    /// The linger cap, in microseconds.
    pub(crate) fn linger_us(&self) -> u32 {
        let ns = self
            .queues
            .first()
            .map_or(0, |q| q.linger_cap_ns.load(Ordering::Relaxed));
        u32::try_from(ns / 1000).unwrap_or(u32::MAX)
    }

    /// Sets the linger cap; 0 turns lingering off. Workers see it at their next window.
    pub(crate) fn set_linger_us(&self, us: u32) {
        for queue in self.queues.iter() {
            queue
                .linger_cap_ns
                .store(u64::from(us) * 1000, Ordering::Relaxed);
        }
    }

    /// The linger counters of all workers (hits, misses, nanoseconds spent lingering), the
    /// widest window a worker would linger for if a bio came now, in nanoseconds, and the
    /// wake-ups.
    pub(crate) fn linger_stats(&self) -> (u64, u64, u64, u64, u64) {
        let now = now_ns();
        self.queues
            .iter()
            .fold((0, 0, 0, 0, 0), |(h, m, ns, w, wk), q| {
                (
                    h + q.stats.hits.load(Ordering::Relaxed),
                    m + q.stats.misses.load(Ordering::Relaxed),
                    ns + q.stats.lingered_ns.load(Ordering::Relaxed),
                    w.max(q.window_if_woken(now)),
                    wk + q.stats.wakeups.load(Ordering::Relaxed),
                )
            })
    }

    /// Queues `bio` on the caller's CPU, in its cgroup's queue, and wakes that queue's worker
    /// unless one is active (queued, draining or lingering): it takes the bio without a
    /// wake-up.
    fn queue(&self, mut bio: Bio<RloopDisk>) {
        let key = bio.cgroup_key();
        // `queues` has `CGROUP_SLOTS` entries for each of `nr_cpu_ids` CPUs, so the fallback
        // is never taken.
        let cpu = current_cpu().min(self.queues.len() / CGROUP_SLOTS - 1);
        let slots = &self.queues[cpu * CGROUP_SLOTS..(cpu + 1) * CGROUP_SLOTS];
        // The cgroup's own queue; else one no worker is active on, taken over; else the
        // one the key hashes to, shared.
        for take_over in [false, true] {
            for queue in slots {
                if !take_over && queue.cgroup.load(Ordering::Relaxed) != key.bits() {
                    continue;
                }
                match queue.push_for(bio, key, take_over) {
                    Ok(wake) => return self.wake_if(queue, wake),
                    Err(refused) => bio = refused,
                }
            }
        }
        let queue = &slots[key.hash() % CGROUP_SLOTS];
        let wake = queue.push(bio);
        self.wake_if(queue, wake);
    }

    /// Queues the worker of `queue` if `wake`: its list had no active worker.
    fn wake_if(&self, queue: &Arc<CpuQueue>, wake: bool) {
        if wake {
            // Only on this path, which pays for a wake-up anyway: read by the run queued
            // next (queueing orders it).
            queue.woken_at_ns.store(now_ns(), Ordering::Relaxed);
            queue.stats.wakeups.fetch_add(1, Ordering::Relaxed);
            // Not pending (the worker clears `worker_active` last), so this queues it.
            let _ = self.wq.enqueue(queue.clone());
        }
    }
}

/// Issues one bio on the backing file, from a worker. A use of the file is given back
/// before the bio ends, so that the last close of an autoclear device, which lets the file
/// go, never waits for one.
///
/// Never inlined: `make hops` times the hand-off with a kprobe on it.
#[inline(never)]
fn issue(dev: &Arc<Device>, bio: Bio<RloopDisk>) {
    // The backing file's I/O and allocations count against the issuer's cgroups, not the
    // root's: an `io.max` on the issuer holds through rloop.
    bio.in_submitter_cgroups(|bio| issue_as_submitter(dev, bio));
}

/// [`issue`], charged to the bio's cgroups.
fn issue_as_submitter(dev: &Arc<Device>, bio: Bio<RloopDisk>) {
    let Some(pos) = dev.attach.offset.of_sector(bio.sector()) else {
        return bio.end(BlkStatus::IOERR);
    };
    match bio.op() {
        BioOp::Read => IoPool::submit(bio, pos, DirectOp::Read),
        BioOp::Write => {
            if bio.is_preflush() {
                let flushed = dev.file.get().map_or(Err(EIO), |file| file.fsync());
                if flushed.is_err() || bio.len() == 0 {
                    return bio.end(status_of(flushed));
                }
            }
            let op = if bio.is_fua() {
                DirectOp::WriteDsync
            } else {
                DirectOp::Write
            };
            IoPool::submit(bio, pos, op);
        }
        BioOp::Discard => fallocate(dev, bio, pos, &[Fallocate::PunchHole]),
        // Without `REQ_NOUNMAP` the blocks may go: a hole reads as zeroes and costs no
        // space. A block device answers `EOPNOTSUPP` to a hole when it cannot unmap and may
        // still zero a range.
        BioOp::WriteZeroes if bio.is_nounmap() => fallocate(dev, bio, pos, &[Fallocate::ZeroRange]),
        BioOp::WriteZeroes => {
            fallocate(dev, bio, pos, &[Fallocate::PunchHole, Fallocate::ZeroRange])
        }
        BioOp::Other => bio.end(BlkStatus::NOTSUPP),
    }
}

impl Completion for RloopDisk {
    fn io_pool(dev: &Arc<Device>) -> &IoPool<Self> {
        &dev.pool
    }

    fn backing_file(dev: &Arc<Device>) -> &AttachedFile {
        &dev.file
    }

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
fn fallocate(dev: &Device, bio: Bio<RloopDisk>, pos: FilePos, ways: &[Fallocate]) {
    let Some(file) = dev.file.get() else {
        return bio.end(BlkStatus::IOERR);
    };
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
