// SPDX-License-Identifier: GPL-2.0
/*
 * Guest paging, the same tests on both kinds of VM (Documentation/
 * paging.rst): under EPT the CPU walks the guest's tables itself; under
 * shadow paging vmxlab walks them on every intercepted #PF and either
 * fills its own tree or reflects the #PF into the guest as vector 14.
 * Whichever, the guest must see what a CPU would show it: the same #PF
 * error codes and CR2 (SDM Vol. 3A, 4.7), accessed and dirty flags
 * (4.8), and TLB invalidation by INVLPG and MOV to CR3 (4.10.4).
 *
 * The guest maps single 4 KiB pages at TEST_VA through a page table of
 * its own (PT_GPA), whose entries both sides edit; the pages themselves
 * are at PAGE_GPA(i).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S	300

#define TEST_VA		0x40000000ULL		/* a 2 MiB-aligned window */
#define SLOT_PAGING	SLOT_TEST
#define PT_GPA		GUEST_DATA_GPA
#define PAGE_GPA(i)	(GUEST_DATA_GPA + 0x100000 + (i) * 0x1000ULL)
#define DATA_SIZE	0x200000ULL
#define NR_PAGES	64

/* Entry bits (SDM Vol. 3A, Table 4-19) and #PF error codes (4.7). */
#define P		BIT_ULL(0)
#define RW		BIT_ULL(1)
#define US		BIT_ULL(2)
#define A		BIT_ULL(5)
#define D		BIT_ULL(6)
#define PS		BIT_ULL(7)
#define XD		BIT_ULL(63)
#define EC_P		0x1
#define EC_W		0x2
#define EC_U		0x4
#define EC_RSVD		0x8
#define EC_ID		0x10

#define MSR_EFER	0xc0000080
#define EFER_NXE	BIT_ULL(11)
#define CR0_WP		BIT_ULL(16)

#define VA(i)		(TEST_VA + (i) * 0x1000ULL)

/*
 * The guest's accesses to its page table and pages: atomic, so that the
 * compiler neither drops nor merges them; release stores and acquire
 * loads, which are plain MOVs (the MMIO decoder knows no XCHG).
 */
static void pte_set(int i, __u64 v)
{
	__atomic_store_n((__u64 *)PT_GPA + i, v, __ATOMIC_RELEASE);
}

static __u64 pte_get(int i)
{
	return __atomic_load_n((__u64 *)PT_GPA + i, __ATOMIC_ACQUIRE);
}

static __u64 guest_load(__u64 va)
{
	return __atomic_load_n((__u64 *)va, __ATOMIC_ACQUIRE);
}

static void guest_store(__u64 va, __u64 v)
{
	__atomic_store_n((__u64 *)va, v, __ATOMIC_RELEASE);
}

/*
 * One guest access: the exception it raised (or -1), its code and CR2.
 * The __ forms leave CR2 out: they also run at CPL 3, where MOV from CR2
 * is privileged.
 */
struct access {
	int vector;
	__u64 error_code;
	__u64 cr2;
};

static struct access __guest_read(__u64 va)
{
	struct access a = { 0 };
	__u64 v;

	asm volatile(GUEST_ASM_SAFE("mov (%[va]), %[v]")
		     : GUEST_ASM_SAFE_OUTPUTS(a.vector, a.error_code), [v] "=&r"(v)
		     : [va] "r"(va) : GUEST_ASM_SAFE_CLOBBERS);
	return a;
}

static struct access guest_read(__u64 va)
{
	struct access a = __guest_read(va);

	a.cr2 = guest_read_cr2();
	return a;
}

static struct access __guest_write(__u64 va, __u64 v)
{
	struct access a = { 0 };

	asm volatile(GUEST_ASM_SAFE("mov %[v], (%[va])")
		     : GUEST_ASM_SAFE_OUTPUTS(a.vector, a.error_code)
		     : [va] "r"(va), [v] "r"(v) : GUEST_ASM_SAFE_CLOBBERS);
	return a;
}

static struct access guest_write(__u64 va, __u64 v)
{
	struct access a = __guest_write(va, v);

	a.cr2 = guest_read_cr2();
	return a;
}

/* The #PF of the last guest_fetch(): RIP was already in the page. */
static int fetch_vector;
static __u64 fetch_error_code;

/*
 * The guest's #PF handler: a GUEST_ASM_SAFE access resumes after itself;
 * a fetch in the test window returns to guest_fetch()'s CALL.
 */
static void guest_pf_handler(struct ex_regs *regs)
{
	if (guest_ex_fixup(regs))
		return;
	if (regs->rip >= TEST_VA && regs->rip < TEST_VA + 0x200000) {
		__atomic_store_n(&fetch_error_code, regs->error_code,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&fetch_vector, regs->vector, __ATOMIC_RELEASE);
		regs->rip = *(__u64 *)regs->rsp;
		regs->rsp += 8;
		return;
	}
	guest_ucall(UCALL_UNHANDLED, regs->vector, regs->error_code, regs->rip,
		    0, 0, 0);
}

/* A fetch: CALL into the page, which holds a RET (0xc3) when mapped. */
static struct access __guest_fetch(__u64 va)
{
	struct access a = { 0 };

	__atomic_store_n(&fetch_vector, GUEST_NO_EXCEPTION, __ATOMIC_RELEASE);
	asm volatile("call *%0" : : "r"(va) : "memory");
	a.vector = __atomic_load_n(&fetch_vector, __ATOMIC_ACQUIRE);
	a.error_code = __atomic_load_n(&fetch_error_code, __ATOMIC_ACQUIRE);
	return a;
}

static struct access guest_fetch(__u64 va)
{
	struct access a = __guest_fetch(va);

	a.cr2 = guest_read_cr2();
	return a;
}

/*
 * The same accesses at CPL 3 (guest_run_user()): the access runs there,
 * CR2 is read back at CPL 0.  A user-mode access sets U/S in the error
 * code (SDM Vol. 3A, 4.7).
 */
static struct access user_result;

static __u64 user_read(__u64 va)
{
	user_result = __guest_read(va);
	return 0;
}

static __u64 user_write(__u64 va)
{
	user_result = __guest_write(va, 0x3333);
	return 0;
}

static __u64 user_fetch(__u64 va)
{
	user_result = __guest_fetch(va);
	return 0;
}

static struct access guest_user(__u64 (*fn)(__u64), __u64 va)
{
	struct access a;

	guest_run_user(fn, va);
	a = user_result;
	a.cr2 = guest_read_cr2();
	return a;
}

static void guest_invlpg(__u64 va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static void guest_reload_cr3(void)
{
	asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

#define GUEST_ASSERT_PF(acc, code, va) do {				\
	struct access __acc = (acc);					\
	GUEST_ASSERT_EQ(__acc.vector, 14);				\
	GUEST_ASSERT_EQ(__acc.error_code, code);			\
	GUEST_ASSERT_EQ(__acc.cr2, va);					\
} while (0)

#define GUEST_ASSERT_OK(acc) GUEST_ASSERT_EQ((acc).vector, GUEST_NO_EXCEPTION)

FIXTURE(paging) {
	struct vm *vm;
	struct vcpu *vcpu;
	char *data;		/* host view of [PT_GPA, PT_GPA + DATA_SIZE) */
};

FIXTURE_VARIANT(paging) {
	unsigned long type;
};

FIXTURE_VARIANT_ADD(paging, ept) {
	.type = VMXLAB_VM_EPT,
};

FIXTURE_VARIANT_ADD(paging, shadow) {
	.type = VMXLAB_VM_SHADOW,
};

FIXTURE_SETUP(paging)
{
	int i;

	self->vm = vm_create_type(variant->type);
	self->data = vm_add_region(self->vm, SLOT_PAGING, PT_GPA, DATA_SIZE, 0);
	vm_map_page_table(self->vm, TEST_VA, PT_GPA);
	/* Every page starts mapped, writable, with its number and a RET. */
	for (i = 0; i < NR_PAGES; i++) {
		__u64 *page = (__u64 *)(self->data + (PAGE_GPA(i) - PT_GPA));

		page[0] = 0xc3;
		page[1] = 0x1000 + i;
		((__u64 *)self->data)[i] = PAGE_GPA(i) | P | RW;
	}
	vm_install_exception_handler(self->vm, 14, guest_pf_handler);
	self->vcpu = NULL;
}

FIXTURE_TEARDOWN(paging)
{
	vm_free(self->vm);
}

#define host_pte(self, i)	((__u64 *)(self)->data + (i))

/* Run @code to GUEST_DONE; the guest's own assertions decide. */
static void run_guest(struct __test_metadata *_metadata, struct vm *vm,
		      struct vcpu **vcpu, void *code)
{
	struct ucall uc;

	*vcpu = vm_vcpu_add(vm, 0, code);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(*vcpu, &uc));
}

/* Not present (P = 0): error code P = 0, W/R and I/D as the access. */
static void guest_not_present(void)
{
	pte_set(0, 0);
	GUEST_ASSERT_PF(guest_read(VA(0) + 8), 0, VA(0) + 8);
	GUEST_ASSERT_PF(guest_write(VA(0) + 16, 1), EC_W, VA(0) + 16);
	/* I/D only with NXE (or SMEP) on (SDM 4.7). */
	GUEST_ASSERT_PF(guest_fetch(VA(0)), 0, VA(0));
	guest_wrmsr(MSR_EFER, guest_rdmsr(MSR_EFER) | EFER_NXE);
	GUEST_ASSERT_PF(guest_fetch(VA(0)), EC_ID, VA(0));
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, not_present_pf, TIMEOUT_S)
{
	run_guest(_metadata, self->vm, &self->vcpu, guest_not_present);
}

/* Read-only page: reads and fetches pass, a write faults with P | W. */
static void guest_write_protect(void)
{
	pte_set(1, PAGE_GPA(1) | P);
	guest_invlpg(VA(1));
	GUEST_ASSERT_OK(guest_read(VA(1) + 8));
	GUEST_ASSERT_EQ(guest_load(VA(1) + 8), 0x1001);
	GUEST_ASSERT_OK(guest_fetch(VA(1)));
	GUEST_ASSERT_PF(guest_write(VA(1) + 8, 5), EC_P | EC_W, VA(1) + 8);
	GUEST_ASSERT_EQ(guest_load(VA(1) + 8), 0x1001);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, write_protect_pf, TIMEOUT_S)
{
	run_guest(_metadata, self->vm, &self->vcpu, guest_write_protect);
}

/*
 * CR0.WP = 0: supervisor writes ignore R/W (SDM 4.6.1); back to WP = 1,
 * the same write faults again.
 */
static void guest_wp0(void)
{
	__u64 cr0 = guest_read_cr0();

	pte_set(2, PAGE_GPA(2) | P);
	guest_invlpg(VA(2));
	GUEST_ASSERT_OK(guest_read(VA(2) + 8));
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0 & ~CR0_WP), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_OK(guest_write(VA(2) + 8, 0x77));
	GUEST_ASSERT_EQ(guest_load(VA(2) + 8), 0x77);
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_PF(guest_write(VA(2) + 8, 0x78), EC_P | EC_W, VA(2) + 8);
	GUEST_ASSERT_EQ(guest_load(VA(2) + 8), 0x77);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, wp0_supervisor_write, TIMEOUT_S)
{
	run_guest(_metadata, self->vm, &self->vcpu, guest_wp0);
	EXPECT_EQ(0x77ULL, *(__u64 *)(self->data + (PAGE_GPA(2) - PT_GPA) + 8));
}

/*
 * A reserved bit (an address bit at or above MAXPHYADDR, SDM 4.5) is
 * RSVD | P; XD without EFER.NXE is reserved too.  With NXE, XD forbids
 * fetches only: P | I/D.
 */
static void guest_reserved_and_nx(void)
{
	__u32 regs[4];
	__u64 maxphy;

	guest_cpuid(0x80000008, 0, regs);
	maxphy = regs[0] & 0xff;
	pte_set(3, PAGE_GPA(3) | BIT_ULL(maxphy) | P | RW);
	guest_invlpg(VA(3));
	GUEST_ASSERT_PF(guest_read(VA(3)), EC_RSVD | EC_P, VA(3));
	GUEST_ASSERT_PF(guest_write(VA(3), 1), EC_RSVD | EC_W | EC_P, VA(3));

	pte_set(3, PAGE_GPA(3) | XD | P | RW);
	guest_invlpg(VA(3));
	GUEST_ASSERT_PF(guest_read(VA(3)), EC_RSVD | EC_P, VA(3));
	guest_wrmsr(MSR_EFER, guest_rdmsr(MSR_EFER) | EFER_NXE);
	GUEST_ASSERT_OK(guest_read(VA(3)));
	GUEST_ASSERT_PF(guest_fetch(VA(3)), EC_ID | EC_P, VA(3));
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, reserved_bit_and_nx_pf, TIMEOUT_S)
{
	run_guest(_metadata, self->vm, &self->vcpu, guest_reserved_and_nx);
}

