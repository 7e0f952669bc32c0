#!/usr/bin/env bash
# Configures (once) and builds a build directory:
#   scripts/build.sh [DIR [--configure-only] [meson options...]]
# ccache, where installed, keeps compiled objects between builds and clones.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${1:-build}
shift || true
configure_only=false
if [ "${1:-}" = "--configure-only" ]; then
    configure_only=true
    shift
fi
# Objects compiled in another clone are reused: ccache hashes paths relative
# to the clone and not the clone's own folder.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
# nvcc from NVIDIA's packages lives here and is not always on PATH.
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null; then
    export PATH=/usr/local/cuda/bin:$PATH
fi
if [ ! -f "$build_dir/build.ninja" ]; then
    meson setup "$build_dir" "$@" >&2
fi
$configure_only || ninja -C "$build_dir" >&2
