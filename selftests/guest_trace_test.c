// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab's tracepoints through the usual tools: trace-cmd (Debian's, put
 * into the test VM next to the selftests by make check) records
 * "vmxlab:*" around a known guest -- this binary run again with
 * --run-guest -- and its report must show one vmxlab_exit with reason 10
 * per CPUID, one with reason 30 per OUT, and an entry before every exit;
 * every exit also gets one vmxlab_decision.  Documentation/api.rst,
 * "Tracing", has the command lines.
 *
 * The exit log (VMXLAB_SET_EXIT_LOG, VMXLAB_READ_EXIT_LOG;
 * Documentation/tracing.rst): its ioctls refuse what they must, a small
 * ring counts what it lost, no record lacks a decision, the records of a
 * guest doing CPUID, OUT, MMIO and first and second touches of pages
 * match VMXLAB_GET_STATS reason by reason, and each says the right
 * decision -- with EPT and, as NAME@shadow, with shadow paging.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define CPUIDS			37
#define OUTS			5
#define OUT_PORT		0x80
#define TRACE_CMD		"/vmxlab/trace-cmd"
#define TRACE_DAT		"/tmp/vmxlab-trace.dat"

static void guest_known_exits(void)
{
	__u32 out[4];
	int i;

	for (i = 0; i < CPUIDS; i++)
		guest_cpuid(0, 0, out);
	for (i = 0; i < OUTS; i++)
		outb(OUT_PORT, i);
	GUEST_DONE();
}

/* The guest, in the process trace-cmd starts. */
static int run_guest(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0, guest_known_exits);
	struct ucall uc;
	int i;

	for (i = 0; i < OUTS; i++)
		vcpu_run_expect_out(vcpu, OUT_PORT, 1);
	if (vcpu_run_to_ucall(vcpu, &uc) != UCALL_DONE)
		return 1;
	vm_free(vm);
	return 0;
}

/*
 * trace-cmd starts several processes and reads per-CPU buffers: seconds
 * on Debian's kernel, much longer on the debug kernel (lockdep, KASAN).
 */
#define TRACE_TIMEOUT_S		300

/* The exit-log tests use the VM, the vCPU and a buffer for READ. */
FIXTURE(trace) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct vmxlab_exit_log *log;
};

static struct vmxlab_exit_log *log_alloc(__u32 room);

/* trace-cmd finds vmxlab's events only while the module is loaded. */
FIXTURE_SETUP(trace)
{
	vmxlab_require_module();
	self->vm = NULL;
	self->log = log_alloc(VMXLAB_MAX_EXIT_LOG_READ);
	ASSERT_NE(NULL, self->log);
}

FIXTURE_TEARDOWN(trace)
{
	if (self->vm)
		vm_free(self->vm);
	free(self->log);
}

TEST_F_TIMEOUT(trace, trace_cmd_records_entries_and_exits, TRACE_TIMEOUT_S)
{
	unsigned int cpuid = 0, io = 0, exits = 0, entries = 0, reason;
	unsigned int pf_exits = 0, shadow_pfs = 0, resolved = 0;
	unsigned int decisions = 0, no_decision = 0;
	char exe[256], cmd[600], line[512], *p;
	struct stat st;
	ssize_t n;
	FILE *f;

	ASSERT_EQ(0, stat(TRACE_CMD, &st))
		TH_LOG("%s missing (make check puts Debian's trace-cmd there)",
		       TRACE_CMD);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = '\0';

	snprintf(cmd, sizeof(cmd),
		 TRACE_CMD " record -q -e 'vmxlab:*' -o " TRACE_DAT " %s --run-guest",
		 exe);
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s", cmd);

	f = popen(TRACE_CMD " report -i " TRACE_DAT " 2>/dev/null", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "vmxlab_entry:"))
			entries++;
		if (strstr(line, "vmxlab_decision:")) {
			decisions++;
			no_decision += !!strstr(line, " decision 0 ");
		}
		if (strstr(line, "vmxlab_shadow_pf:")) {
			shadow_pfs++;
			resolved += !!strstr(line, ": resolved");
		}
		p = strstr(line, "vmxlab_exit:");
		if (!p)
			continue;
		exits++;
		p = strstr(p, " reason ");
		if (!p || sscanf(p, " reason %u", &reason) != 1)
			continue;
		cpuid += reason == 10;
		io += reason == 30;
		pf_exits += reason == 0;
	}
	EXPECT_EQ(0, pclose(f));
	TH_LOG("%u entries, %u exits: %u CPUID, %u I/O", entries, exits,
	       cpuid, io);
	EXPECT_EQ(CPUIDS, cpuid);
	/* The OUTs, and the OUT of the library's GUEST_DONE(). */
	EXPECT_EQ(OUTS + 1, io);
	EXPECT_LE(exits, entries) TH_LOG("every exit follows an entry");
	/* Registering the probe turned the record building on. */
	EXPECT_EQ(exits, decisions) TH_LOG("one vmxlab_decision per exit");
	EXPECT_EQ(0U, no_decision);
	EXPECT_LE(CPUIDS + OUTS + 1, exits);
	/*
	 * Shadow paging (the NAME@shadow rerun): the guest's pages come in
	 * through #PF exits (reason 0), each one a vmxlab_shadow_pf event;
	 * this guest takes no #PF of its own, so each is resolved.  An EPT
	 * VM has none.
	 */
	TH_LOG("%u shadow #PFs, %u resolved", shadow_pfs, resolved);
	if (shadow_rerun()) {
		EXPECT_LT(0U, shadow_pfs);
		EXPECT_EQ(shadow_pfs, resolved);
		EXPECT_EQ(pf_exits, shadow_pfs);
	} else {
		EXPECT_EQ(0U, shadow_pfs);
	}
	unlink(TRACE_DAT);
}

