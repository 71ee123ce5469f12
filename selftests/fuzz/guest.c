// SPDX-License-Identifier: GPL-2.0
/*
 * Known-good guests for vmxlab_fuzz.  Random register state fails VM
 * entry, and random code faults (into an IDT nobody set up) long before
 * it reaches an instruction that exits: so the fuzzer mostly builds a
 * guest here -- identity page tables, a GDT, an IDT whose handlers HLT
 * and IRET, a state VM entry accepts in one of five modes -- and then
 * mutates a field or two.  Its code is a run of "gadgets": an exiting
 * instruction (CPUID, MSRs, CR and DR moves, port and string I/O, XSETBV,
 * RDPMC, MONITOR/MWAIT, INVLPG, VMX instructions, exceptions, MMIO to
 * unbacked memory, interrupt windows, spins for the time slice) preceded
 * by the MOVs that give its operands interesting values.
 *
 * Layout of the slot (offsets from GUEST_GPA), with nothing set Accessed
 * or Dirty, so that a shadow-paging VM writes those bits back:
 */
#include <string.h>

#include "guest.h"

#define OFF_PML4	0x0000
#define OFF_PDPT	0x1000
#define OFF_PD		0x2000	/* 1 GiB: 2 MiB pages, the first through OFF_PT */
#define OFF_PT		0x3000	/* 4 KiB pages of 0-2 MiB */
#define OFF_PD32	0x4000	/* 4 GiB: 4 MiB pages, the first through OFF_PT32 */
#define OFF_PT32	0x5000
#define OFF_PAE_PDPT	0x6000	/* PDPTE 0 is OFF_PD, the others not present */
#define OFF_GDT		0x7000
#define OFF_IDT64	0x8000
#define OFF_IDT32	0x9000
#define OFF_IVT		0x9800	/* real mode: IDTR.base points here */
#define OFF_TSS64	0xa000
#define OFF_TSS32	0xa100
#define OFF_HANDLERS	0xb000
#define OFF_STACK_TOP	0x10000

#define SEL_CODE64	0x08
#define SEL_DATA	0x10
#define SEL_CODE32	0x18
#define SEL_TSS64	0x20	/* 16 bytes */
#define SEL_TSS32	0x30
#define GDT_LIMIT	0x3f

/* A page whose PTEs are not present (4 KiB) and where no slot is (MMIO). */
#define HOLE_GVA	0x1ff000ULL
#define REAL_MMIO_SEG	0xd000		/* FS in real mode: unbacked */

#define PTE_P		0x1ULL
#define PTE_W		0x2ULL
#define PTE_PS		0x80ULL

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static __u64 below(__u64 n)
{
	return n ? fuzz_rnd() % n : 0;
}

static int chance(unsigned int percent)
{
	return below(100) < percent;
}

static void put64(__u8 *mem, __u64 off, __u64 v)
{
	memcpy(mem + off, &v, 8);
}

static void put32(__u8 *mem, __u64 off, __u32 v)
{
	memcpy(mem + off, &v, 4);
}

/* Identity maps for long mode and PAE (0-1 GiB) and 32-bit paging (4 GiB). */
static void build_page_tables(__u8 *mem)
{
	__u64 i;

	put64(mem, OFF_PML4, (GUEST_GPA + OFF_PDPT) | PTE_P | PTE_W);
	put64(mem, OFF_PDPT, (GUEST_GPA + OFF_PD) | PTE_P | PTE_W);
	put64(mem, OFF_PAE_PDPT, (GUEST_GPA + OFF_PD) | PTE_P);
	put64(mem, OFF_PD, (GUEST_GPA + OFF_PT) | PTE_P | PTE_W);
	for (i = 1; i < 512; i++)
		put64(mem, OFF_PD + i * 8, i << 21 | PTE_P | PTE_W | PTE_PS);
	for (i = 0; i < 512; i++)
		put64(mem, OFF_PT + i * 8, i << 12 | PTE_P | PTE_W);
	put32(mem, OFF_PD32, (GUEST_GPA + OFF_PT32) | PTE_P | PTE_W);
	for (i = 1; i < 1024; i++)
		put32(mem, OFF_PD32 + i * 4, i << 22 | PTE_P | PTE_W | PTE_PS);
	for (i = 0; i < 1024; i++)
		put32(mem, OFF_PT32 + i * 4, i << 12 | PTE_P | PTE_W);
	put64(mem, OFF_PT + (HOLE_GVA >> 12) * 8, 0);
	put32(mem, OFF_PT32 + (HOLE_GVA >> 12) * 4, 0);

	/*
	 * A few entries away from the guest's own pages made odd: read-only,
	 * user, not present, reserved bits (a guest #PF, reflected by a
	 * shadow-paging VM).
	 */
	for (i = below(4); i; i--) {
		static const __u64 bits[] = { PTE_P, PTE_W, 0x4, 1ULL << 63,
					      1ULL << 51, 0x100 };
		__u64 off = OFF_PT + (0x100 + below(0xff)) * 8, e;

		if (chance(50))
			off = OFF_PD + (2 + below(510)) * 8;
		memcpy(&e, mem + off, 8);
		put64(mem, off, e ^ bits[below(ARRAY_SIZE(bits))]);
	}
}

