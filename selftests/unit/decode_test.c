// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vmx/decode.c, the MMIO instruction decoder, linked into a
 * userspace binary.  The byte sequences are what GNU as emits for the
 * instruction text beside them (as --64 with .code64/.code32/.code16,
 * checked with objdump -d); "hand-made" marks bytes as does not emit.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernel_shim.h"
#include "../../vmx/decode.h"
#include "kselftest_harness.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
	R8, R9, R10, R11, R12, R13, R14, R15 };

struct vector {
	unsigned int mode;			/* 16, 32 or 64 */
	const char *text;			/* the instruction */
	u8 bytes[MMIO_INSN_MAX_LEN];		/* want.len of them */
	struct mmio_insn want;
};

#define IMM	.operand = MMIO_OPERAND_IMM

/*
 * 64-bit mode: every opcode form; REX.W, .R, .X, .B; 66; 67 (32-bit
 * addressing); high-byte and REX byte registers; SIB with and without
 * displacement; RIP-relative; immediates of each size.
 */
static const struct vector mode64[] = {
	{ 64, "movl %eax,(%rbx)", { 0x89, 0x03 },
	  { .len = 2, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl (%rbx),%eax", { 0x8b, 0x03 },
	  { .len = 2, .size = 4, .ext_size = 4, .reg = RAX } },
	{ 64, "movq %rax,(%rbx)", { 0x48, 0x89, 0x03 },
	  { .len = 3, .is_write = true, .size = 8, .reg = RAX } },
	{ 64, "movq (%rbx),%r9", { 0x4c, 0x8b, 0x0b },
	  { .len = 3, .size = 8, .ext_size = 8, .reg = R9 } },
	{ 64, "movl %r10d,(%r11)", { 0x45, 0x89, 0x13 },
	  { .len = 3, .is_write = true, .size = 4, .reg = R10 } },
	{ 64, "movl (%rax,%r14,2),%r15d", { 0x46, 0x8b, 0x3c, 0x70 },
	  { .len = 4, .size = 4, .ext_size = 4, .reg = R15 } },
	{ 64, "movq %rsp,-8(%rbp)", { 0x48, 0x89, 0x65, 0xf8 },
	  { .len = 4, .is_write = true, .size = 8, .reg = RSP } },
	{ 64, "movw %ax,(%rbx)", { 0x66, 0x89, 0x03 },
	  { .len = 3, .is_write = true, .size = 2, .reg = RAX } },
	{ 64, "movabs 0x1122334455667788,%ax",
	  { 0x66, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 },
	  { .len = 10, .size = 2, .ext_size = 2, .reg = RAX } },

	/* Byte registers: AH-BH without REX, SPL-DIL and R8B-R15B with. */
	{ 64, "movb %al,(%rbx)", { 0x88, 0x03 },
	  { .len = 2, .is_write = true, .size = 1, .reg = RAX } },
	{ 64, "movb %ah,(%rbx)", { 0x88, 0x23 },
	  { .len = 2, .is_write = true, .size = 1, .reg = RAX,
	    .high_byte = true } },
	{ 64, "movb %bh,(%rbx)", { 0x88, 0x3b },
	  { .len = 2, .is_write = true, .size = 1, .reg = RBX,
	    .high_byte = true } },
	{ 64, "movb %spl,(%rbx)", { 0x40, 0x88, 0x23 },
	  { .len = 3, .is_write = true, .size = 1, .reg = RSP } },
	{ 64, "movb %dil,(%rbx)", { 0x40, 0x88, 0x3b },
	  { .len = 3, .is_write = true, .size = 1, .reg = RDI } },
	{ 64, "movb %r8b,(%rbx)", { 0x44, 0x88, 0x03 },
	  { .len = 3, .is_write = true, .size = 1, .reg = R8 } },
	{ 64, "movb (%rbx),%ch", { 0x8a, 0x2b },
	  { .len = 2, .size = 1, .ext_size = 1, .reg = RCX,
	    .high_byte = true } },
	{ 64, "movb (%rbx),%sil", { 0x40, 0x8a, 0x33 },
	  { .len = 3, .size = 1, .ext_size = 1, .reg = RSI } },
	{ 64, "movb (%rbx),%r15b", { 0x44, 0x8a, 0x3b },
	  { .len = 3, .size = 1, .ext_size = 1, .reg = R15 } },

	/* Displacements and SIB (SDM Vol. 2A, Tables 2-2 and 2-3). */
	{ 64, "movl %eax,0x10(%rbx)", { 0x89, 0x43, 0x10 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x12345678(%rbx)",
	  { 0x89, 0x83, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 6, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,(%rbx,%rcx,4)", { 0x89, 0x04, 0x8b },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x10(%rbx,%rcx,4)", { 0x89, 0x44, 0x8b, 0x10 },
	  { .len = 4, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x1000(%rbx,%rcx,4)",
	  { 0x89, 0x84, 0x8b, 0x00, 0x10, 0x00, 0x00 },
	  { .len = 7, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x1000(,%rcx,4)",	/* SIB base 101, mod 00 */
	  { 0x89, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00 },
	  { .len = 7, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,(%rsp)", { 0x89, 0x04, 0x24 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,(%r12)", { 0x41, 0x89, 0x04, 0x24 },
	  { .len = 4, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,(%r13)", { 0x41, 0x89, 0x45, 0x00 },
	  { .len = 4, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x10(%r13,%r14,8)", { 0x43, 0x89, 0x44, 0xf5, 0x10 },
	  { .len = 5, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movq %gs:0x28,%rax",		/* SIB, no base, no index */
	  { 0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00 },
	  { .len = 9, .size = 8, .ext_size = 8, .reg = RAX } },

	/* RIP-relative (SDM Vol. 2A, 2.2.1.6), REX.B does not change it. */
	{ 64, "movl %eax,0x100(%rip)", { 0x89, 0x05, 0x00, 0x01, 0x00, 0x00 },
	  { .len = 6, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x100(%rip) with REX.B (hand-made)",
	  { 0x41, 0x89, 0x05, 0x00, 0x01, 0x00, 0x00 },
	  { .len = 7, .is_write = true, .size = 4, .reg = RAX } },

	/* 67: 32-bit addressing, same ModR/M table; EIP-relative. */
	{ 64, "movl %eax,(%ebx)", { 0x67, 0x89, 0x03 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x10(%eip)",
	  { 0x67, 0x89, 0x05, 0x10, 0x00, 0x00, 0x00 },
	  { .len = 7, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl %eax,0x10(%ebx,%ecx,8)", { 0x67, 0x89, 0x44, 0xcb, 0x10 },
	  { .len = 5, .is_write = true, .size = 4, .reg = RAX } },

	/* Immediates: imm8, imm16, imm32, imm32 sign-extended to 64. */
	{ 64, "movb $0x12,(%rbx)", { 0xc6, 0x03, 0x12 },
	  { .len = 3, .is_write = true, .size = 1, IMM, .imm = 0x12 } },
	{ 64, "movw $0x1234,(%rbx)", { 0x66, 0xc7, 0x03, 0x34, 0x12 },
	  { .len = 5, .is_write = true, .size = 2, IMM, .imm = 0x1234 } },
	{ 64, "movw $-1,(%rbx)", { 0x66, 0xc7, 0x03, 0xff, 0xff },
	  { .len = 5, .is_write = true, .size = 2, IMM, .imm = 0xffff } },
	{ 64, "movl $0x12345678,(%rbx)",
	  { 0xc7, 0x03, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 6, .is_write = true, .size = 4, IMM,
	    .imm = 0x12345678 } },
	{ 64, "movq $-2,(%rbx)", { 0x48, 0xc7, 0x03, 0xfe, 0xff, 0xff, 0xff },
	  { .len = 7, .is_write = true, .size = 8, IMM,
	    .imm = 0xfffffffffffffffeULL } },
	{ 64, "movq $0x7fffffff,(%rbx)",
	  { 0x48, 0xc7, 0x03, 0xff, 0xff, 0xff, 0x7f },
	  { .len = 7, .is_write = true, .size = 8, IMM, .imm = 0x7fffffff } },
	{ 64, "movl $0x12345678,0x10(%rip)",
	  { 0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 10, .is_write = true, .size = 4, IMM,
	    .imm = 0x12345678 } },
	{ 64, "movb $0x80,0x10(%rip)",
	  { 0xc6, 0x05, 0x10, 0x00, 0x00, 0x00, 0x80 },
	  { .len = 7, .is_write = true, .size = 1, IMM, .imm = 0x80 } },

	/* MOVZX to 16, 32 and 64 bits; the register is never AH-BH. */
	{ 64, "movzbl (%rbx),%eax", { 0x0f, 0xb6, 0x03 },
	  { .len = 3, .size = 1, .ext_size = 4, .zero_extend = true,
	    .reg = RAX } },
	{ 64, "movzwl (%rbx),%eax", { 0x0f, 0xb7, 0x03 },
	  { .len = 3, .size = 2, .ext_size = 4, .zero_extend = true,
	    .reg = RAX } },
	{ 64, "movzbq (%rbx),%r8", { 0x4c, 0x0f, 0xb6, 0x03 },
	  { .len = 4, .size = 1, .ext_size = 8, .zero_extend = true,
	    .reg = R8 } },
	{ 64, "movzwq 0x8(%rdi),%r11", { 0x4c, 0x0f, 0xb7, 0x5f, 0x08 },
	  { .len = 5, .size = 2, .ext_size = 8, .zero_extend = true,
	    .reg = R11 } },
	{ 64, "movzbw (%rbx),%ax", { 0x66, 0x0f, 0xb6, 0x03 },
	  { .len = 4, .size = 1, .ext_size = 2, .zero_extend = true,
	    .reg = RAX } },
	{ 64, "movzbl (%rbx),%esi", { 0x0f, 0xb6, 0x33 },
	  { .len = 3, .size = 1, .ext_size = 4, .zero_extend = true,
	    .reg = RSI } },

	/* moffs: 8-byte offset, 4 with 67. */
	{ 64, "movabs 0x1122334455667788,%eax",
	  { 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 },
	  { .len = 9, .size = 4, .ext_size = 4, .reg = RAX } },
	{ 64, "movabs 0x1122334455667788,%al",
	  { 0xa0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 },
	  { .len = 9, .size = 1, .ext_size = 1, .reg = RAX } },
	{ 64, "movabs %al,0x1122334455667788",
	  { 0xa2, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 },
	  { .len = 9, .is_write = true, .size = 1, .reg = RAX } },
	{ 64, "movabs %rax,0x1122334455667788",
	  { 0x48, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 },
	  { .len = 10, .is_write = true, .size = 8, .reg = RAX } },
	{ 64, "addr32 movl 0x12345678,%eax",
	  { 0x67, 0xa1, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 6, .size = 4, .ext_size = 4, .reg = RAX } },

	{ 64, "movl %eax,%fs:(%rbx)", { 0x64, 0x89, 0x03 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
};

/* 32-bit mode: every form, 66, and 67 switching to 16-bit addressing. */
static const struct vector mode32[] = {
	{ 32, "movl %eax,(%ebx)", { 0x89, 0x03 },
	  { .len = 2, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "movw %ax,(%ebx)", { 0x66, 0x89, 0x03 },
	  { .len = 3, .is_write = true, .size = 2, .reg = RAX } },
	{ 32, "movb %dh,(%ebx)", { 0x88, 0x33 },
	  { .len = 2, .is_write = true, .size = 1, .reg = RDX,
	    .high_byte = true } },
	{ 32, "movb (%ecx),%bl", { 0x8a, 0x19 },
	  { .len = 2, .size = 1, .ext_size = 1, .reg = RBX } },
	{ 32, "movl (%esi),%edi", { 0x8b, 0x3e },
	  { .len = 2, .size = 4, .ext_size = 4, .reg = RDI } },
	{ 32, "movl %ecx,0x12345678",		/* disp32, not RIP-relative */
	  { 0x89, 0x0d, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 6, .is_write = true, .size = 4, .reg = RCX } },
	{ 32, "movl %eax,0x10(%ebx,%ecx,2)", { 0x89, 0x44, 0x4b, 0x10 },
	  { .len = 4, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "movl %eax,(%ebx,%ecx)", { 0x89, 0x04, 0x0b },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "movl %eax,-4(%ebp)", { 0x89, 0x45, 0xfc },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "movl (%esp),%edx", { 0x8b, 0x14, 0x24 },
	  { .len = 3, .size = 4, .ext_size = 4, .reg = RDX } },
	{ 32, "movl $-1,(%ebx)", { 0xc7, 0x03, 0xff, 0xff, 0xff, 0xff },
	  { .len = 6, .is_write = true, .size = 4, IMM, .imm = 0xffffffff } },
	{ 32, "movw $1,(%ebx)", { 0x66, 0xc7, 0x03, 0x01, 0x00 },
	  { .len = 5, .is_write = true, .size = 2, IMM, .imm = 1 } },
	{ 32, "movb $0xff,0x100(%ebx)",
	  { 0xc6, 0x83, 0x00, 0x01, 0x00, 0x00, 0xff },
	  { .len = 7, .is_write = true, .size = 1, IMM, .imm = 0xff } },
	{ 32, "movzbl (%ebx),%eax", { 0x0f, 0xb6, 0x03 },
	  { .len = 3, .size = 1, .ext_size = 4, .zero_extend = true,
	    .reg = RAX } },
	{ 32, "movzwl (%ebx),%edx", { 0x0f, 0xb7, 0x13 },
	  { .len = 3, .size = 2, .ext_size = 4, .zero_extend = true,
	    .reg = RDX } },
	{ 32, "movzbw (%ebx),%ax", { 0x66, 0x0f, 0xb6, 0x03 },
	  { .len = 4, .size = 1, .ext_size = 2, .zero_extend = true,
	    .reg = RAX } },
	{ 32, "movb 0x12345678,%al", { 0xa0, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 5, .size = 1, .ext_size = 1, .reg = RAX } },
	{ 32, "movl 0x12345678,%eax",
	  { 0xa1, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 5, .size = 4, .ext_size = 4, .reg = RAX } },
	{ 32, "movb %al,0x12345678",
	  { 0xa2, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 5, .is_write = true, .size = 1, .reg = RAX } },
	{ 32, "movl %eax,0x12345678", { 0xa3, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 5, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "movw %ax,0x12345678", { 0x66, 0xa3, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 6, .is_write = true, .size = 2, .reg = RAX } },

	/* 67 in 32-bit mode: 16-bit addressing (SDM Vol. 2A, Table 2-1). */
	{ 32, "movl %eax,(%bx,%si)", { 0x67, 0x89, 0x00 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "addr16 movl %ecx,0x1234",
	  { 0x67, 0x89, 0x0e, 0x34, 0x12 },
	  { .len = 5, .is_write = true, .size = 4, .reg = RCX } },
	{ 32, "movl %eax,%es:0x10(%bp,%di)", { 0x26, 0x67, 0x89, 0x43, 0x10 },
	  { .len = 5, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "addr16 movl 0x1234,%eax", { 0x67, 0xa1, 0x34, 0x12 },
	  { .len = 4, .size = 4, .ext_size = 4, .reg = RAX } },

	{ 32, "movl %esi,%cs:(%eax)", { 0x2e, 0x89, 0x30 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RSI } },
	{ 32, "ds movl %esi,(%eax)", { 0x3e, 0x89, 0x30 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RSI } },
	{ 32, "ss movb %bh,(%eax)", { 0x36, 0x88, 0x38 },
	  { .len = 3, .is_write = true, .size = 1, .reg = RBX,
	    .high_byte = true } },
};

/* 16-bit mode: its own ModR/M table; 66 for 32-bit data, 67 for SIB. */
static const struct vector mode16[] = {
	{ 16, "movw %ax,(%bx)", { 0x89, 0x07 },
	  { .len = 2, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "movl %eax,(%bx)", { 0x66, 0x89, 0x07 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 16, "movb %ah,(%bx,%si)", { 0x88, 0x20 },
	  { .len = 2, .is_write = true, .size = 1, .reg = RAX,
	    .high_byte = true } },
	{ 16, "movb (%bx),%bh", { 0x8a, 0x3f },
	  { .len = 2, .size = 1, .ext_size = 1, .reg = RBX,
	    .high_byte = true } },
	{ 16, "movb %ss:0x20(%bp),%dl", { 0x8a, 0x56, 0x20 },
	  { .len = 3, .size = 1, .ext_size = 1, .reg = RDX } },
	{ 16, "movw (%bp),%ax", { 0x8b, 0x46, 0x00 },
	  { .len = 3, .size = 2, .ext_size = 2, .reg = RAX } },
	{ 16, "movw %ax,0x10(%bp)", { 0x89, 0x46, 0x10 },
	  { .len = 3, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "movw %dx,-2(%bp,%si)", { 0x89, 0x52, 0xfe },
	  { .len = 3, .is_write = true, .size = 2, .reg = RDX } },
	{ 16, "movw %ax,0x1234(%bx,%di)", { 0x89, 0x81, 0x34, 0x12 },
	  { .len = 4, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "movw %cx,0x1234", { 0x89, 0x0e, 0x34, 0x12 },	/* r/m 110 */
	  { .len = 4, .is_write = true, .size = 2, .reg = RCX } },
	{ 16, "movw %ax,%es:(%di)", { 0x26, 0x89, 0x05 },
	  { .len = 3, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "movw $0x1234,(%bx)", { 0xc7, 0x07, 0x34, 0x12 },
	  { .len = 4, .is_write = true, .size = 2, IMM, .imm = 0x1234 } },
	{ 16, "movl $0x12345678,(%bx)",
	  { 0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 7, .is_write = true, .size = 4, IMM,
	    .imm = 0x12345678 } },
	{ 16, "movb $5,(%si)", { 0xc6, 0x04, 0x05 },
	  { .len = 3, .is_write = true, .size = 1, IMM, .imm = 5 } },
	{ 16, "movzbw (%bx),%ax", { 0x0f, 0xb6, 0x07 },
	  { .len = 3, .size = 1, .ext_size = 2, .zero_extend = true,
	    .reg = RAX } },
	{ 16, "movzbl (%bx),%eax", { 0x66, 0x0f, 0xb6, 0x07 },
	  { .len = 4, .size = 1, .ext_size = 4, .zero_extend = true,
	    .reg = RAX } },
	{ 16, "movzwl 0x4(%di),%ecx", { 0x66, 0x0f, 0xb7, 0x4d, 0x04 },
	  { .len = 5, .size = 2, .ext_size = 4, .zero_extend = true,
	    .reg = RCX } },
	{ 16, "movb 0x1234,%al", { 0xa0, 0x34, 0x12 },
	  { .len = 3, .size = 1, .ext_size = 1, .reg = RAX } },
	{ 16, "movw 0x1234,%ax", { 0xa1, 0x34, 0x12 },
	  { .len = 3, .size = 2, .ext_size = 2, .reg = RAX } },
	{ 16, "movb %al,0x1234", { 0xa2, 0x34, 0x12 },
	  { .len = 3, .is_write = true, .size = 1, .reg = RAX } },
	{ 16, "movw %ax,0x1234", { 0xa3, 0x34, 0x12 },
	  { .len = 3, .is_write = true, .size = 2, .reg = RAX } },

	/* 67 in 16-bit mode: 32-bit addressing with SIB and disp32. */
	{ 16, "movw %ax,(%eax)", { 0x67, 0x89, 0x00 },
	  { .len = 3, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "movw %ax,0x10(%eax,%ebx,4)", { 0x67, 0x89, 0x44, 0x98, 0x10 },
	  { .len = 5, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "addr32 movw %cx,0x12345678",
	  { 0x67, 0x89, 0x0d, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 7, .is_write = true, .size = 2, .reg = RCX } },
	{ 16, "movw %ax,0x12345678(,%esi,2)",
	  { 0x67, 0x89, 0x04, 0x75, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 8, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "addr32 movl %eax,0x12345678",
	  { 0x67, 0x66, 0xa3, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 7, .is_write = true, .size = 4, .reg = RAX } },
	{ 16, "movl $0x12345678,0x10(%esp)",
	  { 0x67, 0x66, 0xc7, 0x44, 0x24, 0x10, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 10, .is_write = true, .size = 4, IMM,
	    .imm = 0x12345678 } },
};

/* How prefixes combine (SDM Vol. 2A, 2.1.1 and 2.2.1); all hand-made. */
static const struct vector prefix_rules[] = {
	{ 64, "REX.W beats 66", { 0x66, 0x48, 0x89, 0x03 },
	  { .len = 4, .is_write = true, .size = 8, .reg = RAX } },
	{ 64, "REX before 66 is ignored", { 0x48, 0x66, 0x89, 0x03 },
	  { .len = 4, .is_write = true, .size = 2, .reg = RAX } },
	{ 64, "ignored REX leaves AH", { 0x40, 0x66, 0x88, 0x23 },
	  { .len = 4, .is_write = true, .size = 1, .reg = RAX,
	    .high_byte = true } },
	{ 64, "REX before a segment override is ignored",
	  { 0x4c, 0x64, 0x8b, 0x0b },
	  { .len = 4, .size = 4, .ext_size = 4, .reg = RCX } },
	{ 64, "of two REX the last counts", { 0x4c, 0x41, 0x8b, 0x0b },
	  { .len = 4, .size = 4, .ext_size = 4, .reg = RCX } },
	{ 64, "66 twice is still 66", { 0x66, 0x66, 0x89, 0x03 },
	  { .len = 4, .is_write = true, .size = 2, .reg = RAX } },
	{ 64, "every kind of prefix at once",
	  { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0x45, 0xc7,
	    0x43, 0x10, 0x34, 0x12 },
	  { .len = 14, .is_write = true, .size = 2, IMM, .imm = 0x1234 } },
	{ 32, "66 and 67 in 32-bit mode", { 0x66, 0x67, 0x8b, 0x46, 0x02 },
	  { .len = 5, .size = 2, .ext_size = 2, .reg = RAX } },
	{ 16, "66 and 67 in 16-bit mode",
	  { 0x67, 0x66, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00 },
	  { .len = 8, .size = 4, .ext_size = 4, .reg = RAX } },
	{ 64, "13 prefixes make a 15-byte instruction",
	  { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e,
	    0x2e, 0x2e, 0x2e, 0x89, 0x03 },
	  { .len = 15, .is_write = true, .size = 4, .reg = RAX } },
};

/*
 * The plain MOV forms decode.c takes a short cut for (88-8B, no prefix,
 * 32- or 64-bit code, no SIB, no RIP-relative or absolute address), and
 * their neighbours just outside it, which the full decoder takes.  Bytes
 * from GNU as; lengths by SDM Vol. 2A, Tables 2-1 and 2-2.
 */
static const struct vector plain_mov[] = {
	{ 64, "movl %ecx,(%rbx)", { 0x89, 0x0b },
	  { .len = 2, .is_write = true, .size = 4, .reg = RCX } },
	{ 64, "movl (%rdi),%esp", { 0x8b, 0x27 },
	  { .len = 2, .size = 4, .ext_size = 4, .reg = RSP } },
	{ 64, "movb (%rbx),%ah", { 0x8a, 0x23 },
	  { .len = 2, .size = 1, .ext_size = 1, .reg = RAX,
	    .high_byte = true } },
	{ 64, "movb %bh,(%rax)", { 0x88, 0x38 },
	  { .len = 2, .is_write = true, .size = 1, .reg = RBX,
	    .high_byte = true } },
	{ 64, "movb %dl,0x7f(%rbp)", { 0x88, 0x55, 0x7f },
	  { .len = 3, .is_write = true, .size = 1, .reg = RDX } },
	{ 64, "movl %eax,0x12345678(%rsi)",
	  { 0x89, 0x86, 0x78, 0x56, 0x34, 0x12 },
	  { .len = 6, .is_write = true, .size = 4, .reg = RAX } },
	{ 64, "movl 0x10(%rip),%eax: RIP-relative",
	  { 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00 },
	  { .len = 6, .size = 4, .ext_size = 4, .reg = RAX } },
	{ 64, "movl %eax,(%rsp): SIB", { 0x89, 0x04, 0x24 },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "movl %eax,-4(%ebp)", { 0x89, 0x45, 0xfc },
	  { .len = 3, .is_write = true, .size = 4, .reg = RAX } },
	{ 32, "movl 0x1000,%ecx: absolute", { 0x8b, 0x0d, 0x00, 0x10, 0x00, 0x00 },
	  { .len = 6, .size = 4, .ext_size = 4, .reg = RCX } },
	{ 16, "movw %ax,(%di): 16-bit", { 0x89, 0x05 },
	  { .len = 2, .is_write = true, .size = 2, .reg = RAX } },
	{ 16, "movw (%bp),%ax: 16-bit", { 0x8b, 0x46, 0x00 },
	  { .len = 3, .size = 2, .ext_size = 2, .reg = RAX } },
};

static const struct {
	const struct vector *v;
	size_t n;
} all_vectors[] = {
	{ mode64, ARRAY_SIZE(mode64) },
	{ mode32, ARRAY_SIZE(mode32) },
	{ mode16, ARRAY_SIZE(mode16) },
	{ prefix_rules, ARRAY_SIZE(prefix_rules) },
	{ plain_mov, ARRAY_SIZE(plain_mov) },
};

/* Vector @k counting through all the tables, NULL past the last. */
static const struct vector *nth_vector(size_t k)
{
	size_t t;

	for (t = 0; t < ARRAY_SIZE(all_vectors); t++) {
		if (k < all_vectors[t].n)
			return &all_vectors[t].v[k];
		k -= all_vectors[t].n;
	}
	return NULL;
}

/* Name every field on which @got and @want disagree. */
static int diff_insn(struct __test_metadata *_metadata, const char *text,
		     const struct mmio_insn *got, const struct mmio_insn *want)
{
	const struct {
		const char *name;
		u64 got, want;
	} fields[] = {
		{ "len", got->len, want->len },
		{ "is_write", got->is_write, want->is_write },
		{ "size", got->size, want->size },
		{ "operand", got->operand, want->operand },
		{ "reg", got->reg, want->reg },
		{ "high_byte", got->high_byte, want->high_byte },
		{ "zero_extend", got->zero_extend, want->zero_extend },
		{ "ext_size", got->ext_size, want->ext_size },
		{ "imm", got->imm, want->imm },
	};
	int bad = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		if (fields[i].got == fields[i].want)
			continue;
		TH_LOG("%s: %s is 0x%llx, expected 0x%llx", text,
		       fields[i].name, (unsigned long long)fields[i].got,
		       (unsigned long long)fields[i].want);
		bad++;
	}
	return bad;
}

/*
 * The bytes are placed to end right before an inaccessible page, so a
 * decoder reading past @avail crashes the test.
 */
static u8 *guarded;

static const u8 *place(const u8 *bytes, unsigned int avail)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!guarded) {
		guarded = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (guarded == MAP_FAILED ||
		    mprotect(guarded + page, page, PROT_NONE))
			abort();
	}
	memcpy(guarded + page - avail, bytes, avail);
	return guarded + page - avail;
}

static int decode(const u8 *bytes, unsigned int avail, unsigned int mode,
		  struct mmio_insn *out)
{
	return mmio_decode(place(bytes, avail), avail, mode, out);
}

static void check_table(struct __test_metadata *_metadata,
			const struct vector *v, size_t n)
{
	struct mmio_insn got;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&got, 0, sizeof(got));
		EXPECT_EQ(0, decode(v[i].bytes, v[i].want.len, v[i].mode, &got))
			TH_LOG("%s", v[i].text);
		EXPECT_EQ(0, diff_insn(_metadata, v[i].text, &got, &v[i].want));
	}
}

TEST(decode_64bit_mode)
{
	check_table(_metadata, mode64, ARRAY_SIZE(mode64));
}

TEST(decode_32bit_mode)
{
	check_table(_metadata, mode32, ARRAY_SIZE(mode32));
}

TEST(decode_16bit_mode)
{
	check_table(_metadata, mode16, ARRAY_SIZE(mode16));
}

TEST(decode_prefix_combinations)
{
	check_table(_metadata, prefix_rules,
		    ARRAY_SIZE(prefix_rules));
}

TEST(decode_plain_mov)
{
	check_table(_metadata, plain_mov, ARRAY_SIZE(plain_mov));
}

/* The opcode of a vector, past its prefixes; 0x0fxx for MOVZX. */
static unsigned int opcode_of(const struct vector *v)
{
	unsigned int i = 0;

	while (memchr("\x26\x2e\x36\x3e\x64\x65\x66\x67", v->bytes[i], 8) ||
	       (v->mode == 64 && (v->bytes[i] & 0xf0) == 0x40))
		i++;
	return v->bytes[i] == 0x0f ? 0x0f00 | v->bytes[i + 1] : v->bytes[i];
}

/* The tables above hold every decoded opcode in every mode. */
TEST(tables_cover_every_form_in_every_mode)
{
	static const unsigned int forms[] = {
		0x88, 0x89, 0x8a, 0x8b, 0xa0, 0xa1, 0xa2, 0xa3, 0xc6, 0xc7,
		0x0fb6, 0x0fb7,
	};
	static const unsigned int modes[] = { 16, 32, 64 };
	const struct vector *v;
	size_t f, m, k;
	bool seen;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		for (f = 0; f < ARRAY_SIZE(forms); f++) {
			seen = false;
			for (k = 0; (v = nth_vector(k)); k++)
				seen |= v->mode == modes[m] &&
					opcode_of(v) == forms[f];
			EXPECT_TRUE(seen)
				TH_LOG("no %u-bit vector for opcode 0x%x",
				       modes[m], forms[f]);
		}
	}
}

/* Every proper prefix of every instruction is truncated input. */
TEST(truncated_input_is_einval)
{
	const struct vector *v;
	struct mmio_insn out;
	unsigned int avail;
	size_t k;

	for (k = 0; (v = nth_vector(k)); k++) {
		for (avail = 0; avail < v->want.len; avail++) {
			EXPECT_EQ(-EINVAL, decode(v->bytes, avail, v->mode, &out))
				TH_LOG("%s, %u bytes", v->text, avail);
		}
	}
}

/* Bytes after the instruction, up to 15 or beyond, change nothing. */
TEST(trailing_bytes_are_not_read)
{
	const struct vector *v;
	struct mmio_insn got;
	u8 buf[32];
	size_t k;

	for (k = 0; (v = nth_vector(k)); k++) {
		memset(buf, 0x89, sizeof(buf));
		memcpy(buf, v->bytes, v->want.len);
		memset(&got, 0, sizeof(got));
		EXPECT_EQ(0, decode(buf, sizeof(buf), v->mode, &got))
			TH_LOG("%s", v->text);
		EXPECT_EQ(0, diff_insn(_metadata, v->text, &got, &v->want));
	}
}

static const struct {
	unsigned int mode;
	const char *text;
	u8 bytes[MMIO_INSN_MAX_LEN];
	unsigned int len;
} unsupported[] = {
	{ 64, "movl %eax,%ebx: no memory operand", { 0x89, 0xc3 }, 2 },
	{ 32, "movb (%ebx),%al with mod 11", { 0x8a, 0xc3 }, 2 },
	{ 64, "movl $0,%eax: C7 with mod 11", { 0xc7, 0xc0, 0, 0, 0, 0 }, 6 },
	{ 64, "xbegin (C7 F8)", { 0xc7, 0xf8, 0, 0, 0, 0 }, 6 },
	{ 64, "C6 /1", { 0xc6, 0x0b, 0x12 }, 3 },
	{ 64, "C7 /7", { 0xc7, 0x3b, 0x78, 0x56, 0x34, 0x12 }, 6 },
	{ 64, "lock movl %eax,(%rbx)", { 0xf0, 0x89, 0x03 }, 3 },
	{ 64, "lock orl $0,(%rsp)", { 0xf0, 0x83, 0x0c, 0x24, 0x00 }, 5 },
	{ 64, "rep movl %eax,(%rbx)", { 0xf3, 0x89, 0x03 }, 3 },
	{ 64, "repne movl %eax,(%rbx)", { 0xf2, 0x89, 0x03 }, 3 },
	{ 64, "movsbl (%rbx),%eax", { 0x0f, 0xbe, 0x03 }, 3 },
	{ 64, "movswl (%rbx),%eax", { 0x0f, 0xbf, 0x03 }, 3 },
	{ 64, "lea (%rbx),%eax", { 0x8d, 0x03 }, 2 },
	{ 64, "incl (%rbx)", { 0xff, 0x03 }, 2 },
	{ 64, "addl %eax,(%rbx)", { 0x01, 0x03 }, 2 },
	{ 64, "xchg %eax,(%rbx)", { 0x87, 0x03 }, 2 },
	{ 64, "movsb", { 0xa4 }, 1 },
	{ 64, "vmovdqu (%rbx),%ymm0", { 0xc5, 0xfe, 0x6f, 0x03 }, 4 },
	{ 64, "movnti %eax,(%rbx)", { 0x0f, 0xc3, 0x03 }, 3 },
	{ 32, "dec %eax; movl %eax,(%ebx): 48 is no REX here",
	  { 0x48, 0x89, 0x03 }, 3 },
	{ 16, "inc %ax; movw %ax,(%bx): 40 is no REX here",
	  { 0x40, 0x89, 0x07 }, 3 },
	{ 64, "14 prefixes: 16 bytes",
	  { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e,
	    0x2e, 0x2e, 0x2e, 0x2e, 0x89 }, 15 },
	{ 64, "15 prefixes", { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 }, 15 },
	{ 64, "imm32 ending at byte 16",
	  { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e,
	    0xc7, 0x03, 0x78, 0x56, 0x34 }, 15 },
};

TEST(unsupported_is_eopnotsupp)
{
	struct mmio_insn out;
	u8 buf[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unsupported); i++) {
		/* Also with more bytes than 15: the limit is the CPU's. */
		memset(buf, 0, sizeof(buf));
		memcpy(buf, unsupported[i].bytes, unsupported[i].len);
		EXPECT_EQ(-EOPNOTSUPP, decode(buf, unsupported[i].len,
					      unsupported[i].mode, &out))
			TH_LOG("%s", unsupported[i].text);
		EXPECT_EQ(-EOPNOTSUPP, decode(buf, sizeof(buf),
					      unsupported[i].mode, &out))
			TH_LOG("%s, 32 bytes", unsupported[i].text);
	}
}

/* Outside the MOV opcodes and prefixes, every opcode is refused. */
TEST(all_other_opcodes_are_eopnotsupp)
{
	static const unsigned int modes[] = { 16, 32, 64 };
	struct mmio_insn out;
	u8 buf[16] = { 0 };
	unsigned int m, op;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		for (op = 0; op < 256; op++) {
			if (memchr("\x88\x89\x8a\x8b\xa0\xa1\xa2\xa3\xc6\xc7"
				   "\x26\x2e\x36\x3e\x64\x65\x66\x67\x0f",
				   op, 19) ||
			    (modes[m] == 64 && (op & 0xf0) == 0x40))
				continue;
			buf[0] = op;
			EXPECT_EQ(-EOPNOTSUPP,
				  decode(buf, sizeof(buf), modes[m], &out))
				TH_LOG("%u-bit opcode 0x%02x", modes[m], op);
		}
		buf[0] = 0x0f;
		for (op = 0; op < 256; op++) {
			if (op == 0xb6 || op == 0xb7)
				continue;
			buf[1] = op;
			EXPECT_EQ(-EOPNOTSUPP,
				  decode(buf, sizeof(buf), modes[m], &out))
				TH_LOG("%u-bit opcode 0x0f 0x%02x", modes[m], op);
		}
		buf[1] = 0;
	}
}

TEST(bad_cpu_mode_is_einval)
{
	static const u8 mov[] = { 0x89, 0x03 };
	static const unsigned int modes[] = { 0, 8, 15, 17, 48, 128 };
	struct mmio_insn out;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		EXPECT_EQ(-EINVAL, decode(mov, sizeof(mov), modes[i], &out))
			TH_LOG("cpu_mode %u", modes[i]);
	}
}

TEST(error_leaves_out_untouched)
{
	static const u8 lock_mov[] = { 0xf0, 0x89, 0x03 };
	static const u8 rip_rel[] = { 0x89, 0x05, 0x00, 0x01, 0x00, 0x00 };
	struct mmio_insn out, before;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	EXPECT_EQ(-EOPNOTSUPP, decode(lock_mov, sizeof(lock_mov), 64, &out));
	EXPECT_EQ(0, memcmp(&out, &before, sizeof(out)));
	EXPECT_EQ(-EINVAL, decode(rip_rel, sizeof(rip_rel) - 1, 64, &out));
	EXPECT_EQ(0, memcmp(&out, &before, sizeof(out)));
}

/*
 * Random bytes in every mode and length: only the three results, and a
 * success stays inside the bytes given and describes a possible access.
 * The generator is fixed, so a failure repeats.
 */
TEST(random_bytes_decode_sanely)
{
	static const unsigned int modes[] = { 16, 32, 64 };
	u64 state = 0x853c49e6748fea9bULL;
	struct mmio_insn out;
	unsigned int n, k, avail, mode;
	u8 buf[MMIO_INSN_MAX_LEN];
	int ret;

	for (n = 0; n < 200000; n++) {
		for (k = 0; k < sizeof(buf); k++) {
			state = state * 6364136223846793005ULL + 1;
			buf[k] = state >> 56;
		}
		/* Bias toward the interesting opcodes. */
		if (n & 1)
			buf[n % 3] = "\x89\x8a\xc7\x0f"[n % 4];
		avail = (state >> 32) % (sizeof(buf) + 1);
		mode = modes[(state >> 40) % 3];
		ret = decode(buf, avail, mode, &out);
		ASSERT_TRUE(ret == 0 || ret == -EINVAL || ret == -EOPNOTSUPP);
		if (ret)
			continue;
		ASSERT_LE(out.len, avail);
		ASSERT_TRUE(out.size == 1 || out.size == 2 || out.size == 4 ||
			    out.size == 8);
		ASSERT_LT(out.reg, 16);
		ASSERT_TRUE(!out.high_byte || (out.reg < 4 && out.size == 1));
		ASSERT_EQ(out.is_write, !out.ext_size);
	}
}

TEST(store_data)
{
	struct mmio_insn ah = { .is_write = true, .size = 1, .reg = RAX,
				.high_byte = true };
	struct mmio_insn al = { .is_write = true, .size = 1, .reg = RAX };
	struct mmio_insn ax = { .is_write = true, .size = 2, .reg = RAX };
	struct mmio_insn eax = { .is_write = true, .size = 4, .reg = RAX };
	struct mmio_insn rax = { .is_write = true, .size = 8, .reg = RAX };
	struct mmio_insn imm64 = { .is_write = true, .size = 8, IMM,
				   .imm = 0xfffffffffffffffeULL };
	struct mmio_insn imm8 = { .is_write = true, .size = 1, IMM,
				  .imm = 0x80 };
	u64 r = 0x1122334455667788ULL;

	EXPECT_EQ(0x77, mmio_store_data(&ah, r));
	EXPECT_EQ(0x88, mmio_store_data(&al, r));
	EXPECT_EQ(0x7788, mmio_store_data(&ax, r));
	EXPECT_EQ(0x55667788, mmio_store_data(&eax, r));
	EXPECT_EQ(r, mmio_store_data(&rax, r));
	EXPECT_EQ(0xfffffffffffffffeULL, mmio_store_data(&imm64, r));
	EXPECT_EQ(0x80, mmio_store_data(&imm8, r));
}

/* SDM Vol. 1, 3.4.1.1: 32-bit results zero-extend, 8/16-bit ones merge. */
TEST(load_result)
{
	static const struct {
		const char *text;
		struct mmio_insn insn;
		u64 want;
	} loads[] = {
		{ "movb (%rbx),%al", { .size = 1, .ext_size = 1 },
		  0x11223344556677abULL },
		{ "movb (%rbx),%ah", { .size = 1, .ext_size = 1,
				       .high_byte = true },
		  0x112233445566ab88ULL },
		{ "movw (%rbx),%ax", { .size = 2, .ext_size = 2 },
		  0x112233445566cdabULL },
		{ "movl (%rbx),%eax", { .size = 4, .ext_size = 4 },
		  0x0000000089efcdabULL },
		{ "movq (%rbx),%rax", { .size = 8, .ext_size = 8 },
		  0x0123456789efcdabULL },
		{ "movzbw (%rbx),%ax", { .size = 1, .ext_size = 2,
					 .zero_extend = true },
		  0x11223344556600abULL },
		{ "movzbl (%rbx),%eax", { .size = 1, .ext_size = 4,
					  .zero_extend = true },
		  0xab },
		{ "movzwq (%rbx),%rax", { .size = 2, .ext_size = 8,
					  .zero_extend = true },
		  0xcdab },
	};
	/* Data beyond the access size must be ignored. */
	u64 data = 0x0123456789efcdabULL;
	u64 old = 0x1122334455667788ULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(loads); i++) {
		EXPECT_EQ(loads[i].want,
			  mmio_load_result(&loads[i].insn, old, data))
			TH_LOG("%s", loads[i].text);
	}
}

/* What the decoder says and what the completion does, end to end. */
TEST(decode_then_complete)
{
	static const u8 movzbw[] = { 0x66, 0x0f, 0xb6, 0x03 };
	static const u8 movb_ch[] = { 0x8a, 0x2b };
	static const u8 movb_bh_store[] = { 0x88, 0x3b };
	struct mmio_insn insn;

	ASSERT_EQ(0, decode(movzbw, sizeof(movzbw), 64, &insn));
	EXPECT_EQ(0xffffffffffff00f0ULL,
		  mmio_load_result(&insn, ~0ULL, 0xf0));
	ASSERT_EQ(0, decode(movb_ch, sizeof(movb_ch), 64, &insn));
	EXPECT_EQ(0x5aa5, mmio_load_result(&insn, 0xa5, 0x5a));
	ASSERT_EQ(0, decode(movb_bh_store, sizeof(movb_bh_store), 32, &insn));
	EXPECT_EQ(0xbe, mmio_store_data(&insn, 0xbeef));
}

TEST_HARNESS_MAIN