/* --- the exit log ------------------------------------------------------ */

#define LOG_MAX			VMXLAB_MAX_EXIT_LOG_READ
#define MIX_CPUIDS		40
#define MIX_OUTS		5
#define MIX_PAGES		8
/* Every other page: EPT fault-around (mmu/ept.c) maps runs, not these. */
#define MIX_STRIDE		(2 * GUEST_PAGE_SIZE)
#define MIX_MMIOS		3
#define MIX_PORT		0x80
#define MIX_DATA_GPA		GUEST_DATA_GPA
#define MIX_MMIO_GPA		(GUEST_MMIO_GPA + 0x100)

#define TIMEOUT_S		120

static_assert(sizeof(struct vmxlab_exit_record) == 128, "record ABI");
static_assert(sizeof(struct vmxlab_exit_log) == 32, "log header ABI");

static int set_log(struct vcpu *vcpu, __u32 nr, __u32 flags, __u64 rsvd)
{
	struct vmxlab_exit_log_config c = {
		.nr_records = nr, .flags = flags, .reserved = { 0, rsvd, 0 },
	};

	return __vcpu_ioctl(vcpu, VMXLAB_SET_EXIT_LOG, &c);
}

/* A header with room for @room records, to READ into. */
static struct vmxlab_exit_log *log_alloc(__u32 room)
{
	struct vmxlab_exit_log *log;

	log = calloc(1, sizeof(*log) + (size_t)room * sizeof(log->records[0]));
	if (log)
		log->nrecords = room;
	return log;
}

/* READ into @log, room @room; returns the ioctl's result. */
static int read_log(struct vcpu *vcpu, struct vmxlab_exit_log *log, __u32 room)
{
	log->nrecords = room;
	return __vcpu_ioctl(vcpu, VMXLAB_READ_EXIT_LOG, log);
}

static void stats_delta(const struct vmxlab_vcpu_stats *before,
			const struct vmxlab_vcpu_stats *after, __u64 *d)
{
	int i;

	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		d[i] = after->exits[i] - before->exits[i];
}

/* Every record is whole: a decision, an outcome, zeroed padding. */
static void check_records_whole(struct __test_metadata *_metadata,
				const struct vmxlab_exit_log *log, __u64 seq)
{
	const struct vmxlab_exit_record *r;
	__u32 i, j;

	for (i = 0; i < log->nrecords; i++) {
		r = &log->records[i];
		EXPECT_EQ(seq + i, r->seq);
		EXPECT_NE(VMXLAB_DECISION_NONE, r->decision)
			TH_LOG("record %llu: reason %u rip %#llx without a decision",
			       r->seq, r->exit_reason, r->rip);
		EXPECT_GT(VMXLAB_NR_DECISIONS, r->decision);
		EXPECT_GT(VMXLAB_NR_INJECT_WHY, r->inject_why);
		EXPECT_TRUE(r->outcome >= VMXLAB_OUTCOME_RESUMED &&
			    r->outcome <= VMXLAB_OUTCOME_ERROR)
			TH_LOG("record %llu: outcome %u", r->seq, r->outcome);
		EXPECT_EQ(0U, r->padding);
		for (j = 0; j < VMXLAB_ARRAY_SIZE(r->reserved); j++)
			EXPECT_EQ(0ULL, r->reserved[j]);
		if (i)
			EXPECT_LE(r[-1].tsc, r->tsc);
	}
}

