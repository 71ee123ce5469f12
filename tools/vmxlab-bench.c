// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench: one 64-bit guest, run through /dev/vmxlab and through KVM's
 * /dev/kvm, timed with RDTSC inside the guest.  `make bench` runs it in the
 * test VM (scripts/bench.sh); Documentation/performance.rst reads the table.
 */
#include <assert.h>
#include <cpuid.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>
#include <linux/kvm.h>
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

#define NULL_EXIT_PARAM		"/sys/module/vmxlab/parameters/null_exit_reason"
#define VMX_EXIT_REASON_CPUID	10
#define KVM_EPT_PARAM		"/sys/module/kvm_intel/parameters/ept"

/*
 * The guest.  Every timed routine is called with RDI = iterations, RSI =
 * GPA_RESULTS and RBX = the address it works on, and stores one RDTSC
 * delta per iteration: T_BEGIN reads the TSC, the operation runs, T_END
 * reads it again and stores the difference.  The host subtracts the
 * "empty" routine's delta (the two RDTSCs and the MOV between them) and
 * the setup instructions, so a routine measures its operation alone.
 * Routines end with HLT, an exit to userspace on both backends.
 */
asm("	.pushsection .rodata.bench_guest, \"a\"\n"
"	.balign 16\n"
"bench_guest_start:\n"
"	.macro T_BEGIN name\n"
"bench_guest_\\name:\n"
"1:	rdtsc\n"
"	mov	%eax, %r8d\n"
"	.endm\n"
"	.macro T_END\n"
"	rdtsc\n"
"	sub	%r8d, %eax\n"
"	mov	%eax, (%rsi)\n"
"	add	$4, %rsi\n"
"	.endm\n"
"	.macro T_LOOP\n"
"	dec	%rdi\n"
"	jnz	1b\n"
"	hlt\n"
"	.endm\n"
"\n"
"	T_BEGIN empty\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN loop5\n"
"	mov	%ebx, %ecx\n"			/* setup */
"2:	nop; nop; nop\n"
"	dec	%ecx\n"
"	jnz	2b\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN cpuid\n"
"	xor	%eax, %eax\n"			/* setup: leaf 0 */
"	cpuid\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN vmcall\n"
"	mov	$-1, %eax\n"			/* setup: no such hypercall */
"	vmcall\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN wbinvd\n"
"	wbinvd\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN out\n"
"	out	%al, $0xf0\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN in\n"
"	in	$0xf0, %al\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN mmio_write\n"
"	mov	%ecx, (%rbx)\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
"	T_BEGIN mmio_read\n"
"	mov	(%rbx), %ecx\n"
"	T_END\n"
"	T_LOOP\n"
"\n"
/* One store per fresh page; the step to the next page is not timed. */
"	T_BEGIN touch\n"
"	mov	%ecx, (%rbx)\n"
"	T_END\n"
"	add	$4096, %rbx\n"
"	T_LOOP\n"
"\n"
/*
 * Paging (row 9).  pf: a load from RBX, not present in the guest's own
 * tables; the #PF handler's first instruction ends the interval.
 */
"	T_BEGIN pf\n"
"bench_guest_pf_load:\n"
"	mov	(%rbx), %ecx\n"
"bench_guest_pf_resume:\n"
"	T_LOOP\n"
"\n"
"bench_guest_pf_handler:\n"
"	rdtsc\n"
"	lea	bench_guest_pf_load(%rip), %rcx\n"
"	cmp	%rcx, 8(%rsp)\n"
"	jne	2f\n"
"	sub	%r8d, %eax\n"
"	mov	%eax, (%rsi)\n"
"	add	$4, %rsi\n"
"	add	$8, %rsp\n"			/* the error code */
"	lea	bench_guest_pf_resume(%rip), %rcx\n"
"	mov	%rcx, (%rsp)\n"
"	iretq\n"
"2:	push	$14\n"
"	jmp	bench_guest_fault\n"
"\n"
/*
 * cr3: MOV to CR3 between GPA_PML4 (0x1000) and the root in RBX, which
 * maps the same; then the store the loop makes to its results page.
 */
"bench_guest_cr3:\n"
"	mov	$0x1000, %ecx\n"
"1:	rdtsc\n"
"	mov	%eax, %r8d\n"
"	mov	%rbx, %cr3\n"
"	movl	$0, (%rsi)\n"			/* setup */
"	T_END\n"
"	xchg	%rbx, %rcx\n"
"	T_LOOP\n"
"\n"
/*
 * remap: PT[0] (GPA_PT, 0x8000), the PTE of the page at RBX, is written
 * with GPA_FRAME_A and GPA_FRAME_B in turn (present, writable, accessed,
 * dirty), INVLPG drops the old translation, a store uses the new one.
 */
"bench_guest_remap:\n"
"	mov	$0x8000, %ecx\n"
"	mov	$0x9063, %r10d\n"
"	mov	$0xa063, %r11d\n"
"1:	rdtsc\n"
"	mov	%eax, %r8d\n"
"	mov	%r10, (%rcx)\n"
"	invlpg	(%rbx)\n"
"	mov	%eax, (%rbx)\n"
"	T_END\n"
"	xchg	%r10, %r11\n"
"	T_LOOP\n"
"\n"
/*
 * Interrupts: the OUT to PORT_READY tells the host to take its timestamp
 * and queue IRQ_VECTOR; the handler's first instruction takes the guest's.
 * irq_open exits with the window open (IF = 1, no STI shadow); irq_sti
 * exits with IF = 0 and opens the window with STI after the next entry.
 */
"bench_guest_irq_open:\n"
"1:	sti\n"
"	nop\n"
"	out	%al, $0xf1\n"
"	dec	%rdi\n"
"	jnz	1b\n"
"	hlt\n"
"\n"
"bench_guest_irq_sti:\n"
"1:	cli\n"
"	out	%al, $0xf1\n"
"	sti\n"
"	nop\n"
"	dec	%rdi\n"
"	jnz	1b\n"
"	hlt\n"
"\n"
"bench_guest_irq_handler:\n"
"	rdtsc\n"
"	mov	%eax, (%rsi)\n"
"	add	$4, %rsi\n"
"	iretq\n"
"\n"
/* Exceptions (8-byte stubs, one per vector) and stray interrupts. */
"	.balign 8\n"
"bench_guest_exceptions:\n"
"	.set	vector, 0\n"
"	.rept	32\n"
"	.balign	8\n"
"	push	$vector\n"
"	jmp	bench_guest_fault\n"
"	.set	vector, vector + 1\n"
"	.endr\n"
"bench_guest_spurious:\n"
"	push	$0xff\n"
"bench_guest_fault:\n"
"	pop	%rax\n"
"	out	%eax, $0xf2\n"
"	hlt\n"
"bench_guest_end:\n"
"	.popsection\n"
);

/* Where a label of the guest image sits in this program. */
#define GUEST_SYMBOL(name) ({						\
	const unsigned char *__p;					\
	asm("lea bench_guest_" #name "(%%rip), %0" : "=r" (__p));	\
	__p;								\
})

/* ... and in the guest, where the image is loaded at GPA_CODE. */
#define GUEST_GPA(name)							\
	(GPA_CODE + (__u64)(GUEST_SYMBOL(name) - GUEST_SYMBOL(start)))

/* --- the backends ------------------------------------------------------ */

enum exit_kind { EXIT_IO, EXIT_MMIO, EXIT_HLT, EXIT_OTHER };

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

struct vcpu {
	struct vm *vm;
	int fd;
	void *run;
	size_t run_size;
	int irq_pending;	/* KVM: vector waiting for the window, or -1 */
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
};

