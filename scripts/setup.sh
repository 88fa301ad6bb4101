#!/usr/bin/env bash
# Installs what Koers needs, skipping whatever is already installed (safe to run again and again).
#   scripts/setup.sh          build tools: wasm32 target, rust-src, Trunk 0.21, wasm-bindgen-cli, wasm-split-cli,
#                             OpenSSL's headers (libssl-dev, for the server's passkeys), npm dev tools
#   scripts/setup.sh --test   also the test tools: Debian's Chromium and ChromeDriver, PostgreSQL
#                             and nginx (the tests start their own throwaway instances; the
#                             packages' own services are not used), and Schemathesis (PyPI) in
#                             the project's own virtualenv .venv-test
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "Adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

# The app's wasm is built with its own standard library, sized for the phone (scripts/build-wasm.mjs).
if ! rustup component list --installed | grep -qx rust-src; then
  step "Adding the Rust standard library's source"
  rustup component add rust-src
fi

# Trunk 0.22 needs a newer rustc than Debian's machines have; 0.21 works.
if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
  step "Installing Trunk 0.21 (about 5 minutes)"
  cargo install trunk --version '~0.21' --locked
fi

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock.
bindgen=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen\$"; then
  step "Installing wasm-bindgen-cli $bindgen (about 4 minutes)"
  # Not --locked: one of its locked dependencies is missing from the registry mirror.
  cargo install wasm-bindgen-cli --version "$bindgen"
fi

# Cuts the app's wasm into the first module and a lazily loaded chunk (scripts/build-wasm.mjs).
# It has no --version; cargo's own list says which one is installed.
if ! cargo install --list | grep -q '^wasm_split_cli_support v0\.2\.4:'; then
  step "Installing wasm-split-cli 0.2.4 (about 1 minute)"
  cargo install wasm_split_cli_support --version 0.2.4 --features build-binary
fi

# The server checks passkeys with webauthn-rs, which links the system's OpenSSL: its headers and
# pkg-config to find them (Debian's libssl-dev; the server then needs libssl3 at run time).
if ! pkg-config --exists openssl 2>/dev/null; then
  step "Installing OpenSSL's development files (libssl-dev, pkg-config)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libssl-dev pkg-config
fi

# npm dev tools: binaryen's wasm-opt (Debian's breaks the app), esbuild (minifies the scripts), Playwright, axe-core.
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/@playwright/test ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "Installing npm dev tools"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--test" ]; then
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    step "Installing Debian's Chromium and ChromeDriver"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver
  fi

  # PostgreSQL and nginx for the storage contract on PostgreSQL and the tests of several
  # server instances behind a load balancer. Only their programs are used: the tests start
  # throwaway servers of their own (crates/koers-database-postgres's TestCluster, tests/cluster).
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! [ -x /usr/sbin/nginx ]; then
    step "Installing Debian's PostgreSQL and nginx"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql nginx
  fi

  # Schemathesis for the API property test (tests/api/run-schemathesis.sh), kept out of the
  # system Python.
  if ! .venv-test/bin/schemathesis --version >/dev/null 2>&1; then
    step "Installing Schemathesis 4.32 into .venv-test"
    rm -rf .venv-test
    python3 -m venv .venv-test
    .venv-test/bin/pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
  fi
fi