/* A 64-bit TSS descriptor or a 32-bit one, busy (SDM Vol. 3A, 8.2.2). */
static __u64 tss_desc(__u64 base)
{
	return 0x67 | (base & 0xffffff) << 16 | 11ULL << 40 | 1ULL << 47 |
	       (base >> 24 & 0xff) << 56;
}

/* An interrupt gate, 8 bytes of a 32-bit IDT or the first 8 of a 64-bit one. */
static __u64 gate(__u64 handler, __u16 sel)
{
	return (handler & 0xffff) | (__u64)sel << 16 | 0x8eULL << 40 |
	       (handler >> 16 & 0xffff) << 48;
}

static bool pushes_error_code(int vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 ||
	       vector == 21 || vector == 29 || vector == 30;
}

/*
 * Handlers: HLT (an exit to userspace), pop the error code, IRET.  Faults
 * come back to the faulting instruction, traps and interrupts go on; an
 * NMI handler's IRET opens the NMI window.
 */
static const struct {
	__u64 off;
	__u8 len;
	__u8 b[8];
} handlers[] = {
	{ 0x00, 3, { 0xf4, 0x48, 0xcf } },			/* hlt; iretq */
	{ 0x10, 7, { 0xf4, 0x48, 0x83, 0xc4, 0x08, 0x48, 0xcf } },
	{ 0x20, 2, { 0xf4, 0xcf } },				/* hlt; iretd */
	{ 0x30, 5, { 0xf4, 0x83, 0xc4, 0x04, 0xcf } },
	{ 0x40, 2, { 0xf4, 0xcf } },				/* real mode */
};

static void build_descriptors(__u8 *mem)
{
	__u64 h = GUEST_GPA + OFF_HANDLERS;
	unsigned int i;

	put64(mem, OFF_GDT + SEL_CODE64, 0x00af9b000000ffffULL);
	put64(mem, OFF_GDT + SEL_DATA, 0x00cf93000000ffffULL);
	put64(mem, OFF_GDT + SEL_CODE32, 0x00cf9b000000ffffULL);
	put64(mem, OFF_GDT + SEL_TSS64, tss_desc(GUEST_GPA + OFF_TSS64));
	put64(mem, OFF_GDT + SEL_TSS64 + 8, 0);
	put64(mem, OFF_GDT + SEL_TSS32, tss_desc(GUEST_GPA + OFF_TSS32));
	put32(mem, OFF_TSS64 + 0x64, 104 << 16);	/* no I/O bitmap */
	for (i = 0; i < ARRAY_SIZE(handlers); i++)
		memcpy(mem + OFF_HANDLERS + handlers[i].off, handlers[i].b,
		       handlers[i].len);
	for (i = 0; i < 256; i++) {
		bool ec = pushes_error_code(i);

		put64(mem, OFF_IDT64 + i * 16, gate(h + (ec ? 0x10 : 0x00),
						    SEL_CODE64));
		put64(mem, OFF_IDT64 + i * 16 + 8, 0);
		put64(mem, OFF_IDT32 + i * 8, gate(h + (ec ? 0x30 : 0x20),
						   SEL_CODE32));
		put32(mem, OFF_IVT + i * 4, (__u32)((h + 0x40) >> 4) << 16);
	}
}

