/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tests' own reading of the VMX capability MSRs, written from the SDM
 * (Vol. 3D, Appendix A) without reference to vmx/caps.c, so that the unit
 * tests and the in-VM tests can check vmxlab's decoding against it.
 */
#ifndef VMXLAB_SELFTEST_VMX_SDM_REF_H
#define VMXLAB_SELFTEST_VMX_SDM_REF_H

#include <stddef.h>
#include <linux/types.h>
#include <uapi/linux/vmxlab.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Architectural MSR indices (SDM Vol. 4, Table 2-2). */
#define SDM_MSR_VMX_BASIC		0x480
#define SDM_MSR_VMX_PINBASED_CTLS	0x481
#define SDM_MSR_VMX_PROCBASED_CTLS	0x482
#define SDM_MSR_VMX_EXIT_CTLS		0x483
#define SDM_MSR_VMX_ENTRY_CTLS		0x484
#define SDM_MSR_VMX_MISC		0x485
#define SDM_MSR_VMX_CR0_FIXED0		0x486
#define SDM_MSR_VMX_CR0_FIXED1		0x487
#define SDM_MSR_VMX_CR4_FIXED0		0x488
#define SDM_MSR_VMX_CR4_FIXED1		0x489
#define SDM_MSR_VMX_PROCBASED_CTLS2	0x48b
#define SDM_MSR_VMX_EPT_VPID_CAP	0x48c
#define SDM_MSR_VMX_TRUE_PINBASED_CTLS	0x48d
#define SDM_MSR_VMX_TRUE_PROCBASED_CTLS	0x48e
#define SDM_MSR_VMX_TRUE_EXIT_CTLS	0x48f
#define SDM_MSR_VMX_TRUE_ENTRY_CTLS	0x490

/* IA32_VMX_BASIC (A.1): bit 55 says the TRUE_* control MSRs exist. */
#define SDM_BASIC_TRUE_CTLS_BIT		55

/* A.1: VMCS revision identifier in bits 30:0, region size in bits 44:32. */
static inline __u32 sdm_vmcs_revision(__u64 basic)
{
	return basic & 0x7fffffffu;
}

static inline __u32 sdm_vmcs_size(__u64 basic)
{
	return (basic >> 32) & 0x1fffu;
}

/*
 * A.3.1 and friends: control bit n may be set to 1 iff bit 32 + n of its
 * capability MSR is 1 (the "allowed-1 settings").
 */
#define SDM_ALLOWED1(n)			(32 + (n))

enum sdm_msr {
	SDM_BASIC,
	SDM_PIN,
	SDM_PROC,
	SDM_PROC2,
	SDM_EXIT,
	SDM_ENTRY,
	SDM_EPT_VPID,
};

/*
 * One VMXLAB_CAP_* feature: the MSR bit(s) that grant it and the features
 * it only makes sense with (EPT details need EPT, EPT needs the secondary
 * controls, and so on).  Entries are ordered so that every feature comes
 * after those it needs.
 */
struct sdm_feature {
	__u64 cap;
	const char *name;
	enum sdm_msr msr;
	int bit;		/* bit of the 64-bit MSR value */
	int bit2;		/* a second bit also needed, or -1 */
	__u64 needs;		/* VMXLAB_CAP_* bits this one depends on */
};

