// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: VMXLAB_SET_MEMORY_REGION's checks on bad requests, slots
 * moved, deleted and made read-only between runs as a running guest sees
 * them, and guests that reach memory no slot backs.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120
#define PAGE			GUEST_PAGE_SIZE

FIXTURE(memory) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(memory)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(memory)
{
	if (self->vm)
		vm_free(self->vm);
}

static void *map_pages(size_t n, int prot)
{
	void *p = mmap(NULL, n * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Expect SET_MEMORY_REGION to fail with @err. */
#define EXPECT_REGION_ERR(...)	expect_region_err(_metadata, __LINE__, __VA_ARGS__)

static void expect_region_err(struct __test_metadata *_metadata, int line,
			      int err, struct vm *vm, __u32 slot, __u64 gpa,
			      __u64 size, const void *hva, __u32 flags)
{
	errno = 0;
	EXPECT_EQ(-1, __vm_set_region(vm, slot, gpa, size, (void *)hva, flags))
		TH_LOG("line %d: accepted", line);
	EXPECT_EQ(err, errno)
		TH_LOG("line %d: slot %u gpa %#llx size %#llx hva %p flags %#x",
		       line, slot, gpa, size, hva, flags);
}

/* --- refused requests --------------------------------------------------------- */

TEST_F_TIMEOUT(memory, region_bad_inputs, TIMEOUT_S)
{
	char *mem, *ro, *none, *gone, *half;

	self->vm = vm_create_bare();
	mem = map_pages(4, PROT_READ | PROT_WRITE);
	ro = map_pages(2, PROT_READ);
	none = map_pages(2, PROT_NONE);
	gone = map_pages(2, PROT_READ | PROT_WRITE);
	half = map_pages(2, PROT_READ | PROT_WRITE);
	ASSERT_TRUE(mem && ro && none && gone && half);
	ASSERT_EQ(0, munmap(gone, 2 * PAGE));
	ASSERT_EQ(0, munmap(half + PAGE, PAGE));

	/* Slot, flags. */
	EXPECT_REGION_ERR(EINVAL, self->vm, VMXLAB_MAX_MEM_SLOTS, 0, PAGE, mem, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, ~0U, 0, PAGE, mem, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, PAGE, mem, 2);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, PAGE, mem, ~0U);
	/* Alignment. */
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0x1001, PAGE, mem, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, PAGE + 0x800, mem, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, PAGE, mem + 8, 0);
	/* Size 0 on an unused slot: nothing to delete. */
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, 0, mem, 0);
	/* Wrapping, and past the 48-bit guest-physical space. */
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, ~0ULL - PAGE + 1, 2 * PAGE, mem, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 1ULL << 48, PAGE, mem, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, BIT_ULL(48) - PAGE, 2 * PAGE, mem, 0);
	/* Host memory that is not there, or not writable, or not ours. */
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, 2 * PAGE, gone, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, 2 * PAGE, half, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, 2 * PAGE, ro, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, 2 * PAGE, none, VMXLAB_MEM_READONLY);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, PAGE, (void *)0xffff888000000000ULL, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 0, 0, 2 * PAGE, (void *)(~0ULL - PAGE + 1), 0);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm->fd, VMXLAB_SET_MEMORY_REGION, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* The edges that are fine: the last page below 2^48, a read-only slot. */
	EXPECT_EQ(0, __vm_set_region(self->vm, 0, BIT_ULL(48) - PAGE, PAGE, mem, 0));
	EXPECT_EQ(0, __vm_set_region(self->vm, 0, BIT_ULL(48) - PAGE, 0, mem, 0));
	EXPECT_EQ(0, __vm_set_region(self->vm, 1, 0, 2 * PAGE, ro, VMXLAB_MEM_READONLY));
	EXPECT_EQ(0, __vm_set_region(self->vm, 1, 0, 0, ro, VMXLAB_MEM_READONLY));

	/* Nothing was left behind by the refusals: slot 0 is free. */
	EXPECT_EQ(0, __vm_set_region(self->vm, 0, 0, 4 * PAGE, mem, 0));
}

