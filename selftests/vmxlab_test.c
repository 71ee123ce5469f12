// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab.ko inside a VM that has VMX, as root: /dev/vmxlab and its ioctls,
 * the capabilities against the raw MSRs and /proc/cpuinfo, unload refusal,
 * load/unload cycles without leaks, kvm_intel coexistence and CPU hotplug.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/membarrier.h>

#include "vmx_sdm_ref.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

/* Guest seconds: under emulation one of them takes a while. */
#define TEST_TIMEOUT_S		300
#define CYCLES_TIMEOUT_S	900

#define CPU1_ONLINE		"/sys/devices/system/cpu/cpu1/online"
#define MAX_CPUS		256

/* A running selftests/kvm_hold: its stdin (to end it) and its stdout. */
struct kvm_holder {
	pid_t pid;
	int to;
	FILE *from;
};

FIXTURE(vmxlab) {
	int fd;				/* /dev/vmxlab, or -1 */
	struct kvm_holder kvm;		/* pid 0 when not running */
	bool cpu1_offline;		/* we took CPU 1 down */
};

FIXTURE_SETUP(vmxlab)
{
	self->fd = -1;
	ASSERT_EQ(0, geteuid()) TH_LOG("the vmxlab selftests need root");
}

static int kvm_hold_stop(struct kvm_holder *h);

/* Leave the machine usable for the next test whatever happened here. */
FIXTURE_TEARDOWN(vmxlab)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->kvm.pid > 0)
		kvm_hold_stop(&self->kvm);
	if (self->cpu1_offline)
		write_file(CPU1_ONLINE, "1");
}

/* --- module state --------------------------------------------------- */

static void ensure_loaded(struct __test_metadata *_metadata)
{
	int r;

	if (!module_is_loaded("vmxlab")) {
		r = vmxlab_load();
		ASSERT_EQ(0, r) TH_LOG("loading %s: %s", vmxlab_ko_path(), strerror(-r));
	}
	ASSERT_TRUE(path_exists(VMXLAB_DEV)) TH_LOG("vmxlab loaded but no " VMXLAB_DEV);
}

static void ensure_unloaded(struct __test_metadata *_metadata)
{
	int r;

	if (!module_is_loaded("vmxlab"))
		return;
	r = vmxlab_unload();
	ASSERT_EQ(0, r) TH_LOG("unloading vmxlab: %s", strerror(-r));
}

static void ensure_kvm_intel(struct __test_metadata *_metadata)
{
	if (!module_is_loaded("kvm_intel"))
		ASSERT_TRUE(run_cmd("modprobe kvm_intel")) TH_LOG("modprobe kvm_intel failed");
	ASSERT_TRUE(path_exists("/dev/kvm")) TH_LOG("kvm_intel loaded but no /dev/kvm");
}

static void ensure_no_kvm_intel(struct __test_metadata *_metadata)
{
	if (module_is_loaded("kvm_intel"))
		ASSERT_TRUE(run_cmd("modprobe -r kvm_intel"))
			TH_LOG("modprobe -r kvm_intel failed");
}

static int open_dev(struct __test_metadata *_metadata)
{
	int fd = open(VMXLAB_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("open " VMXLAB_DEV ": %s", strerror(errno));
	return fd;
}

static void get_caps(struct __test_metadata *_metadata, int fd,
		     struct vmxlab_caps *caps)
{
	memset(caps, 0xa5, sizeof(*caps));
	ASSERT_EQ(0, ioctl(fd, VMXLAB_GET_CAPS, caps))
		TH_LOG("VMXLAB_GET_CAPS: %s", strerror(errno));
}

/* Parse /sys/devices/system/cpu/online ("0-3,5") into @cpus. */
static int online_cpus(int *cpus, int max)
{
	char buf[512], *p = buf, *end;
	long a, b;
	int n = 0;

	if (read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)) <= 0)
		return -1;
	while (*p && *p != '\n') {
		a = strtol(p, &end, 10);
		if (end == p)
			return -1;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
		}
		for (; a <= b && n < max; a++)
			cpus[n++] = a;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* --- kvm_hold -------------------------------------------------------- */

