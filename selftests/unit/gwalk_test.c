// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of mmu/gwalk.c, linked into a userspace binary: page tables
 * are written by hand into a fake guest-physical memory, and every expected
 * address and #PF error code is worked out here from the SDM (Vol. 3A,
 * chapter 4), never by asking the walker.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kernel_shim.h"
#include "../../mmu/gwalk.h"
#include "kselftest_harness.h"

/* Control-register bits (SDM Vol. 3A, 2.5; EFER: 2.2.1). */
#define CR0_PE		BIT_ULL(0)
#define CR0_WP		BIT_ULL(16)
#define CR0_PG		BIT_ULL(31)
#define CR4_PSE		BIT_ULL(4)
#define CR4_PAE		BIT_ULL(5)
#define CR4_LA57	BIT_ULL(12)
#define CR4_SMEP	BIT_ULL(20)
#define CR4_SMAP	BIT_ULL(21)
#define EFER_LME	BIT_ULL(8)
#define EFER_LMA	BIT_ULL(10)
#define EFER_NXE	BIT_ULL(11)

/* Paging-structure entry bits (SDM 4.3, 4.4.2, 4.5). */
#define P		BIT_ULL(0)
#define RW		BIT_ULL(1)
#define US		BIT_ULL(2)
#define PWT		BIT_ULL(3)
#define PCD		BIT_ULL(4)
#define PS		BIT_ULL(7)
#define PAT_LARGE	BIT_ULL(12)
#define XD		BIT_ULL(63)

/* #PF error code (SDM 4.7): P, W/R, U/S, RSVD, I/D. */
#define EC_P		0x01U
#define EC_W		0x02U
#define EC_U		0x04U
#define EC_RSVD		0x08U
#define EC_ID		0x10U

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_4M		0x400000ULL
#define SZ_1G		0x40000000ULL

/* Guest-physical memory: 256 KiB backed from 0; everything above is not. */
#define MEM_SIZE	0x40000ULL
#define UNBACKED	0x40000000ULL

struct fake_mem {
	u8 bytes[MEM_SIZE];
	unsigned int reads;
	unsigned int crossings;	/* reads across a 4 KiB boundary */
};

static struct fake_mem mem;

static int fake_read(void *ctx, u64 gpa, void *buf, unsigned int len)
{
	struct fake_mem *m = ctx;

	m->reads++;
	if ((gpa & 0xfff) + len > 0x1000)
		m->crossings++;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, m->bytes + gpa, len);
	return 0;
}

/* Write entry @index of the table at @table: 8-byte or 4-byte format. */
static void put64(u64 table, unsigned int index, u64 entry)
{
	memcpy(mem.bytes + table + index * 8, &entry, 8);
}

static void put32(u64 table, unsigned int index, u32 entry)
{
	memcpy(mem.bytes + table + index * 4, &entry, 4);
}

static u64 get64(u64 table, unsigned int index)
{
	u64 entry;

	memcpy(&entry, mem.bytes + table + index * 8, 8);
	return entry;
}

static int xlate(struct gwalk_regs *r, u64 gva, unsigned int access,
		 struct gwalk_result *res)
{
	return gwalk_translate(r, gva, access, fake_read, &mem, res);
}

static int read_virt(struct gwalk_regs *r, u64 gva, void *buf,
		     unsigned int len, struct gwalk_result *res)
{
	return gwalk_read_virt(r, gva, GWALK_ACC_FETCH, fake_read, &mem, buf,
			       len, res);
}

/* Checks on self->res, the result of the test's last walk. */
#define EXPECT_PF(lvl, code) do {					\
	EXPECT_EQ(GWALK_FAULT_PF, (int)self->res.fault);		\
	EXPECT_EQ((unsigned int)(lvl), self->res.level);		\
	EXPECT_EQ((u32)(code), self->res.error_code);			\
} while (0)

#define EXPECT_MAPPED(pa, size, lvl) do {				\
	EXPECT_EQ(GWALK_FAULT_NONE, (int)self->res.fault);		\
	EXPECT_EQ((u64)(pa), self->res.gpa);				\
	EXPECT_EQ((u64)(size), self->res.page_size);			\
	EXPECT_EQ((unsigned int)(lvl), self->res.level);		\
} while (0)

#define PERM_WUX (GWALK_PERM_WRITE | GWALK_PERM_USER | GWALK_PERM_EXEC)

/*
 * 32-bit paging (SDM 4.3).  VA32 = 0x00403abc splits 10/10/12 into
 * PD index 1 (bits 31:22), PT index 3 (bits 21:12), offset 0xabc.
 */
#define VA32		0x00403abcULL
#define B32_PD		0x1000ULL
#define B32_PT		0x2000ULL
#define B32_PAGE	0x9000ULL

