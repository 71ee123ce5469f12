# SPDX-License-Identifier: GPL-2.0
#
# Included by selftests/Makefile: the guest_*_test binaries, and the
# sysrq_reboot helper of the vm-reboot lane, are linked with the guest
# library (lib/vmxlab_lib.c), which runs part of each binary's own code
# inside a guest.  Objects go to ../build/selftests-lib, not to out/,
# which is shipped into the VM.
#
# Guest code shares the binary, so its flags matter inside the guest too:
# no stack protector (it would read %fs:0x28, which is not set up in the
# guest) and no red zone (exception handlers also switch to an IST stack,
# but the two together leave no doubt).  -static without -static-pie gives
# the fixed addresses the library maps the image at.

LIB_OUT := ../build/selftests-lib
LIB_OBJS := $(LIB_OUT)/vmxlab_lib.o
LIB_HEADERS := $(wildcard lib/*.h) vmxlab_util.h
GUEST_CFLAGS := -fno-stack-protector -mno-red-zone -fno-pie
GUEST_TESTS := $(patsubst %.c,$(OUT)/%,$(wildcard guest_*_test.c))
GUEST_HELPERS := $(OUT)/sysrq_reboot

$(LIB_OUT):
	mkdir -p $@

$(LIB_OUT)/%.o: lib/%.c $(LIB_HEADERS) $(HEADERS) | harness $(LIB_OUT)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_TESTS) $(GUEST_HELPERS): $(OUT)/%: %.c $(LIB_OBJS) $(LIB_HEADERS) $(HEADERS) | harness $(OUT)
	$(CC) $(CPPFLAGS) -Ilib $(CFLAGS) $(GUEST_CFLAGS) $(VM_LDFLAGS) -no-pie \
		-pthread -o $@ $< $(LIB_OBJS)

.PHONY: clean-lib
clean: clean-lib
clean-lib:
	rm -rf $(LIB_OUT)
