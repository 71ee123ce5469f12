// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab-info: ask a loaded vmxlab.ko what this machine's VMX offers, through
 * /dev/vmxlab, and print it for people: the API version, the VMCS layout,
 * each feature with yes/no, and the raw capability MSRs it was decoded from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uapi/linux/vmxlab.h>

#define VMXLAB_DEV	"/dev/vmxlab"

static const struct {
	__u64 cap;
	const char *name;
	const char *what;
} features[] = {
	{ VMXLAB_CAP_TRUE_CTLS, "true_ctls", "IA32_VMX_TRUE_*_CTLS MSRs" },
	{ VMXLAB_CAP_SECONDARY_CTLS, "secondary_ctls",
	  "secondary processor-based controls" },
	{ VMXLAB_CAP_EPT, "ept", "extended page tables" },
	{ VMXLAB_CAP_EPT_4LEVEL, "ept_4level", "4-level EPT page walks" },
	{ VMXLAB_CAP_EPT_WB, "ept_wb", "write-back EPT paging structures" },
	{ VMXLAB_CAP_EPT_2M, "ept_2m", "2 MiB EPT pages" },
	{ VMXLAB_CAP_EPT_1G, "ept_1g", "1 GiB EPT pages" },
	{ VMXLAB_CAP_EPT_AD, "ept_ad", "EPT accessed/dirty flags" },
	{ VMXLAB_CAP_INVEPT, "invept", "INVEPT instruction" },
	{ VMXLAB_CAP_VPID, "vpid", "virtual-processor identifiers" },
	{ VMXLAB_CAP_INVVPID, "invvpid", "INVVPID instruction" },
	{ VMXLAB_CAP_UNRESTRICTED_GUEST, "unrestricted_guest",
	  "real-mode and unpaged guests" },
	{ VMXLAB_CAP_VIRT_APIC_ACCESSES, "virt_apic_accesses",
	  "virtualize APIC accesses" },
	{ VMXLAB_CAP_TPR_SHADOW, "tpr_shadow", "TPR shadow" },
	{ VMXLAB_CAP_NMI_EXITING, "nmi_exiting", "NMI exiting" },
	{ VMXLAB_CAP_VIRTUAL_NMIS, "virtual_nmis", "virtual NMIs" },
	{ VMXLAB_CAP_PREEMPTION_TIMER, "preemption_timer",
	  "VMX-preemption timer" },
	{ VMXLAB_CAP_INTR_WINDOW, "intr_window", "interrupt-window exiting" },
	{ VMXLAB_CAP_NMI_WINDOW, "nmi_window", "NMI-window exiting" },
	{ VMXLAB_CAP_MTF, "mtf", "monitor trap flag" },
	{ VMXLAB_CAP_CR8_EXITING, "cr8_exiting", "CR8-load and -store exiting" },
	{ VMXLAB_CAP_MOV_DR_EXITING, "mov_dr_exiting", "MOV-DR exiting" },
	{ VMXLAB_CAP_IO_BITMAPS, "io_bitmaps", "I/O bitmaps" },
	{ VMXLAB_CAP_MSR_BITMAPS, "msr_bitmaps", "MSR bitmaps" },
	{ VMXLAB_CAP_ACK_INTR_ON_EXIT, "ack_intr_on_exit",
	  "acknowledge interrupt on exit" },
	{ VMXLAB_CAP_HOST_LONG_MODE, "host_long_mode",
	  "64-bit host (host address-space size)" },
	{ VMXLAB_CAP_IA32E_GUEST, "ia32e_guest", "IA-32e mode guest" },
	{ VMXLAB_CAP_LOAD_EFER, "load_efer", "load IA32_EFER on entry" },
	{ VMXLAB_CAP_SAVE_EFER, "save_efer", "save IA32_EFER on exit" },
	{ VMXLAB_CAP_LOAD_PAT, "load_pat", "load IA32_PAT on entry" },
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: vmxlab-info [DEVICE]\n"
		"Print what this CPU's VMX offers, as seen by vmxlab.ko through\n"
		"DEVICE (default " VMXLAB_DEV "). Needs the module loaded and read\n"
		"access to the device (root by default).\n");
}

static const char *open_hint(int err)
{
	switch (err) {
	case ENOENT:
		return " (is vmxlab.ko loaded?)";
	case EACCES:
	case EPERM:
		return " (run as root)";
	case ENXIO:
	case ENODEV:
		return " (the module is going away or not loaded)";
	default:
		return "";
	}
}

