// SPDX-License-Identifier: GPL-2.0
/*
 * Extended page tables: guest-physical to host-physical, 4 levels, 4 KiB
 * leaves (SDM Vol. 3C, 29.3).  A leaf is created on the guest's first
 * touch of a page (EPT violation -> mmu_handle_ept_violation -> here) and
 * points at a page pinned from the VMM's memory, so that the host can
 * never free or move it under the guest.
 */
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/smp.h>

#include <vmxlab/vmx_arch.h>
#include <vmxlab/vmx_ops.h>
#include "../vmx/fault_inject.h"
#include "../vmx/vmxlab.h"
#include "ept.h"
#include "ept_sync.h"
#include "../vmx/trace.h"

#define EPT_LEVELS		4
#define EPT_ENTRIES		512
#define EPT_ADDR_MASK		GENMASK_ULL(51, 12)

/* Index of @gpa in the table at @level (4 = PML4 ... 1 = page table). */
static unsigned int ept_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static u64 *ept_table(u64 entry)
{
	return phys_to_virt(entry & EPT_ADDR_MASK);
}

int ept_init(struct vmxlab_mmu *mmu)
{
	if (!zalloc_cpumask_var(&mmu->ept_used, GFP_KERNEL_ACCOUNT))
		return -ENOMEM;
	if (!zalloc_cpumask_var(&mmu->ept_flush, GFP_KERNEL_ACCOUNT))
		goto free_used;
	mmu->ept_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!mmu->ept_root)
		goto free_flush;
	/* WB paging-structure accesses, 4-level walk (SDM 25.6.11). */
	mmu->eptp = virt_to_phys(mmu->ept_root) | EPTP_MEMTYPE_WB |
		    EPTP_WALK_LENGTH_4;
	return 0;

free_flush:
	free_cpumask_var(mmu->ept_flush);
free_used:
	free_cpumask_var(mmu->ept_used);
	return -ENOMEM;
}

/*
 * Walk to the page table that holds @gpa's leaf, creating tables on the
 * way when @create.  Returns the leaf's address, or NULL.
 */
static u64 *ept_walk(struct vmxlab_mmu *mmu, u64 gpa, bool create)
{
	u64 *table = mmu->ept_root;
	int level;

	for (level = EPT_LEVELS; level > 1; level--) {
		u64 *entry = &table[ept_index(gpa, level)];

		if (!(*entry & EPT_RWX)) {
			u64 *next;

			if (!create)
				return NULL;
			next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
			if (!next)
				return NULL;
			/* Non-leaf entries grant everything; leaves decide. */
			*entry = virt_to_phys(next) | EPT_RWX;
		}
		table = ept_table(*entry);
	}
	return &table[ept_index(gpa, 1)];
}

/* At most this many pages per EPT violation (T:150 below says why). */
#define EPT_FAULT_AROUND_MAX	64

static unsigned int ept_fault_around = 16;
module_param(ept_fault_around, uint, 0644);
MODULE_PARM_DESC(ept_fault_around,
		 "pages mapped per EPT violation of a guest touching memory in order (power of two, at most 64; 0 or 1: one)");

/* Pages per window: a power of two, so that it divides a page table. */
static unsigned int fault_around_pages(void)
{
	unsigned int n = READ_ONCE(ept_fault_around);

	if (n <= 1)
		return 1;
	return rounddown_pow_of_two(min(n, EPT_FAULT_AROUND_MAX));
}

/* The leaf @back pages below @leaf in its table, if mapped. */
static bool leaf_below_mapped(const u64 *leaf, unsigned int idx,
			      unsigned int back)
{
	return idx >= back && (leaf[-(int)back] & EPT_RWX);
}

/*
 * How many pages to pin from @gpa's, whose leaf is @leaf: the unmapped
 * pages from it upwards, to the end of its window or of the slot.  The
 * pages below are mapped (that is the sign of a sequential guest), so
 * the run starts at @gpa.
 */
