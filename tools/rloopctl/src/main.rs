// SPDX-License-Identifier: GPL-2.0

//! `rloopctl`: set up and control rloop devices, the way `losetup` does for
//! loop devices.
//!
//! Exit status: 0 on success, 1 if an operation failed, 2 for a usage error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use rloopctl::columns::{self, Column, OutputFormat};
use rloopctl::{CreateOptions, Ctx, Error};

/// Overrides the sysfs mount point (for testing the listing against a fake
/// tree).
const SYSFS_ENV: &str = "RLOOPCTL_SYSFS";

#[derive(Parser, Debug)]
#[command(
    name = "rloopctl",
    version,
    about = "Set up and control rloop devices (a losetup look-alike)",
    long_about = "Set up and control rloop devices: disks (/dev/rloopN) that expose a regular \
                  file or a block device, always through direct I/O.\n\n\
                  Exit status: 0 on success, 1 if an operation failed, 2 for a usage error."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Create a device over FILE and print its name (/dev/rloopN).
    Create(CreateArgs),
    /// Detach and remove devices.
    Detach(DetachArgs),
    /// List devices (like `losetup --list`).
    List(ListArgs),
    /// Show the devices backed by FILE (like `losetup -j`).
    Find(FindArgs),
    /// Ask a device to re-read the size of its backing file.
    SetCapacity(SetCapacityArgs),
}

#[derive(Args, Debug)]
struct CreateArgs {
    /// Set up a read-only device.
    #[arg(short = 'r', long = "read-only")]
    read_only: bool,
    /// Start at this byte offset into FILE (a multiple of the block size).
    #[arg(short = 'o', long, value_name = "SIZE", value_parser = parse_size_arg)]
    offset: Option<u64>,
    /// Expose at most this many bytes of FILE (from the offset).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    sizelimit: Option<u64>,
    /// Logical sector size of the device (default: the file's direct-I/O
    /// alignment).
    #[arg(short = 'b', long = "sector-size", value_name = "SIZE", value_parser = parse_block_size)]
    sector_size: Option<u32>,
    /// Detach the device automatically when its last user closes it. The
    /// device is created open, held by rloopctl while COMMAND runs: give a
    /// COMMAND that opens it (mounts it, say) for the device to outlive
    /// rloopctl. udev's probes never detach it.
    #[arg(long, requires = "command")]
    autoclear: bool,
    /// Scan the device for partitions.
    #[arg(short = 'P', long)]
    partscan: bool,
    /// Accepted for losetup compatibility: rloop always uses direct I/O.
    #[arg(
        long = "direct-io",
        value_name = "on",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "on",
        value_parser = parse_direct_io
    )]
    direct_io: Option<bool>,
    /// Accepted for losetup compatibility (the name is always printed).
    #[arg(long, hide = true)]
    show: bool,
    /// Accepted for losetup compatibility (a new device is always made).
    #[arg(short = 'f', long, hide = true)]
    find: bool,
    /// The backing file: a regular file or a block device.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// After `--`: a command to run once the device exists, with every
    /// argument `{}` replaced by the device's path; rloopctl exits with its
    /// status. With --autoclear the device goes when the command and every
    /// other opener have let go of it.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
struct DetachArgs {
    /// Detach all rloop devices.
    #[arg(short = 'a', long, conflicts_with = "devices")]
    all: bool,
    /// Devices to detach: /dev/rloopN, rloopN or N.
    #[arg(value_name = "DEV", required_unless_present = "all", value_parser = parse_dev)]
    devices: Vec<u32>,
}

#[derive(Args, Debug)]
#[command(after_help = columns::columns_help())]
struct ListArgs {
    /// Use JSON output format.
    #[arg(short = 'J', long, conflicts_with = "raw")]
    json: bool,
    /// Don't print headings.
    #[arg(short = 'n', long)]
    noheadings: bool,
    /// Use the raw output format.
    #[arg(long)]
    raw: bool,
    /// Columns to show, comma separated (a leading + adds to the defaults).
    #[arg(short = 'O', long, value_name = "LIST", value_parser = parse_output,
          conflicts_with = "output_all")]
    output: Option<ColumnList>,
    /// Show all columns.
    #[arg(long)]
    output_all: bool,
    /// Only this device: /dev/rloopN, rloopN or N.
    #[arg(value_name = "DEV", value_parser = parse_dev)]
    device: Option<u32>,
}

