#!/usr/bin/env bash
# Builds the benchmarks and runs them. Results and how to read them:
# docs/performance.md.
#
#   scripts/bench.sh                     every benchmark, default options
#   scripts/bench.sh --json              every benchmark, one JSON object per line
#   scripts/bench.sh bench_wake_latency --frames 20000 --period-us 500
#                                        one benchmark, its own options
#
# Arguments after an optional benchmark name go to every benchmark that runs;
# only --json and --help are understood by all of them.
# BUILD_DIR (default: build) selects the Meson build directory; scripts/build.sh
# sets it up with `meson setup` when missing (the project's default buildtype,
# debugoptimized, is what the published figures use) and runs `ninja`.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-build}"
# bench_cuda exists only in a build with the CUDA backend (nvcc found).
# bench_mqtt_latency exists where libmosquitto-dev was found.
benchmarks=(bench_snapshot bench_wake_latency bench_simulator bench_viewer bench_monitor_latency bench_ws_fanout bench_mqtt_latency bench_cuda)

cd "$repo_root"

selected=("${benchmarks[@]}")
if [[ $# -gt 0 && "$1" != -* ]]; then
    known=0
    for name in "${benchmarks[@]}"; do
        if [[ "$1" == "$name" ]]; then
            known=1
        fi
    done
    if [[ $known -eq 0 ]]; then
        echo "bench.sh: unknown benchmark '$1' (known: ${benchmarks[*]})" >&2
        exit 2
    fi
    selected=("$1")
    shift
fi

# `meson setup` when the directory is new, then `ninja`; build output goes to
# stderr so that --json output stays clean.
scripts/build.sh "$build_dir"

for name in "${selected[@]}"; do
    if [[ "$name" == bench_cuda && ! -x "$build_dir/bench/$name" ]]; then
        echo "bench.sh: bench_cuda not built (no nvcc when $build_dir was configured)" >&2
        continue
    fi
    if [[ "$name" == bench_mqtt_latency && ! -x "$build_dir/bench/$name" ]]; then
        echo "bench.sh: bench_mqtt_latency not built (no libmosquitto-dev when $build_dir was configured)" >&2
        continue
    fi
    "$build_dir/bench/$name" "$@"
done
