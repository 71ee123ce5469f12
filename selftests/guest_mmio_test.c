// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO from every kind of guest code.  An access to guest-physical memory
 * no slot backs becomes VMXLAB_EXIT_MMIO only after vmxlab fetched the
 * instruction through the guest's own translation (segment base, paging,
 * the CPL's access rights) and decoded it by the code segment's operand
 * and address sizes and the 0x66/0x67 prefixes (SDM Vol. 2A, 2.2 and
 * 3.6).  Real mode, 32-bit protected mode and CPL 3 with paging are each
 * tried here (long mode is in guest_exits_test); an instruction the
 * decoder does not know ends the run with VMXLAB_INTERNAL_EMULATION and
 * its bytes, and the guest stays on it.
 */
#include <cpuid.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

#define X86_CR0_PG		BIT_ULL(31)
#define X86_CR4_PSE		BIT_ULL(4)
#define X86_CR4_SMEP		BIT_ULL(20)

FIXTURE(mmio) {
	struct vm *vm;
	struct vcpu *vcpu;
};

FIXTURE_SETUP(mmio)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(mmio)
{
	if (self->vm)
		vm_free(self->vm);
}

/* Run to the next exit, which must be MMIO; give a load @data. */
static void expect_mmio(struct __test_metadata *_metadata, struct vcpu *vcpu,
			__u64 gpa, __u32 len, bool write, __u64 data)
{
	struct vmxlab_run *run = vcpu->run;
	char buf[256];
	__u64 seen = 0;

	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason)
		TH_LOG("expected MMIO %s of %u at %#llx, got %s",
		       write ? "write" : "read", len, gpa,
		       vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(gpa, run->mmio.phys_addr);
	EXPECT_EQ(len, run->mmio.len);
	EXPECT_EQ(write, run->mmio.is_write);
	if (write) {
		memcpy(&seen, run->mmio.data, len);
		EXPECT_EQ(data, seen) TH_LOG("MMIO write at %#llx", gpa);
	} else {
		memcpy(run->mmio.data, &data, sizeof(data));
	}
}

/* --- real mode ---------------------------------------------------------- */

/*
 * DS.base is the MMIO area (set by SET_SREGS: with unrestricted guest a
 * real-mode segment keeps whatever base it was given until it is
 * reloaded), so 16-bit offsets reach it.  Operand size 16 unless 0x66
 * makes it 32; address size 16 unless 0x67 does.
 */
GUEST_CODE_BLOB(rm_mmio_code, 16,
		"	movb $0x5a, (0x10)\n"			/* write 1 */
		"	movw $0x1234, (0x12)\n"			/* write 2 */
		"	movl $0x89abcdef, (0x14)\n"		/* 0x66: write 4 */
		"	mov $0x20, %bx\n"
		"	mov (%bx), %ax\n"			/* read 2 */
		"	out %ax, $0x10\n"
		"	mov $0x7, %si\n"
		"	mov 0x3(%bx,%si), %cl\n"		/* read 1 at 0x2a */
		"	mov %cl, %al\n"
		"	out %al, $0x11\n"
		"	mov $0x30, %edi\n"
		"	addr32 mov (%edi), %edx\n"		/* 0x67 0x66: read 4 */
		"	mov %edx, %eax\n"
		"	out %eax, $0x12\n"
		"	hlt\n");

TEST_F_TIMEOUT(mmio, real_mode, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, rm_mmio_code, rm_mmio_code_end);
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_real_mode(self->vcpu, LOW_CODE_GPA);
	vcpu_sregs_get(self->vcpu, &sregs);
	sregs.ds.base = GUEST_MMIO_GPA;
	vcpu_sregs_set(self->vcpu, &sregs);

	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x10, 1, true, 0x5a);
	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x12, 2, true, 0x1234);
	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x14, 4, true,
		    0x89abcdef);
	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x20, 2, false,
		    0xbeef);
	EXPECT_EQ(0xbeef, vcpu_run_expect_out(self->vcpu, 0x10, 2));
	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x2a, 1, false, 0x77);
	EXPECT_EQ(0x77, vcpu_run_expect_out(self->vcpu, 0x11, 1));
	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x30, 4, false,
		    0xcafef00d);
	EXPECT_EQ(0xcafef00d, vcpu_run_expect_out(self->vcpu, 0x12, 4));
	vcpu_run_expect_hlt(self->vcpu);
}

