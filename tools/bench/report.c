// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's report: the main table, vmxlab against KVM row by row
 * with each row's target and verdict (judge()), as text and as JSON, from
 * two results files (results.c).  The shadow-paging rows follow it
 * (report_shadow.c) when there are four.
 */
#include <string.h>

#include "fair.h"
#include "report.h"

/* KVM's cheapest exit among those measured: the stand-in for a null exit. */
static int kvm_cheapest(const struct results *k)
{
	static const int candidates[] = { W_CPUID, W_VMCALL, W_WBINVD };
	int i, best = -1;

	for (i = 0; i < 3; i++) {
		const struct summary *s = &k->stat[candidates[i]];

		/* WBINVD that does not exit costs one instruction. */
		if (!s->valid || s->mean < 20)
			continue;
		if (best < 0 || s->mean < k->stat[best].mean)
			best = candidates[i];
	}
	return best;
}

/*
 * A row's target (issue 14, round two): none, a ratio to KVM (and, for
 * row 1, a ratio to vmxlab's null exit too), a ratio to one of vmxlab's
 * own rows, or a number of instructions (row 6, which has no KVM twin).
 */
enum target_kind { T_NONE, T_RATIO, T_RATIO_AND_NULL, T_OWN, T_MAX };

/* Row 1: at most this many null exits (row 6) for a CPUID round trip. */
#define CPUID_PER_NULL	1.15

#define KVM_CHEAPEST	-1		/* row.kw: KVM's cheapest exit */
#define KVM_NONE	-2		/* row.kw: KVM has no such workload */

struct row {
	const char *id;
	const char *title;
	int w;				/* vmxlab workload */
	int kw;				/* KVM workload, or KVM_* */
	enum target_kind target;
	double max_ratio;		/* x KVM, x own for T_OWN, or T_MAX's */
	bool kvm_forced_exit;		/* judged without it (fair.c) */
	int own;			/* vmxlab's own row it is shown against */
	const char *own_id;
	const char *note[2];		/* lines printed under the row */
};

static const struct row rows[] = {
	{ "1", "CPUID exit, handled in the kernel", W_CPUID, W_CPUID,
	  T_RATIO_AND_NULL, 0.3, false, -1, NULL, {} },
	{ "2a", "OUT to userspace and back", W_OUT, W_OUT, T_RATIO, 0.5,
	  false, -1, NULL, {} },
	{ "2b", "IN to userspace and back", W_IN, W_IN, T_RATIO, 0.5, false,
	  -1, NULL, {} },
	{ "3a", "MMIO store to userspace and back", W_MMIO_WRITE,
	  W_MMIO_WRITE, T_RATIO, 0.5, false, -1, NULL, {} },
	{ "3b", "MMIO load to userspace and back", W_MMIO_READ, W_MMIO_READ,
	  T_RATIO, 0.5, false, -1, NULL, {} },
	{ "4a", "EPT fault-in per 4 KiB page, host page present", W_EPT,
	  W_EPT, T_RATIO, 0.25, false, -1, NULL, {} },
	{ "4b", "EPT fault-in per 4 KiB page, host page new", W_EPT_ALLOC,
	  W_EPT_ALLOC, T_RATIO, 0.6, false, -1, NULL, {} },
	{ "4b0", "  4b with ept_fault_around=0", W_EPT_ALLOC_OFF, W_EPT_ALLOC,
	  T_NONE, 0, false, -1, NULL, {} },
	{ "4c", "EPT fault-in, host page new, scattered order", W_EPT_SCATTER,
	  W_EPT_SCATTER, T_OWN, 1.05, false, W_EPT_SCATTER_OFF, "4c0", {} },
	{ "4c0", "  4c with ept_fault_around=0", W_EPT_SCATTER_OFF,
	  W_EPT_SCATTER, T_NONE, 0, false, -1, NULL, {} },
	{ "5a", "interrupt: ioctl to handler, window open", W_IRQ_OPEN,
	  W_IRQ_OPEN, T_RATIO, 0.4, true, -1, NULL, {} },
	{ "5b", "interrupt: IF=0 until STI, window via the VMM",
	  W_IRQ_STI_WINDOW, W_IRQ_STI, T_RATIO, 0.3, true, -1, NULL, {} },
	{ "5c", "interrupt: IF=0 until STI, queued in vmxlab", W_IRQ_STI,
	  KVM_NONE, T_NONE, 0, false, W_IRQ_STI_WINDOW, "5b", {} },
	{ "6", "null exit", W_NULL, KVM_CHEAPEST, T_MAX, 220, false, -1, NULL,
	  {} },
};

