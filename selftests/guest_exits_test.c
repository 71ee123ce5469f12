// SPDX-License-Identifier: GPL-2.0
/*
 * One test per VM exit the hypervisor handles, from a running guest: what
 * the guest sees (registers, injected exceptions), what the host sees (run
 * page, exit counters), and failed entries and exits nobody handles.
 */
#include <cpuid.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

#define UD_VECTOR		6
#define GP_VECTOR		13

#define MSR_IA32_TSC		0x10
#define MSR_IA32_APICBASE	0x1b
#define MSR_IA32_SPEC_CTRL	0x48
#define MSR_IA32_PRED_CMD	0x49
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_IA32_CR_PAT		0x277
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_TSC_AUX		0xc0000103

#define EFER_SCE		BIT_ULL(0)
#define EFER_LME		BIT_ULL(8)
#define EFER_LMA		BIT_ULL(10)
#define EFER_NX			BIT_ULL(11)

#define CPUID_1_ECX_MONITOR	BIT(3)
#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_1_ECX_PDCM	BIT(15)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_HYPERVISOR	BIT(31)

#define NONCANONICAL		0x8000000000000000ULL

FIXTURE(exits) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(exits)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(exits)
{
	if (self->vm)
		vm_free(self->vm);
}

/* A long-mode VM in *@vm with vCPU 0 about to run @guest_code. */
static struct vcpu *exits_start(struct vm **vm, void *guest_code)
{
	*vm = vm_create();
	return vm_vcpu_add(*vm, 0, guest_code);
}

/* --- CPUID ------------------------------------------------------------------- */

/* The guest answers CPUID questions: leaf and index come in by IN. */
static void guest_cpuid_server(void)
{
	__u32 out[4], leaf, index;

	for (;;) {
		leaf = inl(0x20);
		index = inl(0x21);
		guest_cpuid(leaf, index, out);
		GUEST_SYNC(out[0], out[1], out[2], out[3],
			   !!(guest_read_cr4() & BIT_ULL(18)));
	}
}

static void guest_cpuid_query(struct vcpu *vcpu, __u32 leaf, __u32 index,
			      __u32 out[4], bool *osxsave)
{
	struct ucall uc;
	int i;

	vcpu_run_expect_in(vcpu, 0x20, 4, leaf);
	vcpu_run_expect_in(vcpu, 0x21, 4, index);
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_SYNC, "no SYNC");
	for (i = 0; i < 4; i++)
		out[i] = uc.args[i];
	if (osxsave)
		*osxsave = uc.args[4];
}

TEST_F_TIMEOUT(exits, cpuid_default_table, TIMEOUT_S)
{
	static const __u32 same_leaves[][2] = { { 0, 0 }, { 0x80000000, 0 } };
	unsigned int host[4], max;
	__u32 guest[4];
	bool osxsave;
	size_t i;
	int r;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 5, guest_cpuid_server);

	/* Leaves passed through unchanged. */
	max = __get_cpuid_max(0, NULL);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(same_leaves); i++) {
		__u32 leaf = same_leaves[i][0], index = same_leaves[i][1];

		if (leaf < 0x80000000 && leaf > max)
			continue;
		__cpuid_count(leaf, index, host[0], host[1], host[2], host[3]);
		guest_cpuid_query(self->vcpu, leaf, index, guest, NULL);
		for (r = 0; r < 4; r++) {
			EXPECT_EQ(host[r], guest[r])
				TH_LOG("leaf %#x.%u register %d", leaf, index, r);
		}
	}

	/* Leaf 1: VMX hidden, hypervisor bit set, APIC id = vCPU id. */
	__cpuid_count(1, 0, host[0], host[1], host[2], host[3]);
	guest_cpuid_query(self->vcpu, 1, 0, guest, &osxsave);
	EXPECT_EQ(host[0], guest[0]);
	EXPECT_EQ(host[1] & 0x00ffffff, guest[1] & 0x00ffffff);
	EXPECT_EQ(5, guest[1] >> 24) TH_LOG("initial APIC id is not the vCPU id");
	EXPECT_EQ(0, guest[2] & CPUID_1_ECX_VMX) TH_LOG("VMX visible to the guest");
	EXPECT_EQ(0, guest[2] & CPUID_1_ECX_MONITOR);
	EXPECT_EQ(0, guest[2] & CPUID_1_ECX_PDCM) TH_LOG("no PMU, no PDCM");
	EXPECT_NE(0, guest[2] & CPUID_1_ECX_HYPERVISOR) TH_LOG("no hypervisor bit");
	EXPECT_EQ(osxsave, !!(guest[2] & CPUID_1_ECX_OSXSAVE))
		TH_LOG("OSXSAVE does not mirror the guest's CR4.OSXSAVE");
	/*
	 * Only what the host has, and only what works in a guest: which
	 * bits that is, guest_cpuid_test checks bit by bit.
	 */
	EXPECT_EQ(0, guest[2] & ~host[2] &
		  ~(CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_HYPERVISOR));
	EXPECT_EQ(0, guest[3] & ~host[3]);

	/* No virtual PMU: the performance-monitoring leaf is empty. */
	if (max >= 0xa) {
		guest_cpuid_query(self->vcpu, 0xa, 0, guest, NULL);
		EXPECT_EQ(0, guest[0] | guest[1] | guest[2] | guest[3]);
	}

	/* The hypervisor leaf: "vmxlabvmxlab". */
	guest_cpuid_query(self->vcpu, 0x40000000, 0, guest, NULL);
	EXPECT_EQ(0x40000000, guest[0]);
	EXPECT_EQ(0, memcmp(&guest[1], "vmxlabvmxlab", 12))
		TH_LOG("signature %.12s", (char *)&guest[1]);
}

