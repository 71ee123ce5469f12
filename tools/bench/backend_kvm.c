// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's KVM backend, with the interrupt controller in userspace:
 * struct backend's calls as /dev/kvm ioctls, its exits translated to
 * struct bench_exit for the VMM loop in workloads.c.
 */
#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "bench.h"

#define KVM_EPT_PARAM		"/sys/module/kvm_intel/parameters/ept"

/*
 * The two APIs share these layouts: kvm_regs is vmxlab_regs, and
 * kvm_sregs begins like vmxlab_sregs up to CR4 (then CR8 and EFER).
 */
static_assert(sizeof(struct kvm_regs) == sizeof(struct vmxlab_regs),
	      "kvm_regs and vmxlab_regs differ");
static_assert(offsetof(struct kvm_sregs, cr4) ==
	      offsetof(struct vmxlab_sregs, cr4),
	      "kvm_sregs and vmxlab_sregs differ before CR4");

static int kvm_create_vm(struct vm *vm)
{
	vm->fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	return vm->fd < 0 ? -errno : 0;
}

static int kvm_set_memory(struct vm *vm, __u64 gpa, __u64 size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	return xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int kvm_create_vcpu(struct vm *vm, unsigned int id, struct vcpu *v)
{
	v->vm = vm;
	v->irq_pending = -1;
	v->run = NULL;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	return v->fd < 0 ? -errno : 0;
}

static int kvm_map_run(struct vcpu *v)
{
	int size = ioctl(v->vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (size < 0)
		return -errno;
	v->run_size = size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	return v->run == MAP_FAILED ? -errno : 0;
}

static int kvm_set_cpuid(struct vcpu *v, const struct guest_cpuid_leaf *l, int n)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      n * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, size);
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
	r = xioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return r;
}

static int kvm_set_long_mode(struct vcpu *v)
{
	struct vmxlab_sregs lm = {};
	struct kvm_sregs s;
	int r;

	r = xioctl(v->fd, KVM_GET_SREGS, &s);
	if (r)
		return r;
	guest_mode_sregs(&lm, GUEST_LONG);
	memcpy(&s, &lm, offsetof(struct vmxlab_sregs, cr0));
	s.cr0 = lm.cr0;
	s.cr3 = lm.cr3;
	s.cr4 = lm.cr4;
	s.efer = lm.efer;
	return xioctl(v->fd, KVM_SET_SREGS, &s);
}

static int kvm_set_singlestep(struct vcpu *v, bool on);

/*
 * KVM sets TF for a step only at the RIP that KVM_SET_GUEST_DEBUG saw
 * (singlestep_rip): after a new RIP, stepping is set again.
 */
static int kvm_set_regs(struct vcpu *v, __u64 rip, __u64 rdi, __u64 rsi,
			__u64 rbx)
{
	struct vmxlab_regs regs;
	int r;

	entry_regs(&regs, rip, rdi, rsi, rbx);
	r = xioctl(v->fd, KVM_SET_REGS, &regs);
	if (!r && v->stepping)
		r = kvm_set_singlestep(v, true);
	return r;
}

static int kvm_interrupt(struct vcpu *v, __u8 vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	return xioctl(v->fd, KVM_INTERRUPT, &irq);
}

/*
 * Without an in-kernel irqchip, KVM_INTERRUPT may only be used when the
 * run page says ready_for_interrupt_injection; otherwise the VMM asks for
 * the window (request_interrupt_window) and injects on
 * KVM_EXIT_IRQ_WINDOW_OPEN (Documentation/virt/kvm/api.rst).
 */
static int kvm_queue_irq(struct vcpu *v, __u8 vector)
{
	struct kvm_run *run = v->run;

	if (run->ready_for_interrupt_injection)
		return kvm_interrupt(v, vector);
	v->irq_pending = vector;
	run->request_interrupt_window = 1;
	return 0;
}

static int kvm_run(struct vcpu *v, struct bench_exit *e)
{
	struct kvm_run *run = v->run;
	int r;

	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0)
			return -errno;
		count_user_exit(v, run->exit_reason);
		if (run->exit_reason != KVM_EXIT_IRQ_WINDOW_OPEN ||
		    v->irq_pending < 0)
			break;
		run->request_interrupt_window = 0;
		r = kvm_interrupt(v, v->irq_pending);
		if (r)
			return r;
		v->irq_pending = -1;
	}
	e->reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		e->kind = EXIT_IO;
		e->port = run->io.port;
		e->in = run->io.direction == KVM_EXIT_IO_IN;
		e->len = run->io.size;
		e->data = (__u8 *)run + run->io.data_offset;
		break;
	case KVM_EXIT_MMIO:
		e->kind = EXIT_MMIO;
		e->addr = run->mmio.phys_addr;
		e->in = !run->mmio.is_write;
		e->len = run->mmio.len;
		e->data = run->mmio.data;
		break;
	case KVM_EXIT_HLT:
		e->kind = EXIT_HLT;
		break;
	case KVM_EXIT_DEBUG:
		e->kind = EXIT_DEBUG;
		break;
	default:
		e->kind = EXIT_OTHER;
		break;
	}
	return 0;
}

