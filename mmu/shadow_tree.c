// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow paging's tables: each vCPU's cached roots, what they were built
 * from, and emptying them (shadow.c fills them from guest page faults).
 *
 * A vCPU keeps up to SHADOW_ROOTS trees, one per guest CR3 it ran with
 * lately, and each acts as a software TLB for its address space: it only
 * holds 4 KiB translations the guest's own tables gave when the guest
 * touched the page.  A MOV to CR3 makes the CPU forget every non-global
 * translation (SDM Vol. 3A, 4.10.4.1), so a tree may only be used again
 * if every guest entry its leaves were built from still holds the value
 * it held then.  Each tree records those entries (address, value) as it
 * fills; switching to a cached tree reads them again, and one that
 * changed empties the tree.  So no write to a guest page table needs to
 * be trapped: the check costs one read per entry at the switch, where a
 * refill would cost one #PF exit per page.  (KVM instead write-protects
 * the guest's tables and keeps its shadow pages in sync; that makes the
 * switch free and every page-table write an exit.)
 *
 * Format: a guest in long mode runs on a 4-level root; every other guest
 * (32-bit paging, PAE, paging off) on a PAE root, whose PDPT lies below
 * 4 GiB and whose four page directories always exist, so that the PDPTEs
 * the CPU loads at VM entry (SDM Vol. 3C, 27.3.2.4) never change.
 *
 * Locking: mmu->lock, for every change to any tree, as other threads
 * empty all trees when memory slots change (shadow_zap_all_trees()).  A
 * tree is only ever filled, switched to or checked by its own vCPU's
 * thread.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <asm/io.h>

#include "shadow.h"
#include "shadow_tree.h"
#include "spte.h"

#define SPTE_TABLE	(SPTE_P | SPTE_RW | SPTE_US)	/* leaves decide rights */
#define ENTRIES		512
#define MAX_DEPS	4096	/* more: the root cannot be checked, only emptied */
#define RECENT_DEPS	8	/* a power of two */
#define HVA_PAGES	8	/* guest pages whose user address is kept: 2^n */

/* A guest paging-structure entry a root's leaves were built from. */
struct shadow_dep {
	u64 gpa;
	u64 val;
	unsigned int size;	/* 4 or 8 bytes */
};

struct shadow_root {
	u64 *pml4;		/* 4-level root: guests in long mode */
	u64 *pdpt;		/* PAE root, below 4 GiB: every other guest */
	u64 *pd[4];		/* its page directories, always present */
	bool long_mode;		/* which root the CPU walks */
	unsigned int sizes;	/* BIT(enum spte_size) of the leaves present */
	u64 guest_cr3;		/* the key, with long_mode */
	u64 last_used;		/* the tree's clock: least recently used goes */
	bool stale;		/* cannot be checked: empty it at the switch */
	unsigned long version;		/* bumped by every change of a leaf */
	struct shadow_dep *deps;
	unsigned int ndeps, max_deps;
	u32 *dep_hash;		/* 2 * max_deps slots: index in deps + 1 */
	/*
	 * Entries recorded lately, by address (bit 0 set: in use), so that
	 * the upper levels every walk repeats cost no lookup.
	 */
	struct {
		u64 tag;
		u64 val;
	} recent[RECENT_DEPS];
};

