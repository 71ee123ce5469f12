#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's kernel (the one scripts/setup.sh cached) in an emulated VM
# with a busybox initramfs, run one shell script inside it, and power off.
# The VM's serial console goes to a log file; afterwards the script's output
# is printed and the run is judged: a kernel warning anywhere in the log, or
# a VM that never reached its end marker, fails the run even when the script
# itself succeeded.  All VT-x code of the project runs through here: never
# load vmxlab.ko on the host.  See usage() or --help.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
BOCHS3=$CACHE/bochs3/bin/bochs
BOCHS27=/usr/bin/bochs

# Bochs counts one TSC tick per emulated instruction; the guest kernel is
# told the same rate with tsc_early_khz (see shared notes, "Traps").
BOCHS_IPS=200000000
# A fixed boot date instead of time0=local, so two runs see the same clock.
BOCHS_TIME0=1735689600
# Haswell: VMX with EPT, VPID, unrestricted guest, MTF (Bochs 3.0), AVX.
BOCHS_MODEL_DEFAULT=corei7_haswell_4770

# Lines of the kernel log that mean the kernel complained: warnings, oopses
# and panics, RCU stalls, hung tasks, lockups, the debug instruments
# (KASAN, UBSAN, kmemleak, lockdep), and every error vmxlab itself prints
# (its pr_err lines).  A test that provokes one on purpose declares it
# first by writing "VMXLAB-EXPECT-KLOG <extended regex>" to /dev/kmsg (at
# an error level, so that the console shows it in order); a bad line that
# matches a regex declared before it is accepted, and counted.
BAD_KERNEL_LINES='WARNING:|BUG:|Oops|general protection fault|invalid opcode:|unchecked MSR access|Kernel panic|kernel BUG|rcu: INFO:|self-detected stall|detected stalls|blocked for more than|sleeping function called|KASAN|UBSAN|kmemleak: [0-9]+ new suspected memory leaks|possible circular locking|inconsistent lock state|soft lockup|hard LOCKUP|debugfs: .*already present'
BAD_VMXLAB_LINES='vmxlab: .*(VMPTRLD failed|VMXON failed|of field 0x[0-9a-f]+ .*failed|VMCS:|unexpected exit reason|EPT misconfiguration|lacks a VMX control|already in use|disabled by firmware|has no VMX|cannot read|unsupported VMCS|different IA32_VMX_BASIC|do not meet the VMX fixed bits|MSRs to switch)|vmxlab:   (RIP|CS|controls|entry) '
# How long the VM may take from its end marker to powering off.
POWEROFF_S=60
# --expect-reboot: a kernel's boot banner, and the line vmxlab's emergency
# callback prints for each CPU it takes out of VMX operation.
BOOT_BANNER='Linux version [0-9]'
EMERGENCY_LINE='vmxlab: emergency: VMX off on CPU'

