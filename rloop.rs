// SPDX-License-Identifier: GPL-2.0

//! rloop: a loop-style block device that turns every bio into direct I/O on a backing file.
//!
//! `/dev/rloop-control` creates a disk and attaches its backing file in one ioctl
//! (`rloop_ioctl.rs`); each disk is bio-based and hands its bios to workers that read and
//! write the file with `IOCB_DIRECT` (`rloop_bio.rs`). This file holds the module, the
//! registry of devices, a device's state and its sysfs. `DESIGN.md` has the whole picture.
//!
//! The driver is safe Rust: the compiler checks it. Every `unsafe` block is in the
//! abstraction rooms below (`block`, `backing`, `kernel_extras`, `bindings_ext`), each of
//! which opts out of the crate-wide `deny` on its own.

#![deny(unsafe_code)]
// `pin_init!` of `Device` expands deeper than the default limit.
#![recursion_limit = "256"]

use core::fmt::Write;
use core::sync::atomic::AtomicBool;
use kernel::{
    c_str, new_mutex, new_work,
    prelude::*,
    sync::{Arc, Mutex},
    workqueue::{impl_has_work, Work, WorkItem},
};

mod backing;
mod bindings_ext;
mod block;
mod kernel_extras;
mod rloop_bio;
mod rloop_ioctl;
// Shared with user space, as the ABI is: public so that all of it is part of the crate.
pub mod file_pos;
pub mod rloop_rules;
#[path = "uapi/rloop_uapi.rs"]
pub mod rloop_uapi;

use backing::{AttachedFile, BackingFile, IoCache, IoPool};
use block::{Attribute, AttributeGroup, AttributeGroups, AttributeList, GenDisk, SysfsBuffer};
use kernel_extras::{dev_major_minor, param_linger_us, ControlDev, OwnedFile, Workqueue};
use rloop_bio::{IoQueues, RloopDisk};
use rloop_rules::{parse_linger_us, FilePos, LINGER_US_MAX};
use rloop_uapi::{RLOOP_FLAG_AUTOCLEAR, RLOOP_FLAG_PARTSCAN};

module! {
    type: RloopModule,
    name: "rloop",
    description: "Loop-style block device doing direct I/O on a backing file",
    license: "GPL",
    // As loop's MODULE_ALIAS_MISCDEV and "devname:loop-control": the node exists from boot
    // and its first open loads the module. The minor is `CONTROL_MINOR`.
    alias: ["devname:rloop-control", "char-major-10-243"],
}

/// The control node's misc minor, from the range `devices.txt` reserves for local use
/// (243-254): a fixed one, so that the node can exist before the module is loaded.
const CONTROL_MINOR: u32 = 243;

/// Upper bound on the number of devices, well below what dynamic minors allow.
const MAX_DEVICES: usize = 1 << 16;

/// Per-I/O contexts each device keeps in reserve for progress under memory pressure.
const IO_RESERVE: u32 = 16;

/// What an attach asked for and resolved to (`rloop_ioctl::resolve`), kept whole in the
/// device.
pub(crate) struct Attach {
    /// `RLOOP_FLAG_*` as asked, with `RLOOP_FLAG_READ_ONLY` added if the file is read-only.
    pub(crate) flags: u32,
    /// Where in the file sector 0 is.
    pub(crate) offset: FilePos,
    /// The size limit as given (0: none).
    pub(crate) sizelimit: u64,
    /// The backing file's inode number and device, for `find` and sysfs.
    pub(crate) ino: u64,
    pub(crate) dev: u32,
    /// The file's direct-I/O alignment, and whether its file system reported it
    /// (`STATX_DIOALIGN`) or rloop assumed its device's block size (tmpfs).
    pub(crate) dio_align: u32,
    pub(crate) dio_align_reported: bool,
    /// Logical = physical block size, in bytes.
    pub(crate) block_size: u32,
    /// The memory alignment the file's direct I/O needs.
    pub(crate) dma_alignment: u32,
    pub(crate) capacity_sectors: u64,
    pub(crate) read_only: bool,
    pub(crate) rotational: bool,
}

