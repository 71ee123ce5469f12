// SPDX-License-Identifier: GPL-2.0
/*
 * The mitigation choice: for each CPU bug the host kernel mitigates, the
 * step a VM entry or exit must add so that a guest gets no more than a
 * host user task would.  Called once at module load (main.c); the steps
 * are carried out by vmenter.S and run.c.  Each rule follows the host
 * kernel's documented behaviour in Documentation/admin-guide/hw-vuln/.
 */
#include "mitigations.h"

const char * const vmx_mitig_names[VMX_MITIG_NR] = {
	"verw", "l1d_flush", "bhb_clear", "rsb_fill", "ibpb", "spec_ctrl",
	"ibpb_exit_to_user",
};

/*
 * L1TF (l1tf.rst): the host flushes L1D before entry unless the admin said
 * "never", EPT is off, or the CPU is not affected; "always" before every
 * entry, "conditional" (and "auto", which kvm_intel would resolve so) only
 * after host activity that may have left secrets in L1D (spec.c).
 */
static bool l1tf_wants_flush(enum vmx_mitig_l1tf l1tf)
{
	switch (l1tf) {
	case VMX_L1TF_AUTO:
	case VMX_L1TF_COND:
	case VMX_L1TF_ALWAYS:
		return true;
	default:
		return false;
	}
}

/**
 * vmx_mitig_decide() - the steps to run around VM entry for this host
 * @host: the host kernel's feature bits and decisions
 *
 * Return: the steps, and how the L1D flush is done.
 */
struct vmx_mitig_plan vmx_mitig_decide(const struct vmx_mitig_host *host)
{
	struct vmx_mitig_plan plan = { .steps = 0 };

	/*
	 * MDS, TAA, RFDS, MMIO stale data (mds.rst, tsx_async_abort.rst,
	 * processor_mmio_stale_data.rst): the host VERWs on the way to user
	 * mode, so the same must happen on the way to a guest.
	 */
	if (host->clear_cpu_buf || host->mmio_stale_data)
		plan.steps |= VMX_MITIG_VERW_ENTRY;

	/*
	 * Without the FLUSH_CMD MSR, as in KVM, by reading a buffer larger
	 * than L1D so that every line holds vmxlab's data instead.
	 */
	if (l1tf_wants_flush(host->l1tf)) {
		plan.steps |= VMX_MITIG_L1D_FLUSH;
		plan.l1d_flush_by_reads = !host->flush_l1d;
		plan.l1d_flush_always = host->l1tf == VMX_L1TF_ALWAYS;
	}

	/* BHI (spectre.rst): the clearing sequence after exit. */
	if (host->clear_bhb_vmexit)
		plan.steps |= VMX_MITIG_BHB_CLEAR;

	/* Spectre v2 RSB underflow / PBRSB (spectre.rst). */
	if (host->rsb_vmexit)
		plan.steps |= VMX_MITIG_RSB_FILL;

	/* Spectre v2 between guests: IBPB as on a task switch. */
	if (host->use_ibpb)
		plan.steps |= VMX_MITIG_IBPB_LOAD;

	/* IBRS/STIBP/SSBD: the host's value must be back before any RET. */
	if (host->msr_spec_ctrl)
		plan.steps |= VMX_MITIG_SPEC_CTRL;

	/*
	 * VMSCAPE (vmscape.rst): a guest may have trained the branch
	 * predictors that the VMM's user code then uses; the host issues
	 * an IBPB on the next return to user mode of a task that ran one.
	 */
	if (host->ibpb_exit_to_user)
		plan.steps |= VMX_MITIG_IBPB_EXIT;

	return plan;
}