struct shadow_tree {
	struct shadow_root *roots[SHADOW_ROOTS];	/* [0] always there */
	struct shadow_root *cur;			/* what the CPU walks */
	u64 clock;
	unsigned int audit_skip;	/* shadow_collect_leaves()' next start */
	/* The root and version the last complete audit pass saw. */
	const struct shadow_root *audited;
	unsigned long audited_version, pass_version;
	/*
	 * The user addresses of the guest pages read lately (bit 0 of @page:
	 * in use), valid while @slot_gen is what it was at the lookup: the
	 * guest's tables sit in a few pages that every walk and every check
	 * of a root reads again (shadow_guest_hva()).
	 */
	struct {
		u64 page;
		u64 hva;
		unsigned long gen;
	} hva_cache[HVA_PAGES];
	unsigned long slot_gen;	/* bumped under mmu->lock by slot changes */
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
	set_page_private(virt_to_page(table), 0);	/* shadow_note_size() */
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

/* Empty @r: every leaf and every table below the fixed ones. */
static void zap_root(struct shadow_root *r, struct list_head *deferred)
{
	int i, j;

	for (i = 0; i < ENTRIES; i++)
		if (r->pml4[i] & SPTE_P)
			detach(&r->pml4[i], 3, deferred);
	for (i = 0; i < 4; i++)
		for (j = 0; j < ENTRIES; j++)
			if (r->pd[i][j] & SPTE_P)
				detach(&r->pd[i][j], 1, deferred);
	r->sizes = 0;
	r->stale = false;
	r->ndeps = 0;
	if (r->dep_hash)
		memset(r->dep_hash, 0, 2 * r->max_deps * sizeof(*r->dep_hash));
	memset(r->recent, 0, sizeof(r->recent));
	WRITE_ONCE(r->version, r->version + 1);
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
 * shadow_zap_all_trees() - empty every root of every vCPU
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
	struct shadow_tree *t;
	int i, j;

	for (i = 0; i < VMXLAB_MAX_VCPUS; i++) {
		t = mmu->shadow_trees[i];
		if (!t)
			continue;
		/* The slot's pages may get another user address, or none. */
		WRITE_ONCE(t->slot_gen, t->slot_gen + 1);
		for (j = 0; j < SHADOW_ROOTS; j++)
			if (t->roots[j])
				zap_root(t->roots[j], deferred);
	}
}

static void root_free(struct shadow_root *r)
{
	int i;

	if (!r)
		return;
	if (r->pml4) {
		zap_root(r, NULL);
		free_page((unsigned long)r->pml4);
	}
	for (i = 0; i < 4; i++)
		free_page((unsigned long)r->pd[i]);
	free_page((unsigned long)r->pdpt);
	kvfree(r->deps);
	kvfree(r->dep_hash);
	kfree(r);
}

static struct shadow_root *root_alloc(void)
{
	struct shadow_root *r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	int i;

	if (!r)
		return NULL;
	r->pml4 = alloc_table(0);
	r->pdpt = alloc_table(GFP_DMA32);	/* CR3 holds 32 bits in PAE */
	for (i = 0; i < 4; i++)
		r->pd[i] = alloc_table(0);
	if (!r->pml4 || !r->pdpt || !r->pd[0] || !r->pd[1] || !r->pd[2] ||
	    !r->pd[3]) {
		root_free(r);
		return NULL;
	}
	/* A PAE PDPTE has only P and the address (SDM Vol. 3A, Table 4-8). */
	for (i = 0; i < 4; i++)
		r->pdpt[i] = virt_to_phys(r->pd[i]) | SPTE_P;
	return r;
}

static u64 root_hpa(const struct shadow_root *r)
{
	return virt_to_phys(r->long_mode ? r->pml4 : r->pdpt);
}

/**
 * shadow_tree_create() - a vCPU's tree
 *
 * Return: the tree with one empty root in PAE format, not yet known to the
 * VM (shadow_tree_register()); NULL without memory.  More roots come as
 * the guest switches address spaces.
 */
struct shadow_tree *shadow_tree_create(void)
{
	struct shadow_tree *t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);

	if (!t)
		return NULL;
	t->roots[0] = root_alloc();
	if (!t->roots[0]) {
		kfree(t);
		return NULL;
	}
	t->cur = t->roots[0];
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
	int i;

	mutex_lock(&mmu->lock);
	if (mmu->shadow_trees[id] == t)
		mmu->shadow_trees[id] = NULL;
	mutex_unlock(&mmu->lock);
	for (i = 0; i < SHADOW_ROOTS; i++)
		root_free(t->roots[i]);
	kfree(t);
}

static void use_root(struct shadow_tree *t, struct shadow_root *r, u64 cr3,
		     bool long_mode)
{
	r->guest_cr3 = cr3;
	r->long_mode = long_mode;
	r->last_used = ++t->clock;
	t->cur = r;
}

/**
 * shadow_reset() - empty every root of a vCPU and start on one
 * @mmu:       the VM's memory
 * @t:         the tree of the vCPU whose thread calls this
 * @cr3:       the guest's CR3
 * @long_mode: the guest is in long mode (EFER.LMA)
 *
 * After a change of the paging controls (CR0.PG/WP, CR4.PAE/PSE/PGE/
 * SMEP/SMAP, EFER.NXE) or SET_SREGS: the rights every leaf was built with
 * may be different now, in every address space.  The vCPU's next entry
 * flushes the CPU's own TLB (no VPID).
 *
 * Return: the host-physical address of the root, for the VMCS's CR3.
 */
