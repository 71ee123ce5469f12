// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vmx/caps.c, linked into a userspace binary: capability
 * decoding on recorded MSR sets, control-word adjustment and the CR0/CR4
 * fixed-bit check, each against the SDM's definitions restated here.
 */
#include <errno.h>
#include <string.h>

#include <linux/bits.h>
#include "kernel_shim.h"
#include "../../vmx/caps.h"
#include "../vmx_sdm_ref.h"
#include "kselftest_harness.h"

#define BIT32(n)	(1U << (n))

/* Every VMXLAB_CAP_* the uapi defines, spelled out. */
#define ALL_CAPS (VMXLAB_CAP_TRUE_CTLS | VMXLAB_CAP_SECONDARY_CTLS | \
	VMXLAB_CAP_EPT | VMXLAB_CAP_VPID | VMXLAB_CAP_UNRESTRICTED_GUEST | \
	VMXLAB_CAP_MTF | VMXLAB_CAP_ACK_INTR_ON_EXIT | \
	VMXLAB_CAP_VIRTUAL_NMIS | VMXLAB_CAP_PREEMPTION_TIMER | \
	VMXLAB_CAP_TPR_SHADOW | VMXLAB_CAP_MSR_BITMAPS | \
	VMXLAB_CAP_IO_BITMAPS | VMXLAB_CAP_EPT_AD | VMXLAB_CAP_EPT_4LEVEL | \
	VMXLAB_CAP_EPT_WB | VMXLAB_CAP_EPT_2M | VMXLAB_CAP_EPT_1G | \
	VMXLAB_CAP_INVEPT | VMXLAB_CAP_INVVPID | VMXLAB_CAP_NMI_EXITING | \
	VMXLAB_CAP_INTR_WINDOW | VMXLAB_CAP_NMI_WINDOW | \
	VMXLAB_CAP_LOAD_EFER | VMXLAB_CAP_SAVE_EFER | VMXLAB_CAP_LOAD_PAT | \
	VMXLAB_CAP_CR8_EXITING | VMXLAB_CAP_MOV_DR_EXITING | \
	VMXLAB_CAP_HOST_LONG_MODE | VMXLAB_CAP_IA32E_GUEST | \
	VMXLAB_CAP_VIRT_APIC_ACCESSES)

/* What needs EPT, VPID or the secondary controls to be there at all. */
#define EPT_DETAILS (VMXLAB_CAP_EPT_4LEVEL | VMXLAB_CAP_EPT_WB | \
	VMXLAB_CAP_EPT_2M | VMXLAB_CAP_EPT_1G | VMXLAB_CAP_INVEPT | \
	VMXLAB_CAP_EPT_AD)
#define SECONDARY_ONLY (VMXLAB_CAP_SECONDARY_CTLS | VMXLAB_CAP_EPT | \
	VMXLAB_CAP_VPID | VMXLAB_CAP_UNRESTRICTED_GUEST | \
	VMXLAB_CAP_VIRT_APIC_ACCESSES | EPT_DETAILS | VMXLAB_CAP_INVVPID)

/*
 * A Haswell-like client part, control MSRs read from the TRUE_* variants.
 * Every feature vmxlab knows about is there.
 */
static const struct vmxlab_caps haswell = {
	.msr_basic		= 0x00da040000000012ULL,
	.msr_pinbased		= 0x0000007f00000016ULL,
	.msr_procbased		= 0xfff9fffe04006172ULL,
	.msr_exit		= 0x007fffff00036dfbULL,
	.msr_entry		= 0x0000ffff000011fbULL,
	.msr_misc		= 0x00000000300481e5ULL,
	.msr_cr0_fixed0		= 0x0000000080000021ULL,
	.msr_cr0_fixed1		= 0x00000000ffffffffULL,
	.msr_cr4_fixed0		= 0x0000000000002000ULL,
	.msr_cr4_fixed1		= 0x00000000003767ffULL,
	.msr_procbased2		= 0x000077ff00000000ULL,
	.msr_ept_vpid_cap	= 0x00000f0106334141ULL,
};

/* The legacy (non-TRUE) primary controls of the same part. */
#define HASWELL_LEGACY_PROCBASED	0xfff9fffe0401e172ULL