static void mode_32bit(struct gwalk_regs *r)
{
	r->cr0 = CR0_PG | CR0_WP | CR0_PE;
	r->cr3 = B32_PD | PWT | PCD;	/* bits 11:0 are not address */
	r->cr4 = 0;
	r->efer = 0;
	put32(B32_PD, 1, B32_PT | RW | US | P);
	put32(B32_PT, 3, B32_PAGE | RW | US | P);
}

/*
 * PAE paging (SDM 4.4).  PAE_VA = 0xc0203456 splits 2/9/9/12 into PDPT
 * index 3 (bits 31:30), PD index 1 (bits 29:21), PT index 3 (bits 20:12),
 * offset 0x456.  The PDPT is only 32-byte aligned: CR3[31:5].
 */
#define PAE_VA		0xc0203456ULL
#define PAE_PDPT	0x1020ULL
#define PAE_PD		0x2000ULL
#define PAE_PT		0x3000ULL
#define PAE_PAGE	0x500007000ULL	/* above 4 GiB: PAE allows it */

static void mode_pae(struct gwalk_regs *r)
{
	r->cr0 = CR0_PG | CR0_WP | CR0_PE;
	r->cr3 = PAE_PDPT | PWT | PCD;
	r->cr4 = CR4_PAE;
	r->efer = EFER_NXE;
	put64(PAE_PDPT, 3, PAE_PD | P);
	put64(PAE_PD, 1, PAE_PT | RW | US | P);
	put64(PAE_PT, 3, PAE_PAGE | RW | US | P);
}

/*
 * 4-level paging (SDM 4.5).  LONG_VA = 0x00007f8040605678 splits
 * 9/9/9/9/12 into PML4 index 255 (bits 47:39), PDPT index 1 (38:30),
 * PD index 3 (29:21), PT index 5 (20:12), offset 0x678.
 */
#define LONG_VA		0x00007f8040605678ULL
#define L4_PML4		0x1000ULL
#define L4_PDPT		0x2000ULL
#define L4_PD		0x3000ULL
#define L4_PT		0x4000ULL
#define L4_PAGE		0x7000ULL

static void mode_long4(struct gwalk_regs *r)
{
	r->cr0 = CR0_PG | CR0_WP | CR0_PE;
	r->cr3 = L4_PML4 | PWT | PCD;
	r->cr4 = CR4_PAE;
	r->efer = EFER_LME | EFER_LMA | EFER_NXE;
	put64(L4_PML4, 255, L4_PDPT | RW | US | P);
	put64(L4_PDPT, 1, L4_PD | RW | US | P);
	put64(L4_PD, 3, L4_PT | RW | US | P);
	put64(L4_PT, 5, L4_PAGE | RW | US | P);
}

/* The table holding the entry of @level for LONG_VA, and its index. */
static void long4_slot(unsigned int level, u64 *table, unsigned int *index)
{
	static const u64 tables[] = { 0, L4_PT, L4_PD, L4_PDPT, L4_PML4 };
	static const unsigned int indexes[] = { 0, 5, 3, 1, 255 };

	*table = tables[level];
	*index = indexes[level];
}

static void long4_and(unsigned int level, u64 clear)
{
	u64 table;
	unsigned int index;

	long4_slot(level, &table, &index);
	put64(table, index, get64(table, index) & ~clear);
}

static void long4_or(unsigned int level, u64 set)
{
	u64 table;
	unsigned int index;

	long4_slot(level, &table, &index);
	put64(table, index, get64(table, index) | set);
}

FIXTURE(walker) {
	struct gwalk_regs regs;
	struct gwalk_result res;
};

FIXTURE_SETUP(walker)
{
	memset(&mem, 0, sizeof(mem));
	self->regs.maxphyaddr = 40;
	self->regs.features = GWALK_FEAT_1G_PAGES;
}

/* The callback contract: no read ever crosses a 4 KiB boundary. */
FIXTURE_TEARDOWN(walker)
{
	EXPECT_EQ(0U, mem.crossings);
}

/* Table 4-1: the mode follows CR0.PG, CR4.PAE, IA32_EFER.LMA, CR4.LA57. */
TEST_F(walker, paging_mode)
{
	struct gwalk_regs *r = &self->regs;

	r->cr0 = CR0_PE;
	r->cr4 = CR4_PAE | CR4_PSE;
	r->efer = EFER_LME;
	EXPECT_EQ(GWALK_MODE_NONE, (int)gwalk_paging_mode(r));
	r->cr0 = CR0_PE | CR0_PG;
	r->cr4 = CR4_PSE;
	r->efer = 0;
	EXPECT_EQ(GWALK_MODE_32BIT, (int)gwalk_paging_mode(r));
	r->cr4 = CR4_PAE;
	EXPECT_EQ(GWALK_MODE_PAE, (int)gwalk_paging_mode(r));
	r->efer = EFER_LME;	/* LME without LMA: not yet long mode */
	EXPECT_EQ(GWALK_MODE_PAE, (int)gwalk_paging_mode(r));
	r->efer = EFER_LME | EFER_LMA;
	EXPECT_EQ(GWALK_MODE_LONG4, (int)gwalk_paging_mode(r));
	r->cr4 |= CR4_LA57;
	EXPECT_EQ(GWALK_MODE_LONG5, (int)gwalk_paging_mode(r));
	EXPECT_EQ(-EOPNOTSUPP, xlate(r, 0x1000, 0, &self->res));
}

