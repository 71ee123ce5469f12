# SPDX-License-Identifier: GPL-2.0
#
# unit/cpuid_policy_test links vmx/cpuid_policy.c, the rule of the default
# CPUID table, compiled unchanged as in the module (see unit/gwalk.mk).

CPUID_POLICY_DEPS := ../vmx/cpuid_policy.h ../vmx/xsave.h $(HEADERS)

$(UNIT_OUT)/cpuid_policy.o: ../vmx/cpuid_policy.c $(CPUID_POLICY_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -include unit/kernel_shim.h -c -o $@ $<

$(UNIT_OUT)/cpuid_policy_test: unit/cpuid_policy_test.c $(UNIT_OUT)/cpuid_policy.o $(CPUID_POLICY_DEPS) | harness $(UNIT_OUT)
	$(CC) $(UNIT_CPPFLAGS) $(CFLAGS) -o $@ $< $(UNIT_OUT)/cpuid_policy.o

.PHONY: cpuid-policy-unit
cpuid-policy-unit: $(UNIT_OUT)/cpuid_policy_test
	./$<
