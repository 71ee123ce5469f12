/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The demos of `vmxlab-trace demo`: their guest code is in demos.S, and
 * this is what the host must know about each: where it starts, the kind
 * of VM, whether it is single-stepped.  Pure: it fills guest memory.
 */
#ifndef VMXLAB_TRACE_DEMOS_H
#define VMXLAB_TRACE_DEMOS_H

#include <stdbool.h>
#include <linux/types.h>

#define DEMO_RAM_SIZE		0x200000ULL	/* slot 0: tables, code, stack */
#define DEMO_SLOT1_GPA		0x400000ULL	/* slot 1: the ept demo's pages */
#define DEMO_SLOT1_SIZE		0x10000ULL
#define DEMO_STACK_PAGE		0xf000ULL

/* The guest's ports (demos.S, and any guest of `vmxlab-trace run`). */
#define PORT_CONSOLE		0xe9	/* OUT: the byte goes to stdout */
#define PORT_QUEUE_IRQ		0xe0	/* OUT: queue the interrupt AL */

struct demo {
	const char *name;
	const char *what;		/* one line, before it runs */
	const unsigned char *entry;	/* its label in demos.S */
	bool shadow;			/* a VMXLAB_VM_SHADOW VM */
	bool step;			/* single-stepped */
};

extern const struct demo demos[];
extern const unsigned int nr_demos;

const struct demo *demo_find(const char *name);
void demo_build(unsigned char *mem);
__u64 demo_gpa(const unsigned char *label);

/* The warm-up routine's entry and its RDI, RSI, RDX (demos.S). */
__u64 demo_warm_entry(void);
__u64 demo_warm_end(void);

#endif