/* $VMXLAB_KVM_HOLD, else kvm_hold next to this binary. */
static const char *kvm_hold_path(char *buf, size_t size)
{
	const char *env = getenv("VMXLAB_KVM_HOLD");
	char *slash;
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", buf, size - sizeof("/kvm_hold"));
	if (n <= 0)
		return "./kvm_hold";
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	strcpy(slash ? slash : buf, "/kvm_hold");
	return buf;
}

/*
 * Start kvm_hold and read its verdict into @line: "ready" when it holds a
 * KVM VM, "error <step> errno=<n> (<text>)" when it could not.
 */
static void kvm_hold_start(struct __test_metadata *_metadata,
			   struct kvm_holder *h, char *line, size_t size)
{
	char path[PATH_MAX];
	const char *prog = kvm_hold_path(path, sizeof(path));
	int in[2], out[2];

	ASSERT_EQ(0, pipe2(in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(out, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	h->pid = fork();
	ASSERT_LE(0, h->pid);
	if (h->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execl(prog, prog, (char *)NULL);
		printf("error exec-%s errno=%d (%s)\n", prog, errno, strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	h->to = in[1];
	h->from = fdopen(out[0], "r");
	ASSERT_NE(NULL, h->from);
	if (!fgets(line, size, h->from))
		snprintf(line, size, "error kvm_hold-died-silently errno=0 (?)");
	line[strcspn(line, "\n")] = '\0';
}

/* End kvm_hold (EOF on its stdin).  Returns its exit status, or -1. */
static int kvm_hold_stop(struct kvm_holder *h)
{
	int st = 0;

	close(h->to);
	while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
		;
	fclose(h->from);
	h->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* kvm_hold must create its VM: proof that no CPU is left in VMX operation. */
static void expect_kvm_vm_ok(struct __test_metadata *_metadata,
			     struct kvm_holder *h)
{
	char line[256];

	kvm_hold_start(_metadata, h, line, sizeof(line));
	EXPECT_STREQ("ready", line) TH_LOG("KVM could not create a VM: %s", line);
	EXPECT_EQ(0, kvm_hold_stop(h));
}

/* --- the device ------------------------------------------------------- */

TEST_F_TIMEOUT(vmxlab, device_opens, TEST_TIMEOUT_S)
{
	char want[32], have[32];
	struct stat st;

	ensure_loaded(_metadata);
	ASSERT_EQ(0, stat(VMXLAB_DEV, &st)) TH_LOG("stat: %s", strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10U, major(st.st_rdev)) TH_LOG("not a misc device");	/* MISC_MAJOR */
	ASSERT_LT(0, read_file("/sys/class/misc/vmxlab/dev", have, sizeof(have)));
	snprintf(want, sizeof(want), "%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
	EXPECT_STREQ(want, have);
	self->fd = open_dev(_metadata);
}

TEST_F_TIMEOUT(vmxlab, api_version, TEST_TIMEOUT_S)
{
	struct vmxlab_caps *ro;
	long page = sysconf(_SC_PAGESIZE);
	void *gone;

	ensure_loaded(_metadata);
	self->fd = open_dev(_metadata);
	EXPECT_EQ(VMXLAB_API_VERSION, ioctl(self->fd, VMXLAB_GET_API_VERSION, 0));

	/* Unknown numbers, our type byte or another's, and a wrong size. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IO(VMXLAB_IO, 0xfe), 0));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IO(0xAE, 0x00), 0));	/* KVM_GET_API_VERSION */
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(VMXLAB_IO, 0x01, __u64), 0));
	EXPECT_EQ(ENOTTY, errno);

	/* GET_CAPS into memory we cannot write. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, VMXLAB_GET_CAPS, NULL));
	EXPECT_EQ(EFAULT, errno);
	gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_EQ(0, munmap(gone, page));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, VMXLAB_GET_CAPS, gone));
	EXPECT_EQ(EFAULT, errno);
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, VMXLAB_GET_CAPS, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, page);
}

/* --- capabilities ---------------------------------------------------- */

static int rdmsr_on(int cpu, __u32 index, __u64 *val)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, val, sizeof(*val), index);
	close(fd);
	if (n < 0)
		return -errno;
	return n == sizeof(*val) ? 0 : -EIO;
}

/*
 * Read the capability MSRs of @cpu the way the SDM says a VMM must (Vol.
 * 3D, A.2-A.10): TRUE_* controls when IA32_VMX_BASIC[55] is set, the
 * secondary controls only when they can be activated, the EPT/VPID MSR
 * only when EPT or VPID can be enabled.
 */
static void read_cpu_caps(struct __test_metadata *_metadata, int cpu,
			  struct vmxlab_caps *c)
{
	const __u64 secondary = 1ULL << SDM_ALLOWED1(31);
	const __u64 ept_or_vpid = (1ULL << SDM_ALLOWED1(1)) |
				     (1ULL << SDM_ALLOWED1(5));
	struct { __u32 index; __u64 *field; } msrs[] = {
		{ SDM_MSR_VMX_PINBASED_CTLS, &c->msr_pinbased },
		{ SDM_MSR_VMX_PROCBASED_CTLS, &c->msr_procbased },
		{ SDM_MSR_VMX_EXIT_CTLS, &c->msr_exit },
		{ SDM_MSR_VMX_ENTRY_CTLS, &c->msr_entry },
		{ SDM_MSR_VMX_MISC, &c->msr_misc },
		{ SDM_MSR_VMX_CR0_FIXED0, &c->msr_cr0_fixed0 },
		{ SDM_MSR_VMX_CR0_FIXED1, &c->msr_cr0_fixed1 },
		{ SDM_MSR_VMX_CR4_FIXED0, &c->msr_cr4_fixed0 },
		{ SDM_MSR_VMX_CR4_FIXED1, &c->msr_cr4_fixed1 },
	};
	bool true_ctls;
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	r = rdmsr_on(cpu, SDM_MSR_VMX_BASIC, &c->msr_basic);
	ASSERT_EQ(0, r) TH_LOG("CPU %d: IA32_VMX_BASIC: %s", cpu, strerror(-r));
	true_ctls = (c->msr_basic >> SDM_BASIC_TRUE_CTLS_BIT) & 1;
	for (i = 0; i < ARRAY_SIZE(msrs); i++) {
		__u32 index = msrs[i].index;

		/* 0x48d-0x490 are the TRUE twins of 0x481-0x484 */
		if (true_ctls && index <= SDM_MSR_VMX_ENTRY_CTLS)
			index += SDM_MSR_VMX_TRUE_PINBASED_CTLS - SDM_MSR_VMX_PINBASED_CTLS;
		r = rdmsr_on(cpu, index, msrs[i].field);
		ASSERT_EQ(0, r) TH_LOG("CPU %d: MSR %#x: %s", cpu, index, strerror(-r));
	}
	if (c->msr_procbased & secondary) {
		r = rdmsr_on(cpu, SDM_MSR_VMX_PROCBASED_CTLS2, &c->msr_procbased2);
		ASSERT_EQ(0, r) TH_LOG("CPU %d: MSR 0x48b: %s", cpu, strerror(-r));
	}
	if (c->msr_procbased2 & ept_or_vpid) {
		r = rdmsr_on(cpu, SDM_MSR_VMX_EPT_VPID_CAP, &c->msr_ept_vpid_cap);
		ASSERT_EQ(0, r) TH_LOG("CPU %d: MSR 0x48c: %s", cpu, strerror(-r));
	}
}

#define RAW_FIELD(f)	{ #f, offsetof(struct vmxlab_caps, f) }

static const struct { const char *name; size_t off; } raw_fields[] = {
	RAW_FIELD(msr_basic), RAW_FIELD(msr_pinbased), RAW_FIELD(msr_procbased),
	RAW_FIELD(msr_exit), RAW_FIELD(msr_entry), RAW_FIELD(msr_misc),
	RAW_FIELD(msr_cr0_fixed0), RAW_FIELD(msr_cr0_fixed1),
	RAW_FIELD(msr_cr4_fixed0), RAW_FIELD(msr_cr4_fixed1),
	RAW_FIELD(msr_procbased2), RAW_FIELD(msr_ept_vpid_cap),
};

static __u64 raw_field(const struct vmxlab_caps *c, size_t i)
{
	__u64 v;

	memcpy(&v, (const char *)c + raw_fields[i].off, sizeof(v));
	return v;
}

TEST_F_TIMEOUT(vmxlab, caps_match_msrs, TEST_TIMEOUT_S)
{
	struct vmxlab_caps got, want;
	int cpus[MAX_CPUS], n, i;
	__u64 want_features;
	size_t j;

	ensure_loaded(_metadata);
	self->fd = open_dev(_metadata);
	get_caps(_metadata, self->fd, &got);
	if (!path_exists("/dev/cpu/0/msr"))
		ASSERT_TRUE(run_cmd("modprobe msr")) TH_LOG("modprobe msr failed");
	n = online_cpus(cpus, MAX_CPUS);
	ASSERT_LT(0, n);

	for (j = 0; j < ARRAY_SIZE(got.reserved); j++)
		EXPECT_EQ(0, got.reserved[j]) TH_LOG("reserved[%zu] not zero", j);

	for (i = 0; i < n; i++) {
		read_cpu_caps(_metadata, cpus[i], &want);
		for (j = 0; j < ARRAY_SIZE(raw_fields); j++)
			EXPECT_EQ(raw_field(&want, j), raw_field(&got, j))
				TH_LOG("CPU %d: %s: MSR says %#llx, vmxlab says %#llx",
				       cpus[i], raw_fields[j].name,
				       (unsigned long long)raw_field(&want, j),
				       (unsigned long long)raw_field(&got, j));
		EXPECT_EQ(sdm_vmcs_revision(want.msr_basic), got.vmcs_revision);
		EXPECT_EQ(sdm_vmcs_size(want.msr_basic), got.vmcs_size);

		want_features = sdm_decode(&want);
		for (j = 0; j < SDM_NR_FEATURES; j++) {
			const struct sdm_feature *f = &sdm_features[j];

			EXPECT_EQ(!!(want_features & f->cap), !!(got.features & f->cap))
				TH_LOG("CPU %d: %s: the MSRs say %s, vmxlab says %s",
				       cpus[i], f->name, want_features & f->cap ? "yes" : "no",
				       got.features & f->cap ? "yes" : "no");
		}
		EXPECT_EQ(want_features, got.features);
	}
}

/*
 * Names in /proc/cpuinfo's "vmx flags" line (arch/x86/include/asm/
 * vmxfeatures.h, 6.1) for features vmxlab reports.  The kernel derives them
 * at boot from the same MSRs (arch/x86/kernel/cpu/feat_ctl.c), but takes
 * ept_ad, ept_1gb and invvpid straight from IA32_VMX_EPT_VPID_CAP whether
 * or not EPT or VPID can be enabled, so those count only with their gate.
 */
static const struct {
	const char *name;
	const char *gate;	/* must be listed too, or NULL */
	__u64 caps;		/* all of these bits <=> listed */
} vmx_flag_names[] = {
	{ "vnmi", NULL, VMXLAB_CAP_VIRTUAL_NMIS },
	{ "preemption_timer", NULL, VMXLAB_CAP_PREEMPTION_TIMER },
	{ "vtpr", NULL, VMXLAB_CAP_TPR_SHADOW },
	{ "mtf", NULL, VMXLAB_CAP_MTF },
	{ "vapic", NULL, VMXLAB_CAP_VIRT_APIC_ACCESSES },
	{ "ept", NULL, VMXLAB_CAP_EPT },
	{ "vpid", NULL, VMXLAB_CAP_VPID },
	{ "unrestricted_guest", NULL, VMXLAB_CAP_UNRESTRICTED_GUEST },
	{ "flexpriority", NULL, VMXLAB_CAP_TPR_SHADOW | VMXLAB_CAP_VIRT_APIC_ACCESSES },
	{ "ept_ad", "ept", VMXLAB_CAP_EPT_AD },
	{ "ept_1gb", "ept", VMXLAB_CAP_EPT_1G },
	{ "invvpid", "vpid", VMXLAB_CAP_INVVPID },
};

static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[len] == '\0' || p[len] == ' ' || p[len] == '\n'))
			return true;
		p += len;
	}
	return false;
}

