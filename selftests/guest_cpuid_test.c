// SPDX-License-Identifier: GPL-2.0
/*
 * The rule of the default CPUID table (Documentation/api.rst): a feature
 * is advertised only if it works in the guest.  For every bit the guest
 * sees set in leaves 1, 7 and 0x80000001, the guest executes what the bit
 * promises (an instruction, an MSR, a CR4 bit) and it must not fault.  A
 * bit with nothing to execute is listed as such with its reason; a bit
 * that is neither probed nor listed fails the test, so that the rule and
 * this test change together.
 */
#include <sys/ioctl.h>

#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120

enum { EAX, EBX, ECX, EDX };

/* Memory for the instructions that take an operand there, 64-byte aligned. */
static __u8 probe_mem[512 + 64];

#define PROBE_CLOBBERS	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "xmm0", "xmm1", \
			GUEST_ASM_SAFE_CLOBBERS

/* probe_<name>(): run @insn once; returns the vector it raised, or -1. */
#define PROBE(name, insn)						\
static int probe_##name(void)						\
{									\
	int vector;							\
	__u64 ec;							\
									\
	asm volatile("xor %%eax, %%eax\n\t"				\
		     "xor %%ecx, %%ecx\n\t"				\
		     "xor %%edx, %%edx\n\t"				\
		     "lea %[mem], %%rbx\n\t"				\
		     "add $63, %%rbx\n\t"				\
		     "and $-64, %%rbx\n\t"				\
		     GUEST_ASM_SAFE(insn)				\
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)		\
		     : [mem] "m"(probe_mem) : PROBE_CLOBBERS);		\
	return vector;							\
}

PROBE(fpu, "fninit")
PROBE(tsc, "rdtsc")
PROBE(msr, "mov $0xc0000080, %%ecx; rdmsr")
PROBE(cx8, "cmpxchg8b (%%rbx)")
PROBE(sep, "mov $0x174, %%ecx; rdmsr; wrmsr")
PROBE(cmov, "cmove %%ecx, %%eax")
PROBE(pat, "mov $0x277, %%ecx; rdmsr; wrmsr")
PROBE(clflush, "clflush (%%rbx)")
PROBE(mmx, "pxor %%mm0, %%mm0; emms")
PROBE(fxsr, "fxsave (%%rbx); fxrstor (%%rbx)")
PROBE(sse, "xorps %%xmm0, %%xmm0")
PROBE(sse2, "pxor %%xmm0, %%xmm0")
PROBE(sse3, "addsubpd %%xmm0, %%xmm0")
PROBE(pclmulqdq, "pclmulqdq $0, %%xmm0, %%xmm1")
PROBE(ssse3, "pabsb %%xmm0, %%xmm0")
PROBE(fma, "vfmadd132ps %%xmm0, %%xmm0, %%xmm0")
PROBE(cx16, "cmpxchg16b (%%rbx)")
PROBE(sse41, "ptest %%xmm0, %%xmm0")
PROBE(sse42, "crc32b %%al, %%ecx")
PROBE(movbe, "movbe (%%rbx), %%eax")
PROBE(popcnt, "popcnt %%eax, %%eax")
PROBE(aes, "aesenc %%xmm0, %%xmm0")
PROBE(xsave, "xgetbv")
PROBE(avx, "vxorps %%ymm0, %%ymm0, %%ymm0")
PROBE(f16c, "vcvtph2ps %%xmm0, %%xmm0")
PROBE(rdrand, "rdrand %%eax")
PROBE(bmi1, "andn %%eax, %%eax, %%eax")
PROBE(hle, "xacquire lock addl $0, (%%rbx)")
PROBE(avx2, "vpaddd %%ymm0, %%ymm0, %%ymm0")
PROBE(bmi2, "pdep %%eax, %%eax, %%eax")
PROBE(erms, "mov $1, %%ecx; mov %%rbx, %%rsi; mov %%rbx, %%rdi; rep movsb")
PROBE(rtm, "xtest")
PROBE(avx512f, "vpxord %%zmm0, %%zmm0, %%zmm0")
PROBE(avx512dq, "vandps %%zmm0, %%zmm0, %%zmm0")
PROBE(rdseed, "rdseed %%eax")
PROBE(adx, "adcx %%eax, %%eax")
PROBE(smap, "stac; clac")
PROBE(avx512ifma, "vpmadd52luq %%zmm0, %%zmm0, %%zmm0")
PROBE(clflushopt, "clflushopt (%%rbx)")
PROBE(clwb, "clwb (%%rbx)")
PROBE(avx512cd, "vplzcntd %%zmm0, %%zmm0")
PROBE(sha, "sha1nexte %%xmm0, %%xmm0")
PROBE(avx512bw, "vpaddb %%zmm0, %%zmm0, %%zmm0")
PROBE(avx512vl, "vpaddd %%xmm16, %%xmm16, %%xmm16")
PROBE(prefetchwt1, "prefetchwt1 (%%rbx)")
PROBE(avx512vbmi, "vpermb %%zmm0, %%zmm0, %%zmm0")
PROBE(gfni, "gf2p8mulb %%xmm0, %%xmm0")
PROBE(vaes, "vaesenc %%ymm0, %%ymm0, %%ymm0")
PROBE(vpclmulqdq, "vpclmulqdq $0, %%ymm0, %%ymm0, %%ymm0")
PROBE(avx512vnni, "vpdpbusd %%zmm0, %%zmm0, %%zmm0")
PROBE(avx512bitalg, "vpopcntb %%zmm0, %%zmm0")
PROBE(avx512vpopcntdq, "vpopcntd %%zmm0, %%zmm0")
PROBE(avx512vbmi2, "vpcompressb %%zmm0, %%zmm1")
PROBE(movdiri, "movdiri %%eax, (%%rbx)")
PROBE(movdir64b, "movdir64b (%%rbx), %%rbx")
PROBE(serialize, "serialize")
PROBE(lahf, "lahf")
PROBE(lzcnt, "lzcnt %%eax, %%eax")
PROBE(prefetchw, "prefetchw (%%rbx)")
PROBE(nx, "mov $0xc0000080, %%ecx; rdmsr; or $0x800, %%eax; wrmsr")