usage() {
	cat <<EOF
Usage: scripts/vm-run.sh [OPTIONS] SCRIPT [ARGS...]

Boot the test VM, run SCRIPT with busybox sh inside it (cwd /vmxlab, as
'sh /vmxlab/run ARGS...'), print its output and exit with its status.
SCRIPT is any POSIX sh script of yours, e.g.

    scripts/vm-run.sh --add vmxlab.ko myscript.sh

where myscript.sh holds 'insmod /vmxlab/vmxlab.ko && dmesg | tail'.
The VM has busybox, /proc, /sys, /dev, debugfs, and Debian's kvm.ko,
kvm-intel.ko, irqbypass.ko and msr.ko ('modprobe kvm_intel', 'modprobe msr').

Options:
  --emulator E       auto (default), bochs, bochs27, qemu-kvm or qemu-tcg.
                     auto: qemu-kvm when /dev/kvm offers nested VMX
                     (kvm_intel nested=Y), else bochs.  bochs is Bochs 3.0
                     from the cache (falls back to bochs27, Debian's Bochs
                     2.7, which lacks MTF); qemu-tcg has no VMX at all.
  --cpus N           number of virtual CPUs (default 1).
  --cpu-model M      Bochs CPU model (default $BOCHS_MODEL_DEFAULT; e.g.
                     corei7_skylake_x for AVX-512).  Bochs only.
  --append "ARGS"    extra arguments for the VM's kernel command line
                     (e.g. noxsave).
  --kernel DIR       boot another kernel: DIR holds vmlinuz, kernel-version
                     and lib/modules/<version>/ with KVM and msr, as
                     scripts/debug-kernel.sh leaves in the cache
                     (default: Debian's kernel, $CACHE/kernel-<version>).
  --timeout S        kill the VM after S seconds (default 600 for Bochs,
                     120 for QEMU).
  --idle-timeout S   kill the VM when its serial log has not grown for S
                     seconds: a hung VM (default 0: never).
  --add HOST[:/VM]   put a file or directory (copied recursively) into the
                     VM at /VM, default /vmxlab/<basename of HOST>.  Dynamic
                     executables get their shared libraries too.  Repeatable.
  --log FILE         serial log (default build/vm/serial.log); emulator
                     messages go to FILE with .log replaced by -emulator.log.
  --expect-reboot    SCRIPT resets the VM with an emergency reboot (sysrq b)
                     and never ends.  Passes when the serial log shows, in
                     this order, vmxlab's "$EMERGENCY_LINE N" for
                     every CPU N and a second kernel boot banner; the
                     emulator is stopped at that banner.  Prints the checks
                     as TAP.  Bochs only (the kernel resets the VM through
                     port 0xcf9, reboot=p, and boots with loglevel=6 so that
                     the banner reaches the console).
  --interactive      the terminal is the VM's serial console: what it types
                     goes to SCRIPT's stdin (/dev/console), the output shows
                     as it comes and is logged as usual; Ctrl-] leaves.
                     Bochs 3.0 only (its COM1 on a local TCP socket,
                     relayed by scripts/serial-relay.py).
  --keep             keep the temp dir (initramfs, ISO, bochsrc) and say where.
  -h, --help         this text.

Exit status: the script's, or 2 if the log shows a kernel warning, oops,
panic or unchecked MSR access ($BAD_KERNEL_LINES),
or 3 if the VM never finished (timeout, crash, hang).  With --expect-reboot:
0, 1 if an emergency line is missing, 2 as above, 3 if the VM did not boot
again.
EOF
}

die() { echo "vm-run: error: $*" >&2; exit 1; }

emulator=auto cpus=1 timeout_s='' idle_s=0 log='' keep=0 cpu_model='' append=
kernel_dir=
expect_reboot=0 interactive=0
adds=()
while [ $# -gt 0 ]; do
	case $1 in
	--emulator) [ $# -ge 2 ] || die "$1 needs a value"; emulator=$2; shift 2 ;;
	--cpus) [ $# -ge 2 ] || die "$1 needs a value"; cpus=$2; shift 2 ;;
	--cpu-model) [ $# -ge 2 ] || die "$1 needs a value"; cpu_model=$2; shift 2 ;;
	--append) [ $# -ge 2 ] || die "$1 needs a value"; append=$2; shift 2 ;;
	--kernel) [ $# -ge 2 ] || die "$1 needs a value"; kernel_dir=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || die "$1 needs a value"; timeout_s=$2; shift 2 ;;
	--idle-timeout) [ $# -ge 2 ] || die "$1 needs a value"; idle_s=$2; shift 2 ;;
	--add) [ $# -ge 2 ] || die "$1 needs a value"; adds+=("$2"); shift 2 ;;
	--log) [ $# -ge 2 ] || die "$1 needs a value"; log=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--expect-reboot) expect_reboot=1; shift ;;
	--interactive) interactive=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { usage >&2; exit 1; }
script=$1
shift
[ -f "$script" ] || die "no such script: $script"
case $cpus in ''|*[!0-9]*|0) die "--cpus wants a positive number, not '$cpus'" ;; esac
case $timeout_s in *[!0-9]*) die "--timeout wants seconds, not '$timeout_s'" ;; esac
case $idle_s in ''|*[!0-9]*) die "--idle-timeout wants seconds, not '$idle_s'" ;; esac
case $cpu_model in *[!a-z0-9_]*) die "--cpu-model wants a Bochs model name, not '$cpu_model'" ;; esac