struct vm {
	const struct backend *be;
	int sys_fd;
	int fd;
	unsigned char *mem;
	size_t mem_size;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vmxlab-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static bool progress;		/* run: name each workload as it starts */
static const char *only;	/* --only: one workload, no memory figures */
static int tracing_on_fd = -1;	/* profile: tracefs' tracing_on file */

/* In a profile, the kernel's trace buffer records the timed runs only. */
static void tracing(bool on)
{
	if (tracing_on_fd >= 0 && write(tracing_on_fd, on ? "1" : "0", 1) != 1)
		die("tracing_on: %s", strerror(errno));
}

/*
 * Progress on stderr, a word per workload: it also tells a VM runner
 * watching the console that the VM is alive.
 */
static void step(const char *what)
{
	if (progress)
		fprintf(stderr, " %s", what);
}

/*
 * The two APIs share these layouts: kvm_regs is vmxlab_regs, and
 * kvm_sregs begins like vmxlab_sregs up to CR4 (then CR8 and EFER).
 */
static_assert(sizeof(struct kvm_regs) == sizeof(struct vmxlab_regs),
	      "kvm_regs and vmxlab_regs differ");
static_assert(offsetof(struct kvm_sregs, cr4) ==
	      offsetof(struct vmxlab_sregs, cr4),
	      "kvm_sregs and vmxlab_sregs differ before CR4");

/* A routine's entry: RIP and its three arguments, IF = 0. */
static void entry_regs(struct vmxlab_regs *r, __u64 rip, __u64 rdi,
		       __u64 rsi, __u64 rbx)
{
	memset(r, 0, sizeof(*r));
	r->rip = rip;
	r->rdi = rdi;
	r->rsi = rsi;
	r->rbx = rbx;
	r->rsp = GPA_STACK_TOP;
	r->rflags = 2;
}

/* --- vmxlab ------------------------------------------------------------ */

static int vmxlab_create_vm(struct vm *vm)
{
	vm->fd = ioctl(vm->sys_fd, VMXLAB_CREATE_VM,
		       vm->be->shadow ? VMXLAB_VM_SHADOW : VMXLAB_VM_EPT);
	return vm->fd < 0 ? -errno : 0;
}

static int vmxlab_set_memory(struct vm *vm, __u64 gpa, __u64 size, void *hva)
{
	struct vmxlab_memory_region r = {
		.slot = 0, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	return xioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &r);
}

static int vmxlab_create_vcpu(struct vm *vm, unsigned int id, struct vcpu *v)
{
	v->vm = vm;
	v->irq_pending = -1;
	v->run = NULL;
	v->fd = ioctl(vm->fd, VMXLAB_CREATE_VCPU, id);
	return v->fd < 0 ? -errno : 0;
}

static int vmxlab_map_run(struct vcpu *v)
{
	v->run_size = sizeof(struct vmxlab_run);
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	return v->run == MAP_FAILED ? -errno : 0;
}

static int vmxlab_set_cpuid(struct vcpu *v, const struct guest_cpuid_leaf *l, int n)
{
	size_t size = sizeof(struct vmxlab_cpuid) +
		      n * sizeof(struct vmxlab_cpuid_entry);
	struct vmxlab_cpuid *c = calloc(1, size);
	int i, r;

	if (!c)
		return -ENOMEM;
	c->nent = n;
	for (i = 0; i < n; i++) {
		c->entries[i].function = l[i].function;
		c->entries[i].eax = l[i].eax;
		c->entries[i].ebx = l[i].ebx;
		c->entries[i].ecx = l[i].ecx;
		c->entries[i].edx = l[i].edx;
	}
	r = xioctl(v->fd, VMXLAB_SET_CPUID, c);
	free(c);
	return r;
}

static int vmxlab_set_long_mode(struct vcpu *v)
{
	struct vmxlab_sregs s;
	int r;

	r = xioctl(v->fd, VMXLAB_GET_SREGS, &s);
	if (r)
		return r;
	guest_mode_sregs(&s, GUEST_LONG);
	return xioctl(v->fd, VMXLAB_SET_SREGS, &s);
}

static int vmxlab_set_regs(struct vcpu *v, __u64 rip, __u64 rdi, __u64 rsi,
			   __u64 rbx)
{
	struct vmxlab_regs regs;

	entry_regs(&regs, rip, rdi, rsi, rbx);
	return xioctl(v->fd, VMXLAB_SET_REGS, &regs);
}

static int vmxlab_run(struct vcpu *v, struct bench_exit *e)
{
	struct vmxlab_run *run = v->run;

	if (ioctl(v->fd, VMXLAB_RUN, 0) < 0)
		return -errno;
	e->reason = run->exit_reason;
	switch (run->exit_reason) {
	case VMXLAB_EXIT_IO:
		e->kind = EXIT_IO;
		e->port = run->io.port;
		e->in = run->io.direction == VMXLAB_EXIT_IO_IN;
		e->len = run->io.size;
		e->data = (__u8 *)run + run->io.data_offset;
		break;
	case VMXLAB_EXIT_MMIO:
		e->kind = EXIT_MMIO;
		e->addr = run->mmio.phys_addr;
		e->in = !run->mmio.is_write;
		e->len = run->mmio.len;
		e->data = run->mmio.data;
		break;
	case VMXLAB_EXIT_HLT:
		e->kind = EXIT_HLT;
		break;
	default:
		e->kind = EXIT_OTHER;
		break;
	}
	return 0;
}

/* vmxlab queues up to 16 interrupts and opens the window itself. */
static int vmxlab_queue_irq(struct vcpu *v, __u8 vector)
{
	struct vmxlab_interrupt irq = { .vector = vector };

	return xioctl(v->fd, VMXLAB_INTERRUPT, &irq);
}

/* vmxlab does not offset the guest's TSC. */
static int vmxlab_tsc_offset(struct vcpu *v, __u64 *offset)
{
	(void)v;
	*offset = 0;
	return 0;
}

static const struct backend backend_vmxlab = {
	.name = "vmxlab",
	.dev = "/dev/vmxlab",
	.create_vm = vmxlab_create_vm,
	.set_memory = vmxlab_set_memory,
	.create_vcpu = vmxlab_create_vcpu,
	.map_run = vmxlab_map_run,
	.set_cpuid = vmxlab_set_cpuid,
	.set_long_mode = vmxlab_set_long_mode,
	.set_regs = vmxlab_set_regs,
	.run = vmxlab_run,
	.queue_irq = vmxlab_queue_irq,
	.tsc_offset = vmxlab_tsc_offset,
};

/* The same VMM on a shadow-paging VM (Documentation/paging.rst). */
static const struct backend backend_vmxlab_shadow = {
	.name = "vmxlab-shadow",
	.dev = "/dev/vmxlab",
	.shadow = true,
	.create_vm = vmxlab_create_vm,
	.set_memory = vmxlab_set_memory,
	.create_vcpu = vmxlab_create_vcpu,
	.map_run = vmxlab_map_run,
	.set_cpuid = vmxlab_set_cpuid,
	.set_long_mode = vmxlab_set_long_mode,
	.set_regs = vmxlab_set_regs,
	.run = vmxlab_run,
	.queue_irq = vmxlab_queue_irq,
	.tsc_offset = vmxlab_tsc_offset,
};

/* --- KVM, with the interrupt controller in userspace ------------------- */

static int kvm_create_vm(struct vm *vm)
{
	vm->fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	return vm->fd < 0 ? -errno : 0;
}

static int kvm_set_memory(struct vm *vm, __u64 gpa, __u64 size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	return xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int kvm_create_vcpu(struct vm *vm, unsigned int id, struct vcpu *v)
{
	v->vm = vm;
	v->irq_pending = -1;
	v->run = NULL;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	return v->fd < 0 ? -errno : 0;
}

static int kvm_map_run(struct vcpu *v)
{
	int size = ioctl(v->vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (size < 0)
		return -errno;
	v->run_size = size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	return v->run == MAP_FAILED ? -errno : 0;
}

static int kvm_set_cpuid(struct vcpu *v, const struct guest_cpuid_leaf *l, int n)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      n * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, size);
	int i, r;

	if (!c)
		return -ENOMEM;
	c->nent = n;
	for (i = 0; i < n; i++) {
		c->entries[i].function = l[i].function;
		c->entries[i].eax = l[i].eax;
		c->entries[i].ebx = l[i].ebx;
		c->entries[i].ecx = l[i].ecx;
		c->entries[i].edx = l[i].edx;
	}
	r = xioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return r;
}

static int kvm_set_long_mode(struct vcpu *v)
{
	struct vmxlab_sregs lm = {};
	struct kvm_sregs s;
	int r;

	r = xioctl(v->fd, KVM_GET_SREGS, &s);
	if (r)
		return r;
	guest_mode_sregs(&lm, GUEST_LONG);
	memcpy(&s, &lm, offsetof(struct vmxlab_sregs, cr0));
	s.cr0 = lm.cr0;
	s.cr3 = lm.cr3;
	s.cr4 = lm.cr4;
	s.efer = lm.efer;
	return xioctl(v->fd, KVM_SET_SREGS, &s);
}

static int kvm_set_regs(struct vcpu *v, __u64 rip, __u64 rdi, __u64 rsi,
			__u64 rbx)
{
	struct vmxlab_regs regs;

	entry_regs(&regs, rip, rdi, rsi, rbx);
	return xioctl(v->fd, KVM_SET_REGS, &regs);
}

static int kvm_interrupt(struct vcpu *v, __u8 vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	return xioctl(v->fd, KVM_INTERRUPT, &irq);
}

/*
 * Without an in-kernel irqchip, KVM_INTERRUPT may only be used when the
 * run page says ready_for_interrupt_injection; otherwise the VMM asks for
 * the window (request_interrupt_window) and injects on
 * KVM_EXIT_IRQ_WINDOW_OPEN (Documentation/virt/kvm/api.rst).
 */
static int kvm_queue_irq(struct vcpu *v, __u8 vector)
{
	struct kvm_run *run = v->run;

	if (run->ready_for_interrupt_injection)
		return kvm_interrupt(v, vector);
	v->irq_pending = vector;
	run->request_interrupt_window = 1;
	return 0;
}

static int kvm_run(struct vcpu *v, struct bench_exit *e)
{
	struct kvm_run *run = v->run;
	int r;

	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0)
			return -errno;
		if (run->exit_reason != KVM_EXIT_IRQ_WINDOW_OPEN ||
		    v->irq_pending < 0)
			break;
		run->request_interrupt_window = 0;
		r = kvm_interrupt(v, v->irq_pending);
		if (r)
			return r;
		v->irq_pending = -1;
	}
	e->reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		e->kind = EXIT_IO;
		e->port = run->io.port;
		e->in = run->io.direction == KVM_EXIT_IO_IN;
		e->len = run->io.size;
		e->data = (__u8 *)run + run->io.data_offset;
		break;
	case KVM_EXIT_MMIO:
		e->kind = EXIT_MMIO;
		e->addr = run->mmio.phys_addr;
		e->in = !run->mmio.is_write;
		e->len = run->mmio.len;
		e->data = run->mmio.data;
		break;
	case KVM_EXIT_HLT:
		e->kind = EXIT_HLT;
		break;
	default:
		e->kind = EXIT_OTHER;
		break;
	}
	return 0;
}