TEST_F(walker, bad_arguments)
{
	mode_long4(&self->regs);
	EXPECT_EQ(-EINVAL, xlate(&self->regs, LONG_VA,
				 GWALK_ACC_WRITE | GWALK_ACC_FETCH, &self->res));
	self->regs.maxphyaddr = 31;
	EXPECT_EQ(-EINVAL, xlate(&self->regs, LONG_VA, 0, &self->res));
	self->regs.maxphyaddr = 53;
	EXPECT_EQ(-EINVAL, xlate(&self->regs, LONG_VA, 0, &self->res));
	self->regs.maxphyaddr = 40;
	EXPECT_EQ(-EINVAL, gwalk_read_virt(&self->regs, LONG_VA,
					   GWALK_ACC_WRITE, fake_read, &mem,
					   NULL, 1, &self->res));
}

/* Paging off: linear = physical, 32 bits wide; no rights to check. */
TEST_F(walker, paging_off)
{
	self->regs.cr0 = CR0_PE;
	ASSERT_EQ(0, xlate(&self->regs, 0x123456789ULL,
			   GWALK_ACC_USER | GWALK_ACC_WRITE, &self->res));
	EXPECT_MAPPED(0x23456789, SZ_4K, 0);
	EXPECT_EQ(0x23456789ULL, self->res.gva);
	EXPECT_EQ(PERM_WUX, self->res.perm);
	EXPECT_EQ(0U, mem.reads);
}

TEST_F(walker, bits32_4k)
{
	mode_32bit(&self->regs);
	ASSERT_EQ(0, xlate(&self->regs, VA32, GWALK_ACC_USER | GWALK_ACC_WRITE,
			   &self->res));
	EXPECT_MAPPED(0x9abc, SZ_4K, 1);
	EXPECT_EQ(PERM_WUX, self->res.perm);
	EXPECT_EQ(B32_PAGE | RW | US | P, self->res.entry);
	/* The upper 32 bits of the address are dropped, not faulted. */
	ASSERT_EQ(0, xlate(&self->regs, 0xff00000000ULL | VA32, 0, &self->res));
	EXPECT_MAPPED(0x9abc, SZ_4K, 1);
	/* So are those of CR3: 32-bit paging uses CR3[31:12] (Table 4-3). */
	self->regs.cr3 |= 0xff00000000ULL;
	ASSERT_EQ(0, xlate(&self->regs, VA32, 0, &self->res));
	EXPECT_MAPPED(0x9abc, SZ_4K, 1);
}

/*
 * 4 MiB pages (SDM 4.3, Table 4-4).  VA 0x00912345: PD index 2, offset
 * 0x112345.  PDE bits 31:22 give address bits 31:22, PDE bits 20:13
 * address bits 39:32 (PSE-36), up to MAXPHYADDR; bit 21 is reserved.
 */
TEST_F(walker, bits32_4m_pse36)
{
	struct gwalk_regs *r = &self->regs;

	mode_32bit(r);
	r->cr4 = CR4_PSE;
	put32(B32_PD, 2, 0x0c000000 | PAT_LARGE | PS | RW | P);
	ASSERT_EQ(0, xlate(r, 0x00912345, GWALK_ACC_WRITE, &self->res));
	EXPECT_MAPPED(0x0c112345, SZ_4M, 2);
	EXPECT_EQ(GWALK_PERM_WRITE | GWALK_PERM_EXEC, self->res.perm);

	/* 0x12 in bits 20:13 is address bits 39:32 = 0x12, fine at M = 40. */
	put32(B32_PD, 2, 0x0c000000 | (0x12 << 13) | PS | RW | P);
	ASSERT_EQ(0, xlate(r, 0x00912345, 0, &self->res));
	EXPECT_MAPPED(0x120c112345ULL, SZ_4M, 2);

	/* At M = 36, bits 21:17 are reserved: 0x12 << 13 sets bit 17. */
	r->maxphyaddr = 36;
	ASSERT_EQ(0, xlate(r, 0x00912345, 0, &self->res));
	EXPECT_PF(2, EC_RSVD | EC_P);

	/* 0x2 << 13 is bit 14: address bit 33, below M = 36. */
	put32(B32_PD, 2, 0x0c000000 | (0x2 << 13) | PS | RW | P);
	ASSERT_EQ(0, xlate(r, 0x00912345, 0, &self->res));
	EXPECT_MAPPED(0x20c112345ULL, SZ_4M, 2);

	/* Bit 21 is reserved whatever MAXPHYADDR is. */
	r->maxphyaddr = 52;
	put32(B32_PD, 2, 0x0c000000 | (1U << 21) | PS | RW | P);
	ASSERT_EQ(0, xlate(r, 0x00912345, GWALK_ACC_USER, &self->res));
	EXPECT_PF(2, EC_RSVD | EC_U | EC_P);
}

