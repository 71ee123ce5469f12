/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX architecture constants: capability-MSR layouts, VM-execution, VM-exit
 * and VM-entry control bits.  Pure definitions with no kernel dependency,
 * so the userspace unit tests can include this header too.
 *
 * Names carry our own prefixes (VMX_BASIC_, PIN_CTL_, PROC_CTL_, ...) so
 * that they never collide with the kernel's <asm/vmx.h>.
 */
#ifndef VMXLAB_VMX_ARCH_H
#define VMXLAB_VMX_ARCH_H

/* IA32_VMX_BASIC (SDM Vol. 3D, A.1) */
#define VMX_BASIC_REVISION_MASK		0x7fffffffULL
#define VMX_BASIC_VMCS_SIZE_SHIFT	32
#define VMX_BASIC_VMCS_SIZE_MASK	0x1fffULL
#define VMX_BASIC_MEM_TYPE_SHIFT	50
#define VMX_BASIC_MEM_TYPE_MASK		0xfULL
#define VMX_BASIC_MEM_TYPE_WB		6ULL
#define VMX_BASIC_TRUE_CTLS		(1ULL << 55)

/* IA32_FEATURE_CONTROL (SDM Vol. 3C, 23.7) */
#define FEATURE_CONTROL_LOCKED			(1ULL << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX		(1ULL << 2)

/* Pin-based VM-execution controls (SDM Vol. 3C, 25.6.1) */
#define PIN_CTL_EXT_INTR_EXITING	(1U << 0)
#define PIN_CTL_NMI_EXITING		(1U << 3)
#define PIN_CTL_VIRTUAL_NMIS		(1U << 5)
#define PIN_CTL_PREEMPTION_TIMER	(1U << 6)

/* Primary processor-based VM-execution controls (SDM Vol. 3C, 25.6.2) */
#define PROC_CTL_INTR_WINDOW_EXITING	(1U << 2)
#define PROC_CTL_HLT_EXITING		(1U << 7)
#define PROC_CTL_CR8_LOAD_EXITING	(1U << 19)
#define PROC_CTL_CR8_STORE_EXITING	(1U << 20)
#define PROC_CTL_TPR_SHADOW		(1U << 21)
#define PROC_CTL_NMI_WINDOW_EXITING	(1U << 22)
#define PROC_CTL_MOV_DR_EXITING		(1U << 23)
#define PROC_CTL_UNCOND_IO_EXITING	(1U << 24)
#define PROC_CTL_USE_IO_BITMAPS		(1U << 25)
#define PROC_CTL_MONITOR_TRAP_FLAG	(1U << 27)
#define PROC_CTL_USE_MSR_BITMAPS	(1U << 28)
#define PROC_CTL_ACTIVATE_SECONDARY	(1U << 31)

/* Secondary processor-based VM-execution controls (SDM Vol. 3C, 25.6.2) */
#define PROC2_CTL_VIRT_APIC_ACCESSES	(1U << 0)
#define PROC2_CTL_ENABLE_EPT		(1U << 1)
#define PROC2_CTL_ENABLE_VPID		(1U << 5)
#define PROC2_CTL_UNRESTRICTED_GUEST	(1U << 7)

/* Primary VM-exit controls (SDM Vol. 3C, 25.7.1) */
#define EXIT_CTL_HOST_ADDR_SPACE_SIZE	(1U << 9)
#define EXIT_CTL_ACK_INTR_ON_EXIT	(1U << 15)
#define EXIT_CTL_SAVE_EFER		(1U << 20)
#define EXIT_CTL_LOAD_EFER		(1U << 21)

/* VM-entry controls (SDM Vol. 3C, 25.8.1) */
#define ENTRY_CTL_IA32E_MODE_GUEST	(1U << 9)
#define ENTRY_CTL_LOAD_PAT		(1U << 14)
#define ENTRY_CTL_LOAD_EFER		(1U << 15)

/* IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D, A.10) */
#define EPT_CAP_PAGE_WALK_4		(1ULL << 6)
#define EPT_CAP_MEMTYPE_WB		(1ULL << 14)
#define EPT_CAP_2MB_PAGE		(1ULL << 16)
#define EPT_CAP_1GB_PAGE		(1ULL << 17)
#define EPT_CAP_INVEPT			(1ULL << 20)
#define EPT_CAP_AD_BITS			(1ULL << 21)
#define VPID_CAP_INVVPID		(1ULL << 32)

#endif /* VMXLAB_VMX_ARCH_H */
