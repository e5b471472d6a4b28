// SPDX-License-Identifier: GPL-2.0

//! The operations: create, detach, list, find, set-capacity.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, StatxFlags};

use crate::abi::{self, RloopConfig};
use crate::error::Error;
use crate::rules::{self, Refusal};
use crate::sys;
use crate::sysfs::{self, DeviceInfo};

/// What `rloopctl create` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// The backing file: a regular file or a block device.
    pub file: PathBuf,
    /// Make the disk read-only (and open the file read-only).
    pub read_only: bool,
    /// Byte offset into the file; a multiple of the block size.
    pub offset: u64,
    /// Bytes to expose from `offset`; 0 is up to the end of the file.
    pub sizelimit: u64,
    /// Logical block size; `None` inherits the file's.
    pub block_size: Option<u32>,
    /// Remove the device when its last opener closes it.
    pub autoclear: bool,
    /// Scan partitions.
    pub partscan: bool,
}

impl CreateOptions {
    /// The `RLOOP_FLAG_*` bits for these options (with `read_only` as given).
    pub fn flags(&self, read_only: bool) -> u32 {
        let mut f = 0;
        if read_only {
            f |= abi::RLOOP_FLAG_READ_ONLY;
        }
        if self.autoclear {
            f |= abi::RLOOP_FLAG_AUTOCLEAR;
        }
        if self.partscan {
            f |= abi::RLOOP_FLAG_PARTSCAN;
        }
        f
    }
}

/// What `detach` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detached {
    /// The device is gone.
    Now,
    /// The device was open (mounted, or being probed by udev): autoclear is on
    /// and it goes on its last close, as `losetup -d` does with a busy loop
    /// device.
    OnLastClose,
}

impl Detached {
    /// What `RLOOP_CTL_DETACH`'s non-negative result means: 0 gone, 1 busy
    /// and set to autoclear.
    pub fn from_ioctl(result: i32) -> Self {
        match result {
            0 => Detached::Now,
            _ => Detached::OnLastClose,
        }
    }
}

/// What a detach did to device N (`detach --all` reports one per device).
pub type DetachOutcome = (u32, Result<Detached, Error>);

/// The line rloopctl prints on stderr for a detached device, if any: a busy
/// device always gets one, since it is still there after a detach that
/// succeeded; a device gone at once only with `--verbose`.
pub fn detach_note(index: u32, d: Detached, verbose: bool) -> Option<String> {
    let name = crate::device_path(index);
    match d {
        Detached::OnLastClose => Some(format!(
            "{name}: busy: autoclear turned on, it is detached on its last close"
        )),
        Detached::Now if verbose => Some(format!("{name}: detached")),
        Detached::Now => None,
    }
}

/// A device `create` made.
#[derive(Debug)]
pub struct Device {
    /// `N` of `/dev/rloopN`.
    pub index: u32,
    /// `/dev/rloopN`.
    pub path: String,
    /// The disk is read-only (asked for, or the file could only be opened
    /// read-only).
    pub read_only: bool,
    /// Its logical block size.
    pub block_size: u32,
    /// Where that came from.
    pub block_size_source: BlockSizeSource,
    /// For an autoclear device, the descriptor the module opened on it for
    /// its creator: the device goes when this and every later opener have
    /// closed it (if this process dies, it goes unless something else holds
    /// it).
    pub holder: Option<OwnedFd>,
}

/// Where things are: the real system by default, another root for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    /// The control node.
    pub control: PathBuf,
    /// The sysfs mount point.
    pub sysfs: PathBuf,
    /// Where the device nodes appear.
    pub dev_dir: PathBuf,
    /// How long to wait for a new device's node.
    pub node_timeout: Duration,
}

impl Default for Ctx {
    fn default() -> Self {
        Self {
            control: PathBuf::from(crate::control_path()),
            sysfs: PathBuf::from(sysfs::SYSFS),
            dev_dir: PathBuf::from(crate::DEV_DIR),
            node_timeout: Duration::from_secs(5),
        }
    }
}

fn errno(e: rustix::io::Errno) -> i32 {
    e.raw_os_error()
}

fn open(path: &Path, flags: OFlags) -> Result<OwnedFd, i32> {
    rustix::fs::open(path, flags | OFlags::CLOEXEC, Mode::empty()).map_err(errno)
}