/* After the memory rows (7a, 7b). */
static const struct row step_rows[] = {
	{ "8", "single step (vmxlab MTF, KVM TF), per step", W_STEP, W_STEP,
	  T_OWN, 1.1, false, W_OUT, "2a",
	  { "vmxlab: MTF, an exit once the instruction retires, unseen by the guest",
	    "KVM: RFLAGS.TF, a #DB trap, an exception exit; the guest sees TF" } },
	{ "8b", "CPUID exit, exit log on (256 records)", W_CPUID_LOG,
	  KVM_NONE, T_NONE, 0, false, W_CPUID, "1",
	  { "the log is not drained while the guest runs: the ring wraps" } },
};

struct verdict {
	bool have;			/* both figures exist */
	double ratio;
	bool have_own;			/* the figure of row->own exists */
	double own_ratio;
	bool met;
	char target[64];
	char refused[96];		/* why there is no ratio, if it matters */
	enum fair fair;			/* exits per iteration (fair.c) */
	char why[200];
	bool adjusted;			/* row->kvm_forced_exit: judged on adj */
	struct irq_adjusted adj;
};

/*
 * A stepped workload counts the steps of its routine and of its baseline
 * (results.c).  Its figure is one step only if the routine took exactly
 * one step more per iteration, warm-up included; two backends compare
 * only if they stepped alike.
 */
static bool one_step_each(const struct results *r, int w)
{
	__u64 each = (__u64)(WARMUP_ITERATIONS + r->iterations) * r->passes;

	return r->steps[w][0] == r->steps[w][1] + each;
}

static bool stepped(int w)
{
	return w == W_STEP;
}

static void check_steps(const struct row *row, const struct results *v,
			const struct results *k, struct verdict *out)
{
	const __u64 *a = v->steps[row->w], *b = k->steps[row->w];

	if (!one_step_each(v, row->w) || !one_step_each(k, row->w) ||
	    a[0] != b[0] || a[1] != b[1]) {
		snprintf(out->refused, sizeof(out->refused),
			 "no ratio: steps vmxlab %llu/%llu, KVM %llu/%llu",
			 (unsigned long long)a[0], (unsigned long long)a[1],
			 (unsigned long long)b[0], (unsigned long long)b[1]);
		out->have = false;
	}
	if (!one_step_each(v, row->w))
		out->have_own = false;
}

/* The KVM workload of @row, or -1 for none. */
static int kvm_workload(const struct row *row, const struct results *k)
{
	if (row->kw == KVM_CHEAPEST)
		return kvm_cheapest(k);
	return row->kw == KVM_NONE ? -1 : row->kw;
}

/*
 * The ratio to KVM, if both took the same exits; a row whose KVM side
 * forces an immediate exit (5a, 5b) is judged without it (fair.c).
 */
static void judge_ratio(const struct row *row, const struct results *v,
			const struct results *k, int kw, struct verdict *out)
{
	struct irq_adjusted *adj = &out->adj;

	out->have = kw >= 0 && k->stat[kw].valid;
	if (row->kw == KVM_CHEAPEST)	/* row 6: nothing to compare */
		out->have = false;
	if (!out->have)
		return;
	out->ratio = v->stat[row->w].mean / k->stat[kw].mean;
	out->fair = fair_exits(v, row->w, k, kw,
			       fair_fault_around(v, row->w, k, kw), out->why,
			       sizeof(out->why));
	out->have = out->fair != FAIR_DIFFERENT;
	if (!row->kvm_forced_exit ||
	    !fair_irq_adjusted(v, row->w, k, kw, kvm_cheapest(k), adj))
		return;
	out->adjusted = true;
	out->met = adj->fair != FAIR_DIFFERENT &&
		   adj->ratio <= row->max_ratio;
}

