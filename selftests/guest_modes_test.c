// SPDX-License-Identifier: GPL-2.0
/*
 * Guests in each processor mode: real mode (from the reset vector and from
 * low memory), 32-bit protected mode and 64-bit long mode, each doing a
 * port I/O round trip and HLT; in long mode also the library's C guests.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

#define X86_CR0_PE		BIT_ULL(0)
#define X86_CR0_PG		BIT_ULL(31)
#define X86_CR4_PAE		BIT_ULL(5)
#define X86_CR4_OSFXSR		BIT_ULL(9)
#define MSR_EFER		0xc0000080
#define EFER_LME		BIT_ULL(8)
#define EFER_LMA		BIT_ULL(10)
#define UD_VECTOR		6

FIXTURE(modes) {
	struct vm *vm;
};

FIXTURE_SETUP(modes)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(modes)
{
	if (self->vm)
		vm_free(self->vm);
}

/* --- real mode ----------------------------------------------------------- */

/*
 * The first instructions of a new vCPU: CS.base 0xffff0000 + IP 0xfff0 is
 * 0xfffffff0, the top 16 bytes of the 4 GiB space; RDX holds the CPU
 * signature after reset.
 */
GUEST_CODE_BLOB(reset_vector_code, 16,
		"	mov $0x5a, %al\n"
		"	out %al, $0x10\n"	/* OUT byte 0x5a */
		"	mov %dx, %ax\n"
		"	out %ax, $0x11\n"	/* OUT word: DX after reset */
		"	hlt\n");

TEST_F_TIMEOUT(modes, real_mode_reset_vector, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;
	struct vcpu *vcpu;
	char *top;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	top = vm_add_region(self->vm, SLOT_TEST, 0xffff0000, 0x10000, 0);
	memcpy(top + 0xfff0, reset_vector_code,
	       reset_vector_code_end - reset_vector_code);
	vcpu = vm_vcpu_add_bare(self->vm, 0);

	vcpu_sregs_get(vcpu, &sregs);
	EXPECT_EQ(0xffff0000, sregs.cs.base);
	EXPECT_EQ(0xf000, sregs.cs.selector);
	EXPECT_EQ(0, sregs.cr0 & X86_CR0_PE);
	vcpu_regs_get(vcpu, &regs);
	EXPECT_EQ(0xfff0, regs.rip);

	EXPECT_EQ(0x5a, vcpu_run_expect_out(vcpu, 0x10, 1));
	EXPECT_EQ(regs.rdx & 0xffff, vcpu_run_expect_out(vcpu, 0x11, 2));
	vcpu_run_expect_hlt(vcpu);
	vcpu_regs_get(vcpu, &regs);
	EXPECT_EQ(0xfff0 + reset_vector_code_end - reset_vector_code, regs.rip)
		TH_LOG("RIP does not point past the HLT");
}

/*
 * Real mode at 0x1000 (unrestricted guest): OUT and IN of each size, a
 * store to memory, CR0 as the guest sees it, and a second HLT to show
 * that the guest resumes after the first one.
 */
GUEST_CODE_BLOB(real_mode_code, 16,
		"	mov $0x1234, %ax\n"
		"	out %ax, $0x10\n"		/* OUT word 0x1234 */
		"	in $0x11, %al\n"		/* IN byte: AL only */
		"	out %ax, $0x12\n"		/* OUT word 0x12XX */
		"	mov $0x80, %dx\n"
		"	in %dx, %eax\n"			/* IN dword */
		"	mov %eax, " VMXLAB_STR(LOW_DATA_GPA) "\n"
		"	mov %cr0, %eax\n"
		"	out %eax, $0x13\n"		/* OUT dword: CR0 */
		"	hlt\n"
		"	mov $0x99, %al\n"
		"	out %al, $0x14\n"
		"	hlt\n");

