// SPDX-License-Identifier: GPL-2.0

//! Reading the devices' state from sysfs.
//!
//! Every function takes the sysfs mount point (`/sys` on a real system), so
//! the listing can be tested against a directory laid out like it.
//!
//! Per device the module provides `/sys/block/rloopN/rloop/` with
//! `backing_file` (the path and a newline), `backing_inode` (decimal),
//! `backing_dev` (`MAJ:MIN`), `offset`, `sizelimit` (decimal bytes),
//! `autoclear`, `partscan` and `dio` (`0` or `1`); the block layer provides
//! `ro`, `dev`, `size` and `queue/logical_block_size`.

use std::io;
use std::path::{Path, PathBuf};

use crate::abi::RLOOP_DISK_PREFIX;
use crate::error::Error;

/// The real sysfs mount point.
pub const SYSFS: &str = "/sys";

/// What is known about one rloop device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    /// `N` of `/dev/rloopN`.
    pub index: u32,
    /// The device node: `/dev/rloopN`.
    pub name: String,
    /// Path of the backing file, as the kernel reports it.
    pub backing_file: Option<String>,
    /// Inode number of the backing file.
    pub backing_inode: Option<u64>,
    /// Device number (major, minor) of the file system holding the backing
    /// file (`st_dev` of the file).
    pub backing_dev: Option<(u32, u32)>,
    /// Device number (major, minor) of the rloop disk itself.
    pub dev: Option<(u32, u32)>,
    /// Byte offset into the backing file.
    pub offset: u64,
    /// Size limit in bytes as given at creation; 0 is none.
    pub sizelimit: u64,
    /// Removed when its last opener closes it.
    pub autoclear: bool,
    /// Partitions are scanned.
    pub partscan: bool,
    /// The backing file is accessed with direct I/O (always, for rloop).
    pub dio: bool,
    /// The disk is read-only.
    pub read_only: bool,
    /// Logical sector size in bytes.
    pub log_sec: Option<u32>,
    /// Capacity in 512-byte sectors.
    pub size_sectors: Option<u64>,
}

/// `<sysfs>/block`.
fn block_dir(sysfs: &Path) -> PathBuf {
    sysfs.join("block")
}

/// `<sysfs>/block/rloopN`.
pub fn device_dir(sysfs: &Path, index: u32) -> PathBuf {
    block_dir(sysfs).join(format!("{RLOOP_DISK_PREFIX}{index}"))
}

/// The index of a `/sys/block` entry that is an rloop disk (`rloop12`), or
/// `None` for anything else, partitions such as `rloop0p1` included.
pub fn index_of_name(name: &str) -> Option<u32> {
    crate::parse_index(name.strip_prefix(RLOOP_DISK_PREFIX)?)
}

/// Indices of the rloop disks present, in increasing order.
pub fn device_indices(sysfs: &Path) -> io::Result<Vec<u32>> {
    let dir = match std::fs::read_dir(block_dir(sysfs)) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut v = Vec::new();
    for entry in dir {
        let entry = entry?;
        if let Some(i) = entry.file_name().to_str().and_then(index_of_name) {
            v.push(i);
        }
    }
    v.sort_unstable();
    Ok(v)
}

/// Whether `/sys/block/rloopN` exists.
pub fn device_exists(sysfs: &Path, index: u32) -> bool {
    device_dir(sysfs, index).exists()
}

fn read_attr(path: &Path) -> io::Result<String> {
    let mut s = std::fs::read_to_string(path)?;
    if s.ends_with('\n') {
        s.pop();
    }
    Ok(s)
}

fn bad_value(path: &Path, value: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: unexpected value {value:?}", path.display()),
    )
}

fn parse_num<T: std::str::FromStr>(path: &Path, s: &str) -> io::Result<T> {
    s.trim().parse().map_err(|_| bad_value(path, s))
}

fn parse_bool(path: &Path, s: &str) -> io::Result<bool> {
    match s.trim() {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(bad_value(path, s)),
    }
}

