// SPDX-License-Identifier: GPL-2.0

//! `rloop-raw race`: control ioctls racing each other and direct I/O, from
//! threads of one process (an exec per call would be thousands of times
//! slower than the races it is after).
//!
//! Each racer thread, for a fixed number of iterations, creates a device on
//! the backing file, opens and closes it (racing the others' removes), and
//! removes its own device and a few other indices. Each I/O thread writes a
//! pattern of its own with O_DIRECT to its region of a device that must
//! survive, reads it back and compares, until the racers are done. Every
//! call must return one of the outcomes the ABI allows; anything else fails
//! the run.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use clap::Args;

use rloopctl::abi::{self, RloopConfig};
use rloopctl::{errno, sys};

use crate::{make_buffer, open_raw, INDEX_OFFSET};

#[derive(Args, Debug)]
pub struct RaceArgs {
    /// The backing file of the devices the racers create.
    #[arg(long)]
    file: PathBuf,
    /// Racer threads.
    #[arg(long, default_value_t = 4)]
    threads: u32,
    /// Create/open/remove rounds per racer.
    #[arg(long, default_value_t = 50)]
    iterations: u32,
    /// Each racer also removes indices 0..=N other than its own.
    #[arg(long, default_value_t = 4)]
    max_index: u32,
    /// A device that must survive: I/O threads verify data on it meanwhile.
    #[arg(long)]
    io_dev: Option<PathBuf>,
    /// I/O threads on --io-dev (each on its own 64 KiB-aligned region).
    #[arg(long, default_value_t = 2)]
    io_threads: u32,
    /// The control node.
    #[arg(long, default_value = "/dev/rloop-control")]
    control: PathBuf,
}

/// Outcome counts per operation: "create ok", "remove ENODEV", ...
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, what: &str, r: &Result<(), i32>) {
        let key = match r {
            Ok(()) => format!("{what} ok"),
            Err(e) => format!("{what} {}", errno::name_or_number(*e)),
        };
        *self.0.lock().unwrap().entry(key).or_default() += 1;
    }
}

fn create(ctl: RawFd, fd: RawFd) -> Result<u32, i32> {
    let cfg = RloopConfig {
        size: abi::RLOOP_CONFIG_SIZE_V1,
        flags: 0,
        fd,
        block_size: 0,
        offset: 0,
        sizelimit: 0,
        index: 0,
        reserved0: 0,
        reserved: [0; 4],
    };
    let mut buf = make_buffer(&cfg, 72, 0);
    // SAFETY: `buf` holds a whole struct rloop_config (and slack).
    unsafe { sys::ioctl(ctl, sys::RLOOP_CTL_CREATE, buf.as_mut_ptr() as usize) }?;
    Ok(u32::from_ne_bytes(
        buf[INDEX_OFFSET..INDEX_OFFSET + 4].try_into().unwrap(),
    ))
}

fn remove(ctl: RawFd, index: u32) -> Result<(), i32> {
    // SAFETY: RLOOP_CTL_REMOVE takes an integer.
    unsafe { sys::ioctl(ctl, sys::RLOOP_CTL_REMOVE, index as usize) }.map(|_| ())
}

/// One racer; returns a description of the first unexpected outcome.
fn racer(a: &RaceArgs, ctl: RawFd, fd: RawFd, seed: u32, tally: &Tally) -> Result<(), String> {
    let mut x = seed.wrapping_mul(2654435761).max(1);
    for i in 0..a.iterations {
        let created = create(ctl, fd);
        tally.add("create", &created.map(|_| ()));
        let own = match created {
            Ok(n) => Some(n),
            // Another racer holds the lock the create needs, or took
            // the index it was about to use.
            Err(libc::EBUSY) => None,
            Err(e) => return Err(format!("round {i}: create: {}", errno::name_or_number(e))),
        };
        if let Some(n) = own {
            // Opening races the other racers' removes of this index.
            let path = rloopctl::device_path(n);
            let opened = open_raw(path.as_ref(), libc::O_RDONLY)
                .map(drop)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO));
            tally.add("open", &opened);
            match opened {
                Ok(()) | Err(libc::ENOENT | libc::ENXIO | libc::ENODEV) => {}
                Err(e) => {
                    return Err(format!(
                        "round {i}: open {path}: {}",
                        errno::name_or_number(e)
                    ))
                }
            }
        }
        // xorshift: which other indices to remove this round.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let other = x % (a.max_index + 1);
        for index in own.into_iter().chain([other]) {
            let r = remove(ctl, index);
            tally.add("remove", &r);
            match r {
                Ok(()) | Err(libc::ENODEV | libc::EBUSY) => {}
                Err(e) => {
                    return Err(format!(
                        "round {i}: remove {index}: {}",
                        errno::name_or_number(e)
                    ))
                }
            }
        }
    }
    Ok(())
}

