/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the main table (report.c) lends the shadow-paging rows
 * (report_shadow.c): its row titles and how both print a figure.
 */
#ifndef VMXLAB_BENCH_REPORT_H
#define VMXLAB_BENCH_REPORT_H

#include "bench.h"

const char *row_title(int w);
void fmt_summary(char *buf, size_t len, const struct summary *s);
void json_summary(const char *name, const struct summary *s,
		  const char *sep);
void report_shadow_json(const struct results *v, const struct results *k,
			const struct results *vs, const struct results *ks);

#endif
