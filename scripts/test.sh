#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests (the real server, real
# RocksDB, a real SMTP listener and HTTP server), benchmarks in test mode, and the operator
# files' checks. Everything runs in the release profile so RocksDB is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/install-build-deps.sh
. scripts/install-test-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"

rustup component add rustfmt clippy >/dev/null 2>&1 || true

# A PostgreSQL of its own for the store contract suite (both backends), stopped on exit.
eval "$(scripts/start-test-postgres.sh)"
trap 'scripts/start-test-postgres.sh stop "$BOTCADENCE_TEST_POSTGRES_DIR"' EXIT
export BOTCADENCE_REQUIRE_POSTGRES=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --release --all-targets -- -D warnings
echo "== cargo test"
cargo test --release
if [ -d benches ] && ls benches/*.rs >/dev/null 2>&1; then
  echo "== benchmarks, test mode"
  cargo test --release --benches
fi
echo "== restarts under load on a socket passed as systemd does"
python3 tests/systemd/socket_restart.py
for check in .ci/check-systemd .ci/check-prometheus; do
  if [ -x "$check" ]; then
    echo "== $check"
    "$check"
  fi
done
echo "== openapi.json lint (redocly)"
npm ci --prefix tools/openapi --silent --no-audit --no-fund >/dev/null
(cd tools/openapi && npx --no-install redocly lint ../../openapi.json --format=summary)
echo "== contract: schemathesis against the served OpenAPI document, every operation, all checks"
"$INTEROP_VENV/bin/python" tests/contract/run.py --max-examples 50
echo "== SDKs: packaging (npm pack, python -m build, go vet, gofmt)"
(cd sdks/js && npm pack --dry-run --silent >/dev/null)
"$INTEROP_VENV/bin/python" -m build --outdir "$(mktemp -d)" sdks/python >/dev/null
(cd sdks/go && GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local go vet ./... && test -z "$(gofmt -l .)")
echo "== SDKs: each SDK's own suite against the release binary (node --test, pytest, go test)"
SDK_PYTHON="$INTEROP_VENV/bin/python" python3 sdks/live.py js python go
echo "== cluster: three daemons on one PostgreSQL, kill -9 and SIGSTOP of a shard's holder"
python3 load-tests/cluster/three_daemons.py
echo "== /docs in a real browser (Chromium, headless)"
python3 tests/browser/docs.py
echo "== the dashboard in a real browser (Chromium, headless; screenshots kept in a temp dir)"
node tests/browser/dashboard.mjs
echo "== fuzzing: every target for 20 s (the corpus itself is replayed by cargo test)"
./scripts/fuzz-smoke.sh 20
echo "== interop: the official Standard Webhooks libraries and the reference's verifySignature"
"$INTEROP_VENV/bin/python" tests/interop/run.py
if [ -f load-tests/run.py ]; then
  echo "== load-test smoke run"
  python3 load-tests/run.py --smoke --out "$(mktemp -d)"
fi
if [ -f load-tests/delay_flood.py ]; then
  # Waiting work from outside, smaller than the full run (README "Waiting work"): delayed
  # events hold no memory, another account is served while one has a ready backlog, and a
  # kill -9 restart is ready at once and fires a short delay once, on time.
  echo "== delayed-work check"
  python3 load-tests/delay_flood.py --events 20000 --ready 5000 --big 200
fi
echo "all checks passed"
