#!/usr/bin/env bash
# Soak test of sync (issue 10): the property test of crates/koers-server/tests/sync_property.rs
# against the real server binary, with many more runs than CI's 200. Each run founds a plan,
# lets several writers push random batches at once while several readers follow the app's pull
# algorithm with random page sizes, and checks that every reader ends with exactly the server's
# operations.
#
#   scripts/soak.sh                  # 5,000 runs
#   KOERS_SYNC_RUNS=50000 scripts/soak.sh
#   KOERS_SYNC_SEED=1234 scripts/soak.sh   # replay a seed a failure printed
set -euo pipefail
cd "$(dirname "$0")/.."
export KOERS_SYNC_RUNS="${KOERS_SYNC_RUNS:-5000}"
echo "soak: ${KOERS_SYNC_RUNS} runs${KOERS_SYNC_SEED:+, seed $KOERS_SYNC_SEED}"
exec cargo test -p koers-server --test sync_property -- --nocapture
