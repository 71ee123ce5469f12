// SPDX-License-Identifier: GPL-2.0
/*
 * A flat binary or a static ELF file (32- or 64-bit, as gcc -nostdlib
 * -static or ld -Ttext leave it) into guest memory.
 */
#include <elf.h>
#include <string.h>

#include "trace/load.h"

static int put_segment(unsigned char *mem, __u64 mem_size, __u64 gpa,
		       const unsigned char *src, __u64 filesz, __u64 memsz,
		       const char **why)
{
	if (filesz > memsz || gpa > mem_size || memsz > mem_size - gpa) {
		*why = "a segment does not fit in guest RAM";
		return -1;
	}
	memcpy(mem + gpa, src, filesz);
	memset(mem + gpa + filesz, 0, memsz - filesz);
	return 0;
}

/* A little-endian field of @width bytes at @off (the ELF file's own order). */
static __u64 field(const unsigned char *p, unsigned int off, unsigned int width)
{
	__u64 v = 0;

	while (width--)
		v = v << 8 | p[off + width];
	return v;
}

/*
 * Offsets and widths of the fields the loader reads, in the 32- and
 * 64-bit headers (System V ABI, "ELF Header" and "Program Header").
 */
struct elf_layout {
	unsigned int ehdr_size, entry, phoff, phnum, addr;	/* addr: width */
	unsigned int phdr_size, p_offset, p_paddr, p_filesz, p_memsz;
};

static const struct elf_layout elf64 = {
	.ehdr_size = 64, .entry = 24, .phoff = 32, .phnum = 56, .addr = 8,
	.phdr_size = 56, .p_offset = 8, .p_paddr = 24, .p_filesz = 32,
	.p_memsz = 40,
};

static const struct elf_layout elf32 = {
	.ehdr_size = 52, .entry = 24, .phoff = 28, .phnum = 44, .addr = 4,
	.phdr_size = 32, .p_offset = 4, .p_paddr = 12, .p_filesz = 16,
	.p_memsz = 20,
};

static int load_elf(const unsigned char *file, size_t size, unsigned char *mem,
		    __u64 mem_size, __u64 *entry, const char **why)
{
	const struct elf_layout *l = file[EI_CLASS] == ELFCLASS64 ? &elf64 :
								   &elf32;
	__u64 phoff, phnum, i, off, filesz;
	const unsigned char *ph;

	if (size < l->ehdr_size) {
		*why = "truncated ELF header";
		return -1;
	}
	*entry = field(file, l->entry, l->addr);
	phoff = field(file, l->phoff, l->addr);
	phnum = field(file, l->phnum, 2);
	if (phoff > size || phnum * l->phdr_size > size - phoff) {
		*why = "truncated ELF program headers";
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		ph = file + phoff + i * l->phdr_size;
		if (field(ph, 0, 4) != PT_LOAD)
			continue;
		off = field(ph, l->p_offset, l->addr);
		filesz = field(ph, l->p_filesz, l->addr);
		if (off > size || filesz > size - off) {
			*why = "a segment lies past the end of the file";
			return -1;
		}
		if (put_segment(mem, mem_size, field(ph, l->p_paddr, l->addr),
				file + off, filesz,
				field(ph, l->p_memsz, l->addr), why))
			return -1;
	}
	return 0;
}

int load_guest(const unsigned char *file, size_t size, unsigned char *mem,
	       __u64 mem_size, __u64 load, __u64 *entry, const char **why)
{
	if (size >= EI_NIDENT && !memcmp(file, ELFMAG, SELFMAG)) {
		if (file[EI_DATA] != ELFDATA2LSB) {
			*why = "not a little-endian ELF file";
			return -1;
		}
		if (file[EI_CLASS] != ELFCLASS64 &&
		    file[EI_CLASS] != ELFCLASS32) {
			*why = "unknown ELF class";
			return -1;
		}
		return load_elf(file, size, mem, mem_size, entry, why);
	}
	*entry = load;
	return put_segment(mem, mem_size, load, file, size, size, why);
}
