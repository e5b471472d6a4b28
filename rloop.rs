// SPDX-License-Identifier: GPL-2.0

//! rloop: a loop-style block device that turns every bio into direct I/O on a backing file.
//!
//! `/dev/rloop-control` creates a disk and attaches its backing file in one ioctl
//! (`rloop_ioctl.rs`); each disk is bio-based and hands its bios to a worker that reads and
//! writes the file with `IOCB_DIRECT` (`rloop_bio.rs`). All C is behind `rloop_sys.rs`.

// `pin_init!` of `Device` expands deeper than the default limit.
#![recursion_limit = "256"]

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{
    c_str, new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, Mutex, SpinLock},
    workqueue::{impl_has_work, new_work, Work, WorkItem},
};

mod rloop_bio;
mod rloop_ioctl;
mod rloop_sys;
// The ABI, shared with user space: public so that all of it is part of the crate.
#[path = "uapi/rloop_uapi.rs"]
pub mod rloop_uapi;

use rloop_bio::RloopDisk;
use rloop_sys::{
    current_cpu, dev_major_minor, nr_cpu_ids, AttributeGroup, AttributeGroups, AttributeList,
    BackingFile, BioList, ControlDev, Disk, DiskAttribute, DiskParams, DiskRef, IoCache, IoPool,
    SysfsBuffer, Workqueue,
};
use rloop_uapi::{RLOOP_FLAG_AUTOCLEAR, RLOOP_FLAG_PARTSCAN};

module! {
    type: RloopModule,
    name: "rloop",
    author: "rloop developers",
    description: "Loop-style block device doing direct I/O on a backing file",
    license: "GPL",
}

/// Upper bound on the number of devices, well below what dynamic minors allow.
const MAX_DEVICES: usize = 1 << 16;

/// Per-I/O contexts each device keeps in reserve for progress under memory pressure.
const IO_RESERVE: u32 = 16;

/// What an attach was asked for and what it resolved to (see `rloop_ioctl::resolve`).
pub(crate) struct Attach {
    pub(crate) file: BackingFile,
    pub(crate) flags: u32,
    pub(crate) offset: u64,
    pub(crate) sizelimit: u64,
    pub(crate) ino: u64,
    pub(crate) dev: u32,
    pub(crate) params: DiskParams,
}

/// The list of a device's bios submitted on one CPU, and the work item that drains it: bios
/// submitted on different CPUs share no lock and no cache line on their way to the file, and
/// each CPU's bios get a worker of their own.
#[pin_data]
pub(crate) struct CpuQueue {
    #[pin]
    pub(crate) bios: SpinLock<BioList<RloopDisk>>,
    #[pin]
    work: Work<CpuQueue>,
}

impl_has_work! {
    impl HasWork<Self> for CpuQueue { self.work }
}

impl WorkItem for CpuQueue {
    type Pointer = Arc<CpuQueue>;

    fn run(this: Arc<CpuQueue>) {
        rloop_bio::run_queue(&this.bios);
    }
}

/// One rloop device: the attached file and the per-CPU queues of bios waiting for the workers.
#[pin_data]
pub(crate) struct Device {
    pub(crate) index: u32,
    pub(crate) file: BackingFile,
    pub(crate) flags: u32,
    /// Byte offset into the file of sector 0.
    pub(crate) offset: u64,
    /// The size limit as given (0: none).
    pub(crate) sizelimit: u64,
    pub(crate) read_only: bool,
    pub(crate) block_size: u32,
    backing_ino: u64,
    backing_dev: u32,
    /// Set once the device is in the registry.
    attached: AtomicBool,
    /// Set by the first open after `attached`: only then can a last close autoclear. The
    /// partition scan of `device_add_disk` opens the disk too, and its `fput` (so its release)
    /// is deferred to after the create ioctl returns.
    pub(crate) armed: AtomicBool,
    /// Set when removal has begun: no new opens.
    pub(crate) deleting: AtomicBool,
    /// Whether discard / write-zeroes were found unsupported (and turned off, logged once).
    pub(crate) discard_off: AtomicBool,
    pub(crate) write_zeroes_off: AtomicBool,
    pub(crate) pool: IoPool,
    /// One queue per possible CPU id. The workers hold no reference to the device: they get
    /// it from each bio's disk.
    queues: KVec<Arc<CpuQueue>>,
    #[pin]
    remove_work: Work<Device>,
    pub(crate) registry: Arc<Registry>,
}

