/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hypervisor under vmxlab-run: /dev/vmxlab, or /dev/kvm for a
 * comparison with the same VMM, the same guest and the same devices.
 * vmxlab's API is KVM's in miniature, so the two differ only in ioctl
 * numbers, in where the run page's exit union starts, in the CPUID entry
 * size, and in KVM's extra control registers in the sregs.
 */
#ifndef VMM_BACKEND_H
#define VMM_BACKEND_H

#include <stdint.h>

#include <uapi/linux/vmxlab.h>

struct backend;

struct vcpu_handle {
	const struct backend *be;
	int sys, vm, vcpu;
	/*
	 * The run page.  Its header (request_interrupt_window to if_flag)
	 * has the same offsets on both; @exit is where the exit union's
	 * fields are, as if it were a struct vmxlab_run.
	 */
	struct vmxlab_run *run;
	struct vmxlab_run *exit;
};

/* Each returns 0, or -1 with errno set, as the ioctls do. */
struct backend {
	const char *name;
	int (*create)(struct vcpu_handle *h, int vm_type, void *ram,
		      uint64_t ram_size);
	int (*tsc_khz)(struct vcpu_handle *h, uint32_t *khz);
	int (*supported_cpuid)(struct vcpu_handle *h, struct vmxlab_cpuid *c);
	int (*set_cpuid)(struct vcpu_handle *h, const struct vmxlab_cpuid *c);
	int (*get_regs)(struct vcpu_handle *h, struct vmxlab_regs *r);
	int (*set_regs)(struct vcpu_handle *h, const struct vmxlab_regs *r);
	int (*get_sregs)(struct vcpu_handle *h, struct vmxlab_sregs *s);
	int (*set_sregs)(struct vcpu_handle *h, const struct vmxlab_sregs *s);
	int (*run)(struct vcpu_handle *h);
	int (*interrupt)(struct vcpu_handle *h, unsigned int vector);
	/* VM exits by VMX exit reason, or -1 if the backend cannot tell. */
	int (*exit_counts)(struct vcpu_handle *h, struct vmxlab_vcpu_stats *st);
};

extern const struct backend backend_vmxlab, backend_kvm;

#endif
