// SPDX-License-Identifier: GPL-2.0
/*
 * What keeps the report (report.c) from comparing unlike things: a ratio
 * only where both backends took the same exits per iteration (exits.c
 * counted them), where each ran (the header), and the notes of the rows
 * whose semantics differ.
 */
#include <string.h>

#include "fair.h"

/*
 * Exits per iteration closer than this are the same (a rare page-table
 * allocation adds 1/10000); a workload's own exits are whole numbers.
 */
#define SAME_EXITS	0.05

static const char *const cat_names[NR_EXIT_CATS] = {
	[XC_IO] = "IO", [XC_MMIO] = "MMIO", [XC_HLT] = "HLT",
	[XC_IRQ_WINDOW] = "IRQ window", [XC_USER_OTHER] = "other",
	[XC_KERNEL] = "in the kernel",
};

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

static double per_iter(const struct exit_counts *c, int cat)
{
	return (double)c->n[cat] / c->iterations;
}

/*
 * The exits per iteration, in all and "(IO 1, in the kernel 1)" by kind,
 * the in-kernel ones moved by @kernel_adjust; external interrupts are
 * left out.
 */
static double describe(char *buf, size_t len, const struct exit_counts *c,
		       double kernel_adjust)
{
	double total = 0, x;
	size_t off = 0;
	int i, n = 0;

	buf[0] = 0;
	for (i = 0; i < NR_EXIT_CATS; i++)
		total += per_iter(c, i) + (i == XC_KERNEL ? kernel_adjust : 0);
	for (i = 0; i < NR_EXIT_CATS && off < len; i++) {
		x = per_iter(c, i) + (i == XC_KERNEL ? kernel_adjust : 0);
		if (dabs(x) < SAME_EXITS)
			continue;
		off += snprintf(buf + off, len - off, "%s%s %.3g",
				n++ ? ", " : " (", cat_names[i], x);
	}
	if (n && off < len)
		snprintf(buf + off, len - off, ")");
	return total;
}

/*
 * Whether vmxlab's workload @w and KVM's @kw took the same exits per
 * iteration, KVM's in-kernel ones moved by @kvm_adjust.  Returns
 * FAIR_UNKNOWN when a file has no counts, FAIR_SAME or FAIR_DIFFERENT;
 * @why says which in words.
 */
enum fair fair_exits(const struct results *v, int w, const struct results *k,
		     int kw, double kvm_adjust, char *why, size_t len)
{
	const struct exit_counts *a = &v->exits[w], *b = &k->exits[kw];
	char da[96], db[96];
	double d, ta, tb;
	int i;

	if (!a->valid || !b->valid) {
		snprintf(why, len, "exit counts not recorded%s",
			 !a->valid && !b->valid ? "" :
			 !a->valid ? " (vmxlab)" : " (KVM)");
		return FAIR_UNKNOWN;
	}
	for (i = 0; i < NR_EXIT_CATS; i++) {
		d = per_iter(a, i) - per_iter(b, i);
		if (i == XC_KERNEL)
			d -= kvm_adjust;
		if (dabs(d) >= SAME_EXITS)
			break;
	}
	ta = describe(da, sizeof(da), a, 0);
	tb = describe(db, sizeof(db), b, kvm_adjust);
	if (i == NR_EXIT_CATS) {
		snprintf(why, len, "exits/iteration: %.3g%s on both", ta, da);
		return FAIR_SAME;
	}
	snprintf(why, len,
		 "ratio refused: vmxlab %.3g exit%s/iteration%s, KVM %.3g%s",
		 ta, ta == 1 ? "" : "s", da, tb, db);
	return FAIR_DIFFERENT;
}

/*
 * Rows 4b and 4c: vmxlab's fault-around (mmu/ept.c) resolves several
 * pages per EPT violation, so it may take fewer in-kernel exits than
 * KVM; that is the work being measured, not a difference in the
 * workload.  The KVM adjustment for fair_exits() that forgives exactly
 * that (never more exits, never another kind), else 0.
 */
double fair_fault_around(const struct results *v, int w,
			 const struct results *k, int kw)
{
	const struct exit_counts *a = &v->exits[w], *b = &k->exits[kw];
	double d;

	if ((w != W_EPT_ALLOC && w != W_EPT_SCATTER) || !a->valid || !b->valid)
		return 0;
	d = per_iter(a, XC_KERNEL) - per_iter(b, XC_KERNEL);
	return d < 0 ? d : 0;
}

/* Whether either file has exit counts: files from before have none. */
bool fair_some_exits(const struct results *v, const struct results *k)
{
	int w;

	for (w = 0; w < NR_WORKLOADS; w++)
		if (v->exits[w].valid || k->exits[w].valid)
			return true;
	return false;
}

