// SPDX-License-Identifier: GPL-2.0
/*
 * The demos' host side: the guest image of demos.S at GUEST_CODE, the
 * tables of tools/guest.c, an IDT whose gates go to the image's handlers.
 */
#include <string.h>

#include "guest.h"
#include "trace/demos.h"

extern const unsigned char trace_guest_start[], trace_guest_end[],
	trace_guest_warm[], trace_guest_fault[], trace_guest_irq[],
	trace_guest_pf[], trace_demo_cpuid[], trace_demo_pio[],
	trace_demo_mmio[], trace_demo_hlt[], trace_demo_ept[],
	trace_demo_irq_window[], trace_demo_host_irq[],
	trace_demo_pf_resolved[], trace_demo_pf_reflected[],
	trace_demo_step[];

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DEMO_IRQ_VECTOR		0x30	/* demos.S's irq-window */

const struct demo demos[] = {
	{ .name = "cpuid",
	  .what = "CPUID twice: vmxlab emulates it, the guest never leaves",
	  .entry = trace_demo_cpuid },
	{ .name = "pio",
	  .what = "OUT and IN: port I/O goes to the VMM (this tool)",
	  .entry = trace_demo_pio },
	{ .name = "mmio",
	  .what = "a store and a load where no memory slot is: MMIO",
	  .entry = trace_demo_mmio },
	{ .name = "hlt",
	  .what = "HLT: the guest has nothing to do, the VMM decides",
	  .entry = trace_demo_hlt },
	{ .name = "ept",
	  .what = "first touch of two pages of slot 1: EPT maps them",
	  .entry = trace_demo_ept },
	{ .name = "irq-window",
	  .what = "an interrupt queued at IF = 0 waits for STI's window",
	  .entry = trace_demo_irq_window },
	{ .name = "host-irq",
	  .what = "IF = 1 and a long loop: the host's interrupts exit",
	  .entry = trace_demo_host_irq },
	{ .name = "pf-resolved",
	  .what = "shadow paging: the guest's tables allow, vmxlab fills in",
	  .entry = trace_demo_pf_resolved, .shadow = true },
	{ .name = "pf-reflected",
	  .what = "shadow paging: the guest's tables say no, its #PF",
	  .entry = trace_demo_pf_reflected, .shadow = true },
	{ .name = "step",
	  .what = "single-stepping with the monitor trap flag",
	  .entry = trace_demo_step, .step = true },
};

const unsigned int nr_demos = ARRAY_SIZE(demos);

const struct demo *demo_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < nr_demos; i++)
		if (!strcmp(demos[i].name, name))
			return &demos[i];
	return NULL;
}

/* Where @label of demos.S is in the guest. */
__u64 demo_gpa(const unsigned char *label)
{
	return GUEST_CODE + (label - trace_guest_start);
}

__u64 demo_warm_entry(void)
{
	return demo_gpa(trace_guest_warm);
}

/* The end of the image, a page boundary: what the warm-up reads up to. */
__u64 demo_warm_end(void)
{
	return (demo_gpa(trace_guest_end) + 0xfff) & ~0xfffULL;
}

void demo_build(unsigned char *mem)
{
	unsigned int i;

	memcpy(mem + GUEST_CODE, trace_guest_start,
	       trace_guest_end - trace_guest_start);
	guest_build_tables(mem);
	for (i = 0; i < 256; i++)
		guest_put_gate(mem, i, demo_gpa(trace_guest_fault));
	guest_put_gate(mem, 14, demo_gpa(trace_guest_pf));
	guest_put_gate(mem, DEMO_IRQ_VECTOR, demo_gpa(trace_guest_irq));
}
