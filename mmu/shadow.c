// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow paging: the tables the CPU walks for a VMXLAB_VM_SHADOW VM.
 *
 * Each vCPU has one tree, which acts as a software TLB: it only ever holds
 * 4 KiB translations the guest's own tables gave when the guest touched
 * the page, and like a TLB it is emptied whenever the architecture lets a
 * TLB go stale -- MOV to CR3, a change of the paging controls, INVLPG for
 * one page -- so no write to a guest page table needs to be tracked.  The
 * price is refilling after every guest CR3 switch; KVM keeps shadow pages
 * across switches by write-protecting the guest's tables instead.
 *
 * The exit path: a guest #PF exits (it is in the exception bitmap), and
 * vmx/paging.c calls shadow_page_fault() with the linear address and the
 * access.  That walks the guest's tables (gwalk.c), sets their accessed
 * and dirty flags as the CPU would, pins the guest page (memslot.c) and
 * fills the leaf (spte.c); or it reports the #PF the guest itself must
 * take, or that the address is MMIO.
 *
 * Format: a guest in long mode runs on a 4-level tree; every other guest
 * (32-bit paging, PAE, paging off) on a PAE tree, whose PDPT lies below
 * 4 GiB and whose four page directories always exist, so that the PDPTEs
 * the CPU loads at VM entry (SDM Vol. 3C, 27.3.2.4) never change.
 *
 * Locking: mmu->lock, for every change to any tree, as other threads
 * empty all trees when memory slots change (shadow_zap_all_trees()).  A
 * tree is only ever filled by its own vCPU's thread.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <asm/io.h>
#include <asm/processor-flags.h>

#include "shadow.h"
#include "spte.h"

#define SPTE_TABLE	(SPTE_P | SPTE_RW | SPTE_US)	/* leaves decide rights */
#define ENTRIES		512

struct shadow_tree {
	u64 *pml4;		/* 4-level root: guests in long mode */
	u64 *pdpt;		/* PAE root, below 4 GiB: every other guest */
	u64 *pd[4];		/* its page directories, always present */
	bool long_mode;		/* which root the CPU walks */
	unsigned int sizes;	/* BIT(enum spte_size) of the leaves present */
};

static u64 *alloc_table(gfp_t extra)
{
	return (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT | extra);
}

static u64 *table_of(u64 entry)
{
	return phys_to_virt(entry & SPTE_ADDR_MASK);
}

/* Free @table, a table at @level (1 = page table), and all below it. */
static void free_table(u64 *table, int level)
{
	int i;

	if (level > 1)
		for (i = 0; i < ENTRIES; i++)
			if (table[i] & SPTE_P)
				free_table(table_of(table[i]), level - 1);
	free_page((unsigned long)table);
}

/*
 * Detach the table @entry points at (one of @level) and clear @entry.
 * With @deferred the table is only listed, to be freed once no CPU can
 * be walking it (shadow_free_deferred()); else it is freed now.
 */
static void detach(u64 *entry, int level, struct list_head *deferred)
{
	u64 *table = table_of(*entry);
	struct page *page = virt_to_page(table);

	*entry = 0;
	if (!deferred) {
		free_table(table, level);
		return;
	}
	set_page_private(page, level);
	list_add(&page->lru, deferred);
}

/* Empty @t: every leaf and every table below the fixed ones. */
static void zap_tree(struct shadow_tree *t, struct list_head *deferred)
{
	int i, j;

	for (i = 0; i < ENTRIES; i++)
		if (t->pml4[i] & SPTE_P)
			detach(&t->pml4[i], 3, deferred);
	for (i = 0; i < 4; i++)
		for (j = 0; j < ENTRIES; j++)
			if (t->pd[i][j] & SPTE_P)
				detach(&t->pd[i][j], 1, deferred);
	t->sizes = 0;
}

/**
 * shadow_free_deferred() - free tables detached by shadow_zap_all_trees()
 * @deferred: the list it filled; every CPU has flushed since
 */
void shadow_free_deferred(struct list_head *deferred)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, deferred, lru) {
		int level = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		free_table(page_address(page), level);
	}
}

/**
 * shadow_zap_all_trees() - empty every vCPU's tree
 * @mmu:      the VM's memory; its lock is held
 * @deferred: collects the detached tables
 *
 * For a slot about to be unpinned: other vCPUs may be running on these
 * trees right now.  The caller makes every CPU that ran the VM exit (which
 * flushes its TLB: shadow VMs use no VPID), then frees @deferred, then
 * unpins.
 */
