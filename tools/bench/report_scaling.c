// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's "how cost grows" table: the results files of `scale`
 * (scaling.c), read back and printed by `report-scale`, vmxlab beside
 * KVM, with the verdict of each flatness target.
 */
#include <stdlib.h>
#include <string.h>

#include "scaling.h"

/* The clock Bochs emulates: tsc_early_khz=200000, ips=200000000. */
#define NOMINAL_HZ		200e6
#define LEFT_BEHIND_MAX		(1024.0 * 1024)	/* bytes, after destruction */

const char *const scale_kind_keys[NR_SCALE_KINDS] = {
	[SK_VCPUS] = "vcpus", [SK_FAULT] = "fault", [SK_MMIO] = "mmio",
	[SK_LIFE] = "life",
};

/*
 * vCPU rows: the TSC ticks of CPU time the vCPU threads consumed, over
 * the exits.  The kernel counts a thread's CPU time in ns from the TSC at
 * tsc_early_khz, so ns x NOMINAL_HZ / 1e9 gives the ticks back; with
 * every CPU kept busy (scaling.c's burners) a tick is one instruction.
 * The other rows: the guest's mean.
 */
double scale_cost(enum scale_kind kind, const struct scale_row *r)
{
	switch (kind) {
	case SK_VCPUS:
		return r->v[1] > 0 ? r->v[6] * (NOMINAL_HZ / 1e9) / r->v[1] : 0;
	case SK_FAULT:
	case SK_MMIO:
		return r->v[1];
	default:
		return 0;
	}
}

/* Exits per operation, for the like-with-like check. */
static double exits_per_op(enum scale_kind kind, const struct scale_row *r)
{
	switch (kind) {
	case SK_VCPUS:
		return r->v[3] > 0 ? r->v[1] / r->v[3] : 0;
	case SK_FAULT:
	case SK_MMIO:
		return r->v[0] > 0 ? r->v[2] / r->v[0] : 0;
	default:
		return 0;
	}
}

void scale_add(struct scale_results *r, enum scale_kind kind,
	       unsigned int param, const double *v)
{
	struct scale_row *row;

	if (r->nrows[kind] >= SCALE_MAX_ROWS)
		return;
	row = &r->row[kind][r->nrows[kind]++];
	row->param = param;
	memcpy(row->v, v, sizeof(row->v));
}

void write_scale(FILE *f, const struct scale_results *r)
{
	const struct scale_row *row;
	int k, i, j;

	fprintf(f, "# vmxlab-bench scale results: kind param values (scaling.h)\n");
	fprintf(f, "backend %s\n", r->backend);
	for (k = 0; k < NR_SCALE_KINDS; k++) {
		for (i = 0; i < r->nrows[k]; i++) {
			row = &r->row[k][i];
			fprintf(f, "scale %s %u", scale_kind_keys[k], row->param);
			for (j = 0; j < SCALE_VALUES; j++)
				fprintf(f, " %.3f", row->v[j]);
			fprintf(f, "\n");
		}
	}
}

static void parse_scale(struct scale_results *r, const char *line)
{
	double v[SCALE_VALUES] = { 0 };
	unsigned int param;
	char kind[16];
	int k;

	if (sscanf(line, "scale %15s %u %lf %lf %lf %lf %lf %lf %lf", kind,
		   &param, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &v[6]) < 2 + 5)
		return;
	for (k = 0; k < NR_SCALE_KINDS; k++)
		if (!strcmp(kind, scale_kind_keys[k]))
			scale_add(r, k, param, v);
}

static void parse_scale_line(void *ctx, const char *line)
{
	if (!strncmp(line, "scale ", 6))
		parse_scale(ctx, line);
}

void load_scale(const char *path, struct scale_results *r)
{
	memset(r, 0, sizeof(*r));
	read_results_file(path, r->backend, r->unavailable, parse_scale_line,
			  r);
}

/* --- the table --------------------------------------------------------- */

struct scale_set {
	enum scale_kind kind;
	const char *id;
	const char *title;		/* with %u for the row's parameter */
	const char *range;		/* "1 to 16 vCPUs" */
	double max_spread;		/* percent */
};

static const struct scale_set sets[] = {
	{ SK_VCPUS, "10a", "CPUID exits, %u vCPU thread(s): per exit",
	  "1 to 16 vCPU threads", 10 },
	{ SK_FAULT, "10b", "EPT fault-in per page, %u MiB touched once",
	  "16 to 256 MiB", 10 },
	{ SK_MMIO, "10c", "MMIO store to userspace, %u slot(s) in use",
	  "1 to 32 slots", 5 },
};