void guest_build(__u8 *mem, enum guest_mode mode)
{
	memset(mem, 0, GUEST_SIZE);
	build_page_tables(mem);
	build_descriptors(mem);
	memset(mem + GUEST_CODE_OFF, 0xf4, GUEST_CODE_SIZE);	/* HLT */
	guest_plant(mem, mode, 0, 256 + below(2048));
}

static struct vmxlab_segment flat(__u16 sel, __u8 type, bool code64)
{
	return (struct vmxlab_segment) {
		.limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .g = 1, .l = code64, .db = !code64,
	};
}

static struct vmxlab_segment real_seg(__u16 sel, __u8 type)
{
	return (struct vmxlab_segment) {
		.base = (__u64)sel << 4, .limit = 0xffff, .selector = sel,
		.type = type, .present = 1, .s = 1,
	};
}

/* Values worth having in registers: addresses the gadgets use, or edges. */
static __u64 reg_value(enum guest_mode mode)
{
	switch (below(4)) {
	case 0:
		return mode == GUEST_REAL ? below(0x10000) :
		       GUEST_GPA + GUEST_DATA_OFF + below(0x1f000);
	case 1:
		return below(0x100);
	case 2:
		return fuzz_rnd();
	default:
		return 0;
	}
}

void guest_state(enum guest_mode mode, struct vmxlab_sregs *s,
		 struct vmxlab_regs *r)
{
	__u64 *gpr = (__u64 *)r;
	unsigned int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 16; i++)
		gpr[i] = reg_value(mode);
	r->rflags = 2 | (chance(50) ? 0x200 : 0);	/* IF */
	s->ldt = (struct vmxlab_segment) { .unusable = 1 };
	s->gdt.base = GUEST_GPA + OFF_GDT;
	s->gdt.limit = GDT_LIMIT;
	s->cr2 = 0;
	s->cr4 = 0;
	s->efer = 0;
	if (mode == GUEST_REAL) {
		s->cs = real_seg((GUEST_GPA + GUEST_CODE_OFF) >> 4, 11);
		s->ds = real_seg((GUEST_GPA + GUEST_DATA_OFF) >> 4, 3);
		s->es = s->ds;
		s->gs = s->ds;
		s->fs = real_seg(REAL_MMIO_SEG, 3);
		s->ss = real_seg(GUEST_GPA >> 4, 3);
		s->tr = (struct vmxlab_segment) {
			.limit = 0xffff, .type = 11, .present = 1,
		};
		s->idt.base = GUEST_GPA + OFF_IVT;
		s->idt.limit = 0x3ff;
		s->cr0 = 0x10 | (chance(50) ? 0x20 : 0);	/* ET, NE */
		s->cr3 = 0;
		r->rip = 0;
		r->rsp = OFF_STACK_TOP - 0x10;
		return;
	}
	s->cs = mode == GUEST_LONG ? flat(SEL_CODE64, 11, true) :
		flat(SEL_CODE32, 11, false);
	s->ds = flat(SEL_DATA, 3, false);
	s->es = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	s->ss = s->ds;
	s->tr = (struct vmxlab_segment) {
		.base = GUEST_GPA + (mode == GUEST_LONG ? OFF_TSS64 : OFF_TSS32),
		.limit = 0x67, .type = 11, .present = 1,
		.selector = mode == GUEST_LONG ? SEL_TSS64 : SEL_TSS32,
	};
	s->idt.base = GUEST_GPA + (mode == GUEST_LONG ? OFF_IDT64 : OFF_IDT32);
	s->idt.limit = mode == GUEST_LONG ? 0xfff : 0x7ff;
	s->cr0 = 0x31 | (chance(50) ? 0x10000 : 0);	/* PE, ET, NE, WP */
	s->cr3 = 0;
	switch (mode) {
	case GUEST_PAGED32:
		s->cr0 |= 0x80000000;
		s->cr3 = GUEST_GPA + OFF_PD32;
		s->cr4 = 0x10;				/* PSE */
		break;
	case GUEST_PAE:
		s->cr0 |= 0x80000000;
		s->cr3 = GUEST_GPA + OFF_PAE_PDPT;
		s->cr4 = 0x20;				/* PAE */
		break;
	case GUEST_LONG:
		s->cr0 |= 0x80000000;
		s->cr3 = GUEST_GPA + OFF_PML4;
		s->cr4 = 0x620;			/* PAE, OSFXSR, OSXMMEXCPT */
		s->efer = 0x500 | (chance(30) ? 0x800 : 0) | (chance(20) ? 1 : 0);
		break;
	default:
		break;
	}
	if (chance(30))
		s->cr4 |= 1ULL << 18;			/* OSXSAVE */
	if (chance(20) && s->cr0 >> 31)
		s->cr4 |= 0x80;				/* PGE */
	if (chance(3))
		s->idt.limit = 0;	/* any exception is a triple fault */
	r->rip = GUEST_GPA + GUEST_CODE_OFF;
	r->rsp = GUEST_GPA + OFF_STACK_TOP;
}

