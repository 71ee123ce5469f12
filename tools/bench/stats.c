// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's statistics: the figures of a workload over every pass
 * (workloads.c adds them) summarized for the results file (results.c).
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void samples_add_pass(struct samples *s, const long long *v, __u32 n)
{
	double sum = 0;
	__u32 i;

	if (s->n + n > s->cap) {
		s->cap = s->n + n;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	for (i = 0; i < n; i++) {
		s->v[s->n++] = v[i];
		sum += v[i];
	}
	if (s->passes < MAX_PASSES)
		s->pass_mean[s->passes++] = n ? sum / n : 0;
	exits_take(&s->exits, n);
}

int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

void summarize(struct samples *s, struct summary *sum)
{
	double total = 0;
	__u32 i;

	memset(sum, 0, sizeof(*sum));
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_ll);
	for (i = 0; i < s->n; i++)
		total += s->v[i];
	sum->valid = true;
	sum->n = s->n;
	sum->mean = total / s->n;
	sum->min = s->v[0];
	sum->median = s->v[s->n / 2];
	sum->max = s->v[s->n - 1];
	sum->passes = s->passes;
	memcpy(sum->pass_mean, s->pass_mean, sizeof(sum->pass_mean));
}