/* KVM offsets the guest's TSC (KVM_VCPU_TSC_CTRL, Linux 5.16 and later). */
static int kvm_tsc_offset(struct vcpu *v, __u64 *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (unsigned long)offset,
	};

	return xioctl(v->fd, KVM_GET_DEVICE_ATTR, &attr);
}

static const struct backend backend_kvm = {
	.name = "kvm",
	.dev = "/dev/kvm",
	.kvm = true,
	.create_vm = kvm_create_vm,
	.set_memory = kvm_set_memory,
	.create_vcpu = kvm_create_vcpu,
	.map_run = kvm_map_run,
	.set_cpuid = kvm_set_cpuid,
	.set_long_mode = kvm_set_long_mode,
	.set_regs = kvm_set_regs,
	.run = kvm_run,
	.queue_irq = kvm_queue_irq,
	.tsc_offset = kvm_tsc_offset,
};

/*
 * The same, with kvm_intel loaded ept=0 (scripts/bench-vm.sh): KVM's own
 * shadow paging.  cmd_run() checks the module parameter.
 */
static const struct backend backend_kvm_shadow = {
	.name = "kvm-shadow",
	.dev = "/dev/kvm",
	.kvm = true,
	.shadow = true,
	.create_vm = kvm_create_vm,
	.set_memory = kvm_set_memory,
	.create_vcpu = kvm_create_vcpu,
	.map_run = kvm_map_run,
	.set_cpuid = kvm_set_cpuid,
	.set_long_mode = kvm_set_long_mode,
	.set_regs = kvm_set_regs,
	.run = kvm_run,
	.queue_irq = kvm_queue_irq,
	.tsc_offset = kvm_tsc_offset,
};

static const struct backend *const backends[] = {
	&backend_vmxlab, &backend_kvm, &backend_vmxlab_shadow,
	&backend_kvm_shadow,
};

/* --- building the guest ------------------------------------------------ */

/* Page tables, GDT, IDT and code: the same bytes for both backends. */
static void build_guest(unsigned char *mem)
{
	size_t size = GUEST_SYMBOL(end) - GUEST_SYMBOL(start);
	unsigned int i;

	if (size > GPA_RESULTS - GPA_CODE)
		die("guest image too large (%zu bytes)", size);
	memcpy(mem + GPA_CODE, GUEST_SYMBOL(start), size);

	guest_build_tables(mem);
	/*
	 * Row 9: a second root with the same PDPT (cr3), linear 1 GiB
	 * mapped by a 4 KiB page table (remap), linear 2 GiB not present
	 * (pf).  The numbers are in the guest's code too.
	 */
	guest_put_u64(mem, GPA_PML4_B, GPA_PDPT | 3);
	guest_put_u64(mem, GPA_PDPT + 8 * (VA_REMAP >> 30), GPA_PD_B | 0x23);
	guest_put_u64(mem, GPA_PD_B, GPA_PT | 0x23);
	guest_put_u64(mem, GPA_PT, GPA_FRAME_A | 0x63);

	for (i = 0; i < 256; i++)
		guest_put_gate(mem, i, GUEST_GPA(spurious));
	for (i = 0; i < 32; i++)
		guest_put_gate(mem, i, GUEST_GPA(exceptions) + 8 * i);
	guest_put_gate(mem, IRQ_VECTOR, GUEST_GPA(irq_handler));
	guest_put_gate(mem, 14, GUEST_GPA(pf_handler));
}

/*
 * A VM with one vCPU in long mode.  Guest RAM is host memory without
 * transparent huge pages (EPT then maps 4 KiB pages on both backends),
 * populated on the host except fault region B, so that region A measures
 * the hypervisor's fault-in alone.
 */
static void vm_create(const struct backend *be, struct vm *vm,
		      struct vcpu *vcpu, __u64 pages)
{
	__u64 fault_b = GPA_FAULT + (WARMUP_PAGES + pages) * PAGE_SIZE;
	struct guest_cpuid_leaf leaves[GUEST_CPUID_LEAVES];
	size_t off;
	int n, r;

	vm->be = be;
	vm->mem_size = (fault_b + pages * PAGE_SIZE + (2 << 20) - 1) &
		       ~((2ULL << 20) - 1);
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory: %s", strerror(errno));
	if (madvise(vm->mem, vm->mem_size, MADV_NOHUGEPAGE))
		die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	for (off = 0; off < fault_b; off += PAGE_SIZE)
		vm->mem[off] = 0;
	build_guest(vm->mem);

	r = be->create_vm(vm);
	if (!r)
		r = be->set_memory(vm, 0, vm->mem_size, vm->mem);
	if (!r)
		r = be->create_vcpu(vm, 0, vcpu);
	if (!r)
		r = be->map_run(vcpu);
	n = guest_cpuid(leaves);
	if (!r)
		r = be->set_cpuid(vcpu, leaves, n);
	if (!r)
		r = be->set_long_mode(vcpu);
	if (r)
		die("%s: setting up the VM: %s", be->name, strerror(-r));
}

static void vm_destroy(struct vm *vm, struct vcpu *vcpu)
{
	munmap(vcpu->run, vcpu->run_size);
	close(vcpu->fd);
	close(vm->fd);
	munmap(vm->mem, vm->mem_size);
}

/* --- running the guest ------------------------------------------------- */

/* Host-side timestamps of the interrupt workloads, in guest TSC time. */
struct irq_stamps {
	__u32 *t0;
	__u32 n, cap;
	__u64 tsc_offset;
};

/*
 * The VMM loop: the same for both backends.  OUT and IN on PORT_BENCH and
 * MMIO accesses are answered at once; PORT_READY takes the timestamp and
 * queues the interrupt; HLT ends the routine.
 */
static void run_guest(struct vcpu *v, struct irq_stamps *irq)
{
	const struct backend *be = v->vm->be;
	struct bench_exit e;
	int r;

	for (;;) {
		r = be->run(v, &e);
		if (r)
			die("%s: run: %s", be->name, strerror(-r));
		if (e.kind == EXIT_HLT)
			return;
		if (e.kind == EXIT_MMIO && e.addr == GPA_MMIO) {
			if (e.in)
				memset(e.data, 0, e.len);
			continue;
		}
		if (e.kind == EXIT_IO && e.port == PORT_BENCH) {
			if (e.in)
				memset(e.data, 0, e.len);
			continue;
		}
		if (e.kind == EXIT_IO && e.port == PORT_READY && irq &&
		    irq->n < irq->cap) {
			irq->t0[irq->n++] = __rdtsc() + irq->tsc_offset;
			r = be->queue_irq(v, IRQ_VECTOR);
			if (r)
				die("%s: queue interrupt: %s", be->name,
				    strerror(-r));
			continue;
		}
		if (e.kind == EXIT_IO && e.port == PORT_PANIC)
			die("%s: guest took exception vector %u", be->name,
			    *(__u32 *)e.data);
		die("%s: unexpected exit (reason %u)", be->name, e.reason);
	}
}

/* Run one routine @n times; its per-iteration deltas land in @out. */
static void run_routine(struct vcpu *v, __u64 entry, __u32 n, __u64 rbx,
			__u32 *out, struct irq_stamps *irq)
{
	struct vm *vm = v->vm;
	int r;

	if (n > RESULTS_MAX)
		die("too many iterations (%u, at most %llu)", n, RESULTS_MAX);
	r = vm->be->set_regs(v, entry, n, GPA_RESULTS, rbx);
	if (r)
		die("%s: set registers: %s", vm->be->name, strerror(-r));
	tracing(out);
	run_guest(v, irq);
	tracing(false);
	if (out)
		memcpy(out, vm->mem + GPA_RESULTS, n * sizeof(*out));
}

/* --- statistics -------------------------------------------------------- */

/* The figures of one workload over every pass. */
struct samples {
	long long *v;
	__u32 n, cap;
	double pass_mean[MAX_PASSES];
	int passes;
};

struct summary {
	bool valid;
	__u32 n;
	double mean;
	long long min, median, max;
	int passes;
	double pass_mean[MAX_PASSES];
};

