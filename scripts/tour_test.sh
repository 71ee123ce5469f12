#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of the documentation checkers, scripts/tour.py and
# scripts/doc-refs.py: each case builds a small fake tree in a temporary
# directory, breaks it in one way, and expects the checker to fail and
# name the problem; the good tree must pass.  Prints TAP; each failure
# message of a checker is shown as a "#" line under its case.
#
#   scripts/tour_test.sh
#
# TOUR_PY and DOC_REFS_PY name other copies of the checkers to test (to
# see that every case can fail, give them a checker that accepts anything).

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOUR_PY=${TOUR_PY:-$ROOT/scripts/tour.py}
DOC_REFS_PY=${DOC_REFS_PY:-$ROOT/scripts/doc-refs.py}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "1..14"
n=0
failed=0

# ok_if STATUS DESCRIPTION: one TAP line.
ok_if() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

# The good tree: two C stops (one above a kernel-doc comment), two in
# assembly, the stops list, and its tour.rst.
good_tree() {
	local t=$TMP/$1

	rm -rf "$t"
	mkdir -p "$t/vmx" "$t/mmu" "$t/irq" "$t/Documentation" "$t/scripts"
	cat > "$t/vmx/run.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
/* T:010 Ask
 * Userspace asks first, because nothing runs otherwise.
 */
static int ask(void)
{
	return 0;
}

/* T:020 Answer
 * The answer comes second (SDM 1.2).
 */
/**
 * answer() - the answer
 *
 * Return: 42.
 */
int answer(void)
{
	return 42;
}

static int helper(void)
{
	return 1;
}
EOF
	cat > "$t/vmx/vmenter.S" <<'EOF'
/* SPDX-License-Identifier: GPL-2.0 */
/* T:030 Enter
 * The only assembly.
 */
SYM_FUNC_START(__enter)
	vmresume
/* T:040 Exit
 * Where the CPU comes back.
 */
SYM_INNER_LABEL(come_back, SYM_L_GLOBAL)
	ret
SYM_FUNC_END(__enter)
EOF
	printf '%s\n' '# test stops' '010 vmx/run.c ask' '020 vmx/run.c answer' \
		'030 vmx/vmenter.S __enter' '040 vmx/vmenter.S come_back' \
		> "$t/Documentation/tour.stops"
	python3 "$TOUR_PY" --root "$t" > /dev/null 2>&1
	echo "$t"
}

# expect_fail CASE PATTERN DIR: tour.py --check must fail and say PATTERN.
expect_fail() {
	local out status

	out=$(python3 "$TOUR_PY" --check --root "$3" 2>&1)
	status=$?
	sed 's/^/# /' <<< "$out"
	[ "$status" = 1 ] && grep -q -- "$2" <<< "$out"
	ok_if $? "tour.py --check fails: $1"
}

t=$(good_tree good)
out=$(python3 "$TOUR_PY" --check --root "$t" 2>&1)
status=$?
sed 's/^/# /' <<< "$out"
[ "$status" = 0 ] && grep -q '^\(``vmx/run.c``: ``answer()``\)$' "$t/Documentation/tour.rst" &&
	grep -q '^040. Exit$' "$t/Documentation/tour.rst" &&
	! grep -q 'helper' "$t/Documentation/tour.rst"
ok_if $? "tour.py: the good tree passes, stops in order, no stray function"

# Unrelated edits (lines added above a stop) must not make tour.rst stale.
t=$(good_tree shifted)
sed -i '1a /* A comment that moves every line down. */\n' "$t/vmx/run.c"
python3 "$TOUR_PY" --check --root "$t" > /dev/null 2>&1
ok_if $? "tour.py --check passes after an unrelated edit (no line numbers)"

t=$(good_tree moved)
# T:020 now sits above helper(), not answer().
python3 - "$t/vmx/run.c" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
marker = "/* T:020 Answer\n * The answer comes second (SDM 1.2).\n */\n"
s = s.replace(marker, "").replace("static int helper", marker + "static int helper")
open(p, "w").write(s)
EOF
python3 "$TOUR_PY" --root "$t" > /dev/null 2>&1
expect_fail "marker moved above another function" "sits above helper" "$t"