void shadow_zap_all_trees(struct vmxlab_mmu *mmu, struct list_head *deferred)
{
	int i;

	for (i = 0; i < VMXLAB_MAX_VCPUS; i++)
		if (mmu->shadow_trees[i])
			zap_tree(mmu->shadow_trees[i], deferred);
}

static void tree_free(struct shadow_tree *t)
{
	int i;

	if (t->pml4) {
		zap_tree(t, NULL);
		free_page((unsigned long)t->pml4);
	}
	for (i = 0; i < 4; i++)
		free_page((unsigned long)t->pd[i]);
	free_page((unsigned long)t->pdpt);
	kfree(t);
}

/**
 * shadow_tree_create() - a vCPU's tree
 *
 * Return: the tree, empty, in PAE format, not yet known to the VM
 * (shadow_tree_register()); NULL without memory.
 */
struct shadow_tree *shadow_tree_create(void)
{
	struct shadow_tree *t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	int i;

	if (!t)
		return NULL;
	t->pml4 = alloc_table(0);
	t->pdpt = alloc_table(GFP_DMA32);	/* CR3 holds 32 bits in PAE */
	for (i = 0; i < 4; i++)
		t->pd[i] = alloc_table(0);
	if (!t->pml4 || !t->pdpt || !t->pd[0] || !t->pd[1] || !t->pd[2] ||
	    !t->pd[3]) {
		tree_free(t);
		return NULL;
	}
	/* A PAE PDPTE has only P and the address (SDM Vol. 3A, Table 4-8). */
	for (i = 0; i < 4; i++)
		t->pdpt[i] = virt_to_phys(t->pd[i]) | SPTE_P;
	return t;
}

/*
 * Once the vCPU has its id in the VM, slot changes must empty its tree
 * too; until then nothing is in it.
 */
void shadow_tree_register(struct vmxlab_mmu *mmu, unsigned int id,
			  struct shadow_tree *t)
{
	mutex_lock(&mmu->lock);
	mmu->shadow_trees[id] = t;
	mutex_unlock(&mmu->lock);
}

/* The vCPU is gone: no CPU runs on its tree any more. */
void shadow_tree_destroy(struct vmxlab_mmu *mmu, unsigned int id,
			 struct shadow_tree *t)
{
	mutex_lock(&mmu->lock);
	if (mmu->shadow_trees[id] == t)
		mmu->shadow_trees[id] = NULL;
	mutex_unlock(&mmu->lock);
	tree_free(t);
}

/**
 * shadow_reset() - empty a vCPU's tree and pick its format
 * @mmu:       the VM's memory
 * @t:         the tree of the vCPU whose thread calls this
 * @long_mode: the guest is in long mode (EFER.LMA)
 *
 * What a full TLB flush is to the CPU.  Called when the guest loads CR3,
 * changes a paging control, or userspace sets the registers.  The vCPU's
 * next entry flushes the CPU's own TLB (no VPID).
 *
 * Return: the host-physical address of the root, for the VMCS's CR3.
 */
u64 shadow_reset(struct vmxlab_mmu *mmu, struct shadow_tree *t, bool long_mode)
{
	mutex_lock(&mmu->lock);
	zap_tree(t, NULL);
	t->long_mode = long_mode;
	mutex_unlock(&mmu->lock);
	return virt_to_phys(long_mode ? t->pml4 : t->pdpt);
}

/*
 * The leaf for @gva in @t; missing tables are created when @create.
 * NULL if one is missing (or no memory).
 */
static u64 *leaf_of(struct shadow_tree *t, u64 gva, bool create)
{
	u64 *table, *entry;
	int level;

	if (t->long_mode) {
		table = t->pml4;
		level = 4;
	} else {
		table = t->pd[(gva >> 30) & 3];
		level = 2;
	}
	for (; level > 1; level--) {
		entry = &table[(gva >> (12 + 9 * (level - 1))) & (ENTRIES - 1)];
		if (!(*entry & SPTE_P)) {
			u64 *next;

			if (!create)
				return NULL;
			next = alloc_table(0);
			if (!next)
				return NULL;
			*entry = virt_to_phys(next) | SPTE_TABLE;
		}
		table = table_of(*entry);
	}
	return &table[(gva >> 12) & (ENTRIES - 1)];
}

