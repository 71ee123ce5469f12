/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the in-VM selftests: load and unload vmxlab.ko with the
 * raw syscalls, look at /proc and /sys, and search the kernel log for what
 * the module printed since a given point.
 */
#ifndef VMXLAB_SELFTEST_UTIL_H
#define VMXLAB_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define VMXLAB_KO_DEFAULT	"/vmxlab/vmxlab.ko"
#define VMXLAB_DEV		"/dev/vmxlab"

/* The module file: $VMXLAB_KO, else where the VM runner puts it. */
static inline const char *vmxlab_ko_path(void)
{
	const char *p = getenv("VMXLAB_KO");

	return p && *p ? p : VMXLAB_KO_DEFAULT;
}

/*
 * The parameters the tests load it with: $VMXLAB_PARAMS, else the shadow
 * paging audit on (Documentation/paging.rst), which checks every shadow
 * leaf against the guest's tables before each entry.
 */
static inline const char *vmxlab_params(void)
{
	const char *p = getenv("VMXLAB_PARAMS");

	return p ? p : "shadow_audit=1";
}

/* finit_module(2) on vmxlab.ko.  Returns 0 or -errno. */
static inline int vmxlab_load(void)
{
	int fd, ret;

	fd = open(vmxlab_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, vmxlab_params(), 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* delete_module(2), never waiting.  Returns 0 or -errno. */
static inline int vmxlab_unload(void)
{
	return syscall(SYS_delete_module, "vmxlab", O_NONBLOCK) ? -errno : 0;
}

/* Is @name (e.g. "vmxlab", "kvm_intel") listed in /proc/modules? */
static inline bool module_is_loaded(const char *name)
{
	size_t len = strlen(name);
	char line[512];
	bool found = false;
	FILE *f;

	f = fopen("/proc/modules", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, len) && line[len] == ' ';
	fclose(f);
	return found;
}

static inline bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Write @val to a sysfs/procfs file.  Returns 0 or -errno. */
static inline int write_file(const char *path, const char *val)
{
	ssize_t n, len = strlen(val);
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : (n == len ? 0 : -EIO);
}

/* Read a small file whole, NUL-terminated.  Returns its length or -errno. */
static inline ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			total = -errno;
			break;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	if (total >= 0)
		buf[total] = '\0';
	return total;
}

/* Run a shell command; true when it exited with status 0. */
static inline bool run_cmd(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * Tell the VM runner's verdict (scripts/vm-run.sh) that the kernel log
 * will show an error line matching @regex (POSIX extended) because the
 * test provokes it: from here on such lines are accepted, and counted.
 * Any other error line still fails the run.
 */
static inline void vmxlab_expect_klog(const char *regex)
{
	char buf[512];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;		/* the verdict then fails on the line itself */
	snprintf(buf, sizeof(buf), "<3>VMXLAB-EXPECT-KLOG %s\n", regex);
	if (write(fd, buf, strlen(buf)) < 0)
		perror("/dev/kmsg");
	close(fd);
}

/*
 * Arm one of vmxlab's test faults (vmx/fault_inject.c): "vmfail",
 * "ept_misconfig" or "fpstate_alloc".  It fires once, at the next VM
 * entry, EPT fault-in or vCPU creation.
 * Returns 0 or -errno.
 */
static inline int vmxlab_inject_fault(const char *name)
{
	return write_file("/sys/module/vmxlab/parameters/fault_inject", name);
}

/* The VMCS dump vmxlab prints once per vCPU for a failed or unknown exit. */
#define KLOG_VMCS_DUMP	"vmxlab: (vCPU [0-9]+ VMCS:|  (RIP|CS|controls|entry) )"

/*
 * The kernel log through /dev/kmsg: kmsg_open() returns an fd positioned
 * after the last record, so kmsg_collect() only sees what was logged later.
 */
static inline int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * Every record logged since kmsg_open(), the text of each on its own line,
 * in a malloc'd string (NULL when out of memory).  Records that were
 * overwritten before we read them are skipped.
 */
static inline char *kmsg_collect(int fd)
{
	size_t len = 0, size = 1 << 16;
	char rec[2048], *log, *bigger;
	const char *text;
	ssize_t n;

	log = malloc(size);
	if (!log)
		return NULL;
	log[0] = '\0';
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;
		if (n <= 0)
			break;		/* EAGAIN: nothing more */
		rec[n] = '\0';
		/* "prio,seq,usec,flags;text\n" then " KEY=value" lines */
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		n = strcspn(text, "\n");
		if (len + n + 2 > size) {
			size = 2 * (len + n + 2);
			bigger = realloc(log, size);
			if (!bigger)
				break;
			log = bigger;
		}
		memcpy(log + len, text, n);
		len += n;
		log[len++] = '\n';
		log[len] = '\0';
	}
	return log;
}

/*
 * Find a line of @log that contains every string of the NULL-terminated
 * @needles; copy it to @out (when not NULL).
 */
static inline bool log_find(const char *log, const char *const *needles,
			    char *out, size_t outlen)
{
	char line[1024];
	size_t n;
	int i;

	for (; log && *log; log += n + (log[n] == '\n')) {
		bool all = true;

		n = strcspn(log, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, log);
		for (i = 0; needles[i]; i++)
			all = all && strstr(line, needles[i]);
		if (all) {
			if (out)
				snprintf(out, outlen, "%s", line);
			return true;
		}
	}
	return false;
}

/*
 * How many CPUs list @flag in their /proc/cpuinfo "flags" line; *@cpus is
 * set to the number of "flags" lines seen.  Returns the count or -errno.
 */
static inline int cpuinfo_flag_count(const char *flag, int *cpus)
{
	char line[8192];
	int have = 0;
	FILE *f;

	*cpus = 0;
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save;

		if (strncmp(line, "flags", 5) || !strchr(line, ':'))
			continue;
		(*cpus)++;
		for (tok = strtok_r(strchr(line, ':') + 1, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			if (!strcmp(tok, flag)) {
				have++;
				break;
			}
		}
	}
	fclose(f);
	return have;
}

/*
 * Is the running kernel built with KASAN (the debug lane's)?  Its
 * quarantine keeps freed slab objects for a while, so free pages there
 * fall by about as much as the small leaks the tests' free-page bounds
 * look for.  Those bounds are checked on Debian's kernel, in the other
 * lanes; the debug lane has kmemleak instead.
 */
static inline bool kernel_has_kasan(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " kasan_quarantine_put");
	fclose(f);
	return found;
}

#endif /* VMXLAB_SELFTEST_UTIL_H */
