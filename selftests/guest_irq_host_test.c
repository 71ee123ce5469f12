// SPDX-License-Identifier: GPL-2.0
/*
 * Physical interrupts and NMIs that hit the host CPU while a guest runs,
 * with ack_intr_on_exit=0 and =1 (the phys tests reload $VMXLAB_KO in each
 * mode, then put the default back): host ticks and other threads go on,
 * the exits are counted, and the guest's computation comes out untouched.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "irq_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		900

#define ACK_PARAM		"/sys/module/vmxlab/parameters/ack_intr_on_exit"

/*
 * How long the guest computes, in the test VM's seconds: rounds of about
 * WORK_ROUND_S, until WORK_TARGET_S have passed (at most WORK_MAX_ROUNDS).
 */
#define WORK_TARGET_S		2.0
#define WORK_ROUND_S		0.5
#define WORK_MAX_ROUNDS		12
#define WORK_MIN_S		1.0
#define WORK_CALIBRATE_N	50000ULL
#define WORK_CALIBRATE_S	0.1
#define WORK_MAX_N		0x80000000ULL

enum {
	ST_READY = 1,		/* the host sets guest_work_n and _seed */
	ST_DONE,		/* guest_work_out holds the result */
};

/* --- the computation ------------------------------------------------------ */

/*
 * Eight integer accumulators and a double, kept in registers across the
 * loop: an exit that clobbered a general-purpose or SSE register would
 * show in the result.  The host runs the same code for the reference.
 */
struct work_out {
	__u64 acc[8];
	double x;
};

static void work(__u64 n, __u64 seed, struct work_out *out)
{
	__u64 a = seed, b = ~seed, c = seed * 3, d = seed ^ 0x5555aaaa5555aaaaULL;
	__u64 e = 1, f = 2, g = 3, h = 4, i;
	double x = (double)(seed & 0xff);

	for (i = 0; i < n; i++) {
		a = a * 6364136223846793005ULL + 1442695040888963407ULL;
		b ^= a >> 7;
		c += b * 3;
		d = (d << 5 | d >> 59) ^ c;
		e += d + i;
		f ^= e * 0x9e3779b97f4a7c15ULL;
		g += f >> 3;
		h ^= g + a;
		x = x * 0.999999 + (double)(a >> 60);
	}
	out->acc[0] = a;
	out->acc[1] = b;
	out->acc[2] = c;
	out->acc[3] = d;
	out->acc[4] = e;
	out->acc[5] = f;
	out->acc[6] = g;
	out->acc[7] = h;
	out->x = x;
}

/*
 * Values the guest holds in registers for a whole spin, no memory access
 * in between: two SSE registers (which the competing thread writes too),
 * four callee-saved general-purpose ones.
 */
static const __u64 reg_patterns[6] = {
	0x1122334455667788ULL, 0x99aabbccddeeff00ULL, 0x0123456789abcdefULL,
	0xfedcba9876543210ULL, 0x5a5a5a5a0f0f0f0fULL, 0xa5a5a5a5f0f0f0f0ULL,
};

static void hold_registers(__u64 n, __u64 out[6])
{
	asm volatile("movq %[p0], %%xmm7\n\t"
		     "movq %[p1], %%xmm15\n\t"
		     "mov %[p2], %%r12\n\t"
		     "mov %[p3], %%r13\n\t"
		     "mov %[p4], %%r14\n\t"
		     "mov %[p5], %%r15\n\t"
		     "mov %[n], %%rcx\n"
		     "1:\tdec %%rcx\n\t"
		     "jnz 1b\n\t"
		     "movq %%xmm7, 0(%[out])\n\t"
		     "movq %%xmm15, 8(%[out])\n\t"
		     "mov %%r12, 16(%[out])\n\t"
		     "mov %%r13, 24(%[out])\n\t"
		     "mov %%r14, 32(%[out])\n\t"
		     "mov %%r15, 40(%[out])"
		     : : [p0] "m"(reg_patterns[0]), [p1] "m"(reg_patterns[1]),
		       [p2] "m"(reg_patterns[2]), [p3] "m"(reg_patterns[3]),
		       [p4] "m"(reg_patterns[4]), [p5] "m"(reg_patterns[5]),
		       [n] "r"(n), [out] "r"(out)
		     : "rcx", "r12", "r13", "r14", "r15", "xmm7", "xmm15", "memory");
}