/* --- 32-bit protected mode, flat ------------------------------------------ */

#define MMIO32			0xc0000000

GUEST_CODE_BLOB(pm_mmio_code, 32,
		"	movl $0x11223344, " VMXLAB_STR(MMIO32) " + 0x40\n"
		"	movw $0x5566, " VMXLAB_STR(MMIO32) " + 0x44\n"	/* 0x66 */
		"	mov " VMXLAB_STR(MMIO32) " + 0x48, %ebx\n"
		"	movzbl " VMXLAB_STR(MMIO32) " + 0x4c, %ecx\n"
		"	mov $0xffffffff, %eax\n"
		"	mov " VMXLAB_STR(MMIO32) " + 0x50, %al\n"	/* A0 moffs */
		"	out %eax, $0x10\n"
		"	mov %ebx, %eax\n"
		"	out %eax, $0x11\n"
		"	mov %ecx, %eax\n"
		"	out %eax, $0x12\n"
		"	hlt\n");

TEST_F_TIMEOUT(mmio, protected32, TIMEOUT_S)
{
	self->vm = vm_create_bare();
	vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, pm_mmio_code, pm_mmio_code_end);
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_protected32(self->vcpu, LOW_CODE_GPA);

	expect_mmio(_metadata, self->vcpu, MMIO32 + 0x40, 4, true, 0x11223344);
	expect_mmio(_metadata, self->vcpu, MMIO32 + 0x44, 2, true, 0x5566);
	expect_mmio(_metadata, self->vcpu, MMIO32 + 0x48, 4, false, 0xa1b2c3d4);
	expect_mmio(_metadata, self->vcpu, MMIO32 + 0x4c, 1, false, 0xe5);
	expect_mmio(_metadata, self->vcpu, MMIO32 + 0x50, 1, false, 0x6f);
	EXPECT_EQ(0xffffff6f, vcpu_run_expect_out(self->vcpu, 0x10, 4))
		TH_LOG("a byte load replaces AL only");
	EXPECT_EQ(0xa1b2c3d4, vcpu_run_expect_out(self->vcpu, 0x11, 4));
	EXPECT_EQ(0xe5, vcpu_run_expect_out(self->vcpu, 0x12, 4))
		TH_LOG("MOVZX clears the upper bits");
	vcpu_run_expect_hlt(self->vcpu);
}

/* --- CPL 3, with paging and SMEP ---------------------------------------- */

/*
 * 32-bit paging with 4 MiB pages, all user pages: the code in the first
 * one, the MMIO area in another.  CR4.SMEP is on, so a supervisor fetch
 * of the code would fault: vmxlab must fetch the instruction as the
 * guest's CPL 3 does (a user access), or the MMIO exit turns into an
 * internal error.  CPL 3 cannot HLT: the code ends with an OUT (IOPL 3).
 */
#define PD32_GPA		0x10000
#define PDE_4M_USER		0x87	/* present, writable, user, 4 MiB */

GUEST_CODE_BLOB(cpl3_mmio_code, 32,
		"	mov %cs, %ax\n"
		"	out %ax, $0x14\n"
		"	movl $0xfeedface, " VMXLAB_STR(MMIO32) " + 0x60\n"
		"	mov " VMXLAB_STR(MMIO32) " + 0x64, %eax\n"
		"	out %eax, $0x10\n"
		"1:	out %al, $0x13\n"
		"	jmp 1b\n");

static bool cpu_has_smep(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & BIT(7));
}

static void make_user(struct vmxlab_segment *s)
{
	s->selector |= 3;
	s->dpl = 3;
}

