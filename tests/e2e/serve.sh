#!/usr/bin/env bash
# Serves a private copy of dist/ (the update test rewrites it) with a fresh database.
#   serve.sh [port] [folder]   (playwright.config.ts passes both; the folder is wiped first)
# Its stdout is kept in <folder>/server.log too.
# KOERS_E2E_DIST: another build to serve instead (e.g. an older version's, to show a test failing).
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${1:-8091}
root=${2:-target/e2e/$port}
# A server already on this port is another test run's: wiping its folder would pull its files and
# database away mid-run. Stop before touching anything.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "serve.sh: port $port is in use (another test run?); choose another with KOERS_E2E_PORT." >&2
  exit 1
fi
rm -rf "$root" && mkdir -p "$root"
cp -r "${KOERS_E2E_DIST:-dist}" "$root/dist"
# Passkeys are bound to a domain name: the tests open the app at localhost (playwright.config.ts).
export KOERS_ADDR="127.0.0.1:$port" KOERS_DATA="$root/data" KOERS_DIST="$root/dist" KOERS_PUBLIC_URL="http://localhost:$port"
# The server's stdout also goes to $root/server.log: on its first start it prints the one-time
# link for the first administrator, which tests/e2e/helpers.ts (adminSession) enrols with.
exec > >(tee "$root/server.log")
exec "${KOERS_SERVER_BIN:-target/debug/koers-server}"
