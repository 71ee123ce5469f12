// SPDX-License-Identifier: GPL-2.0
/*
 * The selftest library for running guests (see vmxlab_lib.h): VM, vCPU and
 * memory set-up on the host side, and the guest's half of the ucall channel
 * and of exception handling, which run inside the guest.
 */
#include <cpuid.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "../vmxlab_util.h"

#define PAGE_DOWN(x)	((x) & ~(GUEST_PAGE_SIZE - 1))
#define PAGE_UP(x)	PAGE_DOWN((x) + GUEST_PAGE_SIZE - 1)

/* --- failing ------------------------------------------------------------- */

void test_fail_header(const char *file, int line, const char *func)
{
	int err = errno;

	fflush(stdout);
	fprintf(stderr, "# ==== test failure at %s:%d in %s()", file, line, func);
	if (err)
		fprintf(stderr, " (last errno %d: %s)", err, strerror(err));
	fprintf(stderr, "\n");
}

void test_fail_exit(void)
{
	fflush(stderr);
	fflush(stdout);
	exit(1);
}

/* --- the module ------------------------------------------------------------ */

void vmxlab_require_module(void)
{
	int r;

	if (path_exists(VMXLAB_DEV))
		return;
	r = vmxlab_load();
	TEST_ASSERT(r == 0 || r == -EEXIST, "loading %s: %s", vmxlab_ko_path(),
		    strerror(-r));
	TEST_ASSERT(path_exists(VMXLAB_DEV), "vmxlab loaded but no %s",
		    VMXLAB_DEV);
}

int vmxlab_module_refcnt(void)
{
	char buf[32];
	ssize_t n;

	n = read_file("/sys/module/vmxlab/refcnt", buf, sizeof(buf));
	if (n < 0)
		return n;
	return atoi(buf);
}

int vmxlab_wait_refcnt_zero(int ms)
{
	int refs = vmxlab_module_refcnt();

	for (; refs != 0 && ms > 0; ms -= 50) {
		usleep(50000);
		refs = vmxlab_module_refcnt();
	}
	return refs;
}

/* --- VMs ------------------------------------------------------------------- */

/*
 * The VM type every test gets unless it asks for one: EPT, or shadow
 * paging with VMXLAB_TEST_VM_TYPE=shadow (run_in_vm.sh runs the guest
 * tests both ways).
 */
unsigned long vm_default_type(void)
{
	const char *type = getenv("VMXLAB_TEST_VM_TYPE");

	if (type && !strcmp(type, "shadow"))
		return VMXLAB_VM_SHADOW;
	return VMXLAB_VM_EPT;
}

struct vm *vm_create_bare_type(unsigned long type)
{
	struct vm *vm;

	vmxlab_require_module();
	vm = calloc(1, sizeof(*vm));
	TEST_ASSERT(vm, "out of memory");
	vm->sys_fd = open(VMXLAB_DEV, O_RDWR | O_CLOEXEC);
	TEST_ASSERT(vm->sys_fd >= 0, "open %s", VMXLAB_DEV);
	vm->type = type;
	vm->fd = ioctl(vm->sys_fd, VMXLAB_CREATE_VM, type);
	TEST_ASSERT(vm->fd >= 0, "VMXLAB_CREATE_VM(%lu)", type);
	return vm;
}

struct vm *vm_create_bare(void)
{
	return vm_create_bare_type(vm_default_type());
}

/*
 * The guest runs the binary's own code, at its own addresses, on a copy of
 * the image taken now: the guest's globals start as the host's are at
 * this point and then live their own life (vm_sync_*_guest() copy them).
 * What is mapped of [__executable_start, _end) comes from /proc/self/maps,
 * as the loadable segments need not be contiguous.
 */
static void vm_map_image(struct vm *vm)
{
	__u64 base = PAGE_DOWN((__u64)__executable_start);
	__u64 end = PAGE_UP((__u64)_end);
	unsigned long lo, hi;
	char line[512], *hva;
	FILE *maps;

	TEST_ASSERT(end <= GUEST_SYS_GPA, "image %#llx-%#llx too big", base, end);
	hva = vm_add_region(vm, SLOT_IMAGE, base, end - base, 0);
	maps = fopen("/proc/self/maps", "re");
	TEST_ASSERT(maps, "/proc/self/maps");
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || hi <= base || lo >= end)
			continue;
		lo = lo < base ? base : lo;
		hi = hi > end ? end : hi;
		memcpy(hva + (lo - base), (void *)lo, hi - lo);
	}
	fclose(maps);
}

static void put_u64(void *base, __u64 off, __u64 v)
{
	memcpy((char *)base + off, &v, sizeof(v));
}

static void put_u32(void *base, __u64 off, __u32 v)
{
	memcpy((char *)base + off, &v, sizeof(v));
}

#define SYS_PML4	0x0000
#define SYS_PDPT	0x1000
#define SYS_PD		(GUEST_SYS_PD_GPA - GUEST_SYS_GPA)	/* 4 pages: 4 GiB */
#define SYS_GDT		0x6000
#define SYS_IDT		0x7000
#define SYS_TSS		0x8000		/* 128 bytes per vCPU */
#define SYS_TSS_SIZE	128
#define SYS_STACKS	0x10000
#define STACK_SIZE	0x10000		/* per vCPU: the stack ... */
#define IST_SIZE	0x4000		/* ... and the exception stack */
#define GDT_LIMIT	(SEL_USER_DATA + 7)

/* Page-table entry bits (SDM Vol. 3A, 4.5). */
#define PTE_PRESENT	BIT_ULL(0)
#define PTE_WRITE	BIT_ULL(1)
#define PTE_USER	BIT_ULL(2)
#define PTE_LARGE	BIT_ULL(7)

static __u64 tss_gpa(__u32 id)
{
	return GUEST_SYS_GPA + SYS_TSS + id * SYS_TSS_SIZE;
}

static __u64 stack_top(__u32 id)
{
	return GUEST_SYS_GPA + SYS_STACKS + (id + 1) * (STACK_SIZE + IST_SIZE) -
	       IST_SIZE;
}

static __u64 ist_top(__u32 id)
{
	return stack_top(id) + IST_SIZE;
}

