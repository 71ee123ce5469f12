#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make lint`: the module must build without a single warning at W=1, be
# clean under sparse (C=1), and every C source and header of the project
# must pass checkpatch.pl --strict, the man pages (Documentation/man/)
# must render without warnings and the .rst files parse without docutils
# warnings.  Runs all five, prints what each one
# found, and exits non-zero if any found anything.  Builds against the VM's
# kernel headers (the kernel version scripts/setup.sh cached).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
[ -f "$CACHE/kernel-version" ] || { echo "lint: run scripts/setup.sh first" >&2; exit 1; }
KVER=$(cat "$CACHE/kernel-version")
KDIR=/usr/src/linux-headers-$KVER
CHECKPATCH=$CACHE/linux-src/scripts/checkpatch.pl
OUT=build/lint
mkdir -p "$OUT"

failed=()

# Module sources: everything Kbuild compiles lives in these directories.
module_sources() { find vmx mmu irq -name '*.[cS]' 2>/dev/null; }

# Build the module with extra make arguments; fail on a failed build or on
# any line of its output matching the pattern.  Kbuild only recompiles (and
# only runs sparse on) what changed, so touch the sources first.
lint_build() {
	local name=$1 pattern=$2 status=0
	shift 2
	echo "==> lint: $name (make module $*)"
	module_sources | xargs -r touch
	make module KDIR="$KDIR" "$@" > "$OUT/$name.log" 2>&1 || status=$?
	if [ "$status" != 0 ]; then
		cat "$OUT/$name.log"
		echo "lint: $name: build failed (status $status)"
		failed+=("$name")
	elif grep -Ei "$pattern" "$OUT/$name.log"; then
		echo "lint: $name: the lines above must go"
		failed+=("$name")
	else
		echo "lint: $name: clean"
	fi
}

lint_build W=1 '(^|[[:space:]:])warning:' W=1
command -v sparse >/dev/null || { echo "lint: sparse missing: run scripts/setup.sh" >&2; exit 1; }
lint_build sparse '(^|[[:space:]:])(warning|error):' C=1

echo "==> lint: checkpatch --strict"
[ -f "$CHECKPATCH" ] || { echo "lint: $CHECKPATCH missing: run scripts/setup.sh" >&2; exit 1; }
mapfile -t files < <(find vmx mmu irq include tools selftests \
	-path selftests/out -prune -o -name '*.[ch]' -print 2>/dev/null | LC_ALL=C sort)
if [ "${#files[@]}" = 0 ]; then
	echo "lint: checkpatch: no sources found"
else
	# checkpatch's exit status ignores CHECKs: judge by its output, and
	# by the status only when the output names nothing (checkpatch broke).
	status=0
	"$CHECKPATCH" --strict --no-tree --show-types --terse -f "${files[@]}" \
		> "$OUT/checkpatch.log" 2>&1 || status=$?
	if grep -E ':[[:space:]]*(ERROR|WARNING|CHECK):' "$OUT/checkpatch.log"; then
		echo "lint: checkpatch: the lines above must go"
		failed+=(checkpatch)
	elif [ "$status" != 0 ]; then
		cat "$OUT/checkpatch.log"
		echo "lint: checkpatch exited with status $status"
		failed+=(checkpatch)
	else
		echo "lint: checkpatch: ${#files[@]} files clean"
	fi
fi

# The man pages must render without a warning (man-db's groff checks).
echo "==> lint: man pages (man --warnings)"
man_bad=0 pages=0
for page in Documentation/man/*.[1-9]; do
	pages=$((pages + 1))
	warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || true
	if [ -n "$warnings" ]; then
		echo "$page: $warnings"
		man_bad=1
	fi
done
if [ "$man_bad" = 0 ]; then
	echo "lint: man: $pages pages clean"
else
	echo "lint: man: the warnings above must go"
	failed+=(man)
fi

# The Documentation must parse: a malformed table or title is a bug in
# what the reader gets.
echo "==> lint: Documentation (docutils)"
if scripts/rst-check.py Documentation/*.rst; then
	echo "lint: docs: clean"
else
	echo "lint: docs: the lines above must go"
	failed+=(docs)
fi

if [ "${#failed[@]}" != 0 ]; then
	echo "lint: FAILED: ${failed[*]}"
	exit 1
fi
echo "lint: all clean"
