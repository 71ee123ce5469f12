// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vmx/msr_autoload.c, played the way vmx/run.c plays it
 * before every entry with what perf_guest_get_msrs() returns: an MSR
 * whose guest and host values differ is switched by the CPU (guest value
 * in the VM-entry MSR-load area, host value in the VM-exit one, at the
 * same position), one whose values agree is not switched at all.
 */
#include <stdbool.h>
#include <string.h>
#include <linux/types.h>

#include "kselftest_harness.h"

typedef __u32 u32;
typedef __u64 u64;
#include "../../vmx/msr_autoload.h"

#define PERF_GLOBAL_CTRL	0x38f
#define PEBS_ENABLE		0x3f1

/* Is @msr switched from @guest (entry) to @host (exit)? */
static bool switched(const struct msr_autoload *m, u32 msr, u64 guest, u64 host)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->guest[i].index == msr)
			return m->host[i].index == msr && m->guest[i].value == guest &&
			       m->host[i].value == host && !m->guest[i].reserved &&
			       !m->host[i].reserved;
	return false;
}

TEST(differing_values_are_switched_both_ways)
{
	struct msr_autoload m;

	memset(&m, 0xa5, sizeof(m));
	m.nr = 0;
	ASSERT_EQ(0, msr_autoload_set(&m, PERF_GLOBAL_CTRL, 0x3, 0xf));
	ASSERT_EQ(0, msr_autoload_set(&m, PEBS_ENABLE, 0, 0x1));
	EXPECT_EQ(2, m.nr);
	EXPECT_TRUE(switched(&m, PERF_GLOBAL_CTRL, 0x3, 0xf));
	EXPECT_TRUE(switched(&m, PEBS_ENABLE, 0, 0x1));
}

TEST(a_new_value_replaces_the_old_one)
{
	struct msr_autoload m = { .nr = 0 };

	msr_autoload_set(&m, PERF_GLOBAL_CTRL, 0x3, 0xf);
	msr_autoload_set(&m, PERF_GLOBAL_CTRL, 0x1, 0x7);
	EXPECT_EQ(1, m.nr);
	EXPECT_TRUE(switched(&m, PERF_GLOBAL_CTRL, 0x1, 0x7));
}

TEST(clearing_keeps_the_others_in_pairs)
{
	struct msr_autoload m = { .nr = 0 };

	msr_autoload_set(&m, 0x100, 1, 2);
	msr_autoload_set(&m, PERF_GLOBAL_CTRL, 3, 4);
	msr_autoload_set(&m, PEBS_ENABLE, 5, 6);
	msr_autoload_clear(&m, 0x100);
	EXPECT_EQ(2, m.nr);
	EXPECT_FALSE(switched(&m, 0x100, 1, 2));
	EXPECT_TRUE(switched(&m, PERF_GLOBAL_CTRL, 3, 4));
	EXPECT_TRUE(switched(&m, PEBS_ENABLE, 5, 6));
	msr_autoload_clear(&m, 0x100);		/* not there: nothing */
	EXPECT_EQ(2, m.nr);
}

TEST(full_areas_refuse)
{
	struct msr_autoload m = { .nr = 0 };
	u32 i;

	for (i = 0; i < MSR_AUTOLOAD_MAX; i++)
		ASSERT_EQ(0, msr_autoload_set(&m, 0x200 + i, i, i + 1));
	EXPECT_EQ(-ENOSPC, msr_autoload_set(&m, 0x300, 0, 1));
	EXPECT_EQ(0, msr_autoload_set(&m, 0x200, 7, 8)) TH_LOG("an update fits");
	EXPECT_EQ(MSR_AUTOLOAD_MAX, m.nr);
}

TEST_HARNESS_MAIN
