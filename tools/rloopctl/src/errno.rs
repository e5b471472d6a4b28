// SPDX-License-Identifier: GPL-2.0

//! Errno names and messages.

/// Symbolic names of the errno values the rloop ioctls (and the tests that
/// poke them) are expected to meet.
const NAMES: &[(i32, &str)] = &[
    (libc::EPERM, "EPERM"),
    (libc::ENOENT, "ENOENT"),
    (libc::ESRCH, "ESRCH"),
    (libc::EINTR, "EINTR"),
    (libc::EIO, "EIO"),
    (libc::ENXIO, "ENXIO"),
    (libc::E2BIG, "E2BIG"),
    (libc::EBADF, "EBADF"),
    (libc::EAGAIN, "EAGAIN"),
    (libc::ENOMEM, "ENOMEM"),
    (libc::EACCES, "EACCES"),
    (libc::EFAULT, "EFAULT"),
    (libc::ENOTBLK, "ENOTBLK"),
    (libc::EBUSY, "EBUSY"),
    (libc::EEXIST, "EEXIST"),
    (libc::EXDEV, "EXDEV"),
    (libc::ENODEV, "ENODEV"),
    (libc::ENOTDIR, "ENOTDIR"),
    (libc::EISDIR, "EISDIR"),
    (libc::EINVAL, "EINVAL"),
    (libc::ENFILE, "ENFILE"),
    (libc::EMFILE, "EMFILE"),
    (libc::ENOTTY, "ENOTTY"),
    (libc::ETXTBSY, "ETXTBSY"),
    (libc::EFBIG, "EFBIG"),
    (libc::ENOSPC, "ENOSPC"),
    (libc::ESPIPE, "ESPIPE"),
    (libc::EROFS, "EROFS"),
    (libc::EMLINK, "EMLINK"),
    (libc::EPIPE, "EPIPE"),
    (libc::EDOM, "EDOM"),
    (libc::ERANGE, "ERANGE"),
    (libc::EDEADLK, "EDEADLK"),
    (libc::ENAMETOOLONG, "ENAMETOOLONG"),
    (libc::ENOLCK, "ENOLCK"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::ELOOP, "ELOOP"),
    (libc::ENODATA, "ENODATA"),
    (libc::EOVERFLOW, "EOVERFLOW"),
    (libc::EBADFD, "EBADFD"),
    (libc::ENOTSOCK, "ENOTSOCK"),
    (libc::EOPNOTSUPP, "EOPNOTSUPP"),
    (libc::EADDRINUSE, "EADDRINUSE"),
    (libc::ETIMEDOUT, "ETIMEDOUT"),
    (libc::EALREADY, "EALREADY"),
    (libc::EINPROGRESS, "EINPROGRESS"),
    (libc::ESTALE, "ESTALE"),
    (libc::EDQUOT, "EDQUOT"),
    (libc::ECANCELED, "ECANCELED"),
    (libc::EOWNERDEAD, "EOWNERDEAD"),
    // Kernel-internal values that must never reach user space; named so a
    // test that sees one says so plainly.
    (512, "ERESTARTSYS"),
    (513, "ERESTARTNOINTR"),
    (514, "ERESTARTNOHAND"),
    (515, "ENOIOCTLCMD"),
    (516, "ERESTART_RESTARTBLOCK"),
    (517, "EPROBE_DEFER"),
    (518, "EOPENSTALE"),
    (519, "ENOPARAM"),
    (521, "EBADHANDLE"),
    (524, "ENOTSUPP"),
    (529, "EIOCBQUEUED"),
];

/// The symbolic name of `errno` (`"EINVAL"`), if it is one this table knows.
pub fn name(errno: i32) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == errno).map(|(_, s)| *s)
}

/// The symbolic name of `errno`, or `E<number>` for one the table does not
/// know.
pub fn name_or_number(errno: i32) -> String {
    match name(errno) {
        Some(s) => s.to_string(),
        None => format!("E{errno}"),
    }
}

/// The value of a symbolic errno name (`"EINVAL"` → 22).
pub fn from_name(s: &str) -> Option<i32> {
    NAMES.iter().find(|(_, n)| *n == s).map(|(e, _)| *e)
}

/// The C library's message for `errno` ("Invalid argument"), without the
/// " (os error N)" that Rust appends.
pub fn message(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(libc::EINVAL), Some("EINVAL"));
        assert_eq!(name(libc::ENOTTY), Some("ENOTTY"));
        assert_eq!(name(libc::EOPNOTSUPP), Some("EOPNOTSUPP"));
        assert_eq!(name(9999), None);
        assert_eq!(name_or_number(9999), "E9999");
        assert_eq!(from_name("EBUSY"), Some(libc::EBUSY));
        for (n, s) in NAMES {
            assert_eq!(from_name(s), Some(*n), "{s}");
            assert_eq!(name(*n), Some(*s), "{n} appears twice");
        }
    }

    #[test]
    fn messages() {
        assert_eq!(message(libc::ENOENT), "No such file or directory");
        assert_eq!(message(libc::EBUSY), "Device or resource busy");
    }
}