TEST_F_TIMEOUT(modes, real_mode_io_hlt, TIMEOUT_S)
{
	struct vcpu *vcpu;
	__u32 stored;
	char *low;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	low = vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, real_mode_code, real_mode_code_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_real_mode(vcpu, LOW_CODE_GPA);

	EXPECT_EQ(0x1234, vcpu_run_expect_out(vcpu, 0x10, 2));
	vcpu_run_expect_in(vcpu, 0x11, 1, 0xa7);
	EXPECT_EQ(0x12a7, vcpu_run_expect_out(vcpu, 0x12, 2))
		TH_LOG("IN AL must replace AL and keep AH");
	vcpu_run_expect_in(vcpu, 0x80, 4, 0xdeadbeef);
	EXPECT_EQ(0, vcpu_run_expect_out(vcpu, 0x13, 4) & X86_CR0_PE)
		TH_LOG("CR0.PE is set in a real-mode guest");
	vcpu_run_expect_hlt(vcpu);
	memcpy(&stored, low + LOW_DATA_GPA, sizeof(stored));
	EXPECT_EQ(0xdeadbeef, stored) TH_LOG("the guest's store did not land");
	EXPECT_EQ(0x99, vcpu_run_expect_out(vcpu, 0x14, 1));
	vcpu_run_expect_hlt(vcpu);
}

/* --- 32-bit protected mode ------------------------------------------------- */

GUEST_CODE_BLOB(protected32_code, 32,
		"	mov $0x11223344, %eax\n"
		"	out %eax, $0x10\n"		/* OUT dword */
		"	in $0x11, %eax\n"		/* IN dword */
		"	mov %eax, " VMXLAB_STR(LOW_DATA_GPA) "\n"
		"	mov " VMXLAB_STR(LOW_DATA_GPA) ", %ebx\n"
		"	inc %ebx\n"
		"	mov %ebx, %eax\n"
		"	out %eax, $0x12\n"		/* what was read + 1 */
		"	mov $0xffffffff, %eax\n"
		"	in $0x15, %ax\n"		/* IN word: AX only */
		"	out %eax, $0x15\n"
		"	mov %cr0, %eax\n"
		"	out %eax, $0x13\n"		/* CR0 */
		"	mov %cs, %ax\n"
		"	out %ax, $0x14\n"		/* CS selector */
		"	hlt\n");

TEST_F_TIMEOUT(modes, protected32_io_hlt, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;
	struct vcpu *vcpu;
	__u32 cr0;

	self->vm = vm_create_bare();
	vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, protected32_code,
		     protected32_code_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_protected32(vcpu, LOW_CODE_GPA);

	EXPECT_EQ(0x11223344, vcpu_run_expect_out(vcpu, 0x10, 4));
	vcpu_run_expect_in(vcpu, 0x11, 4, 0xcafef00d);
	EXPECT_EQ(0xcafef00e, vcpu_run_expect_out(vcpu, 0x12, 4));
	vcpu_run_expect_in(vcpu, 0x15, 2, 0x1234);
	EXPECT_EQ(0xffff1234, vcpu_run_expect_out(vcpu, 0x15, 4))
		TH_LOG("IN AX must replace AX and keep EAX[31:16]");
	cr0 = vcpu_run_expect_out(vcpu, 0x13, 4);
	EXPECT_EQ(X86_CR0_PE, cr0 & (X86_CR0_PE | X86_CR0_PG))
		TH_LOG("CR0 %#x: want PE without PG", cr0);
	EXPECT_EQ(LOW_SEL_CODE32, vcpu_run_expect_out(vcpu, 0x14, 2));
	vcpu_run_expect_hlt(vcpu);

	vcpu_sregs_get(vcpu, &sregs);
	EXPECT_EQ(1, sregs.cs.db);
	EXPECT_EQ(0, sregs.cs.l);
	EXPECT_EQ(0, sregs.efer & EFER_LMA);
}

/* --- 32-bit protected mode with PAE paging ------------------------------- */