u64 shadow_reset(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 cr3,
		 bool long_mode)
{
	int i;

	mutex_lock(&mmu->lock);
	for (i = 0; i < SHADOW_ROOTS; i++)
		if (t->roots[i])
			zap_root(t->roots[i], NULL);
	use_root(t, t->roots[0], cr3, long_mode);
	mutex_unlock(&mmu->lock);
	return root_hpa(t->cur);
}

/**
 * shadow_guest_hva() - the user address of a guest-physical byte, cached
 * @mmu: the VM's memory
 * @t:   the tree of the vCPU whose thread calls this
 * @gpa: the guest-physical address
 * @hva: out: its userspace address
 *
 * One slot lookup (a mutex and a scan of the slots) per guest page while
 * the page keeps its place among HVA_PAGES, by the low bits of its frame
 * number, instead of one per entry: a walk reads the same three or four
 * table pages every time.  A
 * slot change bumps @t->slot_gen under mmu->lock (shadow_zap_all_trees())
 * before any slot moves or goes; an address looked up before that, or
 * while it happened, carries the old generation and is not used again.
 * What is read through an address that goes stale during the read is
 * what mmu_read_guest() would read in the same race: the slot change
 * empties every root afterwards anyway.
 *
 * Return: 0, or -EFAULT when no slot backs @gpa.
 */
int shadow_guest_hva(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 gpa,
		     u64 *hva)
{
	unsigned long gen = READ_ONCE(t->slot_gen);
	u64 tag = (gpa & PAGE_MASK) | 1;
	/* Direct-mapped: a walk's tables are a few neighbouring pages. */
	unsigned int i = (gpa >> PAGE_SHIFT) & (HVA_PAGES - 1);

	if (t->hva_cache[i].page != tag || t->hva_cache[i].gen != gen) {
		if (mmu_guest_page_hva(mmu, gpa, hva))
			return -EFAULT;
		t->hva_cache[i].page = tag;
		t->hva_cache[i].hva = *hva;
		t->hva_cache[i].gen = gen;
	}
	*hva = t->hva_cache[i].hva + (gpa & ~PAGE_MASK);
	return 0;
}

/*
 * Read one guest entry of @size (4 or 8) bytes at @gpa.  Return: 0, or
 * -EFAULT.
 */
static int read_entry(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 gpa,
		      unsigned int size, u64 *val)
{
	u64 hva;
	u32 v32;

	if (shadow_guest_hva(mmu, t, gpa, &hva))
		return -EFAULT;
	if (size == 8)
		return get_user(*val, (u64 __user *)u64_to_user_ptr(hva));
	if (get_user(v32, (u32 __user *)u64_to_user_ptr(hva)))
		return -EFAULT;
	*val = v32;
	return 0;
}

/**
 * shadow_read_entry() - gwalk_translate()'s reader for filling leaves
 * @ctx: a struct shadow_reader
 * @gpa: the entry
 * @buf: where its value goes
 * @len: 4 or 8; anything else is copied through mmu_read_guest()
 *
 * Return: 0, or -EFAULT when no slot backs @gpa.
 */
int shadow_read_entry(void *ctx, u64 gpa, void *buf, unsigned int len)
{
	const struct shadow_reader *rd = ctx;
	u64 val;

	if (len != 4 && len != 8)
		return mmu_read_guest(rd->mmu, gpa, buf, len);
	if (read_entry(rd->mmu, rd->t, gpa, len, &val))
		return -EFAULT;
	memcpy(buf, &val, len);		/* little-endian: the low bytes */
	return 0;
}

/*
 * Does every entry @r was built from still hold its value?  Reads guest
 * memory, so without mmu->lock: a slot change may empty @r meanwhile
 * (zap_root() leaves the array in place), which its version shows.
 */
static bool deps_hold(struct vmxlab_mmu *mmu, struct shadow_tree *t,
		      struct shadow_root *r)
{
	unsigned int i, n = READ_ONCE(r->ndeps);
	u64 now;