/*
 * MAXPHYADDR is the guest's CPUID.80000008H:EAX[7:0] (SDM Vol. 3A, 4.1.4),
 * also when a VMM lowers it with SET_CPUID after the vCPU ran: address bit
 * 36 of a PTE is then reserved, RSVD | P.  Shadow paging looks MAXPHYADDR
 * up once per table (vmx_guest_maxphyaddr()); one kept across SET_CPUID
 * would take bit 36 as an address bit, a guest-physical address no slot
 * backs, and the read would become MMIO.  Under EPT the CPU checks with
 * its own MAXPHYADDR, which SET_CPUID cannot change: shadow only.
 */
#define LOW_MAXPHYADDR	36

static void guest_maxphyaddr_lowered(void)
{
	GUEST_ASSERT_EQ(guest_load(VA(3) + 8), 0x1003);
	GUEST_SYNC(1);
	pte_set(3, PAGE_GPA(3) | BIT_ULL(LOW_MAXPHYADDR) | P | RW);
	guest_invlpg(VA(3));
	GUEST_ASSERT_PF(guest_read(VA(3)), EC_RSVD | EC_P, VA(3));
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, maxphyaddr_follows_set_cpuid, TIMEOUT_S)
{
	struct vmxlab_cpuid *c;
	struct ucall uc;
	__u32 i;

	if (variant->type != VMXLAB_VM_SHADOW)
		SKIP(return, "under EPT the CPU's own MAXPHYADDR applies");
	c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	ASSERT_NE(NULL, c);
	c->nent = 256;
	ASSERT_EQ(0, ioctl(self->vm->sys_fd, VMXLAB_GET_SUPPORTED_CPUID, c));
	for (i = 0; i < c->nent && c->entries[i].function != 0x80000008; i++)
		;
	ASSERT_GT(c->nent, i) TH_LOG("no leaf 0x80000008");
	if ((c->entries[i].eax & 0xff) <= LOW_MAXPHYADDR)
		SKIP(return, "MAXPHYADDR is %u already", c->entries[i].eax & 0xff);
	c->entries[i].eax = (c->entries[i].eax & ~0xffU) | LOW_MAXPHYADDR;
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_maxphyaddr_lowered);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	ASSERT_EQ(0, vcpu_set_cpuid(self->vcpu, c->entries, c->nent));
	EXPECT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
	free(c);
}

/*
 * Accessed and dirty flags (SDM 4.8): a read sets A in the PTE and in the
 * PDE that points at the table; only a write sets D.  Cleared by the guest
 * and the TLB entry dropped with INVLPG, the next write sets D again.
 */
static void guest_accessed_dirty(void)
{
	pte_set(4, PAGE_GPA(4) | P | RW);
	guest_invlpg(VA(4));
	guest_load(VA(4));
	GUEST_SYNC(1);
	guest_store(VA(4) + 8, 9);
	GUEST_SYNC(2);
	pte_set(4, pte_get(4) & ~(A | D));
	guest_invlpg(VA(4));
	guest_store(VA(4) + 8, 10);
	GUEST_SYNC(3);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, accessed_dirty_bits, TIMEOUT_S)
{
	struct ucall uc;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_accessed_dirty);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	EXPECT_EQ(A, *host_pte(self, 4) & (A | D));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	EXPECT_EQ(A | D, *host_pte(self, 4) & (A | D));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	EXPECT_EQ(A | D, *host_pte(self, 4) & (A | D));
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
}

/*
 * A new mapping is used at once (SDM Vol. 3A, 4.10.4.3): no TLB entry or
 * paging-structure-cache entry is made from an entry whose P flag is 0,
 * so an entry the guest makes present needs neither INVLPG nor a CR3
 * load.  That holds for a page never touched, and right after a #PF on
 * the address (a #PF caches nothing for it: 4.10.4.1), for a read, a
 * write and a fetch, and for a PDE made present over a page table.
 * Shadow paging must walk again at every fault: a "not present" it kept
 * from the first fault would reflect a second one.
 */
#define MTU_PAGE	24			/* PTEs 24-27: not present */
#define MTU_WIN		(TEST_VA + 0x400000)	/* a 2 MiB window */
#define PDE_MTU_WIN	(GUEST_SYS_PD_GPA + 8 * (MTU_WIN >> 21))

static void guest_map_then_use(void)
{
	__u64 *pde = (__u64 *)PDE_MTU_WIN;

	pte_set(MTU_PAGE, PAGE_GPA(MTU_PAGE) | P | RW);
	GUEST_ASSERT_EQ(guest_load(VA(MTU_PAGE) + 8), 0x1000 + MTU_PAGE);

	GUEST_ASSERT_PF(guest_read(VA(MTU_PAGE + 1) + 8), 0, VA(MTU_PAGE + 1) + 8);
	pte_set(MTU_PAGE + 1, PAGE_GPA(MTU_PAGE + 1) | P | RW);
	GUEST_ASSERT_EQ(guest_load(VA(MTU_PAGE + 1) + 8), 0x1001 + MTU_PAGE);

	GUEST_ASSERT_PF(guest_write(VA(MTU_PAGE + 2) + 16, 1), EC_W,
			VA(MTU_PAGE + 2) + 16);
	pte_set(MTU_PAGE + 2, PAGE_GPA(MTU_PAGE + 2) | P | RW);
	GUEST_ASSERT_OK(guest_write(VA(MTU_PAGE + 2) + 16, 0x2626));
	GUEST_ASSERT_EQ(guest_load(VA(MTU_PAGE + 2) + 16), 0x2626);

	GUEST_ASSERT_PF(guest_fetch(VA(MTU_PAGE + 3)), 0, VA(MTU_PAGE + 3));
	pte_set(MTU_PAGE + 3, PAGE_GPA(MTU_PAGE + 3) | P | RW);
	GUEST_ASSERT_OK(guest_fetch(VA(MTU_PAGE + 3)));

	/* A PDE, not present (and invalidated), then over PT_GPA's table. */
	__atomic_store_n(pde, 0, __ATOMIC_RELEASE);
	guest_invlpg(MTU_WIN + 8);
	GUEST_ASSERT_PF(guest_read(MTU_WIN + 8), 0, MTU_WIN + 8);
	__atomic_store_n(pde, PT_GPA | P | RW, __ATOMIC_RELEASE);
	GUEST_ASSERT_EQ(guest_load(MTU_WIN + 8), 0x1000);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, map_then_use, TIMEOUT_S)
{
	int i;

	for (i = 0; i < 4; i++)
		*host_pte(self, MTU_PAGE + i) = 0;
	run_guest(_metadata, self->vm, &self->vcpu, guest_map_then_use);
}

/*
 * The accessed flag of every level (SDM Vol. 3A, 4.8): an access through
 * paging-structure entries whose A flags are clear sets A in each of
 * them, the PML4E, PDPTE and PDE as well as the PTE; the dirty flag only
 * in the PTE, which maps the page (bit 6 of the others is ignored: Table
 * 4-15 to 4-18).  The guest's identity map was used before the test: a
 * PML4E of its own (FRESH_VA) leads through tables nothing used yet.
 */
#define FRESH_VA	0x8000000000ULL		/* PML4E 1 */
#define FRESH_PDPT	(PT_GPA + 0x90000)
#define FRESH_PD	(PT_GPA + 0x91000)
#define FRESH_PT	(PT_GPA + 0x92000)
#define FRESH_PAGE	30
#define PML4E_GPA(va)	(GUEST_SYS_GPA + 8 * (((va) >> 39) & 511))

static void guest_upper_accessed(void)
{
	GUEST_ASSERT_EQ(guest_load(FRESH_VA + 8), 0x1000 + FRESH_PAGE);
	GUEST_SYNC(1);
	guest_store(FRESH_VA + 16, 1);
	GUEST_SYNC(2);
	GUEST_DONE();
}

/* A and D of the four entries that map FRESH_VA, PML4E first. */
static void fresh_flags(struct vm *vm, __u64 flags[4])
{
	int i;

	flags[0] = *(__u64 *)addr_gpa2hva(vm, PML4E_GPA(FRESH_VA));
	flags[1] = *(__u64 *)addr_gpa2hva(vm, FRESH_PDPT);
	flags[2] = *(__u64 *)addr_gpa2hva(vm, FRESH_PD);
	flags[3] = *(__u64 *)addr_gpa2hva(vm, FRESH_PT);
	for (i = 0; i < 4; i++)
		flags[i] &= A | D;
}

TEST_F_TIMEOUT(paging, accessed_upper_levels, TIMEOUT_S)
{
	__u64 *pml4e = addr_gpa2hva(self->vm, PML4E_GPA(FRESH_VA));
	__u64 flags[4];
	struct ucall uc;
	int i;

	*pml4e = FRESH_PDPT | P | RW;
	*(__u64 *)(self->data + (FRESH_PDPT - PT_GPA)) = FRESH_PD | P | RW;
	*(__u64 *)(self->data + (FRESH_PD - PT_GPA)) = FRESH_PT | P | RW;
	*(__u64 *)(self->data + (FRESH_PT - PT_GPA)) =
		PAGE_GPA(FRESH_PAGE) | P | RW;
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_upper_accessed);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	fresh_flags(self->vm, flags);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(A, flags[i]) TH_LOG("level %d after a read", 4 - i);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	fresh_flags(self->vm, flags);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(A, flags[i]) TH_LOG("level %d after a write", 4 - i);
	EXPECT_EQ(A | D, flags[3]);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
}

/*
 * PS is reserved in a PML4E (SDM Vol. 3A, Table 4-15; 4.5.4): any access
 * through it faults with RSVD | P, and W/R for a write (4.7).  Shadow
 * paging's walker must say so: the CPU never sees the guest's PML4E.
 */
#define PS_PML4E_VA	0x10000000000ULL	/* PML4E 2 */

static void guest_pml4e_ps(void)
{
	GUEST_ASSERT_PF(guest_read(PS_PML4E_VA + 8), EC_RSVD | EC_P,
			PS_PML4E_VA + 8);
	GUEST_ASSERT_PF(guest_write(PS_PML4E_VA + 16, 1),
			EC_RSVD | EC_W | EC_P, PS_PML4E_VA + 16);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, pml4e_ps_reserved, TIMEOUT_S)
{
	__u64 *pml4e = addr_gpa2hva(self->vm, PML4E_GPA(PS_PML4E_VA));

	/* A PDPT that would map the page, were PS ignored. */
	*(__u64 *)(self->data + (FRESH_PDPT - PT_GPA)) = FRESH_PD | P | RW;
	*(__u64 *)(self->data + (FRESH_PD - PT_GPA)) = FRESH_PT | P | RW;
	*(__u64 *)(self->data + (FRESH_PT - PT_GPA)) = PAGE_GPA(0) | P | RW;
	*pml4e = FRESH_PDPT | PS | P | RW;
	run_guest(_metadata, self->vm, &self->vcpu, guest_pml4e_ps);
}

/*
 * Remapping a page is seen after INVLPG of it, or after a CR3 reload
 * (SDM 4.10.4.1); both invalidate what the TLB held for the old page.
 */
static void guest_remap(void)
{
	GUEST_ASSERT_EQ(guest_load(VA(5) + 8), 0x1005);
	pte_set(5, PAGE_GPA(6) | P | RW);
	guest_invlpg(VA(5));
	GUEST_ASSERT_EQ(guest_load(VA(5) + 8), 0x1006);
	pte_set(5, PAGE_GPA(7) | P | RW);
	guest_reload_cr3();
	GUEST_ASSERT_EQ(guest_load(VA(5) + 8), 0x1007);
	/* Tightening: read-only after INVLPG. */
	pte_set(5, PAGE_GPA(7) | P);
	guest_invlpg(VA(5));
	GUEST_ASSERT_PF(guest_write(VA(5), 1), EC_P | EC_W, VA(5));
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, invlpg_and_cr3_reload_after_remap, TIMEOUT_S)
{
	run_guest(_metadata, self->vm, &self->vcpu, guest_remap);
}

/*
 * Two address spaces: SPACE_B is a copy of the guest's PML4, so both
 * share every table below it.  A MOV to CR3 drops every non-global
 * translation (SDM Vol. 3A, 4.10.4.1): whatever changed in the tables
 * while the guest ran in one space shows in the other after the switch,
 * without INVLPG.  Shadow paging keeps a root per space (mmu/
 * shadow_tree.c) and must check it before running on it again.
 */
