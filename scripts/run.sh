#!/usr/bin/env bash
# Installs what is missing, builds, and starts Koers (server + PWA with a demo plan).
#   KOERS_ADDR  where to listen (default 127.0.0.1:8080)
#   KOERS_DATA  where the SQLite database lives (default ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
printf '\033[1m==> %s\033[0m\n' "Building the server"
cargo build --profile server -p koers-server --quiet
exec target/server/koers-server
