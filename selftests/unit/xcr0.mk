# SPDX-License-Identifier: GPL-2.0
#
# unit/xcr0_test links vmx/xsave.c, the XCR0 validity rules of XSETBV,
# compiled unchanged as in the module (see unit/gwalk.mk for the pattern).

XCR0_DEPS := ../vmx/xsave.h $(HEADERS)

$(UNIT_OUT)/xsave.o: ../vmx/xsave.c $(XCR0_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/xcr0_test: unit/xcr0_test.c $(UNIT_OUT)/xsave.o $(XCR0_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/xsave.o

.PHONY: xcr0-unit
xcr0-unit: $(UNIT_OUT)/xcr0_test
	./$<
