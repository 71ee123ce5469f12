// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of shadow_make_pte() (mmu/spte.c), the leaf a shadow-paging
 * VM runs on.  The expected entries are written from the SDM's entry
 * format (Vol. 3A, Table 4-19: P bit 0, R/W 1, U/S 2, PWT 3, PCD 4, G 8,
 * XD 63) and from the rule the leaf must keep: the CPU, checking the
 * leaf, allows exactly what the guest's own tables allow.
 */
#include <string.h>

#include "kernel_shim.h"
#include "../../mmu/gwalk.h"
#include "../../mmu/spte.h"
#include "kselftest_harness.h"

#define P	BIT_ULL(0)
#define RW	BIT_ULL(1)
#define US	BIT_ULL(2)
#define XD	BIT_ULL(63)
#define LOW12	0xfffULL

#define PERM_W	GWALK_PERM_WRITE
#define PERM_U	GWALK_PERM_USER
#define PERM_X	GWALK_PERM_EXEC
#define ACC_W	GWALK_ACC_WRITE
#define ACC_U	GWALK_ACC_USER

/* A host page above 4 GiB: the frame must survive intact. */
#define HPA	0x00000abc12345000ULL

static struct spte_input base(unsigned int perm, unsigned int access)
{
	struct spte_input in = {
		.hpa = HPA, .perm = perm, .access = access, .dirty = true,
		.slot_writable = true, .cr0_wp = true,
	};

	return in;
}

TEST(full_rights)
{
	struct spte_input in = base(PERM_W | PERM_U | PERM_X, 0);

	EXPECT_EQ(HPA | P | RW | US, shadow_make_pte(&in));
}

/* Nothing of the frame's low bits leaks into caching or global bits. */
TEST(frame_and_no_caching_bits)
{
	struct spte_input in = base(PERM_W | PERM_U | PERM_X, 0);

	in.hpa = HPA | LOW12;
	EXPECT_EQ(HPA | P | RW | US, shadow_make_pte(&in));
	EXPECT_EQ(0ULL, shadow_make_pte(&in) & (SPTE_PWT | SPTE_PCD |
						SPTE_PAT | SPTE_G));
}

TEST(read_only_supervisor_no_exec)
{
	struct spte_input in = base(0, 0);

	EXPECT_EQ(HPA | P | XD, shadow_make_pte(&in));
}

/* Guest D = 0: read-only until the first write sets it (SDM 4.8). */
TEST(clean_page_read_only)
{
	struct spte_input in = base(PERM_W | PERM_X, 0);

	in.dirty = false;
	EXPECT_EQ(HPA | P, shadow_make_pte(&in));
	in.dirty = true;
	EXPECT_EQ(HPA | P | RW, shadow_make_pte(&in));
}

/* A read-only slot: never writable, whatever the guest allows. */
TEST(read_only_slot)
{
	struct spte_input in = base(PERM_W | PERM_U | PERM_X, ACC_W);

	in.slot_writable = false;
	EXPECT_EQ(HPA | P | US, shadow_make_pte(&in));
}

/*
 * CR0.WP = 0: a supervisor write to a read-only user page succeeds
 * (SDM 4.6.1); the leaf becomes writable and supervisor-only.
 */
TEST(wp0_supervisor_write)
{
	struct spte_input in = base(PERM_U | PERM_X, ACC_W);

	in.cr0_wp = false;
	EXPECT_EQ(HPA | P | RW, shadow_make_pte(&in));
	/* With SMEP a supervisor fetch from the user page must still fault. */
	in.cr4_smep = true;
	EXPECT_EQ(HPA | P | RW | XD, shadow_make_pte(&in));
	/* A supervisor page keeps its exec right: SMEP is about user pages. */
	in.perm = PERM_X;
	EXPECT_EQ(HPA | P | RW, shadow_make_pte(&in));
}

/* CR0.WP = 0 changes nothing for reads, user writes or writable pages. */
TEST(wp0_other_accesses)
{
	struct spte_input in = base(PERM_U | PERM_X, 0);

	in.cr0_wp = false;
	EXPECT_EQ(HPA | P | US, shadow_make_pte(&in));
	in.access = ACC_W | ACC_U;
	EXPECT_EQ(HPA | P | US, shadow_make_pte(&in));
	in.perm = PERM_W | PERM_U | PERM_X;
	in.access = ACC_W;
	EXPECT_EQ(HPA | P | RW | US, shadow_make_pte(&in));
}

TEST_HARNESS_MAIN