#define SPACE_B_GPA	(PT_GPA + 0x80000)
#define PT2_GPA		(PT_GPA + 0x1000)	/* a second table for TEST_VA */
#define PDE_TEST_VA	(GUEST_SYS_PD_GPA + 8 * (TEST_VA >> 21))

static void guest_write_cr3(__u64 cr3)
{
	asm volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static void copy_table(__u64 dst, __u64 src)
{
	int i;

	for (i = 0; i < 512; i++)
		__atomic_store_n((__u64 *)dst + i,
				 __atomic_load_n((__u64 *)src + i,
						 __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
}

static void guest_cr3_switch_changes(void)
{
	__u64 a = guest_read_cr3(), pde;

	copy_table(SPACE_B_GPA, a);
	/* A PTE rewritten in B, used in A. */
	GUEST_ASSERT_EQ(guest_load(VA(1) + 8), 0x1001);
	guest_write_cr3(SPACE_B_GPA);
	GUEST_ASSERT_EQ(guest_load(VA(1) + 8), 0x1001);
	pte_set(1, PAGE_GPA(9) | P | RW);
	guest_write_cr3(a);
	GUEST_ASSERT_EQ(guest_load(VA(1) + 8), 0x1009);

	/* Dirty cleared in B: the next write in A sets it again (4.8). */
	guest_store(VA(5) + 16, 1);
	GUEST_ASSERT(pte_get(5) & D);
	guest_write_cr3(SPACE_B_GPA);
	pte_set(5, pte_get(5) & ~D);
	guest_write_cr3(a);
	guest_store(VA(5) + 16, 2);
	GUEST_ASSERT(pte_get(5) & D);

	/* Write permission taken in B: a write in A faults. */
	guest_store(VA(6) + 16, 3);
	guest_write_cr3(SPACE_B_GPA);
	pte_set(6, PAGE_GPA(6) | P);
	guest_write_cr3(a);
	GUEST_ASSERT_PF(guest_write(VA(6) + 16, 4), EC_P | EC_W, VA(6) + 16);

	/* The PDE of the window pointed at another table in B. */
	copy_table(PT2_GPA, PT_GPA);
	__atomic_store_n((__u64 *)PT2_GPA + 3, PAGE_GPA(11) | P | RW,
			 __ATOMIC_RELEASE);
	GUEST_ASSERT_EQ(guest_load(VA(3) + 8), 0x1003);
	guest_write_cr3(SPACE_B_GPA);
	pde = __atomic_load_n((__u64 *)PDE_TEST_VA, __ATOMIC_ACQUIRE);
	__atomic_store_n((__u64 *)PDE_TEST_VA, (pde & 0xfff) | PT2_GPA,
			 __ATOMIC_RELEASE);
	guest_write_cr3(a);
	GUEST_ASSERT_EQ(guest_load(VA(3) + 8), 0x100b);
	__atomic_store_n((__u64 *)PDE_TEST_VA, pde, __ATOMIC_RELEASE);
	guest_write_cr3(a);
	GUEST_ASSERT_EQ(guest_load(VA(3) + 8), 0x1003);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, cr3_switch_sees_changes, TIMEOUT_S)
{
	run_guest(_metadata, self->vm, &self->vcpu, guest_cr3_switch_changes);
}

/*
 * The memory under the guest's page table changes between two runs: the
 * slot that holds it moves away, and another slot with other contents
 * takes its guest-physical place (VMXLAB_SET_MEMORY_REGION).  After its
 * INVLPG the guest must see the new table's entry (SDM Vol. 3A,
 * 4.10.4.1), which maps VA(0) to page 1.  Shadow paging keeps the user
 * addresses of the guest pages its walks read lately (shadow_guest_hva()):
 * one kept across the slot change would read the old table, page 0.
 */
#define MOVED_GPA	(PT_GPA + 0x1000000)
#define REPLACED_PT_GPA	(PT_GPA + 0x7000)

static void guest_slot_replaced(void)
{
	GUEST_ASSERT_EQ(guest_load(VA(0) + 8), 0x1000);
	GUEST_SYNC(1);
	guest_invlpg(VA(0));
	GUEST_ASSERT_EQ(guest_load(VA(0) + 8), 0x1001);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, slot_replaced_under_tables, TIMEOUT_S)
{
	char *copy = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ucall uc;
	__u64 *pde;

	ASSERT_NE(MAP_FAILED, copy);
	/*
	 * The window's table in the page whose frame number ends in 7: no
	 * other table of the guest's walks shares its place in the cache,
	 * so nothing evicts a stale address before the walk needs it.
	 */
	memcpy(self->data + (REPLACED_PT_GPA - PT_GPA), self->data, 0x1000);
	pde = addr_gpa2hva(self->vm, PDE_TEST_VA);
	*pde = (*pde & 0xfff) | REPLACED_PT_GPA;
	memcpy(copy, self->data, DATA_SIZE);
	((__u64 *)(copy + (REPLACED_PT_GPA - PT_GPA)))[0] = PAGE_GPA(1) | P | RW;
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_slot_replaced);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	/* The old memory stays mapped, and unchanged, in its new place. */
	vm_move_region(self->vm, SLOT_PAGING, MOVED_GPA);
	vm_add_region_hva(self->vm, SLOT_PAGING + 1, PT_GPA, DATA_SIZE, copy, 0);
	EXPECT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
	vm_delete_region(self->vm, SLOT_PAGING + 1);
	munmap(copy, DATA_SIZE);
}

/*
 * After INVLPG, shadow paging fills the page's leaf at once when the
 * guest's entries have their accessed flags set (shadow_prefetch()): the
 * touch that follows costs no #PF exit.  With an accessed flag clear it
 * must not: the access would then go through without setting the flag,
 * which the CPU sets on the first access (SDM Vol. 3A, 4.8).
 */
static void guest_invlpg_prefetch(void)
{
	guest_load(VA(10) + 8);
	pte_set(10, PAGE_GPA(12) | P | RW | A | D);
	guest_invlpg(VA(10));
	GUEST_SYNC(0);
	GUEST_ASSERT_EQ(guest_load(VA(10) + 8), 0x100c);
	GUEST_SYNC(1);
	pte_set(10, PAGE_GPA(13) | P | RW);
	guest_invlpg(VA(10));
	GUEST_ASSERT_EQ(guest_load(VA(10) + 8), 0x100d);
	GUEST_ASSERT_EQ(pte_get(10) & (A | D), A);
	guest_store(VA(10) + 16, 1);
	GUEST_ASSERT_EQ(pte_get(10) & (A | D), A | D);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, invlpg_prefetch, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct ucall uc;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_invlpg_prefetch);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &after);
	/* EPT: no #PF exits at all; shadow: the leaf was there. */
	EXPECT_EQ(0ULL, after.pf_resolved - before.pf_resolved);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
}

/*
 * Global pages (SDM Vol. 3A, 4.10.2.4 and 4.10.4.1): with CR4.PGE a
 * translation with G = 1 may survive a CR3 load, but clearing or setting
 * CR4.PGE drops every translation, global ones included.  A remapped
 * global page must show after the toggle: shadow paging empties every
 * root when PGE changes.
 */
#define CR4_PGE		BIT_ULL(7)
#define G		BIT_ULL(8)

static void guest_global_pages(void)
{
	__u64 cr4 = guest_read_cr4();

	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4 | CR4_PGE), GUEST_NO_EXCEPTION);
	pte_set(7, PAGE_GPA(7) | P | RW | G);
	guest_invlpg(VA(7));
	GUEST_ASSERT_EQ(guest_load(VA(7) + 8), 0x1007);
	pte_set(7, PAGE_GPA(8) | P | RW | G);
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4 & ~CR4_PGE), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_load(VA(7) + 8), 0x1008);
	/* Setting PGE again flushes too. */
	pte_set(7, PAGE_GPA(9) | P | RW | G);
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4 | CR4_PGE), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_load(VA(7) + 8), 0x1009);
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4), GUEST_NO_EXCEPTION);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, global_pages_pge_toggle, TIMEOUT_S)
{
	run_guest(_metadata, self->vm, &self->vcpu, guest_global_pages);
}

/*
 * Switching back and forth between two spaces whose tables do not
 * change: after the first round each space's pages are in its cached
 * root, so a shadow VM resolves no #PF any more.
 */
#define SWITCH_ROUNDS	4
#define SWITCH_PAGES	8

static void guest_cr3_switch_rounds(void)
{
	__u64 a = guest_read_cr3();
	int round, i;

	copy_table(SPACE_B_GPA, a);
	for (round = 0; round < SWITCH_ROUNDS; round++) {
		for (i = 0; i < SWITCH_PAGES; i++)
			GUEST_ASSERT_EQ(guest_load(VA(20 + i) + 8), 0x1014 + i);
		guest_write_cr3(SPACE_B_GPA);
		for (i = 0; i < SWITCH_PAGES; i++)
			GUEST_ASSERT_EQ(guest_load(VA(20 + i) + 8), 0x1014 + i);
		guest_write_cr3(a);
		if (round == 0)
			GUEST_SYNC(0);
	}
	GUEST_SYNC(1);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, cr3_switch_two_spaces, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats first, before, after;
	struct ucall uc;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_cr3_switch_rounds);
	vcpu_stats_get(self->vcpu, &first);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &after);
	if (variant->type == VMXLAB_VM_SHADOW) {
		/* Round 1 filled both roots: the window's pages at least. */
		EXPECT_LE(2 * SWITCH_PAGES, before.pf_resolved - first.pf_resolved);
		EXPECT_EQ(0ULL, after.pf_resolved - before.pf_resolved);
	} else {
		EXPECT_EQ(0ULL, after.pf_resolved + after.pf_reflected);
	}
	EXPECT_EQ(0ULL, after.pf_reflected - before.pf_reflected);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
}

/*
 * SMEP (SDM Vol. 3A, 4.6.1): a supervisor fetch from a user page faults
 * with P | I/D, data accesses do not.  With CR0.WP = 0 a supervisor write
 * to a read-only user page succeeds, and a fetch from it must still
 * fault: shadow paging's writable supervisor-only leaf for that write
 * must not let the fetch through (spte.c).
 */
#define CPUID_7_EBX_SMEP	BIT(7)
#define CR4_SMEP		BIT_ULL(20)

static void guest_smep(void)
{
	__u64 cr0 = guest_read_cr0(), cr4 = guest_read_cr4();
	__u32 regs[4];

	guest_cpuid(7, 0, regs);
	if (!(regs[1] & CPUID_7_EBX_SMEP))
		GUEST_SYNC(0);		/* the host skips */
	pte_set(14, PAGE_GPA(14) | P | RW | US);
	guest_invlpg(VA(14));
	GUEST_ASSERT_OK(guest_fetch(VA(14)));
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4 | CR4_SMEP), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_PF(guest_fetch(VA(14)), EC_P | EC_ID, VA(14));
	GUEST_ASSERT_OK(guest_read(VA(14)));
	GUEST_ASSERT_OK(guest_write(VA(14) + 8, 3));

	pte_set(15, PAGE_GPA(15) | P | US);
	guest_invlpg(VA(15));
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0 & ~CR0_WP), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_OK(guest_write(VA(15) + 8, 4));
	GUEST_ASSERT_PF(guest_fetch(VA(15)), EC_P | EC_ID, VA(15));
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4), GUEST_NO_EXCEPTION);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, smep_user_page_fetch, TIMEOUT_S)
{
	struct ucall uc;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_smep);
	if (vcpu_run_to_ucall(self->vcpu, &uc) == UCALL_SYNC)
		SKIP(return, "the CPU has no SMEP");
	ASSERT_EQ(UCALL_DONE, uc.cmd);
}

/* --- CPL 3 ------------------------------------------------------------------ */

/* A test whose guest code drops to CPL 3: the identity map is user too. */
static void run_user_guest(struct __test_metadata *_metadata, struct vm *vm,
			   struct vcpu **vcpu, void *code)
{
	vm_identity_map_user(vm);
	run_guest(_metadata, vm, vcpu, code);
}

/*
 * User-mode accesses to a supervisor page (SDM Vol. 3A, 4.6.1) fault
 * with P | U/S, and W/R for a write; I/D only with NXE (4.7).  The page
 * is used at CPL 0 first, so that shadow paging has a leaf for it: that
 * leaf must not serve CPL 3.
 */
