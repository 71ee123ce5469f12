/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX architecture constants: capability-MSR layouts, VM-execution, VM-exit
 * and VM-entry control bits.  Pure definitions with no kernel dependency,
 * so the userspace unit tests can include this header too.
 *
 * Names carry our own prefixes (IA32_VMX_BASIC_, PIN_CTL_, PROC_CTL_, ...) so
 * that they never collide with the kernel's <asm/vmx.h>.
 */
#ifndef VMXLAB_VMX_ARCH_H
#define VMXLAB_VMX_ARCH_H

#include <linux/bits.h>

/* IA32_VMX_BASIC (SDM Vol. 3D, A.1) */
#define IA32_VMX_BASIC_REVISION_MASK	0x7fffffffULL
#define IA32_VMX_BASIC_VMCS_SIZE_SHIFT	32
#define IA32_VMX_BASIC_VMCS_SIZE_MASK	0x1fffULL
#define IA32_VMX_BASIC_MEM_TYPE_SHIFT	50
#define IA32_VMX_BASIC_MEM_TYPE_MASK	0xfULL
#define IA32_VMX_BASIC_MEM_TYPE_WB	6ULL
#define IA32_VMX_BASIC_INS_OUTS_INFO	BIT_ULL(54)
#define IA32_VMX_BASIC_TRUE_CTLS	BIT_ULL(55)

/* IA32_FEATURE_CONTROL (SDM Vol. 3C, 23.7) */
#define IA32_FEATURE_CONTROL_LOCKED		BIT_ULL(0)
#define IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX	BIT_ULL(2)

/* Pin-based VM-execution controls (SDM Vol. 3C, 25.6.1) */
#define PIN_CTL_EXT_INTR_EXITING	BIT(0)
#define PIN_CTL_NMI_EXITING		BIT(3)
#define PIN_CTL_VIRTUAL_NMIS		BIT(5)
#define PIN_CTL_PREEMPTION_TIMER	BIT(6)

/* Primary processor-based VM-execution controls (SDM Vol. 3C, 25.6.2) */
#define PROC_CTL_INTR_WINDOW_EXITING	BIT(2)
#define PROC_CTL_HLT_EXITING		BIT(7)
#define PROC_CTL_INVLPG_EXITING		BIT(9)
#define PROC_CTL_MWAIT_EXITING		BIT(10)
#define PROC_CTL_RDPMC_EXITING		BIT(11)
#define PROC_CTL_CR3_LOAD_EXITING	BIT(15)
#define PROC_CTL_CR3_STORE_EXITING	BIT(16)
#define PROC_CTL_CR8_LOAD_EXITING	BIT(19)
#define PROC_CTL_CR8_STORE_EXITING	BIT(20)
#define PROC_CTL_TPR_SHADOW		BIT(21)
#define PROC_CTL_NMI_WINDOW_EXITING	BIT(22)
#define PROC_CTL_MOV_DR_EXITING		BIT(23)
#define PROC_CTL_UNCOND_IO_EXITING	BIT(24)
#define PROC_CTL_USE_IO_BITMAPS		BIT(25)
#define PROC_CTL_MONITOR_TRAP_FLAG	BIT(27)
#define PROC_CTL_USE_MSR_BITMAPS	BIT(28)
#define PROC_CTL_MONITOR_EXITING	BIT(29)
#define PROC_CTL_ACTIVATE_SECONDARY	BIT(31)

/* Secondary processor-based VM-execution controls (SDM Vol. 3C, 25.6.2) */
#define PROC2_CTL_VIRT_APIC_ACCESSES	BIT(0)
#define PROC2_CTL_ENABLE_EPT		BIT(1)
#define PROC2_CTL_ENABLE_VPID		BIT(5)
#define PROC2_CTL_WBINVD_EXITING	BIT(6)
#define PROC2_CTL_UNRESTRICTED_GUEST	BIT(7)

/* Primary VM-exit controls (SDM Vol. 3C, 25.7.1) */
#define EXIT_CTL_SAVE_DEBUG_CONTROLS	BIT(2)
#define EXIT_CTL_HOST_ADDR_SPACE_SIZE	BIT(9)
#define EXIT_CTL_ACK_INTR_ON_EXIT	BIT(15)
#define EXIT_CTL_SAVE_EFER		BIT(20)
#define EXIT_CTL_LOAD_EFER		BIT(21)