/// `create`'s refusal of a request by one of the module's rules: the rule,
/// then the values it was applied to.
fn refused(name: &str, refusal: Refusal, values: String) -> Error {
    let e = match refusal {
        Refusal::Invalid(_) => libc::EINVAL,
        Refusal::Overflow(_) => libc::EOVERFLOW,
    };
    Error::os_with(name, e, format!("{} ({values})", refusal.rule()))
}

/// Where the block size of a new device comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSizeSource {
    /// `--sector-size`.
    Requested,
    /// The file's `STATX_DIOALIGN` `dio_offset_align`.
    DioAlign,
    /// The logical block size of the block device (the file itself, or the
    /// one holding its file system).
    BlockDevice,
    /// Nothing better known.
    Default,
}

impl BlockSizeSource {
    /// Where the block size came from, in words.
    pub fn describe(self) -> &'static str {
        match self {
            BlockSizeSource::Requested => "the requested block size",
            BlockSizeSource::DioAlign => "the file's direct-I/O alignment",
            BlockSizeSource::BlockDevice => "the logical block size of its block device",
            BlockSizeSource::Default => "the default block size",
        }
    }
}

impl Ctx {
    /// A context over the real system.
    pub fn new() -> Self {
        Self::default()
    }

    fn device_node(&self, index: u32) -> PathBuf {
        self.dev_dir
            .join(format!("{}{index}", abi::RLOOP_DISK_PREFIX))
    }

    fn open_control(&self) -> Result<OwnedFd, Error> {
        let name = self.control.display().to_string();
        open(&self.control, OFlags::RDWR).map_err(|e| match e {
            libc::ENOENT => Error::os_with(
                name,
                e,
                "No such file or directory (is the rloop module loaded?)",
            ),
            _ => Error::os(name, e),
        })
    }

