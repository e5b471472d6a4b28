// SPDX-License-Identifier: GPL-2.0

//! The error of a failed operation: what it was about and why it failed.

use std::fmt;

/// A failed operation, displayed as `<subject>: <reason>`, or `<reason>`
/// alone when it is about nothing in particular (the command puts
/// `rloopctl: ` in front).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The device or file the operation was about (`/dev/rloop0`, a path).
    pub subject: String,
    /// One line saying what went wrong.
    pub reason: String,
    /// The errno behind it, if a system call failed.
    pub errno: Option<i32>,
}

impl Error {
    /// An error with a reason of our own.
    pub fn new(subject: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            reason: reason.into(),
            errno: None,
        }
    }

    /// An error from a system call, with the C library's message for `errno`.
    pub fn os(subject: impl Into<String>, errno: i32) -> Self {
        Self {
            subject: subject.into(),
            reason: crate::errno::message(errno),
            errno: Some(errno),
        }
    }

    /// An error from a system call, with a reason of our own.
    pub fn os_with(subject: impl Into<String>, errno: i32, reason: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            reason: reason.into(),
            errno: Some(errno),
        }
    }

    /// The rloop module is not loaded: there is no device to act on.
    pub fn module_not_loaded() -> Self {
        Self::new("", format!("{} module not loaded", crate::MODULE_NAME))
    }

    /// An error from an [`std::io::Error`].
    pub fn io(subject: impl Into<String>, err: &std::io::Error) -> Self {
        match err.raw_os_error() {
            Some(e) => Self::os(subject, e),
            None => Self::new(subject, err.to_string()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subject.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.subject, self.reason)
        }
    }
}

impl std::error::Error for Error {}

impl From<(String, rustix::io::Errno)> for Error {
    fn from((subject, e): (String, rustix::io::Errno)) -> Self {
        Self::os(subject, e.raw_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let e = Error::os("/dev/rloop0", libc::EBUSY);
        assert_eq!(e.to_string(), "/dev/rloop0: Device or resource busy");
        assert_eq!(e.errno, Some(libc::EBUSY));
        let e = Error::new("f", "offset is odd");
        assert_eq!(e.to_string(), "f: offset is odd");
        assert_eq!(
            Error::module_not_loaded().to_string(),
            "rloop module not loaded"
        );
    }
}
