// SPDX-License-Identifier: GPL-2.0

//! User-space control of rloop devices.
//!
//! This is the library half of the `rloopctl` command: creating, detaching
//! and listing `/dev/rloopN` disks, parsing sizes the way `losetup` does, and
//! rendering the device list as a table, as raw lines or as JSON. The binary
//! is a thin command-line layer over it.
//!
//! The ABI (the control ioctls and [`abi::RloopConfig`]) is not defined here:
//! it is included from `uapi/rloop_uapi.rs`, the one definition shared with
//! the kernel module.

#[path = "../../../uapi/rloop_uapi.rs"]
pub mod abi;

/// The module's own rules for a device's geometry and a request's checks
/// (`rloop_rules.rs`, `core` only): `create` checks a request with them
/// before the ioctl, and the host tests cover their edges.
#[path = "../../../rloop_rules.rs"]
pub mod rules;

/// The file positions those rules compute (`file_pos.rs`, `core` only).
#[path = "../../../file_pos.rs"]
pub mod file_pos;

pub mod cli;
pub mod columns;
pub mod ctl;
pub mod errno;
pub mod error;
pub mod num;
pub mod size;
pub mod sys;
pub mod sysfs;

pub use columns::{Column, OutputFormat};
pub use ctl::{
    create, detach, detach_note, find, find_line, info, list, set_capacity, CreateOptions, Ctx,
    Detached, Device,
};
pub use error::Error;
pub use size::parse_size;
pub use sysfs::DeviceInfo;

/// The kernel module's name, as `/sys/module` shows it.
pub const MODULE_NAME: &str = "rloop";

/// `/dev`, where devtmpfs creates the nodes.
pub const DEV_DIR: &str = "/dev";

/// Path of a device node: `/dev/rloopN`.
pub fn device_path(index: u32) -> String {
    format!("{DEV_DIR}/{}{index}", abi::RLOOP_DISK_PREFIX)
}

/// Path of the control node: `/dev/rloop-control`.
pub fn control_path() -> String {
    format!("{DEV_DIR}/{}", abi::RLOOP_CONTROL_NAME)
}

/// Parses a device argument as `losetup -d` would take it: `/dev/rloopN`,
/// `rloopN` or plain `N`.
///
/// Returns `None` for anything else (including partitions such as
/// `rloop0p1`).
pub fn parse_device_arg(arg: &str) -> Option<u32> {
    let s = arg.strip_prefix("/dev/").unwrap_or(arg);
    let s = s.strip_prefix(abi::RLOOP_DISK_PREFIX).unwrap_or(s);
    parse_index(s)
}

/// Parses a bare decimal device index (no sign, no leading `+`, no spaces).
pub(crate) fn parse_index(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Reject "01": the kernel never names a disk that way.
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_args() {
        assert_eq!(parse_device_arg("/dev/rloop0"), Some(0));
        assert_eq!(parse_device_arg("rloop12"), Some(12));
        assert_eq!(parse_device_arg("7"), Some(7));
        assert_eq!(parse_device_arg("/dev/rloop0p1"), None);
        assert_eq!(parse_device_arg("rloop"), None);
        assert_eq!(parse_device_arg("/dev/loop0"), None);
        assert_eq!(parse_device_arg("-1"), None);
        assert_eq!(parse_device_arg("+1"), None);
        assert_eq!(parse_device_arg("01"), None);
        assert_eq!(parse_device_arg("99999999999"), None);
        assert_eq!(device_path(3), "/dev/rloop3");
        assert_eq!(control_path(), "/dev/rloop-control");
    }
}
