// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-run on /dev/kvm, without KVM_CREATE_IRQCHIP: the PIC, the PIT and
 * the serial port stay in vmxlab-run, interrupts go in with
 * KVM_INTERRUPT, exactly as on vmxlab.  Used to compare the two
 * hypervisors with one VMM (make bench's "Linux to /init" row).
 */
#include <errno.h>
#include <fcntl.h>
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/kvm.h>

#include "vmm/backend.h"

/* The layouts vmxlab copied from KVM: checked, not assumed. */
static_assert(sizeof(struct kvm_regs) == sizeof(struct vmxlab_regs),
	      "kvm_regs and vmxlab_regs differ");
static_assert(sizeof(struct kvm_segment) == sizeof(struct vmxlab_segment),
	      "kvm_segment and vmxlab_segment differ");
static_assert(offsetof(struct kvm_sregs, cr0) ==
	      offsetof(struct vmxlab_sregs, cr0),
	      "the segments and tables of the sregs differ");
static_assert(offsetof(struct kvm_run, exit_reason) ==
	      offsetof(struct vmxlab_run, exit_reason) &&
	      offsetof(struct kvm_run, ready_for_interrupt_injection) ==
	      offsetof(struct vmxlab_run, ready_for_interrupt_injection) &&
	      offsetof(struct kvm_run, if_flag) ==
	      offsetof(struct vmxlab_run, if_flag) &&
	      offsetof(struct kvm_run, immediate_exit) ==
	      offsetof(struct vmxlab_run, immediate_exit),
	      "the run pages' headers differ");
/* Where a member of the exit union is, from the union's start. */
#define KVM_EXIT_FIELD(m)	(offsetof(struct kvm_run, m) - \
				 offsetof(struct kvm_run, hw))
#define VMXLAB_EXIT_FIELD(m)	(offsetof(struct vmxlab_run, m) - \
				 offsetof(struct vmxlab_run, hw))
static_assert(KVM_EXIT_FIELD(io.direction) == VMXLAB_EXIT_FIELD(io.direction) &&
	      KVM_EXIT_FIELD(io.size) == VMXLAB_EXIT_FIELD(io.size) &&
	      KVM_EXIT_FIELD(io.port) == VMXLAB_EXIT_FIELD(io.port) &&
	      KVM_EXIT_FIELD(io.count) == VMXLAB_EXIT_FIELD(io.count) &&
	      KVM_EXIT_FIELD(io.data_offset) == VMXLAB_EXIT_FIELD(io.data_offset),
	      "the I/O exits differ");
static_assert(KVM_EXIT_FIELD(mmio.phys_addr) == VMXLAB_EXIT_FIELD(mmio.phys_addr) &&
	      KVM_EXIT_FIELD(mmio.data) == VMXLAB_EXIT_FIELD(mmio.data) &&
	      KVM_EXIT_FIELD(mmio.len) == VMXLAB_EXIT_FIELD(mmio.len) &&
	      KVM_EXIT_FIELD(mmio.is_write) == VMXLAB_EXIT_FIELD(mmio.is_write),
	      "the MMIO exits differ");
static_assert(KVM_EXIT_FIELD(fail_entry.hardware_entry_failure_reason) ==
	      VMXLAB_EXIT_FIELD(fail_entry.hardware_entry_failure_reason) &&
	      KVM_EXIT_FIELD(internal.suberror) ==
	      VMXLAB_EXIT_FIELD(internal.suberror) &&
	      KVM_EXIT_FIELD(internal.data) == VMXLAB_EXIT_FIELD(internal.data),
	      "the error exits differ");
static_assert(KVM_EXIT_IO == VMXLAB_EXIT_IO, "exit reasons differ");
static_assert(KVM_EXIT_HLT == VMXLAB_EXIT_HLT, "exit reasons differ");
static_assert(KVM_EXIT_MMIO == VMXLAB_EXIT_MMIO, "exit reasons differ");
static_assert(KVM_EXIT_IRQ_WINDOW_OPEN == VMXLAB_EXIT_IRQ_WINDOW_OPEN,
	      "exit reasons differ");
