// SPDX-License-Identifier: GPL-2.0
/*
 * XSAVE from a running guest, on whatever host the VM runner booted: the
 * main lane (Bochs' Haswell: x87, SSE, AVX), the skylake_x lane (AVX-512,
 * where a partial AVX-512 XCR0 once crashed the host in its own XSETBV)
 * and the noxsave lane (the host runs without CR4.OSXSAVE, where any run
 * once oopsed on an XSETBV that raised #UD in the host).  Expected values
 * come from the SDM (Vol. 1, 13.3; Vol. 2D, XSETBV), the host's own XCR0
 * and /proc/cmdline, never from the module.
 */
#include <cpuid.h>
#include <string.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

#define UD_VECTOR		6
#define GP_VECTOR		13

#define CR4_OSXSAVE		BIT_ULL(18)
#define CPUID_1_ECX_XSAVE	BIT(26)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_AVX		BIT(28)

#define SEPARATORS	"\n\t "

/* Does the VM's kernel command line hold @word? */
static bool cmdline_has(const char *word)
{
	char line[4096], *tok, *save;
	bool found = false;
	FILE *f = fopen("/proc/cmdline", "re");

	if (!f)
		return false;
	if (fgets(line, sizeof(line), f))
		for (tok = strtok_r(line, SEPARATORS, &save); tok && !found;
		     tok = strtok_r(NULL, SEPARATORS, &save))
			found = !strcmp(tok, word);
	fclose(f);
	return found;
}

FIXTURE(xsave) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
	__u64 host_xcr0;	/* 0: the host runs without CR4.OSXSAVE */
};

FIXTURE_SETUP(xsave)
{
	self->vm = NULL;
	self->host_xcr0 = host_xcr0();
	/* The noxsave lane must really be one, or it tests nothing. */
	if (cmdline_has("noxsave"))
		ASSERT_EQ(0, self->host_xcr0)
			TH_LOG("booted with noxsave, yet the host has XCR0");
}

FIXTURE_TEARDOWN(xsave)
{
	if (self->vm)
		vm_free(self->vm);
}

/* --- XSETBV: every #GP(0) rule, and what the CPU loads -------------------- */

/*
 * One XSETBV of the table below.  @needs: the state components the value
 * enables, which the host must have for it to be loadable at all; @ok:
 * whether the value obeys the SDM's rules once they are all there.
 */
struct xsetbv_case {
	__u32 xcr;
	__u64 value;
	__u64 needs;
	bool ok;
};

static struct xsetbv_case xsetbv_cases[] = {
	{ 0, 0x1, 0x1, true },
	{ 0, 0x3, 0x3, true },
	{ 0, 0x7, 0x7, true },
	{ 0, 0xe7, 0xe7, true },		/* all of AVX-512 */
	{ 0, 0x1b, 0x1b, true },		/* both MPX components */
	{ 0, 0x0, 0, false },			/* x87 off */
	{ 0, 0x2, 0, false },			/* x87 off */
	{ 0, 0x6, 0, false },			/* x87 off */
	{ 0, 0x5, 0, false },			/* AVX without SSE */
	{ 0, 0x27, 0, false },			/* opmask alone: the crash */
	{ 0, 0x47, 0, false },			/* ZMM_Hi256 alone */
	{ 0, 0x87, 0, false },			/* Hi16_ZMM alone */
	{ 0, 0x67, 0, false },
	{ 0, 0xa7, 0, false },
	{ 0, 0xc7, 0, false },
	{ 0, 0xe3, 0, false },			/* AVX-512 without AVX */
	{ 0, 0x0b, 0, false },			/* BNDREGS alone */
	{ 0, 0x13, 0, false },			/* BNDCSR alone */
	{ 0, 0x3 | 1ULL << 17, 0, false },	/* TILECFG alone */
	{ 0, 0x3 | 1ULL << 18, 0, false },	/* TILEDATA alone */
	{ 0, 0x103, 0, false },			/* PT: supervisor state */
	{ 0, 0x203, 0, false },			/* PKRU: stays the host's */
	{ 0, 0x3 | 1ULL << 11, 0, false },	/* CET user: supervisor */
	{ 0, 0x3 | 1ULL << 62, 0, false },	/* reserved */
	{ 0, 0x3 | 1ULL << 63, 0, false },	/* reserved */
	{ 1, 0x1, 0, false },			/* XCR1 is not writable */
};

/* What the guest saw: the XSETBV's exception, then XCR0. */
struct xsetbv_result {
	int vector;
	__u64 xcr0_after;
};

static struct xsetbv_result xsetbv_results[VMXLAB_ARRAY_SIZE(xsetbv_cases)];

