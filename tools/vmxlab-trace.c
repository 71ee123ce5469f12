// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-trace: run a small guest with the vCPU's exit log on and say, for
 * every round trip, what the exit was and what vmxlab decided
 * (Documentation/tracing.rst).  `demo` runs the guests of trace/demos.S,
 * one exit kind each; `run FILE` runs yours.  The words are in
 * trace/explain.c, indexed by the uapi's enum vmxlab_decision.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "trace/demos.h"
#include "trace/explain.h"
#include "trace/load.h"

#define LOG_RECORDS		4096	/* the ring: VMXLAB_MAX_EXIT_LOG */
#define RUN_RAM_SIZE		(16ULL << 20)
#define REAL_MODE_LOAD		0x7c00ULL
#define DEFAULT_MAX_EXITS	100000ULL

/* The JSON objects other than records (trace/explain.c writes those). */
#define JSON_STEP	"{\"type\":\"step\",\"cause\":\"%s\",\"rip\":%llu,\"pending_dbg\":%llu,\"insn\":\"%s\"}"
#define JSON_COUNT	"{\"type\":\"count\",\"reason\":\"%s\",\"decision\":\"%s\",\"count\":%llu}"
#define JSON_SUMMARY	"{\"type\":\"summary\",\"records\":%llu,\"lost\":%llu,\"stats_match\":%s}"

static const char usage_text[] =
"usage: vmxlab-trace [OPTIONS] demo [NAME...]\n"
"       vmxlab-trace [OPTIONS] run FILE [--mode long|prot32|real]\n"
"                    [--load ADDR] [--entry ADDR]\n"
"options: --shadow --step --summary --json --max-exits N\n"
"demo names:";

struct opts {
	bool shadow, step, summary, json;
	unsigned long long max_exits;
	enum guest_mode mode;
	bool have_load, have_entry;
	__u64 load, entry;
};

/* One VM with one vCPU, and what the run has seen so far. */
struct trace {
	const struct opts *o;
	int sys_fd, vm_fd, fd;
	struct vmxlab_run *run;
	size_t run_size;
	unsigned char *mem, *slot1;
	__u64 mem_size;
	struct vmxlab_exit_log *log;
	unsigned long long records, lost;
	__u64 counts[VMXLAB_NR_VMX_EXIT_REASONS][VMXLAB_NR_DECISIONS];
	__u64 failed_entries;
	struct vmxlab_vcpu_stats stats0;
	bool at_bol;			/* stdout is at the start of a line */
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vmxlab-trace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	if (ioctl(fd, req, arg) < 0)
		die("%s: %s", what, strerror(errno));
}

/* A line of the trace: after the guest's output, on a line of its own. */
static void line(struct trace *t, const char *text)
{
	printf("%s%s\n", t->at_bol ? "" : "\n", text);
	t->at_bol = true;
}

/* --- the VM ------------------------------------------------------------ */

static void set_slot(struct trace *t, __u32 slot, __u64 gpa, __u64 size,
		     void *hva)
{
	struct vmxlab_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	xioctl(t->vm_fd, VMXLAB_SET_MEMORY_REGION, &r, "SET_MEMORY_REGION");
}

static void *guest_ram(__u64 size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("guest memory: %s", strerror(errno));
	return p;
}

static void set_cpuid(struct trace *t)
{
	struct guest_cpuid_leaf l[GUEST_CPUID_LEAVES];
	struct {
		struct vmxlab_cpuid c;
		struct vmxlab_cpuid_entry e[GUEST_CPUID_LEAVES];
	} cpuid = { 0 };
	int i, n = guest_cpuid(l);

	cpuid.c.nent = n;
	for (i = 0; i < n; i++) {
		cpuid.e[i].function = l[i].function;
		cpuid.e[i].eax = l[i].eax;
		cpuid.e[i].ebx = l[i].ebx;
		cpuid.e[i].ecx = l[i].ecx;
		cpuid.e[i].edx = l[i].edx;
	}
	xioctl(t->fd, VMXLAB_SET_CPUID, &cpuid, "SET_CPUID");
}