static unsigned int fault_around_count(const struct vmxlab_memslot *s,
				       u64 gpa, const u64 *leaf)
{
	unsigned int n = fault_around_pages();
	unsigned int idx = ept_index(gpa, 1);
	unsigned int count = 1;
	u64 end;

	if (n == 1 || !leaf_below_mapped(leaf, idx, 1) ||
	    !leaf_below_mapped(leaf, idx, 2))
		return 1;
	end = min(round_down(gpa, (u64)n * PAGE_SIZE) + n * PAGE_SIZE,
		  s->gpa + s->size);
	while (gpa + count * PAGE_SIZE < end && !(leaf[count] & EPT_RWX))
		count++;
	return count;
}

/* Point @leaf at @page (SDM 29.3.2: read/exec always, write if allowed). */
static void ept_set_leaf(struct vmxlab_mmu *mmu, u64 *leaf, struct page *page,
			 bool writable)
{
	/*
	 * Write-back memory type, ignoring the guest's PAT: guest RAM is
	 * ordinary host RAM (SDM 29.3.7).
	 */
	*leaf = page_to_phys(page) | EPT_READ | EPT_EXEC |
		(writable ? EPT_WRITE : 0) | EPT_MEMTYPE_WB | EPT_IGNORE_PAT;
	/* Tests only: writable but not readable is a misconfiguration. */
	if (vmx_fault_take(VMX_FAULT_EPT_MISCONFIG))
		*leaf = (*leaf & ~EPT_RWX) | EPT_WRITE;
	mmu->pinned_pages++;
}

/*
 * Pin @count > 1 pages from @gpa's and map those pinned (a short pin, a
 * hole in the VMA, maps what it got).  Out of line, and called only when
 * a window opened: the kernel is built to zero every local variable
 * (CONFIG_INIT_STACK_ALL_ZERO), and the array would cost each
 * single-page fault 64 stores for nothing.
 */
static noinline int ept_map_window(struct vmxlab_mmu *mmu,
				   const struct vmxlab_memslot *s, u64 gpa,
				   u64 *leaf, unsigned int count)
{
	bool writable = !(s->flags & VMXLAB_MEM_READONLY);
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	struct page *pages[EPT_FAULT_AROUND_MAX];
	int i, pinned;

	pinned = pin_user_pages_fast(s->hva + (gpa - s->gpa), count,
				     gup_flags, pages);
	if (pinned <= 0)
		return -EFAULT;
	for (i = 0; i < pinned; i++)
		ept_set_leaf(mmu, leaf + i, pages[i], writable);
	return 0;
}

/* T:150 Mapping guest memory, a few pages at a time
 * The guest's RAM is ordinary memory of the VMM process.  The page is
 * pinned, because the EPT holds its host-physical address and the CPU
 * would keep using it if Linux moved or swapped it; the leaf entry gets
 * the write-back memory type with the guest's PAT ignored, as guest RAM
 * is plain host RAM (SDM 29.3.7).  Two vCPUs may fault on the same page
 * at once: the second finds it mapped and returns.
 *
 * A guest that touches its memory in order (a kernel zeroing pages, a
 * loader copying an image) takes one EPT violation per page, and most of
 * each is the exit and pin_user_pages_fast()'s set-up, not the page.  So
 * when the two pages below the faulting one are mapped already -- the
 * guest is walking upwards -- its unmapped neighbours in an aligned
 * window of ept_fault_around pages are pinned and mapped too, with one
 * pin call.  The window lies inside one EPT page table (its size divides
 * 512) and is cut at the slot's ends, so every leaf belongs to the slot
 * whose pages it pins and ept_release_range() unpins each exactly once.
 *
 * The neighbours are pinned as the faulting page is: with FOLL_WRITE for
 * a writable slot (mapped writable), without it for a read-only one
 * (mapped read-only), and faulted in by GUP when the host has no page
 * yet -- that allocation is most of a new page's cost (Documentation/
 * performance.rst, 4b), and skipping it would leave the sequential guest
 * nothing to gain.  The price is host memory the guest may never touch:
 * at most ept_fault_around - 1 pages per violation, inside the slot the
 * VMM gave the guest as RAM, counted in pinned_pages.  A guest touching
 * scattered pages pays nothing: its page below is rarely mapped, and
 * then only the faulting page is pinned (row 4c measures that).
 * vmxlab has no dirty logging, so no leaf needs to stay unmapped.
 */
