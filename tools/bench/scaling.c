// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench scale: how a backend's costs grow with the work -- vCPU
 * threads making CPUID exits, guest memory faulted in, memory slots in
 * use, VM creation and destruction.  Same guest image as the main table
 * (guest_image.c); report_scaling.c prints and judges the figures.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>
#include <linux/kvm.h>

#include "scaling.h"

#define MIB			0x100000ULL
#define SCALE_CPUID_EXITS	16384	/* per row, over all its vCPUs */
#define SCALE_MMIO_ITERATIONS	2000
#define GPA_EXTRA_SLOTS		0x20000000ULL	/* 512 MiB up, 2 MiB apart */
#define VMXLAB_DEBUGFS		"/sys/kernel/debug/vmxlab"

static const unsigned int vcpu_counts[] = { 1, 2, 4, 8, 16 };
static const unsigned int fault_mib[] = { 16, 64, 256 };
static const unsigned int slot_counts[] = { 1, 8, 32 };
#define LIFE_MIB		256	/* the life row with memory faulted in */

static int scale_sys_fd;

/* --- a VM of a given size ---------------------------------------------- */

/*
 * Guest RAM of GPA_FAULT (the tables, code and results) plus @extra bytes,
 * one slot at 0.  Only the first GPA_FAULT bytes are populated on the
 * host: the rest is touched for the first time by the guest, as in 4b.
 * Returns the host TSC ticks the backend's calls took.
 */
static __u64 scale_vm_create(const struct backend *be, struct vm *vm,
			     __u64 extra)
{
	__u64 t0, t1;
	int r;

	vm->be = be;
	vm->sys_fd = scale_sys_fd;
	vm->mem_size = GPA_FAULT + extra;
	guest_mem_map(vm, GPA_FAULT);
	t0 = __rdtsc();
	r = be->create_vm(vm);
	if (!r)
		r = be->set_memory(vm, 0, vm->mem_size, vm->mem);
	t1 = __rdtsc();
	if (r)
		die("%s: creating a VM of %llu MiB: %s", be->name,
		    (unsigned long long)(vm->mem_size / MIB), strerror(-r));
	return t1 - t0;
}

/* vCPU @id in long mode; the host TSC ticks it took. */
static __u64 scale_vcpu_add(struct vm *vm, unsigned int id, struct vcpu *v)
{
	const struct backend *be = vm->be;
	struct guest_cpuid_leaf leaves[GUEST_CPUID_LEAVES];
	int n = guest_cpuid(leaves), r;
	__u64 t0 = __rdtsc();

	memset(v, 0, sizeof(*v));
	r = be->create_vcpu(vm, id, v);
	if (!r)
		r = be->map_run(v);
	if (!r)
		r = be->set_cpuid(v, leaves, n);
	if (!r)
		r = be->set_long_mode(v);
	if (r)
		die("%s: vCPU %u: %s", be->name, id, strerror(-r));
	return __rdtsc() - t0;
}

/* Closing a vCPU, then its VM: the host TSC ticks each took. */
static __u64 scale_vm_close_one(struct vcpu *v)
{
	__u64 t0 = __rdtsc();

	munmap(v->run, v->run_size);
	close(v->fd);
	return __rdtsc() - t0;
}

static __u64 scale_vm_close(struct vm *vm)
{
	__u64 t0 = __rdtsc();

	close(vm->fd);
	return __rdtsc() - t0;
}

/* --- running a routine ------------------------------------------------- */

/* A routine's entry: @n iterations, results at @rsi, working on @rbx. */
static void scale_enter(struct vcpu *v, __u64 entry, __u32 n, __u64 rsi,
			__u64 rbx)
{
	int r = v->vm->be->set_regs(v, entry, n, rsi, rbx);

	if (r)
		die("%s: set registers: %s", v->vm->be->name, strerror(-r));
}

/* Up to the HLT that ends the routine; MMIO stores at GPA_MMIO answered. */
static void scale_go(struct vcpu *v)
{
	const struct backend *be = v->vm->be;
	struct bench_exit e;
	int r = 0;

	while (!r) {
		r = be->run(v, &e);
		if (r || e.kind == EXIT_HLT)
			break;
		if (e.kind == EXIT_MMIO && e.addr == GPA_MMIO && !e.in)
			continue;
		die("%s: unexpected exit (reason %u)", be->name, e.reason);
	}
	if (r)
		die("%s: run: %s", be->name, strerror(-r));
}

static void scale_run(struct vcpu *v, __u64 entry, __u32 n, __u64 rsi,
		      __u64 rbx)
{
	scale_enter(v, entry, n, rsi, rbx);
	scale_go(v);
}

/* Every exit of a vCPU so far: all, external interrupts, to userspace. */
struct exit_snap {
	__u64 all, extint, user;
};