static void check_vmx_flags(struct __test_metadata *_metadata, int cpu,
			    const char *flags, __u64 features)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vmx_flag_names); i++) {
		bool listed = has_word(flags, vmx_flag_names[i].name) &&
			(!vmx_flag_names[i].gate || has_word(flags, vmx_flag_names[i].gate));
		bool decoded = (features & vmx_flag_names[i].caps) == vmx_flag_names[i].caps;

		EXPECT_EQ(listed, decoded)
			TH_LOG("processor %d: \"%s\"%s%s is %slisted in vmx flags, vmxlab says %s",
			       cpu, vmx_flag_names[i].name,
			       vmx_flag_names[i].gate ? " with " : "",
			       vmx_flag_names[i].gate ? vmx_flag_names[i].gate : "",
			       listed ? "" : "not ", decoded ? "yes" : "no");
	}
}

TEST_F_TIMEOUT(vmxlab, caps_match_cpuinfo, TEST_TIMEOUT_S)
{
	int processors = 0, with_vmx = 0, with_vmx_flags = 0, cpu = -1;
	struct vmxlab_caps caps;
	char line[8192];
	FILE *f;

	ensure_loaded(_metadata);
	self->fd = open_dev(_metadata);
	get_caps(_metadata, self->fd, &caps);

	f = fopen("/proc/cpuinfo", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (!strncmp(line, "processor", 9)) {
			cpu = atoi(colon + 1);
			processors++;
		} else if (!strncmp(line, "flags", 5)) {
			with_vmx += has_word(colon + 1, "vmx");
		} else if (!strncmp(line, "vmx flags", 9)) {
			with_vmx_flags++;
			check_vmx_flags(_metadata, cpu, colon + 1, caps.features);
		}
	}
	fclose(f);
	ASSERT_LT(0, processors);
	EXPECT_EQ(processors, with_vmx) TH_LOG("not every CPU lists vmx in flags");
	EXPECT_EQ(processors, with_vmx_flags)
		TH_LOG("no \"vmx flags\" line (CONFIG_X86_VMX_FEATURE_NAMES?)");
}