/* A VM of @t->mem_size bytes of RAM at 0, one vCPU in @mode. */
static void vm_create(struct trace *t, bool shadow, enum guest_mode mode)
{
	struct vmxlab_sregs s;
	int size;

	t->sys_fd = open("/dev/vmxlab", O_RDWR | O_CLOEXEC);
	if (t->sys_fd < 0)
		die("/dev/vmxlab: %s (is vmxlab.ko loaded?)", strerror(errno));
	t->vm_fd = ioctl(t->sys_fd, VMXLAB_CREATE_VM,
			 shadow ? VMXLAB_VM_SHADOW : VMXLAB_VM_EPT);
	if (t->vm_fd < 0)
		die("CREATE_VM: %s", strerror(errno));
	set_slot(t, 0, 0, t->mem_size, t->mem);
	t->fd = ioctl(t->vm_fd, VMXLAB_CREATE_VCPU, 0);
	if (t->fd < 0)
		die("CREATE_VCPU: %s", strerror(errno));
	size = ioctl(t->sys_fd, VMXLAB_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		die("GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	t->run_size = size;
	t->run = mmap(NULL, t->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      t->fd, 0);
	if (t->run == MAP_FAILED)
		die("mmap of the run page: %s", strerror(errno));
	set_cpuid(t);
	xioctl(t->fd, VMXLAB_GET_SREGS, &s, "GET_SREGS");
	guest_mode_sregs(&s, mode);
	xioctl(t->fd, VMXLAB_SET_SREGS, &s, "SET_SREGS");
	t->log = calloc(1, sizeof(*t->log) +
			LOG_RECORDS * sizeof(struct vmxlab_exit_record));
	if (!t->log)
		die("out of memory");
}

static void vm_destroy(struct trace *t)
{
	munmap(t->run, t->run_size);
	close(t->fd);
	close(t->vm_fd);
	close(t->sys_fd);
	munmap(t->mem, t->mem_size);
	if (t->slot1)
		munmap(t->slot1, DEMO_SLOT1_SIZE);
	free(t->log);
}

static void set_entry(struct trace *t, __u64 rip, __u64 rsp, __u64 rdi,
		      __u64 rsi, __u64 rdx)
{
	struct vmxlab_regs r = {
		.rip = rip, .rsp = rsp, .rdi = rdi, .rsi = rsi, .rdx = rdx,
		.rflags = 2,
	};

	xioctl(t->fd, VMXLAB_SET_REGS, &r, "SET_REGS");
}

/* --- the log ----------------------------------------------------------- */

static void print_record(struct trace *t, const struct vmxlab_exit_record *r,
			 const struct vmxlab_exit_record *next)
{
	unsigned int basic = r->exit_reason & 0xffff;
	char buf[1024];

	if (r->exit_reason & (1U << 31))
		t->failed_entries++;
	else if (basic < VMXLAB_NR_VMX_EXIT_REASONS &&
		 r->decision < VMXLAB_NR_DECISIONS)
		t->counts[basic][r->decision]++;
	if (t->o->json)
		explain_json(buf, sizeof(buf), r, next);
	else
		explain_text(buf, sizeof(buf), r, next);
	line(t, buf);
}

/* Every record written since the last call, in order. */
static void drain_log(struct trace *t)
{
	struct vmxlab_exit_log *log = t->log;
	char buf[128];
	__u32 i;
	int n;

	do {
		memset(log, 0, sizeof(*log));
		log->nrecords = LOG_RECORDS;
		n = ioctl(t->fd, VMXLAB_READ_EXIT_LOG, log);
		if (n < 0)
			die("READ_EXIT_LOG: %s", strerror(errno));
		if (log->lost) {
			t->lost += log->lost;
			snprintf(buf, sizeof(buf), t->o->json ?
				 "{\"type\":\"lost\",\"records\":%u}" :
				 "(%u records lost: the ring was full)",
				 log->lost);
			line(t, buf);
		}
		for (i = 0; i < log->nrecords; i++)
			print_record(t, &log->records[i], i + 1 < log->nrecords ?
				     &log->records[i + 1] : NULL);
		t->records += log->nrecords;
	} while (log->nrecords == LOG_RECORDS);
}

static void log_on(struct trace *t, bool on)
{
	struct vmxlab_exit_log_config c = { .nr_records = on ? LOG_RECORDS : 0 };

	xioctl(t->fd, VMXLAB_SET_EXIT_LOG, &c, "SET_EXIT_LOG");
}

static void singlestep(struct trace *t, bool on)
{
	struct vmxlab_singlestep s = {
		.flags = on ? VMXLAB_SINGLESTEP_ENABLE |
			      VMXLAB_SINGLESTEP_FETCH_INSN : 0,
	};

	xioctl(t->fd, VMXLAB_SET_SINGLESTEP, &s, "SET_SINGLESTEP");
}

/* --- the run loop ------------------------------------------------------ */

static const char *const step_causes[] = {
	[VMXLAB_STEP_MTF] = "retired",
	[VMXLAB_STEP_EMULATED] = "emulated",
	[VMXLAB_STEP_DELIVERED] = "delivered",
};

static void print_step(struct trace *t)
{
	const struct vmxlab_run *run = t->run;
	unsigned int cause = run->debug.cause;
	const char *c = cause < 4 && step_causes[cause] ? step_causes[cause] : "?";
	char buf[256], hex[64] = "";
	unsigned int i;

	for (i = 0; i < run->debug.insn_len && i < sizeof(run->debug.insn); i++)
		snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex),
			 t->o->json ? "%02x" : " %02x", run->debug.insn[i]);
	if (t->o->json)
		snprintf(buf, sizeof(buf), JSON_STEP, c,
			 (unsigned long long)run->debug.rip,
			 (unsigned long long)run->debug.pending_dbg, hex);
	else
		snprintf(buf, sizeof(buf), "   step (%s): next rip %#llx, bytes%s",
			 c, (unsigned long long)run->debug.rip, hex);
	line(t, buf);
}

