// SPDX-License-Identifier: GPL-2.0

//! A small deterministic fuzzer of the rloop ioctls.
//!
//! Each call is one of: `RLOOP_CTL_CREATE` (or a command number near it) with
//! a mutated `struct rloop_config` whose fd is one of many kinds (regular
//! file read-write, read-only, `O_DIRECT` or `O_PATH`, directory, pipe ends,
//! socket, memfd, closed or absurd numbers, the control node itself, `/proc`
//! files, character devices, the `--dev` disk); a random command in and
//! around the `'L'` type on the control node; and with `--dev`, a random
//! `'L'` command or a harmless block-layer query on that disk.
//!
//! It never hands the kernel an integer that names an existing device to an
//! ioctl on the control node (so it cannot remove the test's own disks), and
//! every pointer it passes points to a buffer larger than any `_IOC` size (so
//! a kernel that writes back too much cannot corrupt it). Every device a
//! create makes is removed at once.

use std::collections::BTreeSet;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rloopctl::abi::{self, RloopConfig};
use rloopctl::{errno, sys, sysfs};

use crate::{make_buffer, make_memfd, make_pipe, make_socketpair, open_raw, FuzzArgs};

/// xorshift64*: small, fast and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Spread the seed (splitmix64) so that 0, 1, 2... differ at once.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// Addresses no user-space mapping can have.
const BAD_POINTERS: &[usize] = &[
    0,
    1,
    4095,
    0x0000_8000_0000_0000,
    0xffff_8000_0000_0000,
    0xffff_ffff_ffff_f000,
    usize::MAX,
];

/// Harmless block-layer queries for the `--dev` disk: (command, bytes the
/// kernel writes back).
const BLOCK_QUERIES: &[(u32, usize)] = &[
    (0x1260, 8),      // BLKGETSIZE (unsigned long)
    (0x1261, 0),      // BLKFLSBUF
    (0x1263, 8),      // BLKRAGET
    (0x125e, 4),      // BLKROGET
    (0x1268, 4),      // BLKSSZGET
    (0x1278, 4),      // BLKIOMIN
    (0x1279, 4),      // BLKIOOPT
    (0x127a, 4),      // BLKALIGNOFF
    (0x127b, 4),      // BLKPBSZGET
    (0x127c, 4),      // BLKDISCARDZEROES
    (0x127e, 2),      // BLKROTATIONAL
    (0x8008_1272, 8), // BLKGETSIZE64
];

/// An fd of some kind, to put in a config.
struct FdKind {
    label: &'static str,
    fd: RawFd,
}