/* Bytes of a guest page of each size class. */
static const u64 size_bytes[] = {
	[SPTE_4K] = SZ_4K, [SPTE_2M] = SZ_2M, [SPTE_4M] = SZ_4M, [SPTE_1G] = SZ_1G,
};

/* Clear the leaves of size class @size in [start, start + len). */
static void zap_size_class(struct shadow_tree *t, u64 start, u64 len,
			   enum spte_size size)
{
	u64 gva, *pt;
	int i;

	for (gva = start; gva < start + len; gva += SZ_2M) {
		pt = leaf_of(t, gva, false);
		if (!pt)
			continue;
		pt -= (gva >> 12) & (ENTRIES - 1);	/* the whole table */
		for (i = 0; i < ENTRIES; i++)
			if ((pt[i] & SPTE_P) &&
			    (pt[i] & SPTE_SIZE_MASK) >> SPTE_SIZE_SHIFT == size)
				pt[i] = 0;
	}
}

/**
 * shadow_invlpg() - the guest invalidated the TLB entries of one page
 * @mmu: the VM's memory
 * @t:   the tree of the vCPU that executed INVLPG
 * @gva: the linear address
 *
 * INVLPG drops every translation of the page holding @gva, the whole
 * large page if the guest mapped one there (SDM Vol. 3A, 4.10.4.1).  A
 * guest large page is shadowed by 4 KiB leaves, each marked with the
 * guest page's size (spte.h): for each size present in the tree, the
 * leaves of that size in the aligned region around @gva go.  Which guest
 * large page a leaf came from is not recorded, so a leaf of another
 * large page in that region may go too: only a refill, as after any TLB
 * miss.
 */
void shadow_invlpg(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 gva)
{
	enum spte_size size;
	u64 *leaf;

	mutex_lock(&mmu->lock);
	leaf = leaf_of(t, gva, false);
	if (leaf)
		*leaf = 0;
	for (size = SPTE_2M; size <= SPTE_1G; size++)
		if (t->sizes & BIT(size))
			zap_size_class(t, gva & ~(size_bytes[size] - 1),
				       size_bytes[size], size);
	mutex_unlock(&mmu->lock);
}

static int read_guest(void *ctx, u64 gpa, void *buf, unsigned int len)
{
	return mmu_read_guest(ctx, gpa, buf, len);
}

/* Accessed and dirty flags: bit 5 and bit 6 in every format (SDM 4.8). */
#define GPTE_A		BIT_ULL(5)
#define GPTE_D		BIT_ULL(6)

/*
 * Set the accessed flag in every entry the walk used and, for a write,
 * the dirty flag in the leaf, as the CPU would before it uses the
 * translation (SDM Vol. 3A, 4.8).  PAE PDPTEs have no accessed flag.
 * Atomically: another vCPU may be editing the same entry.
 *
 * Return: 0; -EAGAIN if an entry changed since the walk read it (walk
 * again); -EFAULT if one is not in writable guest memory (@pf->gpa).
 */
static int set_accessed_dirty(struct vmxlab_mmu *mmu,
			      const struct gwalk_result *res,
			      enum gwalk_mode mode, bool write,
			      struct shadow_pf *pf)
{
	int top = mode == GWALK_MODE_LONG4 ? 4 : 2;
	int level, r;

	if (mode == GWALK_MODE_NONE)
		return 0;
	for (level = top; level >= (int)res->level; level--) {
		u64 old = res->walked[level].val, new = old | GPTE_A;

		if (level == (int)res->level && write)
			new |= GPTE_D;
		if (new == old)
			continue;
		r = mmu_cmpxchg_guest(mmu, res->walked[level].gpa, old, new,
				      res->entry_size);
		if (r == -EFAULT)
			pf->gpa = res->walked[level].gpa;
		if (r)
			return r;
	}
	return 0;
}

/*
 * Fill the leaf for @pf->gva from the translation in @res (mmu->lock
 * held).  Return: a result, or -ENOMEM.
 */
static int install_leaf(struct vmxlab_mmu *mmu, struct shadow_tree *t,
			const struct gwalk_regs *regs,
			const struct gwalk_result *res, struct shadow_pf *pf,
			enum shadow_pf_result *result)
{
	bool write = pf->access & GWALK_ACC_WRITE;
	enum spte_size size;
	struct spte_input in = {
		.perm = res->perm, .access = pf->access,
		.cr0_wp = regs->cr0 & X86_CR0_WP,
		.cr4_smep = regs->cr4 & X86_CR4_SMEP,
	};
	u64 *leaf, pte;
	int r;

