// SPDX-License-Identifier: GPL-2.0
/*
 * The VM and vCPU fds against hostile or careless userspace: bad ids,
 * ioctls and register values, fds used from another process or closed in
 * any order, a run page rewritten while the vCPU runs, signals and
 * SIGKILL while a guest runs.  The guests here mostly spin or report.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

#define X86_CR0_PE		BIT_ULL(0)
#define X86_CR0_NW		BIT_ULL(29)
#define X86_CR0_CD		BIT_ULL(30)
#define X86_CR0_PG		BIT_ULL(31)
#define X86_CR4_PAE		BIT_ULL(5)
#define X86_CR4_VMXE		BIT_ULL(13)
#define EFER_LME		BIT_ULL(8)
#define EFER_LMA		BIT_ULL(10)

FIXTURE(api) {
	struct vm *vm;
	struct ucall uc;
};

FIXTURE_SETUP(api)
{
	self->vm = NULL;
}

#define TIMESLICE_PARAM		"/sys/module/vmxlab/parameters/timeslice_us"

FIXTURE_TEARDOWN(api)
{
	if (self->vm)
		vm_free(self->vm);
	write_file(TIMESLICE_PARAM, "0");
}

#define EXPECT_ERRNO(err, call) do {					\
	errno = 0;							\
	EXPECT_EQ(-1, (long)(call));					\
	EXPECT_EQ(err, errno);						\
} while (0)

static __u64 guest_id_times_two(__u64 id)
{
	return 2 * id + 1;
}

static void guest_done(void)
{
	GUEST_DONE();
}

/* A counter the host can watch, in the image or in a shared page. */
static __u64 spin_counter;

static void guest_spin(__u64 *counter)
{
	for (;;)
		__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* --- ids, types, ioctl numbers ---------------------------------------------- */

TEST_F_TIMEOUT(api, create_vm_types, TIMEOUT_S)
{
	int sys, fd;

	vmxlab_require_module();
	sys = open("/dev/vmxlab", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, sys);
	EXPECT_ERRNO(EINVAL, ioctl(sys, VMXLAB_CREATE_VM, 7));
	EXPECT_ERRNO(EINVAL, ioctl(sys, VMXLAB_CREATE_VM, 2));
	EXPECT_ERRNO(EINVAL, ioctl(sys, VMXLAB_CREATE_VM, ~0UL));
	fd = ioctl(sys, VMXLAB_CREATE_VM, VMXLAB_VM_EPT);
	EXPECT_LE(0, fd);
	close(fd);
	/* Shadow paging needs neither EPT nor unrestricted guest. */
	fd = ioctl(sys, VMXLAB_CREATE_VM, VMXLAB_VM_SHADOW);
	EXPECT_LE(0, fd);
	close(fd);
	close(sys);
}

TEST_F_TIMEOUT(api, vcpu_ids, TIMEOUT_S)
{
	struct vcpu *vcpu;
	__u32 id;

	self->vm = vm_create();
	EXPECT_ERRNO(EINVAL, ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, VMXLAB_MAX_VCPUS));
	EXPECT_ERRNO(EINVAL, ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, 1000));
	EXPECT_ERRNO(EINVAL, ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, 1UL << 32));
	EXPECT_ERRNO(EINVAL, ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, ~0UL));

	vcpu = vm_vcpu_add(self->vm, 0, guest_id_times_two);
	vcpu_args_set(vcpu, 1, 0ULL);
	EXPECT_ERRNO(EEXIST, ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, 0));
	/* The refused duplicate left the first one working. */
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
	EXPECT_EQ(1, self->uc.args[0]);

	/* All of them, each running its own guest. */
	for (id = 1; id < VMXLAB_MAX_VCPUS; id++) {
		vcpu = vm_vcpu_add(self->vm, id, guest_id_times_two);
		vcpu_args_set(vcpu, 1, (__u64)id);
	}
	for (id = 1; id < VMXLAB_MAX_VCPUS; id++) {
		ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vm->vcpus[id], &self->uc));
		EXPECT_EQ(2 * id + 1, self->uc.args[0]);
	}
	/* One more is refused, whatever its id. */
	EXPECT_ERRNO(EINVAL, ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, VMXLAB_MAX_VCPUS));
	EXPECT_ERRNO(EEXIST, ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, 17));

	/* A closed vCPU's id can be used again. */
	vcpu_free(self->vm->vcpus[5]);
	vcpu = vm_vcpu_add(self->vm, 5, guest_id_times_two);
	vcpu_args_set(vcpu, 1, 5ULL);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
	EXPECT_EQ(11, self->uc.args[0]);
}

