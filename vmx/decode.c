// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO decoding, on the exit path: EPT violation on unbacked memory ->
 * fetch up to 15 bytes at guest RIP -> mmio_decode() -> exit to userspace
 * with address, size, direction and data; the next run completes a load.
 *
 * Only the MOV forms compilers emit for device accesses are known (SDM Vol.
 * 2B, "MOV-Move" and "MOVZX-Move with Zero-Extend"); anything else is
 * -EOPNOTSUPP and becomes an internal-error exit carrying the bytes.  The
 * exit already gives the guest-physical address, so ModR/M, SIB and
 * displacement are measured for the length, never evaluated.
 *
 * Prefixes (SDM Vol. 2A, 2.1.1 and 2.2.1): 66, 67, the six segment
 * overrides (counted, otherwise ignored) and, in 64-bit mode, REX.  LOCK
 * is refused: a LOCK MOV raises #UD before touching memory, so one seen
 * here means the guest rewrote its code under us.  REP (F2, F3, also the
 * XACQUIRE/XRELEASE hints) is refused as nothing emits it on a MOV.
 *
 * Pure logic: compiled into vmxlab.ko and into the userspace unit tests.
 */
#include <linux/types.h>
#include <linux/errno.h>

#include "decode.h"

#define REX_W	0x08	/* 64-bit operand size */
#define REX_R	0x04	/* extends ModR/M.reg */

/* Where the non-memory operand of a MOV form is. */
enum mov_kind {
	NOT_DECODED,	/* not an opcode this decoder knows */
	MODRM_REG,	/* register in ModR/M.reg */
	MODRM_IMM,	/* ModR/M.reg is 0, an immediate follows */
	MOFFS_ACC,	/* AL/AX/EAX/RAX and an address-size offset, no ModR/M */
};

/* Width of the memory operand. */
enum mov_mem {
	MEM_OPSIZE,	/* the effective operand size: 2, 4 or 8 bytes */
	MEM_8,
	MEM_16,
};

struct mov_form {
	u8 kind;	/* enum mov_kind */
	u8 mem;		/* enum mov_mem */
	bool is_write;
	bool zero_extend;
};

/* SDM Vol. 2B, MOV: 88 /r, 89 /r, 8A /r, 8B /r, A0-A3, C6 /0, C7 /0. */
static const struct mov_form one_byte_forms[256] = {
	[0x88] = { .kind = MODRM_REG, .mem = MEM_8,      .is_write = true },
	[0x89] = { .kind = MODRM_REG, .mem = MEM_OPSIZE, .is_write = true },
	[0x8a] = { .kind = MODRM_REG, .mem = MEM_8 },
	[0x8b] = { .kind = MODRM_REG, .mem = MEM_OPSIZE },
	[0xa0] = { .kind = MOFFS_ACC, .mem = MEM_8 },
	[0xa1] = { .kind = MOFFS_ACC, .mem = MEM_OPSIZE },
	[0xa2] = { .kind = MOFFS_ACC, .mem = MEM_8,      .is_write = true },
	[0xa3] = { .kind = MOFFS_ACC, .mem = MEM_OPSIZE, .is_write = true },
	[0xc6] = { .kind = MODRM_IMM, .mem = MEM_8,      .is_write = true },
	[0xc7] = { .kind = MODRM_IMM, .mem = MEM_OPSIZE, .is_write = true },
};

/* SDM Vol. 2B, MOVZX: 0F B6 /r, 0F B7 /r. */
static const struct mov_form two_byte_forms[256] = {
	[0xb6] = { .kind = MODRM_REG, .mem = MEM_8,  .zero_extend = true },
	[0xb7] = { .kind = MODRM_REG, .mem = MEM_16, .zero_extend = true },
};

/*
 * Effective sizes in bytes for each code-segment default: 66 toggles the
 * operand size, 67 the address size, REX.W overrides 66 (SDM Vol. 1, 3.6,
 * Tables 3-3 and 3-4).
 */
static const struct mode_sizes {
	unsigned int cpu_mode;
	u8 op, op66, addr, addr67;
} mode_sizes[] = {
	{ .cpu_mode = 16, .op = 2, .op66 = 4, .addr = 2, .addr67 = 4 },
	{ .cpu_mode = 32, .op = 4, .op66 = 2, .addr = 4, .addr67 = 2 },
	{ .cpu_mode = 64, .op = 4, .op66 = 2, .addr = 8, .addr67 = 4 },
	{ }
};

