// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots as a hostile caller uses them: huge slots of which the
 * guest touches a few pages.  Deleting one must cost what the guest
 * mapped, not what the slot spans -- the slot size is the caller's
 * choice, so a cost in the size would let one caller of /dev/vmxlab hold
 * a host CPU for as long as it likes.
 */
#include <cpuid.h>
#include <sys/mman.h>
#include <time.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define GIB			BIT_ULL(30)
#define HUGE_SLOT_GPA		(64 * GIB)
#define TOUCHED_PAGES		16

/* Page-table entry bits (SDM Vol. 3A, 4.5): present, writable, 1 GiB. */
#define PTE_P			BIT_ULL(0)
#define PTE_W			BIT_ULL(1)
#define PTE_PS			BIT_ULL(7)
#define PTE_ADDR		0x000ffffffffff000ULL

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Guest: one store to each of @n pages, @stride bytes apart, from @base. */
static void guest_touch(__u64 base, __u64 stride, __u64 n)
{
	__u64 i;

	for (i = 0; i < n; i++)
		*(__u64 *)(base + i * stride) = i;
	GUEST_DONE();
}

/*
 * Map guest-virtual [@gpa, @gpa + @size) to the same guest-physical
 * addresses with 1 GiB pages, in the PDPT the guest's CR3 leads to (the
 * range stays below 512 GiB: one PML4 entry).
 */
static void map_gib_pages(struct vm *vm, struct vcpu *vcpu, __u64 gpa, __u64 size)
{
	struct vmxlab_sregs sregs;
	__u64 *pml4, *pdpt, a;

	vcpu_sregs_get(vcpu, &sregs);
	pml4 = addr_gpa2hva(vm, sregs.cr3 & PTE_ADDR);
	TEST_ASSERT(pml4 && (pml4[0] & PTE_P), "no PML4 entry 0");
	pdpt = addr_gpa2hva(vm, pml4[0] & PTE_ADDR);
	TEST_ASSERT(pdpt, "PDPT outside guest memory");
	TEST_ASSERT(gpa + size <= 512 * GIB, "beyond one PDPT");
	for (a = gpa; a < gpa + size; a += GIB)
		pdpt[a / GIB] = a | PTE_P | PTE_W | PTE_PS;
}

TEST(delete_huge_slot_costs_what_was_touched)
{
	unsigned int eax, ebx, ecx, edx, phys_bits;
	__u64 size, stride;
	long long pins_before, pins;
	struct vcpu *vcpu;
	struct vm *vm;
	double t0, took;
	void *mem;

	/* Guest-physical addresses stop at MAXPHYADDR (CPUID 0x80000008). */
	__cpuid(0x80000008, eax, ebx, ecx, edx);
	phys_bits = eax & 0xff;
	/* Up to 512 GiB: one PML4 entry maps it (map_gib_pages()). */
	size = (phys_bits >= 39 ? 512 * GIB : 1ULL << phys_bits) - HUGE_SLOT_GPA;
	stride = size / TOUCHED_PAGES;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem)
		TH_LOG("mmap of %llu GiB: %s", (unsigned long long)(size / GIB),
		       strerror(errno));

	pins_before = vm_pins_held();
	vm = vm_create();
	vm_add_region_hva(vm, SLOT_TEST, HUGE_SLOT_GPA, size, mem, 0);
	vcpu = vm_vcpu_add(vm, 0, guest_touch);
	map_gib_pages(vm, vcpu, HUGE_SLOT_GPA, size);
	vcpu_args_set(vcpu, 3, HUGE_SLOT_GPA, stride, (__u64)TOUCHED_PAGES);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &(struct ucall){ 0 }));
	pins = vm_pins_held() - pins_before;
	EXPECT_LE(TOUCHED_PAGES, pins) TH_LOG("the touched pages are not pinned");

	t0 = now_s();
	vm_delete_region(vm, SLOT_TEST);
	took = now_s() - t0;
	/*
	 * A functional bound, not a benchmark: walking every page of the
	 * slot took minutes; what was mapped takes milliseconds, even in
	 * an emulator.
	 */
	EXPECT_LT(took, 2.0) TH_LOG("deleting a %llu GiB slot with %d pages mapped took %.1f s",
				    (unsigned long long)(size / GIB), TOUCHED_PAGES, took);
	EXPECT_EQ(pins - TOUCHED_PAGES, vm_pins_held() - pins_before)
		TH_LOG("the slot's pages were not all unpinned");
	vm_free(vm);
	EXPECT_EQ(0, vm_pins_held() - pins_before) TH_LOG("pins left after the VM");
	munmap(mem, size);
}

