// SPDX-License-Identifier: GPL-2.0
/*
 * The paths only a vmxlab bug takes, reached through the module's test
 * faults (/sys/module/vmxlab/parameters/fault_inject, vmx/fault_inject.c):
 * a VMLAUNCH or VMRESUME that fails (VMfailValid) and an EPT
 * misconfiguration.  Each must end the run with a clear report and the
 * VMCS or the address in the kernel log, never a host crash, and the VM
 * must be usable again afterwards where vmxlab can repair the damage.
 * And an allocation that fails (the vCPU's FPU image): -ENOMEM, nothing
 * left behind.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120
#define FAULT_PARAM		"/sys/module/vmxlab/parameters/fault_inject"

/* SDM Vol. 3C, 31.4: "VM entry with invalid control field(s)". */
#define VMINSTR_ERR_ENTRY_INVALID_CONTROLS	7

FIXTURE(fault) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(fault)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(fault)
{
	vmxlab_inject_fault("none");
	if (self->vm)
		vm_free(self->vm);
}

TEST_F_TIMEOUT(fault, parameter_takes_known_names_only, TIMEOUT_S)
{
	char buf[64];

	EXPECT_EQ(-EINVAL, vmxlab_inject_fault("bogus"));
	ASSERT_EQ(0, vmxlab_inject_fault("vmfail"));
	ASSERT_LT(0, read_file(FAULT_PARAM, buf, sizeof(buf)));
	EXPECT_STREQ("vmfail\n", buf);
	ASSERT_EQ(0, vmxlab_inject_fault("none"));
	ASSERT_LT(0, read_file(FAULT_PARAM, buf, sizeof(buf)));
	EXPECT_STREQ("none\n", buf);
}

/* --- VMfail: the entry instruction itself fails --------------------------- */

static void guest_two_syncs(void)
{
	GUEST_SYNC(1);
	GUEST_SYNC(2);
	GUEST_DONE();
}

/*
 * VMfailValid is not an exit: RFLAGS.ZF says it, and the reason is the
 * VM-instruction error field.  RUN reports VMXLAB_EXIT_FAIL_ENTRY with
 * that number (not an exit reason with bit 31 set, which is what a
 * guest-state check failure gives), counts it, and the next entry works.
 */
static void expect_vmfail(struct __test_metadata *_metadata,
			  struct vcpu *vcpu, __u64 failed_before)
{
	struct vmxlab_vcpu_stats stats;
	char buf[256];

	ASSERT_EQ(0, vmxlab_inject_fault("vmfail"));
	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_FAIL_ENTRY, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(VMINSTR_ERR_ENTRY_INVALID_CONTROLS,
		  vcpu->run->fail_entry.hardware_entry_failure_reason);
	vcpu_stats_get(vcpu, &stats);
	EXPECT_EQ(failed_before + 1, stats.failed_entries);
	ASSERT_LT(0, read_file(FAULT_PARAM, buf, sizeof(buf)));
	EXPECT_STREQ("none\n", buf) TH_LOG("the fault fires once");
}

TEST_F_TIMEOUT(fault, vmfail_on_launch_and_resume, TIMEOUT_S)
{
	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_two_syncs);
	vmxlab_expect_klog(KLOG_VMCS_DUMP);

	/* VMLAUNCH: the VMCS has never run. */
	expect_vmfail(_metadata, self->vcpu, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	ASSERT_EQ(1, self->uc.args[0]);

	/* VMRESUME: it has. */
	expect_vmfail(_metadata, self->vcpu, 1);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	ASSERT_EQ(2, self->uc.args[0]);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

/* --- an EPT misconfiguration --------------------------------------------- */

#define TOUCH_GPA		(GUEST_DATA_GPA + 0x18)

static void guest_touch_new_page(void)
{
	GUEST_SYNC(1);
	GUEST_SYNC(__atomic_load_n((__u64 *)TOUCH_GPA, __ATOMIC_RELAXED));
	GUEST_DONE();
}

/*
 * The leaf made for the guest's first access to a page is written
 * "writable, not readable", which the CPU refuses (SDM Vol. 3C, 29.3.3.1):
 * the retried access exits with EPT misconfiguration, and RUN ends with
 * VMXLAB_INTERNAL_EPT_MISCONFIG and that guest-physical address, again on
 * every run (vmxlab does not guess how to repair its own table).
 */
TEST_F_TIMEOUT(fault, ept_misconfig_reported, TIMEOUT_S)
{
	struct vmxlab_run *run;
	__u64 *mem;
	int pass;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no EPT entries to misconfigure");
	self->vm = vm_create();
	mem = vm_add_region(self->vm, SLOT_TEST, GUEST_DATA_GPA,
			    GUEST_PAGE_SIZE, 0);
	mem[3] = 0x1234;
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_touch_new_page);
	run = self->vcpu->run;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));

	vmxlab_expect_klog("vmxlab: EPT misconfiguration at GPA 0x[0-9a-f]+$");
	ASSERT_EQ(0, vmxlab_inject_fault("ept_misconfig"));
	for (pass = 0; pass < 2; pass++) {
		vcpu_run(self->vcpu);
		vcpu_assert_exit(self->vcpu, VMXLAB_EXIT_INTERNAL_ERROR);
		EXPECT_EQ(VMXLAB_INTERNAL_EPT_MISCONFIG, run->internal.suberror);
		EXPECT_EQ(1, run->internal.ndata);
		EXPECT_EQ(TOUCH_GPA, run->internal.data[0]);
	}
}

