// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's FPU image, made when the vCPU is created (vcpu.c) and
 * swapped into the task around each run by fpu_swap_kvm_fpstate(): the
 * kernel's own XSAVE/XRSTOR then saves and restores it like a task's.
 */
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/fpu/api.h>

#include "fault_inject.h"
#include "fpstate.h"

/*
 * fpu_alloc_guest_fpstate() (6.1) takes a vmalloc area: a whole page and
 * its bookkeeping for an image of 832 bytes on a CPU with x87, SSE and
 * AVX (SDM Vol. 1, 13.4: legacy area 512, header 64, AVX 256).  The sizes
 * and feature masks behind it (fpu_kernel_cfg) are not exported, so the
 * image is made there and moved into a kmalloc object of the size it
 * records: the larger of the kernel's and the user ABI's, since 6.1 sizes
 * the vmalloc area by the second but saves by the first.  XSAVE needs 64
 * bytes of alignment (SDM Vol. 1, 13.4); kmalloc aligns every size above
 * 192 bytes to the power of two it rounds up to, but an image too large
 * for the saving, or an object that missed, keeps the page.
 */
static struct fpstate *fpstate_shrink(const struct fpstate *fps)
{
	size_t size = offsetof(struct fpstate, regs) +
		      max(fps->size, fps->user_size);
	struct fpstate *copy;

	if (size >= PAGE_SIZE)
		return NULL;
	if (vmx_fault_take(VMX_FAULT_FPSTATE_ALLOC))
		return ERR_PTR(-ENOMEM);
	copy = kmemdup(fps, size, GFP_KERNEL_ACCOUNT);
	if (!copy)
		return ERR_PTR(-ENOMEM);
	if (!IS_ALIGNED((unsigned long)&copy->regs, 64)) {
		kfree(copy);
		return NULL;
	}
	/* Not vmalloc'd: vmx_guest_fpstate_free() tells by this. */
	copy->is_valloc = false;
	return copy;
}

/**
 * vmx_guest_fpstate_alloc() - the FPU image of a new vCPU
 * @gfpu: the vCPU's, zeroed
 *
 * Return: 0 with @gfpu->fpstate set, or -ENOMEM with nothing allocated.
 */
int vmx_guest_fpstate_alloc(struct fpu_guest *gfpu)
{
	struct fpstate *copy;

	if (!fpu_alloc_guest_fpstate(gfpu))
		return -ENOMEM;
	copy = fpstate_shrink(gfpu->fpstate);
	if (!copy)
		return 0;		/* the vmalloc area stays */
	fpu_free_guest_fpstate(gfpu);
	if (IS_ERR(copy))
		return PTR_ERR(copy);
	gfpu->fpstate = copy;
	return 0;
}

/* Undoes vmx_guest_fpstate_alloc(); the image must not be swapped in. */
void vmx_guest_fpstate_free(struct fpu_guest *gfpu)
{
	if (gfpu->fpstate && gfpu->fpstate->is_valloc) {
		fpu_free_guest_fpstate(gfpu);
		return;
	}
	kfree(gfpu->fpstate);
	gfpu->fpstate = NULL;
}