/*
 * A Core 2-like part: no TRUE_* MSRs (IA32_VMX_BASIC[55] clear), no
 * secondary controls, no virtual NMIs, NMI window or preemption timer, no
 * MTF, no EFER/PAT switching.
 */
static const struct vmxlab_caps core2 = {
	.msr_basic		= 0x001a04000000000dULL,
	.msr_pinbased		= 0x0000001f00000016ULL,
	.msr_procbased		= 0x77b9fffe0401e172ULL,
	.msr_exit		= 0x0003ffff00036dffULL,
	.msr_entry		= 0x00003fff000011ffULL,
	.msr_misc		= 0x00000000000403c0ULL,
	.msr_cr0_fixed0		= 0x0000000080000021ULL,
	.msr_cr0_fixed1		= 0x00000000ffffffffULL,
	.msr_cr4_fixed0		= 0x0000000000002000ULL,
	.msr_cr4_fixed1		= 0x00000000000027ffULL,
};

#define CORE2_FEATURES (VMXLAB_CAP_NMI_EXITING | VMXLAB_CAP_INTR_WINDOW | \
	VMXLAB_CAP_TPR_SHADOW | VMXLAB_CAP_CR8_EXITING | \
	VMXLAB_CAP_MOV_DR_EXITING | VMXLAB_CAP_IO_BITMAPS | \
	VMXLAB_CAP_MSR_BITMAPS | VMXLAB_CAP_HOST_LONG_MODE | \
	VMXLAB_CAP_ACK_INTR_ON_EXIT | VMXLAB_CAP_IA32E_GUEST)

/*
 * A Nehalem-like part read without TRUE_* MSRs: secondary controls with
 * EPT (4-level, WB, 2M pages, INVEPT but no A/D bits or 1G pages), VPID
 * with INVVPID, APIC-access virtualisation, no unrestricted guest.
 */
static const struct vmxlab_caps nehalem = {
	.msr_basic		= 0x00da04000000000eULL & ~(1ULL << 55),
	.msr_pinbased		= 0x0000007f00000016ULL,
	.msr_procbased		= 0xfff9fffe0401e172ULL,
	.msr_exit		= 0x007fffff00036dffULL,
	.msr_entry		= 0x0000ffff000011ffULL,
	.msr_misc		= 0x00000000000401e5ULL,
	.msr_cr0_fixed0		= 0x0000000080000021ULL,
	.msr_cr0_fixed1		= 0x00000000ffffffffULL,
	.msr_cr4_fixed0		= 0x0000000000002000ULL,
	.msr_cr4_fixed1		= 0x00000000000027ffULL,
	.msr_procbased2		= 0x0000006b00000000ULL,
	.msr_ept_vpid_cap	= 0x00000f0106114141ULL,
};

#define NEHALEM_FEATURES (ALL_CAPS & ~(VMXLAB_CAP_TRUE_CTLS | \
	VMXLAB_CAP_UNRESTRICTED_GUEST | VMXLAB_CAP_EPT_AD | \
	VMXLAB_CAP_EPT_1G))

/* Report every feature on which @got and @want disagree, by name. */
static int diff_features(struct __test_metadata *_metadata,
			 u64 got, u64 want)
{
	int bad = 0;
	size_t i;

	for (i = 0; i < SDM_NR_FEATURES; i++) {
		const struct sdm_feature *f = &sdm_features[i];

		if (!!(got & f->cap) == !!(want & f->cap))
			continue;
		TH_LOG("%s: decoded %s, expected %s", f->name,
		       got & f->cap ? "yes" : "no", want & f->cap ? "yes" : "no");
		bad++;
	}
	if (got & ~ALL_CAPS) {
		TH_LOG("unknown feature bits 0x%llx", (unsigned long long)(got & ~ALL_CAPS));
		bad++;
	}
	return bad;
}

static struct vmxlab_caps decoded(const struct vmxlab_caps *raw)
{
	struct vmxlab_caps c = *raw;

	vmx_caps_decode(&c);
	return c;
}

