#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke test of the installed Debian packages (make deb, then
# apt-get install ./build/deb/*.deb): the programs in /usr/bin, with no build
# tree, start an agent, take a key, hand out headers and a token from a local
# stand-in for the managed-identity endpoint, run aoai-check from
# /usr/libexec and put the hook from its private directory into LD_PRELOAD.
# Loopback only, in a temporary directory that is removed at the end; the key
# is a random fake made up for this run.  Bounded: two minutes at most.
set -euo pipefail

if [ -z "${AOAI_SMOKE_BOUNDED:-}" ]; then
	AOAI_SMOKE_BOUNDED=1 exec timeout 120 "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
bindir=${AOAI_SMOKE_BINDIR:-/usr/bin}
python=/usr/bin/python3
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
hook="/usr/lib/$multiarch/aoai/libaoai-preload.so"

tmp=$(mktemp -d /tmp/aoai-deb-smoke.XXXXXX)
agent_pid=""
identity_pid=""
cleanup() {
	local rc=$? pid
	exec 3<&- || true
	for pid in "$agent_pid" "$identity_pid"; do
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$tmp"
	if [ "$rc" -eq 0 ]; then
		echo "deb-smoke: ok"
	else
		echo "deb-smoke: failed (exit $rc)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "deb-smoke: $*" >&2
	exit 1
}
step() { echo "deb-smoke: $*"; }

# A private environment: nothing of the user's own agent or config is touched.
mkdir -m 0700 "$tmp/run" "$tmp/config" "$tmp/home"
export XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp/home"
unset AOAI_AGENT_PID NOTIFY_SOCKET LD_PRELOAD
sock="$tmp/agent.sock"
export AOAI_AUTH_SOCK="$sock"
PATH="$bindir:/usr/bin:/bin"

for f in aoai-agent aoai aoai-exec aoai-relay; do
	[ -x "$bindir/$f" ] || fail "$bindir/$f is missing"
done
[ -f "$hook" ] || fail "$hook is missing"
# Installed programs find libaoai in the system's library path, not by an rpath.
if readelf -d "$bindir/aoai" /usr/libexec/aoai/aoai-check | grep -qE 'R(UN)?PATH'; then
	fail "an installed program carries an rpath"
fi

step "a stand-in for the managed-identity endpoint on 127.0.0.1"
(umask 077 && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/fake.key")
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/jwt.key")
mkfifo "$tmp/identity.out"
"$python" "$here/fakes/fake_identity.py" --jwt-key-file "$tmp/jwt.key" --max-lifetime 100 \
	>"$tmp/identity.out" 2>"$tmp/identity.err" &
identity_pid=$!
exec 3<"$tmp/identity.out"
port=""
while IFS= read -r -t 10 -u 3 line; do
	case $line in "listening on 127.0.0.1:"*) port=${line##*:} && break ;; esac
done
[ -n "$port" ] || fail "the fake identity endpoint did not start: $(cat "$tmp/identity.err")"

cat >"$tmp/config.json" <<EOF
{
  "profiles": {
    "demo": { "hosts": ["127.0.0.1:9"], "credential": { "type": "api-key" } },
    "vm": {
      "hosts": ["localhost:9"],
      "credential": { "type": "managed-identity",
                      "endpoint": "http://127.0.0.1:$port/metadata/identity/oauth2/token" }
    }
  }
}
EOF
chmod 0600 "$tmp/config.json"

step "$bindir/aoai-agent"
"$bindir/aoai-agent" -D -s -a "$sock" -f "$tmp/config.json" >"$tmp/agent.out" 2>"$tmp/agent.log" &
agent_pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$agent_pid" 2>/dev/null || fail "the agent exited: $(cat "$tmp/agent.log")"
	sleep 0.1
done
[ -S "$sock" ] || fail "the agent did not listen on $sock"

step "aoai add, aoai headers"
aoai add demo <"$tmp/fake.key"
headers=$(aoai headers "http://127.0.0.1:9/openai/v1/models")
grep -qx "api-key: $(cat "$tmp/fake.key")" <<<"$headers" || fail "aoai headers: no api-key header"

step "aoai token (fake managed identity)"
token=$(aoai token vm)
[[ $token =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] || fail "aoai token: not a JWT"

step "aoai check (/usr/libexec/aoai/aoai-check)"
aoai check --help | grep -q validate-azure-ad-token || fail "aoai check --help"

step "aoai-exec puts $hook into LD_PRELOAD"
# shellcheck disable=SC2016 # the child expands it
preload=$(aoai-exec -p demo --no-relay -- /bin/sh -c 'printf %s "$LD_PRELOAD"')
[ "${preload%%:*}" = "$hook" ] || fail "aoai-exec: LD_PRELOAD is '$preload'"

# libaoai-dev: a program built with `pkg-config aoai` against /usr/include
# and the system's libaoai.so asks the running agent for the headers.
if command -v cc >/dev/null && command -v pkg-config >/dev/null; then
	step "a program built with pkg-config aoai"
	cat >"$tmp/client.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <aoai.h>

int main(int argc, char **argv)
{
	struct aoai_conn *c = NULL;
	struct aoai_headers *h = NULL;
	int r = aoai_connect(NULL, &c);

	if (r == 0)
		r = aoai_get_headers(c, argv[argc - 1], &h);
	if (r != 0) {
		fprintf(stderr, "%s\n", aoai_strerror(r));
		return 1;
	}
	r = !(aoai_headers_count(h) == 1 && strcmp(aoai_header_name(h, 0), "api-key") == 0);
	aoai_headers_free(h);
	aoai_close(c);
	return r;
}
C
	# shellcheck disable=SC2046
	cc -o "$tmp/client" "$tmp/client.c" $(pkg-config --cflags --libs aoai)
	"$tmp/client" "http://127.0.0.1:9/openai/v1/models" || fail "the libaoai client failed"
fi