TEST_F_TIMEOUT(api, unknown_ioctls, TIMEOUT_S)
{
	struct vmxlab_regs regs;
	struct vcpu *vcpu;
	int vm_fd;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	vm_fd = self->vm->fd;

	/* Unknown numbers, and other fds' ioctls. */
	EXPECT_ERRNO(ENOTTY, ioctl(vm_fd, _IO(VMXLAB_IO, 0x1f), 0));
	EXPECT_ERRNO(ENOTTY, ioctl(vm_fd, _IO(0xAE, 0x41), 0));	/* KVM_CREATE_VCPU */
	EXPECT_ERRNO(ENOTTY, ioctl(vm_fd, VMXLAB_RUN, 0));
	EXPECT_ERRNO(ENOTTY, ioctl(vm_fd, VMXLAB_GET_API_VERSION, 0));
	EXPECT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IO(VMXLAB_IO, 0x2f), 0));
	EXPECT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IO(VMXLAB_IO, 0xff), 0));
	EXPECT_ERRNO(ENOTTY, ioctl(vcpu->fd, VMXLAB_CREATE_VCPU, 1));
	EXPECT_ERRNO(ENOTTY, ioctl(vcpu->fd, VMXLAB_SET_MEMORY_REGION, NULL));
	EXPECT_ERRNO(ENOTTY, ioctl(vcpu->fd, VMXLAB_CREATE_VM, 0));
	/* GET_REGS with the wrong size in the number. */
	EXPECT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IOR(VMXLAB_IO, 0x21, __u64), &regs));
	/* RUN takes no argument; bad pointers are EFAULT. */
	EXPECT_ERRNO(EINVAL, ioctl(vcpu->fd, VMXLAB_RUN, 1));
	EXPECT_ERRNO(EFAULT, ioctl(vcpu->fd, VMXLAB_GET_REGS, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(vcpu->fd, VMXLAB_SET_SREGS, (void *)8));

	/* The run page is one page at offset 0. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, vcpu->fd, 4096));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 8192, PROT_READ, MAP_SHARED, vcpu->fd, 0));

	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
}

/* --- register values ---------------------------------------------------------------- */

TEST_F_TIMEOUT(api, set_regs_reserved_rflags, TIMEOUT_S)
{
	static const int bits[] = { 3, 5, 15, 22, 31, 32, 63 };
	struct vmxlab_regs before, bad, after;
	struct vcpu *vcpu;
	size_t i;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	vcpu_regs_get(vcpu, &before);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(bits); i++) {
		bad = before;
		bad.rax = 0x1234;
		bad.rflags |= 1ULL << bits[i];
		EXPECT_ERRNO(EINVAL, __vcpu_ioctl(vcpu, VMXLAB_SET_REGS, &bad));
	}
	bad = before;
	bad.rflags &= ~2ULL;		/* bit 1 must be 1 */
	EXPECT_ERRNO(EINVAL, __vcpu_ioctl(vcpu, VMXLAB_SET_REGS, &bad));
	vcpu_regs_get(vcpu, &after);
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)))
		TH_LOG("a refused SET_REGS changed the registers");

	/* Flags the guest may have: CF, ZF, DF. */
	bad = before;
	bad.rflags |= 0x441;
	EXPECT_EQ(0, __vcpu_ioctl(vcpu, VMXLAB_SET_REGS, &bad));
	vcpu_regs_get(vcpu, &after);
	EXPECT_EQ(bad.rflags, after.rflags);
	after.rflags = before.rflags;
	vcpu_regs_set(vcpu, &after);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
}

enum sregs_breakage {
	CR0_HIGH, CR0_PG_NO_PE, CR0_NW_NO_CD, CR4_HIGH, CR4_VMXE, CR4_BIT31,
	EFER_BIT1, EFER_HIGH, LMA_NO_PG, LMA_NO_LME, LME_PG_NO_LMA, LMA_NO_PAE,
	RESERVED0, RESERVED3, PAE_PDPTES_UNBACKED, NR_BREAKAGES
};

