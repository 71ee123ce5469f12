// SPDX-License-Identifier: GPL-2.0
/*
 * Cached EPT translations across the life of VMs.  A CPU keeps what it
 * cached for an EPT pointer until an INVEPT (SDM Vol. 3C, 29.4.3), so a
 * VM whose root page once was another VM's root could meet entries that
 * point into freed tables.  VMs are created and destroyed in a loop, each
 * with another slot history, on every CPU; each must read its own memory,
 * and the vmxlab:vmxlab_invept tracepoint must show an INVEPT on each CPU
 * before the VM's first entry there, and on every CPU it ran on when it is
 * destroyed -- also when no slot was ever deleted.
 *
 * Bochs drops every cached translation at each VM entry, so there the
 * data checks cannot see a missing INVEPT; the trace checks can.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		300

#define DATA_PAGES		8
#define MOVED_GPA		(GUEST_DATA_GPA + 0x100000)
#define ROUNDS			3
#define MAX_CPUS		2

enum history {
	H_DELETE_FIRST,		/* every slot is deleted before the VM goes */
	H_KEEP,			/* the VM goes with its slot in place */
	H_MOVE,			/* the slot moves, the guest runs again */
	H_NR,
};

static const char * const history_name[H_NR] = {
	"slots deleted first", "slot kept", "slot moved",
};

/* Guest: add up the first word of each page of the slot at @gpa. */
static void guest_sum_pages(__u64 gpa, __u64 pages)
{
	for (;;) {
		__u64 sum = 0, i;

		/* Read afresh each time: the slot may have moved. */
		asm volatile("" : : : "memory");
		for (i = 0; i < pages; i++)
			sum += *(__u64 *)(gpa + i * GUEST_PAGE_SIZE);
		GUEST_SYNC(sum);
		gpa = inl(0x30) | (__u64)inl(0x31) << 32;
	}
}

static char tracing[64];

/* Write @val to the tracefs file @name; fails the test if it cannot. */
static void trace_write(const char *name, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tracing, name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	TEST_ASSERT(write(fd, val, strlen(val)) == (ssize_t)strlen(val),
		    "write %s: %s", path, strerror(errno));
	close(fd);
}

static bool find_tracing(void)
{
	static const char * const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	unsigned int i;

	mount("tracefs", dirs[0], "tracefs", 0, NULL);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/trace_marker", dirs[i]);
		if (access(path, W_OK) == 0) {
			snprintf(tracing, sizeof(tracing), "%s", dirs[i]);
			return true;
		}
	}
	return false;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set),
		    "pin to CPU %d: %s", cpu, strerror(errno));
}

/* The slot's pages hold @seed, @seed + 1, ...: the sum says whose they are. */
static __u64 fill_pages(char *hva, __u64 seed)
{
	__u64 i, sum = 0;

	for (i = 0; i < DATA_PAGES; i++) {
		*(__u64 *)(hva + i * GUEST_PAGE_SIZE) = seed + i;
		sum += seed + i;
	}
	return sum;
}

/* One trace line, reduced to what the checks need. */
struct trace_event {
	int cpu;
	enum { EV_OTHER, EV_ENTRY, EV_INVEPT, EV_MARK_FREE } what;
	unsigned long long eptp;
};

static bool parse_line(const char *line, struct trace_event *ev)
{
	const char *p = strstr(line, "] ");

	if (line[0] == '#' || !p || p - line < 4)
		return false;
	/* "comm-pid [CPU] flags timestamp: event: ..." */
	while (p > line && p[-1] != '[')
		p--;
	ev->cpu = atoi(p);
	ev->what = EV_OTHER;
	ev->eptp = 0;
	p = strstr(line, "vmxlab_invept: eptp ");
	if (strstr(line, "vmxlab_entry:")) {
		ev->what = EV_ENTRY;
	} else if (p) {
		ev->what = EV_INVEPT;
		ev->eptp = strtoull(p + strlen("vmxlab_invept: eptp "), NULL, 16);
	} else if (strstr(line, "VMXLAB-MARK vm-free")) {
		ev->what = EV_MARK_FREE;
	}
	return true;
}

/*
 * Check one VM's trace: an INVEPT on each CPU before its first entry
 * there, one EPT pointer throughout, and after the free marker an INVEPT
 * on every CPU that ran it.
 */
