// SPDX-License-Identifier: GPL-2.0
/*
 * Guests on several host threads and CPUs: vCPUs of one VM each on its own
 * thread, two VMs at once, and a vCPU whose thread keeps moving between
 * host CPUs, also while a CPU goes offline and online under it.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
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

/* --- one address space, two vCPUs: the guest's own TLB shootdown ------------- */

/*
 * vCPU 0 edits a page-table entry that vCPU 1 is using, tells it through
 * memory (vmxlab guests have no APIC, so no IPI), and vCPU 1 invalidates
 * the page itself, with INVLPG or with a MOV to CR3: from then on it
 * must see the new entry, never the old one (SDM Vol. 3A, 4.10.5).  Then
 * the host deletes and re-adds the memory slot behind a page both vCPUs
 * keep reading: after the ioctl returns, neither may read the old page.
 *
 * Bochs flushes its whole TLB at every VM entry and exit and ignores
 * VPID tags, so a missing INVVPID cannot fail here.  What can fail is
 * vmxlab's own bookkeeping of shadow paging, where each vCPU has its own
 * roots: an INVLPG that leaves the leaf in place, a cached root used
 * again after the other vCPU changed an entry it was built from, a leaf
 * that survives the slot change.
 */
#define SD_PT_GPA		GUEST_DATA_GPA
#define SD_PML4_GPA		(GUEST_DATA_GPA + 0x1000)	/* the 2nd space */
#define SD_FRAMES		3
#define SD_FRAME_GPA(f)		(GUEST_DATA_GPA + 0x2000 + (f) * 0x1000ULL)
#define SD_SLOT_SIZE		0x5000
#define SD_VA			(GUEST_DATA_GPA + 0x200000)	/* PTE 0 */
#define SD_SWAP_VA		(SD_VA + 0x1000)		/* PTE 1 */
#define SD_SWAP_GPA		(GUEST_DATA_GPA + 0x400000)
#define SLOT_SWAP		(SLOT_TEST + 1)

#define SD_VALUE(f)		(0x5d00000000000000ULL | (f))
#define SD_SWAP_VALUE(g)	(0x5e00000000000000ULL | (g))
#define SD_VALUE_MASK		0xff00000000000000ULL
#define SD_MMIO_VALUE		0x3333333333333333ULL
#define SD_ROUNDS		40
#define SD_SWAPS		6
#define SD_READS		16
#define SD_BEAT			256	/* spins between two exits */

#define PTE_P			BIT_ULL(0)
#define PTE_W			BIT_ULL(1)
#define PF_VECTOR		14

/* What vCPU 0 does to the entry each round, and how vCPU 1 flushes. */
enum sd_kind {
	SD_REMAP,		/* another frame; INVLPG */
	SD_READ_ONLY,		/* W cleared; INVLPG */
	SD_NOT_PRESENT,		/* P cleared; INVLPG */
	SD_CR3_SWITCH,		/* another frame; MOV CR3 to a cached root */
	SD_KINDS,
};

enum { SD_SYNC_BEAT, SD_SYNC_RESULT, SD_SYNC_STALE };

/* In the image: one copy per VM, shared by its vCPUs, seen by the host. */
static struct {
	__u64 mapped;		/* vCPU 0: round r + 1 has its entry mapped */
	__u64 ready;		/* vCPU 1: has used it */
	__u64 changed;		/* vCPU 0: has changed it */
	__u64 flushed;		/* vCPU 1: has flushed and checked */
	__u64 swapping;		/* vCPUs in the slot phase */
	__u64 gone;		/* host: SD_SWAP_VALUE(g < gone) deleted */
	__u64 seen[2];		/* vCPU i: highest generation read */
	__u64 stop;
} sd;

