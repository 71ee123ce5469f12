// SPDX-License-Identifier: GPL-2.0
/*
 * tools/vmxlab-trace as a newcomer runs it: each demo's (exit reason,
 * decision) sequence, the bytes --step shows, the words of the text
 * lines, --summary against VMXLAB_GET_STATS, `run` on a flat binary and
 * a static ELF, and the README's "Watch your own guest" when make check
 * ships it.  The expected sequences come from reading
 * tools/trace/demos.S, not from a run of the tool; host interrupts and
 * time slices are dropped, as their number depends on the host.
 *
 * The tool is found next to this binary, in /vmxlab, or at
 * $VMXLAB_TRACE.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		300
#define OUT_SIZE		(256 * 1024)
#define README_GUEST		"/vmxlab/readme/hello.bin"
#define README_EXPECT		"/vmxlab/readme/expect"

/* The tool's path, or NULL. */
static const char *tool_path(void)
{
	static char path[256];
	const char *env = getenv("VMXLAB_TRACE");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n > 0) {
		path[n] = '\0';
		strcpy(strrchr(path, '/') + 1, "vmxlab-trace");
		if (!access(path, X_OK))
			return path;
	}
	return access("/vmxlab/vmxlab-trace", X_OK) ? NULL :
						      "/vmxlab/vmxlab-trace";
}

/* The module, loaded once; 0 or -1. */
static int vmxlab_require(void)
{
	int r;

	if (path_exists(VMXLAB_DEV))
		return 0;
	r = vmxlab_load();
	return (r == 0 || r == -EEXIST) && path_exists(VMXLAB_DEV) ? 0 : -1;
}

/* Runs the tool with @args; its stdout in @out.  Returns its exit status. */
static int run_tool(const char *args, char *out, size_t len)
{
	const char *tool = tool_path();
	char cmd[512];
	size_t n = 0, r;
	FILE *f;
	int status;

	out[0] = '\0';
	if (!tool || vmxlab_require())
		return -1;
	snprintf(cmd, sizeof(cmd), "%s %s", tool, args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < len && (r = fread(out + n, 1, len - n - 1, f)) > 0)
		n += r;
	out[n] = '\0';
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The string value of "@key" in the JSON object of one line. */
static bool json_str(const char *line, const char *key, char *val, size_t len)
{
	char needle[64];
	const char *p, *end;

	snprintf(needle, sizeof(needle), "\"%s\":\"", key);
	p = strstr(line, needle);
	if (!p)
		return false;
	p += strlen(needle);
	end = strchr(p, '"');
	if (!end || (size_t)(end - p) >= len)
		return false;
	memcpy(val, p, end - p);
	val[end - p] = '\0';
	return true;
}

static bool is_host_event(const char *reason)
{
	return !strcmp(reason, "EXTERNAL_INTERRUPT") ||
	       !strcmp(reason, "PREEMPTION_TIMER");
}

/*
 * From the tool's --json output: "REASON/DECISION ..." of its records
 * without the host's events (counted in *@host), and the bytes the guest
 * printed.
 */
static void sequence(const char *out, char *seq, size_t len, int *host,
		     char *printed, size_t plen)
{
	char reason[64], decision[64], line[2048];
	const char *p = out, *nl;
	size_t pn = 0;
	unsigned int byte;

	seq[0] = '\0';
	*host = 0;
	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p) - 1;
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p + 1), p);
		if (sscanf(line, "{\"type\":\"out\",\"byte\":%u}", &byte) == 1 &&
		    pn + 1 < plen)
			printed[pn++] = byte;
		if (!strstr(line, "\"type\":\"record\"") ||
		    !json_str(line, "reason", reason, sizeof(reason)) ||
		    !json_str(line, "decision", decision, sizeof(decision)))
			continue;
		if (is_host_event(reason)) {
			(*host)++;
			continue;
		}
		snprintf(seq + strlen(seq), len - strlen(seq), "%s%s/%s",
			 *seq ? " " : "", reason, decision);
	}
	if (plen)
		printed[pn] = '\0';
}

struct demo_case {
	const char *name;
	const char *seq;	/* from reading tools/trace/demos.S */
	const char *printed;	/* what the guest writes to port 0xe9 */
};