static void guest_cpuids(void)
{
	__u32 out[4];
	int i;

	for (i = 0; i < 100; i++)
		guest_cpuid(0, 0, out);
	GUEST_DONE();
}

TEST_F_TIMEOUT(trace, ioctl_errors, TIMEOUT_S)
{
	struct vmxlab_exit_log_config c = {};
	struct vmxlab_exit_log *log = self->log;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_cpuids);

	/* Off: nothing to read. */
	EXPECT_EQ(-1, read_log(self->vcpu, log, 1));
	EXPECT_EQ(ENOENT, errno);
	/* Sizes: a power of two up to VMXLAB_MAX_EXIT_LOG. */
	EXPECT_EQ(-1, set_log(self->vcpu, 3, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_log(self->vcpu, 2 * VMXLAB_MAX_EXIT_LOG, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_log(self->vcpu, 0xffffffff, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_log(self->vcpu, 16, 1, 0));
	EXPECT_EQ(EINVAL, errno) TH_LOG("unknown flags");
	EXPECT_EQ(-1, set_log(self->vcpu, 16, 0, 1));
	EXPECT_EQ(EINVAL, errno) TH_LOG("reserved not zero");
	c.nr_records = 16;
	c.reserved[2] = 1;
	EXPECT_EQ(-1, __vcpu_ioctl(self->vcpu, VMXLAB_SET_EXIT_LOG, &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, __vcpu_ioctl(self->vcpu, VMXLAB_SET_EXIT_LOG, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* A refused SET left the log off. */
	EXPECT_EQ(-1, read_log(self->vcpu, log, 1));
	EXPECT_EQ(ENOENT, errno);

	EXPECT_EQ(0, set_log(self->vcpu, 1, 0, 0));
	EXPECT_EQ(0, set_log(self->vcpu, VMXLAB_MAX_EXIT_LOG, 0, 0));
	/* READ: room above the maximum is E2BIG, a bad pointer EFAULT. */
	EXPECT_EQ(-1, read_log(self->vcpu, log, LOG_MAX + 1));
	EXPECT_EQ(E2BIG, errno);
	log->nrecords = 0xffffffff;
	EXPECT_EQ(-1, __vcpu_ioctl(self->vcpu, VMXLAB_READ_EXIT_LOG, log));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, __vcpu_ioctl(self->vcpu, VMXLAB_READ_EXIT_LOG, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* Empty: 0 records, next_seq 0. */
	log->next_seq = 99;
	EXPECT_EQ(0, read_log(self->vcpu, log, LOG_MAX));
	EXPECT_EQ(0U, log->nrecords);
	EXPECT_EQ(0ULL, log->next_seq);
	EXPECT_EQ(0U, log->lost);

	/* Room 0 reads nothing and loses nothing. */
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &(struct ucall){}));
	EXPECT_EQ(0, read_log(self->vcpu, log, 0));
	EXPECT_EQ(0U, log->nrecords);
	EXPECT_LT(100ULL, log->next_seq);
	EXPECT_EQ(100, read_log(self->vcpu, log, 100));
	EXPECT_EQ(100U, log->nrecords);
	check_records_whole(_metadata, log, 0);

	/* Off, and a new log starts from seq 0. */
	EXPECT_EQ(0, set_log(self->vcpu, 0, 0, 0));
	EXPECT_EQ(-1, read_log(self->vcpu, log, 1));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, set_log(self->vcpu, 8, 0, 0));
	EXPECT_EQ(0, read_log(self->vcpu, log, 8));
	EXPECT_EQ(0ULL, log->next_seq);
}

/* A guest that makes more exits than the ring holds: the oldest go. */
TEST_F_TIMEOUT(trace, lost_on_overflow, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_exit_log *log = self->log;
	__u64 d[VMXLAB_NR_VMX_EXIT_REASONS], total = 0;
	struct ucall uc;
	int i;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_cpuids);
	ASSERT_EQ(0, set_log(self->vcpu, 16, 0, 0));
	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &after);
	stats_delta(&before, &after, d);
	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		total += d[i];
	total += after.failed_entries - before.failed_entries;

	ASSERT_EQ(16, read_log(self->vcpu, log, LOG_MAX));
	EXPECT_EQ(16U, log->nrecords);
	EXPECT_EQ(total, log->next_seq) TH_LOG("one record per exit");
	EXPECT_EQ(total - 16, log->lost);
	/* The newest 16, the last of them the ucall's OUT. */
	check_records_whole(_metadata, log, total - 16);
	EXPECT_EQ(VMX_EXIT_IO, log->records[15].exit_reason);
	/* Read: nothing left, nothing more lost. */
	EXPECT_EQ(0, read_log(self->vcpu, log, LOG_MAX));
	EXPECT_EQ(0U, log->lost);
	EXPECT_EQ(total, log->next_seq);
}

/*
 * CPUIDs, OUTs, first and second writes to fresh pages, MMIO stores.  The
 * SYNC between the two touches lets the host read the log in between.
 */
static void guest_mix(__u64 data)
{
	__u32 out[4];
	int i;

	for (i = 0; i < MIX_CPUIDS; i++)
		guest_cpuid(0, 0, out);
	for (i = 0; i < MIX_OUTS; i++)
		outb(MIX_PORT, i);
	for (i = 0; i < MIX_PAGES; i++)
		__atomic_store_n((__u64 *)(data + i * MIX_STRIDE), 1,
				 __ATOMIC_RELEASE);
	GUEST_SYNC(1);
	for (i = 0; i < MIX_PAGES; i++)
		__atomic_store_n((__u64 *)(data + i * MIX_STRIDE + 8), 2,
				 __ATOMIC_RELEASE);
	for (i = 0; i < MIX_MMIOS; i++)
		asm volatile("movl %k0, (%1)"
			     : : "r"(0x1234 + i), "r"(MIX_MMIO_GPA) : "memory");
	GUEST_DONE();
}

static bool in_data(__u64 a)
{
	return a >= MIX_DATA_GPA && a < MIX_DATA_GPA + MIX_PAGES * MIX_STRIDE;
}

/* The record of a guest access to memory: EPT violation, or shadow #PF. */
static bool is_fault(const struct vmxlab_exit_record *r, bool shadow)
{
	return shadow ? r->exit_reason == VMX_EXIT_EXCEPTION_NMI &&
			(r->intr_info & 0xff) == 14 :
			r->exit_reason == VMX_EXIT_EPT_VIOLATION;
}

static __u64 fault_addr(const struct vmxlab_exit_record *r, bool shadow)
{
	return shadow ? r->qualification : r->gpa;
}

/* Records per basic exit reason must be the GET_STATS deltas. */
static void check_counts(struct __test_metadata *_metadata,
			 const struct vmxlab_exit_log *log, const __u64 *d,
			 const char *phase)
{
	__u64 n[VMXLAB_NR_VMX_EXIT_REASONS] = {};
	__u32 i;

	for (i = 0; i < log->nrecords; i++) {
		__u32 reason = log->records[i].exit_reason;

		ASSERT_LT(reason, VMXLAB_NR_VMX_EXIT_REASONS)
			TH_LOG("%s: reason %#x", phase, reason);
		n[reason]++;
	}
	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		EXPECT_EQ(d[i], n[i]) TH_LOG("%s: reason %u", phase, i);
}

TEST_F_TIMEOUT(trace, decisions_match_stats, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_exit_log *log = self->log;
	__u64 d[VMXLAB_NR_VMX_EXIT_REASONS], seq = 0;
	unsigned int cpuids = 0, outs = 0, mmios = 0, first = 0, second = 0;
	const struct vmxlab_exit_record *r;
	struct vmxlab_run *run;
	struct ucall uc;
	bool shadow;
	__u32 i;

	self->vm = vm_create();
	shadow = vm_is_shadow(self->vm);
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_mix);
	run = self->vcpu->run;
	vm_add_region(self->vm, SLOT_TEST, MIX_DATA_GPA,
		      MIX_PAGES * MIX_STRIDE, 0);
	vcpu_args_set(self->vcpu, 1, MIX_DATA_GPA);
	ASSERT_EQ(0, set_log(self->vcpu, LOG_MAX, 0, 0));

	/* Phase 1: CPUID, OUT, first touches. */
	vcpu_stats_get(self->vcpu, &before);
	for (i = 0; i < MIX_OUTS; i++)
		vcpu_run_expect_out(self->vcpu, MIX_PORT, 1);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &after);
	stats_delta(&before, &after, d);
	ASSERT_LE(0, read_log(self->vcpu, log, LOG_MAX));
	EXPECT_EQ(0U, log->lost);
	check_records_whole(_metadata, log, seq);
	check_counts(_metadata, log, d, "first touches");
	seq += log->nrecords;
	for (i = 0; i < log->nrecords; i++) {
		r = &log->records[i];
		switch (r->exit_reason) {
		case VMX_EXIT_CPUID:
			cpuids++;
			EXPECT_EQ(VMXLAB_DECISION_RESUMED_EMULATED, r->decision);
			EXPECT_EQ(VMXLAB_OUTCOME_RESUMED, r->outcome);
			EXPECT_EQ(0ULL, r->arg[0]) TH_LOG("the leaf");
			break;
		case VMX_EXIT_IO:
			EXPECT_EQ(VMXLAB_DECISION_TO_USERSPACE_IO, r->decision);
			EXPECT_EQ(VMXLAB_OUTCOME_USERSPACE, r->outcome);
			if (r->arg[0] == MIX_PORT) {
				outs++;
				EXPECT_EQ(1ULL | 1ULL << 16, r->arg[1])
					TH_LOG("size 1, OUT, count 1");
			}
			break;
		}
		if (!is_fault(r, shadow) || !in_data(fault_addr(r, shadow)))
			continue;
		first++;
		if (shadow) {
			EXPECT_EQ(VMXLAB_DECISION_PF_RESOLVED, r->decision);
		} else {
			EXPECT_EQ(VMXLAB_DECISION_EPT_MAPPED, r->decision);
			EXPECT_EQ(r->gpa, r->arg[0]);
			EXPECT_EQ((__u64)SLOT_TEST, r->arg[1]) TH_LOG("the slot");
			EXPECT_TRUE(r->gla == r->gpa) TH_LOG("identity mapped");
		}
		EXPECT_EQ(VMXLAB_OUTCOME_RESUMED, r->outcome);
	}
	EXPECT_EQ(MIX_CPUIDS, cpuids);
	EXPECT_EQ(MIX_OUTS, outs);
	/* One fault per page (EPT); shadow may also fault on the guest PTs. */
	EXPECT_LE(MIX_PAGES, first);
	if (!shadow)
		EXPECT_EQ(MIX_PAGES, first);

	/* Phase 2: second touches fault no more; MMIO stores. */
	vcpu_stats_get(self->vcpu, &before);
	for (i = 0; i < MIX_MMIOS; i++) {
		vcpu_run(self->vcpu);
		ASSERT_EQ(VMXLAB_EXIT_MMIO, run->exit_reason);
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
	vcpu_stats_get(self->vcpu, &after);
	stats_delta(&before, &after, d);
	ASSERT_LE(0, read_log(self->vcpu, log, LOG_MAX));
	EXPECT_EQ(0U, log->lost);
	check_records_whole(_metadata, log, seq);
	check_counts(_metadata, log, d, "second touches");
	for (i = 0; i < log->nrecords; i++) {
		r = &log->records[i];
		if (is_fault(r, shadow) && in_data(fault_addr(r, shadow)))
			second++;
		if (r->decision != VMXLAB_DECISION_TO_USERSPACE_MMIO)
			continue;
		mmios++;
		EXPECT_TRUE(is_fault(r, shadow));
		EXPECT_EQ(MIX_MMIO_GPA, r->arg[0]);
		EXPECT_EQ(4ULL | 1ULL << 8, r->arg[1]) TH_LOG("4-byte store");
		EXPECT_EQ(VMXLAB_OUTCOME_USERSPACE, r->outcome);
	}
	EXPECT_EQ(0U, second) TH_LOG("a second touch faulted");
	EXPECT_EQ(MIX_MMIOS, mmios);
}