static void guest_user_supervisor(void)
{
	pte_set(48, PAGE_GPA(48) | P | RW);
	guest_invlpg(VA(48));
	GUEST_ASSERT_EQ(guest_load(VA(48) + 8), 0x1000 + 48);
	GUEST_ASSERT_OK(guest_fetch(VA(48)));
	GUEST_ASSERT_PF(guest_user(user_read, VA(48) + 8), EC_U | EC_P,
			VA(48) + 8);
	GUEST_ASSERT_PF(guest_user(user_write, VA(48) + 16), EC_U | EC_W | EC_P,
			VA(48) + 16);
	GUEST_ASSERT_PF(guest_user(user_fetch, VA(48)), EC_U | EC_P, VA(48));
	GUEST_ASSERT_EQ(guest_load(VA(48) + 16), 0);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, user_supervisor_pf, TIMEOUT_S)
{
	run_user_guest(_metadata, self->vm, &self->vcpu, guest_user_supervisor);
}

/*
 * A read-only user page: CPL 3 reads it and runs its code, a CPL 3
 * write faults with P | W/R | U/S.  With CR0.WP = 0 a supervisor write
 * goes through (4.6.1) and a user write still faults: shadow paging's
 * writable supervisor-only leaf for the first must not serve the second.
 */
static void guest_user_read_only(void)
{
	__u64 cr0 = guest_read_cr0();

	pte_set(49, PAGE_GPA(49) | P | US);
	guest_invlpg(VA(49));
	GUEST_ASSERT_OK(guest_user(user_read, VA(49) + 8));
	GUEST_ASSERT_OK(guest_user(user_fetch, VA(49)));
	GUEST_ASSERT_PF(guest_user(user_write, VA(49) + 8), EC_U | EC_W | EC_P,
			VA(49) + 8);
	GUEST_ASSERT_PF(guest_write(VA(49) + 8, 1), EC_W | EC_P, VA(49) + 8);
	GUEST_ASSERT_EQ(guest_load(VA(49) + 8), 0x1000 + 49);

	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0 & ~CR0_WP), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_OK(guest_write(VA(49) + 8, 0x4949));
	GUEST_ASSERT_PF(guest_user(user_write, VA(49) + 8), EC_U | EC_W | EC_P,
			VA(49) + 8);
	GUEST_ASSERT_OK(guest_user(user_read, VA(49) + 8));
	GUEST_ASSERT_EQ(guest_load(VA(49) + 8), 0x4949);
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0), GUEST_NO_EXCEPTION);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, user_read_only_pf, TIMEOUT_S)
{
	run_user_guest(_metadata, self->vm, &self->vcpu, guest_user_read_only);
}

/*
 * Execute-disable on a user page with EFER.NXE (4.6.2): CPL 3 reads and
 * writes it, a CPL 3 fetch faults with P | U/S | I/D.  A user page
 * without XD runs at CPL 3.
 */
static void guest_user_nx(void)
{
	guest_wrmsr(MSR_EFER, guest_rdmsr(MSR_EFER) | EFER_NXE);
	pte_set(50, PAGE_GPA(50) | XD | P | RW | US);
	pte_set(51, PAGE_GPA(51) | P | RW | US);
	guest_invlpg(VA(50));
	guest_invlpg(VA(51));
	GUEST_ASSERT_OK(guest_user(user_fetch, VA(51)));
	GUEST_ASSERT_OK(guest_user(user_read, VA(50) + 8));
	GUEST_ASSERT_OK(guest_user(user_write, VA(50) + 16));
	GUEST_ASSERT_PF(guest_user(user_fetch, VA(50)), EC_ID | EC_U | EC_P,
			VA(50));
	GUEST_ASSERT_EQ(guest_load(VA(50) + 16), 0x3333);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, user_nx_fetch_pf, TIMEOUT_S)
{
	run_user_guest(_metadata, self->vm, &self->vcpu, guest_user_nx);
}

/*
 * SMAP (SDM Vol. 3A, 4.6.1): with CR4.SMAP a supervisor data access to a
 * user page faults (P, and W/R for a write; no U/S: the access is a
 * supervisor one) unless RFLAGS.AC = 1 (STAC); CLAC closes the window
 * again, also for a page that was just accessed.  Supervisor pages and
 * fetches (no SMEP here) are not concerned.  A write SMAP stops writes
 * nothing, so it leaves the PTE's dirty flag clear (4.8).  Shadow
 * paging's leaves carry the guest's U/S and the CPU's CR4.SMAP, so the
 * CPU faults even where vmxlab's walker let an access through; but the
 * walker would have set the dirty flag of that write first.
 */
#define CPUID_7_EBX_SMAP	BIT(20)
#define CR4_SMAP		BIT_ULL(21)

static void guest_smap(void)
{
	__u64 cr4 = guest_read_cr4();
	__u32 regs[4];

	guest_cpuid(7, 0, regs);
	if (!(regs[1] & CPUID_7_EBX_SMAP))
		GUEST_SYNC(0);		/* the host skips */
	pte_set(52, PAGE_GPA(52) | P | RW | US);
	pte_set(53, PAGE_GPA(53) | P | RW);
	guest_invlpg(VA(52));
	guest_invlpg(VA(53));
	GUEST_ASSERT_OK(guest_read(VA(52) + 8));
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4 | CR4_SMAP), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_PF(guest_read(VA(52) + 8), EC_P, VA(52) + 8);
	GUEST_ASSERT_PF(guest_write(VA(52) + 8, 1), EC_W | EC_P, VA(52) + 8);
	/* That write wrote nothing: the PTE is not dirty (4.8). */
	GUEST_ASSERT_EQ(pte_get(52) & (A | D), A);
	GUEST_ASSERT_OK(guest_read(VA(53) + 8));
	GUEST_ASSERT_OK(guest_fetch(VA(52)));

	asm volatile("stac" : : : "memory");
	GUEST_ASSERT_OK(guest_read(VA(52) + 8));
	GUEST_ASSERT_OK(guest_write(VA(52) + 8, 0x5252));
	GUEST_ASSERT_EQ(pte_get(52) & (A | D), A | D);
	asm volatile("clac" : : : "memory");
	GUEST_ASSERT_PF(guest_read(VA(52) + 8), EC_P, VA(52) + 8);
	GUEST_ASSERT_PF(guest_write(VA(52) + 8, 2), EC_W | EC_P, VA(52) + 8);

	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_load(VA(52) + 8), 0x5252);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, smap_user_page_data, TIMEOUT_S)
{
	struct ucall uc;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_smap);
	if (vcpu_run_to_ucall(self->vcpu, &uc) == UCALL_SYNC)
		SKIP(return, "the CPU has no SMAP");
	ASSERT_EQ(UCALL_DONE, uc.cmd);
}

/* --- PAE paging, 32-bit ------------------------------------------------------ */

/*
 * The PDPTE registers (SDM Vol. 3A, 4.4.1): with PAE paging a MOV to CR0
 * that turns paging on, or a MOV to CR3, loads the four PDPTEs; if a
 * present one has a reserved bit set (2:1, 8:5, 63:MAXPHYADDR: Table
 * 4-8) the MOV raises #GP(0) and changes nothing.  A not-present PDPTE
 * may have any bits.  With paging off, MOV to CR3 loads no PDPTE.
 *
 * The blob is loaded at LOW_CODE_GPA: first its #GP handler, which
 * reports the error code on port 0x20 and goes on at ESI, then from
 * PDPTE_ENTRY on the code.  The page directory maps the first
 * 2 MiB one to one with a large page.
 */
#define PDPT_GOOD		0x10000
#define PDPT_BAD_RW		0x10020	/* PDPTE 0: R/W, reserved */
#define PDPT_BAD_PS		0x10040	/* PDPTE 0: bit 7, reserved */
#define PAE_PD			0x11000
#define PAE_MARK		0x9dbe0032U
#define PDPTE_ENTRY		(LOW_CODE_GPA + 16)

GUEST_CODE_BLOB(pdpte_code, 32,
		"	pop %eax\n"			/* the error code */
		"	out %eax, $0x20\n"
		"	mov $" VMXLAB_STR(LOW_STACK_TOP) ", %esp\n"
		"	jmp *%esi\n"
		"	.fill 16 - (. - pdpte_code), 1, 0xcc\n"
		"	mov %cr4, %eax\n"
		"	or $0x20, %eax\n"
		"	mov %eax, %cr4\n"		/* PAE, paging still off */
		"	mov $" VMXLAB_STR(PDPT_BAD_RW) ", %eax\n"
		"	mov %eax, %cr3\n"		/* no PDPTE load: no #GP */
		"	mov $(" VMXLAB_STR(LOW_CODE_GPA) " + 1f - pdpte_code), %esi\n"
		"	mov %cr0, %eax\n"
		"	or $0x80000000, %eax\n"
		"	mov %eax, %cr0\n"		/* #GP(0) */
		"	jmp 9f\n"
		"1:	mov %cr0, %eax\n"
		"	out %eax, $0x21\n"		/* PG still clear */
		"	mov $" VMXLAB_STR(PDPT_GOOD) ", %eax\n"
		"	mov %eax, %cr3\n"
		"	mov %cr0, %eax\n"
		"	or $0x80000000, %eax\n"
		"	mov %eax, %cr0\n"		/* PAE paging on */
		"	mov " VMXLAB_STR(LOW_DATA_GPA) ", %eax\n"
		"	out %eax, $0x22\n"
		"	mov $(" VMXLAB_STR(LOW_CODE_GPA) " + 2f - pdpte_code), %esi\n"
		"	mov $" VMXLAB_STR(PDPT_BAD_PS) ", %eax\n"
		"	mov %eax, %cr3\n"		/* #GP(0) */
		"	jmp 9f\n"
		"2:	mov %cr3, %eax\n"
		"	out %eax, $0x23\n"		/* CR3 unchanged */
		"	mov " VMXLAB_STR(LOW_DATA_GPA) ", %eax\n"
		"	out %eax, $0x24\n"		/* the old PDPTEs */
		"	hlt\n"
		"9:	mov $0xbad, %eax\n"
		"	out %eax, $0x2f\n"		/* no #GP */
		"	hlt\n");

