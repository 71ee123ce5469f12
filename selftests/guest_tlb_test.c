// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's own TLB flushes must be enough, wherever its vCPU runs.  A
 * guest's INVLPG flushes only the CPU it executes on (SDM Vol. 3A,
 * 4.10.4.1); with VPIDs, translations the guest cached on another CPU
 * survive VM exits and host work there (SDM 29.4.1).  So when the vCPU
 * comes back to a CPU it ran on before, that CPU must not use what it
 * cached then: the guest flushed its change on the other CPU.
 *
 * Bochs flushes its whole TLB at every VM entry and exit and ignores VPID
 * tags, so a missing INVVPID cannot fail these tests there; what can is
 * what vmxlab keeps itself: in shadow-paging VMs the vCPU's roots, which
 * act as its TLB wherever it runs (Documentation/paging.rst).
 */
#include <sched.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

/* Page-table entry bits (SDM Vol. 3A, 4.5). */
#define PTE_PRESENT		BIT_ULL(0)
#define PTE_WRITE		BIT_ULL(1)
#define PTE_ADDR_MASK		0x000ffffffffff000ULL

/*
 * In the test's slot: a page table and two data pages.  REMAP_VA is the
 * one 4 KiB page of its own 2 MiB region that the page table maps, to
 * page A or page B.
 */
#define PT_GPA			GUEST_DATA_GPA
#define PAGE_A_GPA		(GUEST_DATA_GPA + 0x1000)
#define PAGE_B_GPA		(GUEST_DATA_GPA + 0x2000)
#define SLOT_SIZE		0x3000
#define PML4_2_GPA		(GUEST_DATA_GPA + 0x3000)	/* 2nd space */
#define SLOT_SIZE_2		0x4000
#define REMAP_VA		(GUEST_DATA_GPA + 0x200000)

#define VALUE_A			0xaaaaaaaa0000000aULL
#define VALUE_B			0xbbbbbbbb0000000bULL
#define ROUNDS			8

static const __u64 page_gpa[2] = { PAGE_A_GPA, PAGE_B_GPA };