/* VM-entry controls (SDM Vol. 3C, 25.8.1) */
#define ENTRY_CTL_LOAD_DEBUG_CONTROLS	BIT(2)
#define ENTRY_CTL_IA32E_MODE_GUEST	BIT(9)
#define ENTRY_CTL_LOAD_PAT		BIT(14)
#define ENTRY_CTL_LOAD_EFER		BIT(15)
#define ENTRY_CTL_LOAD_CET_STATE	BIT(20)

/* IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D, A.10) */
#define EPT_CAP_PAGE_WALK_4		BIT_ULL(6)
#define EPT_CAP_MEMTYPE_WB		BIT_ULL(14)
#define EPT_CAP_2MB_PAGE		BIT_ULL(16)
#define EPT_CAP_1GB_PAGE		BIT_ULL(17)
#define EPT_CAP_INVEPT			BIT_ULL(20)
#define EPT_CAP_INVEPT_SINGLE		BIT_ULL(25)
#define EPT_CAP_INVEPT_GLOBAL		BIT_ULL(26)
#define EPT_CAP_AD_BITS			BIT_ULL(21)
#define VPID_CAP_INVVPID		BIT_ULL(32)
#define VPID_CAP_INVVPID_SINGLE		BIT_ULL(41)
#define VPID_CAP_INVVPID_ALL		BIT_ULL(42)

/* EPT pointer and EPT paging-structure entries (SDM Vol. 3C, 25.6.11, 29.3.2) */
#define EPTP_MEMTYPE_WB			6ULL
#define EPTP_WALK_LENGTH_4		(3ULL << 3)
#define EPT_READ			BIT_ULL(0)
#define EPT_WRITE			BIT_ULL(1)
#define EPT_EXEC			BIT_ULL(2)
#define EPT_RWX				(EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB			(6ULL << 3)
#define EPT_IGNORE_PAT			BIT_ULL(6)

/* INVEPT and INVVPID types (SDM Vol. 3C, 31.3) */
#define VMX_INVEPT_SINGLE_CONTEXT	1
#define VMX_INVEPT_GLOBAL		2
#define VMX_INVVPID_SINGLE_CONTEXT	1
#define VMX_INVVPID_ALL_CONTEXT		2

/* Exit qualification of EPT violations (SDM Vol. 3C, Table 28-7) */
#define EPT_VIOLATION_READ		BIT(0)
#define EPT_VIOLATION_WRITE		BIT(1)
#define EPT_VIOLATION_FETCH		BIT(2)
#define EPT_VIOLATION_GLA_VALID		BIT(7)	/* a linear address was used */
#define EPT_VIOLATION_GLA_TRANSLATED	BIT(8)	/* ... and this is its page */
#define EPT_VIOLATION_NMI_UNBLOCKING	BIT(12)

/* Exit qualification of I/O instructions (SDM Vol. 3C, Table 28-5) */
#define IO_QUAL_SIZE_MASK		0x7	/* size - 1 */
#define IO_QUAL_IN			BIT(3)
#define IO_QUAL_STRING			BIT(4)
#define IO_QUAL_REP			BIT(5)
#define IO_QUAL_PORT_SHIFT		16

/* Interruption-information fields (SDM Vol. 3C, 25.8.3 and 25.9.2) */
#define INTR_INFO_VECTOR_MASK		0xff
#define INTR_INFO_TYPE_SHIFT		8
#define INTR_TYPE_EXT_INTR		(0U << 8)
#define INTR_TYPE_NMI			(2U << 8)
#define INTR_TYPE_HARD_EXCEPTION	(3U << 8)
#define INTR_TYPE_SOFT_INTR		(4U << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION	(5U << 8)	/* ICEBP */
#define INTR_TYPE_SOFT_EXCEPTION	(6U << 8)
#define INTR_TYPE_MASK			(7U << 8)
#define INTR_INFO_DELIVER_ERROR_CODE	BIT(11)
#define INTR_INFO_NMI_UNBLOCK_IRET	BIT(12)
#define INTR_INFO_VALID			BIT(31)

/* Guest interruptibility state (SDM Vol. 3C, 25.4.2) */
#define GUEST_INTR_STI_BLOCKING		BIT(0)
#define GUEST_INTR_MOV_SS_BLOCKING	BIT(1)
#define GUEST_INTR_NMI_BLOCKING		BIT(3)

/* Pending debug exceptions (SDM Vol. 3C, 25.4.2) */
#define PENDING_DBG_BS			BIT(14)	/* single-step trap pending */

/* Segment access rights in the VMCS (SDM Vol. 3C, 25.4.1) */
#define VMX_AR_UNUSABLE			BIT(16)

#endif /* VMXLAB_VMX_ARCH_H */
