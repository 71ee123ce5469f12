// SPDX-License-Identifier: GPL-2.0
/*
 * The VM-exit dispatcher: run.c calls vmx_handle_exit() with the basic
 * exit reason after every VM exit, and it calls one handler from the table
 * at the bottom of this file.  To handle a new exit reason, write one
 * handle_<reason>() function and add one line to that table.
 *
 * Every handler keeps the same return contract:
 *
 *   1        resume the guest;
 *   0        return to userspace, with vcpu->run describing the exit;
 *   -errno   fail VMXLAB_RUN with that error.
 *
 * Every path also says what it decided, for the exit log and the
 * vmxlab_decision tracepoint: vmx_decide(vcpu, VMXLAB_DECISION_*, a0, a1)
 * (Documentation/tracing.rst lists the decisions).
 *
 * Handlers never write RIP: instruction-like exits call
 * vmx_skip_instruction() (vcpu_regs.c) once the instruction has been
 * emulated; fault-like exits (EPT violations, exceptions) leave RIP on the
 * faulting instruction.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include <vmxlab/vmx_arch.h>
#include "vcpu.h"
#include "vmcs.h"
#include "xsave.h"

static void inject_gp(struct vmx_vcpu *vcpu)
{
	vmx_inject_exception(vcpu, X86_TRAP_GP, true, 0);
}

static void inject_ud(struct vmx_vcpu *vcpu)
{
	vmx_inject_exception(vcpu, X86_TRAP_UD, false, 0);
}

/* DR6 bits a #DB exit reports in its qualification (SDM Table 28-1). */
#define DB_QUAL_DR6_BITS	(0xfUL | BIT(13) | BIT(14))

/*
 * ICEBP (INT1, opcode F1) raises a #DB that is a trap: the handler must
 * return after the instruction.  The exit reports it as a privileged
 * software exception with RIP still on the ICEBP; injected back with that
 * type and the instruction's length, the CPU pushes the next RIP (SDM Vol.
 * 3C, "Details of Vectored-Event Injection").  ICEBP sets no DR6 bit.
 */
static void reinject_icebp(struct vmx_vcpu *vcpu)
{
	vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN,
		     vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN));
	vmcs_write32(VMCS_ENTRY_INTR_INFO, X86_TRAP_DB | INTR_INFO_VALID |
		     INTR_TYPE_PRIV_SW_EXCEPTION);
	vmx_decide(vcpu, VMXLAB_DECISION_INJECTED_EXCEPTION, X86_TRAP_DB, 0);
}

/*
 * Exceptions in the exception bitmap (#AC, #DB; #PF under shadow paging,
 * for paging.c) go back to the guest.  A
 * #DB exit does not update DR6, and the guest's DR6 lives in software
 * (MOV DR exits), so record the cause there first.
 */
static int handle_exception_nmi(struct vmx_vcpu *vcpu)
{
	u32 info = vmcs_read32(VMCS_EXIT_INTR_INFO);
	u8 vector = info & INTR_INFO_VECTOR_MASK;

	if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
		/* run.c already gave it to the host */
		vmx_decide(vcpu, VMXLAB_DECISION_RESUMED, X86_TRAP_NMI, 0);
		return 1;
	}
	if ((info & INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION) {
		reinject_icebp(vcpu);
		return 1;
	}
	if (vector == X86_TRAP_PF)
		return vmx_handle_page_fault(vcpu);	/* shadow paging */
	if (vector == X86_TRAP_DB)
		vcpu->guest_dr6 |= vmcs_readl(VMCS_EXIT_QUALIFICATION) &
				   DB_QUAL_DR6_BITS;
	vmx_inject_exception(vcpu, vector,
			     info & INTR_INFO_DELIVER_ERROR_CODE,
			     vmcs_read32(VMCS_EXIT_INTR_ERROR_CODE));
	return 1;
}

/* run.c already gave the interrupt to the host IDT. */
static int handle_external_interrupt(struct vmx_vcpu *vcpu)
{
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED, 0, 0);
	return 1;
}

