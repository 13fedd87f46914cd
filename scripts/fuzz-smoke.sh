#!/usr/bin/env bash
# A short run of every fuzz target (fuzz/README.md), on a copy of the committed corpus so the
# checkout stays clean. Installs the nightly toolchain and cargo-fuzz when missing. Usage:
#   scripts/fuzz-smoke.sh [seconds per target, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-20}"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# Kept outside the clone, like the main build, so a later run reuses the sanitizer build.
target_dir="${FUZZ_TARGET_DIR:-$HOME/.cache/botcadence/fuzz-target}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd fuzz
cargo +nightly fuzz build -O --target-dir "$target_dir"
for t in workflow_definition template signature_headers query record_codec; do
  mkdir -p "$work/$t"
  cp -r "corpus/$t/." "$work/$t/"
  echo "-- $t: $seconds s"
  if ! cargo +nightly fuzz run -O --target-dir "$target_dir" "$t" "$work/$t" -- \
      -max_total_time="$seconds" -max_len=4096 -artifact_prefix="$work/$t-" >"$work/$t.log" 2>&1; then
    tail -n 40 "$work/$t.log"
    echo "FAIL: fuzz target $t found a crash; its input (add it to fuzz/regressions/$t/):"
    for crash in "$work/$t-"*; do [ -f "$crash" ] && xxd "$crash" | head -n 40; done
    exit 1
  fi
  grep -E "^Done" "$work/$t.log" || true
done
