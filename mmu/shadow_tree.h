/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between shadow.c (filling leaves from guest page faults) and
 * shadow_tree.c (the roots, their cache and what they were built from).
 */
#ifndef VMXLAB_SHADOW_TREE_H
#define VMXLAB_SHADOW_TREE_H

#include <linux/types.h>

#include "mmu.h"
#include "spte.h"

struct shadow_tree;

/* Accessed and dirty flags: bit 5 and bit 6 in every format (SDM 4.8). */
#define GPTE_A		BIT_ULL(5)
#define GPTE_D		BIT_ULL(6)

/* gwalk_translate()'s reader of guest memory: @ctx is the VM's mmu. */
int shadow_read_guest(void *ctx, u64 gpa, void *buf, unsigned int len);

/* The same through the vCPU's cache of page addresses (shadow_tree.c). */
struct shadow_reader {
	struct vmxlab_mmu *mmu;
	struct shadow_tree *t;
};

int shadow_read_entry(void *ctx, u64 gpa, void *buf, unsigned int len);
int shadow_guest_hva(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 gpa,
		     u64 *hva);

u64 *shadow_leaf(struct shadow_tree *t, u64 gva, bool create);
void shadow_note_size(struct shadow_tree *t, u64 *leaf, enum spte_size size);
void shadow_record_dep(struct shadow_tree *t, u64 gpa, u64 old, u64 now,
		       unsigned int size);

/* shadow_audit.c: a leaf and the linear address it translates. */
struct shadow_leaf_ref {
	u64 gva;
	u64 spte;
};

unsigned int shadow_collect_leaves(struct vmxlab_mmu *mmu,
				   struct shadow_tree *t,
				   struct shadow_leaf_ref *out,
				   unsigned int max);
bool shadow_current_deps_hold(struct vmxlab_mmu *mmu, struct shadow_tree *t);
bool shadow_audit_due(const struct shadow_tree *t);
void shadow_audit_settled(struct shadow_tree *t);

#endif /* VMXLAB_SHADOW_TREE_H */
