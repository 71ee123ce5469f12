// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's results files: one per backend, written by `run`, read
 * back for the report (report.c) and for `compare`, which checks that two
 * runs agree.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void write_mem(FILE *f, const char *scope, const struct mem_cost *c)
{
	int i;

	fprintf(f, "mem %s %.0f", scope, c->total);
	for (i = 0; i < MEMINFO_KEYS; i++)
		fprintf(f, " %.0f", c->meminfo[i]);
	fprintf(f, "\n");
	for (i = 0; i < c->ntop; i++)
		fprintf(f, "memtop %s %s %.0f\n", scope, c->top[i],
			c->top_bytes[i]);
}

/* The results file of one backend: what `report` and `compare` read. */
void write_results(FILE *f, const struct run_opts *o, struct samples *s,
		   const struct mem_cost *per_vm,
		   const struct mem_cost *per_vcpu)
{
	struct summary sum;
	int i, w;

	fprintf(f, "# vmxlab-bench results; stat: key n mean min median max pass-means\n");
	fprintf(f, "# steps: key single steps of the routine, of its baseline\n");
	fprintf(f, "backend %s\n", o->be->name);
	fprintf(f, "config %u %u %d\n", o->iterations, o->pages, o->passes);
	for (w = 0; w < NR_WORKLOADS; w++) {
		summarize(&s[w], &sum);
		if (!sum.valid)
			continue;
		fprintf(f, "stat %s %u %.3f %lld %lld %lld", workload_keys[w],
			sum.n, sum.mean, sum.min, sum.median, sum.max);
		for (i = 0; i < sum.passes; i++)
			fprintf(f, " %.3f", sum.pass_mean[i]);
		fprintf(f, "\n");
		if (s[w].steps[0] || s[w].steps[1])
			fprintf(f, "steps %s %llu %llu\n", workload_keys[w],
				(unsigned long long)s[w].steps[0],
				(unsigned long long)s[w].steps[1]);
	}
	write_mem(f, "vm", per_vm);
	write_mem(f, "vcpu", per_vcpu);
	write_exits_and_host(f, s);
}

static void parse_stat(struct results *r, const char *line)
{
	struct summary sum = { .valid = true };
	char key[32];
	int w, n, off, i;

	if (sscanf(line, "stat %31s %u %lf %lld %lld %lld%n", key, &sum.n,
		   &sum.mean, &sum.min, &sum.median, &sum.max, &off) != 6)
		return;
	w = workload_by_key(key);
	if (w < 0)
		return;
	for (i = 0; i < MAX_PASSES; i++) {
		if (sscanf(line + off, " %lf%n", &sum.pass_mean[i], &n) != 1)
			break;
		off += n;
	}
	sum.passes = i;
	r->stat[w] = sum;
}

/* "steps KEY ROUTINE BASELINE": absent from files older than row 8. */
static void parse_steps(struct results *r, const char *line)
{
	unsigned long long a, b;
	char key[32];
	int w;

	if (sscanf(line, "steps %31s %llu %llu", key, &a, &b) != 3)
		return;
	w = workload_by_key(key);
	if (w < 0)
		return;
	r->steps[w][0] = a;
	r->steps[w][1] = b;
}

static void parse_mem(struct results *r, const char *line)
{
	struct mem_cost *c;
	char scope[8], cache[32];
	double v[5];

	if (sscanf(line, "mem %7s %lf %lf %lf %lf %lf", scope, &v[0], &v[1],
		   &v[2], &v[3], &v[4]) == 6) {
		c = &r->mem[strcmp(scope, "vm") ? 1 : 0];
		c->total = v[0];
		memcpy(c->meminfo, &v[1], sizeof(c->meminfo));
		return;
	}
	if (sscanf(line, "memtop %7s %31s %lf", scope, cache, &v[0]) == 3) {
		c = &r->mem[strcmp(scope, "vm") ? 1 : 0];
		if (c->ntop < 4) {
			snprintf(c->top[c->ntop], sizeof(c->top[0]), "%s", cache);
			c->top_bytes[c->ntop++] = v[0];
		}
	}
}