static const char *const breakage_names[NR_BREAKAGES] = {
	"CR0 bit 32", "CR0.PG without PE", "CR0.NW without CD", "CR4 bit 32",
	"CR4.VMXE", "CR4 bit 31", "EFER bit 1", "EFER bit 63",
	"EFER.LMA without CR0.PG", "EFER.LMA without LME",
	"EFER.LME and CR0.PG without LMA", "EFER.LMA without CR4.PAE",
	"reserved[0]", "reserved[3]", "PAE paging, PDPTEs not in memory",
};

static void break_sregs(struct vmxlab_sregs *s, enum sregs_breakage b)
{
	switch (b) {
	case CR0_HIGH:
		s->cr0 |= 1ULL << 32;
		break;
	case CR0_PG_NO_PE:
		s->cr0 &= ~X86_CR0_PE;
		break;
	case CR0_NW_NO_CD:
		s->cr0 = (s->cr0 | X86_CR0_NW) & ~X86_CR0_CD;
		break;
	case CR4_HIGH:
		s->cr4 |= 1ULL << 32;
		break;
	case CR4_VMXE:
		s->cr4 |= X86_CR4_VMXE;
		break;
	case CR4_BIT31:
		s->cr4 |= 1ULL << 31;
		break;
	case EFER_BIT1:
		s->efer |= 2;
		break;
	case EFER_HIGH:
		s->efer |= 1ULL << 63;
		break;
	case LMA_NO_PG:
		s->cr0 &= ~X86_CR0_PG;
		break;
	case LMA_NO_LME:
		s->efer &= ~EFER_LME;
		break;
	case LME_PG_NO_LMA:
		s->efer &= ~EFER_LMA;
		break;
	case LMA_NO_PAE:
		s->cr4 &= ~X86_CR4_PAE;
		break;
	case RESERVED0:
		s->reserved[0] = 1;
		break;
	case RESERVED3:
		s->reserved[3] = 1ULL << 63;
		break;
	default:
		s->efer = 0;
		s->cr3 = GUEST_MMIO_GPA;
		break;
	}
}

TEST_F_TIMEOUT(api, set_sregs_invalid_changes_nothing, TIMEOUT_S)
{
	struct vmxlab_sregs before, bad, after;
	struct vcpu *vcpu;
	int b;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	vcpu_sregs_get(vcpu, &before);
	for (b = 0; b < NR_BREAKAGES; b++) {
		bad = before;
		bad.cs.base = 0x1000;		/* would show if anything got in */
		bad.cr3 ^= 0x1000;
		break_sregs(&bad, b);
		errno = 0;
		EXPECT_EQ(-1, __vcpu_ioctl(vcpu, VMXLAB_SET_SREGS, &bad))
			TH_LOG("%s accepted", breakage_names[b]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", breakage_names[b]);
		vcpu_sregs_get(vcpu, &after);
		EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)))
			TH_LOG("%s: refused, but the state changed", breakage_names[b]);
	}
	/* And the guest still runs as set up. */
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
}

/* --- another process ------------------------------------------------------------------ */

TEST_F_TIMEOUT(api, fds_from_another_process_eio, TIMEOUT_S)
{
	struct vcpu *vcpu;
	int status;
	pid_t pid;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vmxlab_regs regs;
		int bad = 0;

		if (ioctl(vcpu->fd, VMXLAB_RUN, 0) != -1 || errno != EIO)
			bad |= 1;
		if (ioctl(vcpu->fd, VMXLAB_GET_REGS, &regs) != -1 || errno != EIO)
			bad |= 2;
		if (__vm_set_region(self->vm, 9, GUEST_DATA_GPA, 4096,
				    self->vm->regions[SLOT_SYS].hva, 0) != -1 ||
		    errno != EIO)
			bad |= 4;
		if (ioctl(self->vm->fd, VMXLAB_CREATE_VCPU, 1) != -1 || errno != EIO)
			bad |= 8;
		if (ioctl(vcpu->fd, _IO(VMXLAB_IO, 0x2f), 0) != -1 || errno != EIO)
			bad |= 16;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("not EIO in the child: %s%s%s%s%s",
		       WEXITSTATUS(status) & 1 ? "RUN " : "",
		       WEXITSTATUS(status) & 2 ? "GET_REGS " : "",
		       WEXITSTATUS(status) & 4 ? "SET_MEMORY_REGION " : "",
		       WEXITSTATUS(status) & 8 ? "CREATE_VCPU " : "",
		       WEXITSTATUS(status) & 16 ? "unknown ioctl" : "");
	/* The owner is unaffected. */
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
}