/* Try each value; put XCR0 back after each one that loads. */
static void guest_xsetbv_table(__u64 start_xcr0)
{
	unsigned int i;

	/* A first #GP maps the exception path before the table. */
	GUEST_ASSERT_EQ(guest_xsetbv_safe(0, 0), GP_VECTOR);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(xsetbv_cases); i++) {
		const struct xsetbv_case *c = &xsetbv_cases[i];
		struct xsetbv_result *r = &xsetbv_results[i];

		r->vector = guest_xsetbv_safe(c->xcr, c->value);
		r->xcr0_after = guest_xgetbv(0);
		GUEST_ASSERT_EQ(guest_xsetbv_safe(0, start_xcr0),
				GUEST_NO_EXCEPTION);
	}
	GUEST_DONE();
}

TEST_F_TIMEOUT(xsave, xsetbv_rules, TIMEOUT_S)
{
	unsigned int i;
	__u64 start;

	if (!self->host_xcr0)
		SKIP(return, "the host runs without XSAVE (offered_iff_host_has_it covers it)");
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_xsetbv_table);
	start = self->host_xcr0 & 0x3;
	vcpu_args_set(self->vcpu, 1, start);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vm_sync_from_guest(self->vm, xsetbv_results, sizeof(xsetbv_results));

	for (i = 0; i < VMXLAB_ARRAY_SIZE(xsetbv_cases); i++) {
		const struct xsetbv_case *c = &xsetbv_cases[i];
		const struct xsetbv_result *r = &xsetbv_results[i];
		bool loads = c->ok && (c->needs & ~self->host_xcr0) == 0;

		EXPECT_EQ(loads ? GUEST_NO_EXCEPTION : GP_VECTOR, r->vector)
			TH_LOG("XSETBV(%u, %#llx) on a host with XCR0 %#llx",
			       c->xcr, (unsigned long long)c->value,
			       (unsigned long long)self->host_xcr0);
		EXPECT_EQ(loads ? c->value : start, r->xcr0_after)
			TH_LOG("XCR0 after XSETBV(%u, %#llx)", c->xcr,
			       (unsigned long long)c->value);
	}
	/* The vCPU is still usable, and so is the host's XCR0. */
	EXPECT_EQ(host_xcr0(), self->host_xcr0);
}

/* --- XSAVE is offered exactly when the host has it ------------------------ */

struct xsave_view {
	__u32 cpuid1_ecx_before, cpuid1_ecx_after;
	__u32 cpuid_d[4];
	int xsetbv_without_osxsave;
	int set_osxsave;
};

static struct xsave_view xsave_view;

static void guest_xsave_view(void)
{
	__u32 out[4];

	/* Start from CR4.OSXSAVE = 0, whatever the library chose. */
	GUEST_ASSERT_EQ(guest_write_cr4_safe(guest_read_cr4() & ~CR4_OSXSAVE),
			GUEST_NO_EXCEPTION);
	guest_cpuid(1, 0, out);
	xsave_view.cpuid1_ecx_before = out[2];
	guest_cpuid(0xd, 0, xsave_view.cpuid_d);
	xsave_view.xsetbv_without_osxsave = guest_xsetbv_safe(0, 1);
	xsave_view.set_osxsave =
		guest_write_cr4_safe(guest_read_cr4() | CR4_OSXSAVE);
	guest_cpuid(1, 0, out);
	xsave_view.cpuid1_ecx_after = out[2];
	GUEST_DONE();
}

TEST_F_TIMEOUT(xsave, offered_iff_host_has_it, TIMEOUT_S)
{
	struct xsave_view *v = &xsave_view;
	bool host = self->host_xcr0 != 0;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_xsave_view);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vm_sync_from_guest(self->vm, &xsave_view, sizeof(xsave_view));

	/* OSXSAVE in CPUID mirrors the guest's CR4.OSXSAVE (SDM Vol. 2A). */
	EXPECT_EQ(0, v->cpuid1_ecx_before & CPUID_1_ECX_OSXSAVE);
	/* XSETBV with CR4.OSXSAVE = 0 is #UD (SDM Vol. 2D). */
	EXPECT_EQ(UD_VECTOR, v->xsetbv_without_osxsave);
	if (host) {
		EXPECT_NE(0, v->cpuid1_ecx_before & CPUID_1_ECX_XSAVE);
		EXPECT_EQ(GUEST_NO_EXCEPTION, v->set_osxsave);
		EXPECT_NE(0, v->cpuid1_ecx_after & CPUID_1_ECX_OSXSAVE);
		/* Leaf 0xD lists at least x87 and SSE. */
		EXPECT_EQ(3, v->cpuid_d[0] & 3);
	} else {
		EXPECT_EQ(0, v->cpuid1_ecx_before &
			  (CPUID_1_ECX_XSAVE | CPUID_1_ECX_AVX));
		EXPECT_EQ(GP_VECTOR, v->set_osxsave);
		EXPECT_EQ(0, v->cpuid1_ecx_after & CPUID_1_ECX_OSXSAVE);
		EXPECT_EQ(0, v->cpuid_d[0] | v->cpuid_d[1] | v->cpuid_d[2] |
			  v->cpuid_d[3]);
	}
}

