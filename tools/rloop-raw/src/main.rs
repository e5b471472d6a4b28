// SPDX-License-Identifier: GPL-2.0

//! `rloop-raw`: issue one raw rloop ioctl and report the outcome, so shell
//! tests can assert exact errnos for input the friendly `rloopctl` refuses
//! itself; a small deterministic fuzzer of the control and device ioctls;
//! and a multi-threaded create/open/remove race with verified I/O beside it.
//!
//! Output: `ok ...` and exit 0 if the ioctl succeeded, `err ENAME` and exit 1
//! if it failed; a usage error exits 2; a failure to set the call up
//! (opening the control node or the file) is reported on stderr with exit 3.

mod fuzz;
mod race;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use rloopctl::abi::{self, RloopConfig};
use rloopctl::{errno, sys};

use rloopctl::num::{parse_i32, parse_u32, parse_u64, parse_usize};

/// Exit status when the call could not even be set up.
const EXIT_SETUP: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "rloop-raw",
    version,
    about = "Issue raw rloop ioctls and report the errno (a test helper)",
    long_about = "Issue exactly one raw rloop ioctl and report the outcome: `ok ...` (exit 0) or \
                  `err ENAME` (exit 1). Usage errors exit 2; failing to open the control node \
                  or the file exits 3. Numbers are decimal or 0x-hex; a negative number is taken \
                  in two's complement (--offset -1 is 0xffffffffffffffff)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// RLOOP_CTL_CREATE with a hand-made struct rloop_config; prints `ok rloopN`.
    Create(CreateArgs),
    /// RLOOP_CTL_REMOVE with N as the (integer) argument; prints `ok`.
    Remove(RemoveArgs),
    /// An arbitrary ioctl on PATH; prints `ok RET` (and the buffer with --buf).
    Ioctl(IoctlArgs),
    /// One write(2) of TEXT to PATH (a sysfs attribute, say); prints `ok N`.
    Write(WriteArgs),
    /// Random and mutated control ioctls (and device ioctls with --dev).
    Fuzz(FuzzArgs),
    /// Create/open/remove from several threads while others verify I/O.
    Race(race::RaceArgs),
}

/// How to open `--file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OpenMode {
    /// O_RDONLY.
    Ro,
    /// O_RDWR.
    Rw,
    /// O_RDWR | O_APPEND (the only writable open of an append-only file).
    RwAppend,
    /// O_PATH.
    Path,
    /// O_DIRECTORY | O_RDONLY.
    Dir,
}

