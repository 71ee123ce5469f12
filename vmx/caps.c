// SPDX-License-Identifier: GPL-2.0
/*
 * What this CPU's VMX can do, decoded from its capability MSRs (SDM Vol. 3D,
 * Appendix A), and how a wished-for control word is made legal.  Before
 * any VMCS exists, the module asks these questions at load time; later,
 * every VMCS control field is built with vmx_adjust_controls().
 *
 * Pure logic: compiled into vmxlab.ko and into the userspace unit tests.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <uapi/linux/vmxlab.h>

#include "caps.h"
#include <vmxlab/vmx_arch.h>

/* A control MSR's high half says which bits may be 1 (SDM A.3.1). */
static bool may_be_one(u64 cap_msr, u32 bit)
{
	return (cap_msr >> 32) & bit;
}

static u64 decode_exec_controls(const struct vmxlab_caps *caps)
{
	u64 f = 0;

	if (may_be_one(caps->msr_pinbased, PIN_CTL_NMI_EXITING))
		f |= VMXLAB_CAP_NMI_EXITING;
	if (may_be_one(caps->msr_pinbased, PIN_CTL_VIRTUAL_NMIS))
		f |= VMXLAB_CAP_VIRTUAL_NMIS;
	if (may_be_one(caps->msr_pinbased, PIN_CTL_PREEMPTION_TIMER))
		f |= VMXLAB_CAP_PREEMPTION_TIMER;
	if (may_be_one(caps->msr_procbased, PROC_CTL_INTR_WINDOW_EXITING))
		f |= VMXLAB_CAP_INTR_WINDOW;
	if (may_be_one(caps->msr_procbased, PROC_CTL_NMI_WINDOW_EXITING))
		f |= VMXLAB_CAP_NMI_WINDOW;
	if (may_be_one(caps->msr_procbased, PROC_CTL_TPR_SHADOW))
		f |= VMXLAB_CAP_TPR_SHADOW;
	if (may_be_one(caps->msr_procbased, PROC_CTL_CR8_LOAD_EXITING) &&
	    may_be_one(caps->msr_procbased, PROC_CTL_CR8_STORE_EXITING))
		f |= VMXLAB_CAP_CR8_EXITING;
	if (may_be_one(caps->msr_procbased, PROC_CTL_MOV_DR_EXITING))
		f |= VMXLAB_CAP_MOV_DR_EXITING;
	if (may_be_one(caps->msr_procbased, PROC_CTL_USE_IO_BITMAPS))
		f |= VMXLAB_CAP_IO_BITMAPS;
	if (may_be_one(caps->msr_procbased, PROC_CTL_MONITOR_TRAP_FLAG))
		f |= VMXLAB_CAP_MTF;
	if (may_be_one(caps->msr_procbased, PROC_CTL_USE_MSR_BITMAPS))
		f |= VMXLAB_CAP_MSR_BITMAPS;
	return f;
}

static u64 decode_secondary_controls(const struct vmxlab_caps *caps)
{
	u64 f = 0;

	if (!may_be_one(caps->msr_procbased, PROC_CTL_ACTIVATE_SECONDARY))
		return 0;
	f |= VMXLAB_CAP_SECONDARY_CTLS;
	if (may_be_one(caps->msr_procbased2, PROC2_CTL_VIRT_APIC_ACCESSES))
		f |= VMXLAB_CAP_VIRT_APIC_ACCESSES;
	if (may_be_one(caps->msr_procbased2, PROC2_CTL_ENABLE_EPT))
		f |= VMXLAB_CAP_EPT;
	if (may_be_one(caps->msr_procbased2, PROC2_CTL_ENABLE_VPID))
		f |= VMXLAB_CAP_VPID;
	if (may_be_one(caps->msr_procbased2, PROC2_CTL_UNRESTRICTED_GUEST))
		f |= VMXLAB_CAP_UNRESTRICTED_GUEST;
	return f;
}

/* EPT and VPID details only mean something when the control exists. */
static u64 decode_ept_vpid(const struct vmxlab_caps *caps, u64 f)
{
	u64 cap = caps->msr_ept_vpid_cap;

	if (f & VMXLAB_CAP_EPT) {
		if (cap & EPT_CAP_PAGE_WALK_4)
			f |= VMXLAB_CAP_EPT_4LEVEL;
		if (cap & EPT_CAP_MEMTYPE_WB)
			f |= VMXLAB_CAP_EPT_WB;
		if (cap & EPT_CAP_2MB_PAGE)
			f |= VMXLAB_CAP_EPT_2M;
		if (cap & EPT_CAP_1GB_PAGE)
			f |= VMXLAB_CAP_EPT_1G;
		if (cap & EPT_CAP_INVEPT)
			f |= VMXLAB_CAP_INVEPT;
		if (cap & EPT_CAP_AD_BITS)
			f |= VMXLAB_CAP_EPT_AD;
	}
	if ((f & VMXLAB_CAP_VPID) && (cap & VPID_CAP_INVVPID))
		f |= VMXLAB_CAP_INVVPID;
	return f;
}

