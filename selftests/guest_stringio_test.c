// SPDX-License-Identifier: GPL-2.0
/*
 * String I/O (INS, OUTS) by address size and direction.  The count comes
 * from CX, ECX or RCX and the index from SI/DI, ESI/EDI or RSI/RDI as the
 * instruction's address size says (the code segment's, or the other one
 * with a 0x67 prefix), and both move and wrap in that width; with DF = 1
 * the index moves down (SDM Vol. 2B, INS/OUTS and REP).  Expected values
 * are worked out from those rules, case by case, in the comments.
 */
#include "vmxlab_lib.h"
#include "vmxlab_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		120
#define PORT_IN			0x66
#define PORT_OUT		0x67

FIXTURE(sio) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(sio)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(sio)
{
	if (self->vm)
		vm_free(self->vm);
}

/*
 * Run to the next exit, which must be string I/O of @count @size-byte
 * elements in direction @dir on @port; an IN gets @data.
 */
static void expect_string_io(struct __test_metadata *_metadata,
			     struct vcpu *vcpu, __u8 dir, __u16 port,
			     __u32 count, const char *data, char *out)
{
	struct vmxlab_run *run = vcpu->run;
	char buf[256];

	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_IO, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	ASSERT_EQ(dir, run->io.direction);
	ASSERT_EQ(port, run->io.port);
	ASSERT_EQ(1, run->io.size);
	ASSERT_EQ(count, run->io.count) TH_LOG("elements in this exit");
	if (dir == VMXLAB_EXIT_IO_IN)
		memcpy(vcpu_io_data(vcpu), data, count);
	else
		memcpy(out, vcpu_io_data(vcpu), count);
}

/* --- long mode: 64- and 32-bit addresses, both directions ----------------- */

static char sio_buf[64];
static const char sio_src[] = "vmxlab";

static void guest_long_mode_sio(void)
{
	__u64 rdi, rsi, rcx;

	/* 64-bit address: RCX = 3 elements to RDI. */
	rdi = (__u64)sio_buf;
	rcx = 3;
	asm volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT_IN) : "memory");
	GUEST_SYNC(1, rdi, rcx);

	/*
	 * 0x67: a 32-bit address.  ECX = 3 counts (RCX's upper half does
	 * not); EDI addresses; both are written as 32-bit registers, which
	 * clears their upper halves.
	 */
	rdi = 0xbeef000000000000ULL | (__u64)(sio_buf + 8);
	rcx = 0xdead000000000003ULL;
	asm volatile("addr32 rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT_IN)
		     : "memory");
	GUEST_SYNC(2, rdi, rcx);

	/* DF = 1: three elements to RDI, RDI - 1, RDI - 2. */
	rdi = (__u64)(sio_buf + 18);
	rcx = 3;
	asm volatile("std\n\trep insb\n\tcld" : "+D"(rdi), "+c"(rcx)
		     : "d"(PORT_IN) : "memory");
	GUEST_SYNC(3, rdi, rcx);

	/* OUTS with a 32-bit address: 4 bytes from ESI. */
	rsi = 0xffff000000000000ULL | (__u64)sio_src;
	rcx = 0x1234567800000004ULL;
	asm volatile("addr32 rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(PORT_OUT)
		     : "memory");
	GUEST_SYNC(4, rsi, rcx);
	GUEST_DONE();
}

static void expect_sync(struct __test_metadata *_metadata, struct vcpu *vcpu,
			struct ucall *uc, __u64 stage, __u64 index, __u64 rcx)
{
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(vcpu, uc));
	ASSERT_EQ(stage, uc->args[0]);
	EXPECT_EQ(index, uc->args[1]) TH_LOG("stage %llu: index register",
					     (unsigned long long)stage);
	EXPECT_EQ(rcx, uc->args[2]) TH_LOG("stage %llu: RCX",
					   (unsigned long long)stage);
}

