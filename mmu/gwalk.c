// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page-table walk (SDM Vol. 3A, chapter 4), read-only.  On the exit
 * path it turns the guest's RIP into the bytes of the instruction that
 * touched MMIO; shadow paging (shadow.c) walks with it to build entries.
 *
 * Pure logic: guest memory is reached only through the caller's read
 * callback, so this file builds into vmxlab.ko and into the unit tests.
 *
 * The walk never writes: the CPU would set the accessed flag of every entry
 * it uses and the dirty flag of the leaf on a write (SDM 4.8).  The result
 * lists every entry walked, so that shadow paging can set them before it
 * lets the guest use a translation: guests age and write back pages by them.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/bits.h>

#include "gwalk.h"

/* Paging-control bits (SDM Vol. 3A, 2.5 for CR0/CR4, 2.2.1 for EFER). */
#define CR0_WP		BIT_ULL(16)
#define CR0_PG		BIT_ULL(31)
#define CR4_PSE		BIT_ULL(4)
#define CR4_PAE		BIT_ULL(5)
#define CR4_LA57	BIT_ULL(12)
#define CR4_SMEP	BIT_ULL(20)
#define CR4_SMAP	BIT_ULL(21)
#define EFER_LMA	BIT_ULL(10)
#define EFER_NXE	BIT_ULL(11)

/* Entry bits shared by every format (SDM 4.3, 4.4.2, 4.5). */
#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_PS		BIT_ULL(7)
#define PTE_XD		BIT_ULL(63)

#define PAGE_4K		BIT_ULL(12)
#define PERM_ALL	(GWALK_PERM_WRITE | GWALK_PERM_USER | GWALK_PERM_EXEC)

/* One walk in progress. */
struct walk {
	const struct gwalk_regs *r;
	enum gwalk_mode mode;
	unsigned int access;
	gwalk_read_phys_t read;
	void *ctx;
	struct gwalk_result *res;
};

/**
 * gwalk_paging_mode() - which paging mode the guest is in
 * @r: the guest's paging-control registers
 *
 * SDM Vol. 3A, 4.1.1 and Table 4-1.  IA32_EFER.LMA, not LME, selects
 * 4-level paging: the CPU sets LMA only once CR0.PG is set with LME.
 *
 * Return: the mode; GWALK_MODE_LONG5 means 5-level paging, which
 * gwalk_translate() refuses.
 */
enum gwalk_mode gwalk_paging_mode(const struct gwalk_regs *r)
{
	if (!(r->cr0 & CR0_PG))
		return GWALK_MODE_NONE;
	if (r->efer & EFER_LMA)
		return (r->cr4 & CR4_LA57) ? GWALK_MODE_LONG5 : GWALK_MODE_LONG4;
	if (r->cr4 & CR4_PAE)
		return GWALK_MODE_PAE;
	return GWALK_MODE_32BIT;
}

/*
 * Bits hi..lo, or none when lo > hi (as for 51:MAXPHYADDR when MAXPHYADDR
 * is 52).  GENMASK_ULL() would do for constant ranges, but the unit-test
 * shim of <linux/bits.h> stops at BIT_ULL().
 */
static u64 bit_range(unsigned int hi, unsigned int lo)
{
	if (lo > hi)
		return 0;
	return (~0ULL >> (63 - hi)) & (~0ULL << lo);
}

/*
 * 32-bit paging: 4-byte entries, 10 index bits a level, two levels.  PAE:
 * 8-byte entries, 9 index bits, three levels (the third indexed by two
 * bits, which a 32-bit address gives anyway).  4-level: 9 bits, four.
 */
static unsigned int index_bits(const struct walk *w)
{
	return w->mode == GWALK_MODE_32BIT ? 10 : 9;
}

static unsigned int top_level(const struct walk *w)
{
	switch (w->mode) {
	case GWALK_MODE_32BIT:
		return 2;
	case GWALK_MODE_PAE:
		return 3;
	default:
		return 4;
	}
}