static void exit_snap(struct vcpu *v, struct exit_snap *s)
{
	int i;

	if (v->vm->be->hw_exits(v, &s->all, &s->extint))
		die("%s: reading the exit counters", v->vm->be->name);
	s->user = 0;
	for (i = 0; i < NR_EXIT_CATS; i++)
		s->user += v->user_exits[i];
}

/* Exits between @a and @b, neither external interrupts nor the HLT. */
static double exits_between(const struct exit_snap *a,
			    const struct exit_snap *b)
{
	return (double)(b->all - a->all) - (b->extint - a->extint) - 1;
}

/* Median of @n deltas at @gpa, less @base. */
static double scale_median(const struct vm *vm, __u64 gpa, __u32 n,
			   long long base)
{
	const __u32 *raw = (const __u32 *)(vm->mem + gpa);
	long long *d = calloc(n, sizeof(*d));
	double m;
	__u32 i;

	if (!d)
		die("out of memory");
	for (i = 0; i < n; i++)
		d[i] = raw[i];
	qsort(d, n, sizeof(*d), cmp_ll);
	m = d[n / 2] - base;
	free(d);
	return m;
}

/* The median of the empty routine's @n deltas: the timing's own cost. */
static long long scale_baseline(struct vcpu *v, __u32 n)
{
	scale_run(v, GUEST_GPA(empty), n, GPA_RESULTS, 0);
	return scale_median(v->vm, GPA_RESULTS, n, 0);
}

/* Mean of the @n deltas the last routine stored, less @base. */
static double scale_mean(const struct vm *vm, __u32 n, long long base)
{
	const __u32 *raw = (const __u32 *)(vm->mem + GPA_RESULTS);
	double sum = 0;
	__u32 i;

	for (i = 0; i < n; i++)
		sum += (double)raw[i] - base;
	return n ? sum / n : 0;
}

/* --- vCPU threads ------------------------------------------------------ */

#define MAX_SCALE_VCPUS		16
#define MAX_BURNERS		64

struct vcpu_thread {
	struct vcpu v;
	pthread_t thread;
	pthread_barrier_t *go;
	struct exit_snap before, after;
	double cpu_ns;		/* the thread's own CPU time in scale_go() */
};

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_thread *t = arg;
	double t0;

	pthread_barrier_wait(t->go);
	t0 = thread_ns();
	scale_go(&t->v);
	t->cpu_ns = thread_ns() - t0;
	return NULL;
}

/*
 * Burners: one thread per host CPU, pinned, at SCHED_IDLE, spinning in
 * userspace while the vCPU threads run.  In a Bochs VM with sync=none an
 * idle (HLT) CPU still advances the clock all CPUs share, so with a CPU
 * idle the TSC runs ahead of the busy CPU's instructions; a burner keeps
 * every CPU executing, and SCHED_IDLE lets any vCPU thread take its CPU.
 */
struct burners {
	atomic_bool stop;
	unsigned int n;
	pthread_t thread[MAX_BURNERS];
};

static void *burner(void *arg)
{
	struct sched_param sp = { 0 };
	struct burners *b = arg;

	/* glibc's thread attributes take no SCHED_IDLE; 0 is this thread. */
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		die("SCHED_IDLE: %s", strerror(errno));
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed))
		;
	return NULL;
}

static void burners_start(struct burners *b)
{
	pthread_attr_t attr;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	unsigned int i;

	atomic_init(&b->stop, false);
	b->n = cpus > 0 ? (cpus < MAX_BURNERS ? cpus : MAX_BURNERS) : 1;
	pthread_attr_init(&attr);
	for (i = 0; i < b->n; i++) {
		CPU_ZERO(&set);
		CPU_SET(i, &set);
		if (pthread_attr_setaffinity_np(&attr, sizeof(set), &set) ||
		    pthread_create(&b->thread[i], &attr, burner, b))
			die("burner thread on CPU %u", i);
	}
	pthread_attr_destroy(&attr);
}

static void burners_stop(struct burners *b)
{
	unsigned int i;

	atomic_store(&b->stop, true);
	for (i = 0; i < b->n; i++)
		pthread_join(b->thread[i], NULL);
}

/*
 * @n vCPU threads share SCALE_CPUID_EXITS CPUID exits, each storing its
 * deltas in its own part of the results area.  Two figures: the CPU time
 * the vCPU threads consumed (each its own, so the tail where some have
 * finished and a CPU runs only a burner is not in it), and the host TSC
 * from the release of the threads to the last join (the whole VM's exit
 * rate: wake-ups, scheduling and the uneven finish are in it).
 */
static void scale_vcpus(const struct backend *be, unsigned int n,
			struct scale_results *res)
{
	static struct vcpu_thread t[MAX_SCALE_VCPUS];
	__u32 per = SCALE_CPUID_EXITS / n;
	double v[SCALE_VALUES] = { 0 };
	pthread_barrier_t go;
	struct burners b;
	long long base = 0;
	unsigned int i;
	struct vm vm;
	__u64 t0;

