// SPDX-License-Identifier: GPL-2.0
/*
 * A time slice for every VM entry, with the VMX-preemption timer (SDM Vol.
 * 3C, 26.5.1): when the module parameter timeslice_us is not 0, the guest
 * runs at most that long before a preemption-timer exit, which the run
 * loop answers like any exit handled in the kernel -- it looks for a
 * signal or other work of the task, then enters again.
 *
 * On real hardware a guest that spins with interrupts off still exits on
 * the host's timer interrupt (external-interrupt exiting works whatever
 * the guest's RFLAGS.IF), so the default is 0: off, at no cost (a static
 * key).  Bochs delivers no external-interrupt exit to a guest with IF=0
 * (Documentation/interrupts.rst): there a `cli; jmp .` guest would keep
 * VMXLAB_RUN from ever seeing a signal, and tests and fuzzers turn the
 * slice on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jump_label.h>
#include <linux/moduleparam.h>
#include <asm/tsc.h>

#include <vmxlab/vmx_arch.h>
#include <vmxlab/vmx_ops.h>
#include "vcpu.h"
#include "vmcs.h"

/* IA32_VMX_MISC[4:0]: the timer counts down once every 2^X TSC ticks. */
#define VMX_MISC_TIMER_RATE	0x1f
/* The VMCS field is 32 bits wide. */
#define TIMER_VALUE_MAX		0xffffffffULL

DEFINE_STATIC_KEY_FALSE(vmx_timeslice_used);
static unsigned int timeslice_us;

static int timeslice_set(const char *val, const struct kernel_param *kp)
{
	int r = param_set_uint(val, kp);

	/* Left on once used: vCPUs that armed the timer must disarm it. */
	if (!r && timeslice_us)
		static_branch_enable(&vmx_timeslice_used);
	return r;
}

static const struct kernel_param_ops timeslice_ops = {
	.set = timeslice_set,
	.get = param_get_uint,
};
module_param_cb(timeslice_us, &timeslice_ops, &timeslice_us, 0644);
MODULE_PARM_DESC(timeslice_us,
		 "longest guest run between two VM exits, in microseconds (0: no limit)");

/* Timer ticks for @us microseconds on this CPU, at least 1. */
static u32 timeslice_ticks(unsigned int us)
{
	u64 ticks = (u64)us * tsc_khz / 1000;

	ticks >>= vmx_caps.msr_misc & VMX_MISC_TIMER_RATE;
	return clamp_val(ticks, 1, TIMER_VALUE_MAX);
}

/**
 * __vmx_timeslice_before_entry() - arm, re-arm or disarm the timer
 * @vcpu: loaded; interrupts are off
 *
 * Called before every entry once the parameter was ever set.
 */
void __vmx_timeslice_before_entry(struct vmx_vcpu *vcpu)
{
	unsigned int us = READ_ONCE(timeslice_us);
	bool on = us && (vmx_caps.features & VMXLAB_CAP_PREEMPTION_TIMER);

	if (on != vcpu->timeslice_armed) {
		u32 pin = vmcs_read32(VMCS_PIN_BASED_CTLS);

		vmcs_write32(VMCS_PIN_BASED_CTLS,
			     on ? pin | PIN_CTL_PREEMPTION_TIMER :
			     pin & ~PIN_CTL_PREEMPTION_TIMER);
		vcpu->timeslice_armed = on;
	}
	if (on)
		vmcs_write32(VMCS_PREEMPTION_TIMER_VALUE, timeslice_ticks(us));
}