if [ -n "$kernel_dir" ]; then
	[ -f "$kernel_dir/kernel-version" ] || die "--kernel: $kernel_dir/kernel-version missing"
	KVER=$(cat "$kernel_dir/kernel-version")
	KIMG=$(cd "$kernel_dir" && pwd)
	[ -f "$KIMG/vmlinuz" ] || die "--kernel: $KIMG/vmlinuz missing"
else
	[ -f "$CACHE/kernel-version" ] || die "$CACHE/kernel-version missing: run scripts/setup.sh"
	KVER=$(cat "$CACHE/kernel-version")
	KIMG=$CACHE/kernel-$KVER
	[ -f "$KIMG/vmlinuz" ] || die "$KIMG/vmlinuz missing: run scripts/setup.sh"
fi

# --- which emulator -------------------------------------------------------

nested_vmx() {
	[ -e /dev/kvm ] || return 1
	case $(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null) in
	Y|y|1) return 0 ;;
	esac
	return 1
}

if [ "$emulator" = auto ]; then
	if nested_vmx; then emulator=qemu-kvm; else emulator=bochs; fi
fi
case $emulator in
bochs)
	if [ ! -x "$BOCHS3" ]; then
		echo "vm-run: Bochs 3.0 not found at $BOCHS3; using Debian's Bochs 2.7 (no monitor trap flag: MTF tests will be skipped)"
		emulator=bochs27
	fi ;;
bochs27|qemu-kvm|qemu-tcg) ;;
*) die "unknown emulator '$emulator' (auto, bochs, bochs27, qemu-kvm, qemu-tcg)" ;;
esac
case $emulator in
bochs*) : "${timeout_s:=600}" ;;
*) : "${timeout_s:=120}"
   [ -z "$cpu_model" ] || die "--cpu-model is for Bochs; $emulator runs its own CPU"
   [ "$expect_reboot" = 0 ] || die "--expect-reboot is for Bochs, not $emulator"
   [ "$interactive" = 0 ] || die "--interactive is for Bochs, not $emulator" ;;
esac
: "${cpu_model:=$BOCHS_MODEL_DEFAULT}"

log=${log:-$ROOT/build/vm/serial.log}
mkdir -p "$(dirname "$log")"
log=$(cd "$(dirname "$log")" && pwd)/$(basename "$log")
emu_log=${log%.log}-emulator.log
[ "$emu_log" != "$log" ] || emu_log=$log-emulator.log
# Two runs writing one log would garble both: the second one stops here.
exec 9>"$log.lock"
flock -n 9 || die "another vm-run is writing $log; give this one its own --log FILE"

