# SPDX-License-Identifier: GPL-2.0
#
# unit/mitigations_test links vmx/mitigations.c, the choice of speculation
# mitigations around VM entry, compiled unchanged as in the module.

MITIG_DEPS := ../vmx/mitigations.h $(HEADERS)

$(UNIT_OUT)/mitigations.o: ../vmx/mitigations.c $(MITIG_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/mitigations_test: unit/mitigations_test.c $(UNIT_OUT)/mitigations.o $(MITIG_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/mitigations.o

.PHONY: mitigations-unit
mitigations-unit: $(UNIT_OUT)/mitigations_test
	./$<