struct decoder {
	const u8 *bytes;
	unsigned int avail;		/* bytes the caller fetched */
	unsigned int pos;		/* next byte to read */
	const struct mode_sizes *mode;
	bool opsize_prefix, addrsize_prefix;
	u8 rex;				/* 0, or REX right before the opcode */
	u8 opsize, addrsize;		/* effective, in bytes */
};

/*
 * Consume @n bytes, little-endian, into @value.  Going past 15 bytes means
 * no legal instruction; past @avail, that the caller fetched too few.
 */
static int take(struct decoder *d, unsigned int n, u64 *value)
{
	unsigned int i;

	if (d->pos + n > MMIO_INSN_MAX_LEN)
		return -EOPNOTSUPP;
	if (d->pos + n > d->avail)
		return -EINVAL;
	*value = 0;
	for (i = 0; i < n; i++)
		*value |= (u64)d->bytes[d->pos + i] << (8 * i);
	d->pos += n;
	return 0;
}

static int skip(struct decoder *d, unsigned int n)
{
	u64 unused;

	return take(d, n, &unused);
}

static int take_byte(struct decoder *d, u8 *byte)
{
	u64 v;
	int ret = take(d, 1, &v);

	if (!ret)
		*byte = v;
	return ret;
}

/*
 * Legacy prefixes in any order, then in 64-bit mode REX, which counts
 * only right before the opcode (SDM Vol. 2A, 2.2.1): one followed by a
 * legacy prefix is ignored, and of several the last wins.
 */
static int decode_prefixes(struct decoder *d, u8 *opcode)
{
	u8 b;
	int ret;

	for (;;) {
		ret = take_byte(d, &b);
		if (ret)
			return ret;
		switch (b) {
		case 0x66:
			d->opsize_prefix = true;
			break;
		case 0x67:
			d->addrsize_prefix = true;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
			break;
		case 0xf0: case 0xf2: case 0xf3:
			return -EOPNOTSUPP;
		default:
			if (d->mode->cpu_mode == 64 && (b & 0xf0) == 0x40) {
				d->rex = b;
				continue;
			}
			*opcode = b;
			return 0;
		}
		d->rex = 0;
	}
}

static void set_sizes(struct decoder *d)
{
	const struct mode_sizes *m = d->mode;

	if (d->rex & REX_W)
		d->opsize = 8;
	else
		d->opsize = d->opsize_prefix ? m->op66 : m->op;
	d->addrsize = d->addrsize_prefix ? m->addr67 : m->addr;
}

/*
 * Measure a memory operand: ModR/M, SIB if any, displacement.  Returns
 * ModR/M.reg in @reg_field.  16-bit addressing has no SIB and its own
 * table; in 32/64-bit addressing r/m 100 brings a SIB whose base field
 * takes r/m's place.  Mod 00 with base 101 (110 in 16-bit addressing)
 * means a full displacement and no base: RIP-relative when it is r/m in
 * 64-bit mode.  REX.B changes neither case (SDM Vol. 2A, Tables 2-1 to
 * 2-3 and 2-5, and 2.2.1.6).
 */
static int skip_memory_operand(struct decoder *d, u8 *reg_field)
{
	static const u8 disp_bytes[2][3] = {	/* by mod 00, 01, 10 */
		{ 0, 1, 4 },			/* 32- and 64-bit addressing */
		{ 0, 1, 2 },			/* 16-bit addressing */
	};
	bool addr16 = d->addrsize == 2;
	u8 modrm, mod, base, sib;
	int ret;

	ret = take_byte(d, &modrm);
	if (ret)
		return ret;
	mod = modrm >> 6;
	base = modrm & 7;
	*reg_field = (modrm >> 3) & 7;
	/* A register operand cannot cause an EPT violation. */
	if (mod == 3)
		return -EOPNOTSUPP;

	if (!addr16 && base == 4) {
		ret = take_byte(d, &sib);
		if (ret)
			return ret;
		base = sib & 7;
	}
	if (mod == 0 && base == (addr16 ? 6 : 5))
		mod = 2;
	return skip(d, disp_bytes[addr16][mod]);
}

/*
 * 88-8B, 0F B6, 0F B7.  Without REX, byte registers 4-7 are AH, CH, DH
 * and BH; with any REX they are SPL, BPL, SIL and DIL (SDM Vol. 2A,
 * 2.2.1.2 and Table 3-1).
 */