TEST_F_TIMEOUT(paging, pae_pdpte_reserved_gp, TIMEOUT_S)
{
	char *low = vm_add_low_memory(self->vm);
	__u64 *pdpt = (__u64 *)(low + PDPT_GOOD);
	__u64 *pd = (__u64 *)(low + PAE_PD);
	struct vcpu *vcpu;

	pdpt[0] = PAE_PD | P;
	pdpt[3] = BIT_ULL(2) | BIT_ULL(1);	/* not present: no check */
	pdpt[(PDPT_BAD_RW - PDPT_GOOD) / 8] = PAE_PD | RW | P;
	pdpt[(PDPT_BAD_PS - PDPT_GOOD) / 8] = PAE_PD | PS | P;
	pd[0] = PS | RW | P;			/* 0-2 MiB, one to one */
	*(__u32 *)(low + LOW_DATA_GPA) = PAE_MARK;
	vm_load_blob(self->vm, LOW_CODE_GPA, pdpte_code, pdpte_code_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	self->vcpu = vcpu;
	vcpu_setup_protected32(vcpu, PDPTE_ENTRY);
	vcpu_set_idt_gate32(vcpu, 13, LOW_CODE_GPA);

	EXPECT_EQ(0U, vcpu_run_expect_out(vcpu, 0x20, 4));	/* #GP(0) */
	EXPECT_EQ(0x11U, vcpu_run_expect_out(vcpu, 0x21, 4));	/* PE, ET */
	EXPECT_EQ(PAE_MARK, vcpu_run_expect_out(vcpu, 0x22, 4));
	EXPECT_EQ(0U, vcpu_run_expect_out(vcpu, 0x20, 4));
	EXPECT_EQ(PDPT_GOOD, vcpu_run_expect_out(vcpu, 0x23, 4));
	EXPECT_EQ(PAE_MARK, vcpu_run_expect_out(vcpu, 0x24, 4));
	vcpu_run_expect_hlt(vcpu);
}

/*
 * The PDPTE registers are loaded only at the times SDM Vol. 3A, 4.4.1
 * lists: a MOV to CR0 that changes CR0.WP alone is not one of them.  The
 * guest edits PDPTE 1 in memory (PD_KEEP_A -> PD_KEEP_B), clears CR0.WP
 * and INVLPGs the address: the translation must still come from the old
 * register (MARK_KEEP_A); after a MOV to CR3 from the new one.  INVLPG
 * empties the TLB and the paging-structure caches for the address, never
 * the PDPTE registers (4.10.4.1).
 */
#define PDPT_KEEP		0x10000
#define PD_KEEP_A		0x12000
#define PT_KEEP_A		0x13000
#define PAGE_KEEP_A		0x14000
#define PD_KEEP_B		0x15000
#define PT_KEEP_B		0x16000
#define PAGE_KEEP_B		0x17000
#define KEEP_VA			0x40000000	/* PDPTE 1 */
#define MARK_KEEP_A		0x9dbe00a0U
#define MARK_KEEP_B		0x9dbe00b0U

/* CR4.PAE, CR3 = @pdpt, then CR0 |= @cr0_bits (PG at least). */
#define PAE32_PAGING_ON(pdpt, cr0_bits)					\
		"	mov %cr4, %eax\n"					\
		"	or $0x20, %eax\n"					\
		"	mov %eax, %cr4\n"					\
		"	mov $" VMXLAB_STR(pdpt) ", %eax\n"			\
		"	mov %eax, %cr3\n"					\
		"	mov %cr0, %eax\n"					\
		"	or $" cr0_bits ", %eax\n"				\
		"	mov %eax, %cr0\n"

GUEST_CODE_BLOB(pdpte_keep_code, 32,
		PAE32_PAGING_ON(PDPT_KEEP, "0x80010000")	/* PG, WP */
		"	mov " VMXLAB_STR(KEEP_VA) ", %eax\n"
		"	out %eax, $0x22\n"
		"	movl $(" VMXLAB_STR(PD_KEEP_B) " | 1), "
			VMXLAB_STR(PDPT_KEEP) " + 8\n"
		"	mov %cr0, %eax\n"
		"	and $0xfffeffff, %eax\n"
		"	mov %eax, %cr0\n"		/* WP alone: no load */
		"	invlpg " VMXLAB_STR(KEEP_VA) "\n"
		"	mov " VMXLAB_STR(KEEP_VA) ", %eax\n"
		"	out %eax, $0x23\n"		/* the old PDPTE */
		"	mov %cr3, %eax\n"
		"	mov %eax, %cr3\n"		/* loads them */
		"	mov " VMXLAB_STR(KEEP_VA) ", %eax\n"
		"	out %eax, $0x24\n"		/* the new PDPTE */
		"	hlt\n");

TEST_F_TIMEOUT(paging, pae_pdptes_kept_across_cr0_wp, TIMEOUT_S)
{
	char *low = vm_add_low_memory(self->vm);
	__u64 *pdpt = (__u64 *)(low + PDPT_KEEP);
	struct vcpu *vcpu;

	/*
	 * Under EPT the CPU keeps the registers itself, and Bochs loads them
	 * at every MOV to CR0 under PAE paging: nothing of vmxlab's to test.
	 */
	if (variant->type != VMXLAB_VM_SHADOW)
		SKIP(return, "under EPT the CPU loads the PDPTE registers");
	pdpt[0] = PAE_PD | P;
	pdpt[1] = PD_KEEP_A | P;
	*(__u64 *)(low + PAE_PD) = PS | RW | P;	/* 0-2 MiB, one to one */
	*(__u64 *)(low + PD_KEEP_A) = PT_KEEP_A | RW | P;
	*(__u64 *)(low + PT_KEEP_A) = PAGE_KEEP_A | RW | P;
	*(__u32 *)(low + PAGE_KEEP_A) = MARK_KEEP_A;
	*(__u64 *)(low + PD_KEEP_B) = PT_KEEP_B | RW | P;
	*(__u64 *)(low + PT_KEEP_B) = PAGE_KEEP_B | RW | P;
	*(__u32 *)(low + PAGE_KEEP_B) = MARK_KEEP_B;
	vm_load_blob(self->vm, LOW_CODE_GPA, pdpte_keep_code,
		     pdpte_keep_code_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	self->vcpu = vcpu;
	vcpu_setup_protected32(vcpu, LOW_CODE_GPA);

	EXPECT_EQ(MARK_KEEP_A, vcpu_run_expect_out(vcpu, 0x22, 4));
	EXPECT_EQ(MARK_KEEP_A, vcpu_run_expect_out(vcpu, 0x23, 4));
	EXPECT_EQ(MARK_KEEP_B, vcpu_run_expect_out(vcpu, 0x24, 4));
	vcpu_run_expect_hlt(vcpu);
}

/*
 * An MMIO store under PAE paging after the guest edited the PDPTE of its
 * code in memory without reloading CR3.  The CPU fetches through the
 * PDPTE registers (SDM Vol. 3A, 4.4.1), and so must vmxlab when it
 * fetches the instruction to decode it: through PDPTE 1 as loaded
 * (PD_MM_CODE_A, the low 2 MiB at KEEP_VA), not as now in memory
 * (PD_MM_CODE_B, whose page of the code is full of INT3).  PDPTE 3 maps
 * GUEST_MMIO_GPA one to one.
 */
#define PD_MM_CODE_A		0x12000
#define PD_MM_CODE_B		0x13000
#define PT_MM_CODE_B		0x14000
#define PD_MM_MMIO		0x15000
#define PAGE_MM_INT3		0x18000
#define MM_DATA			0x5a5a1234U

GUEST_CODE_BLOB(pdpte_mmio_code, 32,
		PAE32_PAGING_ON(PDPT_KEEP, "0x80000000")	/* PG */
		"	mov $(" VMXLAB_STR(KEEP_VA) " + " VMXLAB_STR(LOW_CODE_GPA)
			" + 1f - pdpte_mmio_code), %eax\n"
		"	jmp *%eax\n"			/* on through PDPTE 1 */
		"1:	movl $(" VMXLAB_STR(PD_MM_CODE_B) " | 1), "
			VMXLAB_STR(PDPT_KEEP) " + 8\n"
		"	mov $" VMXLAB_STR(MM_DATA) ", %eax\n"
		"	mov $" VMXLAB_STR(GUEST_MMIO_GPA) ", %ebx\n"
		"	mov %eax, (%ebx)\n"		/* MMIO, no reload */
		"	hlt\n");

TEST_F_TIMEOUT(paging, pae_mmio_fetch_uses_pdpte_registers, TIMEOUT_S)
{
	char *low = vm_add_low_memory(self->vm);
	__u64 *pdpt = (__u64 *)(low + PDPT_KEEP);
	struct vmxlab_run *run;
	struct vcpu *vcpu;
	__u32 v;

	pdpt[0] = PAE_PD | P;
	pdpt[1] = PD_MM_CODE_A | P;
	pdpt[3] = PD_MM_MMIO | P;
	*(__u64 *)(low + PAE_PD) = PS | RW | P;		/* 0-2 MiB, one to one */
	*(__u64 *)(low + PD_MM_CODE_A) = PS | RW | P;	/* KEEP_VA -> 0 */
	*(__u64 *)(low + PD_MM_CODE_B) = PT_MM_CODE_B | RW | P;
	((__u64 *)(low + PT_MM_CODE_B))[LOW_CODE_GPA >> 12] = PAGE_MM_INT3 | P;
	memset(low + PAGE_MM_INT3, 0xcc, 0x1000);
	*(__u64 *)(low + PD_MM_MMIO) = GUEST_MMIO_GPA | PS | RW | P;
	vm_load_blob(self->vm, LOW_CODE_GPA, pdpte_mmio_code,
		     pdpte_mmio_code_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	self->vcpu = vcpu;
	run = vcpu->run;
	vcpu_setup_protected32(vcpu, LOW_CODE_GPA);

	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
		TH_LOG("exit %u, suberror %u: fetched through the PDPTE in memory?",
		       run->exit_reason, run->internal.suberror);
	EXPECT_EQ(GUEST_MMIO_GPA, run->mmio.phys_addr);
	EXPECT_EQ(4U, run->mmio.len);
	EXPECT_TRUE(run->mmio.is_write);
	memcpy(&v, run->mmio.data, 4);
	EXPECT_EQ(MM_DATA, v);
	vcpu_run_expect_hlt(vcpu);
}

/* --- 32-bit paging ---------------------------------------------------------- */

/*
 * 32-bit paging (SDM Vol. 3A, 4.3): CR0.PG = 1, CR4.PAE = 0, 4-byte
 * entries.  The guests are 32-bit blobs in the low MiB (SLOT_LOW); the
 * #PF handler (gate 14, at LOW_CODE_GPA) reports the error code on port
 * 0x20 and CR2 on 0x21, then goes on at ESI, at CPL 0.  A value the
 * guest read comes on 0x22, a checkpoint (the host looks at memory) on
 * 0x23; 0x2f is an access that should have faulted and did not.
 *
 * PD32_A maps the low MiB one to one (user, writable) and, through
 * PT32_WIN, the window WIN32: its page i is DATA32(i) unless a test says
 * otherwise.  DATA32(i) holds MARK32(i) at offset 8.
 */
#define PD32_A		0x10000
#define PT32_LOW	0x11000
#define PT32_WIN	0x12000
#define PD32_B		0x13000		/* a second space: a copy of PD32_A */
#define DATA32(i)	(0x20000 + (i) * 0x1000)
#define MARK32(i)	(0x32320000U + (i))
#define WIN32		0x400000	/* PDE 1 */
#define USER_STACK32	0x7000
#define WIN32_VA(i)	(WIN32 + (i) * 0x1000)
#define PT32_ENTRY(i)	(PT32_WIN + 4 * (i))

/* Assembler operands: a window address, a PTE's address, a PTE value. */
#define WIN32_S(i, off)	VMXLAB_STR((WIN32_VA(i) + (off)))
#define PTE32_S(i)	VMXLAB_STR(PT32_ENTRY(i))
#define PAGE32_S(i)	"$" VMXLAB_STR((DATA32(i) | 3))

/* The address of @label in a blob loaded at LOW_CODE_GPA. */
#define B32_AT(blob, label)						\
	"(" VMXLAB_STR(LOW_CODE_GPA) " + " label " - " #blob ")"

#define B32_PF_HANDLER(blob)						\
	"	pop %eax\n"						\
	"	out %eax, $0x20\n"					\
	"	mov %cr2, %eax\n"					\
	"	out %eax, $0x21\n"					\
	"	mov $" VMXLAB_STR(LOW_SEL_DATA32) ", %ax\n"		\
	"	mov %ax, %ds\n"						\
	"	mov %ax, %es\n"						\
	"	mov $" VMXLAB_STR(LOW_STACK_TOP) ", %esp\n"		\
	"	jmp *%esi\n"						\
	"	.fill 48 - (. - " #blob "), 1, 0xcc\n"
#define B32_ENTRY	(LOW_CODE_GPA + 48)

/* Paging on, with CR0.WP: read-only pages stop CPL 0 writes too (4.6.1). */
#define B32_PAGING_ON							\
	"	mov $" VMXLAB_STR(PD32_A) ", %eax\n"			\
	"	mov %eax, %cr3\n"					\
	"	mov %cr0, %eax\n"					\
	"	or $0x80010000, %eax\n"					\
	"	mov %eax, %cr0\n"

/* @insn must fault: the #PF handler goes on after it. */
#define B32_FAULTS(blob, insn)						\
	"	mov $" B32_AT(blob, "1f") ", %esi\n"			\
	"	" insn "\n"						\
	"	mov $0xbad, %eax\n"					\
	"	out %eax, $0x2f\n"					\
	"1:\n"

#define B32_REPORT(addr)						\
	"	mov " addr ", %eax\n"					\
	"	out %eax, $0x22\n"
#define B32_CHECKPOINT(n)						\
	"	mov $" #n ", %eax\n"					\
	"	out %eax, $0x23\n"
#define B32_LOAD_CR3(pd)						\
	"	mov $" VMXLAB_STR(pd) ", %eax\n"			\
	"	mov %eax, %cr3\n"

/*
 * On to CPL 3 (IRET to the DPL 3 segments), on a stack of its own.  No
 * way back but an exception: its handler runs at CPL 0 and stays there.
 */
#define B32_TO_USER(blob)						\
	"	push $(" VMXLAB_STR(LOW_SEL_USER_DATA32) " + 3)\n"	\
	"	push $" VMXLAB_STR(USER_STACK32) "\n"			\
	"	pushf\n"						\
	"	push $(" VMXLAB_STR(LOW_SEL_USER_CODE32) " + 3)\n"	\
	"	push $" B32_AT(blob, "2f") "\n"				\
	"	iret\n"							\
	"2:	mov $(" VMXLAB_STR(LOW_SEL_USER_DATA32) " + 3), %ax\n"	\
	"	mov %ax, %ds\n"						\
	"	mov %ax, %es\n"

static void expect_pf32(struct __test_metadata *_metadata, struct vcpu *vcpu,
			__u32 error_code, __u32 cr2)
{
	EXPECT_EQ(error_code, vcpu_run_expect_out(vcpu, 0x20, 4));
	EXPECT_EQ(cr2, vcpu_run_expect_out(vcpu, 0x21, 4));
}

#define expect_read32(vcpu, v)	EXPECT_EQ(v, vcpu_run_expect_out(vcpu, 0x22, 4))
#define expect_checkpoint32(vcpu, n)					\
	EXPECT_EQ(n, vcpu_run_expect_out(vcpu, 0x23, 4))

/* A 32-bit vCPU in @vm about to run @blob with PD32_A's tables. */
static struct vcpu *setup_paging32(struct vm *vm, char *low, const char *blob,
				   const char *blob_end)
{
	struct vcpu *vcpu;
	int i;

	vm_identity_map32(vm, PD32_A, PT32_LOW);
	vm_map32_table(vm, PD32_A, WIN32, PT32_WIN,
		       PTE32_P | PTE32_RW | PTE32_US);
	for (i = 0; i < 8; i++) {
		vm_map32_page(vm, PD32_A, WIN32_VA(i), DATA32(i),
			      PTE32_P | PTE32_RW);
		*(__u32 *)(low + DATA32(i) + 8) = MARK32(i);
	}
	vm_load_blob(vm, LOW_CODE_GPA, blob, blob_end);
	vcpu = vm_vcpu_add_bare(vm, 0);
	vcpu_setup_protected32(vcpu, B32_ENTRY);
	vcpu_set_idt_gate32(vcpu, 14, LOW_CODE_GPA);
	return vcpu;
}

/*
 * 4 KiB pages: not present (P = 0, W/R as the access), read-only (P |
 * W/R), accessed and dirty flags in the PTE and the PDE (4.8), INVLPG
 * after a remap, a MOV to CR3 that must see a PTE changed in the other
 * space (4.10.4.1), and user accesses to a supervisor page (P | U/S, and
 * W/R for a write).  32-bit paging has no execute-disable and no
 * reserved bits in these entries.
 */
GUEST_CODE_BLOB(legacy32, 32,
		B32_PF_HANDLER(legacy32)
		B32_PAGING_ON
		B32_FAULTS(legacy32, "mov " WIN32_S(0, 8) ", %eax")
		B32_FAULTS(legacy32, "movl $1, " WIN32_S(0, 16))
		B32_REPORT(WIN32_S(1, 8))
		B32_FAULTS(legacy32, "movl $1, " WIN32_S(1, 8))
		/* Accessed, then dirty; cleared, INVLPG, dirty again. */
		B32_REPORT(WIN32_S(2, 8))
		B32_CHECKPOINT(1)
		"	movl $0x2222, " WIN32_S(2, 8) "\n"
		B32_CHECKPOINT(2)
		"	andl $~0x60, " PTE32_S(2) "\n"
		"	invlpg " WIN32_S(2, 0) "\n"
		"	movl $0x2223, " WIN32_S(2, 8) "\n"
		B32_CHECKPOINT(3)
		/* Remapped, INVLPG. */
		B32_REPORT(WIN32_S(3, 8))
		"	movl " PAGE32_S(5) ", " PTE32_S(3) "\n"
		"	invlpg " WIN32_S(3, 0) "\n"
		B32_REPORT(WIN32_S(3, 8))
		/* Remapped while in space B; back in A, no INVLPG. */
		B32_REPORT(WIN32_S(6, 8))
		B32_LOAD_CR3(PD32_B)
		"	movl " PAGE32_S(7) ", " PTE32_S(6) "\n"
		B32_LOAD_CR3(PD32_A)
		B32_REPORT(WIN32_S(6, 8))
		/* CPL 3: a user page reads, a supervisor page faults. */
		B32_TO_USER(legacy32)
		"	mov " WIN32_S(7, 8) ", %ebx\n"
		B32_FAULTS(legacy32, "mov " WIN32_S(4, 8) ", %eax")
		"	mov %ebx, %eax\n"
		"	out %eax, $0x22\n"
		B32_TO_USER(legacy32)
		B32_FAULTS(legacy32, "movl $1, " WIN32_S(4, 8))
		"	hlt\n");

TEST_F_TIMEOUT(paging, bits32_legacy_guest, TIMEOUT_S)
{
	char *low = vm_add_low_memory(self->vm);
	struct vcpu *vcpu;
	__u32 *pte2;

	vcpu = setup_paging32(self->vm, low, legacy32, legacy32_end);
	self->vcpu = vcpu;
	*vm_pte32(self->vm, PD32_A, WIN32_VA(0)) = 0;
	*vm_pte32(self->vm, PD32_A, WIN32_VA(1)) = DATA32(1) | PTE32_P;
	*vm_pte32(self->vm, PD32_A, WIN32_VA(7)) |= PTE32_US;
	memcpy(low + PD32_B, low + PD32_A, 4096);
	pte2 = vm_pte32(self->vm, PD32_A, WIN32_VA(2));

	expect_pf32(_metadata, vcpu, 0, WIN32_VA(0) + 8);
	expect_pf32(_metadata, vcpu, EC_W, WIN32_VA(0) + 16);
	expect_read32(vcpu, MARK32(1));
	expect_pf32(_metadata, vcpu, EC_P | EC_W, WIN32_VA(1) + 8);

	expect_read32(vcpu, MARK32(2));
	expect_checkpoint32(vcpu, 1U);
	EXPECT_EQ(PTE32_A, *pte2 & (PTE32_A | PTE32_D));
	EXPECT_EQ(PTE32_A, *vm_pde32(self->vm, PD32_A, WIN32) & PTE32_A);
	expect_checkpoint32(vcpu, 2U);
	EXPECT_EQ(PTE32_A | PTE32_D, *pte2 & (PTE32_A | PTE32_D));
	EXPECT_EQ(0x2222U, *(__u32 *)(low + DATA32(2) + 8));
	expect_checkpoint32(vcpu, 3U);
	EXPECT_EQ(PTE32_A | PTE32_D, *pte2 & (PTE32_A | PTE32_D));
	EXPECT_EQ(0x2223U, *(__u32 *)(low + DATA32(2) + 8));

	expect_read32(vcpu, MARK32(3));
	expect_read32(vcpu, MARK32(5));
	expect_read32(vcpu, MARK32(6));
	expect_read32(vcpu, MARK32(7));

	expect_pf32(_metadata, vcpu, EC_U | EC_P, WIN32_VA(4) + 8);
	expect_read32(vcpu, MARK32(7));
	expect_pf32(_metadata, vcpu, EC_U | EC_W | EC_P, WIN32_VA(4) + 8);
	vcpu_run_expect_hlt(vcpu);
}

/*
 * 4 MiB pages (4.3): a PDE with PS = 1 maps 4 MiB only with CR4.PSE = 1;
 * with CR4.PSE = 0 PS is ignored and the PDE points at a page table.  A
 * 4 MiB page is read and written at its first, a middle and its last
 * 4 KiB, sets A and then D in the PDE (4.8), faults with P | W/R when
 * read-only, and after a remap INVLPG of one 4 KiB part drops the whole
 * page (4.10.4.1).  Bit 21 of such a PDE is reserved whatever MAXPHYADDR
 * (Table 4-4 reserves 21:(M-19), M at most 40): RSVD | P.  With PSE-36
 * (CPUID.01H:EDX[17]), PDE bits 20:13 are address bits 39:32.
 */
#define SLOT_4M		(SLOT_TEST + 1)
#define SLOT_PSE36	(SLOT_TEST + 2)
#define FRAME4M(n)	(0x20000000 + (n) * 0x400000)	/* past the image */
#define MARK4M(n, off)	(0x40000000U + (n) * 0x10000000U + (off))
#define WRITE4M(off)	(0x0c000000U + (off))
#define LARGE32		0xc00000	/* PDE 3 */
#define RSVD32		0x1000000	/* PDE 4: bit 21 set */
#define PSE36_VA	0x1400000	/* PDE 5: at 4 GiB */
#define PSE36_GPA	0x100000000ULL
#define OFF_FIRST	0
#define OFF_MID		0x201008	/* in the second 2 MiB */
#define OFF_LAST	0x3ffffc
#define L4M_S(off)	VMXLAB_STR((LARGE32 + (off)))
#define PDE32_S(va)	VMXLAB_STR((PD32_A + 4 * ((va) >> 22)))
/* Store WRITE4M(off) at LARGE32 + off: 0x0c000000 - LARGE32 + address. */
#define B32_WRITE4M(off)						\
	"	lea " L4M_S(off) ", %edi\n"				\
	"	lea (0x0c000000 - " VMXLAB_STR(LARGE32) ")(%edi), %eax\n"	\
	"	mov %eax, (%edi)\n"

GUEST_CODE_BLOB(pse32, 32,
		B32_PF_HANDLER(pse32)
		B32_PAGING_ON
		B32_REPORT(WIN32_S(0, 8))		/* PS ignored */
		"	mov %cr4, %eax\n"
		"	or $0x10, %eax\n"
		"	mov %eax, %cr4\n"			/* PSE */
		B32_REPORT(L4M_S(OFF_FIRST))
		B32_REPORT(L4M_S(OFF_MID))
		B32_REPORT(L4M_S(OFF_LAST))
		B32_CHECKPOINT(1)
		B32_WRITE4M(OFF_FIRST)
		B32_WRITE4M(OFF_MID)
		B32_WRITE4M(OFF_LAST)
		B32_CHECKPOINT(2)
		"	andl $~2, " PDE32_S(LARGE32) "\n"
		"	invlpg " L4M_S(0) "\n"
		B32_FAULTS(pse32, "movl $1, " L4M_S(OFF_MID))
		B32_REPORT(L4M_S(OFF_MID))
		B32_REPORT(L4M_S(OFF_FIRST))
		"	movl $" VMXLAB_STR((FRAME4M(1) | 0x83)) ", "
			PDE32_S(LARGE32) "\n"
		"	invlpg " L4M_S(0x5000) "\n"
		B32_REPORT(L4M_S(OFF_MID))
		B32_REPORT(L4M_S(OFF_FIRST))
		B32_FAULTS(pse32, "mov " VMXLAB_STR((RSVD32 + 8)) ", %eax")
		B32_FAULTS(pse32, "movl $1, " VMXLAB_STR((RSVD32 + 8)))
		"	mov $1, %eax\n"
		"	cpuid\n"
		"	mov %edx, %eax\n"
		"	out %eax, $0x24\n"
		"	bt $17, %edx\n"
		"	jnc 3f\n"
		B32_REPORT(VMXLAB_STR((PSE36_VA + 8)))
		"3:	hlt\n");

TEST_F_TIMEOUT(paging, bits32_4m_pages, TIMEOUT_S)
{
	static const __u32 offs[] = { OFF_FIRST, OFF_MID, OFF_LAST };
	char *low = vm_add_low_memory(self->vm);
	char *big = vm_add_region(self->vm, SLOT_4M, FRAME4M(0), 0x800000, 0);
	char *high = vm_add_region(self->vm, SLOT_PSE36, PSE36_GPA, 0x1000, 0);
	__u32 *pde, flags = PTE32_P | PTE32_RW;
	bool pse36;
	struct vcpu *vcpu;
	int i;

	vcpu = setup_paging32(self->vm, low, pse32, pse32_end);
	self->vcpu = vcpu;
	/* PS with a page table's address: PT32_WIN while CR4.PSE = 0. */
	*vm_pde32(self->vm, PD32_A, WIN32) |= PTE32_PS;
	vm_map32_large(self->vm, PD32_A, LARGE32, FRAME4M(0), flags);
	vm_map32_large(self->vm, PD32_A, RSVD32, FRAME4M(0), BIT(21) | flags);
	vm_map32_large(self->vm, PD32_A, PSE36_VA, PSE36_GPA, flags);
	for (i = 0; i < 3; i++) {
		*(__u32 *)(big + offs[i]) = MARK4M(0, offs[i]);
		*(__u32 *)(big + 0x400000 + offs[i]) = MARK4M(1, offs[i]);
	}
	*(__u32 *)(high + 8) = 0x36363636;
	pde = vm_pde32(self->vm, PD32_A, LARGE32);

	expect_read32(vcpu, MARK32(0));
	for (i = 0; i < 3; i++)
		expect_read32(vcpu, MARK4M(0, offs[i]));
	expect_checkpoint32(vcpu, 1U);
	EXPECT_EQ(PTE32_A, *pde & (PTE32_A | PTE32_D));
	expect_checkpoint32(vcpu, 2U);
	EXPECT_EQ(PTE32_A | PTE32_D, *pde & (PTE32_A | PTE32_D));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(WRITE4M(offs[i]), *(__u32 *)(big + offs[i]));

	expect_pf32(_metadata, vcpu, EC_P | EC_W, LARGE32 + OFF_MID);
	expect_read32(vcpu, WRITE4M(OFF_MID));
	expect_read32(vcpu, WRITE4M(OFF_FIRST));
	expect_read32(vcpu, MARK4M(1, OFF_MID));
	expect_read32(vcpu, MARK4M(1, OFF_FIRST));

	expect_pf32(_metadata, vcpu, EC_RSVD | EC_P, RSVD32 + 8);
	expect_pf32(_metadata, vcpu, EC_RSVD | EC_W | EC_P, RSVD32 + 8);
	pse36 = vcpu_run_expect_out(vcpu, 0x24, 4) & BIT(17);
	if (pse36)
		expect_read32(vcpu, 0x36363636U);
	if (!pse36)
		TH_LOG("no PSE-36: 4 MiB pages above 4 GiB not tried");
	vcpu_run_expect_hlt(vcpu);
}

/*
 * The PDPTE registers again (SDM Vol. 3A, 4.4.1): PAE paging translates
 * through the four PDPTEs loaded at the last MOV to CR3 (or CR0), not
 * through the PDPT in memory.  The guest points PDPTE 1 at another page
 * directory and makes PDPTE 2 present, in memory: until it loads CR3
 * again, VA 1 still reads page X (also after INVLPG, which drops the
 * TLB's translation but not the registers, 4.10.4.1, and after an exit
 * to the host in between), and VA 2 faults as not present (P = 0).
 * After MOV to CR3 both come from the new PDPTEs: VA 1 reads page Y, VA
 * 2 page X.  Under EPT this is the CPU's (Bochs keeps PDPTE registers
 * too), and the VMCS's guest PDPTE fields carry them across the exit.
 */
#define STALE_PDPT	0x10000
#define STALE_PD0	0x11000		/* 0-2 MiB one to one */
#define STALE_PD_X	0x12000
#define STALE_PT_X	0x13000
#define STALE_PD_Y	0x14000
#define STALE_PT_Y	0x15000
#define STALE_X		0x20000		/* pages X and Y */
#define STALE_Y		0x21000
#define STALE_VA1	0x40000000	/* PDPTE 1 */
#define STALE_VA2	0x80000000	/* PDPTE 2 */
#define MARK_X		0x5eed0001U
#define MARK_Y		0x5eed0002U
#define STALE_S(x)	VMXLAB_STR((x))

GUEST_CODE_BLOB(pae_stale, 32,
		B32_PF_HANDLER(pae_stale)
		"	mov %cr4, %eax\n"
		"	or $0x20, %eax\n"
		"	mov %eax, %cr4\n"			/* PAE */
		B32_LOAD_CR3(STALE_PDPT)
		"	mov %cr0, %eax\n"
		"	or $0x80000000, %eax\n"
		"	mov %eax, %cr0\n"			/* paging on */
		B32_REPORT(STALE_S(STALE_VA1 + 8))
		"	movl $" STALE_S(STALE_PD_Y | 1) ", " STALE_S(STALE_PDPT + 8) "\n"
		"	movl $" STALE_S(STALE_PD_X | 1) ", " STALE_S(STALE_PDPT + 16) "\n"
		"	invlpg " STALE_S(STALE_VA1) "\n"
		B32_CHECKPOINT(1)
		B32_REPORT(STALE_S(STALE_VA1 + 8))
		B32_FAULTS(pae_stale, "mov " STALE_S(STALE_VA2 + 8) ", %eax")
		"	mov %cr3, %eax\n"
		"	mov %eax, %cr3\n"			/* new PDPTEs */
		B32_REPORT(STALE_S(STALE_VA1 + 8))
		B32_REPORT(STALE_S(STALE_VA2 + 8))
		"	hlt\n");

TEST_F_TIMEOUT(paging, pae_pdpte_stale_until_reload, TIMEOUT_S)
{
	char *low = vm_add_low_memory(self->vm);
	__u64 *pdpt = (__u64 *)(low + STALE_PDPT);
	struct vcpu *vcpu;

	pdpt[0] = STALE_PD0 | P;
	pdpt[1] = STALE_PD_X | P;
	pdpt[2] = 0;
	*(__u64 *)(low + STALE_PD0) = PS | RW | P;
	*(__u64 *)(low + STALE_PD_X) = STALE_PT_X | RW | P;
	*(__u64 *)(low + STALE_PT_X) = STALE_X | RW | P;
	*(__u64 *)(low + STALE_PD_Y) = STALE_PT_Y | RW | P;
	*(__u64 *)(low + STALE_PT_Y) = STALE_Y | RW | P;
	*(__u32 *)(low + STALE_X + 8) = MARK_X;
	*(__u32 *)(low + STALE_Y + 8) = MARK_Y;
	vm_load_blob(self->vm, LOW_CODE_GPA, pae_stale, pae_stale_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	self->vcpu = vcpu;
	vcpu_setup_protected32(vcpu, B32_ENTRY);
	vcpu_set_idt_gate32(vcpu, 14, LOW_CODE_GPA);

	expect_read32(vcpu, MARK_X);
	expect_checkpoint32(vcpu, 1U);
	EXPECT_EQ(STALE_PD_Y | P, pdpt[1]);
	expect_read32(vcpu, MARK_X);
	expect_pf32(_metadata, vcpu, 0, STALE_VA2 + 8);
	expect_read32(vcpu, MARK_Y);
	expect_read32(vcpu, MARK_X);
	vcpu_run_expect_hlt(vcpu);
}

/*
 * A guest 2 MiB page is shadowed by 4 KiB leaves; INVLPG of any address
 * in it drops the translations of the whole page (SDM Vol. 3A,
 * 4.10.4.1), also those of other 4 KiB parts.
 */
#define BIG_VA		(TEST_VA + 0x200000)
#define SLOT_BIG	(SLOT_TEST + 1)
#define BIG_GPA(n)	(GUEST_DATA_GPA + 0x400000 + (n) * 0x200000ULL)
#define BIG_MARK(n, off) (0xb16000000ULL + (n) * 0x100000 + (off))

static void guest_large_page_invlpg(void)
{
	__u64 *pde = (__u64 *)(GUEST_SYS_PD_GPA + (BIG_VA >> 21) * 8);

	__atomic_store_n(pde, BIG_GPA(0) | PS | P | RW, __ATOMIC_RELEASE);
	guest_invlpg(BIG_VA);
	GUEST_ASSERT_EQ(guest_load(BIG_VA + 0x1000), BIG_MARK(0, 0x1000));
	GUEST_ASSERT_EQ(guest_load(BIG_VA + 0x3000), BIG_MARK(0, 0x3000));
	__atomic_store_n(pde, BIG_GPA(1) | PS | P | RW, __ATOMIC_RELEASE);
	guest_invlpg(BIG_VA + 0x5000);
	GUEST_ASSERT_EQ(guest_load(BIG_VA + 0x1000), BIG_MARK(1, 0x1000));
	GUEST_ASSERT_EQ(guest_load(BIG_VA + 0x3000), BIG_MARK(1, 0x3000));
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, invlpg_large_page, TIMEOUT_S)
{
	char *big = vm_add_region(self->vm, SLOT_BIG, BIG_GPA(0), 0x400000, 0);
	int n;

	for (n = 0; n < 2; n++) {
		*(__u64 *)(big + n * 0x200000 + 0x1000) = BIG_MARK(n, 0x1000);
		*(__u64 *)(big + n * 0x200000 + 0x3000) = BIG_MARK(n, 0x3000);
	}
	run_guest(_metadata, self->vm, &self->vcpu, guest_large_page_invlpg);
}

/*
 * Large pages (SDM Vol. 3A, 4.5): a 2 MiB page through a PDE with PS = 1
 * and, if the guest's CPUID offers 1 GiB pages (CPUID.80000001H:EDX[26],
 * Table 4-17), a 1 GiB page through a PDPTE with PS = 1.  Accesses at the
 * first, a middle and the last 4 KiB of each reach the right bytes of the
 * frame, the accessed flag is set in the leaf by a read and the dirty
 * flag only by a write (4.8), and a write to a read-only large page is a
 * protection #PF with W/R (P | W, 4.7) and CR2 the address.  Shadow paging
 * copies each into 4 KiB leaves (paging.rst); INVLPG of one 4 KiB part
 * must drop the others too (4.10.4.1), which the remap checks.
 */
#define HUGE_VA		0x100000000ULL		/* PDPTE 4 of the first PDPT */
#define HUGE_GPA	0x40000000ULL		/* 1 GiB-aligned */
#define SLOT_HUGE(k)	(SLOT_BIG + 1 + (k))	/* one 4 KiB slot per offset */
#define PDPTE_HUGE_VA	(GUEST_SYS_GPA + 0x1000 + 8 * (HUGE_VA >> 30))
#define PDE_BIG_VA	(GUEST_SYS_PD_GPA + 8 * (BIG_VA >> 21))
#define LARGE_MARK(n, off) (0x1a0000000000ULL | (__u64)(n) << 32 | (off))

static const __u64 big_offs[] = { 0, 0x0ff000 + 0x808, 0x200000 - 8 };
static const __u64 huge_offs[] = { 0, 0x20000000 + 0x10, 0x40000000 - 8 };

static void large_page_reads(__u64 va, const __u64 *offs, int n)
{
	int i;

	for (i = 0; i < 3; i++)
		GUEST_ASSERT_EQ(guest_load(va + offs[i]), LARGE_MARK(n, offs[i]));
}

static void large_page_writes(__u64 va, const __u64 *offs)
{
	int i;

	for (i = 0; i < 3; i++)
		guest_store(va + offs[i], ~offs[i]);
}

/* Make the leaf at @entry read-only: a write is P | W/R at @va. */
static void large_page_write_protect(__u64 *entry, __u64 va)
{
	__atomic_store_n(entry, __atomic_load_n(entry, __ATOMIC_ACQUIRE) & ~RW,
			 __ATOMIC_RELEASE);
	guest_invlpg(va);
	GUEST_ASSERT_PF(guest_write(va + 8, 1), EC_P | EC_W, va + 8);
	GUEST_ASSERT_EQ(guest_load(va + 8), 0);
}

static void guest_large_pages(void)
{
	__u64 *pde = (__u64 *)PDE_BIG_VA, *pdpte = (__u64 *)PDPTE_HUGE_VA;
	__u32 regs[4];
	bool has_1g;

	guest_cpuid(0x80000001, 0, regs);
	has_1g = regs[3] & BIT(26);
	GUEST_SYNC(0);
	large_page_reads(BIG_VA, big_offs, 0);
	GUEST_SYNC(1);
	large_page_writes(BIG_VA, big_offs);
	GUEST_SYNC(2);
	large_page_write_protect(pde, BIG_VA);
	/* Another frame; INVLPG of one 4 KiB part drops the whole page. */
	__atomic_store_n(pde, BIG_GPA(1) | PS | P | RW, __ATOMIC_RELEASE);
	guest_invlpg(BIG_VA + 0x5000);
	large_page_reads(BIG_VA, big_offs, 1);
	if (!has_1g)
		GUEST_DONE();
	large_page_reads(HUGE_VA, huge_offs, 2);
	GUEST_SYNC(3);
	large_page_writes(HUGE_VA, huge_offs);
	GUEST_SYNC(4);
	large_page_write_protect(pdpte, HUGE_VA);
	GUEST_DONE();
}

/* The flags of the large-page leaf at @gpa, as the guest's memory has it. */
static __u64 leaf_ad(struct vm *vm, __u64 gpa)
{
	return *(__u64 *)addr_gpa2hva(vm, gpa) & (A | D);
}

TEST_F_TIMEOUT(paging, large_pages_2m_1g, TIMEOUT_S)
{
	char *big = vm_add_region(self->vm, SLOT_BIG, BIG_GPA(0), 0x400000, 0);
	char *huge[3];
	struct ucall uc;
	int i;

	for (i = 0; i < 3; i++) {
		*(__u64 *)(big + big_offs[i]) = LARGE_MARK(0, big_offs[i]);
		*(__u64 *)(big + 0x200000 + big_offs[i]) =
			LARGE_MARK(1, big_offs[i]);
		huge[i] = vm_add_region(self->vm, SLOT_HUGE(i),
					HUGE_GPA + (huge_offs[i] & ~0xfffULL),
					0x1000, 0);
		huge[i] += huge_offs[i] & 0xfff;
		*(__u64 *)huge[i] = LARGE_MARK(2, huge_offs[i]);
	}
	/* Neither accessed nor dirty yet. */
	*(__u64 *)addr_gpa2hva(self->vm, PDE_BIG_VA) = BIG_GPA(0) | PS | P | RW;
	*(__u64 *)addr_gpa2hva(self->vm, PDPTE_HUGE_VA) = HUGE_GPA | PS | P | RW;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_large_pages);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	EXPECT_EQ(A, leaf_ad(self->vm, PDE_BIG_VA));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	EXPECT_EQ(A | D, leaf_ad(self->vm, PDE_BIG_VA));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(~big_offs[i], *(__u64 *)(big + big_offs[i]));
	if (vcpu_run_to_ucall(self->vcpu, &uc) == UCALL_DONE)
		SKIP(return, "no 1 GiB pages in the guest's CPUID: 2 MiB only");
	EXPECT_EQ(A, leaf_ad(self->vm, PDPTE_HUGE_VA));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	EXPECT_EQ(A | D, leaf_ad(self->vm, PDPTE_HUGE_VA));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(~huge_offs[i], *(__u64 *)huge[i]);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
}

/*
 * Guest page-table writes are not trapped (paging.rst, "The shadow
 * roots"): N writes to a PTE of a mapped table cost no exit, and only the
 * last value counts once the guest invalidates, by INVLPG or by loading
 * CR3 (SDM Vol. 3A, 4.10.4.1).  Under EPT the table is ordinary guest
 * memory (its page is in the EPT tree after the first write) and guest
 * #PFs never exit: no #PF is counted at all.  Under shadow paging the
 * first write to the table's page may fault once (its leaf starts
 * read-only until the dirty flag is set, 4.8); the N writes after it must
 * not, whatever they write.
 */
#define PT_WRITES	64
#define PTW_PAGE	16

static void guest_pt_writes(void)
{
	int i;

	GUEST_ASSERT_EQ(guest_load(VA(PTW_PAGE) + 8), 0x1000 + PTW_PAGE);
	pte_set(PTW_PAGE, PAGE_GPA(PTW_PAGE) | P | RW);
	GUEST_SYNC(0);
	for (i = 0; i < PT_WRITES; i++)
		pte_set(PTW_PAGE, PAGE_GPA(i) | P | RW);
	GUEST_SYNC(1);
	guest_invlpg(VA(PTW_PAGE));
	GUEST_ASSERT_EQ(guest_load(VA(PTW_PAGE) + 8), 0x1000 + PT_WRITES - 1);
	GUEST_SYNC(2);
	for (i = 0; i < PT_WRITES; i++)
		pte_set(PTW_PAGE, PAGE_GPA(PT_WRITES - 1 - i) | P | RW);
	GUEST_SYNC(3);
	guest_reload_cr3();
	GUEST_ASSERT_EQ(guest_load(VA(PTW_PAGE) + 8), 0x1000);
	GUEST_DONE();
}

static __u64 all_exits(const struct vmxlab_vcpu_stats *s)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		n += s->exits[i];
	return n;
}

/* From GUEST_SYNC(@stage) to the next: the N writes, then the ucall. */
static void expect_writes_untrapped(struct __test_metadata *_metadata,
				    struct vcpu *vcpu)
{
	struct vmxlab_vcpu_stats before, after;
	struct ucall uc;

	vcpu_stats_get(vcpu, &before);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	vcpu_stats_get(vcpu, &after);
	EXPECT_EQ(0ULL, after.pf_resolved - before.pf_resolved);
	EXPECT_EQ(0ULL, after.pf_reflected - before.pf_reflected);
	EXPECT_EQ(0ULL, after.pf_mmio - before.pf_mmio);
	EXPECT_EQ(0ULL, after.exits[VMX_EXIT_EXCEPTION_NMI] -
			before.exits[VMX_EXIT_EXCEPTION_NMI]);
	EXPECT_EQ(0ULL, after.exits[VMX_EXIT_EPT_VIOLATION] -
			before.exits[VMX_EXIT_EPT_VIOLATION]);
	/* The ucall's OUT, and maybe a host interrupt: far from N. */
	EXPECT_GT(PT_WRITES / 4, all_exits(&after) - all_exits(&before));
}

TEST_F_TIMEOUT(paging, pt_writes_untrapped, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats end;
	struct ucall uc;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_pt_writes);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	expect_writes_untrapped(_metadata, self->vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	expect_writes_untrapped(_metadata, self->vcpu);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &end);
	if (variant->type == VMXLAB_VM_EPT)
		EXPECT_EQ(0ULL, end.pf_resolved + end.pf_reflected + end.pf_mmio);
}

/* A page mapped onto unbacked guest-physical memory: MMIO as ever. */
static void guest_mmio_mapping(void)
{
	pte_set(8, (GUEST_MMIO_GPA + 0x3000) | P | RW);
	guest_invlpg(VA(8));
	__atomic_store_n((__u32 *)(VA(8) + 0x10), 0xabcd, __ATOMIC_RELEASE);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, mmio_through_mapping, TIMEOUT_S)
{
	struct vmxlab_run *run;
	struct ucall uc;
	__u32 v;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_mmio_mapping);
	run = self->vcpu->run;
	vcpu_run(self->vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason);
	EXPECT_EQ(GUEST_MMIO_GPA + 0x3010, run->mmio.phys_addr);
	EXPECT_EQ(4U, run->mmio.len);
	EXPECT_TRUE(run->mmio.is_write);
	memcpy(&v, run->mmio.data, 4);
	EXPECT_EQ(0xabcdU, v);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
}