impl_has_work! {
    impl HasWork<Self> for Device { self.remove_work }
}

impl WorkItem for Device {
    type Pointer = Arc<Device>;

    /// Autoclear: the last opener closed the device.
    fn run(this: Arc<Device>) {
        this.registry.remove_autoclear(&this);
    }
}

impl Device {
    /// Called on each open with the disk's `open_mutex` held.
    pub(crate) fn opened(&self) -> Result {
        if self.deleting.load(Ordering::Acquire) {
            return Err(ENXIO);
        }
        if self.attached.load(Ordering::Acquire) {
            self.armed.store(true, Ordering::Release);
        }
        Ok(())
    }

    pub(crate) fn autoclear(&self) -> bool {
        self.flags & RLOOP_FLAG_AUTOCLEAR != 0
    }

    /// The queue of the CPU the caller runs on.
    pub(crate) fn local_queue(&self) -> &Arc<CpuQueue> {
        // `queues` has `nr_cpu_ids` entries, so the fallback is never taken.
        let cpu = current_cpu().min(self.queues.len() - 1);
        &self.queues[cpu]
    }

    /// Wakes the worker of `queue`.
    pub(crate) fn kick(&self, queue: &Arc<CpuQueue>) {
        // Already queued: the queued run will see the new bios.
        let _ = self.registry.io_wq.enqueue(queue.clone());
    }

    /// Called on each release with the disk's `open_mutex` held.
    pub(crate) fn released(this: &Arc<Device>, disk: DiskRef<'_>) {
        if disk.openers() == 0
            && this.autoclear()
            && this.armed.load(Ordering::Acquire)
            && !this.deleting.swap(true, Ordering::AcqRel)
        {
            // `del_gendisk` takes `open_mutex`, which we hold: remove from a worker.
            let _ = this.registry.removal_wq.enqueue(this.clone());
        }
    }

    fn show(&self, attr: &DiskAttribute, out: &mut SysfsBuffer<'_>) -> Result {
        let flag = |f: u32| u8::from(self.flags & f != 0);
        let r = if core::ptr::eq(attr, &ATTR_BACKING_FILE) {
            out.write_path(&self.file)?;
            writeln!(out)
        } else if core::ptr::eq(attr, &ATTR_BACKING_INODE) {
            writeln!(out, "{}", self.backing_ino)
        } else if core::ptr::eq(attr, &ATTR_BACKING_DEV) {
            let (major, minor) = dev_major_minor(self.backing_dev);
            writeln!(out, "{major}:{minor}")
        } else if core::ptr::eq(attr, &ATTR_OFFSET) {
            writeln!(out, "{}", self.offset)
        } else if core::ptr::eq(attr, &ATTR_SIZELIMIT) {
            writeln!(out, "{}", self.sizelimit)
        } else if core::ptr::eq(attr, &ATTR_AUTOCLEAR) {
            writeln!(out, "{}", flag(RLOOP_FLAG_AUTOCLEAR))
        } else if core::ptr::eq(attr, &ATTR_PARTSCAN) {
            writeln!(out, "{}", flag(RLOOP_FLAG_PARTSCAN))
        } else if core::ptr::eq(attr, &ATTR_DIO) {
            // Always: rloop never falls back to buffered I/O.
            writeln!(out, "1")
        } else {
            return Err(EIO);
        };
        r.map_err(|_| EFBIG)
    }
}

