// SPDX-License-Identifier: GPL-2.0
/*
 * Host state that a VM exit clobbers, seen from the VMM process: after
 * VMXLAB_RUN its debug registers, IA32_DEBUGCTL and its CPU-time
 * accounting must be as a process without a guest would find them, and
 * the guest must not run with the host's breakpoints armed (SDM Vol. 3C,
 * "Loading Host State": a VM exit sets DR7 to 400H and clears DEBUGCTL).
 * Also the instructions a guest must not run natively: RDPMC, MONITOR,
 * MWAIT.  Documentation/host-state.rst lists each row and its test.
 */
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		300

#define DB_VECTOR		1
#define UD_VECTOR		6
#define GP_VECTOR		13

#define MSR_IA32_DEBUGCTL	0x1d9
#define DEBUGCTL_LBR		BIT_ULL(0)
#define DEBUGCTL_BTF		BIT_ULL(1)

/* A store the compiler must emit: it is what the breakpoint watches. */
static inline void store_u64(__u64 *p, __u64 v)
{
	asm volatile("movq %1, %0" : "=m"(*p) : "r"(v));
}

static inline void compiler_barrier(void)
{
	asm volatile("" : : : "memory");
}

FIXTURE(host_state) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(host_state)
{
	cpu_set_t set;

	self->vm = NULL;
	/* One CPU throughout: what a run leaves behind stays observable. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
}

FIXTURE_TEARDOWN(host_state)
{
	if (self->vm)
		vm_free(self->vm);
}

/* --- hardware breakpoints ---------------------------------------------- */

/*
 * The variable the host watches.  The guest runs the same binary at the
 * same addresses, so its own copy sits at the watched linear address.
 */
static __u64 watched;
static __u64 guest_db_count;

static void guest_db_handler(struct ex_regs *regs)
{
	guest_db_count++;
	regs->rflags |= BIT(16);	/* RF: do not hit the same one again */
}

/* Exits (CPUID), then a write to the watched address, then report. */
static void guest_exits_and_writes(void)
{
	__u32 out[4];
	int i;

	for (i = 0; i < 16; i++)
		guest_cpuid(0, 0, out);
	store_u64(&watched, 0x1234);
	GUEST_SYNC(guest_db_count);
}

/* A write breakpoint on @addr for this thread; its fd counts the hits. */
static int watch_writes(void *addr)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (unsigned long)addr,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static __u64 hits(int fd)
{
	__u64 n = 0;

	TEST_ASSERT(read(fd, &n, sizeof(n)) == sizeof(n), "read breakpoint count");
	return n;
}

TEST_F_TIMEOUT(host_state, hw_breakpoint_survives_run, TIMEOUT_S)
{
	__u64 before;
	int fd;

	fd = watch_writes((void *)&watched);
	ASSERT_LE(0, fd) TH_LOG("perf_event_open breakpoint: %s", strerror(errno));
	store_u64(&watched, 1);
	before = hits(fd);
	ASSERT_EQ(1, before) TH_LOG("this CPU does not report hardware breakpoints");

	self->vm = vm_create();
	vm_install_exception_handler(self->vm, DB_VECTOR, guest_db_handler);
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_exits_and_writes);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));

	/* The guest ran with its own DR7: the host's breakpoint never hit it. */
	EXPECT_EQ(0, self->uc.args[0]) TH_LOG("the guest took the host's #DB");
	EXPECT_EQ(before, hits(fd)) TH_LOG("the guest's write counted as the host's");
	/* And the host's breakpoint is armed again after the run. */
	store_u64(&watched, 2);
	EXPECT_EQ(before + 1, hits(fd)) TH_LOG("DR7 was not restored after the exits");
	close(fd);
}

/* --- IA32_DEBUGCTL -------------------------------------------------------- */

static void guest_just_exits(void)
{
	__u32 out[4];
	int i;

	for (i = 0; i < 16; i++)
		guest_cpuid(0, 0, out);
	GUEST_DONE();
}

/*
 * Set one DEBUGCTL bit the CPU model keeps (LBR, else BTF) through the
 * msr driver, run a guest that exits, and read it back.
 */