/* The lowest linear-address bit that indexes @level: also its page size. */
static unsigned int level_shift(const struct walk *w, unsigned int level)
{
	return 12 + index_bits(w) * (level - 1);
}

/* Physical-address bits an entry or CR3 may hold: MAXPHYADDR-1..12. */
static u64 phys_mask(const struct walk *w, unsigned int lo)
{
	return bit_range(w->r->maxphyaddr - 1, lo);
}

/* Where the first table lives (SDM 4.3, 4.4.1, 4.5: CR3 formats). */
static u64 root_table(const struct walk *w)
{
	switch (w->mode) {
	case GWALK_MODE_32BIT:
		return w->r->cr3 & bit_range(31, 12);
	case GWALK_MODE_PAE:
		return w->r->cr3 & bit_range(31, 5);
	default:
		return w->r->cr3 & phys_mask(w, 12);
	}
}

/*
 * Entries are little-endian in guest memory, as they are on this host.
 * Each one read is recorded in the result, with its address.
 */
static int read_entry(struct walk *w, u64 table, unsigned int level, u64 *e)
{
	u64 idx = (w->res->gva >> level_shift(w, level)) &
		  (BIT_ULL(index_bits(w)) - 1);
	u64 gpa = table + idx * w->res->entry_size;
	u32 e32;
	int ret;

	if (w->mode == GWALK_MODE_PAE && level == 3 && w->r->pdptes) {
		*e = w->r->pdptes[idx];
		gpa = GWALK_NO_GPA;
	} else if (w->mode != GWALK_MODE_32BIT) {
		ret = w->read(w->ctx, gpa, e, 8);
		if (ret)
			return ret;
	} else {
		ret = w->read(w->ctx, gpa, &e32, 4);
		if (ret)
			return ret;
		*e = e32;
	}
	w->res->walked[level].gpa = gpa;
	w->res->walked[level].val = *e;
	return 0;
}

/*
 * 32-bit paging reserves bits only in a PDE that maps a 4 MiB page: bit
 * 21, and those PSE-36 address bits 20:13 that would reach at or above
 * MAXPHYADDR, itself capped at 40 (SDM 4.3, Table 4-4).
 */
static u64 rsvd_32bit(const struct walk *w, unsigned int level, u64 e)
{
	unsigned int m = w->r->maxphyaddr < 40 ? w->r->maxphyaddr : 40;

	if (level == 2 && (e & PTE_PS) && (w->r->cr4 & CR4_PSE))
		return bit_range(21, m - 19);
	return 0;
}

/*
 * PAE (SDM 4.4.1 Table 4-8, 4.4.2 Tables 4-9 to 4-11): bits 62:MAXPHYADDR,
 * and XD unless IA32_EFER.NXE.  A PDPTE has no XD, R/W, U/S or PS at all.
 */
static u64 rsvd_pae(const struct walk *w, unsigned int level, u64 e)
{
	u64 high = bit_range(62, w->r->maxphyaddr);

	if (!(w->r->efer & EFER_NXE))
		high |= PTE_XD;
	if (level == 3)
		return bit_range(63, w->r->maxphyaddr) | bit_range(8, 5) |
		       bit_range(2, 1);
	if (level == 2 && (e & PTE_PS))
		return high | bit_range(20, 13);
	return high;
}

/*
 * 4-level (SDM 4.5, Tables 4-15 to 4-20): bits 51:MAXPHYADDR, XD unless
 * NXE, PS in a PML4E, PS in a PDPTE without 1 GiB pages, and the low
 * address bits of a large page above its PAT bit.
 */
static u64 rsvd_long4(const struct walk *w, unsigned int level, u64 e)
{
	u64 high = bit_range(51, w->r->maxphyaddr);

	if (!(w->r->efer & EFER_NXE))
		high |= PTE_XD;
	if (level == 4)
		return high | PTE_PS;
	if (level == 3 && (e & PTE_PS)) {
		if (!(w->r->features & GWALK_FEAT_1G_PAGES))
			return high | PTE_PS;
		return high | bit_range(29, 13);
	}
	if (level == 2 && (e & PTE_PS))
		return high | bit_range(20, 13);
	return high;
}

