/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmxlab-bench's "how cost grows" table: `scale` measures it on one
 * backend (scaling.c), `report-scale` reads two files and judges whether
 * each cost stays flat as the work grows (report_scaling.c).
 */
#ifndef VMXLAB_BENCH_SCALING_H
#define VMXLAB_BENCH_SCALING_H

#include "bench.h"

/*
 * The four sets of rows.  Each row is "scale KIND PARAM V0 ... V6" in
 * the results file (V5 and V6 may be missing: 0); what they hold:
 *
 *   vcpus  PARAM vCPU threads: host TSC ticks over the whole run, CPUID
 *          exits handled in the kernel, host CPUs kept busy (a burner
 *          on each), CPUIDs executed, external interrupts, the median
 *          of the guest's own deltas around one CPUID, and the CPU time
 *          the vCPU threads consumed in ns (CLOCK_THREAD_CPUTIME_ID)
 *   fault  PARAM MiB touched once: pages, mean guest ticks per page,
 *          exits (the HLT left out), external interrupts, -
 *   mmio   PARAM memory slots in use: iterations, mean guest ticks per
 *          MMIO store, exits, external interrupts, -
 *   life   PARAM MiB faulted in: host ticks to create the VM (and its
 *          vCPU), to destroy it (close the fds, unmap guest memory),
 *          bytes of host memory not back after it, pinned pages before
 *          destruction and after (-1: the backend has no counter)
 */
enum scale_kind { SK_VCPUS, SK_FAULT, SK_MMIO, SK_LIFE, NR_SCALE_KINDS };

#define SCALE_MAX_ROWS		8
#define SCALE_VALUES		7

struct scale_row {
	unsigned int param;
	double v[SCALE_VALUES];
};

struct scale_results {
	char backend[16];
	char unavailable[128];
	int nrows[NR_SCALE_KINDS];
	struct scale_row row[NR_SCALE_KINDS][SCALE_MAX_ROWS];
};

extern const char *const scale_kind_keys[NR_SCALE_KINDS];

/* Each row's cost per operation, the figure that must stay flat. */
double scale_cost(enum scale_kind kind, const struct scale_row *r);

void scale_add(struct scale_results *r, enum scale_kind kind,
	       unsigned int param, const double *v);
void write_scale(FILE *f, const struct scale_results *r);
void load_scale(const char *path, struct scale_results *r);
void report_scale(const struct scale_results *v,
		  const struct scale_results *k);

int cmd_scale(const struct backend *be, const char *out);

#endif
