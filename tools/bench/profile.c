// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's profiler: one workload (workloads.c) run with the
 * kernel's tracing on, and the instructions between its trace events,
 * the tracing's own cost measured and taken out.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define TRACEFS		"/sys/kernel/debug/tracing"
#define MAX_EVENTS	262144
#define MAX_PERIOD	256

struct trace_event {
	long long ts;
	char name[64];
	double cost;			/* tracing overhead of this event */
};

static void tracefs_write(const char *file, const char *text)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	r = write_file(path, text);
	if (r)
		die("%s: %s", path, strerror(-r));
}

/* Opening with O_TRUNC empties the trace buffer, or removes all kprobes. */
static int tracefs_truncate(const char *file)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * The events this process recorded, from lines such as
 * "  vmxlab-bench-87  [000] .....  6847551715: vmxlab_exit: vcpu 0 reason 10 ...";
 * an exit event is named with its reason, "vmxlab_exit(10)".
 */
static int trace_read(struct trace_event *ev, int max)
{
	char line[512], comm[64], reason[24], *p;
	int n = 0, pid;
	FILE *f;

	f = open_proc(TRACEFS "/trace");
	while (fgets(line, sizeof(line), f) && n < max) {
		if (line[0] == '#' || sscanf(line, " %63s", comm) != 1)
			continue;
		p = strrchr(comm, '-');
		if (!p || sscanf(p + 1, "%d", &pid) != 1 || pid != getpid())
			continue;
		p = strstr(line, "]");
		if (!p || sscanf(p + 1, " %*s %lld: %39[^:]", &ev[n].ts,
				 ev[n].name) != 2)
			continue;
		p = strstr(p, " reason ");
		if (p && sscanf(p, " reason %23s", reason) == 1)
			snprintf(ev[n].name + strlen(ev[n].name), 24, "(%.21s)",
				 reason);
		n++;
	}
	fclose(f);
	return n;
}

/* The median figure of workload @w, one pass, @n iterations. */
static double profile_run(const struct run_opts *o, enum workload w,
			  struct scratch *sc)
{
	struct samples s[NR_WORKLOADS] = {};
	struct summary sum;

	run_pass(o, sc, s);
	summarize(&s[w], &sum);
	if (!sum.valid)
		die("profile: no figures for %s", workload_keys[w]);
	free(s[w].v);
	return sum.median;
}

/* Smallest p with the three runs of p event names before @end alike. */
static int trace_period(const struct trace_event *ev, int end)
{
	int p, i;

	for (p = 1; p <= MAX_PERIOD && 3 * p <= end; p++) {
		for (i = end - 2 * p; i < end; i++)
			if (strcmp(ev[i].name, ev[i - p].name))
				break;
		if (i == end)
			return p;
	}
	return 0;
}

/*
 * One period of the event sequence (a loop iteration of the guest),
 * starting after the backend's exit event: the median length of each
 * segment over the periods of the steady middle of the trace (its end is
 * the routine's way out), less half the tracing overhead of each end.
 * @partial: the workload times only part of the iteration (interrupts).
 */
static void print_segments(struct trace_event *ev, int n, const char *exit_ev,
			   double untraced, bool partial)
{
	static long long d[MAX_EVENTS / 2];
	int end = n - n / 8, p = trace_period(ev, end), start, j, k, m;
	double total = 0, seg;

	if (!p)
		die("profile: no repeating pattern in %d trace events", n);
	start = end - 2 * p;
	for (j = 0; j < p && strncmp(ev[start].name, exit_ev, strlen(exit_ev));
	     j++)
		start++;
	start -= p;
	printf("    %-32s %-32s %12s\n", "from", "to", "instructions");
	for (j = 0; j < p; j++) {
		for (m = 0, k = start + j; k >= 0 && k + 1 < n; k -= p) {
			if (strcmp(ev[k].name, ev[start + j].name) ||
			    strcmp(ev[k + 1].name, ev[start + j + 1].name))
				break;
			d[m++] = ev[k + 1].ts - ev[k].ts;
		}
		qsort(d, m, sizeof(d[0]), cmp_ll);
		seg = d[m / 2] - (ev[start + j].cost + ev[start + j + 1].cost) / 2;
		total += seg;
		printf("    %-32s %-32s %12.0f\n", ev[start + j].name,
		       ev[start + j + 1].name, seg);
	}
	printf("    %-65s %12.0f (%s %.0f)\n", "one loop iteration", total,
	       partial ? "the timed part of it:" : "timed without tracing:",
	       untraced);
}

/* Leave tracing as the kernel had it, also when the profile fails. */
static void profile_cleanup(void)
{
	write_file(TRACEFS "/events/enable", "0");
	tracefs_truncate("kprobe_events");
	write_file(TRACEFS "/trace_clock", "local");
	write_file(TRACEFS "/tracing_on", "1");
}

