// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs a Linux guest relies on without asking CPUID first: the SYSCALL
 * MSRs, which must be in the CPU while the guest runs because SYSCALL and
 * SYSRET do not exit, and the MSRs Linux's early Intel set-up reads
 * unchecked.  Expected values come from the SDM (Vol. 2B SYSCALL/SYSRET,
 * Vol. 4 MSR tables), never from vmxlab's code.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

#define MSR_IA32_UCODE_REV	0x8b
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_SYSCALL_MASK	0xc0000084
#define EFER_SCE		BIT_ULL(0)

/* Page-table entry bits (SDM Vol. 3A, 4.5). */
#define PTE_USER		BIT_ULL(2)
#define PTE_ADDR_MASK		0x000ffffffffff000ULL

/*
 * STAR (SDM Vol. 2B, SYSCALL and SYSRET): bits 47:32 give SYSCALL's CS
 * (SS is the next selector), bits 63:48 + 16 give SYSRET's 64-bit CS and
 * + 8 its SS, with RPL 3.  Both instructions load fixed flat descriptors
 * and never read the GDT, so the user selectors need no GDT entries.
 */
#define STAR_USER_BASE		0x1b
#define STAR_VALUE		((__u64)STAR_USER_BASE << 48 | (__u64)SEL_CODE64 << 32)
#define USER_CS			(STAR_USER_BASE + 16)	/* 0x2b */
#define USER_SS			(STAR_USER_BASE + 8)	/* 0x23 */

/*
 * User mode runs with IOPL 3, so that its OUT needs no I/O bitmap, and
 * with DF and AC set; SFMASK clears those two at SYSCALL (RFLAGS &=
 * ~SFMASK), so the handler's RFLAGS shows that the guest's SFMASK was
 * used.
 */
#define RFLAGS_FIXED		0x2ULL
#define RFLAGS_IOPL3		0x3000ULL
#define RFLAGS_DF		0x400ULL
#define RFLAGS_AC		0x40000ULL
#define USER_RFLAGS		(RFLAGS_FIXED | RFLAGS_IOPL3 | RFLAGS_DF | RFLAGS_AC)
#define SFMASK_VALUE		(RFLAGS_DF | RFLAGS_AC)

#define GP_VECTOR		13

/*
 * IA32_MISC_ENABLE (SDM Vol. 4, Table 2-2) of a CPU with no debug store
 * and no PMU for the guest: fast strings (bit 0) on, branch trace store
 * (bit 11) and PEBS (bit 12) unavailable; performance monitoring (bit 7)
 * and MONITOR FSM (bit 18) off, as CPUID hides them.
 */
#define MISC_ENABLE_FAST_STRING		BIT_ULL(0)
#define MISC_ENABLE_BTS_UNAVAIL		BIT_ULL(11)
#define MISC_ENABLE_PEBS_UNAVAIL	BIT_ULL(12)
#define EXPECTED_MISC_ENABLE	(MISC_ENABLE_FAST_STRING | \
				 MISC_ENABLE_BTS_UNAVAIL | \
				 MISC_ENABLE_PEBS_UNAVAIL)
/* IA32_BIOS_SIGN_ID: revision in bits 63:32; api.rst promises 1. */
#define EXPECTED_UCODE_REV	BIT_ULL(32)

#define HANDLER_PORT		0x70	/* OUT by the SYSCALL handler (CPL0) */
#define USER_PORT		0x71	/* OUT by user mode after SYSRET */

FIXTURE(msr) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(msr)
{
	self->vm = vm_create();
}

FIXTURE_TEARDOWN(msr)
{
	vm_free(self->vm);
}

/* --- SYSCALL and SYSRET ------------------------------------------------------ */

/*
 * user_code runs at CPL3: SYSCALL, then (back from the handler) an OUT to
 * USER_PORT, and around again.  syscall_handler runs at CPL0, on the user
 * stack (SYSCALL does not switch stacks): an OUT to HANDLER_PORT, then
 * SYSRET to RCX with RFLAGS from R11.
 */
extern const char user_code[], user_after_syscall[], syscall_handler[];
asm(".pushsection .text\n"
	"user_code:\n"
	"	syscall\n"
	"user_after_syscall:\n"
	"	out %al, $" VMXLAB_STR(USER_PORT) "\n"
	"	jmp user_code\n"
	"syscall_handler:\n"
	"	out %al, $" VMXLAB_STR(HANDLER_PORT) "\n"
	"	sysretq\n"
	".popsection\n");

static __u8 user_stack[4096];