static void samples_add_pass(struct samples *s, const long long *v, __u32 n)
{
	double sum = 0;
	__u32 i;

	if (s->n + n > s->cap) {
		s->cap = s->n + n;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	for (i = 0; i < n; i++) {
		s->v[s->n++] = v[i];
		sum += v[i];
	}
	if (s->passes < MAX_PASSES)
		s->pass_mean[s->passes++] = n ? sum / n : 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void summarize(struct samples *s, struct summary *sum)
{
	double total = 0;
	__u32 i;

	memset(sum, 0, sizeof(*sum));
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_ll);
	for (i = 0; i < s->n; i++)
		total += s->v[i];
	sum->valid = true;
	sum->n = s->n;
	sum->mean = total / s->n;
	sum->min = s->v[0];
	sum->median = s->v[s->n / 2];
	sum->max = s->v[s->n - 1];
	sum->passes = s->passes;
	memcpy(sum->pass_mean, s->pass_mean, sizeof(sum->pass_mean));
}

/* --- the workloads ----------------------------------------------------- */

enum workload {
	W_LOOP5, W_CPUID, W_NULL, W_VMCALL, W_WBINVD, W_OUT, W_IN,
	W_MMIO_WRITE, W_MMIO_READ, W_EPT, W_EPT_ALLOC, W_IRQ_OPEN, W_IRQ_STI,
	W_PF, W_CR3, W_REMAP,
	NR_WORKLOADS
};

/* The main table's workloads: its repeatability line looks at no other. */
#define NR_MAIN_WORKLOADS	W_PF

static const char *const workload_keys[NR_WORKLOADS] = {
	[W_LOOP5] = "loop5", [W_CPUID] = "cpuid", [W_NULL] = "null",
	[W_VMCALL] = "vmcall", [W_WBINVD] = "wbinvd", [W_OUT] = "out",
	[W_IN] = "in", [W_MMIO_WRITE] = "mmio_write",
	[W_MMIO_READ] = "mmio_read", [W_EPT] = "ept",
	[W_EPT_ALLOC] = "ept_alloc", [W_IRQ_OPEN] = "irq_open",
	[W_IRQ_STI] = "irq_sti", [W_PF] = "pf", [W_CR3] = "cr3",
	[W_REMAP] = "remap",
};

struct run_opts {
	const struct backend *be;
	__u32 iterations;
	__u32 pages;
	int passes;
};

/* Scratch arrays of one routine. */
struct scratch {
	__u32 *raw;
	long long *fig;
	struct irq_stamps irq;
};

/* Median of the "empty" routine: the cost of the timing itself. */
static long long timing_baseline(struct vcpu *v, const struct run_opts *o,
				 struct scratch *sc)
{
	__u32 i;

	run_routine(v, GUEST_GPA(empty), WARMUP_ITERATIONS, 0, NULL, NULL);
	run_routine(v, GUEST_GPA(empty), o->iterations, 0, sc->raw, NULL);
	for (i = 0; i < o->iterations; i++)
		sc->fig[i] = sc->raw[i];
	qsort(sc->fig, o->iterations, sizeof(*sc->fig), cmp_ll);
	return sc->fig[o->iterations / 2];
}

static bool wanted(enum workload w)
{
	return !only || !strcmp(only, workload_keys[w]);
}

/*
 * Does the TSC count instructions?  The 5-instruction loop runs 100 and
 * 1100 times; the difference, which no edge effect of the timing enters,
 * must be 5000 ticks.
 */
static void measure_tsc(struct vcpu *v, const struct run_opts *o,
			struct scratch *sc, struct samples *s)
{
	__u32 i, n = o->iterations;

	if (!wanted(W_LOOP5))
		return;
	step(workload_keys[W_LOOP5]);
	run_routine(v, GUEST_GPA(loop5), WARMUP_ITERATIONS, 100, NULL, NULL);
	run_routine(v, GUEST_GPA(loop5), n, 100, sc->raw, NULL);
	for (i = 0; i < n; i++)
		sc->fig[i] = sc->raw[i];
	run_routine(v, GUEST_GPA(loop5), n, 1100, sc->raw, NULL);
	for (i = 0; i < n; i++)
		sc->fig[i] = (long long)sc->raw[i] - sc->fig[i];
	samples_add_pass(&s[W_LOOP5], sc->fig, n);
}

/*
 * A warm-up run (first touches of code, stack, result pages and of the
 * host's paths), then @n timed iterations of workload @w; the figure of
 * each is its delta minus the timing cost and @setup instructions.
 */
static void measure(struct vcpu *v, enum workload w, __u64 entry, __u32 n,
		    __u64 rbx, long long base, unsigned int setup,
		    struct scratch *sc, struct samples *s)
{
	__u32 i;

	if (!wanted(w))
		return;
	step(workload_keys[w]);
	run_routine(v, entry, WARMUP_ITERATIONS, rbx, NULL, NULL);
	run_routine(v, entry, n, rbx, sc->raw, NULL);
	for (i = 0; i < n; i++)
		sc->fig[i] = (long long)sc->raw[i] - base - setup;
	samples_add_pass(&s[w], sc->fig, n);
}

/* Fresh pages: region A is populated on the host, region B is not. */
static void measure_fault_in(struct vcpu *v, const struct run_opts *o,
			     long long base, struct scratch *sc,
			     struct samples *s)
{
	__u64 region[2] = { GPA_FAULT + WARMUP_PAGES * PAGE_SIZE };
	static const enum workload w[2] = { W_EPT, W_EPT_ALLOC };
	__u32 i, r;

	region[1] = region[0] + o->pages * PAGE_SIZE;
	run_routine(v, GUEST_GPA(touch), WARMUP_PAGES, GPA_FAULT, NULL, NULL);
	for (r = 0; r < 2; r++) {
		if (!wanted(w[r]))
			continue;
		step(workload_keys[w[r]]);
		run_routine(v, GUEST_GPA(touch), o->pages, region[r], sc->raw,
			    NULL);
		for (i = 0; i < o->pages; i++)
			sc->fig[i] = (long long)sc->raw[i] - base;
		samples_add_pass(&s[w[r]], sc->fig, o->pages);
	}
}

/*
 * From just before the interrupt ioctl (host TSC, moved into the guest's
 * TSC time by the backend's offset) to the handler's first instruction.
 */
static void measure_irq(struct vcpu *v, enum workload w, __u64 entry,
			__u32 n, struct scratch *sc, struct samples *s)
{
	const struct backend *be = v->vm->be;
	__u32 i;
	int r;

	if (!wanted(w))
		return;
	step(workload_keys[w]);
	r = be->tsc_offset(v, &sc->irq.tsc_offset);
	if (r)
		die("%s: reading the guest TSC offset: %s", be->name,
		    strerror(-r));
	sc->irq.n = 0;
	run_routine(v, entry, WARMUP_ITERATIONS, 0, NULL, &sc->irq);
	sc->irq.n = 0;
	run_routine(v, entry, n, 0, sc->raw, &sc->irq);
	if (sc->irq.n != n)
		die("%s: %u interrupts queued, %u expected", be->name,
		    sc->irq.n, n);
	for (i = 0; i < n; i++)
		sc->fig[i] = (__u32)(sc->raw[i] - sc->irq.t0[i]);
	samples_add_pass(&s[w], sc->fig, n);
}

static int write_file(const char *path, const char *text)
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

/*
 * vmxlab's floor: exits with the null_exit_reason module parameter skip
 * their handler.  KVM has no such knob; its cheapest exits (CPUID, VMCALL,
 * WBINVD) are measured instead and the report takes the lowest.
 */
static void measure_null(struct vcpu *v, const struct run_opts *o,
			 long long base, struct scratch *sc,
			 struct samples *s)
{
	char reason[16];

	if (o->be->kvm) {
		measure(v, W_VMCALL, GUEST_GPA(vmcall), o->iterations, 0, base,
			1, sc, s);
		measure(v, W_WBINVD, GUEST_GPA(wbinvd), o->iterations, 0, base,
			0, sc, s);
		return;
	}
	if (!wanted(W_NULL))
		return;
	snprintf(reason, sizeof(reason), "%d", VMX_EXIT_REASON_CPUID);
	if (write_file(NULL_EXIT_PARAM, reason)) {
		fprintf(stderr, "vmxlab-bench: cannot write %s: no null exit figure\n",
			NULL_EXIT_PARAM);
		return;
	}
	measure(v, W_NULL, GUEST_GPA(cpuid), o->iterations, 0, base, 1, sc, s);
	if (write_file(NULL_EXIT_PARAM, "-1"))
		die("cannot reset %s", NULL_EXIT_PARAM);
}

/* One pass: a fresh VM, every timed workload once. */
static void run_pass(const struct run_opts *o, struct scratch *sc,
		     struct samples *s)
{
	__u32 n = o->iterations;
	struct vcpu vcpu;
	long long base;
	struct vm vm;

	vm.sys_fd = open(o->be->dev, O_RDWR | O_CLOEXEC);
	if (vm.sys_fd < 0)
		die("%s: %s", o->be->dev, strerror(errno));
	vm_create(o->be, &vm, &vcpu, o->pages);

	base = timing_baseline(&vcpu, o, sc);
	measure_tsc(&vcpu, o, sc, s);
	measure(&vcpu, W_CPUID, GUEST_GPA(cpuid), n, 0, base, 1, sc, s);
	measure_null(&vcpu, o, base, sc, s);
	measure(&vcpu, W_OUT, GUEST_GPA(out), n, 0, base, 0, sc, s);
	measure(&vcpu, W_IN, GUEST_GPA(in), n, 0, base, 0, sc, s);
	measure(&vcpu, W_MMIO_WRITE, GUEST_GPA(mmio_write), n, GPA_MMIO, base,
		0, sc, s);
	measure(&vcpu, W_MMIO_READ, GUEST_GPA(mmio_read), n, GPA_MMIO, base,
		0, sc, s);
	measure_fault_in(&vcpu, o, base, sc, s);
	measure_irq(&vcpu, W_IRQ_OPEN, GUEST_GPA(irq_open), n, sc, s);
	measure_irq(&vcpu, W_IRQ_STI, GUEST_GPA(irq_sti), n, sc, s);
	/* Row 9, last: cr3 empties a vmxlab shadow tree every time. */
	measure(&vcpu, W_PF, GUEST_GPA(pf), n, VA_NOT_PRESENT, base, 0, sc,
		s);
	measure(&vcpu, W_REMAP, GUEST_GPA(remap), n, VA_REMAP, base, 0, sc,
		s);
	measure(&vcpu, W_CR3, GUEST_GPA(cr3), n, GPA_PML4_B, base, 1, sc, s);

	vm_destroy(&vm, &vcpu);
	close(vm.sys_fd);
}

/* --- kernel memory ----------------------------------------------------- */

#define MAX_CACHES	512
#define MEMINFO_KEYS	4

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

static FILE *open_proc(const char *path)
{
	FILE *f = fopen(path, "re");

	if (!f)
		die("%s: %s", path, strerror(errno));
	return f;
}

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

/* Kernel memory per unit between two snapshots, and its breakdown. */
struct mem_cost {
	double total;			/* bytes */
	double meminfo[MEMINFO_KEYS];	/* bytes, as meminfo_keys[] */
	int ntop;
	char top[4][32];		/* slab caches that grew most */
	double top_bytes[4];
};

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
static void measure_memory(const struct backend *be, struct mem_cost *per_vm,
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

/* --- results files ----------------------------------------------------- */

static void write_mem(FILE *f, const char *scope, const struct mem_cost *c)
{
	int i;

	fprintf(f, "mem %s %.0f", scope, c->total);
	for (i = 0; i < MEMINFO_KEYS; i++)
		fprintf(f, " %.0f", c->meminfo[i]);
	fprintf(f, "\n");
	for (i = 0; i < c->ntop; i++)
		fprintf(f, "memtop %s %s %.0f\n", scope, c->top[i],
			c->top_bytes[i]);
}

/*
 * kvm and kvm-shadow differ only in kvm_intel's ept parameter, set when
 * the module is loaded: measure only what the backend's name says.
 */
static void check_kvm_ept(const struct backend *be)
{
	char c = 0;
	int fd;

	if (!be->kvm)
		return;
	fd = open(KVM_EPT_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &c, 1) != 1)
		die("%s: %s", KVM_EPT_PARAM, strerror(errno));
	close(fd);
	if ((c == 'Y') == be->shadow)
		die("%s: kvm_intel is loaded with ept=%c", be->name, c);
}

static int cmd_run(const struct run_opts *o, const char *out)
{
	static struct samples s[NR_WORKLOADS];
	struct mem_cost per_vm, per_vcpu;
	struct summary sum;
	struct scratch sc;
	__u32 cap = o->iterations > o->pages ? o->iterations : o->pages;
	FILE *f = stdout;
	int i, w;

	sc.raw = calloc(cap, sizeof(*sc.raw));
	sc.fig = calloc(cap, sizeof(*sc.fig));
	sc.irq.t0 = calloc(cap, sizeof(*sc.irq.t0));
	sc.irq.cap = cap;
	if (!sc.raw || !sc.fig || !sc.irq.t0)
		die("out of memory");

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
	fprintf(f, "# vmxlab-bench results; stat: key n mean min median max pass-means\n");
	fprintf(f, "backend %s\n", o->be->name);
	fprintf(f, "config %u %u %d\n", o->iterations, o->pages, o->passes);
	for (w = 0; w < NR_WORKLOADS; w++) {
		summarize(&s[w], &sum);
		if (!sum.valid)
			continue;
		fprintf(f, "stat %s %u %.3f %lld %lld %lld", workload_keys[w],
			sum.n, sum.mean, sum.min, sum.median, sum.max);
		for (i = 0; i < sum.passes; i++)
			fprintf(f, " %.3f", sum.pass_mean[i]);
		fprintf(f, "\n");
	}
	write_mem(f, "vm", &per_vm);
	write_mem(f, "vcpu", &per_vcpu);
	if (f != stdout)
		fclose(f);
	return 0;
}

/* What `report` and `compare` read back. */
struct results {
	char backend[16];
	__u32 iterations, pages;
	int passes;
	struct summary stat[NR_WORKLOADS];
	struct mem_cost mem[2];		/* per VM, per vCPU */
	char unavailable[128];		/* why a backend has no figures */
};

static int workload_by_key(const char *key)
{
	int w;

	for (w = 0; w < NR_WORKLOADS; w++)
		if (!strcmp(key, workload_keys[w]))
			return w;
	return -1;
}

static void parse_stat(struct results *r, const char *line)
{
	struct summary sum = { .valid = true };
	char key[32];
	int w, n, off, i;

	if (sscanf(line, "stat %31s %u %lf %lld %lld %lld%n", key, &sum.n,
		   &sum.mean, &sum.min, &sum.median, &sum.max, &off) != 6)
		return;
	w = workload_by_key(key);
	if (w < 0)
		return;
	for (i = 0; i < MAX_PASSES; i++) {
		if (sscanf(line + off, " %lf%n", &sum.pass_mean[i], &n) != 1)
			break;
		off += n;
	}
	sum.passes = i;
	r->stat[w] = sum;
}

static void parse_mem(struct results *r, const char *line)
{
	struct mem_cost *c;
	char scope[8], cache[32];
	double v[5];

	if (sscanf(line, "mem %7s %lf %lf %lf %lf %lf", scope, &v[0], &v[1],
		   &v[2], &v[3], &v[4]) == 6) {
		c = &r->mem[strcmp(scope, "vm") ? 1 : 0];
		c->total = v[0];
		memcpy(c->meminfo, &v[1], sizeof(c->meminfo));
		return;
	}
	if (sscanf(line, "memtop %7s %31s %lf", scope, cache, &v[0]) == 3) {
		c = &r->mem[strcmp(scope, "vm") ? 1 : 0];
		if (c->ntop < 4) {
			snprintf(c->top[c->ntop], sizeof(c->top[0]), "%s", cache);
			c->top_bytes[c->ntop++] = v[0];
		}
	}
}

static void load_results(const char *path, struct results *r)
{
	char line[512];
	FILE *f;

	memset(r, 0, sizeof(*r));
	f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "backend %15s", r->backend) == 1)
			continue;
		if (sscanf(line, "unavailable %127[^\n]", r->unavailable) == 1)
			continue;
		if (sscanf(line, "config %u %u %d", &r->iterations, &r->pages,
			   &r->passes) == 3)
			continue;
		if (!strncmp(line, "stat ", 5))
			parse_stat(r, line);
		else if (!strncmp(line, "mem", 3))
			parse_mem(r, line);
	}
	fclose(f);
	if (!r->backend[0])
		die("%s: not a vmxlab-bench results file", path);
}