#define SDM_F(c, m, b, b2, n) \
	{ VMXLAB_CAP_##c, #c, SDM_##m, b, b2, n }

static const struct sdm_feature sdm_features[] = {
	SDM_F(TRUE_CTLS,	 BASIC, SDM_BASIC_TRUE_CTLS_BIT, -1, 0),
	/* Pin-based controls, SDM Vol. 3C Table 25-5 */
	SDM_F(NMI_EXITING,	 PIN, SDM_ALLOWED1(3), -1, 0),
	SDM_F(VIRTUAL_NMIS,	 PIN, SDM_ALLOWED1(5), -1, 0),
	SDM_F(PREEMPTION_TIMER,	 PIN, SDM_ALLOWED1(6), -1, 0),
	/* Primary processor-based controls, Table 25-6 */
	SDM_F(INTR_WINDOW,	 PROC, SDM_ALLOWED1(2), -1, 0),
	SDM_F(CR8_EXITING,	 PROC, SDM_ALLOWED1(19), SDM_ALLOWED1(20), 0),
	SDM_F(TPR_SHADOW,	 PROC, SDM_ALLOWED1(21), -1, 0),
	SDM_F(NMI_WINDOW,	 PROC, SDM_ALLOWED1(22), -1, 0),
	SDM_F(MOV_DR_EXITING,	 PROC, SDM_ALLOWED1(23), -1, 0),
	SDM_F(IO_BITMAPS,	 PROC, SDM_ALLOWED1(25), -1, 0),
	SDM_F(MTF,		 PROC, SDM_ALLOWED1(27), -1, 0),
	SDM_F(MSR_BITMAPS,	 PROC, SDM_ALLOWED1(28), -1, 0),
	SDM_F(SECONDARY_CTLS,	 PROC, SDM_ALLOWED1(31), -1, 0),
	/* Secondary processor-based controls, Table 25-7 */
	SDM_F(VIRT_APIC_ACCESSES, PROC2, SDM_ALLOWED1(0), -1, VMXLAB_CAP_SECONDARY_CTLS),
	SDM_F(EPT,		 PROC2, SDM_ALLOWED1(1), -1, VMXLAB_CAP_SECONDARY_CTLS),
	SDM_F(VPID,		 PROC2, SDM_ALLOWED1(5), -1, VMXLAB_CAP_SECONDARY_CTLS),
	SDM_F(UNRESTRICTED_GUEST, PROC2, SDM_ALLOWED1(7), -1, VMXLAB_CAP_SECONDARY_CTLS),
	/* VM-exit controls, Table 25-13 */
	SDM_F(HOST_LONG_MODE,	 EXIT, SDM_ALLOWED1(9), -1, 0),
	SDM_F(ACK_INTR_ON_EXIT,	 EXIT, SDM_ALLOWED1(15), -1, 0),
	SDM_F(SAVE_EFER,	 EXIT, SDM_ALLOWED1(20), -1, 0),
	/* VM-entry controls, Table 25-15 */
	SDM_F(IA32E_GUEST,	 ENTRY, SDM_ALLOWED1(9), -1, 0),
	SDM_F(LOAD_PAT,		 ENTRY, SDM_ALLOWED1(14), -1, 0),
	SDM_F(LOAD_EFER,	 ENTRY, SDM_ALLOWED1(15), -1, 0),
	/* IA32_VMX_EPT_VPID_CAP, A.10 */
	SDM_F(EPT_4LEVEL,	 EPT_VPID, 6, -1, VMXLAB_CAP_EPT),
	SDM_F(EPT_WB,		 EPT_VPID, 14, -1, VMXLAB_CAP_EPT),
	SDM_F(EPT_2M,		 EPT_VPID, 16, -1, VMXLAB_CAP_EPT),
	SDM_F(EPT_1G,		 EPT_VPID, 17, -1, VMXLAB_CAP_EPT),
	SDM_F(INVEPT,		 EPT_VPID, 20, -1, VMXLAB_CAP_EPT),
	SDM_F(EPT_AD,		 EPT_VPID, 21, -1, VMXLAB_CAP_EPT),
	SDM_F(INVVPID,		 EPT_VPID, 32, -1, VMXLAB_CAP_VPID),
};

#define SDM_NR_FEATURES	ARRAY_SIZE(sdm_features)

static inline __u64 sdm_msr_value(const struct vmxlab_caps *c,
				  enum sdm_msr msr)
{
	switch (msr) {
	case SDM_BASIC:
		return c->msr_basic;
	case SDM_PIN:
		return c->msr_pinbased;
	case SDM_PROC:
		return c->msr_procbased;
	case SDM_PROC2:
		return c->msr_procbased2;
	case SDM_EXIT:
		return c->msr_exit;
	case SDM_ENTRY:
		return c->msr_entry;
	case SDM_EPT_VPID:
		return c->msr_ept_vpid_cap;
	}
	return 0;
}

/* Is @bit set in @value?  A bit number of -1 means "no bit needed". */
static inline int sdm_bit(__u64 value, int bit)
{
	return bit < 0 || ((value >> bit) & 1);
}

/* The VMXLAB_CAP_* set the raw MSRs in @c grant, by the table above. */
static inline __u64 sdm_decode(const struct vmxlab_caps *c)
{
	__u64 features = 0;
	size_t i;

	for (i = 0; i < SDM_NR_FEATURES; i++) {
		const struct sdm_feature *f = &sdm_features[i];
		__u64 v = sdm_msr_value(c, f->msr);

		if (sdm_bit(v, f->bit) && sdm_bit(v, f->bit2) &&
		    (features & f->needs) == f->needs)
			features |= f->cap;
	}
	return features;
}

#endif /* VMXLAB_SELFTEST_VMX_SDM_REF_H */