/*
 * With a CPUID table from userspace, OSXSAVE still follows CR4.OSXSAVE
 * (SDM Vol. 2A, CPUID: "a value of 1 indicates that the OS has set
 * CR4.OSXSAVE"): the table's bit 27 says the opposite of CR4 each time.
 */
#define OSXSAVE_ROUNDS		2

static __u32 table_ecx[OSXSAVE_ROUNDS][2];	/* [round][CR4.OSXSAVE] */
static int table_set_osxsave[OSXSAVE_ROUNDS];

static void guest_osxsave_table(void)
{
	__u32 out[4];
	int round;

	for (round = 0; round < OSXSAVE_ROUNDS; round++) {
		GUEST_ASSERT_EQ(guest_write_cr4_safe(guest_read_cr4() & ~CR4_OSXSAVE),
				GUEST_NO_EXCEPTION);
		guest_cpuid(1, 0, out);
		table_ecx[round][0] = out[2];
		table_set_osxsave[round] =
			guest_write_cr4_safe(guest_read_cr4() | CR4_OSXSAVE);
		guest_cpuid(1, 0, out);
		table_ecx[round][1] = out[2];
		GUEST_SYNC(round);
	}
	GUEST_DONE();
}

TEST_F_TIMEOUT(xsave, osxsave_follows_cr4_with_a_table, TIMEOUT_S)
{
	struct vmxlab_cpuid_entry leaf1 = { .function = 1 };
	bool host = self->host_xcr0 != 0;
	int round;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_osxsave_table);
	for (round = 0; round < OSXSAVE_ROUNDS; round++) {
		/* Round 0: the table claims OSXSAVE; round 1: it denies it. */
		leaf1.ecx = CPUID_1_ECX_XSAVE | (round ? 0 : CPUID_1_ECX_OSXSAVE);
		ASSERT_EQ(0, vcpu_set_cpuid(self->vcpu, &leaf1, 1));
		ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vm_sync_from_guest(self->vm, table_ecx, sizeof(table_ecx));
	vm_sync_from_guest(self->vm, table_set_osxsave, sizeof(table_set_osxsave));

	for (round = 0; round < OSXSAVE_ROUNDS; round++) {
		EXPECT_EQ(0, table_ecx[round][0] & CPUID_1_ECX_OSXSAVE)
			TH_LOG("round %d: CR4.OSXSAVE clear, CPUID says set", round);
		EXPECT_NE(0, table_ecx[round][0] & CPUID_1_ECX_XSAVE)
			TH_LOG("round %d: the table's other bits must stay", round);
		if (!host) {
			/* No OSXSAVE in the host: the guest cannot set it. */
			EXPECT_EQ(GP_VECTOR, table_set_osxsave[round]);
			EXPECT_EQ(0, table_ecx[round][1] & CPUID_1_ECX_OSXSAVE);
			continue;
		}
		EXPECT_EQ(GUEST_NO_EXCEPTION, table_set_osxsave[round]);
		EXPECT_NE(0, table_ecx[round][1] & CPUID_1_ECX_OSXSAVE)
			TH_LOG("round %d: CR4.OSXSAVE set, CPUID says clear", round);
	}
}

/*
 * CR4 bits of features the guest is not offered (SMX, protection keys,
 * CET, PKS): #GP, whether or not the CPU has them, so that the host's
 * PKRU and CET state never become the guest's.
 */
static int cr4_hidden_vector[4];

static void guest_cr4_hidden(void)
{
	static const int bits[4] = { 14, 22, 23, 24 };
	int i;

	for (i = 0; i < 4; i++)
		cr4_hidden_vector[i] =
			guest_write_cr4_safe(guest_read_cr4() | BIT_ULL(bits[i]));
	GUEST_DONE();
}

TEST_F_TIMEOUT(xsave, cr4_of_hidden_features_refused, TIMEOUT_S)
{
	int i;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_cr4_hidden);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vm_sync_from_guest(self->vm, cr4_hidden_vector, sizeof(cr4_hidden_vector));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(GP_VECTOR, cr4_hidden_vector[i]) TH_LOG("CR4 bit %d", i);
}

/* VMXLAB_SET_SREGS obeys the same rule as MOV to CR4. */
TEST_F_TIMEOUT(xsave, set_sregs_osxsave, TIMEOUT_S)
{
	struct vmxlab_sregs sregs;
	int r;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_xsave_view);
	vcpu_sregs_get(self->vcpu, &sregs);
	sregs.cr4 |= CR4_OSXSAVE;
	r = __vcpu_ioctl(self->vcpu, VMXLAB_SET_SREGS, &sregs);
	if (self->host_xcr0) {
		EXPECT_EQ(0, r);
	} else {
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EINVAL, errno);
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
