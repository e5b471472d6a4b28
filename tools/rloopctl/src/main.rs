// SPDX-License-Identifier: GPL-2.0

//! `rloopctl`: set up and control rloop devices, the way `losetup` does for
//! loop devices.
//!
//! Exit status: 0 on success, 1 if an operation failed, 2 for a usage error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use rloopctl::cli::{Cli, Cmd};
use rloopctl::columns::{self, Column, OutputFormat};
use rloopctl::{CreateOptions, Ctx, Error};

/// Overrides the sysfs mount point (for testing the listing against a fake
/// tree).
const SYSFS_ENV: &str = "RLOOPCTL_SYSFS";

/// The width of the terminal stdout is, or `None` if it is no terminal:
/// then the table is not cut to fit, as losetup's. `COLUMNS` stands in for
/// a terminal that does not say, as util-linux takes it.
fn terminal_width() -> Option<usize> {
    let stdout = std::io::stdout();
    if !rustix::termios::isatty(&stdout) {
        return None;
    }
    match rustix::termios::tcgetwinsize(&stdout) {
        Ok(ws) if ws.ws_col > 0 => Some(ws.ws_col.into()),
        _ => std::env::var("COLUMNS").ok()?.parse().ok(),
    }
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
    let verbose = cli.verbose;
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
            if verbose {
                eprintln!(
                    "rloopctl: {}: over {}, block size {} ({}){}",
                    dev.path,
                    o.file.display(),
                    dev.block_size,
                    dev.block_size_source.describe(),
                    if dev.read_only { ", read-only" } else { "" }
                );
            }
            out(&format!("{}\n", dev.path));
            if a.command.is_empty() {
                return Ok(());
            }
            run_holding(&dev, &a.command)
        }
        Cmd::Detach(a) => {
            // As losetup -D without the loop module: nothing to detach is
            // no failure (cleanup scripts go on), but say why.
            if a.all && !ctx.module_loaded() {
                fail(&Error::module_not_loaded());
                return Ok(());
            }
            let results = if a.all {
                ctx.detach_all().map_err(|e| fail(&e))?
            } else {
                a.devices.iter().map(|&i| (i, ctx.detach(i))).collect()
            };
            let mut failed = false;
            for (index, r) in results {
                match r {
                    Ok(d) => {
                        if let Some(note) = rloopctl::detach_note(index, d, verbose) {
                            eprintln!("rloopctl: {note}");
                        }
                    }
                    Err(e) => {
                        fail(&e);
                        failed = true;
                    }
                }
            }
            if failed {
                Err(())
            } else {
                Ok(())
            }
        }
        Cmd::List(a) => {
            let devs = match a.device {
                Some(_) if !ctx.module_loaded() => {
                    fail(&Error::module_not_loaded());
                    return Err(());
                }
                Some(i) => vec![ctx.info(i).map_err(|e| fail(&e))?],
                // No devices is the true answer (an empty JSON array for
                // -J), as losetup's; the note says why, on stderr.
                None if !ctx.module_loaded() => {
                    fail(&Error::module_not_loaded());
                    Vec::new()
                }
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
            out(&columns::render(
                &devs,
                &cols,
                format,
                !a.noheadings,
                terminal_width(),
            ));
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version (on stdout, status 0), and the help printed
        // for a bare `rloopctl` are no messages to prefix.
        Err(e)
            if !e.use_stderr()
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            eprint!("{}", rloopctl::cli::usage_error_text(&e));
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::from(1),
    }
}
