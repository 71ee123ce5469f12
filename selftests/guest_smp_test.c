// SPDX-License-Identifier: GPL-2.0
/*
 * Guests on several host threads and CPUs: vCPUs of one VM each on its own
 * thread, two VMs at once, and a vCPU whose thread keeps moving between
 * host CPUs, also while a CPU goes offline and online under it.
 */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		300
#define CPU1_ONLINE		"/sys/devices/system/cpu/cpu1/online"

FIXTURE(smp) {
	struct vm *vm;
	bool cpu1_offline;	/* we took CPU 1 down and must bring it back */
};

FIXTURE_SETUP(smp)
{
	self->vm = NULL;
	self->cpu1_offline = false;
}

FIXTURE_TEARDOWN(smp)
{
	if (self->cpu1_offline)
		write_file(CPU1_ONLINE, "1");
	if (self->vm)
		vm_free(self->vm);
}

/* --- vCPUs of one VM on their own threads -------------------------------------- */

#define NR_WORKERS		4
#define WORKER_ROUNDS		60

static __u64 shared_counter;

static void guest_worker(__u64 id, __u64 rounds)
{
	__u64 i, ticket;

	for (i = 0; i < rounds; i++) {
		ticket = __atomic_fetch_add(&shared_counter, 1, __ATOMIC_SEQ_CST);
		outb(0x80 + id, i);
		GUEST_SYNC(id, i, ticket);
	}
	GUEST_DONE();
}

struct worker {
	pthread_t thread;
	struct vcpu *vcpu;
	__u64 tickets[WORKER_ROUNDS];
	int bad_rounds;
};

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct ucall uc;
	__u64 i, got;

	for (i = 0; i < WORKER_ROUNDS; i++) {
		got = vcpu_run_expect_out(w->vcpu, 0x80 + w->vcpu->id, 1);
		TEST_ASSERT(vcpu_run_to_ucall(w->vcpu, &uc) == UCALL_SYNC,
			    "vCPU %u: no SYNC", w->vcpu->id);
		if (got != (i & 0xff) || uc.args[0] != w->vcpu->id || uc.args[1] != i)
			w->bad_rounds++;
		w->tickets[i] = uc.args[2];
	}
	TEST_ASSERT(vcpu_run_to_ucall(w->vcpu, &uc) == UCALL_DONE,
		    "vCPU %u: not done", w->vcpu->id);
	return NULL;
}

TEST_F_TIMEOUT(smp, vcpus_on_threads, TIMEOUT_S)
{
	static struct worker workers[NR_WORKERS];
	static bool seen[NR_WORKERS * WORKER_ROUNDS];
	int i, j, dup = 0;

	self->vm = vm_create();
	for (i = 0; i < NR_WORKERS; i++) {
		workers[i].vcpu = vm_vcpu_add(self->vm, i, guest_worker);
		vcpu_args_set(workers[i].vcpu, 2, (__u64)i, (__u64)WORKER_ROUNDS);
	}
	for (i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&workers[i].thread, NULL, run_worker,
					    &workers[i]));
	for (i = 0; i < NR_WORKERS; i++)
		pthread_join(workers[i].thread, NULL);

	for (i = 0; i < NR_WORKERS; i++) {
		EXPECT_EQ(0, workers[i].bad_rounds) TH_LOG("vCPU %d", i);
		for (j = 0; j < WORKER_ROUNDS; j++) {
			__u64 t = workers[i].tickets[j];

			if (t >= NR_WORKERS * WORKER_ROUNDS || seen[t])
				dup++;
			else
				seen[t] = true;
		}
	}
	/* Every atomic increment of every vCPU counted exactly once. */
	EXPECT_EQ(0, dup);
	vm_sync_from_guest(self->vm, &shared_counter, sizeof(shared_counter));
	EXPECT_EQ(NR_WORKERS * WORKER_ROUNDS, shared_counter);
}

/* --- two VMs at once ---------------------------------------------------------------- */

#define VM_ROUNDS		80

static __u64 vm_marker;

/* Each VM has its own copy of vm_marker; the other VM must not touch it. */
static void guest_marker(__u64 marker)
{
	__u64 i;

	for (i = 0; i < VM_ROUNDS; i++) {
		vm_marker = marker + i;
		GUEST_SYNC(marker, i);
		GUEST_ASSERT_EQ(vm_marker, marker + i);
	}
	GUEST_DONE();
}

struct vm_thread {
	pthread_t thread;
	struct vm *vm;
	__u64 marker;
	int bad;
};

static void *run_marker_vm(void *arg)
{
	struct vm_thread *t = arg;
	struct vcpu *vcpu = t->vm->vcpus[0];
	struct ucall uc;
	__u64 i;

	for (i = 0; i < VM_ROUNDS; i++) {
		TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_SYNC, "no SYNC");
		if (uc.args[0] != t->marker || uc.args[1] != i)
			t->bad++;
	}
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE, "not done");
	return NULL;
}

TEST_F_TIMEOUT(smp, two_vms_at_once, TIMEOUT_S)
{
	struct vm_thread t[2] = { { .marker = 0x1000 }, { .marker = 0x2000 } };
	__u64 *marker;
	int i;

	for (i = 0; i < 2; i++) {
		t[i].vm = vm_create();
		vm_vcpu_add(t[i].vm, 0, guest_marker);
		vcpu_args_set(t[i].vm->vcpus[0], 1, t[i].marker);
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i].thread, NULL, run_marker_vm, &t[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i].thread, NULL);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, t[i].bad) TH_LOG("VM %d", i);
		marker = addr_gva2hva(t[i].vm, &vm_marker);
		EXPECT_EQ(t[i].marker + VM_ROUNDS - 1, *marker);
		vm_free(t[i].vm);
	}
	EXPECT_EQ(0, vm_marker) TH_LOG("the guests wrote to the host's copy");
}