#[derive(Args, Debug)]
struct CreateArgs {
    /// The backing file; `pipe:` makes a pipe (write end with --open rw, read
    /// end otherwise), `socket:` a unix socketpair, `memfd:` a memfd.
    #[arg(long, value_name = "PATH")]
    file: Option<String>,
    /// How to open --file.
    #[arg(long = "open", value_enum, default_value = "rw")]
    open: OpenMode,
    /// Add O_DIRECT when opening --file.
    #[arg(long)]
    o_direct: bool,
    /// The fd to put in the struct (overrides the opened file; e.g. -1 or
    /// 9999 for a bad fd). Default: the opened --file, else -1.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = parse_i32)]
    fd: Option<i32>,
    /// The `size` field (default: the real struct size, 72).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = parse_u32)]
    size: Option<u32>,
    /// The `flags` field.
    #[arg(long, value_name = "N", default_value = "0", allow_hyphen_values = true, value_parser = parse_u32)]
    flags: u32,
    /// The `block_size` field.
    #[arg(long, value_name = "N", default_value = "0", allow_hyphen_values = true, value_parser = parse_u32)]
    block_size: u32,
    /// The `offset` field.
    #[arg(long, value_name = "N", default_value = "0", allow_hyphen_values = true, value_parser = parse_u64)]
    offset: u64,
    /// The `sizelimit` field.
    #[arg(long, value_name = "N", default_value = "0", allow_hyphen_values = true, value_parser = parse_u64)]
    sizelimit: u64,
    /// The `index` field (an output; the kernel should ignore what is there).
    #[arg(long, value_name = "N", default_value = "0", allow_hyphen_values = true, value_parser = parse_u32)]
    index: u32,
    /// The `reserved0` field.
    #[arg(long, value_name = "N", default_value = "0", allow_hyphen_values = true, value_parser = parse_u32)]
    reserved0: u32,
    /// Set `reserved[IDX]` (IDX 0..=3) to VAL; may be repeated.
    #[arg(long, value_name = "IDX=VAL", value_parser = parse_reserved)]
    reserved: Vec<Reserved>,
    /// Issue the ioctl with this size encoded in the command number
    /// (_IOWR(0xd1, 0x00, N)) and a buffer of N bytes: the struct, cut or
    /// zero-extended.
    #[arg(long, value_name = "N", value_parser = parse_cmd_size)]
    cmd_size: Option<u32>,
    /// Fill the bytes after the 72-byte struct (up to --cmd-size) with this
    /// byte instead of zero.
    #[arg(long, value_name = "BYTE", value_parser = parse_byte, requires = "cmd_size")]
    tail_fill: Option<u8>,
    /// Use this command number instead of RLOOP_CTL_CREATE (the buffer stays
    /// the struct, or --cmd-size bytes).
    #[arg(long, value_name = "CMD", value_parser = parse_u32, conflicts_with = "cmd_size")]
    cmd: Option<u32>,
    /// Pass a NULL pointer instead of the struct.
    #[arg(long)]
    null_arg: bool,
    /// Pass the struct in a read-only mapping: the kernel can read it but
    /// not write the index back.
    #[arg(long, conflicts_with = "null_arg")]
    readonly_arg: bool,
    /// The control node.
    #[arg(long, value_name = "PATH", default_value = "/dev/rloop-control")]
    control: PathBuf,
}

#[derive(Args, Debug)]
struct WriteArgs {
    /// The file, opened write-only.
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// The bytes to write, as given (no newline is added).
    #[arg(value_name = "TEXT", allow_hyphen_values = true)]
    text: String,
}

#[derive(Args, Debug)]
struct RemoveArgs {
    /// The argument of RLOOP_CTL_REMOVE (any integer: -1, 0x100000000...).
    #[arg(value_name = "N", allow_hyphen_values = true, value_parser = parse_usize)]
    index: usize,
    /// The control node.
    #[arg(long, value_name = "PATH", default_value = "/dev/rloop-control")]
    control: PathBuf,
}

#[derive(Args, Debug)]
struct IoctlArgs {
    /// The file to open and issue the ioctl on.
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// The ioctl command number, decimal or 0x-hex.
    #[arg(value_name = "CMD", value_parser = parse_u32)]
    cmd: u32,
    /// The integer argument (default 0).
    #[arg(value_name = "ARG", allow_hyphen_values = true, value_parser = parse_usize,
          conflicts_with = "buf")]
    arg: Option<usize>,
    /// Pass a pointer to a zeroed buffer of N bytes instead, and print it in
    /// hex after the return value.
    #[arg(long, value_name = "N", value_parser = parse_cmd_size)]
    buf: Option<u32>,
    /// How to open PATH (default: read-write, else read-only).
    #[arg(long = "open", value_enum)]
    open: Option<OpenMode>,
}

#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// Seed of the pseudo-random sequence (same seed, same calls).
    #[arg(long, value_parser = parse_u64)]
    pub seed: u64,
    /// Number of ioctls to issue.
    #[arg(long, value_parser = parse_u64)]
    pub count: u64,
    /// Also issue random ioctls on this rloop device.
    #[arg(long, value_name = "PATH")]
    pub dev: Option<PathBuf>,
    /// The control node.
    #[arg(long, value_name = "PATH", default_value = "/dev/rloop-control")]
    pub control: PathBuf,
    /// Directory for the scratch backing file.
    #[arg(long, value_name = "DIR")]
    pub tmpdir: Option<PathBuf>,
    /// The sysfs mount point (to know which devices exist).
    #[arg(long, value_name = "DIR", default_value = "/sys", hide = true)]
    pub sysfs: PathBuf,
    /// Print every call and its outcome on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--reserved IDX=VAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reserved {
    /// 0..=3.
    index: usize,
    /// The value.
    value: u64,
}

