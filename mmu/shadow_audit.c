// SPDX-License-Identifier: GPL-2.0
/*
 * shadow_audit: a check of shadow paging for tests (the module parameter
 * shadow_audit=1, which the selftests load with).  Before each entry of a
 * shadow vCPU whose root changed since its last audit, leaves of its
 * current root are compared with a fresh walk of the guest's own tables:
 * each must point at the page the guest maps there, pinned, and allow
 * nothing the guest's entries forbid.
 *
 * Bochs flushes its TLB at every VM entry and exit, so a leaf that is
 * wrong but never used fails no guest-visible test there; the audit sees
 * it anyway.  A leaf may legitimately be stale, as a TLB entry may, while
 * the guest has edited an entry it has not invalidated yet: the audit
 * only runs while every entry the root was built from still holds its
 * recorded value (shadow_tree.c), and re-checks that before it reports.
 */
#include <linux/bug.h>
#include <linux/printk.h>
#include <asm/processor-flags.h>

#include "ept.h"
#include "shadow.h"
#include "shadow_tree.h"
#include "spte.h"

#define AUDIT_LEAVES	32	/* per entry; a larger root takes turns */

/* What is wrong with the leaf @ref, or NULL. */
static const char *check_leaf(struct vmxlab_mmu *mmu,
			      const struct gwalk_regs *regs,
			      const struct shadow_leaf_ref *ref)
{
	bool wp = regs->cr0 & X86_CR0_WP, pinned_writable;
	struct gwalk_result res;
	u64 spte = ref->spte, hpa;
	int r;

	/* A supervisor read with AC = 1 faults only if nothing is mapped. */
	r = gwalk_translate(regs, ref->gva, GWALK_ACC_AC, shadow_read_guest, mmu,
			    &res);
	if (r)
		return "the guest's tables are outside every slot";
	if (res.fault != GWALK_FAULT_NONE)
		return "the guest's tables map nothing there";
	mutex_lock(&mmu->lock);
	r = ept_pinned_page(mmu, res.gpa & PAGE_MASK, &hpa, &pinned_writable);
	mutex_unlock(&mmu->lock);
	if (r)
		return "the guest's page is not pinned";
	if ((spte & SPTE_ADDR_MASK) != hpa)
		return "another host page than the guest's";
	if ((spte & SPTE_US) && !(res.perm & GWALK_PERM_USER))
		return "user access to a supervisor page";
	if (spte & SPTE_RW) {
		if (!pinned_writable)
			return "writable, but pinned read-only";
		if (res.level && !(res.entry & GPTE_D))
			return "writable while the guest's dirty flag is clear";
		if (!(res.perm & GWALK_PERM_WRITE) &&
		    (wp || (spte & SPTE_US)))
			return "writable where the guest forbids writes";
	}
	if (!(spte & SPTE_XD) && !(res.perm & GWALK_PERM_EXEC))
		return "executable where the guest forbids fetches";
	return NULL;
}

/**
 * shadow_audit() - compare leaves of a vCPU's current root with the guest
 * @mmu:  the VM's memory
 * @t:    the vCPU's tree; its thread calls this, before an entry
 * @regs: the guest's paging registers
 *
 * A disagreement is a vmxlab bug: it is printed with the leaf and warned
 * about (the test run fails on the warning).
 */
void shadow_audit(struct vmxlab_mmu *mmu, struct shadow_tree *t,
		  const struct gwalk_regs *regs)
{
	struct shadow_leaf_ref refs[AUDIT_LEAVES];
	const char *why = NULL;
	unsigned int i, n;

	if (!shadow_audit_due(t))
		return;
	if (!shadow_current_deps_hold(mmu, t)) {
		shadow_audit_settled(t);
		return;
	}
	n = shadow_collect_leaves(mmu, t, refs, AUDIT_LEAVES);
	for (i = 0; i < n && !why; i++)
		why = check_leaf(mmu, regs, &refs[i]);
	/* The guest may have edited its tables meanwhile (another vCPU). */
	if (!why || !shadow_current_deps_hold(mmu, t))
		return;
	pr_err_ratelimited("vmxlab: audit of shadow leaf 0x%llx for 0x%llx (CR3 0x%llx): %s\n",
			   refs[i - 1].spte, refs[i - 1].gva, regs->cr3, why);
	WARN_ONCE(1, "vmxlab: a shadow leaf disagrees with the guest's tables");
}