/* --- gadgets --------------------------------------------------------------- */

struct emitter {
	__u8 *p;
	size_t n, cap;
	int bits;		/* 16, 32 or 64 */
	enum guest_mode mode;
};

static void emit(struct emitter *e, unsigned int len, const __u8 *b)
{
	if (e->n + len > e->cap)
		return;
	memcpy(e->p + e->n, b, len);
	e->n += len;
}

#define EMIT(e, ...) do {						\
	static const __u8 b_[] = { __VA_ARGS__ };			\
	emit(e, sizeof(b_), b_);					\
} while (0)

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

/* 32-bit operands and addresses in real mode need the size prefixes. */
static void op32(struct emitter *e)
{
	if (e->bits == 16)
		EMIT(e, 0x66);
}

static void addr32(struct emitter *e)
{
	if (e->bits == 16)
		EMIT(e, 0x67);
}

/* mov reg32, imm32 (zero-extended in 64-bit mode). */
static void mov_imm(struct emitter *e, int reg, __u32 imm)
{
	__u8 b[5] = { 0xb8 + reg, imm, imm >> 8, imm >> 16, imm >> 24 };

	op32(e);
	emit(e, 5, b);
}

/* An address in guest memory, for DS in real mode, or linear. */
static __u32 data_addr(struct emitter *e)
{
	return e->bits == 16 ? below(0xff00) :
	       GUEST_GPA + GUEST_DATA_OFF + below(0x1ff00);
}

/*
 * Where no slot is: under FS in real mode, else below the 1 GiB the page
 * tables map (a page crossing now and then); the not-present page; or,
 * with paging off, anywhere.
 */
static __u32 unbacked_addr(struct emitter *e)
{
	static const __u32 base[] = { 0xd0000, 0x20000000, 0x3ffff000,
				      HOLE_GVA, 0xfee00000, 0xfffff000 };
	unsigned int n = e->mode == GUEST_PROT32 || e->mode == GUEST_PAGED32 ?
			 6 : 4;

	if (e->bits == 16)
		return below(0x10000);
	return base[below(n)] + (chance(80) ? below(0x100) * 8 : below(0x1000));
}

static __u32 some_addr(struct emitter *e)
{
	return chance(60) ? data_addr(e) : unbacked_addr(e);
}

static void gadget_cpuid(struct emitter *e)
{
	static const __u32 leaves[] = { 0, 1, 2, 4, 6, 7, 0xa, 0xb, 0xd, 0xf,
					0x14, 0x40000000, 0x40000001,
					0x80000000, 0x80000001, 0x80000007,
					0x80000008, 0x8000001f };

	mov_imm(e, EAX, chance(85) ? leaves[below(ARRAY_SIZE(leaves))] :
			(__u32)fuzz_rnd());
	mov_imm(e, ECX, below(4));
	EMIT(e, 0x0f, 0xa2);
}

static __u32 some_msr(void)
{
	static const __u32 msrs[] = {
		0x10, 0x1b, 0x3a, 0x48, 0x49, 0x8b, 0xc1, 0xe7, 0xe8, 0x174,
		0x175, 0x176, 0x179, 0x1a0, 0x1d9, 0x277, 0x2ff, 0x480, 0x6e0,
		0x802, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083,
		0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
	};

	return chance(90) ? msrs[below(ARRAY_SIZE(msrs))] : (__u32)fuzz_rnd();
}

static void gadget_msr(struct emitter *e)
{
	mov_imm(e, ECX, some_msr());
	if (chance(40)) {
		EMIT(e, 0x0f, 0x32);				/* rdmsr */
		return;
	}
	/* Write back what was read, or something else. */
	if (chance(40)) {
		EMIT(e, 0x0f, 0x32);
	} else {
		mov_imm(e, EAX, chance(50) ? below(0x1000) : fuzz_rnd());
		mov_imm(e, EDX, chance(70) ? 0 : fuzz_rnd());
	}
	EMIT(e, 0x0f, 0x30);					/* wrmsr */
}

