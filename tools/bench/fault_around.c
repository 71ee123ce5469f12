// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's rows for EPT fault-around (mmu/ept.c maps up to
 * ept_fault_around pages per EPT violation of a guest touching memory in
 * order): 4b again with the module parameter at 0, and 4c, fresh pages
 * touched in a scattered order, with it on and off.  Workloads.c runs
 * these after 4a/4b; the regions lie after region B, never populated.
 */
#include <string.h>

#include "bench.h"

#define FAULT_AROUND_PARAM	"/sys/module/vmxlab/parameters/ept_fault_around"
#define GUEST_MAPPED_END	0x40000000ULL	/* the guest's identity map: 1 GiB */
#define REGION_ALIGN		(2ULL << 20)

/* Pages 4c spreads its touches over: SCATTER_SPREAD x, a power of two. */
static __u64 scatter_span(__u64 pages)
{
	__u64 m = 1;

	while (m < SCATTER_SPREAD * pages)
		m <<= 1;
	return m;
}

/* Regions after B: 4b off, then 4c on and 4c off (both spread). */
static __u64 region_b_off(__u64 pages)
{
	return GPA_FAULT + (WARMUP_PAGES + 2 * pages) * PAGE_SIZE;
}

static __u64 region_c(__u64 pages, int off)
{
	__u64 c = region_b_off(pages) + pages * PAGE_SIZE;

	c = (c + REGION_ALIGN - 1) & ~(REGION_ALIGN - 1);
	return c + off * scatter_span(pages) * PAGE_SIZE;
}

/* 4c's regions only when the guest's page tables map them. */
static bool scatter_fits(__u64 pages)
{
	return region_c(pages, 2) <= GUEST_MAPPED_END;
}

/* Where guest memory must reach (guest_image.c's vm_create()). */
__u64 fault_around_mem_end(__u64 pages)
{
	if (scatter_fits(pages))
		return region_c(pages, 2);
	return region_b_off(pages) + pages * PAGE_SIZE;
}

static void set_fault_around(const char *value)
{
	if (write_file(FAULT_AROUND_PARAM, value))
		die("cannot write %s (vmxlab too old?)", FAULT_AROUND_PARAM);
}

/* The parameter as it is, to be put back. */
static void get_fault_around(char *buf, size_t len)
{
	FILE *f = open_proc(FAULT_AROUND_PARAM);

	if (!fgets(buf, len, f))
		die("%s: empty", FAULT_AROUND_PARAM);
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

/*
 * Row 4a (9a in a shadow VM) is one page per fault, as on KVM: with the
 * parameter at 0 while it runs, 9a and 4a compare fault with fault, and
 * fault-around shows in row 4b against 4b0.  Returns whether to resume.
 */
bool fault_around_pause(const struct run_opts *o, char *was, size_t len)
{
	if (o->be->kvm)
		return false;
	get_fault_around(was, len);
	set_fault_around("0");
	return true;
}

void fault_around_resume(const char *was)
{
	set_fault_around(was);
}

/* One timed run of @pages fresh pages through @routine, into @w. */
static void measure_pages(struct vcpu *v, const struct run_opts *o,
			  enum workload w, __u64 routine, __u64 region,
			  long long base, struct scratch *sc,
			  struct samples *s)
{
	__u32 i;

	if (!wanted(w))
		return;
	step(workload_keys[w]);
	run_routine(v, routine, o->pages, region, sc->raw, NULL);
	for (i = 0; i < o->pages; i++)
		sc->fig[i] = (long long)sc->raw[i] - base;
	samples_add_pass(&s[w], sc->fig, o->pages);
}

/*
 * 4c on every backend; on vmxlab, 4b and 4c again with fault-around off
 * (the parameter is put back as it was afterwards).
 */
void measure_fault_around(struct vcpu *v, const struct run_opts *o,
			  long long base, struct scratch *sc,
			  struct samples *s)
{
	bool vmxlab = !o->be->kvm;
	bool scatter = scatter_fits(o->pages);
	char was[16];

	if (!scatter)
		fprintf(stderr, " (4c: %u pages spread %d times do not fit below 1 GiB)",
			o->pages, SCATTER_SPREAD);
	if (scatter)
		measure_pages(v, o, W_EPT_SCATTER, GUEST_GPA(scatter),
			      region_c(o->pages, 0), base, sc, s);
	if (!vmxlab || (!wanted(W_EPT_ALLOC_OFF) && !wanted(W_EPT_SCATTER_OFF)))
		return;
	get_fault_around(was, sizeof(was));
	set_fault_around("0");
	measure_pages(v, o, W_EPT_ALLOC_OFF, GUEST_GPA(touch),
		      region_b_off(o->pages), base, sc, s);
	if (scatter)
		measure_pages(v, o, W_EPT_SCATTER_OFF, GUEST_GPA(scatter),
			      region_c(o->pages, 1), base, sc, s);
	set_fault_around(was);
}