static u64 decode_exit_entry_controls(const struct vmxlab_caps *caps)
{
	u64 f = 0;

	if (may_be_one(caps->msr_exit, EXIT_CTL_HOST_ADDR_SPACE_SIZE))
		f |= VMXLAB_CAP_HOST_LONG_MODE;
	if (may_be_one(caps->msr_exit, EXIT_CTL_ACK_INTR_ON_EXIT))
		f |= VMXLAB_CAP_ACK_INTR_ON_EXIT;
	if (may_be_one(caps->msr_exit, EXIT_CTL_SAVE_EFER))
		f |= VMXLAB_CAP_SAVE_EFER;
	if (may_be_one(caps->msr_entry, ENTRY_CTL_LOAD_EFER))
		f |= VMXLAB_CAP_LOAD_EFER;
	if (may_be_one(caps->msr_entry, ENTRY_CTL_LOAD_PAT))
		f |= VMXLAB_CAP_LOAD_PAT;
	if (may_be_one(caps->msr_entry, ENTRY_CTL_IA32E_MODE_GUEST))
		f |= VMXLAB_CAP_IA32E_GUEST;
	return f;
}

/**
 * vmx_caps_decode() - fill in the decoded part of @caps from its raw MSRs
 * @caps: msr_* fields already read; features, vmcs_revision and vmcs_size
 *	  are overwritten
 *
 * The control MSRs must be the TRUE_* variants whenever IA32_VMX_BASIC[55]
 * says they exist: they report the real allowed-0 settings, where the
 * legacy MSRs pretend that some default-1 controls cannot be cleared.
 */
void vmx_caps_decode(struct vmxlab_caps *caps)
{
	u64 f = 0;

	caps->vmcs_revision = caps->msr_basic & IA32_VMX_BASIC_REVISION_MASK;
	caps->vmcs_size = (caps->msr_basic >> IA32_VMX_BASIC_VMCS_SIZE_SHIFT) &
			  IA32_VMX_BASIC_VMCS_SIZE_MASK;
	if (caps->msr_basic & IA32_VMX_BASIC_TRUE_CTLS)
		f |= VMXLAB_CAP_TRUE_CTLS;
	f |= decode_exec_controls(caps);
	f |= decode_secondary_controls(caps);
	f |= decode_exit_entry_controls(caps);
	caps->features = decode_ept_vpid(caps, f);
}

/**
 * vmx_adjust_controls() - make a control word legal for this CPU
 * @cap_msr:  the capability MSR of that control field
 * @required: bits vmxlab cannot work without
 * @optional: bits vmxlab uses when the CPU offers them
 * @ctl:      out: the value to write into the VMCS
 *
 * Bits the CPU forces to 1 (allowed-0 settings, low half) are set, bits it
 * cannot set (allowed-1 settings, high half) are dropped (SDM Vol. 3D,
 * A.3.1).  Dropping a required bit is an error, reported before any VMCS
 * is touched.
 *
 * Return: 0, or -EOPNOTSUPP when a required control is unavailable.
 */
int vmx_adjust_controls(u64 cap_msr, u32 required, u32 optional, u32 *ctl)
{
	u32 must_be_one = (u32)cap_msr;
	u32 may_be_one = (u32)(cap_msr >> 32);

	if ((required & may_be_one) != required)
		return -EOPNOTSUPP;
	*ctl = ((required | optional) & may_be_one) | must_be_one;
	return 0;
}

/**
 * vmx_cr_fixed_ok() - does a CR0/CR4 value respect the VMX fixed bits?
 * @value:  the control register value
 * @fixed0: IA32_VMX_CRx_FIXED0: bits set here must be 1
 * @fixed1: IA32_VMX_CRx_FIXED1: bits clear here must be 0
 *
 * SDM Vol. 3D, A.7 and A.8: VMXON and VM entry fail otherwise.
 */
bool vmx_cr_fixed_ok(u64 value, u64 fixed0, u64 fixed1)
{
	return (value & fixed0) == fixed0 && (value & ~fixed1) == 0;
}

/*
 * Controls that protect the host or that vmxlab's design depends on.  A
 * CPU without one of them cannot run vmxlab guests safely; module load
 * still succeeds (the capability report is useful), VM creation does not.
 */
#define PIN_REQUIRED	(PIN_CTL_EXT_INTR_EXITING | PIN_CTL_NMI_EXITING)
#define PIN_OPTIONAL	PIN_CTL_VIRTUAL_NMIS
/*
 * RDPMC, MONITOR and MWAIT exit: run natively they would read the host's
 * performance counters and park the host CPU for the guest.
 */
