// SPDX-License-Identifier: GPL-2.0
/*
 * A bzImage is a real-mode setup part followed by the compressed kernel
 * (the "payload").  A 64-bit VMM skips the setup part: it copies the
 * payload where the header asks, fills a zero page (struct boot_params)
 * with the header, the command line, the initrd and a memory map, and
 * enters the payload's startup_64 in long mode with RSI pointing at the
 * zero page.  Offsets are the kernel's Documentation/arch/x86/boot.rst and
 * arch/x86/include/uapi/asm/bootparam.h.
 */
#include <stdio.h>
#include <string.h>

#include "vmm/bzimage.h"

/* The setup header, at these offsets in the file and in the zero page. */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe	/* 0xaa55 */
#define HDR_JUMP		0x200	/* its second byte: header length */
#define HDR_MAGIC		0x202	/* "HdrS" */
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define HDR_END			0x264	/* the fields this loader reads */

#define HDR_MAGIC_VALUE		0x53726448	/* "HdrS" little-endian */
#define LOADED_HIGH		0x01	/* loadflags: payload at 1 MiB+ */
#define XLF_KERNEL_64		0x01	/* xloadflags: 64-bit entry at +0x200 */
#define MIN_VERSION		0x020c	/* 2.12: xloadflags, 64-bit fields */

/* The zero page beyond the setup header. */
#define ZP_EXT_RAMDISK_IMAGE	0x0c0
#define ZP_EXT_RAMDISK_SIZE	0x0c4
#define ZP_EXT_CMD_LINE_PTR	0x0c8
#define ZP_E820_ENTRIES		0x1e8
#define ZP_E820_TABLE		0x2d0	/* 20-byte entries: addr, size, type */
#define E820_RAM		1
#define E820_RESERVED		2

/*
 * The guest-physical layout below 1 MiB, as other small VMMs choose it:
 * everything the kernel reads before it has its own copies lives in the
 * first 640 KiB, which the e820 map calls RAM (the kernel copies the zero
 * page and the command line early, then may reuse the pages).
 */
#define GDT_GPA			0x1000
#define ZERO_PAGE_GPA		0x7000
#define STACK_TOP_GPA		0x8ff0
#define PML4_GPA		0x9000
#define PDPT_GPA		0xa000
#define PD_GPA			0xb000	/* four pages: 4 GiB of 2 MiB pages */
#define CMDLINE_GPA		0x20000
#define LOW_RAM_END		0x9fc00	/* then the EBDA, VGA, BIOS holes */
#define HIGH_RAM_START		0x100000

#define PAGE_SIZE		4096ULL
#define PTE_P_RW		0x3ULL
#define PTE_PS			0x80ULL

static uint16_t get16(const uint8_t *p, size_t off)
{
	return p[off] | p[off + 1] << 8;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	return get16(p, off) | (uint32_t)get16(p, off + 2) << 16;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	return get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + i] = v >> (8 * i);
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	put32(p, off, v);
	put32(p, off + 4, v >> 32);
}

/*
 * bzimage_parse() - check that @buf is a bzImage this loader can start
 * @why: on failure, a sentence for the user
 *
 * Returns 0, or -1 with @why set.
 */
