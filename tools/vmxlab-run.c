// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-run: a small VMM that boots an unmodified Linux kernel on
 * /dev/vmxlab, split the way QEMU splits with KVM when the interrupt
 * controller stays in userspace (kernel_irqchip=off):
 *
 *   vmxlab.ko        CPU state, MSRs, CPUID policy, EPT, event injection
 *   tools/vmm/       the loader (bzimage.c), the CPUID policy (cpuid.c),
 *                    the PC's legacy devices, and the run loop that turns
 *                    device state into VMXLAB_INTERRUPT (machine.c)
 *   this file        the command line
 *
 * Exit status: 0 the guest powered off (HLT with interrupts off), 2 bad
 * input, 3 the guest reset (triple fault or 0xfe to port 0x64), 4 vmxlab
 * reported an error, 124 --timeout expired.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <uapi/linux/vmxlab.h>

#include "vmm/machine.h"

#define fallthrough	__attribute__((__fallthrough__))

#define DEFAULT_CMDLINE	"console=ttyS0 quiet loglevel=3 acpi=off pci=off " \
			"reboot=t panic=-1 io_delay=none tsc=reliable " \
			"mitigations=off nokaslr cryptomgr.notests nowatchdog"
#define DEFAULT_MEM	(128ULL << 20)

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmxlab-run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}

static void *read_file(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		usage_error("cannot read %s", path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		usage_error("cannot read %s", path);
	close(fd);
	*len = st.st_size;
	return buf;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 0);

	switch (*end) {
	case 'G':
	case 'g':
		n <<= 10;
		fallthrough;
	case 'M':
	case 'm':
		n <<= 10;
		fallthrough;
	case 'K':
	case 'k':
		n <<= 10;
		end++;
	}
	if (end == s || *end || !n || n % 4096)
		usage_error("bad size '%s' (a multiple of 4 KiB, e.g. 128M)", s);
	return n;
}

static const char usage[] =
"usage: vmxlab-run --kernel BZIMAGE [--initrd FILE] [OPTIONS]\n"
"Boot a Linux kernel on /dev/vmxlab; its console is this terminal.\n"
"  --kernel FILE     a 64-bit bzImage\n"
"  --initrd FILE     an initramfs\n"
"  --mem SIZE        guest RAM (default 128M)\n"
"  --cmdline STR     the kernel command line (default: see the source)\n"
"  --append STR      added to the command line\n"
"  --shadow          shadow paging instead of EPT (VMXLAB_VM_SHADOW)\n"
"  --timeout SEC     give up after SEC seconds (exit 124)\n"
"  --stats           print the VM exits by reason at the end (stderr)\n"
"  --verbose         log ports and MMIO no device claims\n"
"  --backend B       vmxlab (default) or kvm: the same VMM on /dev/kvm\n"
"  --time-to MARKER  print the TSC ticks from the first entry until the\n"
"                    guest's console shows MARKER (stderr)\n"
"Exit status: 0 power-off, 2 bad input, 3 reset, 4 vmxlab error, 124 timeout.\n";

static struct termios saved_tty;
static bool tty_raw;

static void restore_tty(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
}

/* A terminal's keys go to the guest as typed; the guest echoes them. */
static void setup_stdin(struct vmm *v)
{
	struct termios raw;

	v->stdin_open = true;
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	if (tcgetattr(STDIN_FILENO, &saved_tty))
		return;
	raw = saved_tty;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_iflag &= ~ICRNL;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
		tty_raw = true;
		atexit(restore_tty);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "append", required_argument, NULL, 'a' },
		{ "shadow", no_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "backend", required_argument, NULL, 'b' },
		{ "time-to", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *kernel = NULL, *initrd_path = NULL, *why;
	char cmdline[4096] = DEFAULT_CMDLINE;
	struct vmm v = { .ram_size = DEFAULT_MEM };
	const struct backend *be = &backend_vmxlab;
	int opt, vm_type = VMXLAB_VM_EPT, status;
	size_t kernel_len, initrd_len = 0;
	void *image, *initrd = NULL;
	struct boot_entry entry;
	struct bzimage bz;
	bool stats = false;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			initrd_path = optarg;
			break;
		case 'm':
			v.ram_size = parse_size(optarg);
			break;
		case 'c':
			if (strlen(optarg) >= sizeof(cmdline))
				usage_error("%s", "--cmdline is too long");
			strcpy(cmdline, optarg);
			break;
		case 'a':
			if (strlen(cmdline) + 1 + strlen(optarg) >= sizeof(cmdline))
				usage_error("%s", "--append makes the command line too long");
			strcat(cmdline, " ");
			strcat(cmdline, optarg);
			break;
		case 's':
			vm_type = VMXLAB_VM_SHADOW;
			break;
		case 't':
			v.deadline_ns = strtoull(optarg, NULL, 0) * 1000000000ULL;
			break;
		case 'S':
			stats = true;
			break;
		case 'v':
			v.verbose = true;
			break;
		case 'b':
			if (!strcmp(optarg, "kvm"))
				be = &backend_kvm;
			else if (strcmp(optarg, "vmxlab"))
				usage_error("unknown backend '%s' (vmxlab or kvm)", optarg);
			break;
		case 'T':
			v.time_to = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!kernel || optind != argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	image = read_file(kernel, &kernel_len);
	if (bzimage_parse(image, kernel_len, &bz, &why))
		usage_error("%s", why);
	if (initrd_path)
		initrd = read_file(initrd_path, &initrd_len);
	if (bzimage_check(&bz, v.ram_size, cmdline, initrd_len, &why))
		usage_error("%s", why);

	vmm_create(&v, be, vm_type);
	if (bzimage_load(&bz, v.ram, v.ram_size, cmdline, initrd, initrd_len,
			 &entry, &why))
		usage_error("%s", why);
	free(image);
	free(initrd);
	vmm_set_cpuid(&v);
	vmm_set_boot_state(&v, &entry);
	setup_stdin(&v);
	vmm_start(&v);

	status = vmm_run(&v);
	fflush(stdout);
	if (stats)
		vmm_print_stats(&v);
	return status;
}
