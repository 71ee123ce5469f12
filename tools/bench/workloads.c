// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's workloads: the VMM loop that runs a routine of the guest
 * image on either backend, and the passes that time every routine into
 * samples (stats.c) for the results file.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bench.h"

#define NULL_EXIT_PARAM		"/sys/module/vmxlab/parameters/null_exit_reason"
#define VMX_EXIT_REASON_CPUID	10

bool progress;
const char *only;
int tracing_on_fd = -1;

/* In a profile, the kernel's trace buffer records the timed runs only. */
static void tracing(bool on)
{
	if (tracing_on_fd >= 0 && write(tracing_on_fd, on ? "1" : "0", 1) != 1)
		die("tracing_on: %s", strerror(errno));
}

/*
 * Progress on stderr, a word per workload: it also tells a VM runner
 * watching the console that the VM is alive.
 */
void step(const char *what)
{
	if (progress)
		fprintf(stderr, " %s", what);
}

const char *const workload_keys[NR_WORKLOADS] = {
	[W_LOOP5] = "loop5", [W_CPUID] = "cpuid", [W_NULL] = "null",
	[W_VMCALL] = "vmcall", [W_WBINVD] = "wbinvd", [W_OUT] = "out",
	[W_IN] = "in", [W_MMIO_WRITE] = "mmio_write",
	[W_MMIO_READ] = "mmio_read", [W_EPT] = "ept",
	[W_EPT_ALLOC] = "ept_alloc", [W_IRQ_OPEN] = "irq_open",
	[W_IRQ_STI] = "irq_sti", [W_IRQ_STI_WINDOW] = "irq_sti_window",
	[W_STEP] = "step",
	[W_CPUID_LOG] = "cpuid_log", [W_EPT_ALLOC_OFF] = "ept_alloc_off",
	[W_EPT_SCATTER] = "ept_scatter",
	[W_EPT_SCATTER_OFF] = "ept_scatter_off", [W_PF] = "pf", [W_CR3] = "cr3",
	[W_REMAP] = "remap",
};

int workload_by_key(const char *key)
{
	int w;

	for (w = 0; w < NR_WORKLOADS; w++)
		if (!strcmp(key, workload_keys[w]))
			return w;
	return -1;
}

/* Scratch arrays for @cap iterations or pages. */
void scratch_alloc(struct scratch *sc, __u32 cap)
{
	sc->raw = calloc(cap, sizeof(*sc->raw));
	sc->fig = calloc(cap, sizeof(*sc->fig));
	sc->irq.t0 = calloc(cap, sizeof(*sc->irq.t0));
	sc->irq.cap = cap;
	if (!sc->raw || !sc->fig || !sc->irq.t0)
		die("out of memory");
}

/* --- running the guest ------------------------------------------------- */

/*
 * The VMM loop: the same for both backends.  OUT and IN on PORT_BENCH and
 * MMIO accesses are answered at once; PORT_READY takes the timestamp and
 * queues the interrupt; a single step is counted; HLT ends the routine.
 */
static void run_guest(struct vcpu *v, struct irq_stamps *irq)
{
	const struct backend *be = v->vm->be;
	struct bench_exit e;
	int r;

	for (;;) {
		r = be->run(v, &e);
		if (r)
			die("%s: run: %s", be->name, strerror(-r));
		if (e.kind == EXIT_HLT)
			return;
		if (e.kind == EXIT_DEBUG && v->stepping) {
			v->steps++;
			continue;
		}
		if (e.kind == EXIT_MMIO && e.addr == GPA_MMIO) {
			if (e.in)
				memset(e.data, 0, e.len);
			continue;
		}
		if (e.kind == EXIT_IO && e.port == PORT_BENCH) {
			if (e.in)
				memset(e.data, 0, e.len);
			continue;
		}
		if (e.kind == EXIT_IO && e.port == PORT_READY && irq &&
		    irq->n < irq->cap) {
			irq->t0[irq->n++] = __rdtsc() + irq->tsc_offset;
			r = be->queue_irq(v, IRQ_VECTOR);
			if (r)
				die("%s: queue interrupt: %s", be->name,
				    strerror(-r));
			continue;
		}
		if (e.kind == EXIT_IO && e.port == PORT_PANIC)
			die("%s: guest took exception vector %u", be->name,
			    *(__u32 *)e.data);
		die("%s: unexpected exit (reason %u)", be->name, e.reason);
	}
}