/*
 * #PF while delivering #PF is a double fault (SDM Vol. 3A, Table 6-5):
 * an IDT whose gate 14 lies in a not-present page, gate 8 in a present
 * one.  The #DF handler reports and ends the test.
 */
static void guest_df_handler(struct ex_regs *regs)
{
	GUEST_SYNC(8, regs->vector, regs->error_code, guest_read_cr2());
	for (;;)
		guest_hlt();
}

static void guest_pf_in_delivery(void)
{
	__u16 idtr[5];
	__u64 base, idt = VA(10) + 0x1000 - 14 * 16;

	asm volatile("sidt %0" : "=m"(idtr));
	base = idtr[1] | (__u64)idtr[2] << 16 | (__u64)idtr[3] << 32 |
	       (__u64)idtr[4] << 48;
	memcpy((void *)idt, (void *)base, 14 * 16);
	pte_set(11, 0);
	guest_invlpg(VA(11));
	guest_lidt(idt, 256 * 16 - 1);
	guest_load(VA(20) + 0x800);	/* PTE(20) is cleared below */
	GUEST_FAIL("no double fault");
}

TEST_F_TIMEOUT(paging, pf_during_delivery_double_fault, TIMEOUT_S)
{
	struct ucall uc;

	*host_pte(self, 20) = 0;
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_pf_in_delivery);
	vm_install_exception_handler(self->vm, 8, guest_df_handler);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	EXPECT_EQ(8ULL, uc.args[0]);
	EXPECT_EQ(8ULL, uc.args[1]);
	EXPECT_EQ(0ULL, uc.args[2]);		/* #DF's error code is 0 */
	/* CR2: the #PF that found gate 14 missing, the last one taken. */
	EXPECT_EQ(VA(11), uc.args[3] & ~0xfffULL);
}

