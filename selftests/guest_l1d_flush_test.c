// SPDX-License-Identifier: GPL-2.0
/*
 * The L1D flush before VM entry follows the host kernel's L1TF choice
 * (Documentation/admin-guide/hw-vuln/l1tf.rst): none where the host
 * flushes nothing; before every entry under "always"; under the default,
 * "conditional", only after host activity that may have left secrets in
 * L1D -- the VMM's user code (every VMXLAB_RUN), another task, emulation
 * of guest memory, a host interrupt -- and not after an exit handled on
 * the spot, such as CPUID.  VMXLAB_GET_STATS counts the flushes.  The
 * mode is derived from the host's own reports, as in mitigations_test.
 */
#include <sys/ioctl.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		300
#define CPUIDS			20000
#define RUNS			20

enum l1d_mode { L1D_NONE, L1D_COND, L1D_ALWAYS };

static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/* The last "@key=" value on the kernel command line, or "". */
static void cmdline_last(const char *key, char *val, size_t len)
{
	char buf[1024], *p;
	size_t n = strlen(key);

	val[0] = '\0';
	if (read_text("/proc/cmdline", buf, sizeof(buf)))
		return;
	for (p = strtok(buf, "\n "); p; p = strtok(NULL, "\n "))
		if (!strncmp(p, key, n) && p[n] == '=')
			snprintf(val, len, "%s", p + n + 1);
}

/*
 * l1tf.rst: "VMX: conditional cache flushes" / "VMX: cache flushes"
 * (always) once kvm_intel decided; before that the boot choice: l1tf=off
 * (or mitigations=off without l1tf=) none, l1tf=full* always, else
 * conditional.  vmxlab's own list must agree on "l1d_flush".
 */
static enum l1d_mode host_l1d_mode(struct __test_metadata *_metadata)
{
	char l1tf[256], list[128], boot[32], mit[32];
	enum l1d_mode mode;

	if (read_text("/sys/devices/system/cpu/vulnerabilities/l1tf", l1tf,
		      sizeof(l1tf)) ||
	    strstr(l1tf, "Not affected") || strstr(l1tf, "flush not necessary") ||
	    strstr(l1tf, "flush disabled")) {
		mode = L1D_NONE;
	} else if (strstr(l1tf, "conditional cache flushes")) {
		mode = L1D_COND;
	} else if (strstr(l1tf, "cache flushes")) {
		mode = L1D_ALWAYS;
	} else {
		cmdline_last("l1tf", boot, sizeof(boot));
		cmdline_last("mitigations", mit, sizeof(mit));
		if (!strcmp(boot, "off") || (!boot[0] && !strcmp(mit, "off")))
			mode = L1D_NONE;
		else if (!strncmp(boot, "full", 4))
			mode = L1D_ALWAYS;
		else
			mode = L1D_COND;
	}
	if (!read_text("/sys/module/vmxlab/parameters/mitigations", list,
		       sizeof(list)))
		EXPECT_EQ(mode != L1D_NONE, !!strstr(list, "l1d_flush"))
			TH_LOG("vmxlab lists '%s' for l1tf '%s'", list, l1tf);
	return mode;
}

static void guest_cpuids_then_outs(void)
{
	__u32 out[4];
	int i;

	for (i = 0; i < CPUIDS; i++)
		guest_cpuid(0, 0, out);
	GUEST_SYNC(1);
	for (i = 0; i < RUNS; i++)
		outb(0x80, i);
	GUEST_DONE();
}

static __u64 flushes(struct vcpu *vcpu)
{
	struct vmxlab_vcpu_stats stats;

	vcpu_stats_get(vcpu, &stats);
	return stats.l1d_flushes;
}

TEST(flushes_follow_the_host_choice)
{
	enum l1d_mode mode = host_l1d_mode(_metadata);
	__u64 before, in_kernel, per_run;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	int i;

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_cpuids_then_outs);

	/* CPUIDS exits handled in the kernel, in one VMXLAB_RUN. */
	before = flushes(vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, &uc));
	in_kernel = flushes(vcpu) - before;

	/* RUNS round trips through user space: one entry each. */
	before = flushes(vcpu);
	for (i = 0; i < RUNS; i++)
		vcpu_run_expect_out(vcpu, 0x80, 1);
	per_run = flushes(vcpu) - before;
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	TH_LOG("mode %d: %llu flushes for %d in-kernel exits, %llu for %d runs",
	       mode, (unsigned long long)in_kernel, CPUIDS,
	       (unsigned long long)per_run, RUNS);

	switch (mode) {
	case L1D_NONE:
		EXPECT_EQ(0, in_kernel);
		EXPECT_EQ(0, per_run);
		break;
	case L1D_ALWAYS:
		EXPECT_LE(CPUIDS, in_kernel);
		EXPECT_LE(RUNS, per_run);
		break;
	case L1D_COND:
		/*
		 * The run's first entry, and one after each host interrupt
		 * (timer ticks: far fewer than one per 50 CPUID exits).
		 */
		EXPECT_LE(1, in_kernel);
		EXPECT_GT(CPUIDS / 50, in_kernel);
		EXPECT_LE(RUNS, per_run) TH_LOG("every VMXLAB_RUN flushes");
		break;
	}
	vm_free(vm);
}

TEST(module_refcount_zero)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
