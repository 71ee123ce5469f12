// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench: one 64-bit guest, run through /dev/vmxlab and through KVM's
 * /dev/kvm, timed with RDTSC inside the guest.  `make bench` runs it in the
 * test VM (scripts/bench.sh); Documentation/performance.rst reads the table.
 * This file is the command line; bench.h says which file does what.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "scaling.h"

static const struct backend *const backends[] = {
	&backend_vmxlab, &backend_kvm, &backend_vmxlab_shadow,
	&backend_kvm_shadow,
};

noreturn void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vmxlab-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

int write_file(const char *path, const char *text)
{
	ssize_t len = strlen(text);
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		r = -EIO;
	close(fd);
	return r;
}

FILE *open_proc(const char *path)
{
	FILE *f = fopen(path, "re");

	if (!f)
		die("%s: %s", path, strerror(errno));
	return f;
}

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: vmxlab-bench run --backend BACKEND [--out FILE] [--iterations N]\n"
		"                        [--pages N] [--passes N] [--only WORKLOAD]\n"
		"       vmxlab-bench profile --backend BACKEND --only WORKLOAD\n"
		"                        [--iterations N] [--probes [MOD:]FUNC,...]\n"
		"       vmxlab-bench segments TRACE\n"
		"       vmxlab-bench report [--json] VMXLAB_RESULTS KVM_RESULTS\n"
		"                        [VMXLAB_SHADOW_RESULTS KVM_SHADOW_RESULTS]\n"
		"       vmxlab-bench compare OLD_VMXLAB OLD_KVM NEW_VMXLAB NEW_KVM\n"
		"       vmxlab-bench scale --backend BACKEND [--out FILE]\n"
		"       vmxlab-bench report-scale VMXLAB_SCALE KVM_SCALE\n"
		"\n"
		"run: measure one backend (in the test VM: /dev/vmxlab with vmxlab.ko\n"
		"loaded, or /dev/kvm with kvm_intel) and write its results.\n"
		"profile: instructions between the backend's entry and exit tracepoints\n"
		"(and kprobes at FUNC...), tracing overhead measured and taken out;\n"
		"their sum next to the untraced figure, FLAGGED when a segment is\n"
		"negative or the sum is more than 5%% off.\n"
		"segments: the same arithmetic on a saved trace whose '#' lines give\n"
		"the figures (tools/bench/tests/profile_test.sh); exit 1 if FLAGGED.\n"
		"report: the table of both backends, or the same as JSON; with the\n"
		"shadow backends' results too, the shadow-paging rows after it.\n"
		"BACKEND: vmxlab, kvm, vmxlab-shadow (VMXLAB_VM_SHADOW) or kvm-shadow\n"
		"(kvm_intel loaded with ept=0).\n"
		"compare: do two runs agree within 1%% on every figure?  Names those\n"
		"that do not.\n"
		"scale: how the costs grow with vCPUs, guest memory and memory slots,\n"
		"and VM creation and destruction; report-scale: that table, judged.\n");
}

static __u32 parse_count(const char *s, __u32 max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end || !v || v > max)
		die("bad count '%s' (1 to %u)", s, max);
	return v;
}

/* Options of run and profile. */
struct cli {
	struct run_opts o;
	const char *out;
	char *probes;
};

static void parse_opts(int argc, char **argv, struct cli *c)
{
	unsigned int i;
	int a;

	for (a = 0; a < argc; a++) {
		if (a + 1 >= argc)
			die("%s needs a value", argv[a]);
		if (!strcmp(argv[a], "--backend")) {
			a++;
			for (i = 0; i < ARRAY_SIZE(backends); i++)
				if (!strcmp(argv[a], backends[i]->name))
					c->o.be = backends[i];
			if (!c->o.be)
				die("unknown backend '%s'", argv[a]);
		} else if (!strcmp(argv[a], "--out")) {
			c->out = argv[++a];
		} else if (!strcmp(argv[a], "--iterations")) {
			c->o.iterations = parse_count(argv[++a], RESULTS_MAX);
		} else if (!strcmp(argv[a], "--pages")) {
			c->o.pages = parse_count(argv[++a], RESULTS_MAX);
		} else if (!strcmp(argv[a], "--passes")) {
			c->o.passes = parse_count(argv[++a], MAX_PASSES);
		} else if (!strcmp(argv[a], "--only")) {
			only = argv[++a];
			if (workload_by_key(only) < 0)
				die("unknown workload '%s'", only);
		} else if (!strcmp(argv[a], "--probes")) {
			c->probes = argv[++a];
		} else {
			die("unknown option '%s'", argv[a]);
		}
	}
	if (!c->o.be)
		die("--backend is required");
	if (c->o.iterations < WARMUP_ITERATIONS)
		die("at least %d iterations", WARMUP_ITERATIONS);
}

