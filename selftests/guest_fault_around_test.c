// SPDX-License-Identifier: GPL-2.0
/*
 * EPT fault-around (mmu/ept.c, ept_map_page()): a guest touching memory
 * in order has several pages mapped per EPT violation, never beyond its
 * slot, with the slot's permissions, and every pin is given back.  The
 * expected counts come from the rule in Documentation/performance.rst
 * ("EPT fault-around"), not from the code.
 */
#include <sys/mman.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define PARAM		"/sys/module/vmxlab/parameters/ept_fault_around"
#define STATS_DIR	"/sys/kernel/debug/vmxlab"
#define WINDOW		16
#define PAGES		256
#define SLOT_GPA	GUEST_DATA_GPA		/* 2 MiB aligned: index 0 */
#define SLOT_B		(SLOT_TEST + 1)
/* Slot A ends inside a window (20 = 16 + 4); B follows, read-only. */
#define A_PAGES		20
#define B_PAGES		12
#define B_GPA		(SLOT_GPA + A_PAGES * GUEST_PAGE_SIZE)
#define RO_PAGES	32
#define RO_WRITE_PAGE	20			/* mapped by a window, if any */

/* The VM's pinned_pages in debugfs (vmx/stats.c), or -1. */
static long long vm_pinned_pages(const struct vm *vm)
{
	unsigned long long v;
	long long found = -1;
	char path[128], k[64];
	FILE *f;

	snprintf(path, sizeof(path), STATS_DIR "/%d-%d/stats", getpid(), vm->fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %llu", k, &v) == 2)
		if (!strcmp(k, "pinned_pages"))
			found = v;
	fclose(f);
	return found;
}

static void set_window(unsigned int pages)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", pages);
	vmxlab_require_module();
	TEST_ASSERT(!write_file(PARAM, buf), "%s: %s", PARAM, strerror(errno));
}

static __u64 ept_violations(struct vcpu *vcpu)
{
	struct vmxlab_vcpu_stats s;

	vcpu_stats_get(vcpu, &s);
	return s.exits[VMX_EXIT_EPT_VIOLATION];
}

/* Guest: sync, one store to each of @n pages from @base upwards, sync. */
static void guest_write_in_order(__u64 base, __u64 n)
{
	__u64 i;

	GUEST_SYNC(0);
	for (i = 0; i < n; i++)
		*(__u64 *)(base + i * GUEST_PAGE_SIZE) = i;
	GUEST_DONE();
}

/* Violations of @n in-order stores into a fresh slot, window @window. */
static __u64 violations_in_order(unsigned int window, __u64 n)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	__u64 before, i, *mem;

	set_window(window);
	vm = vm_create();
	mem = vm_add_region(vm, SLOT_TEST, SLOT_GPA, n * GUEST_PAGE_SIZE, 0);
	vcpu = vm_vcpu_add(vm, 0, guest_write_in_order);
	vcpu_args_set(vcpu, 2, SLOT_GPA, n);
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_SYNC, "no sync");
	before = ept_violations(vcpu);
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE, "not done");
	before = ept_violations(vcpu) - before;
	/* Each page is the host's page at its offset in the slot. */
	for (i = 0; i < n; i++)
		TEST_ASSERT(mem[i * GUEST_PAGE_SIZE / 8] == i,
			    "page %llu: the guest's store is not in its host page", i);
	vm_free(vm);
	set_window(WINDOW);
	return before;
}

/*
 * Pages 0 and 1 of a page table have no two mapped pages below them: one
 * violation each.  Page 2 maps the rest of its window, and every later
 * window is mapped by a violation on its first page: 2 + PAGES / WINDOW.
 * Off, it is one violation per page.
 */
TEST(in_order_fewer_violations)
{
	__u64 on, off;

	if (shadow_rerun())
		SKIP(return, "shadow paging: #PF exits, no EPT violations");
	on = violations_in_order(WINDOW, PAGES);
	EXPECT_EQ(2 + PAGES / WINDOW, on) TH_LOG("%d pages in order, window %d",
						 PAGES, WINDOW);
	off = violations_in_order(0, PAGES);
	EXPECT_EQ(PAGES, off) TH_LOG("ept_fault_around=0");
	off = violations_in_order(1, PAGES);
	EXPECT_EQ(PAGES, off) TH_LOG("ept_fault_around=1");
}

/* Guest: in-order stores to @n pages of A, sync, a store to B's first. */
static void guest_write_a_then_b(__u64 n)
{
	__u64 i;

	for (i = 0; i < n; i++)
		*(__u64 *)(SLOT_GPA + i * GUEST_PAGE_SIZE) = i;
	GUEST_SYNC(0);
	*(__u32 *)B_GPA = 0xb0b0;
	GUEST_DONE();
}

/*
 * Slots A (writable) and B (read-only) lie side by side in one host
 * mapping, and A ends inside a window.  The window must stop at A's
 * end: a write to B then exits as MMIO, as it would without
 * fault-around, and B's memory is unchanged.
 */
