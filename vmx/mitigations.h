/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which speculation mitigations a VM entry and exit must carry out, given
 * what the host kernel decided at boot (/sys/devices/system/cpu/
 * vulnerabilities/).  Pure logic: main.c fills struct vmx_mitig_host from
 * the kernel's feature bits once at load, and the userspace unit test
 * selftests/unit/mitigations_test.c feeds it made-up hosts.
 */
#ifndef VMXLAB_MITIGATIONS_H
#define VMXLAB_MITIGATIONS_H

#include <linux/bits.h>
#include <linux/types.h>

/*
 * The host's L1TF decision for VMX guests, in the order of the kernel's
 * l1tf_vmx_mitigation (Documentation/admin-guide/hw-vuln/l1tf.rst,
 * "Mitigation control for KVM - module parameter").
 */
enum vmx_mitig_l1tf {
	VMX_L1TF_AUTO,		/* not decided yet: treated as ALWAYS */
	VMX_L1TF_NEVER,		/* the admin turned the flush off */
	VMX_L1TF_COND,		/* flush before entry after sensitive work */
	VMX_L1TF_ALWAYS,	/* flush before every entry */
	VMX_L1TF_EPT_DISABLED,	/* no EPT: the guest cannot pick PTEs */
	VMX_L1TF_NOT_REQUIRED,	/* the CPU is not affected */
};

/* What the host has and decided; every field is a host kernel fact. */
struct vmx_mitig_host {
	bool clear_cpu_buf;	/* X86_FEATURE_CLEAR_CPU_BUF_VM: VERW (MDS/TAA/RFDS) */
	bool mmio_stale_data;	/* mmio_stale_data_clear static key */
	enum vmx_mitig_l1tf l1tf;
	bool flush_l1d;		/* X86_FEATURE_FLUSH_L1D: MSR_IA32_FLUSH_CMD */
	bool clear_bhb_vmexit;	/* host clears branch history after VM exit */
	bool rsb_vmexit;	/* X86_FEATURE_RSB_VMEXIT or _LITE */
	bool use_ibpb;		/* X86_FEATURE_USE_IBPB */
	bool msr_spec_ctrl;	/* X86_FEATURE_MSR_SPEC_CTRL */
	bool ibpb_exit_to_user;	/* X86_FEATURE_IBPB_EXIT_TO_USER (VMSCAPE) */
};

/* The steps vmxlab runs, one bit each; vmx_mitig_names[] spells them. */
#define VMX_MITIG_VERW_ENTRY	BIT(0)	/* VERW just before VMLAUNCH/VMRESUME */
#define VMX_MITIG_L1D_FLUSH	BIT(1)	/* L1D flushed before entry */
#define VMX_MITIG_BHB_CLEAR	BIT(2)	/* branch-history clearing after exit */
#define VMX_MITIG_RSB_FILL	BIT(3)	/* RSB overwrite after exit */
#define VMX_MITIG_IBPB_LOAD	BIT(4)	/* IBPB when another vCPU's VMCS loads */
#define VMX_MITIG_SPEC_CTRL	BIT(5)	/* guest/host SPEC_CTRL switch */
#define VMX_MITIG_IBPB_EXIT	BIT(6)	/* IBPB before the VMM's user code runs */
#define VMX_MITIG_NR		7

extern const char * const vmx_mitig_names[VMX_MITIG_NR];

struct vmx_mitig_plan {
	u32 steps;		/* VMX_MITIG_* to run */
	/* L1D flush by reading a buffer: the CPU has no FLUSH_CMD MSR */
	bool l1d_flush_by_reads;
	/* L1D flush before every entry, not only after host activity */
	bool l1d_flush_always;
};

struct vmx_mitig_plan vmx_mitig_decide(const struct vmx_mitig_host *host);

#endif /* VMXLAB_MITIGATIONS_H */
