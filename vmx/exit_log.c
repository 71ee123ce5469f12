// SPDX-License-Identifier: GPL-2.0
/*
 * The exit log: one struct vmxlab_exit_record per round trip into the
 * guest, in a ring per vCPU that the VMM reads with VMXLAB_READ_EXIT_LOG
 * (Documentation/tracing.rst).  run.c fills the record around each exit
 * and calls vmx_exit_log_commit(); exit handlers say what they decided
 * with vmx_decide().  Everything here runs under the vCPU's mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/jump_label.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vcpu.h"

static_assert(sizeof(struct vmxlab_exit_record) == 128);
static_assert(sizeof(struct vmxlab_exit_log) == 32);

/*
 * On while any vCPU logs or the vmxlab_decision or vmxlab_inject
 * tracepoint has a probe: every user takes a reference.  Off, the record
 * is never built and vmx_decide() stores nothing.
 */
DEFINE_STATIC_KEY_FALSE(vmx_exit_log_key);

/* The tracepoints' registration hook (trace.h); may sleep. */
int vmx_exit_log_key_get(void)
{
	static_branch_inc(&vmx_exit_log_key);
	return 0;
}

void vmx_exit_log_key_put(void)
{
	static_branch_dec(&vmx_exit_log_key);
}

static void exit_log_off(struct vmx_exit_log *log)
{
	if (!log->ring)
		return;
	kvfree(log->ring);
	log->ring = NULL;
	vmx_exit_log_key_put();
}

/**
 * vmx_set_exit_log() - start, restart or stop a vCPU's exit log
 * @vcpu: the vCPU; its mutex is held
 * @c:    nr_records 0 (off) or a power of two up to VMXLAB_MAX_EXIT_LOG
 *
 * A new log, even of the same size, starts empty at seq 0.
 *
 * Return: 0, -EINVAL for a bad size, flags or reserved field, -ENOMEM.
 */
int vmx_set_exit_log(struct vmx_vcpu *vcpu,
		     const struct vmxlab_exit_log_config *c)
{
	struct vmx_exit_log *log = &vcpu->xlog;
	struct vmxlab_exit_record *ring = NULL;

	if (c->flags || c->reserved[0] || c->reserved[1] || c->reserved[2])
		return -EINVAL;
	if (c->nr_records && (!is_power_of_2(c->nr_records) ||
			      c->nr_records > VMXLAB_MAX_EXIT_LOG))
		return -EINVAL;
	if (c->nr_records) {
		ring = kvcalloc(c->nr_records, sizeof(*ring), GFP_KERNEL_ACCOUNT);
		if (!ring)
			return -ENOMEM;
		vmx_exit_log_key_get();
	}
	exit_log_off(log);
	log->ring = ring;
	log->mask = c->nr_records - 1;
	log->lost = 0;
	log->next_seq = 0;
	log->read_seq = 0;
	memset(&log->rec, 0, sizeof(log->rec));
	return 0;
}

/* The vCPU goes away: its log with it. */
void vmx_exit_log_free(struct vmx_vcpu *vcpu)
{
	exit_log_off(&vcpu->xlog);
}

/**
 * vmx_exit_log_commit() - put the finished record of this round trip in the ring
 * @vcpu: its log is on
 *
 * A full ring drops its oldest unread record and counts it in @lost: the
 * guest never waits for the reader.
 */
void vmx_exit_log_commit(struct vmx_vcpu *vcpu)
{
	struct vmx_exit_log *log = &vcpu->xlog;

	if (log->next_seq - log->read_seq > log->mask) {
		log->read_seq++;
		log->lost++;
	}
	log->rec.seq = log->next_seq;
	log->ring[log->next_seq & log->mask] = log->rec;
	log->next_seq++;
}

/**
 * vmx_exit_log_take() - the oldest unread records, now read
 * @vcpu: the vCPU; its mutex is held
 * @hdr:  out: next_seq and lost (which starts again from 0)
 * @out:  room for @room records
 * @room: at most VMXLAB_MAX_EXIT_LOG_READ
 *
 * Return: the number of records copied to @out, oldest first.
 */
u32 vmx_exit_log_take(struct vmx_vcpu *vcpu, struct vmxlab_exit_log *hdr,
		      struct vmxlab_exit_record *out, u32 room)
{
	struct vmx_exit_log *log = &vcpu->xlog;
	u32 n = min_t(u64, room, log->next_seq - log->read_seq);
	u32 i;

	for (i = 0; i < n; i++)
		out[i] = log->ring[(log->read_seq + i) & log->mask];
	log->read_seq += n;
	hdr->next_seq = log->next_seq;
	hdr->nrecords = n;
	hdr->lost = log->lost;
	log->lost = 0;
	return n;
}