/* A 64-bit TSS descriptor, busy (type 11): 16 bytes (SDM Vol. 3A, 8.2.3). */
static void put_tss64_desc(void *gdt, __u64 sel, __u64 base, __u32 limit)
{
	__u64 lo = (limit & 0xffff) | (base & 0xffffff) << 16 |
		   11ULL << 40 | 1ULL << 47 | (__u64)(limit >> 16 & 0xf) << 48 |
		   (base >> 24 & 0xff) << 56;

	put_u64(gdt, sel, lo);
	put_u64(gdt, sel + 8, base >> 32);
}

/*
 * A 64-bit interrupt gate using IST1 (SDM Vol. 3A, 6.14.1); DPL 0, but 3
 * for the vector by which CPL 3 code returns (an INT n checks the DPL,
 * exceptions do not: 6.12.1.1).
 */
static void put_idt_gate(void *idt, int vector, __u64 handler)
{
	__u64 dpl = vector == GUEST_USER_RETURN_VECTOR ? 3 : 0;
	__u64 lo = (handler & 0xffff) | (__u64)SEL_CODE64 << 16 | 1ULL << 32 |
		   14ULL << 40 | dpl << 45 | 1ULL << 47 |
		   (handler >> 16 & 0xffff) << 48;

	put_u64(idt, vector * 16, lo);
	put_u64(idt, vector * 16 + 8, handler >> 32);
}