static u64 rsvd_mask(const struct walk *w, unsigned int level, u64 e)
{
	switch (w->mode) {
	case GWALK_MODE_32BIT:
		return rsvd_32bit(w, level, e);
	case GWALK_MODE_PAE:
		return rsvd_pae(w, level, e);
	default:
		return rsvd_long4(w, level, e);
	}
}

/*
 * Does a present entry with no reserved bits map a page?  PS counts in a
 * 32-bit PDE only with CR4.PSE; PAE and 4-level ignore CR4.PSE.  PS in a
 * PAE PDPTE or a PML4E was already refused as reserved.
 */
static bool is_leaf(const struct walk *w, unsigned int level, u64 e)
{
	if (level == 1)
		return true;
	if (!(e & PTE_PS))
		return false;
	if (w->mode == GWALK_MODE_32BIT)
		return w->r->cr4 & CR4_PSE;
	return level <= 3;
}

/* The page's base address; a 4 MiB PDE keeps bits 39:32 in 20:13. */
static u64 leaf_frame(const struct walk *w, unsigned int level, u64 e)
{
	if (w->mode == GWALK_MODE_32BIT && level == 2)
		return (e & bit_range(31, 22)) |
		       ((e & bit_range(20, 13)) << (32 - 13));
	return e & phys_mask(w, level_shift(w, level));
}

/* What one entry allows; a PAE PDPTE has no rights to give (SDM 4.4.1). */
static unsigned int entry_perm(const struct walk *w, unsigned int level,
			       u64 e)
{
	unsigned int perm = PERM_ALL;

	if (w->mode == GWALK_MODE_PAE && level == 3)
		return perm;
	if (!(e & PTE_RW))
		perm &= ~GWALK_PERM_WRITE;
	if (!(e & PTE_US))
		perm &= ~GWALK_PERM_USER;
	/* 32-bit entries have no bit 63: no execute-disable there. */
	if ((w->r->efer & EFER_NXE) && (e & PTE_XD))
		perm &= ~GWALK_PERM_EXEC;
	return perm;
}

/* SDM 4.6.1, user-mode accesses: only to user pages; CR0.WP is moot. */
static bool user_access_ok(unsigned int access, unsigned int perm)
{
	if (!(perm & GWALK_PERM_USER))
		return false;
	if (access & GWALK_ACC_WRITE)
		return perm & GWALK_PERM_WRITE;
	if (access & GWALK_ACC_FETCH)
		return perm & GWALK_PERM_EXEC;
	return true;
}

/*
 * SDM 4.6.1, supervisor-mode accesses: SMEP forbids fetching from user
 * pages; SMAP forbids data accesses to them unless the access is explicit
 * and RFLAGS.AC is set; read-only pages stop writes only with CR0.WP.
 */
static bool supervisor_access_ok(const struct walk *w, unsigned int perm)
{
	bool user_page = perm & GWALK_PERM_USER;

	if (w->access & GWALK_ACC_FETCH)
		return (perm & GWALK_PERM_EXEC) &&
		       !(user_page && (w->r->cr4 & CR4_SMEP));
	if (user_page && (w->r->cr4 & CR4_SMAP) &&
	    !(w->access & GWALK_ACC_AC))
		return false;
	if (w->access & GWALK_ACC_WRITE)
		return (perm & GWALK_PERM_WRITE) || !(w->r->cr0 & CR0_WP);
	return true;
}

static bool rights_allow(const struct walk *w, unsigned int perm)
{
	if (w->access & GWALK_ACC_USER)
		return user_access_ok(w->access, perm);
	return supervisor_access_ok(w, perm);
}