static __u32 flip_some(__u32 v, const __u8 *bits, unsigned int n)
{
	return chance(30) ? v : v ^ 1U << bits[below(n)];
}

static void gadget_cr(struct emitter *e)
{
	static const __u8 cr0_bits[] = { 1, 2, 3, 5, 16, 18, 29, 30, 31, 0 };
	static const __u8 cr4_bits[] = { 2, 3, 4, 5, 7, 9, 10, 11, 13, 16,
					 17, 18, 20, 21, 22 };
	__u32 cr0 = 0x80010033, cr4 = 0x620;

	if (e->mode == GUEST_REAL)
		cr0 = 0x30, cr4 = 0;
	else if (e->mode == GUEST_PROT32)
		cr0 = 0x31, cr4 = 0;
	else if (e->mode == GUEST_PAGED32)
		cr4 = 0x10;
	else if (e->mode == GUEST_PAE)
		cr4 = 0x20;
	switch (below(9)) {
	case 0:
		mov_imm(e, EAX, flip_some(cr0, cr0_bits, 9 + chance(5)));
		EMIT(e, 0x0f, 0x22, 0xc0);			/* mov cr0, eax */
		break;
	case 1:
		mov_imm(e, EAX, flip_some(cr4, cr4_bits, sizeof(cr4_bits)));
		EMIT(e, 0x0f, 0x22, 0xe0);			/* mov cr4, eax */
		break;
	case 2: {
		static const __u32 cr3[] = { GUEST_GPA + OFF_PML4,
					     GUEST_GPA + OFF_PD32,
					     GUEST_GPA + OFF_PAE_PDPT,
					     GUEST_GPA + OFF_PDPT };
		__u32 v = chance(80) ? cr3[below(4)] : (__u32)fuzz_rnd();

		mov_imm(e, EAX, v | (chance(20) ? below(0x1000) : 0));
		EMIT(e, 0x0f, 0x22, 0xd8);			/* mov cr3, eax */
		break;
	}
	case 3:
		EMIT(e, 0x0f, 0x20, 0xd8);			/* mov eax, cr3 */
		break;
	case 4:
		EMIT(e, 0x0f, 0x20, 0xc0);			/* mov eax, cr0 */
		EMIT(e, 0x0f, 0x20, 0xe0);			/* mov eax, cr4 */
		break;
	case 5:
		EMIT(e, 0x0f, 0x06);				/* clts */
		break;
	case 6:
		mov_imm(e, EAX, flip_some(cr0 & 0xf, cr0_bits, 4));
		EMIT(e, 0x0f, 0x01, 0xf0);			/* lmsw ax */
		break;
	case 7:
		if (e->bits == 64) {
			mov_imm(e, EAX, below(20));
			EMIT(e, 0x44, 0x0f, 0x22, 0xc0);	/* mov cr8, rax */
			EMIT(e, 0x44, 0x0f, 0x20, 0xc0);	/* mov rax, cr8 */
		}
		break;
	default:
		EMIT(e, 0x0f, 0x20, 0xd0);			/* mov eax, cr2 */
		break;
	}
}

static void gadget_dr(struct emitter *e)
{
	static const __u8 drs[] = { 0, 1, 2, 3, 6, 7, 4, 5 };
	__u8 dr = drs[below(chance(90) ? 6 : 8)];

	if (chance(50)) {
		__u8 b[3] = { 0x0f, 0x21, 0xc0 | dr << 3 };	/* mov eax, drN */

		emit(e, 3, b);
		return;
	}
	if (dr == 7)
		mov_imm(e, EAX, chance(50) ? 0x400 | below(0x100) | 0x2000 * chance(20) :
				(__u32)fuzz_rnd());
	else if (dr >= 6)
		mov_imm(e, EAX, chance(50) ? 0xffff0ff0 : (__u32)fuzz_rnd());
	else
		mov_imm(e, EAX, some_addr(e));
	{
		__u8 b[3] = { 0x0f, 0x23, 0xc0 | dr << 3 };	/* mov drN, eax */

		emit(e, 3, b);
	}
}