TEST_F_TIMEOUT(sio, long_mode_address_sizes_and_direction, TIMEOUT_S)
{
	char out[8] = "", *buf;
	__u64 base = (__u64)sio_buf;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_long_mode_sio);
	buf = addr_gva2hva(self->vm, sio_buf);

	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN, PORT_IN, 3,
			 "abc", NULL);
	expect_sync(_metadata, self->vcpu, &self->uc, 1, base + 3, 0);
	EXPECT_EQ(0, memcmp(buf, "abc", 3));

	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN, PORT_IN, 3,
			 "def", NULL);
	expect_sync(_metadata, self->vcpu, &self->uc, 2, base + 8 + 3, 0);
	EXPECT_EQ(0, memcmp(buf + 8, "def", 3));

	/* Backwards: one element per exit, stored downwards. */
	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN, PORT_IN, 1,
			 "x", NULL);
	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN, PORT_IN, 1,
			 "y", NULL);
	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN, PORT_IN, 1,
			 "z", NULL);
	expect_sync(_metadata, self->vcpu, &self->uc, 3, base + 18 - 3, 0);
	EXPECT_EQ(0, memcmp(buf + 16, "zyx", 3));

	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_OUT, PORT_OUT, 4,
			 NULL, out);
	EXPECT_EQ(0, memcmp(out, "vmxl", 4));
	expect_sync(_metadata, self->vcpu, &self->uc, 4, (__u64)sio_src + 4, 0);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

/* --- REP larger than the run page's data area ------------------------------ */

/*
 * The run page carries VMXLAB_RUN_IO_DATA_SIZE (2048) bytes of string
 * I/O data, so a REP INSW of 2500 words (5000 bytes) must reach userspace
 * as 1024 + 1024 + 452 words, each chunk written into guest memory where
 * the CPU would have put it (the buffer crosses pages), with RDI and RCX
 * moved by what was done.  REP OUTSL of 1300 dwords: 512 + 512 + 276.
 */
#define BIG_INS_WORDS		2500
#define BIG_OUTS_DWORDS		1300

static __u16 big_in[BIG_INS_WORDS];
static __u32 big_out[BIG_OUTS_DWORDS];

static __u16 big_in_word(unsigned int i)
{
	return (__u16)(i * 7 + 0x1234);
}

static void guest_big_sio(void)
{
	__u64 rdi = (__u64)big_in, rsi = (__u64)big_out, rcx;
	unsigned int i;

	rcx = BIG_INS_WORDS;
	asm volatile("rep insw" : "+D"(rdi), "+c"(rcx) : "d"(PORT_IN)
		     : "memory");
	GUEST_SYNC(1, rdi, rcx);
	for (i = 0; i < BIG_INS_WORDS; i++)
		GUEST_ASSERT_EQ(big_in[i], big_in_word(i));

	for (i = 0; i < BIG_OUTS_DWORDS; i++)
		big_out[i] = i ^ 0xa5a50000;
	rcx = BIG_OUTS_DWORDS;
	asm volatile("rep outsl" : "+S"(rsi), "+c"(rcx) : "d"(PORT_OUT)
		     : "memory");
	GUEST_SYNC(2, rsi, rcx);
	GUEST_DONE();
}

/* Run to the next exit: string I/O of @count @size-byte elements. */
static void *expect_big_chunk(struct __test_metadata *_metadata,
			      struct vcpu *vcpu, __u8 dir, __u16 port,
			      __u8 size, __u32 count)
{
	struct vmxlab_run *run = vcpu->run;
	char buf[256];

	vcpu_run(vcpu);
	ASSERT_EQ(VMXLAB_EXIT_IO, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(dir, run->io.direction);
	EXPECT_EQ(port, run->io.port);
	EXPECT_EQ(size, run->io.size);
	EXPECT_EQ(count, run->io.count) TH_LOG("elements in this exit");
	return vcpu_io_data(vcpu);
}

TEST_F_TIMEOUT(sio, rep_larger_than_the_data_area, TIMEOUT_S)
{
	static const __u32 in_chunks[] = { 1024, 1024, 452 };
	static const __u32 out_chunks[] = { 512, 512, 276 };
	unsigned int c, i, done = 0;
	__u16 *in, *guest_in;
	__u32 *out;

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_big_sio);
	guest_in = addr_gva2hva(self->vm, big_in);

	for (c = 0; c < VMXLAB_ARRAY_SIZE(in_chunks); c++) {
		in = expect_big_chunk(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN,
				      PORT_IN, 2, in_chunks[c]);
		for (i = 0; i < in_chunks[c]; i++)
			in[i] = big_in_word(done + i);
		done += in_chunks[c];
	}
	expect_sync(_metadata, self->vcpu, &self->uc, 1,
		    (__u64)big_in + 2 * BIG_INS_WORDS, 0);
	for (i = 0; i < BIG_INS_WORDS && guest_in[i] == big_in_word(i); i++)
		;
	ASSERT_EQ(BIG_INS_WORDS, i) TH_LOG("first wrong word in memory");

	done = 0;
	for (c = 0; c < VMXLAB_ARRAY_SIZE(out_chunks); c++) {
		out = expect_big_chunk(_metadata, self->vcpu, VMXLAB_EXIT_IO_OUT,
				       PORT_OUT, 4, out_chunks[c]);
		for (i = 0; i < out_chunks[c]; i++)
			if (out[i] != ((done + i) ^ 0xa5a50000))
				break;
		ASSERT_EQ(out_chunks[c], i) TH_LOG("chunk %u: first wrong dword", c);
		done += out_chunks[c];
	}
	expect_sync(_metadata, self->vcpu, &self->uc, 2,
		    (__u64)big_out + 4 * BIG_OUTS_DWORDS, 0);
	ASSERT_EQ(UCALL_DONE, vcpu_run_to_ucall(self->vcpu, &self->uc));
}

