// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for the tests: a failed VMLAUNCH/VMRESUME and an EPT
 * misconfiguration happen only when vmxlab itself is wrong, so no guest
 * and no ioctl can provoke them, yet their handling must work; nor can a
 * test make one chosen allocation fail (the vCPU's FPU image).  Root arms
 * one fault by writing its name to /sys/module/vmxlab/parameters/
 * fault_inject; it fires once, at the next place it can, and the
 * parameter reads "none" again.  Documentation/testing.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <vmxlab/vmx_arch.h>
#include <vmxlab/vmx_ops.h>
#include "fault_inject.h"
#include "vmcs.h"
#include "vmxlab.h"

int vmx_fault_armed = VMX_FAULT_NONE;
DEFINE_STATIC_KEY_FALSE(vmx_fault_inject_used);

static const char * const fault_names[VMX_NR_FAULTS] = {
	[VMX_FAULT_NONE]		= "none",
	[VMX_FAULT_VMFAIL]		= "vmfail",
	[VMX_FAULT_EPT_MISCONFIG]	= "ept_misconfig",
	[VMX_FAULT_FPSTATE_ALLOC]	= "fpstate_alloc",
};

static int fault_inject_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(fault_names, val);

	if (i < 0)
		return -EINVAL;
	if (i != VMX_FAULT_NONE)
		static_branch_enable(&vmx_fault_inject_used);
	WRITE_ONCE(vmx_fault_armed, i);
	if (i != VMX_FAULT_NONE)
		pr_notice("fault_inject: the next %s is armed\n", fault_names[i]);
	return 0;
}

static int fault_inject_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", fault_names[READ_ONCE(vmx_fault_armed)]);
}

static const struct kernel_param_ops fault_inject_ops = {
	.set = fault_inject_set,
	.get = fault_inject_get,
};
module_param_cb(fault_inject, &fault_inject_ops, NULL, 0600);
MODULE_PARM_DESC(fault_inject,
		 "tests only: make one fault (none, vmfail, ept_misconfig, fpstate_alloc)");

/**
 * vmx_fault_break_controls() - make the coming VM entry fail
 *
 * Sets a pin-based control bit this CPU does not allow (IA32_VMX_TRUE_
 * PINBASED_CTLS, allowed-1 half), so that VMLAUNCH/VMRESUME fails with
 * VM-instruction error 7, "VM entry with invalid control field(s)" (SDM
 * Vol. 3C, 27.2.1.1 and 31.4).  The caller writes the returned value back
 * after the attempt.
 *
 * Return: the pin-based controls as they were.
 */
u32 vmx_fault_break_controls(void)
{
	u32 pin = vmcs_read32(VMCS_PIN_BASED_CTLS);
	u32 not_allowed = ~(u32)(vmx_caps.msr_pinbased >> 32);

	if (not_allowed)
		vmcs_write32(VMCS_PIN_BASED_CTLS, pin | (not_allowed & -not_allowed));
	return pin;
}