static __u16 some_port(void)
{
	static const __u16 ports[] = { 0x80, 0xe9, 0x70, 0x71, 0x1000, 0x3f8,
				       0xcf8, 0xcfc, 0x20, 0x21, 0xffff };

	return chance(80) ? ports[below(ARRAY_SIZE(ports))] : below(0x10000);
}

static void gadget_io(struct emitter *e)
{
	static const __u8 dx_forms[] = { 0xec, 0xed, 0xee, 0xef };
	static const __u8 imm_forms[] = { 0xe4, 0xe5, 0xe6, 0xe7 };

	mov_imm(e, EAX, fuzz_rnd());
	if (chance(50)) {
		mov_imm(e, EDX, some_port());
		if (chance(30))
			EMIT(e, 0x66);
		emit(e, 1, &dx_forms[below(4)]);
	} else {
		__u8 b[2] = { imm_forms[below(4)], some_port() };

		emit(e, 2, b);
	}
}

/* INS/OUTS, REP or not, forwards or backwards, to memory or not. */
static void gadget_string_io(struct emitter *e)
{
	static const __u8 forms[] = { 0x6c, 0x6d, 0x6e, 0x6f };
	__u32 count = chance(70) ? 1 + below(8) : chance(50) ? 0 :
		      below(0x1000);
	bool down = chance(15);

	mov_imm(e, EDX, some_port());
	mov_imm(e, ECX, count);
	mov_imm(e, ESI, some_addr(e));
	mov_imm(e, EDI, some_addr(e));
	if (down)
		EMIT(e, 0xfd);					/* std */
	if (chance(70))
		EMIT(e, 0xf3);					/* rep */
	addr32(e);
	if (chance(30))
		EMIT(e, 0x66);
	emit(e, 1, &forms[below(4)]);
	if (down)
		EMIT(e, 0xfc);					/* cld */
}

static void gadget_xsetbv(struct emitter *e)
{
	static const __u32 xcr0[] = { 1, 3, 7, 0xe7, 0, 2, 5, 0x207, 0x1f };

	if (chance(30)) {
		mov_imm(e, EAX, (e->mode == GUEST_LONG ? 0x620 :
				 e->mode == GUEST_PAE ? 0x20 : 0) | 1U << 18);
		EMIT(e, 0x0f, 0x22, 0xe0);			/* mov cr4, eax */
	}
	mov_imm(e, ECX, chance(90) ? 0 : below(3));
	if (chance(20)) {
		EMIT(e, 0x0f, 0x01, 0xd0);			/* xgetbv */
		return;
	}
	mov_imm(e, EAX, chance(90) ? xcr0[below(ARRAY_SIZE(xcr0))] :
			(__u32)fuzz_rnd());
	mov_imm(e, EDX, chance(90) ? 0 : 1);
	EMIT(e, 0x0f, 0x01, 0xd1);				/* xsetbv */
}

static void gadget_misc(struct emitter *e)
{
	switch (below(8)) {
	case 0:
		mov_imm(e, ECX, chance(50) ? below(8) : 0x40000000 | below(4));
		EMIT(e, 0x0f, 0x33);				/* rdpmc */
		break;
	case 1:
		mov_imm(e, EAX, data_addr(e));
		mov_imm(e, ECX, 0);
		mov_imm(e, EDX, 0);
		EMIT(e, 0x0f, 0x01, 0xc8);			/* monitor */
		break;
	case 2:
		mov_imm(e, EAX, 0);
		mov_imm(e, ECX, 0);
		EMIT(e, 0x0f, 0x01, 0xc9);			/* mwait */
		break;
	case 3:
		mov_imm(e, EBX, some_addr(e));
		addr32(e);
		EMIT(e, 0x0f, 0x01, 0x3b);			/* invlpg [ebx] */
		break;
	case 4:
		EMIT(e, 0x0f, 0x09);				/* wbinvd */
		break;
	case 5:
		EMIT(e, 0x0f, 0x08);				/* invd */
		break;
	case 6:
		EMIT(e, 0x0f, 0x31);				/* rdtsc */
		EMIT(e, 0x0f, 0x01, 0xf9);			/* rdtscp */
		break;
	default:
		EMIT(e, 0xf3, 0x90);				/* pause */
		break;
	}
}