/* --- module lifetime ------------------------------------------------- */

TEST_F_TIMEOUT(vmxlab, unload_refused_while_open, TEST_TIMEOUT_S)
{
	ensure_loaded(_metadata);
	self->fd = open_dev(_metadata);

	EXPECT_EQ(-EWOULDBLOCK, vmxlab_unload());
	EXPECT_TRUE(module_is_loaded("vmxlab"));
	EXPECT_EQ(VMXLAB_API_VERSION, ioctl(self->fd, VMXLAB_GET_API_VERSION, 0))
		TH_LOG("the open fd stopped working after a refused unload");

	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, vmxlab_unload());
	EXPECT_FALSE(module_is_loaded("vmxlab"));
	EXPECT_FALSE(path_exists(VMXLAB_DEV));
}

/*
 * Memory that a load/unload cycle could leak: pages (free pages counted
 * together with the per-CPU free lists, which otherwise make MemFree
 * jitter by hundreds of pages), per-CPU memory and vmalloc space.
 */
struct mem_sample {
	long free_pages;
	long percpu_kb;
	long vmalloc_kb;
};

static long meminfo_kb(const char *meminfo, const char *key)
{
	const char *p = strstr(meminfo, key);
	long v;

	return p && sscanf(p + strlen(key), " %ld", &v) == 1 ? v : -1;
}

