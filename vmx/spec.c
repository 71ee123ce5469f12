// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of the speculation mitigations: read the host kernel's
 * decisions once at load, ask vmx_mitig_decide() (mitigations.c) what to
 * do, and run the C steps from run.c; VERW and the branch-history and RSB
 * clearing are in vmenter.S.  Documentation/host-state.rst lists them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cache.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <asm/cpufeature.h>
#include <asm/hardirq.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/vmx.h>

#include "mitigations.h"
#include "vmxlab.h"

static u32 vmx_mitig_steps;
static bool l1d_flush_always;
DEFINE_STATIC_KEY_FALSE(vmx_mitig_entry_work);
DEFINE_STATIC_KEY_FALSE(vmx_mitig_exit_work);
static char mitigations[64];
module_param_string(mitigations, mitigations, sizeof(mitigations), 0444);
MODULE_PARM_DESC(mitigations, "speculation mitigations applied to guests (read-only)");

/*
 * The L1D flush without the FLUSH_CMD MSR: reading a buffer four times the
 * size of any Intel L1D (32 or 48 KiB) leaves no line of the host's data in
 * it.  The pages hold different bytes, so that nothing (KSM in a nested
 * setup) can merge them into one.
 */
#define L1D_FLUSH_ORDER		4
#define L1D_FLUSH_SIZE		(PAGE_SIZE << L1D_FLUSH_ORDER)
static u8 *l1d_flush_buf;

static int l1d_flush_buf_alloc(void)
{
	struct page *page = alloc_pages(GFP_KERNEL, L1D_FLUSH_ORDER);
	int i;

	if (!page)
		return -ENOMEM;
	l1d_flush_buf = page_address(page);
	for (i = 0; i < 1 << L1D_FLUSH_ORDER; i++)
		memset(l1d_flush_buf + i * PAGE_SIZE, i + 1, PAGE_SIZE);
	return 0;
}

static void l1d_flush_by_reads(void)
{
	unsigned int eax = 0, ebx, ecx = 0, edx, off;

	/* Every page in the TLB first, so that the fill takes no page walk. */
	for (off = 0; off < L1D_FLUSH_SIZE; off += PAGE_SIZE)
		READ_ONCE(l1d_flush_buf[off]);
	native_cpuid(&eax, &ebx, &ecx, &edx);	/* serialise */
	for (off = 0; off < L1D_FLUSH_SIZE; off += L1_CACHE_BYTES)
		READ_ONCE(l1d_flush_buf[off]);
	rmb();		/* LFENCE: the loads are done before VM entry */
}

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
 * vmx_mitig_init() - choose the mitigations, get what they need
 *
 * Return: 0, or -ENOMEM.
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
		.ibpb_exit_to_user = boot_cpu_has(X86_FEATURE_IBPB_EXIT_TO_USER),
	};
	struct vmx_mitig_plan plan = vmx_mitig_decide(&host);
	int i, n = 0;

	if ((plan.steps & VMX_MITIG_L1D_FLUSH) && plan.l1d_flush_by_reads &&
	    l1d_flush_buf_alloc())
		return -ENOMEM;
	vmx_mitig_steps = plan.steps;
	l1d_flush_always = plan.l1d_flush_always;
	/* The VERW of vmenter.S is an alternative of its own. */
	if ((plan.steps & VMX_MITIG_L1D_FLUSH) ||
	    ((plan.steps & VMX_MITIG_VERW_ENTRY) &&
	     !boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF_VM)))
		static_branch_enable(&vmx_mitig_entry_work);
	if (plan.steps & VMX_MITIG_IBPB_EXIT)
		static_branch_enable(&vmx_mitig_exit_work);
	for (i = 0; i < VMX_MITIG_NR; i++)
		if (plan.steps & BIT(i))
			n += scnprintf(mitigations + n, sizeof(mitigations) - n,
				       "%s%s", n ? "," : "", vmx_mitig_names[i]);
	if (!n)
		strscpy(mitigations, "none", sizeof(mitigations));
	pr_info("speculation mitigations for guests: %s%s%s\n", mitigations,
		(plan.steps & VMX_MITIG_L1D_FLUSH) ?
		(l1d_flush_always ? " (L1D flush: always" : " (L1D flush: conditional") : "",
		(plan.steps & VMX_MITIG_L1D_FLUSH) ?
		(l1d_flush_buf ? ", by reads)" : ", FLUSH_CMD)") : "");
	return 0;
}

void vmx_mitig_exit(void)
{
	static_branch_disable(&vmx_mitig_entry_work);
	static_branch_disable(&vmx_mitig_exit_work);
	if (l1d_flush_buf)
		free_pages((unsigned long)l1d_flush_buf, L1D_FLUSH_ORDER);
	l1d_flush_buf = NULL;
}

/*
 * Is an L1D flush due?  Always, if the host chose "always"; under the
 * "conditional" choice (l1tf.rst, the default) only when the host ran
 * code since the last entry that may have brought secrets into L1D: the
 * vCPU's user space, another task, emulation that touched guest memory
 * (@l1d_flush_wanted), or an interrupt, softirq or NMI on this CPU, which
 * the host's entry code records in a per-CPU flag for exactly this.  An
 * exit handled on the spot (CPUID, say) touches only the vCPU's own data.
 */
static bool l1d_flush_due(bool l1d_flush_wanted)
{
	bool irq = kvm_get_cpu_l1tf_flush_l1d();

	kvm_clear_cpu_l1tf_flush_l1d();
	return l1d_flush_always || l1d_flush_wanted || irq;
}

bool __vmx_mitig_before_entry(bool l1d_flush_wanted)
{
	/* l1tf.rst: the guest must not find host data in L1D. */
	if (vmx_mitig_steps & VMX_MITIG_L1D_FLUSH) {
		if (!l1d_flush_due(l1d_flush_wanted))
			return false;
		if (l1d_flush_buf)
			l1d_flush_by_reads();
		else
			wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return true;
	}
	/* MMIO stale data only: the VERW in vmenter.S covers the rest. */
	if ((vmx_mitig_steps & VMX_MITIG_VERW_ENTRY) &&
	    !boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF_VM))
		x86_clear_cpu_buffers();
	return false;
}

/*
 * On this CPU, the one whose predictors the guest could train, the next
 * return to user mode must issue an IBPB (as KVM's vcpu_enter_guest()
 * asks).
 */
void __vmx_mitig_after_exit(void)
{
	this_cpu_write(x86_ibpb_exit_to_user, true);
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