enum { WORK_CHECKSUM, WORK_HOLD_REGS };

static __u64 guest_work_kind, guest_work_n, guest_work_seed;
static struct work_out guest_work_out;
static __u64 guest_reg_out[6];

/* With IF = 1, as guests run: Bochs takes no host interrupt while IF = 0. */
static void guest_worker(void)
{
	asm volatile("sti" : : : "memory");
	for (;;) {
		GUEST_SYNC(ST_READY);
		if (guest_work_kind == WORK_HOLD_REGS)
			hold_registers(guest_work_n, guest_reg_out);
		else
			work(guest_work_n, guest_work_seed, &guest_work_out);
		GUEST_SYNC(ST_DONE);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double uptime_s(void)
{
	char buf[64];

	if (read_file("/proc/uptime", buf, sizeof(buf)) <= 0)
		return -1;
	return atof(buf);
}

static void set_guest_u64(struct vm *vm, __u64 *g, __u64 v)
{
	*(__u64 *)addr_gva2hva(vm, g) = v;
}

/* One round of @kind, @n long, from ST_READY to ST_READY; seconds taken. */
static double run_guest(struct vm *vm, struct vcpu *vcpu, __u64 kind, __u64 n,
			__u64 seed)
{
	struct ucall uc;
	double t0;

	set_guest_u64(vm, &guest_work_kind, kind);
	set_guest_u64(vm, &guest_work_n, n);
	set_guest_u64(vm, &guest_work_seed, seed);
	t0 = now_s();
	vcpu_run_to_sync(vcpu, &uc, ST_DONE);
	t0 = now_s() - t0;
	vcpu_run_to_sync(vcpu, &uc, ST_READY);
	return t0;
}

/* Let the guest compute @n rounds from @seed; returns the seconds taken. */
static double run_work(struct vm *vm, struct vcpu *vcpu, __u64 n, __u64 seed,
		       struct work_out *out)
{
	double t = run_guest(vm, vcpu, WORK_CHECKSUM, n, seed);

	memcpy(out, addr_gva2hva(vm, &guest_work_out), sizeof(*out));
	return t;
}

/* work() rounds that take about WORK_ROUND_S, from timed runs. */
static __u64 calibrate_work(struct vm *vm, struct vcpu *vcpu)
{
	__u64 n = WORK_CALIBRATE_N;
	struct work_out out;
	double t, rounds;

	for (;;) {
		t = run_work(vm, vcpu, n, 1, &out);
		if (t >= WORK_CALIBRATE_S || n >= WORK_MAX_N / 4)
			break;
		n *= 4;
	}
	rounds = t > 0 ? n * WORK_ROUND_S / t : WORK_MAX_N;
	if (rounds > WORK_MAX_N)
		return WORK_MAX_N;
	return rounds < WORK_CALIBRATE_N ? WORK_CALIBRATE_N : rounds;
}

/* The integer part of the result: general-purpose registers. */
static void check_gprs(struct __test_metadata *_metadata,
		       const struct work_out *got, const struct work_out *want)
{
	int i;

	for (i = 0; i < 8; i++) {
		EXPECT_EQ(want->acc[i], got->acc[i])
			TH_LOG("accumulator %d: general-purpose register state lost", i);
	}
}

/* The double: SSE registers (phys.*.guest_sse_state_survives_preemption). */
static bool same_double(struct __test_metadata *_metadata,
			const struct work_out *got, const struct work_out *want)
{
	if (got->x == want->x)
		return true;
	TH_LOG("double: guest %a, host %a: the guest's SSE registers did not survive",
	       got->x, want->x);
	return false;
}

static void check_registers(struct __test_metadata *_metadata, struct vm *vm)
{
	static const char names[6][6] = {
		"xmm7", "xmm15", "r12", "r13", "r14", "r15",
	};
	const __u64 *got = addr_gva2hva(vm, guest_reg_out);
	int i;

	for (i = 0; i < 6; i++) {
		EXPECT_EQ(reg_patterns[i], got[i])
			TH_LOG("guest %s changed under it", names[i]);
	}
}

/*
 * Rounds of @n until WORK_TARGET_S have passed, each checked against the
 * host's result; returns the seconds taken.  *@sse_ok tells whether every
 * double came out right.
 */
static double work_for_a_while(struct __test_metadata *_metadata,
			       struct vm *vm, struct vcpu *vcpu, __u64 n,
			       __u64 seed, bool *sse_ok)
{
	struct work_out got, want;
	double t = 0;
	int i;

	*sse_ok = true;
	for (i = 0; i < WORK_MAX_ROUNDS && t < WORK_TARGET_S; i++) {
		t += run_work(vm, vcpu, n, seed + i, &got);
		work(n, seed + i, &want);
		check_gprs(_metadata, &got, &want);
		if (!same_double(_metadata, &got, &want))
			*sse_ok = false;
	}
	return t;
}

/* --- host state ------------------------------------------------------------- */

/* A per-CPU counter from /proc/interrupts ("LOC:", "NMI:"), or -1. */
static long irq_count(const char *name, int cpu)
{
	static char buf[1 << 16];
	char *line, *save, *p, *end;
	long v = -1;
	int i;

	if (read_file("/proc/interrupts", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		p = line + strspn(line, " ");
		if (strncmp(p, name, strlen(name)))
			continue;
		p += strlen(name);
		for (i = 0; i <= cpu; i++) {
			v = strtol(p, &end, 10);
			if (end == p)
				return -1;
			p = end;
		}
		return v;
	}
	return -1;
}

static long involuntary_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return -1;
	return ru.ru_nivcsw;
}

/*
 * The module with @params and the tests' own (vmxlab_params()): unloaded
 * first if it is there.
 */
static int vmxlab_reload(const char *params)
{
	char all[256];
	int fd, r, i;

	if (module_is_loaded("vmxlab")) {
		vmxlab_wait_refcnt_zero(5000);
		r = vmxlab_unload();
		if (r)
			return r;
	}
	fd = open(vmxlab_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(all, sizeof(all), "%s %s", params, vmxlab_params());
	r = syscall(SYS_finit_module, fd, all, 0) ? -errno : 0;
	close(fd);
	for (i = 0; !r && !path_exists(VMXLAB_DEV) && i < 100; i++)
		usleep(20000);
	return r;
}

/* 'Y' or 'N' from the parameter file, 0 when it cannot be read. */
static char ack_mode(void)
{
	char buf[8];

	return read_file(ACK_PARAM, buf, sizeof(buf)) > 0 ? buf[0] : 0;
}

/* --- a thread that competes for the vCPU thread's CPU ------------------------ */

struct competitor {
	pthread_t thread;
	int cpu;
	bool stop;
	__u64 count;
	__u64 corrupted;	/* rounds whose xmm7/xmm15 came back changed */
	double x;
};

/*
 * Floating point, and its own values in the registers the guest holds:
 * written, held across a spin in which the vCPU thread may run (and its
 * guest load its own values), read back and compared.  The guest's FPU
 * state must never leak into this thread's, nor this one's into it.
 */
static void *compete(void *arg)
{
	struct competitor *c = arg;
	double x = 1.0;
	__u64 n = 0, a, b;

	pin_to_cpu(c->cpu);
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		x = x * 1.000001 + 0.5;
		asm volatile("movq %[v], %%xmm7\n\t"
			     "movq %[v], %%xmm15\n\t"
			     "mov $2000, %%ecx\n"
			     "1:\tdec %%ecx\n\t"
			     "jnz 1b\n\t"
			     "movq %%xmm7, %[a]\n\t"
			     "movq %%xmm15, %[b]"
			     : [a] "=r"(a), [b] "=r"(b) : [v] "r"(~n)
			     : "rcx", "xmm7", "xmm15");
		if (a != ~n || b != ~n)
			c->corrupted++;
		__atomic_store_n(&c->count, ++n, __ATOMIC_RELAXED);
	}
	c->x = x;
	return NULL;
}

/* --- physical interrupts, in both modes ----------------------------------------- */

FIXTURE(phys) {
	struct vm *vm;
	struct vcpu *vcpu;
	int cpu;
	__u64 n;		/* rounds of work() for about WORK_TARGET_S */
	struct competitor comp;
	bool comp_started;
};

FIXTURE_VARIANT(phys) {
	const char *params;
	char mode;
};

FIXTURE_VARIANT_ADD(phys, no_ack) {
	.params = "ack_intr_on_exit=0",
	.mode = 'N',
};

FIXTURE_VARIANT_ADD(phys, ack) {
	.params = "ack_intr_on_exit=1",
	.mode = 'Y',
};

/*
 * The module in the variant's mode; the vCPU thread and a competing
 * thread pinned to the same CPU (CPU 1 when there is one, so that CPU 0
 * keeps the rest of the system going).
 */
FIXTURE_SETUP(phys)
{
	struct ucall uc;
	int r;

	self->vm = NULL;
	self->comp_started = false;
	r = vmxlab_reload(variant->params);
	ASSERT_EQ(0, r) TH_LOG("loading vmxlab %s: %s", variant->params, strerror(-r));
	ASSERT_EQ(variant->mode, ack_mode()) TH_LOG(ACK_PARAM);

	self->cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	ASSERT_EQ(0, pin_to_cpu(self->cpu));
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_worker);
	self->comp.cpu = self->cpu;
	ASSERT_EQ(0, pthread_create(&self->comp.thread, NULL, compete, &self->comp));
	self->comp_started = true;
	vcpu_run_to_sync(self->vcpu, &uc, ST_READY);
	self->n = calibrate_work(self->vm, self->vcpu);
}

FIXTURE_TEARDOWN(phys)
{
	if (self->comp_started) {
		__atomic_store_n(&self->comp.stop, true, __ATOMIC_RELAXED);
		pthread_join(self->comp.thread, NULL);
		EXPECT_EQ(0, self->comp.corrupted)
			TH_LOG("competitor's xmm7/xmm15 changed in %llu of %llu rounds",
			       (unsigned long long)self->comp.corrupted,
			       (unsigned long long)self->comp.count);
	}
	if (self->vm)
		vm_free(self->vm);
	/* Back to the default for everything that runs after us. */
	vmxlab_reload("");
}

TEST_F_TIMEOUT(phys, host_keeps_ticking_while_guest_computes, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	long loc0, loc1, sw0, sw1;
	double t, up0, up1;
	__u64 c0, c1;
	bool sse_ok;

	vcpu_stats_get(self->vcpu, &before);
	loc0 = irq_count("LOC:", self->cpu);
	up0 = uptime_s();
	sw0 = involuntary_switches();
	c0 = __atomic_load_n(&self->comp.count, __ATOMIC_RELAXED);
	t = work_for_a_while(_metadata, self->vm, self->vcpu, self->n, 0x1234567,
			     &sse_ok);
	c1 = __atomic_load_n(&self->comp.count, __ATOMIC_RELAXED);
	sw1 = involuntary_switches();
	up1 = uptime_s();
	loc1 = irq_count("LOC:", self->cpu);
	vcpu_stats_get(self->vcpu, &after);

	TH_LOG("ack_intr_on_exit=%c CPU %d: rounds of %llu, %.2f s", ack_mode(),
	       self->cpu, self->n, t);
	TH_LOG("LOC +%ld, external-interrupt exits +%llu, competitor +%llu, preempted %ld times",
	       loc1 - loc0, exits_since(&before, &after, VMX_EXIT_EXTERNAL_INTERRUPT),
	       c1 - c0, sw1 - sw0);
	EXPECT_LE(WORK_MIN_S, t) TH_LOG("the guest did not run long enough to tell");
	EXPECT_LE(WORK_MIN_S * 0.9, up1 - up0) TH_LOG("/proc/uptime stood still");
	EXPECT_LE((long)(t * 10), loc1 - loc0)
		TH_LOG("under 10 local timer interrupts a second on CPU %d", self->cpu);
	EXPECT_LT(0, exits_since(&before, &after, VMX_EXIT_EXTERNAL_INTERRUPT));
	EXPECT_LT(c0, c1) TH_LOG("the competing thread never ran");
	EXPECT_LT(sw0, sw1) TH_LOG("the vCPU thread was never preempted");
	EXPECT_EQ(self->cpu, sched_getcpu());
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
}

/*
 * The vCPU thread is preempted by a thread that uses the same SSE
 * registers: the guest must get its own values back each time it runs.
 */
TEST_F_TIMEOUT(phys, guest_sse_state_survives_preemption, TIMEOUT_S)
{
	struct work_out got, want;
	long sw0, sw1;
	double t;

	sw0 = involuntary_switches();
	t = run_work(self->vm, self->vcpu, self->n, 0x7654321, &got);
	work(self->n, 0x7654321, &want);
	EXPECT_TRUE(same_double(_metadata, &got, &want));
	check_gprs(_metadata, &got, &want);

	/* Values held in xmm7/xmm15, which the competitor writes too. */
	t += run_guest(self->vm, self->vcpu, WORK_HOLD_REGS, 4 * self->n, 0);
	sw1 = involuntary_switches();
	TH_LOG("ack_intr_on_exit=%c: %.2f s, vCPU thread preempted %ld times",
	       ack_mode(), t, sw1 - sw0);
	EXPECT_LT(sw0, sw1) TH_LOG("the vCPU thread was never preempted");
	check_registers(_metadata, self->vm);
}

/* --- host NMIs -------------------------------------------------------------------- */

/* A thread on CPU 0 that asks for NMI backtraces of every CPU. */
struct backtracer {
	pthread_t thread;
	bool started;
	bool stop;
	int count, failed;
};

static void *sysrq_backtraces(void *arg)
{
	struct backtracer *b = arg;
	int i;

	pin_to_cpu(0);
	for (i = 0; i < 8; i++) {
		usleep(400000);
		if (__atomic_load_n(&b->stop, __ATOMIC_RELAXED))
			break;
		if (write_file("/proc/sysrq-trigger", "l"))
			b->failed++;
		else
			b->count++;
	}
	return NULL;
}

static void backtracer_stop(struct backtracer *b)
{
	if (!b->started)
		return;
	__atomic_store_n(&b->stop, true, __ATOMIC_RELAXED);
	pthread_join(b->thread, NULL);
	b->started = false;
}

FIXTURE(nmi) {
	struct vm *vm;
	struct backtracer trig;
};

FIXTURE_SETUP(nmi)
{
	self->vm = NULL;
	vmxlab_require_module();
}

FIXTURE_TEARDOWN(nmi)
{
	backtracer_stop(&self->trig);
	if (self->vm)
		vm_free(self->vm);
}

TEST_F_TIMEOUT(nmi, backtrace_nmis_while_guest_computes, TIMEOUT_S)
{
	const char *const backtrace[] = { "NMI backtrace for cpu 1", NULL };
	const char *const warning[] = { "WARNING:", NULL };
	const char *const bug[] = { "BUG:", NULL };
	struct vmxlab_vcpu_stats before, after;
	struct work_out got, want;
	struct vcpu *vcpu;
	struct ucall uc;
	long nmi0, nmi1, sw0, sw1;
	char line[1024];
	int kmsg;
	bool sse_ok;
	char *log;
	__u64 n;
	double t;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs a second CPU for the vCPU (VM with --cpus 2)");
	ASSERT_EQ(0, pin_to_cpu(1));
	self->vm = vm_create();
	vcpu = vm_vcpu_add(self->vm, 0, guest_worker);
	vcpu_run_to_sync(vcpu, &uc, ST_READY);
	n = calibrate_work(self->vm, vcpu);

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	vcpu_stats_get(vcpu, &before);
	nmi0 = irq_count("NMI:", 1);
	sw0 = involuntary_switches();
	ASSERT_EQ(0, pthread_create(&self->trig.thread, NULL, sysrq_backtraces,
				    &self->trig));
	self->trig.started = true;
	t = work_for_a_while(_metadata, self->vm, vcpu, n, 0xabcdef, &sse_ok);
	sw1 = involuntary_switches();
	backtracer_stop(&self->trig);
	nmi1 = irq_count("NMI:", 1);
	vcpu_stats_get(vcpu, &after);
	usleep(200000);		/* let the backtraces reach the log */
	log = kmsg_collect(kmsg);
	close(kmsg);

	TH_LOG("rounds of %llu, %.2f s, preempted %ld times", n, t, sw1 - sw0);
	TH_LOG("%d backtraces; NMIs on CPU 1 +%ld, NMI exits +%llu",
	       self->trig.count, nmi1 - nmi0,
	       exits_since(&before, &after, VMX_EXIT_EXCEPTION_NMI));
	EXPECT_EQ(0, self->trig.failed) TH_LOG("writing /proc/sysrq-trigger failed");
	ASSERT_LT(0, self->trig.count) TH_LOG("the guest finished before any NMI");
	EXPECT_LT(0, exits_since(&before, &after, VMX_EXIT_EXCEPTION_NMI))
		TH_LOG("no NMI reached CPU 1 while the guest ran");
	/* Every NMI exit handed its NMI to the host's handler. */
	EXPECT_LE((long)exits_since(&before, &after, VMX_EXIT_EXCEPTION_NMI),
		  nmi1 - nmi0);
	EXPECT_TRUE(log_find(log, backtrace, NULL, 0))
		TH_LOG("CPU 1 printed no NMI backtrace");
	EXPECT_FALSE(log_find(log, warning, line, sizeof(line))) TH_LOG("%s", line);
	EXPECT_FALSE(log_find(log, bug, line, sizeof(line))) TH_LOG("%s", line);
	free(log);
	/* SSE state is phys.*.guest_sse_state_survives_preemption's business. */
	if (!sse_ok)
		TH_LOG("(the guest's SSE state was lost: see guest_sse_state_survives_preemption)");
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);

	/* The vCPU still runs, and still computes right. */
	run_work(self->vm, vcpu, WORK_CALIBRATE_N, 7, &got);
	work(WORK_CALIBRATE_N, 7, &want);
	check_gprs(_metadata, &got, &want);
}

/*
 * Last (fixtures run in the order they are declared): the module is back
 * with its default parameters even if a test above died before its
 * teardown, and nothing holds it.
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

TEST_F_TIMEOUT(last, module_default_and_unreferenced, TIMEOUT_S)
{
	int refs, r;

	if (ack_mode() != 'Y') {
		r = vmxlab_reload("");
		EXPECT_EQ(0, r) TH_LOG("reloading vmxlab: %s", strerror(-r));
	}
	EXPECT_EQ('Y', ack_mode());
	refs = vmxlab_wait_refcnt_zero(5000);
	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
