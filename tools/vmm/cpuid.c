// SPDX-License-Identifier: GPL-2.0
/*
 * What a Linux guest of vmxlab-run may see.  The VMM has a PIC, a PIT, a
 * serial port and an RTC, and nothing else: no local APIC, no machine-
 * check banks, no MTRRs, no performance counters, no thermal sensors.  A
 * feature the guest sees it uses, so each of those is hidden here (bit
 * numbers: SDM Vol. 2A, CPUID, Tables 3-10, 3-11 and leaf 7), which is
 * what lets the kernel boot without nolapic/noapic.
 *
 * The same rule makes the guest one and the same CPU on both backends
 * (vmxlab-run --backend kvm): what vmxlab does not virtualise -- PCID,
 * INVPCID, RDTSCP, UMIP, WBNOINVD -- is hidden from a KVM guest too, and so
 * is ERMS, which vmxlab passes from CPUID while a host kernel that found
 * fast strings off has dropped it (KVM then does not offer it); the
 * hypervisor bit is set on both.  make bench compares the guest's
 * /proc/cpuinfo flags under the two and calls the row unlike otherwise.  The topology is one
 * core with one thread, and the TSC frequency is given in leaves 0x15 and
 * 0x16 because a guest cannot calibrate it: the PIT it would measure
 * against runs on the host's clock, not on the guest's time.
 */
#include <stdbool.h>
#include <string.h>

#include "vmm/cpuid.h"

#define BIT(n)	(1U << (n))

/*
 * Leaf 1 ECX: DTES64, MONITOR, DS-CPL, VMX, SMX, EST, TM2, PDCM, PCID,
 * x2APIC, TSC-deadline.
 */
#define HIDE_1_ECX	(BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | \
			 BIT(8) | BIT(15) | BIT(17) | BIT(21) | BIT(24))
#define HYPERVISOR	BIT(31)		/* leaf 1 ECX: "running on a hypervisor" */
/* Leaf 1 EDX: MCE, APIC, MTRR, MCA, DS, ACPI, HTT, TM, PBE. */
#define HIDE_1_EDX	(BIT(7) | BIT(9) | BIT(12) | BIT(14) | BIT(21) | \
			 BIT(22) | BIT(28) | BIT(29) | BIT(31))
/* Leaf 7 EBX: TSC_ADJUST, ERMS, INVPCID. */
#define HIDE_7_EBX	(BIT(1) | BIT(9) | BIT(10))
/* Leaf 7 ECX: UMIP, PKU, OSPKE, WAITPKG, CET_SS, LA57, RDPID. */
#define HIDE_7_ECX	(BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(7) | BIT(16) | \
			 BIT(22))
/* Leaf 7 EDX: CET_IBT, SPEC_CTRL, STIBP, L1D_FLUSH, ARCH_CAPABILITIES, CORE_CAPABILITIES, SSBD. */
#define HIDE_7_EDX	(BIT(20) | BIT(26) | BIT(27) | BIT(28) | BIT(29) | \
			 BIT(30) | BIT(31))
/* Leaf 0x80000007 EDX: invariant TSC. */
#define INVARIANT_TSC	BIT(8)
/* Leaf 0x80000001 EDX: RDTSCP.  Leaf 0x80000008 EBX: WBNOINVD. */
#define RDTSCP		BIT(27)
#define WBNOINVD	BIT(9)

#define LEAF_TSC	0x15
#define LEAF_FREQ	0x16

static struct vmxlab_cpuid_entry *find(struct vmxlab_cpuid_entry *e,
				       uint32_t n, uint32_t function)
{
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == function)
			return &e[i];
	return NULL;
}

/* The entry for @function (index 0), added at the end if missing. */
static struct vmxlab_cpuid_entry *get(struct vmxlab_cpuid_entry *e,
				      uint32_t *n, uint32_t max,
				      uint32_t function)
{
	struct vmxlab_cpuid_entry *x = find(e, *n, function);

	if (x || *n == max)
		return x;
	x = &e[(*n)++];
	memset(x, 0, sizeof(*x));
	x->function = function;
	return x;
}

/*
 * Leaves that describe hardware this VMM does not have: gone (all zero).
 * So do the hypervisor's own leaves (0x40000000 up): KVM's would announce
 * paravirtual clocks and EOIs the VMM does not offer, and without them
 * the guest is the same on either backend.
 */
static bool dropped_leaf(uint32_t function)
{
	return (function >= 0x40000000 && function <= 0x4fffffff) ||
	       function == 6 ||		/* thermal and power management */
	       function == 0xa ||	/* architectural performance counters */
	       function == 0xb ||	/* x2APIC topology */
	       function == 0x1f;	/* V2 extended topology */
}

static void one_core(struct vmxlab_cpuid_entry *x)
{
	switch (x->function) {
	case 1:
		x->ecx &= ~HIDE_1_ECX;
		x->ecx |= HYPERVISOR;
		x->edx &= ~HIDE_1_EDX;
		/* One logical processor; initial APIC id 0. */
		x->ebx = (x->ebx & 0xffff) | 1 << 16;
		break;
	case 4:
		/* Cores per package - 1 and threads per cache - 1: 0. */
		x->eax &= 0x3fff;
		break;
	case 7:
		if (x->index == 0) {
			x->ebx &= ~HIDE_7_EBX;
			x->ecx &= ~HIDE_7_ECX;
			x->edx &= ~HIDE_7_EDX;
		}
		break;
	case 0x80000001:
		x->edx &= ~RDTSCP;
		break;
	case 0x80000007:
		x->edx |= INVARIANT_TSC;
		break;
	case 0x80000008:
		x->ebx &= ~WBNOINVD;
		break;
	}
}

/**
 * vmm_cpuid_policy() - turn vmxlab's supported table into the guest's
 * @e:       the table, from VMXLAB_GET_SUPPORTED_CPUID; edited in place
 * @nent:    entries in @e; may grow by the two frequency leaves
 * @max:     room in @e
 * @tsc_khz: the host's TSC frequency (struct vmxlab_caps), the guest's too
 *
 * Return: 0, or -1 if @e has no leaf 0 or no room for leaves 0x15/0x16
 * (then @e is left half-edited: not a table to give a guest).
 */
int vmm_cpuid_policy(struct vmxlab_cpuid_entry *e, uint32_t *nent,
		     uint32_t max, uint32_t tsc_khz)
{
	struct vmxlab_cpuid_entry *x;
	uint32_t i, n = 0;

	for (i = 0; i < *nent; i++)
		if (!dropped_leaf(e[i].function))
			e[n++] = e[i];
	for (i = 0; i < n; i++)
		one_core(&e[i]);

	x = find(e, n, 0);
	if (!x)
		return -1;
	if (x->eax < LEAF_FREQ)
		x->eax = LEAF_FREQ;
	/* TSC Hz = ECX * EBX / EAX: a 1 kHz "crystal" times tsc_khz. */
	x = get(e, &n, max, LEAF_TSC);
	if (!x)
		return -1;
	x->eax = 1;
	x->ebx = tsc_khz;
	x->ecx = 1000;
	x->edx = 0;
	/* Base and maximum frequency in MHz. */
	x = get(e, &n, max, LEAF_FREQ);
	if (!x)
		return -1;
	x->eax = tsc_khz / 1000;
	x->ebx = tsc_khz / 1000;
	x->ecx = 0;
	x->edx = 0;
	*nent = n;
	return 0;
}
