// SPDX-License-Identifier: GPL-2.0
/*
 * Exits that userspace completes: port I/O and MMIO.  An exit hands the
 * access to userspace in the run page; for a read, the next VMXLAB_RUN
 * calls vmx_complete_userspace_exit() to put the data where the guest
 * instruction wanted it and step over that instruction.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>

#include "vcpu.h"
#include "vmcs.h"

/* Store @size bytes into a GPR the way a MOV/IN of that width does. */
static void write_gpr_sized(struct vmx_vcpu *vcpu, int reg, u64 value,
			    unsigned int size)
{
	unsigned long *r = &vcpu->regs[reg];

	switch (size) {
	case 1:
		*r = (*r & ~0xffUL) | (u8)value;
		break;
	case 2:
		*r = (*r & ~0xffffUL) | (u16)value;
		break;
	case 4:
		*r = (u32)value;	/* 32-bit writes zero-extend */
		break;
	default:
		*r = value;
		break;
	}
}

/**
 * vmx_complete_userspace_exit() - finish an IN or MMIO load
 * @vcpu: loaded; called at the start of every VMXLAB_RUN
 */
void vmx_complete_userspace_exit(struct vmx_vcpu *vcpu)
{
	struct vmx_pending_completion *p = &vcpu->pending;
	struct vmxlab_run *run = vcpu->run;
	u64 data = 0;

	switch (p->kind) {
	case COMPLETE_IO_IN:
		memcpy(&data, (u8 *)run + VMXLAB_RUN_IO_DATA_OFFSET, p->size);
		write_gpr_sized(vcpu, VCPU_RAX, data, p->size);
		break;
	case COMPLETE_MMIO_LOAD:
		memcpy(&data, run->mmio.data, p->size);
		write_gpr_sized(vcpu, p->reg, data, p->size);
		break;
	default:
		return;
	}
	p->kind = COMPLETE_NONE;
	vmx_skip_instruction(vcpu);
}

int vmx_handle_string_io(struct vmx_vcpu *vcpu, unsigned long qual)
{
	struct vmxlab_run *run = vcpu->run;

	run->exit_reason = VMXLAB_EXIT_INTERNAL_ERROR;
	run->internal.suberror = VMXLAB_INTERNAL_EMULATION;
	run->internal.ndata = 1;
	run->internal.data[0] = qual;
	return 0;
}

int vmx_emulate_mmio(struct vmx_vcpu *vcpu, u64 gpa)
{
	struct vmxlab_run *run = vcpu->run;

	run->exit_reason = VMXLAB_EXIT_INTERNAL_ERROR;
	run->internal.suberror = VMXLAB_INTERNAL_EMULATION;
	run->internal.ndata = 1;
	run->internal.data[0] = gpa;
	return 0;
}