TEST_F_TIMEOUT(mmio, cpl3_with_paging_and_smep, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;
	__u32 *pd;
	char *low;

	if (!cpu_has_smep())
		SKIP(return, "the CPU has no SMEP");
	self->vm = vm_create_bare();
	low = vm_add_low_memory(self->vm);
	pd = (__u32 *)(low + PD32_GPA);
	pd[0] = 0 | PDE_4M_USER;
	pd[MMIO32 >> 22] = MMIO32 | PDE_4M_USER;
	vm_load_blob(self->vm, LOW_CODE_GPA, cpl3_mmio_code,
		     cpl3_mmio_code_end);
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_protected32(self->vcpu, LOW_CODE_GPA);

	vcpu_sregs_get(self->vcpu, &sregs);
	sregs.cr0 |= X86_CR0_PG;
	sregs.cr3 = PD32_GPA;
	sregs.cr4 |= X86_CR4_PSE | X86_CR4_SMEP;
	make_user(&sregs.cs);
	make_user(&sregs.ss);
	make_user(&sregs.ds);
	make_user(&sregs.es);
	vcpu_sregs_set(self->vcpu, &sregs);
	vcpu_regs_get(self->vcpu, &regs);
	regs.rflags |= 3 << 12;		/* IOPL 3: OUT at CPL 3 */
	vcpu_regs_set(self->vcpu, &regs);

	EXPECT_EQ(LOW_SEL_CODE32 | 3, vcpu_run_expect_out(self->vcpu, 0x14, 2))
		TH_LOG("the code must run at CPL 3");
	expect_mmio(_metadata, self->vcpu, MMIO32 + 0x60, 4, true, 0xfeedface);
	expect_mmio(_metadata, self->vcpu, MMIO32 + 0x64, 4, false, 0x0badc0de);
	EXPECT_EQ(0x0badc0de, vcpu_run_expect_out(self->vcpu, 0x10, 4));
	vcpu_run_expect_out(self->vcpu, 0x13, 1);
}

/* --- an instruction the decoder does not know -------------------------- */

/* ADD to memory: 83 /0 ib, with RAX as the address: 83 00 01. */
static const __u8 add_insn[] = { 0x83, 0x00, 0x01 };

static void guest_add_to_mmio(void)
{
	asm volatile("addl $1, (%%rax)"
		     : : "a"(GUEST_MMIO_GPA + 0x70) : "memory");
	GUEST_DONE();
}

TEST_F_TIMEOUT(mmio, undecodable_instruction_reported_with_bytes, TIMEOUT_S)
{
	struct vmxlab_run *run;
	struct vmxlab_regs regs;
	const __u8 *at_rip;
	__u8 bytes[16];
	int pass;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_add_to_mmio);
	run = self->vcpu->run;

	/* Reported again on every run: the guest stays on the instruction. */
	for (pass = 0; pass < 2; pass++) {
		vcpu_run(self->vcpu);
		vcpu_assert_exit(self->vcpu, VMXLAB_EXIT_INTERNAL_ERROR);
		EXPECT_EQ(VMXLAB_INTERNAL_EMULATION, run->internal.suberror);
		EXPECT_EQ(2, run->internal.ndata);
		memcpy(bytes, run->internal.data, sizeof(bytes));
		EXPECT_EQ(0, memcmp(bytes, add_insn, sizeof(add_insn)))
			TH_LOG("bytes %02x %02x %02x", bytes[0], bytes[1],
			       bytes[2]);
		vcpu_regs_get(self->vcpu, &regs);
		at_rip = addr_gva2hva(self->vm, (void *)regs.rip);
		EXPECT_EQ(0, memcmp(at_rip, add_insn, sizeof(add_insn)))
			TH_LOG("RIP %#llx is not on the ADD",
			       (unsigned long long)regs.rip);
		EXPECT_EQ(GUEST_MMIO_GPA + 0x70, regs.rax);
	}
}

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
