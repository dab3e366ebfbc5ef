#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: the agent at work against a local stand-in for Azure OpenAI.
# Everything runs on 127.0.0.1 in a temporary directory that is removed at
# the end; the key is a random fake, made up for this run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${AOAI_BUILD:-./build}" && pwd)
agent_bin="$build/bin/aoai-agent"
aoai_bin="$build/bin/aoai"
python=/usr/bin/python3
fake="$here/fakes/fake_aoai.py"
fake_identity="$here/fakes/fake_identity.py"
jwt_rs256="$here/fakes/jwt_rs256.py"
for f in "$agent_bin" "$aoai_bin" "$build/lib/libaoai-preload.so"; do
	[ -x "$f" ] || { echo "demo: $f is missing; run make first" >&2; exit 1; }
done
[ -x "$python" ] || { echo "demo: $python is needed for the stand-in endpoint" >&2; exit 1; }
command -v curl >/dev/null || { echo "demo: curl is needed" >&2; exit 1; }

tmp=$(mktemp -d /tmp/aoai-demo.XXXXXX)
agent_pid=""
fake_pid=""
identity_pid=""
entra_pid=""
cleanup() {
	local rc=$?
	exec 3<&- 4<&- 5<&- 6<&-
	if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
		kill -TERM "$agent_pid" 2>/dev/null || true
		wait "$agent_pid" 2>/dev/null || true
	fi
	for pid in "$fake_pid" "$identity_pid" "$entra_pid"; do
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$tmp"
	if [ "$rc" -ne 0 ]; then
		echo "demo: failed (exit $rc)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private environment: nothing of the user's own agent or config is touched.
mkdir -m 0700 "$tmp/run" "$tmp/config" "$tmp/home"
export XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp/home"
unset AOAI_AGENT_PID NOTIFY_SOCKET
sock="$tmp/agent.sock"
export AOAI_AUTH_SOCK="$sock"
PATH="$build/bin:$PATH"

step=0
bold="" plain=""
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
heading() {
	step=$((step + 1))
	printf '\n%s== %d. %s%s\n' "$bold" "$step" "$1" "$plain"
}
show() { # prints a command line, then runs it
	printf '$ %s\n' "$*"
	"$@"
}

# Reads lines from fd $1 until one matches $2; fails after 10 s or at EOF.
wait_line() {
	local fd=$1 pattern=$2 line
	while IFS= read -r -t 10 -u "$fd" line; do
		if [[ $line == *$pattern* ]]; then
			printf '%s\n' "$line"
			return 0
		fi
	done
	echo "demo: timed out waiting for '$pattern'" >&2
	return 1
}

heading "Start stand-ins for Azure OpenAI and the managed-identity endpoint (IMDS) on loopback"
(umask 077 && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/demo.key")
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/jwt.key")
mkfifo "$tmp/identity.out"
"$python" "$fake_identity" --jwt-key-file "$tmp/jwt.key" --max-lifetime 300 \
	>"$tmp/identity.out" 2>"$tmp/identity.err" &
identity_pid=$!
exec 5<"$tmp/identity.out"
ready=$(wait_line 5 "listening on 127.0.0.1:")
imds="http://127.0.0.1:${ready##*:}/metadata/identity/oauth2/token"
echo "fake IMDS: $imds"
# A second stand-in signs RS256 and publishes its keys, as Entra does, for aoai check.
"$python" "$jwt_rs256" genkey --out "$tmp/signing.key"
mkfifo "$tmp/entra.out"
"$python" "$fake_identity" --jwt-key-file "$tmp/jwt.key" --signing-key-file "$tmp/signing.key" \
	--max-lifetime 300 >"$tmp/entra.out" 2>"$tmp/entra.err" &
entra_pid=$!
exec 6<"$tmp/entra.out"
ready=$(wait_line 6 "listening on 127.0.0.1:")
entra="http://127.0.0.1:${ready##*:}"
echo "fake Entra ID (RS256, OpenID configuration and keys): $entra"
mkfifo "$tmp/fake.out"
"$python" "$fake" --key-file "$tmp/demo.key" --jwt-key-file "$tmp/jwt.key" --max-lifetime 300 \
	>"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
exec 3<"$tmp/fake.out"
ready=$(wait_line 3 "listening on 127.0.0.1:")
port=${ready##*:}
path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
url="http://127.0.0.1:$port$path"
vm_url="http://localhost:$port$path"
echo "fake endpoint: $ready (it accepts the key in $tmp/demo.key, or a token from the fake IMDS)"

heading "Write a demo configuration: an api-key profile and two managed-identity profiles"
cat >"$tmp/config.json" <<EOF
{
  "profiles": {
    "demo": {
      "hosts": ["127.0.0.1:$port"],
      "credential": { "type": "api-key" }
    },
    "vm": {
      "hosts": ["localhost:$port"],
      "credential": { "type": "managed-identity", "endpoint": "$imds" }
    },
    "gateway": {
      "hosts": ["apim.invalid"],
      "credential": { "type": "managed-identity",
                      "endpoint": "$entra/metadata/identity/oauth2/token" }
    }
  }
}
EOF
chmod 0600 "$tmp/config.json"
cat "$tmp/config.json"

heading "Start the agent (foreground; it prints its environment once listening)"
mkfifo "$tmp/agent.out"
"$agent_bin" -D -s -a "$sock" -f "$tmp/config.json" >"$tmp/agent.out" 2>"$tmp/agent.log" &
agent_pid=$!
exec 4<"$tmp/agent.out"
printf '$ aoai-agent -D -s -a %s -f %s\n' "$sock" "$tmp/config.json"
wait_line 4 "AOAI_AUTH_SOCK"
wait_line 4 "AOAI_AGENT_PID"

heading "aoai list — the profile exists, but its key has not been added yet"
show aoai list

heading "aoai add demo — the key is read from stdin, never from the command line"
printf '$ aoai add demo < demo.key\n'
aoai add demo <"$tmp/demo.key"

heading "aoai list — ready; the secret is shown only by its fingerprint"
show aoai list

heading "aoai headers URL — what a client gets (this demo key is a random fake)"
show aoai headers "$url"

body='{"messages":[{"role":"user","content":"Say hello"}]}'
# Shows and runs `aoai headers URL | curl -H @- URL`; the fake must answer 200.
chat_with_agent_headers() {
	local u=$1 code
	printf "\$ aoai headers '%s' | curl -s -H @- -d '%s' '%s'\n" "$u" "$body" "$u"
	code=$(aoai headers "$u" | curl -sS --max-time 10 -o "$tmp/resp.json" -w '%{http_code}' \
		-H @- -H 'Content-Type: application/json' -d "$body" "$u")
	echo "HTTP $code"
	"$python" -m json.tool "$tmp/resp.json"
	[ "$code" = 200 ] || { echo "demo: expected 200 with the agent's headers" >&2; return 1; }
}

heading "curl without the agent's headers"
printf "\$ curl -s -d '%s' '%s'\n" "$body" "$url"
code=$(curl -sS --max-time 10 -o "$tmp/resp.json" -w '%{http_code}' \
	-H 'Content-Type: application/json' -d "$body" "$url")
echo "HTTP $code"
cat "$tmp/resp.json"
[ "$code" = 401 ] || { echo "demo: expected 401 without a key" >&2; exit 1; }

heading "aoai headers URL | curl -H @- URL"
chat_with_agent_headers "$url"

heading "The libcurl hook: plain curl, the header added inside the process"
preload="$build/lib/libaoai-preload.so"
printf "\$ LD_PRELOAD=%s curl -s -d '%s' '%s'\n" "$preload" "$body" "$url"
code=$(LD_PRELOAD="$preload" curl -sS --max-time 10 -o "$tmp/resp.json" -w '%{http_code}' \
	-H 'Content-Type: application/json' -d "$body" "$url")
echo "HTTP $code"
[ "$code" = 200 ] || { echo "demo: expected 200 through the hook" >&2; exit 1; }

heading "aoai token vm — an Entra ID token from the managed identity (a fake JWT)"
show aoai token vm --json

heading "aoai list — the token's source, expiry and next refresh"
show aoai list

heading "aoai headers URL | curl -H @- URL, with the bearer token"
chat_with_agent_headers "$vm_url"

heading "aoai-exec — an unmodified Azure SDK client (python3-azure) gets the agent's token"
exec_bin="$build/bin/aoai-exec"
[ -x "$exec_bin" ] || { echo "demo: $exec_bin is missing; run make first" >&2; exit 1; }
cat >"$tmp/sdk_client.py" <<'EOF'
import json, os, sys, time, urllib.request
from azure.identity import DefaultAzureCredential

tok = DefaultAzureCredential().get_token("https://cognitiveservices.azure.com/.default")
print(f"DefaultAzureCredential: a token of {len(tok.token)} characters, "
      f"expiring in {tok.expires_on - int(time.time())} s (from {os.environ['IDENTITY_ENDPOINT']})")
url = os.environ["AZURE_OPENAI_ENDPOINT"] + sys.argv[1].lstrip("/")
req = urllib.request.Request(url, data=sys.argv[2].encode(), method="POST",
                             headers={"Authorization": "Bearer " + tok.token,
                                      "Content-Type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(req, timeout=10) as r:
    print(f"POST {url}: HTTP {r.status}")
    print(json.loads(r.read())["choices"][0]["message"]["content"])
EOF
printf '$ aoai-exec -p vm -- python3 sdk_client.py   # DefaultAzureCredential, then one chat request\n'
"$exec_bin" -p vm -- "$python" "$tmp/sdk_client.py" "$path" "$body"

heading "aoai check — why would an API Management gateway answer 401?"
printf '$ AZURE_AUTHORITY_HOST=%s aoai check --profile gateway --audience api://contoso-gateway\n' \
	"$entra"
rc=0
AZURE_AUTHORITY_HOST="$entra" aoai check --profile gateway --audience api://contoso-gateway || rc=$?
echo "exit $rc: the token is genuine and fresh, but issued for another audience"
[ "$rc" = 1 ] || { echo "demo: expected aoai check to fail the audience" >&2; exit 1; }

heading "Stop everything and clean up"
show aoai remove demo
kill -TERM "$agent_pid"
rc=0
wait "$agent_pid" || rc=$?
agent_pid=""
echo "agent stopped (exit $rc); socket removed: $([ -e "$sock" ] && echo no || echo yes)"
kill -TERM "$fake_pid" "$identity_pid" "$entra_pid"
wait "$fake_pid" "$identity_pid" "$entra_pid" || true
fake_pid="" identity_pid="" entra_pid=""
echo "done: the temporary directory $tmp is removed on exit"