static int decode_reg_operand(struct decoder *d, struct mmio_insn *insn)
{
	unsigned int reg_size = insn->is_write ? insn->size : insn->ext_size;
	u8 reg;
	int ret;

	ret = skip_memory_operand(d, &reg);
	if (ret)
		return ret;
	insn->operand = MMIO_OPERAND_REG;
	insn->reg = reg | (d->rex & REX_R ? 8 : 0);
	if (reg_size == 1 && !d->rex && insn->reg >= 4) {
		insn->high_byte = true;
		insn->reg -= 4;
	}
	return 0;
}

/* C6 /0 ib, C7 /0 iw or id; with REX.W, id is sign-extended to 64 bits. */
static int decode_imm_operand(struct decoder *d, struct mmio_insn *insn)
{
	u8 reg_field;
	u64 imm;
	int ret;

	ret = skip_memory_operand(d, &reg_field);
	if (ret)
		return ret;
	if (reg_field != 0)
		return -EOPNOTSUPP;
	ret = take(d, insn->size == 8 ? 4 : insn->size, &imm);
	if (ret)
		return ret;
	if (insn->size == 8)
		imm = (u64)(s64)(s32)imm;
	insn->operand = MMIO_OPERAND_IMM;
	insn->imm = imm;
	return 0;
}

/* A0-A3: the accumulator and an offset as wide as the address size. */
static int decode_moffs_operand(struct decoder *d, struct mmio_insn *insn)
{
	insn->operand = MMIO_OPERAND_REG;
	insn->reg = 0;
	return skip(d, d->addrsize);
}

static int decode_operands(struct decoder *d, const struct mov_form *form,
			   struct mmio_insn *insn)
{
	switch (form->kind) {
	case MODRM_REG:
		return decode_reg_operand(d, insn);
	case MODRM_IMM:
		return decode_imm_operand(d, insn);
	case MOFFS_ACC:
		return decode_moffs_operand(d, insn);
	default:
		return -EOPNOTSUPP;
	}
}

static bool set_mode(struct decoder *d, unsigned int cpu_mode)
{
	const struct mode_sizes *m;

	for (m = mode_sizes; m->cpu_mode; m++) {
		if (m->cpu_mode == cpu_mode) {
			d->mode = m;
			return true;
		}
	}
	return false;
}

/* The opcode, through the 0F escape to MOVZX if it is there. */
static int find_form(struct decoder *d, const struct mov_form **form)
{
	const struct mov_form *table = one_byte_forms;
	u8 opcode;
	int ret;

	ret = decode_prefixes(d, &opcode);
	if (!ret && opcode == 0x0f) {
		table = two_byte_forms;
		ret = take_byte(d, &opcode);
	}
	if (ret)
		return ret;
	*form = &table[opcode];
	return (*form)->kind == NOT_DECODED ? -EOPNOTSUPP : 0;
}

/*
 * The form nearly every device access takes: MOV 88-8B with no prefix,
 * in 32- or 64-bit code, ModR/M naming a base register with no SIB, and
 * no displacement or an 8- or 32-bit one (SDM Vol. 2A, Table 2-2).  The
 * operand size is then 4 bytes (1 for 88 and 8A) and the register needs
 * no REX.  Decoded here in a few steps; anything else, or too few bytes,
 * goes through the full decoder below, which gives the same answer for
 * these forms, only slower.
 *
 * Return: true with @out filled, false to take the full decoder.
 */
static bool decode_plain_mov(const u8 *bytes, unsigned int avail,
			     unsigned int cpu_mode, struct mmio_insn *out)
{
	static const u8 disp_bytes[3] = { 0, 1, 4 };	/* by mod 00-10 */
	u8 opcode, modrm, mod, rm, reg;

	if (avail < 2 || (cpu_mode != 32 && cpu_mode != 64))
		return false;
	opcode = bytes[0];
	modrm = bytes[1];
	mod = modrm >> 6;
	rm = modrm & 7;
	if ((opcode & 0xfc) != 0x88 || mod == 3 || rm == 4 ||
	    (mod == 0 && rm == 5) || 2U + disp_bytes[mod] > avail)
		return false;
	reg = (modrm >> 3) & 7;
	*out = (struct mmio_insn) {
		.len = 2 + disp_bytes[mod],
		.is_write = !(opcode & 2),
		.size = opcode & 1 ? 4 : 1,
		.operand = MMIO_OPERAND_REG,
		.reg = reg,
	};
	if (!out->is_write)
		out->ext_size = out->size;
	/* Byte registers 4-7 without REX are AH, CH, DH and BH. */
	if (out->size == 1 && reg >= 4) {
		out->high_byte = true;
		out->reg = reg - 4;
	}
	return true;
}