#[derive(Args, Debug)]
struct FindArgs {
    /// Only devices at this offset.
    #[arg(short = 'o', long, value_name = "SIZE", value_parser = parse_size_arg)]
    offset: Option<u64>,
    /// The backing file to look for.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Args, Debug)]
struct SetCapacityArgs {
    /// The device: /dev/rloopN, rloopN or N.
    #[arg(value_name = "DEV", value_parser = parse_dev)]
    device: u32,
}

fn parse_size_arg(s: &str) -> Result<u64, String> {
    rloopctl::parse_size(s).map_err(|e| e.to_string())
}

/// A sector size: any size that fits 32 bits here; whether the device can
/// have it is the operation's business (`create` explains a bad one).
fn parse_block_size(s: &str) -> Result<u32, String> {
    let v = parse_size_arg(s)?;
    u32::try_from(v).map_err(|_| "too large".to_string())
}

fn parse_direct_io(s: &str) -> Result<bool, String> {
    match s {
        "on" | "1" | "yes" | "true" => Ok(true),
        "off" | "0" | "no" | "false" => {
            Err("rloop always uses direct I/O; it cannot be switched off".to_string())
        }
        _ => Err("expected 'on'".to_string()),
    }
}

fn parse_dev(s: &str) -> Result<u32, String> {
    rloopctl::parse_device_arg(s).ok_or_else(|| "expected /dev/rloopN, rloopN or N".to_string())
}

/// An `--output` list (a newtype so that clap takes it as one value).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ColumnList(Vec<Column>);

fn parse_output(s: &str) -> Result<ColumnList, String> {
    columns::parse_columns(s).map(ColumnList)
}

/// Writes to stdout, quietly stopping at a closed pipe.
fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes()).and_then(|_| o.flush());
}

fn fail(e: &Error) {
    eprintln!("rloopctl: {e}");
}

/// Runs `command` (`{}` replaced by the device's path) while `dev`'s holder
/// descriptor, if any, stays open in this process (not in the command: it
/// is close-on-exec); exits with the command's status.
fn run_holding(dev: &rloopctl::Device, command: &[std::ffi::OsString]) -> Result<(), ()> {
    let args: Vec<std::ffi::OsString> = command
        .iter()
        .map(|a| {
            if a == "{}" {
                dev.path.clone().into()
            } else {
                a.clone()
            }
        })
        .collect();
    let status = std::process::Command::new(&args[0])
        .args(&args[1..])
        .status()
        .map_err(|e| eprintln!("rloopctl: {}: {e}", args[0].to_string_lossy()))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => std::process::exit(code),
        None => {
            eprintln!("rloopctl: {}: {status}", args[0].to_string_lossy());
            Err(())
        }
    }
}

fn run(cli: Cli) -> Result<(), ()> {
    let mut ctx = Ctx::default();
    if let Some(p) = std::env::var_os(SYSFS_ENV) {
        ctx.sysfs = PathBuf::from(p);
    }
    match cli.cmd {
        Cmd::Create(a) => {
            let o = CreateOptions {
                file: a.file,
                read_only: a.read_only,
                offset: a.offset.unwrap_or(0),
                sizelimit: a.sizelimit.unwrap_or(0),
                block_size: a.sector_size,
                autoclear: a.autoclear,
                partscan: a.partscan,
            };
            let dev = ctx.create(&o).map_err(|e| fail(&e))?;
            out(&format!("{}\n", dev.path));
            if a.command.is_empty() {
                return Ok(());
            }
            run_holding(&dev, &a.command)
        }
        Cmd::Detach(a) => {
            let errors = if a.all {
                ctx.detach_all()
            } else {
                a.devices
                    .iter()
                    .filter_map(|&i| match ctx.detach(i) {
                        Ok(rloopctl::Detached::OnLastClose) => {
                            eprintln!(
                                "rloopctl: {}: busy: autoclear turned on, it is detached on its last close",
                                rloopctl::device_path(i)
                            );
                            None
                        }
                        r => r.err(),
                    })
                    .collect()
            };
            errors.iter().for_each(fail);
            if errors.is_empty() {
                Ok(())
            } else {
                Err(())
            }
        }
        Cmd::List(a) => {
            let devs = match a.device {
                Some(i) => vec![ctx.info(i).map_err(|e| fail(&e))?],
                None => ctx.list().map_err(|e| fail(&e))?,
            };
            let cols = if a.output_all {
                Column::ALL.to_vec()
            } else {
                a.output.map_or_else(|| Column::DEFAULT.to_vec(), |c| c.0)
            };
            let format = if a.json {
                OutputFormat::Json
            } else if a.raw {
                OutputFormat::Raw
            } else {
                OutputFormat::Table
            };
            out(&columns::render(&devs, &cols, format, !a.noheadings));
            Ok(())
        }
        Cmd::Find(a) => {
            let devs = ctx.find(&a.file, a.offset).map_err(|e| fail(&e))?;
            let mut s = String::new();
            for d in &devs {
                s.push_str(&rloopctl::find_line(d));
                s.push('\n');
            }
            out(&s);
            Ok(())
        }
        Cmd::SetCapacity(a) => ctx.set_capacity(a.device).map_err(|e| fail(&e)),
    }
}