impl Attach {
    fn flag(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

/// Who has a device open and whether it is going away.
struct OpenState {
    /// Opens of the whole disk not yet released (partitions count as one).
    openers: u32,
    /// Autoclear is armed: the last close removes the device. Set once the creator holds
    /// the device, so that no earlier close (of the partition scan of `device_add_disk`) and
    /// no probe while the creator holds it (udev's) removes it.
    armed: bool,
    /// Removal has begun: no new opens.
    deleting: bool,
    /// `RLOOP_FLAG_AUTOCLEAR`, as created or turned on by a detach of the open device.
    autoclear: bool,
}

/// Why a device cannot be removed now.
enum Busy {
    /// Open, and the removal refuses an open device.
    Open,
    /// Open, autoclear (now): it goes on its last close.
    OnLastClose,
}

/// What a removal does to a device that is open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfOpen {
    /// Refuse with `EBUSY` (`RLOOP_CTL_REMOVE`), autoclear or not: the caller asked for a
    /// removal now, and the device stays. An autoclear one still goes on its last close.
    Refuse,
    /// Turn autoclear on: it goes on its last close (`RLOOP_CTL_DETACH`, as loop's
    /// `LOOP_CLR_FD`). A disk udev is still probing, or one just unmounted, is not
    /// refused.
    Autoclear,
}

/// What a removal did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// The device is gone.
    Done,
    /// The device goes on its last close.
    OnLastClose,
}

/// One rloop device: the attached file, its I/O queues and who has it open.
#[pin_data]
pub(crate) struct Device {
    pub(crate) index: u32,
    pub(crate) attach: Attach,
    /// The backing file, until the last close of an autoclear device lets it go.
    #[pin]
    pub(crate) file: AttachedFile,
    #[pin]
    state: Mutex<OpenState>,
    /// Whether discard / write-zeroes were found unsupported (and turned off, logged once).
    pub(crate) discard_off: AtomicBool,
    pub(crate) write_zeroes_off: AtomicBool,
    pub(crate) pool: IoPool<RloopDisk>,
    pub(crate) io: IoQueues,
    #[pin]
    remove_work: Work<Device>,
    registry: Arc<Registry>,
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
    fn autoclear(&self) -> bool {
        self.state.lock().autoclear
    }

    /// An open of the disk (its `open_mutex` held).
    pub(crate) fn opened(&self) -> Result {
        let mut state = self.state.lock();
        if state.deleting {
            return Err(ENXIO);
        }
        state.openers += 1;
        Ok(())
    }

    /// A release of the disk (its `open_mutex` held). The last close of an armed autoclear
    /// device lets the backing file go here, in the closing task, so that its last `fput` is
    /// done before `close()` returns (an `umount` of the backing file system right after
    /// succeeds); no I/O is left, as the block layer flushed and dropped the disk's page
    /// cache first. The disk itself goes on a worker: `del_gendisk` takes `open_mutex`.
    pub(crate) fn released(this: &Arc<Device>) {
        let remove = {
            let mut state = this.state.lock();
            state.openers = state.openers.saturating_sub(1);
            let remove = state.openers == 0 && state.armed && !state.deleting;
            if remove {
                state.deleting = true;
            }
            remove
        };
        if remove {
            this.file.release();
            let _ = this.registry.removal_wq.enqueue(this.clone());
        }
    }

    /// Marks the device as going away unless it is open. Under the device's own lock, not
    /// the disk's `open_mutex`, which is held across I/O (the flush of a last close, a
    /// partition scan): a device whose storage hangs must not stall anyone else's removal.
    fn begin_removal(&self, if_open: IfOpen) -> core::result::Result<(), Busy> {
        let mut state = self.state.lock();
        if state.openers > 0 {
            if if_open == IfOpen::Refuse {
                return Err(Busy::Open);
            }
            if !state.autoclear {
                state.autoclear = true;
                state.armed = true;
            }
            return Err(Busy::OnLastClose);
        }
        state.deleting = true;
        Ok(())
    }
}

/// Sysfs: `/sys/block/rloopN/rloop/*`, what loop has in `/sys/block/loopN/loop/*` plus what
/// losetup gets from `LOOP_GET_STATUS64`.
mod attrs {
    use super::*;

    type Attr = Attribute<RloopDisk>;

    /// A line of text; a page is always enough for the numbers shown here.
    fn line(out: &mut SysfsBuffer<'_>, args: core::fmt::Arguments<'_>) -> Result {
        out.write_fmt(args).map_err(|_| EFBIG)?;
        out.write_char('\n').map_err(|_| EFBIG)
    }

