// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's vmxlab backend: struct backend's calls as /dev/vmxlab
 * ioctls, its exits translated to struct bench_exit for the VMM loop in
 * workloads.c.  Its twin on shadow paging differs in the VM type only.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "bench.h"

#define VMX_EXIT_REASON_EXTERNAL_INTERRUPT	1	/* SDM Vol. 3D, C.1 */

static int vmxlab_create_vm(struct vm *vm)
{
	vm->fd = ioctl(vm->sys_fd, VMXLAB_CREATE_VM,
		       vm->be->shadow ? VMXLAB_VM_SHADOW : VMXLAB_VM_EPT);
	return vm->fd < 0 ? -errno : 0;
}

static int vmxlab_set_memory(struct vm *vm, __u64 gpa, __u64 size, void *hva)
{
	struct vmxlab_memory_region r = {
		.slot = 0, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	return xioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &r);
}

static int vmxlab_create_vcpu(struct vm *vm, unsigned int id, struct vcpu *v)
{
	v->vm = vm;
	v->irq_pending = -1;
	v->run = NULL;
	v->fd = ioctl(vm->fd, VMXLAB_CREATE_VCPU, id);
	return v->fd < 0 ? -errno : 0;
}

static int vmxlab_map_run(struct vcpu *v)
{
	v->run_size = sizeof(struct vmxlab_run);
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	return v->run == MAP_FAILED ? -errno : 0;
}

static int vmxlab_set_cpuid(struct vcpu *v, const struct guest_cpuid_leaf *l, int n)
{
	size_t size = sizeof(struct vmxlab_cpuid) +
		      n * sizeof(struct vmxlab_cpuid_entry);
	struct vmxlab_cpuid *c = calloc(1, size);
	int i, r;

	if (!c)
		return -ENOMEM;
	c->nent = n;
	for (i = 0; i < n; i++) {
		c->entries[i].function = l[i].function;
		c->entries[i].eax = l[i].eax;
		c->entries[i].ebx = l[i].ebx;
		c->entries[i].ecx = l[i].ecx;
		c->entries[i].edx = l[i].edx;
	}
	r = xioctl(v->fd, VMXLAB_SET_CPUID, c);
	free(c);
	return r;
}

static int vmxlab_set_long_mode(struct vcpu *v)
{
	struct vmxlab_sregs s;
	int r;

	r = xioctl(v->fd, VMXLAB_GET_SREGS, &s);
	if (r)
		return r;
	guest_mode_sregs(&s, GUEST_LONG);
	return xioctl(v->fd, VMXLAB_SET_SREGS, &s);
}

static int vmxlab_set_regs(struct vcpu *v, __u64 rip, __u64 rdi, __u64 rsi,
			   __u64 rbx)
{
	struct vmxlab_regs regs;

	entry_regs(&regs, rip, rdi, rsi, rbx);
	return xioctl(v->fd, VMXLAB_SET_REGS, &regs);
}

static int vmxlab_interrupt(struct vcpu *v, __u8 vector)
{
	struct vmxlab_interrupt irq = { .vector = vector };

	return xioctl(v->fd, VMXLAB_INTERRUPT, &irq);
}

/*
 * vmxlab queues up to 16 interrupts and opens the window itself.  With
 * irq_by_window (row 5b) the VMM does what KVM's must instead: queue only
 * when the run page says the guest can take it, else ask for the window.
 */
static int vmxlab_queue_irq(struct vcpu *v, __u8 vector)
{
	struct vmxlab_run *run = v->run;

	if (v->irq_by_window && !run->ready_for_interrupt_injection) {
		v->irq_pending = vector;
		run->request_interrupt_window = 1;
		return 0;
	}
	return vmxlab_interrupt(v, vector);
}