static void console_out(struct trace *t, const __u8 *data, unsigned int n)
{
	char buf[64];
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (t->o->json) {
			snprintf(buf, sizeof(buf), "{\"type\":\"out\",\"byte\":%u}",
				 data[i]);
			line(t, buf);
		} else {
			putchar(data[i]);
			t->at_bol = data[i] == '\n';
		}
	}
}

/* An I/O exit: the guest's console, its interrupt doorbell, or nothing. */
static void do_io(struct trace *t)
{
	struct vmxlab_run *run = t->run;
	__u8 *data = (__u8 *)run + run->io.data_offset;
	unsigned int n = run->io.size * run->io.count;
	struct vmxlab_interrupt irq;

	if (run->io.direction == VMXLAB_EXIT_IO_IN) {
		memset(data, 0xff, n);
		return;
	}
	if (run->io.port == PORT_CONSOLE)
		console_out(t, data, n);
	if (run->io.port == PORT_QUEUE_IRQ) {
		irq.vector = data[0];
		xioctl(t->fd, VMXLAB_INTERRUPT, &irq, "INTERRUPT");
	}
}

/*
 * Run until HLT.  Returns 0 then, 1 when the guest ended otherwise
 * (shutdown, internal error...) or ran past --max-exits.
 */
static int run_guest(struct trace *t, bool traced)
{
	struct vmxlab_run *run = t->run;
	bool interrupted;

	for (;;) {
		/* A signal (EINTR) leaves the run page as it was: run again. */
		interrupted = ioctl(t->fd, VMXLAB_RUN, 0) < 0;
		if (interrupted && errno != EINTR)
			die("RUN: %s", strerror(errno));
		if (traced)
			drain_log(t);
		if (traced && t->records > t->o->max_exits) {
			line(t, t->o->json ? "{\"type\":\"stopped\",\"why\":\"max-exits\"}" :
			     "vmxlab-trace: stopped: more exits than --max-exits");
			return 1;
		}
		if (interrupted)
			continue;
		switch (run->exit_reason) {
		case VMXLAB_EXIT_HLT:
			return 0;
		case VMXLAB_EXIT_IO:
			do_io(t);
			break;
		case VMXLAB_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			break;
		case VMXLAB_EXIT_DEBUG:
			if (traced)
				print_step(t);
			break;
		case VMXLAB_EXIT_INTR:
			break;
		default:
			fflush(stdout);
			fprintf(stderr, "vmxlab-trace: the guest ended with exit %u",
				run->exit_reason);
			if (run->exit_reason == VMXLAB_EXIT_INTERNAL_ERROR)
				fprintf(stderr, " (suberror %u, data %#llx)",
					run->internal.suberror,
					(unsigned long long)run->internal.data[0]);
			fputc('\n', stderr);
			return 1;
		}
	}
}