TEST_F_TIMEOUT(exits, cpuid_set_table, TIMEOUT_S)
{
	static const struct vmxlab_cpuid_entry table[] = {
		{ .function = 0, .eax = 0xd, .ebx = 0x11111111, .ecx = 0x22222222,
		  .edx = 0x33333333 },
		{ .function = 4, .index = 0, .flags = VMXLAB_CPUID_FLAG_INDEXED,
		  .eax = 0x40 },
		{ .function = 4, .index = 1, .flags = VMXLAB_CPUID_FLAG_INDEXED,
		  .eax = 0x41, .edx = 0x4141 },
		{ .function = 0x80000001, .ecx = 0x1, .edx = 0x20100800 },
	};
	static const struct {
		__u32 leaf, index, out[4];
	} queries[] = {
		{ 0, 0, { 0xd, 0x11111111, 0x22222222, 0x33333333 } },
		{ 0, 7, { 0xd, 0x11111111, 0x22222222, 0x33333333 } },	/* not indexed */
		{ 4, 0, { 0x40, 0, 0, 0 } },
		{ 4, 1, { 0x41, 0, 0, 0x4141 } },
		{ 4, 2, { 0, 0, 0, 0 } },		/* index not in the table */
		{ 1, 0, { 0, 0, 0, 0 } },		/* leaf not in the table */
		{ 0x40000000, 0, { 0, 0, 0, 0 } },	/* the table replaces it all */
		{ 0x80000001, 3, { 0, 0, 0x1, 0x20100800 } },
	};
	struct vmxlab_cpuid_entry bad;
	__u32 out[4];
	size_t i;
	int r;

	self->vcpu = exits_start(&self->vm, guest_cpuid_server);
	ASSERT_EQ(0, vcpu_set_cpuid(self->vcpu, table, VMXLAB_ARRAY_SIZE(table)));
	for (i = 0; i < VMXLAB_ARRAY_SIZE(queries); i++) {
		guest_cpuid_query(self->vcpu, queries[i].leaf, queries[i].index, out,
				  NULL);
		for (r = 0; r < 4; r++) {
			EXPECT_EQ(queries[i].out[r], out[r])
				TH_LOG("leaf %#x.%u register %d", queries[i].leaf,
				       queries[i].index, r);
		}
	}

	/* Refused tables change nothing. */
	errno = 0;
	EXPECT_EQ(-1, vcpu_set_cpuid(self->vcpu, table, VMXLAB_MAX_CPUID_ENTRIES + 1));
	EXPECT_EQ(E2BIG, errno);
	bad = table[0];
	bad.flags = 2;
	errno = 0;
	EXPECT_EQ(-1, vcpu_set_cpuid(self->vcpu, &bad, 1));
	EXPECT_EQ(EINVAL, errno);
	bad = table[0];
	bad.padding = 1;
	errno = 0;
	EXPECT_EQ(-1, vcpu_set_cpuid(self->vcpu, &bad, 1));
	EXPECT_EQ(EINVAL, errno);
	guest_cpuid_query(self->vcpu, 0, 0, out, NULL);
	EXPECT_EQ(0x11111111, out[1]) TH_LOG("a refused SET_CPUID changed the table");

	/* An empty table: every leaf reads as zeros. */
	ASSERT_EQ(0, vcpu_set_cpuid(self->vcpu, table, 0));
	guest_cpuid_query(self->vcpu, 0, 0, out, NULL);
	for (r = 0; r < 4; r++)
		EXPECT_EQ(0, out[r]);
}

/* --- HLT and port I/O --------------------------------------------------------- */

static void guest_hlt_twice(void)
{
	guest_hlt();
	GUEST_SYNC(1);
	guest_hlt();
	GUEST_SYNC(2);
}

TEST_F_TIMEOUT(exits, hlt, TIMEOUT_S)
{
	struct vmxlab_regs regs;
	__u64 before;

	self->vcpu = exits_start(&self->vm, guest_hlt_twice);
	before = vcpu_exit_count(self->vcpu, VMX_EXIT_HLT);
	vcpu_run_expect_hlt(self->vcpu);
	vcpu_regs_get(self->vcpu, &regs);
	/* RIP is past the HLT, in this binary's code. */
	EXPECT_EQ(0xf4, ((unsigned char *)regs.rip)[-1]);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(1, self->uc.args[0]);
	vcpu_run_expect_hlt(self->vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(2, self->uc.args[0]);
	EXPECT_EQ(before + 2, vcpu_exit_count(self->vcpu, VMX_EXIT_HLT));
}

/* IN with RAX all ones first: which bits does each size replace? */
static void guest_pio_sizes(void)
{
	__u64 b = ~0ULL, w = ~0ULL, l = ~0ULL;

	outb(0x40, 0x11);
	outw(0x41, 0x2233);
	outl(0x42, 0x44556677);
	outl(0xfffc, 0x8899aabb);
	asm volatile("inb $0x43, %%al" : "+a"(b));
	asm volatile("inw $0x44, %%ax" : "+a"(w));
	asm volatile("inl %%dx, %%eax" : "+a"(l) : "d"(0xfff8));
	GUEST_SYNC(b, w, l);
}

TEST_F_TIMEOUT(exits, pio_sizes, TIMEOUT_S)
{
	__u64 before;

	self->vcpu = exits_start(&self->vm, guest_pio_sizes);
	before = vcpu_exit_count(self->vcpu, VMX_EXIT_IO);
	EXPECT_EQ(0x11, vcpu_run_expect_out(self->vcpu, 0x40, 1));
	EXPECT_EQ(0x2233, vcpu_run_expect_out(self->vcpu, 0x41, 2));
	EXPECT_EQ(0x44556677, vcpu_run_expect_out(self->vcpu, 0x42, 4));
	EXPECT_EQ(0x8899aabb, vcpu_run_expect_out(self->vcpu, 0xfffc, 4));
	vcpu_run_expect_in(self->vcpu, 0x43, 1, 0x5a);
	vcpu_run_expect_in(self->vcpu, 0x44, 2, 0x5b5c);
	vcpu_run_expect_in(self->vcpu, 0xfff8, 4, 0x5d5e5f60);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(0xffffffffffffff5aULL, self->uc.args[0]) TH_LOG("IN AL");
	EXPECT_EQ(0xffffffffffff5b5cULL, self->uc.args[1]) TH_LOG("IN AX");
	EXPECT_EQ(0x5d5e5f60ULL, self->uc.args[2]) TH_LOG("IN EAX zero-extends");
	/* Seven, plus the ucall. */
	EXPECT_EQ(before + 8, vcpu_exit_count(self->vcpu, VMX_EXIT_IO));
}

/* REP OUTSB: the uapi documents io.count > 1 for the string forms. */
static const char pio_string[4] = "abcd";

static void guest_pio_string(void)
{
	const char *p = pio_string;
	__u64 n = 4;

	asm volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(0x50) : "memory");
	GUEST_SYNC(n, (__u64)p);
}

