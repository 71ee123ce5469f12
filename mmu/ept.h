/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EPT tables (SDM Vol. 3C, 29.3): private to mmu/, used by memslot.c.
 * All functions run with mmu->lock held.
 */
#ifndef VMXLAB_EPT_H
#define VMXLAB_EPT_H

#include "mmu.h"

int ept_init(struct vmxlab_mmu *mmu);
void ept_destroy(struct vmxlab_mmu *mmu);
int ept_map_page(struct vmxlab_mmu *mmu, const struct vmxlab_memslot *s,
		 u64 gpa);
int ept_pinned_page(struct vmxlab_mmu *mmu, u64 gpa, u64 *hpa, bool *writable);
void ept_unmap_range(struct vmxlab_mmu *mmu, u64 gpa, u64 size);
void ept_release_range(struct vmxlab_mmu *mmu, u64 gpa, u64 size, bool dirty);

#endif /* VMXLAB_EPT_H */
