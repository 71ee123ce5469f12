# SPDX-License-Identifier: GPL-2.0
#
# unit/gwalk_test links mmu/gwalk.c instead of the default vmx/caps.c.
# Included by selftests/Makefile ("include $(wildcard unit/*.mk)"), so
# "make unit" builds and runs it with the rest; "make gwalk-unit" runs
# only this test.  mmu/gwalk.c is compiled unchanged, like caps.c, with
# unit/kernel_shim.h force-included and unit/shim/ standing in for
# <linux/bits.h>.

GWALK_DEPS := ../mmu/gwalk.h $(HEADERS)

$(UNIT_OUT)/gwalk.o: ../mmu/gwalk.c $(GWALK_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/gwalk_test: unit/gwalk_test.c $(UNIT_OUT)/gwalk.o $(GWALK_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/gwalk.o

.PHONY: gwalk-unit
gwalk-unit: $(UNIT_OUT)/gwalk_test
	./$<
