/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmxlab-bench: what its files share.  The guest image (guest_image.c)
 * runs through a backend behind struct backend (backend_vmxlab.c,
 * backend_kvm.c); the workloads (workloads.c) time it into samples
 * (stats.c), which the results files (results.c) carry to the report
 * (report.c, report_shadow.c); memory.c and profile.c measure the rest.
 * exits.c counts each workload's exits and records where the run was;
 * fair.c lets the report print a ratio only where the exits agree.
 * scaling.c and report_scaling.c (scaling.h) make the "how cost grows"
 * table.
 */
#ifndef VMXLAB_BENCH_H
#define VMXLAB_BENCH_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <sys/ioctl.h>
#include <linux/types.h>

#include <uapi/linux/vmxlab.h>

#include "guest.h"

#define PAGE_SIZE		4096ULL
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/*
 * Guest-physical layout, identical for both backends.  The page tables
 * identity-map the first GiB with 2 MiB pages; only the guest RAM (from 0,
 * see vm_create()) is backed, so GPA_MMIO exits as MMIO.
 */
#define GPA_PML4		GUEST_PML4
#define GPA_PDPT		GUEST_PDPT
#define GPA_PD			GUEST_PD
#define GPA_GDT			GUEST_GDT
#define GPA_TSS			GUEST_TSS
#define GPA_IDT			GUEST_IDT
#define GPA_PML4_B		0x6000ULL	/* a second root, same PDPT */
#define GPA_PD_B		0x7000ULL	/* linear 1 GiB: 4 KiB pages */
#define GPA_PT			0x8000ULL
#define GPA_FRAME_A		0x9000ULL	/* what PT[0] maps, in turn */
#define GPA_FRAME_B		0xa000ULL
#define GPA_STACK_TOP		GUEST_STACK_TOP
#define GPA_CODE		GUEST_CODE	/* the guest image, up to 64 KiB */
#define GPA_RESULTS		0x100000ULL	/* one u32 per iteration */
#define RESULTS_MAX		((GPA_FAULT - GPA_RESULTS) / 4)
#define GPA_FAULT		0x400000ULL	/* fresh pages: warm-up, A, B */
#define GPA_MMIO		0x30000000ULL	/* below 1 GiB, never backed */
#define VA_REMAP		0x40000000ULL	/* through GPA_PT[0] */
#define VA_NOT_PRESENT		0x80000000ULL	/* PDPT[2] is not present */

/* Ports the guest talks on (as numbers in the guest code too). */
#define PORT_BENCH		0xf0		/* the timed OUT and IN */
#define PORT_READY		0xf1		/* "inject the interrupt now" */
#define PORT_PANIC		0xf2		/* unexpected exception: vector */
#define IRQ_VECTOR		0x40

#define WARMUP_ITERATIONS	64
#define WARMUP_PAGES		64
#define MEM_VMS			8
#define MEM_VCPUS		64
#define MAX_PASSES		4

/* --- the guest image (guest_image.c) ----------------------------------- */

/*
 * Where a label of the guest image sits in this program: the labels that
 * other files name are global (and hidden) in guest_image.c's assembly.
 */
#define GUEST_SYMBOL(name) ({						\
	const unsigned char *__p;					\
	asm("lea bench_guest_" #name "(%%rip), %0" : "=r" (__p));	\
	__p;								\
})

/* ... and in the guest, where the image is loaded at GPA_CODE. */
#define GUEST_GPA(name)							\
	(GPA_CODE + (__u64)(GUEST_SYMBOL(name) - GUEST_SYMBOL(start)))

void entry_regs(struct vmxlab_regs *r, __u64 rip, __u64 rdi, __u64 rsi,
		__u64 rbx);
void build_guest(unsigned char *mem);

/* --- the backends (backend_vmxlab.c, backend_kvm.c) -------------------- */

enum exit_kind { EXIT_IO, EXIT_MMIO, EXIT_HLT, EXIT_DEBUG, EXIT_OTHER };

/* One exit, in terms both backends share. */
struct bench_exit {
	enum exit_kind kind;
	__u16 port;
	__u8 in;		/* IN, or an MMIO load */
	__u32 len;		/* bytes */
	__u8 *data;		/* in the run page */
	__u64 addr;		/* MMIO */
	__u32 reason;		/* the backend's exit_reason, for messages */
};

struct vm;

/*
 * Where the exits of the timed iterations went (exits.c): returned to
 * userspace by the run structure's reason, or handled in the kernel.
 * External interrupts are the host's timer, not the workload's: counted
 * apart and left out of every comparison.
 */
