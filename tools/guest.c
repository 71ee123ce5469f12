// SPDX-License-Identifier: GPL-2.0
/*
 * The small guests of vmxlab's tools: page tables, descriptor tables and
 * register state, written into buffers (guest.h has the layout).
 */
#include <cpuid.h>
#include <string.h>

#include "guest.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

void guest_put_u64(unsigned char *mem, __u64 gpa, __u64 val)
{
	memcpy(mem + gpa, &val, sizeof(val));
}

/* A 64-bit interrupt gate to @handler, DPL 0 (SDM Vol. 3A, 6.14.1). */
void guest_put_gate(unsigned char *mem, unsigned int vector, __u64 handler)
{
	__u64 lo = (handler & 0xffff) | (__u64)GUEST_SEL_CODE << 16 |
		   0x8eULL << 40 | ((handler >> 16) & 0xffff) << 48;

	guest_put_u64(mem, GUEST_IDT + vector * 16, lo);
	guest_put_u64(mem, GUEST_IDT + vector * 16 + 8, handler >> 32);
}

/*
 * The identity map of the first GiB (PML4 -> PDPT -> PD of 2 MiB pages,
 * read/write, supervisor) and the GDT.  The IDT is left empty: the tool
 * puts its own gates.
 */
void guest_build_tables(unsigned char *mem)
{
	unsigned int i;

	guest_put_u64(mem, GUEST_PML4, GUEST_PDPT | 3);
	guest_put_u64(mem, GUEST_PDPT, GUEST_PD | 3);
	for (i = 0; i < 512; i++)
		guest_put_u64(mem, GUEST_PD + i * 8, ((__u64)i << 21) | 0x83);

	/* Descriptors (SDM Vol. 3A, 3.4.5): L=1 code, flat data, D=1 code. */
	guest_put_u64(mem, GUEST_GDT + GUEST_SEL_CODE, 0x00af9b000000ffffULL);
	guest_put_u64(mem, GUEST_GDT + GUEST_SEL_DATA, 0x00cf93000000ffffULL);
	guest_put_u64(mem, GUEST_GDT + GUEST_SEL_CODE32, 0x00cf9b000000ffffULL);
	/* 64-bit TSS descriptor, 16 bytes: limit 0x67, type 11 (busy). */
	guest_put_u64(mem, GUEST_GDT + GUEST_SEL_TSS,
		      0x67 | (GUEST_TSS & 0xffffff) << 16 | 0x8bULL << 40 |
		      ((GUEST_TSS >> 24) & 0xff) << 56);
	guest_put_u64(mem, GUEST_GDT + GUEST_SEL_TSS + 8, GUEST_TSS >> 32);
}

/* A present, flat (base 0, 4 GiB) code or data segment, as GDT has it. */
struct vmxlab_segment guest_flat_segment(__u16 selector, __u8 type,
					 bool code64)
{
	return (struct vmxlab_segment) {
		.limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .s = 1, .g = 1, .l = code64, .db = !code64,
	};
}

/* A real-mode segment at paragraph 0: base 0, 64 KiB. */
static struct vmxlab_segment real_segment(__u8 type)
{
	return (struct vmxlab_segment) {
		.limit = 0xffff, .type = type, .present = 1, .s = 1,
	};
}

/*
 * The state of @mode, as VM entry checks it (SDM Vol. 3C, 27.3.1.2): a
 * usable busy TSS, no LDT.  Real mode keeps CR0.PE = 0 (vmxlab runs it
 * with unrestricted guest; shadow-paging VMs refuse it).
 */
void guest_mode_sregs(struct vmxlab_sregs *s, enum guest_mode mode)
{
	bool code64 = mode == GUEST_LONG;
	struct vmxlab_segment data;

	memset(s, 0, sizeof(*s));
	s->ldt = (struct vmxlab_segment) { .unusable = 1 };
	s->tr = (struct vmxlab_segment) {
		.base = GUEST_TSS, .limit = 0x67, .selector = GUEST_SEL_TSS,
		.type = 11, .present = 1,
	};
	if (mode == GUEST_REAL) {
		s->cs = real_segment(11);
		data = real_segment(3);
		s->tr.selector = 0;
		s->idt.limit = 0x3ff;		/* the interrupt vector table */
		s->cr0 = GUEST_CR0_PE & ~1ULL;
	} else {
		s->cs = guest_flat_segment(code64 ? GUEST_SEL_CODE :
					   GUEST_SEL_CODE32, 11, code64);
		data = guest_flat_segment(GUEST_SEL_DATA, 3, false);
		s->gdt.base = GUEST_GDT;
		s->gdt.limit = GUEST_SEL_CODE32 + 7;
		s->cr0 = GUEST_CR0_PE;
	}
	s->ds = data;
	s->es = data;
	s->fs = data;
	s->gs = data;
	s->ss = data;
	if (mode == GUEST_LONG) {
		s->idt.base = GUEST_IDT;
		s->idt.limit = 256 * 16 - 1;
		s->cr0 = GUEST_CR0_LONG_MODE;
		s->cr3 = GUEST_PML4;
		s->cr4 = GUEST_CR4_PAE;
		s->efer = GUEST_EFER_LONG_MODE;
	}
}

static const char *const mode_names[] = {
	[GUEST_REAL] = "real", [GUEST_PROT32] = "prot32", [GUEST_LONG] = "long",
};

int guest_mode_parse(const char *name, enum guest_mode *mode)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mode_names); i++) {
		if (!strcmp(name, mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -1;
}

const char *guest_mode_name(enum guest_mode mode)
{
	return mode_names[mode];
}

/*
 * The leaves a 64-bit guest needs, from the CPU this runs on, with VMX
 * and OSXSAVE hidden and the hypervisor bit set.  Leaf 0 comes first, so
 * a timed CPUID(0) is the shortest lookup on every backend.  Returns the
 * number of leaves, at most GUEST_CPUID_LEAVES.
 */
int guest_cpuid(struct guest_cpuid_leaf *l)
{
	static const __u32 functions[GUEST_CPUID_LEAVES] = {
		0, 1, 0x80000000, 0x80000001, 0x80000008,
	};
	unsigned int i;

	for (i = 0; i < GUEST_CPUID_LEAVES; i++) {
		l[i].function = functions[i];
		__cpuid_count(functions[i], 0, l[i].eax, l[i].ebx, l[i].ecx,
			      l[i].edx);
	}
	l[0].eax = 1;				/* highest basic leaf */
	l[1].ebx &= 0x0000ffff;			/* APIC id 0, 1 logical CPU */
	l[1].ecx &= ~(1U << 5 | 1U << 27);	/* VMX, OSXSAVE */
	l[1].ecx |= 1U << 31;			/* hypervisor */
	l[2].eax = 0x80000008;
	return i;
}