/* KVM offsets the guest's TSC (KVM_VCPU_TSC_CTRL, Linux 5.16 and later). */
static int kvm_tsc_offset(struct vcpu *v, __u64 *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (unsigned long)offset,
	};

	return xioctl(v->fd, KVM_GET_DEVICE_ATTR, &attr);
}

/* The value of the statistic @name in KVM's binary statistics @fd. */
static int kvm_stat(int fd, const struct kvm_stats_header *h,
		    const char *name, __u64 *val)
{
	size_t dsize = sizeof(struct kvm_stats_desc) + h->name_size;
	struct kvm_stats_desc *d = malloc(dsize);
	__u32 i;
	int r = -ENOENT;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < h->num_desc && r == -ENOENT; i++) {
		if (pread(fd, d, dsize, h->desc_offset + i * dsize) != (ssize_t)dsize) {
			r = -EIO;
			break;
		}
		if (strncmp(d->name, name, h->name_size))
			continue;
		r = pread(fd, val, sizeof(*val), h->data_offset + d->offset) ==
		    sizeof(*val) ? 0 : -EIO;
	}
	free(d);
	return r;
}

/*
 * KVM counts every exit in the vCPU's "exits" statistic and external
 * interrupts in "irq_exits" (KVM_GET_STATS_FD, Linux 5.14 and later).
 */
static int kvm_hw_exits(struct vcpu *v, __u64 *total, __u64 *extint)
{
	struct kvm_stats_header h;
	int fd, r;

	fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -errno;
	r = pread(fd, &h, sizeof(h), 0) == sizeof(h) ? 0 : -EIO;
	if (!r)
		r = kvm_stat(fd, &h, "exits", total);
	if (!r)
		r = kvm_stat(fd, &h, "irq_exits", extint);
	close(fd);
	return r;
}

/*
 * Row 8: kvm_intel steps with RFLAGS.TF, which it sets in the guest (and
 * hides from it), and intercepts the #DB trap each instruction then
 * raises: an exception exit, KVM_EXIT_DEBUG.  KVM reports a stepped HLT as KVM_EXIT_HLT, as
 * vmxlab does.
 */
static int kvm_set_singlestep(struct vcpu *v, bool on)
{
	struct kvm_guest_debug dbg = {
		.control = on ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0,
	};

	return xioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg);
}

/*
 * The calls, the same on both paging modes: kvm_intel's ept parameter,
 * set when the module is loaded, makes the difference.
 */
#define KVM_CALLS							\
	.create_vm = kvm_create_vm,					\
	.set_memory = kvm_set_memory,					\
	.create_vcpu = kvm_create_vcpu,					\
	.map_run = kvm_map_run,						\
	.set_cpuid = kvm_set_cpuid,					\
	.set_long_mode = kvm_set_long_mode,				\
	.set_regs = kvm_set_regs,					\
	.run = kvm_run,							\
	.queue_irq = kvm_queue_irq,					\
	.tsc_offset = kvm_tsc_offset,					\
	.set_singlestep = kvm_set_singlestep,				\
	.hw_exits = kvm_hw_exits

const struct backend backend_kvm = {
	.name = "kvm",
	.dev = "/dev/kvm",
	.kvm = true,
	KVM_CALLS,
};

/*
 * The same, with kvm_intel loaded ept=0 (scripts/bench-vm.sh): KVM's own
 * shadow paging.  cmd_run() checks the module parameter.
 */
const struct backend backend_kvm_shadow = {
	.name = "kvm-shadow",
	.dev = "/dev/kvm",
	.kvm = true,
	.shadow = true,
	KVM_CALLS,
};

/*
 * kvm and kvm-shadow differ only in kvm_intel's ept parameter, set when
 * the module is loaded: measure only what the backend's name says.
 */
void check_kvm_ept(const struct backend *be)
{
	char c = 0;
	int fd;

	if (!be->kvm)
		return;
	fd = open(KVM_EPT_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &c, 1) != 1)
		die("%s: %s", KVM_EPT_PARAM, strerror(errno));
	close(fd);
	if ((c == 'Y') == be->shadow)
		die("%s: kvm_intel is loaded with ept=%c", be->name, c);
}