/* A CR4 bit the feature lets the guest set: set it, then put CR4 back. */
#define PROBE_CR4(name, bit)						\
static int probe_##name(void)						\
{									\
	int vector;							\
	__u64 ec, cr4;							\
									\
	asm volatile("mov %%cr4, %[cr4]" : [cr4] "=r"(cr4));		\
	asm volatile(GUEST_ASM_SAFE("mov %[v], %%cr4")			\
		     : GUEST_ASM_SAFE_OUTPUTS(vector, ec)		\
		     : [v] "r"(cr4 | (1ULL << (bit)))			\
		     : GUEST_ASM_SAFE_CLOBBERS);			\
	asm volatile("mov %[cr4], %%cr4" : : [cr4] "r"(cr4));		\
	return vector;							\
}

PROBE_CR4(vme, 0)
PROBE_CR4(pse, 4)	/* ignored in long mode, but settable */
PROBE_CR4(de, 3)
PROBE_CR4(pge, 7)
PROBE_CR4(umip, 11)
PROBE_CR4(fsgsbase, 16)
PROBE_CR4(smep, 20)	/* the guest's pages are supervisor pages */

struct feature {
	__u32 leaf, reg, bit;
	const char *name;
	int (*probe)(void);	/* NULL: nothing to execute, see @why */
	const char *why;
};

#define F(l, r, b, n)		{ l, r, b, #n, probe_##n, NULL }
#define INFO(l, r, b, n, w)	{ l, r, b, #n, NULL, w }