static int handle_triple_fault(struct vmx_vcpu *vcpu)
{
	vcpu->run->exit_reason = VMXLAB_EXIT_SHUTDOWN;
	vmx_decide(vcpu, VMXLAB_DECISION_TO_USERSPACE_SHUTDOWN, 0, 0);
	return 0;
}

static int handle_hlt(struct vmx_vcpu *vcpu)
{
	vmx_skip_instruction(vcpu);
	vcpu->run->exit_reason = VMXLAB_EXIT_HLT;
	vmx_decide(vcpu, VMXLAB_DECISION_TO_USERSPACE_HLT, 0, 0);
	return 0;
}

/* T:110 CPUID: an exit the guest never notices
 * CPUID always exits (SDM 26.1.2): it is how a hypervisor decides what
 * CPU the guest believes it runs on.  The answer comes from vmx/cpuid.c:
 * the table userspace set, or the host's values with only the features
 * vmxlab makes work and the hypervisor bit set.  The handler
 * writes RAX to RDX, steps over the instruction and returns 1: the guest
 * resumes at the next instruction and never knows it left.
 */
static int handle_cpuid(struct vmx_vcpu *vcpu)
{
	u32 regs[4];

	vmx_cpuid(vcpu, vcpu->regs[VCPU_RAX], vcpu->regs[VCPU_RCX], regs);
	/* Here, where RAX and RCX are read again anyway, it costs no move. */
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED,
		   (u32)vcpu->regs[VCPU_RAX], (u32)vcpu->regs[VCPU_RCX]);
	vcpu->regs[VCPU_RAX] = regs[0];
	vcpu->regs[VCPU_RBX] = regs[1];
	vcpu->regs[VCPU_RCX] = regs[2];
	vcpu->regs[VCPU_RDX] = regs[3];
	vmx_skip_instruction(vcpu);
	return 1;
}

/* The guest has no device that could see stale cache lines: nothing to do. */
static int handle_invd_wbinvd(struct vmx_vcpu *vcpu)
{
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED, 0, 0);
	vmx_skip_instruction(vcpu);
	return 1;
}

/* No nested virtualisation: VMX instructions are undefined in the guest. */
static int handle_vmx_instruction(struct vmx_vcpu *vcpu)
{
	inject_ud(vcpu);
	return 1;
}

/* MONITOR/MWAIT are not offered in CPUID either: #UD (SDM Vol. 2B). */
static int handle_monitor_mwait(struct vmx_vcpu *vcpu)
{
	inject_ud(vcpu);
	return 1;
}

/*
 * No virtual PMU (CPUID leaf 0xA reads zeros): every counter index is
 * invalid, which is #GP(0) (SDM Vol. 2B, RDPMC).
 */
static int handle_rdpmc(struct vmx_vcpu *vcpu)
{
	inject_gp(vcpu);
	return 1;
}

/*
 * XCR0 as the guest sets it, validated exactly as the CPU would: run.c
 * loads it with the host's own XSETBV, where a bad value would fault.
 * Only XCR0 (ECX = 0) is writable.  The guest cannot get here without
 * CR4.OSXSAVE, which needs the host's (vmx_host_osxsave).
 */
static int handle_xsetbv(struct vmx_vcpu *vcpu)
{
	u64 xcr0 = (u32)vcpu->regs[VCPU_RAX] | (vcpu->regs[VCPU_RDX] << 32);

	/* #UD without CR4.OSXSAVE (SDM Vol. 2D, XSETBV); the CPU checks first. */
	if (!(vmx_read_guest_cr4() & X86_CR4_OSXSAVE)) {
		inject_ud(vcpu);
		return 1;
	}
	/* PKRU stays the host's: the guest gets neither PKU nor its state. */
	if ((u32)vcpu->regs[VCPU_RCX] != 0 || !vmx_host_osxsave ||
	    !xcr0_valid(xcr0, vmx_host_xcr0 & ~XCR0_PKRU)) {
		inject_gp(vcpu);
		return 1;
	}
	vcpu->guest_xcr0 = xcr0;
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED, 0, xcr0);
	vmx_skip_instruction(vcpu);
	return 1;
}

