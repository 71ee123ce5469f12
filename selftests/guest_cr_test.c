// SPDX-License-Identifier: GPL-2.0
/*
 * Control-register exits.  vmxlab owns CR0.NE and CR4.VMXE (plus the CR4
 * bits of features a guest is not offered): a guest read of them returns
 * the read shadow, and a MOV to CR0/CR4 exits exactly when it would change
 * one of them (SDM Vol. 3C, 25.6.6 and 26.1.3).  The handler then does
 * what the CPU would: the checks of MOV to CR0 (#GP), IA-32e mode
 * activation when paging comes on with EFER.LME set, and #GP for VMXE.
 * Every other CR0/CR4 bit, CLTS and LMSW belong to the guest and never
 * exit; the exit counters show it.
 */
#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

#define X86_CR0_PE		BIT_ULL(0)
#define X86_CR0_MP		BIT_ULL(1)
#define X86_CR0_TS		BIT_ULL(3)
#define X86_CR0_NE		BIT_ULL(5)
#define X86_CR0_NW		BIT_ULL(29)
#define X86_CR0_CD		BIT_ULL(30)
#define X86_CR0_PG		BIT_ULL(31)
#define X86_CR4_PAE		BIT_ULL(5)
#define X86_CR4_PGE		BIT_ULL(7)
#define X86_CR4_VMXE		BIT_ULL(13)
#define EFER_LME		BIT_ULL(8)
#define EFER_LMA		BIT_ULL(10)
#define GP_VECTOR		13

FIXTURE(cr) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(cr)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(cr)
{
	if (self->vm)
		vm_free(self->vm);
}

static __u64 cr_exits(struct vcpu *vcpu)
{
	struct vmxlab_vcpu_stats stats;

	vcpu_stats_get(vcpu, &stats);
	return stats.exits[VMX_EXIT_CR_ACCESS];
}

/* --- long mode: which writes exit, and what the guest reads back -------- */

static void guest_cr_bits(void)
{
	__u64 cr0 = guest_read_cr0(), cr4 = guest_read_cr4(), v;
	int vector;

	/* Bits the guest owns: TS by MOV, CLTS and LMSW; MP; CR4.PGE. */
	GUEST_ASSERT(cr0 & X86_CR0_NE);
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0 | X86_CR0_TS),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT(guest_read_cr0() & X86_CR0_TS);
	asm volatile("clts" : : : "memory");
	GUEST_ASSERT_EQ(guest_read_cr0() & X86_CR0_TS, 0);
	v = (cr0 & 0xf) ^ X86_CR0_MP;
	asm volatile("lmsw %w0" : : "r"(v) : "memory");
	GUEST_ASSERT_EQ(guest_read_cr0(), cr0 ^ X86_CR0_MP);
	asm volatile("lmsw %w0" : : "r"(cr0 & 0xf) : "memory");
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4 ^ X86_CR4_PGE),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_write_cr4_safe(cr4), GUEST_NO_EXCEPTION);
	GUEST_SYNC(1);

	/* CR0.NE is vmxlab's: each change exits, the guest sees its value. */
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0 & ~X86_CR0_NE),
			GUEST_NO_EXCEPTION);
	GUEST_SYNC(2, guest_read_cr0());
	GUEST_ASSERT_EQ(guest_write_cr0_safe(cr0), GUEST_NO_EXCEPTION);
	GUEST_SYNC(3, guest_read_cr0());

	/* The exit must still do MOV to CR0's checks: NW without CD. */
	vector = guest_write_cr0_safe((cr0 & ~(X86_CR0_NE | X86_CR0_CD)) |
				      X86_CR0_NW);
	GUEST_SYNC(4, vector, guest_read_cr0());

	/* CR4.VMXE: #GP, alone or with a change the guest may make. */
	vector = guest_write_cr4_safe(cr4 | X86_CR4_VMXE);
	GUEST_SYNC(5, vector, guest_read_cr4());
	vector = guest_write_cr4_safe((cr4 ^ X86_CR4_PGE) | X86_CR4_VMXE);
	GUEST_SYNC(6, vector, guest_read_cr4());
	GUEST_DONE();
}

static void expect_stage(struct __test_metadata *_metadata, struct vcpu *vcpu,
			 struct ucall *uc, __u64 stage)
{
	char buf[256];

	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, uc))
		TH_LOG("stage %llu: %s", (unsigned long long)stage,
		       ucall_str(uc, buf, sizeof(buf)));
	ASSERT_EQ(stage, uc->args[0]);
}