/*
 * A 2-byte MOV to MMIO in the last bytes of a slot, with nothing backing
 * the page after it: the instruction is whole, so it must decode and exit
 * as MMIO, whatever lies beyond (the decoder reads 2 bytes, not 15).
 */
#define CODE_SLOT_GPA		GUEST_DATA_GPA
#define CODE_SLOT_SIZE		(2 * GUEST_PAGE_SIZE)

TEST(mmio_insn_at_end_of_slot)
{
	/* mov %edi, (%rdi); then, where it fits, hlt */
	static const __u8 code[] = { 0x89, 0x3f, 0xf4 };
	static const unsigned int from_end[] = { 2, 3, 8, 14, 15, 16 };
	unsigned int i;

	for (i = 0; i < VMXLAB_ARRAY_SIZE(from_end); i++) {
		unsigned int k = from_end[i], len = k < 3 ? 2 : 3;
		__u64 at = CODE_SLOT_GPA + CODE_SLOT_SIZE - k;
		struct vmxlab_regs regs;
		struct vmxlab_run *run;
		struct vcpu *vcpu;
		char buf[256], *mem;
		struct vm *vm;
		__u32 data;

		vm = vm_create();
		mem = vm_add_region(vm, SLOT_TEST, CODE_SLOT_GPA, CODE_SLOT_SIZE, 0);
		memcpy(mem + CODE_SLOT_SIZE - k, code, len);
		vcpu = vm_vcpu_add(vm, 0, (void *)at);
		vcpu_args_set(vcpu, 1, GUEST_MMIO_GPA);
		run = vcpu->run;

		vcpu_run(vcpu);
		ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
			TH_LOG("%u bytes before the end: %s", k,
			       vcpu_exit_str(vcpu, buf, sizeof(buf)));
		EXPECT_EQ(GUEST_MMIO_GPA, run->mmio.phys_addr);
		EXPECT_EQ(4, run->mmio.len);
		EXPECT_TRUE(run->mmio.is_write);
		memcpy(&data, run->mmio.data, sizeof(data));
		EXPECT_EQ((__u32)GUEST_MMIO_GPA, data);
		vcpu_regs_get(vcpu, &regs);
		EXPECT_EQ(at + 2, regs.rip) TH_LOG("%u bytes before the end", k);
		if (len == 3)
			vcpu_run_expect_hlt(vcpu);
		vm_free(vm);
	}
}

/*
 * Many slots, added in an order unrelated to their addresses, with a
 * page of nothing between neighbours: every access must reach its own
 * slot, and every gap must exit as MMIO -- before and after slots move
 * and go.  The expected slot of each page is the test's own bookkeeping.
 */
#define MANY_SLOTS		24	/* SLOT_TEST .. SLOT_TEST + 23 */
#define MANY_FIRST_GPA		GUEST_DATA_GPA
#define MANY_MOVED_GPA		(GUEST_DATA_GPA + 0x200000)
#define MANY_STRIDE		(2 * GUEST_PAGE_SIZE)
#define MANY_UNBACKED		0xdeadULL	/* a load from no slot reads this */

/* Guest: for each of @n pages @stride apart, report its first word. */
static void guest_read_pages(__u64 base, __u64 stride, __u64 n)
{
	__u64 i, v;

	/* One load and one store each, as written: no compiler in between. */
	for (i = 0; i < n; i++) {
		asm volatile("movq (%1), %0" : "=r"(v) : "r"(base + i * stride)
			     : "memory");
		asm volatile("movq %0, (%1)" : : "r"(v), "r"(GUEST_MMIO_GPA)
			     : "memory");
	}
	GUEST_DONE();
}

/* Page @k of a layout holds slot (k * 7) mod 24: no order in common. */
static __u32 many_slot_of(unsigned int k)
{
	return SLOT_TEST + (k * 7) % MANY_SLOTS;
}