static void print_msr(const char *name, unsigned int index, __u64 value)
{
	printf("  %-28s 0x%03x  0x%016llx\n", name, index,
	       (unsigned long long)value);
}

static void print_caps(int version, const struct vmxlab_caps *c)
{
	bool true_ctls = c->features & VMXLAB_CAP_TRUE_CTLS;
	unsigned int ctl_base = true_ctls ? 0x48d : 0x481;
	__u64 unknown = c->features;
	size_t i;

	printf("vmxlab API version   %d\n", version);
	printf("VMCS revision        %#x\n", c->vmcs_revision);
	printf("VMCS size            %u bytes\n", c->vmcs_size);
	if (c->tsc_khz)
		printf("TSC                  %llu kHz (guests' RDTSC rate)\n",
		       (unsigned long long)c->tsc_khz);
	else
		printf("TSC                  rate unknown to the host kernel\n");

	printf("\nFeatures:\n");
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		printf("  %-20s %-3s  %s\n", features[i].name,
		       c->features & features[i].cap ? "yes" : "no",
		       features[i].what);
		unknown &= ~features[i].cap;
	}
	if (unknown)
		printf("  (and feature bits this tool does not know: %#llx)\n",
		       (unsigned long long)unknown);

	printf("\nCapability MSRs:\n");
	print_msr("IA32_VMX_BASIC", 0x480, c->msr_basic);
	print_msr(true_ctls ? "IA32_VMX_TRUE_PINBASED_CTLS" :
		  "IA32_VMX_PINBASED_CTLS", ctl_base, c->msr_pinbased);
	print_msr(true_ctls ? "IA32_VMX_TRUE_PROCBASED_CTLS" :
		  "IA32_VMX_PROCBASED_CTLS", ctl_base + 1, c->msr_procbased);
	print_msr(true_ctls ? "IA32_VMX_TRUE_EXIT_CTLS" :
		  "IA32_VMX_EXIT_CTLS", ctl_base + 2, c->msr_exit);
	print_msr(true_ctls ? "IA32_VMX_TRUE_ENTRY_CTLS" :
		  "IA32_VMX_ENTRY_CTLS", ctl_base + 3, c->msr_entry);
	print_msr("IA32_VMX_MISC", 0x485, c->msr_misc);
	print_msr("IA32_VMX_CR0_FIXED0", 0x486, c->msr_cr0_fixed0);
	print_msr("IA32_VMX_CR0_FIXED1", 0x487, c->msr_cr0_fixed1);
	print_msr("IA32_VMX_CR4_FIXED0", 0x488, c->msr_cr4_fixed0);
	print_msr("IA32_VMX_CR4_FIXED1", 0x489, c->msr_cr4_fixed1);
	print_msr("IA32_VMX_PROCBASED_CTLS2", 0x48b, c->msr_procbased2);
	print_msr("IA32_VMX_EPT_VPID_CAP", 0x48c, c->msr_ept_vpid_cap);
	if (!(c->features & VMXLAB_CAP_SECONDARY_CTLS))
		printf("  (0x48b and 0x48c do not exist without secondary controls)\n");
}

int main(int argc, char **argv)
{
	const char *dev = VMXLAB_DEV;
	struct vmxlab_caps caps;
	int fd, version;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		bool help = argc == 2 && (!strcmp(argv[1], "-h") ||
					  !strcmp(argv[1], "--help"));

		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (argc == 2)
		dev = argv[1];

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		fprintf(stderr, "vmxlab-info: %s: %s%s\n", dev, strerror(err),
			open_hint(err));
		return 1;
	}

	version = ioctl(fd, VMXLAB_GET_API_VERSION, 0);
	if (version < 0) {
		fprintf(stderr,
			"vmxlab-info: %s: VMXLAB_GET_API_VERSION: %s (is this a vmxlab device?)\n",
			dev, strerror(errno));
		return 1;
	}
	if (version != VMXLAB_API_VERSION) {
		fprintf(stderr,
			"vmxlab-info: %s speaks API version %d, this tool was built for %d;\n"
			"rebuild the tool from the same tree as the module\n",
			dev, version, VMXLAB_API_VERSION);
		return 1;
	}

	memset(&caps, 0, sizeof(caps));
	if (ioctl(fd, VMXLAB_GET_CAPS, &caps) < 0) {
		fprintf(stderr, "vmxlab-info: %s: VMXLAB_GET_CAPS: %s\n", dev,
			strerror(errno));
		return 1;
	}
	close(fd);

	print_caps(version, &caps);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "vmxlab-info: writing the report: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
