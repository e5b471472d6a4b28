// SPDX-License-Identifier: GPL-2.0
/*
 * Static inlines and macros the Rust side of rloop needs, wrapped in real
 * functions so that Rust can call them: the way the files of rust/helpers/ do it for
 * the kernel crate. Each is one call of the C it names; none re-implements
 * it. bindgen generates their Rust declarations from this file at build
 * time (Kbuild), as rust/Makefile does for rust/helpers.
 *
 * Sorted by header.
 *
 * The same source serves every kernel rloop builds for (6.12 and 7.x):
 * where the C differs between them, the helper takes either spelling,
 * chosen by a macro only the newer headers define, so that the Rust side
 * calls one function.
 */

#include <linux/bio.h>
#include <linux/blk-cgroup.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mempool.h>
#include <linux/miscdevice.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <linux/workqueue.h>

/*
 * Defined in rloop_params.c, beside its module parameter; declared here so
 * that bindgen, which reads this file, declares it for Rust too.
 */
unsigned int rloop_param_linger_us(void);

/* <linux/bio.h>, <linux/bvec.h> */

enum req_op rloop_helper_bio_op(const struct bio *bio)
{
	return bio_op(bio);
}

struct bio_vec rloop_helper_bio_iter_bvec(const struct bio *bio,
					  struct bvec_iter iter)
{
	return mp_bvec_iter_bvec(bio->bi_io_vec, iter);
}

void rloop_helper_bio_advance_iter_single(const struct bio *bio,
					  struct bvec_iter *iter,
					  unsigned int bytes)
{
	bio_advance_iter_single(bio, iter, bytes);
}

/* <linux/blk-cgroup.h>: not in the kernel crate's bindings. */

struct cgroup_subsys_state *rloop_helper_bio_blkcg_css(struct bio *bio)
{
	return bio_blkcg_css(bio);
}

struct cgroup_subsys_state *rloop_helper_blkcg_root_css(void)
{
	return blkcg_root_css;
}

/* <linux/blkdev.h> */

struct queue_limits rloop_helper_queue_limits_start_update(struct request_queue *q)
{
	return queue_limits_start_update(q);
}

/*
 * Whether the current task may wait for a queue freeze: not from inside any
 * ->submit_bio (submit_bio_noacct() keeps current->bio_list set across it,
 * and a bio-based queue is entered for the call), and not atomically, which
 * might_sleep() reports on a debug kernel.
 */
bool rloop_helper_may_freeze_queue(void)
{
	might_sleep();
	return !current->bio_list;
}

dev_t rloop_helper_disk_devt(struct gendisk *disk)
{
	return disk_devt(disk);
}

sector_t rloop_helper_bdev_nr_sectors(struct block_device *bdev)
{
	return bdev_nr_sectors(bdev);
}

unsigned int rloop_helper_bdev_logical_block_size(struct block_device *bdev)
{
	return bdev_logical_block_size(bdev);
}

bool rloop_helper_bdev_nonrot(struct block_device *bdev)
{
#ifdef blk_queue_rot /* 7.x: bdev_nonrot() became bdev_rot() */
	return !bdev_rot(bdev);
#else
	return bdev_nonrot(bdev);
#endif
}

bool rloop_helper_bdev_can_poll(struct block_device *bdev)
{
	return bdev_get_queue(bdev)->limits.features & BLK_FEAT_POLL;
}

/* <linux/completion.h> */

void rloop_helper_init_completion(struct completion *x)
{
	init_completion(x);
}

/* <linux/fs.h> */

struct inode *rloop_helper_file_inode(const struct file *file)
{
	return file_inode(file);
}

bool rloop_helper_inode_is_append(const struct inode *inode)
{
	return IS_APPEND(inode);
}

/* In 7.x f_path sits in an anonymous union, which bindgen names. */
const struct path *rloop_helper_file_path(const struct file *file)
{
	return &file->f_path;
}

void rloop_helper_kiocb_start_write(struct kiocb *iocb)
{
	kiocb_start_write(iocb);
}

void rloop_helper_kiocb_end_write(struct kiocb *iocb)
{
	kiocb_end_write(iocb);
}

ssize_t rloop_helper_file_read_iter(struct file *file, struct kiocb *iocb,
				    struct iov_iter *iter)
{
	return file->f_op->read_iter(iocb, iter);
}

ssize_t rloop_helper_file_write_iter(struct file *file, struct kiocb *iocb,
				     struct iov_iter *iter)
{
	return file->f_op->write_iter(iocb, iter);
}

int rloop_helper_file_iopoll(struct file *file, struct kiocb *iocb,
			     struct io_comp_batch *iob, unsigned int flags)
{
	return file->f_op->iopoll(iocb, iob, flags);
}

/* <linux/memcontrol.h>, <linux/cgroup.h> */

/*
 * The memory cgroup of the cgroup whose block controller is @blkcg_css,
 * with a reference, as loop_queue_rq() looks it up; NULL without memcg.
 */
