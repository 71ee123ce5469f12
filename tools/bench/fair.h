/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the report (report.c) asks fair.c before it prints a ratio: did
 * both backends take the same exits, where did they run, what differs.
 */
#ifndef VMXLAB_BENCH_FAIR_H
#define VMXLAB_BENCH_FAIR_H

#include "bench.h"

enum fair { FAIR_UNKNOWN, FAIR_SAME, FAIR_DIFFERENT };

enum fair fair_exits(const struct results *v, int w, const struct results *k,
		     int kw, double kvm_adjust, char *why, size_t len);
void fair_print_host(const struct results *v, const struct results *k);
void fair_json_host(const struct results *v, const struct results *k);
const char *fair_note(const char *id);
double fair_fault_around(const struct results *v, int w,
			 const struct results *k, int kw);
bool fair_some_exits(const struct results *v, const struct results *k);

/* Rows 5a and 5b with KVM's forced immediate exit taken out. */
struct irq_adjusted {
	double exit_cost;		/* KVM's cheapest exit, subtracted */
	double kvm;
	double ratio;
	enum fair fair;
	char why[200];
};

bool fair_irq_adjusted(const struct results *v, int w,
		       const struct results *k, int kw, int cheapest,
		       struct irq_adjusted *out);
void fair_json_irq(const struct results *v, int w, const struct results *k,
		   int kw, int cheapest);

#endif