/* T:180 Decoding the instruction
 * Only the instructions compilers emit to touch device registers are
 * decoded: the forms of MOV and MOVZX, with their prefixes and ModR/M
 * addressing (SDM Vol. 2A, chapter 2).  What matters is the size of
 * the access, its direction, the register and the instruction's length,
 * which the EPT-violation exit does not report.  Anything else is refused
 * rather than guessed, and becomes an internal-error exit.  The plain
 * register MOV that nearly every driver uses is recognised first, in a
 * few steps (decode_plain_mov()).  Like the page walker, this is a pure
 * function tested in userspace.
 */
/**
 * mmio_decode() - decode the instruction that touched MMIO
 * @bytes: instruction bytes fetched at guest RIP
 * @avail: how many of @bytes are valid; more than 15 are never read
 * @cpu_mode: 64 in 64-bit mode (CS.L=1), else the code segment's default
 *	operand size, 16 or 32 (CS.D), compatibility mode included
 * @out: filled with the decoded instruction on success, untouched on error
 *
 * Return: 0; -EOPNOTSUPP for an instruction this decoder does not know,
 * including one longer than 15 bytes or one with a register operand
 * instead of memory; -EINVAL if @avail bytes end mid-instruction or
 * @cpu_mode is not 16, 32 or 64.
 */
int mmio_decode(const u8 *bytes, unsigned int avail, unsigned int cpu_mode,
		struct mmio_insn *out)
{
	static const u8 mem_size[] = { [MEM_8] = 1, [MEM_16] = 2 };
	struct decoder d = { .bytes = bytes, .avail = avail };
	struct mmio_insn insn = {};
	const struct mov_form *form;
	int ret;

	if (decode_plain_mov(bytes, avail, cpu_mode, out))
		return 0;
	if (!set_mode(&d, cpu_mode))
		return -EINVAL;
	ret = find_form(&d, &form);
	if (ret)
		return ret;

	set_sizes(&d);
	insn.is_write = form->is_write;
	insn.size = form->mem == MEM_OPSIZE ? d.opsize : mem_size[form->mem];
	insn.zero_extend = form->zero_extend;
	if (!insn.is_write)
		insn.ext_size = form->zero_extend ? d.opsize : insn.size;
	ret = decode_operands(&d, form, &insn);
	if (ret)
		return ret;
	insn.len = d.pos;
	*out = insn;
	return 0;
}

static u64 low_bytes(u64 value, unsigned int size)
{
	return size >= 8 ? value : value & ((1ULL << (8 * size)) - 1);
}

/**
 * mmio_store_data() - the data a decoded store writes
 * @insn: a store decoded by mmio_decode()
 * @reg_value: the value of register @insn->reg; unused for an immediate
 *
 * Return: the data, in the low @insn->size bytes.
 */
u64 mmio_store_data(const struct mmio_insn *insn, u64 reg_value)
{
	if (insn->operand == MMIO_OPERAND_IMM)
		return low_bytes(insn->imm, insn->size);
	if (insn->high_byte)
		reg_value >>= 8;
	return low_bytes(reg_value, insn->size);
}

/**
 * mmio_load_result() - the destination register once a load completes
 * @insn: a load decoded by mmio_decode()
 * @old_value: the value of register @insn->reg before the load
 * @data: the data read, in the low @insn->size bytes
 *
 * Writing 4 bytes of a register clears bits 63:32 (in 16- and 32-bit
 * modes they are undefined anyway); writing 1 or 2 bytes, AH-BH included,
 * keeps the other bits (SDM Vol. 1, 3.4.1.1).  MOVZX zero-extends @data
 * to the destination size first.
 *
 * Return: the register's new value.
 */
u64 mmio_load_result(const struct mmio_insn *insn, u64 old_value, u64 data)
{
	unsigned int shift = insn->high_byte ? 8 : 0;
	u64 mask;

	data = low_bytes(data, insn->size);
	if (insn->ext_size >= 4)
		return data;
	mask = low_bytes(~0ULL, insn->ext_size) << shift;
	return (old_value & ~mask) | (data << shift);
}
