// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's shadow-paging rows, printed after the main table
 * (report.c) when `report` has four results files: row 9 against KVM
 * ept=0 and against vmxlab's own EPT figures, and the same guest on EPT
 * and on shadow paging.
 */
#include <string.h>

#include "report.h"

/* Row 9: a shadow VM's own costs, against KVM ept=0 and vmxlab's own. */
struct shadow_row {
	const char *id;
	const char *title;
	int w;
	int own;			/* vmxlab's EPT workload; -1: no target */
	const char *own_name;
	double max_own;
	double max_kvm;			/* x KVM ept=0; 0: no target */
	const char *miss_reason;	/* a miss known before measuring */
};

static const struct shadow_row shadow_rows[] = {
	{ "9a", "shadow #PF resolved per page, page present", W_EPT,
	  W_EPT, "4a", 2.5, 0.8, NULL },
	{ "9b", "reflected #PF: access to guest handler", W_PF, -1, NULL, 0,
	  0, NULL },
	{ "9c", "MOV CR3 between two roots (+ a store)", W_CR3, W_CPUID,
	  "CPUID", 1.5, 0,
	  "the switch reads every recorded guest entry again" },
	{ "9d", "PTE write + INVLPG + touch", W_REMAP, W_CPUID, "CPUID",
	  3.0, 0, NULL },
};

/* Same guest, EPT against shadow paging: vmxlab's targets. */
static const struct same_row {
	const char *id;
	int w;
	double max;
} same_rows[] = {
	{ "1", W_CPUID, 1.05 }, { "2a", W_OUT, 1.05 },
	{ "3a", W_MMIO_WRITE, 1.3 }, { "5a", W_IRQ_OPEN, 0 },
};

static void fmt_mean(char *buf, size_t len, const struct summary *s)
{
	if (!s->valid)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f", s->mean);
}

static double ratio_of(const struct summary *a, const struct summary *b,
		       bool *have)
{
	*have = a->valid && b->valid && b->mean > 0;
	return *have ? a->mean / b->mean : 0;
}

/* Each target of a row: its text, and met, MISSED or n/a. */
struct shadow_verdict {
	bool have_kvm, have_own;
	double x_kvm, x_own;
	const char *own_verdict, *kvm_verdict;	/* NULL: no such target */
	char text[96];
};

static const char *verdict_word(bool have, bool met)
{
	return !have ? "n/a" : met ? "met" : "MISSED";
}

static void judge_shadow(const struct shadow_row *row,
			 const struct results *v, const struct results *vs,
			 const struct results *ks, struct shadow_verdict *out)
{
	const struct summary *a = &vs->stat[row->w];
	int len = 0;

	memset(out, 0, sizeof(*out));
	out->x_kvm = ratio_of(a, &ks->stat[row->w], &out->have_kvm);
	if (row->own >= 0) {
		out->x_own = ratio_of(a, &v->stat[row->own], &out->have_own);
		out->own_verdict = verdict_word(out->have_own,
						out->x_own <= row->max_own);
		len += snprintf(out->text, sizeof(out->text),
				"<= %.1f x own %s: %s", row->max_own,
				row->own_name, out->own_verdict);
	}
	if (row->max_kvm > 0) {
		out->kvm_verdict = verdict_word(out->have_kvm,
						out->x_kvm <= row->max_kvm);
		snprintf(out->text + len, sizeof(out->text) - len,
			 "%s<= %.1f x KVM ept=0: %s", len ? "; " : "",
			 row->max_kvm, out->kvm_verdict);
	}
}

static void print_ratio(bool have, double r)
{
	if (have)
		printf(" %6.2f", r);
	else
		printf(" %6s", "-");
}

/* A row 9 line, then the same workload's EPT figures under it. */
static void print_shadow_row(const struct shadow_row *row,
			     const struct results *v, const struct results *k,
			     const struct results *vs,
			     const struct results *ks)
{
	struct shadow_verdict vd;
	char a[48], b[48];

	judge_shadow(row, v, vs, ks, &vd);
	fmt_summary(a, sizeof(a), &vs->stat[row->w]);
	fmt_summary(b, sizeof(b), &ks->stat[row->w]);
	printf("%-3s %-42s %-22s %-22s", row->id, row->title, a, b);
	print_ratio(vd.have_kvm, vd.x_kvm);
	print_ratio(vd.have_own, vd.x_own);
	printf("  %s", vd.text);
	if (row->miss_reason && vd.own_verdict &&
	    !strcmp(vd.own_verdict, "MISSED"))
		printf(" (%s)", row->miss_reason);
	printf("\n");
	fmt_summary(a, sizeof(a), &v->stat[row->w]);
	fmt_summary(b, sizeof(b), &k->stat[row->w]);
	printf("%-3s %-42s %-22s %s\n", "",
	       row->w == W_EPT ? "  the same on EPT (row 4a)" :
	       "  the same on EPT (no exit)", a, b);
}