enum exit_cat {
	XC_IO, XC_MMIO, XC_HLT, XC_IRQ_WINDOW, XC_USER_OTHER, XC_KERNEL,
	NR_EXIT_CATS
};

struct exit_counts {
	bool valid;
	__u64 iterations;
	__u64 n[NR_EXIT_CATS];
	__u64 extint;
};

struct vcpu {
	struct vm *vm;
	int fd;
	void *run;
	size_t run_size;
	int irq_pending;	/* vector waiting for the window, or -1 */
	bool irq_by_window;	/* vmxlab: queue as KVM's VMM must (row 5b) */
	bool stepping;		/* set_singlestep() is on: EXIT_DEBUG expected */
	__u64 steps;		/* EXIT_DEBUG exits, counted by the VMM loop */
	__u64 user_exits[NR_EXIT_CATS];	/* exits.c, during a timed run */
};

struct backend {
	const char *name;		/* on the command line and in files */
	const char *dev;
	bool kvm;			/* /dev/kvm */
	bool shadow;			/* shadow paging: VMXLAB_VM_SHADOW, ept=0 */
	int (*create_vm)(struct vm *vm);
	int (*set_memory)(struct vm *vm, __u64 gpa, __u64 size, void *hva);
	int (*create_vcpu)(struct vm *vm, unsigned int id, struct vcpu *vcpu);
	int (*map_run)(struct vcpu *vcpu);
	int (*set_cpuid)(struct vcpu *vcpu, const struct guest_cpuid_leaf *l, int n);
	int (*set_long_mode)(struct vcpu *vcpu);
	int (*set_regs)(struct vcpu *vcpu, __u64 rip, __u64 rdi, __u64 rsi,
			__u64 rbx);
	int (*run)(struct vcpu *vcpu, struct bench_exit *e);
	int (*queue_irq)(struct vcpu *vcpu, __u8 vector);
	int (*tsc_offset)(struct vcpu *vcpu, __u64 *offset);
	/* Row 8: an EXIT_DEBUG after each guest instruction, or not. */
	int (*set_singlestep)(struct vcpu *vcpu, bool on);
	/*
	 * Row 8b, NULL where there is no exit log (KVM): @nr records, 0 for
	 * off; read_exit_log() drains up to 256 and says how many were made.
	 */
	int (*set_exit_log)(struct vcpu *vcpu, __u32 nr);
	int (*read_exit_log)(struct vcpu *vcpu, __u64 *next_seq);
	/* Every VM exit so far, and the external interrupts among them. */
	int (*hw_exits)(struct vcpu *vcpu, __u64 *total, __u64 *extint);
};

struct vm {
	const struct backend *be;
	int sys_fd;
	int fd;
	unsigned char *mem;
	size_t mem_size;
};

extern const struct backend backend_vmxlab, backend_vmxlab_shadow;
extern const struct backend backend_kvm, backend_kvm_shadow;

void check_kvm_ept(const struct backend *be);

void guest_mem_map(struct vm *vm, __u64 populated);
void vm_create(const struct backend *be, struct vm *vm, struct vcpu *vcpu,
	       __u64 pages);
void vm_destroy(struct vm *vm, struct vcpu *vcpu);

static inline int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* --- exit counts (exits.c) -------------------------------------------- */

void count_user_exit(struct vcpu *v, __u32 reason);
void exits_begin(struct vcpu *v);
void exits_end(struct vcpu *v);
void exits_take(struct exit_counts *c, __u32 n);

/* --- statistics (stats.c) ---------------------------------------------- */

/* The figures of one workload over every pass. */
struct samples {
	long long *v;
	__u32 n, cap;
	double pass_mean[MAX_PASSES];
	int passes;
	__u64 steps[2];		/* stepped: EXIT_DEBUGs of routine, baseline */
	struct exit_counts exits;	/* over every pass */
};

struct summary {
	bool valid;
	__u32 n;
	double mean;
	long long min, median, max;
	int passes;
	double pass_mean[MAX_PASSES];
};

void samples_add_pass(struct samples *s, const long long *v, __u32 n);
int cmp_ll(const void *a, const void *b);
void summarize(struct samples *s, struct summary *sum);

/* --- the workloads (workloads.c) --------------------------------------- */

enum workload {
	W_LOOP5, W_CPUID, W_NULL, W_VMCALL, W_WBINVD, W_OUT, W_IN,
	W_MMIO_WRITE, W_MMIO_READ, W_EPT, W_EPT_ALLOC, W_IRQ_OPEN, W_IRQ_STI,
	W_IRQ_STI_WINDOW, W_STEP, W_CPUID_LOG, W_EPT_ALLOC_OFF, W_EPT_SCATTER,
	W_EPT_SCATTER_OFF, W_PF, W_CR3, W_REMAP,
	NR_WORKLOADS
};