/* A write to a read-only slot is its own decision, with the slot. */
static void guest_write_readonly(__u64 addr)
{
	__atomic_store_n((__u64 *)addr, 7, __ATOMIC_RELEASE);
	GUEST_DONE();
}

TEST_F_TIMEOUT(trace, readonly_write, TIMEOUT_S)
{
	struct vmxlab_exit_log *log = self->log;
	const struct vmxlab_exit_record *r;
	unsigned int seen = 0;
	struct ucall uc;
	__u32 i;

	if (shadow_rerun())
		SKIP(return, "shadow paging reports it as a #PF's MMIO");
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_write_readonly);
	vm_add_region(self->vm, SLOT_TEST, MIX_DATA_GPA, GUEST_PAGE_SIZE,
		      VMXLAB_MEM_READONLY);
	vcpu_args_set(self->vcpu, 1, MIX_DATA_GPA);
	ASSERT_EQ(0, set_log(self->vcpu, LOG_MAX, 0, 0));
	vcpu_run(self->vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, self->vcpu->run->exit_reason);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
	ASSERT_LE(0, read_log(self->vcpu, log, LOG_MAX));
	check_records_whole(_metadata, log, 0);
	for (i = 0; i < log->nrecords; i++) {
		r = &log->records[i];
		if (r->decision != VMXLAB_DECISION_EPT_READONLY_WRITE)
			continue;
		seen++;
		EXPECT_EQ(MIX_DATA_GPA, r->arg[0]);
		EXPECT_EQ((__u64)SLOT_TEST, r->arg[1]);
		EXPECT_EQ(VMXLAB_OUTCOME_USERSPACE, r->outcome);
	}
	EXPECT_EQ(1U, seen);
}

