// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-hello: the smallest useful VMM.  It creates a VM with 64 KiB of
 * memory, loads a few bytes of real-mode code that print a greeting one
 * character at a time with OUT to port 0xe9, run CPUID and halt, and it
 * prints what the guest wrote and how many VM exits of each kind it took.
 * Read it next to Documentation/exit-path.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uapi/linux/vmxlab.h>

#define GUEST_MEM_SIZE	0x10000
#define GUEST_CODE	0x1000
#define GUEST_MSG	0x1020
#define DEBUG_PORT	0xe9

/* Real-mode code at GUEST_CODE; the message follows at GUEST_MSG. */
static const unsigned char guest_code[] = {
	0xbe, GUEST_MSG & 0xff, GUEST_MSG >> 8,	/* mov si, GUEST_MSG */
	0xac,					/* 1: lodsb */
	0x84, 0xc0,				/* test al, al */
	0x74, 0x04,				/* jz 2f */
	0xe6, DEBUG_PORT,			/* out 0xe9, al */
	0xeb, 0xf7,				/* jmp 1b */
	0x66, 0x31, 0xc0,			/* 2: xor eax, eax */
	0x0f, 0xa2,				/* cpuid */
	0xf4,					/* hlt */
};

static const char guest_msg[] = "Hello from a vmxlab guest!\n";

static const char *const exit_names[VMXLAB_NR_VMX_EXIT_REASONS] = {
	[0] = "exception or NMI", [1] = "external interrupt",
	[2] = "triple fault", [7] = "interrupt window", [10] = "CPUID",
	[12] = "HLT", [28] = "control-register access",
	[30] = "I/O instruction", [31] = "RDMSR", [32] = "WRMSR",
	[48] = "EPT violation", [55] = "XSETBV",
};

static void die(const char *what)
{
	fprintf(stderr, "vmxlab-hello: %s: %s\n", what, strerror(errno));
	if (errno == ENOENT)
		fprintf(stderr, "vmxlab-hello: is vmxlab.ko loaded?\n");
	exit(1);
}

static int create_vcpu(int *vm_out, struct vmxlab_run **run_out)
{
	struct vmxlab_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM_SIZE,
	};
	struct vmxlab_regs regs = { .rip = GUEST_CODE, .rflags = 2 };
	struct vmxlab_sregs sregs;
	unsigned char *mem;
	int sys, vm, vcpu;

	sys = open("/dev/vmxlab", O_RDWR | O_CLOEXEC);
	if (sys < 0)
		die("/dev/vmxlab");
	vm = ioctl(sys, VMXLAB_CREATE_VM, VMXLAB_VM_EPT);
	if (vm < 0)
		die("VMXLAB_CREATE_VM");
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(mem + GUEST_CODE, guest_code, sizeof(guest_code));
	memcpy(mem + GUEST_MSG, guest_msg, sizeof(guest_msg));
	region.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, VMXLAB_SET_MEMORY_REGION, &region))
		die("VMXLAB_SET_MEMORY_REGION");

	vcpu = ioctl(vm, VMXLAB_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("VMXLAB_CREATE_VCPU");
	*run_out = mmap(NULL, sizeof(**run_out), PROT_READ | PROT_WRITE,
			MAP_SHARED, vcpu, 0);
	if (*run_out == MAP_FAILED)
		die("mmap vCPU run page");
	/* A new vCPU is in real mode at f000:fff0; start at 0000:1000. */
	if (ioctl(vcpu, VMXLAB_GET_SREGS, &sregs))
		die("VMXLAB_GET_SREGS");
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	if (ioctl(vcpu, VMXLAB_SET_SREGS, &sregs))
		die("VMXLAB_SET_SREGS");
	if (ioctl(vcpu, VMXLAB_SET_REGS, &regs))
		die("VMXLAB_SET_REGS");
	*vm_out = vm;
	return vcpu;
}

static void print_vendor(int vcpu)
{
	struct vmxlab_regs regs;
	char vendor[13];

	if (ioctl(vcpu, VMXLAB_GET_REGS, &regs))
		die("VMXLAB_GET_REGS");
	memcpy(vendor, &regs.rbx, 4);
	memcpy(vendor + 4, &regs.rdx, 4);
	memcpy(vendor + 8, &regs.rcx, 4);
	vendor[12] = '\0';
	printf("guest saw CPU vendor \"%s\" (CPUID, answered in the kernel)\n",
	       vendor);
}

static void print_exit_counts(int vcpu)
{
	struct vmxlab_vcpu_stats stats;
	int i;

	if (ioctl(vcpu, VMXLAB_GET_STATS, &stats))
		die("VMXLAB_GET_STATS");
	printf("VM exits by reason:\n");
	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		if (stats.exits[i])
			printf("  %2d %-24s %llu\n", i,
			       exit_names[i] ? exit_names[i] : "",
			       (unsigned long long)stats.exits[i]);
	printf("  exits to userspace: %llu\n",
	       (unsigned long long)stats.exits_to_userspace);
}

int main(void)
{
	struct vmxlab_run *run;
	int vm, vcpu;

	vcpu = create_vcpu(&vm, &run);
	printf("guest says: ");
	for (;;) {
		if (ioctl(vcpu, VMXLAB_RUN, 0))
			die("VMXLAB_RUN");
		if (run->exit_reason == VMXLAB_EXIT_IO &&
		    run->io.direction == VMXLAB_EXIT_IO_OUT &&
		    run->io.port == DEBUG_PORT) {
			putchar(*((char *)run + run->io.data_offset));
			continue;
		}
		if (run->exit_reason == VMXLAB_EXIT_HLT)
			break;
		fprintf(stderr, "vmxlab-hello: unexpected exit %u\n",
			run->exit_reason);
		return 1;
	}
	print_vendor(vcpu);
	print_exit_counts(vcpu);
	close(vcpu);
	close(vm);
	return 0;
}
