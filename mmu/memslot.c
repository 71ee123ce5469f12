// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: VMXLAB_SET_MEMORY_REGION lands here after the ioctl layer
 * copied it in.  Every check happens before anything changes, so a bad
 * request leaves the VM exactly as it was.
 */
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "mmu.h"
#include "ept.h"
#include "shadow.h"

/* Guest-physical addresses vmxlab maps: 4-level EPT covers 48 bits. */
#define GPA_LIMIT	BIT_ULL(48)

static bool ranges_overlap(u64 a, u64 a_size, u64 b, u64 b_size)
{
	return a < b + b_size && b < a + a_size;
}

/*
 * Is [hva, hva + size) all mapped in the caller's address space, and
 * writable unless the slot is read-only?  Checked once, up front: later
 * changes to the mapping are caught when a page is pinned.
 */
static bool user_range_usable(u64 hva, u64 size, bool need_write)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	u64 addr = hva;
	bool ok = true;

	mmap_read_lock(mm);
	while (addr < hva + size) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr ||
		    !(vma->vm_flags & VM_READ) ||
		    (need_write && !(vma->vm_flags & VM_WRITE)) ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP))) {
			ok = false;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ok;
}

static int validate_region(const struct vmxlab_memory_region *r)
{
	if (r->slot >= VMXLAB_MAX_MEM_SLOTS)
		return -EINVAL;
	if (r->flags & ~VMXLAB_MEM_READONLY)
		return -EINVAL;
	if (!PAGE_ALIGNED(r->guest_phys_addr) || !PAGE_ALIGNED(r->memory_size) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return -EINVAL;
	if (!r->memory_size)
		return 0;	/* a deletion: nothing else to check */
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->guest_phys_addr + r->memory_size > GPA_LIMIT)
		return -EINVAL;
	if (r->userspace_addr + r->memory_size < r->userspace_addr ||
	    !access_ok(u64_to_user_ptr(r->userspace_addr), r->memory_size))
		return -EINVAL;
	if (!user_range_usable(r->userspace_addr, r->memory_size,
			       !(r->flags & VMXLAB_MEM_READONLY)))
		return -EINVAL;
	return 0;
}

static int check_overlap(struct vmxlab_mmu *mmu,
			 const struct vmxlab_memory_region *r)
{
	int i;

	for (i = 0; i < VMXLAB_MAX_MEM_SLOTS; i++) {
		const struct vmxlab_memslot *s = &mmu->slots[i];

		if (i == r->slot || !s->size)
			continue;
		if (ranges_overlap(s->gpa, s->size, r->guest_phys_addr,
				   r->memory_size))
			return -EEXIST;
	}
	return 0;
}

/*
 * Take a slot out of the EPT: make its entries not-present, flush every
 * CPU's cached translations, and only then unpin the pages -- a CPU still
 * holding a stale translation must never reach a page we gave back.  In a
 * shadow-paging VM the leaves that point at the pages are in the vCPUs'
 * trees: those are emptied first, and their tables freed only once every
 * CPU that ran the VM has left the guest since (which flushes its TLB).
 */
static void slot_unmap(struct vmxlab_mmu *mmu, struct vmxlab_memslot *s)
{
	LIST_HEAD(deferred);

	ept_unmap_range(mmu, s->gpa, s->size);
	if (mmu->shadow)
		shadow_zap_all_trees(mmu, &deferred);
	mmu_invept_all_cpus(mmu);
	shadow_free_deferred(&deferred);
	ept_release_range(mmu, s->gpa, s->size,
			  !(s->flags & VMXLAB_MEM_READONLY));
}

/*
 * Every MMIO exit looks up an address no slot backs, and the MMIO path
 * looks up the guest's page tables several times more: the cost must not
 * grow with the number of slots.  A binary search over the used slots,
 * sorted by address, takes at most five steps for 32 slots, hit or miss.
 * In front of it the slot found last is tried, as consecutive lookups
 * (EPT faults of one guest loop, the levels of one page walk) mostly
 * land in the same slot; a miss costs one comparison more.
 */