/// Everything the fuzzer opened; kept alive for the whole run.
struct Pool {
    kinds: Vec<FdKind>,
    _owned: Vec<OwnedFd>,
    scratch: Option<PathBuf>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some(p) = &self.scratch {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn build_pool(a: &FuzzArgs, ctl: RawFd, dev: Option<RawFd>) -> Pool {
    let mut kinds = Vec::new();
    let mut owned = Vec::new();
    let mut add = |label: &'static str, r: std::io::Result<OwnedFd>, owned: &mut Vec<OwnedFd>| {
        if let Ok(fd) = r {
            kinds.push(FdKind {
                label,
                fd: fd.as_raw_fd(),
            });
            owned.push(fd);
        }
    };

    let dir = a.tmpdir.clone().unwrap_or_else(std::env::temp_dir);
    let scratch = dir.join(format!("rloop-raw-fuzz-{}.img", std::process::id()));
    let made = std::fs::File::create(&scratch).and_then(|f| f.set_len(4 << 20));
    let scratch = made.is_ok().then_some(scratch);
    if let Some(p) = &scratch {
        add("regular-rw", open_raw(p, libc::O_RDWR), &mut owned);
        add("regular-ro", open_raw(p, libc::O_RDONLY), &mut owned);
        add(
            "regular-direct",
            open_raw(p, libc::O_RDWR | libc::O_DIRECT),
            &mut owned,
        );
        add("regular-path", open_raw(p, libc::O_PATH), &mut owned);
        add("regular-wronly", open_raw(p, libc::O_WRONLY), &mut owned);
    }
    add(
        "dir",
        open_raw(&dir, libc::O_DIRECTORY | libc::O_RDONLY),
        &mut owned,
    );
    add(
        "dir-path",
        open_raw(&dir, libc::O_DIRECTORY | libc::O_PATH),
        &mut owned,
    );
    if let Ok((r, w)) = make_pipe() {
        add("pipe-read", Ok(r), &mut owned);
        add("pipe-write", Ok(w), &mut owned);
    }
    if let Ok((s0, s1)) = make_socketpair() {
        add("socket", Ok(s0), &mut owned);
        owned.push(s1);
    }
    add("memfd", make_memfd(), &mut owned);
    add(
        "proc-status",
        open_raw(Path::new("/proc/self/status"), libc::O_RDONLY),
        &mut owned,
    );
    add(
        "proc-version",
        open_raw(Path::new("/proc/version"), libc::O_RDONLY),
        &mut owned,
    );
    add(
        "dev-null",
        open_raw(Path::new("/dev/null"), libc::O_RDWR),
        &mut owned,
    );
    add(
        "dev-zero",
        open_raw(Path::new("/dev/zero"), libc::O_RDONLY),
        &mut owned,
    );
    kinds.push(FdKind {
        label: "control",
        fd: ctl,
    });
    if let Some(d) = dev {
        kinds.push(FdKind {
            label: "rloop-dev",
            fd: d,
        });
    }
    // Numbers that are not open fds (checked), and absurd ones.
    for n in [999, 4000, 65535] {
        // SAFETY: F_GETFD only asks about the number.
        if unsafe { libc::fcntl(n, libc::F_GETFD) } < 0 {
            kinds.push(FdKind {
                label: "closed",
                fd: n,
            });
        }
    }
    for (label, fd) in [
        ("minus-one", -1),
        ("int-min", i32::MIN),
        ("int-max", i32::MAX),
    ] {
        kinds.push(FdKind { label, fd });
    }
    Pool {
        kinds,
        _owned: owned,
        scratch,
    }
}

fn existing(sysfs_root: &Path) -> BTreeSet<u32> {
    sysfs::device_indices(sysfs_root)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

struct Fuzzer<'a> {
    rng: Rng,
    args: &'a FuzzArgs,
    ctl: RawFd,
    dev: Option<RawFd>,
    pool: Pool,
    calls: u64,
    creates_ok: u64,
    problems: u64,
    /// Devices this run created and removed: safe arguments for REMOVE.
    removed: Vec<u32>,
}

impl Fuzzer<'_> {
    fn log(&self, what: &str, r: &Result<i32, i32>) {
        if self.args.verbose {
            let outcome = match r {
                Ok(v) => format!("ok {v}"),
                Err(e) => format!("err {}", errno::name_or_number(*e)),
            };
            eprintln!("#{} {what} -> {outcome}", self.calls);
        }
    }

    fn some_u32(&mut self) -> u32 {
        self.rng.next_u64() as u32
    }

    /// An integer argument for the control node that is not the index of an
    /// existing device, even cut to 32 bits.
    fn safe_int(&mut self, v: usize) -> usize {
        let live = existing(&self.args.sysfs);
        if !live.contains(&(v as u32)) {
            return v;
        }
        let mut x = 1 << 20;
        while live.contains(&x) {
            x += 1;
        }
        x as usize
    }

    /// An argument: usually `buf`, sometimes an unmapped address or a small
    /// integer.
    fn arg(&mut self, buf: &mut [u8]) -> usize {
        match self.rng.below(10) {
            0 => self.rng.pick(BAD_POINTERS),
            1 => self.rng.below(4096) as usize,
            _ => buf.as_mut_ptr() as usize,
        }
    }