/*
 * An interrupt queued while the guest runs with IF=0 waits: the entry
 * says why (VMXLAB_INJECT_HELD_IF); once the guest sets IF the window
 * exit opens and the next entry injects the vector.
 */
#define WHY_VECTOR		0x40

static void guest_irq_handler(struct ex_regs *regs)
{
	(void)regs;
}

static void guest_if_later(void)
{
	outb(MIX_PORT, 0);			/* the host queues the IRQ */
	outb(MIX_PORT, 1);			/* entered with IF=0 */
	asm volatile("sti; nop; cli" ::: "memory");
	GUEST_DONE();
}

TEST_F_TIMEOUT(trace, inject_why, TIMEOUT_S)
{
	struct vmxlab_interrupt irq = { .vector = WHY_VECTOR };
	struct vmxlab_exit_log *log = self->log;
	unsigned int held_if = 0, injected = 0, delivered = 0;
	struct vmxlab_vcpu_stats stats;
	const struct vmxlab_exit_record *r;
	struct ucall uc;
	__u32 i;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_if_later);
	vm_install_exception_handler(self->vm, WHY_VECTOR, guest_irq_handler);
	ASSERT_EQ(0, set_log(self->vcpu, LOG_MAX, 0, 0));
	vcpu_run_expect_out(self->vcpu, MIX_PORT, 1);
	ASSERT_EQ(0, __vcpu_ioctl(self->vcpu, VMXLAB_INTERRUPT, &irq));
	vcpu_run_expect_out(self->vcpu, MIX_PORT, 1);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &uc));
	ASSERT_LE(0, read_log(self->vcpu, log, LOG_MAX));
	check_records_whole(_metadata, log, 0);
	for (i = 0; i < log->nrecords; i++) {
		r = &log->records[i];
		held_if += r->inject_why == VMXLAB_INJECT_HELD_IF;
		if ((r->entry_intr_info & 0x800000ff) != (0x80000000 | WHY_VECTOR))
			continue;
		injected++;
		/*
		 * An exit during the delivery (a first touch of the handler's
		 * stack, say) reports it in idt_vectoring, and the next entry
		 * injects it again: it is delivered once.
		 */
		if (!(r->idt_vectoring & 0x80000000))
			delivered++;
	}
	vcpu_stats_get(self->vcpu, &stats);
	EXPECT_LE(1U, held_if) TH_LOG("no entry said IF=0 held the interrupt");
	EXPECT_LE(1U, injected) TH_LOG("no entry injected vector %#x",
				       WHY_VECTOR);
	EXPECT_EQ(1U, delivered);
	EXPECT_EQ(1ULL, stats.injected_irqs);
}

TEST_F(trace, module_refcount_zero)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--run-guest"))
		return run_guest();
	return test_harness_run(argc, argv);
}