work=$(mktemp -d "${TMPDIR:-/tmp}/vmxlab-vm.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "vm-run: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# --- initramfs ------------------------------------------------------------

initrd_root=$work/root

# Copy the shared libraries (and the loader) a dynamic ELF executable needs,
# so a test binary that was not linked -static still runs in the VM.
add_libraries() {
	local f lib
	find "$@" -type f -perm -u+x 2>/dev/null | while read -r f; do
		[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
		ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
	done | sort -u | while read -r lib; do
		[ -e "$initrd_root$lib" ] || cp -L --parents "$lib" "$initrd_root"
	done
}

# Debian's KVM and msr modules, at their paths in the module tree, plus a
# depmod run so that modprobe resolves kvm_intel -> kvm -> irqbypass.
add_kernel_modules() {
	local src=$KIMG/lib/modules/$KVER dst=$initrd_root/lib/modules/$KVER m
	mkdir -p "$dst"
	for m in kernel/arch/x86/kvm/kvm.ko kernel/arch/x86/kvm/kvm-intel.ko \
		 kernel/virt/lib/irqbypass.ko kernel/arch/x86/kernel/msr.ko; do
		[ -f "$src/$m" ] || die "$src/$m missing: run scripts/setup.sh"
		mkdir -p "$dst/$(dirname "$m")"
		cp "$src/$m" "$dst/$m"
	done
	cp "$src"/modules.order "$src"/modules.builtin* "$dst/"
	depmod -b "$initrd_root" "$KVER"
}

# Quote one word for the VM's sh.
sh_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_init() {
	local args="" a script_stdin=/dev/null
	[ "$interactive" = 0 ] || script_stdin=/dev/console
	for a in "$@"; do args="$args $(sh_quote "$a")"; done
	cat > "$initrd_root/init" <<EOF
#!/bin/busybox sh
# Generated by scripts/vm-run.sh: run /vmxlab/run, dump dmesg, power off.
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
# Which emulator runs this VM, for tests whose CPU feature only some have.
export VMXLAB_EMULATOR=$emulator
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
cd /vmxlab
# The leading newline ends whatever the firmware left on the serial line.
echo
echo VMXLAB-RUN-BEGIN
sh /vmxlab/run$args <$script_stdin >/dev/console 2>&1
echo "VMXLAB-RUN-EXIT \$?"
# The module's exit path runs before the log is read.
grep -q '^vmxlab ' /proc/modules && { rmmod vmxlab || echo "VMXLAB-RMMOD-FAILED"; }
echo VMXLAB-DMESG-BEGIN
dmesg
echo VMXLAB-DMESG-END
echo VMXLAB-END
# Power off with vmxlab loaded, where it can load, so that its reboot
# notifier runs; the console shows its messages from here on.
if [ -f /vmxlab/vmxlab.ko ] && insmod /vmxlab/vmxlab.ko 2>/dev/null; then
	echo 7 > /proc/sys/kernel/printk
	echo VMXLAB-POWEROFF vmxlab-loaded
else
	echo VMXLAB-POWEROFF
fi
# poweroff does not wait for the serial port: a TCSADRAIN (what stty does
# when it sets a mode) blocks until the UART has sent every byte.
stty -F /dev/console onlcr
poweroff -f
EOF
	chmod 755 "$initrd_root/init"
}

build_initramfs() {
	local spec host vm dests=("$initrd_root/vmxlab/run")
	mkdir -p "$initrd_root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,vmxlab}
	cp /bin/busybox "$initrd_root/bin/busybox"
	# The kernel's built-in initramfs already has /dev/console; this is
	# for kernels without one (mknod needs root, hence the || true).
	mknod "$initrd_root/dev/console" c 5 1 2>/dev/null || true
	add_kernel_modules
	for spec in ${adds[@]+"${adds[@]}"}; do
		host=$spec vm=
		case $spec in *:/*) host=${spec%:/*} vm=/${spec##*:/} ;; esac
		[ -e "$host" ] || die "--add: no such file or directory: $host"
		[ -n "$vm" ] || vm=/vmxlab/$(basename "$host")
		[ "$vm" != / ] || die "--add: cannot replace the VM's root directory"
		mkdir -p "$initrd_root$(dirname "$vm")"
		rm -rf "${initrd_root:?}$vm"
		cp -a "$host" "$initrd_root$vm"
		dests+=("$initrd_root$vm")
	done
	cp "$script" "$initrd_root/vmxlab/run"
	add_libraries "${dests[@]}"
	write_init "$@"
	(cd "$initrd_root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 > "$work/initrd.gz"
}

# --- emulators ------------------------------------------------------------
#
# Each runs under timeout --foreground, so that Ctrl-C reaches the emulator
# too (plain timeout moves it out of the terminal's process group).

# The console shows errors only (loglevel=3), or with --expect-reboot also
# notices (loglevel=6): the boot banner and vmxlab's emergency lines.
console_level=3
[ "$expect_reboot" = 0 ] || console_level=6
cmdline="console=ttyS0,115200 quiet loglevel=$console_level mitigations=off nokaslr tsc=reliable log_buf_len=4M panic=-1${append:+ $append}"

# Bochs: isolinux CD, because Bochs has no direct kernel boot.  A triple
# fault or a panic's reboot (reboot=t: by triple fault) then stops Bochs
# (reset_on_triple_fault=0 + panic action=fatal) instead of booting again.
# With --expect-reboot the kernel resets through port 0xcf9 (reboot=p),
# which Bochs does like a reset button: the VM boots again (and a triple
# fault still stops it).
run_bochs() {
	local bochs=$1 iso=$work/iso display reboot=t com1="com1: enabled=1, mode=file, dev=$log"
	[ "$expect_reboot" = 0 ] || reboot=p
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
	cp "$KIMG/vmlinuz" "$iso/vmlinuz"
	cp "$work/initrd.gz" "$iso/initrd.gz"
	cat > "$iso/isolinux/isolinux.cfg" <<EOF
DEFAULT vmxlab
PROMPT 0
TIMEOUT 0
LABEL vmxlab
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz $cmdline reboot=$reboot tsc_early_khz=$((BOCHS_IPS / 1000))
EOF
	xorriso -as mkisofs -quiet -o "$work/test.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
		-boot-info-table "$iso" 2>"$work/xorriso.log" ||
		{ cat "$work/xorriso.log" >&2; die "xorriso failed"; }

	# Bochs 3.0 is built with nogui: no display, no listening socket.
	# Debian's 2.7 only has rfb, which binds the first free TCP port in
	# 5900-5949 on all interfaces (no option to choose): concurrent runs
	# take the next port; if all are taken Bochs panics and the run fails
	# with "RFB could not bind any port" in the emulator log.
	# Debian's 2.7 also loads its ALSA sound plugin, which aborts
	# ("buffer overflow detected") on a machine without a sound card.
	#
	# Info messages stay off: Bochs 3.0 logs its instruction rate from a
	# once-a-second signal handler, which deadlocks on the log lock when
	# the signal lands while Bochs is writing another message (seen in
	# gdb); the VM then freezes with a silent console.
	if [ "$interactive" = 1 ]; then
		com1_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		com1="com1: enabled=1, mode=socket-server, dev=127.0.0.1:$com1_port"
	fi
	if [ "$bochs" = "$BOCHS3" ]; then
		display='display_library: nogui'
	else
		display='display_library: rfb, options="timeout=0"
sound: driver=dummy'
	fi
	cat > "$work/bochsrc" <<EOF
megs: 512
cpu: model=$cpu_model, count=$cpus, ips=$BOCHS_IPS, reset_on_triple_fault=0
clock: sync=none, time0=$BOCHS_TIME0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=cdrom, path=$work/test.iso, status=inserted
boot: cdrom
$com1
$display
log: $emu_log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
	local args=(-q -f "$work/bochsrc")
	if [ "$bochs" = "$BOCHS27" ]; then
		# Debian's 2.7 has the debugger and stops at a prompt: continue.
		echo c > "$work/bochs.cmds"
		args+=(-rc "$work/bochs.cmds")
	fi
	# The watcher's kills (a hang; the second boot of --expect-reboot) are
	# for the verdict to report: no "Killed" notice from bash.
	if [ "$interactive" = 1 ]; then
		run_bochs_interactive "$bochs" "${args[@]}"
		return
	fi
	{ (cd "$work" && timeout --foreground -k 10 "$timeout_s" "$bochs" "${args[@]}" </dev/null >>"$emu_log" 2>&1); } 2>/dev/null
}

# --interactive: Bochs waits for a client on COM1's socket before it
# starts; the relay is that client, in the foreground on the terminal.
run_bochs_interactive() {
	local bochs=$1 pid status=0
	shift
	(cd "$work" && exec timeout -k 10 "$timeout_s" "$bochs" "$@" </dev/null >>"$emu_log" 2>&1) &
	pid=$!
	python3 "$ROOT/scripts/serial-relay.py" "127.0.0.1:$com1_port" "$log" ||
		pkill -KILL -f "$work/" || true
	wait "$pid" || status=$?
	return "$status"
}

run_qemu() {
	local accel=$1 cpu=$2
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
		-smp "$cpus" -m 512 -kernel "$KIMG/vmlinuz" -initrd "$work/initrd.gz" \
		-append "$cmdline" -nographic -monitor none -serial "file:$log" \
		-no-reboot </dev/null >>"$emu_log" 2>&1
}

# --- run ------------------------------------------------------------------

# The kernel boot banners of serial log $1, as "LINE-NUMBER:banner", but
# not the one of the kernel log that the init dumps (VMXLAB-DMESG-BEGIN to
# VMXLAB-DMESG-END), which is no new boot.
boot_banners() {
	awk -v banner="$BOOT_BANNER" '
		/^VMXLAB-DMESG-BEGIN/ { dump = 1 }
		/^VMXLAB-DMESG-END/ { dump = 0 }
		!dump && $0 ~ banner { print NR ":" $0 }' "$1"
}

# Kill the emulator (every process whose command line names our work
# directory) when the VM has hung: with --idle-timeout, once the serial
# log stops growing; always, once it has not powered off POWEROFF_S
# seconds after its end marker.  With --expect-reboot, also once a second
# boot banner shows that the VM reset and booted again: the second boot
# would only run the script once more.  The reason is left in $work.
watch_vm() {
	local last=-1 size quiet=0 ended=0
	while sleep 5; do
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then
			quiet=$((quiet + 5))
		else
			quiet=0
			last=$size
		fi
		if [ "$ended" -gt 0 ] || grep -q '^VMXLAB-END' "$log" 2>/dev/null; then
			ended=$((ended + 5))
		fi
		if [ "$expect_reboot" = 1 ] &&
		   [ "$(boot_banners "$log" | wc -l)" -ge 2 ]; then
			: > "$work/rebooted"
		elif [ "$idle_s" -gt 0 ] && [ "$quiet" -ge "$idle_s" ]; then
			: > "$work/idle"
		elif [ "$ended" -gt "$POWEROFF_S" ]; then
			: > "$work/poweroff-hung"
		else
			continue
		fi
		pkill -KILL -f "$work/" || true
		return
	done
}

start=$(date +%s)
build_initramfs "$@"
: > "$log"
: > "$emu_log"
emu_status=0
watch_vm &
watcher=$!
case $emulator in
bochs) run_bochs "$BOCHS3" || emu_status=$? ;;
bochs27) run_bochs "$BOCHS27" || emu_status=$? ;;
qemu-kvm) run_qemu kvm host || emu_status=$? ;;
qemu-tcg) run_qemu tcg qemu64 || emu_status=$? ;;
esac
wall=$(($(date +%s) - start))
kill "$watcher" 2>/dev/null || true

# --- verdict --------------------------------------------------------------

clean_log=$work/serial.txt
tr -d '\r' < "$log" > "$clean_log"
# What the first boot printed: all of it, or with --expect-reboot what came
# before the second boot banner.  Only the first boot is judged: the second
# need only reach its banner.  (After a reset Bochs starts the TSC at 0
# through IA32_TSC_ADJUST; the kernel puts that back to 0, "TSC ADJUST ...
# force to 0", so its clock jumps by the first boot's length and it may
# report an RCU stall before the watcher stops it.)
first_boot=$work/first-boot.txt
second_boot=$(boot_banners "$clean_log" | sed -n 2p)
if [ "$expect_reboot" = 1 ] && [ -n "$second_boot" ]; then
	head -n "$((${second_boot%%:*} - 1))" "$clean_log" > "$first_boot"
else
	cp "$clean_log" "$first_boot"
fi

# The script's output: from the begin marker to its exit marker (or to the
# end of the first boot when the VM died or reset on the way).  An
# interactive run has shown it already.
[ "$interactive" = 1 ] ||
	sed -n '/VMXLAB-RUN-BEGIN$/,/^VMXLAB-RUN-EXIT /{/^VMXLAB-RUN-/d;p}' "$first_boot"

status=$(sed -n 's/^VMXLAB-RUN-EXIT \([0-9]*\)$/\1/p' "$first_boot" | tail -n1)

# Bad lines of the first boot, minus those a test declared beforehand; the
# declared ones that did appear are counted in $work/expected.
bad=$(awk -v bad="$BAD_KERNEL_LINES|$BAD_VMXLAB_LINES" -v counted="$work/expected" '
	/VMXLAB-EXPECT-KLOG / {
		sub(/.*VMXLAB-EXPECT-KLOG /, "")
		expect[n++] = $0
		next
	}
	$0 ~ bad {
		for (i = 0; i < n; i++)
			if ($0 ~ expect[i]) { ok++; next }
		print
	}
	END { print ok + 0 > counted }' "$first_boot")
expected=$(cat "$work/expected")
grep -q '^VMXLAB-RMMOD-FAILED' "$clean_log" &&
	bad=$(printf '%s\nvmxlab could not be unloaded after the script' "$bad")

# --expect-reboot: one TAP result for each CPU's emergency line in the
# first boot, one for the second boot; sets $final.
judge_reboot() {
	local cpu line missing='' n=1

	echo "# vm-run: expect-reboot"
	echo "1..$((cpus + 1))"
	for ((cpu = 0; cpu < cpus; cpu++, n++)); do
		line=$(grep -m1 "$EMERGENCY_LINE $cpu " "$first_boot") || true
		if [ -n "$line" ]; then
			echo "ok $n vmxlab emergency callback on CPU $cpu"
			echo "#   $line"
		else
			echo "not ok $n vmxlab emergency callback on CPU $cpu"
			missing+=" $cpu"
		fi
	done
	if [ -n "$second_boot" ]; then
		echo "ok $n second boot after the emergency reboot"
		echo "#   ${second_boot#*:}"
	else
		echo "not ok $n second boot after the emergency reboot"
	fi

	if [ -z "$second_boot" ]; then
		if [ -n "$status" ]; then
			echo "vm-run: FAILED: the script ended (exit $status) instead of resetting the VM; serial log: $log"
		elif [ -e "$work/idle" ]; then
			echo "vm-run: FAILED: the VM hung: no serial output for ${idle_s}s (--idle-timeout), no second boot; serial log: $log"
		elif [ "$emu_status" = 124 ]; then
			echo "vm-run: FAILED: the VM did not boot again within ${timeout_s}s (--timeout); serial log: $log"
		else
			echo "vm-run: FAILED: the VM stopped without booting again ($emulator exit status $emu_status); serial log: $log, emulator log: $emu_log"
		fi
		final=3
	elif [ -n "$bad" ]; then
		echo "vm-run: FAILED: the kernel log shows warnings or errors (serial log: $log):"
		final=2
	elif [ -n "$missing" ]; then
		echo "vm-run: FAILED: the VM booted again, but vmxlab's emergency callback printed no line for CPU(s)$missing before the second boot; serial log: $log"
		final=1
	else
		final=0
	fi
	[ -z "$bad" ] || printf '%s\n' "$bad" | sed 's/^/vm-run: kernel: /'
}

if [ "$expect_reboot" = 1 ]; then
	judge_reboot
elif ! grep -qx 'VMXLAB-END' "$clean_log"; then
	if [ -e "$work/idle" ]; then
		echo "vm-run: FAILED: the VM hung: no serial output for ${idle_s}s (--idle-timeout); serial log: $log"
	elif [ "$emu_status" = 124 ]; then
		echo "vm-run: FAILED: the VM did not finish within ${timeout_s}s (--timeout); serial log: $log"
	else
		echo "vm-run: FAILED: the VM stopped before its end marker ($emulator exit status $emu_status); serial log: $log, emulator log: $emu_log"
		grep -E 'PANIC|ERROR|rror' "$emu_log" | grep -v 'soft power off' |
			tail -n 5 | sed 's/^/vm-run:   /' || true
	fi
	[ -z "$bad" ] || printf '%s\n' "$bad" | sed 's/^/vm-run: kernel: /'
	final=3
elif [ -e "$work/poweroff-hung" ] || [ -e "$work/idle" ] || [ "$emu_status" = 124 ]; then
	echo "vm-run: FAILED: the VM did not power off after its end marker (${POWEROFF_S}s allowed); serial log: $log"
	[ -z "$bad" ] || printf '%s\n' "$bad" | sed 's/^/vm-run: kernel: /'
	final=3
elif grep -q '^VMXLAB-POWEROFF vmxlab-loaded' "$clean_log" &&
     ! grep -q 'vmxlab: VMX off on every CPU for' "$clean_log"; then
	echo "vm-run: FAILED: powered off with vmxlab loaded, but its reboot notifier did not report VMX off; serial log: $log"
	final=2
elif [ -n "$bad" ]; then
	echo "vm-run: FAILED: the kernel log shows warnings or errors (serial log: $log):"
	printf '%s\n' "$bad" | sed 's/^/vm-run: kernel: /'
	final=2
else
	final=${status:-3}
fi
case $emulator in bochs*) model=" ($cpu_model)" ;; *) model= ;; esac
[ "$expected" = 0 ] || echo "vm-run: $expected kernel log line(s) were errors a test declared it would provoke (VMXLAB-EXPECT-KLOG)"
[ "$expect_reboot" = 0 ] || model+=", expect-reboot"
echo "vm-run: $emulator$model, $cpus cpu(s)${append:+, kernel args '$append'}, ${wall}s wall, script exit ${status:-none}"
exit "$final"