TEST_F_TIMEOUT(memory, region_overlap_and_changes, TIMEOUT_S)
{
	char *a, *b;

	self->vm = vm_create_bare();
	a = map_pages(16, PROT_READ | PROT_WRITE);
	b = map_pages(64, PROT_READ | PROT_WRITE);
	ASSERT_TRUE(a && b);
	ASSERT_EQ(0, __vm_set_region(self->vm, 3, 0x100000, 16 * PAGE, a, 0));

	/* Overlaps, from either side or inside. */
	EXPECT_REGION_ERR(EEXIST, self->vm, 4, 0x108000, 16 * PAGE, b, 0);
	EXPECT_REGION_ERR(EEXIST, self->vm, 4, 0xf8000, 16 * PAGE, b, 0);
	EXPECT_REGION_ERR(EEXIST, self->vm, 4, 0x104000, PAGE, b, 0);
	EXPECT_REGION_ERR(EEXIST, self->vm, 4, 0xf0000, 64 * PAGE, b, 0);
	/* Adjacent is fine; moving onto the other slot is not. */
	ASSERT_EQ(0, __vm_set_region(self->vm, 4, 0x110000, 16 * PAGE, b, 0));
	EXPECT_REGION_ERR(EEXIST, self->vm, 4, 0x10f000, 16 * PAGE, b, 0);

	/* A used slot may only move: size, memory and flags stay. */
	EXPECT_EQ(0, __vm_set_region(self->vm, 3, 0x100000, 16 * PAGE, a, 0));
	EXPECT_REGION_ERR(EINVAL, self->vm, 3, 0x100000, 8 * PAGE, a, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 3, 0x100000, 16 * PAGE, b, 0);
	EXPECT_REGION_ERR(EINVAL, self->vm, 3, 0x100000, 16 * PAGE, a,
			  VMXLAB_MEM_READONLY);

	/* Delete, then the range is free; deleting twice is refused. */
	EXPECT_EQ(0, __vm_set_region(self->vm, 3, 0x100000, 0, a, 0));
	EXPECT_REGION_ERR(EINVAL, self->vm, 3, 0x100000, 0, a, 0);
	EXPECT_EQ(0, __vm_set_region(self->vm, 5, 0x100000, 16 * PAGE, a, 0));
}

/* --- what a running guest sees ---------------------------------------------------- */

/* Reads the u64 at each guest-physical address the host gives it. */
static void guest_reader(void)
{
	__u64 addr, v;

	for (;;) {
		addr = inl(0x30);
		v = __atomic_load_n((__u64 *)addr, __ATOMIC_RELAXED);
		GUEST_SYNC(addr, v);
		if (inl(0x31)) {
			__atomic_store_n((__u64 *)addr, v + 1, __ATOMIC_RELAXED);
			GUEST_SYNC(addr, v + 1);
		}
	}
}

/* The guest reads @gpa (and adds one to it if @inc); returns what it read. */
static __u64 guest_read(struct vcpu *vcpu, __u64 gpa, bool inc)
{
	struct ucall uc;
	__u64 v;

	vcpu_run_expect_in(vcpu, 0x30, 4, gpa);
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_SYNC, "no SYNC");
	TEST_ASSERT(uc.args[0] == gpa, "read %#llx", uc.args[0]);
	v = uc.args[1];
	vcpu_run_expect_in(vcpu, 0x31, 4, inc);
	if (inc)
		TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_SYNC, "no SYNC");
	return v;
}

#define AT_A	GUEST_DATA_GPA
#define AT_B	(GUEST_DATA_GPA + 0x10000000ULL)

TEST_F_TIMEOUT(memory, region_move_between_runs, TIMEOUT_S)
{
	__u64 *mem;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_reader);
	mem = vm_add_region(self->vm, SLOT_TEST, AT_A, 4 * PAGE, 0);
	mem[0] = 0x1111;
	mem[512 + 1] = 0x2222;

	EXPECT_EQ(0x1111, guest_read(self->vcpu, AT_A, true));
	EXPECT_EQ(0x1112, mem[0]) TH_LOG("the guest's write did not land");
	vm_move_region(self->vm, SLOT_TEST, AT_B);
	EXPECT_EQ(0x1112, guest_read(self->vcpu, AT_B, false));
	EXPECT_EQ(0x2222, guest_read(self->vcpu, AT_B + PAGE + 8, true));
	EXPECT_EQ(0x2223, mem[512 + 1]);
	vm_move_region(self->vm, SLOT_TEST, AT_A);
	EXPECT_EQ(0x2223, guest_read(self->vcpu, AT_A + PAGE + 8, false));
}

