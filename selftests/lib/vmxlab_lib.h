/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The selftest library for running guests: VMs, vCPUs and memory from the
 * host side, and for the guest side (plain C functions of the test, run in
 * 64-bit mode at the addresses they have in the test binary) the ucall
 * channel, exception handling and the instructions the tests exercise.
 */
#ifndef VMXLAB_SELFTEST_LIB_H
#define VMXLAB_SELFTEST_LIB_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include <uapi/linux/vmxlab.h>

/* --- failing a test from library code ---------------------------------- */

/*
 * The harness runs each test in a child process; a library helper that
 * cannot go on prints why and ends that child with a non-zero status,
 * which the harness reports as a failure.  Usable from any thread.
 */
void test_fail_header(const char *file, int line, const char *func);
void test_fail_exit(void);

#define TEST_FAIL(fmt, ...) do {					\
	test_fail_header(__FILE__, __LINE__, __func__);			\
	fprintf(stderr, "#   " fmt "\n", ##__VA_ARGS__);		\
	test_fail_exit();						\
	exit(1);							\
} while (0)

#define TEST_ASSERT(cond, fmt, ...) do {				\
	if (!(cond))							\
		TEST_FAIL("%s: " fmt, #cond, ##__VA_ARGS__);		\
} while (0)

#ifndef BIT
#define BIT(nr)			(1UL << (nr))
#endif
#ifndef BIT_ULL
#define BIT_ULL(nr)		(1ULL << (nr))
#endif

#define VMXLAB_STR_(x)	#x
#define VMXLAB_STR(x)	VMXLAB_STR_(x)
#define VMXLAB_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * VMX basic exit reasons, the index of vmxlab_vcpu_stats.exits[] (SDM Vol.
 * 3D, Appendix C), for the ones the tests provoke.
 */
#define VMX_EXIT_EXCEPTION_NMI	0
#define VMX_EXIT_TRIPLE_FAULT	2
#define VMX_EXIT_TASK_SWITCH	9
#define VMX_EXIT_CPUID		10
#define VMX_EXIT_HLT		12
#define VMX_EXIT_INVD		13
#define VMX_EXIT_VMCALL		18
#define VMX_EXIT_VMCLEAR	19
#define VMX_EXIT_VMLAUNCH	20
#define VMX_EXIT_VMPTRLD	21
#define VMX_EXIT_VMPTRST	22
#define VMX_EXIT_VMREAD		23
#define VMX_EXIT_VMRESUME	24
#define VMX_EXIT_VMWRITE	25
#define VMX_EXIT_VMXOFF		26
#define VMX_EXIT_VMXON		27
#define VMX_EXIT_CR_ACCESS	28
#define VMX_EXIT_DR_ACCESS	29
#define VMX_EXIT_IO		30
#define VMX_EXIT_RDMSR		31
#define VMX_EXIT_WRMSR		32
#define VMX_EXIT_INVALID_STATE	33
#define VMX_EXIT_EPT_VIOLATION	48
#define VMX_EXIT_PREEMPTION_TIMER	52
#define VMX_EXIT_INVEPT		50
#define VMX_EXIT_INVVPID	53
#define VMX_EXIT_WBINVD		54
#define VMX_EXIT_XSETBV		55

/* --- guest-physical layout of a long-mode VM --------------------------- */

#define GUEST_PAGE_SIZE		4096ULL

/*
 * The test binary (static, not PIE) at its link address: guest-virtual ==
 * guest-physical == host-virtual.  Everything below 4 GiB is identity
 * mapped with 2 MiB pages; what no slot backs exits as MMIO.
 */
#define GUEST_SYS_GPA		0x08000000ULL	/* page tables, GDT, IDT, stacks */
#define GUEST_SYS_SIZE		0x00800000ULL
#define GUEST_DATA_GPA		0x10000000ULL	/* free for the tests' own slots */
/* The identity map's page directories: the PDE of @gva is at this + 8 * (gva >> 21). */
#define GUEST_SYS_PD_GPA	(GUEST_SYS_GPA + 0x2000)
#define GUEST_MMIO_GPA		0xc0000000ULL	/* never backed by a slot */
#define GUEST_IDENTITY_LIMIT	(4ULL << 30)