/* --- the run page rewritten while the vCPU runs -------------------------------------- */

#define SCRIBBLE_ROUNDS		300

static __u64 scribble_progress;

static void guest_io_loop(void)
{
	__u64 i;

	for (i = 0; i < SCRIBBLE_ROUNDS; i++) {
		outl(0x60, i);
		inl(0x61);
		__atomic_store_n(&scribble_progress, i + 1, __ATOMIC_RELAXED);
	}
	for (;;)
		GUEST_SYNC(__atomic_load_n(&scribble_progress, __ATOMIC_RELAXED));
}

struct scribbler {
	pthread_t thread;
	__u64 *words;		/* the run page */
	bool stop;
	__u64 passes;
};

/* Random words all over the run page, as fast as it can. */
static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	__u64 x = 0x2545f4914f6cdd1dULL;
	int i;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		for (i = 1; i < 4096 / 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			__atomic_store_n(&s->words[i], x, __ATOMIC_RELAXED);
		}
		/*
		 * Word 0 holds request_interrupt_window and immediate_exit:
		 * each set in one pass of four, or the guest would never run.
		 */
		__atomic_store_n(&s->words[0], (x & ~0xffffULL) |
				 ((x & 3) ? 0 : 0x100) | ((x & 12) ? 0 : 1),
				 __ATOMIC_RELAXED);
		__atomic_add_fetch(&s->passes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F_TIMEOUT(api, run_page_rewritten_while_running, TIMEOUT_S)
{
	struct scribbler s = {};
	__u64 *progress, runs, eintr = 0;
	struct vcpu *vcpu;
	int r;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_io_loop);
	progress = addr_gva2hva(self->vm, &scribble_progress);
	s.words = (__u64 *)vcpu->run;
	ASSERT_EQ(0, pthread_create(&s.thread, NULL, scribble, &s));
	while (!__atomic_load_n(&s.passes, __ATOMIC_RELAXED))
		sched_yield();

	for (runs = 0; runs < 100 * SCRIBBLE_ROUNDS &&
	     __atomic_load_n(progress, __ATOMIC_RELAXED) < SCRIBBLE_ROUNDS; runs++) {
		r = __vcpu_run(vcpu);
		if (r == -1 && errno == EINTR) {
			eintr++;
			continue;
		}
		ASSERT_EQ(0, r) TH_LOG("RUN: %s", strerror(errno));
	}
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	pthread_join(s.thread, NULL);
	TH_LOG("%llu runs (%llu EINTR) over %llu scribbled pages", runs, eintr,
	       s.passes);
	EXPECT_EQ(SCRIBBLE_ROUNDS, *progress);
	EXPECT_LT(1, s.passes) TH_LOG("the page was hardly rewritten: no test");

	/* A clean page again: the vCPU still works and its guest is sane. */
	memset((void *)vcpu->run, 0, 4096);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &self->uc));
	EXPECT_EQ(SCRIBBLE_ROUNDS, self->uc.args[0]);
}

/* --- closing in any order ------------------------------------------------------------ */

TEST_F_TIMEOUT(api, close_vcpu_then_vm, TIMEOUT_S)
{
	struct vcpu *vcpu;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
	close(vcpu->fd);
	vcpu->fd = -1;
	/* The run page stays mapped, and readable, after its fd is gone. */
	EXPECT_EQ(VMXLAB_EXIT_IO, vcpu->run->exit_reason);
	close(self->vm->fd);
	self->vm->fd = -1;
	EXPECT_EQ(VMXLAB_EXIT_IO, vcpu->run->exit_reason);
	vm_free(self->vm);
	self->vm = NULL;

	/* Everything is usable afterwards. */
	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
}

static void guest_touch_pages(__u64 base, __u64 n)
{
	__u64 i;

	for (i = 0; i < n; i++)
		*(__u64 *)(base + i * 4096) = i;
	GUEST_DONE();
}

