// SPDX-License-Identifier: GPL-2.0
/*
 * The bzImage loader against a real kernel (Debian's vmlinuz, the one the
 * test VM boots, given as argv[1]) and against broken copies of it.
 * Expected values come from the boot protocol (boot.rst) and from
 * Debian's x86-64 configuration (CONFIG_PHYSICAL_START 16 MiB), not from
 * the loader.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bzimage.h"
#include "tap.h"

#define MIB		0x100000ULL
#define RAM_SIZE	(128 * MIB)
#define PLAN		22

static uint8_t *image;
static size_t image_len;

static uint32_t rd32(const uint8_t *p, uint64_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, uint64_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

/* Parse a copy of the image with byte @off set to @val (or cut at @cut). */
static int parse_broken(size_t off, uint8_t val, size_t cut)
{
	uint8_t *copy = malloc(image_len);
	struct bzimage bz;
	const char *why;
	int ret;

	memcpy(copy, image, image_len);
	if (off)
		copy[off] = val;
	ret = bzimage_parse(copy, cut ? cut : image_len, &bz, &why);
	free(copy);
	return ret;
}

/* Translate @va through the page tables at @cr3, as the CPU would. */
static uint64_t walk(const uint8_t *ram, uint64_t cr3, uint64_t va)
{
	uint64_t pml4e = rd64(ram, cr3 + 8 * ((va >> 39) & 511));
	uint64_t pdpte = rd64(ram, (pml4e & ~0xfffULL) + 8 * ((va >> 30) & 511));
	uint64_t pde = rd64(ram, (pdpte & ~0xfffULL) + 8 * ((va >> 21) & 511));

	if (!(pml4e & 1) || !(pdpte & 1) || !(pde & 1) || !(pde & 0x80))
		return ~0ULL;
	return (pde & ~0x1fffffULL) + (va & 0x1fffff);
}

static void test_load(const struct bzimage *bz)
{
	static const char cmdline[] = "console=ttyS0 quiet";
	static const uint8_t initrd[5000] = { 0x42 };
	uint8_t *ram = calloc(1, RAM_SIZE), *zp;
	struct boot_entry e;
	const char *why;
	uint32_t rd_addr;

	tap_ok(!bzimage_load(bz, ram, RAM_SIZE, cmdline, initrd,
			     sizeof(initrd), &e, &why), "loads into 128 MiB");
	tap_ok(e.rip == bz->pref_address + 0x200,
	       "entry is startup_64, 0x200 into the payload");
	tap_ok(!memcmp(ram + bz->pref_address, image + bz->setup_len,
		       image_len - bz->setup_len),
	       "payload copied to pref_address");
	zp = ram + e.rsi;
	tap_ok(zp[0x210] == 0xff && !memcmp(zp + 0x202, "HdrS", 4),
	       "zero page: header copied, type_of_loader 0xff");
	tap_ok(!strcmp((char *)ram + rd32(zp, 0x228), cmdline),
	       "zero page: cmd_line_ptr points at the command line");
	rd_addr = rd32(zp, 0x218);
	tap_ok(rd_addr % 4096 == 0 && rd32(zp, 0x21c) == sizeof(initrd) &&
	       rd_addr + sizeof(initrd) <= RAM_SIZE &&
	       rd_addr >= bz->pref_address + bz->init_size &&
	       !memcmp(ram + rd_addr, initrd, sizeof(initrd)),
	       "initrd page-aligned at the top of RAM, above the kernel");
	tap_ok(zp[0x1e8] == 3 &&
	       rd64(zp, 0x2d0) == 0 && rd32(zp, 0x2d0 + 16) == 1 &&
	       rd64(zp, 0x2d0 + 8) <= 0xa0000 &&
	       rd32(zp, 0x2e4 + 16) == 2 &&
	       rd64(zp, 0x2f8) == MIB && rd64(zp, 0x2f8 + 8) == RAM_SIZE - MIB &&
	       rd32(zp, 0x2f8 + 16) == 1,
	       "e820: low RAM, the legacy hole reserved, RAM from 1 MiB");
	tap_ok(walk(ram, e.cr3, e.rip) == e.rip &&
	       walk(ram, e.cr3, e.rsi) == e.rsi &&
	       walk(ram, e.cr3, 0xfffff000) == 0xfffff000,
	       "page tables identity-map the entry, the zero page, 4 GiB");
	tap_ok(rd64(ram, e.gdt_base + BOOT_CS) == 0x00af9b000000ffffULL &&
	       rd64(ram, e.gdt_base + BOOT_DS) == 0x00cf93000000ffffULL &&
	       e.gdt_limit >= BOOT_DS + 7,
	       "GDT: 64-bit code at 0x10, flat data at 0x18");
	free(ram);
}

static void test_limits(const struct bzimage *bz)
{
	char *longer = malloc(bz->cmdline_size + 2);
	const char *why = NULL;

	tap_ok(bzimage_check(bz, 64 * MIB, "", 0, &why) && why &&
	       strstr(why, "MiB"), "64 MiB is refused, naming the sizes");
	tap_ok(bzimage_min_mem(bz, 1) ==
	       bz->pref_address + bz->init_size + 4096 + 8 * MIB,
	       "least RAM: pref_address + init_size + initrd + 8 MiB");
	memset(longer, 'x', bz->cmdline_size + 1);
	longer[bz->cmdline_size + 1] = 0;
	tap_ok(bzimage_check(bz, RAM_SIZE, longer, 0, &why),
	       "a command line longer than cmdline_size is refused");
	longer[bz->cmdline_size] = 0;
	tap_ok(!bzimage_check(bz, RAM_SIZE, longer, 0, &why),
	       "one of exactly cmdline_size bytes is taken");
	free(longer);
}

int main(int argc, char **argv)
{
	static const uint8_t elf_magic[] = { 0x7f, 'E', 'L', 'F' };
	struct bzimage bz;
	const char *why;
	FILE *f;

	tap_plan(PLAN);
	f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	if (!f) {
		for (int i = 0; i < PLAN; i++)
			tap_skip("no vmlinuz given (argv[1])");
		return 0;
	}
	fseek(f, 0, SEEK_END);
	image_len = ftell(f);
	rewind(f);
	image = malloc(image_len);
	if (fread(image, 1, image_len, f) != image_len)
		return 1;
	fclose(f);

	tap_ok(!bzimage_parse(image, image_len, &bz, &why), "Debian's vmlinuz parses");
	tap_ok(bz.version >= 0x020c && bz.pref_address == 16 * MIB &&
	       bz.setup_len == (size_t)(image[0x1f1] + 1) * 512,
	       "protocol >= 2.12, pref_address 16 MiB, setup length");
	test_load(&bz);
	test_limits(&bz);
	tap_ok(parse_broken(0x1fe, 0x00, 0), "no 0xAA55 boot flag: refused");
	tap_ok(parse_broken(0x202, 'X', 0), "no \"HdrS\": refused");
	tap_ok(parse_broken(0x206, 0x0b, 0), "protocol 2.11: refused");
	tap_ok(parse_broken(0x236, image[0x236] & ~1, 0),
	       "no XLF_KERNEL_64 (32-bit only): refused");
	tap_ok(parse_broken(0x211, image[0x211] & ~1, 0),
	       "not loaded high (a zImage): refused");
	tap_ok(parse_broken(0, 0, 0x300), "cut inside the setup part: refused");
	tap_ok(bzimage_parse(elf_magic, sizeof(elf_magic), &bz, &why) && why,
	       "an ELF file: refused with a reason");
	return tap_done();
}
