/* SPDX-License-Identifier: GPL-2.0 */
/* Coverage of vmxlab.ko through KCOV, for vmxlab_fuzz (see kcov.c). */
#ifndef VMXLAB_FUZZ_KCOV_H
#define VMXLAB_FUZZ_KCOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Start tracing this thread; false without KCOV or without vmxlab loaded. */
bool kcov_open(void);
/* Forget the PCs of the previous operation. */
void kcov_start(void);
/* Take this operation's PCs in vmxlab.ko; returns how many edges are new. */
unsigned long kcov_collect(void);
/* Print functions reached of all; returns the number reached. */
size_t kcov_report(FILE *out, bool list_uncovered);

#endif
