// SPDX-License-Identifier: GPL-2.0
/*
 * What every exit handler does to the vCPU, whichever file the handler is
 * in: read and write a guest GPR, step RIP over an emulated instruction,
 * inject an exception on the next entry, end the run with an internal
 * error.  exits.c dispatches to the handlers; they call in here.
 */
#include <asm/processor-flags.h>

#include <vmxlab/vmx_arch.h>
#include "vcpu.h"
#include "vmcs.h"

/*
 * A guest GPR by its hardware number, as instructions encode them: RSP
 * lives in the VMCS, the others in vcpu->regs[].
 */
unsigned long vmx_read_gpr(struct vmx_vcpu *vcpu, int reg)
{
	return reg == VCPU_RSP ? vmcs_readl(VMCS_GUEST_RSP) : vcpu->regs[reg];
}

void vmx_write_gpr(struct vmx_vcpu *vcpu, int reg, unsigned long value)
{
	if (reg == VCPU_RSP)
		vmcs_writel(VMCS_GUEST_RSP, value);
	else
		vcpu->regs[reg] = value;
}

/**
 * vmx_skip_instruction() - step the guest over the instruction that exited
 * @vcpu: the vCPU
 *
 * Also ends STI and MOV-SS blocking: they only last for one instruction,
 * and that instruction has now executed (so "sti; hlt" wakes up on the
 * next interrupt, SDM 25.4.2).
 */
void vmx_skip_instruction(struct vmx_vcpu *vcpu)
{
	vmx_advance_rip(vcpu, vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
}

/* T:120 Stepping over an emulated instruction
 * Handlers never write RIP themselves.  An instruction-like exit (CPUID,
 * OUT, RDMSR) has been emulated and the guest continues after it; a
 * fault-like exit (an EPT violation, an exception) leaves RIP on the
 * instruction so that it runs again.  Stepping over an instruction must
 * also do what its retirement would have done: end the STI and MOV-SS
 * shadows, which last one instruction (so "sti; hlt" wakes on the next
 * interrupt, SDM Table 25-3); arm the #DB trap of a guest that
 * single-steps with RFLAGS.TF (pending debug exceptions, SDM 27.7.3); and
 * count as a step for VMXLAB_SET_SINGLESTEP, since no monitor trap flag
 * exit follows an instruction the guest did not retire itself.
 * vmx_skip_instruction() calls this with the length the exit reported.
 */
/**
 * vmx_advance_rip() - step over an emulated instruction of known length
 * @vcpu: the vCPU
 * @len:  instruction length; EPT-violation exits do not report one, so
 *	  MMIO emulation passes the decoded length
 */
void vmx_advance_rip(struct vmx_vcpu *vcpu, unsigned int len)
{
	u32 intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);

	vmcs_writel(VMCS_GUEST_RIP, vmcs_readl(VMCS_GUEST_RIP) + len);
	if (intr & (GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING))
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY,
			     intr & ~(GUEST_INTR_STI_BLOCKING |
				      GUEST_INTR_MOV_SS_BLOCKING));
	/*
	 * The emulated instruction completed, so a guest single-stepping
	 * with RFLAGS.TF takes its #DB trap now: the CPU delivers a pending
	 * single-step on the next entry (SDM 27.7.3).
	 */
	if (vmcs_readl(VMCS_GUEST_RFLAGS) & X86_EFLAGS_TF)
		vmcs_writel(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			    vmcs_readl(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) |
			    PENDING_DBG_BS);
	/* No MTF exit follows an instruction the guest did not retire. */
	vmx_step_retired(vcpu);
}

/**
 * vmx_inject_exception() - deliver a hardware exception on the next entry
 * @vcpu:       the vCPU
 * @vector:     exception vector
 * @has_error:  the exception pushes an error code
 * @error_code: the error code
 *
 * Through the VM-entry interruption-information field (SDM 26.6).  In
 * real mode no error code is pushed, and VM entry insists on that.
 */
void vmx_inject_exception(struct vmx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code)
{
	u32 info = vector | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_VALID;

	if (has_error && (vmcs_readl(VMCS_GUEST_CR0) & X86_CR0_PE)) {
		info |= INTR_INFO_DELIVER_ERROR_CODE;
		vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	}
	vmcs_write32(VMCS_ENTRY_INTR_INFO, info);
	vmx_decide(vcpu, VMXLAB_DECISION_INJECTED_EXCEPTION, vector, error_code);
}

/* An internal-error exit with one data word; a caller may add more. */
int vmx_exit_internal_error(struct vmx_vcpu *vcpu, u32 suberror, u64 data)
{
	struct vmxlab_run *run = vcpu->run;

	run->exit_reason = VMXLAB_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 1;
	run->internal.data[0] = data;
	vmx_decide(vcpu, VMXLAB_DECISION_INTERNAL_ERROR, suberror, data);
	return 0;
}