TEST_F_TIMEOUT(exits, pio_string_out, TIMEOUT_S)
{
	struct vmxlab_run *run;
	char buf[256];

	self->vcpu = exits_start(&self->vm, guest_pio_string);
	run = self->vcpu->run;
	vcpu_run(self->vcpu);
	ASSERT_EQ(VMXLAB_EXIT_IO, run->exit_reason)
		TH_LOG("REP OUTSB: %s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	EXPECT_EQ(VMXLAB_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(0x50, run->io.port);
	EXPECT_EQ(1, run->io.size);
	EXPECT_EQ(4, run->io.count);
	EXPECT_EQ(0, memcmp(vcpu_io_data(self->vcpu), "abcd", 4));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(0, self->uc.args[0]);
	EXPECT_EQ((__u64)pio_string + 4, self->uc.args[1]);
}

/* --- MSRs ---------------------------------------------------------------------- */

/* What the guest writes, then what the host writes with SET_MSRS. */
static const struct {
	__u32 index;
	__u64 value, host_value;
} msr_values[] = {
	{ MSR_STAR, 0x0023001000000000ULL, 0x0033002000000000ULL },
	{ MSR_LSTAR, 0xffffffff81000000ULL, 0xffffffff82000000ULL },
	{ MSR_CSTAR, 0xffffffff81000100ULL, 0xffffffff82000100ULL },
	{ MSR_SYSCALL_MASK, 0x47700, 0x700 },
	{ MSR_IA32_CR_PAT, 0x0007010600070106ULL, 0x0007040600070406ULL },
	{ MSR_SYSENTER_CS, 0x10, 0x20 },
	{ MSR_SYSENTER_ESP, 0xffff888000001000ULL, 0xffff888000003000ULL },
	{ MSR_SYSENTER_EIP, 0xffffffff81001000ULL, 0xffffffff81003000ULL },
	{ MSR_FS_BASE, GUEST_DATA_GPA, GUEST_DATA_GPA + 0x200 },
	{ MSR_GS_BASE, GUEST_DATA_GPA + 0x100, GUEST_DATA_GPA + 0x300 },
	{ MSR_KERNEL_GS_BASE, 0xffff888000002000ULL, 0xffff888000004000ULL },
};

static void guest_msrs(void)
{
	__u64 efer, t1, t2, t3, fs, gs;
	size_t i;

	for (i = 0; i < VMXLAB_ARRAY_SIZE(msr_values); i++)
		guest_wrmsr(msr_values[i].index, msr_values[i].value);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(msr_values); i++)
		GUEST_ASSERT_EQ(guest_rdmsr(msr_values[i].index), msr_values[i].value);

	/* FS and GS bases take effect: the host put values there. */
	asm volatile("mov %%fs:0, %0" : "=r"(fs));
	asm volatile("mov %%gs:0, %0" : "=r"(gs));
	GUEST_ASSERT_EQ(fs, 0x1122334455667788ULL);
	GUEST_ASSERT_EQ(gs, 0x99aabbccddeeff00ULL);

	/* SWAPGS exchanges GS.base and KERNEL_GS_BASE, across exits. */
	asm volatile("swapgs" : : : "memory");
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_GS_BASE), 0xffff888000002000ULL);
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_KERNEL_GS_BASE), GUEST_DATA_GPA + 0x100);
	asm volatile("swapgs" : : : "memory");
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_GS_BASE), GUEST_DATA_GPA + 0x100);

	/* EFER: LMA is set, SCE can be toggled. */
	efer = guest_rdmsr(MSR_EFER);
	GUEST_ASSERT_EQ(efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	guest_wrmsr(MSR_EFER, efer | EFER_SCE);
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_EFER), efer | EFER_SCE);

	/* The TSC MSR reads the same clock as RDTSC. */
	t1 = guest_rdtsc();
	t2 = guest_rdmsr(MSR_IA32_TSC);
	t3 = guest_rdtsc();
	GUEST_ASSERT(t1 < t2 && t2 < t3);

	GUEST_SYNC(1);
	/* The host set new values with VMXLAB_SET_MSRS. */
	for (i = 0; i < VMXLAB_ARRAY_SIZE(msr_values); i++)
		GUEST_ASSERT_EQ(guest_rdmsr(msr_values[i].index),
				msr_values[i].host_value);
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, msr_supported_set, TIMEOUT_S)
{
	__u64 fs_gs[2] = { 0x1122334455667788ULL, 0 }, before_rd, before_wr, v;
	size_t i, n = VMXLAB_ARRAY_SIZE(msr_values);
	char *data;

	self->vcpu = exits_start(&self->vm, guest_msrs);
	data = vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA, 0x1000, 0);
	memcpy(data, &fs_gs[0], 8);
	fs_gs[1] = 0x99aabbccddeeff00ULL;
	memcpy(data + 0x100, &fs_gs[1], 8);
	before_rd = vcpu_exit_count(self->vcpu, VMX_EXIT_RDMSR);
	before_wr = vcpu_exit_count(self->vcpu, VMX_EXIT_WRMSR);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(1, vcpu_get_msr(self->vcpu, msr_values[i].index, &v));
		EXPECT_EQ(msr_values[i].value, v)
			TH_LOG("MSR %#x as the host reads it", msr_values[i].index);
	}
	EXPECT_EQ(1, vcpu_get_msr(self->vcpu, MSR_EFER, &v));
	EXPECT_EQ(EFER_SCE, v & EFER_SCE);
	/* n writes, n reads, 6 more reads and 1 write of EFER, SWAPGS, TSC. */
	EXPECT_EQ(before_wr + n + 1, vcpu_exit_count(self->vcpu, VMX_EXIT_WRMSR));
	EXPECT_EQ(before_rd + n + 6, vcpu_exit_count(self->vcpu, VMX_EXIT_RDMSR));

	for (i = 0; i < n; i++)
		EXPECT_EQ(1, vcpu_set_msr(self->vcpu, msr_values[i].index,
					  msr_values[i].host_value));
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

/* A #GP handler that counts and resumes after the faulting instruction. */
static int gp_count;
static __u64 gp_error_code;

static void gp_handler(struct ex_regs *regs)
{
	gp_count++;
	gp_error_code = regs->error_code;
	GUEST_ASSERT(guest_ex_fixup(regs));
}

static void guest_msr_unsupported(void)
{
	__u64 v, efer = guest_rdmsr(MSR_EFER);

	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_IA32_APICBASE, &v), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_TSC_AUX, &v), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(0x40000000, &v), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_IA32_TSC, 0), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_FS_BASE, NONCANONICAL), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_KERNEL_GS_BASE, NONCANONICAL),
			GP_VECTOR);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_EFER, efer | 2), GP_VECTOR);
	/* LME may not change while paging is on. */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_EFER, efer & ~EFER_LME), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_EFER), efer);
	/*
	 * SPEC_CTRL and PRED_CMD are not offered (host-state.rst): the
	 * host's SPEC_CTRL stays loaded while the guest runs.
	 */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_IA32_SPEC_CTRL, 1), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_IA32_PRED_CMD, 1), GP_VECTOR);
	GUEST_ASSERT_EQ(gp_count, 10);
	GUEST_ASSERT_EQ(gp_error_code, 0);
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, msr_unsupported_gp, TIMEOUT_S)
{
	struct {
		struct vmxlab_msrs hdr;
		struct vmxlab_msr_entry e[VMXLAB_MAX_MSR_ENTRIES + 1];
	} msrs;

	self->vcpu = exits_start(&self->vm, guest_msr_unsupported);
	vm_install_exception_handler(self->vm, GP_VECTOR, gp_handler);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vm_sync_from_guest(self->vm, &gp_count, sizeof(gp_count));
	EXPECT_EQ(10, gp_count) TH_LOG("the guest's #GP handler did not run 10 times");

	/* The ioctls stop at the first MSR outside the set. */
	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 3;
	msrs.e[0].index = MSR_STAR;
	msrs.e[1].index = MSR_IA32_APICBASE;
	msrs.e[2].index = MSR_LSTAR;
	EXPECT_EQ(1, __vcpu_ioctl(self->vcpu, VMXLAB_GET_MSRS, &msrs));
	msrs.e[0].index = MSR_IA32_APICBASE;
	EXPECT_EQ(0, __vcpu_ioctl(self->vcpu, VMXLAB_SET_MSRS, &msrs));
	msrs.hdr.nmsrs = 1;
	msrs.e[0].index = MSR_EFER;
	msrs.e[0].data = 2;
	EXPECT_EQ(0, __vcpu_ioctl(self->vcpu, VMXLAB_SET_MSRS, &msrs))
		TH_LOG("EFER with a reserved bit accepted");
	msrs.hdr.nmsrs = VMXLAB_MAX_MSR_ENTRIES + 1;
	errno = 0;
	EXPECT_EQ(-1, __vcpu_ioctl(self->vcpu, VMXLAB_GET_MSRS, &msrs));
	EXPECT_EQ(E2BIG, errno);
}

/*
 * Values WRMSR must refuse with #GP (SDM Vol. 4 and Vol. 3A 13.x): a
 * non-canonical IA32_LSTAR or IA32_CSTAR, a PAT entry with a reserved
 * memory type (2, 3 or 8-0xff).
 */