/*
 * Fill in the #PF the guest would take (SDM 4.7).  W/R and U/S describe
 * the access, not the page; I/D is set only where execute-disable can
 * apply at all: with SMEP, or with NXE and PAE-format entries.
 */
static void page_fault(struct walk *w, unsigned int level, u64 e, u32 code)
{
	struct gwalk_result *res = w->res;

	if (w->access & GWALK_ACC_WRITE)
		code |= GWALK_PF_WRITE;
	if (w->access & GWALK_ACC_USER)
		code |= GWALK_PF_USER;
	if ((w->access & GWALK_ACC_FETCH) &&
	    ((w->r->cr4 & CR4_SMEP) ||
	     (w->mode != GWALK_MODE_32BIT && (w->r->efer & EFER_NXE))))
		code |= GWALK_PF_FETCH;
	res->fault = GWALK_FAULT_PF;
	res->error_code = code;
	res->level = level;
	res->entry = e;
}

/*
 * Walk from CR3 down to the leaf (SDM 4.3, 4.4.2, 4.5).  A not-present
 * entry ends the walk with P = 0 in the error code; a present one with a
 * reserved bit set ends it with P = 1 and RSVD = 1, before any rights are
 * looked at.  Rights are checked once, on the combination of all levels.
 */
static int walk_tables(struct walk *w)
{
	struct gwalk_result *res = w->res;
	unsigned int level = top_level(w);
	unsigned int perm = PERM_ALL;
	u64 table = root_table(w);
	u64 e;
	int ret;

	for (;; level--) {
		ret = read_entry(w, table, level, &e);
		if (ret)
			return ret;
		if (!(e & PTE_P)) {
			page_fault(w, level, e, 0);
			return 0;
		}
		if (e & rsvd_mask(w, level, e)) {
			page_fault(w, level, e, GWALK_PF_PRESENT | GWALK_PF_RSVD);
			return 0;
		}
		perm &= entry_perm(w, level, e);
		if (is_leaf(w, level, e))	/* always true at level 1 */
			break;
		table = e & phys_mask(w, 12);
	}
	res->perm = perm;
	if (!rights_allow(w, perm)) {
		page_fault(w, level, e, GWALK_PF_PRESENT);
		return 0;
	}
	res->entry = e;
	res->level = level;
	res->page_size = BIT_ULL(level_shift(w, level));
	res->gpa = leaf_frame(w, level, e) | (res->gva & (res->page_size - 1));
	return 0;
}

/* Bits 63:47 all equal: 48-bit canonical form (SDM Vol. 1, 3.3.7.1). */
static bool is_canonical(u64 gva)
{
	u64 top = gva >> 47;

	return top == 0 || top == bit_range(16, 0);
}

/* T:170 Walking the guest's page tables
 * RIP is a linear address in the guest; the bytes are at a guest-physical
 * address only the guest's page tables know.  This walker translates it
 * as the CPU would on a TLB miss, in 32-bit, PAE and 4-level paging (SDM
 * Vol. 3A, chapter 4), checking the access rights (4.6) as well, because an
 * instruction fetch the guest itself could not make must not be emulated.
 * A fault is a result the caller may reflect into the guest, not an error.
 * The walker reads memory through a callback, so the userspace unit tests
 * run it on tables they build themselves.
 */
/**
 * gwalk_translate() - translate a guest linear address as the CPU would
 * @r:      the guest's paging-control registers
 * @gva:    the linear address (segmentation already applied)
 * @access: GWALK_ACC_* flags describing the access
 * @read:   reads guest-physical memory: the paging structures
 * @ctx:    passed to @read
 * @res:    out: the translation, or the fault the guest would take
 *
 * Checks what the CPU checks on a TLB miss (SDM 4.6, 4.7), except
 * protection keys (CR4.PKE/PKS), shadow stacks (CET) and HLAT, which this
 * walker does not model.  A 4 MiB page always takes address bits 39:32
 * from PDE bits 20:13 (PSE-36), up to MAXPHYADDR capped at 40.  Sets no
 * accessed or dirty flags.  PAE PDPTEs come from @r->pdptes, the registers
 * the CPU loaded at the last write to CR3 (where it raised #GP for
 * reserved bits); without them they are read from memory, and a reserved
 * bit gives a #PF with RSVD instead.
 *
 * A guest fault is a result, not an error: it is reported in @res->fault.
 *
 * Return: 0 when @res is filled in; -EINVAL for WRITE with FETCH or a
 * MAXPHYADDR outside 32..52; -EOPNOTSUPP for 5-level paging; or what
 * @read returned for a paging structure.
 */