TEST_F_TIMEOUT(host_state, debugctl_survives_run, TIMEOUT_S)
{
	static const __u64 bits[] = { DEBUGCTL_LBR, DEBUGCTL_BTF };
	__u64 old, v = 0, after = 0;
	unsigned int i;
	int fd;

	ASSERT_EQ(0, system("modprobe msr"));
	fd = open("/dev/cpu/0/msr", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("/dev/cpu/0/msr: %s", strerror(errno));
	if (pread(fd, &old, sizeof(old), MSR_IA32_DEBUGCTL) != sizeof(old)) {
		close(fd);
		SKIP(return, "this CPU model has no IA32_DEBUGCTL");
	}
	for (i = 0; i < VMXLAB_ARRAY_SIZE(bits) && !v; i++) {
		__u64 try = old | bits[i];

		if (pwrite(fd, &try, sizeof(try), MSR_IA32_DEBUGCTL) == sizeof(try) &&
		    pread(fd, &after, sizeof(after), MSR_IA32_DEBUGCTL) == sizeof(after) &&
		    (after & bits[i]))
			v = bits[i];
	}
	if (!v) {
		close(fd);
		SKIP(return, "this CPU model keeps neither DEBUGCTL.LBR nor BTF");
	}

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_just_exits);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	ASSERT_EQ(sizeof(after), pread(fd, &after, sizeof(after), MSR_IA32_DEBUGCTL));
	EXPECT_EQ(v, after & v)
		TH_LOG("DEBUGCTL after the run: %#llx", (unsigned long long)after);
	EXPECT_EQ(sizeof(old), pwrite(fd, &old, sizeof(old), MSR_IA32_DEBUGCTL));
	close(fd);
}

/* --- accounting ---------------------------------------------------------- */

/* Field @n (1-based, proc(5)) of /proc/self/stat. */
static unsigned long long self_stat_field(int n)
{
	char buf[1024], *p;
	int i;
	FILE *f = fopen("/proc/self/stat", "re");

	TEST_ASSERT(f && fgets(buf, sizeof(buf), f), "read /proc/self/stat");
	fclose(f);
	/* Fields count from after the command name, which may hold spaces. */
	p = strrchr(buf, ')');
	TEST_ASSERT(p, "no ')' in /proc/self/stat");
	for (i = 2; i < n && p; i++)
		p = strchr(p + 1, ' ');
	TEST_ASSERT(p, "/proc/self/stat has no field %d", n);
	return strtoull(p + 1, NULL, 10);
}

#define STAT_GUEST_TIME		43

/* Spin with interrupts on: timer ticks land while the guest runs. */
static void guest_spin(__u64 iterations)
{
	__u64 i;

	for (i = 0; i < iterations; i++)
		compiler_barrier();
	GUEST_DONE();
}

TEST_F_TIMEOUT(host_state, guest_time_accounted, TIMEOUT_S)
{
	unsigned long long before = self_stat_field(STAT_GUEST_TIME), after;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_spin);
	vcpu_set_if(self->vcpu, true);
	/* About 1 s of the VM's time: 200 M instructions at 200 MIPS. */
	vcpu_args_set(self->vcpu, 1, 60000000ULL);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
	after = self_stat_field(STAT_GUEST_TIME);
	EXPECT_LT(before, after)
		TH_LOG("guest time %llu -> %llu clock ticks", before, after);
}

/*
 * A guest that runs long is a quiescent state for RCU, as user mode is:
 * 10 s of the VM's time in one VMXLAB_RUN, with the stall timeout at 3 s,
 * must not make RCU report a stall.
 */
#define RCU_STALL_TIMEOUT	"/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout"

TEST_F_TIMEOUT(host_state, long_run_no_rcu_stall, TIMEOUT_S)
{
	static const char *const stall[] = { "rcu", "stall", NULL };
	char old[16] = "", line[1024];
	char *log;
	int kmsg;

	ASSERT_LT(0, read_file(RCU_STALL_TIMEOUT, old, sizeof(old)));
	ASSERT_EQ(0, write_file(RCU_STALL_TIMEOUT, "3"));
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_spin);
	vcpu_set_if(self->vcpu, true);
	/* About 10 s of the VM's time: 2 G instructions at 200 MIPS. */
	vcpu_args_set(self->vcpu, 1, 700000000ULL);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));

	log = kmsg_collect(kmsg);
	close(kmsg);
	write_file(RCU_STALL_TIMEOUT, old);
	EXPECT_FALSE(log_find(log, stall, line, sizeof(line))) TH_LOG("%s", line);
	free(log);
}

