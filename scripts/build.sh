#!/usr/bin/env bash
# Builds the release PWA into dist/ (Trunk) unless dist/ is newer than every source it comes from.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true

stamp=dist/.build-stamp
sources=(src crates/koers-core/src crates/koers-store/src locales style public
  Cargo.toml Cargo.lock Trunk.toml .cargo/config.toml build.rs scripts/build-wasm.mjs scripts/post-build.mjs crates/koers-core/Cargo.toml
  crates/koers-store/Cargo.toml)
if [ -f "$stamp" ] && [ -z "$(find "${sources[@]}" -newer "$stamp" -print -quit)" ]; then
  echo "==> dist/ is up to date"
  exit 0
fi
printf '\033[1m==> %s\033[0m\n' "Building the PWA (trunk build --release)"
# Stamped with the start time, so an edit made while it builds triggers the next build.
start=$(mktemp)
trunk build --release
mv "$start" "$stamp"