    /// The logical block size a device on `fd` would inherit, as the module
    /// works it out: the file's direct-I/O offset alignment, else the logical
    /// block size of the block device (the file, or its file system's), else
    /// 512.
    pub fn inherited_block_size(&self, fd: impl AsFd) -> (u32, BlockSizeSource) {
        let fd = fd.as_fd();
        if let Ok(stx) = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::DIOALIGN) {
            if stx.stx_mask & StatxFlags::DIOALIGN.bits() != 0 && stx.stx_dio_offset_align != 0 {
                return (stx.stx_dio_offset_align, BlockSizeSource::DioAlign);
            }
        }
        if let Ok(st) = rustix::fs::fstat(fd) {
            if FileType::from_raw_mode(st.st_mode) == FileType::BlockDevice {
                if let Ok(v @ 1..) = rustix::fs::ioctl_blksszget(fd) {
                    return (v, BlockSizeSource::BlockDevice);
                }
            } else if let Some(v) = self.fs_logical_block_size(st.st_dev) {
                return (v, BlockSizeSource::BlockDevice);
            }
        }
        (512, BlockSizeSource::Default)
    }

    /// The logical block size of the block device `dev` (a file system's
    /// `st_dev`) from `/sys/dev/block/MAJ:MIN`, looking at the whole disk for
    /// a partition.
    fn fs_logical_block_size(&self, dev: u64) -> Option<u32> {
        let (maj, min) = (rustix::fs::major(dev), rustix::fs::minor(dev));
        let base = self.sysfs.join(format!("dev/block/{maj}:{min}"));
        for p in [
            base.join("queue/logical_block_size"),
            base.join("../queue/logical_block_size"),
        ] {
            if let Ok(s) = std::fs::read_to_string(&p) {
                if let Ok(v) = s.trim().parse::<u32>() {
                    if v > 0 {
                        return Some(v);
                    }
                }
            }
        }
        None
    }

    /// Creates a device over `o.file` (see [`create`]).
    pub fn create(&self, o: &CreateOptions) -> Result<Device, Error> {
        let name = o.file.display().to_string();

        rules::check_window(o.offset, o.sizelimit).map_err(|r| {
            refused(
                &name,
                r,
                format!("offset {}; size limit {}", o.offset, o.sizelimit),
            )
        })?;

        let st = rustix::fs::stat(&o.file).map_err(|e| Error::os(&name, errno(e)))?;
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile | FileType::BlockDevice => {}
            FileType::Directory => {
                return Err(Error::os_with(
                    name,
                    libc::EISDIR,
                    "is a directory, not a regular file or block device",
                ))
            }
            _ => {
                return Err(Error::new(name, "not a regular file or block device"));
            }
        }

        let mut read_only = o.read_only;
        let fd = if read_only {
            open(&o.file, OFlags::RDONLY)
        } else {
            match open(&o.file, OFlags::RDWR) {
                Err(libc::EROFS | libc::EACCES) => {
                    read_only = true;
                    open(&o.file, OFlags::RDONLY)
                }
                r => r,
            }
        }
        .map_err(|e| Error::os(&name, e))?;

        // rloop only does direct I/O; say so before anything else about the file (a
        // file that cannot, like /proc/version, may not even seek to its end).
        if let Err(libc::EINVAL) = open(&o.file, OFlags::RDONLY | OFlags::DIRECT) {
            return Err(Error::os_with(
                name,
                libc::EINVAL,
                "the file does not support direct I/O (O_DIRECT), which rloop requires",
            ));
        }

        let (inherited, source) = self.inherited_block_size(&fd);
        let page_size = u32::try_from(rustix::param::page_size()).unwrap_or(u32::MAX);
        let bs = rules::choose_block_size(o.block_size.unwrap_or(0), inherited, page_size)
            .map_err(|r| {
                let requested = o
                    .block_size
                    .map_or_else(String::new, |b| format!("sector size {b}; "));
                refused(
                    &name,
                    r,
                    format!(
                        "{requested}page size {page_size}; {} {inherited}",
                        source.describe()
                    ),
                )
            })?;
        let bs_source = match o.block_size {
            Some(_) => BlockSizeSource::Requested,
            None => source,
        };
        // The end, not st_size: a block device's size is not in its inode.
        let size = rustix::fs::seek(&fd, rustix::fs::SeekFrom::End(0))
            .map_err(|e| Error::os(&name, errno(e)))?;
        rules::window_len(size, o.offset, o.sizelimit, bs).map_err(|r| {
            let limit = match o.sizelimit {
                0 => String::new(),
                l => format!("; size limit {l}"),
            };
            refused(
                &name,
                r,
                format!(
                    "offset {}{limit}; block size {bs}, {}; file size {size}",
                    o.offset,
                    bs_source.describe()
                ),
            )
        })?;

        let ctl = self.open_control()?;
        let mut cfg = RloopConfig {
            size: core::mem::size_of::<RloopConfig>() as u32,
            flags: o.flags(read_only),
            fd: fd.as_raw_fd(),
            block_size: o.block_size.unwrap_or(0),
            offset: o.offset,
            sizelimit: o.sizelimit,
            ..Default::default()
        };
        // SAFETY: RLOOP_CTL_CREATE reads and writes one `RloopConfig`.
        let r = unsafe {
            sys::ioctl(
                ctl.as_raw_fd(),
                sys::RLOOP_CTL_CREATE,
                &mut cfg as *mut RloopConfig as usize,
            )
        };
        drop(fd);
        let holder = match r {
            Err(e) => return Err(self.create_error(&name, e, o, bs)),
            // SAFETY: For an autoclear device the ioctl returns a new descriptor,
            // ours alone.
            Ok(ret) => holder_fd(ret, o.autoclear)
                .map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }),
        };

        let index = cfg.index;
        let path = crate::device_path(index);
        self.wait_for_node(index)
            .map_err(|reason| Error::new(&path, reason))?;
        Ok(Device {
            index,
            path,
            read_only,
            block_size: bs,
            block_size_source: bs_source,
            holder,
        })
    }

    fn create_error(&self, name: &str, e: i32, o: &CreateOptions, bs: u32) -> Error {
        let why = match e {
            libc::EINVAL => format!(
                "invalid argument: the rloop module refused the configuration \
                 (block size {bs}, offset {}, size limit {})",
                o.offset, o.sizelimit
            ),
            libc::EOPNOTSUPP | 524 => {
                "the file does not support direct I/O, which rloop requires".to_string()
            }
            libc::EFBIG | libc::EOVERFLOW => format!(
                "offset {} or size limit {} is out of range for the file ({})",
                o.offset,
                o.sizelimit,
                crate::errno::message(e)
            ),
            libc::ENOSPC => "no free rloop device number".to_string(),
            libc::ENOTTY => {
                return Error::os_with(
                    self.control.display().to_string(),
                    e,
                    "does not know RLOOP_CTL_CREATE (rloop module of another version?)",
                )
            }
            libc::EBUSY => "file is busy (in use exclusively?)".to_string(),
            _ => crate::errno::message(e),
        };
        Error::os_with(name, e, why)
    }

    /// Waits (bounded) for devtmpfs to create the node of a new device.
    fn wait_for_node(&self, index: u32) -> Result<(), String> {
        let node = self.device_node(index);
        let want = std::fs::read_to_string(sysfs::device_dir(&self.sysfs, index).join("dev"))
            .ok()
            .and_then(|s| sysfs::parse_majmin(&s));
        let deadline = Instant::now() + self.node_timeout;
        loop {
            if let Ok(st) = rustix::fs::stat(&node) {
                let rdev = (rustix::fs::major(st.st_rdev), rustix::fs::minor(st.st_rdev));
                if FileType::from_raw_mode(st.st_mode) == FileType::BlockDevice
                    && want.is_none_or(|w| w == rdev)
                {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "device created, but its node did not appear within {} ms",
                    self.node_timeout.as_millis()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Detaches and removes `/dev/rloopN` (see [`detach`]).
    pub fn detach(&self, index: u32) -> Result<Detached, Error> {
        let ctl = self.open_control()?;
        // SAFETY: RLOOP_CTL_DETACH takes an integer, not a pointer.
        let r = unsafe { sys::ioctl(ctl.as_raw_fd(), sys::RLOOP_CTL_DETACH, index as usize) };
        match r {
            Ok(r) => Ok(Detached::from_ioctl(r)),
            Err(e) => {
                let name = crate::device_path(index);
                Err(match e {
                    libc::ENODEV | libc::ENXIO => Error::os_with(name, e, "no such rloop device"),
                    _ => Error::os(name, e),
                })
            }
        }
    }

    /// Detaches every rloop device; returns what happened to each (a device
    /// that went meanwhile is left out), or why there is no list of them.
    pub fn detach_all(&self) -> Result<Vec<DetachOutcome>, Error> {
        let indices = sysfs::device_indices(&self.sysfs)
            .map_err(|e| Error::io(self.sysfs.join("block").display().to_string(), &e))?;
        Ok(indices
            .into_iter()
            .map(|i| (i, self.detach(i)))
            .filter(|(_, r)| !matches!(r, Err(e) if e.errno == Some(libc::ENODEV)))
            .collect())
    }

    /// Whether the rloop module is loaded (`<sysfs>/module/rloop`). Without
    /// it there are no devices, and `list` and `detach --all` say why there
    /// are none rather than print nothing.
    pub fn module_loaded(&self) -> bool {
        self.sysfs.join("module").join(crate::MODULE_NAME).is_dir()
    }

    /// Every rloop device, by index.
    pub fn list(&self) -> Result<Vec<DeviceInfo>, Error> {
        sysfs::list_devices(&self.sysfs)
    }

    /// One device.
    pub fn info(&self, index: u32) -> Result<DeviceInfo, Error> {
        sysfs::read_device(&self.sysfs, index)
    }

    /// The devices whose backing file is `file` (same device and inode),
    /// optionally only those at `offset`.
    pub fn find(&self, file: &Path, offset: Option<u64>) -> Result<Vec<DeviceInfo>, Error> {
        let st =
            rustix::fs::stat(file).map_err(|e| Error::os(file.display().to_string(), errno(e)))?;
        let dev = (rustix::fs::major(st.st_dev), rustix::fs::minor(st.st_dev));
        Ok(self
            .list()?
            .into_iter()
            .filter(|d| {
                d.backing_dev == Some(dev)
                    && d.backing_inode == Some(st.st_ino)
                    && offset.is_none_or(|o| o == d.offset)
            })
            .collect())
    }

    /// Issues `RLOOP_SET_CAPACITY` on `/dev/rloopN`.
    pub fn set_capacity(&self, index: u32) -> Result<(), Error> {
        let node = self.device_node(index);
        let name = crate::device_path(index);
        let fd = open(&node, OFlags::RDONLY).map_err(|e| Error::os(&name, e))?;
        // SAFETY: RLOOP_SET_CAPACITY takes no argument.
        unsafe { sys::ioctl(fd.as_raw_fd(), sys::RLOOP_SET_CAPACITY, 0) }
            .map(|_| ())
            .map_err(|e| Error::os(name, e))
    }
}

/// Creates `/dev/rloopN` over `o.file` in one `RLOOP_CTL_CREATE` and waits
/// for its node.
///
/// Before the ioctl it refuses, with a message of its own, a file that is
/// neither a regular file nor a block device, an offset that is not a
/// multiple of the block size the device would get, and a file that cannot
/// do direct I/O. A file that cannot be opened read-write (`EROFS`,
/// `EACCES`) is attached read-only, as `losetup` does.
pub fn create(o: &CreateOptions) -> Result<Device, Error> {
    Ctx::default().create(o)
}

/// Detaches and removes `/dev/rloopN`. `EBUSY` if it is open (and not
/// autoclear), `ENODEV` if there is no such device.
pub fn detach(index: u32) -> Result<Detached, Error> {
    Ctx::default().detach(index)
}

/// Every rloop device.
pub fn list() -> Result<Vec<DeviceInfo>, Error> {
    Ctx::default().list()
}

/// One rloop device.
pub fn info(index: u32) -> Result<DeviceInfo, Error> {
    Ctx::default().info(index)
}

/// The devices backed by `file`.
pub fn find(file: &Path, offset: Option<u64>) -> Result<Vec<DeviceInfo>, Error> {
    Ctx::default().find(file, offset)
}

/// Issues `RLOOP_SET_CAPACITY` on `/dev/rloopN`.
pub fn set_capacity(index: u32) -> Result<(), Error> {
    Ctx::default().set_capacity(index)
}

/// One line of `rloopctl find` for a device, as `losetup -j` prints it:
/// `/dev/rloop0: [2049]:1234 (/path/file), offset 4096`. The backing file
/// system's device number is losetup's `[%04jd]` of `lo_device`, the
/// kernel's `huge_encode_dev`, which is glibc's `makedev` and `stat -c %d`.
pub fn find_line(d: &DeviceInfo) -> String {
    let dev = d.backing_dev.map_or_else(String::new, |(major, minor)| {
        format!("{:04}", rustix::fs::makedev(major, minor))
    });
    let ino = d.backing_inode.map_or_else(String::new, |i| i.to_string());
    let mut s = format!(
        "{}: [{dev}]:{ino} ({})",
        d.name,
        d.backing_file.as_deref().unwrap_or("")
    );
    if d.offset != 0 {
        s.push_str(&format!(", offset {}", d.offset));
    }
    if d.sizelimit != 0 {
        s.push_str(&format!(", sizelimit {}", d.sizelimit));
    }
    s
}

/// The holder descriptor in `RLOOP_CTL_CREATE`'s return value: with
/// `RLOOP_FLAG_AUTOCLEAR` it is a new descriptor, whatever its number (0 for a
/// process started with its standard input closed); without, the call returns 0.
fn holder_fd(ret: i32, autoclear: bool) -> Option<std::os::fd::RawFd> {
    autoclear.then_some(ret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests::fake_device;
    use std::os::unix::fs::MetadataExt;

    fn ctx(root: &Path) -> Ctx {
        Ctx {
            control: root.join("dev/rloop-control"),
            sysfs: root.join("sys"),
            dev_dir: root.join("dev"),
            node_timeout: Duration::from_millis(50),
        }
    }

    #[test]
    fn flags() {
        let o = CreateOptions {
            autoclear: true,
            partscan: true,
            ..Default::default()
        };
        assert_eq!(o.flags(false), 4 | 8);
        assert_eq!(o.flags(true), 1 | 4 | 8);
        assert_eq!(CreateOptions::default().flags(false), 0);
    }

    #[test]
    fn holder_fd_zero_is_a_descriptor() {
        // A process started with its standard input closed gets 0 as the holder.
        assert_eq!(holder_fd(0, true), Some(0));
        assert_eq!(holder_fd(7, true), Some(7));
        assert_eq!(holder_fd(0, false), None);
    }

    #[test]
    fn find_line_is_losetups() {
        let mut d = DeviceInfo {
            name: "/dev/rloop3".into(),
            backing_file: Some("/srv/a b.img".into()),
            backing_inode: Some(12),
            backing_dev: Some((8, 1)),
            ..Default::default()
        };
        assert_eq!(find_line(&d), "/dev/rloop3: [2049]:12 (/srv/a b.img)");
        // Zero-padded to four digits; a minor above 255 as the kernel
        // encodes it.
        d.backing_dev = Some((0, 35));
        assert_eq!(find_line(&d), "/dev/rloop3: [0035]:12 (/srv/a b.img)");
        d.backing_dev = Some((259, 300));
        d.offset = 4096;
        d.sizelimit = 8192;
        assert_eq!(
            find_line(&d),
            format!(
                "/dev/rloop3: [{}]:12 (/srv/a b.img), offset 4096, sizelimit 8192",
                (259 << 8) | (300 & 0xff) | ((300 & !0xff) << 12)
            )
        );
    }

    #[test]
    fn busy_detach_is_said() {
        assert_eq!(Detached::from_ioctl(0), Detached::Now);
        assert_eq!(Detached::from_ioctl(1), Detached::OnLastClose);
        for verbose in [false, true] {
            assert_eq!(
                detach_note(4, Detached::OnLastClose, verbose).as_deref(),
                Some("/dev/rloop4: busy: autoclear turned on, it is detached on its last close")
            );
        }
        assert_eq!(detach_note(4, Detached::Now, false), None);
        assert_eq!(
            detach_note(4, Detached::Now, true).as_deref(),
            Some("/dev/rloop4: detached")
        );
    }

    #[test]
    fn find_matches_device_and_inode() {
        let t = tempfile::tempdir().unwrap();
        let sys = t.path().join("sys");
        let file = t.path().join("disk.img");
        std::fs::write(&file, [0u8; 4096]).unwrap();
        let md = std::fs::metadata(&file).unwrap();
        let bd = format!(
            "{}:{}",
            rustix::fs::major(md.dev()),
            rustix::fs::minor(md.dev())
        );
        let path = file.display().to_string();
        fake_device(
            &sys,
            0,
            &path,
            md.ino(),
            &bd,
            0,
            0,
            (false, false, false),
            512,
        );
        fake_device(
            &sys,
            1,
            "/other",
            md.ino() + 1,
            &bd,
            0,
            0,
            (false, false, false),
            512,
        );
        fake_device(
            &sys,
            3,
            &path,
            md.ino(),
            &bd,
            4096,
            8192,
            (false, false, true),
            512,
        );
        fake_device(
            &sys,
            4,
            &path,
            md.ino(),
            "1:1",
            0,
            0,
            (false, false, false),
            512,
        );
        let c = ctx(t.path());
        let found = c.find(&file, None).unwrap();
        assert_eq!(
            found.iter().map(|d| d.index).collect::<Vec<_>>(),
            vec![0, 3]
        );
        assert_eq!(
            find_line(&found[0]),
            format!("/dev/rloop0: [{:04}]:{} ({path})", md.dev(), md.ino())
        );
        assert_eq!(
            find_line(&found[1]),
            format!(
                "/dev/rloop3: [{:04}]:{} ({path}), offset 4096, sizelimit 8192",
                md.dev(),
                md.ino()
            )
        );
        let found = c.find(&file, Some(4096)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].index, 3);
        assert!(c.find(&t.path().join("nope"), None).is_err());
    }

    #[test]
    fn create_refuses_before_the_ioctl() {
        let t = tempfile::tempdir().unwrap();
        let c = ctx(t.path());
        // Not a regular file or block device.
        let e = c
            .create(&CreateOptions {
                file: "/dev/null".into(),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/null: not a regular file or block device"
        );
        let e = c
            .create(&CreateOptions {
                file: t.path().to_path_buf(),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.errno, Some(libc::EISDIR));
        let e = c
            .create(&CreateOptions {
                file: t.path().join("missing"),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.errno, Some(libc::ENOENT));

        // Misaligned offset against a requested block size.
        let file = t.path().join("f.img");
        std::fs::write(&file, vec![0u8; 1 << 16]).unwrap();
        let e = c
            .create(&CreateOptions {
                file: file.clone(),
                offset: 512,
                block_size: Some(4096),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            e.reason,
            "offset must be a multiple of the block size \
             (offset 512; block size 4096, the requested block size; file size 65536)"
        );
        assert_eq!(e.errno, Some(libc::EINVAL));
        // Odd offset against whatever the file inherits (at least 512).
        let e = c
            .create(&CreateOptions {
                file: file.clone(),
                offset: 100,
                ..Default::default()
            })
            .unwrap_err();
        assert!(
            e.reason.starts_with(
                "offset must be a multiple of the block size (offset 100; block size "
            ),
            "{e}"
        );
        // The module's rules, each named, before the control node is looked
        // for (it is missing here).
        let page = rustix::param::page_size();
        let refusal = |o: CreateOptions| c.create(&o).unwrap_err();
        let e = refusal(CreateOptions {
            file: file.clone(),
            offset: 1 << 16,
            block_size: Some(4096),
            ..Default::default()
        });
        assert_eq!(
            e.to_string(),
            format!(
                "{}: offset at or beyond the end of the backing file \
                 (offset 65536; block size 4096, the requested block size; file size 65536)",
                file.display()
            )
        );
        let e = refusal(CreateOptions {
            file: file.clone(),
            offset: 61440,
            sizelimit: 2048,
            block_size: Some(4096),
            ..Default::default()
        });
        assert_eq!(
            e.reason,
            "less than one block to show (offset 61440; size limit 2048; block size 4096, \
             the requested block size; file size 65536)"
        );
        for bad in [3000, 256, 2 * page as u32] {
            let e = refusal(CreateOptions {
                file: file.clone(),
                block_size: Some(bad),
                ..Default::default()
            });
            assert_eq!(e.errno, Some(libc::EINVAL));
            assert!(
                e.reason.starts_with(&format!(
                    "block size must be a power of two from 512 to the page size \
                     (sector size {bad}; page size {page}; "
                )),
                "{e}"
            );
        }
        let e = refusal(CreateOptions {
            file: file.clone(),
            offset: 1 << 63,
            ..Default::default()
        });
        assert_eq!(e.errno, Some(libc::EOVERFLOW));
        assert_eq!(
            e.reason,
            "offset beyond 2^63 - 1 (offset 9223372036854775808; size limit 0)"
        );

        // Everything fine up to the control node, which is missing here
        // (unless the file system cannot do O_DIRECT at all).
        let e = c
            .create(&CreateOptions {
                file: file.clone(),
                ..Default::default()
            })
            .unwrap_err();
        if e.subject == path_str(&c.control) {
            assert_eq!(e.errno, Some(libc::ENOENT));
            assert!(e.reason.contains("module loaded"));
        } else {
            assert!(e.reason.contains("direct I/O"), "{e}");
        }
    }

    fn path_str(p: &Path) -> String {
        p.display().to_string()
    }

    #[test]
    fn inherited_block_size_is_sane() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let f = std::fs::File::open(&file).unwrap();
        let (bs, _) = Ctx::default().inherited_block_size(&f);
        assert!(bs >= 512 && bs.is_power_of_two(), "{bs}");
    }

    #[test]
    fn module_loaded_by_sysfs() {
        let t = tempfile::tempdir().unwrap();
        let c = ctx(t.path());
        assert!(!c.module_loaded());
        std::fs::create_dir_all(t.path().join("sys/module/rloop")).unwrap();
        assert!(c.module_loaded());
    }

    #[test]
    fn detach_and_set_capacity_without_module() {
        let t = tempfile::tempdir().unwrap();
        let c = ctx(t.path());
        let e = c.detach(0).unwrap_err();
        assert_eq!(e.errno, Some(libc::ENOENT));
        assert!(
            c.detach_all().unwrap().is_empty(),
            "no devices, nothing to fail"
        );
        std::fs::write(t.path().join("sys"), "").unwrap();
        let e = c.detach_all().unwrap_err();
        assert_eq!(e.errno, Some(libc::ENOTDIR));
        let e = c.set_capacity(7).unwrap_err();
        assert_eq!(e.to_string(), "/dev/rloop7: No such file or directory");
    }
}
