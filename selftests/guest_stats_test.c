// SPDX-License-Identifier: GPL-2.0
/*
 * The per-VM statistics in debugfs (vmx/stats.c), read without the VMM's
 * help: /sys/kernel/debug/vmxlab/<pid>-<vm fd>/stats must hold the same
 * numbers as VMXLAB_GET_STATS, the directory must go when the VM does,
 * and tools/vmxlab-stat must show a running guest's exits.
 */
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120
#define STATS_DIR		"/sys/kernel/debug/vmxlab"
#define CPUIDS			300
#define OUTS			7

static void vm_dir(const struct vm *vm, char *buf, size_t len)
{
	snprintf(buf, len, STATS_DIR "/%d-%d", getpid(), vm->fd);
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* The value of "@key value" in @file, or -1. */
static long long stat_value(const char *dir, const char *file, const char *key)
{
	char path[256], k[64];
	unsigned long long v;
	long long found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %llu", k, &v) == 2)
		if (!strcmp(k, key))
			found = v;
	fclose(f);
	return found;
}

static void guest_cpuids_and_outs(void)
{
	__u32 out[4];
	int i;

	for (i = 0; i < CPUIDS; i++)
		guest_cpuid(0, 0, out);
	for (i = 0; i < OUTS; i++)
		outb(0x80, i);
	GUEST_DONE();
}

TEST(counters_equal_get_stats)
{
	struct vmxlab_vcpu_stats s;
	char dir[128], key[32];
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	int i;

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_cpuids_and_outs);
	vm_dir(vm, dir, sizeof(dir));
	ASSERT_TRUE(exists(dir)) TH_LOG("no %s", dir);
	for (i = 0; i < OUTS; i++)
		vcpu_run_expect_out(vcpu, 0x80, 1);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	vcpu_stats_get(vcpu, &s);

	EXPECT_EQ(1, stat_value(dir, "stats", "vcpus"));
	EXPECT_LT(0, stat_value(dir, "stats", "pinned_pages"));
	EXPECT_EQ(s.exits_to_userspace,
		  stat_value(dir, "stats", "exits_to_userspace"));
	EXPECT_EQ(s.failed_entries, stat_value(dir, "stats", "failed_entries"));
	EXPECT_EQ(s.injected_irqs, stat_value(dir, "stats", "injected_irqs"));
	EXPECT_EQ(s.l1d_flushes, stat_value(dir, "stats", "l1d_flushes"));
	EXPECT_EQ(s.pf_resolved, stat_value(dir, "stats", "pf_resolved"));
	EXPECT_EQ(s.pf_reflected, stat_value(dir, "stats", "pf_reflected"));
	EXPECT_EQ(s.pf_mmio, stat_value(dir, "stats", "pf_mmio"));
	/* A shadow-paging guest faults its pages in through #PF exits. */
	if (vm_is_shadow(vm))
		EXPECT_LT(0, stat_value(dir, "stats", "pf_resolved"));
	EXPECT_LE(CPUIDS, s.exits[VMX_EXIT_CPUID]);
	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++) {
		snprintf(key, sizeof(key), "exit_%d", i);
		EXPECT_EQ(s.exits[i] ? (long long)s.exits[i] : -1,
			  stat_value(dir, "stats", key)) TH_LOG("%s", key);
		/* The one vCPU's line says the same. */
		EXPECT_EQ(s.exits[i] ? (long long)s.exits[i] : -1,
			  stat_value(dir, "vcpus", key)) TH_LOG("vcpus %s", key);
	}
	vm_free(vm);
}

/* The VM lives while a vCPU holds it; then its directory goes. */
TEST(directory_goes_with_the_vm)
{
	char dir[128];
	struct vm *vm;
	int fd2;

	vm = vm_create();
	vm_vcpu_add(vm, 0, guest_cpuids_and_outs);
	vm_dir(vm, dir, sizeof(dir));
	ASSERT_TRUE(exists(dir));
	close(vm->fd);
	EXPECT_TRUE(exists(dir)) TH_LOG("the vCPU still holds the VM");
	/*
	 * A new VM gets the fd number back while the old VM lives: it goes
	 * without a directory (debugfs would log an error for the name), and
	 * closing it leaves the old VM's alone.
	 */
	fd2 = ioctl(vm->sys_fd, VMXLAB_CREATE_VM, VMXLAB_VM_EPT);
	ASSERT_EQ(vm->fd, fd2) TH_LOG("the fd number was not reused");
	EXPECT_TRUE(exists(dir));
	close(fd2);
	EXPECT_TRUE(exists(dir)) TH_LOG("closing the new VM removed the old one's");
	vm->fd = -1;
	vm_free(vm);
	EXPECT_FALSE(exists(dir)) TH_LOG("%s outlived its VM", dir);
}

/* --- tools/vmxlab-stat while a guest runs ------------------------------ */

static __u64 guest_stop;

static void guest_spin(void)
{
	__u32 out[4];

	while (!__atomic_load_n(&guest_stop, __ATOMIC_RELAXED))
		guest_cpuid(0, 0, out);
	GUEST_DONE();
}

static void *run_vcpu(void *arg)
{
	struct ucall uc;

	return (void *)(long)vcpu_run_to_ucall(arg, &uc);
}

/* The "CPUID" count of VM @name in vmxlab-stat's JSON, or -1. */
static long long json_cpuid(const char *json, const char *name)
{
	char needle[96];
	const char *p, *end;

	snprintf(needle, sizeof(needle), "{\"vm\":\"%s\",", name);
	p = strstr(json, needle);
	if (!p)
		return -1;
	end = strstr(p, "}}");
	p = strstr(p, "\"CPUID\":");
	if (!p || (end && p > end))
		return -1;
	return atoll(p + strlen("\"CPUID\":"));
}

TEST(vmxlab_stat_shows_a_running_guest)
{
	char self_dir[256], cmd[320], json[8192], name[64], dir[128];
	long long before, after;
	__u64 *stop;
	struct vcpu *vcpu;
	pthread_t thread;
	long long seen;
	ssize_t n;
	FILE *f;
	void *ret;

	n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
	ASSERT_LT(0, n);
	self_dir[n] = '\0';
	*strrchr(self_dir, '/') = '\0';

	struct vm *vm = vm_create();

	vcpu = vm_vcpu_add(vm, 0, guest_spin);
	stop = addr_gva2hva(vm, &guest_stop);
	snprintf(name, sizeof(name), "%d-%d", getpid(), vm->fd);
	vm_dir(vm, dir, sizeof(dir));
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_vcpu, vcpu));
	/* VMXLAB_GET_STATS would wait for the run: read debugfs instead. */
	do {
		usleep(10000);
		before = stat_value(dir, "stats", "exit_10");
	} while (before < 100);

	snprintf(cmd, sizeof(cmd), "%s/vmxlab-stat --once --json", self_dir);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	n = fread(json, 1, sizeof(json) - 1, f);
	json[n > 0 ? n : 0] = '\0';
	EXPECT_EQ(0, pclose(f)) TH_LOG("%s", cmd);
	after = stat_value(dir, "stats", "exit_10");

	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(thread, &ret));
	EXPECT_EQ(UCALL_DONE, (long)ret);

	seen = json_cpuid(json, name);
	TH_LOG("CPUID exits: %lld before, %lld in vmxlab-stat, %lld after",
	       before, seen, after);
	EXPECT_LE(before, seen) TH_LOG("%s", json);
	EXPECT_GE(after, seen);
	EXPECT_LT(before, after) TH_LOG("the guest was not running");
	vm_free(vm);
}

TEST(module_refcount_zero)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