/* Run one routine @n times; its per-iteration deltas land in @out. */
void run_routine(struct vcpu *v, __u64 entry, __u32 n, __u64 rbx,
		 __u32 *out, struct irq_stamps *irq)
{
	struct vm *vm = v->vm;
	int r;

	if (n > RESULTS_MAX)
		die("too many iterations (%u, at most %llu)", n, RESULTS_MAX);
	r = vm->be->set_regs(v, entry, n, GPA_RESULTS, rbx);
	if (r)
		die("%s: set registers: %s", vm->be->name, strerror(-r));
	if (out)
		exits_begin(v);
	tracing(out);
	run_guest(v, irq);
	tracing(false);
	if (out)
		exits_end(v);
	if (out)
		memcpy(out, vm->mem + GPA_RESULTS, n * sizeof(*out));
}

/* --- the workloads ----------------------------------------------------- */

/*
 * Median of the "empty" routine: the cost of the timing itself (stepped,
 * in row 8: that and the single steps of its instructions).
 */
static long long timing_baseline(struct vcpu *v, const struct run_opts *o,
				 struct scratch *sc)
{
	__u32 i;

	run_routine(v, GUEST_GPA(empty), WARMUP_ITERATIONS, 0, NULL, NULL);
	run_routine(v, GUEST_GPA(empty), o->iterations, 0, sc->raw, NULL);
	for (i = 0; i < o->iterations; i++)
		sc->fig[i] = sc->raw[i];
	qsort(sc->fig, o->iterations, sizeof(*sc->fig), cmp_ll);
	return sc->fig[o->iterations / 2];
}

bool wanted(enum workload w)
{
	return !only || !strcmp(only, workload_keys[w]);
}

/*
 * Does the TSC count instructions?  The 5-instruction loop runs 100 and
 * 1100 times; the difference, which no edge effect of the timing enters,
 * must be 5000 ticks.
 */
static void measure_tsc(struct vcpu *v, const struct run_opts *o,
			struct scratch *sc, struct samples *s)
{
	__u32 i, n = o->iterations;

	if (!wanted(W_LOOP5))
		return;
	step(workload_keys[W_LOOP5]);
	run_routine(v, GUEST_GPA(loop5), WARMUP_ITERATIONS, 100, NULL, NULL);
	run_routine(v, GUEST_GPA(loop5), n, 100, sc->raw, NULL);
	for (i = 0; i < n; i++)
		sc->fig[i] = sc->raw[i];
	run_routine(v, GUEST_GPA(loop5), n, 1100, sc->raw, NULL);
	for (i = 0; i < n; i++)
		sc->fig[i] = (long long)sc->raw[i] - sc->fig[i];
	samples_add_pass(&s[W_LOOP5], sc->fig, n);
}

/*
 * A warm-up run (first touches of code, stack, result pages and of the
 * host's paths), then @n timed iterations of workload @w; the figure of
 * each is its delta minus the timing cost and @setup instructions.
 */
static void measure(struct vcpu *v, enum workload w, __u64 entry, __u32 n,
		    __u64 rbx, long long base, unsigned int setup,
		    struct scratch *sc, struct samples *s)
{
	__u32 i;

	if (!wanted(w))
		return;
	step(workload_keys[w]);
	run_routine(v, entry, WARMUP_ITERATIONS, rbx, NULL, NULL);
	run_routine(v, entry, n, rbx, sc->raw, NULL);
	for (i = 0; i < n; i++)
		sc->fig[i] = (long long)sc->raw[i] - base - setup;
	samples_add_pass(&s[w], sc->fig, n);
}

/* Fresh pages: region A is populated on the host, region B is not. */
static void measure_fault_in(struct vcpu *v, const struct run_opts *o,
			     long long base, struct scratch *sc,
			     struct samples *s)
{
	__u64 region[2] = { GPA_FAULT + WARMUP_PAGES * PAGE_SIZE };
	static const enum workload w[2] = { W_EPT, W_EPT_ALLOC };
	bool paused;
	char was[16];
	__u32 i, r;

	region[1] = region[0] + o->pages * PAGE_SIZE;
	run_routine(v, GUEST_GPA(touch), WARMUP_PAGES, GPA_FAULT, NULL, NULL);
	for (r = 0; r < 2; r++) {
		if (!wanted(w[r]))
			continue;
		step(workload_keys[w[r]]);
		paused = w[r] == W_EPT && fault_around_pause(o, was, sizeof(was));
		run_routine(v, GUEST_GPA(touch), o->pages, region[r], sc->raw,
			    NULL);
		if (paused)
			fault_around_resume(was);
		for (i = 0; i < o->pages; i++)
			sc->fig[i] = (long long)sc->raw[i] - base;
		samples_add_pass(&s[w[r]], sc->fig, o->pages);
	}
}