TEST_F_TIMEOUT(api, close_vm_then_vcpu_still_runs, TIMEOUT_S)
{
	struct vcpu *vcpu;
	__u64 *mem;

	self->vm = vm_create();
	mem = vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA, 64 * 4096, 0);
	vcpu = vm_vcpu_add(self->vm, 0, guest_touch_pages);
	vcpu_args_set(vcpu, 2, GUEST_DATA_GPA, 64ULL);
	close(self->vm->fd);
	self->vm->fd = -1;
	/* The vCPU holds the VM: its memory still faults in. */
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
	EXPECT_EQ(63, mem[63 * 512]);
	vcpu_free(vcpu);
}

/* --- SIGKILL while a guest runs ------------------------------------------------------- */

static void *run_forever(void *arg)
{
	struct vcpu *vcpu = arg;

	__vcpu_run(vcpu);
	return NULL;
}

TEST_F_TIMEOUT(api, sigkill_while_guests_run, TIMEOUT_S)
{
	__u64 *shared, seen;
	struct vcpu *vcpu;
	int status, i;
	pid_t pid;

	/* The guests' counters, in memory shared with the child. */
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vm *vm = vm_create();
		pthread_t t;

		vm_add_region_hva(vm, SLOT_TEST, GUEST_DATA_GPA, 4096, shared, 0);
		for (i = 0; i < 2; i++) {
			vcpu = vm_vcpu_add(vm, i, guest_spin);
			vcpu_args_set(vcpu, 1, GUEST_DATA_GPA + 8 * i);
			vcpu_set_if(vcpu, true);	/* see vcpu_set_if() */
		}
		pthread_create(&t, NULL, run_forever, vm->vcpus[1]);
		run_forever(vm->vcpus[0]);
		_exit(1);
	}
	/* Wait until both guests count, then kill the child. */
	for (i = 0; i < 600 && !(shared[0] && shared[1]); i++)
		usleep(50000);
	seen = shared[0];
	EXPECT_TRUE(shared[0] && shared[1]) TH_LOG("the guests never ran");
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	TH_LOG("vCPU 0 counted to %llu before the kill", seen);

	/* The module is fine: a new VM runs. */
	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
}

/* --- signals -------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
}

static void catch_signal(int sig)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Run a spinning guest until a signal ends the run: -1, EINTR, INTR. */
static void expect_interrupted_run(struct __test_metadata *_metadata,
				   struct vcpu *vcpu)
{
	struct vmxlab_regs regs;
	char buf[256];
	int r;

	errno = 0;
	r = __vcpu_run(vcpu);
	EXPECT_EQ(-1, r) TH_LOG("exit %s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(VMXLAB_EXIT_INTR, vcpu->run->exit_reason);
	vcpu_regs_get(vcpu, &regs);
	EXPECT_TRUE(regs.rip >= (__u64)guest_spin && regs.rip < (__u64)guest_spin + 64)
		TH_LOG("RIP %#llx not in the spin loop", regs.rip);
}

TEST_F_TIMEOUT(api, timer_signal_interrupts_spinning_guest, TIMEOUT_S)
{
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	__u64 *counter, first = 0;
	struct vcpu *vcpu;
	int i;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_spin);
	counter = addr_gva2hva(self->vm, &spin_counter);
	vcpu_args_set(vcpu, 1, (__u64)&spin_counter);
	vcpu_set_if(vcpu, true);	/* see vcpu_set_if() */
	catch_signal(SIGALRM);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
		expect_interrupted_run(_metadata, vcpu);
		if (i == 0)
			first = __atomic_load_n(counter, __ATOMIC_RELAXED);
	}
	EXPECT_LT(0, first) TH_LOG("the guest did not run");
	EXPECT_LT(first, __atomic_load_n(counter, __ATOMIC_RELAXED))
		TH_LOG("the second run did not run");
}

/*
 * A guest that spins with interrupts off makes no exit at all where the
 * emulator delivers no external-interrupt exit to it (Bochs, with IF=0):
 * only the time slice (timeslice_us, vmx/timeslice.c) brings it back to
 * the run loop, which then sees the signal.  Without the slice this test
 * never returns from the run and fails on its timeout.
 */
static void guest_cli_spin(void)
{
	asm volatile("cli\n\t1: jmp 1b");
}

