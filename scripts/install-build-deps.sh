#!/usr/bin/env bash
# Installs what building Botcadence needs and a fresh Debian/Ubuntu machine lacks:
# clang and libclang for RocksDB's bindgen, a C++ compiler, and a Rust toolchain.
set -euo pipefail

need=()
for pkg in clang libclang-dev g++ make; do
  # dpkg knows exactly what is installed; a file test would mistake libclang-cpp (present on
  # many machines) for the libclang that bindgen loads.
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
