/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's FPU image (fpstate.c), which vcpu.c swaps in around each
 * run with the kernel's fpu_swap_kvm_fpstate().
 */
#ifndef VMXLAB_FPSTATE_H
#define VMXLAB_FPSTATE_H

#include <asm/fpu/types.h>

int vmx_guest_fpstate_alloc(struct fpu_guest *gfpu);
void vmx_guest_fpstate_free(struct fpu_guest *gfpu);

#endif /* VMXLAB_FPSTATE_H */