/* --- instructions that must not run natively ------------------------------ */

static int guest_rdpmc_safe(__u32 counter)
{
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("rdpmc")
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : "c"(counter) : "rax", "rdx", GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

static int guest_monitor_safe(const void *addr)
{
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("monitor")
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : "a"(addr), "c"(0), "d"(0) : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

static int guest_mwait_safe(void)
{
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("mwait")
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : "a"(0), "c"(0) : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

static void guest_pmc_monitor_mwait(void)
{
	__u32 out[4];

	guest_cpuid(1, 0, out);
	/* MONITOR/MWAIT are #UD when CPUID does not list them (SDM Vol. 2B). */
	GUEST_ASSERT_EQ(out[2] & BIT(3), 0);
	GUEST_ASSERT_EQ(guest_monitor_safe(&watched), UD_VECTOR);
	GUEST_ASSERT_EQ(guest_mwait_safe(), UD_VECTOR);
	/* No virtual PMU: every counter index is invalid, #GP(0). */
	GUEST_ASSERT_EQ(guest_rdpmc_safe(0), GP_VECTOR);
	GUEST_ASSERT_EQ(guest_rdpmc_safe(1U << 30), GP_VECTOR);
	GUEST_DONE();
}

TEST_F_TIMEOUT(host_state, rdpmc_monitor_mwait_trapped, TIMEOUT_S)
{
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_pmc_monitor_mwait);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

/* --- segment registers and the LDT ----------------------------------------- */

/*
 * A VM exit loads the host's segment selectors from the VMCS (null for DS,
 * ES, FS, GS and LDTR) and its FS/GS bases; a process may have others:
 * an LDT (modify_ldt(2)), FS and GS loaded with LDT selectors, DS and ES
 * with the user data selector.  vmxlab must put them back before the
 * process runs again (restore_host_state(); SDM Vol. 3C, 28.5.2).  While
 * FS is not glibc's TLS selector the test makes raw system calls only.
 */
#define LDT_GS_ENTRY		0
#define LDT_FS_ENTRY		1
#define LDT_SEL(entry)		((entry) << 3 | 4 | 3)	/* TI = LDT, RPL 3 */
#define USER_DS			0x2b	/* __USER_DS */
#define RUNS_WITH_SEGMENTS	8

static __u64 gs_area[2] = { 0x6767676767676767ULL };
static __u64 fs_area[2] = { 0x4646464646464646ULL };

static void guest_syncs(void)
{
	__u32 out[4];
	int i;

	for (i = 0; ; i++) {
		guest_cpuid(0, 0, out);
		GUEST_SYNC(i);
	}
}

static long raw_syscall3(long nr, long a, long b, long c)
{
	long r;

	asm volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c)
		     : "rcx", "r11", "memory");
	return r;
}

static int ldt_data_entry(int entry, void *base)
{
	struct user_desc d = {
		.entry_number = entry,
		.base_addr = (unsigned long)base,
		.limit = sizeof(gs_area) - 1,
		.seg_32bit = 1,
	};

	return syscall(SYS_modify_ldt, 1, &d, sizeof(d));
}

struct seg_seen {
	__u16 ds, es, fs, gs;
	__u64 fs0, gs0;
	__u32 gs_limit;
	bool gs_lsl_ok;
	long run_errors;
};

/*
 * Load the segments, run the vCPU @n times through raw ioctls, read
 * everything back, then give glibc its FS base again.
 */
static void runs_with_segments(int vcpu_fd, int n, struct seg_seen *seen)
{
	unsigned long fs_base;
	__u16 fs_sel = LDT_SEL(LDT_FS_ENTRY), gs_sel = LDT_SEL(LDT_GS_ENTRY);
	__u16 ds = USER_DS;
	__u8 zf;
	int i;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_base);
	asm volatile("mov %0, %%ds\n\tmov %0, %%es" : : "r"(ds));
	asm volatile("mov %0, %%gs" : : "r"(gs_sel));
	asm volatile("mov %0, %%fs" : : "r"(fs_sel));
	/* From here to ARCH_SET_FS: no libc (its TLS is through FS). */
	seen->run_errors = 0;
	for (i = 0; i < n; i++)
		seen->run_errors += raw_syscall3(SYS_ioctl, vcpu_fd, VMXLAB_RUN, 0) != 0;
	asm volatile("mov %%ds, %0" : "=r"(seen->ds));
	asm volatile("mov %%es, %0" : "=r"(seen->es));
	asm volatile("mov %%fs, %0" : "=r"(seen->fs));
	asm volatile("mov %%gs, %0" : "=r"(seen->gs));
	asm volatile("movq %%fs:0, %0" : "=r"(seen->fs0));
	asm volatile("movq %%gs:0, %0" : "=r"(seen->gs0));
	/* LSL finds the descriptor through LDTR: ZF says it did. */
	asm volatile("lsl %k2, %0\n\tsetz %1"
		     : "=r"(seen->gs_limit), "=q"(zf) : "r"((__u32)gs_sel));
	seen->gs_lsl_ok = zf;
	asm volatile("mov %0, %%fs\n\tmov %0, %%gs" : : "r"(0));
	raw_syscall3(SYS_arch_prctl, ARCH_SET_FS, fs_base, 0);
	raw_syscall3(SYS_arch_prctl, ARCH_SET_GS, 0, 0);
}