/* Let RCU callbacks and deferred frees run before looking. */
static void settle(void)
{
	sleep(1);
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	sleep(1);
}

static void sample_memory(struct __test_metadata *_metadata,
			  struct mem_sample *s)
{
	static char buf[1 << 18];
	char *line, *save;
	long v;

	settle();
	ASSERT_LT(0, read_file("/proc/meminfo", buf, sizeof(buf)));
	s->percpu_kb = meminfo_kb(buf, "Percpu:");
	s->vmalloc_kb = meminfo_kb(buf, "VmallocUsed:");
	ASSERT_LE(0, s->percpu_kb);
	ASSERT_LE(0, s->vmalloc_kb);

	ASSERT_LT(0, read_file("/proc/zoneinfo", buf, sizeof(buf)));
	s->free_pages = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, " pages free %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			s->free_pages += v;
	}
	ASSERT_LT(0, s->free_pages);
}

#define CYCLES		20
#define WARMUP_CYCLES	4	/* caches settle; not measured */

/*
 * Did memory shrink by more than noise between @a and @b, over @cycles
 * cycles?  Bounds: under half a page per CPU per cycle (a leaked VMXON
 * region is a full page per CPU), and 64 KiB of per-CPU or vmalloc memory.
 * The free-page bound is left out when @pages_noisy (KASAN's quarantine).
 */
