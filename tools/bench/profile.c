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
#define KPROBE_LIST	"/sys/kernel/debug/kprobes/list"
#define MAX_EVENTS	262144
#define MAX_PERIOD	256
/* A profile whose segments add up to more than this off is flagged. */
#define SUM_TOLERANCE	0.05

/*
 * What the tracing costs, in instructions.  An event's cost is what one
 * more event of its kind adds to an iteration; part of it runs before
 * the event's timestamp is taken, the rest after.  Only where the two
 * parts differ between kinds does that matter: a segment from event A to
 * event B holds the part of A after its timestamp and the part of B
 * before its own.  The part before is taken as the same for every
 * tracepoint, and @kprobe_before is how much more a kprobe runs before
 * its timestamp than a tracepoint does (calibrate()).
 */
struct trace_costs {
	char entry_ev[16], exit_ev[16];	/* the backend's tracepoints */
	double entry, exit;		/* each tracepoint's cost */
	double kprobe;			/* a kprobe at a function's entry */
	double kprobe_before;
};

struct trace_event {
	long long ts;
	char name[64];
	double cost;			/* tracing overhead of this event */
	double before;			/* of it, more than a tracepoint's before */
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
 * The events of process @pid (any, if negative) in the trace @f, from
 * lines such as
 * "  vmxlab-bench-87  [000] .....  6847551715: vmxlab_exit: vcpu 0 reason 10 ...";
 * an exit event is named with its reason, "vmxlab_exit(10)".
 */
static int trace_parse(FILE *f, int pid, struct trace_event *ev, int max)
{
	char line[512], comm[64], reason[24], *p;
	int n = 0, id;

	while (fgets(line, sizeof(line), f) && n < max) {
		if (line[0] == '#' || sscanf(line, " %63s", comm) != 1)
			continue;
		p = strrchr(comm, '-');
		if (!p || sscanf(p + 1, "%d", &id) != 1 || (pid >= 0 && id != pid))
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
	return n;
}

static int trace_read(struct trace_event *ev, int max)
{
	FILE *f = open_proc(TRACEFS "/trace");
	int n = trace_parse(f, getpid(), ev, max);

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

/* Does a name in ev[from..to) begin with @first (or is there no @first)? */
static bool trace_holds(const struct trace_event *ev, int from, int to,
			const char *first)
{
	for (; first && from < to; from++)
		if (!strncmp(ev[from].name, first, strlen(first)))
			return true;
	return !first;
}

/*
 * Smallest p with the three runs of p event names before @end alike and
 * holding an event @first: a burst inside the iteration (the host
 * faulting in fault-around's neighbours, say) repeats too, but is not
 * the loop.
 */
static int trace_period(const struct trace_event *ev, int end,
			const char *first)
{
	int p, i;

	for (p = 1; p <= MAX_PERIOD && 3 * p <= end; p++) {
		for (i = end - 2 * p; i < end; i++)
			if (strcmp(ev[i].name, ev[i - p].name))
				break;
		if (i == end && trace_holds(ev, end - p, end, first))
			return p;
	}
	return 0;
}

/*
 * One period of the event sequence, a loop iteration of the guest, in the
 * steady middle of the trace (its end is the routine's way out): the
 * index of its first event, the first whose name begins with @first (or
 * any), and its length; 0 if none repeats.
 */
static int trace_steady_period(const struct trace_event *ev, int n,
			       const char *first, int *start)
{
	int end = n - n / 8, p = trace_period(ev, end, first), j;

	if (!p)
		return 0;
	*start = end - 2 * p;
	for (j = 0; j < p && first &&
	     strncmp(ev[*start].name, first, strlen(first)); j++)
		(*start)++;
	*start -= p;
	return p;
}

/*
 * The median number of instructions from event @i of a period to the
 * next, over every earlier period where the pair is the same.
 */
static long long segment_median(const struct trace_event *ev, int n, int p,
				int i)
{
	static long long d[MAX_EVENTS / 2];
	int k, m = 0;

	for (k = i; k >= 0 && k + 1 < n; k -= p) {
		if (strcmp(ev[k].name, ev[i].name) ||
		    strcmp(ev[k + 1].name, ev[i + 1].name))
			break;
		d[m++] = ev[k + 1].ts - ev[k].ts;
	}
	qsort(d, m, sizeof(d[0]), cmp_ll);
	return d[m / 2];
}

/*
 * A segment without its tracing: all of the first event's cost but the
 * part before its timestamp, and the part of the second before its own.
 */
static double segment_cost(const struct trace_event *a,
			   const struct trace_event *b, long long raw)
{
	return raw - (a->cost - a->before) - b->before;
}

/*
 * One period of the event sequence (a loop iteration of the guest),
 * starting after the backend's exit event: the median length of each
 * segment over the periods of the steady middle of the trace, its
 * tracing taken out (segment_cost()).  Their sum is the iteration, to be
 * compared with @untraced, the workload's figure without tracing: it
 * holds the few instructions of the guest's loop that the timing leaves
 * out, so a few percent apart.  @partial: the workload times only part
 * of the iteration (interrupts), nothing to compare.
 * Returns 0, or 1 when a segment is negative or the sum is off.
 */
static int print_segments(struct trace_event *ev, int n, const char *exit_ev,
			  double untraced, bool partial)
{
	int p, start, j, negative = 0, off;
	double total = 0, seg;

	p = trace_steady_period(ev, n, exit_ev, &start);
	if (!p)
		die("profile: no repeating pattern in %d trace events", n);
	printf("    %-32s %-32s %12s\n", "from", "to", "instructions");
	for (j = 0; j < p; j++) {
		seg = segment_cost(&ev[start + j], &ev[start + j + 1],
				   segment_median(ev, n, p, start + j));
		total += seg;
		negative += seg < -0.5;	/* prints as negative */
		printf("    %-32s %-32s %12.0f\n", ev[start + j].name,
		       ev[start + j + 1].name, seg);
	}
	off = !partial && (total - untraced > SUM_TOLERANCE * untraced ||
			  untraced - total > SUM_TOLERANCE * untraced);
	printf("    %-65s %12.0f (%s %.0f", "one loop iteration, the sum",
	       total, partial ? "the timed part of it:" :
				"timed without tracing:", untraced);
	if (partial)
		printf("; not compared)\n");
	else
		printf(", %+.1f%%)\n", 100 * (total - untraced) / untraced);
	if (negative)
		fprintf(stdout,
			"profile: FLAGGED: %d negative segment(s): the tracing's cost was not taken out right\n",
			negative);
	if (off)
		fprintf(stdout,
			"profile: FLAGGED: the segments add up to %.0f, not within %.0f%% of %.0f\n",
			total, 100 * SUM_TOLERANCE, untraced);
	if (!negative && !off)
		printf("profile: the segments are non-negative%s\n",
		       partial ? "" : " and add up to the untraced figure within 5%");
	return negative || off;
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

/*
 * The calibration is of kprobes at a function's first instruction, its
 * ftrace call; a kprobe elsewhere is an int3 breakpoint, which costs
 * something else.  Name those.
 */
static void check_probes_on_ftrace(void)
{
	static const char what[] =
		"profile: NOT ON FTRACE (their cost is not the calibrated one):";
	char line[256], where[128];
	FILE *f = fopen(KPROBE_LIST, "re");
	int n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, "[FTRACE]") &&
		    sscanf(line, "%*s %*s %127s", where) == 1)
			printf("%s %s", n++ ? "," : what, where);
	if (n)
		printf("\n");
	fclose(f);
}

/* Each event's tracing overhead, by its kind. */
static void set_costs(struct trace_event *ev, int n,
		      const struct trace_costs *c)
{
	int i;

	for (i = 0; i < n; i++) {
		ev[i].before = 0;
		if (!strncmp(ev[i].name, c->exit_ev, strlen(c->exit_ev))) {
			ev[i].cost = c->exit;
		} else if (!strcmp(ev[i].name, c->entry_ev)) {
			ev[i].cost = c->entry;
		} else {
			ev[i].cost = c->kprobe;
			ev[i].before = c->kprobe_before;
		}
	}
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

static void enable_event(const struct backend *be, const char *event)
{
	char file[96];

	snprintf(file, sizeof(file), "events/%s/%s/enable",
		 be->kvm ? "kvm" : "vmxlab", event);
	tracefs_write(file, "1");
}

/* Traced CPUID: the events in one iteration must be @want of them. */
static double calibrate_run(const struct run_opts *o, struct scratch *sc,
			    struct trace_event *ev, int want, int *n)
{
	double m = profile_traced(o, W_CPUID, sc, ev, n);
	int start, p = trace_steady_period(ev, *n, NULL, &start);

	if (p != want)
		die("profile: calibration: %d trace events per CPUID, %d expected",
		    p, want);
	return m;
}

/*
 * The instructions from vmxlab_exit's return to the first of
 * vmx_events_after_exit() (vmx_vcpu_run(): preempt count, branch, two
 * argument moves, the call, the ftrace call site), which the
 * calibration's segment between the two holds besides the tracing.
 */
#define EXIT_TO_EVENTS_AFTER_EXIT	6

/*
 * What each event costs, measured on the CPUID loop, where every event
 * falls in the timed interval: traced minus untraced.  First the exit
 * tracepoint alone, then the entry one too, then with @probes a kprobe
 * at a function vmx_vcpu_run() calls right after the exit tracepoint
 * (on KVM, at its CPUID handler): its cost, and from the segment between
 * the two how much more of it runs before its timestamp.  Leaves the
 * backend's two tracepoints, and with @probes those kprobes, enabled.
 * Only those two tracepoints: vmxlab's others (vmxlab_inject,
 * vmxlab_decision) would also turn on the exit log's record building.
 */
static void calibrate(const struct run_opts *o, struct scratch *sc,
		      struct trace_event *ev, char *probes,
		      struct trace_costs *c)
{
	bool kvm = o->be->kvm;
	char calib_probe[] = "vmxlab:vmx_events_after_exit";
	char calib_probe_kvm[] = "kvm:kvm_emulate_cpuid";
	double plain, one, two;
	int n, start;

	only = workload_keys[W_CPUID];
	plain = profile_run(o, W_CPUID, sc);
	enable_event(o->be, c->exit_ev);
	one = calibrate_run(o, sc, ev, 1, &n);
	enable_event(o->be, c->entry_ev);
	two = calibrate_run(o, sc, ev, 2, &n);
	c->exit = one - plain;
	c->entry = two - one;
	if (!probes)
		return;
	add_probes(kvm ? calib_probe_kvm : calib_probe);
	tracefs_write("events/vmxlab_bench/enable", "1");
	c->kprobe = calibrate_run(o, sc, ev, 3, &n) - two;
	/* On KVM nothing is known to sit right after a tracepoint: 0. */
	if (!kvm && trace_steady_period(ev, n, c->exit_ev, &start))
		c->kprobe_before = segment_median(ev, n, 3, start) -
				   EXIT_TO_EVENTS_AFTER_EXIT - c->exit;
	tracefs_write("events/vmxlab_bench/enable", "0");
	tracefs_truncate("kprobe_events");
	add_probes(probes);
	tracefs_write("events/vmxlab_bench/enable", "1");
	check_probes_on_ftrace();
}

/*
 * Instructions between trace events: the backend's entry and exit
 * tracepoints and, with --probes, kprobes at function entries, each
 * event's own cost (calibrate()) taken out.
 */
int cmd_profile(struct run_opts *o, enum workload w, char *probes)
{
	bool kvm = o->be->kvm;
	struct trace_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	struct trace_costs c = {};
	double traced, untraced;
	struct scratch sc;
	int n;

	if (!ev)
		die("out of memory");
	scratch_alloc(&sc, o->iterations);
	strcpy(c.entry_ev, kvm ? "kvm_entry" : "vmxlab_entry");
	strcpy(c.exit_ev, kvm ? "kvm_exit" : "vmxlab_exit");

	profile_setup();
	only = workload_keys[w];
	untraced = profile_run(o, w, &sc);
	calibrate(o, &sc, ev, probes, &c);
	traced = profile_traced(o, w, &sc, ev, &n);
	fprintf(stdout,
		"profile: %s %s: %.0f instructions per operation (%.0f traced); one event costs %.0f (%s), %.0f (%s), %.0f (kprobe, %+.0f of it before its timestamp), taken out below\n",
		o->be->name, workload_keys[w], untraced, traced, c.exit,
		c.exit_ev, c.entry, c.entry_ev, c.kprobe, c.kprobe_before);
	set_costs(ev, n, &c);
	print_segments(ev, n, c.exit_ev, untraced,
		       w == W_IRQ_OPEN || w == W_IRQ_STI ||
		       w == W_IRQ_STI_WINDOW);
	return 0;
}

/*
 * The arithmetic alone, on a saved trace (tools/bench/tests/): a tracefs
 * trace whose "#" lines give what cmd_profile() measures,
 *   # untraced N | # partial | # exit NAME C | # entry NAME C |
 *   # kprobe C BEFORE
 * Returns 1 when the profile is flagged.
 */
int cmd_segments(const char *path)
{
	struct trace_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	struct trace_costs c = {};
	double untraced = 0;
	bool partial = false;
	char line[256];
	FILE *f;
	int n;

	if (!ev)
		die("out of memory");
	f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) && line[0] == '#') {
		if (sscanf(line, "# untraced %lf", &untraced) == 1 ||
		    sscanf(line, "# exit %15s %lf", c.exit_ev, &c.exit) == 2 ||
		    sscanf(line, "# entry %15s %lf", c.entry_ev, &c.entry) == 2 ||
		    sscanf(line, "# kprobe %lf %lf", &c.kprobe,
			   &c.kprobe_before) == 2)
			continue;
		partial |= !strncmp(line, "# partial", 9);
	}
	rewind(f);
	n = trace_parse(f, -1, ev, MAX_EVENTS);
	fclose(f);
	if (!untraced || !c.exit_ev[0] || !c.entry_ev[0])
		die("%s: needs # untraced, # exit and # entry lines", path);
	set_costs(ev, n, &c);
	return print_segments(ev, n, c.exit_ev, untraced, partial);
}