/**
 * ept_map_page() - pin the page at @gpa (and maybe neighbours) and map it
 * @mmu: the VM's memory
 * @s:   the slot that backs @gpa
 * @gpa: page-aligned guest-physical address
 *
 * Return: 0, 1 when the page was mapped already (another vCPU faulted on
 * it first), -ENOMEM, or -EFAULT when the page cannot be pinned.
 */
int ept_map_page(struct vmxlab_mmu *mmu, const struct vmxlab_memslot *s,
		 u64 gpa)
{
	bool writable = !(s->flags & VMXLAB_MEM_READONLY);
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	unsigned int count;
	struct page *page;
	u64 *leaf;

	leaf = ept_walk(mmu, gpa, true);
	if (!leaf)
		return -ENOMEM;
	if (*leaf & EPT_RWX)
		return 1;	/* another vCPU mapped it first */
	count = fault_around_count(s, gpa, leaf);
	if (count > 1)
		return ept_map_window(mmu, s, gpa, leaf, count);
	if (pin_user_pages_fast(s->hva + (gpa - s->gpa), 1, gup_flags,
				&page) != 1)
		return -EFAULT;
	ept_set_leaf(mmu, leaf, page, writable);
	return 0;
}

/**
 * ept_pinned_page() - the host page pinned for @gpa, if any
 * @mmu:      the VM's memory
 * @gpa:      guest-physical address
 * @hpa:      out: the host-physical page
 * @writable: out: pinned and mapped for writing
 *
 * Shadow-paging VMs never load their EPT tables; these serve them as the
 * register of pinned pages that shadow leaves point at.
 *
 * Return: 0, or -ENOENT when nothing is pinned there.
 */
int ept_pinned_page(struct vmxlab_mmu *mmu, u64 gpa, u64 *hpa, bool *writable)
{
	u64 *leaf = ept_walk(mmu, gpa, false);

	if (!leaf || !(*leaf & EPT_RWX))
		return -ENOENT;
	*hpa = *leaf & EPT_ADDR_MASK;
	*writable = *leaf & EPT_WRITE;
	return 0;
}

/* Bytes one entry at @level maps: 4 KiB at level 1, 2 MiB at 2, ... */
static u64 ept_entry_span(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

/*
 * Call @fn on every leaf slot of [gpa, end) whose page table exists,
 * skipping the subtrees the guest never touched: deleting a slot costs
 * what the guest mapped, not the slot's size (a 512 GiB slot has 2^27
 * leaves).  The CPU is given away after each page table, so that even a
 * fully mapped slot cannot hold it for long.
 */
static void ept_walk_range(u64 *table, int level, u64 gpa, u64 end,
			   void (*fn)(struct vmxlab_mmu *mmu, u64 *leaf,
				      void *arg),
			   struct vmxlab_mmu *mmu, void *arg)
{
	u64 span = ept_entry_span(level);

	while (gpa < end) {
		u64 *entry = &table[ept_index(gpa, level)];
		u64 next = (gpa & ~(span - 1)) + span;

		if (level == 1)
			fn(mmu, entry, arg);
		else if (*entry & EPT_RWX)
			ept_walk_range(ept_table(*entry), level - 1, gpa,
				       min(next, end), fn, mmu, arg);
		if (next < gpa)
			break;		/* wrapped at the top of the address space */
		gpa = next;
	}
	if (level == 1)
		cond_resched();
}

static void leaf_unmap(struct vmxlab_mmu *mmu, u64 *leaf, void *arg)
{
	*leaf &= ~EPT_RWX;
}

/*
 * Make the leaves of [gpa, gpa + size) not-present but keep their
 * addresses, so ept_release_range() can unpin them after the INVEPT.
 */
void ept_unmap_range(struct vmxlab_mmu *mmu, u64 gpa, u64 size)
{
	ept_walk_range(mmu->ept_root, EPT_LEVELS, gpa, gpa + size, leaf_unmap,
		       mmu, NULL);
}

static void leaf_release(struct vmxlab_mmu *mmu, u64 *leaf, void *arg)
{
	bool dirty = *(bool *)arg;
	struct page *page;

	if (!(*leaf & EPT_ADDR_MASK))
		return;
	page = pfn_to_page((*leaf & EPT_ADDR_MASK) >> PAGE_SHIFT);
	unpin_user_pages_dirty_lock(&page, 1, dirty);
	*leaf = 0;
	mmu->pinned_pages--;
}

/*
 * Unpin the pages ept_unmap_range() left behind and clear their leaves;
 * pages of a writable slot may have been written and are marked dirty.
 */
void ept_release_range(struct vmxlab_mmu *mmu, u64 gpa, u64 size, bool dirty)
{
	ept_walk_range(mmu->ept_root, EPT_LEVELS, gpa, gpa + size,
		       leaf_release, mmu, &dirty);
}

static void ept_free_table(u64 *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < EPT_ENTRIES; i++)
			if (table[i] & EPT_RWX)
				ept_free_table(ept_table(table[i]), level - 1);
	}
	free_page((unsigned long)table);
}