/// Sysfs: `/sys/block/rloopN/rloop/*`, the same information as loop's
/// `/sys/block/loopN/loop/*` plus what losetup gets from `LOOP_GET_STATUS64`.
static ATTR_BACKING_FILE: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("backing_file"));
static ATTR_BACKING_INODE: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("backing_inode"));
static ATTR_BACKING_DEV: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("backing_dev"));
static ATTR_OFFSET: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("offset"));
static ATTR_SIZELIMIT: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("sizelimit"));
static ATTR_AUTOCLEAR: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("autoclear"));
static ATTR_PARTSCAN: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("partscan"));
static ATTR_DIO: DiskAttribute = DiskAttribute::new::<RloopDisk>(c_str!("dio"));
static ATTR_LIST: AttributeList<8> = AttributeList::new([
    &ATTR_BACKING_FILE,
    &ATTR_BACKING_INODE,
    &ATTR_BACKING_DEV,
    &ATTR_OFFSET,
    &ATTR_SIZELIMIT,
    &ATTR_AUTOCLEAR,
    &ATTR_PARTSCAN,
    &ATTR_DIO,
]);
static ATTR_GROUP: AttributeGroup = AttributeGroup::new(c_str!("rloop"), &ATTR_LIST);
static ATTR_GROUPS: AttributeGroups = AttributeGroups::new(&ATTR_GROUP);

pub(crate) fn show(dev: &Arc<Device>, attr: &DiskAttribute, out: &mut SysfsBuffer<'_>) -> Result {
    dev.show(attr, out)
}

/// A live device: its state and its disk, dropped (deleted, drained, released) together.
struct Entry {
    device: Arc<Device>,
    disk: Disk<RloopDisk>,
}

/// A slot of the registry, by index.
enum Slot {
    Free,
    /// Being created or removed: the index and the name `rloopN` are taken.
    Busy,
    Live(Entry),
}

/// All devices, by index.
#[pin_data]
pub(crate) struct Registry {
    #[pin]
    slots: Mutex<KVec<Slot>>,
    /// Where every device's per-I/O contexts come from.
    io_cache: Arc<IoCache>,
    /// Where the devices' I/O workers run.
    io_wq: Workqueue,
    /// Where autoclear removals run.
    removal_wq: Workqueue,
}

