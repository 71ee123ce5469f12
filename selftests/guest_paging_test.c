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
#include <string.h>

#include "vmxlab_lib.h"
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
#define XD		BIT_ULL(63)
#define EC_P		0x1
#define EC_W		0x2
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

/* One guest access: the exception it raised (or -1), its code and CR2. */
struct access {
	int vector;
	__u64 error_code;
	__u64 cr2;
};

static struct access guest_read(__u64 va)
{
	struct access a;
	__u64 v;

	asm volatile(GUEST_ASM_SAFE("mov (%[va]), %[v]")
		     : GUEST_ASM_SAFE_OUTPUTS(a.vector, a.error_code), [v] "=&r"(v)
		     : [va] "r"(va) : GUEST_ASM_SAFE_CLOBBERS);
	a.cr2 = guest_read_cr2();
	return a;
}

static struct access guest_write(__u64 va, __u64 v)
{
	struct access a;

	asm volatile(GUEST_ASM_SAFE("mov %[v], (%[va])")
		     : GUEST_ASM_SAFE_OUTPUTS(a.vector, a.error_code)
		     : [va] "r"(va), [v] "r"(v) : GUEST_ASM_SAFE_CLOBBERS);
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
static struct access guest_fetch(__u64 va)
{
	struct access a;

	__atomic_store_n(&fetch_vector, GUEST_NO_EXCEPTION, __ATOMIC_RELEASE);
	asm volatile("call *%0" : : "r"(va) : "memory");
	a.vector = __atomic_load_n(&fetch_vector, __ATOMIC_ACQUIRE);
	a.error_code = __atomic_load_n(&fetch_error_code, __ATOMIC_ACQUIRE);
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

/*
 * A guest 2 MiB page is shadowed by 4 KiB leaves; INVLPG of any address
 * in it drops the translations of the whole page (SDM Vol. 3A,
 * 4.10.4.1), also those of other 4 KiB parts.
 */
#define BIG_VA		(TEST_VA + 0x200000)
#define SLOT_BIG	(SLOT_TEST + 1)
#define BIG_GPA(n)	(GUEST_DATA_GPA + 0x400000 + (n) * 0x200000ULL)
#define BIG_MARK(n, off) (0xb16000000ULL + (n) * 0x100000 + (off))
#define PS		BIT_ULL(7)

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

TEST_HARNESS_MAIN