/* The reference table must name every feature the uapi has, once. */
TEST(reference_table_covers_uapi)
{
	u64 seen = 0;
	size_t i;

	for (i = 0; i < SDM_NR_FEATURES; i++) {
		EXPECT_EQ(0, seen & sdm_features[i].cap)
			TH_LOG("%s listed twice", sdm_features[i].name);
		seen |= sdm_features[i].cap;
	}
	EXPECT_EQ(ALL_CAPS, seen);
	/* The uapi numbers its features densely from bit 0. */
	EXPECT_EQ(0, ALL_CAPS & (ALL_CAPS + 1));
}

TEST(decode_haswell)
{
	struct vmxlab_caps c = decoded(&haswell);

	EXPECT_EQ(0x12, c.vmcs_revision);
	EXPECT_EQ(1024, c.vmcs_size);
	EXPECT_EQ(0, diff_features(_metadata, c.features, ALL_CAPS));
	EXPECT_EQ(ALL_CAPS, sdm_decode(&haswell));
}

TEST(decode_core2_no_true_ctls_no_secondary)
{
	struct vmxlab_caps c = decoded(&core2);

	EXPECT_EQ(0x0d, c.vmcs_revision);
	EXPECT_EQ(1024, c.vmcs_size);
	EXPECT_EQ(0, diff_features(_metadata, c.features, CORE2_FEATURES));
	EXPECT_EQ(CORE2_FEATURES, sdm_decode(&core2));
}

/*
 * Without "activate secondary controls" the secondary and EPT/VPID MSRs do
 * not exist (SDM A.3.3, A.10): whatever sits in those fields means nothing.
 */
TEST(decode_ignores_secondary_msrs_when_not_allowed)
{
	struct vmxlab_caps raw = core2, c;

	raw.msr_procbased2 = ~0ULL;
	raw.msr_ept_vpid_cap = ~0ULL;
	c = decoded(&raw);
	EXPECT_EQ(0, diff_features(_metadata, c.features, CORE2_FEATURES));
}

TEST(decode_nehalem_no_true_ctls)
{
	struct vmxlab_caps c = decoded(&nehalem);

	EXPECT_EQ(0x0e, c.vmcs_revision);
	EXPECT_EQ(1024, c.vmcs_size);
	EXPECT_EQ(0, diff_features(_metadata, c.features, NEHALEM_FEATURES));
	EXPECT_EQ(NEHALEM_FEATURES, sdm_decode(&nehalem));
}

TEST(decode_ept_without_invept)
{
	struct vmxlab_caps raw = haswell, c;

	raw.msr_ept_vpid_cap &= ~(1ULL << 20);
	c = decoded(&raw);
	EXPECT_EQ(0, diff_features(_metadata, c.features,
				   ALL_CAPS & ~VMXLAB_CAP_INVEPT));
}

TEST(decode_vpid_without_invvpid)
{
	struct vmxlab_caps raw = haswell, c;

	raw.msr_ept_vpid_cap &= ~(1ULL << 32);
	c = decoded(&raw);
	EXPECT_EQ(0, diff_features(_metadata, c.features,
				   ALL_CAPS & ~VMXLAB_CAP_INVVPID));
}

/* EPT capability bits are meaningless when EPT itself cannot be enabled. */
TEST(decode_ept_caps_without_ept)
{
	struct vmxlab_caps raw = haswell, c;

	raw.msr_procbased2 &= ~(1ULL << 33);
	c = decoded(&raw);
	EXPECT_EQ(0, diff_features(_metadata, c.features,
				   ALL_CAPS & ~(VMXLAB_CAP_EPT | EPT_DETAILS)));
}

TEST(decode_invvpid_without_vpid)
{
	struct vmxlab_caps raw = haswell, c;

	raw.msr_procbased2 &= ~(1ULL << 37);
	c = decoded(&raw);
	EXPECT_EQ(0, diff_features(_metadata, c.features,
				   ALL_CAPS & ~(VMXLAB_CAP_VPID | VMXLAB_CAP_INVVPID)));
}

TEST(decode_no_secondary_drops_everything_behind_it)
{
	struct vmxlab_caps raw = haswell, c;

	raw.msr_procbased &= ~(1ULL << 63);
	c = decoded(&raw);
	EXPECT_EQ(0, diff_features(_metadata, c.features,
				   ALL_CAPS & ~SECONDARY_ONLY));
}

