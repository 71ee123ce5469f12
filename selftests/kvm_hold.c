// SPDX-License-Identifier: GPL-2.0
/*
 * Helper for the kvm coexistence selftests: create one KVM VM, which makes
 * kvm_intel turn VMX on in every online CPU, say "ready" and hold the VM
 * until stdin reaches EOF.  On failure it says which step failed and why.
 *
 * Output, one line on stdout:
 *   ready
 *   error <step> errno=<n> (<text>)
 * Exit status: 0 after a clean hold, 2 if KVM_CREATE_VM failed, 3 if
 * /dev/kvm could not be opened or answered oddly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static int fail(const char *step, int err, int status)
{
	printf("error %s errno=%d (%s)\n", step, err, strerror(err));
	fflush(stdout);
	return status;
}

int main(void)
{
	char buf[64];
	int kvm, vm, ver;
	ssize_t n;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open-/dev/kvm", errno, 3);
	ver = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION)
		return fail("KVM_GET_API_VERSION", ver < 0 ? errno : EPROTO, 3);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM", errno, 2);

	printf("ready\n");
	fflush(stdout);

	do {
		n = read(STDIN_FILENO, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));

	close(vm);
	close(kvm);
	return 0;
}
