// SPDX-License-Identifier: GPL-2.0
/* vmxlab-run on /dev/vmxlab: each operation is one ioctl. */
#include <fcntl.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm/backend.h"

static int vmxlab_create(struct vcpu_handle *h, int vm_type, void *ram,
			 uint64_t ram_size)
{
	struct vmxlab_memory_region region = {
		.slot = 0, .memory_size = ram_size,
		.userspace_addr = (unsigned long)ram,
	};

	h->sys = open("/dev/vmxlab", O_RDWR | O_CLOEXEC);
	if (h->sys < 0)
		return -1;
	h->vm = ioctl(h->sys, VMXLAB_CREATE_VM, vm_type);
	if (h->vm < 0 || ioctl(h->vm, VMXLAB_SET_MEMORY_REGION, &region))
		return -1;
	h->vcpu = ioctl(h->vm, VMXLAB_CREATE_VCPU, 0);
	if (h->vcpu < 0)
		return -1;
	h->run = mmap(NULL, sizeof(*h->run), PROT_READ | PROT_WRITE,
		      MAP_SHARED, h->vcpu, 0);
	if (h->run == MAP_FAILED)
		return -1;
	h->exit = h->run;
	return 0;
}

static int vmxlab_tsc_khz(struct vcpu_handle *h, uint32_t *khz)
{
	struct vmxlab_caps caps;

	if (ioctl(h->sys, VMXLAB_GET_CAPS, &caps))
		return -1;
	*khz = caps.tsc_khz;
	return 0;
}

static int vmxlab_supported_cpuid(struct vcpu_handle *h, struct vmxlab_cpuid *c)
{
	return ioctl(h->sys, VMXLAB_GET_SUPPORTED_CPUID, c);
}

static int vmxlab_set_cpuid(struct vcpu_handle *h, const struct vmxlab_cpuid *c)
{
	return ioctl(h->vcpu, VMXLAB_SET_CPUID, c);
}

static int vmxlab_get_regs(struct vcpu_handle *h, struct vmxlab_regs *r)
{
	return ioctl(h->vcpu, VMXLAB_GET_REGS, r);
}

static int vmxlab_set_regs(struct vcpu_handle *h, const struct vmxlab_regs *r)
{
	return ioctl(h->vcpu, VMXLAB_SET_REGS, r);
}

static int vmxlab_get_sregs(struct vcpu_handle *h, struct vmxlab_sregs *s)
{
	return ioctl(h->vcpu, VMXLAB_GET_SREGS, s);
}

static int vmxlab_set_sregs(struct vcpu_handle *h,
			    const struct vmxlab_sregs *s)
{
	return ioctl(h->vcpu, VMXLAB_SET_SREGS, s);
}

static int vmxlab_run(struct vcpu_handle *h)
{
	return ioctl(h->vcpu, VMXLAB_RUN, 0);
}

static int vmxlab_interrupt(struct vcpu_handle *h, unsigned int vector)
{
	struct vmxlab_interrupt irq = { .vector = vector };

	return ioctl(h->vcpu, VMXLAB_INTERRUPT, &irq);
}

static int vmxlab_exit_counts(struct vcpu_handle *h,
			      struct vmxlab_vcpu_stats *st)
{
	return ioctl(h->vcpu, VMXLAB_GET_STATS, st);
}

const struct backend backend_vmxlab = {
	.name = "vmxlab",
	.create = vmxlab_create,
	.tsc_khz = vmxlab_tsc_khz,
	.supported_cpuid = vmxlab_supported_cpuid,
	.set_cpuid = vmxlab_set_cpuid,
	.get_regs = vmxlab_get_regs,
	.set_regs = vmxlab_set_regs,
	.get_sregs = vmxlab_get_sregs,
	.set_sregs = vmxlab_set_sregs,
	.run = vmxlab_run,
	.interrupt = vmxlab_interrupt,
	.exit_counts = vmxlab_exit_counts,
};
