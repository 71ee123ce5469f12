// SPDX-License-Identifier: GPL-2.0
/*
 * The speculation mitigations vmxlab lists in
 * /sys/module/vmxlab/parameters/mitigations must agree with what the host
 * kernel reports in /sys/devices/system/cpu/vulnerabilities/: vmxlab does
 * for guests what the host decided (issue 11).  The Bochs models are
 * mostly "Not affected", so this asserts consistency, not a fixed answer.
 */
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"

static int read_file(const char *path, char *buf, size_t len)
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

/* Is @step in the comma-separated list @list? */
static bool listed(const char *list, const char *step)
{
	size_t n = strlen(step);
	const char *p = list;

	while ((p = strstr(p, step))) {
		if ((p == list || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static bool vuln_says(const char *bug, const char *text)
{
	char path[128], buf[512];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/vulnerabilities/%s", bug);
	if (read_file(path, buf, sizeof(buf)))
		return false;
	return strstr(buf, text);
}

FIXTURE(mitig) {
	char list[128];
};

FIXTURE_SETUP(mitig)
{
	if (read_file("/sys/module/vmxlab/parameters/mitigations",
		      self->list, sizeof(self->list)))
		SKIP(return, "vmxlab not loaded");
	TH_LOG("vmxlab mitigations: %s", self->list);
}

FIXTURE_TEARDOWN(mitig) {}

TEST_F(mitig, list_is_well_formed)
{
	static const char * const known[] = {
		"verw", "l1d_flush", "bhb_clear", "rsb_fill", "ibpb",
		"spec_ctrl", "ibpb_exit_to_user", "none",
	};
	char copy[128], *tok, *save;
	unsigned int i;

	strcpy(copy, self->list);
	for (tok = strtok_r(copy, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save)) {
		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (!strcmp(tok, known[i]))
				break;
		EXPECT_LT(i, ARRAY_SIZE(known)) TH_LOG("unknown step %s", tok);
	}
}

/*
 * mds.rst: "Mitigation: Clear CPU buffers" means VERW before entry;
 * "Vulnerable: Clear CPU buffers attempted, no microcode" (the Bochs
 * models) is no mitigation and may go either way.
 */
TEST_F(mitig, verw_follows_mds)
{
	if (vuln_says("mds", "Mitigation: Clear CPU buffers") ||
	    vuln_says("tsx_async_abort", "Mitigation: Clear CPU buffers"))
		EXPECT_TRUE(listed(self->list, "verw"));
	if (vuln_says("mds", "Not affected") &&
	    vuln_says("mmio_stale_data", "Not affected"))
		EXPECT_FALSE(listed(self->list, "verw"));
}

/*
 * The value of the last "@key=" on the kernel command line (the one that
 * wins), or NULL.
 */
static const char *cmdline_last(const char *key, char *val, size_t len)
{
	char buf[1024], *p, *found = NULL;
	size_t n = strlen(key);

	if (read_file("/proc/cmdline", buf, sizeof(buf)))
		return NULL;
	for (p = strtok(buf, "\n "); p; p = strtok(NULL, "\n "))
		if (!strncmp(p, key, n) && p[n] == '=')
			found = p + n + 1;
	if (!found)
		return NULL;
	snprintf(val, len, "%s", found);
	return val;
}

/*
 * l1tf.rst: "VMX: ... cache flushes" means a flush before entry.  Before
 * kvm_intel ever loaded the "VMX:" part is missing; then the boot choice
 * decides: l1tf=off (or mitigations=off without an l1tf=) means none,
 * anything else flushes.
 */
TEST_F(mitig, l1d_flush_follows_l1tf)
{
	char l1tf[32], mitigations[32];
	bool off;

	if (vuln_says("l1tf", "cache flushes"))
		EXPECT_TRUE(listed(self->list, "l1d_flush"));
	if (vuln_says("l1tf", "Not affected") ||
	    vuln_says("l1tf", "flush not necessary") ||
	    vuln_says("l1tf", "flush disabled"))
		EXPECT_FALSE(listed(self->list, "l1d_flush"));
	if (vuln_says("l1tf", "Mitigation: PTE Inversion") &&
	    !vuln_says("l1tf", "VMX")) {
		if (cmdline_last("l1tf", l1tf, sizeof(l1tf)))
			off = !strcmp(l1tf, "off");
		else
			off = cmdline_last("mitigations", mitigations,
					   sizeof(mitigations)) &&
			      !strcmp(mitigations, "off");
		EXPECT_EQ(!off, listed(self->list, "l1d_flush"))
			TH_LOG("l1tf boot choice %s", off ? "off" : "on");
	}
}

/* spectre.rst: "BHI: SW loop, KVM: SW loop" clears history on VM exit. */
TEST_F(mitig, bhb_clear_follows_spectre_v2)
{
	EXPECT_EQ(vuln_says("spectre_v2", "KVM: SW loop"),
		  listed(self->list, "bhb_clear"));
}

/* spectre.rst: an "IBPB: ..." mode other than disabled means IBPB. */
TEST_F(mitig, ibpb_follows_spectre_v2)
{
	if (vuln_says("spectre_v2", "IBPB: conditional") ||
	    vuln_says("spectre_v2", "IBPB: always-on"))
		EXPECT_TRUE(listed(self->list, "ibpb"));
	if (vuln_says("spectre_v2", "Not affected") ||
	    vuln_says("spectre_v2", "IBPB: disabled"))
		EXPECT_FALSE(listed(self->list, "ibpb"));
}

/* vmscape.rst: "IBPB before exit to userspace" after a guest ran. */
TEST_F(mitig, ibpb_exit_to_user_follows_vmscape)
{
	EXPECT_EQ(vuln_says("vmscape", "IBPB before exit to userspace"),
		  listed(self->list, "ibpb_exit_to_user"));
}

TEST_HARNESS_MAIN