/* Without CR4.PSE a PDE's PS bit is ignored: it points to a page table. */
TEST_F(walker, bits32_ps_without_pse)
{
	mode_32bit(&self->regs);
	put32(B32_PD, 2, 0x2000 | PS | RW | P);
	/* 0x00912345: PT index (bits 21:12) = 0x112, offset 0x345. */
	put32(0x2000, 0x112, 0x8000 | P);
	ASSERT_EQ(0, xlate(&self->regs, 0x00912345, 0, &self->res));
	EXPECT_MAPPED(0x8345, SZ_4K, 1);
}

TEST_F(walker, bits32_not_present)
{
	mode_32bit(&self->regs);
	put32(B32_PT, 3, 0xdead0000);	/* P = 0: the rest is the OS's */
	ASSERT_EQ(0, xlate(&self->regs, VA32, GWALK_ACC_USER | GWALK_ACC_WRITE,
			   &self->res));
	EXPECT_PF(1, EC_U | EC_W);
	EXPECT_EQ(0xdead0000ULL, self->res.entry);
	EXPECT_EQ(VA32, self->res.gva);

	put32(B32_PD, 1, 0);
	ASSERT_EQ(0, xlate(&self->regs, VA32, 0, &self->res));
	EXPECT_PF(2, 0);
}

/*
 * I/D is set only with SMEP, or with PAE-format entries and NXE (SDM
 * 4.7): a 32-bit-paging fetch fault has it clear even with EFER.NXE.
 */
TEST_F(walker, bits32_fetch_error_code)
{
	struct gwalk_regs *r = &self->regs;

	mode_32bit(r);
	r->efer = EFER_NXE;
	put32(B32_PT, 3, 0);
	ASSERT_EQ(0, xlate(r, VA32, GWALK_ACC_FETCH, &self->res));
	EXPECT_PF(1, 0);

	r->cr4 = CR4_SMEP;
	ASSERT_EQ(0, xlate(r, VA32, GWALK_ACC_FETCH, &self->res));
	EXPECT_PF(1, EC_ID);

	/* SMEP: no supervisor fetch from a user page, in any mode. */
	put32(B32_PT, 3, B32_PAGE | US | P);
	ASSERT_EQ(0, xlate(r, VA32, GWALK_ACC_FETCH, &self->res));
	EXPECT_PF(1, EC_ID | EC_P);
}

TEST_F(walker, pae_4k)
{
	mode_pae(&self->regs);
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, GWALK_ACC_USER | GWALK_ACC_WRITE,
			   &self->res));
	EXPECT_MAPPED(0x500007456ULL, SZ_4K, 1);
	/* PDPTEs carry no R/W or U/S (Table 4-8): rights come from below. */
	EXPECT_EQ(PERM_WUX, self->res.perm);
	/* PAE paging uses CR3[31:5] (Table 4-7). */
	self->regs.cr3 |= 0xff00000000ULL;
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	EXPECT_MAPPED(0x500007456ULL, SZ_4K, 1);
}

/* PAE 2 MiB page: PDE bits 51:21 (Table 4-9); bit 12 is PAT, not address. */
TEST_F(walker, pae_2m)
{
	mode_pae(&self->regs);
	put64(PAE_PD, 1, 0x200400000ULL | PAT_LARGE | PS | P);
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	/* Offset: PAE_VA bits 20:0 = 0x003456. */
	EXPECT_MAPPED(0x200403456ULL, SZ_2M, 2);
	EXPECT_EQ(GWALK_PERM_EXEC, self->res.perm);
	/* Bit 12 (PAT) is not an address bit: 0xc0200456 has offset 0x456. */
	ASSERT_EQ(0, xlate(&self->regs, 0xc0200456ULL, 0, &self->res));
	EXPECT_MAPPED(0x200400456ULL, SZ_2M, 2);
	/* PAE ignores CR4.PSE: 2 MiB pages exist either way. */
	self->regs.cr4 |= CR4_PSE;
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	EXPECT_MAPPED(0x200403456ULL, SZ_2M, 2);
}

TEST_F(walker, pae_not_present_pdpte)
{
	mode_pae(&self->regs);
	put64(PAE_PDPT, 3, PAE_PD);
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, GWALK_ACC_FETCH, &self->res));
	EXPECT_PF(3, EC_ID);	/* NXE is set in mode_pae() */
}