/* Let CPL3 reach the 2 MiB page that holds @addr: U/S at every level. */
static void guest_allow_user(const void *addr)
{
	__u64 a = (__u64)addr;
	__u64 *pml4 = (__u64 *)(guest_read_cr3() & PTE_ADDR_MASK);
	__u64 *pdpt, *pd;

	pml4[a >> 39 & 511] |= PTE_USER;
	pdpt = (__u64 *)(pml4[a >> 39 & 511] & PTE_ADDR_MASK);
	pdpt[a >> 30 & 511] |= PTE_USER;
	pd = (__u64 *)(pdpt[a >> 30 & 511] & PTE_ADDR_MASK);
	pd[a >> 21 & 511] |= PTE_USER;
}

/*
 * @sce_last: set EFER.SCE after the SYSCALL MSRs, not before.  Until SCE
 * is set the guest cannot use them, so vmxlab keeps the host's in the CPU
 * and only records the guest's; setting SCE must then put them in.
 */
static void guest_syscall_round_trip(__u64 sce_last)
{
	guest_allow_user(user_code);
	guest_allow_user(user_stack);
	/* MOV to CR3 flushes the old, supervisor-only translations. */
	asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");

	if (!sce_last)
		guest_wrmsr(MSR_EFER, guest_rdmsr(MSR_EFER) | EFER_SCE);
	guest_wrmsr(MSR_STAR, STAR_VALUE);
	guest_wrmsr(MSR_LSTAR, (__u64)syscall_handler);
	guest_wrmsr(MSR_SYSCALL_MASK, SFMASK_VALUE);
	if (sce_last)
		guest_wrmsr(MSR_EFER, guest_rdmsr(MSR_EFER) | EFER_SCE);

	/* Down to CPL3 with SYSRET itself: RIP from RCX, RFLAGS from R11. */
	asm volatile("mov %[sp], %%rsp\n\t"
		     "mov %[flags], %%r11\n\t"
		     "sysretq"
		     : : "c"(user_code), [flags] "i"(USER_RFLAGS),
		       [sp] "r"(user_stack + sizeof(user_stack))
		     : "r11", "memory");
}

/* Run; the exit must be a one-byte OUT to @port, else say what it was. */
static void run_to_out(struct vcpu *vcpu, __u16 port, const char *what)
{
	struct ucall uc;
	char buf[256];

	vcpu_run(vcpu);
	if (vcpu->run->exit_reason == VMXLAB_EXIT_IO &&
	    vcpu->run->io.port == port && vcpu->run->io.size == 1)
		return;
	TEST_FAIL("%s: expected OUT to %#x, got %s", what, port,
		  get_ucall(vcpu, &uc) != UCALL_NONE ?
		  ucall_str(&uc, buf, sizeof(buf)) :
		  vcpu_exit_str(vcpu, buf, sizeof(buf)));
}

/*
 * A guest at CPL3 makes a SYSCALL.  With the guest's LSTAR in the CPU it
 * reaches syscall_handler; with the host's it jumps to a host kernel
 * address the guest has not mapped (#PF, an unhandled guest exception).
 * Every ioctl this test makes after the first run is itself a SYSCALL of
 * the host, through the host's LSTAR: it works only if vmxlab put that
 * back.
 */
static void syscall_round_trip(struct __test_metadata *_metadata,
			       FIXTURE_DATA(msr) * self, __u64 sce_last)
{
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;
	__u64 lstar;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_syscall_round_trip);
	vcpu_args_set(self->vcpu, 1, sce_last);

	run_to_out(self->vcpu, HANDLER_PORT, "SYSCALL to the guest's LSTAR");
	/* SYSCALL saved the return RIP in RCX and RFLAGS in R11. */
	vcpu_regs_get(self->vcpu, &regs);
	EXPECT_EQ((__u64)user_after_syscall, regs.rcx);
	EXPECT_EQ(USER_RFLAGS, regs.r11);
	EXPECT_EQ(USER_RFLAGS & ~SFMASK_VALUE, regs.rflags);
	vcpu_sregs_get(self->vcpu, &sregs);
	EXPECT_EQ(SEL_CODE64, sregs.cs.selector);
	EXPECT_EQ(SEL_CODE64 + 8, sregs.ss.selector);
	EXPECT_EQ(0, sregs.cs.dpl);
	/* The ioctl reads the guest's value, not the CPU's (the host's now). */
	EXPECT_EQ(1, vcpu_get_msr(self->vcpu, MSR_LSTAR, &lstar));
	EXPECT_EQ((__u64)syscall_handler, lstar);

	/* SYSRET went back to CPL3 at the saved RIP and RFLAGS. */
	run_to_out(self->vcpu, USER_PORT, "SYSRET to user mode");
	vcpu_regs_get(self->vcpu, &regs);
	vcpu_sregs_get(self->vcpu, &sregs);
	EXPECT_EQ(USER_CS | 3, sregs.cs.selector);
	EXPECT_EQ(USER_SS | 3, sregs.ss.selector);
	EXPECT_EQ(3, sregs.cs.dpl);
	EXPECT_EQ(USER_RFLAGS, regs.rflags);

	/* Around again, after the host's own SYSCALLs in between. */
	run_to_out(self->vcpu, HANDLER_PORT, "second SYSCALL");
	run_to_out(self->vcpu, USER_PORT, "second SYSRET");
}

