// SPDX-License-Identifier: GPL-2.0

//! The command line of `rloopctl`, as clap sees it.
//!
//! It lives in the library rather than in the binary so that the man pages
//! and shell completions (`examples/gen-docs.rs`) are generated from the very
//! definition the binary parses with.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::columns::{self, Column};

/// The whole command line: `rloopctl`, its options and its subcommands.
pub fn command() -> clap::Command {
    Cli::command()
}

/// What rloopctl prints for a command line clap refused: clap's message with
/// `rloopctl: ` in place of its `error: `, so that every error rloopctl
/// reports starts the same way; plain text, as the other errors are.
pub fn usage_error_text(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    format!("rloopctl: {text}")
}

#[derive(Parser, Debug)]
#[command(
    name = "rloopctl",
    version,
    about = "Set up and control rloop devices (a losetup look-alike)",
    long_about = "Set up and control rloop devices: disks (/dev/rloopN) that expose a regular \
                  file or a block device, always through direct I/O.\n\n\
                  Exit status: 0 on success, 1 if an operation failed, 2 for a usage error."
)]
pub struct Cli {
    /// Say what was done, on stderr (the block size a device got and where
    /// it came from, each device detached).
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
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
pub struct CreateArgs {
    /// Set up a read-only device.
    #[arg(short = 'r', long = "read-only")]
    pub read_only: bool,
    /// Start at this byte offset into FILE (a multiple of the block size).
    #[arg(short = 'o', long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub offset: Option<u64>,
    /// Expose at most this many bytes of FILE (from the offset).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub sizelimit: Option<u64>,
    /// Logical sector size of the device (default: the file's direct-I/O
    /// alignment).
    #[arg(short = 'b', long = "sector-size", value_name = "SIZE", value_parser = parse_block_size)]
    pub sector_size: Option<u32>,
    /// Detach the device automatically when its last user closes it. The
    /// device is created open, held by rloopctl while COMMAND runs: give a
    /// COMMAND that opens it (mounts it, say) for the device to outlive
    /// rloopctl. udev's probes never detach it.
    #[arg(long, requires = "command")]
    pub autoclear: bool,
    /// Scan the device for partitions.
    #[arg(short = 'P', long)]
    pub partscan: bool,
    /// Use direct I/O to the backing file: rloop always does, so only "on"
    /// is taken (for losetup compatibility).
    #[arg(
        long = "direct-io",
        value_name = "on",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "on",
        value_parser = parse_direct_io
    )]
    pub direct_io: Option<bool>,
    /// Print the device name: rloopctl always does (as losetup --show);
    /// accepted for losetup compatibility.
    #[arg(long)]
    pub show: bool,
    /// Use the first free device: rloopctl always does, the module picks
    /// the number (as losetup -f); accepted for losetup compatibility.
    #[arg(short = 'f', long)]
    pub find: bool,
    /// The backing file: a regular file or a block device.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// After `--`: a command to run once the device exists, with every
    /// argument `{}` replaced by the device's path; rloopctl exits with its
    /// status. With --autoclear the device goes when the command and every
    /// other opener have let go of it.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct DetachArgs {
    /// Detach all rloop devices (as losetup -D; -a is taken too).
    #[arg(short = 'D', long, short_alias = 'a', conflicts_with = "devices")]
    pub all: bool,
    /// Devices to detach: /dev/rloopN, rloopN or N.
    #[arg(value_name = "DEV", required_unless_present = "all", value_parser = parse_dev)]
    pub devices: Vec<u32>,
}

#[derive(Args, Debug)]
#[command(after_help = columns::columns_help())]
pub struct ListArgs {
    /// List all devices (as losetup -a): what list does without DEV.
    #[arg(short = 'a', long, conflicts_with = "device")]
    pub all: bool,
    /// List in columns (as losetup -l): the default format.
    #[arg(short = 'l', long)]
    pub list: bool,
    /// Use JSON output format.
    #[arg(short = 'J', long, conflicts_with = "raw")]
    pub json: bool,
    /// Don't print headings.
    #[arg(short = 'n', long)]
    pub noheadings: bool,
    /// Use the raw output format.
    #[arg(long)]
    pub raw: bool,
    /// Columns to show, comma separated (a leading + adds to the defaults).
    #[arg(short = 'O', long, value_name = "LIST", value_parser = parse_output,
          conflicts_with = "output_all")]
    pub output: Option<ColumnList>,
    /// Show all columns.
    #[arg(long)]
    pub output_all: bool,
    /// Only this device: /dev/rloopN, rloopN or N.
    #[arg(value_name = "DEV", value_parser = parse_dev)]
    pub device: Option<u32>,
}

