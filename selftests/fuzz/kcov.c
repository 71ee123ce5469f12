// SPDX-License-Identifier: GPL-2.0
/*
 * Coverage of vmxlab.ko through KCOV, for vmxlab_fuzz (the debug kernel of
 * scripts/debug-kernel.sh has CONFIG_KCOV; Debian's kernel has not).
 *
 * KCOV is per thread, the way syzkaller uses it: after KCOV_ENABLE every
 * basic block the kernel runs on behalf of this thread appends its PC to a
 * shared buffer (Documentation/dev-tools/kcov.rst).  The fuzzer resets the
 * buffer before each operation and hands the PCs to kcov_collect(), which
 * keeps those inside vmxlab.ko: a PC set (which functions ran) and an edge
 * bitmap (prev PC -> PC, hashed, as syzkaller does), and says how many
 * edges were new.  The module's functions and their addresses come from
 * /proc/kallsyms (root sees them); PCs need no relocation because the VM
 * boots with nokaslr.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kcov.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KCOV_INIT_TRACE	_IOR('c', 1, unsigned long)
#define KCOV_ENABLE	_IO('c', 100)
#define KCOV_TRACE_PC	0

#define COVER_WORDS	0x100000UL	/* 8 MiB of PCs per operation */
#define EDGE_BITS	0x400000UL	/* a power of two */
#define PC_SLOTS	0x10000UL	/* a power of two */

struct func {
	unsigned long start;
	bool counted;		/* one of the module's own functions */
	char name[128];
};

/*
 * Symbols that are text but not a function of vmxlab's to reach: the
 * compiler's .cold parts and constructors, tracepoint boilerplate, and
 * static-call trampolines.  They stay in the table, so that their PCs
 * are not taken for the function before them, but are not counted.
 */
static bool counted(const char *name)
{
	static const char *const prefix[] = {
		"_sub_I_", "_sub_D_", "__SCT__", "__traceiter_", "perf_trace_",
		"trace_event_raw_event_", "trace_raw_output_",
	};
	size_t i, len = strlen(name);

	if (len > 5 && !strcmp(name + len - 5, ".cold"))
		return false;
	for (i = 0; i < ARRAY_SIZE(prefix); i++)
		if (!strncmp(name, prefix[i], strlen(prefix[i])))
			return false;
	return true;
}

static unsigned long *cover;
static struct func *funcs;
static size_t nr_funcs;
static unsigned long mod_lo, mod_hi;	/* [lo, hi): vmxlab's text */
static unsigned char edges[EDGE_BITS / 8];
static unsigned long pcs[PC_SLOTS];	/* open addressing, 0 = empty */
static unsigned long nr_pcs, nr_edges;

static int by_start(const void *a, const void *b)
{
	const struct func *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* vmxlab's text symbols, sorted; false if the module is not loaded. */
static bool load_symbols(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256], name[128], mod[64], type;
	unsigned long addr;
	size_t cap = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %127s [%63[^]]]", &addr, &type, name,
			   mod) != 4 || strcmp(mod, "vmxlab") ||
		    (type != 't' && type != 'T') || !addr)
			continue;
		if (nr_funcs == cap) {
			cap = cap ? 2 * cap : 512;
			funcs = realloc(funcs, cap * sizeof(*funcs));
			if (!funcs)
				exit(2);
		}
		funcs[nr_funcs].start = addr;
		funcs[nr_funcs].counted = counted(name);
		snprintf(funcs[nr_funcs].name, sizeof(funcs[0].name), "%s", name);
		nr_funcs++;
	}
	fclose(f);
	if (!nr_funcs)
		return false;
	qsort(funcs, nr_funcs, sizeof(*funcs), by_start);
	mod_lo = funcs[0].start;
	/* The last function's end is not in kallsyms: allow it 64 KiB. */
	mod_hi = funcs[nr_funcs - 1].start + 0x10000;
	return true;
}

bool kcov_open(void)
{
	int fd = open("/sys/kernel/debug/kcov", O_RDWR);

	if (fd < 0)
		return false;
	if (!load_symbols()) {
		fprintf(stderr, "kcov: no vmxlab symbols in /proc/kallsyms\n");
		close(fd);
		return false;
	}
	if (ioctl(fd, KCOV_INIT_TRACE, COVER_WORDS))
		goto fail;
	cover = mmap(NULL, COVER_WORDS * sizeof(unsigned long),
		     PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED)
		goto fail;
	if (ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC))
		goto fail;
	/* The fd stays open: closing it would end the trace. */
	return true;
fail:
	perror("kcov");
	close(fd);
	cover = NULL;
	return false;
}

void kcov_start(void)
{
	if (cover)
		__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
}

static bool add_pc(unsigned long pc)
{
	unsigned long i = (pc * 0x9e3779b97f4a7c15UL) >> 48;

	for (;; i = (i + 1) & (PC_SLOTS - 1)) {
		if (pcs[i] == pc)
			return false;
		if (!pcs[i])
			break;
	}
	if (nr_pcs >= PC_SLOTS - 1)	/* full: count no more */
		return false;
	pcs[i] = pc;
	nr_pcs++;
	return true;
}

unsigned long kcov_collect(void)
{
	unsigned long n, k, pc, prev = 0, e, fresh = 0;

	if (!cover)
		return 0;
	n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
	if (n > COVER_WORDS - 1)
		n = COVER_WORDS - 1;
	for (k = 1; k <= n; k++) {
		pc = cover[k];
		if (pc < mod_lo || pc >= mod_hi)
			continue;
		add_pc(pc);
		e = ((prev * 0x9e3779b97f4a7c15UL) ^ pc) & (EDGE_BITS - 1);
		if (!(edges[e / 8] & (1 << (e % 8)))) {
			edges[e / 8] |= 1 << (e % 8);
			nr_edges++;
			fresh++;
		}
		prev = pc;
	}
	return fresh;
}

/* The function a PC is in: the last one that starts at or below it. */
static struct func *func_of(unsigned long pc)
{
	size_t lo = 0, hi = nr_funcs;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (funcs[mid].start <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return funcs[lo].start <= pc ? &funcs[lo] : NULL;
}

size_t kcov_report(FILE *out, bool list_uncovered)
{
	unsigned char *hit;
	size_t i, covered = 0, total = 0;
	struct func *f;

	if (!cover)
		return 0;
	hit = calloc(nr_funcs, 1);
	if (!hit)
		return 0;
	for (i = 0; i < PC_SLOTS; i++) {
		f = pcs[i] ? func_of(pcs[i]) : NULL;
		if (f)
			hit[f - funcs] = 1;
	}
	for (i = 0; i < nr_funcs; i++) {
		total += funcs[i].counted;
		covered += funcs[i].counted && hit[i];
	}
	fprintf(out, "vmxlab_fuzz: coverage: %zu of %zu functions of vmxlab.ko (%.0f%%), ",
		covered, total, total ? 100.0 * covered / total : 0.0);
	fprintf(out, "%lu PCs, %lu edges\n", nr_pcs, nr_edges);
	if (list_uncovered) {
		fprintf(out, "vmxlab_fuzz: never reached:");
		for (i = 0; i < nr_funcs; i++)
			if (funcs[i].counted && !hit[i])
				fprintf(out, " %s", funcs[i].name);
		fprintf(out, "\n");
	}
	free(hit);
	return covered;
}