/* The main table's workloads: its repeatability line looks at no other. */
#define NR_MAIN_WORKLOADS	W_PF

extern const char *const workload_keys[NR_WORKLOADS];

struct run_opts {
	const struct backend *be;
	__u32 iterations;
	__u32 pages;
	int passes;
};

/* Host-side timestamps of the interrupt workloads, in guest TSC time. */
struct irq_stamps {
	__u32 *t0;
	__u32 n, cap;
	__u64 tsc_offset;
};

/* Scratch arrays of one routine. */
struct scratch {
	__u32 *raw;
	long long *fig;
	struct irq_stamps irq;
};

extern bool progress;		/* run: name each workload as it starts */
extern const char *only;	/* --only: one workload, no memory figures */
extern int tracing_on_fd;	/* profile: tracefs' tracing_on file */

int workload_by_key(const char *key);
void scratch_alloc(struct scratch *sc, __u32 cap);
void run_routine(struct vcpu *v, __u64 entry, __u32 n, __u64 rbx,
		 __u32 *out, struct irq_stamps *irq);
bool wanted(enum workload w);
void step(const char *what);
void run_pass(const struct run_opts *o, struct scratch *sc,
	      struct samples *s);

/* --- EPT fault-around, rows 4b off and 4c (fault_around.c) ------------- */

/* 4c touches its pages scattered over this many times as many. */
#define SCATTER_SPREAD		16

__u64 fault_around_mem_end(__u64 pages);
bool fault_around_pause(const struct run_opts *o, char *was, size_t len);
void fault_around_resume(const char *was);
void measure_fault_around(struct vcpu *v, const struct run_opts *o,
			  long long base, struct scratch *sc,
			  struct samples *s);

/* --- kernel memory (memory.c) ------------------------------------------ */

#define MEMINFO_KEYS	4

/* Kernel memory per unit between two snapshots, and its breakdown. */
struct mem_cost {
	double total;			/* bytes */
	double meminfo[MEMINFO_KEYS];	/* bytes, as meminfo_keys[] */
	int ntop;
	char top[4][32];		/* slab caches that grew most */
	double top_bytes[4];
};

void measure_memory(const struct backend *be, struct mem_cost *per_vm,
		    struct mem_cost *per_vcpu);

/* --- results files (results.c) ----------------------------------------- */

/* What `report` and `compare` read back. */
struct results {
	char backend[16];
	__u32 iterations, pages;
	int passes;
	struct summary stat[NR_WORKLOADS];
	__u64 steps[NR_WORKLOADS][2];	/* as struct samples' */
	struct mem_cost mem[2];		/* per VM, per vCPU */
	char unavailable[128];		/* why a backend has no figures */
	struct exit_counts exits[NR_WORKLOADS];
	char emulator[32];		/* "" in files from before they were */
	char cpu[96];			/* recorded (exits.c) */
	char cmdline[256];
};

void write_results(FILE *f, const struct run_opts *o, struct samples *s,
		   const struct mem_cost *per_vm,
		   const struct mem_cost *per_vcpu);
/*
 * The reader of results files (results.c) and scaling files
 * (report_scaling.c): the "backend" line into @backend (16 bytes), the
 * "unavailable" line into @unavailable (128), every other line to
 * @parse.  Dies if the file cannot be read or names no backend.
 */
void read_results_file(const char *path, char *backend, char *unavailable,
		       void (*parse)(void *ctx, const char *line), void *ctx);
void load_results(const char *path, struct results *r);
void write_exits_and_host(FILE *f, const struct samples *s);
bool parse_exits_or_host(struct results *r, const char *line);
int cmd_compare(char **files);

/* --- the report (report.c, report_shadow.c) ---------------------------- */

void report_text(const struct results *v, const struct results *k);
void report_shadow_text(const struct results *v, const struct results *k,
			const struct results *vs, const struct results *ks);
void report_json(const struct results *v, const struct results *k,
		 const struct results *vs, const struct results *ks);

/* --- the profiler (profile.c) ------------------------------------------ */

int cmd_profile(struct run_opts *o, enum workload w, char *probes);
int cmd_segments(const char *path);

/* --- the program (main.c) ---------------------------------------------- */

noreturn void die(const char *fmt, ...);
int write_file(const char *path, const char *text);
FILE *open_proc(const char *path);

#endif