static void check_trace(struct __test_metadata *_metadata, const char *what,
			const bool ran_on[MAX_CPUS])
{
	bool flushed[MAX_CPUS] = { false }, entered[MAX_CPUS] = { false };
	bool freed = false, freed_flush[MAX_CPUS] = { false };
	unsigned long long eptp = 0;
	struct trace_event ev;
	char path[128], line[512];
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "%s/trace", tracing);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!parse_line(line, &ev) || ev.cpu < 0 || ev.cpu >= MAX_CPUS)
			continue;
		switch (ev.what) {
		case EV_INVEPT:
			if (!eptp)
				eptp = ev.eptp;
			EXPECT_EQ(eptp, ev.eptp) TH_LOG("%s: another VM's INVEPT", what);
			if (freed)
				freed_flush[ev.cpu] = true;
			else
				flushed[ev.cpu] = true;
			break;
		case EV_ENTRY:
			EXPECT_FALSE(freed) TH_LOG("%s: entry after the free", what);
			if (!entered[ev.cpu])
				EXPECT_TRUE(flushed[ev.cpu])
					TH_LOG("%s: first entry on CPU %d without INVEPT",
					       what, ev.cpu);
			entered[ev.cpu] = true;
			break;
		case EV_MARK_FREE:
			freed = true;
			break;
		default:
			break;
		}
	}
	fclose(f);
	EXPECT_TRUE(freed) TH_LOG("%s: the trace lost the free marker", what);
	for (c = 0; c < MAX_CPUS; c++) {
		EXPECT_EQ(ran_on[c], entered[c]) TH_LOG("%s: CPU %d", what, c);
		if (ran_on[c])
			EXPECT_TRUE(freed_flush[c])
				TH_LOG("%s: no INVEPT on CPU %d when the VM went",
				       what, c);
	}
}

/* Run the guest on @cpu and check that it summed @expect. */
static void run_sum_on(struct __test_metadata *_metadata, struct vcpu *vcpu,
		       int cpu, __u64 expect, const char *what)
{
	struct ucall uc;

	pin_to_cpu(cpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	EXPECT_EQ(expect, uc.args[0]) TH_LOG("%s: the guest read other memory on CPU %d",
					     what, cpu);
}

/* The guest's next slot address, by two IN exits. */
static void send_gpa(struct vcpu *vcpu, __u64 gpa)
{
	vcpu_run_expect_in(vcpu, 0x30, 4, (__u32)gpa);
	vcpu_run_expect_in(vcpu, 0x31, 4, gpa >> 32);
}

FIXTURE(ept_sync) {
	int unused;
};

FIXTURE_SETUP(ept_sync)
{
}

FIXTURE_TEARDOWN(ept_sync)
{
}

TEST_F_TIMEOUT(ept_sync, vm_lifecycles_flush_every_cpu, TIMEOUT_S)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), round, h, c;
	bool ran_on[MAX_CPUS];
	char what[64];

	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	if (!find_tracing())
		SKIP(return, "no tracefs in this kernel");
	vmxlab_require_module();
	trace_write("buffer_size_kb", "1024");
	trace_write("events/vmxlab/vmxlab_invept/enable", "1");
	trace_write("events/vmxlab/vmxlab_entry/enable", "1");

	for (round = 0; round < ROUNDS; round++) {
		for (h = 0; h < H_NR; h++) {
			__u64 seed = (round * H_NR + h) * 1000, sum;
			struct vcpu *vcpu;
			struct vm *vm;
			char *hva;

			snprintf(what, sizeof(what), "round %d, %s", round,
				 history_name[h]);
			trace_write("trace", "");
			vm = vm_create();
			hva = vm_add_region(vm, SLOT_TEST, GUEST_DATA_GPA,
					    DATA_PAGES * GUEST_PAGE_SIZE, 0);
			sum = fill_pages(hva, seed);
			vcpu = vm_vcpu_add(vm, 0, guest_sum_pages);
			vcpu_args_set(vcpu, 2, GUEST_DATA_GPA, (__u64)DATA_PAGES);
			memset(ran_on, 0, sizeof(ran_on));
			for (c = 0; c < ncpus; c++) {
				if (c)
					send_gpa(vcpu, GUEST_DATA_GPA);
				run_sum_on(_metadata, vcpu, c, sum, what);
				ran_on[c] = true;
			}
			if (h == H_MOVE) {
				vm_move_region(vm, SLOT_TEST, MOVED_GPA);
				send_gpa(vcpu, MOVED_GPA);
				run_sum_on(_metadata, vcpu, 0, sum, what);
			}
			/* No slot left: destroying it unmaps nothing. */
			if (h == H_DELETE_FIRST)
				for (c = 0; c < VMXLAB_MAX_MEM_SLOTS; c++)
					if (vm->regions[c].used)
						vm_delete_region(vm, c);
			trace_write("trace_marker", "VMXLAB-MARK vm-free");
			vm_free(vm);
			check_trace(_metadata, what, ran_on);
		}
	}
	trace_write("events/vmxlab/enable", "0");
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