/* --- a vCPU thread moving between CPUs -------------------------------------------- */

#define MIG_PAGES		8
#define MIG_WORDS		(MIG_PAGES * 512)

static __u64 mig_sum(const __u64 *mem)
{
	__u64 sum = 0, i;

	for (i = 0; i < MIG_WORDS; i++)
		sum = sum * 31 + (mem[i] ^ i);
	return sum;
}

/* Checksums its memory each round; the host changes it in between. */
static void guest_checksum(__u64 base)
{
	__u64 round;

	for (round = 0;; round++)
		GUEST_SYNC(round, mig_sum((const __u64 *)base));
}

static void fill(__u64 *mem, __u64 seed)
{
	__u64 i;

	for (i = 0; i < MIG_WORDS; i++)
		mem[i] = (seed + i) * 0x9e3779b97f4a7c15ULL;
}

static int set_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void all_cpus(void)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

struct migration {
	struct vcpu *vcpu;
	__u64 *mem;
	__u64 round;
	int visited;		/* bit mask of CPUs the vCPU ran on */
	int moves;
	int bad_sums;
	int refused;		/* affinity to an offline CPU */
};

/* Two rounds on one CPU, then move: CPU 0, 1, 0, 1... */
static void migration_round(struct migration *m)
{
	struct ucall uc;
	int cpu = (m->round / 2) % 2;

	if (m->round % 2 == 0) {
		if (set_cpu(cpu)) {
			m->refused++;
			set_cpu(0);
		}
		m->moves++;
	}
	fill(m->mem, m->round);
	TEST_ASSERT(vcpu_run_to_ucall(m->vcpu, &uc) == UCALL_SYNC, "no SYNC");
	m->visited |= 1 << sched_getcpu();
	if (uc.args[0] != m->round || uc.args[1] != mig_sum(m->mem))
		m->bad_sums++;
	m->round++;
}

static struct vm *migration_start(struct migration *m)
{
	struct vm *vm = vm_create();

	m->mem = vm_add_region(vm, SLOT_TEST, GUEST_DATA_GPA,
			       MIG_PAGES * GUEST_PAGE_SIZE, 0);
	m->vcpu = vm_vcpu_add(vm, 0, guest_checksum);
	vcpu_args_set(m->vcpu, 1, GUEST_DATA_GPA);
	return vm;
}

TEST_F_TIMEOUT(smp, migrate_between_cpus, TIMEOUT_S)
{
	struct migration m = {};
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 online CPUs (VM with --cpus 2)");
	self->vm = migration_start(&m);
	for (i = 0; i < 200; i++)
		migration_round(&m);
	all_cpus();
	TH_LOG("%llu rounds, %d moves, CPUs visited %#x", m.round, m.moves,
	       m.visited);
	EXPECT_EQ(0, m.bad_sums) TH_LOG("checksums wrong after migration");
	EXPECT_EQ(3, m.visited) TH_LOG("the vCPU did not run on both CPUs");
	EXPECT_EQ(0, m.refused);
}

struct toggler {
	pthread_t thread;
	int cycles;
	int failed;
	bool done;
};

static void *toggle_cpu1(void *arg)
{
	struct toggler *t = arg;
	int i;

	for (i = 0; i < t->cycles; i++) {
		if (write_file(CPU1_ONLINE, "0"))
			t->failed++;
		usleep(50000);
		if (write_file(CPU1_ONLINE, "1"))
			t->failed++;
		usleep(50000);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F_TIMEOUT(smp, migrate_while_cpu1_goes_offline, TIMEOUT_S)
{
	struct toggler t = { .cycles = 4 };
	struct migration m = {};
	char state[8];

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || !path_exists(CPU1_ONLINE))
		SKIP(return, "needs a CPU 1 that can go offline (VM with --cpus 2)");
	self->vm = migration_start(&m);
	self->cpu1_offline = true;	/* from now on, bring it back at the end */
	ASSERT_EQ(0, pthread_create(&t.thread, NULL, toggle_cpu1, &t));
	while (!__atomic_load_n(&t.done, __ATOMIC_ACQUIRE) || m.round < 40)
		migration_round(&m);
	pthread_join(t.thread, NULL);
	all_cpus();
	TH_LOG("%llu rounds, %d moves, %d refused (CPU 1 offline), CPUs visited %#x",
	       m.round, m.moves, m.refused, m.visited);
	EXPECT_EQ(0, t.failed) TH_LOG("writing %s failed", CPU1_ONLINE);
	EXPECT_EQ(0, m.bad_sums) TH_LOG("checksums wrong around CPU hotplug");
	ASSERT_LT(0, read_file(CPU1_ONLINE, state, sizeof(state)));
	EXPECT_EQ('1', state[0]);
	self->cpu1_offline = state[0] != '1';
	/* The vCPU still runs on the CPU that came back. */
	EXPECT_EQ(0, set_cpu(1));
	migration_round(&m);
	migration_round(&m);
	all_cpus();
	EXPECT_EQ(0, m.bad_sums);
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
