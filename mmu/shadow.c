// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow paging: a guest page fault, resolved or reflected.
 *
 * The exit path: a guest #PF exits (it is in the exception bitmap), and
 * vmx/paging.c calls shadow_page_fault() with the linear address and the
 * access.  That walks the guest's tables (gwalk.c), sets their accessed
 * and dirty flags as the CPU would, pins the guest page (memslot.c) and
 * fills the leaf (spte.c) of the vCPU's current root (shadow_tree.c),
 * recording the guest entries it came from; or it reports the #PF the
 * guest itself must take, or that the address is MMIO.
 */
#include <linux/sizes.h>
#include <asm/processor-flags.h>

#include "shadow.h"
#include "shadow_tree.h"
#include "spte.h"

/* Uncached: the audit's reader, independent of what it checks. */
int shadow_read_guest(void *ctx, u64 gpa, void *buf, unsigned int len)
{
	return mmu_read_guest(ctx, gpa, buf, len);
}

/*
 * Set the accessed flag in every entry the walk used and, for a write,
 * the dirty flag in the leaf, as the CPU would before it uses the
 * translation (SDM Vol. 3A, 4.8).  PAE PDPTEs have no accessed flag.
 * Atomically: another vCPU may be editing the same entry.
 *
 * @now[level] gets each entry's value afterwards.
 *
 * Return: 0; -EAGAIN if an entry changed since the walk read it (walk
 * again); -EFAULT if one is not in writable guest memory (@pf->gpa).
 */
static int set_accessed_dirty(struct vmxlab_mmu *mmu,
			      const struct gwalk_result *res,
			      enum gwalk_mode mode, bool write,
			      struct shadow_pf *pf, u64 *now)
{
	int top = mode == GWALK_MODE_LONG4 ? 4 : 2;
	int level, r;

	if (mode == GWALK_MODE_NONE)
		return 0;
	for (level = top; level >= (int)res->level; level--) {
		u64 old = res->walked[level].val, new = old | GPTE_A;

		if (level == (int)res->level && write)
			new |= GPTE_D;
		now[level] = new;
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
 * Record the guest entries @res used in the current root, so that a
 * switch back to it can check them (shadow_tree.c).  A PAE PDPTE comes
 * from the register the CPU loaded with CR3; the check compares it with
 * memory, where the next load of CR3 takes it from.
 */
static void record_walk(struct shadow_tree *t, const struct gwalk_regs *regs,
			const struct gwalk_result *res, const u64 *now)
{
	enum gwalk_mode mode = gwalk_paging_mode(regs);
	int top = mode == GWALK_MODE_LONG4 ? 4 : 2;
	int level;

	if (mode == GWALK_MODE_NONE)
		return;
	if (mode == GWALK_MODE_PAE)
		shadow_record_dep(t, (regs->cr3 & GENMASK_ULL(31, 5)) +
				  8 * ((res->gva >> 30) & 3),
				  res->walked[3].val, res->walked[3].val, 8);
	for (level = top; level >= (int)res->level; level--)
		shadow_record_dep(t, res->walked[level].gpa,
				  res->walked[level].val, now[level],
				  res->entry_size);
}

/*
 * Fill the leaf for @pf->gva from the translation in @res, whose entries
 * now hold @now (mmu->lock held).  Return: a result, or -ENOMEM.
 */
static int install_leaf(struct vmxlab_mmu *mmu, struct shadow_tree *t,
			const struct gwalk_regs *regs,
			const struct gwalk_result *res, const u64 *now,
			struct shadow_pf *pf, enum shadow_pf_result *result)
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
	leaf = shadow_leaf(t, pf->gva, true);
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
	shadow_note_size(t, leaf, size);
	record_walk(t, regs, res, now);
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
	struct shadow_reader rd = { .mmu = mmu, .t = t };
	u64 now[GWALK_MAX_LEVEL + 1];
	struct gwalk_result res;
	int tries, r;

	for (tries = 0; tries < 8; tries++) {
		r = gwalk_translate(regs, pf->gva, pf->access, shadow_read_entry,
				    &rd, &res);
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
				       write, pf, now);
		if (r == -EAGAIN)
			continue;
		if (r == -EFAULT) {
			*result = SHADOW_PF_UNBACKED;
			return 0;
		}
		if (r)
			return r;
		mutex_lock(&mmu->lock);
		r = install_leaf(mmu, t, regs, &res, now, pf, result);
		mutex_unlock(&mmu->lock);
		return r;
	}
	/* The guest keeps rewriting the entry: let it fault once more. */
	*result = SHADOW_PF_RESOLVED;
	return 0;
}

/**
 * shadow_prefetch() - fill the leaf of @gva now, if that sets no flag
 * @mmu:  the VM's memory
 * @t:    the tree of the vCPU whose thread calls this
 * @regs: the guest's paging registers
 * @gva:  the linear address
 *
 * After INVLPG: a guest that rewrote a PTE and invalidated it usually
 * touches the page next, which would be one more #PF exit.  A TLB may
 * cache any translation the paging structures allow, as for a prefetch
 * (SDM Vol. 3A, 4.10.2.3), but setting an accessed flag the guest would
 * then see is not a prefetch's to do: only a walk whose entries all have
 * the accessed flag set already is filled, read-only unless the guest's
 * leaf is dirty too.  Whatever fails (no translation, MMIO, no memory)
 * leaves the leaf empty, as INVLPG did.
 */
void shadow_prefetch(struct vmxlab_mmu *mmu, struct shadow_tree *t,
		     const struct gwalk_regs *regs, u64 gva)
{
	enum gwalk_mode mode = gwalk_paging_mode(regs);
	struct shadow_reader rd = { .mmu = mmu, .t = t };
	struct shadow_pf pf = { .gva = gva };
	u64 now[GWALK_MAX_LEVEL + 1];
	enum shadow_pf_result result;
	struct gwalk_result res;
	int level;

	if (mode == GWALK_MODE_NONE ||
	    gwalk_translate(regs, gva, 0, shadow_read_entry, &rd, &res) ||
	    res.fault != GWALK_FAULT_NONE)
		return;
	for (level = mode == GWALK_MODE_LONG4 ? 4 : 2;
	     level >= (int)res.level; level--) {
		if (!(res.walked[level].val & GPTE_A))
			return;
		now[level] = res.walked[level].val;
	}
	mutex_lock(&mmu->lock);
	install_leaf(mmu, t, regs, &res, now, &pf, &result);
	mutex_unlock(&mmu->lock);
}