	if (r->stale)
		return false;
	for (i = 0; i < n; i++) {
		const struct shadow_dep *d = &r->deps[i];

		if (read_entry(mmu, t, d->gpa, d->size, &now) || now != d->val)
			return false;
	}
	return true;
}

/* Use @r again if its entries hold; else empty it.  Return: they held. */
static bool root_still_valid(struct vmxlab_mmu *mmu, struct shadow_tree *t,
			     struct shadow_root *r)
{
	unsigned long version = READ_ONCE(r->version);

	if (deps_hold(mmu, t, r))
		return true;
	mutex_lock(&mmu->lock);
	if (r->version == version)
		zap_root(r, NULL);
	mutex_unlock(&mmu->lock);
	return false;
}

/* The root to build a new address space in: a free slot, else the LRU. */
static struct shadow_root *victim(struct shadow_tree *t)
{
	struct shadow_root *old = NULL;
	int i;

	for (i = 0; i < SHADOW_ROOTS; i++) {
		if (!t->roots[i]) {
			t->roots[i] = root_alloc();
			if (t->roots[i])
				return t->roots[i];
			break;			/* no memory: reuse one */
		}
		if (t->roots[i] != t->cur &&
		    (!old || t->roots[i]->last_used < old->last_used))
			old = t->roots[i];
	}
	return old ? old : t->cur;
}

/**
 * shadow_switch() - the guest loaded CR3: run on that address space's root
 * @mmu:       the VM's memory
 * @t:         the tree of the vCPU whose thread calls this
 * @cr3:       the guest's new CR3
 * @long_mode: the guest is in long mode (EFER.LMA)
 * @hit:       out: a cached root was still valid
 *
 * A cached root whose entries all still hold is used as it is, the
 * current one too (a CR3 reload after no page-table change); else a root
 * is emptied and keyed with @cr3.
 *
 * Return: the host-physical address of the root, for the VMCS's CR3.
 */
u64 shadow_switch(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 cr3,
		  bool long_mode, bool *hit)
{
	struct shadow_root *r = NULL;
	int i;

	for (i = 0; i < SHADOW_ROOTS && !r; i++)
		if (t->roots[i] && t->roots[i]->guest_cr3 == cr3 &&
		    t->roots[i]->long_mode == long_mode)
			r = t->roots[i];
	*hit = r && root_still_valid(mmu, t, r);
	if (!r) {
		r = victim(t);
		mutex_lock(&mmu->lock);
		zap_root(r, NULL);
		mutex_unlock(&mmu->lock);
	}
	use_root(t, r, cr3, long_mode);
	return root_hpa(r);
}

/**
 * shadow_leaf() - the current root's leaf for @gva (mmu->lock held)
 * @t:      the vCPU's tree
 * @gva:    the linear address
 * @create: create missing tables
 *
 * Return: the leaf; NULL if a table is missing (or no memory).
 */