static bool leaked(struct __test_metadata *_metadata, const struct mem_sample *a,
		   const struct mem_sample *b, int cycles, int ncpus,
		   bool pages_noisy)
{
	long pages = a->free_pages - b->free_pages;
	long percpu = b->percpu_kb - a->percpu_kb;
	long vmalloc = b->vmalloc_kb - a->vmalloc_kb;
	bool bad_pages = !pages_noisy && pages > cycles * ncpus / 2;
	bool bad = bad_pages || percpu > 64 || vmalloc > 64;

	TH_LOG("%d cycles: free pages %ld -> %ld%s, Percpu %ld -> %ld kB, Vmalloc %ld -> %ld kB%s",
	       cycles, a->free_pages, b->free_pages,
	       pages_noisy ? " (not bounded: quarantine)" : "",
	       a->percpu_kb, b->percpu_kb, a->vmalloc_kb, b->vmalloc_kb,
	       bad ? " -- over the bound" : "");
	return bad;
}

/* Returns 0 or the failing cycle's -errno (with what failed in @what). */
static int load_unload(int cycles, const char **what)
{
	int i, r;

	for (i = 0; i < cycles; i++) {
		*what = "finit_module";
		r = vmxlab_load();
		if (r)
			return r;
		*what = "/dev/vmxlab after load";
		if (!path_exists(VMXLAB_DEV))
			return -ENOENT;
		*what = "delete_module";
		r = vmxlab_unload();
		if (r)
			return r;
	}
	return 0;
}

static bool cpuhp_state_left(char *name, size_t size)
{
	static char states[1 << 15];
	char *p;

	if (read_file("/sys/devices/system/cpu/hotplug/states", states, sizeof(states)) <= 0)
		return false;
	p = strstr(states, "vmxlab");
	if (p)
		snprintf(name, size, "%.*s", (int)strcspn(p, "\n"), p);
	return p;
}

TEST_F_TIMEOUT(vmxlab, load_unload_20_cycles, CYCLES_TIMEOUT_S)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool kasan = kernel_has_kasan();
	struct mem_sample before, after, again;
	const char *what = "";
	char buf[4096];
	int r;

	ensure_unloaded(_metadata);
	r = load_unload(WARMUP_CYCLES, &what);
	ASSERT_EQ(0, r) TH_LOG("warm-up: %s: %s", what, strerror(-r));
	sample_memory(_metadata, &before);
	r = load_unload(CYCLES - WARMUP_CYCLES, &what);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", what, strerror(-r));
	sample_memory(_metadata, &after);

	EXPECT_FALSE(module_is_loaded("vmxlab"));
	EXPECT_FALSE(path_exists(VMXLAB_DEV));
	EXPECT_FALSE(path_exists("/sys/class/misc/vmxlab"));
	EXPECT_FALSE(path_exists("/sys/module/vmxlab"));
	EXPECT_FALSE(cpuhp_state_left(buf, sizeof(buf)))
		TH_LOG("cpuhp state left behind: %s", buf);
	ASSERT_LT(0, read_file("/proc/misc", buf, sizeof(buf)));
	EXPECT_EQ(NULL, strstr(buf, " vmxlab\n")) TH_LOG("/proc/misc still lists vmxlab");

	/* A one-off allocation elsewhere is noise; a leak repeats. */
	if (leaked(_metadata, &before, &after, CYCLES - WARMUP_CYCLES, ncpus, kasan)) {
		r = load_unload(CYCLES - WARMUP_CYCLES, &what);
		ASSERT_EQ(0, r) TH_LOG("%s: %s", what, strerror(-r));
		sample_memory(_metadata, &again);
		EXPECT_FALSE(leaked(_metadata, &after, &again, CYCLES - WARMUP_CYCLES, ncpus,
				    kasan))
			TH_LOG("memory went down in two windows of load/unload cycles in a row");
	}
}

/* --- kvm_intel coexistence ------------------------------------------- */

