/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small guests of vmxlab's tools (vmxlab-bench, vmxlab-trace): one
 * guest-physical layout, its page tables, GDT and IDT, the register state
 * of each CPU mode, and a CPUID table.  Pure: it fills buffers and
 * structures, it makes no ioctl, so a KVM backend can use it too.
 *
 * Layout (guest-physical; guest RAM starts at 0):
 *
 *   0x1000  PML4      identity map of the first GiB, 2 MiB pages
 *   0x2000  PDPT
 *   0x3000  PD
 *   0x4000  GDT       null, 64-bit code, data, TSS (16 bytes), 32-bit code
 *   0x4800  TSS
 *   0x5000  IDT       256 16-byte gates (long mode)
 *   0x10000           top of the stack, start of the code
 */
#ifndef VMXLAB_TOOLS_GUEST_H
#define VMXLAB_TOOLS_GUEST_H

#include <stdbool.h>
#include <linux/types.h>

#include <uapi/linux/vmxlab.h>

#define GUEST_PML4		0x1000ULL
#define GUEST_PDPT		0x2000ULL
#define GUEST_PD		0x3000ULL
#define GUEST_GDT		0x4000ULL
#define GUEST_TSS		0x4800ULL
#define GUEST_IDT		0x5000ULL
#define GUEST_STACK_TOP		0x10000ULL
#define GUEST_CODE		0x10000ULL
#define GUEST_TABLES_END	0x10000ULL	/* what guest_build_tables() writes */

#define GUEST_SEL_CODE		0x08	/* 64-bit code */
#define GUEST_SEL_DATA		0x10	/* flat data, 4 GiB */
#define GUEST_SEL_TSS		0x18	/* 16 bytes in long mode */
#define GUEST_SEL_CODE32	0x28	/* 32-bit code, 4 GiB */

/* Control registers of the modes (SDM Vol. 3A, 2.5 and 9.8.5). */
#define GUEST_CR0_PE		0x00000031ULL	/* NE ET PE */
#define GUEST_CR0_LONG_MODE	0x80050033ULL	/* PG WP NE ET MP PE */
#define GUEST_CR4_PAE		0x20ULL
#define GUEST_EFER_LONG_MODE	0x500ULL	/* LMA LME */

/* A CPUID leaf a guest is given (subleaf 0). */
struct guest_cpuid_leaf {
	__u32 function, eax, ebx, ecx, edx;
};

#define GUEST_CPUID_LEAVES	5	/* what guest_cpuid() fills at most */

enum guest_mode { GUEST_REAL, GUEST_PROT32, GUEST_LONG };

void guest_put_u64(unsigned char *mem, __u64 gpa, __u64 val);
void guest_put_gate(unsigned char *mem, unsigned int vector, __u64 handler);
void guest_build_tables(unsigned char *mem);

struct vmxlab_segment guest_flat_segment(__u16 selector, __u8 type,
					 bool code64);
void guest_mode_sregs(struct vmxlab_sregs *s, enum guest_mode mode);
int guest_mode_parse(const char *name, enum guest_mode *mode);
const char *guest_mode_name(enum guest_mode mode);

int guest_cpuid(struct guest_cpuid_leaf *l);

#endif