static void judge(const struct row *row, const struct results *v,
		  const struct results *k, struct verdict *out)
{
	const struct summary *a = &v->stat[row->w];

	memset(out, 0, sizeof(*out));
	if (!a->valid)
		return;
	out->have_own = row->own >= 0 && v->stat[row->own].valid;
	if (out->have_own)
		out->own_ratio = a->mean / v->stat[row->own].mean;
	judge_ratio(row, v, k, kvm_workload(row, k), out);
	if (stepped(row->w))
		check_steps(row, v, k, out);
	if (!out->adjusted)
		out->met = out->ratio <= row->max_ratio;
	switch (row->target) {
	case T_NONE:
		out->met = true;
		break;
	case T_RATIO:
		snprintf(out->target, sizeof(out->target), "<= %.2g x KVM",
			 row->max_ratio);
		break;
	case T_MAX:
		snprintf(out->target, sizeof(out->target), "<= %.0f",
			 row->max_ratio);
		out->met = a->mean <= row->max_ratio;
		break;
	case T_RATIO_AND_NULL:
		snprintf(out->target, sizeof(out->target),
			 "<= %.2g x KVM, <= %.2f x null", row->max_ratio,
			 CPUID_PER_NULL);
		if (v->stat[W_NULL].valid)
			out->met = out->met && a->mean <=
				   CPUID_PER_NULL * v->stat[W_NULL].mean;
		break;
	case T_OWN:
		snprintf(out->target, sizeof(out->target), "<= %.3g x own %s",
			 row->max_ratio, row->own_id);
		out->met = out->have_own && out->own_ratio <= row->max_ratio;
		break;
	}
}

/* Is there a verdict to print? */
static bool judged(const struct row *row, const struct verdict *vd)
{
	if (row->target == T_OWN)
		return vd->have_own;
	if (row->target == T_MAX)
		return vd->target[0];
	if (vd->adjusted)
		return vd->adj.fair != FAIR_DIFFERENT;
	return row->target != T_NONE && vd->have;
}

/*
 * Under Bochs with clock: sync=none the TSC advances by one per emulated
 * instruction: 1000 more iterations of the 5-instruction loop take 5000
 * more ticks (a host interrupt may lengthen a few samples: the median).
 */
static bool tsc_counts_instructions(const struct results *r)
{
	const struct summary *s = &r->stat[W_LOOP5];

	return s->valid && s->median == 5000;
}

void fmt_summary(char *buf, size_t len, const struct summary *s)
{
	if (!s->valid)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f (%lld-%lld)", s->mean, s->min, s->max);
}

/* Largest difference between the passes of one run, in percent. */
static double pass_spread(const struct summary *s)
{
	double lo, hi;
	int i;

	if (!s->valid || s->passes < 2)
		return 0;
	lo = s->pass_mean[0];
	hi = lo;
	for (i = 1; i < s->passes; i++) {
		lo = s->pass_mean[i] < lo ? s->pass_mean[i] : lo;
		hi = s->pass_mean[i] > hi ? s->pass_mean[i] : hi;
	}
	return lo > 0 ? 100 * (hi - lo) / lo : 0;
}

static double max_spread(const struct results *r, int *worst)
{
	double m = 0, d;
	int w;

	*worst = -1;
	for (w = 0; w < NR_MAIN_WORKLOADS; w++) {
		d = pass_spread(&r->stat[w]);
		if (d > m || *worst < 0) {
			m = d > m ? d : m;
			*worst = w;
		}
	}
	return m;
}

static void print_mem_detail(const char *what, const struct mem_cost *c)
{
	int i;

	fprintf(stdout,
		"    %-7s %7.1f KiB: slab %.1f, kernel stacks %.1f, page tables %.1f, vmalloc %.1f KiB",
		what, c->total / 1024, c->meminfo[0] / 1024, c->meminfo[1] / 1024,
		c->meminfo[2] / 1024, c->meminfo[3] / 1024);
	for (i = 0; i < c->ntop; i++)
		printf("%s%s %.1f", i ? ", " : "; slab growth: ", c->top[i],
		       c->top_bytes[i] / 1024);
	printf("\n");
}