t=$(good_tree otherfile)
sed -i 's|^020 vmx/run.c answer|020 mmu/ept.c answer|' "$t/Documentation/tour.stops"
expect_fail "marker in another file than listed" "should be in mmu/ept.c" "$t"

t=$(good_tree repeated)
sed -i 's|T:040 Exit|T:030 Exit|' "$t/vmx/vmenter.S"
expect_fail "number repeated" "T:030 repeats the number" "$t"

t=$(good_tree stale)
sed -i 's|comes second|comes later|' "$t/vmx/run.c"
expect_fail "stale tour.rst" "tour.rst is stale" "$t"

t=$(good_tree unlisted)
sed -i '/^040 /d' "$t/Documentation/tour.stops"
expect_fail "marker not listed in tour.stops" "T:040 (come_back) is not listed" "$t"

t=$(good_tree gone)
sed -i 's|/\* T:010 Ask|/* Ask|' "$t/vmx/run.c"
expect_fail "listed marker gone" "no such marker" "$t"

t=$(good_tree nofunction)
sed -i 's|^static int ask(void)$|\n\n\nstatic int ask(void)|' "$t/vmx/run.c"
expect_fail "no function within 3 lines of the marker" "not followed by a function" "$t"

t=$(good_tree malformed)
sed -i 's|T:010 Ask|T:10 Ask|' "$t/vmx/run.c"
expect_fail "malformed marker number" "malformed marker" "$t"

# doc-refs.py: a tiny tree with one document and one allowlisted name.
doc_tree() {
	local t=$TMP/$1

	rm -rf "$t"
	mkdir -p "$t/vmx" "$t/scripts" "$t/Documentation"
	printf '%s\n' 'int real_function(void)' '{' '	return 0;' '}' > "$t/vmx/real.c"
	printf '%s\n' '# external' 'printk  # Linux logging' > "$t/scripts/doc-refs.allow"
	printf '%s\n' 'Refs' '====' '' \
		'``real_function()`` in ``vmx/real.c`` calls ``printk()``;' \
		'see ``other.rst``.' > "$t/Documentation/one.rst"
	printf '%s\n' 'Other' '=====' > "$t/Documentation/other.rst"
	echo "$t"
}

# expect_refs CASE STATUS PATTERN DIR
expect_refs() {
	local out status

	out=$(python3 "$DOC_REFS_PY" --root "$4" 2>&1)
	status=$?
	sed 's/^/# /' <<< "$out"
	[ "$status" = "$2" ] && grep -q -- "$3" <<< "$out"
	ok_if $? "doc-refs.py: $1"
}

t=$(doc_tree refs-good)
expect_refs "the good tree passes (allowlisted printk())" 0 "no stale one" "$t"

t=$(doc_tree refs-func)
echo 'And ``gone_function()`` is gone.' >> "$t/Documentation/one.rst"
expect_refs "a stale gone_function() is flagged" 1 "one.rst:6: gone_function()" "$t"

t=$(doc_tree refs-path)
echo 'See README and ``scripts/gone.sh``.' >> "$t/Documentation/one.rst"
printf '%s\n' 'vmxlab' 'Read vmx/gone.c first.' > "$t/README"
out=$(python3 "$DOC_REFS_PY" --root "$t" 2>&1)
status=$?
sed 's/^/# /' <<< "$out"
[ "$status" = 1 ] && grep -q 'one.rst:6: scripts/gone.sh' <<< "$out" &&
	grep -q 'README:2: vmx/gone.c' <<< "$out"
ok_if $? "doc-refs.py: stale paths in an .rst and in README are flagged"

t=$(doc_tree refs-rst)
rm "$t/Documentation/other.rst"
expect_refs "a stale other.rst is flagged" 1 "other.rst: no such document" "$t"

[ "$failed" = 0 ]
