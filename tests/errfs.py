#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""errfs: a FUSE file system whose one file answers with the errno a test asks for.

Usage: errfs.py MOUNTPOINT STORE

MOUNTPOINT/disk is STORE (reads and writes go to it). Writing "OP ERRNO" to
MOUNTPOINT/fail makes every OP (read, write or fsync) of MOUNTPOINT/disk fail
with that errno, by name ("read ENOMEM"); "OP stall" holds every OP until
"none" is written, which ends either. MOUNTPOINT/held reads as the number of
operations held now (16 bytes, space-padded). A backing
file system that answers so is how a test sees what rloop makes of an errno
no local file system gives on demand. Runs in the foreground until unmounted.
"""

import errno
import os
import stat
import sys
import threading
import time

import fusepy as fuse

OPS = ("read", "write", "fsync")
HELD_SIZE = 16


class ErrFs(fuse.Operations):
    def __init__(self, store):
        self.fd = os.open(store, os.O_RDWR)
        self.guard = threading.Lock()
        self.failing = None  # (op, errno or "stall") or None
        self.unstalled = threading.Event()
        self.held = 0
        self.mounted = int(time.time())

    def fail_for(self, op):
        with self.guard:
            failing = self.failing
        if failing and failing[0] == op:
            if failing[1] == "stall":
                with self.guard:
                    self.held += 1
                self.unstalled.wait()
                with self.guard:
                    self.held -= 1
            else:
                raise fuse.FuseOSError(failing[1])

    def getattr(self, path, fh=None):
        now = self.mounted
        base = {"st_uid": 0, "st_gid": 0, "st_atime": now, "st_mtime": now, "st_ctime": now}
        if path == "/":
            return dict(base, st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
        if path == "/disk":
            size = os.fstat(self.fd).st_size
            return dict(base, st_mode=stat.S_IFREG | 0o600, st_nlink=1, st_size=size)
        if path == "/fail":
            return dict(base, st_mode=stat.S_IFREG | 0o600, st_nlink=1, st_size=0)
        if path == "/held":
            return dict(base, st_mode=stat.S_IFREG | 0o400, st_nlink=1, st_size=HELD_SIZE)
        raise fuse.FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", "disk", "fail", "held"]

    def open(self, path, flags):
        if path not in ("/disk", "/fail", "/held"):
            raise fuse.FuseOSError(errno.ENOENT)
        return 0

    def truncate(self, path, length, fh=None):
        if path == "/disk":
            os.ftruncate(self.fd, length)

    def read(self, path, size, offset, fh):
        if path == "/held":
            with self.guard:
                held = self.held
            return b"%*d\n" % (HELD_SIZE - 1, held)
        if path != "/disk":
            return b""
        self.fail_for("read")
        return os.pread(self.fd, size, offset)

    def write(self, path, data, offset, fh):
        if path == "/fail":
            words = data.decode().split()
            with self.guard:
                if words == ["none"]:
                    self.failing = None
                    self.unstalled.set()
                elif len(words) == 2 and words[0] in OPS and words[1] == "stall":
                    self.unstalled.clear()
                    self.failing = (words[0], "stall")
                elif len(words) == 2 and words[0] in OPS and hasattr(errno, words[1]):
                    self.failing = (words[0], getattr(errno, words[1]))
                else:
                    raise fuse.FuseOSError(errno.EINVAL)
            return len(data)
        self.fail_for("write")
        return os.pwrite(self.fd, data, offset)

    def fsync(self, path, datasync, fh):
        if path == "/disk":
            self.fail_for("fsync")
            os.fsync(self.fd)
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return 0


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: errfs.py MOUNTPOINT STORE")
    fuse.FUSE(ErrFs(sys.argv[2]), sys.argv[1], foreground=True, fsname="errfs")


if __name__ == "__main__":
    main()