TEST_F_TIMEOUT(vmxlab, kvm_vm_blocks_vmxlab, TEST_TIMEOUT_S)
{
	const char *const busy[] = { "vmxlab", "already in use", "kvm_intel", NULL };
	char line[256], msg[1024];
	int kmsg, r;
	char *log;

	ensure_unloaded(_metadata);
	ensure_kvm_intel(_metadata);
	kvm_hold_start(_metadata, &self->kvm, line, sizeof(line));
	ASSERT_STREQ("ready", line) TH_LOG("KVM could not create a VM: %s", line);

	vmxlab_expect_klog("vmxlab: VMX is already in use on CPU [0-9]+");
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	r = vmxlab_load();
	log = kmsg_collect(kmsg);
	close(kmsg);
	if (r == 0)
		vmxlab_unload();
	EXPECT_EQ(-EBUSY, r) TH_LOG("finit_module with a KVM VM alive: %s",
				    r ? strerror(-r) : "succeeded");
	EXPECT_TRUE(log_find(log, busy, msg, sizeof(msg)))
		TH_LOG("no vmxlab \"already in use ... kvm_intel\" line in the log:\n%s", log);
	free(log);
	EXPECT_FALSE(module_is_loaded("vmxlab"));
	EXPECT_FALSE(path_exists(VMXLAB_DEV));

	EXPECT_EQ(0, kvm_hold_stop(&self->kvm));
	r = vmxlab_load();
	ASSERT_EQ(0, r) TH_LOG("finit_module after the KVM VM went: %s", strerror(-r));
	EXPECT_TRUE(path_exists(VMXLAB_DEV));
}

TEST_F_TIMEOUT(vmxlab, vmxlab_blocks_kvm, TEST_TIMEOUT_S)
{
	int cpus[MAX_CPUS], n, i, err = 0, kmsg, matched;
	char line[256], step[64] = "", needle[64];
	char *log;

	ensure_loaded(_metadata);
	ensure_kvm_intel(_metadata);
	n = online_cpus(cpus, MAX_CPUS);
	ASSERT_LT(0, n);

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	kvm_hold_start(_metadata, &self->kvm, line, sizeof(line));
	TH_LOG("kvm_hold with vmxlab loaded: %s", line);
	matched = sscanf(line, "error %63s errno=%d", step, &err);
	EXPECT_EQ(2, matched);
	EXPECT_STREQ("KVM_CREATE_VM", step);
	EXPECT_EQ(EBUSY, err) TH_LOG("KVM_CREATE_VM: expected EBUSY, got errno %d", err);
	EXPECT_EQ(2, kvm_hold_stop(&self->kvm));

	/* kvm_main.c logs each CPU where it found VMX taken: all of them. */
	log = kmsg_collect(kmsg);
	close(kmsg);
	for (i = 0; i < n; i++) {
		const char *const failed[] = { "enabling virtualization on", needle, NULL };

		snprintf(needle, sizeof(needle), "CPU%d failed", cpus[i]);
		EXPECT_TRUE(log_find(log, failed, NULL, 0))
			TH_LOG("KVM did not find VMX in use on CPU %d", cpus[i]);
	}
	free(log);

	/* vmxlab is unharmed by KVM's attempt, and lets go when unloaded. */
	self->fd = open_dev(_metadata);
	EXPECT_EQ(VMXLAB_API_VERSION, ioctl(self->fd, VMXLAB_GET_API_VERSION, 0));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, vmxlab_unload());
	expect_kvm_vm_ok(_metadata, &self->kvm);
}

enum order_step { KVM_IN, KVM_OUT, VMXLAB_IN, VMXLAB_OUT };

static const struct {
	const char *name;
	enum order_step steps[4];
} load_orders[] = {
	{ "kvm_intel, vmxlab, -kvm_intel, -vmxlab", { KVM_IN, VMXLAB_IN, KVM_OUT, VMXLAB_OUT } },
	{ "kvm_intel, vmxlab, -vmxlab, -kvm_intel", { KVM_IN, VMXLAB_IN, VMXLAB_OUT, KVM_OUT } },
	{ "vmxlab, kvm_intel, -kvm_intel, -vmxlab", { VMXLAB_IN, KVM_IN, KVM_OUT, VMXLAB_OUT } },
	{ "vmxlab, kvm_intel, -vmxlab, -kvm_intel", { VMXLAB_IN, KVM_IN, VMXLAB_OUT, KVM_OUT } },
};

/*
 * Every order of loading and unloading the two must work.  The VM runner
 * fails the run on any kernel WARNING, which is where a botched hand-over
 * of the emergency-virtualisation callback would show.
 */