/// Parses `MAJ:MIN`.
pub fn parse_majmin(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn num_attr<T: std::str::FromStr>(path: &Path) -> io::Result<T> {
    parse_num(path, &read_attr(path)?)
}

fn bool_attr(path: &Path) -> io::Result<bool> {
    parse_bool(path, &read_attr(path)?)
}

fn majmin_attr(path: &Path) -> io::Result<(u32, u32)> {
    let s = read_attr(path)?;
    parse_majmin(&s).ok_or_else(|| bad_value(path, &s))
}

/// An attribute of the block layer's: `None` if it is not there.
fn optional<T>(r: io::Result<T>) -> io::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the state of `/dev/rloopN` from sysfs.
///
/// Fails with `ENOENT` if the device (or its `rloop/` directory) is not
/// there.
pub fn read_device_raw(sysfs: &Path, index: u32) -> io::Result<DeviceInfo> {
    let dir = device_dir(sysfs, index);
    let r = dir.join("rloop");
    Ok(DeviceInfo {
        index,
        name: crate::device_path(index),
        backing_file: Some(read_attr(&r.join("backing_file"))?),
        backing_inode: Some(num_attr(&r.join("backing_inode"))?),
        backing_dev: Some(majmin_attr(&r.join("backing_dev"))?),
        offset: num_attr(&r.join("offset"))?,
        sizelimit: num_attr(&r.join("sizelimit"))?,
        autoclear: bool_attr(&r.join("autoclear"))?,
        partscan: bool_attr(&r.join("partscan"))?,
        dio: bool_attr(&r.join("dio"))?,
        read_only: optional(bool_attr(&dir.join("ro")))?.unwrap_or(false),
        dev: optional(majmin_attr(&dir.join("dev")))?,
        log_sec: optional(num_attr(&dir.join("queue/logical_block_size")))?,
        size_sectors: optional(num_attr(&dir.join("size")))?,
    })
}

/// Reads the state of `/dev/rloopN`; the error names the device.
pub fn read_device(sysfs: &Path, index: u32) -> Result<DeviceInfo, Error> {
    let name = crate::device_path(index);
    read_device_raw(sysfs, index).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => Error::os_with(name, libc::ENXIO, "no such rloop device"),
        _ => Error::io(name, &e),
    })
}