/* --- real mode: 16-bit addresses that wrap --------------------------------- */

/*
 * ECX = 0x10002: CX = 2 elements.  EDI = 0x5a5affff: DI = 0xffff, so the
 * first element goes to ES:0xffff, DI wraps, the second to ES:0x0000;
 * then CX = 0 with ECX's upper half kept (0x10000) and EDI = 0x5a5a0001.
 */
GUEST_CODE_BLOB(rm_sio_code, 16,
		"	xor %ax, %ax\n"
		"	mov %ax, %es\n"
		"	mov $0x10002, %ecx\n"
		"	mov $0x5a5affff, %edi\n"
		"	mov $" VMXLAB_STR(PORT_IN) ", %dx\n"
		"	rep insb\n"
		"	hlt\n");

TEST_F_TIMEOUT(sio, real_mode_cx_and_di_wrap, TIMEOUT_S)
{
	struct vmxlab_regs regs;
	char *low;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	low = vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, rm_sio_code, rm_sio_code_end);
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_real_mode(self->vcpu, LOW_CODE_GPA);

	/* Only up to the wrap in one exit, then the rest. */
	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN, PORT_IN, 1,
			 "P", NULL);
	expect_string_io(_metadata, self->vcpu, VMXLAB_EXIT_IO_IN, PORT_IN, 1,
			 "Q", NULL);
	vcpu_run_expect_hlt(self->vcpu);
	EXPECT_EQ('P', low[0xffff]);
	EXPECT_EQ('Q', low[0]);
	vcpu_regs_get(self->vcpu, &regs);
	EXPECT_EQ(0x10000, regs.rcx);
	EXPECT_EQ(0x5a5a0001, regs.rdi);
}

/* --- REP with a zero count by the address size ----------------------------- */

/* CX = 0 although ECX is not: nothing moves, no exit, on to HLT. */
GUEST_CODE_BLOB(rm_sio_zero_code, 16,
		"	mov $0x30000, %ecx\n"
		"	mov $" VMXLAB_STR(PORT_IN) ", %dx\n"
		"	rep insb\n"
		"	hlt\n");

TEST_F_TIMEOUT(sio, real_mode_zero_cx_moves_nothing, TIMEOUT_S)
{
	struct vmxlab_regs regs;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, rm_sio_zero_code, rm_sio_zero_code_end);
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_real_mode(self->vcpu, LOW_CODE_GPA);
	vcpu_run_expect_hlt(self->vcpu);
	vcpu_regs_get(self->vcpu, &regs);
	EXPECT_EQ(0x30000, regs.rcx);
}

FIXTURE(last) {
	int unused;
};

FIXTURE_SETUP(last)
{
}

FIXTURE_TEARDOWN(last)
{
}

TEST_F_TIMEOUT(last, module_refcount_zero, TIMEOUT_S)
{
	int refs = vmxlab_wait_refcnt_zero(5000);

	EXPECT_EQ(0, refs) TH_LOG("vmxlab still has %d references", refs);
}

TEST_HARNESS_MAIN