/* With the #DF gate missing too, the CPU shuts down (triple fault). */
static void guest_triple_fault(void)
{
	guest_lidt(VA(12), 256 * 16 - 1);
	guest_load(VA(13));
	GUEST_FAIL("no triple fault");
}

TEST_F_TIMEOUT(paging, triple_fault_shutdown, TIMEOUT_S)
{
	*host_pte(self, 12) = 0;
	*host_pte(self, 13) = 0;
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_triple_fault);
	vcpu_run(self->vcpu);
	EXPECT_EQ(VMXLAB_EXIT_SHUTDOWN, self->vcpu->run->exit_reason);
}

/*
 * The counters of shadow paging: NR_FRESH first touches are each one #PF
 * vmxlab resolves, NR_MISSING not-present pages each one the guest gets.
 * The exception path is warmed up first.  An EPT VM intercepts no #PF.
 */
#define NR_FRESH	16
#define NR_MISSING	4

static void guest_counted(void)
{
	int i;

	GUEST_ASSERT_PF(guest_read(VA(40)), 0, VA(40));
	GUEST_SYNC(0);
	for (i = 0; i < NR_FRESH; i++)
		guest_load(VA(i + 20) + 8);
	for (i = 0; i < NR_MISSING; i++)
		GUEST_ASSERT_PF(guest_read(VA(i + 40)), 0, VA(i + 40));
	GUEST_SYNC(1);
	GUEST_DONE();
}