/*
 * PAE reserved bits: a PDPTE reserves 2:1, 8:5 and 63:M (Table 4-8); the
 * PDE and PTE reserve 62:M (Tables 4-9 to 4-11), where 4-level paging
 * reserves only 51:M and ignores 62:52.
 */
TEST_F(walker, pae_reserved)
{
	mode_pae(&self->regs);
	put64(PAE_PDPT, 3, PAE_PD | RW | P);
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	EXPECT_PF(3, EC_RSVD | EC_P);

	put64(PAE_PDPT, 3, PAE_PD | XD | P);
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	EXPECT_PF(3, EC_RSVD | EC_P);

	put64(PAE_PDPT, 3, PAE_PD | BIT_ULL(5) | P);	/* no A flag here */
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	EXPECT_PF(3, EC_RSVD | EC_P);

	put64(PAE_PDPT, 3, PAE_PD | P);
	put64(PAE_PD, 1, PAE_PT | BIT_ULL(62) | RW | US | P);
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, GWALK_ACC_WRITE, &self->res));
	EXPECT_PF(2, EC_RSVD | EC_W | EC_P);
}

TEST_F(walker, long4_4k)
{
	mode_long4(&self->regs);
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, GWALK_ACC_USER | GWALK_ACC_WRITE,
			   &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	EXPECT_EQ(PERM_WUX, self->res.perm);
	EXPECT_EQ(4U, mem.reads);	/* one entry per level */
}

/*
 * The result lists each entry read, by level, with its guest-physical
 * address (table + index * entry size): shadow paging sets the accessed
 * and dirty flags there.
 */
TEST_F(walker, long4_walked_entries)
{
	mode_long4(&self->regs);
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, 0, &self->res));
	EXPECT_EQ(8U, self->res.entry_size);
	EXPECT_EQ(L4_PML4 + 255 * 8, self->res.walked[4].gpa);
	EXPECT_EQ(L4_PDPT | RW | US | P, self->res.walked[4].val);
	EXPECT_EQ(L4_PDPT + 1 * 8, self->res.walked[3].gpa);
	EXPECT_EQ(L4_PD + 3 * 8, self->res.walked[2].gpa);
	EXPECT_EQ(L4_PT + 5 * 8, self->res.walked[1].gpa);
	EXPECT_EQ(L4_PAGE | RW | US | P, self->res.walked[1].val);
	/* A not-present entry is recorded too; nothing below it. */
	long4_and(2, P);
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, 0, &self->res));
	EXPECT_PF(2, 0);
	EXPECT_EQ(L4_PD + 3 * 8, self->res.walked[2].gpa);
	EXPECT_EQ(0ULL, self->res.walked[1].gpa);
}

/* 32-bit paging: 4-byte entries, so index * 4. */
TEST_F(walker, bits32_walked_entries)
{
	mode_32bit(&self->regs);
	ASSERT_EQ(0, xlate(&self->regs, VA32, 0, &self->res));
	EXPECT_EQ(4U, self->res.entry_size);
	EXPECT_EQ(B32_PD + 1 * 4, self->res.walked[2].gpa);
	EXPECT_EQ(B32_PT + 3 * 4, self->res.walked[1].gpa);
	EXPECT_EQ(B32_PAGE | RW | US | P, self->res.walked[1].val);
}

/*
 * PAE with PDPTE registers (SDM 4.4.1): the walk uses the values the CPU
 * loaded at MOV CR3, not what memory holds now, and reads one entry less.
 */
TEST_F(walker, pae_pdpte_registers)
{
	u64 pdptes[4] = { 0, 0, 0, PAE_PD | P };

	mode_pae(&self->regs);
	self->regs.pdptes = pdptes;
	put64(PAE_PDPT, 3, 0);		/* memory changed after the load */
	mem.reads = 0;
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	EXPECT_MAPPED(0x500007456ULL, SZ_4K, 1);
	EXPECT_EQ(2U, mem.reads);
	EXPECT_EQ(GWALK_NO_GPA, self->res.walked[3].gpa);
	EXPECT_EQ(PAE_PD + 1 * 8, self->res.walked[2].gpa);
	/* A not-present PDPTE register faults though memory has one. */
	pdptes[3] = 0;
	put64(PAE_PDPT, 3, PAE_PD | P);
	ASSERT_EQ(0, xlate(&self->regs, PAE_VA, 0, &self->res));
	EXPECT_PF(3, 0);
}

/* 2 MiB page: PDE bits 51:21 (Table 4-18).  Offset = VA bits 20:0. */
TEST_F(walker, long4_2m)
{
	mode_long4(&self->regs);
	put64(L4_PD, 3, 0x0a000000ULL | PAT_LARGE | PS | RW | US | P);
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, GWALK_ACC_USER, &self->res));
	EXPECT_MAPPED(0x0a005678, SZ_2M, 2);
	/* PAT (bit 12) is no address bit: VA bits 20:12 = 0 give 0x678. */
	ASSERT_EQ(0, xlate(&self->regs, 0x00007f8040600678ULL, 0, &self->res));
	EXPECT_MAPPED(0x0a000678, SZ_2M, 2);
}

