#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The documentation layer of `make check`, as one TAP stream (plan first):
#   1  scripts/tour.py --check: Documentation/tour.rst is what `make tour`
#      writes, and every T:NNN marker matches Documentation/tour.stops;
#   2  scripts/doc-refs.py: no function or path named in Documentation/
#      or README is gone from the tree;
#   3- scripts/tour_test.sh: the self-test of those two checkers.
# A few seconds; no build and no VM.  make check-docs runs it alone.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

tour=$(scripts/tour.py --check 2>&1)
tour_status=$?
refs=$(scripts/doc-refs.py 2>&1)
refs_status=$?
selftest=$(scripts/tour_test.sh 2>&1)
plan=$(sed -n '1s/^1\.\.\([0-9][0-9]*\)$/\1/p' <<< "$selftest")

if [ -z "$plan" ]; then
	# The self-test broke before its plan: count it as one failure.
	echo "1..3"
	selftest=$(printf 'not ok 1 tour_test.sh printed no plan\n%s' \
		"$(sed 's/^/# /' <<< "$selftest")")
else
	echo "1..$((plan + 2))"
	selftest=$(sed 1d <<< "$selftest")
fi

sed 's/^/# /' <<< "$tour"
[ "$tour_status" = 0 ] && echo "ok 1 docs: tour.py --check" ||
	echo "not ok 1 docs: tour.py --check (run make tour, fix tour.stops)"
sed 's/^/# /' <<< "$refs"
[ "$refs_status" = 0 ] && echo "ok 2 docs: doc-refs.py" ||
	echo "not ok 2 docs: doc-refs.py (stale references above)"
# The self-test's own numbers, shifted past the two checks above.
awk '$1 == "ok" && $2 ~ /^[0-9]+$/ { $2 = $2 + 2 " docs:" }
     $1 == "not" && $2 == "ok" && $3 ~ /^[0-9]+$/ { $3 = $3 + 2 " docs:" }
     { print }' <<< "$selftest"

! grep -q '^not ok' <<< "$selftest" && [ "$tour_status" = 0 ] &&
	[ "$refs_status" = 0 ]
