/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory: the memory slots userspace declares and the EPT tables
 * built from them.  On the exit path, an EPT violation comes here
 * (mmu_handle_ept_violation): either a slot backs the address and a page
 * is faulted in, or nothing does and the exit becomes MMIO for userspace.
 */
#ifndef VMXLAB_MMU_H
#define VMXLAB_MMU_H

#include <linux/cpumask.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <uapi/linux/vmxlab.h>

struct mm_struct;
struct shadow_tree;

struct vmxlab_memslot {
	u64 gpa;		/* first guest-physical byte */
	u64 size;		/* bytes; 0 = slot unused */
	u64 hva;		/* backing userspace address */
	u32 flags;		/* VMXLAB_MEM_* */
};

struct vmxlab_mmu {
	struct mutex lock;	/* slots and EPT tables */
	struct mm_struct *mm;	/* the VM creator's; pages are pinned from it */
	struct vmxlab_memslot slots[VMXLAB_MAX_MEM_SLOTS];
	/*
	 * The used slots' numbers in order of guest-physical address (they
	 * never overlap), for find_slot()'s binary search; rebuilt under
	 * @lock whenever a slot is added, moved or deleted.
	 */
	u8 by_gpa[VMXLAB_MAX_MEM_SLOTS];
	u8 nr_used;
	u8 last_hit;		/* the slot find_slot() found last */
	u64 *ept_root;		/* EPT PML4 table */
	u64 eptp;		/* EPT pointer for the VMCS */
	cpumask_var_t ept_used;	/* CPUs that may cache its translations */
	cpumask_var_t ept_flush; /* scratch for mmu_invept_all_cpus() */
	unsigned long pinned_pages;
	/*
	 * Shadow-paging VMs: the EPT tables above are never loaded, they
	 * only register the pinned pages; the CPU walks these, one per vCPU
	 * id (shadow.c).
	 */
	bool shadow;
	struct shadow_tree *shadow_trees[VMXLAB_MAX_VCPUS];
};

/* What an EPT violation turned out to be. */
struct mmu_fault_result {
	enum {
		MMU_FAULT_MAPPED,	  /* page mapped, resume the guest */
		MMU_FAULT_ALREADY_MAPPED, /* another vCPU mapped it first */
		MMU_FAULT_MMIO,		  /* no slot: MMIO for userspace */
		MMU_FAULT_READONLY_WRITE, /* a write to a read-only slot: MMIO */
	} kind;
	u32 slot;		/* the slot, unless MMU_FAULT_MMIO */
};

int mmu_init(struct vmxlab_mmu *mmu, bool shadow);
void mmu_destroy(struct vmxlab_mmu *mmu);
int mmu_set_memory_region(struct vmxlab_mmu *mmu,
			  const struct vmxlab_memory_region *r);
int mmu_handle_ept_violation(struct vmxlab_mmu *mmu, u64 gpa, bool write,
			     struct mmu_fault_result *result);
int mmu_read_guest(struct vmxlab_mmu *mmu, u64 gpa, void *buf,
		   unsigned int len);
void mmu_read_begin(struct vmxlab_mmu *mmu);
void mmu_read_end(struct vmxlab_mmu *mmu);
int mmu_read_guest_locked(struct vmxlab_mmu *mmu, u64 gpa, void *buf,
			  unsigned int len);
int mmu_guest_page_hva(struct vmxlab_mmu *mmu, u64 gpa, u64 *hva);
int mmu_write_guest(struct vmxlab_mmu *mmu, u64 gpa, const void *buf,
		    unsigned int len);
int mmu_cmpxchg_guest(struct vmxlab_mmu *mmu, u64 gpa, u64 old, u64 new,
		      unsigned int size);
int mmu_pin_page(struct vmxlab_mmu *mmu, u64 gpa, bool write, u64 *hpa,
		 bool *writable);
void mmu_invept_all_cpus(struct vmxlab_mmu *mmu);
void mmu_sync_before_entry(struct vmxlab_mmu *mmu, unsigned int cpu);

#endif /* VMXLAB_MMU_H */