static __u64 many_tag(__u32 slot)
{
	return 0x51070000ULL | slot;
}

/*
 * A new vCPU reads @n pages, @stride apart, from @base: @want[k] is what
 * page k must hold, MANY_UNBACKED where no slot backs it (the load exits
 * as MMIO).
 */
static void read_pages_expect(struct __test_metadata *_metadata,
			      struct vm *vm, __u32 id, __u64 base,
			      __u64 stride, const __u64 *want, unsigned int n)
{
	struct vcpu *vcpu = vm_vcpu_add(vm, id, guest_read_pages);
	struct vmxlab_run *run = vcpu->run;
	__u64 seen, unbacked = MANY_UNBACKED;
	unsigned int k;
	char buf[256];

	vcpu_args_set(vcpu, 3, base, stride, (__u64)n);
	for (k = 0; k < n; k++) {
		__u64 gpa = base + k * stride;

		vcpu_run(vcpu);
		ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
			TH_LOG("page %u: %s", k, vcpu_exit_str(vcpu, buf, sizeof(buf)));
		if (!run->mmio.is_write) {
			EXPECT_EQ(MANY_UNBACKED, want[k])
				TH_LOG("page %u (%#llx) is backed, yet exits as MMIO",
				       k, gpa);
			ASSERT_EQ(gpa, run->mmio.phys_addr);
			memcpy(run->mmio.data, &unbacked, sizeof(unbacked));
			vcpu_run(vcpu);
			ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason);
		}
		ASSERT_TRUE(run->mmio.is_write);
		ASSERT_EQ(GUEST_MMIO_GPA, run->mmio.phys_addr);
		memcpy(&seen, run->mmio.data, sizeof(seen));
		EXPECT_EQ(want[k], seen) TH_LOG("page %u at %#llx", k, gpa);
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &(struct ucall){ 0 }));
}

TEST(many_slots_each_reaches_its_own)
{
	__u64 want[2 * MANY_SLOTS];
	unsigned int k;
	struct vm *vm;
	__u64 *page;

	vm = vm_create();
	for (k = 0; k < MANY_SLOTS; k++) {
		page = vm_add_region(vm, many_slot_of(k),
				     MANY_FIRST_GPA + k * MANY_STRIDE,
				     GUEST_PAGE_SIZE, 0);
		*page = many_tag(many_slot_of(k));
	}
	/* Pages and the gaps between them: half a stride apart. */
	for (k = 0; k < 2 * MANY_SLOTS; k++)
		want[k] = k & 1 ? MANY_UNBACKED : many_tag(many_slot_of(k / 2));
	read_pages_expect(_metadata, vm, 0, MANY_FIRST_GPA, GUEST_PAGE_SIZE,
			  want, 2 * MANY_SLOTS);

	/*
	 * Move every slot elsewhere, in reverse order of address, and
	 * delete every third: the old range is left with nothing.
	 */
	for (k = 0; k < MANY_SLOTS; k++) {
		__u32 slot = many_slot_of(k);

		want[MANY_SLOTS - 1 - k] = many_tag(slot);
		vm_move_region(vm, slot, MANY_MOVED_GPA +
			       (MANY_SLOTS - 1 - k) * MANY_STRIDE);
	}
	/* Before any delete: the moves alone must keep the lookup right. */
	read_pages_expect(_metadata, vm, 1, MANY_MOVED_GPA, MANY_STRIDE, want,
			  MANY_SLOTS);
	for (k = 0; k < MANY_SLOTS; k += 3) {
		vm_delete_region(vm, many_slot_of(k));
		want[MANY_SLOTS - 1 - k] = MANY_UNBACKED;
	}
	read_pages_expect(_metadata, vm, 2, MANY_MOVED_GPA, MANY_STRIDE, want,
			  MANY_SLOTS);
	for (k = 0; k < MANY_SLOTS; k++)
		want[k] = MANY_UNBACKED;
	read_pages_expect(_metadata, vm, 3, MANY_FIRST_GPA, MANY_STRIDE, want,
			  MANY_SLOTS);
	vm_free(vm);
}

TEST(module_refcount_zero)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