static void guest_msr_invalid_values(void)
{
	GUEST_SYNC(guest_wrmsr_safe(MSR_LSTAR, NONCANONICAL),
		   guest_wrmsr_safe(MSR_CSTAR, NONCANONICAL),
		   guest_wrmsr_safe(MSR_IA32_CR_PAT, 0x0007010600070102ULL),
		   guest_wrmsr_safe(MSR_IA32_CR_PAT, 0x0007010600070108ULL));
}

TEST_F_TIMEOUT(exits, msr_invalid_values_gp, TIMEOUT_S)
{
	self->vcpu = exits_start(&self->vm, guest_msr_invalid_values);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(GP_VECTOR, self->uc.args[0]) TH_LOG("LSTAR non-canonical");
	EXPECT_EQ(GP_VECTOR, self->uc.args[1]) TH_LOG("CSTAR non-canonical");
	EXPECT_EQ(GP_VECTOR, self->uc.args[2]) TH_LOG("PAT type 2");
	EXPECT_EQ(GP_VECTOR, self->uc.args[3]) TH_LOG("PAT type 8");
}

/* --- control and debug registers ------------------------------------------------ */

static void guest_cr8(void)
{
	__u64 v;

	for (v = 0; v < 16; v++) {
		guest_write_cr8(15 - v);
		GUEST_ASSERT_EQ(guest_read_cr8(), 15 - v);
	}
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, cr8_round_trip, TIMEOUT_S)
{
	__u64 before;

	self->vcpu = exits_start(&self->vm, guest_cr8);
	before = vcpu_exit_count(self->vcpu, VMX_EXIT_CR_ACCESS);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(before + 32, vcpu_exit_count(self->vcpu, VMX_EXIT_CR_ACCESS));
}

/* MOV to CR8 with bits 63:4 set is a #GP (SDM Vol. 2B, MOV to CR). */
static void guest_cr8_reserved(void)
{
	guest_write_cr8(3);
	GUEST_SYNC(guest_write_cr8_safe(0x13), guest_read_cr8());
}

TEST_F_TIMEOUT(exits, cr8_reserved_bits_gp, TIMEOUT_S)
{
	self->vcpu = exits_start(&self->vm, guest_cr8_reserved);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(GP_VECTOR, self->uc.args[0]) TH_LOG("no #GP for CR8 = 0x13");
	EXPECT_EQ(3, self->uc.args[1]) TH_LOG("CR8 changed by a faulting write");
}

/* MOV to and from DR@n (the register number is part of the opcode). */
static inline void guest_write_dr(int n, __u64 v)
{
	switch (n) {
	case 0:
		asm volatile("mov %0, %%db0" : : "r"(v) : "memory");
		break;
	case 1:
		asm volatile("mov %0, %%db1" : : "r"(v) : "memory");
		break;
	case 2:
		asm volatile("mov %0, %%db2" : : "r"(v) : "memory");
		break;
	case 3:
		asm volatile("mov %0, %%db3" : : "r"(v) : "memory");
		break;
	case 6:
		asm volatile("mov %0, %%db6" : : "r"(v) : "memory");
		break;
	default:
		asm volatile("mov %0, %%db7" : : "r"(v) : "memory");
		break;
	}
}

static inline __u64 guest_read_dr(int n)
{
	__u64 v;

	switch (n) {
	case 0:
		asm volatile("mov %%db0, %0" : "=r"(v) : : "memory");
		break;
	case 1:
		asm volatile("mov %%db1, %0" : "=r"(v) : : "memory");
		break;
	case 2:
		asm volatile("mov %%db2, %0" : "=r"(v) : : "memory");
		break;
	case 3:
		asm volatile("mov %%db3, %0" : "=r"(v) : : "memory");
		break;
	case 4:
		asm volatile("mov %%db4, %0" : "=r"(v) : : "memory");
		break;
	case 5:
		asm volatile("mov %%db5, %0" : "=r"(v) : : "memory");
		break;
	case 6:
		asm volatile("mov %%db6, %0" : "=r"(v) : : "memory");
		break;
	default:
		asm volatile("mov %%db7, %0" : "=r"(v) : : "memory");
		break;
	}
	return v;
}