/* --- the report -------------------------------------------------------- */

/* KVM's cheapest exit among those measured: the stand-in for a null exit. */
static int kvm_cheapest(const struct results *k)
{
	static const int candidates[] = { W_CPUID, W_VMCALL, W_WBINVD };
	int i, best = -1;

	for (i = 0; i < 3; i++) {
		const struct summary *s = &k->stat[candidates[i]];

		/* WBINVD that does not exit costs one instruction. */
		if (!s->valid || s->mean < 20)
			continue;
		if (best < 0 || s->mean < k->stat[best].mean)
			best = candidates[i];
	}
	return best;
}

enum target_kind { T_NONE, T_RATIO, T_RATIO_AND_NULL };

struct row {
	const char *id;
	const char *title;
	int w;				/* vmxlab workload */
	int kw;				/* KVM workload; -1: cheapest exit */
	enum target_kind target;
	double max_ratio;
};

static const struct row rows[] = {
	{ "1", "CPUID exit, handled in the kernel", W_CPUID, W_CPUID,
	  T_RATIO_AND_NULL, 0.5 },
	{ "2a", "OUT to userspace and back", W_OUT, W_OUT, T_RATIO, 0.8 },
	{ "2b", "IN to userspace and back", W_IN, W_IN, T_RATIO, 0.8 },
	{ "3a", "MMIO store to userspace and back", W_MMIO_WRITE,
	  W_MMIO_WRITE, T_RATIO, 0.8 },
	{ "3b", "MMIO load to userspace and back", W_MMIO_READ, W_MMIO_READ,
	  T_RATIO, 0.8 },
	{ "4a", "EPT fault-in per 4 KiB page, host page present", W_EPT,
	  W_EPT, T_RATIO, 0.5 },
	{ "4b", "EPT fault-in per 4 KiB page, host page new", W_EPT_ALLOC,
	  W_EPT_ALLOC, T_RATIO, 0.5 },
	{ "5a", "interrupt: ioctl to handler, window open", W_IRQ_OPEN,
	  W_IRQ_OPEN, T_RATIO, 1.0 },
	{ "5b", "interrupt: ioctl to handler, IF=0 until STI", W_IRQ_STI,
	  W_IRQ_STI, T_RATIO, 1.0 },
	{ "6", "null exit", W_NULL, -1, T_NONE, 0 },
};

struct verdict {
	bool have;			/* both figures exist */
	double ratio;
	bool met;
	char target[64];
};

