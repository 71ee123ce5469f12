// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the guest sees it.  CPUID always exits (SDM 26.1.2); the exit
 * handler in exits.c asks vmx_cpuid() for the answer: from the table
 * userspace set with VMXLAB_SET_CPUID, or else from the host's CPUID with
 * only the features vmxlab makes work and the hypervisor bit set.
 */
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "cpuid_policy.h"
#include "xsave.h"
#include "vcpu.h"
#include "vmcs.h"

#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_HYPERVISOR	BIT(31)
#define VMXLAB_CPUID_SIGNATURE	0x40000000

/*
 * CPUID.1:ECX.OSXSAVE is not a property of the CPU but a copy of
 * CR4.OSXSAVE (SDM Vol. 2A, CPUID): it follows the guest's CR4 whatever
 * the table says.  On a host with OSXSAVE the guest owns the bit (it is
 * not in the CR4 guest/host mask), so its MOV to CR4 changes GUEST_CR4
 * without an exit and leaves the read shadow stale: vmx_read_guest_cr4()
 * takes guest-owned bits from GUEST_CR4.
 */
static void cpuid_track_osxsave(u32 out[4])
{
	out[2] &= ~CPUID_1_ECX_OSXSAVE;
	if (vmx_read_guest_cr4() & X86_CR4_OSXSAVE)
		out[2] |= CPUID_1_ECX_OSXSAVE;
}

/*
 * The default table: the host's, reduced to what vmxlab makes work
 * (vmx/cpuid_policy.c), plus what only this vCPU knows.
 */
static void default_cpuid(struct vmx_vcpu *vcpu, u32 function, u32 index,
			  u32 out[4])
{
	/* PKRU stays the host's (handle_xsetbv()): not offered. */
	const struct cpuid_host host = {
		.xcr0 = vmx_host_osxsave ? vmx_host_xcr0 & ~XCR0_PKRU : 0,
	};

	if (function == VMXLAB_CPUID_SIGNATURE) {
		/* "vmxlabvmxlab", like KVM's "KVMKVMKVM" leaf. */
		out[0] = VMXLAB_CPUID_SIGNATURE;
		out[1] = 0x6c786d76;	/* "vmxl" */
		out[2] = 0x6d766261;	/* "abvm" */
		out[3] = 0x62616c78;	/* "xlab" */
		return;
	}
	cpuid_count(function, index, &out[0], &out[1], &out[2], &out[3]);
	cpuid_policy_filter(function, index, out, &host);
	if (function == 1) {
		out[2] |= CPUID_1_ECX_HYPERVISOR;
		cpuid_track_osxsave(out);
		/* Initial APIC id: the vCPU id. */
		out[1] = (out[1] & 0x00ffffff) | (vcpu->id << 24);
	}
}

void vmx_cpuid(struct vmx_vcpu *vcpu, u32 function, u32 index, u32 out[4])
{
	u32 i;

	if (!vcpu->cpuid) {
		default_cpuid(vcpu, function, index, out);
		return;
	}
	memset(out, 0, 4 * sizeof(*out));
	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct vmxlab_cpuid_entry *e = &vcpu->cpuid[i];

		if (e->function != function ||
		    ((e->flags & VMXLAB_CPUID_FLAG_INDEXED) && e->index != index))
			continue;
		out[0] = e->eax;
		out[1] = e->ebx;
		out[2] = e->ecx;
		out[3] = e->edx;
		if (function == 1)
			cpuid_track_osxsave(out);
		return;
	}
}

/**
 * vmx_set_cpuid() - replace the vCPU's CPUID table
 * @vcpu:    the vCPU
 * @entries: kmalloc'ed, validated by the caller; owned by the vCPU now
 * @nent:    number of entries
 *
 * Return: 0
 */
int vmx_set_cpuid(struct vmx_vcpu *vcpu, struct vmxlab_cpuid_entry *entries,
		  u32 nent)
{
	kfree(vcpu->cpuid);
	vcpu->cpuid = entries;
	vcpu->cpuid_nent = nent;
	return 0;
}