struct cgroup_subsys_state *rloop_helper_memcg_css_get(struct cgroup_subsys_state *blkcg_css)
{
#ifdef CONFIG_MEMCG
	return cgroup_get_e_css(blkcg_css->cgroup, &memory_cgrp_subsys);
#else
	return NULL;
#endif
}

struct mem_cgroup *rloop_helper_set_active_memcg_css(struct cgroup_subsys_state *memcg_css)
{
	return set_active_memcg(mem_cgroup_from_css(memcg_css));
}

struct mem_cgroup *rloop_helper_set_active_memcg(struct mem_cgroup *memcg)
{
	return set_active_memcg(memcg);
}

void rloop_helper_css_put(struct cgroup_subsys_state *css)
{
	css_put(css);
}

/* <linux/mempool.h>: the macros, so that allocation tagging sees the caller. */

mempool_t *rloop_helper_mempool_create_slab_pool(int min_nr, struct kmem_cache *kc)
{
	return mempool_create_slab_pool(min_nr, kc);
}

void *rloop_helper_mempool_alloc(mempool_t *pool, gfp_t gfp)
{
	return mempool_alloc(pool, gfp);
}

/*
 * <linux/miscdevice.h>: 6.12's bindings leave struct miscdevice out, so its
 * layout stays on this side: the pair allocates, fills and registers one,
 * and deregisters and frees it. The device carries the driver's data for
 * the node's open(), which misc_open() calls with the device in the file's
 * private_data and misc_mtx held (misc_deregister() takes misc_mtx too).
 */

struct rloop_misc {
	struct miscdevice misc;
	void *data;
};

struct miscdevice *rloop_helper_misc_register(const char *name, int minor,
					      const struct file_operations *fops,
					      void *data)
{
	struct rloop_misc *rm = kzalloc(sizeof(*rm), GFP_KERNEL);
	int err;

	if (!rm)
		return ERR_PTR(-ENOMEM);
	rm->misc.minor = minor;
	rm->misc.name = name;
	rm->misc.fops = fops;
	rm->data = data;
	err = misc_register(&rm->misc);
	if (err) {
		kfree(rm);
		return ERR_PTR(err);
	}
	return &rm->misc;
}

void *rloop_helper_misc_data(const struct miscdevice *misc)
{
	return container_of(misc, struct rloop_misc, misc)->data;
}

void rloop_helper_misc_deregister(struct miscdevice *misc)
{
	misc_deregister(misc);
	kfree(container_of(misc, struct rloop_misc, misc));
}

/* <linux/percpu-refcount.h> */

void rloop_helper_percpu_ref_get(struct percpu_ref *ref)
{
	percpu_ref_get(ref);
}

bool rloop_helper_percpu_ref_tryget_live(struct percpu_ref *ref)
{
	return percpu_ref_tryget_live(ref);
}

void rloop_helper_percpu_ref_put(struct percpu_ref *ref)
{
	percpu_ref_put(ref);
}

/* <linux/rcupdate.h> */

void rloop_helper_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rloop_helper_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

/* <linux/sched/mm.h> */

unsigned int rloop_helper_memalloc_noio_save(void)
{
	return memalloc_noio_save();
}

void rloop_helper_memalloc_noio_restore(unsigned int flags)
{
	memalloc_noio_restore(flags);
}

/*
 * Sets PF_LOCAL_THROTTLE, as loop's worker does: a task that writes dirty
 * page cache on behalf of others is throttled on its own backlog only.
 * Returns the old state for rloop_helper_local_throttle_restore().
 */
unsigned int rloop_helper_local_throttle_save(void)
{
	unsigned int old = current->flags & PF_LOCAL_THROTTLE;

	current->flags |= PF_LOCAL_THROTTLE;
	return old;
}

void rloop_helper_local_throttle_restore(unsigned int old)
{
	current->flags = (current->flags & ~PF_LOCAL_THROTTLE) | old;
}

/* <linux/slab.h> */

struct kmem_cache *rloop_helper_kmem_cache_create(const char *name,
						  unsigned int size,
						  slab_flags_t flags)
{
	return kmem_cache_create(name, size, 0, flags, NULL);
}

/* <linux/smp.h> */

unsigned int rloop_helper_raw_smp_processor_id(void)
{
	return raw_smp_processor_id();
}

/* <linux/sched.h>, <asm/processor.h> */

bool rloop_helper_need_resched(void)
{
	return need_resched();
}

void rloop_helper_cond_resched(void)
{
	cond_resched();
}

void rloop_helper_cpu_relax(void)
{
	cpu_relax();
}

/*
 * <linux/spinlock.h>: for 6.12 only, whose kernel crate lacks SpinLockIrq
 * (kernel_extras/irq_spinlock.rs); 7.x's Rust side does not call them.
 */

#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 0, 0)
unsigned long rloop_helper_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void rloop_helper_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}
#endif

/* <linux/workqueue.h>: a macro over alloc_workqueue_noprof() in 7.x. */

struct workqueue_struct *rloop_helper_alloc_workqueue(const char *name,
						      unsigned int flags)
{
	return alloc_workqueue("%s", flags, 0, name);
}