static void print_same_row(const struct same_row *row,
			   const struct results *v, const struct results *k,
			   const struct results *vs, const struct results *ks)
{
	char a[48], b[48], t[24] = "";
	double r;
	bool have;

	fmt_mean(a, sizeof(a), &v->stat[row->w]);
	fmt_mean(b, sizeof(b), &vs->stat[row->w]);
	printf("%-3s %-42s %-10s %-10s", row->id, row_title(row->w), a,
	       b);
	r = ratio_of(&vs->stat[row->w], &v->stat[row->w], &have);
	print_ratio(have, r);
	if (row->max > 0)
		snprintf(t, sizeof(t), "<= %.2f: %s", row->max,
			 !have ? "n/a" : r <= row->max ? "met" :
			 "MISSED");
	printf("  %-16s", t);
	fmt_mean(a, sizeof(a), &k->stat[row->w]);
	fmt_mean(b, sizeof(b), &ks->stat[row->w]);
	printf(" %-10s %-10s", a, b);
	r = ratio_of(&ks->stat[row->w], &k->stat[row->w], &have);
	print_ratio(have, r);
	printf("\n");
}

void report_shadow_text(const struct results *v, const struct results *k,
			const struct results *vs, const struct results *ks)
{
	unsigned int i;

	printf("\nShadow paging: vmxlab VMXLAB_VM_SHADOW, KVM kvm_intel ept=0\n");
	if (vs->unavailable[0])
		printf("vmxlab-shadow: n/a (%s)\n", vs->unavailable);
	if (ks->unavailable[0])
		printf("KVM ept=0: n/a (%s)\n", ks->unavailable);
	printf("%-3s %-42s %-22s %-22s %6s %6s  %s\n", "#", "workload",
	       "vmxlab shadow", "KVM ept=0", "x KVM", "x own", "target");
	for (i = 0; i < ARRAY_SIZE(shadow_rows); i++)
		print_shadow_row(&shadow_rows[i], v, k, vs, ks);

	printf("\nSame guest, EPT against shadow paging (ratio: shadow / EPT)\n");
	printf("%-3s %-42s %-10s %-10s %6s  %-16s %-10s %-10s %6s\n", "#",
	       "workload", "vmxlab", "shadow", "ratio", "target", "KVM",
	       "ept=0", "ratio");
	for (i = 0; i < ARRAY_SIZE(same_rows); i++)
		print_same_row(&same_rows[i], v, k, vs, ks);
}

static void json_shadow_row(const struct shadow_row *row,
			    const struct results *v, const struct results *k,
			    const struct results *vs,
			    const struct results *ks, const char *sep)
{
	struct shadow_verdict vd;

	judge_shadow(row, v, vs, ks, &vd);
	printf("    {\n      \"id\": \"%s\",\n      \"workload\": \"%s\",\n",
	       row->id, workload_keys[row->w]);
	json_summary("vmxlab_shadow", &vs->stat[row->w], ",");
	json_summary("kvm_shadow", &ks->stat[row->w], ",");
	json_summary("vmxlab_ept", &v->stat[row->w], ",");
	json_summary("kvm_ept", &k->stat[row->w], ",");
	if (vd.have_kvm)
		printf("      \"ratio_kvm\": %.4f,\n", vd.x_kvm);
	if (vd.have_own)
		printf("      \"ratio_own\": %.4f,\n", vd.x_own);
	if (vd.text[0])
		printf("      \"verdict\": \"%s\",\n", vd.text);
	printf("      \"title\": \"%s\"\n    }%s\n", row->title, sep);
}

static void json_same_row(const struct same_row *row,
			  const struct results *v, const struct results *k,
			  const struct results *vs, const struct results *ks,
			  const char *sep)
{
	double r;
	bool have;

	printf("    {\n      \"id\": \"%s\",\n      \"workload\": \"%s\",\n",
	       row->id, workload_keys[row->w]);
	json_summary("vmxlab_ept", &v->stat[row->w], ",");
	json_summary("vmxlab_shadow", &vs->stat[row->w], ",");
	json_summary("kvm_ept", &k->stat[row->w], ",");
	json_summary("kvm_shadow", &ks->stat[row->w], ",");
	r = ratio_of(&ks->stat[row->w], &k->stat[row->w], &have);
	if (have)
		printf("      \"ratio_kvm\": %.4f,\n", r);
	r = ratio_of(&vs->stat[row->w], &v->stat[row->w], &have);
	if (row->max > 0)
		printf("      \"target\": \"<= %.2f\",\n      \"met\": %s,\n",
		       row->max, !have ? "null" :
		       r <= row->max ? "true" : "false");
	printf("      \"ratio\": ");
	if (have)
		printf("%.4f\n", r);
	else
		printf("null\n");
	printf("    }%s\n", sep);
}

/* The shadow rows as JSON members, before the main table's "rows". */
void report_shadow_json(const struct results *v, const struct results *k,
			const struct results *vs, const struct results *ks)
{
	unsigned int i;

	printf("  \"shadow_unavailable\": {\"vmxlab-shadow\": \"%s\", \"kvm-shadow\": \"%s\"},\n",
	       vs->unavailable, ks->unavailable);
	printf("  \"shadow_rows\": [\n");
	for (i = 0; i < ARRAY_SIZE(shadow_rows); i++)
		json_shadow_row(&shadow_rows[i], v, k, vs, ks,
				i + 1 < ARRAY_SIZE(shadow_rows) ? "," : "");
	printf("  ],\n  \"same_guest_rows\": [\n");
	for (i = 0; i < ARRAY_SIZE(same_rows); i++)
		json_same_row(&same_rows[i], v, k, vs, ks,
			      i + 1 < ARRAY_SIZE(same_rows) ? "," : "");
	printf("  ],\n");
}
