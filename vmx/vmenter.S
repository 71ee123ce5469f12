/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world switch: the only assembly in vmxlab.  world_switch() in
 * run.c calls __vmx_vcpu_run(); this file loads the guest's registers,
 * executes VMLAUNCH or VMRESUME, and -- when the guest exits -- the CPU
 * jumps to vmx_vmexit (the VMCS's HOST_RIP) with the host's RSP restored
 * from HOST_RSP.  From there we save the guest registers, scrub them, and
 * return to C.  SDM Vol. 3C, 27 (VM entries) and 28 (VM exits).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>
#include <asm/segment.h>
#include "vmcs.h"

/* Offsets into vmx_vcpu.regs[], in the hardware's register order. */
#define REG_RAX		(0 * 8)
#define REG_RCX		(1 * 8)
#define REG_RDX		(2 * 8)
#define REG_RBX		(3 * 8)
#define REG_RBP		(5 * 8)
#define REG_RSI		(6 * 8)
#define REG_RDI		(7 * 8)
#define REG_R8		(8 * 8)
#define REG_R9		(9 * 8)
#define REG_R10		(10 * 8)
#define REG_R11		(11 * 8)
#define REG_R12		(12 * 8)
#define REG_R13		(13 * 8)
#define REG_R14		(14 * 8)
#define REG_R15		(15 * 8)

.section .text, "ax"

/* T:060 The world switch
 * VMLAUNCH and VMRESUME load the guest's state from the VMCS, but not its
 * general-purpose registers (other than RSP, RIP and RFLAGS): those the
 * hypervisor loads itself, and nothing written in C may run between that
 * and the entry.  Hence this assembly.  The VMCS's HOST_RSP must be the
 * stack pointer of this very frame, so it is written here on every entry:
 * the task, and with it the stack, may have changed since the last one.
 * VMLAUNCH is for a VMCS in the clear state, VMRESUME for a launched one
 * (SDM 25.1).  If the instruction fails (VMfail: CF or ZF set), execution
 * continues after it and the function returns 1 (SDM 31.4 lists the
 * error numbers).  If it succeeds, the guest runs, and this function does
 * not return until the guest exits.
 */
/**
 * __vmx_vcpu_run - run the guest until its next VM exit
 * @regs:	%rdi, the guest's general-purpose registers (RSP lives in
 *		the VMCS)
 * @launched:	%sil, nonzero if this VMCS was launched since its VMCLEAR
 *
 * Returns 0 after a VM exit (the exit reason is in the VMCS), 1 when
 * VMLAUNCH/VMRESUME itself failed (VMfail; VM_INSTRUCTION_ERROR says why).
 */
SYM_FUNC_START(__vmx_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* Keep @regs: on exit it is the only thing left on our stack. */
	push	%rdi

	/*
	 * The exit lands with RSP = HOST_RSP: record this stack pointer.
	 * It changes whenever the task (and its stack) changes, so it is
	 * written on every entry; a VMWRITE is cheap next to an entry.
	 */
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jna	.Lvmfail_no_guest_regs

	/*
	 * MDS/TAA/RFDS: where the host clears CPU buffers before a guest
	 * runs (X86_FEATURE_CLEAR_CPU_BUF_VM), VERW here; it sets ZF, so
	 * before the launch/resume test.  Only guest-register loads follow.
	 */
	VM_CLEAR_CPU_BUFFERS

	/* Decide launch vs resume now: MOVs below leave RFLAGS alone. */
	test	%sil, %sil

	mov	%rdi, %rax
	mov	REG_RCX(%rax), %rcx
	mov	REG_RDX(%rax), %rdx
	mov	REG_RBX(%rax), %rbx
	mov	REG_RBP(%rax), %rbp
	mov	REG_RSI(%rax), %rsi
	mov	REG_RDI(%rax), %rdi
	mov	REG_R8(%rax), %r8
	mov	REG_R9(%rax), %r9
	mov	REG_R10(%rax), %r10
	mov	REG_R11(%rax), %r11
	mov	REG_R12(%rax), %r12
	mov	REG_R13(%rax), %r13
	mov	REG_R14(%rax), %r14
	mov	REG_R15(%rax), %r15
	mov	REG_RAX(%rax), %rax

	jz	.Lvmlaunch

	/*
	 * On success neither instruction falls through: the guest runs and
	 * its exit continues at vmx_vmexit.  Tell objtool that the stack
	 * layout there is the one here.
	 */
	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	jmp	.Lvmfail
.Lvmlaunch:
	vmlaunch
	jmp	.Lvmfail

	/*
	 * Outside VMX operation (after an emergency VMXOFF, say) both fault
	 * with #UD: report that as a failed entry too.
	 */
	_ASM_EXTABLE(.Lvmresume, .Lvmfail)
	_ASM_EXTABLE(.Lvmlaunch, .Lvmfail)

/* T:070 The guest exits
 * The guest runs until something the VM-execution controls say must exit
 * (SDM chapter 26): CPUID (always), an OUT, HLT, a guest-physical address
 * the EPT does not map, an external interrupt.  The CPU then saves the
 * guest state into the VMCS, records why in the exit-information fields,
 * and loads the host state from the VMCS: control registers, segment
 * selectors, RSP = HOST_RSP and RIP = HOST_RIP, which is this label (SDM
 * 28.2, 28.3, 28.5).  The general-purpose registers still hold the
 * guest's values.  They are stored into vcpu->regs[], then cleared so that
 * none can steer the host's speculation, and the return stack buffer is
 * refilled so that return targets the guest planted are gone before the
 * first RET.  The function returns 0.
 */
SYM_INNER_LABEL(vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR

	/* RSP = HOST_RSP: @regs is on top of the stack. */
	push	%rax
	mov	8(%rsp), %rax
	mov	%rcx, REG_RCX(%rax)
	mov	%rdx, REG_RDX(%rax)
	mov	%rbx, REG_RBX(%rax)
	mov	%rbp, REG_RBP(%rax)
	mov	%rsi, REG_RSI(%rax)
	mov	%rdi, REG_RDI(%rax)
	mov	%r8, REG_R8(%rax)
	mov	%r9, REG_R9(%rax)
	mov	%r10, REG_R10(%rax)
	mov	%r11, REG_R11(%rax)
	mov	%r12, REG_R12(%rax)
	mov	%r13, REG_R13(%rax)
	mov	%r14, REG_R14(%rax)
	mov	%r15, REG_R15(%rax)
	popq	REG_RAX(%rax)
	xor	%ebx, %ebx

.Lclear_guest_regs:
	/*
	 * Scrub the guest's values so that none can steer host speculation;
	 * the callee-saved ones are restored from the stack below.
	 */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	/*
	 * The guest may have filled the return stack buffer with its own
	 * targets: overwrite it before the first RET, as the kernel's own
	 * entry code does on the features that need it.
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	/*
	 * BHI: the guest may have trained the branch history; clear it
	 * before the host's first indirect branch, where the host does.
	 */
	CLEAR_BRANCH_HISTORY_VMEXIT

	mov	%ebx, %eax
.Lout:
	add	$8, %rsp		/* @regs */
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

.Lvmfail:
	/* Guest values sit in the registers: scrub them like after an exit. */
	mov	$1, %ebx
	jmp	.Lclear_guest_regs

.Lvmfail_no_guest_regs:
	mov	$1, %eax
	jmp	.Lout
SYM_FUNC_END(__vmx_vcpu_run)

/*
 * Build the frame the CPU pushes for an interrupt taken in the kernel
 * (SS, RSP, RFLAGS, CS; the CALL adds RIP) and call the host's entry code
 * with it; that code returns with IRET, which lands after the CALL.
 */
.macro CALL_WITH_INTERRUPT_FRAME call_insn:req call_target:req
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	\call_insn \call_target
	leave
	RET
.endm

/**
 * vmx_do_nmi_irqoff - hand an NMI that caused a VM exit to the host
 *
 * Calls the kernel's NMI entry that does not switch to the IST stack: its
 * IRET ends the NMI blocking that the VM exit left in place.
 */
SYM_FUNC_START(vmx_do_nmi_irqoff)
	CALL_WITH_INTERRUPT_FRAME call asm_exc_nmi_noist
SYM_FUNC_END(vmx_do_nmi_irqoff)

/**
 * vmx_do_interrupt_irqoff - run the host IDT's handler for an interrupt
 * @handler:	%rdi, the address from the host IDT gate of the vector
 *		acknowledged on VM exit
 */
SYM_FUNC_START(vmx_do_interrupt_irqoff)
	CALL_WITH_INTERRUPT_FRAME CALL_NOSPEC, rdi
SYM_FUNC_END(vmx_do_interrupt_irqoff)