#define SLOT_IMAGE		0
#define SLOT_SYS		1
#define SLOT_LOW		2	/* first MiB: real-mode and 32-bit blobs */
#define SLOT_TEST		3	/* first slot the tests use themselves */

/* GDT selectors of the long-mode and 32-bit set-ups. */
#define SEL_CODE64		0x08
#define SEL_DATA		0x10
#define SEL_CODE32		0x18
#define SEL_TSS(id)		(0x20 + 16 * (id))	/* one TSS per vCPU */
/* DPL 3, for guest_run_user(): 64-bit code and data after the TSSs. */
#define SEL_USER_CODE64		SEL_TSS(VMXLAB_MAX_VCPUS)
#define SEL_USER_DATA		(SEL_USER_CODE64 + 8)

/*
 * 32-bit protected mode and real mode: the low MiB (SLOT_LOW).  Plain
 * numbers, so that code blobs can use them through VMXLAB_STR().
 */
#define LOW_MEM_SIZE		0x100000
#define LOW_GDT_GPA		0x0800
#define LOW_TSS_GPA		0x0900	/* busy TSS, in TR */
#define LOW_TSS2_GPA		0x0980	/* available TSS, for task switches */
#define LOW_SEL_CODE32		0x08
#define LOW_SEL_DATA32		0x10
#define LOW_SEL_TSS		0x18
#define LOW_SEL_TSS2		0x20
#define LOW_SEL_USER_CODE32	0x28	/* DPL 3: add RPL 3 to load them */
#define LOW_SEL_USER_DATA32	0x30
#define LOW_CODE_GPA		0x1000	/* where blobs are loaded */
#define LOW_DATA_GPA		0x4000	/* free for blobs' data */
#define LOW_STACK_TOP		0x8000
#define LOW_IDT_GPA		0x0400	/* 32 gates: vcpu_set_idt_gate32() */

/* --- host side: VMs and vCPUs -------------------------------------------- */

struct vm_region {
	bool used;
	bool owned;		/* mmap()ed by the library: unmapped with the VM */
	__u32 flags;
	__u64 gpa;
	__u64 size;
	void *hva;
};

struct vcpu {
	struct vm *vm;
	__u32 id;
	int fd;
	struct vmxlab_run *run;
	size_t run_size;
};

struct vm {
	int sys_fd;		/* /dev/vmxlab */
	int fd;
	unsigned long type;	/* VMXLAB_VM_EPT or VMXLAB_VM_SHADOW */
	bool long_mode;		/* image, page tables, GDT and IDT set up */
	__u64 guest_xcr0;	/* what the guest entry code sets, 0: nothing */
	struct vm_region regions[VMXLAB_MAX_MEM_SLOTS];
	struct vcpu *vcpus[VMXLAB_MAX_VCPUS];
};

/* Load vmxlab.ko ($VMXLAB_KO) if /dev/vmxlab is missing; fail otherwise. */
void vmxlab_require_module(void);
/* /sys/module/vmxlab/refcnt, or -errno. */
int vmxlab_module_refcnt(void);
/* Poll the refcount for up to @ms milliseconds; returns the last value. */
int vmxlab_wait_refcnt_zero(int ms);

/* A VM with no memory and no vCPUs. */
struct vm *vm_create_bare(void);
struct vm *vm_create_bare_type(unsigned long type);
struct vm *vm_create_type(unsigned long type);
unsigned long vm_default_type(void);
/* A VM ready for long-mode vCPUs: the binary's image, page tables, IDT. */
struct vm *vm_create(void);
/* Closes vCPUs, then the VM, and unmaps the memory the library mapped. */
void vm_free(struct vm *vm);
/* Map the 2 MiB at @gva (aligned, below 4 GiB) through a 4 KiB table. */
void vm_map_page_table(struct vm *vm, __u64 gva, __u64 pt_gpa);
/*
 * Make the whole identity map user pages (U/S = 1 at every level), so
 * that guest_run_user() can run the test's code, stack and globals at
 * CPL 3.  The entries of a test's own page table (vm_map_page_table())
 * still decide for its pages.
 */
void vm_identity_map_user(struct vm *vm);
static inline bool vm_is_shadow(const struct vm *vm)
{
	return vm->type == VMXLAB_VM_SHADOW;
}