/* VMX instructions: no nested virtualisation, each is a #UD. */
static void gadget_vmx(struct emitter *e)
{
	static const struct {
		__u8 len, mem;
		__u8 b[5];
	} insns[] = {
		{ 3, 0, { 0x0f, 0x01, 0xc1 } },			/* vmcall */
		{ 3, 0, { 0x0f, 0x01, 0xc2 } },			/* vmlaunch */
		{ 3, 0, { 0x0f, 0x01, 0xc3 } },			/* vmresume */
		{ 3, 0, { 0x0f, 0x01, 0xc4 } },			/* vmxoff */
		{ 3, 0, { 0x0f, 0x01, 0xd4 } },			/* vmfunc */
		{ 3, 1, { 0x0f, 0xc7, 0x33 } },			/* vmptrld [ebx] */
		{ 3, 1, { 0x0f, 0xc7, 0x3b } },			/* vmptrst [ebx] */
		{ 4, 1, { 0x66, 0x0f, 0xc7, 0x33 } },		/* vmclear [ebx] */
		{ 4, 1, { 0xf3, 0x0f, 0xc7, 0x33 } },		/* vmxon [ebx] */
		{ 3, 0, { 0x0f, 0x78, 0xc3 } },			/* vmread ebx, eax */
		{ 3, 0, { 0x0f, 0x79, 0xc3 } },			/* vmwrite eax, ebx */
		{ 5, 1, { 0x66, 0x0f, 0x38, 0x80, 0x03 } },	/* invept eax, [ebx] */
		{ 5, 1, { 0x66, 0x0f, 0x38, 0x81, 0x03 } },	/* invvpid */
	};
	unsigned int i = below(ARRAY_SIZE(insns));

	mov_imm(e, EBX, data_addr(e));
	if (insns[i].mem)
		addr32(e);
	emit(e, insns[i].len, insns[i].b);
}

/* Exceptions: #BP, #DB (INT1, TF), #UD, #DE, a software interrupt, #GP. */
static void gadget_exception(struct emitter *e)
{
	switch (below(7)) {
	case 0:
		EMIT(e, 0xcc);					/* int3 */
		break;
	case 1:
		EMIT(e, 0xf1);					/* int1 */
		break;
	case 2:
		EMIT(e, 0x0f, 0x0b);				/* ud2 */
		break;
	case 3:
		mov_imm(e, ECX, 0);
		op32(e);
		EMIT(e, 0xf7, 0xf1);				/* div ecx */
		break;
	case 4: {
		__u8 b[2] = { 0xcd, chance(50) ? 0x80 : below(256) };

		emit(e, 2, b);					/* int n */
		break;
	}
	case 5:
		if (e->bits == 16)
			break;
		/* pushf; or dword [esp], TF; popf: a #DB after the next one */
		EMIT(e, 0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d,
		     0x90, 0x90);
		break;
	default:
		/* mov eax, ss; mov ss, eax: blocking by MOV SS */
		EMIT(e, 0x8c, 0xd0, 0x8e, 0xd0, 0x90);
		break;
	}
}

/* A load or store that becomes MMIO (or a #PF in the hole). */
static void gadget_mmio(struct emitter *e)
{
	static const struct {
		__u8 len, wide;
		__u8 b[5];
	} insns[] = {
		{ 2, 0, { 0x89, 0x03 } },		/* mov [ebx], eax */
		{ 2, 0, { 0x88, 0x03 } },		/* mov [ebx], al */
		{ 3, 0, { 0x66, 0x89, 0x03 } },		/* mov [ebx], ax */
		{ 3, 1, { 0x48, 0x89, 0x03 } },		/* mov [rbx], rax */
		{ 2, 0, { 0x8b, 0x03 } },		/* mov eax, [ebx] */
		{ 2, 0, { 0x8a, 0x03 } },		/* mov al, [ebx] */
		{ 3, 0, { 0x0f, 0xb6, 0x03 } },		/* movzx eax, byte [ebx] */
		{ 3, 0, { 0x0f, 0xb7, 0x03 } },		/* movzx eax, word [ebx] */
		{ 3, 1, { 0x48, 0x8b, 0x03 } },		/* mov rax, [rbx] */
		{ 5, 0, { 0xc7, 0x03, 0x78, 0x56, 0x34 } }, /* mov dword [ebx], imm (+1) */
		{ 3, 0, { 0xc6, 0x03, 0x5a } },		/* mov byte [ebx], imm */
		{ 2, 0, { 0x87, 0x03 } },		/* xchg [ebx], eax */
		{ 2, 0, { 0x01, 0x03 } },		/* add [ebx], eax */
		{ 3, 0, { 0x0f, 0xb1, 0x0b } },		/* cmpxchg [ebx], ecx */
		{ 1, 0, { 0xa5 } },			/* movsd */
	};
	unsigned int i = below(ARRAY_SIZE(insns));

	if (insns[i].wide && e->bits != 64)
		i = 0;
	mov_imm(e, EBX, unbacked_addr(e));
	mov_imm(e, EAX, fuzz_rnd());
	if (insns[i].b[0] == 0xa5) {
		mov_imm(e, ESI, unbacked_addr(e));
		mov_imm(e, EDI, data_addr(e));
	}
	if (e->bits == 16)
		EMIT(e, 0x64);				/* fs: */
	addr32(e);
	emit(e, insns[i].len, insns[i].b);
	if (i == 9)
		EMIT(e, 0x12);
}

