#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the packages of `make deb` (DIR, default build/deb) on this
# machine, runs tests/deb-smoke.sh against them, purges them and checks that
# nothing they installed, nor the user-unit enablement, is left behind.
# Root only, on a throwaway machine (CI); the machine ends as it began.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-build/deb}
pkgs="aoai-agent libaoai1 libaoai-dev"
export DEBIAN_FRONTEND=noninteractive

fail() {
	echo "deb-install-cycle: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || fail "run as root"
debs=()
for p in $pkgs; do
	f=$(find "$dir" -maxdepth 1 -name "${p}_*.deb" | head -n 1)
	[ -n "$f" ] || fail "no ${p}_*.deb in $dir"
	debs+=("$(realpath "$f")")
done

apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
tmp=$(mktemp -d /tmp/aoai-deb-cycle.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
dpkg -L $pkgs | sort -u >"$tmp/files"
[ -L /etc/systemd/user/sockets.target.wants/aoai-agent.socket ] ||
	fail "aoai-agent.socket is not enabled for every user"
[ ! -e /etc/systemd/user/sockets.target.wants/aoai-relay.socket ] ||
	fail "aoai-relay.socket is enabled, but it is opt-in"

"$here/deb-smoke.sh"

# shellcheck disable=SC2086
apt-get purge -y -qq $pkgs >/dev/null
# shellcheck disable=SC2086
for p in $pkgs; do
	if dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^.[^n]'; then
		fail "$p is still known to dpkg after purge"
	fi
done
# Files and links must be gone; a directory may stay when another package
# owns it or something else lives in it.
left=0
while IFS= read -r f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	if [ -d "$f" ] && [ ! -L "$f" ]; then
		dpkg-query -S "$f" >/dev/null 2>&1 && continue
		[ -n "$(ls -A "$f")" ] && continue
	fi
	echo "deb-install-cycle: left behind: $f" >&2
	left=1
done <"$tmp/files"
stale=$(find /etc/systemd /var/lib/systemd -name '*aoai*' 2>/dev/null || true)
[ -z "$stale" ] || { echo "deb-install-cycle: left behind: $stale" >&2; left=1; }
[ "$left" -eq 0 ] || fail "purge left files behind"
echo "deb-install-cycle: installed, smoke-tested, purged: nothing left behind"
