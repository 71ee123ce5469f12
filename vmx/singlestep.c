// SPDX-License-Identifier: GPL-2.0
/*
 * Single-stepping a guest with the monitor trap flag (VMXLAB_SET_SINGLESTEP).
 *
 * With the "monitor trap flag" control set, each VM entry arms an MTF VM
 * exit (SDM Vol. 3C, 26.5.2): it happens as soon as the guest retires one
 * instruction -- or one iteration of a REP string instruction -- or, when
 * the entry injected an event, right after its delivery, before the
 * handler's first instruction.  HLT exiting and other exits the
 * instruction itself causes come first.  Each step ends VMXLAB_RUN with
 * VMXLAB_EXIT_DEBUG and run->debug saying where the guest is and why.
 *
 * The CPU cannot see the instructions vmxlab emulates: an instruction that
 * exits (CPUID, RDMSR, MOV to CR0, XSETBV...) never retires in the guest,
 * so no MTF exit follows it.  Every emulation moves RIP through
 * vmx_advance_rip(), which calls vmx_step_retired(); the run loop then
 * turns the handler's "resume" into the step (VMXLAB_STEP_EMULATED)
 * without entering again.  Injecting a "pending MTF" event instead (event
 * type 7) would cost another entry and exit, and take the entry field
 * from queued events.  An instruction whose exit goes to userspace (OUT,
 * HLT, an MMIO store) ends the run anyway: that exit is its step.  IN,
 * INS and MMIO loads retire when the next VMXLAB_RUN completes them, and
 * that run returns the step without entering the guest.
 */
#include <linux/errno.h>
#include <linux/string.h>

#include <vmxlab/vmx_arch.h>
#include "vcpu.h"
#include "vmcs.h"

#define SINGLESTEP_FLAGS (VMXLAB_SINGLESTEP_ENABLE | VMXLAB_SINGLESTEP_FETCH_INSN)

/**
 * vmx_set_singlestep() - turn single-stepping on or off
 * @vcpu: loaded
 * @s:    the request, copied from userspace
 *
 * Return: 0, -EINVAL for unknown flags or nonzero padding, -EOPNOTSUPP
 * when the CPU has no monitor trap flag.
 */
int vmx_set_singlestep(struct vmx_vcpu *vcpu, const struct vmxlab_singlestep *s)
{
	u32 proc;

	if ((s->flags & ~SINGLESTEP_FLAGS) || s->padding || s->reserved[0] ||
	    s->reserved[1] || s->reserved[2])
		return -EINVAL;
	if ((s->flags & VMXLAB_SINGLESTEP_FETCH_INSN) &&
	    !(s->flags & VMXLAB_SINGLESTEP_ENABLE))
		return -EINVAL;
	if ((s->flags & VMXLAB_SINGLESTEP_ENABLE) &&
	    !(vmx_caps.features & VMXLAB_CAP_MTF))
		return -EOPNOTSUPP;

	vcpu->step.flags = s->flags;
	vcpu->step.retired = false;
	proc = vmcs_read32(VMCS_PROC_BASED_CTLS) & ~PROC_CTL_MONITOR_TRAP_FLAG;
	if (s->flags & VMXLAB_SINGLESTEP_ENABLE)
		proc |= PROC_CTL_MONITOR_TRAP_FLAG;
	vmcs_write32(VMCS_PROC_BASED_CTLS, proc);
	return 0;
}

/* Fill run->debug for a step that ends here. */
static int report_step(struct vmx_vcpu *vcpu, u32 cause)
{
	struct vmxlab_run *run = vcpu->run;
	u8 insn[15];

	run->exit_reason = VMXLAB_EXIT_DEBUG;
	memset(&run->debug, 0, sizeof(run->debug));
	run->debug.rip = vmcs_readl(VMCS_GUEST_RIP);
	run->debug.pending_dbg = vmcs_readl(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	run->debug.cause = cause;
	if (vcpu->step.flags & VMXLAB_SINGLESTEP_FETCH_INSN) {
		run->debug.insn_len = vmx_fetch_insn(vcpu, insn, sizeof(insn));
		memcpy(run->debug.insn, insn, run->debug.insn_len);
	}
	vcpu->step.retired = false;
	return 0;
}

/* T:190 One guest instruction at a time
 * With VMXLAB_SET_SINGLESTEP on, every entry arms the monitor trap flag:
 * the CPU exits as soon as the guest retires one instruction or, when the
 * entry injected an event, right after its delivery, before the handler's
 * first instruction (SDM 26.5.2).  This exit is that step: it fills
 * run->debug and returns to userspace.  Instructions vmxlab emulated are
 * reported as steps by the run loop instead, as the CPU never saw them
 * retire (vmx_advance_rip()).
 */
int vmx_handle_monitor_trap_flag(struct vmx_vcpu *vcpu)
{
	u32 cause = vcpu->step.delivering ? VMXLAB_STEP_DELIVERED :
					    VMXLAB_STEP_MTF;

	vmx_decide(vcpu, VMXLAB_DECISION_STEP, cause, 0);
	return report_step(vcpu, cause);
}

/**
 * vmx_step_end_emulated() - end the step an emulated instruction made
 * @vcpu: loaded, after a handler or a completion moved RIP
 *
 * Return: 0 with a VMXLAB_EXIT_DEBUG in the run page when vmxlab retired
 * an instruction for a stepping guest since the last entry, else 1.
 */
int vmx_step_end_emulated(struct vmx_vcpu *vcpu)
{
	if (!vcpu->step.retired)
		return 1;
	return report_step(vcpu, VMXLAB_STEP_EMULATED);
}
