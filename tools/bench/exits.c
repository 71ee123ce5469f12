// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's exit counts: how many exits each timed iteration took on
 * a backend, and where it ran (emulator, CPU, kernel command line), kept
 * in the results file so that the report (fair.c) compares like with like.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* VMXLAB_EXIT_* and KVM_EXIT_* agree on these (uapi/linux/vmxlab.h). */
#define RUN_EXIT_IO		2
#define RUN_EXIT_HLT		5
#define RUN_EXIT_MMIO		6
#define RUN_EXIT_IRQ_WINDOW	7

/* The timed runs since the last exits_take(). */
static struct exit_counts pending;
static __u64 hw_before, extint_before;
static bool hw_ok;

/* Called by a backend's run for every return of its RUN ioctl. */
void count_user_exit(struct vcpu *v, __u32 reason)
{
	switch (reason) {
	case RUN_EXIT_IO:
		v->user_exits[XC_IO]++;
		break;
	case RUN_EXIT_MMIO:
		v->user_exits[XC_MMIO]++;
		break;
	case RUN_EXIT_HLT:
		v->user_exits[XC_HLT]++;
		break;
	case RUN_EXIT_IRQ_WINDOW:
		v->user_exits[XC_IRQ_WINDOW]++;
		break;
	default:
		v->user_exits[XC_USER_OTHER]++;
		break;
	}
}

void exits_begin(struct vcpu *v)
{
	memset(v->user_exits, 0, sizeof(v->user_exits));
	hw_ok = !v->vm->be->hw_exits(v, &hw_before, &extint_before);
}

/*
 * After a timed run: what is not an external interrupt and did not come
 * back to userspace was handled in the kernel.  The HLT that ends the
 * routine belongs to no iteration.
 */
void exits_end(struct vcpu *v)
{
	__u64 hw, extint, user = 0;
	int i;

	if (!hw_ok || v->vm->be->hw_exits(v, &hw, &extint)) {
		hw_ok = false;
		return;
	}
	hw -= hw_before;
	extint -= extint_before;
	for (i = 0; i < XC_KERNEL; i++) {
		pending.n[i] += v->user_exits[i];
		user += v->user_exits[i];
	}
	pending.n[XC_KERNEL] += hw - extint - user;
	if (pending.n[XC_HLT])
		pending.n[XC_HLT]--;
	pending.extint += extint;
	pending.valid = true;
}

/*
 * A workload's @n figures are added: the exits of the timed runs since
 * the last figures go with them.  Those runs are the workload's, and the
 * timing baseline's empty routine or loop5's second run, which take no
 * exits: @n, not the runs' iterations, is what the counts are per.
 */
void exits_take(struct exit_counts *c, __u32 n)
{
	int i;

	if (pending.valid) {
		c->valid = true;
		c->iterations += n;
		c->extint += pending.extint;
		for (i = 0; i < NR_EXIT_CATS; i++)
			c->n[i] += pending.n[i];
	}
	memset(&pending, 0, sizeof(pending));
}

/* --- in the results file ----------------------------------------------- */

/* The first line of /proc/cpuinfo that starts with @key, its value. */
static void cpuinfo_value(const char *key, char *buf, size_t len)
{
	char line[256], *p;
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		p = strchr(line, ':');
		if (strncmp(line, key, strlen(key)) || !p)
			continue;
		p += strspn(p + 1, " ") + 1;
		p[strcspn(p, "\n")] = 0;
		snprintf(buf, len, "%s", p);
		break;
	}
	fclose(f);
}

static void write_host(FILE *f)
{
	const char *emulator = getenv("VMXLAB_EMULATOR");
	char buf[256] = "unknown";
	FILE *c;

	fprintf(f, "host emulator %s\n", emulator && *emulator ? emulator :
		"unknown (VMXLAB_EMULATOR not set)");
	cpuinfo_value("model name", buf, sizeof(buf));
	fprintf(f, "host cpu %s\n", buf);
	c = fopen("/proc/cmdline", "re");
	if (!c || !fgets(buf, sizeof(buf), c))
		snprintf(buf, sizeof(buf), "unknown");
	if (c)
		fclose(c);
	buf[strcspn(buf, "\n")] = 0;
	fprintf(f, "host cmdline %s\n", buf);
}

/*
 * "exits KEY ITERATIONS EXTINT IO MMIO HLT IRQ_WINDOW USER_OTHER KERNEL":
 * totals over every timed iteration of every pass.
 */
void write_exits_and_host(FILE *f, const struct samples *s)
{
	const struct exit_counts *c;
	int w, i;

	write_host(f);
	for (w = 0; w < NR_WORKLOADS; w++) {
		c = &s[w].exits;
		if (!c->valid)
			continue;
		fprintf(f, "exits %s %llu %llu", workload_keys[w],
			c->iterations, c->extint);
		for (i = 0; i < NR_EXIT_CATS; i++)
			fprintf(f, " %llu", c->n[i]);
		fprintf(f, "\n");
	}
}

static void parse_exits(struct results *r, const char *line)
{
	struct exit_counts c = { .valid = true };
	char key[32];
	int w;

	if (sscanf(line, "exits %31s %llu %llu %llu %llu %llu %llu %llu %llu",
		   key, &c.iterations, &c.extint, &c.n[XC_IO], &c.n[XC_MMIO],
		   &c.n[XC_HLT], &c.n[XC_IRQ_WINDOW], &c.n[XC_USER_OTHER],
		   &c.n[XC_KERNEL]) != 9 || !c.iterations)
		return;
	w = workload_by_key(key);
	if (w >= 0)
		r->exits[w] = c;
}

/* A line of exit counts or of the host: whether it was one. */
bool parse_exits_or_host(struct results *r, const char *line)
{
	if (!strncmp(line, "exits ", 6)) {
		parse_exits(r, line);
		return true;
	}
	if (sscanf(line, "host emulator %31[^\n]", r->emulator) == 1 ||
	    sscanf(line, "host cpu %95[^\n]", r->cpu) == 1 ||
	    sscanf(line, "host cmdline %255[^\n]", r->cmdline) == 1)
		return true;
	return !strncmp(line, "host ", 5);
}