    fn flag(dev: &Device, flag: u32) -> u8 {
        u8::from(dev.attach.flag(flag))
    }

    static BACKING_FILE: Attr = Attr::new(c_str!("backing_file"), |dev, out| {
        if let Some(file) = dev.file.get() {
            out.fill_with(|buf| file.path_into(buf))?;
        }
        line(out, format_args!(""))
    });
    static BACKING_INODE: Attr = Attr::new(c_str!("backing_inode"), |dev, out| {
        line(out, format_args!("{}", dev.attach.ino))
    });
    static BACKING_DEV: Attr = Attr::new(c_str!("backing_dev"), |dev, out| {
        let (major, minor) = dev_major_minor(dev.attach.dev);
        line(out, format_args!("{major}:{minor}"))
    });
    static OFFSET: Attr = Attr::new(c_str!("offset"), |dev, out| {
        line(out, format_args!("{}", dev.attach.offset.bytes()))
    });
    static SIZELIMIT: Attr = Attr::new(c_str!("sizelimit"), |dev, out| {
        line(out, format_args!("{}", dev.attach.sizelimit))
    });
    static AUTOCLEAR: Attr = Attr::new(c_str!("autoclear"), |dev, out| {
        line(out, format_args!("{}", u8::from(dev.autoclear())))
    });
    static PARTSCAN: Attr = Attr::new(c_str!("partscan"), |dev, out| {
        line(out, format_args!("{}", flag(dev, RLOOP_FLAG_PARTSCAN)))
    });
    // Always 1: rloop never falls back to buffered I/O.
    static DIO: Attr = Attr::new(c_str!("dio"), |_, out| line(out, format_args!("1")));
    static DIO_ALIGN: Attr = Attr::new(c_str!("dio_align"), |dev, out| {
        let how = if dev.attach.dio_align_reported {
            "statx"
        } else {
            "assumed"
        };
        line(out, format_args!("{} {how}", dev.attach.dio_align))
    });

    // How long, at most, the device's workers linger on an empty list before they sleep, in
    // microseconds (0: never); the `linger_us` module parameter gives new devices theirs.
    static LINGER_US: Attr = Attr::new_rw(
        c_str!("linger_us"),
        |dev, out| line(out, format_args!("{}", dev.io.linger_us())),
        |dev, text| {
            dev.io
                .set_linger_us(parse_linger_us(text).map_err(|_| EINVAL)?);
            Ok(())
        },
    );
    // What lingering did: windows that caught a bio, windows that did not, the microseconds
    // spent lingering, the widest window (microseconds) a worker would linger for next, and
    // the wake-ups it did not save.
    static LINGER_STATS: Attr = Attr::new(c_str!("linger_stats"), |dev, out| {
        let (hits, misses, ns, window, wakeups) = dev.io.linger_stats();
        line(
            out,
            format_args!("{hits} {misses} {} {} {wakeups}", ns / 1000, window / 1000),
        )
    });

    static LIST: AttributeList<RloopDisk, 11> = AttributeList::new([
        &BACKING_FILE,
        &BACKING_INODE,
        &BACKING_DEV,
        &OFFSET,
        &SIZELIMIT,
        &AUTOCLEAR,
        &PARTSCAN,
        &DIO,
        &DIO_ALIGN,
        &LINGER_US,
        &LINGER_STATS,
    ]);
    static GROUP: AttributeGroup<RloopDisk> = AttributeGroup::new(c_str!("rloop"), &LIST);
    pub(super) static GROUPS: AttributeGroups<RloopDisk> = AttributeGroups::new(&GROUP);
}

/// A live device: its state and its disk, dropped (deleted, drained, released) together.
struct Entry {
    device: Arc<Device>,
    disk: GenDisk<RloopDisk>,
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
    /// Held only to look a slot up or change it, never across I/O or a disk's locks.
    #[pin]
    slots: Mutex<KVec<Slot>>,
    /// Where every device's per-I/O contexts come from.
    io_cache: Arc<IoCache<RloopDisk>>,
    /// Where autoclear removals run.
    removal_wq: Workqueue,
}