/*
 * From just before the interrupt ioctl (host TSC, moved into the guest's
 * TSC time by the backend's offset) to the handler's first instruction.
 */
static void measure_irq(struct vcpu *v, enum workload w, __u64 entry,
			__u32 n, struct scratch *sc, struct samples *s)
{
	const struct backend *be = v->vm->be;
	__u32 i;
	int r;

	if (!wanted(w))
		return;
	step(workload_keys[w]);
	r = be->tsc_offset(v, &sc->irq.tsc_offset);
	if (r)
		die("%s: reading the guest TSC offset: %s", be->name,
		    strerror(-r));
	sc->irq.n = 0;
	run_routine(v, entry, WARMUP_ITERATIONS, 0, NULL, &sc->irq);
	sc->irq.n = 0;
	run_routine(v, entry, n, 0, sc->raw, &sc->irq);
	if (sc->irq.n != n)
		die("%s: %u interrupts queued, %u expected", be->name,
		    sc->irq.n, n);
	for (i = 0; i < n; i++)
		sc->fig[i] = (__u32)(sc->raw[i] - sc->irq.t0[i]);
	samples_add_pass(&s[w], sc->fig, n);
}

/*
 * Row 5b, vmxlab as KVM's VMM must drive KVM without an in-kernel
 * irqchip: the guest cannot take the interrupt yet (run page:
 * ready_for_interrupt_injection = 0), so the VMM asks for the window,
 * takes VMXLAB_EXIT_IRQ_WINDOW_OPEN in userspace and only then queues
 * the vector.  KVM's irq_sti already runs this way.
 */
static void measure_irq_window(struct vcpu *v, const struct run_opts *o,
			       struct scratch *sc, struct samples *s)
{
	if (o->be->kvm)
		return;
	v->irq_by_window = true;
	measure_irq(v, W_IRQ_STI_WINDOW, GUEST_GPA(irq_sti), o->iterations,
		    sc, s);
	v->irq_by_window = false;
}

static void set_singlestep(struct vcpu *v, bool on)
{
	const struct backend *be = v->vm->be;
	int r = be->set_singlestep(v, on);

	if (r)
		die("%s: single-stepping %s: %s", be->name, on ? "on" : "off",
		    strerror(-r));
	v->stepping = on;
}

/*
 * Row 8: one single step.  The empty routine and the nop routine, both
 * stepped, differ by one instruction, so by one step: the nop routine's
 * figures minus the stepped empty routine's median are a step's round
 * trip, the NOP included (as row 2a includes its OUT).  The steps of
 * both routines (warm-up included) are counted: the report compares the
 * backends only when they stepped alike.
 */
static void measure_step(struct vcpu *v, const struct run_opts *o,
			 struct scratch *sc, struct samples *s)
{
	__u32 i, n = o->iterations;
	long long base;

	if (!wanted(W_STEP))
		return;
	step(workload_keys[W_STEP]);
	set_singlestep(v, true);
	v->steps = 0;
	base = timing_baseline(v, o, sc);
	s[W_STEP].steps[1] += v->steps;
	v->steps = 0;
	run_routine(v, GUEST_GPA(nop), WARMUP_ITERATIONS, 0, NULL, NULL);
	run_routine(v, GUEST_GPA(nop), n, 0, sc->raw, NULL);
	s[W_STEP].steps[0] += v->steps;
	set_singlestep(v, false);
	for (i = 0; i < n; i++)
		sc->fig[i] = (long long)sc->raw[i] - base;
	samples_add_pass(&s[W_STEP], sc->fig, n);
}

#define EXIT_LOG_RECORDS	256

/*
 * Row 8b: row 1 with the exit log on, a ring of EXIT_LOG_RECORDS.  It is
 * not drained while the guest runs: the ring wraps, and a record that
 * overwrites an unread one costs what any other does (one more counter,
 * vmx_exit_log_commit()), so every round trip pays the same.  One read
 * afterwards checks that the log saw every exit.
 */
static void measure_cpuid_log(struct vcpu *v, const struct run_opts *o,
			      long long base, struct scratch *sc,
			      struct samples *s)
{
	const struct backend *be = v->vm->be;
	__u64 made;
	int r;