static void vm_setup_sys(struct vm *vm)
{
	char *sys = vm_add_region(vm, SLOT_SYS, GUEST_SYS_GPA, GUEST_SYS_SIZE, 0);
	__u64 i;

	/* Identity map of 0-4 GiB with 2 MiB pages. */
	put_u64(sys, SYS_PML4, (GUEST_SYS_GPA + SYS_PDPT) | PTE_PRESENT | PTE_WRITE);
	for (i = 0; i < 4; i++)
		put_u64(sys, SYS_PDPT + i * 8, (GUEST_SYS_GPA + SYS_PD + i * 0x1000) |
			PTE_PRESENT | PTE_WRITE);
	for (i = 0; i < GUEST_IDENTITY_LIMIT >> 21; i++)
		put_u64(sys, SYS_PD + i * 8,
			(i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE);

	/* Flat code and data segments; the TSS descriptors come per vCPU. */
	put_u64(sys, SYS_GDT + SEL_CODE64, 0x00af9b000000ffffULL);
	put_u64(sys, SYS_GDT + SEL_DATA, 0x00cf93000000ffffULL);
	put_u64(sys, SYS_GDT + SEL_CODE32, 0x00cf9b000000ffffULL);
	/* The same as SEL_CODE64 and SEL_DATA with DPL 3 (bits 46:45). */
	put_u64(sys, SYS_GDT + SEL_USER_CODE64, 0x00affb000000ffffULL);
	put_u64(sys, SYS_GDT + SEL_USER_DATA, 0x00cff3000000ffffULL);

	for (i = 0; i < 256; i++)
		put_idt_gate(sys + SYS_IDT, i, (__u64)vmxlab_idt_stubs + 16 * i);
}

/* XCR0 bits a guest gets when the host has them: x87, SSE, AVX, AVX-512. */
#define GUEST_XCR0_MASK	0xe7ULL

__u64 host_xcr0(void)
{
	unsigned int a, b, c, d;
	__u32 lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | (__u64)hi << 32;
}

struct vm *vm_create(void)
{
	return vm_create_type(vm_default_type());
}

struct vm *vm_create_type(unsigned long type)
{
	struct vm *vm = vm_create_bare_type(type);

	vm_map_image(vm);
	vm_setup_sys(vm);
	/*
	 * The guest's extended state is enabled like the host's, so that any
	 * vector code (even libc's string functions, which pick AVX when the
	 * host has it) runs the same in the guest.
	 */
	vm->guest_xcr0 = host_xcr0() & GUEST_XCR0_MASK;
	vm->long_mode = true;
	return vm;
}

/*
 * Replace the identity map's 2 MiB page at @gva with the 4 KiB page table
 * at @pt_gpa (present, writable, user), so that a test can map single
 * pages; the upper levels get U/S too, so that ring 3 can reach it.
 */
void vm_map_page_table(struct vm *vm, __u64 gva, __u64 pt_gpa)
{
	char *sys = addr_gpa2hva(vm, GUEST_SYS_GPA);
	__u64 pde = pt_gpa | PTE_PRESENT | PTE_WRITE | PTE_USER;
	__u64 e;

	TEST_ASSERT(vm->long_mode && gva < GUEST_IDENTITY_LIMIT &&
		    !(gva & 0x1fffff) && !(pt_gpa & 0xfff),
		    "%s(%#llx, %#llx)", __func__, gva, pt_gpa);
	memcpy(&e, sys + SYS_PML4, 8);
	e |= PTE_USER;
	memcpy(sys + SYS_PML4, &e, 8);
	memcpy(&e, sys + SYS_PDPT + (gva >> 30) * 8, 8);
	e |= PTE_USER;
	memcpy(sys + SYS_PDPT + (gva >> 30) * 8, &e, 8);
	memcpy(sys + SYS_PD + (gva >> 21) * 8, &pde, 8);
}

void vm_identity_map_user(struct vm *vm)
{
	char *sys = addr_gpa2hva(vm, GUEST_SYS_GPA);
	__u64 i, e;

	TEST_ASSERT(vm->long_mode, "%s() needs a VM from vm_create()", __func__);
	for (i = 0; i < 1 + 4 + (GUEST_IDENTITY_LIMIT >> 21); i++) {
		/* The PML4E, the 4 PDPTEs, then the PDEs: one array each. */
		__u64 off = i == 0 ? SYS_PML4 : i < 5 ? SYS_PDPT + (i - 1) * 8 :
			    SYS_PD + (i - 5) * 8;

		memcpy(&e, sys + off, 8);
		e |= PTE_USER;
		memcpy(sys + off, &e, 8);
	}
}

void vcpu_free(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	munmap(vcpu->run, vcpu->run_size);
	close(vcpu->fd);
	vm->vcpus[vcpu->id] = NULL;
	free(vcpu);
}

void vm_free(struct vm *vm)
{
	int i;

	for (i = 0; i < VMXLAB_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			vcpu_free(vm->vcpus[i]);
	close(vm->fd);
	close(vm->sys_fd);
	for (i = 0; i < VMXLAB_MAX_MEM_SLOTS; i++)
		if (vm->regions[i].used && vm->regions[i].owned)
			munmap(vm->regions[i].hva, vm->regions[i].size);
	free(vm);
}

/* --- memory ---------------------------------------------------------------- */

int __vm_set_region(struct vm *vm, __u32 slot, __u64 gpa, __u64 size,
		    void *hva, __u32 flags)
{
	struct vmxlab_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	return ioctl(vm->fd, VMXLAB_SET_MEMORY_REGION, &r);
}

void vm_add_region_hva(struct vm *vm, __u32 slot, __u64 gpa, __u64 size,
		       void *hva, __u32 flags)
{
	struct vm_region *r;

	TEST_ASSERT(slot < VMXLAB_MAX_MEM_SLOTS && !vm->regions[slot].used,
		    "slot %u out of range or in use", slot);
	TEST_ASSERT(!__vm_set_region(vm, slot, gpa, size, hva, flags),
		    "VMXLAB_SET_MEMORY_REGION slot %u gpa %#llx size %#llx",
		    slot, gpa, size);
	r = &vm->regions[slot];
	r->used = true;
	r->gpa = gpa;
	r->size = size;
	r->hva = hva;
	r->flags = flags;
}

void *vm_add_region(struct vm *vm, __u32 slot, __u64 gpa, __u64 size,
		    __u32 flags)
{
	void *hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	TEST_ASSERT(hva != MAP_FAILED, "mmap %#llx bytes", size);
	vm_add_region_hva(vm, slot, gpa, size, hva, flags);
	vm->regions[slot].owned = true;
	return hva;
}

void vm_move_region(struct vm *vm, __u32 slot, __u64 new_gpa)
{
	struct vm_region *r = &vm->regions[slot];

	TEST_ASSERT(slot < VMXLAB_MAX_MEM_SLOTS && r->used, "slot %u unused", slot);
	TEST_ASSERT(!__vm_set_region(vm, slot, new_gpa, r->size, r->hva, r->flags),
		    "moving slot %u to %#llx", slot, new_gpa);
	r->gpa = new_gpa;
}

void vm_delete_region(struct vm *vm, __u32 slot)
{
	struct vm_region *r = &vm->regions[slot];

	TEST_ASSERT(slot < VMXLAB_MAX_MEM_SLOTS && r->used, "slot %u unused", slot);
	TEST_ASSERT(!__vm_set_region(vm, slot, r->gpa, 0, r->hva, r->flags),
		    "deleting slot %u", slot);
	if (r->owned)
		munmap(r->hva, r->size);
	memset(r, 0, sizeof(*r));
}

/* Host address of [gpa, gpa + len), which must lie in one slot. */
static void *gpa2hva_range(struct vm *vm, __u64 gpa, __u64 len)
{
	int i;

	for (i = 0; i < VMXLAB_MAX_MEM_SLOTS; i++) {
		struct vm_region *r = &vm->regions[i];

		if (r->used && gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return (char *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

void *addr_gpa2hva(struct vm *vm, __u64 gpa)
{
	return gpa2hva_range(vm, gpa, 1);
}

void vm_sync_to_guest(struct vm *vm, const void *var, size_t size)
{
	void *hva = gpa2hva_range(vm, (__u64)var, size);

	TEST_ASSERT(vm->long_mode && hva, "%p not in guest memory", var);
	memcpy(hva, var, size);
}

void vm_sync_from_guest(struct vm *vm, void *var, size_t size)
{
	void *hva = gpa2hva_range(vm, (__u64)var, size);

	TEST_ASSERT(vm->long_mode && hva, "%p not in guest memory", var);
	memcpy(var, hva, size);
}

void *addr_gva2hva(struct vm *vm, const void *gva)
{
	void *hva;

	TEST_ASSERT(vm->long_mode, "no identity-mapped guest in this VM");
	hva = addr_gpa2hva(vm, (__u64)gva);
	TEST_ASSERT(hva, "guest address %p not in guest memory", gva);
	return hva;
}

/* --- vCPUs ------------------------------------------------------------------- */

struct vcpu *__vm_vcpu_create(struct vm *vm, __u32 id)
{
	struct vcpu *vcpu;
	int fd, size;

	fd = ioctl(vm->fd, VMXLAB_CREATE_VCPU, id);
	if (fd < 0)
		return NULL;
	TEST_ASSERT(id < VMXLAB_MAX_VCPUS && !vm->vcpus[id],
		    "vCPU id %u accepted twice or out of range", id);
	size = ioctl(vm->sys_fd, VMXLAB_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT(size >= (int)sizeof(struct vmxlab_run),
		    "VMXLAB_GET_VCPU_MMAP_SIZE returned %d", size);
	vcpu = calloc(1, sizeof(*vcpu));
	TEST_ASSERT(vcpu, "out of memory");
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = fd;
	vcpu->run_size = size;
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(vcpu->run != MAP_FAILED, "mmap of the run page");
	vm->vcpus[id] = vcpu;
	return vcpu;
}

struct vcpu *vm_vcpu_add_bare(struct vm *vm, __u32 id)
{
	struct vcpu *vcpu = __vm_vcpu_create(vm, id);

	TEST_ASSERT(vcpu, "VMXLAB_CREATE_VCPU %u", id);
	return vcpu;
}

static struct vmxlab_segment flat_segment(__u16 sel, __u8 type, bool code64)
{
	return (struct vmxlab_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .g = 1, .l = code64, .db = !code64,
	};
}

struct vcpu *vm_vcpu_add(struct vm *vm, __u32 id, void *guest_code)
{
	struct vcpu *vcpu = vm_vcpu_add_bare(vm, id);
	char *gdt = addr_gpa2hva(vm, GUEST_SYS_GPA + SYS_GDT);
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;

	TEST_ASSERT(vm->long_mode, "%s() needs a VM from vm_create()", __func__);
	put_tss64_desc(gdt, SEL_TSS(id), tss_gpa(id), 0x67);
	/* TSS: IST1 at offset 0x24, no I/O bitmap (base past the limit). */
	put_u64(addr_gpa2hva(vm, tss_gpa(id)), 0x24, ist_top(id));
	put_u64(addr_gpa2hva(vm, tss_gpa(id)), 0x64, 104ULL << 16);

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs = flat_segment(SEL_CODE64, 11, true);
	sregs.ds = flat_segment(SEL_DATA, 3, false);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.tr = (struct vmxlab_segment) {
		.base = tss_gpa(id), .limit = 0x67, .selector = SEL_TSS(id),
		.type = 11, .present = 1,
	};
	sregs.ldt = (struct vmxlab_segment) { .unusable = 1 };
	sregs.gdt.base = GUEST_SYS_GPA + SYS_GDT;
	sregs.gdt.limit = GDT_LIMIT;
	sregs.idt.base = GUEST_SYS_GPA + SYS_IDT;
	sregs.idt.limit = 256 * 16 - 1;
	/* PG, WP, NE, ET, MP, PE: paging, and SSE without #NM. */
	sregs.cr0 = 0x80010033;
	sregs.cr3 = GUEST_SYS_GPA + SYS_PML4;
	/* PAE, OSFXSR, OSXMMEXCPT, and OSXSAVE when XCR0 is to be set. */
	sregs.cr4 = 0x620 | (vm->guest_xcr0 ? 1ULL << 18 : 0);
	sregs.efer = 0x500;	/* LME, LMA */
	vcpu_sregs_set(vcpu, &sregs);

	memset(&regs, 0, sizeof(regs));
	regs.rip = (__u64)vmxlab_guest_entry;
	regs.rsp = stack_top(id);
	regs.rflags = 2;
	regs.r14 = vm->guest_xcr0;
	regs.r15 = (__u64)guest_code;
	vcpu_regs_set(vcpu, &regs);
	return vcpu;
}

void vcpu_set_if(struct vcpu *vcpu, bool on)
{
	struct vmxlab_regs regs;

	vcpu_regs_get(vcpu, &regs);
	regs.rflags = on ? regs.rflags | 0x200 : regs.rflags & ~0x200ULL;
	vcpu_regs_set(vcpu, &regs);
}

void vcpu_args_set(struct vcpu *vcpu, unsigned int n, ...)
{
	struct vmxlab_regs regs;
	__u64 *slots[] = { &regs.rdi, &regs.rsi, &regs.rdx, &regs.rcx,
			   &regs.r8, &regs.r9 };
	unsigned int i;
	va_list ap;

	TEST_ASSERT(n <= VMXLAB_ARRAY_SIZE(slots), "%u arguments", n);
	vcpu_regs_get(vcpu, &regs);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		*slots[i] = va_arg(ap, __u64);
	va_end(ap);
	vcpu_regs_set(vcpu, &regs);
}

/* --- real mode and 32-bit protected mode ------------------------------------ */

/* A flat 32-bit descriptor (SDM Vol. 3A, 3.4.5), G=1, D=1. */
static __u64 flat_desc32(__u8 type, bool s)
{
	return 0x00cf00000000ffffULL | (__u64)type << 40 | (__u64)s << 44 |
	       1ULL << 47;
}

/* A 32-bit TSS descriptor of type @type (9 available, 11 busy). */
static __u64 tss32_desc(__u32 base, __u8 type)
{
	return 0x67 | (__u64)(base & 0xffffff) << 16 | (__u64)type << 40 |
	       1ULL << 47 | (__u64)(base >> 24) << 56;
}

void *vm_add_low_memory(struct vm *vm)
{
	char *low = vm_add_region(vm, SLOT_LOW, 0, LOW_MEM_SIZE, 0);

	put_u64(low, LOW_GDT_GPA + LOW_SEL_CODE32, flat_desc32(11, true));
	put_u64(low, LOW_GDT_GPA + LOW_SEL_DATA32, flat_desc32(3, true));
	put_u64(low, LOW_GDT_GPA + LOW_SEL_TSS, tss32_desc(LOW_TSS_GPA, 11));
	put_u64(low, LOW_GDT_GPA + LOW_SEL_TSS2, tss32_desc(LOW_TSS2_GPA, 9));
	/* The same as LOW_SEL_CODE32 and LOW_SEL_DATA32 with DPL 3. */
	put_u64(low, LOW_GDT_GPA + LOW_SEL_USER_CODE32,
		flat_desc32(11, true) | 3ULL << 45);
	put_u64(low, LOW_GDT_GPA + LOW_SEL_USER_DATA32,
		flat_desc32(3, true) | 3ULL << 45);
	/* The 32-bit TSS's ESP0 and SS0 (SDM Vol. 3A, Figure 8-2). */
	put_u32(low, LOW_TSS_GPA + 4, LOW_STACK_TOP);
	put_u32(low, LOW_TSS_GPA + 8, LOW_SEL_DATA32);
	return low;
}

void vm_load_blob(struct vm *vm, __u64 gpa, const char *start, const char *end)
{
	void *hva = gpa2hva_range(vm, gpa, end - start);

	TEST_ASSERT(hva && end > start, "blob of %zd bytes at %#llx",
		    end - start, gpa);
	memcpy(hva, start, end - start);
}

void vcpu_setup_real_mode(struct vcpu *vcpu, __u64 entry)
{
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;

	TEST_ASSERT(entry < 0x10000, "real-mode entry %#llx", entry);
	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	sregs.es = sregs.ds;
	sregs.ss = sregs.ds;
	vcpu_sregs_set(vcpu, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsp = LOW_STACK_TOP;
	regs.rflags = 2;
	vcpu_regs_set(vcpu, &regs);
}

void vcpu_setup_protected32(struct vcpu *vcpu, __u64 entry)
{
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs = flat_segment(LOW_SEL_CODE32, 11, false);
	sregs.ds = flat_segment(LOW_SEL_DATA32, 3, false);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.tr = (struct vmxlab_segment) {
		.base = LOW_TSS_GPA, .limit = 0x67, .selector = LOW_SEL_TSS,
		.type = 11, .present = 1,
	};
	sregs.ldt = (struct vmxlab_segment) { .unusable = 1 };
	sregs.gdt.base = LOW_GDT_GPA;
	sregs.gdt.limit = LOW_SEL_USER_DATA32 + 7;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;	/* any exception is a triple fault */
	sregs.cr0 = 0x11;	/* PE, ET; paging off */
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	vcpu_sregs_set(vcpu, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsp = LOW_STACK_TOP;
	regs.rflags = 2;
	vcpu_regs_set(vcpu, &regs);
}

/* --- 32-bit paging ------------------------------------------------------------ */

/* A 4-byte entry in guest memory: the test fails if no slot backs it. */
static __u32 *entry32(struct vm *vm, __u32 gpa)
{
	__u32 *e = gpa2hva_range(vm, gpa, 4);

	TEST_ASSERT(e, "32-bit paging entry at %#x not in guest memory", gpa);
	return e;
}

/* Bits 31:22 of a linear address index the PDE, 21:12 the PTE (4.3). */
__u32 *vm_pde32(struct vm *vm, __u32 pd_gpa, __u32 gva)
{
	return entry32(vm, pd_gpa + (gva >> 22) * 4);
}

__u32 *vm_pte32(struct vm *vm, __u32 pd_gpa, __u32 gva)
{
	__u32 pde = *vm_pde32(vm, pd_gpa, gva);

	TEST_ASSERT((pde & PTE32_P) && !(pde & PTE32_PS),
		    "no page table for %#x: PDE %#x", gva, pde);
	return entry32(vm, (pde & ~0xfffU) + ((gva >> 12) & 0x3ff) * 4);
}

void vm_map32_table(struct vm *vm, __u32 pd_gpa, __u32 gva, __u32 pt_gpa,
		    __u32 flags)
{
	TEST_ASSERT(!(pt_gpa & 0xfff), "page table at %#x", pt_gpa);
	*vm_pde32(vm, pd_gpa, gva) = pt_gpa | flags;
}

void vm_map32_page(struct vm *vm, __u32 pd_gpa, __u32 gva, __u32 gpa,
		   __u32 flags)
{
	TEST_ASSERT(!(gpa & 0xfff), "page at %#x", gpa);
	*vm_pte32(vm, pd_gpa, gva) = gpa | flags;
}

void vm_map32_large(struct vm *vm, __u32 pd_gpa, __u32 gva, __u64 gpa,
		    __u32 flags)
{
	TEST_ASSERT(!(gva & 0x3fffff) && !(gpa & 0x3fffff) && gpa >> 40 == 0,
		    "4 MiB page %#x -> %#llx", gva, gpa);
	*vm_pde32(vm, pd_gpa, gva) = (__u32)gpa | (__u32)(gpa >> 32) << 13 |
				     PTE32_PS | flags;
}

void vm_identity_map32(struct vm *vm, __u32 pd_gpa, __u32 pt_gpa)
{
	__u32 a;

	vm_map32_table(vm, pd_gpa, 0, pt_gpa, PTE32_P | PTE32_RW | PTE32_US);
	for (a = 0; a < LOW_MEM_SIZE; a += GUEST_PAGE_SIZE)
		vm_map32_page(vm, pd_gpa, a, a, PTE32_P | PTE32_RW | PTE32_US);
}

/* A 32-bit interrupt gate, DPL 0 (SDM Vol. 3A, Figure 6-2). */
void vcpu_set_idt_gate32(struct vcpu *vcpu, int vector, __u32 handler)
{
	char *idt = addr_gpa2hva(vcpu->vm, LOW_IDT_GPA);
	struct vmxlab_sregs sregs;

	TEST_ASSERT(idt && vector >= 0 && vector < 32,
		    "gate %d needs vm_add_low_memory()", vector);
	put_u64(idt, vector * 8, (handler & 0xffff) |
		(__u64)LOW_SEL_CODE32 << 16 | 0x8eULL << 40 |
		(__u64)(handler >> 16) << 48);
	vcpu_sregs_get(vcpu, &sregs);
	sregs.idt.base = LOW_IDT_GPA;
	sregs.idt.limit = 32 * 8 - 1;
	vcpu_sregs_set(vcpu, &sregs);
}

/* --- vCPU ioctls ------------------------------------------------------------ */

int __vcpu_ioctl(struct vcpu *vcpu, unsigned long cmd, void *arg)
{
	return ioctl(vcpu->fd, cmd, arg);
}

int __vcpu_run(struct vcpu *vcpu)
{
	return ioctl(vcpu->fd, VMXLAB_RUN, 0);
}

void vcpu_run(struct vcpu *vcpu)
{
	int r = __vcpu_run(vcpu);

	TEST_ASSERT(r == 0, "VMXLAB_RUN on vCPU %u returned %d, exit_reason %u",
		    vcpu->id, r, vcpu->run->exit_reason);
}

void vcpu_regs_get(struct vcpu *vcpu, struct vmxlab_regs *regs)
{
	TEST_ASSERT(!__vcpu_ioctl(vcpu, VMXLAB_GET_REGS, regs), "GET_REGS");
}

void vcpu_regs_set(struct vcpu *vcpu, const struct vmxlab_regs *regs)
{
	TEST_ASSERT(!__vcpu_ioctl(vcpu, VMXLAB_SET_REGS, (void *)regs), "SET_REGS");
}

void vcpu_sregs_get(struct vcpu *vcpu, struct vmxlab_sregs *sregs)
{
	TEST_ASSERT(!__vcpu_ioctl(vcpu, VMXLAB_GET_SREGS, sregs), "GET_SREGS");
}

void vcpu_sregs_set(struct vcpu *vcpu, const struct vmxlab_sregs *sregs)
{
	TEST_ASSERT(!__vcpu_ioctl(vcpu, VMXLAB_SET_SREGS, (void *)sregs),
		    "SET_SREGS");
}

void vcpu_stats_get(struct vcpu *vcpu, struct vmxlab_vcpu_stats *stats)
{
	TEST_ASSERT(!__vcpu_ioctl(vcpu, VMXLAB_GET_STATS, stats), "GET_STATS");
}

__u64 vcpu_exit_count(struct vcpu *vcpu, int reason)
{
	struct vmxlab_vcpu_stats stats;

	TEST_ASSERT(reason >= 0 && reason < VMXLAB_NR_VMX_EXIT_REASONS,
		    "exit reason %d", reason);
	vcpu_stats_get(vcpu, &stats);
	return stats.exits[reason];
}

int vcpu_set_cpuid(struct vcpu *vcpu, const struct vmxlab_cpuid_entry *e,
		   __u32 n)
{
	size_t size = sizeof(struct vmxlab_cpuid) + n * sizeof(*e);
	struct vmxlab_cpuid *cpuid = calloc(1, size);
	int r;

	TEST_ASSERT(cpuid, "out of memory");
	cpuid->nent = n;
	memcpy(cpuid->entries, e, n * sizeof(*e));
	r = __vcpu_ioctl(vcpu, VMXLAB_SET_CPUID, cpuid);
	free(cpuid);
	return r;
}

/* One-entry struct vmxlab_msrs, on the stack. */
struct one_msr {
	struct vmxlab_msrs hdr;
	struct vmxlab_msr_entry entry;
};

int vcpu_get_msr(struct vcpu *vcpu, __u32 index, __u64 *data)
{
	struct one_msr m = { .hdr.nmsrs = 1, .entry.index = index };
	int r = __vcpu_ioctl(vcpu, VMXLAB_GET_MSRS, &m);

	*data = m.entry.data;
	return r;
}

int vcpu_set_msr(struct vcpu *vcpu, __u32 index, __u64 data)
{
	struct one_msr m = {
		.hdr.nmsrs = 1, .entry.index = index, .entry.data = data,
	};

	return __vcpu_ioctl(vcpu, VMXLAB_SET_MSRS, &m);
}

/* --- describing exits --------------------------------------------------------- */

const char *exit_reason_str(__u32 reason)
{
	switch (reason) {
	case VMXLAB_EXIT_UNKNOWN:
		return "UNKNOWN";
	case VMXLAB_EXIT_IO:
		return "IO";
	case VMXLAB_EXIT_DEBUG:
		return "DEBUG";
	case VMXLAB_EXIT_HLT:
		return "HLT";
	case VMXLAB_EXIT_MMIO:
		return "MMIO";
	case VMXLAB_EXIT_SHUTDOWN:
		return "SHUTDOWN";
	case VMXLAB_EXIT_FAIL_ENTRY:
		return "FAIL_ENTRY";
	case VMXLAB_EXIT_INTR:
		return "INTR";
	case VMXLAB_EXIT_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	default:
		return "(not a VMXLAB_EXIT_*)";
	}
}

const char *vcpu_exit_str(struct vcpu *vcpu, char *buf, size_t size)
{
	struct vmxlab_run *run = vcpu->run;
	struct vmxlab_regs regs = {};
	int n;

	n = snprintf(buf, size, "%s (%u)", exit_reason_str(run->exit_reason),
		     run->exit_reason);
	switch (run->exit_reason) {
	case VMXLAB_EXIT_IO:
		n += snprintf(buf + n, size - n, ": %s port %#x size %u count %u",
			      run->io.direction == VMXLAB_EXIT_IO_OUT ? "OUT" : "IN",
			      run->io.port, run->io.size, run->io.count);
		break;
	case VMXLAB_EXIT_MMIO:
		n += snprintf(buf + n, size - n, ": %s gpa %#llx len %u",
			      run->mmio.is_write ? "write" : "read",
			      (unsigned long long)run->mmio.phys_addr,
			      run->mmio.len);
		break;
	case VMXLAB_EXIT_FAIL_ENTRY:
		n += snprintf(buf + n, size - n, ": reason %#llx cpu %u",
			      (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			      run->fail_entry.cpu);
		break;
	case VMXLAB_EXIT_INTERNAL_ERROR:
		n += snprintf(buf + n, size - n,
			      ": suberror %u ndata %u data %#llx %#llx",
			      run->internal.suberror, run->internal.ndata,
			      (unsigned long long)run->internal.data[0],
			      (unsigned long long)run->internal.data[1]);
		break;
	}
	if (n < (int)size && !__vcpu_ioctl(vcpu, VMXLAB_GET_REGS, &regs))
		snprintf(buf + n, size - n, ", rip %#llx",
			 (unsigned long long)regs.rip);
	return buf;
}

__u32 __vcpu_run_expect_io(struct vcpu *vcpu, __u8 dir, __u16 port, __u8 size,
			   __u32 value, const char *file, int line)
{
	struct vmxlab_run *run = vcpu->run;
	__u32 data = 0;
	char buf[256];

	vcpu_run(vcpu);
	if (run->exit_reason != VMXLAB_EXIT_IO || run->io.direction != dir ||
	    run->io.port != port || run->io.size != size || run->io.count != 1) {
		test_fail_header(file, line, "vcpu_run_expect_io");
		fprintf(stderr, "#   expected %s port %#x size %u, got exit %s\n",
			dir == VMXLAB_EXIT_IO_OUT ? "OUT" : "IN", port, size,
			vcpu_exit_str(vcpu, buf, sizeof(buf)));
		test_fail_exit();
	}
	if (dir == VMXLAB_EXIT_IO_OUT)
		memcpy(&data, vcpu_io_data(vcpu), size);
	else
		memcpy(vcpu_io_data(vcpu), &value, size);
	return data;
}

void __vcpu_assert_exit(struct vcpu *vcpu, __u32 reason, const char *file,
			int line)
{
	char buf[256];

	if (vcpu->run->exit_reason == reason)
		return;
	test_fail_header(file, line, "vcpu_assert_exit");
	fprintf(stderr, "#   expected exit %s, got %s\n", exit_reason_str(reason),
		vcpu_exit_str(vcpu, buf, sizeof(buf)));
	test_fail_exit();
}

void __vcpu_run_expect_hlt(struct vcpu *vcpu, const char *file, int line)
{
	char buf[256];

	vcpu_run(vcpu);
	if (vcpu->run->exit_reason != VMXLAB_EXIT_HLT) {
		test_fail_header(file, line, "vcpu_run_expect_hlt");
		fprintf(stderr, "#   expected HLT, got exit %s\n",
			vcpu_exit_str(vcpu, buf, sizeof(buf)));
		test_fail_exit();
	}
}

/* --- the ucall channel, host side -------------------------------------------- */

__u64 get_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	struct vmxlab_run *run = vcpu->run;
	__u32 gpa;
	void *hva;

	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != VMXLAB_EXIT_IO || run->io.port != UCALL_PORT ||
	    run->io.direction != VMXLAB_EXIT_IO_OUT || run->io.size != 4 ||
	    run->io.count != 1)
		return UCALL_NONE;
	TEST_ASSERT(run->io.data_offset >= sizeof(*run) &&
		    run->io.data_offset <= 4096 - 4,
		    "io.data_offset %llu", (unsigned long long)run->io.data_offset);
	memcpy(&gpa, vcpu_io_data(vcpu), sizeof(gpa));
	hva = gpa2hva_range(vcpu->vm, gpa, sizeof(*uc));
	TEST_ASSERT(hva, "ucall at guest address %#x, outside guest memory", gpa);
	memcpy(uc, hva, sizeof(*uc));
	return uc->cmd;
}

/* A string of the guest's: the pointer must lie inside the image. */
static const char *image_str(const char *p)
{
	if (p < __executable_start || p >= _end)
		return "(bad guest pointer)";
	return p;
}

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "9",
	"#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP",
};

const char *ucall_str(const struct ucall *uc, char *buf, size_t size)
{
	const char *name;

	switch (uc->cmd) {
	case UCALL_ABORT:
		if (uc->nvals == 2)
			snprintf(buf, size,
				 "guest assertion failed: %s:%llu: %s (%#llx vs %#llx)",
				 image_str(uc->file), (unsigned long long)uc->line,
				 image_str(uc->expr), (unsigned long long)uc->args[0],
				 (unsigned long long)uc->args[1]);
		else
			snprintf(buf, size, "guest assertion failed: %s:%llu: %s",
				 image_str(uc->file), (unsigned long long)uc->line,
				 image_str(uc->expr));
		break;
	case UCALL_UNHANDLED:
		name = uc->args[0] < 32 && vector_names[uc->args[0]] ?
		       vector_names[uc->args[0]] : "";
		snprintf(buf, size,
			 "unhandled guest exception %llu %s, error code %#llx, rip %#llx",
			 (unsigned long long)uc->args[0], name,
			 (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2]);
		break;
	default:
		snprintf(buf, size, "ucall %llu (%#llx %#llx %#llx %#llx)",
			 (unsigned long long)uc->cmd,
			 (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2],
			 (unsigned long long)uc->args[3]);
		break;
	}
	return buf;
}

__u64 vcpu_run_to_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	char buf[512];
	__u64 cmd;

	vcpu_run(vcpu);
	cmd = get_ucall(vcpu, uc);
	TEST_ASSERT(cmd != UCALL_NONE, "vCPU %u: expected a ucall, got exit %s",
		    vcpu->id, vcpu_exit_str(vcpu, buf, sizeof(buf)));
	TEST_ASSERT(cmd != UCALL_ABORT && cmd != UCALL_UNHANDLED, "vCPU %u: %s",
		    vcpu->id, ucall_str(uc, buf, sizeof(buf)));
	return cmd;
}

/* --- exception handlers ------------------------------------------------------- */

/* In the image, so each guest has its own copy; written by the host. */
static void (*vmxlab_guest_handlers[256])(struct ex_regs *regs);

void vm_install_exception_handler(struct vm *vm, int vector,
				  void (*handler)(struct ex_regs *regs))
{
	void (**slot)(struct ex_regs *regs);

	TEST_ASSERT(vector >= 0 && vector < 256, "vector %d", vector);
	slot = addr_gva2hva(vm, &vmxlab_guest_handlers[vector]);
	*slot = handler;
}

/* ------------------------------------------------------------------------------
 * Everything below runs in the guest: no library calls, no host state.
 */

void guest_ucall(__u64 cmd, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
		 __u64 a4, __u64 a5)
{
	struct ucall uc = {
		.cmd = cmd, .args = { a0, a1, a2, a3, a4, a5 },
	};

	asm volatile("outl %0, %1"
		     : : "a"((__u32)(unsigned long)&uc), "Nd"(UCALL_PORT)
		     : "memory");
}

void guest_ucall_assert(const char *file, __u64 line, const char *expr,
			__u64 nvals, __u64 v0, __u64 v1)
{
	struct ucall uc = {
		.cmd = UCALL_ABORT, .args = { v0, v1 }, .line = line,
		.nvals = nvals, .file = file, .expr = expr,
	};

	asm volatile("outl %0, %1"
		     : : "a"((__u32)(unsigned long)&uc), "Nd"(UCALL_PORT)
		     : "memory");
	/* The host ends the test; never go on past a failed assertion. */
	for (;;)
		asm volatile("hlt");
}

void vmxlab_guest_returned(__u64 ret)
{
	guest_ucall(UCALL_DONE, ret, 0, 0, 0, 0, 0);
}

bool guest_ex_fixup(struct ex_regs *regs)
{
	if (regs->r9 != GUEST_EX_MAGIC || regs->rip != regs->r10)
		return false;
	regs->rip = regs->r11;
	regs->r9 = regs->vector;
	regs->r10 = regs->error_code;
	return true;
}

/* guest_run_user(): its CPL 0 stack pointer, its function's stack. */
__u64 vmxlab_user_kernel_rsp;
char vmxlab_user_stack[VMXLAB_USER_STACK_SIZE];

/*
 * CPL 3 code of guest_run_user() is done: resume its caller at CPL 0, on
 * the stack it left, with RAX (the return value) as the stub restores it.
 */
static void guest_user_return(struct ex_regs *regs)
{
	regs->rip = (__u64)vmxlab_user_resume;
	regs->cs = SEL_CODE64;
	regs->ss = SEL_DATA;
	regs->rsp = vmxlab_user_kernel_rsp;
}

void vmxlab_guest_route_exception(struct ex_regs *regs)
{
	void (*handler)(struct ex_regs *regs) = vmxlab_guest_handlers[regs->vector];

	if (regs->vector == GUEST_USER_RETURN_VECTOR && (regs->cs & 3) == 3) {
		guest_user_return(regs);
		return;
	}
	if (handler) {
		handler(regs);
		return;
	}
	if (guest_ex_fixup(regs))
		return;
	guest_ucall(UCALL_UNHANDLED, regs->vector, regs->error_code, regs->rip,
		    0, 0, 0);
	for (;;)
		asm volatile("hlt");
}

/*
 * The entry trampoline: R15 is the test's guest function, R14 the XCR0 to
 * set first (0: leave XCR0 alone), RDI..R9 its arguments.  Returning from
 * the function is UCALL_DONE.
 */
asm(".pushsection .text\n"
	".globl vmxlab_guest_entry\n"
	"vmxlab_guest_entry:\n"
	"	test %r14, %r14\n"
	"	jz 1f\n"
	"	mov %rdx, %r12\n"
	"	mov %rcx, %r13\n"
	"	mov %r14d, %eax\n"
	"	mov %r14, %rdx\n"
	"	shr $32, %rdx\n"
	"	xor %ecx, %ecx\n"
	"	xsetbv\n"
	"	mov %r12, %rdx\n"
	"	mov %r13, %rcx\n"
	"1:	call *%r15\n"
	"	mov %rax, %rdi\n"
	"	call vmxlab_guest_returned\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	".popsection\n");

/*
 * guest_run_user(): save the callee-saved registers and the stack
 * pointer, IRETQ to vmxlab_user_entry at CPL 3 with RDI = fn, RSI = arg;
 * it calls fn and INTs to GUEST_USER_RETURN_VECTOR, whose handler
 * (guest_user_return()) IRETQs to vmxlab_user_resume at CPL 0.  The IRETQ
 * to CPL 3 cleared DS, ES, FS and GS (DPL 0 data segments, SDM Vol. 2A,
 * IRET): reloaded there.
 */
asm(".pushsection .text\n"
	".globl guest_run_user\n"
	"guest_run_user:\n"
	"	push %rbp\n"
	"	push %rbx\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, vmxlab_user_kernel_rsp(%rip)\n"
	"	pushq $" VMXLAB_STR(SEL_USER_DATA) " + 3\n"
	"	lea vmxlab_user_stack + " VMXLAB_STR(VMXLAB_USER_STACK_SIZE) "(%rip), %rax\n"
	"	and $-16, %rax\n"		/* the ABI's alignment */
	"	push %rax\n"
	"	pushfq\n"
	"	pushq $" VMXLAB_STR(SEL_USER_CODE64) " + 3\n"
	"	lea vmxlab_user_entry(%rip), %rax\n"
	"	push %rax\n"
	"	iretq\n"
	"vmxlab_user_entry:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	call *%rax\n"
	"	int $" VMXLAB_STR(GUEST_USER_RETURN_VECTOR) "\n"
	"	ud2\n"
	".globl vmxlab_user_resume\n"
	"vmxlab_user_resume:\n"
	"	mov $" VMXLAB_STR(SEL_DATA) ", %ecx\n"
	"	mov %ecx, %ds\n"
	"	mov %ecx, %es\n"
	"	mov %ecx, %fs\n"
	"	mov %ecx, %gs\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbx\n"
	"	pop %rbp\n"
	"	ret\n"
	".popsection\n");

/*
 * 256 IDT stubs, 16 bytes apart: push a zero error code where the CPU
 * pushes none (SDM Vol. 3A, Table 6-1), push the vector, and go to the
 * common code, which saves the GPRs and the SSE state (the C handlers may
 * use SSE registers the interrupted code had live), calls
 * vmxlab_guest_route_exception() and returns with IRETQ.
 */
asm(".pushsection .text\n"
	".balign 16\n"
	".globl vmxlab_idt_stubs\n"
	"vmxlab_idt_stubs:\n"
	".set vec, 0\n"
	".rept 256\n"
	"	.balign 16\n"
	/* The CPU pushes an error code for 8, 10-14, 17, 21, 29 and 30. */
	"	has_ec = 0\n"
	"	.if vec < 32\n"
	"	has_ec = (0x60227d00 >> vec) & 1\n"
	"	.endif\n"
	"	.if has_ec == 0\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $vec\n"
	"	jmp vmxlab_idt_common\n"
	"	.set vec, vec + 1\n"
	".endr\n"
	"vmxlab_idt_common:\n"
	"	push %rax\n"
	"	push %rbx\n"
	"	push %rcx\n"
	"	push %rdx\n"
	"	push %rsi\n"
	"	push %rdi\n"
	"	push %rbp\n"
	"	push %r8\n"
	"	push %r9\n"
	"	push %r10\n"
	"	push %r11\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, %rbx\n"
	"	sub $512, %rsp\n"
	"	fxsave64 (%rsp)\n"
	"	cld\n"
	"	mov %rbx, %rdi\n"
	"	call vmxlab_guest_route_exception\n"
	"	fxrstor64 (%rsp)\n"
	"	mov %rbx, %rsp\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %r11\n"
	"	pop %r10\n"
	"	pop %r9\n"
	"	pop %r8\n"
	"	pop %rbp\n"
	"	pop %rdi\n"
	"	pop %rsi\n"
	"	pop %rdx\n"
	"	pop %rcx\n"
	"	pop %rbx\n"
	"	pop %rax\n"
	"	add $16, %rsp\n"
	"	iretq\n"
	".popsection\n");

/*
 * Pins held (FOLL_PIN taken minus given back), from /proc/vmstat, after
 * folding every CPU's pending counter deltas into it (vm.stat_refresh).
 */
long long vm_pins_held(void)
{
	long long acquired = -1, released = -1, v;
	char name[64];
	FILE *f;

	TEST_ASSERT(!write_file("/proc/sys/vm/stat_refresh", "1"), "vm.stat_refresh");
	f = fopen("/proc/vmstat", "re");
	TEST_ASSERT(f, "/proc/vmstat: %s", strerror(errno));
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	fclose(f);
	TEST_ASSERT(acquired >= 0 && released >= 0, "no FOLL_PIN counters");
	return acquired - released;
}