/* CR8 exiting means both the load and the store exit are available. */
TEST(decode_cr8_needs_load_and_store)
{
	struct vmxlab_caps raw = haswell, c;

	raw.msr_procbased &= ~(1ULL << (32 + 19));
	c = decoded(&raw);
	EXPECT_EQ(0, c.features & VMXLAB_CAP_CR8_EXITING);
	raw = haswell;
	raw.msr_procbased &= ~(1ULL << (32 + 20));
	c = decoded(&raw);
	EXPECT_EQ(0, c.features & VMXLAB_CAP_CR8_EXITING);
}

/* A must-be-one bit (allowed-0 half) grants nothing by itself. */
TEST(decode_reads_allowed1_half_only)
{
	struct vmxlab_caps raw = { 0 }, c;

	raw.msr_pinbased = 0x00000000ffffffffULL;
	raw.msr_procbased = 0x00000000ffffffffULL;
	raw.msr_exit = 0x00000000ffffffffULL;
	raw.msr_entry = 0x00000000ffffffffULL;
	raw.msr_procbased2 = 0x00000000ffffffffULL;
	c = decoded(&raw);
	EXPECT_EQ(0, diff_features(_metadata, c.features, 0));
}

/*
 * Take each feature's granting bit away in turn: exactly that feature (and
 * what depends on it) must go.
 */
TEST(decode_each_feature_bit)
{
	size_t i;
	int pass;

	for (i = 0; i < SDM_NR_FEATURES; i++) {
		const struct sdm_feature *f = &sdm_features[i];

		for (pass = 0; pass < 2; pass++) {
			int bit = pass ? f->bit2 : f->bit;
			struct vmxlab_caps raw = haswell, c;
			u64 want;

			if (bit < 0)
				continue;
			switch (f->msr) {
			case SDM_BASIC:
				raw.msr_basic &= ~(1ULL << bit);
				break;
			case SDM_PIN:
				raw.msr_pinbased &= ~(1ULL << bit);
				break;
			case SDM_PROC:
				raw.msr_procbased &= ~(1ULL << bit);
				break;
			case SDM_PROC2:
				raw.msr_procbased2 &= ~(1ULL << bit);
				break;
			case SDM_EXIT:
				raw.msr_exit &= ~(1ULL << bit);
				break;
			case SDM_ENTRY:
				raw.msr_entry &= ~(1ULL << bit);
				break;
			case SDM_EPT_VPID:
				raw.msr_ept_vpid_cap &= ~(1ULL << bit);
				break;
			}
			want = sdm_decode(&raw);
			EXPECT_EQ(0, want & f->cap);
			c = decoded(&raw);
			EXPECT_EQ(0, diff_features(_metadata, c.features, want))
				TH_LOG("with bit %d of the %s MSR cleared", bit, f->name);
		}
	}
}

/*
 * IA32_VMX_BASIC: revision in 30:0 (bit 31 is not part of it), size in
 * 44:32; neighbouring bits must not leak into either.
 */
TEST(decode_revision_and_size_fields)
{
	struct vmxlab_caps raw = { 0 }, c;

	raw.msr_basic = 0xffffffffULL | (0x1000ULL << 32) | (0x7ULL << 45) |
			(1ULL << 48) | (6ULL << 50) | (1ULL << 55);
	c = decoded(&raw);
	EXPECT_EQ(0x7fffffff, c.vmcs_revision);
	EXPECT_EQ(4096, c.vmcs_size);
	EXPECT_EQ(VMXLAB_CAP_TRUE_CTLS, c.features);

	raw.msr_basic = 0x1fffULL << 32;
	c = decoded(&raw);
	EXPECT_EQ(0, c.vmcs_revision);
	EXPECT_EQ(0x1fff, c.vmcs_size);
	EXPECT_EQ(0, c.features);
}