static void index_slots(struct vmxlab_mmu *mmu)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < VMXLAB_MAX_MEM_SLOTS; i++) {
		if (!mmu->slots[i].size)
			continue;
		for (j = n; j && mmu->slots[mmu->by_gpa[j - 1]].gpa >
				  mmu->slots[i].gpa; j--)
			mmu->by_gpa[j] = mmu->by_gpa[j - 1];
		mmu->by_gpa[j] = i;
		n++;
	}
	mmu->nr_used = n;
	mmu->last_hit = n ? mmu->by_gpa[0] : 0;
}

/* The slot holding @gpa: the last one that starts at or below it. */
static struct vmxlab_memslot *find_slot(struct vmxlab_mmu *mmu, u64 gpa)
{
	unsigned int lo = 0, hi = mmu->nr_used, mid;
	struct vmxlab_memslot *s = &mmu->slots[mmu->last_hit];

	/* A deleted slot has size 0 and matches nothing. */
	if (gpa - s->gpa < s->size)
		return s;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (mmu->slots[mmu->by_gpa[mid]].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &mmu->slots[mmu->by_gpa[lo - 1]];
	if (gpa - s->gpa >= s->size)
		return NULL;
	mmu->last_hit = s - mmu->slots;
	return s;
}

/**
 * mmu_set_memory_region() - add, move or delete a memory slot
 * @mmu: the VM's memory
 * @r:   the request, already copied from userspace
 *
 * Adding needs an unused slot; moving keeps slot, size, address and flags
 * and changes the guest-physical address; a size of 0 deletes a used slot.
 * Pages are not touched here: they are pinned when the guest first
 * touches them (EPT violation) and unpinned when the slot goes.
 *
 * Return: 0, -EINVAL for a malformed request, -EEXIST for an overlap.
 */
int mmu_set_memory_region(struct vmxlab_mmu *mmu,
			  const struct vmxlab_memory_region *r)
{
	struct vmxlab_memslot *s;
	int ret;

	ret = validate_region(r);
	if (ret)
		return ret;

	mutex_lock(&mmu->lock);
	s = &mmu->slots[r->slot];
	ret = -EINVAL;
	if (!r->memory_size) {
		if (!s->size)
			goto out;	/* nothing to delete */
		slot_unmap(mmu, s);
		memset(s, 0, sizeof(*s));
		index_slots(mmu);
		ret = 0;
		goto out;
	}
	if (s->size && (s->size != r->memory_size || s->hva != r->userspace_addr ||
			s->flags != r->flags))
		goto out;	/* only the guest-physical address may change */
	ret = check_overlap(mmu, r);
	if (ret)
		goto out;
	if (s->size)
		slot_unmap(mmu, s);
	s->gpa = r->guest_phys_addr;
	s->size = r->memory_size;
	s->hva = r->userspace_addr;
	s->flags = r->flags;
	index_slots(mmu);
	ret = 0;
out:
	mutex_unlock(&mmu->lock);
	return ret;
}

/**
 * mmu_handle_ept_violation() - resolve a guest access to @gpa
 * @mmu:    the VM's memory
 * @gpa:    the faulting guest-physical address
 * @write:  the access was a write
 * @result: out: mapped (by us or, first, by another vCPU) or MMIO for
 *	    userspace (no slot, or a write to a read-only one), and the slot
 *
 * Runs in the vCPU thread, which belongs to the process that owns the
 * memory (checked by the ioctl layer), so pinning uses current->mm.
 *
 * Return: 0 (see @result), or -EFAULT when the backing memory is gone.
 */
int mmu_handle_ept_violation(struct vmxlab_mmu *mmu, u64 gpa, bool write,
			     struct mmu_fault_result *result)
{
	struct vmxlab_memslot *s;
	bool writable;
	int ret = 0;

