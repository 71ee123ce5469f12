/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmxlab userspace API: the ioctls of /dev/vmxlab and the structures they
 * carry.  Modelled on /dev/kvm: the system fd answers questions about the
 * hypervisor; later API versions add a VM fd and vCPU fds.
 *
 * Everything here is fixed-size and padded so that the same layout works
 * for 32- and 64-bit callers and can grow without a new ioctl number.
 */
#ifndef _UAPI_LINUX_VMXLAB_H
#define _UAPI_LINUX_VMXLAB_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Bumped whenever an existing ioctl changes meaning. */
#define VMXLAB_API_VERSION	1

#define VMXLAB_IO		0xAF

/* System ioctls (on the /dev/vmxlab fd). */

/* Returns VMXLAB_API_VERSION as the ioctl's return value; no argument. */
#define VMXLAB_GET_API_VERSION	_IO(VMXLAB_IO, 0x00)
/* Fills struct vmxlab_caps with what this CPU's VMX offers. */
#define VMXLAB_GET_CAPS		_IOR(VMXLAB_IO, 0x01, struct vmxlab_caps)

/*
 * Feature bits of vmxlab_caps.features, decoded from the VMX capability
 * MSRs (SDM Vol. 3D, Appendix A).  A bit is set when the CPU allows the
 * corresponding control to be 1 (or reports the capability), whether or not
 * vmxlab uses it yet.
 */
#define VMXLAB_CAP_TRUE_CTLS		(1ULL << 0)  /* IA32_VMX_TRUE_*_CTLS exist */
#define VMXLAB_CAP_SECONDARY_CTLS	(1ULL << 1)  /* secondary proc-based controls */
#define VMXLAB_CAP_EPT			(1ULL << 2)  /* enable EPT */
#define VMXLAB_CAP_VPID			(1ULL << 3)  /* enable VPID */
#define VMXLAB_CAP_UNRESTRICTED_GUEST	(1ULL << 4)  /* real mode/unpaged guests */
#define VMXLAB_CAP_MTF			(1ULL << 5)  /* monitor trap flag */
#define VMXLAB_CAP_ACK_INTR_ON_EXIT	(1ULL << 6)  /* exit acknowledges interrupt */
#define VMXLAB_CAP_VIRTUAL_NMIS		(1ULL << 7)  /* virtual NMIs */
#define VMXLAB_CAP_PREEMPTION_TIMER	(1ULL << 8)  /* VMX-preemption timer */
#define VMXLAB_CAP_TPR_SHADOW		(1ULL << 9)  /* use TPR shadow */
#define VMXLAB_CAP_MSR_BITMAPS		(1ULL << 10) /* use MSR bitmaps */
#define VMXLAB_CAP_IO_BITMAPS		(1ULL << 11) /* use I/O bitmaps */
#define VMXLAB_CAP_EPT_AD		(1ULL << 12) /* EPT accessed/dirty flags */
#define VMXLAB_CAP_EPT_4LEVEL		(1ULL << 13) /* 4-level EPT walks */
#define VMXLAB_CAP_EPT_WB		(1ULL << 14) /* write-back EPT paging structs */
#define VMXLAB_CAP_EPT_2M		(1ULL << 15) /* 2 MiB EPT pages */
#define VMXLAB_CAP_EPT_1G		(1ULL << 16) /* 1 GiB EPT pages */
#define VMXLAB_CAP_INVEPT		(1ULL << 17) /* INVEPT instruction */
#define VMXLAB_CAP_INVVPID		(1ULL << 18) /* INVVPID instruction */
#define VMXLAB_CAP_NMI_EXITING		(1ULL << 19) /* NMI exiting */
#define VMXLAB_CAP_INTR_WINDOW		(1ULL << 20) /* interrupt-window exiting */
#define VMXLAB_CAP_NMI_WINDOW		(1ULL << 21) /* NMI-window exiting */
#define VMXLAB_CAP_LOAD_EFER		(1ULL << 22) /* load IA32_EFER on entry */
#define VMXLAB_CAP_SAVE_EFER		(1ULL << 23) /* save IA32_EFER on exit */
#define VMXLAB_CAP_LOAD_PAT		(1ULL << 24) /* load IA32_PAT on entry */
#define VMXLAB_CAP_CR8_EXITING		(1ULL << 25) /* CR8 load and store exiting */
#define VMXLAB_CAP_MOV_DR_EXITING	(1ULL << 26) /* MOV-DR exiting */
#define VMXLAB_CAP_HOST_LONG_MODE	(1ULL << 27) /* host address-space size */
#define VMXLAB_CAP_IA32E_GUEST		(1ULL << 28) /* IA-32e mode guest */
#define VMXLAB_CAP_VIRT_APIC_ACCESSES	(1ULL << 29) /* virtualize APIC accesses */

/*
 * The answer to VMXLAB_GET_CAPS: decoded features plus the raw MSRs they
 * came from, so a reader (or a test) can check the decoding.  A control
 * MSR's low 32 bits are its allowed-0 settings (a 1 there means "must be
 * 1"), its high 32 bits the allowed-1 settings ("may be 1").
 */
struct vmxlab_caps {
	__u64 features;			/* VMXLAB_CAP_* */
	__u32 vmcs_revision;		/* IA32_VMX_BASIC[30:0] */
	__u32 vmcs_size;		/* IA32_VMX_BASIC[44:32], bytes */
	__u64 msr_basic;		/* 0x480 IA32_VMX_BASIC */
	__u64 msr_pinbased;		/* 0x481 or 0x48d when TRUE_CTLS */
	__u64 msr_procbased;		/* 0x482 or 0x48e when TRUE_CTLS */
	__u64 msr_exit;			/* 0x483 or 0x48f when TRUE_CTLS */
	__u64 msr_entry;		/* 0x484 or 0x490 when TRUE_CTLS */
	__u64 msr_misc;			/* 0x485 IA32_VMX_MISC */
	__u64 msr_cr0_fixed0;		/* 0x486 */
	__u64 msr_cr0_fixed1;		/* 0x487 */
	__u64 msr_cr4_fixed0;		/* 0x488 */
	__u64 msr_cr4_fixed1;		/* 0x489 */
	__u64 msr_procbased2;		/* 0x48b, 0 without secondary controls */
	__u64 msr_ept_vpid_cap;		/* 0x48c, 0 without EPT and VPID */
	__u64 reserved[8];		/* zero; room to grow */
};

#endif /* _UAPI_LINUX_VMXLAB_H */