/* Decoding overwrites the decoded fields and leaves the raw ones alone. */
TEST(decode_overwrites_stale_fields_only)
{
	struct vmxlab_caps c = core2;

	c.features = ~0ULL;
	c.vmcs_revision = ~0U;
	c.vmcs_size = ~0U;
	vmx_caps_decode(&c);
	EXPECT_EQ(0, diff_features(_metadata, c.features, CORE2_FEATURES));
	EXPECT_EQ(0x0d, c.vmcs_revision);
	EXPECT_EQ(1024, c.vmcs_size);
	EXPECT_EQ(0, memcmp(&c.msr_basic, &core2.msr_basic,
			    sizeof(c) - offsetof(struct vmxlab_caps, msr_basic)));
}

/* --- vmx_adjust_controls(): SDM Vol. 3D, A.3.1 --- */

TEST(adjust_required_missing_fails_untouched)
{
	/* Bit 17 (activate tertiary controls) is not allowed on haswell. */
	u32 ctl = 0xdeadbeef;

	EXPECT_EQ(-EOPNOTSUPP, vmx_adjust_controls(haswell.msr_procbased,
						   BIT32(7) | BIT32(17), BIT32(28), &ctl));
	EXPECT_EQ(0xdeadbeef, ctl);

	/* Preemption timer required on a CPU without it. */
	EXPECT_EQ(-EOPNOTSUPP, vmx_adjust_controls(core2.msr_pinbased,
						   BIT32(6), 0, &ctl));
	EXPECT_EQ(0xdeadbeef, ctl);

	/* Nothing may be 1 at all. */
	EXPECT_EQ(-EOPNOTSUPP, vmx_adjust_controls(0, BIT32(0), 0, &ctl));
	EXPECT_EQ(0xdeadbeef, ctl);
}

TEST(adjust_forces_must_be_one_bits)
{
	u32 ctl = 0;

	/* Pin-based default1 bits 1, 2 and 4 come back even if not asked. */
	EXPECT_EQ(0, vmx_adjust_controls(haswell.msr_pinbased, 0, 0, &ctl));
	EXPECT_EQ(0x16, ctl);

	/*
	 * The legacy procbased MSR forces CR3-load/store exiting (bits 15,
	 * 16); the TRUE one lets them be cleared.  Ask for HLT exiting, MSR
	 * bitmaps and the secondary controls.
	 */
	EXPECT_EQ(0, vmx_adjust_controls(HASWELL_LEGACY_PROCBASED,
					 BIT32(7) | BIT32(28) | BIT32(31), 0, &ctl));
	EXPECT_EQ(0x9401e1f2, ctl);
	EXPECT_EQ(0, vmx_adjust_controls(haswell.msr_procbased,
					 BIT32(7) | BIT32(28) | BIT32(31), 0, &ctl));
	EXPECT_EQ(0x940061f2, ctl);
}

TEST(adjust_drops_unavailable_optional_bits)
{
	u32 ctl = 0;

	/* Want external-interrupt + NMI exiting, like vNMI + timer. */
	EXPECT_EQ(0, vmx_adjust_controls(core2.msr_pinbased,
					 BIT32(0) | BIT32(3), BIT32(5) | BIT32(6), &ctl));
	EXPECT_EQ(0x1f, ctl);
	EXPECT_EQ(0, vmx_adjust_controls(haswell.msr_pinbased,
					 BIT32(0) | BIT32(3), BIT32(5) | BIT32(6), &ctl));
	EXPECT_EQ(0x7f, ctl);

	/* Optional bits outside allowed-1 never turn into a failure. */
	EXPECT_EQ(0, vmx_adjust_controls(0, 0, ~0U, &ctl));
	EXPECT_EQ(0, ctl);
}

TEST(adjust_everything_allowed)
{
	u32 ctl = 0;

	EXPECT_EQ(0, vmx_adjust_controls(0xffffffff00000000ULL, ~0U, 0, &ctl));
	EXPECT_EQ(0xffffffff, ctl);
	EXPECT_EQ(0, vmx_adjust_controls(0xffffffff00000000ULL, 0, 0, &ctl));
	EXPECT_EQ(0, ctl);
}

/*
 * Random capability words (with allowed-0 inside allowed-1, as the SDM
 * guarantees) and random wishes: the result must be the smallest legal
 * word holding every requested bit the CPU allows.
 */