#define PROC_REQUIRED	(PROC_CTL_HLT_EXITING | PROC_CTL_CR8_LOAD_EXITING | \
			 PROC_CTL_CR8_STORE_EXITING | PROC_CTL_MOV_DR_EXITING | \
			 PROC_CTL_UNCOND_IO_EXITING | PROC_CTL_USE_MSR_BITMAPS | \
			 PROC_CTL_ACTIVATE_SECONDARY | PROC_CTL_RDPMC_EXITING | \
			 PROC_CTL_MONITOR_EXITING | PROC_CTL_MWAIT_EXITING)
#define PROC2_REQUIRED	(PROC2_CTL_ENABLE_EPT | PROC2_CTL_UNRESTRICTED_GUEST)
#define PROC2_OPTIONAL	(PROC2_CTL_ENABLE_VPID | PROC2_CTL_WBINVD_EXITING)
/*
 * Shadow paging (Documentation/paging.rst): the CPU walks vmxlab's tables,
 * so every guest CR3 load and store and every INVLPG exits; no EPT, and
 * so no unrestricted guest either (it needs EPT, SDM Vol. 3C, 26.2.1.1).
 * No VPID: every entry and exit then flushes the TLB (SDM 29.4.3.3), which
 * is what lets vmxlab empty a tree without INVVPID.
 */
#define PROC_SHADOW	(PROC_REQUIRED | PROC_CTL_INVLPG_EXITING | \
			 PROC_CTL_CR3_LOAD_EXITING | PROC_CTL_CR3_STORE_EXITING)
#define PROC2_SHADOW_OPTIONAL	PROC2_CTL_WBINVD_EXITING
/*
 * The guest's DR7 and DEBUGCTL are loaded on entry and saved on exit, so
 * the guest never runs with the host's breakpoints or branch tracing.
 */
#define EXIT_REQUIRED	(EXIT_CTL_HOST_ADDR_SPACE_SIZE | EXIT_CTL_SAVE_EFER | \
			 EXIT_CTL_LOAD_EFER | EXIT_CTL_SAVE_DEBUG_CONTROLS)
#define ENTRY_REQUIRED	(ENTRY_CTL_LOAD_EFER | ENTRY_CTL_LOAD_DEBUG_CONTROLS)

/**
 * vmx_vmcs_config_build() - the control words for each type of VM
 * @caps:     decoded capabilities (vmx_caps_decode())
 * @ack_intr: acknowledge external interrupts on exit (a module parameter)
 * @c:        out: the words, and which VM types this CPU can run
 *
 * EPT VMs need EPT with a 4-level walk, write-back paging structures and
 * INVEPT, and unrestricted guest; shadow-paging VMs need neither, but CR3
 * and INVLPG exiting.  Both need everything that guards the host, and
 * interrupt-window exiting.
 */
void vmx_vmcs_config_build(const struct vmxlab_caps *caps, bool ack_intr,
			   struct vmx_vmcs_config *c)
{
	const u64 need_ept = VMXLAB_CAP_EPT | VMXLAB_CAP_EPT_4LEVEL |
			     VMXLAB_CAP_EPT_WB | VMXLAB_CAP_INVEPT;
	int r = 0, r_ept, r_shadow;

	/* Virtual NMIs are only useful with NMI-window exiting. */
	r |= vmx_adjust_controls(caps->msr_pinbased, PIN_REQUIRED,
				 (caps->features & VMXLAB_CAP_NMI_WINDOW) ?
				 PIN_OPTIONAL : 0, &c->pin);
	r |= vmx_adjust_controls(caps->msr_exit, EXIT_REQUIRED,
				 ack_intr ? EXIT_CTL_ACK_INTR_ON_EXIT : 0,
				 &c->exit);
	r |= vmx_adjust_controls(caps->msr_entry, ENTRY_REQUIRED, 0, &c->entry);
	if (!(caps->features & VMXLAB_CAP_INTR_WINDOW))
		r = -EOPNOTSUPP;

	r_ept = vmx_adjust_controls(caps->msr_procbased, PROC_REQUIRED, 0,
				    &c->proc);
	r_ept |= vmx_adjust_controls(caps->msr_procbased2, PROC2_REQUIRED,
				     PROC2_OPTIONAL, &c->proc2);
	r_shadow = vmx_adjust_controls(caps->msr_procbased, PROC_SHADOW, 0,
				       &c->proc_shadow);
	r_shadow |= vmx_adjust_controls(caps->msr_procbased2, 0,
					PROC2_SHADOW_OPTIONAL, &c->proc2_shadow);

	c->usable = !r && !r_ept && (caps->features & need_ept) == need_ept;
	c->usable_shadow = !r && !r_shadow;
}
