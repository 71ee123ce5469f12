// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vmx/mitigations.c: which steps run around VM entry for a
 * given host.  Each expectation is what the host kernel documents for that
 * bug in Documentation/admin-guide/hw-vuln/ (and what kvm_intel does under
 * the same decision), written out here rather than taken from the code.
 */
#include <stdbool.h>
#include <linux/types.h>

#include "kselftest_harness.h"

typedef __u32 u32;
typedef __u64 u64;
#include "../../vmx/mitigations.h"

/* A host with no bug mitigated (the Bochs models; mitigations=off). */
static const struct vmx_mitig_host none = { .l1tf = VMX_L1TF_NOT_REQUIRED };

TEST(nothing_to_do)
{
	struct vmx_mitig_plan p = vmx_mitig_decide(&none);

	EXPECT_EQ(0, p.steps);
	EXPECT_FALSE(p.l1d_flush_by_reads);
}

/* mds.rst: the host clears CPU buffers on return to user: VERW on entry. */
TEST(clear_cpu_buf_gives_verw)
{
	struct vmx_mitig_host h = none;

	h.clear_cpu_buf = true;
	EXPECT_EQ(1u << 0, vmx_mitig_decide(&h).steps);
	h.clear_cpu_buf = false;
	h.mmio_stale_data = true;
	EXPECT_EQ(1u << 0, vmx_mitig_decide(&h).steps);
}

/*
 * l1tf.rst: cond/always/auto flush, never/EPT off/not affected do not;
 * only "always" flushes before every entry, the others after host
 * activity (kvm_intel resolves "auto" to "cond").
 */
TEST(l1tf_states)
{
	static const struct {
		enum vmx_mitig_l1tf s;
		bool flush, always;
	} cases[] = {
		{ VMX_L1TF_AUTO, true, false }, { VMX_L1TF_COND, true, false },
		{ VMX_L1TF_ALWAYS, true, true }, { VMX_L1TF_NEVER, false, false },
		{ VMX_L1TF_EPT_DISABLED, false, false },
		{ VMX_L1TF_NOT_REQUIRED, false, false },
	};
	struct vmx_mitig_host h = none;
	unsigned int i;

	h.flush_l1d = true;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmx_mitig_plan p;

		h.l1tf = cases[i].s;
		p = vmx_mitig_decide(&h);
		EXPECT_EQ(cases[i].flush * (1u << 1), p.steps);
		EXPECT_FALSE(p.l1d_flush_by_reads) TH_LOG("the CPU has FLUSH_CMD");
		EXPECT_EQ(cases[i].always, p.l1d_flush_always) TH_LOG("case %u", i);
	}
}

/*
 * No FLUSH_CMD MSR: still a flush, by reading a buffer larger than L1D
 * (l1tf.rst: "the software flush"), as kvm_intel does; never a refusal.
 */
TEST(l1tf_without_flush_msr_flushes_by_reads)
{
	struct vmx_mitig_host h = none;
	struct vmx_mitig_plan p;

	h.l1tf = VMX_L1TF_COND;
	p = vmx_mitig_decide(&h);
	EXPECT_EQ(1u << 1, p.steps);
	EXPECT_TRUE(p.l1d_flush_by_reads);
	/* "never" was the admin's choice: no flush at all. */
	h.l1tf = VMX_L1TF_NEVER;
	p = vmx_mitig_decide(&h);
	EXPECT_EQ(0, p.steps);
}

TEST(one_step_per_host_decision)
{
	struct vmx_mitig_host h = none;

	h.clear_bhb_vmexit = true;
	EXPECT_EQ(1u << 2, vmx_mitig_decide(&h).steps);
	h = none;
	h.rsb_vmexit = true;
	EXPECT_EQ(1u << 3, vmx_mitig_decide(&h).steps);
	h = none;
	h.use_ibpb = true;
	EXPECT_EQ(1u << 4, vmx_mitig_decide(&h).steps);
	h = none;
	h.msr_spec_ctrl = true;
	EXPECT_EQ(1u << 5, vmx_mitig_decide(&h).steps);
	/* vmscape.rst: IBPB before the VMM's next return to user mode. */
	h = none;
	h.ibpb_exit_to_user = true;
	EXPECT_EQ(1u << 6, vmx_mitig_decide(&h).steps);
}

/* A fully mitigated Skylake: everything at once. */
TEST(skylake_all)
{
	struct vmx_mitig_host h = {
		.clear_cpu_buf = true, .l1tf = VMX_L1TF_COND,
		.flush_l1d = true, .clear_bhb_vmexit = true,
		.rsb_vmexit = true, .use_ibpb = true, .msr_spec_ctrl = true,
		.ibpb_exit_to_user = true,
	};
	struct vmx_mitig_plan p = vmx_mitig_decide(&h);

	EXPECT_EQ(0x7fu, p.steps);
	EXPECT_FALSE(p.l1d_flush_by_reads);
}

TEST(names)
{
	EXPECT_STREQ("verw", vmx_mitig_names[0]);
	EXPECT_STREQ("spec_ctrl", vmx_mitig_names[5]);
	EXPECT_STREQ("ibpb_exit_to_user", vmx_mitig_names[6]);
}

TEST_HARNESS_MAIN