TEST_F_TIMEOUT(host_state, ldt_and_segments_survive_runs, TIMEOUT_S)
{
	struct seg_seen seen;

	ASSERT_EQ(0, ldt_data_entry(LDT_GS_ENTRY, gs_area))
		TH_LOG("modify_ldt: %s", strerror(errno));
	ASSERT_EQ(0, ldt_data_entry(LDT_FS_ENTRY, fs_area));
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_syncs);

	runs_with_segments(self->vcpu->fd, RUNS_WITH_SEGMENTS, &seen);

	EXPECT_EQ(0, seen.run_errors) TH_LOG("VMXLAB_RUN failed");
	EXPECT_EQ(USER_DS, seen.ds);
	EXPECT_EQ(USER_DS, seen.es);
	EXPECT_EQ(LDT_SEL(LDT_FS_ENTRY), seen.fs);
	EXPECT_EQ(LDT_SEL(LDT_GS_ENTRY), seen.gs);
	EXPECT_EQ(fs_area[0], seen.fs0) TH_LOG("FS base");
	EXPECT_EQ(gs_area[0], seen.gs0) TH_LOG("GS base");
	EXPECT_TRUE(seen.gs_lsl_ok) TH_LOG("LDTR lost: LSL found no descriptor");
	EXPECT_EQ(sizeof(gs_area) - 1, seen.gs_limit);
	/* The guest got as far as it should: one SYNC per run. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(RUNS_WITH_SEGMENTS, self->uc.args[0]);
}

/* --- IA32_KERNEL_GS_BASE ----------------------------------------------- */

/*
 * While the vCPU is loaded the CPU's IA32_KERNEL_GS_BASE holds the guest's
 * value; in the host kernel that MSR holds the process's own GS base (the
 * one SWAPGS brings back on the way to user mode).  vmxlab writes it only
 * when the two differ: each run below makes them differ or agree in turn,
 * and both sides must see their own value every time.
 */
#define MSR_KERNEL_GS_BASE	0xc0000102
#define GS_HOST_A		0x00007f1111111000ULL
#define GS_GUEST_X		0x00007f2222222000ULL
#define GS_BOTH_B		0x00007f3333333000ULL

static void guest_kernel_gs(__u64 first, __u64 second)
{
	guest_wrmsr(MSR_KERNEL_GS_BASE, first);
	GUEST_SYNC(guest_rdmsr(MSR_KERNEL_GS_BASE));
	GUEST_SYNC(guest_rdmsr(MSR_KERNEL_GS_BASE));
	guest_wrmsr(MSR_KERNEL_GS_BASE, second);
	GUEST_SYNC(guest_rdmsr(MSR_KERNEL_GS_BASE));
	GUEST_SYNC(guest_rdmsr(MSR_KERNEL_GS_BASE));
}

static unsigned long host_gs_base(void)
{
	unsigned long base = 0;

	syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
	return base;
}

