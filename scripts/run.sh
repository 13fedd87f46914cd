#!/usr/bin/env bash
# Builds (release) and starts the daemon with its embedded defaults: listening on
# 127.0.0.1:8080, RocksDB under ./data. Extra arguments go to `botcadence serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/install-build-deps.sh
exec cargo run --release --bin botcadence -- serve "$@"