/*
 * PAE paging without long mode: CR3 points at four PDPTEs, one per GiB of
 * linear space.  With EPT the CPU does not read them from memory at VM
 * entry but from four VMCS fields (SDM Vol. 3C, 27.3.2.4), which vmxlab
 * fills from guest memory when VMXLAB_SET_SREGS turns PAE paging on
 * (load_pdptes()).  Each GiB here has its own page directory and page
 * table, and linear 0x4000 of GiB 1, 2 and 3 maps a different page, so a
 * wrong or missing PDPTE shows as a wrong value or a fault.  GiB 0 maps
 * the low MiB one to one (code, stack, GDT).
 */
#define PAE_PDPT_GPA		0x10000
#define PAE_PD_GPA(q)		(0x11000 + (q) * 0x1000)
#define PAE_PT_GPA(q)		(0x15000 + (q) * 0x1000)
#define PAE_DATA_GPA(q)		(0x19000 + (q) * 0x1000)
#define PAE_VALUE(q)		(0x600df00dU + (q))

GUEST_CODE_BLOB(pae_code, 32,
		"	mov 0x40004000, %eax\n"
		"	out %eax, $0x11\n"
		"	mov 0x80004000, %eax\n"
		"	out %eax, $0x12\n"
		"	mov 0xc0004000, %eax\n"
		"	out %eax, $0x13\n"
		"	hlt\n");

static void pae_tables(char *low)
{
	__u64 *pdpt = (__u64 *)(low + PAE_PDPT_GPA), *pd, *pt;
	int q, i;

	for (q = 0; q < 4; q++) {
		pd = (__u64 *)(low + PAE_PD_GPA(q));
		pt = (__u64 *)(low + PAE_PT_GPA(q));
		pdpt[q] = PAE_PD_GPA(q) | 1;		/* present */
		pd[0] = PAE_PT_GPA(q) | 3;		/* present, writable */
		if (q == 0) {
			for (i = 0; i < 256; i++)	/* the low MiB */
				pt[i] = (__u64)i << 12 | 3;
		} else {
			pt[4] = PAE_DATA_GPA(q) | 3;
			*(__u32 *)(low + PAE_DATA_GPA(q)) = PAE_VALUE(q);
		}
	}
}

TEST_F_TIMEOUT(modes, protected32_pae_paging, TIMEOUT_S)
{
	struct vmxlab_sregs sregs, bad, after;
	struct vcpu *vcpu;
	char *low;
	int q;

	self->vm = vm_create_bare();
	low = vm_add_low_memory(self->vm);
	pae_tables(low);
	vm_load_blob(self->vm, LOW_CODE_GPA, pae_code, pae_code_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_protected32(vcpu, LOW_CODE_GPA);
	vcpu_sregs_get(vcpu, &sregs);

	/* CR3 in memory no slot backs: the PDPTEs cannot be read. */
	bad = sregs;
	bad.cr0 |= X86_CR0_PG;
	bad.cr4 |= X86_CR4_PAE;
	bad.cr3 = GUEST_MMIO_GPA;
	errno = 0;
	EXPECT_EQ(-1, __vcpu_ioctl(vcpu, VMXLAB_SET_SREGS, &bad));
	EXPECT_EQ(EINVAL, errno);
	vcpu_sregs_get(vcpu, &after);
	EXPECT_EQ(0, memcmp(&sregs, &after, sizeof(sregs)))
		TH_LOG("a refused SET_SREGS changed the state");

	sregs.cr0 |= X86_CR0_PG;
	sregs.cr4 |= X86_CR4_PAE;
	sregs.cr3 = PAE_PDPT_GPA;
	vcpu_sregs_set(vcpu, &sregs);
	vcpu_sregs_get(vcpu, &after);
	EXPECT_EQ(sregs.cr0, after.cr0);
	EXPECT_EQ(sregs.cr3, after.cr3);
	EXPECT_EQ(sregs.cr4, after.cr4);
	EXPECT_EQ(0, after.efer & EFER_LMA);

	for (q = 1; q < 4; q++)
		EXPECT_EQ(PAE_VALUE(q), vcpu_run_expect_out(vcpu, 0x10 + q, 4))
			TH_LOG("GiB %d", q);
	vcpu_run_expect_hlt(vcpu);
}

/* --- 64-bit long mode, C guests --------------------------------------------- */

/* Enough floating point that gcc -O2 uses SSE registers for it. */
static double guest_sum(const double *v, int n)
{
	double sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += v[i] * 0.5;
	return sum;
}

static void guest_long_mode(__u64 arg0, __u64 arg1)
{
	double values[] = { 1.0, 2.0, 3.5, 4.5 };
	__u32 v;

	GUEST_ASSERT_EQ(arg0, 0x1234);
	GUEST_ASSERT_EQ(arg1, 0x5678);
	GUEST_ASSERT(guest_read_cr0() & X86_CR0_PG);
	GUEST_ASSERT(guest_read_cr4() & X86_CR4_PAE);
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA),
			EFER_LME | EFER_LMA);

	outb(0x10, 0x5a);
	v = inl(0x11);
	outl(0x12, v + 1);
	GUEST_SYNC(1, v);
	guest_hlt();
	GUEST_SYNC(2, (__u64)(guest_sum(values, 4) * 100));
	GUEST_DONE();
}