int gwalk_translate(const struct gwalk_regs *r, u64 gva, unsigned int access,
		    gwalk_read_phys_t read, void *ctx,
		    struct gwalk_result *res)
{
	struct walk w = {
		.r = r, .mode = gwalk_paging_mode(r), .access = access,
		.read = read, .ctx = ctx, .res = res,
	};

	*res = (struct gwalk_result){
		.gva = gva, .entry_size = w.mode == GWALK_MODE_32BIT ? 4 : 8,
	};
	if ((access & GWALK_ACC_WRITE) && (access & GWALK_ACC_FETCH))
		return -EINVAL;
	if (r->maxphyaddr < 32 || r->maxphyaddr > 52)
		return -EINVAL;

	switch (w.mode) {
	case GWALK_MODE_LONG5:
		return -EOPNOTSUPP;
	case GWALK_MODE_LONG4:
		if (is_canonical(gva))
			return walk_tables(&w);
		res->fault = GWALK_FAULT_GP;
		return 0;
	default:
		break;
	}
	/* Outside long mode linear addresses are 32 bits wide and wrap. */
	res->gva = (u32)gva;
	if (w.mode != GWALK_MODE_NONE)
		return walk_tables(&w);
	res->gpa = res->gva;
	res->page_size = PAGE_4K;
	res->perm = PERM_ALL;
	return 0;
}

/**
 * gwalk_read_virt() - copy bytes from guest linear addresses
 * @r:      the guest's paging-control registers
 * @gva:    the first linear address to read
 * @access: GWALK_ACC_* flags; GWALK_ACC_FETCH for instruction bytes
 * @read:   reads guest-physical memory: paging structures and data
 * @ctx:    passed to @read
 * @buf:    where the bytes go
 * @len:    how many, at most INT_MAX
 * @res:    out: the last translation; on a short copy, the guest fault
 *	    that stopped it, with @res->gva the first byte not copied
 *
 * Translates once per 4 KiB page touched, so an instruction that straddles
 * two pages (up to 15 bytes, SDM Vol. 2A, chapter 2) is fetched as the CPU
 * would, each page with its own rights.  Outside long mode the address
 * wraps at 4 GiB; in long mode crossing into non-canonical space is #GP.
 *
 * Return: the number of bytes copied, @len unless a guest fault in @res
 * stopped the copy; -EINVAL for GWALK_ACC_WRITE; or a negative errno
 * from gwalk_translate() or @read.
 */
int gwalk_read_virt(const struct gwalk_regs *r, u64 gva, unsigned int access,
		    gwalk_read_phys_t read, void *ctx, void *buf,
		    unsigned int len, struct gwalk_result *res)
{
	unsigned int done = 0, chunk;
	int ret;

	*res = (struct gwalk_result){ .gva = gva };
	if ((access & GWALK_ACC_WRITE) || (int)len < 0)
		return -EINVAL;
	while (done < len) {
		ret = gwalk_translate(r, gva + done, access, read, ctx, res);
		if (ret)
			return ret;
		if (res->fault)
			break;
		chunk = PAGE_4K - (res->gpa & (PAGE_4K - 1));
		if (chunk > len - done)
			chunk = len - done;
		ret = read(ctx, res->gpa, (u8 *)buf + done, chunk);
		if (ret)
			return ret;
		done += chunk;
	}
	return done;
}