/* Point the page directory entry of REMAP_VA at the 4 KiB table PT_GPA. */
static void guest_install_table(void)
{
	__u64 va = REMAP_VA;
	__u64 *pml4 = (__u64 *)(guest_read_cr3() & PTE_ADDR_MASK);
	__u64 *pdpt = (__u64 *)(pml4[va >> 39 & 511] & PTE_ADDR_MASK);
	__u64 *pd = (__u64 *)(pdpt[va >> 30 & 511] & PTE_ADDR_MASK);

	pd[va >> 21 & 511] = PT_GPA | PTE_PRESENT | PTE_WRITE;
	asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

/* One load the compiler can neither drop nor merge with another. */
static __u64 guest_read(__u64 va)
{
	__u64 v;

	asm volatile("mov (%1), %0" : "=r"(v) : "r"(va) : "memory");
	return v;
}

/*
 * Each round: read through REMAP_VA (which caches the translation on
 * this CPU), remap it to the other page, INVLPG, read again.  The host
 * moves the vCPU to the other CPU between rounds.
 */
static void guest_remap_rounds(void)
{
	__u64 *pte = (__u64 *)PT_GPA;
	int page = 0, round;

	pte[0] = page_gpa[page] | PTE_PRESENT | PTE_WRITE;
	guest_install_table();
	for (round = 0; round < ROUNDS; round++) {
		GUEST_SYNC(guest_read(REMAP_VA));
		page ^= 1;
		pte[0] = page_gpa[page] | PTE_PRESENT | PTE_WRITE;
		asm volatile("invlpg (%0)" : : "r"(REMAP_VA) : "memory");
		GUEST_SYNC(guest_read(REMAP_VA));
	}
	GUEST_DONE();
}

FIXTURE(tlb) {
	struct vm *vm;
};

FIXTURE_SETUP(tlb)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(tlb)
{
	if (self->vm)
		vm_free(self->vm);
}

static int set_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Rounds alternate between CPU 0 and CPU 1: from round 2 on, the first
 * read of a round is on a CPU that cached the mapping two rounds ago,
 * which the guest has changed (and flushed on the other CPU) since.
 */
TEST_F_TIMEOUT(tlb, remap_seen_after_hopping_cpus, TIMEOUT_S)
{
	const __u64 value[2] = { VALUE_A, VALUE_B };
	struct vcpu *vcpu;
	struct ucall uc;
	char *mem;
	int page = 0, round, stale = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 online CPUs (VM with --cpus 2)");
	self->vm = vm_create();
	mem = vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA, SLOT_SIZE, 0);
	memcpy(mem + (PAGE_A_GPA - GUEST_DATA_GPA), &value[0], 8);
	memcpy(mem + (PAGE_B_GPA - GUEST_DATA_GPA), &value[1], 8);
	vcpu = vm_vcpu_add(self->vm, 0, guest_remap_rounds);

	for (round = 0; round < ROUNDS; round++) {
		ASSERT_EQ(0, set_cpu(round % 2));
		ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
		ASSERT_EQ(round % 2, sched_getcpu());
		if (uc.args[0] != value[page]) {
			TH_LOG("round %d, CPU %d: read %#llx, the page mapped now holds %#llx",
			       round, round % 2, (unsigned long long)uc.args[0],
			       (unsigned long long)value[page]);
			stale++;
		}
		page ^= 1;
		ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
		EXPECT_EQ(value[page], uc.args[0]) TH_LOG("INVLPG on this CPU");
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(0, stale) TH_LOG("stale translations after moving to another CPU");
}

/*
 * A second address space: a copy of the current PML4 at PML4_2_GPA, so
 * that both share every table below it, REMAP_VA's page table too.
 */
static __u64 guest_second_space(void)
{
	__u64 *cur = (__u64 *)(guest_read_cr3() & PTE_ADDR_MASK);
	__u64 *pml4 = (__u64 *)PML4_2_GPA;
	int i;

	for (i = 0; i < 512; i++)
		pml4[i] = cur[i];
	return PML4_2_GPA;
}

static void guest_write_cr3(__u64 cr3)
{
	asm volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/*
 * Each round, on one CPU: read REMAP_VA in the first address space and
 * in the second (each has its translation now), remap it there and
 * INVLPG, read.  Then on the other CPU: read in the second space, MOV
 * CR3 back to the first, whose translation predates the remap, read.
 */
static void guest_hop_rounds(void)
{
	__u64 *pte = (__u64 *)PT_GPA;
	__u64 first, second;
	int page = 0, round;

	pte[0] = page_gpa[page] | PTE_PRESENT | PTE_WRITE;
	guest_install_table();
	first = guest_read_cr3();
	second = guest_second_space();
	for (round = 0; round < ROUNDS; round++) {
		GUEST_SYNC(guest_read(REMAP_VA));
		guest_write_cr3(second);
		GUEST_SYNC(guest_read(REMAP_VA));
		page ^= 1;
		pte[0] = page_gpa[page] | PTE_PRESENT | PTE_WRITE;
		asm volatile("invlpg (%0)" : : "r"(REMAP_VA) : "memory");
		GUEST_SYNC(guest_read(REMAP_VA));
		/* The host moves the vCPU here. */
		GUEST_SYNC(guest_read(REMAP_VA));
		guest_write_cr3(first);
		GUEST_SYNC(guest_read(REMAP_VA));
	}
	GUEST_DONE();
}

/*
 * Remap + INVLPG on CPU A, accesses on CPU B, and a MOV to CR3 on B back
 * to an address space whose translation the guest made on A before the
 * remap: architecturally the MOV to CR3 dropped it (SDM Vol. 3A,
 * 4.10.4.1), so every read after the remap must give the new page.  A
 * shadow-paging vCPU keeps that space's root cached: this is the switch
 * to a cached root whose entries changed, after a move between CPUs.
 */
TEST_F_TIMEOUT(tlb, migrate_flushes, TIMEOUT_S)
{
	const __u64 value[2] = { VALUE_A, VALUE_B };
	static const char *const step[] = {
		"first space", "second space", "after INVLPG",
		"second space, other CPU", "first space again, other CPU",
	};
	struct vcpu *vcpu;
	struct ucall uc;
	char *mem;
	int page = 0, round, i, wrong = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 online CPUs (VM with --cpus 2)");
	self->vm = vm_create();
	mem = vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA, SLOT_SIZE_2, 0);
	memcpy(mem + (PAGE_A_GPA - GUEST_DATA_GPA), &value[0], 8);
	memcpy(mem + (PAGE_B_GPA - GUEST_DATA_GPA), &value[1], 8);
	vcpu = vm_vcpu_add(self->vm, 0, guest_hop_rounds);

	for (round = 0; round < ROUNDS; round++) {
		ASSERT_EQ(0, set_cpu(round % 2));
		for (i = 0; i < 5; i++) {
			if (i == 2)
				page ^= 1;	/* the guest remapped */
			if (i == 3)
				ASSERT_EQ(0, set_cpu((round + 1) % 2));
			ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
			if (uc.args[0] == value[page])
				continue;
			TH_LOG("round %d, %s (CPU %d): read %#llx, the page mapped holds %#llx",
			       round, step[i], sched_getcpu(),
			       (unsigned long long)uc.args[0],
			       (unsigned long long)value[page]);
			wrong++;
		}
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(0, wrong);
}

TEST_HARNESS_MAIN
