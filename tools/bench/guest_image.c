// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-bench's guest: its image in assembly, and a VM with it loaded on
 * either backend.  The workloads (workloads.c) enter its routines; the
 * layout it shares with the other small guests is tools/guest.c's.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

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
"	.macro BENCH_ENTRY name\n"
"	.globl	bench_guest_\\name\n"
"	.hidden	bench_guest_\\name\n"
"bench_guest_\\name:\n"
"	.endm\n"
"	BENCH_ENTRY start\n"
"	.macro T_BEGIN name\n"
"	BENCH_ENTRY \\name\n"
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
/* nop: row 8 steps it and the empty routine, one instruction apart. */
"	T_BEGIN nop\n"
"	nop\n"
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
 * Row 4c: the same store to RDI fresh pages in a fixed pseudo-random
 * order, drawn without repeats from the SCATTER_SPREAD (16) x RDI pages
 * from RBX, rounded up to a power of two M: page number x mod M of the
 * LCG x = x * a + c (a = 1 mod 4, c odd: full period mod M, Knuth
 * 3.2.1.2).  Only the store is timed.
 */
"	BENCH_ENTRY scatter\n"
"	mov	%rdi, %r9\n"
"	shl	$4, %r9\n"			/* SCATTER_SPREAD */
"	dec	%r9\n"
"	bsr	%r9, %rcx\n"
"	inc	%ecx\n"
"	mov	$1, %r9d\n"
"	shl	%cl, %r9\n"
"	dec	%r9\n"				/* M - 1 */
"	mov	$0x2545, %r10d\n"		/* the seed */
"	movabs	$0x5851f42d4c957f2d, %r11\n"
"1:	imul	%r11, %r10\n"
"	add	$12345, %r10\n"
"	mov	%r10, %r12\n"
"	and	%r9, %r12\n"
"	shl	$12, %r12\n"
"	add	%rbx, %r12\n"
"	rdtsc\n"
"	mov	%eax, %r8d\n"
"	mov	%ecx, (%r12)\n"
"	T_END\n"
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
"	BENCH_ENTRY cr3\n"
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
"	BENCH_ENTRY remap\n"
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
"	BENCH_ENTRY irq_open\n"
"1:	sti\n"
"	nop\n"
"	out	%al, $0xf1\n"
"	dec	%rdi\n"
"	jnz	1b\n"
"	hlt\n"
"\n"
"	BENCH_ENTRY irq_sti\n"
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

/* A routine's entry: RIP and its three arguments, IF = 0. */
void entry_regs(struct vmxlab_regs *r, __u64 rip, __u64 rdi,
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

/* --- building the guest ------------------------------------------------ */

/* Page tables, GDT, IDT and code: the same bytes for both backends. */
void build_guest(unsigned char *mem)
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
 * populated on the host except fault region B and the regions after it
 * (fault_around.c), so that region A measures the hypervisor's fault-in
 * alone.
 */
/*
 * Guest RAM of vm->mem_size bytes: 4 KiB host pages only (no THP, so
 * that both EPTs map 4 KiB), populated below @populated, with the guest
 * image built in it.
 */
void guest_mem_map(struct vm *vm, __u64 populated)
{
	size_t off;

	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory: %s", strerror(errno));
	if (madvise(vm->mem, vm->mem_size, MADV_NOHUGEPAGE))
		die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	for (off = 0; off < populated; off += PAGE_SIZE)
		vm->mem[off] = 0;
	build_guest(vm->mem);
}

void vm_create(const struct backend *be, struct vm *vm,
	       struct vcpu *vcpu, __u64 pages)
{
	__u64 fault_b = GPA_FAULT + (WARMUP_PAGES + pages) * PAGE_SIZE;
	struct guest_cpuid_leaf leaves[GUEST_CPUID_LEAVES];
	int n, r;

	vm->be = be;
	vm->mem_size = (fault_around_mem_end(pages) + (2 << 20) - 1) &
		       ~((2ULL << 20) - 1);
	guest_mem_map(vm, fault_b);

	vcpu->stepping = false;
	vcpu->steps = 0;
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

void vm_destroy(struct vm *vm, struct vcpu *vcpu)
{
	munmap(vcpu->run, vcpu->run_size);
	close(vcpu->fd);
	close(vm->fd);
	munmap(vm->mem, vm->mem_size);
}
