/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest page-table walker: guest-virtual to guest-physical, read-only.
 * The exit path uses it to fetch the bytes of an instruction that touched
 * MMIO, and shadow paging (mmu/shadow.c) to build its entries.
 */
#ifndef VMXLAB_GWALK_H
#define VMXLAB_GWALK_H

#include <linux/types.h>
#include <linux/bits.h>

/**
 * struct gwalk_regs - the guest state that decides how paging works
 * @cr0:	 guest CR0 (PG, WP)
 * @cr3:	 guest CR3 (root of the paging structures)
 * @cr4:	 guest CR4 (PSE, PAE, LA57, SMEP, SMAP)
 * @efer:	 guest IA32_EFER (LMA, NXE)
 * @maxphyaddr:	 the guest's MAXPHYADDR, CPUID.80000008H:EAX[7:0], 32..52;
 *		 entry bits at and above it are reserved (SDM Vol. 3A, 4.1.4)
 * @features:	 GWALK_FEAT_* CPUID bits the guest is shown
 * @pdptes:	 PAE paging only: the four PDPTE registers the CPU loaded at
 *		 the last MOV to CR3 (SDM 4.4.1); NULL reads them from memory
 */
struct gwalk_regs {
	u64 cr0, cr3, cr4, efer;
	unsigned int maxphyaddr;
	unsigned int features;
	const u64 *pdptes;
};

/* CPUID.80000001H:EDX.Page1GB[26]: without it PDPTE.PS is reserved. */
#define GWALK_FEAT_1G_PAGES	BIT(0)

/**
 * enum gwalk_mode - the paging modes of SDM Vol. 3A, 4.1.1 (Table 4-1)
 * @GWALK_MODE_NONE:	CR0.PG = 0: linear address = physical address
 * @GWALK_MODE_32BIT:	CR0.PG = 1, CR4.PAE = 0 (SDM 4.3)
 * @GWALK_MODE_PAE:	CR4.PAE = 1, IA32_EFER.LMA = 0 (SDM 4.4)
 * @GWALK_MODE_LONG4:	IA32_EFER.LMA = 1, CR4.LA57 = 0 (SDM 4.5)
 * @GWALK_MODE_LONG5:	IA32_EFER.LMA = 1, CR4.LA57 = 1: not walked
 */
enum gwalk_mode {
	GWALK_MODE_NONE,
	GWALK_MODE_32BIT,
	GWALK_MODE_PAE,
	GWALK_MODE_LONG4,
	GWALK_MODE_LONG5,
};

/* Access flags for gwalk_translate(): what the guest was doing. */
#define GWALK_ACC_WRITE	BIT(0)	/* data write (else a read or a fetch) */
#define GWALK_ACC_USER	BIT(1)	/* user-mode access: CPL 3, not implicit */
#define GWALK_ACC_FETCH	BIT(2)	/* instruction fetch */
/*
 * Explicit supervisor data access with RFLAGS.AC = 1, which SMAP lets
 * through (SDM 4.6.1); leave it clear for implicit accesses (descriptor
 * tables, TSS), which SMAP always checks.
 */
#define GWALK_ACC_AC	BIT(3)

/* Effective rights of a translation, combined over all levels (SDM 4.6). */
#define GWALK_PERM_WRITE	BIT(0)
#define GWALK_PERM_USER		BIT(1)
#define GWALK_PERM_EXEC		BIT(2)

/* #PF error code bits (SDM Vol. 3A, 4.7). */
#define GWALK_PF_PRESENT	BIT(0)	/* 0: not present; 1: protection */
#define GWALK_PF_WRITE		BIT(1)
#define GWALK_PF_USER		BIT(2)
#define GWALK_PF_RSVD		BIT(3)
#define GWALK_PF_FETCH		BIT(4)

/**
 * enum gwalk_fault - the exception the guest would take, if any
 * @GWALK_FAULT_NONE:	translated
 * @GWALK_FAULT_PF:	#PF, with error code and level in the result
 * @GWALK_FAULT_GP:	#GP(0): non-canonical address in 64-bit mode (SDM
 *			Vol. 1, 3.3.7.1); a stack access would take #SS(0)
 *			instead, which only the caller can tell
 */
enum gwalk_fault {
	GWALK_FAULT_NONE,
	GWALK_FAULT_PF,
	GWALK_FAULT_GP,
};

/* Deepest tree walked (4-level paging) and "this entry is not in memory". */
#define GWALK_MAX_LEVEL	4
#define GWALK_NO_GPA	(~0ULL)

/**
 * struct gwalk_result - what one walk found
 * @gva:	the linear address walked, truncated to 32 bits outside long
 *		mode; on a #PF, the value for CR2
 * @gpa:	the guest-physical address of @gva (only if not @fault)
 * @page_size:	bytes mapped by the leaf entry: 4K, 2M, 4M or 1G; 4K when
 *		paging is off (only if not @fault)
 * @entry:	the leaf entry, or the entry the walk stopped at on a #PF
 * @fault:	GWALK_FAULT_NONE, or the exception the guest would take
 * @perm:	GWALK_PERM_* combined over every level, also set on a
 *		protection #PF; all three when paging is off
 * @level:	level of @entry: 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E;
 *		on a #PF, the not-present or reserved-bit entry, or the leaf
 *		when the rights forbid the access; 0 when paging is off or
 *		for a #GP
 * @error_code:	on a #PF: GWALK_PF_* bits, as the CPU would push them
 * @walked:	each entry the walk read, by level (1..4, as @level), from
 *		the top level down to @level: where it is in guest-physical
 *		memory and its value, for whoever sets accessed and dirty
 *		flags.  A PAE PDPTE taken from @pdptes has @gpa GWALK_NO_GPA.
 * @entry_size:	bytes per entry: 4 for 32-bit paging, else 8
 */
struct gwalk_result {
	u64 gva;
	u64 gpa;
	u64 page_size;
	u64 entry;
	enum gwalk_fault fault;
	unsigned int perm;
	unsigned int level;
	u32 error_code;
	struct {
		u64 gpa;
		u64 val;
	} walked[GWALK_MAX_LEVEL + 1];
	unsigned int entry_size;
};

/**
 * typedef gwalk_read_phys_t - read guest-physical memory for the walker
 * @ctx: the caller's context, passed through untouched
 * @gpa: guest-physical address to read from
 * @buf: where to put the bytes
 * @len: how many; never crosses a 4 KiB boundary of @gpa
 *
 * Return: 0, or -errno (e.g. -EFAULT when @gpa is not backed).
 */
typedef int (*gwalk_read_phys_t)(void *ctx, u64 gpa, void *buf,
				 unsigned int len);

enum gwalk_mode gwalk_paging_mode(const struct gwalk_regs *r);
int gwalk_translate(const struct gwalk_regs *r, u64 gva, unsigned int access,
		    gwalk_read_phys_t read, void *ctx,
		    struct gwalk_result *res);
int gwalk_read_virt(const struct gwalk_regs *r, u64 gva, unsigned int access,
		    gwalk_read_phys_t read, void *ctx, void *buf,
		    unsigned int len, struct gwalk_result *res);

#endif /* VMXLAB_GWALK_H */