static const struct feature features[] = {
	F(1, EDX, 0, fpu), F(1, EDX, 1, vme), F(1, EDX, 2, de),
	F(1, EDX, 3, pse), F(1, EDX, 4, tsc), F(1, EDX, 5, msr),
	INFO(1, EDX, 6, pae, "the guest runs with paging in long mode"),
	F(1, EDX, 8, cx8), F(1, EDX, 11, sep), F(1, EDX, 13, pge),
	F(1, EDX, 15, cmov), F(1, EDX, 16, pat),
	INFO(1, EDX, 17, pse36, "a page-table format, used by the MMU only"),
	F(1, EDX, 19, clflush), F(1, EDX, 23, mmx), F(1, EDX, 24, fxsr),
	F(1, EDX, 25, sse), F(1, EDX, 26, sse2),
	INFO(1, EDX, 27, ss, "self-snoop: a cache property"),
	INFO(1, EDX, 28, htt, "topology information in EBX"),
	F(1, ECX, 0, sse3), F(1, ECX, 1, pclmulqdq), F(1, ECX, 9, ssse3),
	F(1, ECX, 12, fma), F(1, ECX, 13, cx16), F(1, ECX, 19, sse41),
	F(1, ECX, 20, sse42), F(1, ECX, 22, movbe), F(1, ECX, 23, popcnt),
	F(1, ECX, 25, aes), F(1, ECX, 26, xsave),
	INFO(1, ECX, 27, osxsave, "mirrors CR4.OSXSAVE (guest_xsave_test)"),
	F(1, ECX, 28, avx), F(1, ECX, 29, f16c), F(1, ECX, 30, rdrand),
	INFO(1, ECX, 31, hypervisor, "says the guest runs under a hypervisor"),
	F(7, EBX, 0, fsgsbase), F(7, EBX, 3, bmi1), F(7, EBX, 4, hle),
	F(7, EBX, 5, avx2),
	INFO(7, EBX, 6, fdp_excptn_only, "a property of the x87 FDP"),
	F(7, EBX, 7, smep),
	F(7, EBX, 8, bmi2), F(7, EBX, 9, erms), F(7, EBX, 11, rtm),
	INFO(7, EBX, 13, fpu_csds, "the x87 CS/DS are deprecated"),
	F(7, EBX, 16, avx512f), F(7, EBX, 17, avx512dq), F(7, EBX, 18, rdseed),
	F(7, EBX, 19, adx), F(7, EBX, 20, smap), F(7, EBX, 21, avx512ifma),
	F(7, EBX, 23, clflushopt), F(7, EBX, 24, clwb),
	INFO(7, EBX, 26, avx512pf, "Xeon Phi prefetches: no such CPU model"),
	INFO(7, EBX, 27, avx512er, "Xeon Phi only: no such CPU model"),
	F(7, EBX, 28, avx512cd), F(7, EBX, 29, sha), F(7, EBX, 30, avx512bw),
	F(7, EBX, 31, avx512vl),
	F(7, ECX, 0, prefetchwt1), F(7, ECX, 1, avx512vbmi), F(7, ECX, 2, umip),
	F(7, ECX, 8, gfni), F(7, ECX, 9, vaes), F(7, ECX, 10, vpclmulqdq),
	F(7, ECX, 11, avx512vnni), F(7, ECX, 12, avx512bitalg),
	F(7, ECX, 14, avx512vpopcntdq), F(7, ECX, 6, avx512vbmi2),
	F(7, ECX, 27, movdiri), F(7, ECX, 28, movdir64b),
	INFO(7, EDX, 2, avx512_4vnniw, "Xeon Phi only: no such CPU model"),
	INFO(7, EDX, 3, avx512_4fmaps, "Xeon Phi only: no such CPU model"),
	INFO(7, EDX, 4, fsrm, "fast short REP MOV: a performance property"),
	INFO(7, EDX, 10, md_clear, "VERW clears buffers: always executable"),
	F(7, EDX, 14, serialize),
	F(0x80000001, ECX, 0, lahf), F(0x80000001, ECX, 5, lzcnt),
	F(0x80000001, ECX, 8, prefetchw),
	INFO(0x80000001, EDX, 11, syscall, "a CPL3 round trip: guest_msr_test"),
	F(0x80000001, EDX, 20, nx),
	INFO(0x80000001, EDX, 26, pdpe1gb, "a page size, used by the MMU only"),
	INFO(0x80000001, EDX, 29, lm, "the guest runs in long mode"),
};

#define NR_FEATURES	VMXLAB_ARRAY_SIZE(features)

/* Filled in by the guest. */
static __u32 guest_leaves[3][4];
static int probe_vector[NR_FEATURES];

