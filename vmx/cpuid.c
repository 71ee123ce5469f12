// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the guest sees it.  CPUID always exits (SDM 26.1.2); the exit
 * handler in exits.c asks vmx_cpuid() for the answer: from the table
 * userspace set with VMXLAB_SET_CPUID, or else from the host's CPUID with
 * only the features vmxlab makes work and the hypervisor bit set.
 */
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "../mmu/gwalk.h"
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
 * What vmxlab supports: the host's leaves reduced to what vmxlab makes
 * work (vmx/cpuid_policy.c), the hypervisor bit set, and nothing that
 * belongs to one vCPU or one CPU (APIC ids, OSXSAVE).
 */
static void supported_cpuid(u32 function, u32 index, u32 out[4])
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
		out[2] &= ~CPUID_1_ECX_OSXSAVE;
		out[1] &= 0x00ffffff;		/* initial APIC id */
	}
	if (function == 0xb || function == 0x1f)
		out[3] = 0;			/* x2APIC id */
}

/* The default table: what vmxlab supports, plus what only this vCPU knows. */
static void default_cpuid(struct vmx_vcpu *vcpu, u32 function, u32 index,
			  u32 out[4])
{
	supported_cpuid(function, index, out);
	if (function == 1) {
		cpuid_track_osxsave(out);
		/* Initial APIC id: the vCPU id. */
		out[1] |= vcpu->id << 24;
	}
}

/* Leaves whose subleaf (ECX) selects what they report. */
static bool leaf_indexed(u32 function)
{
	return function == 4 || function == 7 || function == 0xb ||
	       function == 0xd || function == 0x1f;
}

/*
 * Is subleaf @index of an indexed leaf the last one to list?  Leaf 4
 * ends at the first cache of type 0, leaves 0xB and 0x1F with the first
 * level of type 0 (listed, as it says so), leaf 7 at the count subleaf 0
 * gives, leaf 0xD at 63 (SDM Vol. 2A, CPUID).
 */
static bool last_subleaf(u32 function, u32 index, const u32 out[4],
			 u32 leaf7_max)
{
	switch (function) {
	case 4:
		return !(out[0] & 0x1f);
	case 7:
		return index >= leaf7_max;
	case 0xb:
	case 0x1f:
		return !(out[2] & 0xff00);
	default:
		return index >= 63;
	}
}

/* Count every entry; fill only those that fit. */
static void add_entry(struct vmxlab_cpuid_entry *e, u32 max, u32 *n,
		      u32 function, u32 index, const u32 out[4])
{
	if (*n < max)
		e[*n] = (struct vmxlab_cpuid_entry) {
			.function = function, .index = index,
			.flags = leaf_indexed(function) ?
				 VMXLAB_CPUID_FLAG_INDEXED : 0,
			.eax = out[0], .ebx = out[1], .ecx = out[2],
			.edx = out[3],
		};
	++*n;
}

/* One leaf: its subleaves when they matter, else subleaf 0. */
static void add_leaf(struct vmxlab_cpuid_entry *e, u32 max, u32 *n,
		     u32 function)
{
	u32 out[4], index, leaf7_max = 0;

	for (index = 0; ; index++) {
		supported_cpuid(function, index, out);
		if (function == 7 && index == 0)
			leaf7_max = out[0];
		/* Leaf 0xD lists the subleaves of components it has. */
		if (function != 0xd || index < 2 || out[0] || out[1] || out[2] ||
		    out[3])
			add_entry(e, max, n, function, index, out);
		if (!leaf_indexed(function) ||
		    last_subleaf(function, index, out, leaf7_max))
			return;
	}
}

/**
 * vmx_supported_cpuid() - the table VMXLAB_GET_SUPPORTED_CPUID returns
 * @e:   room for @max entries
 * @max: capacity of @e
 *
 * Every basic leaf up to the one leaf 0 names (capped at 0x3f), the
 * signature leaf 0x40000000, and every extended leaf up to the one
 * 0x80000000 names (capped at 0x8000003f): what a vCPU without
 * VMXLAB_SET_CPUID sees, so that a VMM can start from it and take
 * features away.  A VMM sets the APIC ids and topology it wants.
 *
 * Return: the number of entries the table has, which may exceed @max
 * (then only @max are filled).
 */
u32 vmx_supported_cpuid(struct vmxlab_cpuid_entry *e, u32 max)
{
	u32 out[4], fn, last, n = 0;

	supported_cpuid(0, 0, out);
	last = min_t(u32, out[0], 0x3f);
	for (fn = 0; fn <= last; fn++)
		add_leaf(e, max, &n, fn);
	add_leaf(e, max, &n, VMXLAB_CPUID_SIGNATURE);
	supported_cpuid(0x80000000, 0, out);
	last = min_t(u32, out[0], 0x8000003f);
	for (fn = 0x80000000; fn <= last; fn++)
		add_leaf(e, max, &n, fn);
	return n;
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
	vcpu->paging_cpuid.known = false;
	return 0;
}

/*
 * MAXPHYADDR: CPUID.80000008H:EAX[7:0] when the guest has that leaf and
 * it is sane (32..52), else the host's; 1 GiB pages: CPUID.80000001H:
 * EDX.Page1GB[26] (SDM Vol. 3A, 4.1.4).  Worked out once per table: a
 * shadow VM's #PF, INVLPG and MOV CR3 exits ask every time, and a lookup
 * in a VMM's table of some fifty leaves costs more than the rest of the
 * register gathering.
 */
static void paging_cpuid(struct vmx_vcpu *vcpu)
{
	unsigned int maxphyaddr = boot_cpu_data.x86_phys_bits;
	u32 regs[4];

	vmx_cpuid(vcpu, 0x80000000, 0, regs);
	if (regs[0] >= 0x80000008) {
		vmx_cpuid(vcpu, 0x80000008, 0, regs);
		if ((regs[0] & 0xff) >= 32 && (regs[0] & 0xff) <= 52)
			maxphyaddr = regs[0] & 0xff;
	}
	vcpu->paging_cpuid.maxphyaddr = maxphyaddr;
	vmx_cpuid(vcpu, 0x80000001, 0, regs);
	vcpu->paging_cpuid.features = (regs[3] & BIT(26)) ?
				      GWALK_FEAT_1G_PAGES : 0;
	vcpu->paging_cpuid.known = true;
}

/**
 * vmx_guest_maxphyaddr() - the MAXPHYADDR the guest's CPUID shows
 * @vcpu: the vCPU, its thread calling
 *
 * Return: 32..52.
 */
unsigned int vmx_guest_maxphyaddr(struct vmx_vcpu *vcpu)
{
	if (!vcpu->paging_cpuid.known)
		paging_cpuid(vcpu);
	return vcpu->paging_cpuid.maxphyaddr;
}

/**
 * vmx_guest_paging_features() - GWALK_FEAT_* the guest's CPUID shows
 * @vcpu: the vCPU, its thread calling
 */
unsigned int vmx_guest_paging_features(struct vmx_vcpu *vcpu)
{
	if (!vcpu->paging_cpuid.known)
		paging_cpuid(vcpu);
	return vcpu->paging_cpuid.features;
}
