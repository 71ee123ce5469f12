/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Capability decoding: pure functions over the values of the VMX
 * capability MSRs.  The module feeds them live MSRs; the unit tests feed
 * them recorded ones (see selftests/unit/).
 */
#ifndef VMXLAB_CAPS_H
#define VMXLAB_CAPS_H

#include <linux/types.h>

struct vmxlab_caps;

/* The VMCS control words every vCPU of a VM type uses. */
struct vmx_vmcs_config {
	bool usable;		/* EPT VMs can run: nothing the host needs lacks */
	bool usable_shadow;	/* shadow-paging VMs can run */
	u32 pin, proc, proc2, exit, entry;
	u32 proc_shadow, proc2_shadow;	/* instead of proc, proc2 */
};

void vmx_caps_decode(struct vmxlab_caps *caps);
void vmx_vmcs_config_build(const struct vmxlab_caps *caps, bool ack_intr,
			   struct vmx_vmcs_config *c);
int vmx_adjust_controls(u64 cap_msr, u32 required, u32 optional, u32 *ctl);
bool vmx_cr_fixed_ok(u64 value, u64 fixed0, u64 fixed1);

#endif /* VMXLAB_CAPS_H */
