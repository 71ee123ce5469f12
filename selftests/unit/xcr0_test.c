// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vmx/xsave.c: which XCR0 values a guest's XSETBV may load.
 * Each rule is one of the #GP(0) conditions of XSETBV (SDM Vol. 2D) or a
 * state-component dependency of SDM Vol. 1, 13.3; the values are written
 * out as numbers so that they do not lean on the header under test.
 */
#include <stdbool.h>
#include <linux/types.h>

#include "kselftest_harness.h"

typedef __u64 u64;
#include "../../vmx/xsave.h"

/* A Skylake-SP host: x87, SSE, AVX, MPX, AVX-512, PKRU. */
#define SKYLAKE_X	0x2ffULL
/* A Haswell host: x87, SSE, AVX. */
#define HASWELL		0x7ULL
/* A Sapphire Rapids host: Skylake-SP's without MPX, plus AMX. */
#define SAPPHIRE	(0x2e7ULL | 1ULL << 17 | 1ULL << 18)

TEST(x87_must_be_set)
{
	EXPECT_FALSE(xcr0_valid(0x0, SKYLAKE_X));
	EXPECT_FALSE(xcr0_valid(0x2, SKYLAKE_X));
	EXPECT_FALSE(xcr0_valid(0x6, SKYLAKE_X));
	EXPECT_TRUE(xcr0_valid(0x1, SKYLAKE_X));
	EXPECT_TRUE(xcr0_valid(0x1, 0x1));
}

TEST(avx_needs_sse)
{
	EXPECT_FALSE(xcr0_valid(0x5, HASWELL));
	EXPECT_TRUE(xcr0_valid(0x3, HASWELL));
	EXPECT_TRUE(xcr0_valid(0x7, HASWELL));
}

TEST(only_what_the_host_allows)
{
	EXPECT_FALSE(xcr0_valid(0x7, 0x3));		/* no AVX on the host */
	EXPECT_FALSE(xcr0_valid(0xe7, HASWELL));	/* no AVX-512 */
	EXPECT_FALSE(xcr0_valid(0x203, HASWELL));	/* no PKRU */
	EXPECT_TRUE(xcr0_valid(0x203, SKYLAKE_X));
	EXPECT_FALSE(xcr0_valid(0x3, 0x0));		/* host without XSAVE */
}

/* Bit 63 is reserved; supervisor components live in IA32_XSS only. */
TEST(reserved_and_supervisor_bits)
{
	static const int supervisor[] = { 8, 10, 11, 12, 13, 14, 15, 16 };
	unsigned int i;

	EXPECT_FALSE(xcr0_valid(0x3 | 1ULL << 63, ~0ULL));
	EXPECT_FALSE(xcr0_valid(0x3 | 1ULL << 62, SKYLAKE_X));
	for (i = 0; i < ARRAY_SIZE(supervisor); i++)
		EXPECT_FALSE(xcr0_valid(0x3 | 1ULL << supervisor[i], ~0ULL))
			TH_LOG("bit %d", supervisor[i]);
}

TEST(mpx_pair)
{
	EXPECT_FALSE(xcr0_valid(0x0b, SKYLAKE_X));	/* BNDREGS alone */
	EXPECT_FALSE(xcr0_valid(0x13, SKYLAKE_X));	/* BNDCSR alone */
	EXPECT_TRUE(xcr0_valid(0x1b, SKYLAKE_X));
	EXPECT_TRUE(xcr0_valid(0x1f, SKYLAKE_X));
}

/* The value that crashed the host: opmask without the ZMM components. */
TEST(avx512_all_or_none)
{
	static const u64 partial[] = { 0x27, 0x47, 0x87, 0x67, 0xa7, 0xc7 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(partial); i++)
		EXPECT_FALSE(xcr0_valid(partial[i], SKYLAKE_X))
			TH_LOG("xcr0 %#llx", (unsigned long long)partial[i]);
	EXPECT_TRUE(xcr0_valid(0xe7, SKYLAKE_X));
	EXPECT_TRUE(xcr0_valid(0x2ff, SKYLAKE_X));
}

TEST(avx512_needs_avx)
{
	EXPECT_FALSE(xcr0_valid(0xe3, SKYLAKE_X));
	EXPECT_FALSE(xcr0_valid(0xe1, SKYLAKE_X));
}

TEST(amx_pair)
{
	EXPECT_FALSE(xcr0_valid(0x3 | 1ULL << 17, SAPPHIRE));
	EXPECT_FALSE(xcr0_valid(0x3 | 1ULL << 18, SAPPHIRE));
	EXPECT_TRUE(xcr0_valid(0x3 | 1ULL << 17 | 1ULL << 18, SAPPHIRE));
	EXPECT_TRUE(xcr0_valid(0x2e7 | 1ULL << 17 | 1ULL << 18, SAPPHIRE));
	EXPECT_FALSE(xcr0_valid(0x1f, SAPPHIRE));	/* no MPX there */
}

TEST_HARNESS_MAIN
