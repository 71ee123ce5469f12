// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab_fuzz: random sequences of every /dev/vmxlab ioctl, in the spirit
 * of syzkaller's dev_kvm descriptions, with arguments that look valid and
 * then get mutated: memory slots that overlap, wrap, are unaligned or are
 * unmapped behind vmxlab's back; register, segment and control-register
 * state past the SDM's limits; CPUID and MSR tables; queued interrupts,
 * NMIs and exceptions; random guest code in whatever mode the state says,
 * with instructions that exit (I/O, CPUID, MSRs, HLT, control and debug
 * registers, XSETBV, VMCALL, INVLPG, spin loops for the time slice...)
 * spliced among the random bytes; closes at random points; calls from a
 * forked child; the exit log, single-stepping, the system fd's questions
 * and the VMs' debugfs files.
 *
 * Random state mostly fails VM entry, and random code faults before it
 * exits, so most runs start from a known-good guest instead (op_guest,
 * guest.c): real, 32-bit protected, paged or long mode, valid page and
 * descriptor tables, code made of exiting instructions with their
 * operands set up, and only then a field or two mutated.
 *
 * A finding is an errno that Documentation/api.rst does not document for
 * that ioctl (printed, exit status 1), or anything the kernel log shows
 * (the VM runner's verdict: WARN, BUG, oops, KASAN, lockdep, a hang).
 *
 * A sequence is a program: one or more segments SEED:OPS, each running
 * OPS operations drawn from a generator seeded with SEED.  Every program
 * is printed before it runs, so that
 *
 *	vmxlab_fuzz --program S1:N1,S2:N2	(or --seed S --ops N)
 *
 * replays it (the operations exactly; where a timer signal ends a run
 * differs).  A finding the fuzzer sees itself (an errno, a VMfail) is
 * minimised: delta debugging over the operations up to it, each replayed
 * in a child process from the generator state it started with, keeps
 * removing chunks while the rest still finds the same thing, and prints
 * MINIMISED: N operation(s): --program xSTATE1,xSTATE2,...
 * which replays those operations alone (--no-minimise skips this).
 * --time T runs a campaign for T seconds of the VM's time.
 * Under a kernel with KCOV (the debug kernel) the campaign is
 * coverage-guided: a program that reaches new edges of vmxlab.ko joins
 * the corpus, and most new programs are a corpus entry cut at a random
 * operation with a fresh segment after it; the coverage of vmxlab.ko's
 * functions is printed at the end (kcov.c).  Guests that spin with
 * interrupts off make no exit under Bochs, so the fuzzer turns vmxlab's
 * time slice on (timeslice_us) and ends each run with a timer signal.
 * In 3 runs in 10 a second thread makes 1 to 4 calls on the same VM
 * while the vCPU runs (memory slots moved or deleted, registers, events,
 * CPUID and MSR tables, the run page rewritten): the calls are the same
 * on a replay, their interleaving with the run is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uapi/linux/vmxlab.h>

#include "guest.h"
#include "kcov.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_VMS		2
#define MAX_VCPUS	4
#define MAX_BUFS	4
#define PAGE		4096UL
#define TIMESLICE	"/sys/module/vmxlab/parameters/timeslice_us"

static __u64 rng;

/* xorshift64*: small, fast, and the same sequence for the same seed. */
static __u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

__u64 fuzz_rnd(void)
{
	return rnd();
}

static __u64 below(__u64 n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

/* A value near the interesting boundaries, or anything. */
static __u64 interesting(void)
{
	static const __u64 v[] = {
		0, 1, 2, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0xfffffffffffULL, 0x1000000000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL, 0xfffffffffffff000ULL,
	};

	if (chance(50))
		return v[below(ARRAY_SIZE(v))];
	return rnd() >> below(64);
}

static __u64 flip(__u64 x)
{
	return chance(50) ? x ^ (1ULL << below(64)) : x;
}

struct vm {
	int fd;
	int vcpu[MAX_VCPUS];
	struct vmxlab_run *run[MAX_VCPUS];
	__u8 *guest;		/* GUEST_SIZE bytes for op_guest() */
	bool guest_slot;	/* this VM has them as GUEST_SLOT */
};

static int sys_fd = -1;
static struct vm vms[MAX_VMS];
static struct {
	void *p;
	size_t size;
} bufs[MAX_BUFS];
static unsigned long op_nr;
static char program_text[1024];	/* the running program, for findings */
static bool kcov_on;		/* this process counts coverage */

/*
 * Reproducer minimisation: the generator's state before each operation
 * of the running program (trace), so that a finding can be replayed as
 * a list of single operations, and whether this process is a replay of
 * the minimiser (in_replay: a finding only exits, with 1 if it is the
 * one being minimised, @target).
 */
static __u64 *trace;
static unsigned long trace_cap;
static bool in_replay, minimise = true;
static const char *target;
static void minimise_finding(const char *what);

/* --test-finding OP:M: the M-th call of operation OP is a finding. */
static void (*test_op)(void);
static unsigned long test_nth, test_seen;
static long mmap_size = PAGE;

/* Fail the campaign: an errno api.rst does not document for @what. */
static void finding(const char *what, int err)
{
	if (in_replay)
		_exit(strcmp(what, target) ? 3 : 1);
	printf("FINDING: program %s op %lu: %s failed with errno %d (%s),",
	       program_text, op_nr, what, err, strerror(err));
	printf(" which api.rst does not document\n");
	fflush(stdout);
	minimise_finding(what);
	exit(1);
}

/*
 * Check a call's result: success, or an errno from @allowed (EFAULT,
 * ENOMEM, EMFILE and EBADF are always fine: bad pointers, no memory,
 * no fds, a closed fd).
 */
static void expect(const char *what, long r, const int *allowed)
{
	int err = errno;

	if (r >= 0 || err == EFAULT || err == ENOMEM || err == EMFILE ||
	    err == EBADF)
		return;
	for (; *allowed; allowed++)
		if (*allowed == err)
			return;
	finding(what, err);
}

static const int E_CREATE_VM[] = { EINVAL, EOPNOTSUPP, 0 };
static const int E_REGION[] = { EINVAL, EEXIST, EIO, 0 };
static const int E_CREATE_VCPU[] = { EINVAL, EEXIST, EIO, 0 };
static const int E_RUN[] = { EINTR, EIO, 0 };
static const int E_REGS[] = { EINVAL, EIO, 0 };
static const int E_CPUID[] = { E2BIG, EINVAL, EIO, 0 };
static const int E_MSRS[] = { E2BIG, EINVAL, EIO, 0 };
static const int E_QUEUE[] = { EINVAL, EBUSY, EIO, 0 };
static const int E_STEP[] = { EINVAL, EOPNOTSUPP, EIO, 0 };
static const int E_NONE[] = { 0 };
static const int E_SUPPORTED[] = { E2BIG, 0 };
static const int E_SET_XLOG[] = { EINVAL, EIO, 0 };
static const int E_READ_XLOG[] = { E2BIG, ENOENT, EIO, 0 };
static const int E_ANY[] = { ENOTTY, EINVAL, EIO, EBUSY, E2BIG, EEXIST,
			     EOPNOTSUPP, EINTR, 0 };

static struct vm *some_vm(void)
{
	struct vm *vm = &vms[below(MAX_VMS)];

	return vm->fd >= 0 ? vm : NULL;
}

/* A vCPU, also one whose VM fd is closed already (it keeps the VM). */
static int some_vcpu(struct vm **vmp)
{
	struct vm *vm = &vms[below(MAX_VMS)];
	int i = below(MAX_VCPUS);

	*vmp = vm;
	return vm->vcpu[i] >= 0 ? i : -1;
}

static bool has_vcpus(const struct vm *vm)
{
	int i;

	for (i = 0; i < MAX_VCPUS; i++)
		if (vm->vcpu[i] >= 0)
			return true;
	return false;
}

static void op_create_vm(void)
{
	struct vm *vm = &vms[below(MAX_VMS)];
	/*
	 * The odd-numbered VMs use shadow paging: chosen by the slot, not by
	 * a random draw, so that every program replays as it always did.
	 */
	unsigned long type = !chance(80) ? interesting() :
			     (vm - vms) % 2 ? VMXLAB_VM_SHADOW : VMXLAB_VM_EPT;
	int fd;

	if (vm->fd >= 0 || has_vcpus(vm))
		return;
	fd = ioctl(sys_fd, VMXLAB_CREATE_VM, type);
	expect("CREATE_VM", fd, E_CREATE_VM);
	if (fd >= 0) {
		vm->fd = fd;
		vm->guest_slot = false;
	}
}

static void op_memory_region(void)
{
	struct vm *vm = some_vm();
	struct vmxlab_memory_region r = { 0 };
	int b = below(MAX_BUFS);

	if (!vm)
		return;
	r.slot = chance(90) ? below(8) : interesting();
	r.flags = chance(80) ? 0 : chance(50) ? VMXLAB_MEM_READONLY : rnd();
	r.guest_phys_addr = chance(70) ? below(64) * PAGE : interesting();
	if (bufs[b].p && chance(85)) {
		r.userspace_addr = (unsigned long)bufs[b].p;
		r.memory_size = bufs[b].size;
		if (chance(20))
			r.memory_size = below(bufs[b].size / PAGE + 1) * PAGE;
		/*
		 * The reset vector's page, where a new vCPU fetches its
		 * first instruction: without it most guests never run one
		 * (their fetch is an unbacked access, an internal error).
		 */
		if (chance(25)) {
			r.guest_phys_addr = 0xfffff000;
			r.userspace_addr += bufs[b].size - PAGE;
			r.memory_size = PAGE;
		}
	} else {
		r.userspace_addr = interesting();
		r.memory_size = interesting();
	}
	if (chance(10))
		r.memory_size = 0;	/* delete */
	if (chance(10))
		r.userspace_addr = flip(r.userspace_addr);
	expect("SET_MEMORY_REGION", ioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &r),
	       E_REGION);
}

/* vCPU @id of @vm with its run page: its index in vm->vcpu[], or -1. */
static int create_vcpu(struct vm *vm, unsigned long id)
{
	void *run;
	int fd, i;

	fd = ioctl(vm->fd, VMXLAB_CREATE_VCPU, id);
	expect("CREATE_VCPU", fd, E_CREATE_VCPU);
	if (fd < 0)
		return -1;
	for (i = 0; i < MAX_VCPUS && vm->vcpu[i] >= 0; i++)
		;
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (i == MAX_VCPUS || run == MAP_FAILED) {
		if (run != MAP_FAILED)
			munmap(run, mmap_size);
		close(fd);
		return -1;
	}
	vm->vcpu[i] = fd;
	vm->run[i] = run;
	return i;
}

static void op_create_vcpu(void)
{
	struct vm *vm = some_vm();
	unsigned long id = chance(90) ? below(MAX_VCPUS) : interesting();

	if (vm)
		create_vcpu(vm, id);
}

static void op_regs(void)
{
	struct vmxlab_regs regs;
	struct vm *vm;
	int i = some_vcpu(&vm);
	__u64 *f = (__u64 *)&regs;

	if (i < 0)
		return;
	if (ioctl(vm->vcpu[i], VMXLAB_GET_REGS, &regs))
		expect("GET_REGS", -1, E_REGS);
	if (chance(50))
		f[below(sizeof(regs) / 8)] = interesting();
	if (chance(30))
		regs.rflags = flip(regs.rflags);
	if (chance(30))
		regs.rip = below(64) * PAGE + below(PAGE);
	expect("SET_REGS", ioctl(vm->vcpu[i], VMXLAB_SET_REGS, &regs), E_REGS);
}

/* Real, 16-bit protected, 32-bit or 64-bit code segments and modes. */
static void op_sregs(void)
{
	struct vmxlab_sregs s;
	struct vm *vm;
	int i = some_vcpu(&vm);
	__u8 *bytes = (__u8 *)&s;

	if (i < 0)
		return;
	if (ioctl(vm->vcpu[i], VMXLAB_GET_SREGS, &s))
		expect("GET_SREGS", -1, E_REGS);
	switch (below(6)) {
	case 0:		/* protected mode, flat */
		s.cr0 |= 1;
		s.cs.base = 0;
		s.cs.limit = 0xffffffff;
		s.cs.type = 11;
		s.cs.s = 1;
		s.cs.present = 1;
		s.cs.db = 1;
		s.cs.g = 1;
		break;
	case 1:		/* long mode */
		s.cr0 |= 0x80000001;
		s.cr4 |= 0x20;
		s.efer |= 0x500;
		s.cr3 = below(64) * PAGE;
		s.cs.l = 1;
		s.cs.db = 0;
		break;
	case 2:
		s.cr0 = flip(s.cr0);
		s.cr4 = flip(s.cr4);
		s.efer = flip(s.efer);
		break;
	case 3:
		bytes[below(sizeof(s))] = rnd();
		break;
	case 4:
		s.cr3 = interesting();
		break;
	default:
		break;
	}
	expect("SET_SREGS", ioctl(vm->vcpu[i], VMXLAB_SET_SREGS, &s), E_REGS);
}

static void op_cpuid(void)
{
	static char buf[sizeof(struct vmxlab_cpuid) +
			(VMXLAB_MAX_CPUID_ENTRIES + 8) *
			sizeof(struct vmxlab_cpuid_entry)];
	struct vmxlab_cpuid *c = (void *)buf;
	struct vm *vm;
	int i = some_vcpu(&vm);
	unsigned int n, k;

	if (i < 0)
		return;
	n = chance(90) ? below(16) : below(VMXLAB_MAX_CPUID_ENTRIES + 8);
	c->nent = chance(95) ? n : interesting();
	c->padding = chance(95) ? 0 : rnd();
	for (k = 0; k < n; k++) {
		c->entries[k].function = chance(50) ? below(0x20) : rnd();
		c->entries[k].index = below(4);
		c->entries[k].flags = chance(90) ? below(2) : rnd();
		c->entries[k].eax = rnd();
		c->entries[k].ebx = rnd();
		c->entries[k].ecx = rnd();
		c->entries[k].edx = rnd();
		c->entries[k].padding = chance(95) ? 0 : rnd();
	}
	expect("SET_CPUID", ioctl(vm->vcpu[i], VMXLAB_SET_CPUID, c), E_CPUID);
}

static void op_msrs(void)
{
	static const __u32 known[] = {
		0x10, 0x174, 0x175, 0x176, 0x277, 0xc0000080, 0xc0000081,
		0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
		0xc0000102, 0x1d9, 0x48, 0x3a,
	};
	static char buf[sizeof(struct vmxlab_msrs) +
			(VMXLAB_MAX_MSR_ENTRIES + 4) *
			sizeof(struct vmxlab_msr_entry)];
	struct vmxlab_msrs *m = (void *)buf;
	struct vm *vm;
	int i = some_vcpu(&vm);
	unsigned int n, k;
	bool set = chance(50);

	if (i < 0)
		return;
	n = below(VMXLAB_MAX_MSR_ENTRIES + 4);
	m->nmsrs = chance(95) ? n : interesting();
	m->padding = 0;
	for (k = 0; k < n; k++) {
		m->entries[k].index = chance(80) ?
			known[below(ARRAY_SIZE(known))] : rnd();
		m->entries[k].reserved = chance(95) ? 0 : rnd();
		m->entries[k].data = interesting();
	}
	expect(set ? "SET_MSRS" : "GET_MSRS",
	       ioctl(vm->vcpu[i], set ? VMXLAB_SET_MSRS : VMXLAB_GET_MSRS, m),
	       E_MSRS);
}

static void op_events(void)
{
	struct vmxlab_interrupt irq = { .vector = chance(80) ? 32 + below(224) :
					interesting() };
	struct vmxlab_exception ex = {
		.vector = chance(80) ? below(32) : interesting(),
		.flags = below(4) | (chance(5) ? rnd() : 0),
		.error_code = chance(80) ? below(0x10000) : interesting(),
	};
	struct vm *vm;
	int i = some_vcpu(&vm);

	if (i < 0)
		return;
	switch (below(3)) {
	case 0:
		expect("INTERRUPT", ioctl(vm->vcpu[i], VMXLAB_INTERRUPT, &irq),
		       E_QUEUE);
		break;
	case 1:
		expect("NMI", ioctl(vm->vcpu[i], VMXLAB_NMI, 0), E_QUEUE);
		break;
	default:
		ex.cr2 = interesting();
		expect("INJECT_EXCEPTION",
		       ioctl(vm->vcpu[i], VMXLAB_INJECT_EXCEPTION, &ex), E_QUEUE);
		break;
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * The racer: calls on the VM while the main thread is in VMXLAB_RUN.  The
 * main thread draws nothing from the generator until it has joined the
 * racer, so the sequence of calls is the same on a replay.  The racer
 * blocks SIGALRM: the timer that ends the run is the main thread's.
 */
struct racer {
	pthread_t thread;
	int calls;
	struct vmxlab_run *run;		/* the running vCPU's page */
};

static void *racer_main(void *arg)
{
	static void (*const table[])(void) = {
		op_memory_region, op_memory_region, op_regs, op_sregs,
		op_events, op_cpuid, op_msrs,
	};
	struct racer *r = arg;
	sigset_t alrm;
	int k;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	for (k = 0; k < r->calls; k++) {
		if (chance(20)) {
			r->run->request_interrupt_window = rnd();
			r->run->immediate_exit = chance(30);
			continue;
		}
		table[below(ARRAY_SIZE(table))]();
	}
	return NULL;
}

/*
 * Instructions that make a VM exit (or an exception vmxlab intercepts),
 * spliced among random bytes: random bytes alone rarely decode to one
 * before they fault or run off the guest's memory, and never to a loop
 * long enough for the time slice (the last entries).
 */
static const struct {
	__u8 len;
	__u8 b[5];
} exiting[] = {
	{ 2, { 0xe4, 0x80 } },		/* in al, 0x80 */
	{ 2, { 0xe6, 0xe9 } },		/* out 0xe9, al */
	{ 2, { 0xe5, 0x70 } },		/* in ax, 0x70 */
	{ 2, { 0xe7, 0x71 } },		/* out 0x71, ax */
	{ 1, { 0xec } },		/* in al, dx */
	{ 1, { 0xef } },		/* out dx, ax */
	{ 1, { 0x6c } },		/* insb */
	{ 1, { 0x6f } },		/* outsw */
	{ 2, { 0xf3, 0x6e } },		/* rep outsb */
	{ 2, { 0xf3, 0x6d } },		/* rep insw */
	{ 2, { 0x0f, 0xa2 } },		/* cpuid */
	{ 2, { 0x0f, 0x32 } },		/* rdmsr */
	{ 2, { 0x0f, 0x30 } },		/* wrmsr */
	{ 2, { 0x0f, 0x31 } },		/* rdtsc */
	{ 3, { 0x0f, 0x01, 0xf9 } },	/* rdtscp */
	{ 1, { 0xf4 } },		/* hlt */
	{ 3, { 0x0f, 0x20, 0xc0 } },	/* mov eax, cr0 */
	{ 3, { 0x0f, 0x22, 0xc0 } },	/* mov cr0, eax */
	{ 3, { 0x0f, 0x22, 0xd8 } },	/* mov cr3, eax */
	{ 3, { 0x0f, 0x22, 0xe0 } },	/* mov cr4, eax */
	{ 3, { 0x0f, 0x20, 0xd8 } },	/* mov eax, cr3 */
	{ 3, { 0x0f, 0x21, 0xf8 } },	/* mov eax, dr7 */
	{ 3, { 0x0f, 0x23, 0xf8 } },	/* mov dr7, eax */
	{ 3, { 0x0f, 0x01, 0xd1 } },	/* xsetbv */
	{ 3, { 0x0f, 0x01, 0xd0 } },	/* xgetbv */
	{ 3, { 0x0f, 0x01, 0xc1 } },	/* vmcall */
	{ 3, { 0x0f, 0x01, 0x38 } },	/* invlpg [eax] */
	{ 2, { 0x0f, 0x09 } },		/* wbinvd */
	{ 2, { 0x0f, 0x08 } },		/* invd */
	{ 3, { 0x0f, 0x01, 0xc8 } },	/* monitor */
	{ 3, { 0x0f, 0x01, 0xc9 } },	/* mwait */
	{ 1, { 0xf1 } },		/* int1 */
	{ 1, { 0xcc } },		/* int3 */
	{ 2, { 0x0f, 0x0b } },		/* ud2 */
	{ 2, { 0xcd, 0x80 } },		/* int 0x80 */
	{ 1, { 0xfb } },		/* sti */
	{ 2, { 0x0f, 0x06 } },		/* clts */
	{ 3, { 0x0f, 0x00, 0xd8 } },	/* ltr ax */
	{ 3, { 0x0f, 0x01, 0x10 } },	/* lgdt [eax] */
	{ 2, { 0xeb, 0xfe } },		/* jmp . */
	{ 3, { 0xfa, 0xeb, 0xfe } },	/* cli; jmp . */
	{ 3, { 0xfb, 0xeb, 0xfe } },	/* sti; jmp . */
};

/* Up to @n bytes at @p: an exiting instruction; returns how many. */
static size_t put_exiting(__u8 *p, size_t n)
{
	unsigned int e = below(ARRAY_SIZE(exiting));

	if (exiting[e].len > n)
		return 0;
	memcpy(p, exiting[e].b, exiting[e].len);
	return exiting[e].len;
}

/*
 * Guest code: random bytes with exiting instructions spliced in, in
 * 1 run in 2 densely (one every few bytes, with NOPs to land on).
 */
static void fill_code(__u8 *p, size_t size)
{
	bool dense = chance(50);
	size_t k = 0, n;

	while (k < size) {
		n = chance(dense ? 40 : 5) ? put_exiting(p + k, size - k) : 0;
		if (n) {
			k += n;
			continue;
		}
		p[k++] = dense && chance(50) ? 0x90 : rnd();
	}
}

/*
 * One VMXLAB_RUN of vCPU @i, ended by a timer signal if nothing else ends
 * it, with a racer thread in @racer_percent runs in 100: the result, or
 * -1 with errno.
 */
static long run_vcpu(struct vm *vm, int i, unsigned int racer_percent)
{
	struct itimerval it = { .it_value = { .tv_usec = 5000 + below(20000) } };
	struct itimerval off = { 0 };
	struct vmxlab_run *run = vm->run[i];
	struct racer racer;
	long r;
	int err;

	racer.calls = chance(racer_percent) ? 1 + below(4) : 0;
	racer.run = run;
	if (racer.calls && pthread_create(&racer.thread, NULL, racer_main, &racer))
		racer.calls = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	r = ioctl(vm->vcpu[i], VMXLAB_RUN, 0);
	err = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	if (racer.calls)
		pthread_join(racer.thread, NULL);
	errno = err;
	expect("RUN", r, E_RUN);
	/*
	 * Userspace can give the guest a state VM entry rejects (an exit
	 * reason with bit 31 set), never a VMfail: that is vmxlab writing a
	 * control field the CPU refuses (api.rst, VMXLAB_EXIT_FAIL_ENTRY).
	 */
	if (!r && run->exit_reason == VMXLAB_EXIT_FAIL_ENTRY &&
	    !(run->fail_entry.hardware_entry_failure_reason & (1ULL << 31))) {
		if (in_replay)
			_exit(strcmp("VMfail", target) ? 3 : 1);
		printf("FINDING: program %s op %lu: VMfail, VM-instruction error %llu\n",
		       program_text, op_nr,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		fflush(stdout);
		minimise_finding("VMfail");
		exit(1);
	}
	errno = err;
	return r;
}

/* Single-stepping on or off: mostly valid flags, now and then not. */
static void set_singlestep(struct vm *vm, int i)
{
	struct vmxlab_singlestep ss = { .flags = chance(80) ? below(4) :
						 (__u32)rnd() };

	if (chance(5))
		ss.padding = rnd();
	if (chance(5))
		ss.reserved[below(3)] = interesting();
	expect("SET_SINGLESTEP", ioctl(vm->vcpu[i], VMXLAB_SET_SINGLESTEP, &ss),
	       E_STEP);
}

/* Random code in a random buffer, then a run a timer signal ends. */
static void op_run(void)
{
	struct vmxlab_run *run;
	struct vm *vm;
	int i = some_vcpu(&vm), b = below(MAX_BUFS);
	size_t k, n;

	if (i < 0)
		return;
	run = vm->run[i];
	if (bufs[b].p && chance(70)) {
		__u8 *code = bufs[b].p;

		n = below(256);
		for (k = 0; k < n; k++)
			code[below(bufs[b].size)] = rnd();
		/*
		 * Exiting instructions at random places, and where the
		 * reset vector lands when the buffer's last page is the
		 * reset vector's (op_memory_region).
		 */
		n = below(16);
		for (k = 0; k < n; k++) {
			size_t at = below(bufs[b].size);

			put_exiting(code + at, bufs[b].size - at);
		}
		if (chance(50))
			fill_code(code + bufs[b].size - 16, 16);
	}
	if (chance(10))
		set_singlestep(vm, i);
	run->immediate_exit = chance(10);
	run->request_interrupt_window = chance(20);
	/* Completing an IN or MMIO load: whatever is in the page. */
	if (chance(50))
		run->mmio.data[0] = rnd();
	run_vcpu(vm, i, 30);
}

/* An address no process has mapped: NULL, the top page, kernel space. */
static void *bad_pointer(void)
{
	static const unsigned long p[] = { 0, 8, ~0UL - 7, 0xffff800000000000UL };

	return (void *)p[below(ARRAY_SIZE(p))];
}

/*
 * The exit log: started with a valid size or a mutated configuration,
 * stopped, and read with room to spare, too little, too much (E2BIG),
 * none, or a bad pointer (EFAULT); ENOENT while it is off.
 */
static void op_exit_log(void)
{
	/* Room for the most a READ may take: the kernel fills what it says. */
	static char buf[sizeof(struct vmxlab_exit_log) +
			VMXLAB_MAX_EXIT_LOG_READ *
			sizeof(struct vmxlab_exit_record)];
	struct vmxlab_exit_log *log = (void *)buf;
	struct vmxlab_exit_log_config c = { 0 };
	struct vm *vm;
	int i = some_vcpu(&vm);

	if (i < 0)
		return;
	if (chance(40)) {
		c.nr_records = chance(80) ? 1U << below(13) : chance(50) ? 0 :
			       (__u32)interesting();
		if (chance(5))
			c.flags = rnd();
		if (chance(5))
			c.reserved[below(3)] = interesting();
		expect("SET_EXIT_LOG", ioctl(vm->vcpu[i], VMXLAB_SET_EXIT_LOG, &c),
		       E_SET_XLOG);
		return;
	}
	log->nrecords = chance(90) ? below(65) : (__u32)interesting();
	expect("READ_EXIT_LOG", ioctl(vm->vcpu[i], VMXLAB_READ_EXIT_LOG,
				      chance(3) ? bad_pointer() : log),
	       E_READ_XLOG);
}

/* One event for the guest, mostly valid. */
static void queue_event(struct vm *vm, int i)
{
	struct vmxlab_interrupt irq = { .vector = 32 + below(224) };
	struct vmxlab_exception ex = { .vector = below(32) };

	switch (below(4)) {
	case 0:
	case 1:
		expect("INTERRUPT", ioctl(vm->vcpu[i], VMXLAB_INTERRUPT, &irq),
		       E_QUEUE);
		break;
	case 2:
		expect("NMI", ioctl(vm->vcpu[i], VMXLAB_NMI, 0), E_QUEUE);
		break;
	default:
		if (ex.vector == 8 || (ex.vector >= 10 && ex.vector <= 14) ||
		    ex.vector == 17)
			ex.flags = VMXLAB_EXCEPTION_HAS_ERROR_CODE;
		if (ex.vector == 14)
			ex.flags |= VMXLAB_EXCEPTION_HAS_CR2;
		ex.error_code = below(16);
		ex.cr2 = GUEST_GPA + below(GUEST_SIZE);
		expect("INJECT_EXCEPTION",
		       ioctl(vm->vcpu[i], VMXLAB_INJECT_EXCEPTION, &ex), E_QUEUE);
		break;
	}
}

/* The VM in @vm, its guest memory in GUEST_SLOT and a vCPU: its index, or -1. */
static int guest_vcpu(struct vm *vm)
{
	struct vmxlab_memory_region r = {
		.slot = GUEST_SLOT, .guest_phys_addr = GUEST_GPA,
		.memory_size = GUEST_SIZE,
	};
	int i, k, fd;

	if (vm->fd < 0 && !has_vcpus(vm)) {
		/* The same kind as op_create_vm() gives this VM. */
		fd = ioctl(sys_fd, VMXLAB_CREATE_VM, (vm - vms) % 2 ?
			   VMXLAB_VM_SHADOW : VMXLAB_VM_EPT);
		expect("CREATE_VM", fd, E_CREATE_VM);
		if (fd < 0)
			return -1;
		vm->fd = fd;
		vm->guest_slot = false;
	}
	if (!vm->guest) {
		vm->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (vm->guest == MAP_FAILED) {
			vm->guest = NULL;
			return -1;
		}
	}
	if (vm->fd >= 0 && !vm->guest_slot) {
		r.userspace_addr = (unsigned long)vm->guest;
		if (ioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &r) && errno == EEXIST) {
			/* A random slot is in the way (op_memory_region). */
			struct vmxlab_memory_region del = { 0 };

			for (k = 0; k < 8; k++) {
				del.slot = k;
				ioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &del);
			}
			del.slot = GUEST_SLOT;
			ioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &del);
			ioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &r);
		}
		vm->guest_slot = true;
	}
	i = below(MAX_VCPUS);
	if (vm->vcpu[i] >= 0)
		return i;
	for (k = 0; k < MAX_VCPUS && vm->fd >= 0; k++) {
		fd = create_vcpu(vm, (i + k) % MAX_VCPUS);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* After the known-good state, now and then a field or two not. */
static void mutate_state(struct vmxlab_sregs *s, struct vmxlab_regs *r)
{
	switch (below(5)) {
	case 0:
		s->cr0 = flip(s->cr0);
		break;
	case 1:
		s->cr4 = flip(s->cr4);
		break;
	case 2:
		s->efer = flip(s->efer);
		break;
	case 3:
		((__u8 *)s)[below(sizeof(*s))] = rnd();
		break;
	default:
		((__u64 *)r)[below(sizeof(*r) / 8)] = interesting();
		break;
	}
}

/*
 * A known-good guest (guest.c) in a mode the VM can run, with a field
 * or two mutated one time in six, then runs until it ends or has made a
 * few exits to userspace, completing I/O and MMIO and queueing events
 * between them.
 */
static void op_guest(void)
{
	struct vm *vm = &vms[below(MAX_VMS)];
	bool shadow = (vm - vms) % 2;
	enum guest_mode mode;
	struct vmxlab_sregs s;
	struct vmxlab_regs r;
	struct vmxlab_run *run;
	int i, n, k;

	/* Shadow paging runs no real mode: that is an internal error. */
	mode = shadow && !chance(5) ? 1 + below(GUEST_NR_MODES - 1) :
	       below(GUEST_NR_MODES);
	i = guest_vcpu(vm);
	if (i < 0)
		return;
	guest_build(vm->guest, mode);
	if (ioctl(vm->vcpu[i], VMXLAB_GET_SREGS, &s)) {
		expect("GET_SREGS", -1, E_REGS);
		return;
	}
	guest_state(mode, &s, &r);
	for (k = chance(16) ? 1 + below(2) : 0; k; k--)
		mutate_state(&s, &r);
	expect("SET_SREGS", ioctl(vm->vcpu[i], VMXLAB_SET_SREGS, &s), E_REGS);
	expect("SET_REGS", ioctl(vm->vcpu[i], VMXLAB_SET_REGS, &r), E_REGS);
	if (chance(15))
		set_singlestep(vm, i);
	if (chance(10)) {
		struct vmxlab_exit_log_config c = { .nr_records = 1U << below(8) };

		expect("SET_EXIT_LOG", ioctl(vm->vcpu[i], VMXLAB_SET_EXIT_LOG, &c),
		       E_SET_XLOG);
	}
	run = vm->run[i];
	for (n = 1 + below(8); n; n--) {
		if (chance(20))
			queue_event(vm, i);
		run->immediate_exit = chance(3);
		run->request_interrupt_window = chance(15);
		if (chance(50))
			memcpy(run->mmio.data, &(__u64){ rnd() }, 8);
		if (chance(50))
			memcpy((char *)run + VMXLAB_RUN_IO_DATA_OFFSET,
			       &(__u64){ rnd() }, 8);
		if (chance(10))
			guest_plant(vm->guest, mode, below(GUEST_CODE_SIZE),
				    below(512));
		if (run_vcpu(vm, i, 10) < 0 && errno != EINTR)
			break;
		if (run->exit_reason == VMXLAB_EXIT_FAIL_ENTRY ||
		    run->exit_reason == VMXLAB_EXIT_INTERNAL_ERROR ||
		    run->exit_reason == VMXLAB_EXIT_SHUTDOWN)
			break;
	}
	if (chance(20))
		op_exit_log();
}

static void op_close(void)
{
	struct vm *vm = some_vm();
	int i;

	if (!vm)
		return;
	if (chance(70)) {
		i = below(MAX_VCPUS);
		if (vm->vcpu[i] < 0)
			return;
		munmap(vm->run[i], mmap_size);
		close(vm->vcpu[i]);
		vm->vcpu[i] = -1;
		return;
	}
	/*
	 * The VM fd goes; its vCPUs keep the VM alive, and may still run,
	 * until they go too.
	 */
	close(vm->fd);
	vm->fd = -1;
}

/* Guest memory changes behind vmxlab's back: unmapped, remapped. */
static void op_buffer(void)
{
	int b = below(MAX_BUFS);

	if (bufs[b].p && chance(50)) {
		munmap(bufs[b].p, bufs[b].size);
		bufs[b].p = NULL;
	}
	if (!bufs[b].p) {
		bufs[b].size = (1 + below(16)) * PAGE;
		bufs[b].p = mmap(NULL, bufs[b].size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (bufs[b].p == MAP_FAILED)
			bufs[b].p = NULL;
		else if (chance(30))
			memset(bufs[b].p, 0xf4, bufs[b].size);	/* HLT */
		else if (chance(50))	/* code that runs, not ADD [BX+SI], AL */
			fill_code(bufs[b].p, bufs[b].size);
	}
}

/* A debugfs file of a VM (stats, vcpus), read to the end. */
static void read_debugfs(const struct vm *vm, const char *file)
{
	char path[96], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vmxlab/%d-%d/%s",
		 (int)getpid(), vm->fd, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	while (read(fd, buf, below(2) ? sizeof(buf) : 1 + below(64)) > 0)
		;
	close(fd);
}

/*
 * The system fd's questions (API version, capabilities, the supported
 * CPUID table with too little room, just enough or more), and the VMs'
 * statistics in debugfs.
 */
static void op_system(void)
{
	static char buf[sizeof(struct vmxlab_cpuid) +
			512 * sizeof(struct vmxlab_cpuid_entry)];
	struct vmxlab_cpuid *c = (void *)buf;
	struct vmxlab_caps caps;
	struct vm *vm;

	switch (below(5)) {
	case 0:
		expect("GET_API_VERSION",
		       ioctl(sys_fd, VMXLAB_GET_API_VERSION, 0), E_NONE);
		expect("GET_VCPU_MMAP_SIZE",
		       ioctl(sys_fd, VMXLAB_GET_VCPU_MMAP_SIZE, 0), E_NONE);
		break;
	case 1:
		expect("GET_CAPS", ioctl(sys_fd, VMXLAB_GET_CAPS,
					 chance(90) ? &caps : bad_pointer()),
		       E_NONE);
		break;
	case 2:
		/* Never more room than buf has: the kernel fills what it says. */
		c->nent = chance(30) ? below(8) : chance(80) ? below(512) :
			  below(2) ? 512 : (__u32)interesting() % 513;
		c->padding = chance(95) ? 0 : rnd();
		expect("GET_SUPPORTED_CPUID",
		       ioctl(sys_fd, VMXLAB_GET_SUPPORTED_CPUID, c), E_SUPPORTED);
		break;
	default:
		vm = some_vm();
		if (vm) {
			read_debugfs(vm, "stats");
			read_debugfs(vm, "vcpus");
		}
		break;
	}
}

/* Any ioctl number on any fd, and the VM's fds from another process. */
static void op_odd(void)
{
	struct vm *vm = some_vm();
	static char arg[4096];
	int fd = vm ? (chance(50) ? vm->fd : vm->vcpu[below(MAX_VCPUS)]) :
		 sys_fd;
	unsigned long cmd;
	pid_t pid;
	int st;

	if (fd < 0)
		return;
	cmd = chance(50) ? _IOC(below(4), VMXLAB_IO, below(0x40), below(512)) :
	      rnd();
	if (chance(20)) {
		pid = fork();
		if (pid == 0) {
			errno = 0;
			if (ioctl(fd, cmd, arg) < 0 && errno != EIO &&
			    errno != ENOTTY && errno != EBADF && errno != EFAULT &&
			    errno != EINVAL)
				_exit(1);
			_exit(0);
		}
		if (pid > 0 && waitpid(pid, &st, 0) == pid &&
		    (!WIFEXITED(st) || WEXITSTATUS(st)))
			finding("an ioctl from a forked child", 0);
		return;
	}
	expect("an ioctl with a random number", ioctl(fd, cmd, arg), E_ANY);
}

static void reset_state(void)
{
	int v, i;

	for (v = 0; v < MAX_VMS; v++) {
		for (i = 0; i < MAX_VCPUS; i++) {
			if (vms[v].vcpu[i] >= 0) {
				munmap(vms[v].run[i], mmap_size);
				close(vms[v].vcpu[i]);
			}
			vms[v].vcpu[i] = -1;
		}
		if (vms[v].fd >= 0)
			close(vms[v].fd);
		vms[v].fd = -1;
		if (vms[v].guest)
			munmap(vms[v].guest, GUEST_SIZE);
		vms[v].guest = NULL;
		vms[v].guest_slot = false;
	}
	for (i = 0; i < MAX_BUFS; i++) {
		if (bufs[i].p)
			munmap(bufs[i].p, bufs[i].size);
		bufs[i].p = NULL;
	}
}

#define MAX_SEGMENTS	48
#define PROGRESS_SECS	60	/* of the VM's time: about 4 minutes in Bochs */
#define CORPUS_SIZE	256

/*
 * A segment is SEED:OPS, or xSTATE: one operation run from the raw
 * generator state STATE (hex), which is what a minimised program is
 * made of.
 */
struct program {
	int nr;
	struct {
		__u64 seed;
		unsigned long ops;
		bool raw;
	} seg[MAX_SEGMENTS];
};

static void program_format(const struct program *p, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < p->nr && len < size; i++)
		if (p->seg[i].raw)
			len += snprintf(buf + len, size - len, "%sx%llx",
					i ? "," : "",
					(unsigned long long)p->seg[i].seed);
		else
			len += snprintf(buf + len, size - len, "%s%llu:%lu",
					i ? "," : "",
					(unsigned long long)p->seg[i].seed,
					p->seg[i].ops);
}

/* "S1:N1,S2:N2,xSTATE": false if @text is not one. */
static bool program_parse(const char *text, struct program *p)
{
	char *end;

	p->nr = 0;
	while (p->nr < MAX_SEGMENTS) {
		p->seg[p->nr].raw = *text == 'x';
		if (p->seg[p->nr].raw) {
			p->seg[p->nr].seed = strtoull(++text, &end, 16);
			p->seg[p->nr].ops = 1;
			if (end == text)
				return false;
			p->nr++;
			goto next;
		}
		p->seg[p->nr].seed = strtoull(text, &end, 0);
		if (end == text || *end != ':')
			return false;
		text = end + 1;
		p->seg[p->nr].ops = strtoul(text, &end, 0);
		if (end == text)
			return false;
		p->nr++;
next:
		if (!*end)
			return true;
		if (*end != ',')
			return false;
		text = end + 1;
	}
	return false;
}

/* Run @p from a clean slate; returns the vmxlab.ko edges it reached first. */
static const struct {
	void (*fn)(void);
	const char *name;
} op_table[] = {
	{ op_create_vm, "create_vm" }, { op_memory_region, "memory_region" },
	{ op_memory_region, "memory_region" },
	{ op_create_vcpu, "create_vcpu" }, { op_regs, "regs" },
	{ op_sregs, "sregs" }, { op_cpuid, "cpuid" }, { op_msrs, "msrs" },
	{ op_events, "events" }, { op_run, "run" }, { op_run, "run" },
	{ op_run, "run" }, { op_close, "close" }, { op_buffer, "buffer" },
	{ op_buffer, "buffer" }, { op_odd, "odd" }, { op_guest, "guest" },
	{ op_guest, "guest" }, { op_guest, "guest" }, { op_guest, "guest" },
	{ op_exit_log, "exit_log" }, { op_system, "system" },
};

/* One operation from the generator's current state, traced. */
static void run_op(void)
{
	void (*fn)(void);

	if (op_nr >= trace_cap) {
		__u64 *t = realloc(trace, (op_nr + 1024) * sizeof(*t));

		if (t) {
			trace = t;
			trace_cap = op_nr + 1024;
		}
	}
	if (op_nr < trace_cap)
		trace[op_nr] = rng;
	fn = op_table[below(ARRAY_SIZE(op_table))].fn;
	if (fn == test_op && ++test_seen == test_nth)
		finding("the test finding (--test-finding)", 0);
	fn();
}

/* Run @p from a clean slate; returns the vmxlab.ko edges it reached first. */
static unsigned long run_program(const struct program *p)
{
	unsigned long fresh = 0, k;
	int i;

	program_format(p, program_text, sizeof(program_text));
	printf("vmxlab_fuzz: program %s\n", program_text);
	fflush(stdout);
	op_nr = 0;
	test_seen = 0;
	for (i = 0; i < p->nr; i++) {
		rng = p->seg[i].raw ? p->seg[i].seed :
		      p->seg[i].seed * 0x9e3779b97f4a7c15ULL + 1;
		for (k = 0; k < p->seg[i].ops; k++, op_nr++) {
			if (kcov_on)
				kcov_start();
			run_op();
			if (kcov_on)
				fresh += kcov_collect();
		}
	}
	if (kcov_on)
		kcov_start();
	reset_state();
	if (kcov_on)
		fresh += kcov_collect();
	return fresh;
}

/*
 * Replay the operations @ops[0..@n) (generator states) in a child
 * process: true if the child finds @target again.  A child that runs
 * longer than a minute is killed, and counts as not reproducing.
 */
static bool reproduces(const __u64 *ops, unsigned long n)
{
	unsigned long k;
	int st, waited;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		in_replay = true;
		kcov_on = false;
		if (!freopen("/dev/null", "w", stdout))
			_exit(2);
		reset_state();
		op_nr = 0;
		test_seen = 0;
		for (k = 0; k < n; k++, op_nr++) {
			rng = ops[k];
			run_op();
		}
		reset_state();
		_exit(0);
	}
	for (waited = 0; waited < 6000; waited++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return false;
}

/*
 * Delta debugging over the operations up to the finding's: remove
 * chunks of halving size, keeping a removal when the rest still finds
 * the same thing, then print the minimised program in --program form.
 */
static void minimise_finding(const char *what)
{
	unsigned long n = op_nr + 1, chunk, start, k, tries = 0;
	time_t stop = time(NULL) + 300;	/* and at most 2000 replays */
	struct program p = { .nr = 0 };
	bool removed;
	__u64 *ops;

	if (!minimise || in_replay || op_nr >= trace_cap)
		return;
	ops = malloc(n * sizeof(*ops));
	if (!ops)
		return;
	memcpy(ops, trace, n * sizeof(*ops));
	target = what;
	printf("vmxlab_fuzz: minimising the finding's %lu operation(s)\n", n);
	fflush(stdout);
	chunk = n / 2 ? n / 2 : 1;
	for (;;) {
		removed = false;
		for (start = 0; start < n && tries < 2000 && time(NULL) < stop; ) {
			unsigned long len = chunk < n - start ? chunk : n - start;
			__u64 *rest;

			if (len == n) {
				start += len;
				continue;
			}
			rest = malloc((n - len) * sizeof(*rest));
			if (!rest)
				break;
			memcpy(rest, ops, start * sizeof(*rest));
			memcpy(rest + start, ops + start + len,
			       (n - start - len) * sizeof(*rest));
			tries++;
			if (reproduces(rest, n - len)) {
				free(ops);
				ops = rest;
				n -= len;
				removed = true;
			} else {
				free(rest);
				start += len;
			}
		}
		if (chunk == 1 && !removed)
			break;
		if (tries >= 2000 || time(NULL) >= stop)
			break;
		if (chunk > 1)
			chunk /= 2;
	}
	if (n <= MAX_SEGMENTS && reproduces(ops, n)) {
		for (k = 0; k < n; k++) {
			p.seg[p.nr].seed = ops[k];
			p.seg[p.nr].ops = 1;
			p.seg[p.nr++].raw = true;
		}
		program_format(&p, program_text, sizeof(program_text));
		printf("MINIMISED: %lu operation(s): --program %s\n", n,
		       program_text);
	} else {
		printf("vmxlab_fuzz: no reproducer of at most %d operations\n",
		       MAX_SEGMENTS);
	}
	fflush(stdout);
	free(ops);
}

static struct program corpus[CORPUS_SIZE];
static unsigned int corpus_nr;

/*
 * The campaign's next program: a fresh seed, or (with coverage, 7 times
 * in 10) a corpus entry cut at a random operation with a fresh segment
 * after it, so that what got somewhere new is taken further.  @pick is
 * the campaign's own generator, apart from the programs' seeds.
 */
static void next_program(struct program *p, __u64 *pick, __u64 fresh_seed,
			 unsigned long ops, bool guided)
{
	unsigned long total = 0, cut;
	const struct program *from;
	int i;

	*pick = *pick * 6364136223846793005ULL + 1442695040888963407ULL;
	if (!guided || !corpus_nr || (*pick >> 33) % 10 >= 7) {
		p->nr = 1;
		p->seg[0].seed = fresh_seed;
		p->seg[0].ops = ops;
		return;
	}
	from = &corpus[(*pick >> 40) % corpus_nr];
	for (i = 0; i < from->nr; i++)
		total += from->seg[i].ops;
	cut = 1 + (*pick >> 20) % total;
	p->nr = 0;
	for (i = 0; i < from->nr && cut; i++) {
		p->seg[p->nr] = from->seg[i];
		if (p->seg[p->nr].ops > cut)
			p->seg[p->nr].ops = cut;
		cut -= p->seg[p->nr].ops;
		p->nr++;
	}
	if (p->nr == MAX_SEGMENTS)
		p->nr--;	/* the last cut segment makes room */
	p->seg[p->nr].seed = fresh_seed;
	p->seg[p->nr].ops = ops / 2;
	p->nr++;
}

static void corpus_add(const struct program *p, __u64 pick)
{
	if (corpus_nr < CORPUS_SIZE)
		corpus[corpus_nr++] = *p;
	else
		corpus[(pick >> 24) % CORPUS_SIZE] = *p;
}

/*
 * Random segment state makes entries fail on invalid guest state, which
 * is documented (a FAIL_ENTRY exit) and dumps the VMCS to the kernel log:
 * tell the VM runner's verdict those lines are expected (as
 * vmxlab_expect_klog() does).  Nothing else vmxlab logs is.
 */
static void expect_vmcs_dumps(void)
{
	static const char regex[] =
		"vmxlab: (vCPU [0-9]+ VMCS:|  (RIP|CS|controls|entry) )";
	FILE *f = fopen("/dev/kmsg", "w");

	if (f) {
		fprintf(f, "<3>VMXLAB-EXPECT-KLOG %s\n", regex);
		fclose(f);
	}
}

static void set_timeslice(const char *us)
{
	int fd = open(TIMESLICE, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, us, strlen(us)) < 0)
			perror(TIMESLICE);
		close(fd);
	}
}

