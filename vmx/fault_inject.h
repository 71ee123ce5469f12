/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Faults vmxlab can be told to make, once, so that the tests reach the
 * paths that only a vmxlab bug would otherwise take (fault_inject.c).
 */
#ifndef VMXLAB_FAULT_INJECT_H
#define VMXLAB_FAULT_INJECT_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/jump_label.h>
#include <linux/types.h>

enum vmx_fault {
	VMX_FAULT_NONE,
	VMX_FAULT_VMFAIL,		/* the next VM entry fails (VMfailValid) */
	VMX_FAULT_EPT_MISCONFIG,	/* the next EPT leaf is misconfigured */
	VMX_FAULT_FPSTATE_ALLOC,	/* the next vCPU's FPU image: no memory */
	VMX_NR_FAULTS,
};

extern int vmx_fault_armed;
/* On from the first arming to unload: until then the checks cost nothing. */
DECLARE_STATIC_KEY_FALSE(vmx_fault_inject_used);

/* Is @fault armed?  If so it is disarmed: each arming fires once. */
static inline bool vmx_fault_take(enum vmx_fault fault)
{
	return static_branch_unlikely(&vmx_fault_inject_used) &&
	       READ_ONCE(vmx_fault_armed) == fault &&
	       cmpxchg(&vmx_fault_armed, fault, VMX_FAULT_NONE) == fault;
}

u32 vmx_fault_break_controls(void);

#endif /* VMXLAB_FAULT_INJECT_H */
