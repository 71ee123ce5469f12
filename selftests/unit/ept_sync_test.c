// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of mmu/ept_sync.c: which CPUs must INVEPT an EPT pointer,
 * and when (SDM Vol. 3C, 29.4.3: cached EPT translations survive until an
 * INVEPT).  A VM's life is played as a sequence of events; after each the
 * set of CPUs to flush is compared with what the SDM requires.
 */
#include <stdbool.h>
#include <linux/types.h>

#include "kselftest_harness.h"

typedef __u64 u64;
#include <linux/cpumask.h>
#include "../../mmu/ept_sync.h"

#define CPUS(...)	cpus_of((const int[]){ __VA_ARGS__, -1 })

static __u64 cpus_of(const int *list)
{
	__u64 m = 0;

	for (; *list >= 0; list++)
		m |= 1ULL << *list;
	return m;
}

/* The CPUs to flush after an unmap (or before a free), as a plain mask. */
static __u64 unmap(struct cpumask *used, bool freeing)
{
	struct cpumask flush = { .bits = ~0ULL };	/* must be overwritten */

	ept_sync_after_unmap(used, freeing, &flush);
	return flush.bits;
}

/* A fresh EPTP is flushed on each CPU before its first entry there. */
TEST(first_entry_on_each_cpu_flushes_that_cpu)
{
	struct cpumask used = { 0 };

	EXPECT_TRUE(ept_sync_before_entry(&used, 0));
	EXPECT_FALSE(ept_sync_before_entry(&used, 0));
	EXPECT_TRUE(ept_sync_before_entry(&used, 3));
	EXPECT_FALSE(ept_sync_before_entry(&used, 0));
	EXPECT_FALSE(ept_sync_before_entry(&used, 3));
	EXPECT_EQ(CPUS(0, 3), used.bits);
}

/* An unmap flushes every CPU that ran the VM, and only those. */
TEST(unmap_flushes_every_cpu_that_used_it)
{
	struct cpumask used = { 0 };

	EXPECT_EQ(0, unmap(&used, false));
	ept_sync_before_entry(&used, 1);
	ept_sync_before_entry(&used, 5);
	EXPECT_EQ(CPUS(1, 5), unmap(&used, false));
	/* Translations come back after an unmap: the CPUs stay listed. */
	EXPECT_EQ(CPUS(1, 5), unmap(&used, false));
	EXPECT_FALSE(ept_sync_before_entry(&used, 1));
}

/*
 * Freeing flushes every CPU that used the tables, even when the VM never
 * unmapped a slot (the case that left freed tables cached), and forgets
 * them: the next VM on the same root page starts with a flush per CPU.
 */
TEST(free_flushes_and_a_reused_root_starts_over)
{
	struct cpumask used = { 0 };

	ept_sync_before_entry(&used, 0);
	ept_sync_before_entry(&used, 2);
	EXPECT_EQ(CPUS(0, 2), unmap(&used, true));
	EXPECT_EQ(0, used.bits);
	EXPECT_TRUE(ept_sync_before_entry(&used, 2));
}

/* A VM that never ran was never cached anywhere. */
TEST(free_of_a_vm_that_never_ran_flushes_nothing)
{
	struct cpumask used = { 0 };

	EXPECT_EQ(0, unmap(&used, true));
}

TEST_HARNESS_MAIN