void read_results_file(const char *path, char *backend, char *unavailable,
		       void (*parse)(void *ctx, const char *line), void *ctx)
{
	char line[512];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "backend %15s", backend) == 1)
			continue;
		if (sscanf(line, "unavailable %127[^\n]", unavailable) == 1)
			continue;
		parse(ctx, line);
	}
	fclose(f);
	if (!backend[0])
		die("%s: not a vmxlab-bench results file", path);
}

static void parse_results_line(void *ctx, const char *line)
{
	struct results *r = ctx;

	if (sscanf(line, "config %u %u %d", &r->iterations, &r->pages,
		   &r->passes) == 3)
		return;
	if (parse_exits_or_host(r, line))
		return;
	if (!strncmp(line, "stat ", 5))
		parse_stat(r, line);
	else if (!strncmp(line, "steps ", 6))
		parse_steps(r, line);
	else if (!strncmp(line, "mem", 3))
		parse_mem(r, line);
}

void load_results(const char *path, struct results *r)
{
	memset(r, 0, sizeof(*r));
	read_results_file(path, r->backend, r->unavailable,
			  parse_results_line, r);
}

/* --- comparing two runs ------------------------------------------------ */

static double rel_diff(double a, double b)
{
	double lo = a < b ? a : b;

	if (a == b)
		return 0;
	return lo > 0 ? 100 * (a > b ? a - b : b - a) / lo : 100;
}

/*
 * The repeatable figures of the report, old run against new one: means,
 * minima and memory.  Maxima are not: they are the operation that a host
 * timer tick happened to hit, and where ticks land moves between boots.
 * Names each figure that differs by more than @limit percent; returns
 * whether all agree within it.
 */
static bool compare_results(const struct results *old,
			    const struct results *cur, double limit,
			    double *worst, char *what, size_t len)
{
	const struct summary *a, *b;
	double d;
	int w, i;

	*worst = 0;
	snprintf(what, len, "-");
	for (w = 0; w < NR_WORKLOADS; w++) {
		a = &old->stat[w];
		b = &cur->stat[w];
		if (!a->valid || !b->valid)
			continue;
		d = rel_diff(a->mean, b->mean);
		if (rel_diff(a->min, b->min) > d)
			d = rel_diff(a->min, b->min);
		if (d > limit)
			printf("vmxlab-bench: %s %s: %.2f%% from the previous run\n",
			       cur->backend, workload_keys[w], d);
		if (d >= *worst) {
			*worst = d;
			snprintf(what, len, "%s %s", cur->backend,
				 workload_keys[w]);
		}
	}
	for (i = 0; i < 2; i++) {
		d = rel_diff(old->mem[i].total, cur->mem[i].total);
		if (d >= *worst) {
			*worst = d;
			snprintf(what, len, "%s memory per %s", cur->backend,
				 i ? "vCPU" : "VM");
		}
	}
	return *worst <= limit;
}

int cmd_compare(char **files)
{
	struct results old, cur;
	double worst, d;
	char what[64], w[64];
	bool ok = true;
	int i;

	worst = 0;
	snprintf(what, sizeof(what), "-");
	for (i = 0; i < 2; i++) {
		load_results(files[i], &old);
		load_results(files[i + 2], &cur);
		if (strcmp(old.backend, cur.backend))
			die("%s and %s are results of different backends",
			    files[i], files[i + 2]);
		if (old.iterations != cur.iterations ||
		    old.pages != cur.pages || old.passes != cur.passes) {
			printf("vmxlab-bench: the previous run had other settings: not compared\n");
			return 0;
		}
		ok = compare_results(&old, &cur, 1.0, &d, w, sizeof(w)) && ok;
		if (d >= worst) {
			worst = d;
			snprintf(what, sizeof(what), "%s", w);
		}
	}
	fprintf(stdout,
		"vmxlab-bench: against the previous run: means, minima and memory within %.2f%% (largest difference: %s): %s\n",
		worst, what, ok ? "agree within 1%" : "DIFFER by more than 1%");
	return ok ? 0 : 1;
}