    fn random_config(&mut self) -> (RloopConfig, &'static str) {
        let kind = &self.pool.kinds[self.rng.below(self.pool.kinds.len() as u64) as usize];
        let (fd, label) = (kind.fd, kind.label);
        let r = self.rng.next_u64();
        let size = self.rng.pick(&[
            72,
            72,
            72,
            72,
            72,
            0,
            1,
            4,
            64,
            71,
            73,
            80,
            128,
            4096,
            u32::MAX,
            r as u32,
        ]);
        let r = self.some_u32();
        let flags = self
            .rng
            .pick(&[0, 0, 0, 1, 4, 8, 13, 5, 2, 16, 1 << 31, r, r & 0xf]);
        let r = self.some_u32();
        let block_size = self.rng.pick(&[
            0,
            0,
            0,
            512,
            1024,
            2048,
            4096,
            8192,
            65536,
            1 << 20,
            1,
            511,
            513,
            3000,
            u32::MAX,
            r,
        ]);
        let r = self.rng.next_u64();
        let offset = self.rng.pick(&[
            0,
            0,
            0,
            512,
            4096,
            1 << 20,
            4 << 20,
            1,
            511,
            u64::MAX,
            1 << 63,
            i64::MAX as u64,
            u64::MAX - 4095,
            r,
            r & !4095,
        ]);
        let r = self.rng.next_u64();
        let sizelimit = self.rng.pick(&[
            0,
            0,
            0,
            512,
            4096,
            1 << 20,
            4 << 20,
            8 << 20,
            1,
            4097,
            u64::MAX,
            1 << 63,
            r,
            r & !4095,
        ]);
        let reserved0 = if self.rng.chance(10) {
            self.some_u32()
        } else {
            0
        };
        let mut reserved = [0u64; 4];
        for x in &mut reserved {
            if self.rng.chance(5) {
                *x = self.rng.next_u64();
            }
        }
        let index = if self.rng.chance(10) {
            self.some_u32()
        } else {
            0
        };
        (
            RloopConfig {
                size,
                flags,
                fd,
                block_size,
                offset,
                sizelimit,
                index,
                reserved0,
                reserved,
            },
            label,
        )
    }

    fn create(&mut self) {
        let (cfg, label) = self.random_config();
        let cmd = if self.rng.chance(80) {
            sys::RLOOP_CTL_CREATE
        } else {
            let size = self
                .rng
                .pick(&[0, 64, 71, 72, 73, 80, 4096, sys::IOC_SIZE_MAX]);
            let dir = self.rng.below(4) as u32;
            sys::ioc(dir, abi::RLOOP_IOCTL_TYPE, abi::RLOOP_CTL_CREATE_NR, size)
        };
        let len = (sys::ioc_size(cmd) as usize).max(72);
        let tail = if self.rng.chance(20) {
            self.rng.next_u64() as u8
        } else {
            0
        };
        let mut buf = make_buffer(&cfg, len, tail);
        let arg = if self.rng.chance(5) {
            self.rng.pick(BAD_POINTERS)
        } else {
            buf.as_mut_ptr() as usize
        };
        let arg = if arg < 4096 { self.safe_int(arg) } else { arg };
        let before = existing(&self.args.sysfs);
        self.calls += 1;
        // SAFETY: `arg` is an unmapped address or points to `buf`, which is
        // bigger than any size a command number encodes.
        let r = unsafe { sys::ioctl(self.ctl, cmd, arg) };
        self.log(
            &format!(
                "create cmd={cmd:#x} size={} flags={:#x} fd={label}({}) bs={} off={:#x} lim={:#x} \
                 r0={:#x} res={:?}",
                cfg.size,
                cfg.flags,
                cfg.fd,
                cfg.block_size,
                cfg.offset,
                cfg.sizelimit,
                cfg.reserved0,
                cfg.reserved
            ),
            &r,
        );
        if let Ok(holder) = r {
            self.creates_ok += 1;
            let reported = u32::from_ne_bytes(buf[32..36].try_into().unwrap());
            let new: Vec<u32> = existing(&self.args.sysfs)
                .difference(&before)
                .copied()
                .collect();
            if arg != buf.as_mut_ptr() as usize || !new.contains(&reported) {
                eprintln!(
                    "fuzz: #{}: create succeeded but reported index {reported} is not a new \
                     device (new: {new:?})",
                    self.calls
                );
                self.problems += 1;
            }
            // An autoclear device comes with a descriptor, its creator's hold: let go of it
            // (once the device has been seen), and the device goes (or the removal below is
            // deferred to its last close).
            if holder > 0 {
                // SAFETY: A descriptor the ioctl gave this process; closed once.
                unsafe { libc::close(holder) };
            }
            let mut gone = new;
            if !gone.contains(&reported) && arg == buf.as_mut_ptr() as usize {
                // Not in sysfs (yet?): still try to remove what was reported.
                gone.push(reported);
            }
            for i in gone {
                self.remove_created(i);
            }
        }
    }