static_assert(KVM_EXIT_SHUTDOWN == VMXLAB_EXIT_SHUTDOWN, "exit reasons differ");
static_assert(KVM_EXIT_FAIL_ENTRY == VMXLAB_EXIT_FAIL_ENTRY,
	      "exit reasons differ");
static_assert(KVM_EXIT_INTERNAL_ERROR == VMXLAB_EXIT_INTERNAL_ERROR,
	      "exit reasons differ");

/*
 * Two MSRs a Linux guest reads that KVM answers otherwise than vmxlab
 * (vmx/msr.c): IA32_MISC_ENABLE with fast strings on (the guest's
 * REP_GOOD, which picks its memcpy) and the machine-check and PEBS units
 * absent; MSR_PLATFORM_INFO without CPUID faulting, which vmxlab does not
 * emulate.  With these the guest sees one CPU on both backends.
 */
#define BIT_ULL(n)		(1ULL << (n))
#define MSR_MISC_ENABLE		0x1a0
#define MISC_ENABLE_VMXLAB	(BIT_ULL(0) | BIT_ULL(11) | BIT_ULL(12))
#define MSR_PLATFORM_INFO	0xce

static int kvm_set_msrs_like_vmxlab(struct vcpu_handle *h)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[2];
	} m = {
		.hdr.nmsrs = 2,
		.e = {
			{ .index = MSR_MISC_ENABLE, .data = MISC_ENABLE_VMXLAB },
			{ .index = MSR_PLATFORM_INFO, .data = 0 },
		},
	};
	int r = ioctl(h->vcpu, KVM_SET_MSRS, &m);

	if (r == 2)
		return 0;
	if (r >= 0)
		errno = EINVAL;	/* KVM stopped at an MSR it refused */
	return -1;
}

static int kvm_create(struct vcpu_handle *h, int vm_type, void *ram,
		      uint64_t ram_size)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .memory_size = ram_size,
		.userspace_addr = (unsigned long)ram,
	};
	int size;

	if (vm_type != VMXLAB_VM_EPT) {
		errno = EOPNOTSUPP;	/* KVM chooses paging per module */
		return -1;
	}
	h->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (h->sys < 0)
		return -1;
	h->vm = ioctl(h->sys, KVM_CREATE_VM, 0);
	if (h->vm < 0 || ioctl(h->vm, KVM_SET_USER_MEMORY_REGION, &region))
		return -1;
	h->vcpu = ioctl(h->vm, KVM_CREATE_VCPU, 0);
	size = ioctl(h->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (h->vcpu < 0 || size < 0)
		return -1;
	h->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      h->vcpu, 0);
	if (h->run == MAP_FAILED)
		return -1;
	if (kvm_set_msrs_like_vmxlab(h))
		return -1;
	/* KVM's union starts 16 bytes later (cr8, apic_base come first). */
	h->exit = (struct vmxlab_run *)((char *)h->run +
		offsetof(struct kvm_run, hw) - offsetof(struct vmxlab_run, hw));
	return 0;
}

static int kvm_tsc_khz(struct vcpu_handle *h, uint32_t *khz)
{
	int r = ioctl(h->vcpu, KVM_GET_TSC_KHZ, 0);

	if (r <= 0)
		return -1;
	*khz = r;
	return 0;
}

static struct kvm_cpuid2 *kvm_cpuid_alloc(uint32_t n)
{
	struct kvm_cpuid2 *k = calloc(1, sizeof(*k) + n * sizeof(k->entries[0]));

	if (k)
		k->nent = n;
	return k;
}

static int kvm_supported_cpuid(struct vcpu_handle *h, struct vmxlab_cpuid *c)
{
	struct kvm_cpuid2 *k = kvm_cpuid_alloc(c->nent);
	uint32_t i;

	if (!k || ioctl(h->sys, KVM_GET_SUPPORTED_CPUID, k)) {
		free(k);
		return -1;
	}
	for (i = 0; i < k->nent; i++) {
		const struct kvm_cpuid_entry2 *s = &k->entries[i];

		c->entries[i] = (struct vmxlab_cpuid_entry) {
			.function = s->function, .index = s->index,
			.flags = s->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ?
				 VMXLAB_CPUID_FLAG_INDEXED : 0,
			.eax = s->eax, .ebx = s->ebx, .ecx = s->ecx,
			.edx = s->edx,
		};
	}
	c->nent = k->nent;
	free(k);
	return 0;
}

