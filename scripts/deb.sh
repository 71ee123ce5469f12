#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb`: build the Debian packages vmxlab-dkms and vmxlab-tools with
# dpkg-buildpackage from a copy of the tree's files (tracked, and new ones
# not ignored) in build/deb/src, then run lintian on them, failing on any
# tag down to the pedantic level (justified exceptions would go in
# debian/*.lintian-overrides).  The packages, .buildinfo and .changes end
# up in build/deb/.  Installs what it needs.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=build/deb

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
need="debhelper dh-dkms dkms dpkg-dev fakeroot lintian"
missing=
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deb: installing:$missing"
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# One version: debian/changelog must say what VERSION says.
version=$(cat VERSION)
changelog=$(dpkg-parsechangelog -S Version)
if [ "$version" != "$changelog" ]; then
	echo "deb: VERSION says $version, debian/changelog $changelog" >&2
	exit 1
fi

rm -rf "$OUT"
mkdir -p "$OUT/src"
git ls-files -co --exclude-standard | grep -v '^build/' | tar -cf - -T - |
	tar -xf - -C "$OUT/src"
(cd "$OUT/src" && dpkg-buildpackage -us -uc -b)
ls "$OUT"/*.deb
echo "==> deb: lintian"
lintian --info --pedantic --fail-on error,warning,info,pedantic "$OUT"/*.changes
echo "deb: packages in $OUT/"