static int handle_rdmsr(struct vmx_vcpu *vcpu)
{
	u64 data;

	if (vmx_get_msr(vcpu, vcpu->regs[VCPU_RCX], &data)) {
		inject_gp(vcpu);
		return 1;
	}
	vcpu->regs[VCPU_RAX] = (u32)data;
	vcpu->regs[VCPU_RDX] = data >> 32;
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED,
		   (u32)vcpu->regs[VCPU_RCX], data);
	vmx_skip_instruction(vcpu);
	return 1;
}

static int handle_wrmsr(struct vmx_vcpu *vcpu)
{
	u64 data = (u32)vcpu->regs[VCPU_RAX] | (vcpu->regs[VCPU_RDX] << 32);

	if (vmx_set_msr(vcpu, vcpu->regs[VCPU_RCX], data)) {
		inject_gp(vcpu);
		return 1;
	}
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED,
		   (u32)vcpu->regs[VCPU_RCX], data);
	vmx_skip_instruction(vcpu);
	return 1;
}

/* T:130 Port I/O goes to userspace
 * vmxlab has no devices: they live in the VMM.  The exit qualification
 * says port, size, direction and whether it is a string instruction (SDM
 * Table 28-5).  For an OUT, the data travels in the run page now, the
 * guest steps over the instruction and userspace sees VMXLAB_EXIT_IO.  For
 * an IN the handler returns without stepping: userspace puts the data in
 * the run page, and the next VMXLAB_RUN completes the instruction before
 * it enters (vmx_complete_userspace_exit()).
 */
static int handle_io(struct vmx_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(VMCS_EXIT_QUALIFICATION);
	struct vmxlab_run *run = vcpu->run;
	u8 size = (qual & IO_QUAL_SIZE_MASK) + 1;

	if (qual & IO_QUAL_STRING)
		return vmx_handle_string_io(vcpu, qual);

	run->exit_reason = VMXLAB_EXIT_IO;
	run->io.size = size;
	run->io.port = qual >> IO_QUAL_PORT_SHIFT;
	run->io.count = 1;
	run->io.data_offset = VMXLAB_RUN_IO_DATA_OFFSET;
	vmx_decide(vcpu, VMXLAB_DECISION_TO_USERSPACE_IO, run->io.port,
		   size | (qual & IO_QUAL_IN ? 1 << 8 : 0) | 1 << 16);
	if (qual & IO_QUAL_IN) {
		run->io.direction = VMXLAB_EXIT_IO_IN;
		vcpu->pending.kind = COMPLETE_IO_IN;
		vcpu->pending.size = size;
		vcpu->pending.insn_len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN);
		return 0;
	}
	run->io.direction = VMXLAB_EXIT_IO_OUT;
	memcpy((u8 *)run + VMXLAB_RUN_IO_DATA_OFFSET, &vcpu->regs[VCPU_RAX], size);
	vmx_skip_instruction(vcpu);
	return 0;
}

/*
 * Only an instruction's own data access to unbacked memory is MMIO: the
 * linear address was translated to this page (qualification bits 7 and 8,
 * SDM Table 28-7), it was not a fetch, and no event was being delivered.
 */
static bool is_mmio_access(unsigned long qual)
{
	const unsigned long data_access = EPT_VIOLATION_GLA_VALID |
					  EPT_VIOLATION_GLA_TRANSLATED;

	return (qual & data_access) == data_access &&
	       !(qual & EPT_VIOLATION_FETCH) &&
	       !(vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID);
}

/* T:140 An access EPT does not allow
 * Guest memory is mapped lazily: the first touch of a page exits with an
 * EPT violation (SDM 29.3.3), and the guest-physical address is in the
 * VMCS.  mmu_handle_ept_violation() asks the memory slots whether one
 * backs the address.  If so, the page is mapped and the guest resumes on
 * the same instruction, which now succeeds.  If not, and the access was
 * the instruction's own data access, it is MMIO for userspace.  An
 * instruction fetch, a guest page-table walk or an event delivery that
 * reaches unbacked memory cannot be forwarded: that ends the run with an
 * internal-error exit.
 */