/* 1 GiB page: PDPTE bits 51:30 (Table 4-16).  Offset = VA bits 29:0. */
TEST_F(walker, long4_1g)
{
	mode_long4(&self->regs);
	put64(L4_PDPT, 1, 0x140000000ULL | PAT_LARGE | PS | RW | P);
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x140605678ULL, SZ_1G, 3);
	EXPECT_EQ(GWALK_PERM_WRITE | GWALK_PERM_EXEC, self->res.perm);
	/* PAT (bit 12) is no address bit: VA bits 29:12 = 0 give 0x678. */
	ASSERT_EQ(0, xlate(&self->regs, 0x00007f8040000678ULL, 0, &self->res));
	EXPECT_MAPPED(0x140000678ULL, SZ_1G, 3);

	/* No CPUID Page1GB: PS in a PDPTE is a reserved bit. */
	self->regs.features = 0;
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, 0, &self->res));
	EXPECT_PF(3, EC_RSVD | EC_P);
}

/* A not-present entry at each level stops the walk there with P = 0. */
TEST_F(walker, long4_not_present_each_level)
{
	unsigned int level;

	for (level = 4; level >= 1; level--) {
		mode_long4(&self->regs);
		long4_and(level, P);
		ASSERT_EQ(0, xlate(&self->regs, LONG_VA, 0, &self->res));
		EXPECT_PF(level, 0);
		ASSERT_EQ(0, xlate(&self->regs, LONG_VA,
				   GWALK_ACC_USER | GWALK_ACC_WRITE,
				   &self->res));
		EXPECT_PF(level, EC_U | EC_W);
		ASSERT_EQ(0, xlate(&self->regs, LONG_VA,
				   GWALK_ACC_USER | GWALK_ACC_FETCH,
				   &self->res));
		EXPECT_PF(level, EC_U | EC_ID);
		EXPECT_EQ(LONG_VA, self->res.gva);
	}
}

/* SDM 4.6.1: CR0.WP decides supervisor writes to read-only pages. */
TEST_F(walker, write_protect)
{
	struct gwalk_regs *r = &self->regs;

	mode_long4(r);
	long4_and(1, RW);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE, &self->res));
	EXPECT_PF(1, EC_P | EC_W);
	EXPECT_EQ(GWALK_PERM_USER | GWALK_PERM_EXEC, self->res.perm);
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);

	r->cr0 &= ~CR0_WP;
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	/* User writes need R/W = 1 whatever CR0.WP says. */
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE | GWALK_ACC_USER,
			   &self->res));
	EXPECT_PF(1, EC_P | EC_W | EC_U);

	/* R/W = 0 at an upper level makes the whole translation read-only. */
	r->cr0 |= CR0_WP;
	long4_or(1, RW);
	long4_and(3, RW);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE, &self->res));
	EXPECT_PF(1, EC_P | EC_W);
}

TEST_F(walker, user_on_supervisor_page)
{
	struct gwalk_regs *r = &self->regs;

	mode_long4(r);
	long4_and(2, US);	/* U/S = 0 in the PDE alone is enough */
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_USER, &self->res));
	EXPECT_PF(1, EC_P | EC_U);
	EXPECT_EQ(GWALK_PERM_WRITE | GWALK_PERM_EXEC, self->res.perm);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_USER | GWALK_ACC_FETCH,
			   &self->res));
	EXPECT_PF(1, EC_P | EC_U | EC_ID);
	/* Without NXE (and SMEP) a fetch fault does not report I/D. */
	r->efer &= ~EFER_NXE;
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_USER | GWALK_ACC_FETCH,
			   &self->res));
	EXPECT_PF(1, EC_P | EC_U);
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
}

/* XD at any level forbids fetches when EFER.NXE = 1 (SDM 4.6.1). */
TEST_F(walker, nx_fetch)
{
	struct gwalk_regs *r = &self->regs;

	mode_long4(r);
	long4_or(4, XD);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_FETCH, &self->res));
	EXPECT_PF(1, EC_P | EC_ID);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_USER | GWALK_ACC_FETCH,
			   &self->res));
	EXPECT_PF(1, EC_P | EC_U | EC_ID);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	EXPECT_EQ(GWALK_PERM_WRITE | GWALK_PERM_USER, self->res.perm);

	/* With NXE = 0, bit 63 is reserved (Table 4-15). */
	r->efer &= ~EFER_NXE;
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_FETCH, &self->res));
	EXPECT_PF(4, EC_P | EC_RSVD);
}

