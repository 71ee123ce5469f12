/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guests of `vmxlab-trace demo`: one short routine per demo, 64-bit,
 * position independent, copied to GUEST_CODE (tools/guest.h) with the
 * rest of this image.  Each ends with HLT, which ends the run.  The
 * host's side of each is in demos.c; selftests/trace_tool_test.c holds
 * the (exit reason, decision) sequence each must produce, so a change
 * here is a change there.
 *
 * Ports: OUT to 0xe9 prints AL on the host's stdout, OUT to 0xe0 asks
 * the host to queue the interrupt whose vector is in AL.
 */
	.section .rodata.trace_guest, "a"
	.code64
	.balign 16
	.globl	trace_guest_start, trace_guest_end
	.globl	trace_guest_warm, trace_guest_fault, trace_guest_irq
	.globl	trace_guest_pf, trace_guest_pf_resume
	.globl	trace_demo_cpuid, trace_demo_pio, trace_demo_mmio
	.globl	trace_demo_hlt, trace_demo_ept, trace_demo_irq_window
	.globl	trace_demo_host_irq, trace_demo_pf_resolved
	.globl	trace_demo_pf_reflected, trace_demo_step

trace_guest_start:

/*
 * Touch every page a demo uses before the log starts, so that each demo
 * shows its own exits only: RDI = first, RSI = end of the pages to read
 * (tables, code), RDX = the stack page, written.
 */
trace_guest_warm:
1:	movb	(%rdi), %al
	add	$4096, %rdi
	cmp	%rsi, %rdi
	jb	1b
	orb	$0, (%rdx)
	hlt

/*
 * cpuid: two CPUIDs, each emulated by vmxlab: leaf 0, then leaf 1 with
 * ECX (the subleaf, which leaf 0 set to "ntel") cleared.
 */
trace_demo_cpuid:
	xor	%eax, %eax
	cpuid
	xor	%ecx, %ecx
	lea	1(%rcx), %eax
	cpuid
	hlt

/* pio: "hi\n" on port 0xe9, then an IN the VMM answers. */
trace_demo_pio:
	mov	$'h', %al
	out	%al, $0xe9
	mov	$'i', %al
	out	%al, $0xe9
	mov	$'\n', %al
	out	%al, $0xe9
	in	$0x61, %al
	hlt

/* mmio: a store and a load at 512 MiB, where no memory slot is. */
trace_demo_mmio:
	mov	$0x20000000, %ebx
	movl	$0x12345678, (%rbx)
	mov	(%rbx), %eax
	hlt

/* hlt: nothing but HLT. */
trace_demo_hlt:
	hlt

/*
 * ept: slot 1 (4 MiB up) is not mapped yet: two pages touched, one of
 * them twice (the second time, EPT maps it already).
 */
trace_demo_ept:
	mov	$0x400000, %ebx
	movl	$1, (%rbx)
	movl	$2, 0x1000(%rbx)
	movl	$3, 8(%rbx)
	hlt

/*
 * irq-window: with IF = 0 the guest asks for vector 0x30 (port 0xe0);
 * vmxlab holds it until STI opens the window.  The handler prints 'i'.
 */
trace_demo_irq_window:
	mov	$0x30, %al
	out	%al, $0xe0
	nop
	sti
	nop
	hlt

trace_guest_irq:
	push	%rax
	mov	$'i', %al
	out	%al, $0xe9
	pop	%rax
	iretq

/*
 * host-irq: IF = 1 and a loop of 20 million TSC ticks (7 ms at 3 GHz,
 * 20 million instructions in Bochs), so that the host's timer interrupts
 * arrive while the guest runs (Bochs holds them while IF = 0).
 */
trace_demo_host_irq:
	sti
	rdtsc
	mov	%eax, %ecx
1:	rdtsc
	sub	%ecx, %eax
	cmp	$20000000, %eax
	jb	1b
	hlt

/*
 * pf-resolved (shadow paging): stores to two pages the guest's tables
 * map but vmxlab's shadow tables do not yet.
 */
trace_demo_pf_resolved:
	mov	$0x30000, %ebx
	movl	$1, (%rbx)
	movl	$2, 0x1000(%rbx)
	hlt

/*
 * pf-reflected (shadow paging): a store to 1 GiB, which the guest's own
 * tables do not map; its #PF handler prints 'P' and skips the store.
 */
trace_demo_pf_reflected:
	mov	$0x40000000, %ebx
	movl	$1, (%rbx)
trace_guest_pf_resume:
	hlt

trace_guest_pf:
	add	$8, %rsp			/* the error code */
	push	%rax
	lea	trace_guest_pf_resume(%rip), %rax
	mov	%rax, 8(%rsp)			/* return past the store */
	mov	$'P', %al
	out	%al, $0xe9
	pop	%rax
	iretq

/*
 * step: single-stepped with the monitor trap flag.  The encodings are
 * what selftests/trace_tool_test.c expects after each step.
 */
trace_demo_step:
	mov	$1, %eax			/* b8 01 00 00 00 */
	add	%eax, %eax			/* 01 c0 */
	nop					/* 90 */
	xor	%eax, %eax			/* 31 c0 */
	cpuid					/* 0f a2 */
	hlt					/* f4 */

/* Any other exception or interrupt: '!' on port 0xe9, then HLT. */
trace_guest_fault:
	mov	$'!', %al
	out	%al, $0xe9
	hlt

trace_guest_end:
	.section .note.GNU-stack, "", @progbits
