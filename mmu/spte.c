// SPDX-License-Identifier: GPL-2.0
/*
 * One shadow leaf from one guest translation (Documentation/paging.rst).
 * mmu/shadow.c calls it when it resolves a guest #PF; the CPU then checks
 * every later access against the leaf without an exit, so the leaf must
 * allow exactly what the guest's own tables allow, and no more.
 *
 * Pure logic: compiled into vmxlab.ko and into the userspace unit tests.
 */
#include <linux/types.h>
#include <linux/bits.h>

#include "gwalk.h"
#include "spte.h"

/**
 * shadow_make_pte() - the 4 KiB hardware leaf for a guest translation
 * @in: the translation, and the access that faulted
 *
 * Rights come from the guest's combined rights (SDM Vol. 3A, 4.6):
 *  - U/S and execute-disable as the guest's (the hardware runs with NXE
 *    forced on, so XD works whatever the guest's EFER.NXE);
 *  - R/W only when the guest allows writes, the slot is writable, and the
 *    guest's dirty flag is set: the first write to a clean page must fault
 *    so that vmxlab sets the flag, as the CPU would (SDM 4.8);
 *  - the hardware runs with CR0.WP = 1, so that read-only leaves hold in
 *    supervisor mode too.  A guest with CR0.WP = 0 may still write to a
 *    read-only page in supervisor mode: that write gets a leaf that is
 *    writable and supervisor-only (a later user access faults and gets the
 *    user's leaf back), and not executable if the page is a user page and
 *    SMEP is on, since a supervisor-only leaf would not stop a fetch.
 * Caching bits stay clear (write-back, the EPT mode's choice too), and
 * nothing is global: a guest CR3 switch drops every leaf.
 *
 * Return: the leaf, present.
 */
u64 shadow_make_pte(const struct spte_input *in)
{
	bool user = in->perm & GWALK_PERM_USER;
	bool write = in->perm & GWALK_PERM_WRITE;
	bool exec = in->perm & GWALK_PERM_EXEC;
	bool sup_write = (in->access & GWALK_ACC_WRITE) &&
			 !(in->access & GWALK_ACC_USER);
	u64 pte = (in->hpa & SPTE_ADDR_MASK) | SPTE_P;

	if (!in->cr0_wp && sup_write && !write) {
		write = true;
		if (user && in->cr4_smep)
			exec = false;
		user = false;
	}
	if (write && in->dirty && in->slot_writable)
		pte |= SPTE_RW;
	if (user)
		pte |= SPTE_US;
	if (!exec)
		pte |= SPTE_XD;
	return pte;
}