/* 4-level reserved bits: 51:M everywhere, PS in a PML4E, large-page 20:13. */
TEST_F(walker, long4_reserved)
{
	struct gwalk_regs *r = &self->regs;

	mode_long4(r);
	long4_or(1, BIT_ULL(40));		/* M = 40: bit 40 reserved */
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_USER, &self->res));
	EXPECT_PF(1, EC_P | EC_RSVD | EC_U);
	r->maxphyaddr = 41;			/* now it is an address bit */
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x10000007678ULL, SZ_4K, 1);
	r->maxphyaddr = 52;
	long4_or(1, BIT_ULL(51));
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x8010000007678ULL, SZ_4K, 1);

	mode_long4(r);
	r->maxphyaddr = 40;
	long4_or(2, BIT_ULL(62));		/* 62:52 ignored, unlike PAE */
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);

	long4_or(4, PS);
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_PF(4, EC_P | EC_RSVD);

	mode_long4(r);
	put64(L4_PD, 3, 0x0a000000ULL | BIT_ULL(13) | PS | RW | P);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE, &self->res));
	EXPECT_PF(2, EC_P | EC_RSVD | EC_W);

	put64(L4_PDPT, 1, 0x140000000ULL | BIT_ULL(29) | PS | RW | P);
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_PF(3, EC_P | EC_RSVD);
}

/* A reserved bit is reported even where rights would also fail. */
TEST_F(walker, reserved_before_rights)
{
	mode_long4(&self->regs);
	long4_and(3, US);
	long4_or(1, BIT_ULL(45));
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, GWALK_ACC_USER, &self->res));
	EXPECT_PF(1, EC_P | EC_RSVD | EC_U);
}

TEST_F(walker, smep)
{
	struct gwalk_regs *r = &self->regs;

	mode_long4(r);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_FETCH, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	r->cr4 |= CR4_SMEP;
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_FETCH, &self->res));
	EXPECT_PF(1, EC_P | EC_ID);
	/* SMEP leaves user fetches and supervisor reads alone. */
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_USER | GWALK_ACC_FETCH,
			   &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	/* A supervisor page is fine. */
	long4_and(1, US);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_FETCH, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
}