int bzimage_parse(const void *buf, size_t len, struct bzimage *bz,
		  const char **why)
{
	const uint8_t *p = buf;
	unsigned int sects;

	memset(bz, 0, sizeof(*bz));
	if (len < HDR_END || get16(p, HDR_BOOT_FLAG) != 0xaa55 ||
	    get32(p, HDR_MAGIC) != HDR_MAGIC_VALUE) {
		*why = "not a bzImage (no 0xAA55 boot flag and \"HdrS\" header)";
		return -1;
	}
	bz->version = get16(p, HDR_VERSION);
	if (bz->version < MIN_VERSION) {
		*why = "boot protocol older than 2.12: no 64-bit entry point";
		return -1;
	}
	if (!(p[HDR_LOADFLAGS] & LOADED_HIGH)) {
		*why = "a zImage (loaded low), not a bzImage";
		return -1;
	}
	if (!(get16(p, HDR_XLOADFLAGS) & XLF_KERNEL_64)) {
		*why = "the kernel has no 64-bit entry point (a 32-bit kernel?)";
		return -1;
	}
	sects = p[HDR_SETUP_SECTS] ? p[HDR_SETUP_SECTS] : 4;
	bz->setup_len = (sects + 1) * 512;
	if (bz->setup_len + HDR_JUMP + 2 >= len ||
	    (size_t)HDR_JUMP + 2 + p[HDR_JUMP + 1] > bz->setup_len) {
		*why = "the file ends inside the setup part: truncated?";
		return -1;
	}
	bz->image = p;
	bz->len = len;
	bz->pref_address = get64(p, HDR_PREF_ADDRESS);
	bz->init_size = get32(p, HDR_INIT_SIZE);
	bz->cmdline_size = get32(p, HDR_CMDLINE_SIZE);
	bz->initrd_addr_max = get32(p, HDR_INITRD_ADDR_MAX);
	if (bz->pref_address < HIGH_RAM_START ||
	    bz->pref_address % (2 << 20) ||
	    bz->init_size < len - bz->setup_len) {
		*why = "the header's pref_address or init_size makes no sense";
		return -1;
	}
	return 0;
}