static int guest_mov_to_dr7_safe(__u64 v)
{
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("mov %[v], %%db7")
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : [v] "r"(v) : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

static int guest_mov_to_dr6_safe(__u64 v)
{
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("mov %[v], %%db6")
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : [v] "r"(v) : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

static const __u64 dr_values[4] = {
	0x1000, 0x2000, 0xffffffff81000000ULL, 0x7ffffffff000ULL,
};

static void guest_debug_regs(void)
{
	int i;

	/* A first #GP maps the exception path's pages before counting. */
	GUEST_ASSERT_EQ(guest_mov_to_dr7_safe(1ULL << 32), GP_VECTOR);
	GUEST_SYNC(0);

	for (i = 0; i < 4; i++)
		guest_write_dr(i, dr_values[i]);
	guest_write_dr(6, 0xffff4ff1);
	guest_write_dr(7, 0);
	for (i = 0; i < 4; i++)
		GUEST_ASSERT_EQ(guest_read_dr(i), dr_values[i]);
	GUEST_ASSERT_EQ(guest_read_dr(6), 0xffff4ff1);
	GUEST_ASSERT_EQ(guest_read_dr(7), 0x400);	/* bit 10 always reads 1 */

	/* CR4.DE is clear: DR4 and DR5 are DR6 and DR7. */
	guest_write_dr(7, 0x401);
	GUEST_ASSERT_EQ(guest_read_dr(4), 0xffff4ff1);
	GUEST_ASSERT_EQ(guest_read_dr(5), 0x401);

	/* The upper halves of DR6 and DR7 are reserved: #GP. */
	GUEST_ASSERT_EQ(guest_mov_to_dr7_safe(1ULL << 32), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_mov_to_dr6_safe(1ULL << 40), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_read_dr(7), 0x401);
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, debug_regs_round_trip, TIMEOUT_S)
{
	__u64 before;

	self->vcpu = exits_start(&self->vm, guest_debug_regs);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	before = vcpu_exit_count(self->vcpu, VMX_EXIT_DR_ACCESS);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(before + 18, vcpu_exit_count(self->vcpu, VMX_EXIT_DR_ACCESS));
}

/* --- XSETBV, WBINVD, INVD -------------------------------------------------------- */

static void guest_xsetbv(__u64 host_xcr0)
{
	/* A first #GP maps the exception path's pages before counting. */
	GUEST_ASSERT_EQ(guest_xsetbv_safe(0, 0), GP_VECTOR);
	GUEST_SYNC(0);
	GUEST_ASSERT_EQ(guest_xsetbv_safe(0, 3), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_xgetbv(0), 3);
	GUEST_ASSERT_EQ(guest_xsetbv_safe(0, host_xcr0), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_xgetbv(0), host_xcr0);

	GUEST_ASSERT_EQ(guest_xsetbv_safe(0, 0), GP_VECTOR);	/* no x87 */
	GUEST_ASSERT_EQ(guest_xsetbv_safe(0, 2), GP_VECTOR);	/* no x87 */
	GUEST_ASSERT_EQ(guest_xsetbv_safe(1, 1), GP_VECTOR);	/* XCR1 */
	GUEST_ASSERT_EQ(guest_xsetbv_safe(0, 3 | 1ULL << 62), GP_VECTOR);
	if (host_xcr0 & 4)					/* AVX without SSE */
		GUEST_ASSERT_EQ(guest_xsetbv_safe(0, 5), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_xgetbv(0), host_xcr0);
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, xsetbv, TIMEOUT_S)
{
	__u64 xcr0 = host_xcr0(), before;

	if (!xcr0 || (xcr0 & 3) != 3)
		SKIP(return, "the host has no XSAVE with SSE state");
	self->vcpu = exits_start(&self->vm, guest_xsetbv);
	vcpu_args_set(self->vcpu, 1, xcr0 & 0xe7);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	before = vcpu_exit_count(self->vcpu, VMX_EXIT_XSETBV);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(before + 6 + !!(xcr0 & 4), vcpu_exit_count(self->vcpu, VMX_EXIT_XSETBV));
}

static void guest_wbinvd_invd(void)
{
	asm volatile("wbinvd" : : : "memory");
	asm volatile("invd" : : : "memory");
	asm volatile("wbinvd" : : : "memory");
	GUEST_DONE();
}

/*
 * INVD always exits (SDM Vol. 3C 25.1.2).  WBINVD exits when "WBINVD
 * exiting" is set (25.1.3); vmxlab sets it whenever the CPU allows it and
 * every CPU the tests run on (Bochs) does, so each WBINVD is exactly one
 * exit: none means the control was dropped, two means a handler re-ran.
 */
TEST_F_TIMEOUT(exits, wbinvd_invd_resume, TIMEOUT_S)
{
	__u64 wbinvd, invd;

	self->vcpu = exits_start(&self->vm, guest_wbinvd_invd);
	wbinvd = vcpu_exit_count(self->vcpu, VMX_EXIT_WBINVD);
	invd = vcpu_exit_count(self->vcpu, VMX_EXIT_INVD);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	wbinvd = vcpu_exit_count(self->vcpu, VMX_EXIT_WBINVD) - wbinvd;
	EXPECT_EQ(2, wbinvd) TH_LOG("%llu WBINVD exits for 2 WBINVDs", wbinvd);
	EXPECT_EQ(invd + 1, vcpu_exit_count(self->vcpu, VMX_EXIT_INVD));
}

/* --- VMX instructions in the guest: #UD --------------------------------------- */

static __u64 vmx_operand[2];

#define GUEST_VMX_UD(name, insn, ...) do {				\
	int __vector;							\
	__u64 __ec;							\
									\
	asm volatile(GUEST_ASM_SAFE(insn)				\
		     : GUEST_ASM_SAFE_OUTPUTS(__vector, __ec)		\
		     : [mem] "m"(vmx_operand), [reg] "r"(0ULL),		\
		       [ptr] "r"(vmx_operand)				\
		     : GUEST_ASM_SAFE_CLOBBERS);			\
	if (__vector != UD_VECTOR)					\
		guest_ucall_assert(__FILE__, __LINE__, name, 2,		\
				   __vector, UD_VECTOR);		\
} while (0)

static void guest_vmx_instructions(void)
{
	/* A first #UD maps the exception path's pages before counting. */
	GUEST_VMX_UD("vmcall", "vmcall");
	GUEST_SYNC(0);
	GUEST_VMX_UD("vmcall", "vmcall");
	GUEST_VMX_UD("vmxon", "vmxon %[mem]");
	GUEST_VMX_UD("vmxoff", "vmxoff");
	GUEST_VMX_UD("vmclear", "vmclear %[mem]");
	GUEST_VMX_UD("vmptrld", "vmptrld %[mem]");
	GUEST_VMX_UD("vmptrst", "vmptrst %[mem]");
	GUEST_VMX_UD("vmlaunch", "vmlaunch");
	GUEST_VMX_UD("vmresume", "vmresume");
	GUEST_VMX_UD("vmread", "vmread %[reg], %[reg]");
	GUEST_VMX_UD("vmwrite", "vmwrite %[reg], %[reg]");
	GUEST_VMX_UD("invept", "invept (%[ptr]), %[reg]");
	GUEST_VMX_UD("invvpid", "invvpid (%[ptr]), %[reg]");
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, vmx_instructions_ud, TIMEOUT_S)
{
	static const int reasons[] = {
		VMX_EXIT_VMCALL, VMX_EXIT_VMXON, VMX_EXIT_VMXOFF, VMX_EXIT_VMCLEAR,
		VMX_EXIT_VMPTRLD, VMX_EXIT_VMPTRST, VMX_EXIT_VMLAUNCH,
		VMX_EXIT_VMRESUME, VMX_EXIT_VMREAD, VMX_EXIT_VMWRITE,
		VMX_EXIT_INVEPT, VMX_EXIT_INVVPID,
	};
	struct vmxlab_vcpu_stats before, after;
	size_t i;

	self->vcpu = exits_start(&self->vm, guest_vmx_instructions);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vcpu_stats_get(self->vcpu, &after);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(reasons); i++) {
		EXPECT_EQ(before.exits[reasons[i]] + 1, after.exits[reasons[i]])
			TH_LOG("exit reason %d", reasons[i]);
	}
}

/*
 * The first exception of a fresh guest, injected by the hypervisor, hits
 * unmapped IDT and stack pages: the EPT violations that interrupt its
 * delivery must not lose it (SDM 28.2.4, IDT-vectoring information).  If
 * they did, the guest would execute the WRMSR again, and exit again.
 */
static void guest_first_injected_gp(void)
{
	GUEST_SYNC(0);
	GUEST_SYNC(guest_wrmsr_safe(MSR_IA32_TSC, 0));
}

TEST_F_TIMEOUT(exits, injected_exception_survives_ept_faults, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;

	if (shadow_rerun())
		SKIP(return, "shadow paging: counts EPT violations");
	self->vcpu = exits_start(&self->vm, guest_first_injected_gp);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(GP_VECTOR, self->uc.args[0]);
	EXPECT_LT(before.exits[VMX_EXIT_EPT_VIOLATION],
		  after.exits[VMX_EXIT_EPT_VIOLATION])
		TH_LOG("no EPT violation during the delivery: test set-up is wrong");
	EXPECT_EQ(before.exits[VMX_EXIT_WRMSR] + 1, after.exits[VMX_EXIT_WRMSR])
		TH_LOG("WRMSR executed %llu times: the injected #GP was lost",
		       after.exits[VMX_EXIT_WRMSR] - before.exits[VMX_EXIT_WRMSR]);
}

/* --- single-stepping (RFLAGS.TF) across exits --------------------------------- */

#define DB_VECTOR		1

static __u64 db_count;

static void db_handler(struct ex_regs *regs)
{
	(void)regs;
	db_count++;
}

/*
 * Single-step a few instructions with a CPUID (which exits and is
 * emulated) or a NOP in the middle.  Each instruction ends in a #DB trap
 * (SDM Vol. 3A, 18.3.1.4), emulated or not: the counts must agree.
 */
