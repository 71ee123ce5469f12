/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shadow page-table entries: what the CPU really walks for a shadow-paging
 * VM.  shadow_make_pte() turns one guest translation (mmu/gwalk.c) into
 * one 4 KiB leaf; pure logic, so the unit tests drive it directly.
 */
#ifndef VMXLAB_SPTE_H
#define VMXLAB_SPTE_H

#include <linux/types.h>
#include <linux/bits.h>

/* Hardware entry bits, PAE and 4-level formats (SDM Vol. 3A, 4.4 and 4.5). */
#define SPTE_P		BIT_ULL(0)
#define SPTE_RW		BIT_ULL(1)
#define SPTE_US		BIT_ULL(2)
#define SPTE_PWT	BIT_ULL(3)
#define SPTE_PCD	BIT_ULL(4)
#define SPTE_A		BIT_ULL(5)
#define SPTE_D		BIT_ULL(6)
#define SPTE_PAT	BIT_ULL(7)
#define SPTE_G		BIT_ULL(8)
#define SPTE_XD		BIT_ULL(63)
/*
 * Bits 10:9 are ignored by the CPU (SDM Vol. 3A, Table 4-19): vmxlab keeps
 * there the size of the guest page a leaf was copied from, so that INVLPG
 * can find every leaf of a guest large page.
 */
#define SPTE_SIZE_SHIFT	9
#define SPTE_SIZE_MASK	(3ULL << SPTE_SIZE_SHIFT)
enum spte_size { SPTE_4K, SPTE_2M, SPTE_4M, SPTE_1G };
#define SPTE_ADDR_MASK	(((1ULL << 52) - 1) & ~0xfffULL)

/**
 * struct spte_input - one guest translation and the access that faulted
 * @hpa:	   the host page backing the guest page (4 KiB aligned)
 * @perm:	   GWALK_PERM_* the guest's entries give, all levels combined
 * @access:	   GWALK_ACC_* of the access that faulted
 * @dirty:	   the guest's leaf has its dirty flag set (now)
 * @slot_writable: the memory slot may be written
 * @cr0_wp:	   guest CR0.WP
 * @cr4_smep:	   guest CR4.SMEP
 */
struct spte_input {
	u64 hpa;
	unsigned int perm;
	unsigned int access;
	bool dirty;
	bool slot_writable;
	bool cr0_wp;
	bool cr4_smep;
};

u64 shadow_make_pte(const struct spte_input *in);

#endif /* VMXLAB_SPTE_H */
