/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a Linux bzImage for its 64-bit entry point (the kernel's
 * Documentation/arch/x86/boot.rst, "64-bit boot protocol").  Pure: the
 * functions read the image from a buffer and write into a buffer that is
 * the guest's RAM, so that the unit tests can feed them any bytes.
 */
#ifndef VMM_BZIMAGE_H
#define VMM_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

/* What the setup header says, checked by bzimage_parse(). */
struct bzimage {
	const uint8_t *image;		/* the whole file */
	size_t len;
	size_t setup_len;		/* real-mode part: (setup_sects + 1) * 512 */
	uint16_t version;		/* boot protocol, 0x020f for 6.1 */
	uint64_t pref_address;		/* where the payload wants to run */
	uint32_t init_size;		/* memory it needs from there on */
	uint32_t cmdline_size;		/* longest command line, without NUL */
	uint32_t initrd_addr_max;	/* highest byte an initrd may use */
};

/* Where the guest starts: registers bzimage_load() chose. */
struct boot_entry {
	uint64_t rip;			/* payload + 0x200: startup_64 */
	uint64_t rsi;			/* the zero page (struct boot_params) */
	uint64_t rsp;
	uint64_t cr3;			/* identity map of the first 4 GiB */
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

/* Segment selectors in the GDT bzimage_load() writes (boot.rst's). */
#define BOOT_CS		0x10
#define BOOT_DS		0x18

/* RAM the VMM must give beyond the kernel and the initrd (boot.rst). */
#define BOOT_SLACK	(8ULL << 20)

int bzimage_parse(const void *buf, size_t len, struct bzimage *bz,
		  const char **why);
uint64_t bzimage_min_mem(const struct bzimage *bz, size_t initrd_len);
int bzimage_check(const struct bzimage *bz, uint64_t ram_size,
		  const char *cmdline, size_t initrd_len, const char **why);
int bzimage_load(const struct bzimage *bz, uint8_t *ram, uint64_t ram_size,
		 const char *cmdline, const void *initrd, size_t initrd_len,
		 struct boot_entry *entry, const char **why);

#endif