static const __u32 probed_leaves[3] = { 1, 7, 0x80000001 };

static int leaf_slot(__u32 leaf)
{
	return leaf == 1 ? 0 : leaf == 7 ? 1 : 2;
}

static void guest_probe_features(void)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		guest_cpuid(probed_leaves[i], 0, guest_leaves[i]);
	for (i = 0; i < NR_FEATURES; i++) {
		const struct feature *f = &features[i];

		probe_vector[i] = GUEST_NO_EXCEPTION;
		if (f->probe &&
		    guest_leaves[leaf_slot(f->leaf)][f->reg] & (1U << f->bit))
			probe_vector[i] = f->probe();
	}
	GUEST_DONE();
}

TEST(advertised_features_work)
{
	struct ucall uc;
	struct vcpu *vcpu;
	unsigned int i, s, r, b;
	struct vm *vm;

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_probe_features);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	vm_sync_from_guest(vm, guest_leaves, sizeof(guest_leaves));
	vm_sync_from_guest(vm, probe_vector, sizeof(probe_vector));

	for (i = 0; i < NR_FEATURES; i++) {
		const struct feature *f = &features[i];

		if (!(guest_leaves[leaf_slot(f->leaf)][f->reg] & (1U << f->bit)))
			continue;
		TH_LOG("leaf %#x reg %u bit %2u %-16s %s", f->leaf, f->reg, f->bit,
		       f->name, f->probe ? "probed" : f->why);
		EXPECT_EQ(GUEST_NO_EXCEPTION, probe_vector[i])
			TH_LOG("%s is advertised but raised vector %d", f->name,
			       probe_vector[i]);
	}
	/* Every advertised bit of these leaves is in the table. */
	for (s = 0; s < 3; s++) {
		for (r = s == 1 ? EBX : ECX; r <= EDX; r++) {
			for (b = 0; b < 32; b++) {
				bool known = false;

				if (!(guest_leaves[s][r] & (1U << b)))
					continue;
				for (i = 0; i < NR_FEATURES && !known; i++)
					known = features[i].leaf == probed_leaves[s] &&
						features[i].reg == r &&
						features[i].bit == b;
				EXPECT_TRUE(known)
					TH_LOG("leaf %#x reg %u bit %u is advertised and untested",
					       probed_leaves[s], r, b);
			}
		}
	}
	vm_free(vm);
}

/*
 * VMXLAB_GET_SUPPORTED_CPUID (api.rst): the table a vCPU gets without
 * SET_CPUID.  Given back with SET_CPUID, the guest must see exactly what
 * a vCPU with the default table sees, leaf by leaf and subleaf by
 * subleaf; a leaf the table lacks would read as zeros.
 */
#define MAX_ENTRIES	256

static struct vmxlab_cpuid_entry guest_probe[MAX_ENTRIES];
static __u32 guest_nprobe;

static void guest_read_leaves(void)
{
	__u32 i, out[4];

	for (i = 0; i < guest_nprobe; i++) {
		guest_cpuid(guest_probe[i].function, guest_probe[i].index, out);
		guest_probe[i].eax = out[EAX];
		guest_probe[i].ebx = out[EBX];
		guest_probe[i].ecx = out[ECX];
		guest_probe[i].edx = out[EDX];
	}
	GUEST_DONE();
}

/* Run guest_read_leaves() over @n leaves; the answers in @seen. */
static void read_leaves(struct __test_metadata *_metadata,
			const struct vmxlab_cpuid_entry *table, __u32 n,
			bool set_table, struct vmxlab_cpuid_entry *seen)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm = vm_create();

	memcpy(guest_probe, table, n * sizeof(*table));
	guest_nprobe = n;
	vm_sync_to_guest(vm, guest_probe, sizeof(guest_probe));
	vm_sync_to_guest(vm, &guest_nprobe, sizeof(guest_nprobe));
	vcpu = vm_vcpu_add(vm, 0, guest_read_leaves);
	if (set_table)
		ASSERT_EQ(0, vcpu_set_cpuid(vcpu, table, n));
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(vcpu, &uc));
	vm_sync_from_guest(vm, guest_probe, sizeof(guest_probe));
	memcpy(seen, guest_probe, n * sizeof(*seen));
	vm_free(vm);
}

