// SPDX-License-Identifier: GPL-2.0
/*
 * rloop's module parameters. The `module!` macro of 6.12's kernel crate
 * takes none (7.x's takes only read-only ones), so they are declared here,
 * the C way, and read from Rust through one function each. The author is
 * declared here too: `module!` spells that key differently in 6.12
 * (`author`) and 7.x (`authors`).
 */

#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

MODULE_AUTHOR("rloop developers");

/*
 * How long, at most, a worker whose list ran dry lingers on it before it
 * sleeps, in microseconds, for a new device (its own knob is
 * /sys/block/rloopN/rloop/linger_us); 0: it never lingers. "Linger", not
 * "poll": polled I/O (REQ_POLLED, poll_bio) is another thing. A worker
 * lingers only while bios arrive more often than this,
 * so a device that is idle or busy with others' work costs nothing.
 */
static unsigned int linger_us = 50;
module_param(linger_us, uint, 0644);
MODULE_PARM_DESC(linger_us,
		 "cap of a worker's adaptive linger window in us for new devices, 0 = off (default 50)");

unsigned int rloop_param_linger_us(void)
{
	return READ_ONCE(linger_us);
}