/// Parses `--reserved IDX=VAL`.
fn parse_reserved(s: &str) -> Result<Reserved, String> {
    let (i, v) = s
        .split_once('=')
        .ok_or_else(|| "expected IDX=VAL".to_string())?;
    let index: usize = i.trim().parse().map_err(|_| format!("bad index {i:?}"))?;
    if index > 3 {
        return Err("IDX must be 0..=3".to_string());
    }
    Ok(Reserved {
        index,
        value: parse_u64(v)?,
    })
}

fn parse_byte(s: &str) -> Result<u8, String> {
    u8::try_from(parse_u32(s)?).map_err(|_| "a byte is 0..=255".to_string())
}

fn parse_cmd_size(s: &str) -> Result<u32, String> {
    let v = parse_u32(s)?;
    if v > sys::IOC_SIZE_MAX {
        return Err(format!(
            "at most {} (the size field of an ioctl command)",
            sys::IOC_SIZE_MAX
        ));
    }
    Ok(v)
}

/// A failure to set the call up: reported, exit 3.
struct Setup(String);

fn setup_err(what: impl std::fmt::Display, e: std::io::Error) -> Setup {
    Setup(match e.raw_os_error() {
        Some(n) => format!("{what}: {}", errno::message(n)),
        None => format!("{what}: {e}"),
    })
}

/// Opens `path` with `flags | O_CLOEXEC`.
pub fn open_raw(path: &std::path::Path, flags: i32) -> std::io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is a valid NUL-terminated string.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `open` returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn open_flags(mode: OpenMode) -> i32 {
    match mode {
        OpenMode::Ro => libc::O_RDONLY,
        OpenMode::Rw => libc::O_RDWR,
        OpenMode::RwAppend => libc::O_RDWR | libc::O_APPEND,
        OpenMode::Path => libc::O_PATH,
        OpenMode::Dir => libc::O_DIRECTORY | libc::O_RDONLY,
    }
}

