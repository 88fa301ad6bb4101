#!/usr/bin/env bash
# Serves a private copy of dist/ (the update test rewrites it) with a fresh database.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=target/e2e
rm -rf "$root" && mkdir -p "$root"
cp -r dist "$root/dist"
export KOERS_ADDR="127.0.0.1:${1:-8091}" KOERS_DATA="$root/data" KOERS_DIST="$root/dist"
exec "${KOERS_SERVER_BIN:-target/debug/koers-server}"