static __u64 sd_load(__u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void sd_store(__u64 *p, __u64 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Spin until *@p == @v, leaving the guest now and then. */
static void sd_wait(__u64 *p, __u64 v)
{
	__u64 n;

	for (n = 1; sd_load(p) != v; n++)
		if (!(n % SD_BEAT))
			GUEST_SYNC(SD_SYNC_BEAT);
}

/* One load or store the compiler can neither drop nor merge. */
static __u64 sd_read(__u64 va)
{
	__u64 v;

	asm volatile("mov (%1), %0" : "=r"(v) : "r"(va) : "memory");
	return v;
}

static void sd_write(__u64 va, __u64 v)
{
	asm volatile("mov %0, (%1)" : : "r"(v), "r"(va) : "memory");
}

static void sd_invlpg(__u64 va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static void sd_write_cr3(__u64 cr3)
{
	asm volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/* A load or store at @va that may fault: the vector or -1, and the code. */
static int sd_access(__u64 va, bool write, __u64 *val, __u64 *ec)
{
	int vector;
	__u64 v = *val, e;

	if (write)
		asm volatile(GUEST_ASM_SAFE("mov %[v], (%[va])")
			     : GUEST_ASM_SAFE_OUTPUTS(vector, e)
			     : [va] "r"(va), [v] "r"(v)
			     : GUEST_ASM_SAFE_CLOBBERS);
	else
		asm volatile(GUEST_ASM_SAFE("mov (%[va]), %[v]")
			     : [v] "+r"(v), GUEST_ASM_SAFE_OUTPUTS(vector, e)
			     : [va] "r"(va)
			     : GUEST_ASM_SAFE_CLOBBERS);
	*val = v;
	*ec = vector == GUEST_NO_EXCEPTION ? 0 : e;
	return vector;
}

/*
 * Read SD_VA, then write back what was read; report both outcomes and
 * CR2 of the last fault: SD_SYNC_RESULT, round, value read (all ones if
 * the read faulted), read vector << 32 | error code, the same for the
 * write, CR2.
 */
static void sd_probe(__u64 round)
{
	__u64 v = 0, rec, wec, cr2 = 0;
	int rv, wv;

	rv = sd_access(SD_VA, false, &v, &rec);
	if (rv != GUEST_NO_EXCEPTION) {
		cr2 = guest_read_cr2();
		v = ~0ULL;
	}
	wv = sd_access(SD_VA, true, &v, &wec);
	if (wv != GUEST_NO_EXCEPTION)
		cr2 = guest_read_cr2();
	GUEST_SYNC(SD_SYNC_RESULT, round, v, (__u64)(__u32)rv << 32 | rec,
		   (__u64)(__u32)wv << 32 | wec, cr2);
}

/*
 * Both vCPUs, once the rounds are done: read SD_SWAP_VA until the host
 * says stop.  A value of a generation the host had deleted before the
 * read began is stale; an MMIO exit (no slot at that moment) is not.
 */
static void sd_swap_loop(__u64 id)
{
	__u64 n, gone, v, gen, told = 0;

	__atomic_fetch_add(&sd.swapping, 1, __ATOMIC_SEQ_CST);
	for (n = 1; !sd_load(&sd.stop); n++) {
		gone = sd_load(&sd.gone);
		v = sd_read(SD_SWAP_VA);
		gen = v & ~SD_VALUE_MASK;
		if ((v & SD_VALUE_MASK) == SD_SWAP_VALUE(0)) {
			if (gen < gone && told != gone) {
				told = gone;	/* once per deletion */
				GUEST_SYNC(SD_SYNC_STALE, gone, v);
			}
			if (gen > sd.seen[id])
				sd_store(&sd.seen[id], gen);
		}
		if (!(n % SD_BEAT))
			GUEST_SYNC(SD_SYNC_BEAT);
	}
}

/* vCPU 0: maps, then changes the entry, each round; flushes its own TLB. */
static void guest_sd_changer(void)
{
	__u64 *pte = (__u64 *)SD_PT_GPA, *pml4 = (__u64 *)SD_PML4_GPA;
	__u64 *cur = (__u64 *)(guest_read_cr3() & ~0xfffULL);
	__u64 r, f, next;
	int i;

	/* The second address space shares every table below the PML4. */
	for (i = 0; i < 512; i++)
		pml4[i] = cur[i];
	for (r = 0; r < SD_ROUNDS; r++) {
		f = r % SD_FRAMES;
		next = (r + 1) % SD_FRAMES;
		pte[0] = SD_FRAME_GPA(f) | PTE_P | PTE_W;
		sd_invlpg(SD_VA);
		GUEST_ASSERT_EQ(sd_read(SD_VA), SD_VALUE(f));
		sd_store(&sd.mapped, r + 1);
		sd_wait(&sd.ready, r + 1);
		switch (r % SD_KINDS) {
		case SD_READ_ONLY:
			pte[0] = SD_FRAME_GPA(f) | PTE_P;
			break;
		case SD_NOT_PRESENT:
			pte[0] = SD_FRAME_GPA(f);
			break;
		default:
			pte[0] = SD_FRAME_GPA(next) | PTE_P | PTE_W;
		}
		sd_invlpg(SD_VA);
		sd_probe(r);
		sd_store(&sd.changed, r + 1);
		sd_wait(&sd.flushed, r + 1);
	}
	sd_swap_loop(0);
}

/*
 * vCPU 1: uses the entry (reads, and a write so that a writable leaf
 * exists), in both address spaces before a CR3 round; then flushes as
 * the round says and probes.
 */
static void guest_sd_user(void)
{
	__u64 x = guest_read_cr3(), r, f;
	int i;

	for (r = 0; r < SD_ROUNDS; r++) {
		f = r % SD_FRAMES;
		sd_wait(&sd.mapped, r + 1);
		sd_write_cr3(x);
		sd_invlpg(SD_VA);
		for (i = 0; i < SD_READS; i++)
			GUEST_ASSERT_EQ(sd_read(SD_VA), SD_VALUE(f));
		sd_write(SD_VA, SD_VALUE(f));
		if (r % SD_KINDS == SD_CR3_SWITCH) {
			sd_write_cr3(SD_PML4_GPA);
			GUEST_ASSERT_EQ(sd_read(SD_VA), SD_VALUE(f));
		}
		sd_store(&sd.ready, r + 1);
		sd_wait(&sd.changed, r + 1);
		if (r % SD_KINDS == SD_CR3_SWITCH) {
			sd_write_cr3(x);	/* built before the change */
			sd_probe(r);
			sd_write_cr3(SD_PML4_GPA);
		} else {
			sd_invlpg(SD_VA);
		}
		sd_probe(r);
		sd_store(&sd.flushed, r + 1);
	}
	sd_write_cr3(x);
	sd_swap_loop(1);
}

struct sd_thread {
	pthread_t thread;
	struct vcpu *vcpu;
	int cpu;		/* -1: not pinned */
	int results, bad, stale, mmio;
};

/* What a probe of round @r must report, from the architecture alone. */
static bool sd_result_ok(const struct ucall *uc)
{
	__u64 r = uc->args[1], f = r % SD_FRAMES, next = (r + 1) % SD_FRAMES;
	__u64 none = (__u64)(__u32)GUEST_NO_EXCEPTION << 32;
	__u64 pf = (__u64)PF_VECTOR << 32;

	switch (r % SD_KINDS) {
	case SD_READ_ONLY:	/* read fine; write: P=1, W/R=1 */
		return uc->args[2] == SD_VALUE(f) && uc->args[3] == none &&
		       uc->args[4] == (pf | 0x3) && uc->args[5] == SD_VA;
	case SD_NOT_PRESENT:	/* read: P=0; write: P=0, W/R=1 */
		return uc->args[3] == pf && uc->args[4] == (pf | 0x2) &&
		       uc->args[5] == SD_VA;
	default:		/* the new frame, both ways */
		return uc->args[2] == SD_VALUE(next) && uc->args[3] == none &&
		       uc->args[4] == none;
	}
}

/* A ucall SYNC of vCPU @t's guest: count and check it. */
static void sd_note(struct sd_thread *t, const struct ucall *uc)
{
	if (uc->args[0] == SD_SYNC_RESULT) {
		t->results++;
		if (sd_result_ok(uc))
			return;
		t->bad++;
		/* value read; read and write: vector << 32 | error code */
		fprintf(stderr, "# vCPU %u round %llu: %#llx, %#llx, %#llx, CR2 %#llx\n",
			t->vcpu->id, uc->args[1], uc->args[2], uc->args[3],
			uc->args[4], uc->args[5]);
	} else if (uc->args[0] == SD_SYNC_STALE) {
		t->stale++;
		fprintf(stderr, "# vCPU %u read %#llx, generations < %llu deleted\n",
			t->vcpu->id, uc->args[2], uc->args[1]);
	}
}

/* Runs one vCPU until its guest returns, answering what it asks. */
static void *sd_run(void *arg)
{
	struct sd_thread *t = arg;
	struct vmxlab_run *run = t->vcpu->run;
	__u64 mmio = SD_MMIO_VALUE;
	struct ucall uc;
	char buf[512];

	if (t->cpu >= 0)
		TEST_ASSERT(!set_cpu(t->cpu), "CPU %d", t->cpu);
	for (;;) {
		vcpu_run(t->vcpu);
		if (run->exit_reason == VMXLAB_EXIT_MMIO) {
			/* The swap slot is gone for a moment: "no memory". */
			TEST_ASSERT(run->mmio.phys_addr == SD_SWAP_GPA &&
				    !run->mmio.is_write, "vCPU %u: %s",
				    t->vcpu->id,
				    vcpu_exit_str(t->vcpu, buf, sizeof(buf)));
			memcpy(run->mmio.data, &mmio, sizeof(mmio));
			t->mmio++;
			continue;
		}
		switch (get_ucall(t->vcpu, &uc)) {
		case UCALL_SYNC:
			break;
		case UCALL_DONE:
			return NULL;
		default:
			TEST_FAIL("vCPU %u: %s", t->vcpu->id,
				  uc.cmd == UCALL_NONE ?
				  vcpu_exit_str(t->vcpu, buf, sizeof(buf)) :
				  ucall_str(&uc, buf, sizeof(buf)));
		}
		sd_note(t, &uc);
	}
}

/*
 * Poll *@p (in the guest) for up to 20 s; true once it is >= @v.  Few
 * wake-ups: both CPUs may be busy running the spinning vCPUs.
 */
static bool sd_poll(__u64 *p, __u64 v)
{
	int ticks;

	for (ticks = 0; ticks < 2000; ticks++) {
		if (sd_load(p) >= v)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Delete the slot behind SD_SWAP_VA and add one with new memory, while
 * both vCPUs read it; each must get to the new generation.  Returns the
 * generations some vCPU never saw (one: it stops at the first).
 */
static int sd_swap_slots(struct vm *vm, __u64 *pages)
{
	typeof(sd) *ctl = addr_gva2hva(vm, &sd);
	int g, unseen = 0;

	TEST_ASSERT(sd_poll(&ctl->swapping, 2), "the vCPUs did not get to the slot phase");
	for (g = 1; g <= SD_SWAPS; g++) {
		vm_delete_region(vm, SLOT_SWAP);
		sd_store(&ctl->gone, g);
		usleep(20000);
		vm_add_region_hva(vm, SLOT_SWAP, SD_SWAP_GPA, GUEST_PAGE_SIZE,
				  pages + g * 512, 0);
		if (!sd_poll(&ctl->seen[0], g) || !sd_poll(&ctl->seen[1], g)) {
			unseen++;
			break;
		}
	}
	sd_store(&ctl->stop, 1);
	return unseen;
}

TEST_F_TIMEOUT(smp, smp_shootdown, TIMEOUT_S)
{
	static struct sd_thread t[2];
	bool two_cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	__u64 *mem, *pages;
	int i, f, unseen;

	self->vm = vm_create();
	mem = vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA, SD_SLOT_SIZE, 0);
	for (f = 0; f < SD_FRAMES; f++)
		mem[(SD_FRAME_GPA(f) - GUEST_DATA_GPA) / 8] = SD_VALUE(f);
	/* Generation g of the swap slot's page: its own memory, kept. */
	pages = mmap(NULL, (SD_SWAPS + 1) * GUEST_PAGE_SIZE,
		     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	for (i = 0; i <= SD_SWAPS; i++)
		pages[i * 512] = SD_SWAP_VALUE(i);
	vm_add_region_hva(self->vm, SLOT_SWAP, SD_SWAP_GPA, GUEST_PAGE_SIZE,
			  pages, 0);
	vm_map_page_table(self->vm, SD_VA, SD_PT_GPA);
	mem[1] = SD_SWAP_GPA | PTE_P | PTE_W;

	for (i = 0; i < 2; i++) {
		t[i].vcpu = vm_vcpu_add(self->vm, i, i ? guest_sd_user :
					guest_sd_changer);
		vcpu_set_if(t[i].vcpu, true);	/* they spin: see vcpu_set_if() */
		t[i].cpu = two_cpus ? i : -1;
		ASSERT_EQ(0, pthread_create(&t[i].thread, NULL, sd_run, &t[i]));
	}
	unseen = sd_swap_slots(self->vm, pages);
	for (i = 0; i < 2; i++)
		pthread_join(t[i].thread, NULL);
	TH_LOG("%d + %d probes, %d + %d MMIO exits while the slot was gone",
	       t[0].results, t[1].results, t[0].mmio, t[1].mmio);
	EXPECT_EQ(SD_ROUNDS, t[0].results);
	EXPECT_EQ(SD_ROUNDS + SD_ROUNDS / SD_KINDS, t[1].results);
	EXPECT_EQ(0, t[0].bad + t[1].bad) TH_LOG("old entry seen after the flush");
	EXPECT_EQ(0, t[0].stale + t[1].stale) TH_LOG("deleted slot's page read");
	EXPECT_EQ(0, unseen) TH_LOG("new slot's page never read");
	vm_free(self->vm);
	self->vm = NULL;
	munmap(pages, (SD_SWAPS + 1) * GUEST_PAGE_SIZE);
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