static bool has_entry(const struct vmxlab_cpuid_entry *e, __u32 n,
		      __u32 function, __u32 index)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (e[i].function == function && e[i].index == index)
			return true;
	return false;
}

TEST(supported_cpuid_is_the_default_table)
{
	static struct vmxlab_cpuid_entry with_table[MAX_ENTRIES];
	static struct vmxlab_cpuid_entry without[MAX_ENTRIES];
	struct vmxlab_cpuid *c;
	__u32 i, n;
	int sys;

	vmxlab_require_module();
	sys = open("/dev/vmxlab", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, sys);
	c = calloc(1, sizeof(*c) + MAX_ENTRIES * sizeof(c->entries[0]));
	ASSERT_NE(NULL, c);

	/* Too little room: E2BIG, and nent says how much is needed. */
	c->nent = 1;
	EXPECT_EQ(-1, ioctl(sys, VMXLAB_GET_SUPPORTED_CPUID, c));
	EXPECT_EQ(E2BIG, errno);
	n = c->nent;
	ASSERT_LT(1U, n);
	ASSERT_GE(MAX_ENTRIES, n);
	c->nent = MAX_ENTRIES;
	ASSERT_EQ(0, ioctl(sys, VMXLAB_GET_SUPPORTED_CPUID, c));
	EXPECT_EQ(n, c->nent);
	close(sys);

	/* The leaves every x86-64 guest needs, subleaves where they count. */
	EXPECT_TRUE(has_entry(c->entries, n, 0, 0));
	EXPECT_TRUE(has_entry(c->entries, n, 1, 0));
	EXPECT_TRUE(has_entry(c->entries, n, 7, 0));
	EXPECT_TRUE(has_entry(c->entries, n, 0x40000000, 0));
	EXPECT_TRUE(has_entry(c->entries, n, 0x80000000, 0));
	EXPECT_TRUE(has_entry(c->entries, n, 0x80000001, 0));
	for (i = 0; i < n; i++) {
		const struct vmxlab_cpuid_entry *e = &c->entries[i];
		bool indexed = e->function == 4 || e->function == 7 ||
			       e->function == 0xb || e->function == 0xd ||
			       e->function == 0x1f;

		EXPECT_EQ(indexed ? VMXLAB_CPUID_FLAG_INDEXED : 0U, e->flags)
			TH_LOG("leaf %#x.%u", e->function, e->index);
		EXPECT_EQ(0U, e->padding);
		/* No hypervisor bit hidden, no OSXSAVE or APIC id of a vCPU. */
		if (e->function == 1) {
			EXPECT_NE(0U, e->ecx & (1U << 31));
			EXPECT_EQ(0U, e->ecx & (1U << 27));
			EXPECT_EQ(0U, e->ebx >> 24);
		}
	}
	if (has_entry(c->entries, n, 0xd, 0))
		EXPECT_TRUE(has_entry(c->entries, n, 0xd, 1));

	read_leaves(_metadata, c->entries, n, true, with_table);
	read_leaves(_metadata, c->entries, n, false, without);
	for (i = 0; i < n; i++) {
		const struct vmxlab_cpuid_entry *a = &with_table[i];
		const struct vmxlab_cpuid_entry *b = &without[i];
		/* The default table's x2APIC id is the host CPU's. */
		__u32 edx_mask = (a->function == 0xb || a->function == 0x1f) ?
				 0 : ~0U;

		EXPECT_EQ(b->eax, a->eax) TH_LOG("leaf %#x.%u", a->function, a->index);
		EXPECT_EQ(b->ebx, a->ebx) TH_LOG("leaf %#x.%u", a->function, a->index);
		EXPECT_EQ(b->ecx, a->ecx) TH_LOG("leaf %#x.%u", a->function, a->index);
		EXPECT_EQ(b->edx & edx_mask, a->edx & edx_mask)
			TH_LOG("leaf %#x.%u", a->function, a->index);
	}
	free(c);
}

TEST_HARNESS_MAIN