TEST(adjust_random_words_obey_sdm)
{
	u64 seed = 0x2545f4914f6cdd1dULL;
	int i, bad = 0;

	for (i = 0; i < 20000 && bad < 5; i++) {
		u32 may1, must1, req, opt, ctl = 0x5a5a5a5a;
		int ret;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		may1 = seed >> 32;
		must1 = may1 & (u32)seed & (u32)(seed >> 16);
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		req = (seed >> 32) & (seed >> 8) & (seed >> 21);
		opt = (u32)seed;
		if (i & 1)
			req &= may1;	/* half the time, satisfiable */

		ret = vmx_adjust_controls(((u64)may1 << 32) | must1, req, opt, &ctl);
		if (req & ~may1) {
			if (ret != -EOPNOTSUPP || ctl != 0x5a5a5a5a) {
				TH_LOG("may1 %08x must1 %08x req %08x: ret %d ctl %08x",
				       may1, must1, req, ret, ctl);
				bad++;
			}
			continue;
		}
		if (ret != 0 || (ctl & must1) != must1 || (ctl & ~may1) ||
		    (ctl & req) != req || (ctl & opt & may1) != (opt & may1) ||
		    (ctl & ~(must1 | req | opt))) {
			TH_LOG("may1 %08x must1 %08x req %08x opt %08x: ret %d ctl %08x",
			       may1, must1, req, opt, ret, ctl);
			bad++;
		}
	}
	EXPECT_EQ(0, bad);
}

/* --- vmx_cr_fixed_ok(): SDM Vol. 3D, A.7 and A.8 --- */

#define CR0_FIXED0	0x80000021ULL	/* PG, NE, PE */
#define CR0_FIXED1	0xffffffffULL
#define CR4_FIXED0	0x00002000ULL	/* VMXE */
#define CR4_FIXED1	0x003767ffULL

TEST(cr0_fixed_bits)
{
	/* A normal 64-bit kernel CR0: PG AM WP NE ET MP PE. */
	EXPECT_TRUE(vmx_cr_fixed_ok(0x80050033ULL, CR0_FIXED0, CR0_FIXED1));
	EXPECT_TRUE(vmx_cr_fixed_ok(CR0_FIXED0, CR0_FIXED0, CR0_FIXED1));
	EXPECT_FALSE(vmx_cr_fixed_ok(0x80050032ULL, CR0_FIXED0, CR0_FIXED1));
	EXPECT_FALSE(vmx_cr_fixed_ok(0x80050013ULL, CR0_FIXED0, CR0_FIXED1));
	EXPECT_FALSE(vmx_cr_fixed_ok(0x00050033ULL, CR0_FIXED0, CR0_FIXED1));
	EXPECT_FALSE(vmx_cr_fixed_ok(0, CR0_FIXED0, CR0_FIXED1));
	/* Bits 63:32 are clear in FIXED1, so must be clear in CR0. */
	EXPECT_FALSE(vmx_cr_fixed_ok(0x80050033ULL | (1ULL << 32),
				     CR0_FIXED0, CR0_FIXED1));
	EXPECT_FALSE(vmx_cr_fixed_ok(0x80050033ULL | (1ULL << 63),
				     CR0_FIXED0, CR0_FIXED1));
}

TEST(cr4_fixed_bits)
{
	EXPECT_TRUE(vmx_cr_fixed_ok(0x003626e0ULL, CR4_FIXED0, CR4_FIXED1));
	/* VMXE clear */
	EXPECT_FALSE(vmx_cr_fixed_ok(0x003606e0ULL, CR4_FIXED0, CR4_FIXED1));
	/* LA57 (bit 12) is not allowed by this FIXED1 */
	EXPECT_FALSE(vmx_cr_fixed_ok(0x003636e0ULL, CR4_FIXED0, CR4_FIXED1));
	EXPECT_TRUE(vmx_cr_fixed_ok(CR4_FIXED1, CR4_FIXED0, CR4_FIXED1));
	EXPECT_FALSE(vmx_cr_fixed_ok(CR4_FIXED1 | (1ULL << 31),
				     CR4_FIXED0, CR4_FIXED1));
}

