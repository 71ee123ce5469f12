// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vmx/cpuid_policy.c: the default CPUID table advertises a
 * feature only if vmxlab makes it work.  The host here has every bit set,
 * so each test shows what the rule removes; bit positions are from the
 * SDM (Vol. 2A, CPUID), written out rather than taken from the file.
 */
#include <stdbool.h>
#include <string.h>
#include <linux/types.h>

#include "kselftest_harness.h"

typedef __u32 u32;
typedef __u64 u64;
#include "../../vmx/cpuid_policy.h"

enum { EAX, EBX, ECX, EDX };

/* The leaf as a host with every feature would report it, filtered. */
static void filtered(u32 function, u32 index, u64 xcr0, u32 regs[4])
{
	const struct cpuid_host host = { .xcr0 = xcr0 };

	memset(regs, 0xff, 4 * sizeof(*regs));
	cpuid_policy_filter(function, index, regs, &host);
}

#define BIT32(n)	(1U << (n))

TEST(leaf1_hides_what_has_no_backing)
{
	u32 r[4];

	filtered(1, 0, 0x7, r);
	EXPECT_EQ(0, r[ECX] & BIT32(5)) TH_LOG("VMX");
	EXPECT_EQ(0, r[ECX] & BIT32(3)) TH_LOG("MONITOR");
	EXPECT_EQ(0, r[ECX] & BIT32(15)) TH_LOG("PDCM");
	EXPECT_EQ(0, r[ECX] & BIT32(17)) TH_LOG("PCID");
	EXPECT_EQ(0, r[ECX] & BIT32(21)) TH_LOG("x2APIC");
	EXPECT_EQ(0, r[ECX] & BIT32(24)) TH_LOG("TSC deadline");
	EXPECT_EQ(0, r[EDX] & BIT32(9)) TH_LOG("APIC");
	EXPECT_EQ(0, r[EDX] & BIT32(12)) TH_LOG("MTRR");
	EXPECT_EQ(0, r[EDX] & (BIT32(7) | BIT32(14))) TH_LOG("MCE, MCA");
	EXPECT_EQ(~0U, r[EAX]) TH_LOG("the signature passes through");
	/* What runs natively stays. */
	EXPECT_NE(0, r[ECX] & BIT32(30)) TH_LOG("RDRAND");
	EXPECT_NE(0, r[ECX] & BIT32(23)) TH_LOG("POPCNT");
	EXPECT_NE(0, r[EDX] & BIT32(26)) TH_LOG("SSE2");
	EXPECT_NE(0, r[EDX] & BIT32(11)) TH_LOG("SEP: SYSENTER MSRs emulated");
}

TEST(xsave_and_vex_follow_the_host_xcr0)
{
	u32 r[4];

	filtered(1, 0, 0x7, r);
	EXPECT_NE(0, r[ECX] & BIT32(26)) TH_LOG("XSAVE");
	EXPECT_NE(0, r[ECX] & BIT32(28)) TH_LOG("AVX");
	filtered(1, 0, 0x3, r);
	EXPECT_NE(0, r[ECX] & BIT32(26)) TH_LOG("XSAVE");
	EXPECT_EQ(0, r[ECX] & (BIT32(12) | BIT32(28) | BIT32(29)))
		TH_LOG("FMA, AVX, F16C need the AVX state");
	filtered(1, 0, 0, r);
	EXPECT_EQ(0, r[ECX] & (BIT32(26) | BIT32(28))) TH_LOG("no XSAVE host");
	filtered(0xd, 0, 0, r);
	EXPECT_EQ(0, r[EAX] | r[EBX] | r[ECX] | r[EDX]);
}

TEST(leaf7_hides_exit_backed_and_msr_features)
{
	u32 r[4];

	filtered(7, 0, 0xe7, r);
	EXPECT_EQ(0, r[EAX]) TH_LOG("no subleaves offered");
	EXPECT_EQ(0, r[EBX] & BIT32(10)) TH_LOG("INVPCID");
	EXPECT_EQ(0, r[EBX] & BIT32(1)) TH_LOG("TSC_ADJUST");
	EXPECT_EQ(0, r[EBX] & BIT32(14)) TH_LOG("MPX");
	EXPECT_EQ(0, r[ECX] & (BIT32(3) | BIT32(4))) TH_LOG("PKU, OSPKE");
	EXPECT_EQ(0, r[ECX] & BIT32(22)) TH_LOG("RDPID");
	EXPECT_EQ(0, r[EDX] & (BIT32(26) | BIT32(27) | BIT32(29) | BIT32(31)))
		TH_LOG("SPEC_CTRL, STIBP, ARCH_CAPABILITIES, SSBD");
	EXPECT_NE(0, r[EBX] & BIT32(16)) TH_LOG("AVX512F with its XCR0 bits");
	EXPECT_NE(0, r[EBX] & BIT32(5)) TH_LOG("AVX2");
	EXPECT_NE(0, r[EBX] & BIT32(0)) TH_LOG("FSGSBASE");
	filtered(7, 0, 0x7, r);
	EXPECT_EQ(0, r[EBX] & BIT32(16)) TH_LOG("AVX512F without its XCR0 bits");
	filtered(7, 1, 0xe7, r);
	EXPECT_EQ(0, r[EAX] | r[EBX] | r[ECX] | r[EDX]);
}

TEST(extended_leaves)
{
	u32 r[4];

	filtered(0x80000001, 0, 0x7, r);
	EXPECT_EQ(0, r[EDX] & BIT32(27)) TH_LOG("RDTSCP");
	EXPECT_NE(0, r[EDX] & BIT32(11)) TH_LOG("SYSCALL: its MSRs are switched");
	EXPECT_NE(0, r[EDX] & BIT32(29)) TH_LOG("LM");
	EXPECT_NE(0, r[EDX] & BIT32(20)) TH_LOG("NX");
	filtered(0x80000008, 0, 0x7, r);
	EXPECT_EQ(0, r[EBX]) TH_LOG("IBPB and friends");
	EXPECT_EQ(~0U, r[EAX]) TH_LOG("address sizes pass through");
}

TEST(hidden_leaves_read_as_zeros)
{
	static const u32 leaves[] = { 0x5, 0x6, 0xa, 0x12, 0x14 };
	unsigned int i;
	u32 r[4];

	for (i = 0; i < ARRAY_SIZE(leaves); i++) {
		filtered(leaves[i], 0, 0x7, r);
		EXPECT_EQ(0, r[EAX] | r[EBX] | r[ECX] | r[EDX])
			TH_LOG("leaf %#x", leaves[i]);
	}
	filtered(0x4, 0, 0x7, r);
	EXPECT_EQ(~0U, r[EAX] & r[EBX] & r[ECX] & r[EDX]) TH_LOG("cache leaf");
}

TEST(xsave_leaf_lists_only_host_components)
{
	u32 r[4];

	filtered(0xd, 0, 0x7, r);
	EXPECT_EQ(0x7, r[EAX]);
	EXPECT_EQ(0, r[EDX]);
	filtered(0xd, 1, 0x7, r);
	EXPECT_EQ(0, r[EAX] & BIT32(3)) TH_LOG("XSAVES");
	EXPECT_EQ(0, r[ECX] | r[EDX]) TH_LOG("IA32_XSS components");
	filtered(0xd, 5, 0x7, r);
	EXPECT_EQ(0, r[EAX] | r[EBX] | r[ECX] | r[EDX]) TH_LOG("opmask");
	filtered(0xd, 2, 0x7, r);
	EXPECT_EQ(~0U, r[EAX]) TH_LOG("AVX state size");
}

TEST_HARNESS_MAIN
