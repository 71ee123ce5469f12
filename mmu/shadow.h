/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shadow paging (Documentation/paging.rst): for a VM created with
 * VMXLAB_VM_SHADOW the CPU walks tables that vmxlab builds, one root per
 * vCPU and guest address space, filled one 4 KiB leaf at a time from the
 * guest's own tables as the guest takes page faults.  vmx/paging.c calls in here from the #PF,
 * INVLPG and control-register exits; nothing here touches the VMCS.
 */
#ifndef VMXLAB_SHADOW_H
#define VMXLAB_SHADOW_H

#include <linux/list.h>
#include <linux/types.h>

#include "gwalk.h"
#include "mmu.h"

struct shadow_tree;

/* What a guest #PF turned out to be (numbers: the tracepoint's). */
enum shadow_pf_result {
	SHADOW_PF_RESOLVED = 0,	/* leaf filled in: resume the guest */
	SHADOW_PF_REFLECT = 1,	/* the guest's own #PF: error code, CR2 */
	SHADOW_PF_MMIO = 2,	/* translated to memory no slot backs */
	SHADOW_PF_UNBACKED = 3,	/* the guest's tables are not in a slot */
};

/**
 * struct shadow_pf - one intercepted #PF
 * @gva:	in: the linear address (the exit qualification)
 * @access:	in: GWALK_ACC_* from the hardware error code
 * @hw_error:	in: the hardware's error code
 * @error_code:	out, REFLECT: the error code for the guest
 * @cr2:	out, REFLECT: the value for the guest's CR2
 * @gpa:	out, MMIO and UNBACKED: the guest-physical address
 */
struct shadow_pf {
	u64 gva;
	unsigned int access;
	u32 hw_error;
	u32 error_code;
	u64 cr2;
	u64 gpa;
};

struct shadow_tree *shadow_tree_create(void);
void shadow_tree_register(struct vmxlab_mmu *mmu, unsigned int id,
			  struct shadow_tree *t);
void shadow_tree_destroy(struct vmxlab_mmu *mmu, unsigned int id,
			 struct shadow_tree *t);
/* Roots a vCPU keeps, one per guest CR3 it used lately (shadow_tree.c). */
#define SHADOW_ROOTS	4

u64 shadow_reset(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 cr3,
		 bool long_mode);
u64 shadow_switch(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 cr3,
		  bool long_mode, bool *hit);
void shadow_invlpg(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 gva);
int shadow_page_fault(struct vmxlab_mmu *mmu, struct shadow_tree *t,
		      const struct gwalk_regs *regs, struct shadow_pf *pf,
		      enum shadow_pf_result *result);
void shadow_prefetch(struct vmxlab_mmu *mmu, struct shadow_tree *t,
		     const struct gwalk_regs *regs, u64 gva);
void shadow_audit(struct vmxlab_mmu *mmu, struct shadow_tree *t,
		  const struct gwalk_regs *regs);
/* memslot.c: around a slot's unpinning; mmu->lock held for the first. */
void shadow_zap_all_trees(struct vmxlab_mmu *mmu, struct list_head *deferred);
void shadow_free_deferred(struct list_head *deferred);

#endif /* VMXLAB_SHADOW_H */
