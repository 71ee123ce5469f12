# SPDX-License-Identifier: GPL-2.0
#
# unit/inject_test links irq/inject.c, the injection decision, compiled
# unchanged as in the module (see unit/gwalk.mk for the pattern).

INJECT_DEPS := ../irq/inject.h $(HEADERS)

$(UNIT_OUT)/inject.o: ../irq/inject.c $(INJECT_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/inject_test: unit/inject_test.c $(UNIT_OUT)/inject.o $(INJECT_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/inject.o

.PHONY: inject-unit
inject-unit: $(UNIT_OUT)/inject_test
	./$<