/* One record each, as sequence() writes them. */
#define CPUID_EMULATED	"CPUID/RESUMED_EMULATED "
#define IO_OUT		"IO_INSTRUCTION/TO_USERSPACE_IO "
#define MMIO		"EPT_VIOLATION/TO_USERSPACE_MMIO "
#define EPT_MAP		"EPT_VIOLATION/EPT_MAPPED "
#define WINDOW		"INTERRUPT_WINDOW/WINDOW_OPEN "
#define PF_RESOLVED	"EXCEPTION_NMI/PF_RESOLVED "
#define PF_REFLECTED	"EXCEPTION_NMI/PF_REFLECTED "
#define STEP		"MONITOR_TRAP_FLAG/STEP "
#define HLT		"HLT/TO_USERSPACE_HLT"

static const struct demo_case cases[] = {
	{ "cpuid", CPUID_EMULATED CPUID_EMULATED HLT, "" },
	/* Three OUTs to the console, one IN. */
	{ "pio", IO_OUT IO_OUT IO_OUT IO_OUT HLT, "hi\n" },
	{ "mmio", MMIO MMIO HLT, "" },
	{ "hlt", HLT, "" },
	/* The third store hits a page the first mapped: no exit. */
	{ "ept", EPT_MAP EPT_MAP HLT, "" },
	/* OUT to 0xe0 queues 0x30 at IF = 0; STI's window; the handler. */
	{ "irq-window", IO_OUT WINDOW IO_OUT HLT, "i" },
	{ "host-irq", HLT, "" },
	{ "pf-resolved", PF_RESOLVED PF_RESOLVED HLT, "" },
	/* The guest's #PF handler prints 'P' and skips the store. */
	{ "pf-reflected", PF_REFLECTED IO_OUT HLT, "P" },
	/* MOV, ADD, NOP, XOR retire; CPUID is emulated; HLT is its own stop. */
	{ "step", STEP STEP STEP STEP CPUID_EMULATED HLT, "" },
};

FIXTURE(tool) {
	int unused;
};

FIXTURE_SETUP(tool)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(tool)
{
}

static void check_demo(struct __test_metadata *_metadata,
		       const struct demo_case *c)
{
	char *out = malloc(OUT_SIZE), seq[2048], printed[64], args[128];
	int host, rc;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, tool_path())
		TH_LOG("no vmxlab-trace here, in /vmxlab or at $VMXLAB_TRACE");
	snprintf(args, sizeof(args), "--json demo %s", c->name);
	rc = run_tool(args, out, OUT_SIZE);
	sequence(out, seq, sizeof(seq), &host, printed, sizeof(printed));
	TH_LOG("%s: %s (+ %d host events)", c->name, seq, host);
	EXPECT_EQ(0, rc) TH_LOG("%s", out);
	EXPECT_STREQ(c->seq, seq);
	EXPECT_STREQ(c->printed, printed);
	if (!strcmp(c->name, "host-irq"))
		EXPECT_LT(0, host) TH_LOG("no host interrupt while IF = 1");
	free(out);
}

TEST_F_TIMEOUT(tool, demo_cpuid, TIMEOUT_S) { check_demo(_metadata, &cases[0]); }
TEST_F_TIMEOUT(tool, demo_pio, TIMEOUT_S) { check_demo(_metadata, &cases[1]); }
TEST_F_TIMEOUT(tool, demo_mmio, TIMEOUT_S) { check_demo(_metadata, &cases[2]); }
TEST_F_TIMEOUT(tool, demo_hlt, TIMEOUT_S) { check_demo(_metadata, &cases[3]); }
TEST_F_TIMEOUT(tool, demo_ept, TIMEOUT_S) { check_demo(_metadata, &cases[4]); }
TEST_F_TIMEOUT(tool, demo_irq_window, TIMEOUT_S) { check_demo(_metadata, &cases[5]); }
TEST_F_TIMEOUT(tool, demo_host_irq, TIMEOUT_S) { check_demo(_metadata, &cases[6]); }
TEST_F_TIMEOUT(tool, demo_pf_resolved, TIMEOUT_S) { check_demo(_metadata, &cases[7]); }
TEST_F_TIMEOUT(tool, demo_pf_reflected, TIMEOUT_S) { check_demo(_metadata, &cases[8]); }
TEST_F_TIMEOUT(tool, demo_step, TIMEOUT_S) { check_demo(_metadata, &cases[9]); }

/*
 * --step: after each step, the bytes at the next RIP begin with the next
 * instruction of demos.S's step routine, and RIP moved by the length of
 * the one before.
 */