TEST_F_TIMEOUT(api, timeslice_ends_a_cli_spin_on_a_signal, TIMEOUT_S)
{
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct vcpu *vcpu;
	char buf[256];
	int r;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_cli_spin);
	/* The default is no slice at all. */
	ASSERT_LT(0, read_file(TIMESLICE_PARAM, buf, sizeof(buf)));
	EXPECT_STREQ("0\n", buf);
	ASSERT_EQ(0, write_file(TIMESLICE_PARAM, "2000"));

	catch_signal(SIGALRM);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	errno = 0;
	r = __vcpu_run(vcpu);
	EXPECT_EQ(-1, r) TH_LOG("exit %s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(VMXLAB_EXIT_INTR, vcpu->run->exit_reason);
	EXPECT_LT(0, vcpu_exit_count(vcpu, VMX_EXIT_PREEMPTION_TIMER))
		TH_LOG("no preemption-timer exit");
	ASSERT_EQ(0, write_file(TIMESLICE_PARAM, "0"));
}

static void *kill_later(void *arg)
{
	usleep(200000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

TEST_F_TIMEOUT(api, thread_signal_interrupts_spinning_guest, TIMEOUT_S)
{
	pthread_t self_thread = pthread_self(), t;
	struct vcpu *vcpu;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_spin);
	vcpu_args_set(vcpu, 1, (__u64)&spin_counter);
	vcpu_set_if(vcpu, true);	/* see vcpu_set_if() */
	catch_signal(SIGUSR1);
	ASSERT_EQ(0, pthread_create(&t, NULL, kill_later, &self_thread));
	expect_interrupted_run(_metadata, vcpu);
	pthread_join(t, NULL);
}

TEST_F_TIMEOUT(api, immediate_exit_does_not_enter, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_regs regs_before, regs_after;
	struct vcpu *vcpu;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_done);
	vcpu_stats_get(vcpu, &before);
	vcpu_regs_get(vcpu, &regs_before);
	vcpu->run->immediate_exit = 1;
	EXPECT_ERRNO(EINTR, __vcpu_run(vcpu));
	EXPECT_EQ(VMXLAB_EXIT_INTR, vcpu->run->exit_reason);
	vcpu_stats_get(vcpu, &after);
	vcpu_regs_get(vcpu, &regs_after);
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before))) TH_LOG("the guest ran");
	EXPECT_EQ(regs_before.rip, regs_after.rip);
	vcpu->run->immediate_exit = 0;
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &self->uc));
}

static void guest_in_then_sync(void)
{
	__u32 v = inl(0x42);

	GUEST_SYNC(v);
	v = __atomic_load_n((__u32 *)(GUEST_MMIO_GPA + 0x10), __ATOMIC_RELAXED);
	GUEST_SYNC(v);
}

/* A pending IN or MMIO load is completed even when the run ends at once. */
TEST_F_TIMEOUT(api, immediate_exit_completes_pending_io, TIMEOUT_S)
{
	struct vmxlab_regs at_in, after;
	__u32 value = 0xdeadbeef;
	struct vcpu *vcpu;
	char buf[256];
	__u64 ios;

	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_in_then_sync);
	vcpu_run_expect_in(vcpu, 0x42, 4, value);
	ios = vcpu_exit_count(vcpu, VMX_EXIT_IO);
	vcpu_regs_get(vcpu, &at_in);
	vcpu->run->immediate_exit = 1;
	EXPECT_ERRNO(EINTR, __vcpu_run(vcpu));
	vcpu_regs_get(vcpu, &after);
	EXPECT_EQ(value, (__u32)after.rax) TH_LOG("the IN was not completed");
	EXPECT_EQ(at_in.rip + 2, after.rip) TH_LOG("RIP not past the IN");
	vcpu->run->immediate_exit = 0;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &self->uc));
	EXPECT_EQ(value, self->uc.args[0]);
	EXPECT_EQ(ios + 1, vcpu_exit_count(vcpu, VMX_EXIT_IO))
		TH_LOG("the IN ran again instead of being completed");

	/* The same for an MMIO load. */
	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_MMIO, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	value = 0x600df00d;
	memcpy(vcpu->run->mmio.data, &value, 4);
	vcpu->run->immediate_exit = 1;
	EXPECT_ERRNO(EINTR, __vcpu_run(vcpu));
	vcpu->run->immediate_exit = 0;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &self->uc));
	EXPECT_EQ(value, self->uc.args[0]);
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
