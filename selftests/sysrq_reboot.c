// SPDX-License-Identifier: GPL-2.0
/*
 * The guest side of the vm-reboot lane: a guest spins on every online CPU,
 * each vCPU on a thread pinned to its CPU, so that every CPU is in VMX
 * operation with a VMCS loaded; then sysrq 'b' reboots the machine at
 * once.  vmxlab's emergency callback must turn VMX off on every CPU on
 * the way down (a CPU in VMX operation blocks INIT) and say so.
 *
 * Not a *_test: run_in_vm.sh runs it only with --emergency-reboot, and the
 * verdict is scripts/vm-run.sh --expect-reboot's, from the serial log.
 * Returning at all is a failure: it prints why and exits 1.
 */
#include <pthread.h>
#include <sched.h>
#include <termios.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"

/* How long the guests may take to start counting. */
#define SPIN_WAIT_S		60

/* Each guest counts in its own __u64 at GUEST_DATA_GPA. */
static void guest_spin(__u64 *counter)
{
	for (;;)
		__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

struct spinner {
	pthread_t thread;
	struct vcpu *vcpu;
	int cpu;
};

static void *run_pinned(void *arg)
{
	struct spinner *s = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set),
		    "pinning vCPU %u to CPU %d", s->vcpu->id, s->cpu);
	/* The guest never exits to us; a signal would end the run early. */
	for (;;)
		__vcpu_run(s->vcpu);
	return NULL;
}

int main(void)
{
	static struct spinner spinners[VMXLAB_MAX_VCPUS];
	__u64 *counters;
	int ncpus = 0, cpu, i;
	cpu_set_t online;
	struct vm *vm;

	/* init's affinity, which we inherit, is every online CPU. */
	TEST_ASSERT(!sched_getaffinity(0, sizeof(online), &online), "affinity");
	vmxlab_require_module();
	vm = vm_create();
	counters = vm_add_region(vm, SLOT_TEST, GUEST_DATA_GPA, GUEST_PAGE_SIZE, 0);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &online))
			continue;
		TEST_ASSERT(ncpus < VMXLAB_MAX_VCPUS, "more CPUs than vCPUs");
		spinners[ncpus].cpu = cpu;
		spinners[ncpus].vcpu = vm_vcpu_add(vm, ncpus, guest_spin);
		vcpu_args_set(spinners[ncpus].vcpu, 1, GUEST_DATA_GPA + 8 * ncpus);
		vcpu_set_if(spinners[ncpus].vcpu, true);	/* see vcpu_set_if() */
		ncpus++;
	}
	for (i = 0; i < ncpus; i++)
		TEST_ASSERT(!pthread_create(&spinners[i].thread, NULL, run_pinned,
					    &spinners[i]), "thread for CPU %d",
			    spinners[i].cpu);

	/* Every guest has counted: every CPU has entered its guest. */
	for (i = 0; i < ncpus; i++) {
		int waited;

		for (waited = 0; waited < SPIN_WAIT_S * 20; waited++) {
			if (__atomic_load_n(&counters[i], __ATOMIC_RELAXED))
				break;
			usleep(50000);
		}
		TEST_ASSERT(counters[i], "the guest on CPU %d never ran",
			    spinners[i].cpu);
	}
	/* Out on the serial line before the reset, not left in the tty. */
	printf("sysrq_reboot: a guest runs on each of %d CPU(s); sysrq b\n", ncpus);
	fflush(stdout);
	tcdrain(STDOUT_FILENO);

	TEST_ASSERT(!write_file("/proc/sys/kernel/sysrq", "1"), "enabling sysrq");
	TEST_ASSERT(!write_file("/proc/sysrq-trigger", "b"), "sysrq b");
	sleep(10);
	TEST_FAIL("still running 10 s after sysrq b: no emergency reboot");
}