	scale_vm_create(be, &vm, 0);
	pthread_barrier_init(&go, NULL, n + 1);
	for (i = 0; i < n; i++) {
		__u64 rsi = GPA_RESULTS + 4ULL * i * per;

		scale_vcpu_add(&vm, i, &t[i].v);
		if (!i)
			base = scale_baseline(&t[0].v, SCALE_CPUID_EXITS);
		scale_run(&t[i].v, GUEST_GPA(cpuid), WARMUP_ITERATIONS, rsi, 0);
		scale_enter(&t[i].v, GUEST_GPA(cpuid), per, rsi, 0);
		exit_snap(&t[i].v, &t[i].before);
		t[i].go = &go;
		if (pthread_create(&t[i].thread, NULL, vcpu_thread, &t[i]))
			die("pthread_create: %s", strerror(errno));
	}
	burners_start(&b);
	t0 = __rdtsc();
	pthread_barrier_wait(&go);
	for (i = 0; i < n; i++)
		pthread_join(t[i].thread, NULL);
	v[0] = __rdtsc() - t0;
	burners_stop(&b);
	for (i = 0; i < n; i++) {
		exit_snap(&t[i].v, &t[i].after);
		v[1] += exits_between(&t[i].before, &t[i].after);
		v[4] += t[i].after.extint - t[i].before.extint;
		v[6] += t[i].cpu_ns;
		scale_vm_close_one(&t[i].v);
	}
	v[2] = b.n;
	v[3] = per * n;
	/* The CPUID and the XOR before it, as row 1 counts them. */
	v[5] = scale_median(&vm, GPA_RESULTS, per * n, base);
	pthread_barrier_destroy(&go);
	scale_vm_close(&vm);
	munmap(vm.mem, vm.mem_size);
	scale_add(res, SK_VCPUS, n, v);
}

/* --- guest memory ------------------------------------------------------ */

/* Free pages, counted as memory.c counts them (the per-CPU lists too). */
static long long free_bytes(void)
{
	FILE *f = open_proc("/proc/zoneinfo");
	long long sum = 0, val;
	char line[256];

	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nr_free_pages %lld", &val) == 1 ||
		    sscanf(line, " count: %lld", &val) == 1)
			sum += val * PAGE_SIZE;
	fclose(f);
	return sum;
}

/*
 * Pages pinned by every vmxlab VM, from "pinned_pages" in each VM's
 * debugfs stats (vmx/stats.c); -1 on KVM, which pins nothing for long
 * (it follows the host's page tables through MMU notifiers).
 */
static double count_pinned(const struct backend *be)
{
	char path[300], line[128];
	struct dirent *d;
	double sum = 0;
	unsigned long p;
	DIR *dir;
	FILE *f;

	dir = be->kvm ? NULL : opendir(VMXLAB_DEBUGFS);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VMXLAB_DEBUGFS "/%s/stats",
			 d->d_name);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "pinned_pages %lu", &p) == 1)
				sum += p;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return sum;
}

/*
 * A VM of GPA_FAULT + WARMUP_PAGES + @mib MiB.  With @touch, the guest
 * stores once to each page of the @mib MiB after a warm-up on the first
 * WARMUP_PAGES (fault row); the life row is its creation, destruction
 * and the memory the host got back, for LIFE_MIB touched or none.
 */
static void scale_memory(const struct backend *be, unsigned int mib,
			 bool touch, struct scale_results *res)
{
	__u32 pages = mib * MIB / PAGE_SIZE;
	double fault[SCALE_VALUES] = { pages }, life[SCALE_VALUES];
	struct exit_snap a, b;
	long long before, base;
	struct vcpu v;
	struct vm vm;
	__u64 t0;

	before = free_bytes();
	life[0] = scale_vm_create(be, &vm, (WARMUP_PAGES + pages) * PAGE_SIZE);
	life[0] += scale_vcpu_add(&vm, 0, &v);
	if (touch) {
		base = scale_baseline(&v, pages);
		scale_run(&v, GUEST_GPA(touch), WARMUP_PAGES, GPA_RESULTS,
			  GPA_FAULT);
		exit_snap(&v, &a);
		scale_run(&v, GUEST_GPA(touch), pages, GPA_RESULTS,
			  GPA_FAULT + WARMUP_PAGES * PAGE_SIZE);
		exit_snap(&v, &b);
		fault[1] = scale_mean(&vm, pages, base);
		fault[2] = exits_between(&a, &b);
		fault[3] = b.extint - a.extint;
		scale_add(res, SK_FAULT, mib, fault);
	}
	life[3] = count_pinned(be);
	life[1] = scale_vm_close_one(&v);
	life[1] += scale_vm_close(&vm);
	t0 = __rdtsc();
	munmap(vm.mem, vm.mem_size);
	life[1] += __rdtsc() - t0;
	/* Let frees deferred to RCU and workqueues finish. */
	sleep(1);
	life[2] = before - free_bytes();
	life[4] = count_pinned(be);
	if (!touch || mib == LIFE_MIB)
		scale_add(res, SK_LIFE, touch ? mib : 0, life);
}