/* The row of @r with parameter @param, or NULL. */
static const struct scale_row *find_row(const struct scale_results *r,
					enum scale_kind kind,
					unsigned int param)
{
	int i;

	for (i = 0; i < r->nrows[kind]; i++)
		if (r->row[kind][i].param == param)
			return &r->row[kind][i];
	return NULL;
}

/* (max - min) / min of the rows' costs, in percent; -1 for no rows. */
static double spread(const struct scale_results *r, enum scale_kind kind)
{
	double lo = 0, hi = 0, c;
	int i;

	for (i = 0; i < r->nrows[kind]; i++) {
		c = scale_cost(kind, &r->row[kind][i]);
		lo = !i || c < lo ? c : lo;
		hi = !i || c > hi ? c : hi;
	}
	if (r->nrows[kind] < 2 || lo <= 0)
		return -1;
	return 100 * (hi - lo) / lo;
}

static void fmt_cost(char *buf, size_t len, enum scale_kind kind,
		     const struct scale_row *r)
{
	double c;

	if (!r) {
		snprintf(buf, len, "n/a");
		return;
	}
	c = scale_cost(kind, r);
	if (kind == SK_VCPUS && r->v[0] > 0)
		snprintf(buf, len, "%.1f (%.1fk/s)", c,
			 r->v[1] / (r->v[0] / NOMINAL_HZ) / 1000);
	else
		snprintf(buf, len, "%.1f", c);
}

/* A ratio only where both took the same exits per operation. */
static void print_ratio(enum scale_kind kind, const struct scale_row *a,
			const struct scale_row *b)
{
	double ea, eb;

	if (!a || !b || scale_cost(kind, b) <= 0) {
		printf("%6s\n", "-");
		return;
	}
	ea = exits_per_op(kind, a);
	eb = exits_per_op(kind, b);
	if (ea - eb > 0.05 || eb - ea > 0.05)
		printf("%6s  ratio refused: exits/operation vmxlab %.2f, KVM %.2f\n",
		       "-", ea, eb);
	else
		printf("%6.2f\n", scale_cost(kind, a) / scale_cost(kind, b));
}