/* Run; the exit must be an MMIO load of 8 bytes at @gpa; answer @value. */
static void expect_mmio_load(struct __test_metadata *_metadata,
			     struct vcpu *vcpu, __u64 gpa, __u64 value)
{
	struct vmxlab_run *run = vcpu->run;
	char buf[256];

	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
		TH_LOG("expected an MMIO read at %#llx, got %s", gpa,
		       vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(gpa, run->mmio.phys_addr);
	EXPECT_EQ(8, run->mmio.len);
	EXPECT_EQ(0, run->mmio.is_write);
	memcpy(run->mmio.data, &value, 8);
}

/* The guest reads @gpa, expecting an MMIO exit that the host answers. */
static void guest_read_mmio(struct __test_metadata *_metadata,
			    struct vcpu *vcpu, __u64 gpa, __u64 value)
{
	struct ucall uc;

	vcpu_run_expect_in(vcpu, 0x30, 4, gpa);
	expect_mmio_load(_metadata, vcpu, gpa, value);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(value, uc.args[1]) TH_LOG("the MMIO load was not completed");
	vcpu_run_expect_in(vcpu, 0x31, 4, 0);
}

TEST_F_TIMEOUT(memory, region_moved_away_is_mmio, TIMEOUT_S)
{
	__u64 *mem;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_reader);
	mem = vm_add_region(self->vm, SLOT_TEST, AT_A, 4 * PAGE, 0);
	mem[0] = 0x3333;
	/* Mapped in the EPT by this read; the move must unmap it. */
	EXPECT_EQ(0x3333, guest_read(self->vcpu, AT_A, false));
	vm_move_region(self->vm, SLOT_TEST, AT_B);
	guest_read_mmio(_metadata, self->vcpu, AT_A, 0x5a5a5a5a5a5a5a5aULL);
	EXPECT_EQ(0x3333, guest_read(self->vcpu, AT_B, false));
}

TEST_F_TIMEOUT(memory, region_deleted_is_mmio, TIMEOUT_S)
{
	__u64 *mem;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_reader);
	mem = vm_add_region(self->vm, SLOT_TEST, AT_A, 4 * PAGE, 0);
	mem[0] = 0x4444;
	EXPECT_EQ(0x4444, guest_read(self->vcpu, AT_A, false));
	vm_delete_region(self->vm, SLOT_TEST);
	guest_read_mmio(_metadata, self->vcpu, AT_A, 0x0123456789abcdefULL);
	/* New memory in the same place: the guest sees the new contents. */
	mem = vm_add_region(self->vm, SLOT_TEST + 1, AT_A, PAGE, 0);
	mem[0] = 0x5555;
	EXPECT_EQ(0x5555, guest_read(self->vcpu, AT_A, false));
}

/* Reads work; a write exits as MMIO and leaves the memory as it was. */
static void guest_readonly(__u64 addr)
{
	__u64 v = __atomic_load_n((__u64 *)addr, __ATOMIC_RELAXED);

	GUEST_SYNC(v);
	__atomic_store_n((__u32 *)(addr + 8), 0xdead, __ATOMIC_RELAXED);
	GUEST_SYNC(__atomic_load_n((__u64 *)(addr + 8), __ATOMIC_RELAXED));
}

