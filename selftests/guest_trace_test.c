// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab's tracepoints through the usual tools: trace-cmd (Debian's, put
 * into the test VM next to the selftests by make check) records
 * "vmxlab:*" around a known guest -- this binary run again with
 * --run-guest -- and its report must show one vmxlab_exit with reason 10
 * per CPUID, one with reason 30 per OUT, and an entry before every exit.
 * Documentation/api.rst, "Tracing", has the command lines.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "vmxlab_lib.h"
#include "kselftest_harness.h"

#define CPUIDS			37
#define OUTS			5
#define OUT_PORT		0x80
#define TRACE_CMD		"/vmxlab/trace-cmd"
#define TRACE_DAT		"/tmp/vmxlab-trace.dat"

static void guest_known_exits(void)
{
	__u32 out[4];
	int i;

	for (i = 0; i < CPUIDS; i++)
		guest_cpuid(0, 0, out);
	for (i = 0; i < OUTS; i++)
		outb(OUT_PORT, i);
	GUEST_DONE();
}

/* The guest, in the process trace-cmd starts. */
static int run_guest(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0, guest_known_exits);
	struct ucall uc;
	int i;

	for (i = 0; i < OUTS; i++)
		vcpu_run_expect_out(vcpu, OUT_PORT, 1);
	if (vcpu_run_to_ucall(vcpu, &uc) != UCALL_DONE)
		return 1;
	vm_free(vm);
	return 0;
}

/*
 * trace-cmd starts several processes and reads per-CPU buffers: seconds
 * on Debian's kernel, much longer on the debug kernel (lockdep, KASAN).
 */
#define TRACE_TIMEOUT_S		300

FIXTURE(trace) {
	int unused;
};

/* trace-cmd finds vmxlab's events only while the module is loaded. */
FIXTURE_SETUP(trace)
{
	vmxlab_require_module();
}

FIXTURE_TEARDOWN(trace)
{
}

TEST_F_TIMEOUT(trace, trace_cmd_records_entries_and_exits, TRACE_TIMEOUT_S)
{
	unsigned int cpuid = 0, io = 0, exits = 0, entries = 0, reason;
	unsigned int pf_exits = 0, shadow_pfs = 0, resolved = 0;
	char exe[256], cmd[600], line[512], *p;
	struct stat st;
	ssize_t n;
	FILE *f;

	ASSERT_EQ(0, stat(TRACE_CMD, &st))
		TH_LOG("%s missing (make check puts Debian's trace-cmd there)",
		       TRACE_CMD);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = '\0';

	snprintf(cmd, sizeof(cmd),
		 TRACE_CMD " record -q -e 'vmxlab:*' -o " TRACE_DAT " %s --run-guest",
		 exe);
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s", cmd);

	f = popen(TRACE_CMD " report -i " TRACE_DAT " 2>/dev/null", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "vmxlab_entry:"))
			entries++;
		if (strstr(line, "vmxlab_shadow_pf:")) {
			shadow_pfs++;
			resolved += !!strstr(line, ": resolved");
		}
		p = strstr(line, "vmxlab_exit:");
		if (!p)
			continue;
		exits++;
		p = strstr(p, " reason ");
		if (!p || sscanf(p, " reason %u", &reason) != 1)
			continue;
		cpuid += reason == 10;
		io += reason == 30;
		pf_exits += reason == 0;
	}
	EXPECT_EQ(0, pclose(f));
	TH_LOG("%u entries, %u exits: %u CPUID, %u I/O", entries, exits,
	       cpuid, io);
	EXPECT_EQ(CPUIDS, cpuid);
	/* The OUTs, and the OUT of the library's GUEST_DONE(). */
	EXPECT_EQ(OUTS + 1, io);
	EXPECT_LE(exits, entries) TH_LOG("every exit follows an entry");
	EXPECT_LE(CPUIDS + OUTS + 1, exits);
	/*
	 * Shadow paging (the NAME@shadow rerun): the guest's pages come in
	 * through #PF exits (reason 0), each one a vmxlab_shadow_pf event;
	 * this guest takes no #PF of its own, so each is resolved.  An EPT
	 * VM has none.
	 */
	TH_LOG("%u shadow #PFs, %u resolved", shadow_pfs, resolved);
	if (shadow_rerun()) {
		EXPECT_LT(0U, shadow_pfs);
		EXPECT_EQ(shadow_pfs, resolved);
		EXPECT_EQ(pf_exits, shadow_pfs);
	} else {
		EXPECT_EQ(0U, shadow_pfs);
	}
	unlink(TRACE_DAT);
}

TEST_F(trace, module_refcount_zero)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--run-guest"))
		return run_guest();
	return test_harness_run(argc, argv);
}