/*
 * The hidden --test-finding OP:M: the M-th call of operation OP (a name
 * in op_table) is a finding, for the minimiser's test (its minimal
 * reproducer is M operations OP).  Without /dev/vmxlab every ioctl
 * fails with EBADF, which is no finding, so it runs anywhere.
 */
static bool test_finding_parse(const char *text)
{
	const char *colon = strchr(text, ':');
	unsigned int i;

	if (!colon)
		return false;
	for (i = 0; i < ARRAY_SIZE(op_table); i++)
		if (strlen(op_table[i].name) == (size_t)(colon - text) &&
		    !strncmp(op_table[i].name, text, colon - text))
			test_op = op_table[i].fn;
	test_nth = strtoul(colon + 1, NULL, 0);
	return test_op && test_nth;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: vmxlab_fuzz [--seed S] [--ops N] [--program S1:N1,...] [--time SECONDS]\n"
		"                   [--require-coverage] [--uncovered] [--no-minimise]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	bool have_program = false, need_cover = false, list = false;
	unsigned long ops = 300, programs = 0;
	struct program p = { 0 };
	__u64 first = 0, pick;
	bool have_seed = false, guided;
	double secs = 0;
	time_t start, end, progress;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 0);
			have_seed = true;
		} else if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			ops = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--program") && i + 1 < argc) {
			if (!program_parse(argv[++i], &p))
				usage();
			have_program = true;
		} else if (!strcmp(argv[i], "--time") && i + 1 < argc) {
			secs = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--require-coverage")) {
			need_cover = true;
		} else if (!strcmp(argv[i], "--uncovered")) {
			list = true;
		} else if (!strcmp(argv[i], "--no-minimise")) {
			minimise = false;
		} else if (!strcmp(argv[i], "--test-finding") && i + 1 < argc) {
			if (!test_finding_parse(argv[++i]))
				usage();
		} else {
			usage();
		}
	}
	sys_fd = open("/dev/vmxlab", O_RDWR | O_CLOEXEC);
	if (sys_fd < 0 && !test_op) {	/* the test finding needs no vmxlab */
		perror("/dev/vmxlab");
		return 2;
	}
	mmap_size = ioctl(sys_fd, VMXLAB_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0)
		mmap_size = PAGE;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	set_timeslice("1000");
	if (sys_fd >= 0)
		expect_vmcs_dumps();
	for (i = 0; i < MAX_VMS; i++) {
		vms[i].fd = -1;
		memset(vms[i].vcpu, -1, sizeof(vms[i].vcpu));
	}
	guided = kcov_open();
	kcov_on = guided;
	if (!guided && need_cover) {
		printf("vmxlab_fuzz: --require-coverage, but no KCOV for vmxlab.ko\n");
		return 1;
	}
	printf("vmxlab_fuzz: %s\n", guided ? "coverage-guided (KCOV)" :
	       "no KCOV in this kernel: unguided");

	if (have_program || (have_seed && !secs)) {
		if (!have_program) {
			p.nr = 1;
			p.seg[0].seed = first;
			p.seg[0].ops = ops;
		}
		run_program(&p);
		programs = 1;
	} else {
		if (!have_seed)
			first = (__u64)time(NULL) * 1000003ULL ^ getpid();
		pick = first;
		start = time(NULL);
		end = start + (secs ? secs : 60);
		progress = start + PROGRESS_SECS;
		while (time(NULL) < end) {
			next_program(&p, &pick, first + programs++, ops, guided);
			if (run_program(&p) && guided)
				corpus_add(&p, pick);
			/*
			 * The coverage so far now and then: a campaign cut
			 * short (a timeout, a kill) still says what it reached.
			 */
			if (guided && time(NULL) >= progress) {
				progress += PROGRESS_SECS;
				printf("vmxlab_fuzz: after %lds, %lu program(s):\n",
				       (long)(time(NULL) - start), programs);
				kcov_report(stdout, false);
				fflush(stdout);
			}
		}
	}
	set_timeslice("0");
	printf("vmxlab_fuzz: %lu program(s), no finding", programs);
	if (guided)
		printf(", %u in the corpus", corpus_nr);
	printf("\n");
	if (guided && !kcov_report(stdout, list) && need_cover) {
		printf("vmxlab_fuzz: --require-coverage, but no PC of vmxlab.ko was seen\n");
		return 1;
	}
	return 0;
}