TEST_F_TIMEOUT(cr, owned_bits_exit_and_read_the_shadow, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;
	__u64 cr0, cr4;

	if (shadow_rerun())
		SKIP(return, "shadow paging: CR0.PG/WP and CR4.PGE exit there too");
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_cr_bits);
	vcpu_sregs_get(self->vcpu, &sregs);
	cr0 = sregs.cr0;
	cr4 = sregs.cr4;

	expect_stage(_metadata, self->vcpu, &self->uc, 1);
	EXPECT_EQ(0, cr_exits(self->vcpu))
		TH_LOG("TS, CLTS, LMSW and CR4.PGE must not exit");

	expect_stage(_metadata, self->vcpu, &self->uc, 2);
	EXPECT_EQ(cr0 & ~X86_CR0_NE, self->uc.args[1]) TH_LOG("CR0 read");
	EXPECT_EQ(1, cr_exits(self->vcpu));
	vcpu_sregs_get(self->vcpu, &sregs);
	EXPECT_EQ(cr0 & ~X86_CR0_NE, sregs.cr0) TH_LOG("GET_SREGS CR0");

	expect_stage(_metadata, self->vcpu, &self->uc, 3);
	EXPECT_EQ(cr0, self->uc.args[1]);
	EXPECT_EQ(2, cr_exits(self->vcpu));

	expect_stage(_metadata, self->vcpu, &self->uc, 4);
	EXPECT_EQ(GP_VECTOR, (int)self->uc.args[1]) TH_LOG("CR0.NW without CD");
	EXPECT_EQ(cr0, self->uc.args[2]) TH_LOG("CR0 after the #GP");

	expect_stage(_metadata, self->vcpu, &self->uc, 5);
	EXPECT_EQ(GP_VECTOR, (int)self->uc.args[1]) TH_LOG("CR4.VMXE");
	EXPECT_EQ(cr4, self->uc.args[2]);
	expect_stage(_metadata, self->vcpu, &self->uc, 6);
	EXPECT_EQ(GP_VECTOR, (int)self->uc.args[1]) TH_LOG("CR4.VMXE|PGE");
	EXPECT_EQ(cr4, self->uc.args[2]) TH_LOG("no part of it is done");
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

/* --- IA-32e mode switched on and off by a CR0 write that exits --------- */

/*
 * Identity-mapped first 2 MiB for 4-level paging: PML4 -> PDPT -> PD with
 * one large page.  The 32-bit code turns on PAE and EFER.LME, then paging
 * with a MOV to CR0 that also sets NE, so that it exits: the handler
 * must activate IA-32e mode (EFER.LMA and the "IA-32e mode guest" entry
 * control, SDM Vol. 3A, 10.8.5), else the next VM entry fails.  The code
 * goes on in compatibility mode, then turns paging off again (NE back
 * off, another exit), which must deactivate it.  (vcpu_setup_protected32()
 * starts with CR0.NE clear.)
 */
#define PML4_GPA		0x10000
#define PDPT_GPA		0x11000
#define PD_GPA			0x12000

GUEST_CODE_BLOB(long_mode_switch_code, 32,
		"	mov %cr4, %eax\n"
		"	or $0x20, %eax\n"			/* PAE */
		"	mov %eax, %cr4\n"
		"	mov $" VMXLAB_STR(PML4_GPA) ", %eax\n"
		"	mov %eax, %cr3\n"
		"	mov $0xc0000080, %ecx\n"
		"	rdmsr\n"
		"	or $0x100, %eax\n"			/* EFER.LME */
		"	wrmsr\n"
		"	mov %cr0, %eax\n"
		"	or $0x80000020, %eax\n"			/* PG; NE: exit */
		"	mov %eax, %cr0\n"
		"	mov $0x4c4d, %ax\n"
		"	out %ax, $0x10\n"			/* still running */
		"	hlt\n"
		"	mov %cr0, %eax\n"
		"	and $0x7fffffdf, %eax\n"		/* PG off; NE: exit */
		"	mov %eax, %cr0\n"
		"	hlt\n");

TEST_F_TIMEOUT(cr, long_mode_activated_by_the_handler, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;
	__u64 *pml4, *pdpt, *pd;
	char *low;

	self->vm = vm_create_bare();
	low = vm_add_low_memory(self->vm);
	pml4 = (__u64 *)(low + PML4_GPA);
	pdpt = (__u64 *)(low + PDPT_GPA);
	pd = (__u64 *)(low + PD_GPA);
	pml4[0] = PDPT_GPA | 3;		/* present, writable */
	pdpt[0] = PD_GPA | 3;
	pd[0] = 0 | 0x83;		/* present, writable, 2 MiB page */
	vm_load_blob(self->vm, LOW_CODE_GPA, long_mode_switch_code,
		     long_mode_switch_code_end);
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_protected32(self->vcpu, LOW_CODE_GPA);

	EXPECT_EQ(0x4c4d, vcpu_run_expect_out(self->vcpu, 0x10, 2));
	vcpu_run_expect_hlt(self->vcpu);
	vcpu_sregs_get(self->vcpu, &sregs);
	EXPECT_EQ(EFER_LME | EFER_LMA, sregs.efer & (EFER_LME | EFER_LMA))
		TH_LOG("EFER %#llx: IA-32e mode must be active",
		       (unsigned long long)sregs.efer);
	EXPECT_EQ(X86_CR0_PG | X86_CR0_PE | X86_CR0_NE,
		  sregs.cr0 & (X86_CR0_PG | X86_CR0_PE | X86_CR0_NE));
	EXPECT_EQ(0, sregs.cs.l) TH_LOG("compatibility mode: CS.L stays 0");
	/*
	 * CR4.PAE and CR3 are the guest's: one exit, for CR0.  Under shadow
	 * paging they are vmxlab's (paging.rst): three.
	 */
	EXPECT_EQ(vm_is_shadow(self->vm) ? 3 : 1, cr_exits(self->vcpu));

	vcpu_run_expect_hlt(self->vcpu);
	vcpu_sregs_get(self->vcpu, &sregs);
	EXPECT_EQ(EFER_LME, sregs.efer & (EFER_LME | EFER_LMA))
		TH_LOG("EFER %#llx: paging off leaves IA-32e mode",
		       (unsigned long long)sregs.efer);
	EXPECT_EQ(X86_CR0_PE,
		  sregs.cr0 & (X86_CR0_PG | X86_CR0_PE | X86_CR0_NE));
	EXPECT_EQ(vm_is_shadow(self->vm) ? 4 : 2, cr_exits(self->vcpu));
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
