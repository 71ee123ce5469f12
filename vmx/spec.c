// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of the speculation mitigations: read the host kernel's
 * decisions once at load, ask vmx_mitig_decide() (mitigations.c) what to
 * do, and run the C steps from run.c; VERW and the branch-history and RSB
 * clearing are in vmenter.S.  Documentation/host-state.rst lists them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/moduleparam.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/vmx.h>

#include "mitigations.h"
#include "vmxlab.h"

static bool allow_unmitigated;
module_param(allow_unmitigated, bool, 0444);
MODULE_PARM_DESC(allow_unmitigated,
		 "UNSAFE: load even if a host mitigation cannot be applied to guests");

static u32 vmx_mitig_steps;
static char mitigations[64];
module_param_string(mitigations, mitigations, sizeof(mitigations), 0444);
MODULE_PARM_DESC(mitigations, "speculation mitigations applied to guests (read-only)");

static enum vmx_mitig_l1tf host_l1tf(void)
{
	switch (l1tf_vmx_mitigation) {
	case VMENTER_L1D_FLUSH_NEVER:
		return VMX_L1TF_NEVER;
	case VMENTER_L1D_FLUSH_COND:
		return VMX_L1TF_COND;
	case VMENTER_L1D_FLUSH_ALWAYS:
		return VMX_L1TF_ALWAYS;
	case VMENTER_L1D_FLUSH_EPT_DISABLED:
		return VMX_L1TF_EPT_DISABLED;
	case VMENTER_L1D_FLUSH_NOT_REQUIRED:
		return VMX_L1TF_NOT_REQUIRED;
	default:
		break;
	}
	/*
	 * "auto" until kvm_intel loads: resolve it from the l1tf= boot
	 * choice as l1tf.rst's table does (off: never; flush*: cond;
	 * full*: always).
	 */
	if (!boot_cpu_has_bug(X86_BUG_L1TF))
		return VMX_L1TF_NOT_REQUIRED;
	switch (l1tf_mitigation) {
	case L1TF_MITIGATION_OFF:
		return VMX_L1TF_NEVER;
	case L1TF_MITIGATION_FULL:
	case L1TF_MITIGATION_FULL_FORCE:
		return VMX_L1TF_ALWAYS;
	default:
		return VMX_L1TF_COND;
	}
}

/**
 * vmx_mitig_init() - choose the mitigations; refuse what cannot be done
 *
 * Return: 0, or -EPERM naming the vulnerability left open.
 */
int vmx_mitig_init(void)
{
	struct vmx_mitig_host host = {
		.clear_cpu_buf = boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF_VM),
		.mmio_stale_data = static_branch_unlikely(&mmio_stale_data_clear),
		.l1tf = host_l1tf(),
		.flush_l1d = boot_cpu_has(X86_FEATURE_FLUSH_L1D),
		.clear_bhb_vmexit =
			boot_cpu_has(X86_FEATURE_CLEAR_BHB_LOOP_ON_VMEXIT),
		.rsb_vmexit = boot_cpu_has(X86_FEATURE_RSB_VMEXIT) ||
			      boot_cpu_has(X86_FEATURE_RSB_VMEXIT_LITE),
		.use_ibpb = boot_cpu_has(X86_FEATURE_USE_IBPB),
		.msr_spec_ctrl = boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL),
	};
	struct vmx_mitig_plan plan = vmx_mitig_decide(&host, allow_unmitigated);
	int i, n = 0;

	if (plan.refuse) {
		pr_err("host mitigates %s but vmxlab cannot for guests; allow_unmitigated=1 loads anyway (unsafe)\n",
		       plan.refuse);
		return -EPERM;
	}
	vmx_mitig_steps = plan.steps;
	for (i = 0; i < VMX_MITIG_NR; i++)
		if (plan.steps & BIT(i))
			n += scnprintf(mitigations + n, sizeof(mitigations) - n,
				       "%s%s", n ? "," : "", vmx_mitig_names[i]);
	if (!n)
		strscpy(mitigations, "none", sizeof(mitigations));
	pr_info("speculation mitigations for guests: %s\n", mitigations);
	return 0;
}

/* With interrupts off, just before __vmx_vcpu_run(). */
void vmx_mitig_before_entry(void)
{
	/* l1tf.rst: the guest must not find host data in L1D. */
	if (vmx_mitig_steps & VMX_MITIG_L1D_FLUSH)
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	/* MMIO stale data only: the VERW in vmenter.S covers the rest. */
	else if ((vmx_mitig_steps & VMX_MITIG_VERW_ENTRY) &&
		 !boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF_VM))
		x86_clear_cpu_buffers();
}

/*
 * A VMCS other than the current one was just made current on this CPU
 * (vmx_load_vmcs()): the guest that ran here before must not steer this
 * one's indirect branches (spectre.rst, "IBPB ... between guests"), as
 * KVM's vmx_vcpu_load_vmcs() does.  "Other" is decided by the CPU's
 * current-VMCS pointer, which VMCLEAR resets: a vCPU freed and another
 * allocated at the same address can never look like the same one.
 */
void vmx_mitig_vmcs_switched(void)
{
	if (vmx_mitig_steps & VMX_MITIG_IBPB_LOAD)
		indirect_branch_prediction_barrier();
}