static int handle_ept_violation(struct vmx_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(VMCS_EXIT_QUALIFICATION);
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	struct mmu_fault_result result;
	int r;

	r = mmu_handle_ept_violation(&vcpu->vm->mmu, gpa,
				     qual & EPT_VIOLATION_WRITE, &result);
	if (r)
		return r;
	switch (result.kind) {
	case MMU_FAULT_MAPPED:
		vmx_decide(vcpu, VMXLAB_DECISION_EPT_MAPPED, gpa, result.slot);
		return 1;
	case MMU_FAULT_ALREADY_MAPPED:
		vmx_decide(vcpu, VMXLAB_DECISION_EPT_ALREADY_MAPPED, gpa,
			   result.slot);
		return 1;
	case MMU_FAULT_READONLY_WRITE:
	case MMU_FAULT_MMIO:
		break;
	}
	if (!is_mmio_access(qual)) {
		vmx_exit_internal_error(vcpu, VMXLAB_INTERNAL_UNBACKED_ACCESS, gpa);
		vcpu->run->internal.ndata = 2;
		vcpu->run->internal.data[1] = qual;
		return 0;
	}
	r = vmx_emulate_mmio(vcpu, gpa, NULL);
	/* A write to a read-only slot is MMIO; the record says whose. */
	if (result.kind == MMU_FAULT_READONLY_WRITE &&
	    vcpu->run->exit_reason == VMXLAB_EXIT_MMIO)
		vmx_decide(vcpu, VMXLAB_DECISION_EPT_READONLY_WRITE, gpa,
			   result.slot);
	return r;
}

/* vmxlab never writes a misconfigured EPT entry: this is a vmxlab bug. */
static int handle_ept_misconfig(struct vmx_vcpu *vcpu)
{
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);

	pr_err_ratelimited("EPT misconfiguration at GPA %#llx\n", gpa);
	return vmx_exit_internal_error(vcpu, VMXLAB_INTERNAL_EPT_MISCONFIG, gpa);
}

/*
 * The time slice (timeslice.c) ran out: nothing to do but let the run
 * loop look for a signal or other work before it enters again.
 */
static int handle_preemption_timer(struct vmx_vcpu *vcpu)
{
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED, 0, 0);
	return 1;
}

typedef int (*exit_handler_t)(struct vmx_vcpu *vcpu);

static const exit_handler_t exit_handlers[VMXLAB_NR_VMX_EXIT_REASONS] = {
	[EXIT_REASON_EXCEPTION_NMI]	 = handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT]	 = handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW]	 = vmx_handle_interrupt_window,
	[EXIT_REASON_NMI_WINDOW]	 = vmx_handle_nmi_window,
	[EXIT_REASON_CPUID]		 = handle_cpuid,
	[EXIT_REASON_HLT]		 = handle_hlt,
	[EXIT_REASON_INVLPG]		 = vmx_handle_invlpg,
	[EXIT_REASON_RDPMC]		 = handle_rdpmc,
	[EXIT_REASON_INVD]		 = handle_invd_wbinvd,
	[EXIT_REASON_WBINVD]		 = handle_invd_wbinvd,
	[EXIT_REASON_VMCALL]		 = handle_vmx_instruction,
	[EXIT_REASON_VMCLEAR]		 = handle_vmx_instruction,
	[EXIT_REASON_VMLAUNCH]		 = handle_vmx_instruction,
	[EXIT_REASON_VMPTRLD]		 = handle_vmx_instruction,
	[EXIT_REASON_VMPTRST]		 = handle_vmx_instruction,
	[EXIT_REASON_VMREAD]		 = handle_vmx_instruction,
	[EXIT_REASON_VMRESUME]		 = handle_vmx_instruction,
	[EXIT_REASON_VMWRITE]		 = handle_vmx_instruction,
	[EXIT_REASON_VMXOFF]		 = handle_vmx_instruction,
	[EXIT_REASON_VMXON]		 = handle_vmx_instruction,
	[EXIT_REASON_INVEPT]		 = handle_vmx_instruction,
	[EXIT_REASON_INVVPID]		 = handle_vmx_instruction,
	[EXIT_REASON_VMFUNC]		 = handle_vmx_instruction,
	[EXIT_REASON_CR_ACCESS]		 = vmx_handle_cr_access,
	[EXIT_REASON_DR_ACCESS]		 = vmx_handle_dr_access,
	[EXIT_REASON_IO_INSTRUCTION]	 = handle_io,
	[EXIT_REASON_MSR_READ]		 = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE]		 = handle_wrmsr,
	[EXIT_REASON_MWAIT]		 = handle_monitor_mwait,
	[EXIT_REASON_MONITOR_TRAP_FLAG]	 = vmx_handle_monitor_trap_flag,
	[EXIT_REASON_MONITOR]		 = handle_monitor_mwait,
	[EXIT_REASON_EPT_VIOLATION]	 = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG]	 = handle_ept_misconfig,
	[EXIT_REASON_XSETBV]		 = handle_xsetbv,
	[EXIT_REASON_PREEMPTION_TIMER]	 = handle_preemption_timer,
};

