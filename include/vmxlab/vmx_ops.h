/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thin wrappers around the VMX instructions.  Each one turns the
 * instruction's three outcomes (SDM Vol. 3C, 31.2) into a return value:
 * success, VMfail (CF or ZF set), or a fault (#UD/#GP, caught through the
 * exception table) -- so no caller ever oopses on a failed VMX instruction.
 * Kernel-only, unlike vmx_arch.h: here so that vmx/ and mmu/ (INVEPT)
 * include them alike.
 */
#ifndef VMXLAB_VMX_OPS_H
#define VMXLAB_VMX_OPS_H

#include <linux/types.h>
#include <linux/errno.h>
#include <asm/asm.h>
#include <asm/io.h>

/*
 * The exception-table entry for the VMX instruction at local label 1: a
 * fault resumes at local label 2, which jumps to the C label "fault".  The
 * detour keeps the %l operand inside the asm string.
 */
#define VMX_INSN_FAULT_FIXUP		\
	"jmp 3f\n\t"			\
	"2: jmp %l[fault]\n\t"		\
	"3:\n\t"			\
	_ASM_EXTABLE(1b, 2b)

/*
 * The asm body of one VMX instruction: VMfailInvalid/VMfailValid (CF or ZF
 * set) jump to the C label "vmfail", a #UD or #GP to "fault" through
 * local label 2 as above.  On success JA skips both jumps, so the
 * instruction costs one branch besides itself: the VMREADs and VMWRITEs
 * of every round trip are built from this.
 */
#define VMX_INSN_ASM(insn)		\
	"1: " insn "\n\t"		\
	"ja 3f\n\t"			\
	"jmp %l[vmfail]\n\t"		\
	"2: jmp %l[fault]\n\t"		\
	"3:\n\t"			\
	_ASM_EXTABLE(1b, 2b)

/* VMXON with the physical address of this CPU's VMXON region. */
static __always_inline int vmx_vmxon(u64 region_pa)
{
	asm goto(VMX_INSN_ASM("vmxon %[pa]")
		 : : [pa] "m" (region_pa)
		 : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

/*
 * VMXOFF faults (#UD) when the CPU is not in VMX operation; callers that
 * cannot know (the emergency path runs in NMI context) just eat the fault.
 */
static __always_inline int vmx_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		 VMX_INSN_FAULT_FIXUP
		 : : : "cc", "memory" : fault);
	return 0;
fault:
	return -EFAULT;
}

/* VMCLEAR: write a VMCS back to memory and make it inactive on this CPU. */
static __always_inline int vmx_vmclear(u64 vmcs_pa)
{
	asm goto(VMX_INSN_ASM("vmclear %[pa]")
		 : : [pa] "m" (vmcs_pa)
		 : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

/* VMPTRLD: make a VMCS current (and active) on this CPU. */
static __always_inline int vmx_vmptrld(u64 vmcs_pa)
{
	asm goto(VMX_INSN_ASM("vmptrld %[pa]")
		 : : [pa] "m" (vmcs_pa)
		 : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

/* INVEPT and INVVPID take a 128-bit descriptor in memory (SDM 31.3). */
static __always_inline int vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };

	asm goto(VMX_INSN_ASM("invept %[desc], %[type]")
		 : : [desc] "m" (desc), [type] "r" (type)
		 : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

static __always_inline int vmx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gva; } desc = { vpid, 0 };

	asm goto(VMX_INSN_ASM("invvpid %[desc], %[type]")
		 : : [desc] "m" (desc), [type] "r" (type)
		 : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

#endif /* VMXLAB_VMX_OPS_H */
