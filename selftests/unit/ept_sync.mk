# SPDX-License-Identifier: GPL-2.0
#
# unit/ept_sync_test links mmu/ept_sync.c, the INVEPT decision, compiled
# unchanged as in the module; unit/shim/linux/cpumask.h stands in for the
# kernel's cpumasks (see unit/gwalk.mk for the pattern).

EPT_SYNC_DEPS := ../mmu/ept_sync.h $(HEADERS)

$(UNIT_OUT)/ept_sync.o: ../mmu/ept_sync.c $(EPT_SYNC_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/ept_sync_test: unit/ept_sync_test.c $(UNIT_OUT)/ept_sync.o $(EPT_SYNC_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/ept_sync.o

.PHONY: ept-sync-unit
ept-sync-unit: $(UNIT_OUT)/ept_sync_test
	./$<