/*
 * The shadow-paging rerun of the suite (run_in_vm.sh)?  A test of what
 * only EPT VMs do (EPT-violation exits, real mode under unrestricted
 * guest) skips there, saying why; guest_paging_test checks what shadow
 * paging does instead.
 */
static inline bool shadow_rerun(void)
{
	return vm_default_type() == VMXLAB_VM_SHADOW;
}

/* Raw VMXLAB_SET_MEMORY_REGION: 0 or -1 with errno, nothing recorded. */
int __vm_set_region(struct vm *vm, __u32 slot, __u64 gpa, __u64 size,
		    void *hva, __u32 flags);
/* Adds a slot of fresh anonymous memory (zeroed); returns its address. */
void *vm_add_region(struct vm *vm, __u32 slot, __u64 gpa, __u64 size,
		    __u32 flags);
/* Adds a slot backed by memory the caller owns. */
void vm_add_region_hva(struct vm *vm, __u32 slot, __u64 gpa, __u64 size,
		       void *hva, __u32 flags);
void vm_move_region(struct vm *vm, __u32 slot, __u64 new_gpa);
void vm_delete_region(struct vm *vm, __u32 slot);
/* Host address of guest-physical @gpa, NULL when no slot backs it. */
void *addr_gpa2hva(struct vm *vm, __u64 gpa);
/* Long-mode guests are identity mapped: guest-virtual == guest-physical. */
void *addr_gva2hva(struct vm *vm, const void *gva);

/*
 * Copy a global of the binary (@size bytes at @var) from the host to the
 * guest's copy of the image, or back: vm_sync_from_guest(vm, &x, sizeof(x)).
 */
void vm_sync_to_guest(struct vm *vm, const void *var, size_t size);
void vm_sync_from_guest(struct vm *vm, void *var, size_t size);

/* Raw VMXLAB_CREATE_VCPU plus the run page; NULL with errno on failure. */
struct vcpu *__vm_vcpu_create(struct vm *vm, __u32 id);
/* A vCPU in its reset state (real mode, CS.base 0xffff0000, RIP 0xfff0). */
struct vcpu *vm_vcpu_add_bare(struct vm *vm, __u32 id);
/*
 * A vCPU in 64-bit mode about to call guest_code(), RFLAGS.IF clear;
 * returning from it is a UCALL_DONE carrying the return value.
 * Arguments: vcpu_args_set().
 */
struct vcpu *vm_vcpu_add(struct vm *vm, __u32 id, void *guest_code);
/*
 * Set or clear RFLAGS.IF.  A guest that loops without exiting needs IF=1
 * to be interruptible under Bochs 3.0: with "external-interrupt exiting"
 * host interrupts must exit whatever the guest's IF (SDM 25.6.1), but
 * Bochs holds them off while IF=0 (KVM inside Bochs hangs the same way).
 */
void vcpu_set_if(struct vcpu *vcpu, bool on);
/* Up to six integer arguments (RDI, RSI, RDX, RCX, R8, R9). */
void vcpu_args_set(struct vcpu *vcpu, unsigned int n, ...);
/* Closes one vCPU (fd and run page) and forgets it. */
void vcpu_free(struct vcpu *vcpu);

/*
 * The first MiB as SLOT_LOW, with a 32-bit GDT (flat segments for CPL 0
 * and CPL 3) and two TSSs in it.  The busy one, in TR, has SS0:ESP0 =
 * LOW_SEL_DATA32:LOW_STACK_TOP, where an exception at CPL 3 switches to.
 */
void *vm_add_low_memory(struct vm *vm);
/* Copy a code blob (GUEST_CODE_BLOB) to guest-physical @gpa. */
void vm_load_blob(struct vm *vm, __u64 gpa, const char *start,
		  const char *end);
/* Real mode, CS.base 0, at @entry (below 64 KiB); needs vm_add_low_memory. */
void vcpu_setup_real_mode(struct vcpu *vcpu, __u64 entry);
/* 32-bit protected mode, flat segments, paging off, at @entry. */
void vcpu_setup_protected32(struct vcpu *vcpu, __u64 entry);
/*
 * A 32-bit protected-mode vCPU's gate for exception @vector (below 32):
 * an interrupt gate to @handler at LOW_IDT_GPA, and IDTR over the 32
 * gates there (a vector without a gate is a #GP, then a #DF...).
 */