/* The lines above the table: the TSC check, repeatability, iterations. */
static void print_header(const struct results *v, const struct results *k)
{
	const struct summary *nop = &v->stat[W_LOOP5];
	double sv, sk;
	int wv, wk;

	printf("vmxlab-bench: emulated instructions per operation (guest RDTSC)\n");
	if (nop->valid)
		fprintf(stdout,
			"TSC check: a 5-instruction loop measures %.3f ticks per iteration (median)%s\n",
			nop->median / 1000.0, tsc_counts_instructions(v) ?
			": the TSC counts instructions (Bochs clock: sync=none)" :
			": the TSC does not count instructions here");
	sv = max_spread(v, &wv);
	sk = max_spread(k, &wk);
	fprintf(stdout,
		"Repeatability: %d passes per backend in this run; means differ by at most %.2f%% (vmxlab %s), %.2f%% (KVM %s)\n",
		v->passes, sv, wv >= 0 ? workload_keys[wv] : "-", sk,
		wk >= 0 ? workload_keys[wk] : "-");
	fprintf(stdout,
		"Iterations: %u per workload and pass (EPT: %u pages), after %u warm-up iterations\n",
		v->iterations, v->pages, WARMUP_ITERATIONS);
}

/*
 * Under a row: how its semantics differ; 5a and 5b also without KVM's
 * forced immediate exit, the figure their verdict is on.
 */
static void print_row_notes(const struct row *row, const struct verdict *vd)
{
	const char *note = fair_note(row->id);
	const struct irq_adjusted *adj = &vd->adj;

	if (note)
		printf("      note: %s\n", note);
	if (!vd->adjusted)
		return;
	printf("%-3s %-47s %-22s %-22.1f ", "", "  KVM without its forced immediate exit",
	       "", adj->kvm);
	if (adj->fair == FAIR_DIFFERENT) {
		printf("%6s  %s\n", "-", adj->why);
		return;
	}
	printf("%6.2f  %s: %s (KVM's mean less its cheapest exit, row 6: %.1f)\n",
	       adj->ratio, vd->target, vd->met ? "met" : "MISSED",
	       adj->exit_cost);
}

static void print_row(const struct row *row, const struct results *v,
		      const struct results *k)
{
	static const struct summary none;
	int kw = kvm_workload(row, k);
	char a[48], b[48], title[64];
	struct verdict vd;
	unsigned int i;

	judge(row, v, k, &vd);
	fmt_summary(a, sizeof(a), &v->stat[row->w]);
	fmt_summary(b, sizeof(b), kw >= 0 ? &k->stat[kw] : &none);
	if (row->kw == KVM_NONE)
		snprintf(b, sizeof(b), "n/a (%s)", row->w == W_CPUID_LOG ?
			 "no exit log" : "no such path");
	snprintf(title, sizeof(title), "%s", row->title);
	if (row->kw == KVM_CHEAPEST && kw >= 0)
		snprintf(title, sizeof(title),
			 "%s (KVM: its cheapest, %s)", row->title,
			 workload_keys[kw]);
	printf("%-3s %-47s %-22s %-22s ", row->id, title, a, b);
	if (vd.have)
		printf("%6.2f", vd.ratio);
	else
		printf("%6s", "-");
	if (vd.have_own)
		printf("  %.2f x own %s", vd.own_ratio, row->own_id);
	if (judged(row, &vd) && row->target == T_OWN)
		printf(" <= %.3g: %s", row->max_ratio, vd.met ? "met" : "MISSED");
	else if (judged(row, &vd) && !vd.adjusted)
		printf("  %s: %s", vd.target, vd.met ? "met" : "MISSED");
	if (vd.refused[0])
		printf("; %s", vd.refused);
	if (vd.why[0] && (vd.fair == FAIR_DIFFERENT ||
			  (vd.fair == FAIR_UNKNOWN && fair_some_exits(v, k))))
		printf("  %s", vd.why);
	printf("\n");
	for (i = 0; i < ARRAY_SIZE(row->note) && row->note[i]; i++)
		printf("      %s\n", row->note[i]);
	print_row_notes(row, &vd);
}