/* --- memory slots ------------------------------------------------------ */

/* Slot @slot of @size bytes at @gpa, through the backend's own ioctl. */
static void scale_set_slot(struct vm *vm, __u32 slot, __u64 gpa, __u64 size,
			   void *hva)
{
	struct kvm_userspace_memory_region k = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};
	struct vmxlab_memory_region x = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};
	int r;

	if (vm->be->kvm)
		r = xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &k);
	else
		r = xioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &x);
	if (r)
		die("%s: memory slot %u: %s", vm->be->name, slot, strerror(-r));
}

/*
 * Row 3a's MMIO store with 1, 8 and 32 slots in use: slot 0 is the guest
 * RAM, the others a page each, 2 MiB apart from GPA_EXTRA_SLOTS up.  No
 * slot holds GPA_MMIO, so a lookup for it visits every slot it must.
 */
static void scale_mmio(const struct backend *be, struct scale_results *res)
{
	unsigned int used = 1, i, max = slot_counts[ARRAY_SIZE(slot_counts) - 1];
	double v[SCALE_VALUES] = { SCALE_MMIO_ITERATIONS };
	struct exit_snap a, b;
	unsigned char *extra;
	long long base;
	struct vcpu vc;
	struct vm vm;

	extra = mmap(NULL, max * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (extra == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	scale_vm_create(be, &vm, 0);
	scale_vcpu_add(&vm, 0, &vc);
	base = scale_baseline(&vc, SCALE_MMIO_ITERATIONS);
	for (i = 0; i < ARRAY_SIZE(slot_counts); i++) {
		for (; used < slot_counts[i]; used++)
			scale_set_slot(&vm, used, GPA_EXTRA_SLOTS + 2 * MIB * used,
				       PAGE_SIZE, extra + PAGE_SIZE * used);
		scale_run(&vc, GUEST_GPA(mmio_write), WARMUP_ITERATIONS,
			  GPA_RESULTS, GPA_MMIO);
		exit_snap(&vc, &a);
		scale_run(&vc, GUEST_GPA(mmio_write), SCALE_MMIO_ITERATIONS,
			  GPA_RESULTS, GPA_MMIO);
		exit_snap(&vc, &b);
		v[1] = scale_mean(&vm, SCALE_MMIO_ITERATIONS, base);
		v[2] = exits_between(&a, &b);
		v[3] = b.extint - a.extint;
		scale_add(res, SK_MMIO, used, v);
	}
	scale_vm_close_one(&vc);
	scale_vm_close(&vm);
	munmap(vm.mem, vm.mem_size);
	munmap(extra, max * PAGE_SIZE);
}

/* --- the command ------------------------------------------------------- */

static void progress_word(const char *what, unsigned int n)
{
	fprintf(stderr, " %s%u", what, n);
}

/* scale --backend B [--out FILE]: every row, into one results file. */
int cmd_scale(const struct backend *be, const char *out)
{
	static struct scale_results res;
	unsigned int i;
	FILE *f = stdout;

	check_kvm_ept(be);
	snprintf(res.backend, sizeof(res.backend), "%s", be->name);
	scale_sys_fd = open(be->dev, O_RDWR | O_CLOEXEC);
	if (scale_sys_fd < 0)
		die("%s: %s", be->dev, strerror(errno));
	fprintf(stderr, "vmxlab-bench: %s: how cost grows:", be->name);
	scale_memory(be, LIFE_MIB, false, &res);
	progress_word("life", 0);
	for (i = 0; i < ARRAY_SIZE(fault_mib); i++) {
		scale_memory(be, fault_mib[i], true, &res);
		progress_word("MiB", fault_mib[i]);
	}
	scale_mmio(be, &res);
	progress_word("slots", slot_counts[ARRAY_SIZE(slot_counts) - 1]);
	for (i = 0; i < ARRAY_SIZE(vcpu_counts); i++) {
		scale_vcpus(be, vcpu_counts[i], &res);
		progress_word("vcpus", vcpu_counts[i]);
	}
	fprintf(stderr, "\n");
	close(scale_sys_fd);
	if (out)
		f = fopen(out, "we");
	if (!f)
		die("%s: %s", out, strerror(errno));
	write_scale(f, &res);
	if (f != stdout)
		fclose(f);
	return 0;
}