static int vmxlab_run(struct vcpu *v, struct bench_exit *e)
{
	struct vmxlab_run *run = v->run;
	int r;

	for (;;) {
		if (ioctl(v->fd, VMXLAB_RUN, 0) < 0)
			return -errno;
		count_user_exit(v, run->exit_reason);
		if (run->exit_reason != VMXLAB_EXIT_IRQ_WINDOW_OPEN ||
		    v->irq_pending < 0)
			break;
		run->request_interrupt_window = 0;
		r = vmxlab_interrupt(v, v->irq_pending);
		if (r)
			return r;
		v->irq_pending = -1;
	}
	e->reason = run->exit_reason;
	switch (run->exit_reason) {
	case VMXLAB_EXIT_IO:
		e->kind = EXIT_IO;
		e->port = run->io.port;
		e->in = run->io.direction == VMXLAB_EXIT_IO_IN;
		e->len = run->io.size;
		e->data = (__u8 *)run + run->io.data_offset;
		break;
	case VMXLAB_EXIT_MMIO:
		e->kind = EXIT_MMIO;
		e->addr = run->mmio.phys_addr;
		e->in = !run->mmio.is_write;
		e->len = run->mmio.len;
		e->data = run->mmio.data;
		break;
	case VMXLAB_EXIT_HLT:
		e->kind = EXIT_HLT;
		break;
	case VMXLAB_EXIT_DEBUG:
		e->kind = EXIT_DEBUG;
		break;
	default:
		e->kind = EXIT_OTHER;
		break;
	}
	return 0;
}

/* vmxlab does not offset the guest's TSC. */
static int vmxlab_tsc_offset(struct vcpu *v, __u64 *offset)
{
	(void)v;
	*offset = 0;
	return 0;
}

/* Row 8: a VMXLAB_EXIT_DEBUG after each instruction (MTF, vmx/singlestep.c). */
static int vmxlab_set_singlestep(struct vcpu *v, bool on)
{
	struct vmxlab_singlestep s = {
		.flags = on ? VMXLAB_SINGLESTEP_ENABLE : 0,
	};

	return xioctl(v->fd, VMXLAB_SET_SINGLESTEP, &s);
}

/* Row 8b: the exit log, @nr records (a power of two) or 0 for off. */
static int vmxlab_set_exit_log(struct vcpu *v, __u32 nr)
{
	struct vmxlab_exit_log_config c = { .nr_records = nr };

	return xioctl(v->fd, VMXLAB_SET_EXIT_LOG, &c);
}

#define EXIT_LOG_READ	256

/* Drain up to EXIT_LOG_READ records; @next_seq counts all ever made. */
static int vmxlab_read_exit_log(struct vcpu *v, __u64 *next_seq)
{
	struct vmxlab_exit_log *log;
	int r;

	log = calloc(1, sizeof(*log) +
		     EXIT_LOG_READ * sizeof(struct vmxlab_exit_record));
	if (!log)
		return -ENOMEM;
	log->nrecords = EXIT_LOG_READ;
	r = xioctl(v->fd, VMXLAB_READ_EXIT_LOG, log);
	*next_seq = log->next_seq;
	free(log);
	return r;
}

/* VMXLAB_GET_STATS counts every exit by its basic reason. */
static int vmxlab_hw_exits(struct vcpu *v, __u64 *total, __u64 *extint)
{
	struct vmxlab_vcpu_stats s;
	int i, r;

	r = xioctl(v->fd, VMXLAB_GET_STATS, &s);
	if (r)
		return r;
	*total = 0;
	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		*total += s.exits[i];
	*extint = s.exits[VMX_EXIT_REASON_EXTERNAL_INTERRUPT];
	return 0;
}

/*
 * The calls, the same on both paging modes: only the VM type that
 * vmxlab_create_vm() asks for differs.
 */
#define VMXLAB_CALLS							\
	.create_vm = vmxlab_create_vm,					\
	.set_memory = vmxlab_set_memory,				\
	.create_vcpu = vmxlab_create_vcpu,				\
	.map_run = vmxlab_map_run,					\
	.set_cpuid = vmxlab_set_cpuid,					\
	.set_long_mode = vmxlab_set_long_mode,				\
	.set_regs = vmxlab_set_regs,					\
	.run = vmxlab_run,						\
	.queue_irq = vmxlab_queue_irq,					\
	.tsc_offset = vmxlab_tsc_offset,				\
	.set_singlestep = vmxlab_set_singlestep,			\
	.set_exit_log = vmxlab_set_exit_log,				\
	.read_exit_log = vmxlab_read_exit_log,			\
	.hw_exits = vmxlab_hw_exits

const struct backend backend_vmxlab = {
	.name = "vmxlab",
	.dev = "/dev/vmxlab",
	VMXLAB_CALLS,
};

/* The same VMM on a shadow-paging VM (Documentation/paging.rst). */
const struct backend backend_vmxlab_shadow = {
	.name = "vmxlab-shadow",
	.dev = "/dev/vmxlab",
	.shadow = true,
	VMXLAB_CALLS,
};
