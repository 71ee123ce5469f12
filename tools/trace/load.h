/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `vmxlab-trace run FILE`: a flat binary or a static ELF into guest
 * memory.  Pure: it reads a buffer and writes guest memory.
 */
#ifndef VMXLAB_TRACE_LOAD_H
#define VMXLAB_TRACE_LOAD_H

#include <stddef.h>
#include <linux/types.h>

/*
 * Loads @file (@size bytes) into @mem (@mem_size bytes of guest RAM from
 * 0): an ELF file's PT_LOAD segments at their physical addresses, else
 * the whole file at @load.  Sets *@entry to the ELF entry point or
 * @load.  Returns 0, or -1 with a reason in @why.
 */
int load_guest(const unsigned char *file, size_t size, unsigned char *mem,
	       __u64 mem_size, __u64 load, __u64 *entry, const char **why);

#endif
