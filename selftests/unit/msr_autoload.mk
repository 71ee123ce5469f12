# SPDX-License-Identifier: GPL-2.0
#
# unit/msr_autoload_test links vmx/msr_autoload.c, the bookkeeping of the
# VM-entry/VM-exit MSR-load areas, compiled unchanged as in the module.

MSR_AUTOLOAD_DEPS := ../vmx/msr_autoload.h $(HEADERS)

$(UNIT_OUT)/msr_autoload.o: ../vmx/msr_autoload.c $(MSR_AUTOLOAD_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/msr_autoload_test: unit/msr_autoload_test.c $(UNIT_OUT)/msr_autoload.o $(MSR_AUTOLOAD_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/msr_autoload.o

.PHONY: msr-autoload-unit
msr-autoload-unit: $(UNIT_OUT)/msr_autoload_test
	./$<
