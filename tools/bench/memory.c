// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's kernel-memory figures: snapshots of the kernel's free
 * memory and slab caches around creating VMs and vCPUs on a backend,
 * for the results file (results.c) and rows 7a/7b of the report.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define MAX_CACHES	512

/*
 * Free memory counted exactly: the buddy allocator's free pages plus the
 * pages on the per-CPU lists (/proc/zoneinfo "count:"), which MemFree in
 * /proc/meminfo leaves out.  Slab pages per cache from /proc/slabinfo,
 * the kernel-side breakdown from /proc/meminfo.
 */
struct mem_snapshot {
	long long free_bytes;
	long long meminfo_kb[MEMINFO_KEYS];
	int ncaches;
	char cache[MAX_CACHES][32];
	long long cache_bytes[MAX_CACHES];
};

static const char *const meminfo_keys[MEMINFO_KEYS] = {
	"Slab", "KernelStack", "PageTables", "VmallocUsed",
};

static void snapshot(struct mem_snapshot *m)
{
	char line[512], name[64];
	long long val, slabs, pps;
	unsigned int i;
	FILE *f;

	memset(m, 0, sizeof(*m));
	f = open_proc("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < MEMINFO_KEYS; i++)
			if (sscanf(line, "%63[^:]: %lld", name, &val) == 2 &&
			    !strcmp(name, meminfo_keys[i]))
				m->meminfo_kb[i] = val;
	fclose(f);

	f = open_proc("/proc/slabinfo");
	while (fgets(line, sizeof(line), f) && m->ncaches < MAX_CACHES) {
		if (sscanf(line,
			   "%31s %*d %*d %*d %*d %lld : tunables %*d %*d %*d : slabdata %*d %lld",
			   m->cache[m->ncaches], &pps, &slabs) != 3)
			continue;
		m->cache_bytes[m->ncaches++] = slabs * pps * PAGE_SIZE;
	}
	fclose(f);

	f = open_proc("/proc/zoneinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nr_free_pages %lld", &val) == 1 ||
		    sscanf(line, " count: %lld", &val) == 1)
			m->free_bytes += val * PAGE_SIZE;
	fclose(f);
}

static void mem_diff(const struct mem_snapshot *a, const struct mem_snapshot *b,
		     int units, struct mem_cost *c)
{
	double grow[MAX_CACHES];
	int i, j, k;

	memset(c, 0, sizeof(*c));
	c->total = (double)(a->free_bytes - b->free_bytes) / units;
	for (i = 0; i < MEMINFO_KEYS; i++)
		c->meminfo[i] = (b->meminfo_kb[i] - a->meminfo_kb[i]) * 1024.0 /
				units;
	for (j = 0; j < b->ncaches; j++) {
		grow[j] = b->cache_bytes[j];
		for (i = 0; i < a->ncaches; i++)
			if (!strcmp(a->cache[i], b->cache[j]))
				grow[j] -= a->cache_bytes[i];
	}
	for (k = 0; k < 4; k++) {
		int best = -1;

		for (j = 0; j < b->ncaches; j++)
			if (grow[j] > 0 && (best < 0 || grow[j] > grow[best]))
				best = j;
		if (best < 0)
			break;
		snprintf(c->top[k], sizeof(c->top[k]), "%s", b->cache[best]);
		c->top_bytes[k] = grow[best] / units;
		grow[best] = 0;
		c->ntop++;
	}
}

/*
 * Memory per VM (MEM_VMS empty VMs) and per vCPU (MEM_VCPUS vCPUs in one
 * VM), before anything else ran in this boot.  The fd table is grown
 * beforehand so that it does not count.
 */
void measure_memory(const struct backend *be, struct mem_cost *per_vm,
		    struct mem_cost *per_vcpu)
{
	static struct mem_snapshot a, b;
	static struct vcpu vcpus[MEM_VCPUS];
	struct vm vms[MEM_VMS];
	int sys_fd, i, r;

	sys_fd = open(be->dev, O_RDWR | O_CLOEXEC);
	if (sys_fd < 0)
		die("%s: %s", be->dev, strerror(errno));
	/* Let frees deferred by the module load (RCU, workqueues) finish. */
	sleep(1);
	if (dup2(sys_fd, 255) < 0)
		die("dup2: %s", strerror(errno));
	close(255);

	snapshot(&a);
	for (i = 0; i < MEM_VMS; i++) {
		vms[i].be = be;
		vms[i].sys_fd = sys_fd;
		r = be->create_vm(&vms[i]);
		if (r)
			die("%s: create VM: %s", be->name, strerror(-r));
	}
	snapshot(&b);
	mem_diff(&a, &b, MEM_VMS, per_vm);

	snapshot(&a);
	for (i = 0; i < MEM_VCPUS; i++) {
		r = be->create_vcpu(&vms[0], i, &vcpus[i]);
		if (r)
			die("%s: create vCPU %d: %s", be->name, i, strerror(-r));
	}
	snapshot(&b);
	mem_diff(&a, &b, MEM_VCPUS, per_vcpu);

	for (i = 0; i < MEM_VCPUS; i++)
		close(vcpus[i].fd);
	for (i = 0; i < MEM_VMS; i++)
		close(vms[i].fd);
	close(sys_fd);
}