TEST_F_TIMEOUT(vmxlab, load_orders, TEST_TIMEOUT_S)
{
	size_t o, s;
	int r;

	for (o = 0; o < ARRAY_SIZE(load_orders); o++) {
		ensure_unloaded(_metadata);
		ensure_no_kvm_intel(_metadata);
		for (s = 0; s < 4; s++) {
			switch (load_orders[o].steps[s]) {
			case KVM_IN:
				ASSERT_TRUE(run_cmd("modprobe kvm_intel"))
					TH_LOG("%s: modprobe kvm_intel", load_orders[o].name);
				EXPECT_TRUE(module_is_loaded("kvm_intel"));
				break;
			case KVM_OUT:
				ASSERT_TRUE(run_cmd("modprobe -r kvm_intel"))
					TH_LOG("%s: modprobe -r kvm_intel", load_orders[o].name);
				EXPECT_FALSE(module_is_loaded("kvm_intel"));
				break;
			case VMXLAB_IN:
				r = vmxlab_load();
				ASSERT_EQ(0, r) TH_LOG("%s: load vmxlab: %s",
						       load_orders[o].name, strerror(-r));
				EXPECT_TRUE(path_exists(VMXLAB_DEV));
				break;
			case VMXLAB_OUT:
				r = vmxlab_unload();
				ASSERT_EQ(0, r) TH_LOG("%s: unload vmxlab: %s",
						       load_orders[o].name, strerror(-r));
				EXPECT_FALSE(module_is_loaded("vmxlab"));
				break;
			}
		}
	}
	/* Both still work after all that. */
	ensure_kvm_intel(_metadata);
	expect_kvm_vm_ok(_metadata, &self->kvm);
	ensure_loaded(_metadata);
}

/* --- CPU hotplug ------------------------------------------------------ */

static bool have_cpu1(void)
{
	return path_exists(CPU1_ONLINE) && sysconf(_SC_NPROCESSORS_CONF) >= 2;
}

static void cpu1_set(struct __test_metadata *_metadata, bool *offline, bool on)
{
	int r = write_file(CPU1_ONLINE, on ? "1" : "0");

	ASSERT_EQ(0, r) TH_LOG("CPU 1 %s: %s", on ? "online" : "offline", strerror(-r));
	*offline = !on;
}

TEST_F_TIMEOUT(vmxlab, cpu_hotplug_then_kvm, TEST_TIMEOUT_S)
{
	const char *const cpu1_taken[] = { "enabling virtualization on", "CPU1 failed", NULL };
	struct vmxlab_caps before, after;
	char line[256];
	char *log;
	int kmsg;

	if (!have_cpu1())
		SKIP(return, "needs a second CPU that can go offline (VM with --cpus 2)");
	cpu1_set(_metadata, &self->cpu1_offline, true);
	ensure_loaded(_metadata);
	ensure_kvm_intel(_metadata);
	self->fd = open_dev(_metadata);
	get_caps(_metadata, self->fd, &before);

	cpu1_set(_metadata, &self->cpu1_offline, false);
	cpu1_set(_metadata, &self->cpu1_offline, true);
	get_caps(_metadata, self->fd, &after);
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));

	/* The CPU that came back is in VMX operation again: KVM says so. */
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	kvm_hold_start(_metadata, &self->kvm, line, sizeof(line));
	EXPECT_STRNE("ready", line);
	kvm_hold_stop(&self->kvm);
	log = kmsg_collect(kmsg);
	close(kmsg);
	EXPECT_TRUE(log_find(log, cpu1_taken, NULL, 0))
		TH_LOG("CPU 1 came back online without VMX on");
	free(log);

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, vmxlab_unload());
	expect_kvm_vm_ok(_metadata, &self->kvm);
}

TEST_F_TIMEOUT(vmxlab, cpu_hotplug_unload_while_offline, TEST_TIMEOUT_S)
{
	int r;

	if (!have_cpu1())
		SKIP(return, "needs a second CPU that can go offline (VM with --cpus 2)");
	cpu1_set(_metadata, &self->cpu1_offline, true);
	ensure_loaded(_metadata);
	ensure_kvm_intel(_metadata);

	cpu1_set(_metadata, &self->cpu1_offline, false);
	r = vmxlab_unload();
	ASSERT_EQ(0, r) TH_LOG("unload with CPU 1 offline: %s", strerror(-r));
	cpu1_set(_metadata, &self->cpu1_offline, true);
	expect_kvm_vm_ok(_metadata, &self->kvm);
}

TEST_HARNESS_MAIN
