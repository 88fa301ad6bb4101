#!/usr/bin/env bash
# Property-based API test: starts the debug server (target/debug/koers-server, built by
# scripts/test.sh; KOERS_SERVER_BIN overrides) on 127.0.0.1:8096 (public address
# http://localhost:8096: passkeys need a domain name) with a temporary data folder, enrols the
# first administrator with a software passkey (tests/api/professionals.ts, run by node after
# esbuild), founds a plan through the API as that administrator and runs Schemathesis against
# /api/openapi.json with the administrator's session token (operations of the `session_token`
# scheme) and the foster-care worker's device token (those of `device_token`).
# Fails (non-zero) on any 5xx, and on any response that is not what the document says.
# Needs .venv-test (scripts/setup.sh --test) and node_modules (esbuild).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=8096
ADDR=127.0.0.1:$PORT
BASE="http://localhost:$PORT"
SERVER=${KOERS_SERVER_BIN:-target/debug/koers-server}
SCHEMATHESIS=.venv-test/bin/schemathesis
[ -x "$SERVER" ] || { echo "$SERVER is missing: run cargo build -p koers-server first." >&2; exit 2; }
[ -x "$SCHEMATHESIS" ] || { echo "$SCHEMATHESIS is missing: run scripts/setup.sh --test first." >&2; exit 2; }
[ -f dist/index.html ] || { echo "dist/index.html is missing: run scripts/build.sh first." >&2; exit 2; }
ESBUILD=node_modules/.bin/esbuild
[ -x "$ESBUILD" ] || { echo "$ESBUILD is missing: run npm ci first." >&2; exit 2; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

KOERS_ADDR=$ADDR KOERS_PUBLIC_URL=$BASE KOERS_DATA="$work/data" KOERS_DIST=dist RUST_LOG=warn \
  "$SERVER" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "The server did not start:" >&2; cat "$work/server.log" >&2; exit 1
  fi
  sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null

# Professionals: the first administrator (from the link the server printed), a second session of
# hers (for the sign-out operation, so that the first one lasts the whole run), a colleague (for
# the deactivation path) and an open enrolment (for the revocation path).
"$ESBUILD" tests/api/professionals.ts --bundle --platform=node --format=esm --log-level=warning \
  --outfile="$work/professionals.mjs"
read -r SESSION SPARE_SESSION ACCOUNT ENROLMENT < <(node "$work/professionals.mjs" "$BASE" "$work/server.log")
[ -n "$ENROLMENT" ] || { echo "Enrolling the professionals failed (see above)." >&2; exit 1; }

# Found a plan, as the signed-in administrator: the worker's own member (name, role
# foster_care_worker), the child's name, a parent member and a goal; then registers a device for
# the parent and opens one more invite, so that the device and invite paths have real ids to work
# on (the worker's own device is never revoked), and registers one more device for the parent,
# whose token the token renewal gets (a renewal ends the old token). Prints
# "<plan> <worker's token> <parent's device> <open invite> <spare device token>".
read -r PLAN TOKEN DEVICE INVITE SPARE_TOKEN < <(python3 - "$BASE" "$SESSION" <<'PY'
import json, random, sys, time, urllib.request, uuid

base, session = sys.argv[1], sys.argv[2]
plan, worker, parent, goal = (str(uuid.uuid4()) for _ in range(4))
node = f"{random.getrandbits(64):016x}"
millis = int(time.time() * 1000)
counter = 0

def op(entity, field, value):
    global counter
    counter += 1
    return {
        "id": str(uuid.uuid4()),
        "plan": plan,
        "hlc": f"{millis:018d}-{counter:07d}-{node}",
        "author": worker,
        "entity": entity,
        "field": field,
        "value": value,
    }

ops = [
    op(f"member:{worker}", "role", "foster_care_worker"),
    op(f"member:{worker}", "name", "Lotte"),
    op("plan", "child_name", "Noa"),
    op(f"member:{parent}", "name", "Sanne"),
    op(f"member:{parent}", "role", "parent"),
    op(f"goal:{goal}", "title", "Weekly visits"),
    op(f"goal:{goal}", "owner", "parent"),
]
def post(path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{base}{path}", data=json.dumps(body).encode(), method="POST", headers=headers
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)

created = post("/api/plans", {"ops": ops, "device_name": "schemathesis"}, session)
token = created["device_token"]
invites = f"/api/plans/{plan}/invites"
code = post(invites, {"member": parent}, token)["code"]
device = post("/api/invites/accept", {"code": code, "device_name": "parent"})["device"]
invite = post(invites, {"member": parent, "days": 1}, token)["invite"]
spare_code = post(invites, {"member": parent}, token)["code"]
spare = post("/api/invites/accept", {"code": spare_code, "device_name": "spare"})["device_token"]
print(plan, token, device, invite, spare)
PY
)
[ -n "$SPARE_TOKEN" ] || { echo "Founding the plan failed (see above)." >&2; exit 1; }
echo "Plan $PLAN created; running Schemathesis against $BASE/api/openapi.json"

# Path parameters: real ids (random ones only ever get 404); a real token for the event stream.
# The event stream sends its first event at once: read that one, then hang up.
cat >"$work/schemathesis.toml" <<TOML
max-stream-events = 1

[parameters]
"path.plan" = "$PLAN"
"path.device" = "$DEVICE"
"path.invite" = "$INVITE"
"path.account" = "$ACCOUNT"
"path.enrolment" = "$ENROLMENT"
# The one event stream for all of a phone's plans takes the tokens in its query.
"query.tokens" = "$TOKEN"

[generation]
database = "none"

# No state left behind in the project (each run starts from a fresh server anyway).
[cache]
enabled = false

# Each operation gets the token of the scheme its document names: a signed-in professional's
# session (the administrator's) or the worker's device. Without one (or with the other kind) the
# server answers 401/403, which the document lists, so those are no failures either.
[auth.openapi.session_token]
bearer = "$SESSION"

[auth.openapi.device_token]
bearer = "$TOKEN"

# Two operations end the token they are called with: they get tokens of their own, so that the
# rest of the run keeps the administrator's session and the worker's device.
[[operations]]
include-name = "DELETE /api/sessions/me"
headers = { Authorization = "Bearer $SPARE_SESSION" }

[[operations]]
include-name = "POST /api/plans/{plan}/devices/me/token"
headers = { Authorization = "Bearer $SPARE_TOKEN" }
TOML

status=0
"$SCHEMATHESIS" --config-file "$work/schemathesis.toml" run "$BASE/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples 300 \
  --workers 1 \
  --seed 1 \
  --request-timeout 5 \
  --no-color || status=$?

# The run kept its credentials (else it tested less than it seems): the administrator's session
# and the worker's device still work.
for check in "/api/me $SESSION" "/api/plans/$PLAN/devices $TOKEN"; do
  read -r path token <<<"$check"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$BASE$path")
  if [ "$code" != 200 ]; then
    echo "GET $path answered $code after the run: an operation ended the token the others need." >&2; status=1
  fi
done
if grep -q 'panicked' "$work/server.log"; then
  echo "The server panicked:" >&2; grep -A3 'panicked' "$work/server.log" >&2; status=1
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "The server stopped during the test:" >&2; tail -20 "$work/server.log" >&2; status=1
fi
exit "$status"