/// A 64 KiB buffer aligned for O_DIRECT on any block size.
struct Aligned(Box<[u8]>, usize);

impl Aligned {
    const LEN: usize = 64 << 10;
    fn new() -> Self {
        let b = vec![0u8; Self::LEN + 4096].into_boxed_slice();
        let off = (4096 - (b.as_ptr() as usize % 4096)) % 4096;
        Self(b, off)
    }
    fn get(&mut self) -> &mut [u8] {
        &mut self.0[self.1..self.1 + Self::LEN]
    }
}

/// One I/O thread: write, read back, compare, until `stop`. Returns rounds.
fn io_worker(f: &File, region: u64, stop: &AtomicBool) -> Result<u64, String> {
    let (mut w, mut r) = (Aligned::new(), Aligned::new());
    let pos = region * Aligned::LEN as u64;
    let mut rounds = 0u64;
    while !stop.load(Ordering::Relaxed) || rounds == 0 {
        for (j, b) in w.get().iter_mut().enumerate() {
            *b = (j as u64 ^ rounds ^ (region << 8)) as u8;
        }
        f.write_all_at(w.get(), pos)
            .map_err(|e| format!("write at {pos}: {e}"))?;
        f.read_exact_at(r.get(), pos)
            .map_err(|e| format!("read at {pos}: {e}"))?;
        if w.get() != r.get() {
            return Err(format!("round {rounds}: data at {pos} does not read back"));
        }
        rounds += 1;
    }
    Ok(rounds)
}

pub fn run(a: &RaceArgs) -> Result<ExitCode, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&a.file)
        .map_err(|e| format!("{}: {e}", a.file.display()))?;
    let ctl =
        open_raw(&a.control, libc::O_RDWR).map_err(|e| format!("{}: {e}", a.control.display()))?;
    let tally = Tally::default();
    let stop = AtomicBool::new(false);
    // Opened before any racer starts: their removes of it must see it busy.
    let io_files = match &a.io_dev {
        Some(dev) => (0..a.io_threads)
            .map(|_| {
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_DIRECT)
                    .open(dev)
                    .map_err(|e| format!("{}: {e}", dev.display()))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let (racers, ios) = std::thread::scope(|s| {
        let ios: Vec<_> = io_files
            .iter()
            .zip(0u64..)
            .map(|(f, region)| {
                let stop = &stop;
                s.spawn(move || io_worker(f, region, stop))
            })
            .collect();
        let racers: Vec<_> = (0..a.threads)
            .map(|t| {
                let (tally, ctl, fd) = (&tally, ctl.as_raw_fd(), file.as_raw_fd());
                s.spawn(move || racer(a, ctl, fd, t + 1, tally))
            })
            .collect();
        let racers: Vec<_> = racers.into_iter().map(|h| h.join().unwrap()).collect();
        stop.store(true, Ordering::Relaxed);
        let ios: Vec<_> = ios.into_iter().map(|h| h.join().unwrap()).collect();
        (racers, ios)
    });
    let counts = tally.0.into_inner().unwrap();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let mut verified = 0u64;
    let mut failures: Vec<String> = racers.into_iter().filter_map(Result::err).collect();
    for r in ios {
        match r {
            Ok(n) => verified += n,
            Err(e) => failures.push(format!("I/O: {e}")),
        }
    }
    println!(
        "race: {}; {verified} I/O rounds verified",
        summary.join(", ")
    );
    for f in &failures {
        eprintln!("race: unexpected: {f}");
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