/* Interrupt and NMI windows: STI's shadow, HLT with IF set, CLI. */
static void gadget_window(struct emitter *e)
{
	switch (below(4)) {
	case 0:
		EMIT(e, 0xfb, 0x90);				/* sti; nop */
		break;
	case 1:
		EMIT(e, 0xfb, 0xf4);				/* sti; hlt */
		break;
	case 2:
		EMIT(e, 0xfa);					/* cli */
		break;
	default:
		EMIT(e, 0xfb, 0x90, 0x90, 0x90, 0xfa);		/* sti; nops; cli */
		break;
	}
}

/* Loops for the time slice or a host interrupt to end: rarely, it ends the code. */
static void gadget_spin(struct emitter *e)
{
	if (chance(50))
		EMIT(e, 0xfa, 0xeb, 0xfe);			/* cli; jmp . */
	else
		EMIT(e, 0xfb, 0xeb, 0xfe);			/* sti; jmp . */
}

static void gadget_random(struct emitter *e)
{
	unsigned int k = 1 + below(6);
	__u8 b;

	while (k--) {
		b = fuzz_rnd();
		emit(e, 1, &b);
	}
}

static void gadget_hlt(struct emitter *e)
{
	EMIT(e, 0xf4);
}

/* A #DF: the stack in the hole, then an exception to deliver. */
static void gadget_double_fault(struct emitter *e)
{
	if (e->bits == 16)
		return;
	mov_imm(e, ESP, HOLE_GVA + 0x800);
	EMIT(e, 0xcc);
}

static const struct {
	void (*fn)(struct emitter *e);
	unsigned int weight;
} gadgets[] = {
	{ gadget_cpuid, 6 }, { gadget_msr, 8 }, { gadget_cr, 10 },
	{ gadget_dr, 5 }, { gadget_io, 8 }, { gadget_string_io, 8 },
	{ gadget_xsetbv, 4 }, { gadget_misc, 8 }, { gadget_vmx, 3 },
	{ gadget_exception, 4 }, { gadget_mmio, 10 }, { gadget_window, 4 },
	{ gadget_spin, 1 }, { gadget_random, 2 }, { gadget_hlt, 3 },
	{ gadget_double_fault, 1 },
};

void guest_plant(__u8 *mem, enum guest_mode mode, size_t off, size_t n)
{
	struct emitter e = {
		.p = mem + GUEST_CODE_OFF + off, .mode = mode,
		.bits = mode == GUEST_REAL ? 16 : mode == GUEST_LONG ? 64 : 32,
	};
	unsigned int total = 0, i, w;

	if (off >= GUEST_CODE_SIZE)
		return;
	e.cap = n < GUEST_CODE_SIZE - off ? n : GUEST_CODE_SIZE - off;
	for (i = 0; i < ARRAY_SIZE(gadgets); i++)
		total += gadgets[i].weight;
	/* Room for the longest gadget: what is left stays as it was. */
	while (e.n + 48 <= e.cap) {
		w = below(total);
		for (i = 0; w >= gadgets[i].weight; i++)
			w -= gadgets[i].weight;
		gadgets[i].fn(&e);
		if (chance(20))
			EMIT(&e, 0x90);
	}
}
