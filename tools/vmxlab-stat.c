// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-stat: what every vmxlab VM on this machine is doing, as kvm_stat
 * shows it for KVM.  Reads only /sys/kernel/debug/vmxlab/<pid>-<fd>/stats
 * (vmx/stats.c), so it works for guests of any VMM, without its help.
 *
 *   vmxlab-stat               refresh once a second: exits per second by
 *                             reason, per VM and in total, and how a
 *                             shadow-paging VM's #PFs ended (Ctrl-C ends it)
 *   vmxlab-stat --once        the counters since each VM was created
 *   vmxlab-stat --json        the same as JSON, one object per line
 *                             (with --once: one object, then exit)
 *   vmxlab-stat --interval S  refresh every S seconds
 *
 * Needs debugfs mounted (mount -t debugfs none /sys/kernel/debug) and,
 * like debugfs itself, root.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uapi/linux/vmxlab.h>

#define STATS_DIR	"/sys/kernel/debug/vmxlab"
#define MAX_VMS		64
#define NR_REASONS	VMXLAB_NR_VMX_EXIT_REASONS

/* VMX basic exit reasons (SDM Vol. 3D, Appendix C) that have a name here. */
static const char *const reason_names[NR_REASONS] = {
	[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT",
	[2] = "TRIPLE_FAULT", [3] = "INIT", [4] = "SIPI",
	[7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW", [9] = "TASK_SWITCH",
	[10] = "CPUID", [11] = "GETSEC", [12] = "HLT", [13] = "INVD",
	[14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL",
	[19] = "VMCLEAR", [20] = "VMLAUNCH", [21] = "VMPTRLD",
	[22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME",
	[25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON",
	[28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO",
	[31] = "RDMSR", [32] = "WRMSR", [33] = "INVALID_STATE",
	[34] = "MSR_LOAD_FAIL", [36] = "MWAIT", [37] = "MONITOR_TRAP_FLAG",
	[39] = "MONITOR", [40] = "PAUSE", [41] = "MCE_DURING_ENTRY",
	[43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS",
	[46] = "GDTR_IDTR", [47] = "LDTR_TR", [48] = "EPT_VIOLATION",
	[49] = "EPT_MISCONFIG", [50] = "INVEPT", [51] = "RDTSCP",
	[52] = "PREEMPTION_TIMER", [53] = "INVVPID", [54] = "WBINVD",
	[55] = "XSETBV", [57] = "RDRAND", [58] = "INVPCID",
	[61] = "RDSEED", [63] = "XSAVES", [64] = "XRSTORS",
};

struct vm_stats {
	char name[64];			/* <pid>-<fd> */
	unsigned long long vcpus, pinned_pages, exits_to_userspace;
	unsigned long long failed_entries, injected_irqs, l1d_flushes;
	/* Shadow paging: how each intercepted guest #PF ended (paging.rst). */
	unsigned long long pf_resolved, pf_reflected, pf_mmio;
	unsigned long long exits[NR_REASONS];
};

static void reason_name(int reason, char *buf, size_t len)
{
	if (reason_names[reason])
		snprintf(buf, len, "%s", reason_names[reason]);
	else
		snprintf(buf, len, "reason_%d", reason);
}

/* Parse one VM's stats file; false if it went away meanwhile. */
static bool read_vm(const char *name, struct vm_stats *vm)
{
	char path[256], key[64];
	unsigned long long value;
	FILE *f;
	int r;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(path, sizeof(path), STATS_DIR "/%s/stats", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fscanf(f, "%63s %llu", key, &value) == 2) {
		if (sscanf(key, "exit_%d", &r) == 1 && r >= 0 && r < NR_REASONS)
			vm->exits[r] = value;
		else if (!strcmp(key, "vcpus"))
			vm->vcpus = value;
		else if (!strcmp(key, "pinned_pages"))
			vm->pinned_pages = value;
		else if (!strcmp(key, "exits_to_userspace"))
			vm->exits_to_userspace = value;
		else if (!strcmp(key, "failed_entries"))
			vm->failed_entries = value;
		else if (!strcmp(key, "injected_irqs"))
			vm->injected_irqs = value;
		else if (!strcmp(key, "l1d_flushes"))
			vm->l1d_flushes = value;
		else if (!strcmp(key, "pf_resolved"))
			vm->pf_resolved = value;
		else if (!strcmp(key, "pf_reflected"))
			vm->pf_reflected = value;
		else if (!strcmp(key, "pf_mmio"))
			vm->pf_mmio = value;
	}
	fclose(f);
	return true;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct vm_stats *)a)->name,
		      ((const struct vm_stats *)b)->name);
}

/* Every VM now; -1 when the statistics directory is missing. */
static int read_all(struct vm_stats *vms)
{
	struct dirent *d;
	DIR *dir = opendir(STATS_DIR);
	int n = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n < MAX_VMS)
		if (d->d_name[0] != '.' && read_vm(d->d_name, &vms[n]))
			n++;
	closedir(dir);
	qsort(vms, n, sizeof(vms[0]), cmp_name);
	return n;
}

static const struct vm_stats *find(const struct vm_stats *vms, int n,
				   const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(vms[i].name, name))
			return &vms[i];
	return NULL;
}

static unsigned long long total_exits(const struct vm_stats *vm)
{
	unsigned long long t = 0;
	int r;

	for (r = 0; r < NR_REASONS; r++)
		t += vm->exits[r];
	return t;
}

/* A counter now, or its increase per second since @before over @secs. */
static double value(unsigned long long now, unsigned long long before,
		    double secs)
{
	return secs ? (double)(now - before) / secs : (double)now;
}

/*
 * One VM as JSON: its counters (@secs 0), or their increase per second
 * over @secs since @prev (NULL: the VM is new, it started from 0).
 */
static void print_json_vm(const struct vm_stats *vm,
			  const struct vm_stats *prev, double secs, bool first)
{
	static const struct vm_stats zero;
	const struct vm_stats *p = prev ? prev : &zero;
	char name[32];
	bool comma = false;
	int r;

	printf("%s{\"vm\":\"%s\",\"vcpus\":%llu,\"pinned_pages\":%llu,",
	       first ? "" : ",", vm->name, vm->vcpus, vm->pinned_pages);
	printf("\"exits_to_userspace\":%.0f,\"failed_entries\":%.0f,",
	       value(vm->exits_to_userspace, p->exits_to_userspace, secs),
	       value(vm->failed_entries, p->failed_entries, secs));
	printf("\"injected_irqs\":%.0f,\"l1d_flushes\":%.0f,",
	       value(vm->injected_irqs, p->injected_irqs, secs),
	       value(vm->l1d_flushes, p->l1d_flushes, secs));
	printf("\"pf_resolved\":%.0f,\"pf_reflected\":%.0f,\"pf_mmio\":%.0f,",
	       value(vm->pf_resolved, p->pf_resolved, secs),
	       value(vm->pf_reflected, p->pf_reflected, secs),
	       value(vm->pf_mmio, p->pf_mmio, secs));
	printf("\"exits\":{");
	for (r = 0; r < NR_REASONS; r++) {
		if (!vm->exits[r])
			continue;
		reason_name(r, name, sizeof(name));
		printf("%s\"%s\":%.0f", comma ? "," : "", name,
		       value(vm->exits[r], p->exits[r], secs));
		comma = true;
	}
	printf("}}");
}

static void print_json(const struct vm_stats *vms, int n,
		       const struct vm_stats *prev, int nprev, double secs)
{
	int i;

	printf("{\"%s\":[", prev ? "rates_per_second" : "counters");
	for (i = 0; i < n; i++)
		print_json_vm(&vms[i], prev ? find(prev, nprev, vms[i].name) :
			      NULL, secs, i == 0);
	printf("]}\n");
	fflush(stdout);
}

/* One table row: a counter now, or its increase per second since @prev. */
static void print_row(const char *name, unsigned long long now,
		      unsigned long long before, double secs)
{
	printf("  %-22s %14.0f\n", name, value(now, before, secs));
}

/*
 * A shadow-paging VM's intercepted #PFs, by how they ended; an EPT VM
 * intercepts none, and gets no rows.
 */
static void print_pf_rows(const struct vm_stats *vm,
			  const struct vm_stats *p, double secs)
{
	if (!vm->pf_resolved && !vm->pf_reflected && !vm->pf_mmio)
		return;
	print_row("(#PF resolved)", vm->pf_resolved, p->pf_resolved, secs);
	print_row("(#PF reflected)", vm->pf_reflected, p->pf_reflected, secs);
	print_row("(#PF MMIO)", vm->pf_mmio, p->pf_mmio, secs);
}

/*
 * The table: one block per VM, its exits by reason, its exits to user
 * space and, with shadow paging, its #PFs.
 */
static void print_table(const struct vm_stats *vms, int n,
			const struct vm_stats *prev, int nprev, double secs)
{
	static const struct vm_stats zero;
	unsigned long long all = 0, d;
	const struct vm_stats *p;
	char name[32];
	int i, r;

	if (prev)
		printf("\033[H\033[2J");	/* top-like: clear the screen */
	printf("%-24s %14s  %s\n", "VM (pid-fd) / exit", prev ? "per second" :
	       "count", prev ? "" : "since the VM was created");
	for (i = 0; i < n; i++) {
		p = prev ? find(prev, nprev, vms[i].name) : NULL;
		printf("%-24s %14s  %llu vCPU(s), %llu pinned pages\n",
		       vms[i].name, "", vms[i].vcpus, vms[i].pinned_pages);
		for (r = 0; r < NR_REASONS; r++) {
			d = vms[i].exits[r] - (p ? p->exits[r] : 0);
			if (!vms[i].exits[r] || (prev && !d))
				continue;
			reason_name(r, name, sizeof(name));
			printf("  %-22s %14.0f\n", name,
			       prev ? d / secs : (double)d);
		}
		print_row("(to user space)", vms[i].exits_to_userspace,
			  p ? p->exits_to_userspace : 0, prev ? secs : 0);
		print_pf_rows(&vms[i], p ? p : &zero, prev ? secs : 0);
		all += total_exits(&vms[i]) - (p ? total_exits(p) : 0);
	}
	printf("%-24s %14.0f\n", "all VMs, all exits", prev ? all / secs :
	       (double)all);
	fflush(stdout);
}

static void help(FILE *f)
{
	fprintf(f, "Usage: vmxlab-stat [--once] [--json] [--interval SECONDS]\n");
}

int main(int argc, char **argv)
{
	static struct vm_stats a[MAX_VMS], b[MAX_VMS];
	struct vm_stats *now = a, *prev = b, *t;
	bool once = false, json = false;
	double interval = 1;
	int i, n, nprev;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--once"))
			once = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--interval") && i + 1 < argc)
			interval = atof(argv[++i]);
		else
			goto bad_usage;
	}
	if (interval <= 0)
		goto bad_usage;

	n = read_all(now);
	if (n < 0) {
		fprintf(stderr, "vmxlab-stat: %s: %s (is vmxlab loaded and debugfs mounted?)\n",
			STATS_DIR, strerror(errno));
		return 1;
	}
	if (once) {
		if (json)
			print_json(now, n, NULL, 0, 0);
		else
			print_table(now, n, NULL, 0, 0);
		return 0;
	}
	for (;;) {
		usleep(interval * 1e6);
		t = prev;
		prev = now;
		now = t;
		nprev = n;
		n = read_all(now);
		if (n < 0) {
			fprintf(stderr, "vmxlab-stat: %s went away\n", STATS_DIR);
			return 1;
		}
		if (json)
			print_json(now, n, prev, nprev, interval);
		else
			print_table(now, n, prev, nprev, interval);
	}

bad_usage:
	help(stderr);
	return 2;
}