	r = mmu_pin_page(mmu, res->gpa, write, &in.hpa, &in.slot_writable);
	if (r == -ENOENT) {
		pf->gpa = res->gpa;
		*result = SHADOW_PF_MMIO;
		return 0;
	}
	if (r)
		return r;
	/* Paging off: no entry, nothing to keep clean. */
	in.dirty = res->level == 0 || write || (res->walked[res->level].val & GPTE_D);
	pte = shadow_make_pte(&in);
	leaf = leaf_of(t, pf->gva, true);
	if (!leaf)
		return -ENOMEM;
	/*
	 * The CPU faulted on exactly this leaf: what it checks and the walker
	 * does not model (an implicit supervisor access under SMAP, say) is
	 * the guest's fault after all.
	 */
	size = res->page_size == SZ_2M ? SPTE_2M : res->page_size == SZ_4M ?
	       SPTE_4M : res->page_size == SZ_1G ? SPTE_1G : SPTE_4K;
	if ((*leaf & ~SPTE_SIZE_MASK) == pte &&
	    (pf->hw_error & GWALK_PF_PRESENT)) {
		pf->error_code = pf->hw_error;
		pf->cr2 = pf->gva;
		*result = SHADOW_PF_REFLECT;
		return 0;
	}
	*leaf = pte | (u64)size << SPTE_SIZE_SHIFT;
	t->sizes |= BIT(size);
	*result = SHADOW_PF_RESOLVED;
	return 0;
}

/* T:210 Shadow paging: a guest page fault
 * A VM created with VMXLAB_VM_SHADOW runs without EPT: the CPU walks page
 * tables vmxlab builds from the guest's, and every guest #PF exits
 * (Documentation/paging.rst).  Either the shadow tables were merely
 * behind the guest's, and the missing entry is built from the guest's
 * walk; or the guest's own tables deny the access, and the fault is the
 * guest's, reflected with the error code and CR2 the CPU would have given
 * (SDM Vol. 3A, 4.7).  The walk is the same gwalk_translate() the MMIO
 * path uses.
 */
/**
 * shadow_page_fault() - resolve or reflect one intercepted guest #PF
 * @mmu:    the VM's memory
 * @t:      the faulting vCPU's tree
 * @regs:   the guest's paging registers, as the guest sees them
 * @pf:     the fault; the outputs for @result
 * @result: out: what to do with it
 *
 * Return: 0 (see @result), or -ENOMEM, -EFAULT (backing memory gone).
 */
int shadow_page_fault(struct vmxlab_mmu *mmu, struct shadow_tree *t,
		      const struct gwalk_regs *regs, struct shadow_pf *pf,
		      enum shadow_pf_result *result)
{
	bool write = pf->access & GWALK_ACC_WRITE;
	struct gwalk_result res;
	int tries, r;

	for (tries = 0; tries < 8; tries++) {
		r = gwalk_translate(regs, pf->gva, pf->access, read_guest, mmu,
				    &res);
		if (r == -EFAULT) {
			/* A guest table outside every slot. */
			pf->gpa = regs->cr3;
			*result = SHADOW_PF_UNBACKED;
			return 0;
		}
		if (r)
			return r;
		if (res.fault != GWALK_FAULT_NONE) {
			/* #GP cannot come as a #PF: the hardware's verdict. */
			pf->error_code = res.fault == GWALK_FAULT_PF ?
					 res.error_code : pf->hw_error;
			pf->cr2 = res.fault == GWALK_FAULT_PF ? res.gva : pf->gva;
			*result = SHADOW_PF_REFLECT;
			return 0;
		}
		r = set_accessed_dirty(mmu, &res, gwalk_paging_mode(regs),
				       write, pf);
		if (r == -EAGAIN)
			continue;
		if (r == -EFAULT) {
			*result = SHADOW_PF_UNBACKED;
			return 0;
		}
		if (r)
			return r;
		mutex_lock(&mmu->lock);
		r = install_leaf(mmu, t, regs, &res, pf, result);
		mutex_unlock(&mmu->lock);
		return r;
	}
	/* The guest keeps rewriting the entry: let it fault once more. */
	*result = SHADOW_PF_RESOLVED;
	return 0;
}
