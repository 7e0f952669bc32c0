#!/usr/bin/env bash
# Configures (once) and builds a build directory: scripts/build.sh [DIR [meson options...]]
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${1:-build}
shift || true
# nvcc from NVIDIA's packages lives here and is not always on PATH.
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null; then
    export PATH=/usr/local/cuda/bin:$PATH
fi
if [ ! -f "$build_dir/build.ninja" ]; then
    meson setup "$build_dir" "$@" >&2
fi
ninja -C "$build_dir" >&2