/* Set the process's GS base, run to the guest's next SYNC, check both. */
static void run_with_host_gs(struct __test_metadata *_metadata,
			     struct vcpu *vcpu, unsigned long host,
			     __u64 guest_expected)
{
	struct ucall uc;

	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_SET_GS, host));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(guest_expected, uc.args[0])
		TH_LOG("the guest's KERNEL_GS_BASE, host GS base %#lx", host);
	EXPECT_EQ(host, host_gs_base()) TH_LOG("the host's GS base");
}

TEST_F_TIMEOUT(host_state, kernel_gs_base_both_sides, TIMEOUT_S)
{
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_kernel_gs);
	vcpu_args_set(self->vcpu, 2, GS_GUEST_X, GS_BOTH_B);

	/* They differ; then agree (X both); then differ again. */
	run_with_host_gs(_metadata, self->vcpu, GS_HOST_A, GS_GUEST_X);
	run_with_host_gs(_metadata, self->vcpu, GS_GUEST_X, GS_GUEST_X);
	/* The guest writes B while the host has B; then the host moves on. */
	run_with_host_gs(_metadata, self->vcpu, GS_BOTH_B, GS_BOTH_B);
	run_with_host_gs(_metadata, self->vcpu, GS_HOST_A, GS_BOTH_B);
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL));
}

/* --- HOST_RSP ------------------------------------------------------------ */

/*
 * HOST_RSP must be the stack pointer of the very __vmx_vcpu_run() frame
 * that enters: a stale value sends the next VM exit to a stack that is
 * not this call's, and the host crashes.  vmenter.S writes it before
 * every entry.  A version that writes it only when it changed
 * (performance.rst, suggestion 4) must remember it per VMCS and forget
 * it when the stack changes.  Two vCPUs of one VM on one CPU, each run
 * twice in a row (the second time sometimes from a thread of its own,
 * another kernel stack, with no VMPTRLD in between), then the other
 * (a VMPTRLD, maybe at the same stack pointer); the CPUIDs in between
 * are round trips of one VMXLAB_RUN on one stack.  The kernel offsets
 * its stack at random per system call, so a record shared by the two
 * VMCSs goes wrong only when two runs in a row get the same offset:
 * hence the many rounds.
 */
static void guest_counts(__u64 id)
{
	__u32 out[4];
	__u64 n;
	int i;

	for (n = 0;; n++) {
		for (i = 0; i < 8; i++)
			guest_cpuid(0, 0, out);
		GUEST_SYNC(id, n);
	}
}

struct rsp_run {
	struct vcpu *vcpu;
	struct ucall uc;
	__u64 cmd;
};

static void *run_on_own_stack(void *arg)
{
	struct rsp_run *r = arg;

	r->cmd = vcpu_run_to_ucall(r->vcpu, &r->uc);
	return NULL;
}

/* One VMXLAB_RUN of @vcpu, from this thread or from a new one. */
static void rsp_run_once(struct __test_metadata *_metadata, struct vcpu *vcpu,
			 bool own_thread, __u64 id, __u64 n)
{
	struct rsp_run r = { .vcpu = vcpu };
	pthread_t t;

	if (own_thread) {
		ASSERT_EQ(0, pthread_create(&t, NULL, run_on_own_stack, &r));
		ASSERT_EQ(0, pthread_join(t, NULL));
	} else {
		run_on_own_stack(&r);
	}
	ASSERT_EQ(UCALL_SYNC, r.cmd);
	EXPECT_EQ(id, r.uc.args[0]);
	EXPECT_EQ(n, r.uc.args[1]);
}

#define HOST_RSP_ROUNDS		400

TEST_F_TIMEOUT(host_state, host_rsp_follows_the_stack, TIMEOUT_S)
{
	__u64 n[2] = { 0, 0 };
	struct vcpu *v[2];
	__u64 round;
	int i;

	self->vm = vm_create();
	for (i = 0; i < 2; i++) {
		v[i] = vm_vcpu_add(self->vm, i, guest_counts);
		vcpu_args_set(v[i], 1, (__u64)i);
	}
	for (round = 0; round < HOST_RSP_ROUNDS; round++) {
		for (i = 0; i < 2; i++) {
			rsp_run_once(_metadata, v[i], false, i, n[i]++);
			rsp_run_once(_metadata, v[i], round % 4 == (__u64)i * 2,
				     i, n[i]++);
		}
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