TEST_F_TIMEOUT(memory, region_readonly, TIMEOUT_S)
{
	struct vmxlab_run *run;
	__u64 *mem, seen = 0;
	char buf[256];

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_readonly);
	run = self->vcpu->run;
	mem = map_pages(1, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	mem[0] = 0x6666;
	mem[1] = 0x7777;
	ASSERT_EQ(0, mprotect(mem, PAGE, PROT_READ));
	vm_add_region_hva(self->vm, SLOT_TEST, AT_A, PAGE, mem, VMXLAB_MEM_READONLY);
	vcpu_args_set(self->vcpu, 1, AT_A);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(0x6666, self->uc.args[0]);
	vcpu_run(self->vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
		TH_LOG("a write to a read-only slot: %s",
		       vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	EXPECT_EQ(AT_A + 8, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(1, run->mmio.is_write);
	memcpy(&seen, run->mmio.data, 4);
	EXPECT_EQ(0xdead, seen);
	EXPECT_EQ(0x7777, mem[1]) TH_LOG("the read-only memory changed");
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(0x7777, self->uc.args[0]);
}

/*
 * Memory unmapped by its owner after the slot was added: the guest's
 * first touch cannot pin it and the run fails with EFAULT.  Mapping it
 * again makes the guest work.
 */
static void guest_touch(__u64 addr)
{
	GUEST_SYNC(__atomic_load_n((__u64 *)addr, __ATOMIC_RELAXED));
}

TEST_F_TIMEOUT(memory, region_unmapped_behind_our_back, TIMEOUT_S)
{
	char buf[256];
	__u64 *mem;
	int r;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_touch);
	mem = map_pages(1, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	vm_add_region_hva(self->vm, SLOT_TEST, AT_A, PAGE, mem, 0);
	vcpu_args_set(self->vcpu, 1, AT_A);
	ASSERT_EQ(0, munmap(mem, PAGE));

	errno = 0;
	r = __vcpu_run(self->vcpu);
	EXPECT_EQ(-1, r) TH_LOG("exit %s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	EXPECT_EQ(EFAULT, errno);

	ASSERT_EQ(mem, mmap(mem, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	mem[0] = 0x8888;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(0x8888, self->uc.args[0]);
}

/* --- no memory where the guest looks ----------------------------------------------- */

TEST_F_TIMEOUT(memory, run_without_memory, TIMEOUT_S)
{
	struct vmxlab_run *run;
	struct vcpu *vcpu;
	char buf[256];
	int i;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	run = vcpu->run;
	for (i = 0; i < 2; i++) {
		/* The reset vector fetch at 0xfffffff0 finds nothing. */
		vcpu_run(vcpu);
		TH_LOG("run %d: %s", i, vcpu_exit_str(vcpu, buf, sizeof(buf)));
		/*
		 * A fetch from unbacked memory is an internal error, not MMIO
		 * (api.rst): the address and the EPT-violation qualification
		 * in data[], the fetch bit (SDM Vol. 3C Table 28-7 bit 2) set
		 * and the write bit clear.
		 */
		ASSERT_EQ(VMXLAB_EXIT_INTERNAL_ERROR, run->exit_reason);
		EXPECT_EQ(VMXLAB_INTERNAL_UNBACKED_ACCESS, run->internal.suberror);
		EXPECT_EQ(2, run->internal.ndata);
		EXPECT_EQ(0xfffffff0, run->internal.data[0]);
		EXPECT_EQ(4, run->internal.data[1] & 6);
	}
}

static void guest_idt_unbacked(void)
{
	guest_lidt(GUEST_MMIO_GPA + 0x10000, 0xfff);
	asm volatile("ud2");
	GUEST_SYNC(0xbad);
}

TEST_F_TIMEOUT(memory, idt_in_unbacked_memory, TIMEOUT_S)
{
	struct vmxlab_run *run;
	char buf[256];

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_idt_unbacked);
	run = self->vcpu->run;
	int i;

	for (i = 0; i < 2; i++) {
		vcpu_run(self->vcpu);
		TH_LOG("run %d: %s", i,
		       vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
		/*
		 * Delivering #UD reads gate 6 (16 bytes in IA-32e mode) from
		 * unbacked memory: an internal error with that address and a
		 * read, not a fetch or write (SDM Vol. 3C Table 28-7).
		 */
		ASSERT_EQ(VMXLAB_EXIT_INTERNAL_ERROR, run->exit_reason);
		EXPECT_EQ(VMXLAB_INTERNAL_UNBACKED_ACCESS,
			  run->internal.suberror);
		/* Shadow paging adds the linear address (api.rst). */
		EXPECT_EQ(vm_is_shadow(self->vm) ? 3 : 2, run->internal.ndata);
		EXPECT_EQ(GUEST_MMIO_GPA + 0x10000 + 6 * 16,
			  run->internal.data[0] & ~0xfULL);
		EXPECT_EQ(1, run->internal.data[1] & 7);
	}
}

/*
 * Last (fixtures run in the order they are declared): every test above
 * has exited and closed its fds, so nothing may hold the module.
 */
FIXTURE(last) {
	int unused;
};

FIXTURE_SETUP(last)
{
}

FIXTURE_TEARDOWN(last)
{
}

TEST_F_TIMEOUT(last, module_refcount_zero, TIMEOUT_S)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