static __u64 guest_steps(bool with_cpuid)
{
	__u64 before = __atomic_load_n(&db_count, __ATOMIC_RELAXED);
	__u32 a = 0, b, c = 0, d;

	if (with_cpuid)
		asm volatile("pushfq\n\t"
			     "orq $0x100, (%%rsp)\n\t"
			     "popfq\n\t"
			     "nop\n\t"
			     "cpuid\n\t"
			     "nop\n\t"
			     "pushfq\n\t"
			     "andq $~0x100, (%%rsp)\n\t"
			     "popfq"
			     : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
	else
		asm volatile("pushfq\n\t"
			     "orq $0x100, (%%rsp)\n\t"
			     "popfq\n\t"
			     "nop\n\t"
			     "nop\n\t"
			     "nop\n\t"
			     "pushfq\n\t"
			     "andq $~0x100, (%%rsp)\n\t"
			     "popfq"
			     : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
	return __atomic_load_n(&db_count, __ATOMIC_RELAXED) - before;
}

static void guest_single_step(void)
{
	GUEST_SYNC(guest_steps(false), guest_steps(true));
}

TEST_F_TIMEOUT(exits, single_step_over_emulated_instruction, TIMEOUT_S)
{
	self->vcpu = exits_start(&self->vm, guest_single_step);
	vm_install_exception_handler(self->vm, DB_VECTOR, db_handler);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	TH_LOG("#DB traps: %llu with NOP, %llu with CPUID", self->uc.args[0],
	       self->uc.args[1]);
	EXPECT_LT(0, self->uc.args[0]) TH_LOG("no single-step trap at all");
	EXPECT_EQ(self->uc.args[0], self->uc.args[1])
		TH_LOG("the emulated CPUID did not end in a single-step #DB");
}

/*
 * Exits inside a MOV-SS shadow while single-stepping.  MOV to SS holds
 * back the single-step trap (and interrupts) until after the next
 * instruction, so one #DB covers both (SDM Vol. 3A, 6.8.3); VM entry
 * insists that the pending debug exceptions then show the single step
 * (SDM Vol. 3C, 27.3.1.5; XSA-308), or it fails.  Here the instruction in
 * each shadow exits: a load from a fresh page (EPT violation, the guest
 * re-executes it) and a CPUID (emulated and skipped).  STI holds back only
 * interrupts, so its #DB comes right after it, before the load that
 * follows.  POPF that sets TF traps after the next instruction; the POPF
 * that clears it still traps.  Each #DB's RIP is recorded and compared
 * with the labels below.
 */
extern const char sst_movss1[], sst_movfromss2[], sst_movss2[], sst_cli[],
	sst_sti[], sst_load2[], sst_pushf[], sst_and[], sst_popf[], sst_end[];

#define MAX_DB_RIPS		16
static __u64 db_rips[MAX_DB_RIPS];
static __u64 db_n;

static void db_record(struct ex_regs *regs)
{
	if (db_n < MAX_DB_RIPS)
		db_rips[db_n] = regs->rip;
	db_n++;
}

/* noipa: one copy of the function, so its asm labels are defined once. */
static __attribute__((noipa)) void shadow_sequence(__u64 fresh)
{
	__u32 a = 0, b, c = 0, d;
	__u64 v;

	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "mov %%ss, %%eax\n\t"
		     "sst_movss1: mov %%eax, %%ss\n\t"
		     "mov (%[p]), %[v]\n\t"
		     "sst_movfromss2: mov %%ss, %%eax\n\t"
		     "sst_movss2: mov %%eax, %%ss\n\t"
		     "cpuid\n\t"
		     "sst_cli: cli\n\t"
		     "sst_sti: sti\n\t"
		     "sst_load2: mov 4096(%[p]), %[v]\n\t"
		     "sst_pushf: pushfq\n\t"
		     "sst_and: andq $~0x100, (%%rsp)\n\t"
		     "sst_popf: popfq\n\t"
		     "sst_end:"
		     : "+a"(a), "=b"(b), "+c"(c), "=d"(d), [v] "=&r"(v)
		     : [p] "r"(fresh) : "memory");
}

static void guest_shadow_steps(__u64 fresh)
{
	__u64 pass;

	/* db_rips' page is touched now, so that pass 1 exits only in shadows. */
	guest_memset(db_rips, 0, sizeof(db_rips));
	for (pass = 0; pass < 2; pass++) {
		db_n = 0;
		GUEST_SYNC(pass);
		/*
		 * A page apart: two fresh pages right above two mapped
		 * ones would be mapped by one violation (EPT fault-around,
		 * mmu/ept.c).
		 */
		shadow_sequence(fresh + pass * 3 * GUEST_PAGE_SIZE);
		GUEST_SYNC(pass, db_n);
	}
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, single_step_in_mov_ss_and_sti_shadows, TIMEOUT_S)
{
	const char *const expect[] = {
		sst_movss1, sst_movfromss2, sst_movss2, sst_cli, sst_sti,
		sst_load2, sst_pushf, sst_and, sst_popf, sst_end,
	};
	struct vmxlab_vcpu_stats before, after;
	__u64 pass;
	size_t i;

	if (shadow_rerun())
		SKIP(return, "shadow paging: counts EPT violations");
	self->vcpu = exits_start(&self->vm, guest_shadow_steps);
	vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA, 5 * GUEST_PAGE_SIZE, 0);
	vcpu_args_set(self->vcpu, 1, GUEST_DATA_GPA);
	vm_install_exception_handler(self->vm, DB_VECTOR, db_record);
	for (pass = 0; pass < 2; pass++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
		vcpu_stats_get(self->vcpu, &before);
		ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
		vcpu_stats_get(self->vcpu, &after);
		EXPECT_EQ(VMXLAB_ARRAY_SIZE(expect), self->uc.args[1])
			TH_LOG("pass %llu: single-step traps", pass);
		vm_sync_from_guest(self->vm, db_rips, sizeof(db_rips));
		for (i = 0; i < VMXLAB_ARRAY_SIZE(expect); i++)
			EXPECT_EQ((__u64)expect[i], db_rips[i])
				TH_LOG("pass %llu: #DB %zu", pass, i);
		/* The last pass warmed nothing: its exits are the shadows'. */
		if (pass == 1) {
			EXPECT_EQ(2, after.exits[VMX_EXIT_EPT_VIOLATION] -
				     before.exits[VMX_EXIT_EPT_VIOLATION])
				TH_LOG("a load in a shadow did not exit");
			EXPECT_EQ(1, after.exits[VMX_EXIT_CPUID] -
				     before.exits[VMX_EXIT_CPUID]);
		}
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

/*
 * A guest that takes a #DB after every instruction, forever (TF set, a
 * handler that returns): every #DB exits, as the exception bitmap says,
 * and a signal still ends the run (CVE-2015-8104: no host livelock).
 */
static void db_return(struct ex_regs *regs)
{
	(void)regs;
}

static void guest_db_storm(void)
{
	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "1: jmp 1b" : : : "memory");
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F_TIMEOUT(exits, debug_trap_storm_interruptible, TIMEOUT_S)
{
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	__u64 before;

	self->vcpu = exits_start(&self->vm, guest_db_storm);
	vm_install_exception_handler(self->vm, DB_VECTOR, db_return);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	before = vcpu_exit_count(self->vcpu, VMX_EXIT_EXCEPTION_NMI);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	errno = 0;
	EXPECT_EQ(-1, __vcpu_run(self->vcpu));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(VMXLAB_EXIT_INTR, self->vcpu->run->exit_reason);
	EXPECT_LT(before + 100, vcpu_exit_count(self->vcpu, VMX_EXIT_EXCEPTION_NMI))
		TH_LOG("the #DB traps did not exit");
}

/* --- triple fault -------------------------------------------------------------- */

static void guest_triple_fault(void)
{
	guest_lidt(0, 0);
	asm volatile("ud2");
	GUEST_SYNC(0xbad);
}

TEST_F_TIMEOUT(exits, triple_fault_shutdown, TIMEOUT_S)
{
	char buf[256];

	self->vcpu = exits_start(&self->vm, guest_triple_fault);
	vcpu_run(self->vcpu);
	EXPECT_EQ(VMXLAB_EXIT_SHUTDOWN, self->vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	EXPECT_EQ(1, vcpu_exit_count(self->vcpu, VMX_EXIT_TRIPLE_FAULT));
	/* Running a shut-down vCPU again is safe: it shuts down again. */
	vcpu_run(self->vcpu);
	EXPECT_EQ(VMXLAB_EXIT_SHUTDOWN, self->vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
}

/* --- EPT violations: memory faulted in on first touch ---------------------------- */

#define FAULT_PAGES	1024
#define FAULT_AROUND_PARAM "/sys/module/vmxlab/parameters/ept_fault_around"
#define FAULT_SEED	0x9e3779b97f4a7c15ULL

static __u64 fault_word(__u64 page, __u64 word)
{
	return (page * FAULT_SEED) ^ (word << 32) ^ 0xa5a5a5a5;
}

static void guest_fault_in(__u64 base)
{
	__u64 *mem = (__u64 *)base, sum = 0, i;

	GUEST_SYNC(0);
	for (i = 0; i < FAULT_PAGES; i++)
		mem[i * 512 + i % 512] = fault_word(i, i % 512);
	GUEST_SYNC(1);
	for (i = 0; i < FAULT_PAGES * 512; i++)
		sum += mem[i] * (i | 1);
	GUEST_SYNC(2, sum);
	/* The host wrote to the memory: the guest sees it. */
	GUEST_SYNC(3, mem[7 * 512 + 3]);
}

TEST_F_TIMEOUT(exits, ept_fault_in_checksum, TIMEOUT_S)
{
	__u64 *mem, sum = 0, before, i, v;

	if (shadow_rerun())
		SKIP(return, "shadow paging: counts EPT violations");
	self->vcpu = exits_start(&self->vm, guest_fault_in);
	mem = vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA,
			    FAULT_PAGES * GUEST_PAGE_SIZE, 0);
	vcpu_args_set(self->vcpu, 1, GUEST_DATA_GPA);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	before = vcpu_exit_count(self->vcpu, VMX_EXIT_EPT_VIOLATION);
	/* Fault-around off (guest_fault_around_test.c tests it on). */
	write_file(FAULT_AROUND_PARAM, "0");
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	write_file(FAULT_AROUND_PARAM, "16");
	/* One per fresh 4 KiB page, and maybe one for the loop's code. */
	v = vcpu_exit_count(self->vcpu, VMX_EXIT_EPT_VIOLATION) - before;
	EXPECT_TRUE(v >= FAULT_PAGES && v <= FAULT_PAGES + 2)
		TH_LOG("%llu EPT violations for %d fresh pages", v, FAULT_PAGES);
	for (i = 0; i < FAULT_PAGES; i++) {
		ASSERT_EQ(fault_word(i, i % 512), mem[i * 512 + i % 512])
			TH_LOG("page %llu", i);
	}
	for (i = 0; i < FAULT_PAGES * 512; i++)
		sum += mem[i] * (i | 1);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(2, self->uc.args[0]);
	EXPECT_EQ(sum, self->uc.args[1]) TH_LOG("checksum differs");
	v = 0x0123456789abcdefULL;
	mem[7 * 512 + 3] = v;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(v, self->uc.args[1]);
}

/* --- MMIO ------------------------------------------------------------------------ */

enum mmio_kind { MMIO_WRITE, MMIO_READ, MMIO_READ_ZX };

/* Each access, in the order the guest makes it and the host expects it. */
static const struct mmio_op {
	__u8 kind;
	__u8 len;
	__u16 off;
	__u64 data;
} mmio_ops[] = {
	{ MMIO_WRITE, 1, 0x00, 0x11 },
	{ MMIO_WRITE, 2, 0x02, 0x2233 },
	{ MMIO_WRITE, 4, 0x04, 0x44556677 },
	{ MMIO_WRITE, 8, 0x08, 0x8899aabbccddeeffULL },
	{ MMIO_READ, 1, 0x10, 0x5a },
	{ MMIO_READ, 2, 0x12, 0x5b5c },
	{ MMIO_READ, 4, 0x14, 0x5d5e5f60 },
	{ MMIO_READ, 8, 0x18, 0x6162636465666768ULL },
	{ MMIO_READ_ZX, 1, 0x21, 0xf1 },
	{ MMIO_READ_ZX, 2, 0x22, 0xf2f3 },
	{ MMIO_WRITE, 4, 0xffc, 0xcafef00d },
};

/* What a register holding all ones contains after the load. */
static __u64 mmio_loaded(const struct mmio_op *op)
{
	if (op->kind == MMIO_READ_ZX || op->len >= 4)
		return op->data;
	return (~0ULL << (8 * op->len)) | op->data;
}

static __u64 guest_mmio_access(const struct mmio_op *op, __u64 addr)
{
	__u64 v = ~0ULL;

	if (op->kind == MMIO_WRITE) {
		switch (op->len) {
		case 1:
			asm volatile("movb %b0, (%1)" : : "q"(op->data), "r"(addr) : "memory");
			break;
		case 2:
			asm volatile("movw %w0, (%1)" : : "r"(op->data), "r"(addr) : "memory");
			break;
		case 4:
			asm volatile("movl %k0, (%1)" : : "r"(op->data), "r"(addr) : "memory");
			break;
		default:
			asm volatile("movq %0, (%1)" : : "r"(op->data), "r"(addr) : "memory");
			break;
		}
		return 0;
	}
	if (op->kind == MMIO_READ_ZX) {
		if (op->len == 1)
			asm volatile("movzbl (%1), %k0" : "+r"(v) : "r"(addr) : "memory");
		else
			asm volatile("movzwl (%1), %k0" : "+r"(v) : "r"(addr) : "memory");
		return v;
	}
	switch (op->len) {
	case 1:
		asm volatile("movb (%1), %b0" : "+q"(v) : "r"(addr) : "memory");
		break;
	case 2:
		asm volatile("movw (%1), %w0" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 4:
		asm volatile("movl (%1), %k0" : "+r"(v) : "r"(addr) : "memory");
		break;
	default:
		asm volatile("movq (%1), %0" : "+r"(v) : "r"(addr) : "memory");
		break;
	}
	return v;
}

static void guest_mmio(void)
{
	size_t i;
	__u64 v;

	for (i = 0; i < VMXLAB_ARRAY_SIZE(mmio_ops); i++) {
		v = guest_mmio_access(&mmio_ops[i], GUEST_MMIO_GPA + mmio_ops[i].off);
		if (mmio_ops[i].kind != MMIO_WRITE)
			GUEST_ASSERT_EQ(v, mmio_loaded(&mmio_ops[i]));
	}
	/* Plain C accesses, encoded however the compiler likes. */
	__atomic_store_n((__u32 *)(GUEST_MMIO_GPA + 0x40), 0x600df00d,
			 __ATOMIC_RELAXED);
	v = __atomic_load_n((__u16 *)(GUEST_MMIO_GPA + 0x42), __ATOMIC_RELAXED);
	GUEST_SYNC(v);
}

/* Run, expect one MMIO exit, complete it; fail the test otherwise. */
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
		memcpy(&seen, run->mmio.data, len <= 8 ? len : 8);
		EXPECT_EQ(data, seen) TH_LOG("MMIO write at %#llx", gpa);
	} else {
		memcpy(run->mmio.data, &data, sizeof(run->mmio.data));
	}
}

TEST_F_TIMEOUT(exits, mmio_round_trips, TIMEOUT_S)
{
	const struct mmio_op *op;
	size_t i;

	self->vcpu = exits_start(&self->vm, guest_mmio);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(mmio_ops); i++) {
		op = &mmio_ops[i];
		expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + op->off, op->len,
			    op->kind == MMIO_WRITE, op->data);
	}
	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x40, 4, true,
		    0x600df00d);
	expect_mmio(_metadata, self->vcpu, GUEST_MMIO_GPA + 0x42, 2, false, 0xbeef);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(0xbeef, self->uc.args[0]);
}