    fn remove_created(&mut self, index: u32) {
        for attempt in 0..50 {
            // SAFETY: RLOOP_CTL_REMOVE takes an integer.
            match unsafe { sys::ioctl(self.ctl, sys::RLOOP_CTL_REMOVE, index as usize) } {
                Ok(_) => {
                    self.removed.push(index);
                    return;
                }
                Err(libc::EBUSY) if attempt < 49 => std::thread::sleep(Duration::from_millis(20)),
                // An autoclear device went with its creator's descriptor.
                Err(libc::ENODEV) if !existing(&self.args.sysfs).contains(&index) => {
                    self.removed.push(index);
                    return;
                }
                Err(e) => {
                    eprintln!(
                        "fuzz: could not remove rloop{index}, which the fuzzer created: {}",
                        errno::name_or_number(e)
                    );
                    self.problems += 1;
                    return;
                }
            }
        }
    }

    fn control_ioctl(&mut self) {
        let mut buf = vec![0u8; BUF_LEN];
        for b in buf.iter_mut().take(128) {
            *b = self.rng.next_u64() as u8;
        }
        let ty = self
            .rng
            .pick(&[abi::RLOOP_IOCTL_TYPE, abi::RLOOP_IOCTL_TYPE, 0x4c, 0xd0, 0]);
        let nr = match self.rng.below(3) {
            0 => abi::RLOOP_CTL_CREATE_NR + self.rng.below(16) as u32,
            _ => self.rng.below(256) as u32,
        };
        let dir = self.rng.below(4) as u32;
        let any = self.rng.below(0x4000) as u32;
        let size = self.rng.pick(&[0, 0, 4, 8, 72, any]);
        let cmd = match self.rng.below(6) {
            0 => sys::RLOOP_CTL_REMOVE,
            1 => sys::RLOOP_SET_CAPACITY,
            2 => (abi::RLOOP_IOCTL_TYPE << 8) | self.rng.below(256) as u32,
            _ => sys::ioc(dir, ty, nr, size),
        };
        let arg = if cmd == sys::RLOOP_CTL_REMOVE {
            // A device removed earlier, or an absurd number.
            if !self.removed.is_empty() && self.rng.chance(50) {
                self.removed[self.rng.below(self.removed.len() as u64) as usize] as usize
            } else {
                self.rng
                    .pick(&[usize::MAX, 1 << 31, u32::MAX as usize, 1 << 32, 1 << 20, 0])
            }
        } else {
            self.arg(&mut buf)
        };
        let arg = self.safe_int(arg);
        self.calls += 1;
        // SAFETY: `arg` is an unmapped address, `buf` (bigger than any
        // `_IOC` size), or an integer that names no device.
        let r = unsafe { sys::ioctl(self.ctl, cmd, arg) };
        self.log(&format!("control cmd={cmd:#x} arg={arg:#x}"), &r);
    }