/// Reads every rloop device. A device that disappears while it is being
/// read is left out.
pub fn list_devices(sysfs: &Path) -> Result<Vec<DeviceInfo>, Error> {
    let indices =
        device_indices(sysfs).map_err(|e| Error::io(block_dir(sysfs).display().to_string(), &e))?;
    let mut out = Vec::with_capacity(indices.len());
    for i in indices {
        match read_device_raw(sysfs, i) {
            Ok(d) => out.push(d),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(crate::device_path(i), &e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;

    /// Populates `<sysfs>/block/rloopN` as the module and block layer would.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fake_device(
        sysfs: &Path,
        index: u32,
        file: &str,
        ino: u64,
        backing_dev: &str,
        offset: u64,
        sizelimit: u64,
        flags: (bool, bool, bool),
        log_sec: u32,
    ) {
        let dir = device_dir(sysfs, index);
        let r = dir.join("rloop");
        fs::create_dir_all(&r).unwrap();
        fs::create_dir_all(dir.join("queue")).unwrap();
        let b = |v: bool| if v { "1\n" } else { "0\n" };
        fs::write(r.join("backing_file"), format!("{file}\n")).unwrap();
        fs::write(r.join("backing_inode"), format!("{ino}\n")).unwrap();
        fs::write(r.join("backing_dev"), format!("{backing_dev}\n")).unwrap();
        fs::write(r.join("offset"), format!("{offset}\n")).unwrap();
        fs::write(r.join("sizelimit"), format!("{sizelimit}\n")).unwrap();
        fs::write(r.join("autoclear"), b(flags.0)).unwrap();
        fs::write(r.join("partscan"), b(flags.1)).unwrap();
        fs::write(r.join("dio"), "1\n").unwrap();
        fs::write(dir.join("ro"), b(flags.2)).unwrap();
        fs::write(dir.join("dev"), format!("252:{index}\n")).unwrap();
        fs::write(dir.join("size"), "2048\n").unwrap();
        fs::write(dir.join("queue/logical_block_size"), format!("{log_sec}\n")).unwrap();
    }

    #[test]
    fn names() {
        assert_eq!(index_of_name("rloop0"), Some(0));
        assert_eq!(index_of_name("rloop42"), Some(42));
        assert_eq!(index_of_name("rloop0p1"), None);
        assert_eq!(index_of_name("loop0"), None);
        assert_eq!(index_of_name("rloop"), None);
        assert_eq!(index_of_name("rloop-control"), None);
        assert_eq!(parse_majmin("8:1\n"), Some((8, 1)));
        assert_eq!(parse_majmin("8"), None);
        assert_eq!(parse_majmin("a:b"), None);
    }

    #[test]
    fn list_fake_sysfs() {
        let t = tempfile::tempdir().unwrap();
        let sys = t.path();
        // Nothing at all: an empty list, not an error.
        assert_eq!(list_devices(sys).unwrap(), vec![]);
        fs::create_dir_all(sys.join("block/sda")).unwrap();
        fs::create_dir_all(sys.join("block/loop0")).unwrap();
        fs::create_dir_all(sys.join("block/rloop10p1")).unwrap();
        fake_device(
            sys,
            10,
            "/srv/b img",
            77,
            "259:3",
            4096,
            0,
            (true, false, false),
            4096,
        );
        fake_device(
            sys,
            2,
            "/tmp/a.img",
            12,
            "8:1",
            0,
            1 << 20,
            (false, true, true),
            512,
        );
        // Being torn down: no rloop/ directory any more.
        fs::create_dir_all(sys.join("block/rloop5")).unwrap();

        assert_eq!(device_indices(sys).unwrap(), vec![2, 5, 10]);
        let l = list_devices(sys).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0],
            DeviceInfo {
                index: 2,
                name: "/dev/rloop2".into(),
                backing_file: Some("/tmp/a.img".into()),
                backing_inode: Some(12),
                backing_dev: Some((8, 1)),
                dev: Some((252, 2)),
                offset: 0,
                sizelimit: 1 << 20,
                autoclear: false,
                partscan: true,
                dio: true,
                read_only: true,
                log_sec: Some(512),
                size_sectors: Some(2048),
            }
        );
        assert_eq!(l[1].index, 10);
        assert_eq!(l[1].backing_file.as_deref(), Some("/srv/b img"));
        assert_eq!(l[1].backing_dev, Some((259, 3)));
        assert_eq!(l[1].offset, 4096);
        assert!(l[1].autoclear && !l[1].read_only);

        assert_eq!(read_device(sys, 10).unwrap(), l[1]);
        let e = read_device(sys, 5).unwrap_err();
        assert_eq!(e.to_string(), "/dev/rloop5: no such rloop device");
        let e = read_device(sys, 3).unwrap_err();
        assert_eq!(e.subject, "/dev/rloop3");

        // A corrupt attribute is an error, not a silent zero.
        fs::write(device_dir(sys, 2).join("rloop/offset"), "x\n").unwrap();
        assert!(list_devices(sys).is_err());
    }

    #[test]
    fn backing_file_keeps_inner_newlines_and_spaces() {
        let t = tempfile::tempdir().unwrap();
        fake_device(
            t.path(),
            0,
            "/a\nb ",
            1,
            "1:2",
            0,
            0,
            (false, false, false),
            512,
        );
        let d = read_device(t.path(), 0).unwrap();
        assert_eq!(d.backing_file.as_deref(), Some("/a\nb "));
    }
}