/* --- failed entries ---------------------------------------------------------------- */

static void guest_done(void)
{
	GUEST_DONE();
}

static void run_expect_failed_entry(struct __test_metadata *_metadata,
				    struct vcpu *vcpu, __u64 failed_before)
{
	struct vmxlab_vcpu_stats stats;
	char buf[256];

	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_FAIL_ENTRY, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	/* The exit reason with bit 31 set: "VM-entry failure", SDM 27.8. */
	EXPECT_EQ(VMX_EXIT_INVALID_STATE | 1ULL << 31,
		  vcpu->run->fail_entry.hardware_entry_failure_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	vcpu_stats_get(vcpu, &stats);
	EXPECT_EQ(failed_before + 1, stats.failed_entries);
}

/*
 * Segment state that SET_SREGS takes but VM entry refuses (SDM 27.3.1.2):
 * the run fails with "invalid guest state", again when retried, and works
 * once the state is fixed.  @warm: the vCPU ran successfully before.
 */
static void failed_entry_then_fixed(struct __test_metadata *_metadata,
				    struct vm **vm, bool warm, bool bad_tr)
{
	struct vmxlab_sregs good, bad;
	struct vcpu *vcpu;
	struct ucall uc;

	vcpu = exits_start(vm, guest_done);
	/* A first, successful entry launches the VMCS. */
	if (warm)
		vcpu_run_expect_out(vcpu, UCALL_PORT, 4);
	vcpu_sregs_get(vcpu, &good);
	bad = good;
	if (bad_tr)
		bad.tr.unusable = 1;
	else
		bad.cs.type = 1;	/* a read-only data segment */
	vcpu_sregs_set(vcpu, &bad);