/*
 * INVEPT for one EPTP on this CPU: single-context when the CPU has it,
 * else all-context (SDM Vol. 3C, 31.3; one of the two exists whenever
 * INVEPT does).
 */
static void invept_eptp(u64 eptp)
{
	bool single = vmx_caps.msr_ept_vpid_cap & EPT_CAP_INVEPT_SINGLE;

	trace_vmxlab_invept(eptp, single);
	if (single)
		vmx_invept(VMX_INVEPT_SINGLE_CONTEXT, eptp);
	else
		vmx_invept(VMX_INVEPT_GLOBAL, 0);
}

static void invept_this_cpu(void *info)
{
	struct vmxlab_mmu *mmu = info;

	invept_eptp(mmu->eptp);
}

/*
 * INVEPT only acts on the CPU that executes it (SDM 31.3): every CPU that
 * may cache the EPTP does it (mmu/ept_sync.c says which).  A CPU running
 * a vCPU takes the IPI as an external-interrupt exit first.  The full
 * barrier orders the table writes before the read of ept_used; it pairs
 * with the atomic set of a CPU's bit in mmu_sync_before_entry(), so a CPU
 * that is not flushed here enters only after seeing the new tables.
 */
static void invept_cpus_that_used(struct vmxlab_mmu *mmu, bool freeing)
{
	smp_mb();	/* table writes before the read of ept_used */
	ept_sync_after_unmap(mmu->ept_used, freeing, mmu->ept_flush);
	on_each_cpu_mask(mmu->ept_flush, invept_this_cpu, mmu, 1);
}

/**
 * mmu_invept_all_cpus() - forget this VM's guest-physical translations
 * @mmu: the VM's memory; its lock is held
 */
void mmu_invept_all_cpus(struct vmxlab_mmu *mmu)
{
	invept_cpus_that_used(mmu, false);
}

/**
 * mmu_sync_before_entry() - INVEPT on this CPU before its first entry
 * @mmu: the memory of the VM whose vCPU is about to run here
 * @cpu: this CPU; preemption is off
 */
void mmu_sync_before_entry(struct vmxlab_mmu *mmu, unsigned int cpu)
{
	if (ept_sync_before_entry(mmu->ept_used, cpu)) {
		smp_mb__after_atomic();	/* our bit before the tables */
		invept_eptp(mmu->eptp);
	}
}

/*
 * Free the tables; every slot has been released already.  No vCPU is
 * left, but CPUs that ran one may still cache entries that point into
 * these tables: they forget them before the pages can be reused.
 */
void ept_destroy(struct vmxlab_mmu *mmu)
{
	WARN_ON_ONCE(mmu->pinned_pages);
	invept_cpus_that_used(mmu, true);
	ept_free_table(mmu->ept_root, EPT_LEVELS);
	mmu->ept_root = NULL;
	free_cpumask_var(mmu->ept_flush);
	free_cpumask_var(mmu->ept_used);
}