static int kvm_set_cpuid(struct vcpu_handle *h, const struct vmxlab_cpuid *c)
{
	struct kvm_cpuid2 *k = kvm_cpuid_alloc(c->nent);
	uint32_t i;
	int r;

	if (!k)
		return -1;
	for (i = 0; i < c->nent; i++) {
		const struct vmxlab_cpuid_entry *s = &c->entries[i];

		k->entries[i] = (struct kvm_cpuid_entry2) {
			.function = s->function, .index = s->index,
			.flags = s->flags & VMXLAB_CPUID_FLAG_INDEXED ?
				 KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			.eax = s->eax, .ebx = s->ebx, .ecx = s->ecx,
			.edx = s->edx,
		};
	}
	r = ioctl(h->vcpu, KVM_SET_CPUID2, k);
	free(k);
	return r;
}

static int kvm_get_regs(struct vcpu_handle *h, struct vmxlab_regs *r)
{
	return ioctl(h->vcpu, KVM_GET_REGS, r);
}

static int kvm_set_regs(struct vcpu_handle *h, const struct vmxlab_regs *r)
{
	return ioctl(h->vcpu, KVM_SET_REGS, r);
}

static int kvm_get_sregs(struct vcpu_handle *h, struct vmxlab_sregs *s)
{
	struct kvm_sregs k;

	if (ioctl(h->vcpu, KVM_GET_SREGS, &k))
		return -1;
	memset(s, 0, sizeof(*s));
	memcpy(s, &k, offsetof(struct vmxlab_sregs, cr0));
	s->cr0 = k.cr0;
	s->cr2 = k.cr2;
	s->cr3 = k.cr3;
	s->cr4 = k.cr4;
	s->efer = k.efer;
	return 0;
}

/* The global enable of IA32_APIC_BASE (SDM Vol. 3A, 11.4.4). */
#define APIC_BASE_ENABLE	BIT_ULL(11)

/*
 * KVM's CR8 and pending-interrupt bitmap stay as they are.  The local
 * APIC is turned off: KVM derives CPUID.1:EDX.APIC from IA32_APIC_BASE at
 * run time, whatever KVM_SET_CPUID2 said, and a guest that sees an APIC
 * uses it -- 131072 MMIO exits to 0xfee000b0 (EOI) in the first boot --
 * where this VMM has none.
 */
static int kvm_set_sregs(struct vcpu_handle *h, const struct vmxlab_sregs *s)
{
	struct kvm_sregs k;

	if (ioctl(h->vcpu, KVM_GET_SREGS, &k))
		return -1;
	k.apic_base &= ~APIC_BASE_ENABLE;
	memcpy(&k, s, offsetof(struct vmxlab_sregs, cr0));
	k.cr0 = s->cr0;
	k.cr2 = s->cr2;
	k.cr3 = s->cr3;
	k.cr4 = s->cr4;
	k.efer = s->efer;
	return ioctl(h->vcpu, KVM_SET_SREGS, &k);
}

static int kvm_run_vcpu(struct vcpu_handle *h)
{
	return ioctl(h->vcpu, KVM_RUN, 0);
}

static int kvm_interrupt(struct vcpu_handle *h, unsigned int vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	return ioctl(h->vcpu, KVM_INTERRUPT, &irq);
}

static int kvm_exit_counts(struct vcpu_handle *h, struct vmxlab_vcpu_stats *st)
{
	(void)h;
	(void)st;
	errno = EOPNOTSUPP;	/* KVM counts in debugfs, not per ioctl */
	return -1;
}

const struct backend backend_kvm = {
	.name = "kvm",
	.create = kvm_create,
	.tsc_khz = kvm_tsc_khz,
	.supported_cpuid = kvm_supported_cpuid,
	.set_cpuid = kvm_set_cpuid,
	.get_regs = kvm_get_regs,
	.set_regs = kvm_set_regs,
	.get_sregs = kvm_get_sregs,
	.set_sregs = kvm_set_sregs,
	.run = kvm_run_vcpu,
	.interrupt = kvm_interrupt,
	.exit_counts = kvm_exit_counts,
};