/**
 * vmx_unexpected_exit() - an exit vmxlab did not ask for
 * @vcpu:        the vCPU that exited
 * @exit_reason: its basic exit reason
 *
 * Reported to userspace as VMXLAB_INTERNAL_UNKNOWN_EXIT, with the VMCS in
 * the kernel log once per vCPU; never a crash.  Also for the forms of a
 * known exit that vmxlab's controls rule out (a CR3 access, say).
 *
 * Return: 0 (to userspace).
 */
int vmx_unexpected_exit(struct vmx_vcpu *vcpu, u32 exit_reason)
{
	if (!vcpu->unknown_exit_dumped) {
		vcpu->unknown_exit_dumped = true;
		pr_err("vCPU %u: unexpected exit reason %u\n", vcpu->id,
		       exit_reason);
		vmx_dump_vmcs(vcpu);
	}
	vmx_exit_internal_error(vcpu, VMXLAB_INTERNAL_UNKNOWN_EXIT, exit_reason);
	vmx_decide(vcpu, VMXLAB_DECISION_UNKNOWN_EXIT, exit_reason, 0);
	return 0;
}

/*
 * Benchmarking aid (Documentation/performance.rst): exits with this basic
 * reason skip their handler and resume the guest after the instruction.
 * The guest sees the instruction do nothing; the cost measured is the
 * floor no handler can beat.  -1, the default, disables it.
 */
static int null_exit_reason = -1;
module_param(null_exit_reason, int, 0644);
MODULE_PARM_DESC(null_exit_reason,
		 "benchmarks only: resume at once on this exit reason (-1: off)");

/* T:100 The dispatcher
 * One table indexed by the basic exit reason, exit_handlers[], one small
 * handler per line: adding an exit reason is one function and one table
 * line.  The dispatcher counts the exit (VMXLAB_GET_STATS shows the
 * counts), checks the bounds and that a handler exists, and calls it.
 * Every handler keeps the contract at the top of this file: 1 resumes
 * the guest, 0 returns to userspace with the run page describing the exit,
 * -errno fails VMXLAB_RUN.  An exit reason with no handler is a vmxlab
 * bug, not the guest's: vmx_unexpected_exit() dumps the VMCS once and
 * ends the run with an internal-error exit, never a host crash.
 */
/**
 * vmx_handle_exit() - dispatch one VM exit to its handler
 * @vcpu:        the vCPU that exited
 * @exit_reason: basic exit reason (bits 15:0 of the exit-reason field)
 *
 * Return: see the contract at the top of this file.
 */
int vmx_handle_exit(struct vmx_vcpu *vcpu, u32 exit_reason)
{
	exit_handler_t handler = NULL;
	int r;

	if (exit_reason < ARRAY_SIZE(exit_handlers)) {
		vcpu->stats.exits[exit_reason]++;
		handler = exit_handlers[exit_reason];
	}
	if (unlikely(exit_reason == READ_ONCE(null_exit_reason))) {
		vmx_decide(vcpu, VMXLAB_DECISION_NULL_EXIT, 0, 0);
		vmx_skip_instruction(vcpu);
		return 1;
	}
	r = handler ? handler(vcpu) : vmx_unexpected_exit(vcpu, exit_reason);
	if (r == 0)
		vcpu->stats.exits_to_userspace++;
	else if (r < 0)
		vmx_decide(vcpu, VMXLAB_DECISION_ERROR, -r, 0);
	return r;
}