void vcpu_set_idt_gate32(struct vcpu *vcpu, int vector, __u32 handler);

/*
 * 32-bit paging (SDM Vol. 3A, 4.3): 4-byte entries, a page directory of
 * 1024 PDEs each mapping 4 MiB, through a page table of 1024 PTEs or as
 * one 4 MiB page (PS = 1, used with CR4.PSE = 1).  The tables must lie
 * in memory a slot backs; @flags are the entry's low bits (P, R/W, U/S
 * ...), the address bits come from the other arguments.
 */
#define PTE32_P			BIT(0)
#define PTE32_RW		BIT(1)
#define PTE32_US		BIT(2)
#define PTE32_A			BIT(5)
#define PTE32_D			BIT(6)
#define PTE32_PS		BIT(7)

/* The PDE of @gva in the directory at @pd_gpa, and a PTE of its table. */
__u32 *vm_pde32(struct vm *vm, __u32 pd_gpa, __u32 gva);
__u32 *vm_pte32(struct vm *vm, __u32 pd_gpa, __u32 gva);
/* Point the PDE of @gva at the page table at @pt_gpa. */
void vm_map32_table(struct vm *vm, __u32 pd_gpa, __u32 gva, __u32 pt_gpa,
		    __u32 flags);
/* Map the 4 KiB page @gva to @gpa through the table its PDE points at. */
void vm_map32_page(struct vm *vm, __u32 pd_gpa, __u32 gva, __u32 gpa,
		   __u32 flags);
/*
 * Map the 4 MiB page @gva to @gpa (both 4 MiB aligned); address bits
 * 39:32 go to PDE bits 20:13 (PSE-36, Table 4-4).
 */
void vm_map32_large(struct vm *vm, __u32 pd_gpa, __u32 gva, __u64 gpa,
		    __u32 flags);
/*
 * A directory at @pd_gpa whose first PDE points at the table at @pt_gpa,
 * which maps the low MiB (SLOT_LOW) one to one, writable, user: the code,
 * stack, GDT and IDT of a 32-bit blob, also reachable at CPL 3.
 */
void vm_identity_map32(struct vm *vm, __u32 pd_gpa, __u32 pt_gpa);

/*
 * A code blob for real-mode or 32-bit guests, assembled into the test
 * binary's read-only data: name[] .. name_end[] are its bytes.
 */
#define GUEST_CODE_BLOB(name, bits, code)				\
	extern const char name[], name##_end[];				\
	asm(".pushsection .rodata.guest_blob, \"a\"\n"			\
	    #name ":\n"							\
	    ".code" #bits "\n"						\
	    code							\
	    ".code64\n"							\
	    #name "_end:\n"						\
	    ".popsection\n")

/* vCPU ioctls: the __ forms return the ioctl's result, the others fail
 * the test on error.
 */
int __vcpu_run(struct vcpu *vcpu);
void vcpu_run(struct vcpu *vcpu);
int __vcpu_ioctl(struct vcpu *vcpu, unsigned long cmd, void *arg);
void vcpu_regs_get(struct vcpu *vcpu, struct vmxlab_regs *regs);
void vcpu_regs_set(struct vcpu *vcpu, const struct vmxlab_regs *regs);
void vcpu_sregs_get(struct vcpu *vcpu, struct vmxlab_sregs *sregs);
void vcpu_sregs_set(struct vcpu *vcpu, const struct vmxlab_sregs *sregs);
void vcpu_stats_get(struct vcpu *vcpu, struct vmxlab_vcpu_stats *stats);
/* stats.exits[@reason]: how often the vCPU exited for that VMX reason. */
__u64 vcpu_exit_count(struct vcpu *vcpu, int reason);
/* SET_CPUID with @n entries; returns the ioctl's result. */
int vcpu_set_cpuid(struct vcpu *vcpu, const struct vmxlab_cpuid_entry *e,
		   __u32 n);
/* One MSR; return the ioctl's result (1 when it was processed). */
int vcpu_get_msr(struct vcpu *vcpu, __u32 index, __u64 *data);
int vcpu_set_msr(struct vcpu *vcpu, __u32 index, __u64 data);