/* --- the header -------------------------------------------------------- */

static const char *or_unrecorded(const char *s)
{
	return s[0] ? s : "not recorded";
}

/* Where both ran; a difference between the files is said, not hidden. */
void fair_print_host(const struct results *v, const struct results *k)
{
	printf("Emulator: %s; CPU: %s\n", or_unrecorded(v->emulator),
	       or_unrecorded(v->cpu));
	printf("Kernel command line: %s\n", or_unrecorded(v->cmdline));
	if (strcmp(v->emulator, k->emulator) || strcmp(v->cpu, k->cpu) ||
	    strcmp(v->cmdline, k->cmdline))
		fprintf(stdout,
			"NOT COMPARABLE: the KVM results ran elsewhere: emulator %s; CPU %s; command line %s\n",
		       or_unrecorded(k->emulator), or_unrecorded(k->cpu),
		       or_unrecorded(k->cmdline));
	if (!fair_some_exits(v, k))
		fprintf(stdout,
			"Exit counts: not recorded (results files from before they were): ratios printed unchecked\n");
	if (v->emulator[0] && strncmp(v->emulator, "bochs", 5))
		printf("NOT COMPARABLE: %s does not count instructions; `make bench` uses Bochs\n",
		       v->emulator);
}

void fair_json_host(const struct results *v, const struct results *k)
{
	const struct results *r[2] = { v, k };
	int i;

	printf("  \"host\": {");
	for (i = 0; i < 2; i++)
		fprintf(stdout,
			"%s\"%s\": {\"emulator\": \"%s\", \"cpu\": \"%s\", \"cmdline\": \"%s\"}",
			i ? ", " : "", i ? "kvm" : "vmxlab", r[i]->emulator,
			r[i]->cpu, r[i]->cmdline);
	printf("},\n");
}

/* --- the rows whose semantics differ ----------------------------------- */

static const struct {
	const char *id;
	const char *note;
} notes[] = {
	{ "3a", "vmxlab decodes MOV/MOVZX only; KVM's emulator takes any instruction" },
	{ "3b", "vmxlab decodes MOV/MOVZX only; KVM's emulator takes any instruction" },
	{ "4a", "fault-around off (4b has it); vmxlab pins for the slot's life, KVM's can swap" },
	{ "4b", "vmxlab maps up to 16 pages per EPT violation (fault-around): fewer exits" },
	{ "4c", "pages drawn without repeats from 16 x as many; 4c0: fault-around off" },
	{ "5a", "KVM (userspace irqchip) forces an immediate exit after injecting; vmxlab none" },
	{ "5b", "both: the VMM asks for the window, queues on its exit; KVM forces an exit after" },
	{ "5c", "no ratio: KVM without an in-kernel irqchip cannot queue while IF=0" },
	{ "6", "no ratio: vmxlab skips the handler, KVM has none to skip" },
};

const char *fair_note(const char *id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(notes); i++)
		if (!strcmp(notes[i].id, id))
			return notes[i].note;
	return NULL;
}

/*
 * Rows 5a and 5b without KVM's forced immediate exit.  It cannot be
 * switched off from userspace, so the figure is adjusted: KVM's mean
 * minus its cheapest whole exit measured in the same run (row 6's KVM
 * column, an exit with an empty handler), and the exit counts compared
 * with one in-kernel exit fewer on KVM.  @w is vmxlab's workload, @kw
 * KVM's.  Returns false when there is no figure.
 */
bool fair_irq_adjusted(const struct results *v, int w,
		       const struct results *k, int kw, int cheapest,
		       struct irq_adjusted *out)
{
	const struct summary *a = &v->stat[w];
	const struct summary *b = &k->stat[kw];

	memset(out, 0, sizeof(*out));
	if (!a->valid || !b->valid || cheapest < 0 ||
	    !k->stat[cheapest].valid)
		return false;
	out->exit_cost = k->stat[cheapest].mean;
	out->kvm = b->mean - out->exit_cost;
	out->ratio = a->mean / out->kvm;
	out->fair = fair_exits(v, w, k, kw, -1, out->why, sizeof(out->why));
	return true;
}

void fair_json_irq(const struct results *v, int w, const struct results *k,
		   int kw, int cheapest)
{
	struct irq_adjusted adj;

	if (!fair_irq_adjusted(v, w, k, kw, cheapest, &adj))
		return;
	printf("      \"kvm_without_immediate_exit\": %.3f,\n", adj.kvm);
	printf("      \"kvm_immediate_exit_cost\": %.3f,\n", adj.exit_cost);
	if (adj.fair != FAIR_DIFFERENT)
		printf("      \"ratio_without_immediate_exit\": %.4f,\n",
		       adj.ratio);
}