/* --- an allocation that fails -------------------------------------------- */

#define ALLOC_FAILURES		32

/*
 * Free pages (with the per-CPU lists, as vmxlab_test.c counts them) and
 * VmallocUsed in KiB, after letting deferred frees run.
 */
static void sample_memory(struct __test_metadata *_metadata, long *free_pages,
			  long *vmalloc_kb)
{
	static char buf[1 << 18];
	char *line, *save;
	long v;
	int n;

	sleep(1);
	ASSERT_LT(0, read_file("/proc/meminfo", buf, sizeof(buf)));
	line = strstr(buf, "VmallocUsed:");
	ASSERT_NE(NULL, line);
	n = sscanf(line, "VmallocUsed: %ld", vmalloc_kb);
	ASSERT_EQ(1, n);
	ASSERT_LT(0, read_file("/proc/zoneinfo", buf, sizeof(buf)));
	*free_pages = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, " pages free %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			*free_pages += v;
}

/* CREATE_VCPU with the FPU image's allocation failing: ENOMEM. */
static void expect_vcpu_enomem(struct __test_metadata *_metadata, struct vm *vm)
{
	char buf[64];
	int fd;

	ASSERT_EQ(0, vmxlab_inject_fault("fpstate_alloc"));
	fd = ioctl(vm->fd, VMXLAB_CREATE_VCPU, 0);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_LT(0, read_file(FAULT_PARAM, buf, sizeof(buf)));
	ASSERT_STREQ("none\n", buf) TH_LOG("the fault fires once");
}

/*
 * The failed vCPU leaves nothing: its id is free, and 32 failures give
 * back what they took -- a leak of the VMCS and run pages would be 64
 * pages, of the FPU image's vmalloc area 128 KiB of VmallocUsed.  The
 * bounds, half of those, leave room for noise.
 */
TEST_F_TIMEOUT(fault, fpstate_alloc_fails_cleanly, TIMEOUT_S)
{
	long pages_before, pages_after, vmalloc_before, vmalloc_after;
	bool kasan;
	int i;

	self->vm = vm_create();
	expect_vcpu_enomem(_metadata, self->vm);
	sample_memory(_metadata, &pages_before, &vmalloc_before);
	for (i = 0; i < ALLOC_FAILURES; i++)
		expect_vcpu_enomem(_metadata, self->vm);
	sample_memory(_metadata, &pages_after, &vmalloc_after);
	TH_LOG("%d failures: free pages %ld -> %ld, VmallocUsed %ld -> %ld kB",
	       ALLOC_FAILURES, pages_before, pages_after, vmalloc_before,
	       vmalloc_after);
	kasan = kernel_has_kasan();
	if (kasan)
		TH_LOG("freed objects held in quarantine: no free-page bound");
	EXPECT_TRUE(kasan || pages_before - pages_after < ALLOC_FAILURES);
	EXPECT_GT(ALLOC_FAILURES * 4 / 2, vmalloc_after - vmalloc_before);

	self->vcpu = vm_vcpu_add(self->vm, 0, guest_two_syncs);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc));
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

FIXTURE(last) {
	int unused;
};

FIXTURE_SETUP(last)
{
}

FIXTURE_TEARDOWN(last)
{
}

TEST_F_TIMEOUT(last, module_refcount_zero, TIMEOUT_S)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
