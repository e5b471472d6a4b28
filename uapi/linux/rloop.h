/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rloop user-space ABI, C rendering of uapi/rloop_uapi.rs (the definition).
 * The layout tests (make check) compare the two.
 */
#ifndef _UAPI_LINUX_RLOOP_H
#define _UAPI_LINUX_RLOOP_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define RLOOP_FLAG_READ_ONLY	(1U << 0)
#define RLOOP_FLAG_AUTOCLEAR	(1U << 2)
#define RLOOP_FLAG_PARTSCAN	(1U << 3)
#define RLOOP_FLAGS_ALL \
	(RLOOP_FLAG_READ_ONLY | RLOOP_FLAG_AUTOCLEAR | RLOOP_FLAG_PARTSCAN)

struct rloop_config {
	__u32 size;		/* sizeof(struct rloop_config) */
	__u32 flags;		/* RLOOP_FLAG_* */
	__s32 fd;		/* backing file: regular file or block device */
	__u32 block_size;	/* 0: inherit the backing file's */
	__u64 offset;		/* bytes, multiple of the block size */
	__u64 sizelimit;	/* bytes from offset, 0: to the end */
	__u32 index;		/* out: N of /dev/rloopN */
	__u32 reserved0;	/* must be 0 */
	__u64 reserved[4];	/* must be 0 */
};

#define RLOOP_CONFIG_SIZE_V1	72

/* Not in Documentation/userspace-api/ioctl/ioctl-number.rst (6.12). */
#define RLOOP_IOCTL_TYPE	0xd1

/*
 * Creates a disk and attaches the file in one step: sets index and returns 0,
 * or with RLOOP_FLAG_AUTOCLEAR a new close-on-exec descriptor open on the
 * disk, its first opener; the disk goes when the last opener closes it.
 */
#define RLOOP_CTL_CREATE	_IOWR(RLOOP_IOCTL_TYPE, 0x00, struct rloop_config)
#define RLOOP_CTL_REMOVE	_IO(RLOOP_IOCTL_TYPE, 0x01)
#define RLOOP_SET_CAPACITY	_IO(RLOOP_IOCTL_TYPE, 0x02)
/* Returns 0 if the disk is gone, 1 if it was open: it goes on its last close. */
#define RLOOP_CTL_DETACH	_IO(RLOOP_IOCTL_TYPE, 0x03)

#endif /* _UAPI_LINUX_RLOOP_H */