/*
 * --summary: the records per reason and decision, and per reason against
 * VMXLAB_GET_STATS over the same time.  Returns 1 on a mismatch.
 */
static int summary(struct trace *t)
{
	struct vmxlab_vcpu_stats now;
	unsigned int r, d;
	__u64 total, delta;
	char buf[256];
	int bad = 0;

	xioctl(t->fd, VMXLAB_GET_STATS, &now, "GET_STATS");
	for (r = 0; r < VMXLAB_NR_VMX_EXIT_REASONS; r++) {
		total = 0;
		for (d = 0; d < VMXLAB_NR_DECISIONS; d++) {
			if (!t->counts[r][d])
				continue;
			total += t->counts[r][d];
			snprintf(buf, sizeof(buf), t->o->json ? JSON_COUNT :
				 "count: %-20s %-24s %llu", explain_reason(r),
				 explain_decision(d),
				 (unsigned long long)t->counts[r][d]);
			line(t, buf);
		}
		delta = now.exits[r] - t->stats0.exits[r];
		if (total == delta)
			continue;
		bad = 1;
		fprintf(stderr, "vmxlab-trace: error: %s: %llu records, %llu in GET_STATS\n",
			explain_reason(r), (unsigned long long)total,
			(unsigned long long)delta);
	}
	delta = now.failed_entries - t->stats0.failed_entries;
	if (t->failed_entries != delta) {
		bad = 1;
		fprintf(stderr, "vmxlab-trace: error: %llu failed entries, %llu in GET_STATS\n",
			(unsigned long long)t->failed_entries,
			(unsigned long long)delta);
	}
	snprintf(buf, sizeof(buf), t->o->json ? JSON_SUMMARY :
		 "total: %llu records, %llu lost, GET_STATS %s",
		 t->records, t->lost, t->o->json ? (bad ? "false" : "true") :
		 (bad ? "DIFFERS (error)" : "agrees"));
	line(t, buf);
	return bad;
}

/* The log on around one run from the vCPU's current state. */
static int traced_run(struct trace *t)
{
	int r;

	xioctl(t->fd, VMXLAB_GET_STATS, &t->stats0, "GET_STATS");
	log_on(t, true);
	if (t->o->step)
		singlestep(t, true);
	r = run_guest(t, true);
	if (t->o->step)
		singlestep(t, false);
	if (t->o->summary && summary(t))
		r = 1;
	log_on(t, false);
	return r;
}

/* --- demo and run ------------------------------------------------------ */

static int run_demo(const struct opts *o, const struct demo *d)
{
	struct opts dopts = *o;
	struct trace t = { .o = &dopts, .at_bol = true };
	char buf[256];
	int r;

	dopts.shadow |= d->shadow;
	dopts.step |= d->step;
	t.mem_size = DEMO_RAM_SIZE;
	t.mem = guest_ram(t.mem_size);
	demo_build(t.mem);
	vm_create(&t, dopts.shadow, GUEST_LONG);
	t.slot1 = guest_ram(DEMO_SLOT1_SIZE);
	set_slot(&t, 1, DEMO_SLOT1_GPA, DEMO_SLOT1_SIZE, t.slot1);

	/* The pages every demo uses, mapped before the log starts. */
	set_entry(&t, demo_warm_entry(), GUEST_STACK_TOP, GUEST_PML4,
		  demo_warm_end(), DEMO_STACK_PAGE);
	if (run_guest(&t, false))
		die("demo %s: the warm-up did not end in HLT", d->name);

	if (o->json)
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"demo\",\"name\":\"%s\",\"shadow\":%s,\"step\":%s}",
			 d->name, dopts.shadow ? "true" : "false",
			 dopts.step ? "true" : "false");
	else
		snprintf(buf, sizeof(buf), "== demo %s: %s%s", d->name, d->what,
			 dopts.shadow ? " (shadow paging)" : "");
	line(&t, buf);
	set_entry(&t, demo_gpa(d->entry), GUEST_STACK_TOP, 0, 0, 0);
	r = traced_run(&t);
	vm_destroy(&t);
	return r;
}

