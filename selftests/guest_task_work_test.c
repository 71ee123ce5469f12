// SPDX-License-Identifier: GPL-2.0
/*
 * Work the kernel owes the VMM's task is done while VMXLAB_RUN keeps the
 * task in the kernel, as on every return to user mode: between two VM
 * entries vmxlab runs what xfer_to_guest_mode_handle_work() runs
 * (signals, reschedule, and TIF_NOTIFY_RESUME work: task work, memcg
 * throttling, the rseq area).  The rseq area is the one a test can see:
 * when the task moves to another CPU the kernel must write the new CPU
 * number into it before the task runs user code -- or the guest, which
 * for that purpose is the task's user code (KVM does the same).
 */
#include <pthread.h>
#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		300
#define WAIT_MS			20000	/* wall time; Bochs is slow */

static __u64 guest_started, guest_stop;

/* Exits (CPUID) until the host says stop, never leaving RUN before. */
static void guest_spin_with_exits(void)
{
	__u32 out[4];

	__atomic_store_n(&guest_started, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&guest_stop, __ATOMIC_RELAXED))
		guest_cpuid(0, 0, out);
	GUEST_SYNC(1);
	GUEST_DONE();
}

struct vcpu_thread {
	struct vcpu *vcpu;
	struct rseq *rseq;	/* the vCPU thread's rseq area */
	pid_t tid;
	__u64 ucall;
};

static void pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set), "pin to CPU %d",
		    cpu);
}

static void *vcpu_thread_fn(void *arg)
{
	struct vcpu_thread *t = arg;
	struct ucall uc;

	pin_self(0);
	t->tid = syscall(SYS_gettid);
	t->rseq = (struct rseq *)((char *)__builtin_thread_pointer() +
				  __rseq_offset);
	t->ucall = vcpu_run_to_ucall(t->vcpu, &uc);
	return NULL;
}

static __u32 rseq_cpu(const struct vcpu_thread *t)
{
	return __atomic_load_n(&t->rseq->cpu_id, __ATOMIC_RELAXED);
}

/* Poll *@p (guest memory) for up to WAIT_MS. */
static bool wait_for(const __u64 *p, __u64 want)
{
	int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		if (__atomic_load_n(p, __ATOMIC_ACQUIRE) == want)
			return true;
		usleep(1000);
	}
	return false;
}

TEST(rseq_cpu_follows_migration_during_run)
{
	__u64 *started, *stop, cpu_seen = ~0ULL;
	struct vcpu_thread t = { 0 };
	pthread_t thread;
	cpu_set_t set;
	struct vm *vm;
	int ms;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: nowhere to migrate to");
	if (__rseq_size == 0)
		SKIP(return, "glibc did not register rseq for this thread");

	vm = vm_create();
	t.vcpu = vm_vcpu_add(vm, 0, guest_spin_with_exits);
	started = addr_gva2hva(vm, &guest_started);
	stop = addr_gva2hva(vm, &guest_stop);
	pin_self(1);
	ASSERT_EQ(0, pthread_create(&thread, NULL, vcpu_thread_fn, &t));

	ASSERT_TRUE(wait_for(started, 1)) TH_LOG("the guest never started");
	ASSERT_EQ(0, rseq_cpu(&t)) TH_LOG("the vCPU thread is pinned to CPU 0");

	/* Move the vCPU thread while it is inside VMXLAB_RUN. */
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	ASSERT_EQ(0, sched_setaffinity(t.tid, sizeof(set), &set));
	pin_self(0);
	for (ms = 0; ms < WAIT_MS && cpu_seen != 1; ms++) {
		cpu_seen = rseq_cpu(&t);
		usleep(1000);
	}
	/* Only now may the guest leave its loop, and RUN return. */
	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(thread, NULL));

	EXPECT_EQ(UCALL_SYNC, t.ucall);
	EXPECT_EQ(1, cpu_seen)
		TH_LOG("rseq cpu_id not updated while the guest ran on CPU 1");
	vm_free(vm);
}

TEST(module_refcount_zero)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
