#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages aoai-agent needs to build and test (with
# `extra`, to fuzz and benchmark too; with `deb`, to build and check the Debian
# packages, make deb), once.
# Idempotent: does nothing (and needs no root) when everything is present.
set -eu

BUILD_PKGS="build-essential pkg-config libcurl4-openssl-dev libssl-dev libsodium-dev
libjansson-dev libsystemd-dev libmicrohttpd-dev libxml2-dev"
TEST_PKGS="libcmocka-dev python3-pytest curl util-linux tcsh csh fish python3-azure python3-cryptography
python3-requests openssl git python3-pycurl valgrind python3-httpx python3-pip"
# make fuzz (clang's libFuzzer) and make bench (ssh-agent as a baseline, perf for profiles).
EXTRA_PKGS="clang-14 libclang-rt-14-dev openssh-client procps"
# make deb: dpkg-buildpackage, dh, lintian (debian/control's Build-Depends are BUILD_PKGS).
DEB_PKGS="dpkg-dev debhelper lintian"

want="$BUILD_PKGS"
case "${1:-build}" in
	build) ;;
	deb) want="$BUILD_PKGS $DEB_PKGS" ;;
	test | extra)
		want="$BUILD_PKGS $TEST_PKGS"
		[ "$1" = extra ] && want="$want $EXTRA_PKGS"
		# The aoai-exec tests install npm packages with npm; Debian's only when none is on PATH.
		command -v npm >/dev/null 2>&1 || want="$want nodejs npm"
		;;
	*) echo "usage: $0 [build|test|extra|deb]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