/// A pipe: (read end, write end).
pub fn make_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two fds.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two new fds.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A connected pair of unix stream sockets.
pub fn make_socketpair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two fds.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } < 0
    {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: socketpair returned two new fds.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A memfd with 1 MiB of zeroes.
pub fn make_memfd() -> std::io::Result<OwnedFd> {
    // SAFETY: The name is a valid NUL-terminated string.
    let fd = unsafe { libc::memfd_create(c"rloop-raw".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: memfd_create returned a new fd.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ftruncate on an fd we own.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), 1 << 20) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(fd)
}

/// Opens `--file` as asked; keeps every fd it made alive in `keep`.
fn open_backing(a: &CreateArgs, keep: &mut Vec<OwnedFd>) -> Result<Option<RawFd>, Setup> {
    let Some(file) = &a.file else {
        return Ok(None);
    };
    let fd = match file.as_str() {
        "pipe:" => {
            let (r, w) = make_pipe().map_err(|e| setup_err("pipe", e))?;
            let fd = if a.open == OpenMode::Rw { &w } else { &r }.as_raw_fd();
            keep.extend([r, w]);
            fd
        }
        "socket:" => {
            let (s0, s1) = make_socketpair().map_err(|e| setup_err("socketpair", e))?;
            let fd = s0.as_raw_fd();
            keep.extend([s0, s1]);
            fd
        }
        "memfd:" => {
            let m = make_memfd().map_err(|e| setup_err("memfd_create", e))?;
            let fd = m.as_raw_fd();
            keep.push(m);
            fd
        }
        path => {
            let mut flags = open_flags(a.open);
            if a.o_direct {
                flags |= libc::O_DIRECT;
            }
            let f = open_raw(path.as_ref(), flags).map_err(|e| setup_err(path, e))?;
            let fd = f.as_raw_fd();
            keep.push(f);
            fd
        }
    };
    Ok(Some(fd))
}

/// The bytes of a config.
pub fn config_bytes(c: &RloopConfig) -> [u8; 72] {
    let mut b = [0u8; 72];
    b[0..4].copy_from_slice(&c.size.to_ne_bytes());
    b[4..8].copy_from_slice(&c.flags.to_ne_bytes());
    b[8..12].copy_from_slice(&c.fd.to_ne_bytes());
    b[12..16].copy_from_slice(&c.block_size.to_ne_bytes());
    b[16..24].copy_from_slice(&c.offset.to_ne_bytes());
    b[24..32].copy_from_slice(&c.sizelimit.to_ne_bytes());
    b[32..36].copy_from_slice(&c.index.to_ne_bytes());
    b[36..40].copy_from_slice(&c.reserved0.to_ne_bytes());
    for (i, r) in c.reserved.iter().enumerate() {
        b[40 + 8 * i..48 + 8 * i].copy_from_slice(&r.to_ne_bytes());
    }
    b
}

/// Offset of `index` in the struct.
pub const INDEX_OFFSET: usize = core::mem::offset_of!(RloopConfig, index);

/// Room after every buffer handed to the kernel, so that even a kernel that
/// writes back more than it should cannot scribble over other memory.
pub const BUFFER_SLACK: usize = 1 << 15;

/// A zeroed buffer holding `len` meaningful bytes: the config cut or
/// zero-extended to `len`, bytes 72.. set to `tail`.
pub fn make_buffer(c: &RloopConfig, len: usize, tail: u8) -> Vec<u8> {
    let mut buf = vec![0u8; len.max(72) + BUFFER_SLACK];
    let bytes = config_bytes(c);
    let n = len.min(72);
    buf[..n].copy_from_slice(&bytes[..n]);
    if len > 72 {
        buf[72..len].fill(tail);
    }
    buf
}

/// Prints the outcome of an ioctl as `ok ...` / `err ENAME`.
fn report(r: Result<String, i32>) -> ExitCode {
    match r {
        Ok(s) if s.is_empty() => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Ok(s) => {
            println!("ok {s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("err {}", errno::name_or_number(e));
            ExitCode::from(1)
        }
    }
}

fn open_control(path: &std::path::Path) -> Result<OwnedFd, Setup> {
    open_raw(path, libc::O_RDWR).map_err(|e| setup_err(path.display(), e))
}

fn do_create(a: &CreateArgs) -> Result<ExitCode, Setup> {
    let mut keep = Vec::new();
    let opened = open_backing(a, &mut keep)?;
    let ctl = open_control(&a.control)?;
    let mut reserved = [0u64; 4];
    for r in &a.reserved {
        reserved[r.index] = r.value;
    }
    let cfg = RloopConfig {
        size: a.size.unwrap_or(core::mem::size_of::<RloopConfig>() as u32),
        flags: a.flags,
        fd: a.fd.or(opened).unwrap_or(-1),
        block_size: a.block_size,
        offset: a.offset,
        sizelimit: a.sizelimit,
        index: a.index,
        reserved0: a.reserved0,
        reserved,
    };
    let len = a.cmd_size.map_or(72, |n| n as usize);
    let mut buf = make_buffer(&cfg, len, a.tail_fill.unwrap_or(0));
    let cmd = match (a.cmd, a.cmd_size) {
        (Some(c), _) => c,
        (None, Some(n)) => sys::ioc(
            sys::IOC_READ | sys::IOC_WRITE,
            abi::RLOOP_IOCTL_TYPE,
            abi::RLOOP_CTL_CREATE_NR,
            n,
        ),
        (None, None) => sys::RLOOP_CTL_CREATE,
    };
    let readonly = if a.readonly_arg {
        Some(ReadOnlyCopy::new(&buf).map_err(|e| setup_err("mmap", e))?)
    } else {
        None
    };
    let arg = if a.null_arg {
        0
    } else if let Some(ro) = &readonly {
        ro.addr()
    } else {
        buf.as_mut_ptr() as usize
    };
    // SAFETY: `arg` is NULL or points to `len` bytes plus BUFFER_SLACK,
    // more than any command number can ask for (the read-only copy is a
    // whole page, at least that much).
    let r = unsafe { sys::ioctl(ctl.as_raw_fd(), cmd, arg) };
    drop(readonly);
    drop(keep);
    Ok(report(r.map(|holder| {
        let mut out = if len >= INDEX_OFFSET + 4 {
            let i = u32::from_ne_bytes(buf[INDEX_OFFSET..INDEX_OFFSET + 4].try_into().unwrap());
            format!("{}{i}", abi::RLOOP_DISK_PREFIX)
        } else {
            String::new()
        };
        // An autoclear device's holder descriptor: say so; it closes when we exit, and
        // with it goes the device unless someone else opened it.
        if holder > 0 {
            out.push_str(&format!(" holder-fd {holder}"));
        }
        out
    })))
}

/// A copy of a buffer in a private mapping made read-only after the copy.
struct ReadOnlyCopy {
    addr: *mut libc::c_void,
    len: usize,
}

impl ReadOnlyCopy {
    fn new(data: &[u8]) -> std::io::Result<Self> {
        let len = data.len().next_multiple_of(4096).max(4096);
        // SAFETY: A fresh anonymous mapping; no existing memory is touched.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let this = Self { addr, len };
        // SAFETY: The mapping is `len >= data.len()` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), addr.cast(), data.len()) };
        // SAFETY: `addr..addr + len` is our mapping.
        if unsafe { libc::mprotect(addr, len, libc::PROT_READ) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(this)
    }

    fn addr(&self) -> usize {
        self.addr as usize
    }
}

impl Drop for ReadOnlyCopy {
    fn drop(&mut self) {
        // SAFETY: Our mapping, unmapped once.
        unsafe { libc::munmap(self.addr, self.len) };
    }
}

fn do_remove(a: &RemoveArgs) -> Result<ExitCode, Setup> {
    let ctl = open_control(&a.control)?;
    // SAFETY: RLOOP_CTL_REMOVE takes an integer.
    let r = unsafe { sys::ioctl(ctl.as_raw_fd(), sys::RLOOP_CTL_REMOVE, a.index) };
    Ok(report(r.map(|_| String::new())))
}

fn do_write(a: &WriteArgs) -> Result<ExitCode, Setup> {
    use std::io::Write;
    let mut file = std::fs::File::from(
        open_raw(&a.path, libc::O_WRONLY).map_err(|e| setup_err(a.path.display(), e))?,
    );
    let r = file.write(a.text.as_bytes());
    Ok(report(
        r.map(|n| n.to_string())
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)),
    ))
}

fn do_ioctl(a: &IoctlArgs) -> Result<ExitCode, Setup> {
    let fd = match a.open {
        Some(m) => open_raw(&a.path, open_flags(m)),
        None => match open_raw(&a.path, libc::O_RDWR) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EACCES | libc::EROFS | libc::EISDIR)
                ) =>
            {
                open_raw(&a.path, libc::O_RDONLY)
            }
            r => r,
        },
    }
    .map_err(|e| setup_err(a.path.display(), e))?;
    let mut buf = a.buf.map(|n| vec![0u8; n as usize + BUFFER_SLACK]);
    let arg = match &mut buf {
        Some(b) => b.as_mut_ptr() as usize,
        None => a.arg.unwrap_or(0),
    };
    // SAFETY: the caller of this test tool chooses the command; a pointer we
    // pass points to a buffer bigger than any _IOC size, and an integer the
    // user gives is their business (it may make the kernel write into this
    // short-lived process).
    let r = unsafe { sys::ioctl(fd.as_raw_fd(), a.cmd, arg) };
    Ok(report(r.map(|ret| match (&buf, a.buf) {
        (Some(b), Some(n)) => {
            let hex: String = b[..n as usize].iter().map(|x| format!("{x:02x}")).collect();
            format!("{ret} {hex}")
        }
        _ => ret.to_string(),
    })))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match &cli.cmd {
        Cmd::Create(a) => do_create(a),
        Cmd::Remove(a) => do_remove(a),
        Cmd::Ioctl(a) => do_ioctl(a),
        Cmd::Write(a) => do_write(a),
        Cmd::Fuzz(a) => fuzz::run(a).map_err(Setup),
        Cmd::Race(a) => race::run(a).map_err(Setup),
    };
    match r {
        Ok(c) => c,
        Err(Setup(msg)) => {
            eprintln!("rloop-raw: {msg}");
            ExitCode::from(EXIT_SETUP)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn reserved() {
        assert_eq!(
            parse_reserved("3=0x10"),
            Ok(Reserved {
                index: 3,
                value: 16
            })
        );
        assert_eq!(
            parse_reserved("0=-1"),
            Ok(Reserved {
                index: 0,
                value: u64::MAX
            })
        );
        assert!(parse_reserved("4=1").is_err());
        assert!(parse_reserved("1").is_err());
        assert!(parse_reserved("x=1").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bytes_match_layout() {
        let c = RloopConfig {
            size: 72,
            flags: 0x0d,
            fd: -1,
            block_size: 4096,
            offset: 0x1122334455667788,
            sizelimit: 2,
            index: 7,
            reserved0: 3,
            reserved: [4, 5, 6, 7],
        };
        let b = config_bytes(&c);
        // SAFETY: RloopConfig is plain old data without padding.
        let raw: [u8; 72] = unsafe { core::mem::transmute(c) };
        assert_eq!(b, raw);
        assert_eq!(INDEX_OFFSET, 32);
    }

    #[test]
    fn buffers() {
        let c = RloopConfig {
            size: 72,
            flags: 1,
            ..Default::default()
        };
        let b = make_buffer(&c, 64, 0xff);
        assert_eq!(b.len(), 72 + BUFFER_SLACK);
        assert_eq!(&b[..4], &72u32.to_ne_bytes());
        assert!(b[64..].iter().all(|x| *x == 0));
        let b = make_buffer(&c, 80, 0xab);
        assert_eq!(&b[72..80], &[0xab; 8]);
        assert_eq!(b[80], 0);
        let b = make_buffer(&c, 4, 0);
        assert_eq!(&b[..4], &72u32.to_ne_bytes());
        assert!(b[4..].iter().all(|x| *x == 0));
    }

    #[test]
    fn create_args() {
        let c = Cli::try_parse_from([
            "rloop-raw",
            "create",
            "--file",
            "pipe:",
            "--fd",
            "-1",
            "--offset",
            "-1",
            "--flags",
            "0x10",
            "--reserved",
            "2=0xff",
            "--reserved",
            "0=1",
            "--cmd-size",
            "64",
        ])
        .unwrap();
        let Cmd::Create(a) = c.cmd else { panic!() };
        assert_eq!(a.fd, Some(-1));
        assert_eq!(a.offset, u64::MAX);
        assert_eq!(a.flags, 0x10);
        assert_eq!(a.reserved.len(), 2);
        assert_eq!(a.cmd_size, Some(64));
        assert_eq!(a.open, OpenMode::Rw);
        assert!(Cli::try_parse_from(["rloop-raw", "create", "--cmd-size", "16384"]).is_err());
        assert!(Cli::try_parse_from(["rloop-raw", "create", "--reserved", "4=1"]).is_err());
        assert!(Cli::try_parse_from(["rloop-raw", "create", "--open", "wr"]).is_err());
        assert!(Cli::try_parse_from(["rloop-raw", "remove", "-1"]).is_ok());
        assert!(Cli::try_parse_from(["rloop-raw", "ioctl", "/dev/null", "0xd102", "-5"]).is_ok());
        assert!(Cli::try_parse_from(["rloop-raw", "fuzz", "--seed", "1", "--count", "5"]).is_ok());
    }
}