/* The data of an IO exit, in the run page. */
static inline void *vcpu_io_data(struct vcpu *vcpu)
{
	return (char *)vcpu->run + vcpu->run->io.data_offset;
}

const char *exit_reason_str(__u32 reason);
/* One line saying what the last exit was, for failure messages. */
const char *vcpu_exit_str(struct vcpu *vcpu, char *buf, size_t size);

/*
 * Run, and fail the test unless the exit is an OUT (returns its data) or
 * an IN (answered with @value, which the next run completes) of @size
 * bytes at @port, or a HLT.
 */
#define vcpu_run_expect_out(vcpu, port, size)				\
	__vcpu_run_expect_io(vcpu, VMXLAB_EXIT_IO_OUT, port, size, 0,	\
			     __FILE__, __LINE__)
#define vcpu_run_expect_in(vcpu, port, size, value)			\
	__vcpu_run_expect_io(vcpu, VMXLAB_EXIT_IO_IN, port, size, value, \
			     __FILE__, __LINE__)
#define vcpu_run_expect_hlt(vcpu)					\
	__vcpu_run_expect_hlt(vcpu, __FILE__, __LINE__)
__u32 __vcpu_run_expect_io(struct vcpu *vcpu, __u8 dir, __u16 port, __u8 size,
			   __u32 value, const char *file, int line);
void __vcpu_run_expect_hlt(struct vcpu *vcpu, const char *file, int line);

/* Fail the test unless the last exit was @reason. */
#define vcpu_assert_exit(vcpu, reason)					\
	__vcpu_assert_exit(vcpu, reason, __FILE__, __LINE__)
void __vcpu_assert_exit(struct vcpu *vcpu, __u32 reason, const char *file,
			int line);

/* --- the ucall channel ----------------------------------------------------- */

/*
 * The guest fills a struct ucall on its stack and writes its guest
 * address (below 4 GiB) with a 32-bit OUT to UCALL_PORT; the host finds
 * it through its mapping of guest memory.  file and expr point into the
 * binary's read-only data, which is at the same address on both sides.
 */
#define UCALL_PORT		0x1000
#define UCALL_MAX_ARGS		6

enum {
	UCALL_NONE,		/* the exit was not a ucall */
	UCALL_SYNC,		/* GUEST_SYNC(): the host checks and resumes */
	UCALL_DONE,		/* GUEST_DONE() or guest code returned */
	UCALL_ABORT,		/* GUEST_ASSERT*() failed */
	UCALL_UNHANDLED,	/* exception with no handler: vector, ec, rip */
};

struct ucall {
	__u64 cmd;
	__u64 args[UCALL_MAX_ARGS];
	__u64 line;
	__u64 nvals;		/* UCALL_ABORT: how many of args are values */
	const char *file;
	const char *expr;
};

/* Decode the last exit; returns uc->cmd, or UCALL_NONE if not a ucall. */
__u64 get_ucall(struct vcpu *vcpu, struct ucall *uc);
/*
 * Run until the next ucall and return its command.  Any other exit, a
 * failed guest assertion or an unhandled guest exception fails the test.
 */
__u64 vcpu_run_to_ucall(struct vcpu *vcpu, struct ucall *uc);
/* "file:line: expr, values" of a UCALL_ABORT or UCALL_UNHANDLED. */
const char *ucall_str(const struct ucall *uc, char *buf, size_t size);

/* --- guest side: reporting to the host --------------------------------------- */

void guest_ucall(__u64 cmd, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
		 __u64 a4, __u64 a5);
void guest_ucall_assert(const char *file, __u64 line, const char *expr,
			__u64 nvals, __u64 v0, __u64 v1);

#define __GUEST_UCALL(cmd, a0, a1, a2, a3, a4, a5, ...)		\
	guest_ucall(cmd, a0, a1, a2, a3, a4, a5)

/* One to six integer values for the host; more are dropped. */
#define GUEST_SYNC(...)							\
	__GUEST_UCALL(UCALL_SYNC, __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define GUEST_DONE()	guest_ucall(UCALL_DONE, 0, 0, 0, 0, 0, 0)

#define GUEST_ASSERT(cond) do {						\
	if (!(cond))							\
		guest_ucall_assert(__FILE__, __LINE__, #cond, 0, 0, 0);	\
} while (0)

#define GUEST_ASSERT_EQ(a, b) do {					\
	__u64 __a = (__u64)(a), __b = (__u64)(b);			\
	if (__a != __b)							\
		guest_ucall_assert(__FILE__, __LINE__, #a " == " #b, 2,	\
				   __a, __b);				\
} while (0)

