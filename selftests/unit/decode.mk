# SPDX-License-Identifier: GPL-2.0
#
# unit/decode_test links vmx/decode.c instead of the default vmx/caps.c.
# Included by selftests/Makefile ("include $(wildcard unit/*.mk)"), so
# "make unit" builds and runs it with the rest; "make decode-unit" runs
# only this test.  vmx/decode.c is compiled unchanged, with
# unit/kernel_shim.h force-included for u8..u64, s32, s64 and bool.

DECODE_DEPS := ../vmx/decode.h $(HEADERS)

$(UNIT_OUT)/decode.o: ../vmx/decode.c $(DECODE_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/decode_test: unit/decode_test.c $(UNIT_OUT)/decode.o $(DECODE_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/decode.o

.PHONY: decode-unit
decode-unit: $(UNIT_OUT)/decode_test
	./$<
