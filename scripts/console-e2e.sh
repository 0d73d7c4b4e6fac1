#!/usr/bin/env bash
# End-to-end test of the web console in a real browser (Debian's chromium,
# headless, driven by playwright-core): builds facekit, starts `facekit
# serve` on 127.0.0.1 with a temporary data directory, creates an
# application, runs server/console/e2e/console.e2e.mjs against it and stops
# the server. Screenshots of the main flows land in $SCREENSHOTS (default
# server/console/e2e/screenshots, not committed).
#
# Environment:
#   FACEKIT_BIN        use this facekit binary instead of building one
#   FACEKIT_MODEL_DIR  model directory (default models/data)
#   FACEKIT_TESTDATA   shared test photos (default ../shared/testdata)
#   SCREENSHOTS        where to write the screenshots
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
e2e=server/console/e2e
models=${FACEKIT_MODEL_DIR:-$root/models/data}
testdata=${FACEKIT_TESTDATA:-$root/../shared/testdata}
shots=${SCREENSHOTS:-$root/$e2e/screenshots}

if [[ ! -d $testdata/faces ]]; then
  echo "console-e2e: test photos not found in $testdata (set FACEKIT_TESTDATA)" >&2
  exit 1
fi

# The browser: Debian's chromium.
if ! command -v chromium >/dev/null; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi

# The driver, playwright-core (no bundled browsers are downloaded), and an
# OpenAPI validator for /openapi.json.
if [[ ! -d $e2e/node_modules/playwright-core || ! -d $e2e/node_modules/@apidevtools/swagger-parser ]]; then
  (cd "$e2e" && npm ci --no-audit --no-fund)
fi

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

bin=${FACEKIT_BIN:-}
if [[ -z $bin ]]; then
  bin=$tmp/facekit
  go build -o "$bin" ./cmd/facekit
fi

data=$tmp/data
app_json=$("$bin" app create --data "$data" --name console-e2e --json)
field() { node -e 'const o = JSON.parse(process.argv[1]); process.stdout.write(o[process.argv[2]]);' "$app_json" "$1"; }
api_key=$(field api_key)
secret=$(field secret_key)

port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
url=http://127.0.0.1:$port

"$bin" serve --data "$data" --addr "127.0.0.1:$port" --models "$models" >"$tmp/server.log" 2>&1 &
server_pid=$!

# Loading the models takes a few seconds.
for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null "$url/console"; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "console-e2e: facekit serve exited:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
if ! curl -fsS -o /dev/null "$url/console"; then
  echo "console-e2e: $url/console does not answer (is the console dialect wired into serve?)" >&2
  tail -20 "$tmp/server.log" >&2
  exit 1
fi

rm -rf "$shots"
status=0
FACEKIT_URL=$url FACEKIT_API_KEY=$api_key FACEKIT_SECRET=$secret FACEKIT_PHOTOS=$testdata/faces \
  FACEKIT_NO_FACE=$root/testdata/intake/no-face-scene.jpg SCREENSHOTS=$shots \
  node "$e2e/console.e2e.mjs" || status=$?
if [[ $status -ne 0 ]]; then
  echo "console-e2e: server log tail:" >&2
  tail -30 "$tmp/server.log" >&2
fi
exit $status