static void judge(const struct row *row, const struct results *v,
		  const struct results *k, struct verdict *out)
{
	int kw = row->kw < 0 ? kvm_cheapest(k) : row->kw;
	const struct summary *a = &v->stat[row->w];

	memset(out, 0, sizeof(*out));
	if (!a->valid || kw < 0 || !k->stat[kw].valid)
		return;
	out->have = true;
	out->ratio = a->mean / k->stat[kw].mean;
	out->met = out->ratio <= row->max_ratio;
	switch (row->target) {
	case T_NONE:
		out->met = true;
		break;
	case T_RATIO:
		snprintf(out->target, sizeof(out->target), "<= %.1f x KVM",
			 row->max_ratio);
		break;
	case T_RATIO_AND_NULL:
		snprintf(out->target, sizeof(out->target),
			 "<= %.1f x KVM, <= 2 x null", row->max_ratio);
		if (v->stat[W_NULL].valid)
			out->met = out->met &&
				   a->mean <= 2 * v->stat[W_NULL].mean;
		break;
	}
}

/*
 * Under Bochs with clock: sync=none the TSC advances by one per emulated
 * instruction: 1000 more iterations of the 5-instruction loop take 5000
 * more ticks (a host interrupt may lengthen a few samples: the median).
 */
static bool tsc_counts_instructions(const struct results *r)
{
	const struct summary *s = &r->stat[W_LOOP5];

	return s->valid && s->median == 5000;
}

static void fmt_mean(char *buf, size_t len, const struct summary *s)
{
	if (!s->valid)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f", s->mean);
}

static void fmt_summary(char *buf, size_t len, const struct summary *s)
{
	if (!s->valid)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f (%lld-%lld)", s->mean, s->min, s->max);
}

/* Largest difference between the passes of one run, in percent. */
static double pass_spread(const struct summary *s)
{
	double lo, hi;
	int i;

	if (!s->valid || s->passes < 2)
		return 0;
	lo = s->pass_mean[0];
	hi = lo;
	for (i = 1; i < s->passes; i++) {
		lo = s->pass_mean[i] < lo ? s->pass_mean[i] : lo;
		hi = s->pass_mean[i] > hi ? s->pass_mean[i] : hi;
	}
	return lo > 0 ? 100 * (hi - lo) / lo : 0;
}

static double max_spread(const struct results *r, int *worst)
{
	double m = 0, d;
	int w;

	*worst = -1;
	for (w = 0; w < NR_MAIN_WORKLOADS; w++) {
		d = pass_spread(&r->stat[w]);
		if (d > m || *worst < 0) {
			m = d > m ? d : m;
			*worst = w;
		}
	}
	return m;
}

static void print_mem_detail(const char *what, const struct mem_cost *c)
{
	int i;

	fprintf(stdout,
		"    %-7s %7.1f KiB: slab %.1f, kernel stacks %.1f, page tables %.1f, vmalloc %.1f KiB",
		what, c->total / 1024, c->meminfo[0] / 1024, c->meminfo[1] / 1024,
		c->meminfo[2] / 1024, c->meminfo[3] / 1024);
	for (i = 0; i < c->ntop; i++)
		printf("%s%s %.1f", i ? ", " : "; slab growth: ", c->top[i],
		       c->top_bytes[i] / 1024);
	printf("\n");
}

static void report_text(const struct results *v, const struct results *k)
{
	static const struct summary none;
	const struct summary *nop = &v->stat[W_LOOP5];
	char a[48], b[48];
	struct verdict vd;
	unsigned int i;
	double sv, sk;
	int wv, wk;

	printf("vmxlab-bench: emulated instructions per operation (guest RDTSC)\n");
	if (nop->valid)
		fprintf(stdout,
			"TSC check: a 5-instruction loop measures %.3f ticks per iteration (median)%s\n",
			nop->median / 1000.0, tsc_counts_instructions(v) ?
			": the TSC counts instructions (Bochs clock: sync=none)" :
			": the TSC does not count instructions here");
	sv = max_spread(v, &wv);
	sk = max_spread(k, &wk);
	fprintf(stdout,
		"Repeatability: %d passes per backend in this run; means differ by at most %.2f%% (vmxlab %s), %.2f%% (KVM %s)\n",
		v->passes, sv, wv >= 0 ? workload_keys[wv] : "-", sk,
		wk >= 0 ? workload_keys[wk] : "-");
	fprintf(stdout,
		"Iterations: %u per workload and pass (EPT: %u pages), after %u warm-up iterations\n\n",
		v->iterations, v->pages, WARMUP_ITERATIONS);

	printf("%-3s %-47s %-22s %-22s %6s  %s\n", "#", "workload",
	       "vmxlab mean (min-max)", "KVM mean (min-max)", "ratio", "target");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *row = &rows[i];
		int kw = row->kw < 0 ? kvm_cheapest(k) : row->kw;
		char title[64];

		judge(row, v, k, &vd);
		fmt_summary(a, sizeof(a), &v->stat[row->w]);
		fmt_summary(b, sizeof(b), kw >= 0 ? &k->stat[kw] : &none);
		snprintf(title, sizeof(title), "%s", row->title);
		if (row->kw < 0 && kw >= 0)
			snprintf(title, sizeof(title),
				 "%s (KVM: its cheapest, %s)", row->title,
				 workload_keys[kw]);
		printf("%-3s %-47s %-22s %-22s ", row->id, title, a, b);
		if (vd.have)
			printf("%6.2f", vd.ratio);
		else
			printf("%6s", "-");
		if (row->target != T_NONE && vd.have)
			printf("  %s: %s", vd.target, vd.met ? "met" : "MISSED");
		printf("\n");
	}
	printf("%-3s %-47s %-22.1f %-22.1f %6.2f\n", "7a",
	       "kernel memory per VM, KiB", v->mem[0].total / 1024,
	       k->mem[0].total / 1024, v->mem[0].total / k->mem[0].total);
	printf("%-3s %-47s %-22.1f %-22.1f %6.2f\n", "7b",
	       "kernel memory per vCPU, KiB (64 vCPUs)",
	       v->mem[1].total / 1024, k->mem[1].total / 1024,
	       v->mem[1].total / k->mem[1].total);
	printf("%-3s %-47s %-22s %-22s\n", "8", "MTF single step",
	       "n/a (not implemented)", "n/a");
	printf("\nMemory breakdown (per VM: %d empty VMs; per vCPU: %d vCPUs in one VM):\n",
	       MEM_VMS, MEM_VCPUS);
	printf("  vmxlab\n");
	print_mem_detail("VM", &v->mem[0]);
	print_mem_detail("vCPU", &v->mem[1]);
	printf("  KVM\n");
	print_mem_detail("VM", &k->mem[0]);
	print_mem_detail("vCPU", &k->mem[1]);
}

/* --- the shadow-paging rows (with four results files) ------------------ */

/* Row 9: a shadow VM's own costs, against KVM ept=0 and vmxlab's own. */
struct shadow_row {
	const char *id;
	const char *title;
	int w;
	int own;			/* vmxlab's EPT workload; -1: no target */
	const char *own_name;
	double max_own;
	double max_kvm;			/* x KVM ept=0; 0: no target */
	const char *miss_reason;	/* a miss known before measuring */
};

static const struct shadow_row shadow_rows[] = {
	{ "9a", "shadow #PF resolved per page, page present", W_EPT,
	  W_EPT, "4a", 2.5, 0.8, NULL },
	{ "9b", "reflected #PF: access to guest handler", W_PF, -1, NULL, 0,
	  0, NULL },
	{ "9c", "MOV CR3 between two roots (+ a store)", W_CR3, W_CPUID,
	  "CPUID", 1.5, 0,
	  "no cached roots: each MOV CR3 empties the shadow tree" },
	{ "9d", "PTE write + INVLPG + touch", W_REMAP, W_CPUID, "CPUID",
	  3.0, 0, NULL },
};

/* Same guest, EPT against shadow paging: vmxlab's targets. */
static const struct same_row {
	const char *id;
	int w;
	double max;
} same_rows[] = {
	{ "1", W_CPUID, 1.05 }, { "2a", W_OUT, 1.05 },
	{ "3a", W_MMIO_WRITE, 1.3 }, { "5a", W_IRQ_OPEN, 0 },
};

static double ratio_of(const struct summary *a, const struct summary *b,
		       bool *have)
{
	*have = a->valid && b->valid && b->mean > 0;
	return *have ? a->mean / b->mean : 0;
}

/* Each target of a row: its text, and met, MISSED or n/a. */
struct shadow_verdict {
	bool have_kvm, have_own;
	double x_kvm, x_own;
	const char *own_verdict, *kvm_verdict;	/* NULL: no such target */
	char text[96];
};

static const char *verdict_word(bool have, bool met)
{
	return !have ? "n/a" : met ? "met" : "MISSED";
}