u64 *shadow_leaf(struct shadow_tree *t, u64 gva, bool create)
{
	struct shadow_root *r = t->cur;
	u64 *table, *entry;
	int level;

	if (r->long_mode) {
		table = r->pml4;
		level = 4;
	} else {
		table = r->pd[(gva >> 30) & 3];
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

/*
 * @leaf, in the current root, copies a guest page of @size (mmu->lock
 * held): noted in the root and, in the private field of its page table's
 * page, in that table, so that INVLPG only scans tables that hold leaves
 * of large guest pages.
 */
void shadow_note_size(struct shadow_tree *t, u64 *leaf, enum spte_size size)
{
	struct page *pt = virt_to_page(leaf);

	t->cur->sizes |= BIT(size);
	t->cur->version++;
	set_page_private(pt, page_private(pt) | BIT(size));
}

/*
 * The records are found by address through an open-addressing hash of
 * twice their capacity (linear probing), rebuilt when they grow.
 */
static unsigned int dep_slot(const struct shadow_root *r, u64 gpa)
{
	return hash_64(gpa >> 2, ilog2(2 * r->max_deps));
}

static struct shadow_dep *find_dep(const struct shadow_root *r, u64 gpa)
{
	unsigned int mask = 2 * r->max_deps - 1, i;
	u32 v;

	if (!r->dep_hash)
		return NULL;
	for (i = dep_slot(r, gpa); (v = r->dep_hash[i]); i = (i + 1) & mask)
		if (r->deps[v - 1].gpa == gpa)
			return &r->deps[v - 1];
	return NULL;
}

static void hash_dep(struct shadow_root *r, unsigned int n)
{
	unsigned int mask = 2 * r->max_deps - 1, i;

	for (i = dep_slot(r, r->deps[n].gpa); r->dep_hash[i]; i = (i + 1) & mask)
		;
	r->dep_hash[i] = n + 1;
}

/* Room for twice the records, or false. */
static bool grow_deps(struct shadow_root *r)
{
	unsigned int max = r->max_deps ? r->max_deps * 2 : 64, i;
	struct shadow_dep *d;
	u32 *hash;

	if (max > MAX_DEPS)
		return false;
	hash = kvcalloc(2 * max, sizeof(*hash), GFP_KERNEL_ACCOUNT);
	if (!hash)
		return false;
	d = kvrealloc(r->deps, r->max_deps * sizeof(*d), max * sizeof(*d),
		      GFP_KERNEL_ACCOUNT);
	if (!d) {
		kvfree(hash);
		return false;
	}
	kvfree(r->dep_hash);
	r->deps = d;
	r->dep_hash = hash;
	r->max_deps = max;
	for (i = 0; i < r->ndeps; i++)
		hash_dep(r, i);
	return true;
}

/* Append a record of @gpa holding @val; NULL (and @r stale) without room. */
static struct shadow_dep *new_dep(struct shadow_root *r, u64 gpa, u64 val,
				  unsigned int size)
{
	struct shadow_dep *d;

	if (r->ndeps == r->max_deps && !grow_deps(r)) {
		r->stale = true;
		return NULL;
	}
	d = &r->deps[r->ndeps];
	*d = (struct shadow_dep) { .gpa = gpa, .val = val, .size = size };
	hash_dep(r, r->ndeps);
	WRITE_ONCE(r->ndeps, r->ndeps + 1);
	return d;
}

/**
 * shadow_record_dep() - a leaf of the current root used a guest entry
 * @t:    the vCPU's tree (mmu->lock held)
 * @gpa:  the entry's guest-physical address
 * @old:  its value as the walk read it
 * @now:  its value now (@old with the accessed and dirty flags vmxlab set)
 * @size: 4 or 8 bytes
 *
 * An entry already recorded with another value than @old was changed by
 * the guest since an earlier leaf used it: that leaf may be stale, which
 * the TLB may keep until the next CR3 load, but no longer after it.
 */
void shadow_record_dep(struct shadow_tree *t, u64 gpa, u64 old, u64 now,
		       unsigned int size)
{
	struct shadow_root *r = t->cur;
	unsigned int slot = (gpa >> 3) & (RECENT_DEPS - 1);
	struct shadow_dep *d;

	if (r->stale)
		return;
	if (r->recent[slot].tag == (gpa | 1) && r->recent[slot].val == old &&
	    old == now)
		return;
	d = find_dep(r, gpa);
	if (d) {
		if (d->val == old)
			d->val = now;
		else if (d->val != now)
			r->stale = true;
	} else {
		d = new_dep(r, gpa, now, size);
		if (!d)
			return;
	}
	r->recent[slot].tag = gpa | 1;
	r->recent[slot].val = d->val;
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
		pt = shadow_leaf(t, gva, false);
		if (!pt)
			continue;
		if (!(page_private(virt_to_page(pt)) & BIT(size)))
			continue;			/* none of that size */
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
 * large page if the guest mapped one there (SDM Vol. 3A, 4.10.4.1), in
 * the current address space.  A guest large page is shadowed by 4 KiB
 * leaves, each marked with the guest page's size (spte.h): for each size
 * present in the root, the leaves of that size in the aligned region
 * around @gva go.  Which guest large page a leaf came from is not
 * recorded, so a leaf of another large page in that region may go too:
 * only a refill, as after any TLB miss.  Other roots need nothing: the
 * switch back to one checks its entries.
 */
void shadow_invlpg(struct vmxlab_mmu *mmu, struct shadow_tree *t, u64 gva)
{
	enum spte_size size;
	u64 *leaf;

	mutex_lock(&mmu->lock);
	t->cur->version++;
	leaf = shadow_leaf(t, gva, false);
	if (leaf)
		*leaf = 0;
	for (size = SPTE_2M; size <= SPTE_1G; size++)
		if (t->cur->sizes & BIT(size))
			zap_size_class(t, gva & ~(size_bytes[size] - 1),
				       size_bytes[size], size);
	mutex_unlock(&mmu->lock);
}

/*
 * Add the leaves of the page table @pt, which maps from @base, to @c;
 * false once @c is full.
 */
struct collect {
	struct shadow_leaf_ref *out;
	unsigned int n, max, seen, skip;
};

static bool collect_pt(struct collect *c, const u64 *pt, u64 base)
{
	int i;

	for (i = 0; i < ENTRIES; i++) {
		if (!(pt[i] & SPTE_P) || c->seen++ < c->skip)
			continue;
		if (c->n == c->max)
			return false;
		c->out[c->n].gva = base + ((u64)i << 12);
		c->out[c->n].spte = pt[i];
		c->n++;
	}
	return true;
}

/* The same for a page directory (level 2) or a PDPT (level 3). */
static bool collect_table(struct collect *c, const u64 *table, int level,
			  u64 base)
{
	int i;

	for (i = 0; i < ENTRIES; i++) {
		u64 at = base + ((u64)i << (12 + 9 * (level - 1)));

		if (!(table[i] & SPTE_P))
			continue;
		if (level == 2 ? !collect_pt(c, table_of(table[i]), at) :
		    !collect_table(c, table_of(table[i]), level - 1, at))
			return false;
	}
	return true;
}

/**
 * shadow_collect_leaves() - copy out leaves of the current root
 * @mmu: the VM's memory
 * @t:   the vCPU's tree
 * @out: where the leaves go
 * @max: room in @out
 *
 * For shadow_audit(), which checks them without mmu->lock (walking the
 * guest's tables takes it).  A root with more than @max leaves is covered
 * over several calls, @max at a time.
 *
 * Return: the number of leaves in @out.
 */
unsigned int shadow_collect_leaves(struct vmxlab_mmu *mmu,
				   struct shadow_tree *t,
				   struct shadow_leaf_ref *out,
				   unsigned int max)
{
	struct collect c = { .out = out, .max = max, .skip = t->audit_skip };
	struct shadow_root *r = t->cur;
	bool all;
	int i;

	mutex_lock(&mmu->lock);
	if (!c.skip)
		t->pass_version = r->version;
	if (r->long_mode) {
		all = true;
		for (i = 0; i < ENTRIES && all; i++) {
			/* Bit 47 is copied into 63:48: a canonical address. */
			u64 base = (u64)(((s64)i << 55) >> 16);

			if (r->pml4[i] & SPTE_P)
				all = collect_table(&c, table_of(r->pml4[i]), 3,
						    base);
		}
	} else {
		all = true;
		for (i = 0; i < 4 && all; i++)
			all = collect_table(&c, r->pd[i], 2, (u64)i << 30);
	}
	mutex_unlock(&mmu->lock);
	t->audit_skip = all ? 0 : t->audit_skip + c.n;
	if (all) {
		t->audited = r;
		t->audited_version = t->pass_version;
	}
	return c.n;
}

/**
 * shadow_audit_due() - has the current root changed since its last audit?
 * @t: the vCPU's tree
 *
 * A root whose leaves all agreed with the guest's tables, and which has
 * not changed since, still agrees while its recorded entries hold: the
 * audit need not walk it again at every entry.
 */
bool shadow_audit_due(const struct shadow_tree *t)
{
	return t->audit_skip || t->audited != t->cur ||
	       t->audited_version != READ_ONCE(t->cur->version);
}

/*
 * The guest edited an entry of the current root: its leaves may be stale
 * until the root changes (INVLPG, a switch), so nothing to audit till then.
 */
void shadow_audit_settled(struct shadow_tree *t)
{
	t->audited = t->cur;
	t->audited_version = READ_ONCE(t->cur->version);
	t->audit_skip = 0;
}

/**
 * shadow_current_deps_hold() - has the guest left the current root's
 * entries alone since they were used?
 * @mmu: the VM's memory
 * @t:   the vCPU's tree
 *
 * Only then must every leaf agree with a fresh walk: after an edit the
 * guest has not invalidated yet, a leaf may be stale, as a TLB entry.
 */
bool shadow_current_deps_hold(struct vmxlab_mmu *mmu, struct shadow_tree *t)
{
	return deps_hold(mmu, t, t->cur);
}