/* run: kernel memory first (nothing else ran in this boot), then passes. */
static int cmd_run(const struct run_opts *o, const char *out)
{
	static struct samples s[NR_WORKLOADS];
	struct mem_cost per_vm, per_vcpu;
	struct scratch sc;
	__u32 cap = o->iterations > o->pages ? o->iterations : o->pages;
	FILE *f = stdout;
	int i;

	scratch_alloc(&sc, cap);
	check_kvm_ept(o->be);
	memset(&per_vm, 0, sizeof(per_vm));
	memset(&per_vcpu, 0, sizeof(per_vcpu));
	if (!only) {
		fprintf(stderr, "vmxlab-bench: %s: kernel memory per VM and vCPU\n",
			o->be->name);
		measure_memory(o->be, &per_vm, &per_vcpu);
	}
	progress = true;
	for (i = 0; i < o->passes; i++) {
		fprintf(stderr, "vmxlab-bench: %s: pass %d of %d:", o->be->name,
			i + 1, o->passes);
		run_pass(o, &sc, s);
		fprintf(stderr, "\n");
	}
	progress = false;

	if (out) {
		f = fopen(out, "we");
		if (!f)
			die("%s: %s", out, strerror(errno));
	}
	write_results(f, o, s, &per_vm, &per_vcpu);
	if (f != stdout)
		fclose(f);
	return 0;
}

static int main_run(int argc, char **argv)
{
	struct cli c = {
		.o = { .iterations = 10000, .pages = 4096, .passes = 2 },
	};

	parse_opts(argc - 2, argv + 2, &c);
	return cmd_run(&c.o, c.out);
}

static int main_profile(int argc, char **argv)
{
	struct cli c = {
		.o = { .iterations = 200, .pages = 200, .passes = 1 },
	};

	parse_opts(argc - 2, argv + 2, &c);
	if (!only)
		die("profile: --only WORKLOAD is required");
	c.o.pages = c.o.iterations;
	return cmd_profile(&c.o, workload_by_key(only), c.probes);
}

static int main_scale(int argc, char **argv)
{
	struct cli c = {
		.o = { .iterations = WARMUP_ITERATIONS, .passes = 1 },
	};

	parse_opts(argc - 2, argv + 2, &c);
	return cmd_scale(c.o.be, c.out);
}

/* report-scale VMXLAB KVM: the "how cost grows" table. */
static int cmd_report_scale(char **files)
{
	static struct scale_results v, k;

	load_scale(files[0], &v);
	load_scale(files[1], &k);
	if (strcmp(v.backend, "vmxlab") || strcmp(k.backend, "kvm"))
		die("report-scale wants the vmxlab results, then KVM's");
	report_scale(&v, &k);
	return 0;
}

/* report [--json] VMXLAB KVM [VMXLAB_SHADOW KVM_SHADOW] */
static int cmd_report(int argc, char **argv)
{
	static struct results v, k, vs, ks;
	bool json = false, shadow;
	int a = 2;

	if (argc > a && !strcmp(argv[a], "--json")) {
		json = true;
		a++;
	}
	shadow = argc == a + 4;
	if (argc != a + 2 && !shadow) {
		print_help(stderr);
		return 2;
	}
	load_results(argv[a], &v);
	load_results(argv[a + 1], &k);
	if (strcmp(v.backend, "vmxlab") || strcmp(k.backend, "kvm"))
		die("report wants the vmxlab results, then KVM's");
	if (shadow) {
		load_results(argv[a + 2], &vs);
		load_results(argv[a + 3], &ks);
		if (strcmp(vs.backend, "vmxlab-shadow") ||
		    strcmp(ks.backend, "kvm-shadow"))
			die("report wants vmxlab-shadow's results, then kvm-shadow's");
	}
	if (json) {
		report_json(&v, &k, shadow ? &vs : NULL, &ks);
	} else {
		report_text(&v, &k);
		if (shadow)
			report_shadow_text(&v, &k, &vs, &ks);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_help(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return main_run(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "profile"))
		return main_profile(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "segments"))
		return cmd_segments(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "compare"))
		return cmd_compare(argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "scale"))
		return main_scale(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "report-scale"))
		return cmd_report_scale(argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return cmd_report(argc, argv);
	print_help(stderr);
	return 2;
}
