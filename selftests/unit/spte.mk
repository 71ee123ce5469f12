# SPDX-License-Identifier: GPL-2.0
#
# unit/spte_test links mmu/spte.c, the shadow-leaf rule, compiled
# unchanged as in the module (see unit/gwalk.mk for the pattern).

SPTE_DEPS := ../mmu/spte.h ../mmu/gwalk.h $(HEADERS)

$(UNIT_OUT)/spte.o: ../mmu/spte.c $(SPTE_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/spte_test: unit/spte_test.c $(UNIT_OUT)/spte.o $(SPTE_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/spte.o

.PHONY: spte-unit
spte-unit: $(UNIT_OUT)/spte_test
	./$<
