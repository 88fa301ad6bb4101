#!/usr/bin/env bash
# Runs every test layer: domain core, databases (SQLite and PostgreSQL), server (one instance, and
# two behind nginx) and the app's Leptos-free view models (native), the
# IndexedDB store in headless Chromium, the end-to-end journeys (Playwright + axe-core) against
# the release build, and a property-based test of the JSON API (Schemathesis) against the debug
# server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
scripts/build.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# The storage contract runs on both databases; PostgreSQL's tests (and the server's tests of two
# instances behind nginx) start throwaway PostgreSQL and nginx servers of their own.
step "Core, database and server tests (cargo test)"
cargo test -p koers-core -p koers-database -p koers-database-sqlite -p koers-database-postgres -p koers-server

step "The app's view models, natively (cargo test --bin koers-app)"
cargo test -p koers-app --bin koers-app

step "Storage tests in headless Chromium (wasm-bindgen-test)"
CHROMEDRIVER=/usr/bin/chromedriver cargo test -p koers-store --target wasm32-unknown-unknown

step "End-to-end tests (Playwright, Debian's Chromium)"
cargo build -p koers-server --quiet
playwright test

step "API property test (schemathesis)"
tests/api/run-schemathesis.sh