TEST(window_stops_at_slot_end)
{
	struct vmxlab_run *run;
	struct vcpu *vcpu;
	struct ucall uc;
	char buf[256];
	struct vm *vm;
	__u8 *mem;

	set_window(WINDOW);
	mem = mmap(NULL, (A_PAGES + B_PAGES) * GUEST_PAGE_SIZE,
		   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	vm = vm_create();
	vm_add_region_hva(vm, SLOT_TEST, SLOT_GPA, A_PAGES * GUEST_PAGE_SIZE,
			  mem, 0);
	vm_add_region_hva(vm, SLOT_B, B_GPA, B_PAGES * GUEST_PAGE_SIZE,
			  mem + A_PAGES * GUEST_PAGE_SIZE, VMXLAB_MEM_READONLY);
	vcpu = vm_vcpu_add(vm, 0, guest_write_a_then_b);
	vcpu_args_set(vcpu, 1, (__u64)A_PAGES);
	run = vcpu->run;

	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
		TH_LOG("write to the read-only slot: %s",
		       vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(B_GPA, run->mmio.phys_addr);
	EXPECT_TRUE(run->mmio.is_write);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(0, *(__u32 *)(mem + A_PAGES * GUEST_PAGE_SIZE))
		TH_LOG("the guest wrote into the read-only slot's memory");
	vm_free(vm);
	munmap(mem, (A_PAGES + B_PAGES) * GUEST_PAGE_SIZE);
}

/* Guest: read @n pages of @base in order, sync, write one of them. */
static void guest_read_then_write(__u64 base, __u64 n, __u64 victim)
{
	__u64 i, sum = 0;

	for (i = 0; i < n; i++)
		sum += *(__u64 *)(base + i * GUEST_PAGE_SIZE);
	GUEST_SYNC(sum);
	*(__u32 *)(base + victim * GUEST_PAGE_SIZE) = 0xdead;
	GUEST_DONE();
}

/*
 * A read-only slot read in order: its neighbours are mapped too (fewer
 * violations than pages), and read-only, so a write to one of them
 * still exits as MMIO.
 */
TEST(readonly_neighbours_stay_readonly)
{
	struct vmxlab_run *run;
	struct vcpu *vcpu;
	__u64 before, taken;
	struct ucall uc;
	char buf[256];
	struct vm *vm;
	__u64 *mem;

	set_window(WINDOW);
	vm = vm_create();
	mem = vm_add_region(vm, SLOT_TEST, SLOT_GPA, RO_PAGES * GUEST_PAGE_SIZE,
			    VMXLAB_MEM_READONLY);
	mem[RO_WRITE_PAGE * GUEST_PAGE_SIZE / 8] = 7;
	vcpu = vm_vcpu_add(vm, 0, guest_read_then_write);
	vcpu_args_set(vcpu, 3, SLOT_GPA, (__u64)RO_PAGES, (__u64)RO_WRITE_PAGE);
	run = vcpu->run;

	before = ept_violations(vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(7, uc.args[0]) TH_LOG("the slot's contents, read by the guest");
	taken = ept_violations(vcpu) - before;
	if (!vm_is_shadow(vm))
		EXPECT_GT(RO_PAGES, taken) TH_LOG("no neighbours were mapped");
	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
		TH_LOG("write to a read-only neighbour: %s",
		       vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(SLOT_GPA + RO_WRITE_PAGE * GUEST_PAGE_SIZE, run->mmio.phys_addr);
	EXPECT_TRUE(run->mmio.is_write);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(7, mem[RO_WRITE_PAGE * GUEST_PAGE_SIZE / 8]);
	vm_free(vm);
}

/*
 * Every page pinned around a fault is counted in pinned_pages, which
 * must equal the pins the host holds for the VM, and all of them are
 * given back with the VM.  Both paging modes: shadow VMs pin through
 * the same code (the EPT tables are their register of pins).
 */
TEST(pins_counted_and_returned)
{
	long long pins_before, pins, counted;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	set_window(WINDOW);
	pins_before = vm_pins_held();
	vm = vm_create();
	vm_add_region(vm, SLOT_TEST, SLOT_GPA, PAGES * GUEST_PAGE_SIZE, 0);
	vcpu = vm_vcpu_add(vm, 0, guest_write_in_order);
	/* 3 pages short of the slot's end: the last window is cut there. */
	vcpu_args_set(vcpu, 2, SLOT_GPA, (__u64)PAGES - 3);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	pins = vm_pins_held() - pins_before;
	counted = vm_pinned_pages(vm);
	EXPECT_EQ(pins, counted) TH_LOG("pinned_pages %lld, pins held %lld",
					counted, pins);
	EXPECT_LE(PAGES - 3, pins) TH_LOG("the touched pages are not pinned");
	vm_free(vm);
	EXPECT_EQ(0, vm_pins_held() - pins_before) TH_LOG("pins left after the VM");
}

TEST_HARNESS_MAIN