    fn device_ioctl(&mut self, dev: RawFd) {
        let mut buf = vec![0u8; BUF_LEN];
        let (cmd, arg) = match self.rng.below(4) {
            0 => {
                let (cmd, _) = self.rng.pick(BLOCK_QUERIES);
                (cmd, buf.as_mut_ptr() as usize)
            }
            1 => (sys::RLOOP_SET_CAPACITY, self.arg(&mut buf)),
            _ => {
                let dir = self.rng.below(4) as u32;
                let nr = match self.rng.below(3) {
                    0 => abi::RLOOP_CTL_CREATE_NR + self.rng.below(16) as u32,
                    1 => self.rng.below(0x0b) as u32,
                    _ => self.rng.below(256) as u32,
                };
                let any = self.rng.below(0x4000) as u32;
                let size = self.rng.pick(&[0, 4, 8, 72, any]);
                let cmd = if self.rng.chance(50) {
                    (abi::RLOOP_IOCTL_TYPE << 8) | nr
                } else {
                    sys::ioc(dir, abi::RLOOP_IOCTL_TYPE, nr, size)
                };
                // loop's LOOP_SET_FD/LOOP_CHANGE_FD take an fd.
                let arg = if self.rng.chance(20) {
                    let k = &self.pool.kinds[self.rng.below(self.pool.kinds.len() as u64) as usize];
                    k.fd as u32 as usize
                } else {
                    self.arg(&mut buf)
                };
                (cmd, arg)
            }
        };
        self.calls += 1;
        // SAFETY: `arg` is an unmapped address, `buf` (bigger than any
        // `_IOC` size), or an integer.
        let r = unsafe { sys::ioctl(dev, cmd, arg) };
        self.log(&format!("device cmd={cmd:#x} arg={arg:#x}"), &r);
    }
}

fn io_msg(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), errno::message)
}

/// Buffer for random ioctls: larger than any `_IOC` size.
const BUF_LEN: usize = crate::BUFFER_SLACK;

/// Runs the fuzzer; prints `fuzz: N calls, M creates succeeded`. Exits 1 if
/// a created device could not be removed or a create reported a wrong index.
pub fn run(a: &FuzzArgs) -> Result<std::process::ExitCode, String> {
    let ctl = open_raw(&a.control, libc::O_RDWR)
        .map_err(|e| format!("{}: {}", a.control.display(), io_msg(&e)))?;
    let dev = match &a.dev {
        Some(p) => Some(
            open_raw(p, libc::O_RDWR)
                .or_else(|_| open_raw(p, libc::O_RDONLY))
                .map_err(|e| format!("{}: {}", p.display(), io_msg(&e)))?,
        ),
        None => None,
    };
    let pool = build_pool(a, ctl.as_raw_fd(), dev.as_ref().map(|d| d.as_raw_fd()));
    let mut f = Fuzzer {
        rng: Rng::new(a.seed),
        args: a,
        ctl: ctl.as_raw_fd(),
        dev: dev.as_ref().map(|d| d.as_raw_fd()),
        pool,
        calls: 0,
        creates_ok: 0,
        problems: 0,
        removed: Vec::new(),
    };
    while f.calls < a.count {
        let roll = f.rng.below(100);
        match f.dev {
            Some(d) if roll >= 75 => f.device_ioctl(d),
            _ if roll < 55 => f.create(),
            _ => f.control_ioctl(),
        }
    }
    println!(
        "fuzz: {} calls, {} creates succeeded",
        f.calls, f.creates_ok
    );
    Ok(if f.problems == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut c = Rng::new(43);
        assert_ne!(a[0], c.next_u64());
        let mut z = Rng::new(0);
        assert_ne!(z.next_u64(), 0);
        let mut r = Rng::new(7);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
        }
    }

    #[test]
    fn bad_pointers_are_not_user_addresses() {
        for p in BAD_POINTERS {
            assert!(*p < 4096 || *p >= 0x0000_8000_0000_0000, "{p:#x}");
        }
    }
}