#define GUEST_ASSERT_NE(a, b) do {					\
	__u64 __a = (__u64)(a), __b = (__u64)(b);			\
	if (__a == __b)							\
		guest_ucall_assert(__FILE__, __LINE__, #a " != " #b, 2,	\
				   __a, __b);				\
} while (0)

#define GUEST_FAIL(why)							\
	guest_ucall_assert(__FILE__, __LINE__, why, 0, 0, 0)

/* --- guest side: exceptions ------------------------------------------------ */

/* What the IDT stubs save; a handler may change it, IRETQ reloads it. */
struct ex_regs {
	__u64 r15, r14, r13, r12, r11, r10, r9, r8;
	__u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	__u64 vector, error_code;
	__u64 rip, cs, rflags, rsp, ss;
};

/* Install @handler for @vector in the guest (all vCPUs of @vm). */
void vm_install_exception_handler(struct vm *vm, int vector,
				  void (*handler)(struct ex_regs *regs));

/* Called by the IDT stubs; handlers first, then the fixups below. */
void vmxlab_guest_route_exception(struct ex_regs *regs);

/*
 * GUEST_ASM_SAFE(insn): run one instruction that may fault.  The
 * exception path resumes after it with the vector in [vector] and the
 * error code in [error_code]; without an exception [vector] is -1.  R9
 * holds a magic number and R10/R11 the addresses of the instruction and
 * of the resume point while it runs.
 */
#define GUEST_EX_MAGIC		0x5afe0fa17a5afe00ULL
#define GUEST_NO_EXCEPTION	(-1)

#define GUEST_ASM_SAFE(insn)						\
	"movabs $" VMXLAB_STR(GUEST_EX_MAGIC) ", %%r9\n\t"		\
	"lea 1f(%%rip), %%r10\n\t"					\
	"lea 2f(%%rip), %%r11\n\t"					\
	"1: " insn "\n\t"						\
	"mov $-1, %%r9\n\t"						\
	"2:\n\t"							\
	"mov %%r9d, %k[vector]\n\t"					\
	"mov %%r10, %[error_code]\n\t"

#define GUEST_ASM_SAFE_OUTPUTS(v, ec)					\
	[vector] "=r"(v), [error_code] "=r"(ec)
#define GUEST_ASM_SAFE_CLOBBERS		"r9", "r10", "r11", "memory"

/*
 * For a handler: if the exception hit a GUEST_ASM_SAFE instruction,
 * arrange to resume after it and return true.
 */
bool guest_ex_fixup(struct ex_regs *regs);

/* --- guest side: ring 3 ------------------------------------------------------ */

/*
 * The vector whose gate (DPL 3) takes guest_run_user()'s function back
 * to CPL 0; an INT to it from CPL 0 is an ordinary unhandled vector.
 */
#define GUEST_USER_RETURN_VECTOR	0x9f

/*
 * Call @fn(@arg) at CPL 3 (IRETQ to SEL_USER_CODE64) and return what it
 * returns; needs vm_identity_map_user().  @fn runs on a stack of its own,
 * with IOPL 0: no ucalls, no GUEST_ASSERT*(), no privileged instructions
 * (MOV from CR2 either).  Its exceptions go to the handlers at CPL 0 as
 * ever (GUEST_ASM_SAFE works), which resume it at CPL 3.  One vCPU at a
 * time: the stack and the saved CPL 0 stack pointer are globals.
 */
__u64 guest_run_user(__u64 (*fn)(__u64), __u64 arg);

/* --- guest side: instructions ------------------------------------------------ */