/* SMAP: supervisor data accesses to user pages need explicit + AC. */
TEST_F(walker, smap)
{
	struct gwalk_regs *r = &self->regs;

	mode_long4(r);
	r->cr4 |= CR4_SMAP;
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_PF(1, EC_P);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE, &self->res));
	EXPECT_PF(1, EC_P | EC_W);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_AC, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	/* SMAP does not cover fetches (that is SMEP) nor user accesses. */
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_FETCH, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_USER | GWALK_ACC_WRITE,
			   &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);

	/* With AC, a write to a read-only user page is up to CR0.WP. */
	long4_and(1, RW);
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE | GWALK_ACC_AC,
			   &self->res));
	EXPECT_PF(1, EC_P | EC_W);
	r->cr0 &= ~CR0_WP;
	ASSERT_EQ(0, xlate(r, LONG_VA, GWALK_ACC_WRITE | GWALK_ACC_AC,
			   &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);

	/* Supervisor pages are not SMAP's business. */
	long4_and(2, US);
	ASSERT_EQ(0, xlate(r, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(0x7678, SZ_4K, 1);
}

/* Bits 63:47 must all equal bit 47, or the access is #GP, not #PF. */
TEST_F(walker, non_canonical)
{
	mode_long4(&self->regs);
	ASSERT_EQ(0, xlate(&self->regs, 0x0000800000000000ULL, 0, &self->res));
	EXPECT_EQ(GWALK_FAULT_GP, (int)self->res.fault);
	EXPECT_EQ(0U, self->res.error_code);
	ASSERT_EQ(0, xlate(&self->regs, 0xffff7fffffffffffULL, 0, &self->res));
	EXPECT_EQ(GWALK_FAULT_GP, (int)self->res.fault);
	EXPECT_EQ(0U, mem.reads);

	/* 0xffff800000000000 is canonical: PML4 index 256, not present. */
	ASSERT_EQ(0, xlate(&self->regs, 0xffff800000000000ULL, 0, &self->res));
	EXPECT_PF(4, 0);
}

/* An unbacked paging-structure page is the host's problem: -EFAULT. */
TEST_F(walker, unbacked_table)
{
	mode_long4(&self->regs);
	put64(L4_PDPT, 1, UNBACKED | RW | P);
	EXPECT_EQ(-EFAULT, xlate(&self->regs, LONG_VA, 0, &self->res));
	self->regs.cr3 = UNBACKED;
	EXPECT_EQ(-EFAULT, xlate(&self->regs, LONG_VA, 0, &self->res));
	/* The walk does not read the data page: unbacked data translates. */
	mode_long4(&self->regs);
	put64(L4_PT, 5, UNBACKED | P);
	ASSERT_EQ(0, xlate(&self->regs, LONG_VA, 0, &self->res));
	EXPECT_MAPPED(UNBACKED | 0x678, SZ_4K, 1);
}

/*
 * An instruction straddling two pages that are far apart physically:
 * LONG_VA's page (PT index 5) maps 0x7000, the next (PT index 6) 0x6000.
 */
#define FETCH_VA	0x00007f8040605ff8ULL
#define NEXT_PAGE_VA	0x00007f8040606000ULL

static void map_next_page(void)
{
	u8 i;

	put64(L4_PT, 6, 0x6000 | RW | US | P);
	for (i = 0; i < 8; i++)
		mem.bytes[0x7ff8 + i] = 0x10 + i;
	for (i = 0; i < 8; i++)
		mem.bytes[0x6000 + i] = 0x18 + i;
}

TEST_F(walker, read_virt_crosses_page)
{
	static const u8 want[15] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
				     0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
				     0x1c, 0x1d, 0x1e };
	u8 buf[15] = { 0 };

	mode_long4(&self->regs);
	map_next_page();
	ASSERT_EQ(15, read_virt(&self->regs, FETCH_VA, buf, 15, &self->res));
	EXPECT_EQ(0, memcmp(want, buf, sizeof(want)));
	EXPECT_EQ(GWALK_FAULT_NONE, (int)self->res.fault);
	EXPECT_EQ(0x6000ULL, self->res.gpa);
	EXPECT_EQ(0, read_virt(&self->regs, FETCH_VA, buf, 0, &self->res));
}

/* The second page faults: 8 bytes arrive, CR2 is the second page. */
TEST_F(walker, read_virt_faults_on_second_page)
{
	u8 buf[15] = { 0 };

	mode_long4(&self->regs);
	map_next_page();
	put64(L4_PT, 6, 0);
	ASSERT_EQ(8, read_virt(&self->regs, FETCH_VA, buf, 15, &self->res));
	EXPECT_EQ(0x17, buf[7]);
	EXPECT_PF(1, EC_ID);
	EXPECT_EQ(NEXT_PAGE_VA, self->res.gva);

	put64(L4_PT, 6, 0x6000 | XD | P);
	ASSERT_EQ(8, read_virt(&self->regs, FETCH_VA, buf, 15, &self->res));
	EXPECT_PF(1, EC_P | EC_ID);

	/* Translated, but no memory behind it: the host's -EFAULT. */
	put64(L4_PT, 6, UNBACKED | P);
	EXPECT_EQ(-EFAULT, read_virt(&self->regs, FETCH_VA, buf, 15,
				     &self->res));
}

/*
 * Outside long mode the linear address wraps at 4 GiB: 0xfffffffe,
 * 0xffffffff (PD 1023, PT 1023), then 0x0, 0x1 (PD 0, PT 0).
 */
TEST_F(walker, read_virt_wraps_32bit)
{
	u8 buf[4] = { 0 };

	mode_32bit(&self->regs);
	put32(B32_PD, 1023, 0x3000 | P);
	put32(0x3000, 1023, 0x9000 | P);
	put32(B32_PD, 0, 0x4000 | P);
	put32(0x4000, 0, 0xa000 | P);
	mem.bytes[0x9ffe] = 0xaa;
	mem.bytes[0x9fff] = 0xbb;
	mem.bytes[0xa000] = 0xcc;
	mem.bytes[0xa001] = 0xdd;
	ASSERT_EQ(4, read_virt(&self->regs, 0xfffffffe, buf, 4, &self->res));
	EXPECT_EQ(0xaa, buf[0]);
	EXPECT_EQ(0xbb, buf[1]);
	EXPECT_EQ(0xcc, buf[2]);
	EXPECT_EQ(0xdd, buf[3]);
	EXPECT_EQ(0ULL, self->res.gva);
}

/* In long mode the end of the lower half runs into non-canonical space. */
TEST_F(walker, read_virt_into_non_canonical)
{
	u8 buf[4] = { 0 };

	/* 0x00007ffffffff000: PML4 255, PDPT 511, PD 511, PT 511. */
	mode_long4(&self->regs);
	put64(L4_PDPT, 511, 0x10000 | RW | P);
	put64(0x10000, 511, 0x11000 | RW | P);
	put64(0x11000, 511, 0x12000 | RW | P);
	mem.bytes[0x12ffe] = 0x5a;
	mem.bytes[0x12fff] = 0xa5;
	ASSERT_EQ(2, read_virt(&self->regs, 0x00007ffffffffffeULL, buf, 4,
			       &self->res));
	EXPECT_EQ(0x5a, buf[0]);
	EXPECT_EQ(0xa5, buf[1]);
	EXPECT_EQ(GWALK_FAULT_GP, (int)self->res.fault);
	EXPECT_EQ(0x0000800000000000ULL, self->res.gva);
}

TEST_HARNESS_MAIN
