// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab.ko on a CPU without VMX (the QEMU TCG lane, qemu64 CPU): the load
 * must fail with ENODEV, say why in the kernel log and leave nothing
 * behind.  A VM that does offer VMX fails this test: the lane is wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmxlab_util.h"
#include "kselftest_harness.h"

TEST(cpu_has_no_vmx)
{
	int cpus, with_vmx = cpuinfo_flag_count("vmx", &cpus);

	ASSERT_LE(0, with_vmx) TH_LOG("/proc/cpuinfo: %s", strerror(-with_vmx));
	ASSERT_LT(0, cpus) TH_LOG("no flags lines in /proc/cpuinfo");
	EXPECT_EQ(0, with_vmx)
		TH_LOG("%d of %d CPUs have vmx: this lane must run on a CPU without VMX",
		       with_vmx, cpus);
}

TEST(load_fails_with_enodev)
{
	const char *const no_vmx[] = { "vmxlab", "no VMX", NULL };
	char msg[1024];
	int kmsg, r;
	char *log;

	ASSERT_EQ(0, geteuid()) TH_LOG("needs root");
	ASSERT_FALSE(module_is_loaded("vmxlab")) TH_LOG("vmxlab is already loaded");
	ASSERT_EQ(0, access(vmxlab_ko_path(), R_OK))
		TH_LOG("%s: %s", vmxlab_ko_path(), strerror(errno));

	vmxlab_expect_klog("vmxlab: CPU has no VMX");
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	r = vmxlab_load();
	log = kmsg_collect(kmsg);
	close(kmsg);
	if (r == 0)
		vmxlab_unload();

	EXPECT_EQ(-ENODEV, r) TH_LOG("finit_module: %s", r ? strerror(-r) : "succeeded");
	EXPECT_TRUE(log_find(log, no_vmx, msg, sizeof(msg)))
		TH_LOG("no vmxlab \"no VMX\" line in the kernel log:\n%s", log);
	free(log);
	EXPECT_FALSE(module_is_loaded("vmxlab"));
	EXPECT_FALSE(path_exists(VMXLAB_DEV));
	EXPECT_FALSE(path_exists("/sys/module/vmxlab"));
}

TEST_HARNESS_MAIN