/* Row 7b's target: kernel memory per vCPU. */
#define VCPU_MAX_KIB	12

/* Rows 7a, 7b, 8 and 8b, and where the kernel memory goes. */
static void print_memory(const struct results *v, const struct results *k)
{
	unsigned int i;

	printf("%-3s %-47s %-22.1f %-22.1f %6.2f\n", "7a",
	       "kernel memory per VM, KiB", v->mem[0].total / 1024,
	       k->mem[0].total / 1024, v->mem[0].total / k->mem[0].total);
	printf("%-3s %-47s %-22.1f %-22.1f %6.2f  <= %d KiB: %s\n", "7b",
	       "kernel memory per vCPU, KiB (64 vCPUs)",
	       v->mem[1].total / 1024, k->mem[1].total / 1024,
	       v->mem[1].total / k->mem[1].total, VCPU_MAX_KIB,
	       v->mem[1].total <= VCPU_MAX_KIB * 1024 ? "met" : "MISSED");
	for (i = 0; i < ARRAY_SIZE(step_rows); i++)
		print_row(&step_rows[i], v, k);
	printf("\nMemory breakdown (per VM: %d empty VMs; per vCPU: %d vCPUs in one VM):\n",
	       MEM_VMS, MEM_VCPUS);
	printf("  vmxlab\n");
	print_mem_detail("VM", &v->mem[0]);
	print_mem_detail("vCPU", &v->mem[1]);
	printf("  KVM\n");
	print_mem_detail("VM", &k->mem[0]);
	print_mem_detail("vCPU", &k->mem[1]);
}

void report_text(const struct results *v, const struct results *k)
{
	unsigned int i;

	print_header(v, k);
	fair_print_host(v, k);
	printf("\n%-3s %-47s %-22s %-22s %6s  %s\n", "#", "workload",
	       "vmxlab mean (min-max)", "KVM mean (min-max)", "ratio", "target");
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		print_row(&rows[i], v, k);
	print_memory(v, k);
}

const char *row_title(int w)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].w == w)
			return rows[i].title;
	return workload_keys[w];
}

void json_summary(const char *name, const struct summary *s,
		  const char *sep)
{
	int i;

	if (!s->valid) {
		printf("      \"%s\": null%s\n", name, sep);
		return;
	}
	fprintf(stdout,
		"      \"%s\": {\"n\": %u, \"mean\": %.3f, \"min\": %lld, \"median\": %lld, \"max\": %lld, \"pass_means\": [",
		name, s->n, s->mean, s->min, s->median, s->max);
	for (i = 0; i < s->passes; i++)
		printf("%s%.3f", i ? ", " : "", s->pass_mean[i]);
	printf("]}%s\n", sep);
}

static void json_mem(const char *name, const struct mem_cost *c,
		     const char *sep)
{
	int i;

	fprintf(stdout,
		"      \"%s\": {\"bytes\": %.0f, \"slab\": %.0f, \"kernel_stack\": %.0f, \"page_tables\": %.0f, \"vmalloc\": %.0f, \"slab_growth\": {",
		name, c->total, c->meminfo[0], c->meminfo[1], c->meminfo[2],
		c->meminfo[3]);
	for (i = 0; i < c->ntop; i++)
		printf("%s\"%s\": %.0f", i ? ", " : "", c->top[i],
		       c->top_bytes[i]);
	printf("}}%s\n", sep);
}

static void json_steps(const char *name, const __u64 *steps)
{
	printf("      \"%s_steps\": [%llu, %llu],\n", name,
	       (unsigned long long)steps[0], (unsigned long long)steps[1]);
}