static inline void outb(__u16 port, __u8 v)
{
	asm volatile("out %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(__u16 port, __u16 v)
{
	asm volatile("out %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(__u16 port, __u32 v)
{
	asm volatile("out %0, %1" : : "a"(v), "Nd"(port));
}

static inline __u8 inb(__u16 port)
{
	__u8 v;

	asm volatile("in %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline __u16 inw(__u16 port)
{
	__u16 v;

	asm volatile("in %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline __u32 inl(__u16 port)
{
	__u32 v;

	asm volatile("in %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void guest_hlt(void)
{
	asm volatile("hlt" : : : "memory");
}

static inline void guest_cpuid(__u32 leaf, __u32 index, __u32 out[4])
{
	asm volatile("cpuid"
		     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
		     : "a"(leaf), "c"(index) : "memory");
}

static inline __u64 guest_rdmsr(__u32 msr)
{
	__u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (__u64)hi << 32;
}

static inline void guest_wrmsr(__u32 msr, __u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((__u32)v), "d"((__u32)(v >> 32))
		     : "memory");
}

static inline int guest_rdmsr_safe(__u32 msr, __u64 *v)
{
	__u32 lo = 0, hi = 0;
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("rdmsr")
		     : "+a"(lo), "+d"(hi), GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : "c"(msr) : GUEST_ASM_SAFE_CLOBBERS);
	*v = lo | (__u64)hi << 32;
	return vector;
}

static inline int guest_wrmsr_safe(__u32 msr, __u64 v)
{
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("wrmsr")
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : "c"(msr), "a"((__u32)v), "d"((__u32)(v >> 32))
		     : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

static inline __u64 guest_xgetbv(__u32 index)
{
	__u32 lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return lo | (__u64)hi << 32;
}

static inline int guest_xsetbv_safe(__u32 index, __u64 v)
{
	int vector;
	__u64 ec;

	asm volatile(GUEST_ASM_SAFE("xsetbv")
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)
		     : "c"(index), "a"((__u32)v), "d"((__u32)(v >> 32))
		     : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

#define GUEST_READ_CR(n)						\
static inline __u64 guest_read_cr##n(void)				\
{									\
	__u64 v;							\
									\
	asm volatile("mov %%cr" #n ", %0" : "=r"(v) : : "memory");	\
	return v;							\
}

GUEST_READ_CR(0)
GUEST_READ_CR(2)
GUEST_READ_CR(3)
GUEST_READ_CR(4)
GUEST_READ_CR(8)

static inline void guest_write_cr8(__u64 v)
{
	asm volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

/* MOV to CRn that may fault: the vector, or GUEST_NO_EXCEPTION. */
#define GUEST_WRITE_CR_SAFE(n)						\
static inline int guest_write_cr##n##_safe(__u64 v)			\
{									\
	int vector;							\
	__u64 ec;							\
									\
	asm volatile(GUEST_ASM_SAFE("mov %[v], %%cr" #n)		\
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)		\
		     : [v] "r"(v) : GUEST_ASM_SAFE_CLOBBERS);		\
	return vector;							\
}

GUEST_WRITE_CR_SAFE(0)
GUEST_WRITE_CR_SAFE(4)
GUEST_WRITE_CR_SAFE(8)

static inline void guest_lidt(__u64 base, __u16 limit)
{
	/* The 10-byte pseudo-descriptor: limit, then base. */
	__u16 idtr[5] = { limit, base, base >> 16, base >> 32, base >> 48 };

	asm volatile("lidt %0" : : "m"(idtr) : "memory");
}

static inline __u64 guest_rdtsc(void)
{
	__u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (__u64)hi << 32;
}

/* Byte-by-byte, so that no library call can be emitted for them. */
static inline void guest_memset(void *p, int c, size_t n)
{
	asm volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
}

/* --- host side: helpers for the x86 state of the host --------------------- */

/* The host's XCR0 (what its XSAVE-enabled processes use), or 0. */
__u64 host_xcr0(void);

/* --- internal to the library ------------------------------------------------ */

/* The binary's image: mapped into every long-mode guest. */
extern char __executable_start[], _end[];

/* Guest-side entry points, in assembly in vmxlab_lib.c. */
void vmxlab_guest_entry(void);
void vmxlab_user_resume(void);
#define VMXLAB_USER_STACK_SIZE	16384
void vmxlab_idt_stubs(void);
void vmxlab_guest_returned(__u64 ret);

/* Pins held host-wide (/proc/vmstat FOLL_PIN counters); asserts they exist. */
long long vm_pins_held(void);

#endif /* VMXLAB_SELFTEST_LIB_H */
