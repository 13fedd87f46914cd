#!/usr/bin/env bash
# Installs what the test suite needs beyond the build: Node.js and npm (the reference's
# JavaScript verifySignature and the official Standard Webhooks npm package), Python's venv
# (the official PyPI package), Debian's Chromium (the docs page in a real browser), Go
# (the Go SDK). Sourced by scripts/test.sh; idempotent.
set -euo pipefail

need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The Go SDK's tests (standard library only: GOPROXY=off).
command -v go >/dev/null 2>&1 || need+=(golang-go)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The interop suite's own dependencies, pinned: tests/interop/requirements.txt and
# tests/interop/package-lock.json.
INTEROP_VENV="${INTEROP_VENV:-$HOME/.cache/botcadence/interop-venv}"
[ -x "$INTEROP_VENV/bin/python" ] || python3 -m venv "$INTEROP_VENV"
"$INTEROP_VENV/bin/pip" install -q --disable-pip-version-check \
  -r tests/interop/requirements.txt -r tests/contract/requirements.txt \
  -r sdks/python/requirements-test.txt
npm ci --prefix tests/interop --silent --no-audit --no-fund >/dev/null
# The dashboard's browser test: playwright-core as pinned in tests/browser/package-lock.json
# (it drives Debian's Chromium and downloads no browser).
npm ci --prefix tests/browser --silent --no-audit --no-fund >/dev/null
# The JavaScript SDK's development tools (types, the official standardwebhooks), pinned.
npm ci --prefix sdks/js --silent --no-audit --no-fund >/dev/null
export INTEROP_VENV