static unsigned char *read_file(const char *path, size_t *size)
{
	unsigned char *buf;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		die("%s: %s", path, strerror(errno));
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		die("%s: cannot read it", path);
	close(fd);
	*size = st.st_size;
	return buf;
}

static int run_file(const struct opts *o, const char *path)
{
	struct trace t = { .o = o, .at_bol = true };
	__u64 load, entry, sp;
	const char *why;
	unsigned char *file;
	size_t size;
	int r;

	load = o->have_load ? o->load :
	       o->mode == GUEST_REAL ? REAL_MODE_LOAD : GUEST_CODE;
	sp = o->mode == GUEST_REAL ? REAL_MODE_LOAD : GUEST_STACK_TOP;
	t.mem_size = RUN_RAM_SIZE;
	t.mem = guest_ram(t.mem_size);
	guest_build_tables(t.mem);
	file = read_file(path, &size);
	if (load_guest(file, size, t.mem, t.mem_size, load, &entry, &why))
		die("%s: %s", path, why);
	free(file);
	if (o->have_entry)
		entry = o->entry;
	vm_create(&t, o->shadow, o->mode);
	set_entry(&t, entry, sp, 0, 0, 0);
	if (!o->json)
		printf("== %s: %s mode, entry %#llx%s\n", path,
		       guest_mode_name(o->mode), (unsigned long long)entry,
		       o->shadow ? ", shadow paging" : "");
	r = traced_run(&t);
	vm_destroy(&t);
	return r;
}

static void usage(void)
{
	unsigned int i;

	fputs(usage_text, stderr);
	for (i = 0; i < nr_demos; i++)
		fprintf(stderr, " %s", demos[i].name);
	fputc('\n', stderr);
	exit(2);
}

static __u64 number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end)
		usage();
	return v;
}

/* Options anywhere on the line; what is left are the command's words. */
static int parse(int argc, char **argv, struct opts *o, char **words)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (!strcmp(a, "--shadow")) {
			o->shadow = true;
		} else if (!strcmp(a, "--step")) {
			o->step = true;
		} else if (!strcmp(a, "--summary")) {
			o->summary = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--max-exits") && more) {
			o->max_exits = number(argv[++i]);
		} else if (!strcmp(a, "--mode") && more) {
			if (guest_mode_parse(argv[++i], &o->mode))
				usage();
		} else if (!strcmp(a, "--load") && more) {
			o->load = number(argv[++i]);
			o->have_load = true;
		} else if (!strcmp(a, "--entry") && more) {
			o->entry = number(argv[++i]);
			o->have_entry = true;
		} else if (a[0] == '-') {
			usage();
		} else {
			words[n++] = argv[i];
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	struct opts o = { .max_exits = DEFAULT_MAX_EXITS, .mode = GUEST_LONG };
	char **words = calloc(argc + 1, sizeof(*words));
	const struct demo *d;
	int i, n, r = 0;

	/* A decision without words fails here, and in the build. */
	if (explain_check_tables())
		return 1;
	if (argc == 2 && !strcmp(argv[1], "--check-tables"))
		return 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	n = parse(argc, argv, &o, words);
	if (n == 2 && !strcmp(words[0], "run"))
		return run_file(&o, words[1]);
	if (n < 1 || strcmp(words[0], "demo"))
		usage();
	for (i = 1; i < n; i++)
		if (!demo_find(words[i]))
			usage();
	for (i = 0; i < (n > 1 ? n - 1 : (int)nr_demos); i++) {
		d = n > 1 ? demo_find(words[i + 1]) : &demos[i];
		r |= run_demo(&o, d);
	}
	return r;
}