impl Registry {
    fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                slots <- new_mutex!(KVec::new(), "rloop::slots"),
                io_cache: Arc::new(IoCache::new(c_str!("rloop_io"))?, GFP_KERNEL)?,
                io_wq: Workqueue::new_reclaim(c_str!("rloop"))?,
                removal_wq: Workqueue::new_reclaim(c_str!("rloop_remove"))?,
            }),
            GFP_KERNEL,
        )
    }

    /// Reserves the lowest free index.
    fn reserve(&self) -> Result<u32> {
        let mut slots = self.slots.lock();
        let index = match slots.iter().position(|s| matches!(s, Slot::Free)) {
            Some(i) => {
                slots[i] = Slot::Busy;
                i
            }
            None if slots.len() < MAX_DEVICES => {
                slots.push(Slot::Busy, GFP_KERNEL)?;
                slots.len() - 1
            }
            None => return Err(ENOSPC),
        };
        u32::try_from(index).map_err(|_| ENOSPC)
    }

    fn set(&self, index: u32, slot: Slot) {
        let mut slots = self.slots.lock();
        if let Some(s) = slots.get_mut(index as usize) {
            *s = slot;
        }
    }

    /// Creates `rloopN` for `attach` and returns `N`.
    pub(crate) fn create(self: &Arc<Self>, attach: Attach) -> Result<u32> {
        let index = self.reserve()?;
        match self.build(index, attach) {
            Ok(entry) => {
                let device = entry.device.clone();
                self.set(index, Slot::Live(entry));
                device.attached.store(true, Ordering::Release);
                Ok(index)
            }
            Err(e) => {
                self.set(index, Slot::Free);
                Err(e)
            }
        }
    }

    fn build(self: &Arc<Self>, index: u32, attach: Attach) -> Result<Entry> {
        let params = attach.params;
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
        let device = Arc::pin_init(
            try_pin_init!(Device {
                index,
                file: attach.file,
                flags: attach.flags,
                offset: attach.offset,
                sizelimit: attach.sizelimit,
                read_only: params.read_only,
                block_size: params.block_size,
                backing_ino: attach.ino,
                backing_dev: attach.dev,
                attached: AtomicBool::new(false),
                armed: AtomicBool::new(false),
                deleting: AtomicBool::new(false),
                discard_off: AtomicBool::new(false),
                write_zeroes_off: AtomicBool::new(false),
                pool: IoPool::new(&self.io_cache, IO_RESERVE)?,
                queues,
                remove_work <- new_work!("rloop::remove_work"),
                registry: self.clone(),
            }),
            GFP_KERNEL,
        )?;
        let disk = Disk::new(
            format_args!("rloop{index}"),
            &params,
            device.clone(),
            &ATTR_GROUPS,
        )?;
        pr_info!(
            "rloop{}: attached, {} bytes at offset {}, {}-byte blocks{}\n",
            index,
            params.capacity_sectors << 9,
            device.offset,
            params.block_size,
            if params.read_only { ", read-only" } else { "" }
        );
        Ok(Entry { device, disk })
    }

    /// Detaches and removes `rloopN`: `EBUSY` if it is open (unless autoclear, which defers
    /// the removal to the last close), `ENODEV` if there is no such device.
    pub(crate) fn remove(&self, index: u32) -> Result {
        let taken = {
            let mut slots = self.slots.lock();
            let slot = slots.get_mut(index as usize).ok_or(ENODEV)?;
            let entry = match slot {
                Slot::Live(entry) => entry,
                Slot::Busy => return Err(EBUSY),
                Slot::Free => return Err(ENODEV),
            };
            // Under `open_mutex`, so that no open slips in between the check and the mark.
            let open = entry.disk.as_ref().with_open_mutex(|disk| {
                let open = disk.openers() > 0;
                if !open {
                    entry.device.deleting.store(true, Ordering::Release);
                }
                open
            });
            if open {
                return if entry.device.autoclear() {
                    Ok(())
                } else {
                    Err(EBUSY)
                };
            }
            core::mem::replace(slot, Slot::Busy)
        };
        if let Slot::Live(entry) = taken {
            self.finish_removal(index, entry);
        }
        Ok(())
    }

    /// The autoclear removal of `device`, unless it is already gone.
    fn remove_autoclear(&self, device: &Arc<Device>) {
        let taken = {
            let mut slots = self.slots.lock();
            let Some(slot) = slots.get_mut(device.index as usize) else {
                return;
            };
            match slot {
                Slot::Live(entry) if Arc::ptr_eq(&entry.device, device) => {
                    core::mem::replace(slot, Slot::Busy)
                }
                _ => return,
            }
        };
        if let Slot::Live(entry) = taken {
            self.finish_removal(device.index, entry);
        }
    }

    /// Deletes the disk, waits for its bios, then frees the index. Outside the registry lock:
    /// this waits for I/O.
    fn finish_removal(&self, index: u32, entry: Entry) {
        drop(entry.disk);
        drop(entry.device);
        self.set(index, Slot::Free);
        pr_info!("rloop{}: detached\n", index);
    }

    /// Removes every device; at module exit, when none can be open.
    fn remove_all(&self) {
        // Pending autoclear removals first, so they do not race with ours.
        self.removal_wq.flush();
        loop {
            let next = {
                let mut slots = self.slots.lock();
                slots.iter_mut().enumerate().find_map(|(i, slot)| {
                    if let Slot::Live(e) = slot {
                        e.device.deleting.store(true, Ordering::Release);
                        Some((i, core::mem::replace(slot, Slot::Busy)))
                    } else {
                        None
                    }
                })
            };
            match next {
                Some((i, Slot::Live(entry))) => self.finish_removal(i as u32, entry),
                _ => break,
            }
        }
        // Workers still holding a device reference end before the registry goes.
        self.io_wq.flush();
    }
}

struct RloopModule {
    control: Option<ControlDev<rloop_ioctl::Control>>,
    registry: Arc<Registry>,
}

impl kernel::Module for RloopModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registry = Registry::new()?;
        let control = ControlDev::new(c_str!("rloop-control"), registry.clone())?;
        pr_info!("loaded: /dev/rloop-control\n");
        Ok(Self {
            control: Some(control),
            registry,
        })
    }
}

impl Drop for RloopModule {
    fn drop(&mut self) {
        // No new devices, then none left.
        self.control.take();
        self.registry.remove_all();
        pr_info!("unloaded\n");
    }
}
