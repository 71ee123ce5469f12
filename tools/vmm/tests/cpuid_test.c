// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-run's CPUID policy on a table with every bit set: what must go
 * (bit numbers from SDM Vol. 2A, CPUID) and what must stay.
 */
#include <string.h>

#include "vmm/cpuid.h"
#include "tap.h"

#define MAX	32

static struct vmxlab_cpuid_entry e[MAX];
static uint32_t n;

static void add(uint32_t function, uint32_t index)
{
	e[n] = (struct vmxlab_cpuid_entry) {
		.function = function, .index = index,
		.eax = ~0U, .ebx = ~0U, .ecx = ~0U, .edx = ~0U,
	};
	n++;
}

static const struct vmxlab_cpuid_entry *leaf(uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == function && e[i].index == index)
			return &e[i];
	return NULL;
}

static void fill(void)
{
	n = 0;
	add(0, 0);
	add(1, 0);
	add(4, 0);
	add(6, 0);
	add(7, 0);
	add(0xa, 0);
	add(0xb, 0);
	add(0xb, 1);
	add(0xd, 0);
	add(0x80000007, 0);
	add(0x40000000, 0);
	add(0x40000001, 0);
	add(0x80000001, 0);
	add(0x80000008, 0);
	e[0].eax = 0xd;
	e[9].edx = 0;
}

int main(void)
{
	const struct vmxlab_cpuid_entry *x;
	uint32_t full;

	tap_plan(20);
	fill();
	tap_ok(!vmm_cpuid_policy(e, &n, MAX, 2000000), "policy applies");
	x = leaf(1, 0);
	tap_ok(x && !(x->ecx & (1U << 21)) && !(x->ecx & (1U << 24)) &&
	       !(x->edx & (1U << 9)),
	       "no x2APIC, TSC-deadline or local APIC");
	tap_ok(x && !(x->edx & (1U << 7)) && !(x->edx & (1U << 14)) &&
	       !(x->edx & (1U << 12)),
	       "no MCE, MCA or MTRR");
	tap_ok(x && !(x->ecx & (1U << 3)) && !(x->ecx & (1U << 15)) &&
	       !(x->edx & (1U << 21)) && !(x->edx & (1U << 22)) &&
	       !(x->edx & (1U << 29)),
	       "no MONITOR, PDCM, DS, ACPI or TM");
	tap_ok(x && (x->edx & 1) && (x->edx & (1U << 4)) &&
	       (x->ecx & (1U << 31)) && (x->ecx & (1U << 0)),
	       "FPU, TSC, SSE3 and the hypervisor bit stay");
	tap_ok(x && ((x->ebx >> 16) & 0xff) == 1 && !(x->ebx >> 24) &&
	       !(x->edx & (1U << 28)),
	       "one logical processor, APIC id 0, no HTT");
	tap_ok(!leaf(6, 0) && !leaf(0xa, 0) && !leaf(0xb, 0) && !leaf(0xb, 1),
	       "thermal, perfmon and topology leaves gone");
	tap_ok(!leaf(0x40000000, 0) && !leaf(0x40000001, 0),
	       "no hypervisor leaves (KVM's paravirtual features)");
	x = leaf(7, 0);
	tap_ok(x && !(x->ebx & 2) && !(x->ecx & (1U << 16)) &&
	       !(x->ecx & (1U << 3)) && !(x->ecx & (1U << 22)) &&
	       !(x->edx & (1U << 26)) && !(x->edx & (1U << 29)),
	       "leaf 7: no TSC_ADJUST, LA57, PKU, RDPID, SPEC_CTRL, ARCH_CAP");
	x = leaf(7, 0);
	tap_ok(x && !(x->ebx & (1U << 9)) && !(x->ebx & (1U << 10)) &&
	       !(x->ecx & (1U << 2)),
	       "leaf 7: no ERMS, INVPCID or UMIP (one CPU on both backends)");
	x = leaf(1, 0);
	tap_ok(x && !(x->ecx & (1U << 17)), "no PCID");
	x = leaf(0x80000001, 0);
	tap_ok(x && !(x->edx & (1U << 27)), "no RDTSCP");
	x = leaf(0x80000008, 0);
	tap_ok(x && !(x->ebx & (1U << 9)), "no WBNOINVD");
	x = leaf(0x15, 0);
	tap_ok(x && x->eax && (uint64_t)x->ecx * x->ebx / x->eax == 2000000000ULL,
	       "leaf 0x15: crystal Hz * EBX / EAX is the TSC's 2 GHz");
	x = leaf(0x16, 0);
	tap_ok(x && x->eax == 2000, "leaf 0x16: base frequency 2000 MHz");
	tap_ok(leaf(0, 0)->eax == 0x16, "leaf 0 reaches leaf 0x16");
	tap_ok(leaf(0x80000007, 0)->edx & (1U << 8), "invariant TSC");

	/* KVM's supported table has no hypervisor bit: the policy sets it. */
	fill();
	e[1].ecx = 0;
	vmm_cpuid_policy(e, &n, MAX, 2000000);
	tap_ok(leaf(1, 0)->ecx & (1U << 31), "the hypervisor bit is set");

	/* 14 leaves, 6 dropped, 2 added: 10 slots are enough, 9 are not. */
	fill();
	full = n;
	tap_ok(full == 14 && vmm_cpuid_policy(e, &n, 10, 2000000) == 0 && n == 10,
	       "dropped leaves make room for 0x15 and 0x16");
	fill();
	tap_ok(vmm_cpuid_policy(e, &n, 9, 2000000) == -1,
	       "no room for leaf 0x16: an error, not a table without it");
	return tap_done();
}