	mutex_lock(&mmu->lock);
	s = find_slot(mmu, gpa);
	result->slot = s ? s - mmu->slots : 0;
	writable = s && !(s->flags & VMXLAB_MEM_READONLY);
	if (!s) {
		result->kind = MMU_FAULT_MMIO;
		goto out;
	}
	if (write && !writable) {
		result->kind = MMU_FAULT_READONLY_WRITE;
		goto out;
	}
	ret = ept_map_page(mmu, s, gpa & PAGE_MASK);
	result->kind = ret > 0 ? MMU_FAULT_ALREADY_MAPPED : MMU_FAULT_MAPPED;
	if (ret > 0)
		ret = 0;
out:
	mutex_unlock(&mmu->lock);
	return ret;
}

/**
 * mmu_pin_page() - the host page behind a guest page, pinned
 * @mmu:      the VM's memory; its lock is held
 * @gpa:      guest-physical address
 * @write:    the guest is writing
 * @hpa:      out: the host-physical page
 * @writable: out: the slot may be written
 *
 * Shadow paging's counterpart of an EPT violation: pins as that would,
 * and returns the page for a shadow leaf.
 *
 * Return: 0; -ENOENT when no slot backs @gpa or a write hits a read-only
 * slot (MMIO); -EFAULT or -ENOMEM from pinning.
 */
int mmu_pin_page(struct vmxlab_mmu *mmu, u64 gpa, bool write, u64 *hpa,
		 bool *writable)
{
	struct vmxlab_memslot *s = find_slot(mmu, gpa);
	u64 page = gpa & PAGE_MASK;
	int r;

	if (!s || (write && (s->flags & VMXLAB_MEM_READONLY)))
		return -ENOENT;
	*writable = !(s->flags & VMXLAB_MEM_READONLY);
	r = ept_map_page(mmu, s, page);
	if (r < 0)
		return r;
	return ept_pinned_page(mmu, page, hpa, writable);
}

/*
 * The userspace address of [gpa, gpa + len), which must lie inside one
 * slot (writable, if @write).  Return: 0, or -EFAULT.
 */
static int slot_range_hva_locked(struct vmxlab_mmu *mmu, u64 gpa,
				 unsigned int len, bool write, u64 *hva)
{
	struct vmxlab_memslot *s = find_slot(mmu, gpa);

	if (!s || (write && (s->flags & VMXLAB_MEM_READONLY)) ||
	    gpa + len - s->gpa > s->size)
		return -EFAULT;
	*hva = s->hva + (gpa - s->gpa);
	return 0;
}

static int slot_range_hva(struct vmxlab_mmu *mmu, u64 gpa, unsigned int len,
			  bool write, u64 *hva)
{
	int r;

	mutex_lock(&mmu->lock);
	r = slot_range_hva_locked(mmu, gpa, len, write, hva);
	mutex_unlock(&mmu->lock);
	return r;
}

/**
 * mmu_read_guest() - copy guest-physical memory out of its slot
 * @mmu: the VM's memory
 * @gpa: first byte
 * @buf: destination (kernel memory)
 * @len: bytes; the range must stay inside one slot
 *
 * Used to read guest page tables and instruction bytes.
 *
 * Return: 0, or -EFAULT when no slot backs the range.
 */
int mmu_read_guest(struct vmxlab_mmu *mmu, u64 gpa, void *buf,
		   unsigned int len)
{
	u64 hva;

	if (slot_range_hva(mmu, gpa, len, false, &hva))
		return -EFAULT;
	return copy_from_user(buf, u64_to_user_ptr(hva), len) ? -EFAULT : 0;
}

/**
 * mmu_read_begin() - hold the slots still for several reads
 * @mmu: the VM's memory
 *
 * A guest page walk reads three or four tables and then the bytes it
 * found, each through mmu_read_guest_locked() between this and
 * mmu_read_end(): one lock for the walk instead of one per read.  The
 * reads may fault on the VMM's memory; pinning takes the same locks in
 * the same order (this one, then the mm's).
 */
void mmu_read_begin(struct vmxlab_mmu *mmu)
{
	mutex_lock(&mmu->lock);
}

void mmu_read_end(struct vmxlab_mmu *mmu)
{
	mutex_unlock(&mmu->lock);
}

/* mmu_read_guest() between mmu_read_begin() and mmu_read_end(). */
int mmu_read_guest_locked(struct vmxlab_mmu *mmu, u64 gpa, void *buf,
			  unsigned int len)
{
	u64 hva;

	lockdep_assert_held(&mmu->lock);
	if (slot_range_hva_locked(mmu, gpa, len, false, &hva))
		return -EFAULT;
	return copy_from_user(buf, u64_to_user_ptr(hva), len) ? -EFAULT : 0;
}

/**
 * mmu_guest_page_hva() - the userspace address of a guest page
 * @mmu: the VM's memory
 * @gpa: any address in the page
 * @hva: out: the userspace address of the page's first byte
 *
 * For a caller reading many entries of few pages (shadow_tree.c's check
 * of a cached root): one slot lookup per page, then get_user().  Slots
 * are page-aligned, so a slot that holds one byte holds the page.
 *
 * Return: 0, or -EFAULT when no slot backs the page.
 */
int mmu_guest_page_hva(struct vmxlab_mmu *mmu, u64 gpa, u64 *hva)
{
	return slot_range_hva(mmu, gpa & PAGE_MASK, PAGE_SIZE, false, hva);
}

/**
 * mmu_write_guest() - copy into guest-physical memory (string I/O)
 * @mmu: the VM's memory
 * @gpa: first byte
 * @buf: source (kernel memory)
 * @len: bytes; the range must stay inside one writable slot
 *
 * Return: 0, or -EFAULT when no writable slot backs the range.
 */
int mmu_write_guest(struct vmxlab_mmu *mmu, u64 gpa, const void *buf,
		    unsigned int len)
{
	u64 hva;

	if (slot_range_hva(mmu, gpa, len, true, &hva))
		return -EFAULT;
	return copy_to_user(u64_to_user_ptr(hva), buf, len) ? -EFAULT : 0;
}

/**
 * mmu_cmpxchg_guest() - compare and exchange a guest page-table entry
 * @mmu:  the VM's memory
 * @gpa:  the entry, naturally aligned, in a writable slot
 * @old:  the value the caller read
 * @new:  the value to store if it is still @old
 * @size: 4 or 8 bytes
 *
 * Shadow paging sets accessed and dirty flags with it, atomically as the
 * CPU does, since other vCPUs may be editing the same entry.
 *
 * Return: 0 when stored; -EAGAIN when the entry no longer holds @old;
 * -EFAULT when no writable slot backs it; -EINVAL for a bad @size.
 */
int mmu_cmpxchg_guest(struct vmxlab_mmu *mmu, u64 gpa, u64 old, u64 new,
		      unsigned int size)
{
	u64 hva;
	int r;

	if ((size != 4 && size != 8) || (gpa & (size - 1)))
		return -EINVAL;
	if (slot_range_hva(mmu, gpa, size, true, &hva))
		return -EFAULT;
	if (size == 4) {
		u32 old32 = old;

		r = __try_cmpxchg_user((u32 __user *)u64_to_user_ptr(hva),
				       &old32, (u32)new, efault32);
	} else {
		r = __try_cmpxchg_user((u64 __user *)u64_to_user_ptr(hva),
				       &old, new, efault64);
	}
	if (r < 0)
		return -EFAULT;
	return r ? -EAGAIN : 0;
}

int mmu_init(struct vmxlab_mmu *mmu, bool shadow)
{
	int r;

	mutex_init(&mmu->lock);
	mmu->shadow = shadow;
	r = ept_init(mmu);
	if (r)
		return r;
	mmu->mm = current->mm;
	mmgrab(mmu->mm);
	return 0;
}

void mmu_destroy(struct vmxlab_mmu *mmu)
{
	int i;

	for (i = 0; i < VMXLAB_MAX_MEM_SLOTS; i++)
		if (mmu->slots[i].size)
			slot_unmap(mmu, &mmu->slots[i]);
	ept_destroy(mmu);
	mmdrop(mmu->mm);
}