TEST_F_TIMEOUT(modes, long_mode_io_hlt_ucalls, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;
	struct vcpu *vcpu;
	struct ucall uc;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_long_mode);
	vcpu_args_set(vcpu, 2, 0x1234ULL, 0x5678ULL);
	vcpu_sregs_get(vcpu, &sregs);
	EXPECT_EQ(1, sregs.cs.l);
	EXPECT_EQ(EFER_LME | EFER_LMA, sregs.efer & (EFER_LME | EFER_LMA));

	EXPECT_EQ(0x5a, vcpu_run_expect_out(vcpu, 0x10, 1));
	vcpu_run_expect_in(vcpu, 0x11, 4, 0x89abcdef);
	EXPECT_EQ(0x89abcdf0, vcpu_run_expect_out(vcpu, 0x12, 4));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(0x89abcdef, uc.args[1]);
	vcpu_run_expect_hlt(vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(2, uc.args[0]);
	EXPECT_EQ(550, uc.args[1]) TH_LOG("SSE arithmetic in the guest went wrong");
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
}

/* Returning from the guest function is UCALL_DONE with its value. */
static __u64 guest_return_value(__u64 x)
{
	return x * 3;
}

TEST_F_TIMEOUT(modes, long_mode_return_is_done, TIMEOUT_S)
{
	struct vcpu *vcpu;
	struct ucall uc;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_return_value);
	vcpu_args_set(vcpu, 1, 14ULL);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(42, uc.args[0]);
}

/* A failing GUEST_ASSERT_EQ reaches the host with file, line and values. */
static void guest_failing_assert(__u64 two)
{
	GUEST_SYNC(__LINE__ + 1);
	GUEST_ASSERT_EQ(two + 1, 4);
	GUEST_SYNC(0xbad);
}

TEST_F_TIMEOUT(modes, long_mode_guest_assert_reported, TIMEOUT_S)
{
	struct vcpu *vcpu;
	struct ucall uc;
	__u64 line;
	char buf[512];

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_failing_assert);
	vcpu_args_set(vcpu, 1, 2ULL);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	line = uc.args[0];

	vcpu_run(vcpu);
	ASSERT_EQ(UCALL_ABORT, get_ucall(vcpu, &uc))
		TH_LOG("exit %s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	TH_LOG("as reported: %s", ucall_str(&uc, buf, sizeof(buf)));
	EXPECT_STREQ(__FILE__, uc.file);
	EXPECT_EQ(line, uc.line);
	EXPECT_STREQ("two + 1 == 4", uc.expr);
	EXPECT_EQ(2, uc.nvals);
	EXPECT_EQ(3, uc.args[0]);
	EXPECT_EQ(4, uc.args[1]);

	/* The guest stays put after a failed assertion. */
	vcpu_run(vcpu);
	EXPECT_EQ(VMXLAB_EXIT_HLT, vcpu->run->exit_reason);
}