TEST(cr_fixed_degenerate_masks)
{
	/* No constraints at all. */
	EXPECT_TRUE(vmx_cr_fixed_ok(0, 0, ~0ULL));
	EXPECT_TRUE(vmx_cr_fixed_ok(~0ULL, 0, ~0ULL));
	/* FIXED0 == FIXED1: exactly one legal value. */
	EXPECT_TRUE(vmx_cr_fixed_ok(0x1234, 0x1234, 0x1234));
	EXPECT_FALSE(vmx_cr_fixed_ok(0x1235, 0x1234, 0x1234));
	EXPECT_FALSE(vmx_cr_fixed_ok(0x1230, 0x1234, 0x1234));
	/* Everything forbidden: only 0 passes. */
	EXPECT_TRUE(vmx_cr_fixed_ok(0, 0, 0));
	EXPECT_FALSE(vmx_cr_fixed_ok(1ULL << 63, 0, 0));
	/* Everything required. */
	EXPECT_TRUE(vmx_cr_fixed_ok(~0ULL, ~0ULL, ~0ULL));
	EXPECT_FALSE(vmx_cr_fixed_ok(~0ULL >> 1, ~0ULL, ~0ULL));
}

/*
 * Which VM types a CPU can run (vmx_vmcs_config_build()).  EPT VMs need
 * EPT and unrestricted guest (SDM Vol. 3C, 26.2.1.1: UG needs EPT);
 * shadow-paging VMs need CR3-load, CR3-store and INVLPG exiting (primary
 * controls bits 15, 16, 9) and neither.
 */
#define CTL_INVLPG_EXITING	BIT(9)
#define CTL_CR3_LOAD_EXITING	BIT(15)
#define CTL_CR3_STORE_EXITING	BIT(16)
#define CTL2_EPT		BIT(1)
#define CTL2_VPID		BIT(5)
#define CTL2_UG			BIT(7)

static struct vmx_vmcs_config config_of(const struct vmxlab_caps *raw)
{
	struct vmxlab_caps c = decoded(raw);
	struct vmx_vmcs_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	vmx_vmcs_config_build(&c, true, &cfg);
	return cfg;
}

TEST(vm_types_haswell_both)
{
	struct vmx_vmcs_config c = config_of(&haswell);
	const u32 shadow_exits = CTL_INVLPG_EXITING | CTL_CR3_LOAD_EXITING |
				 CTL_CR3_STORE_EXITING;

	EXPECT_TRUE(c.usable);
	EXPECT_TRUE(c.usable_shadow);
	/* TRUE controls let EPT VMs run CR3 and INVLPG natively. */
	EXPECT_EQ(0U, c.proc & shadow_exits);
	EXPECT_EQ(shadow_exits, c.proc_shadow & shadow_exits);
	EXPECT_EQ(CTL2_EPT | CTL2_UG, c.proc2 & (CTL2_EPT | CTL2_UG));
	/* Shadow VMs: no EPT, no unrestricted guest, no VPID. */
	EXPECT_EQ(0U, c.proc2_shadow & (CTL2_EPT | CTL2_UG | CTL2_VPID));
}

/* Nehalem: EPT but no unrestricted guest, so shadow paging only. */
TEST(vm_types_nehalem_shadow_only)
{
	struct vmx_vmcs_config c = config_of(&nehalem);

	EXPECT_FALSE(c.usable);
	EXPECT_TRUE(c.usable_shadow);
}

/* No secondary controls, hence no MSR-bitmap-era guards either: neither. */
TEST(vm_types_core2_none)
{
	struct vmx_vmcs_config c = config_of(&core2);

	EXPECT_FALSE(c.usable);
	EXPECT_FALSE(c.usable_shadow);
}

/* Without INVLPG exiting shadow paging cannot see the guest's flushes. */
TEST(vm_types_shadow_needs_invlpg_exiting)
{
	struct vmxlab_caps raw = haswell;
	struct vmx_vmcs_config c;

	raw.msr_procbased &= ~((u64)CTL_INVLPG_EXITING << 32);
	c = config_of(&raw);
	EXPECT_TRUE(c.usable);
	EXPECT_FALSE(c.usable_shadow);
}

TEST_HARNESS_MAIN