TEST_F_TIMEOUT(tool, step_bytes, TIMEOUT_S)
{
	static const char *const insn[] = { "01c0", "90", "31c0", "0fa2", "f4" };
	static const char *const cause[] = {
		"retired", "retired", "retired", "retired", "emulated",
	};
	static const unsigned int len[] = { 2, 1, 2, 2 };
	char *out = malloc(OUT_SIZE), bytes[64], c[32];
	unsigned long long rip[5];
	const char *p;
	unsigned int i = 0;

	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, run_tool("--json demo step", out, OUT_SIZE)) TH_LOG("%s", out);
	for (p = strstr(out, "{\"type\":\"step\""); p && i < 5;
	     p = strstr(p + 1, "{\"type\":\"step\""), i++) {
		ASSERT_TRUE(json_str(p, "insn", bytes, sizeof(bytes)));
		ASSERT_TRUE(json_str(p, "cause", c, sizeof(c)));
		rip[i] = strtoull(strstr(p, "\"rip\":") + 6, NULL, 10);
		EXPECT_EQ(0, strncmp(bytes, insn[i], strlen(insn[i])))
			TH_LOG("step %u: bytes %s, want %s...", i, bytes, insn[i]);
		EXPECT_STREQ(cause[i], c);
		if (i)
			EXPECT_EQ(len[i - 1], rip[i] - rip[i - 1]);
	}
	EXPECT_EQ(5, i);
	EXPECT_EQ(NULL, p) TH_LOG("more steps than instructions");
	free(out);
}

/* The text lines say what the examples say. */
TEST_F_TIMEOUT(tool, text_phrases, TIMEOUT_S)
{
	static const char *const phrases[] = {
		"EPT_VIOLATION rip 0x",
		" gpa 0x400000 write: address in slot 1, page not yet mapped -> mapped host page, resumed",
		"INTERRUPT_WINDOW rip 0x",
		"guest can take interrupts (1 queued) -> injected vector 0x30, resumed",
		"[entry: an interrupt waits: RFLAGS.IF = 0]",
		"EXCEPTION_NMI #PF rip 0x",
		" cr2 0x40000000: guest PTE not present -> reflected vector 14, error code 0x2, resumed",
		" cr2 0x30000: guest PTE allows it, shadow entry missing -> filled the shadow entry, resumed",
		"CPUID rip 0x",
		"HLT rip 0x",
		"-> HLT for the VMM",
		"   step (retired): next rip 0x",
	};
	char *out = malloc(OUT_SIZE);
	unsigned int i;

	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, run_tool("demo ept irq-window pf-reflected pf-resolved step",
			      out, OUT_SIZE)) TH_LOG("%s", out);
	for (i = 0; i < ARRAY_SIZE(phrases); i++) {
		bool found = strstr(out, phrases[i]);

		EXPECT_TRUE(found) TH_LOG("no \"%s\" in:\n%s", phrases[i], out);
	}
	free(out);
}

#define CPUID_COUNT	"\"reason\":\"CPUID\",\"decision\":\"RESUMED_EMULATED\",\"count\":2"

/* --summary agrees with GET_STATS, and --max-exits stops a run. */
TEST_F_TIMEOUT(tool, summary_and_max_exits, TIMEOUT_S)
{
	char *out = malloc(OUT_SIZE);

	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, run_tool("--json --summary demo cpuid pio irq-window", out,
			      OUT_SIZE));
	EXPECT_NE(NULL, strstr(out, CPUID_COUNT)) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "\"stats_match\":false")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"stats_match\":true"));
	EXPECT_EQ(1, run_tool("--max-exits 2 demo pio", out, OUT_SIZE));
	EXPECT_NE(NULL, strstr(out, "more exits than --max-exits")) TH_LOG("%s", out);
	free(out);
}

/* MOV AL, 'h'; OUT 0xe9, AL; CPUID; HLT. */
static const unsigned char tiny[] = { 0xb0, 'h', 0xe6, 0xe9, 0x0f, 0xa2, 0xf4 };

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