/* An exception without a handler is reported: vector and RIP. */
static void guest_unhandled_ud(void)
{
	asm volatile("ud2");
	GUEST_SYNC(0xbad);
}

TEST_F_TIMEOUT(modes, long_mode_unhandled_exception_reported, TIMEOUT_S)
{
	struct vcpu *vcpu;
	struct ucall uc;
	char buf[512];

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_unhandled_ud);
	vcpu_run(vcpu);
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc))
		TH_LOG("exit %s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	TH_LOG("as reported: %s", ucall_str(&uc, buf, sizeof(buf)));
	EXPECT_EQ(UD_VECTOR, uc.args[0]);
	EXPECT_EQ(0, uc.args[1]);
	/* The guest runs this binary's code: the bytes at RIP are UD2. */
	ASSERT_TRUE(uc.args[2] >= (__u64)guest_unhandled_ud &&
		    uc.args[2] < (__u64)guest_unhandled_ud + 64);
	EXPECT_EQ(0x0f, ((unsigned char *)uc.args[2])[0]);
	EXPECT_EQ(0x0b, ((unsigned char *)uc.args[2])[1]);
}

/*
 * An installed handler runs, can resume the guest after the faulting
 * instruction, and leaves the interrupted code's SSE registers alone.
 */
static int ud_count;

static void ud_handler(struct ex_regs *regs)
{
	ud_count++;
	asm volatile("pcmpeqb %%xmm0, %%xmm0" : : : "xmm0");
	regs->rip += 2;		/* UD2 */
}

static void guest_handled_ud(void)
{
	__u64 before = 0x0123456789abcdefULL, after;

	asm volatile("movq %[in], %%xmm0\n\t"
		     "ud2\n\t"
		     "movq %%xmm0, %[out]"
		     : [out] "=r"(after) : [in] "r"(before) : "xmm0", "memory");
	GUEST_ASSERT_EQ(ud_count, 1);
	GUEST_ASSERT_EQ(after, before);
	GUEST_DONE();
}

TEST_F_TIMEOUT(modes, long_mode_exception_handler, TIMEOUT_S)
{
	struct vcpu *vcpu;
	struct ucall uc;

	self->vm = vm_create();
	vm_install_exception_handler(self->vm, UD_VECTOR, ud_handler);
	vcpu = vm_vcpu_add(self->vm, 0, guest_handled_ud);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	vm_sync_from_guest(self->vm, &ud_count, sizeof(ud_count));
	EXPECT_EQ(1, ud_count);
}

/*
 * The guest's extended state matches the host's, so even library string
 * functions the compiler may call (glibc picks AVX versions when the host
 * has AVX) work in the guest.
 */
static char copy_src[8192], copy_dst[8192];

static void guest_libc_string_functions(void)
{
	int i;

	for (i = 0; i < (int)sizeof(copy_src); i++)
		copy_src[i] = i * 7;
	memcpy(copy_dst, copy_src, sizeof(copy_dst));
	GUEST_ASSERT_EQ(memcmp(copy_dst, copy_src, sizeof(copy_dst)), 0);
	memset(copy_dst, 0x5a, sizeof(copy_dst));
	GUEST_SYNC(guest_xgetbv(0));
}

TEST_F_TIMEOUT(modes, long_mode_libc_string_functions, TIMEOUT_S)
{
	struct vcpu *vcpu;
	struct ucall uc;
	int i;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_libc_string_functions);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(self->vm->guest_xcr0 ? self->vm->guest_xcr0 : 1, uc.args[0]);
	vm_sync_from_guest(self->vm, &copy_dst, sizeof(copy_dst));
	for (i = 0; i < (int)sizeof(copy_dst) && copy_dst[i] == 0x5a; i++)
		;
	EXPECT_EQ(sizeof(copy_dst), i) TH_LOG("byte %d not set by the guest", i);
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