	if (!be->set_exit_log || !wanted(W_CPUID_LOG))
		return;
	r = be->set_exit_log(v, EXIT_LOG_RECORDS);
	if (r)
		die("%s: exit log on: %s", be->name, strerror(-r));
	measure(v, W_CPUID_LOG, GUEST_GPA(cpuid), o->iterations, 0, base, 1,
		sc, s);
	r = be->read_exit_log(v, &made);
	if (r)
		die("%s: reading the exit log: %s", be->name, strerror(-r));
	if (made < WARMUP_ITERATIONS + o->iterations)
		die("%s: the exit log made %llu records, %u exits expected",
		    be->name, (unsigned long long)made,
		    WARMUP_ITERATIONS + o->iterations);
	r = be->set_exit_log(v, 0);
	if (r)
		die("%s: exit log off: %s", be->name, strerror(-r));
}

/*
 * vmxlab's floor: exits with the null_exit_reason module parameter skip
 * their handler.  KVM has no such knob; its cheapest exits (CPUID, VMCALL,
 * WBINVD) are measured instead and the report takes the lowest.
 */
static void measure_null(struct vcpu *v, const struct run_opts *o,
			 long long base, struct scratch *sc,
			 struct samples *s)
{
	char reason[16];

	if (o->be->kvm) {
		measure(v, W_VMCALL, GUEST_GPA(vmcall), o->iterations, 0, base,
			1, sc, s);
		measure(v, W_WBINVD, GUEST_GPA(wbinvd), o->iterations, 0, base,
			0, sc, s);
		return;
	}
	if (!wanted(W_NULL))
		return;
	snprintf(reason, sizeof(reason), "%d", VMX_EXIT_REASON_CPUID);
	if (write_file(NULL_EXIT_PARAM, reason)) {
		fprintf(stderr, "vmxlab-bench: cannot write %s: no null exit figure\n",
			NULL_EXIT_PARAM);
		return;
	}
	measure(v, W_NULL, GUEST_GPA(cpuid), o->iterations, 0, base, 1, sc, s);
	if (write_file(NULL_EXIT_PARAM, "-1"))
		die("cannot reset %s", NULL_EXIT_PARAM);
}

/* One pass: a fresh VM, every timed workload once. */
void run_pass(const struct run_opts *o, struct scratch *sc,
	      struct samples *s)
{
	__u32 n = o->iterations;
	struct vcpu vcpu;
	long long base;
	struct vm vm;

	vm.sys_fd = open(o->be->dev, O_RDWR | O_CLOEXEC);
	if (vm.sys_fd < 0)
		die("%s: %s", o->be->dev, strerror(errno));
	vm_create(o->be, &vm, &vcpu, o->pages);

	base = timing_baseline(&vcpu, o, sc);
	measure_tsc(&vcpu, o, sc, s);
	measure(&vcpu, W_CPUID, GUEST_GPA(cpuid), n, 0, base, 1, sc, s);
	measure_null(&vcpu, o, base, sc, s);
	measure(&vcpu, W_OUT, GUEST_GPA(out), n, 0, base, 0, sc, s);
	measure(&vcpu, W_IN, GUEST_GPA(in), n, 0, base, 0, sc, s);
	measure(&vcpu, W_MMIO_WRITE, GUEST_GPA(mmio_write), n, GPA_MMIO, base,
		0, sc, s);
	measure(&vcpu, W_MMIO_READ, GUEST_GPA(mmio_read), n, GPA_MMIO, base,
		0, sc, s);
	measure_fault_in(&vcpu, o, base, sc, s);
	measure_fault_around(&vcpu, o, base, sc, s);
	measure_irq(&vcpu, W_IRQ_OPEN, GUEST_GPA(irq_open), n, sc, s);
	measure_irq(&vcpu, W_IRQ_STI, GUEST_GPA(irq_sti), n, sc, s);
	measure_irq_window(&vcpu, o, sc, s);
	/* Rows 1 and 6 above ran with the log off, as it is off again now. */
	measure_step(&vcpu, o, sc, s);
	measure_cpuid_log(&vcpu, o, base, sc, s);
	/* Row 9, last: cr3 empties a vmxlab shadow tree every time. */
	measure(&vcpu, W_PF, GUEST_GPA(pf), n, VA_NOT_PRESENT, base, 0, sc,
		s);
	measure(&vcpu, W_REMAP, GUEST_GPA(remap), n, VA_REMAP, base, 0, sc,
		s);
	measure(&vcpu, W_CR3, GUEST_GPA(cr3), n, GPA_PML4_B, base, 1, sc, s);

	vm_destroy(&vm, &vcpu);
	close(vm.sys_fd);
}