TEST_F_TIMEOUT(msr, syscall_round_trip, TIMEOUT_S)
{
	syscall_round_trip(_metadata, self, false);
}

TEST_F_TIMEOUT(msr, syscall_round_trip_sce_last, TIMEOUT_S)
{
	syscall_round_trip(_metadata, self, true);
}

/* --- what Linux's early_init_intel() reads ----------------------------------- */

static void guest_linux_boot_msrs(void)
{
	__u64 v;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_IA32_MISC_ENABLE, &v),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(v, EXPECTED_MISC_ENABLE);
	/* Writing what it reads is allowed, anything else is #GP. */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_IA32_MISC_ENABLE, v),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_IA32_MISC_ENABLE,
					 v & ~MISC_ENABLE_FAST_STRING), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_rdmsr(MSR_IA32_MISC_ENABLE), EXPECTED_MISC_ENABLE);

	/* Linux writes 0, runs CPUID, then reads the revision. */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_IA32_UCODE_REV, 0),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_IA32_UCODE_REV, &v),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(v, EXPECTED_UCODE_REV);
	GUEST_DONE();
}

TEST_F_TIMEOUT(msr, misc_enable_and_ucode_rev, TIMEOUT_S)
{
	__u64 v;

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_linux_boot_msrs);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));

	EXPECT_EQ(1, vcpu_get_msr(self->vcpu, MSR_IA32_MISC_ENABLE, &v));
	EXPECT_EQ(EXPECTED_MISC_ENABLE, v);
	EXPECT_EQ(1, vcpu_get_msr(self->vcpu, MSR_IA32_UCODE_REV, &v));
	EXPECT_EQ(EXPECTED_UCODE_REV, v);
	EXPECT_EQ(1, vcpu_set_msr(self->vcpu, MSR_IA32_MISC_ENABLE,
				  EXPECTED_MISC_ENABLE));
	EXPECT_EQ(0, vcpu_set_msr(self->vcpu, MSR_IA32_MISC_ENABLE, 0))
		TH_LOG("SET_MSRS of another MISC_ENABLE value was accepted");
	EXPECT_EQ(1, vcpu_set_msr(self->vcpu, MSR_IA32_UCODE_REV, 0));
	EXPECT_EQ(1, vcpu_get_msr(self->vcpu, MSR_IA32_UCODE_REV, &v));
	EXPECT_EQ(EXPECTED_UCODE_REV, v) TH_LOG("a write changed the revision");
}

/* --- the TSC rate a guest runs at (VMXLAB_GET_CAPS tsc_khz) ------------------ */

static void guest_report_tsc(void)
{
	for (;;)
		GUEST_SYNC(guest_rdtsc());
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The guest reads its TSC twice, SPAN_NS of the host's clock apart; the
 * ticks per millisecond must be what GET_CAPS reports, within 2% (the
 * exits around each read cost microseconds).  The clock is the host
 * kernel's own, not vmxlab's.
 */
#define SPAN_NS		50000000ULL

TEST_F_TIMEOUT(msr, tsc_khz_is_the_guest_tsc_rate, TIMEOUT_S)
{
	struct vmxlab_caps caps;
	__u64 tsc0, tsc1, t0, t1, measured;
	int fd = open("/dev/vmxlab", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VMXLAB_GET_CAPS, &caps));
	close(fd);
	ASSERT_NE(0, caps.tsc_khz) TH_LOG("GET_CAPS reports no TSC frequency");

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_report_tsc);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	t0 = now_ns();
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	tsc0 = self->uc.args[0];
	while (now_ns() - t0 < SPAN_NS)
		;
	t1 = now_ns();
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	tsc1 = self->uc.args[0];

	measured = (tsc1 - tsc0) * 1000000ULL / (t1 - t0);
	TH_LOG("GET_CAPS: %llu kHz, measured %llu kHz",
	       (unsigned long long)caps.tsc_khz, (unsigned long long)measured);
	EXPECT_LT(measured * 100, caps.tsc_khz * 102);
	EXPECT_GT(measured * 100, caps.tsc_khz * 98);
}

TEST_HARNESS_MAIN