impl Registry {
    fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                slots <- new_mutex!(KVec::new(), "rloop::slots"),
                io_cache: Arc::new(IoCache::new(c_str!("rloop_io"))?, GFP_KERNEL)?,
                removal_wq: Workqueue::new_io(format_args!("rloop_remove"))?,
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

    /// Creates `rloopN` for `attach` over `file`. `tell` learns `N` before the disk exists:
    /// if it fails (the caller cannot be told), nothing is created, so no device is left that
    /// nobody knows of. An autoclear device is returned open, as a file for the creator to
    /// hold: its first holder, so that it goes when the creator's last holder does.
    pub(crate) fn create(
        self: &Arc<Self>,
        attach: Attach,
        file: BackingFile,
        tell: impl FnOnce(u32) -> Result,
    ) -> Result<Option<OwnedFile>> {
        let index = self.reserve()?;
        let made = tell(index)
            .and_then(|()| self.build(index, attach, file))
            .and_then(|entry| {
                let holder = if entry.device.autoclear() {
                    Some(entry.disk.open_file(!entry.device.attach.read_only)?)
                } else {
                    None
                };
                Ok((entry, holder))
            });
        match made {
            Ok((entry, holder)) => {
                let device = entry.device.clone();
                self.set(index, Slot::Live(entry));
                if holder.is_some() {
                    device.state.lock().armed = true;
                }
                Ok(holder)
            }
            Err(e) => {
                self.set(index, Slot::Free);
                Err(e)
            }
        }
    }

    fn build(self: &Arc<Self>, index: u32, attach: Attach, file: BackingFile) -> Result<Entry> {
        let pool = IoPool::new(&self.io_cache, IO_RESERVE)?;
        let io = IoQueues::new(index, param_linger_us().min(LINGER_US_MAX))?;
        let device = Arc::pin_init(
            try_pin_init!(Device {
                index,
                file <- AttachedFile::new(file),
                state <- new_mutex!(OpenState {
                    openers: 0,
                    armed: false,
                    deleting: false,
                    autoclear: attach.flag(RLOOP_FLAG_AUTOCLEAR),
                }, "rloop::open_state"),
                discard_off: AtomicBool::new(false),
                write_zeroes_off: AtomicBool::new(false),
                pool,
                io,
                remove_work <- new_work!("rloop::remove_work"),
                registry: self.clone(),
                attach,
            }),
            GFP_KERNEL,
        )?;
        let disk = rloop_bio::disk_builder(&device.attach)?.build(
            format_args!("rloop{index}"),
            device.clone(),
            &attrs::GROUPS,
        )?;
        let a = &device.attach;
        pr_info!(
            "rloop{}: attached, {} bytes at offset {}, {}-byte blocks{}\n",
            index,
            a.capacity_sectors << 9,
            a.offset.bytes(),
            a.block_size,
            if a.read_only { ", read-only" } else { "" }
        );
        Ok(Entry { device, disk })
    }

    /// Detaches and removes `rloopN`; if it is open, as `if_open` says. `ENODEV` if there is
    /// no such device.
    pub(crate) fn remove(&self, index: u32, if_open: IfOpen) -> Result<Removal> {
        let taken = {
            let mut slots = self.slots.lock();
            let slot = slots.get_mut(index as usize).ok_or(ENODEV)?;
            let entry = match slot {
                Slot::Live(entry) => entry,
                Slot::Busy => return Err(EBUSY),
                Slot::Free => return Err(ENODEV),
            };
            match entry.device.begin_removal(if_open) {
                Ok(()) => core::mem::replace(slot, Slot::Busy),
                Err(Busy::OnLastClose) => return Ok(Removal::OnLastClose),
                Err(Busy::Open) => return Err(EBUSY),
            }
        };
        if let Slot::Live(entry) = taken {
            self.finish_removal(index, entry);
        }
        Ok(Removal::Done)
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

    /// Deletes the disk, waits for its bios, then frees the index. Outside the registry
    /// lock: this waits for I/O.
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
                        e.device.state.lock().deleting = true;
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
    }
}

struct RloopModule {
    control: Option<ControlDev<rloop_ioctl::Control>>,
    registry: Arc<Registry>,
}

impl kernel::Module for RloopModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registry = Registry::new()?;
        let control = ControlDev::new(c_str!("rloop-control"), CONTROL_MINOR, registry.clone())?;
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