static void judge_shadow(const struct shadow_row *row,
			 const struct results *v, const struct results *vs,
			 const struct results *ks, struct shadow_verdict *out)
{
	const struct summary *a = &vs->stat[row->w];
	int len = 0;

	memset(out, 0, sizeof(*out));
	out->x_kvm = ratio_of(a, &ks->stat[row->w], &out->have_kvm);
	if (row->own >= 0) {
		out->x_own = ratio_of(a, &v->stat[row->own], &out->have_own);
		out->own_verdict = verdict_word(out->have_own,
						out->x_own <= row->max_own);
		len += snprintf(out->text, sizeof(out->text),
				"<= %.1f x own %s: %s", row->max_own,
				row->own_name, out->own_verdict);
	}
	if (row->max_kvm > 0) {
		out->kvm_verdict = verdict_word(out->have_kvm,
						out->x_kvm <= row->max_kvm);
		snprintf(out->text + len, sizeof(out->text) - len,
			 "%s<= %.1f x KVM ept=0: %s", len ? "; " : "",
			 row->max_kvm, out->kvm_verdict);
	}
}

static void print_ratio(bool have, double r)
{
	if (have)
		printf(" %6.2f", r);
	else
		printf(" %6s", "-");
}

static const char *row_title(int w)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].w == w)
			return rows[i].title;
	return workload_keys[w];
}

static void report_shadow_text(const struct results *v,
			       const struct results *k,
			       const struct results *vs,
			       const struct results *ks)
{
	struct shadow_verdict vd;
	char a[48], b[48];
	unsigned int i;
	double r;
	bool have;

	printf("\nShadow paging: vmxlab VMXLAB_VM_SHADOW, KVM kvm_intel ept=0\n");
	if (vs->unavailable[0])
		printf("vmxlab-shadow: n/a (%s)\n", vs->unavailable);
	if (ks->unavailable[0])
		printf("KVM ept=0: n/a (%s)\n", ks->unavailable);
	printf("%-3s %-42s %-22s %-22s %6s %6s  %s\n", "#", "workload",
	       "vmxlab shadow", "KVM ept=0", "x KVM", "x own", "target");
	for (i = 0; i < ARRAY_SIZE(shadow_rows); i++) {
		const struct shadow_row *row = &shadow_rows[i];

		judge_shadow(row, v, vs, ks, &vd);
		fmt_summary(a, sizeof(a), &vs->stat[row->w]);
		fmt_summary(b, sizeof(b), &ks->stat[row->w]);
		printf("%-3s %-42s %-22s %-22s", row->id, row->title, a, b);
		print_ratio(vd.have_kvm, vd.x_kvm);
		print_ratio(vd.have_own, vd.x_own);
		printf("  %s", vd.text);
		if (row->miss_reason && vd.own_verdict &&
		    !strcmp(vd.own_verdict, "MISSED"))
			printf(" (%s)", row->miss_reason);
		printf("\n");
		fmt_summary(a, sizeof(a), &v->stat[row->w]);
		fmt_summary(b, sizeof(b), &k->stat[row->w]);
		printf("%-3s %-42s %-22s %s\n", "",
		       row->w == W_EPT ? "  the same on EPT (row 4a)" :
		       "  the same on EPT (no exit)", a, b);
	}

	printf("\nSame guest, EPT against shadow paging (ratio: shadow / EPT)\n");
	printf("%-3s %-42s %-10s %-10s %6s  %-16s %-10s %-10s %6s\n", "#",
	       "workload", "vmxlab", "shadow", "ratio", "target", "KVM",
	       "ept=0", "ratio");
	for (i = 0; i < ARRAY_SIZE(same_rows); i++) {
		const struct same_row *row = &same_rows[i];
		char t[24] = "";

		fmt_mean(a, sizeof(a), &v->stat[row->w]);
		fmt_mean(b, sizeof(b), &vs->stat[row->w]);
		printf("%-3s %-42s %-10s %-10s", row->id, row_title(row->w), a,
		       b);
		r = ratio_of(&vs->stat[row->w], &v->stat[row->w], &have);
		print_ratio(have, r);
		if (row->max > 0)
			snprintf(t, sizeof(t), "<= %.2f: %s", row->max,
				 !have ? "n/a" : r <= row->max ? "met" :
				 "MISSED");
		printf("  %-16s", t);
		fmt_mean(a, sizeof(a), &k->stat[row->w]);
		fmt_mean(b, sizeof(b), &ks->stat[row->w]);
		printf(" %-10s %-10s", a, b);
		r = ratio_of(&ks->stat[row->w], &k->stat[row->w], &have);
		print_ratio(have, r);
		printf("\n");
	}
}

static void json_summary(const char *name, const struct summary *s,
			 const char *sep)
{
	int i;

	if (!s->valid) {
		printf("      \"%s\": null%s\n", name, sep);
		return;
	}
	fprintf(stdout,
		"      \"%s\": {\"n\": %u, \"mean\": %.3f, \"min\": %lld, \"median\": %lld, \"max\": %lld, \"pass_means\": [",
		name, s->n, s->mean, s->min, s->median, s->max);
	for (i = 0; i < s->passes; i++)
		printf("%s%.3f", i ? ", " : "", s->pass_mean[i]);
	printf("]}%s\n", sep);
}

static void json_mem(const char *name, const struct mem_cost *c,
		     const char *sep)
{
	int i;

	fprintf(stdout,
		"      \"%s\": {\"bytes\": %.0f, \"slab\": %.0f, \"kernel_stack\": %.0f, \"page_tables\": %.0f, \"vmalloc\": %.0f, \"slab_growth\": {",
		name, c->total, c->meminfo[0], c->meminfo[1], c->meminfo[2],
		c->meminfo[3]);
	for (i = 0; i < c->ntop; i++)
		printf("%s\"%s\": %.0f", i ? ", " : "", c->top[i],
		       c->top_bytes[i]);
	printf("}}%s\n", sep);
}

/* The shadow rows as JSON members, after the main table's "rows". */
static void report_shadow_json(const struct results *v,
			       const struct results *k,
			       const struct results *vs,
			       const struct results *ks)
{
	struct shadow_verdict vd;
	unsigned int i;
	double r;
	bool have;

	printf("  \"shadow_unavailable\": {\"vmxlab-shadow\": \"%s\", \"kvm-shadow\": \"%s\"},\n",
	       vs->unavailable, ks->unavailable);
	printf("  \"shadow_rows\": [\n");
	for (i = 0; i < ARRAY_SIZE(shadow_rows); i++) {
		const struct shadow_row *row = &shadow_rows[i];

		judge_shadow(row, v, vs, ks, &vd);
		printf("    {\n      \"id\": \"%s\",\n      \"workload\": \"%s\",\n",
		       row->id, workload_keys[row->w]);
		json_summary("vmxlab_shadow", &vs->stat[row->w], ",");
		json_summary("kvm_shadow", &ks->stat[row->w], ",");
		json_summary("vmxlab_ept", &v->stat[row->w], ",");
		json_summary("kvm_ept", &k->stat[row->w], ",");
		if (vd.have_kvm)
			printf("      \"ratio_kvm\": %.4f,\n", vd.x_kvm);
		if (vd.have_own)
			printf("      \"ratio_own\": %.4f,\n", vd.x_own);
		if (vd.text[0])
			printf("      \"verdict\": \"%s\",\n", vd.text);
		printf("      \"title\": \"%s\"\n    }%s\n", row->title,
		       i + 1 < ARRAY_SIZE(shadow_rows) ? "," : "");
	}
	printf("  ],\n  \"same_guest_rows\": [\n");
	for (i = 0; i < ARRAY_SIZE(same_rows); i++) {
		const struct same_row *row = &same_rows[i];

		printf("    {\n      \"id\": \"%s\",\n      \"workload\": \"%s\",\n",
		       row->id, workload_keys[row->w]);
		json_summary("vmxlab_ept", &v->stat[row->w], ",");
		json_summary("vmxlab_shadow", &vs->stat[row->w], ",");
		json_summary("kvm_ept", &k->stat[row->w], ",");
		json_summary("kvm_shadow", &ks->stat[row->w], ",");
		r = ratio_of(&ks->stat[row->w], &k->stat[row->w], &have);
		if (have)
			printf("      \"ratio_kvm\": %.4f,\n", r);
		r = ratio_of(&vs->stat[row->w], &v->stat[row->w], &have);
		if (row->max > 0)
			printf("      \"target\": \"<= %.2f\",\n      \"met\": %s,\n",
			       row->max, !have ? "null" :
			       r <= row->max ? "true" : "false");
		printf("      \"ratio\": ");
		if (have)
			printf("%.4f\n", r);
		else
			printf("null\n");
		printf("    }%s\n", i + 1 < ARRAY_SIZE(same_rows) ? "," : "");
	}
	printf("  ],\n");
}