/* Turn kprobes "[MOD:]FUNC,..." into events of the group vmxlab_bench. */
static void add_probes(char *probes)
{
	char def[160], name[40], *tok, *save = NULL, *f;
	int fd, i;

	fd = open(TRACEFS "/kprobe_events", O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		die(TRACEFS "/kprobe_events: %s", strerror(errno));
	for (tok = strtok_r(probes, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		f = strchr(tok, ':') ? strchr(tok, ':') + 1 : tok;
		for (i = 0; f[i] && i < (int)sizeof(name) - 1; i++)
			name[i] = isalnum((unsigned char)f[i]) ? f[i] : '_';
		name[i] = '\0';
		snprintf(def, sizeof(def), "p:vmxlab_bench/%s %s\n", name, tok);
		if (write(fd, def, strlen(def)) < 0)
			die("kprobe '%s': %s", tok, strerror(errno));
	}
	close(fd);
}

/* The tracing overhead of each event: tracepoint or kprobe. */
static void set_costs(struct trace_event *ev, int n, const char *tp_prefix,
		      double cost_tp, double cost_kp)
{
	int i;

	for (i = 0; i < n; i++)
		ev[i].cost = strncmp(ev[i].name, tp_prefix, strlen(tp_prefix)) ?
			     cost_kp : cost_tp;
}

/* Run @w with the kernel tracing it; returns the median figure. */
static double profile_traced(const struct run_opts *o, enum workload w,
			     struct scratch *sc, struct trace_event *ev, int *n)
{
	double m;

	only = workload_keys[w];
	tracefs_truncate("trace");
	tracing_on_fd = open(TRACEFS "/tracing_on", O_WRONLY | O_CLOEXEC);
	if (tracing_on_fd < 0)
		die(TRACEFS "/tracing_on: %s", strerror(errno));
	m = profile_run(o, w, sc);
	close(tracing_on_fd);
	tracing_on_fd = -1;
	*n = trace_read(ev, MAX_EVENTS);
	return m;
}

/* Tracing as the profile wants it: off until a timed run, TSC clock. */
static void profile_setup(void)
{
	profile_cleanup();
	atexit(profile_cleanup);
	tracefs_write("tracing_on", "0");
	tracefs_write("trace_clock", "x86-tsc");
	tracefs_write("buffer_size_kb", "16384");
}

/*
 * What one event costs, measured on the CPUID loop, where every event
 * falls in the timed interval: traced minus untraced, per event.  Returns
 * a tracepoint's cost and sets @cost_kp to a kprobe's; leaves the
 * backend's tracepoints, and with @probes those kprobes, enabled.
 */
static double calibrate(const struct run_opts *o, struct scratch *sc,
			struct trace_event *ev, char *probes,
			double *cost_kp)
{
	bool kvm = o->be->kvm;
	char calib_probe[] = "vmxlab:vmx_handle_exit";
	char calib_probe_kvm[] = "kvm:kvm_emulate_cpuid";
	double plain, traced, cost_tp;
	int n;

	only = workload_keys[W_CPUID];
	plain = profile_run(o, W_CPUID, sc);

	tracefs_write(kvm ? "events/kvm/kvm_entry/enable" : "events/vmxlab/enable",
		      "1");
	if (kvm)
		tracefs_write("events/kvm/kvm_exit/enable", "1");
	traced = profile_traced(o, W_CPUID, sc, ev, &n);
	cost_tp = (traced - plain) / 2;
	*cost_kp = 0;
	if (probes) {
		add_probes(kvm ? calib_probe_kvm : calib_probe);
		tracefs_write("events/vmxlab_bench/enable", "1");
		*cost_kp = profile_traced(o, W_CPUID, sc, ev, &n) - traced;
		tracefs_write("events/vmxlab_bench/enable", "0");
		tracefs_truncate("kprobe_events");
		add_probes(probes);
		tracefs_write("events/vmxlab_bench/enable", "1");
	}
	return cost_tp;
}

/*
 * Instructions between trace events: the backend's entry and exit
 * tracepoints and, with --probes, kprobes at function entries, each
 * event's own cost (calibrate()) taken out.
 */
int cmd_profile(struct run_opts *o, enum workload w, char *probes)
{
	bool kvm = o->be->kvm;
	const char *tp = kvm ? "kvm_" : "vmxlab_";
	struct trace_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	double traced, cost_tp, cost_kp, untraced;
	struct scratch sc;
	int n;

	if (!ev)
		die("out of memory");
	scratch_alloc(&sc, o->iterations);

	profile_setup();
	only = workload_keys[w];
	untraced = profile_run(o, w, &sc);
	cost_tp = calibrate(o, &sc, ev, probes, &cost_kp);
	traced = profile_traced(o, w, &sc, ev, &n);
	fprintf(stdout,
		"profile: %s %s: %.0f instructions per operation (%.0f traced); one event costs %.0f (tracepoint), %.0f (kprobe), taken out below\n",
		o->be->name, workload_keys[w], untraced, traced, cost_tp,
		cost_kp);
	set_costs(ev, n, tp, cost_tp, cost_kp);
	print_segments(ev, n, kvm ? "kvm_exit" : "vmxlab_exit", untraced,
		       w == W_IRQ_OPEN || w == W_IRQ_STI);
	return 0;
}