static uint64_t page_align_up(uint64_t x)
{
	return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* The least RAM this kernel and initrd can boot in (boot.rst). */
uint64_t bzimage_min_mem(const struct bzimage *bz, size_t initrd_len)
{
	return bz->pref_address + bz->init_size + page_align_up(initrd_len) +
	       BOOT_SLACK;
}

static void put_e820(uint8_t *zp, unsigned int i, uint64_t addr,
		     uint64_t size, uint32_t type)
{
	size_t off = ZP_E820_TABLE + 20 * i;

	put64(zp, off, addr);
	put64(zp, off + 8, size);
	put32(zp, off + 16, type);
	zp[ZP_E820_ENTRIES] = i + 1;
}

/*
 * The zero page: the setup header as the file has it (the kernel reads
 * its own fields back from here), what the loader fills in, and the
 * memory map.  No screen_info: the console is the serial port.
 */
static void write_zero_page(const struct bzimage *bz, uint8_t *ram,
			    uint64_t ram_size, uint64_t initrd_gpa,
			    size_t initrd_len)
{
	uint8_t *zp = ram + ZERO_PAGE_GPA;
	size_t hdr_len = HDR_JUMP + 2 + bz->image[HDR_JUMP + 1] -
			 HDR_SETUP_SECTS;

	memset(zp, 0, PAGE_SIZE);
	memcpy(zp + HDR_SETUP_SECTS, bz->image + HDR_SETUP_SECTS, hdr_len);
	zp[HDR_TYPE_OF_LOADER] = 0xff;		/* "undefined" loader */
	put32(zp, HDR_CMD_LINE_PTR, CMDLINE_GPA);
	put32(zp, ZP_EXT_CMD_LINE_PTR, 0);
	put32(zp, HDR_RAMDISK_IMAGE, initrd_len ? initrd_gpa : 0);
	put32(zp, HDR_RAMDISK_SIZE, initrd_len);
	put32(zp, ZP_EXT_RAMDISK_IMAGE, 0);
	put32(zp, ZP_EXT_RAMDISK_SIZE, 0);
	put_e820(zp, 0, 0, LOW_RAM_END, E820_RAM);
	put_e820(zp, 1, LOW_RAM_END, HIGH_RAM_START - LOW_RAM_END,
		 E820_RESERVED);
	put_e820(zp, 2, HIGH_RAM_START, ram_size - HIGH_RAM_START, E820_RAM);
}

/*
 * Long mode needs paging: identity-map the first 4 GiB with 2 MiB pages,
 * which covers the payload, the zero page and the initrd wherever they
 * are.  The kernel builds its own tables before it needs more.
 */
static void write_page_tables(uint8_t *ram)
{
	memset(ram + PML4_GPA, 0, PAGE_SIZE * 6);
	put64(ram, PML4_GPA, PDPT_GPA | PTE_P_RW);
	for (uint64_t i = 0; i < 4; i++)
		put64(ram, PDPT_GPA + 8 * i, (PD_GPA + i * PAGE_SIZE) | PTE_P_RW);
	for (uint64_t i = 0; i < 4 * 512; i++)
		put64(ram, PD_GPA + 8 * i, (i << 21) | PTE_P_RW | PTE_PS);
}

/* boot.rst: __BOOT_CS (0x10) a 64-bit code segment, __BOOT_DS (0x18) data. */
static void write_gdt(uint8_t *ram)
{
	memset(ram + GDT_GPA, 0, 0x20);
	put64(ram, GDT_GPA + BOOT_CS, 0x00af9b000000ffffULL);
	put64(ram, GDT_GPA + BOOT_DS, 0x00cf93000000ffffULL);
}

/*
 * bzimage_check() - can this kernel boot in @ram_size with @cmdline and an
 * initrd of @initrd_len bytes?  Returns 0, or -1 with @why set.
 */
int bzimage_check(const struct bzimage *bz, uint64_t ram_size,
		  const char *cmdline, size_t initrd_len, const char **why)
{
	static char msg[160];

	if (ram_size < bzimage_min_mem(bz, initrd_len)) {
		snprintf(msg, sizeof(msg),
			 "%llu MiB of RAM is too little: the kernel needs %llu MiB from %llu MiB on, the initrd %zu KiB, and %llu MiB to spare",
			 (unsigned long long)(ram_size >> 20),
			 (unsigned long long)(bz->init_size >> 20),
			 (unsigned long long)(bz->pref_address >> 20),
			 initrd_len >> 10,
			 (unsigned long long)(BOOT_SLACK >> 20));
		*why = msg;
		return -1;
	}
	if (strlen(cmdline) > bz->cmdline_size) {
		snprintf(msg, sizeof(msg),
			 "the command line is %zu bytes; this kernel takes %u",
			 strlen(cmdline), bz->cmdline_size);
		*why = msg;
		return -1;
	}
	return 0;
}

/*
 * bzimage_load() - lay a parsed bzImage out in guest RAM for startup_64
 * @ram, @ram_size: the guest's RAM, from guest-physical 0
 * @cmdline:        the kernel command line
 * @initrd:         NULL or @initrd_len bytes, placed at the top of RAM
 * @entry:          out: the registers to start with
 *
 * Returns 0, or -1 with @why set.
 */
int bzimage_load(const struct bzimage *bz, uint8_t *ram, uint64_t ram_size,
		 const char *cmdline, const void *initrd, size_t initrd_len,
		 struct boot_entry *entry, const char **why)
{
	size_t payload_len = bz->len - bz->setup_len;
	uint64_t top = ram_size, initrd_gpa = 0;

	if (bzimage_check(bz, ram_size, cmdline, initrd_len, why))
		return -1;
	if (initrd_len) {
		if (top > (uint64_t)bz->initrd_addr_max + 1)
			top = (uint64_t)bz->initrd_addr_max + 1;
		initrd_gpa = (top - initrd_len) & ~(PAGE_SIZE - 1);
		memcpy(ram + initrd_gpa, initrd, initrd_len);
	}
	memcpy(ram + bz->pref_address, bz->image + bz->setup_len, payload_len);
	strcpy((char *)ram + CMDLINE_GPA, cmdline);
	write_zero_page(bz, ram, ram_size, initrd_gpa, initrd_len);
	write_page_tables(ram);
	write_gdt(ram);

	*entry = (struct boot_entry) {
		.rip = bz->pref_address + 0x200,
		.rsi = ZERO_PAGE_GPA,
		.rsp = STACK_TOP_GPA,
		.cr3 = PML4_GPA,
		.gdt_base = GDT_GPA,
		.gdt_limit = 0x1f,
	};
	return 0;
}