static void fmt_spread(char *buf, size_t len, double s)
{
	if (s < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.2f%%", s);
}

/* 10a: what the guest saw of one CPUID, its median, at each count. */
static void print_guest_medians(const struct scale_results *r, char *buf,
				size_t len)
{
	int i, n = 0;

	buf[0] = 0;
	for (i = 0; i < r->nrows[SK_VCPUS] && n < (int)len; i++)
		n += snprintf(buf + n, len - n, "%s%.0f", i ? "/" : "",
			      r->row[SK_VCPUS][i].v[5]);
	if (!n)
		snprintf(buf, len, "n/a");
}

static void print_set(const struct scale_set *set,
		      const struct scale_results *v,
		      const struct scale_results *k)
{
	const struct scale_row *a, *b;
	char title[64], x[40], y[40];
	double sv = spread(v, set->kind);
	int i;

	for (i = 0; i < v->nrows[set->kind]; i++) {
		a = &v->row[set->kind][i];
		b = find_row(k, set->kind, a->param);
		snprintf(title, sizeof(title), set->title, a->param);
		fmt_cost(x, sizeof(x), set->kind, a);
		fmt_cost(y, sizeof(y), set->kind, b);
		printf("%-4s %-47s %-22s %-22s ", set->id, title, x, y);
		print_ratio(set->kind, a, b);
	}
	if (set->kind == SK_VCPUS) {
		print_guest_medians(v, x, sizeof(x));
		print_guest_medians(k, y, sizeof(y));
		printf("%-4s %-47s %-22s %s\n", set->id,
		       "  guest's median per CPUID at each count", x, y);
	}
	snprintf(title, sizeof(title), "  spread, %s", set->range);
	fmt_spread(x, sizeof(x), sv);
	fmt_spread(y, sizeof(y), spread(k, set->kind));
	printf("%-4s %-47s %-22s %-22s %6s  <= %.0f%%: %s\n", set->id, title,
	       x, y, "", set->max_spread,
	       sv < 0 ? "n/a" : sv <= set->max_spread ? "met" : "MISSED");
}

/* --- creation and destruction ------------------------------------------ */

static void fmt_life(char *buf, size_t len, const struct scale_row *r,
		     int i, double unit)
{
	if (!r || r->v[i] < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f", r->v[i] / unit);
}

/* Creation or destruction (value @i) of the VMs with @mib faulted in. */
static void print_life_time(const struct scale_results *v,
			    const struct scale_results *k, unsigned int mib,
			    int i)
{
	const struct scale_row *a = find_row(v, SK_LIFE, mib);
	const struct scale_row *b = find_row(k, SK_LIFE, mib);
	char title[64], x[40], y[40];

	snprintf(title, sizeof(title), "VM %s, %u MiB faulted in, kticks",
		 i ? "destruction" : "creation", mib);
	fmt_life(x, sizeof(x), a, i, 1000);
	fmt_life(y, sizeof(y), b, i, 1000);
	printf("%-4s %-47s %-22s %-22s ", "10d", title, x, y);
	if (a && b && b->v[i] > 0)
		printf("%6.2f\n", a->v[i] / b->v[i]);
	else
		printf("%6s\n", "-");
}

/*
 * Host memory back after destruction: what the free page count lacks
 * against before creation, within LEFT_BEHIND_MAX (per-CPU caches, slab
 * growth) and, where there is a counter, no page left pinned.
 */
static bool memory_back(const struct scale_results *r, char *buf,
			size_t len)
{
	bool ok = r->nrows[SK_LIFE] > 0;
	const struct scale_row *row;
	int i, n = 0;

	buf[0] = 0;
	for (i = 0; i < r->nrows[SK_LIFE]; i++) {
		row = &r->row[SK_LIFE][i];
		n += snprintf(buf + n, len - n, "%s%.0f", i ? " / " : "",
			      row->v[2] / 1024);
		ok = ok && row->v[2] <= LEFT_BEHIND_MAX && row->v[4] <= 0;
	}
	if (!n)
		snprintf(buf, len, "n/a");
	return ok;
}

static void print_pinned(const struct scale_results *r, char *buf,
			 size_t len)
{
	const struct scale_row *row = find_row(r, SK_LIFE, 256);

	if (!row || row->v[3] < 0)
		snprintf(buf, len, "n/a (no counter)");
	else
		snprintf(buf, len, "%.0f / %.0f", row->v[3], row->v[4]);
}

static void print_life(const struct scale_results *v,
		       const struct scale_results *k)
{
	char x[64], y[64];
	bool met;
	int i;

	for (i = 0; i < v->nrows[SK_LIFE]; i++) {
		print_life_time(v, k, v->row[SK_LIFE][i].param, 0);
		print_life_time(v, k, v->row[SK_LIFE][i].param, 1);
	}
	met = memory_back(v, x, sizeof(x));
	memory_back(k, y, sizeof(y));
	printf("%-4s %-47s %-22s %-22s %6s  <= %.0f KiB, none pinned: %s\n",
	       "10d", "  host memory not back after it, KiB", x, y, "",
	       LEFT_BEHIND_MAX / 1024, v->nrows[SK_LIFE] ? met ? "met" :
	       "MISSED" : "n/a");
	print_pinned(v, x, sizeof(x));
	print_pinned(k, y, sizeof(y));
	printf("%-4s %-47s %-22s %s\n", "10d",
	       "  pinned pages before / after it, 256 MiB", x, y);
}

void report_scale(const struct scale_results *v,
		  const struct scale_results *k)
{
	unsigned int i;

	printf("How cost grows (vmxlab-bench scale): emulated instructions per operation\n");
	printf("10a: vCPU threads' CPU time in TSC ticks / exits, every CPU kept busy\n");
	printf("     (whole VM's exits/s over the run at %.0f MHz);\n",
	       NOMINAL_HZ / 1e6);
	printf("10b, 10c: guest TSC, as rows 4b and 3a; 10d: host TSC\n");
	if (v->unavailable[0])
		printf("vmxlab: n/a: %s\n", v->unavailable);
	if (k->unavailable[0])
		printf("KVM: n/a: %s\n", k->unavailable);
	printf("\n%-4s %-47s %-22s %-22s %6s  %s\n", "#", "workload",
	       "vmxlab", "KVM", "ratio", "target (vmxlab)");
	for (i = 0; i < ARRAY_SIZE(sets); i++)
		print_set(&sets[i], v, k);
	print_life(v, k);
}