static void json_row(const struct row *row, const struct results *v,
		     const struct results *k, const char *sep)
{
	int kw = kvm_workload(row, k);
	struct verdict vd;

	judge(row, v, k, &vd);
	printf("    {\n      \"id\": \"%s\",\n      \"workload\": \"%s\",\n",
	       row->id, workload_keys[row->w]);
	json_summary("vmxlab", &v->stat[row->w], ",");
	if (kw >= 0) {
		printf("      \"kvm_workload\": \"%s\",\n",
		       workload_keys[kw]);
		json_summary("kvm", &k->stat[kw], ",");
	}
	if (stepped(row->w)) {
		json_steps("vmxlab", v->steps[row->w]);
		json_steps("kvm", k->steps[row->w]);
	}
	if (vd.have)
		printf("      \"ratio\": %.4f,\n", vd.ratio);
	if (vd.have_own)
		printf("      \"own_row\": \"%s\",\n      \"own_ratio\": %.4f,\n",
		       row->own_id, vd.own_ratio);
	if (vd.why[0])
		printf("      \"exits\": \"%s\",\n", vd.why);
	if (row->kvm_forced_exit && kw >= 0)
		fair_json_irq(v, row->w, k, kw, kvm_cheapest(k));
	if (judged(row, &vd))
		printf("      \"target\": \"%s\",\n      \"met\": %s,\n",
		       vd.target, vd.met ? "true" : "false");
	if (vd.refused[0])
		printf("      \"refused\": \"%s\",\n", vd.refused);
	if (row->note[0])
		printf("      \"note\": \"%s%s%s\",\n", row->note[0],
		       row->note[1] ? "; " : "", row->note[1] ? row->note[1] : "");
	printf("      \"title\": \"%s\"\n    }%s\n", row->title, sep);
}

/* Row 7, then rows 8 and 8b, the last of "rows". */
static void json_memory_rows(const struct results *v, const struct results *k)
{
	unsigned int i;

	printf("    {\n      \"id\": \"7\",\n      \"workload\": \"memory\",\n");
	printf("      \"vms\": %d,\n      \"vcpus\": %d,\n", MEM_VMS, MEM_VCPUS);
	json_mem("vmxlab_per_vm", &v->mem[0], ",");
	json_mem("kvm_per_vm", &k->mem[0], ",");
	json_mem("vmxlab_per_vcpu", &v->mem[1], ",");
	json_mem("kvm_per_vcpu", &k->mem[1], ",");
	printf("      \"per_vcpu_target_kib\": %d,\n      \"per_vcpu_met\": %s\n",
	       VCPU_MAX_KIB,
	       v->mem[1].total <= VCPU_MAX_KIB * 1024 ? "true" : "false");
	printf("    },\n");
	for (i = 0; i < ARRAY_SIZE(step_rows); i++)
		json_row(&step_rows[i], v, k,
			 i + 1 < ARRAY_SIZE(step_rows) ? "," : "");
}

void report_json(const struct results *v, const struct results *k,
		 const struct results *vs, const struct results *ks)
{
	const struct summary *nop = &v->stat[W_LOOP5];
	unsigned int i;
	int wv, wk;

	printf("{\n");
	fprintf(stdout,
		"  \"units\": \"guest TSC ticks per operation; emulated instructions under Bochs clock: sync=none\",\n");
	printf("  \"tsc_ticks_per_loop5_iteration\": %.3f,\n",
	       nop->valid ? nop->median / 1000.0 : 0);
	printf("  \"tsc_counts_instructions\": %s,\n",
	       tsc_counts_instructions(v) ? "true" : "false");
	printf("  \"iterations\": %u,\n  \"pages\": %u,\n  \"passes\": %d,\n",
	       v->iterations, v->pages, v->passes);
	printf("  \"max_pass_spread_percent\": {\"vmxlab\": %.4f, \"kvm\": %.4f},\n",
	       max_spread(v, &wv), max_spread(k, &wk));
	fair_json_host(v, k);
	if (vs)
		report_shadow_json(v, k, vs, ks);
	printf("  \"rows\": [\n");
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		json_row(&rows[i], v, k, ",");
	json_memory_rows(v, k);
	printf("  ]\n}\n");
}