TEST_F_TIMEOUT(paging, counters_known_program, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct ucall uc;
	int i;

	for (i = 0; i < NR_MISSING; i++)
		*host_pte(self, 40 + i) = 0;
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_counted);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &after);
	if (variant->type == VMXLAB_VM_SHADOW) {
		EXPECT_EQ(NR_FRESH, after.pf_resolved - before.pf_resolved);
		EXPECT_EQ(NR_MISSING, after.pf_reflected - before.pf_reflected);
	} else {
		EXPECT_EQ(0ULL, after.pf_resolved + after.pf_reflected);
	}
	EXPECT_EQ(0ULL, after.pf_mmio - before.pf_mmio);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
}

/*
 * The selftests load vmxlab with shadow_audit=1 (vmxlab_util.h), so that
 * every shadow leaf is checked against the guest's tables before each
 * entry (mmu/shadow_audit.c); a disagreement warns, and the VM run fails
 * on the warning.  Without the audit the shadow runs would check less
 * than they say.
 */
TEST_F_TIMEOUT(paging, audit_is_on, TIMEOUT_S)
{
	char buf[8] = "";
	ssize_t n;

	if (variant->type != VMXLAB_VM_SHADOW)
		SKIP(return, "the audit is of shadow paging");
	n = read_file("/sys/module/vmxlab/parameters/shadow_audit", buf,
		      sizeof(buf));
	ASSERT_LT(0, n);
	EXPECT_EQ('Y', buf[0]) TH_LOG("vmxlab loaded without shadow_audit=1");
}

/*
 * Real mode: EPT VMs run it (unrestricted guest); shadow paging cannot,
 * and says so with suberror 5 and the guest's CR0 (api.rst).
 */
TEST_F_TIMEOUT(paging, real_mode, TIMEOUT_S)
{
	struct vmxlab_run *run;

	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	run = self->vcpu->run;
	vcpu_run(self->vcpu);
	if (variant->type == VMXLAB_VM_SHADOW) {
		ASSERT_EQ(VMXLAB_EXIT_INTERNAL_ERROR, run->exit_reason);
		EXPECT_EQ(VMXLAB_INTERNAL_SHADOW_REAL_MODE,
			  run->internal.suberror);
		EXPECT_EQ(1U, run->internal.ndata);
		/* The reset value: CD, NW, ET (SDM Vol. 3A, Table 10-1). */
		EXPECT_EQ(0x60000010ULL, run->internal.data[0]);
	} else {
		/* The reset vector's fetch finds no memory there. */
		ASSERT_EQ(VMXLAB_EXIT_INTERNAL_ERROR, run->exit_reason);
		EXPECT_EQ(VMXLAB_INTERNAL_UNBACKED_ACCESS,
			  run->internal.suberror);
	}
}

/*
 * VMXLAB_TEST_ONLY=NAME,NAME...: run only the tests of those names, in
 * both variants (run_in_vm.sh's --only "guest_paging_test:NAME,..."; the
 * harness of Linux 6.1 has no -t).  A lane that needs a few tests on a
 * CPU model of its own stays short (scripts/check.sh, vm-skylake).
 */
static bool test_selected(const char *only, const char *name)
{
	size_t len = strlen(name);
	const char *p;

	for (p = only; (p = strstr(p, name)); p += len)
		if ((p == only || p[-1] == ',') && (!p[len] || p[len] == ','))
			return true;
	return false;
}

static void select_tests(const char *only)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t, *next, *kept;

	if (!only || !*only)
		return;
	for (f = __fixture_list; f; f = f->next) {
		kept = NULL;
		for (t = f->tests; t; t = next) {
			next = t->next;
			if (!test_selected(only, t->name))
				continue;
			/* The harness's list: NULL-ended, head->prev the tail. */
			t->next = NULL;
			if (!kept) {
				kept = t;
			} else {
				kept->prev->next = t;
				t->prev = kept->prev;
			}
			kept->prev = t;
		}
		f->tests = kept;
	}
}

int main(int argc, char **argv)
{
	select_tests(getenv("VMXLAB_TEST_ONLY"));
	return test_harness_run(argc, argv);
}