	vmxlab_expect_klog(KLOG_VMCS_DUMP);
	run_expect_failed_entry(_metadata, vcpu, 0);
	run_expect_failed_entry(_metadata, vcpu, 1);

	vcpu_sregs_set(vcpu, &good);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
}

TEST_F_TIMEOUT(exits, failed_entry_bad_cs_type, TIMEOUT_S)
{
	failed_entry_then_fixed(_metadata, &self->vm, true, false);
}

TEST_F_TIMEOUT(exits, failed_entry_unusable_tr, TIMEOUT_S)
{
	failed_entry_then_fixed(_metadata, &self->vm, true, true);
}

TEST_F_TIMEOUT(exits, failed_first_entry_then_fixed, TIMEOUT_S)
{
	failed_entry_then_fixed(_metadata, &self->vm, false, false);
}

/* --- an exit nobody handles ------------------------------------------------------------ */

/* A JMP to a TSS descriptor is a task switch, which always exits. */
GUEST_CODE_BLOB(task_switch_code, 32,
		"	ljmp $" VMXLAB_STR(LOW_SEL_TSS2) ", $0\n"
		"	hlt\n");

TEST_F_TIMEOUT(exits, unknown_exit_internal_error, TIMEOUT_S)
{
	const char *const needles[] = { "vmxlab", "unexpected exit reason 9", NULL };
	struct vmxlab_run *run;
	struct vcpu *vcpu;
	char buf[256], *log;
	int kmsg;

	self->vm = vm_create_bare();
	vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, task_switch_code, task_switch_code_end);
	vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_protected32(vcpu, LOW_CODE_GPA);
	run = vcpu->run;

	vmxlab_expect_klog("vmxlab: vCPU [0-9]+: unexpected exit reason 9$");
	vmxlab_expect_klog(KLOG_VMCS_DUMP);
	/* The log line is part of the contract: no /dev/kmsg is a failure. */
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("cannot open /dev/kmsg");
	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_INTERNAL_ERROR, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(VMXLAB_INTERNAL_UNKNOWN_EXIT, run->internal.suberror);
	EXPECT_LE(1, run->internal.ndata);
	EXPECT_EQ(VMX_EXIT_TASK_SWITCH, run->internal.data[0]);
	log = kmsg_collect(kmsg);
	EXPECT_TRUE(log_find(log, needles, NULL, 0))
		TH_LOG("no \"unexpected exit reason 9\" in the kernel log");
	free(log);
	close(kmsg);
	/* Running again is safe and says the same. */
	vcpu_run(vcpu);
	EXPECT_EQ(VMXLAB_EXIT_INTERNAL_ERROR, run->exit_reason);
	EXPECT_EQ(VMX_EXIT_TASK_SWITCH, run->internal.data[0]);
}

/* --- exit counters ------------------------------------------------------------------- */

static void guest_many_cpuids(__u64 n)
{
	__u32 out[4];
	__u64 i;

	for (i = 0; i < n; i++)
		guest_cpuid(0, 0, out);
	for (i = 0; i < n; i++)
		outb(0x70, i);
	GUEST_DONE();
}

TEST_F_TIMEOUT(exits, stats_count_exits, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	__u64 i, n = 50;

	self->vcpu = exits_start(&self->vm, guest_many_cpuids);
	vcpu_args_set(self->vcpu, 1, n);
	vcpu_stats_get(self->vcpu, &before);
	for (i = 0; i < n; i++)
		EXPECT_EQ(i & 0xff, vcpu_run_expect_out(self->vcpu, 0x70, 1));
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(before.exits[VMX_EXIT_CPUID] + n, after.exits[VMX_EXIT_CPUID]);
	EXPECT_EQ(before.exits[VMX_EXIT_IO] + n + 1, after.exits[VMX_EXIT_IO]);
	EXPECT_EQ(before.exits_to_userspace + n + 1, after.exits_to_userspace);
	EXPECT_EQ(0, after.failed_entries);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(after.reserved); i++)
		EXPECT_EQ(0, after.reserved[i]);

	errno = 0;
	EXPECT_EQ(-1, __vcpu_ioctl(self->vcpu, VMXLAB_GET_STATS, NULL));
	EXPECT_EQ(EFAULT, errno);
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