fn main() -> ExitCode {
    // clap exits with 2 on a usage error and 0 for --help/--version.
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::from(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("rloopctl").chain(args.iter().copied()))
    }

    #[test]
    fn create_args() {
        let c = parse(&[
            "create",
            "-r",
            "-o",
            "1M",
            "--sizelimit",
            "4KiB",
            "-b",
            "4096",
            "-P",
            "--autoclear",
            "--direct-io",
            "f.img",
            "--",
            "mount",
            "{}",
            "/mnt",
        ])
        .unwrap();
        let Cmd::Create(a) = c.cmd else { panic!() };
        assert!(a.read_only && a.partscan && a.autoclear);
        assert_eq!(a.command, ["mount", "{}", "/mnt"]);
        // Autoclear without a command to hold the device would detach it at once.
        let e = parse(&["create", "--autoclear", "f.img"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("COMMAND"), "{e}");
        assert_eq!(a.offset, Some(1 << 20));
        assert_eq!(a.sizelimit, Some(4096));
        assert_eq!(a.sector_size, Some(4096));
        assert_eq!(a.direct_io, Some(true));
        assert_eq!(a.file, PathBuf::from("f.img"));
        assert!(parse(&["create", "--direct-io=on", "f"]).is_ok());
        let e = parse(&["create", "--direct-io=off", "f"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("always uses direct I/O"), "{e}");
        for bad in [
            &["create", "-o", "-1", "f"][..],
            &["create", "-o", "12Q", "f"],
            &["create", "--sizelimit", "99999999999999999999", "f"],
            &["create", "-b", "8G", "f"],
            &["create", "-b", "x", "f"],
            &["create"],
            &["create", "a", "b"],
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn detach_list_args() {
        let Cmd::Detach(a) = parse(&["detach", "/dev/rloop1", "rloop2", "3"])
            .unwrap()
            .cmd
        else {
            panic!()
        };
        assert_eq!(a.devices, vec![1, 2, 3]);
        assert!(!a.all);
        let Cmd::Detach(a) = parse(&["detach", "--all"]).unwrap().cmd else {
            panic!()
        };
        assert!(a.all);
        assert!(parse(&["detach"]).is_err());
        assert!(parse(&["detach", "--all", "1"]).is_err());
        assert!(parse(&["detach", "/dev/sda"]).is_err());

        let Cmd::List(a) = parse(&["list", "-J", "-O", "name,Back-File", "rloop4"])
            .unwrap()
            .cmd
        else {
            panic!()
        };
        assert!(a.json);
        assert_eq!(
            a.output,
            Some(ColumnList(vec![Column::Name, Column::BackFile]))
        );
        assert_eq!(a.device, Some(4));
        let e = parse(&["list", "-O", "name,bogus"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("unknown column: bogus"), "{e}");
        assert!(parse(&["list", "--json", "--raw"]).is_err());
        assert!(parse(&["list", "--output-all", "-O", "name"]).is_err());
        assert!(parse(&["list", "--output-all", "-n", "--raw"]).is_ok());
        assert!(parse(&["set-capacity", "rloop0"]).is_ok());
        assert!(parse(&["find", "-o", "4K", "x"]).is_ok());
    }
}
