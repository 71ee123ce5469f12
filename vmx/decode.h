/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMIO instruction decoding.  An EPT violation on memory no slot backs
 * fetches the bytes at guest RIP and asks mmio_decode() what they do; the
 * answer becomes a VMXLAB_EXIT_MMIO, completed on the next run.
 */
#ifndef VMXLAB_DECODE_H
#define VMXLAB_DECODE_H

#include <linux/types.h>

/* Longest legal instruction (SDM Vol. 2A, 2.3.11); longer ones #GP. */
#define MMIO_INSN_MAX_LEN	15

enum mmio_operand {
	MMIO_OPERAND_REG,	/* register @reg is the source or destination */
	MMIO_OPERAND_IMM,	/* a store of the immediate @imm */
};

/**
 * struct mmio_insn - one decoded MOV or MOVZX with a memory operand
 * @len: instruction length in bytes, prefixes to last immediate byte
 * @is_write: a store to the memory operand; otherwise a load from it
 * @size: bytes accessed in memory: 1, 2, 4 or 8
 * @operand: where a store's data comes from or a load's data goes
 * @reg: general-purpose register in hardware numbering, 0 (RAX) to 15
 *	(R15); meaningful only for %MMIO_OPERAND_REG
 * @high_byte: @reg (0-3) names AH, CH, DH or BH: bits 15:8 of RAX-RBX
 * @zero_extend: the instruction is MOVZX
 * @ext_size: register bytes a load writes: @size, or the MOVZX
 *	destination's size (2, 4 or 8); 0 for stores
 * @imm: a store's immediate, sign-extended to @size as the CPU does
 *
 * Writing a 4-byte register clears bits 63:32 of the 64-bit register,
 * while writing 1 or 2 bytes leaves the rest alone (SDM Vol. 1, 3.4.1.1);
 * mmio_load_result() applies these rules.  @reg may be 4 (RSP), which a
 * caller holding registers apart from RSP must handle.
 */
struct mmio_insn {
	u8 len;
	bool is_write;
	u8 size;
	enum mmio_operand operand;
	u8 reg;
	bool high_byte;
	bool zero_extend;
	u8 ext_size;
	u64 imm;
};

int mmio_decode(const u8 *bytes, unsigned int avail, unsigned int cpu_mode,
		struct mmio_insn *out);
u64 mmio_store_data(const struct mmio_insn *insn, u64 reg_value);
u64 mmio_load_result(const struct mmio_insn *insn, u64 old_value, u64 data);

#endif /* VMXLAB_DECODE_H */