#[derive(Args, Debug)]
pub struct FindArgs {
    /// Only devices at this offset.
    #[arg(short = 'o', long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub offset: Option<u64>,
    /// The backing file to look for.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct SetCapacityArgs {
    /// The device: /dev/rloopN, rloopN or N.
    #[arg(value_name = "DEV", value_parser = parse_dev)]
    pub device: u32,
}

fn parse_size_arg(s: &str) -> Result<u64, String> {
    crate::parse_size(s).map_err(|e| e.to_string())
}

/// A sector size: any size that fits 32 bits here; whether the device can
/// have it is the operation's business (`create` explains a bad one by the
/// module's rule). 0 is refused here: to the module it means "inherit",
/// which is leaving the option out.
fn parse_block_size(s: &str) -> Result<u32, String> {
    match u32::try_from(parse_size_arg(s)?) {
        Ok(0) => {
            Err("0 is no sector size (leave the option out to inherit the file's)".to_string())
        }
        Ok(v) => Ok(v),
        Err(_) => Err("too large".to_string()),
    }
}

/// `--direct-io[=on]`. Whatever else is asked for, the answer is the same:
/// there is nothing but direct I/O to have.
fn parse_direct_io(s: &str) -> Result<bool, String> {
    match s {
        "on" | "1" | "yes" | "true" => Ok(true),
        _ => Err(
            "rloop is direct-I/O only: it always uses direct I/O, which cannot be \
                  switched off (leave the option out, or give --direct-io=on)"
                .to_string(),
        ),
    }
}

fn parse_dev(s: &str) -> Result<u32, String> {
    crate::parse_device_arg(s).ok_or_else(|| "expected /dev/rloopN, rloopN or N".to_string())
}

/// An `--output` list (a newtype so that clap takes it as one value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnList(pub Vec<Column>);

fn parse_output(s: &str) -> Result<ColumnList, String> {
    columns::parse_columns(s).map(ColumnList)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for value in ["off", "0", "auto", ""] {
            let e = parse(&["create", &format!("--direct-io={value}"), "f"]).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert_eq!(
                usage_error_text(&e),
                format!(
                    "rloopctl: invalid value '{value}' for '--direct-io[=<on>]': rloop is \
                     direct-I/O only: it always uses direct I/O, which cannot be switched off \
                     (leave the option out, or give --direct-io=on)\n\n\
                     For more information, try '--help'.\n"
                )
            );
        }
        let Cmd::Create(a) = parse(&["-v", "create", "--show", "-f", "x"]).unwrap().cmd else {
            panic!()
        };
        assert!(a.show && a.find);
        assert!(parse(&["create", "x", "-v"]).unwrap().verbose);
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
        for all in ["--all", "-D", "-a"] {
            let Cmd::Detach(a) = parse(&["detach", all]).unwrap().cmd else {
                panic!()
            };
            assert!(a.all, "{all}");
        }
        assert!(parse(&["detach", "-D", "1"]).is_err());
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
        let Cmd::List(a) = parse(&["list", "-a", "-l"]).unwrap().cmd else {
            panic!()
        };
        assert!(a.all && a.list && a.device.is_none());
        assert!(parse(&["list", "-a", "rloop1"]).is_err());
        assert!(parse(&["list", "-l", "rloop1"]).is_ok());
        assert!(parse(&["list", "--output-all", "-O", "name"]).is_err());
        assert!(parse(&["list", "--output-all", "-n", "--raw"]).is_ok());
        assert!(parse(&["set-capacity", "rloop0"]).is_ok());
        assert!(parse(&["find", "-o", "4K", "x"]).is_ok());
    }
}