/* A static ELF64 file: one PT_LOAD of @tiny at @addr, entry @addr. */
static void write_elf(const char *path, unsigned long long addr)
{
	unsigned char f[64 + 56 + sizeof(tiny)] = {
		0x7f, 'E', 'L', 'F', 2, 1, 1,	/* 64-bit, LSB, version 1 */
	};
	unsigned long long v;

	f[16] = 2;			/* e_type: EXEC */
	f[18] = 62;			/* e_machine: x86-64 */
	f[20] = 1;			/* e_version */
	memcpy(f + 24, &addr, 8);	/* e_entry */
	v = 64;
	memcpy(f + 32, &v, 8);		/* e_phoff */
	f[52] = 64;			/* e_ehsize */
	f[54] = 56;			/* e_phentsize */
	f[56] = 1;			/* e_phnum */
	f[64] = 1;			/* p_type: PT_LOAD */
	f[68] = 5;			/* p_flags: R X */
	v = 64 + 56;
	memcpy(f + 64 + 8, &v, 8);	/* p_offset */
	memcpy(f + 64 + 16, &addr, 8);	/* p_vaddr */
	memcpy(f + 64 + 24, &addr, 8);	/* p_paddr */
	v = sizeof(tiny);
	memcpy(f + 64 + 32, &v, 8);	/* p_filesz */
	memcpy(f + 64 + 40, &v, 8);	/* p_memsz */
	memcpy(f + 64 + 56, tiny, sizeof(tiny));
	write_bytes(path, f, sizeof(f));
}

/*
 * `run` on a flat file (long, real and 32-bit protected mode) and on a
 * static ELF.  Nothing is mapped before the log starts: in long mode the
 * first fetch walks the guest's tables, and EPT maps PML4, PDPT, PD and
 * then the code's page, one violation each; without paging, only the
 * code's page.
 */
TEST_F_TIMEOUT(tool, run_flat_and_elf, TIMEOUT_S)
{
	static const char *const runs[][2] = {
		{ "--json run /tmp/trace-tiny.bin",
		  EPT_MAP EPT_MAP EPT_MAP EPT_MAP IO_OUT CPUID_EMULATED HLT },
		{ "--json run /tmp/trace-tiny.bin --mode real",
		  EPT_MAP IO_OUT CPUID_EMULATED HLT },
		{ "--json run /tmp/trace-tiny.bin --mode prot32 --load 0x30000",
		  EPT_MAP IO_OUT CPUID_EMULATED HLT },
		{ "--json run /tmp/trace-tiny.elf",
		  EPT_MAP EPT_MAP EPT_MAP EPT_MAP IO_OUT CPUID_EMULATED HLT },
	};
	char *out = malloc(OUT_SIZE), seq[1024], printed[16];
	unsigned int i;
	int host;

	ASSERT_NE(NULL, out);
	write_bytes("/tmp/trace-tiny.bin", tiny, sizeof(tiny));
	write_elf("/tmp/trace-tiny.elf", 0x20000);
	for (i = 0; i < ARRAY_SIZE(runs); i++) {
		EXPECT_EQ(0, run_tool(runs[i][0], out, OUT_SIZE)) TH_LOG("%s", out);
		sequence(out, seq, sizeof(seq), &host, printed, sizeof(printed));
		EXPECT_STREQ(runs[i][1], seq) TH_LOG("%s", runs[i][0]);
		EXPECT_STREQ("h", printed) TH_LOG("%s", runs[i][0]);
	}
	EXPECT_NE(NULL, strstr(out, "\"rip\":131076")) /* CPUID at 0x20004 */
		TH_LOG("%s", out);
	free(out);
}

/*
 * README, "Watch your own guest": make check assembles its hello.S and
 * ships it with the output the README shows; every line of that must
 * come, in order.
 */
TEST_F_TIMEOUT(tool, readme_guest, TIMEOUT_S)
{
	char *out = malloc(OUT_SIZE), expect[8192], want[512];
	const char *at, *p, *nl;
	ssize_t n;

	ASSERT_NE(NULL, out);
	if (access(README_GUEST, R_OK))
		SKIP(return, "%s not shipped (make check ships it)", README_GUEST);
	n = read_file(README_EXPECT, expect, sizeof(expect));
	ASSERT_LT(0, n);
	EXPECT_EQ(0, run_tool("run " README_GUEST, out, OUT_SIZE)) TH_LOG("%s", out);
	at = out;
	for (p = expect; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		snprintf(want, sizeof(want), "%.*s", (int)(nl - p), p);
		/* The README runs it as /vmxlab/guest (scripts/trace.sh). */
		if (!strncmp(want, "== ", 3))
			continue;
		at = strstr(at, want);
		ASSERT_NE(NULL, at) TH_LOG("README line \"%s\" not in:\n%s", want, out);
		at += strlen(want);
	}
	free(out);
}

TEST_HARNESS_MAIN