static void report_json(const struct results *v, const struct results *k,
			const struct results *vs, const struct results *ks)
{
	const struct summary *nop = &v->stat[W_LOOP5];
	struct verdict vd;
	unsigned int i;
	int wv, wk;

	printf("{\n");
	fprintf(stdout,
		"  \"units\": \"guest TSC ticks per operation; emulated instructions under Bochs clock: sync=none\",\n");
	printf("  \"tsc_ticks_per_loop5_iteration\": %.3f,\n",
	       nop->valid ? nop->median / 1000.0 : 0);
	printf("  \"tsc_counts_instructions\": %s,\n",
	       tsc_counts_instructions(v) ? "true" : "false");
	printf("  \"iterations\": %u,\n  \"pages\": %u,\n  \"passes\": %d,\n",
	       v->iterations, v->pages, v->passes);
	printf("  \"max_pass_spread_percent\": {\"vmxlab\": %.4f, \"kvm\": %.4f},\n",
	       max_spread(v, &wv), max_spread(k, &wk));
	if (vs)
		report_shadow_json(v, k, vs, ks);
	printf("  \"rows\": [\n");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *row = &rows[i];
		int kw = row->kw < 0 ? kvm_cheapest(k) : row->kw;

		judge(row, v, k, &vd);
		printf("    {\n      \"id\": \"%s\",\n      \"workload\": \"%s\",\n",
		       row->id, workload_keys[row->w]);
		json_summary("vmxlab", &v->stat[row->w], ",");
		if (kw >= 0) {
			printf("      \"kvm_workload\": \"%s\",\n",
			       workload_keys[kw]);
			json_summary("kvm", &k->stat[kw], ",");
		}
		if (vd.have)
			printf("      \"ratio\": %.4f,\n", vd.ratio);
		if (row->target != T_NONE && vd.have)
			printf("      \"target\": \"%s\",\n      \"met\": %s,\n",
			       vd.target, vd.met ? "true" : "false");
		printf("      \"title\": \"%s\"\n    },\n", row->title);
	}
	printf("    {\n      \"id\": \"7\",\n      \"workload\": \"memory\",\n");
	printf("      \"vms\": %d,\n      \"vcpus\": %d,\n", MEM_VMS, MEM_VCPUS);
	json_mem("vmxlab_per_vm", &v->mem[0], ",");
	json_mem("kvm_per_vm", &k->mem[0], ",");
	json_mem("vmxlab_per_vcpu", &v->mem[1], ",");
	json_mem("kvm_per_vcpu", &k->mem[1], "");
	printf("    },\n");
	printf("    {\n"
	       "      \"id\": \"8\",\n"
	       "      \"workload\": \"mtf\",\n"
	       "      \"vmxlab\": \"n/a (not implemented)\",\n"
	       "      \"kvm\": \"n/a\"\n"
	       "    }\n");
	printf("  ]\n}\n");
}

/* --- comparing two runs ------------------------------------------------ */

static double rel_diff(double a, double b)
{
	double lo = a < b ? a : b;

	if (a == b)
		return 0;
	return lo > 0 ? 100 * (a > b ? a - b : b - a) / lo : 100;
}

/*
 * The repeatable figures of the report, old run against new one: means,
 * minima and memory.  Maxima are not: they are the operation that a host
 * timer tick happened to hit, and where ticks land moves between boots.
 * Returns whether all agree within @limit percent.
 */
static bool compare_results(const struct results *old,
			    const struct results *cur, double limit,
			    double *worst, char *what, size_t len)
{
	const struct summary *a, *b;
	double d;
	int w, i;

	*worst = 0;
	snprintf(what, len, "-");
	for (w = 0; w < NR_WORKLOADS; w++) {
		a = &old->stat[w];
		b = &cur->stat[w];
		if (!a->valid || !b->valid)
			continue;
		d = rel_diff(a->mean, b->mean);
		if (rel_diff(a->min, b->min) > d)
			d = rel_diff(a->min, b->min);
		if (d >= *worst) {
			*worst = d;
			snprintf(what, len, "%s %s", cur->backend,
				 workload_keys[w]);
		}
	}
	for (i = 0; i < 2; i++) {
		d = rel_diff(old->mem[i].total, cur->mem[i].total);
		if (d >= *worst) {
			*worst = d;
			snprintf(what, len, "%s memory per %s", cur->backend,
				 i ? "vCPU" : "VM");
		}
	}
	return *worst <= limit;
}

static int cmd_compare(char **files)
{
	struct results old, cur;
	double worst, d;
	char what[64], w[64];
	bool ok = true;
	int i;

	worst = 0;
	snprintf(what, sizeof(what), "-");
	for (i = 0; i < 2; i++) {
		load_results(files[i], &old);
		load_results(files[i + 2], &cur);
		if (strcmp(old.backend, cur.backend))
			die("%s and %s are results of different backends",
			    files[i], files[i + 2]);
		if (old.iterations != cur.iterations ||
		    old.pages != cur.pages || old.passes != cur.passes) {
			printf("vmxlab-bench: the previous run had other settings: not compared\n");
			return 0;
		}
		ok = compare_results(&old, &cur, 1.0, &d, w, sizeof(w)) && ok;
		if (d >= worst) {
			worst = d;
			snprintf(what, sizeof(what), "%s", w);
		}
	}
	fprintf(stdout,
		"vmxlab-bench: against the previous run: means, minima and memory within %.2f%% (largest difference: %s): %s\n",
		worst, what, ok ? "agree within 1%" : "DIFFER by more than 1%");
	return ok ? 0 : 1;
}

/* --- profile: instructions between trace events ---------------------- */

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

/*
 * Instructions between trace events: the backend's entry and exit
 * tracepoints and, with --probes, kprobes at function entries.  What one
 * event costs is measured on the CPUID loop, where every event falls in
 * the timed interval: traced minus untraced, per event.
 */
static int cmd_profile(struct run_opts *o, enum workload w, char *probes)
{
	bool kvm = o->be->kvm;
	const char *tp = kvm ? "kvm_" : "vmxlab_";
	char calib_probe[] = "vmxlab:vmx_handle_exit";
	char calib_probe_kvm[] = "kvm:kvm_emulate_cpuid";
	struct trace_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	double plain, traced, cost_tp, cost_kp = 0, untraced;
	struct scratch sc;
	int n;

	sc.raw = calloc(o->iterations, sizeof(*sc.raw));
	sc.fig = calloc(o->iterations, sizeof(*sc.fig));
	sc.irq.t0 = calloc(o->iterations, sizeof(*sc.irq.t0));
	sc.irq.cap = o->iterations;
	if (!ev || !sc.raw || !sc.fig || !sc.irq.t0)
		die("out of memory");

	profile_cleanup();
	atexit(profile_cleanup);
	tracefs_write("tracing_on", "0");
	tracefs_write("trace_clock", "x86-tsc");
	tracefs_write("buffer_size_kb", "16384");
	only = workload_keys[w];
	untraced = profile_run(o, w, &sc);
	only = workload_keys[W_CPUID];
	plain = profile_run(o, W_CPUID, &sc);

	tracefs_write(kvm ? "events/kvm/kvm_entry/enable" : "events/vmxlab/enable",
		      "1");
	if (kvm)
		tracefs_write("events/kvm/kvm_exit/enable", "1");
	traced = profile_traced(o, W_CPUID, &sc, ev, &n);
	cost_tp = (traced - plain) / 2;
	if (probes) {
		add_probes(kvm ? calib_probe_kvm : calib_probe);
		tracefs_write("events/vmxlab_bench/enable", "1");
		cost_kp = profile_traced(o, W_CPUID, &sc, ev, &n) - traced;
		tracefs_write("events/vmxlab_bench/enable", "0");
		tracefs_truncate("kprobe_events");
		add_probes(probes);
		tracefs_write("events/vmxlab_bench/enable", "1");
	}
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

/* --- main -------------------------------------------------------------- */

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: vmxlab-bench run --backend BACKEND [--out FILE] [--iterations N]\n"
		"                        [--pages N] [--passes N] [--only WORKLOAD]\n"
		"       vmxlab-bench profile --backend BACKEND --only WORKLOAD\n"
		"                        [--iterations N] [--probes [MOD:]FUNC,...]\n"
		"       vmxlab-bench report [--json] VMXLAB_RESULTS KVM_RESULTS\n"
		"                        [VMXLAB_SHADOW_RESULTS KVM_SHADOW_RESULTS]\n"
		"       vmxlab-bench compare OLD_VMXLAB OLD_KVM NEW_VMXLAB NEW_KVM\n"
		"\n"
		"run: measure one backend (in the test VM: /dev/vmxlab with vmxlab.ko\n"
		"loaded, or /dev/kvm with kvm_intel) and write its results.\n"
		"profile: instructions between the backend's entry and exit tracepoints\n"
		"(and kprobes at FUNC...), tracing overhead measured and taken out.\n"
		"report: the table of both backends, or the same as JSON; with the\n"
		"shadow backends' results too, the shadow-paging rows after it.\n"
		"BACKEND: vmxlab, kvm, vmxlab-shadow (VMXLAB_VM_SHADOW) or kvm-shadow\n"
		"(kvm_intel loaded with ept=0).\n"
		"compare: do two runs agree within 1%% on every figure?\n");
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

int main(int argc, char **argv)
{
	static struct results v, k, vs, ks;
	bool json = false, shadow;
	int a = 2;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_help(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "run")) {
		struct cli c = {
			.o = { .iterations = 10000, .pages = 4096, .passes = 2 },
		};

		parse_opts(argc - 2, argv + 2, &c);
		return cmd_run(&c.o, c.out);
	}
	if (argc >= 2 && !strcmp(argv[1], "profile")) {
		struct cli c = {
			.o = { .iterations = 200, .pages = 200, .passes = 1 },
		};

		parse_opts(argc - 2, argv + 2, &c);
		if (!only)
			die("profile: --only WORKLOAD is required");
		c.o.pages = c.o.iterations;
		return cmd_profile(&c.o, workload_by_key(only), c.probes);
	}
	if (argc == 6 && !strcmp(argv[1], "compare"))
		return cmd_compare(argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "report")) {
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
	print_help(stderr);
	return 2;
}
