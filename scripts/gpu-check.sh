#!/usr/bin/env bash
# shellcheck disable=SC2317  # the functions `check` runs are called through bash -c
# The CUDA backend's checks on a machine with a GPU, in one command that ends
# within a time budget (default 540 s; docs/simulator.md, "Checking on a GPU").
#
#   scripts/gpu-check.sh --bundle [BUILD_DIR [BUNDLE_DIR]]
#       on the build machine: copies the binaries the checks run (debug
#       information stripped) and the shared libraries they need beyond the C
#       and C++ runtimes (libfmt) into BUNDLE_DIR (default build-gpu, which
#       git ignores: hand it to the GPU machine with the source tree)
#   scripts/gpu-check.sh [--build DIR] [--budget SECONDS] OUT_DIR
#       on the GPU machine, from the repository root: runs every check with a
#       time limit, BRT_REQUIRE_CUDA=1 (a missing or unusable GPU fails, it
#       does not skip), and writes each check's output and summary.txt to
#       OUT_DIR. DIR is a bundle or a build directory (default: build-gpu if
#       it exists, else build).
#
# The checks, most valuable first (later ones get what time is left):
#   gpu           nvidia-smi: driver version, GPU name, memory, compute capability
#   ldd           every binary's shared libraries resolve
#   simulator     brt-simulator --backend cuda runs and publishes through the
#                 registered segment (not the staging fallback)
#   cuda_parity   the CUDA backend against the CPU one (tests/test_cuda_parity.cpp)
#   simulator_backend, cuda_harness   the backend choice and the harness tests
#   memcheck, racecheck, initcheck, synccheck   compute-sanitizer on a tiny
#                 geometry (racks wider than a block), where it is installed
#   bench_cuda    6,400 cells to 100 million (those that fit /dev/shm and the
#                 time left), one JSON object per size in bench_cuda.json
# Exit code 0 when every check passed, 1 otherwise (summary.txt says which).
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root" || exit 1

# Build-tree paths of everything the checks run.
binaries=(
    tests/test_cuda_parity
    tests/test_simulator_backend
    tests/test_cuda_harness
    simulator/brt-simulator
    shm_init/brt-shm-init
    bench/bench_cuda
)
# The runtimes every Linux machine has; anything else a binary links is bundled.
system_libs='^(linux-vdso|libc|libm|libstdc\+\+|libgcc_s|ld-linux[^ ]*|libpthread|libdl|librt)\.so'

if [[ "${1:-}" == "--bundle" ]]; then
    build="${2:-build}"
    bundle="${3:-build-gpu}"
    rm -rf "$bundle"
    mkdir -p "$bundle/lib"
    for binary in "${binaries[@]}"; do
        if [[ ! -x "$build/$binary" ]]; then
            echo "gpu-check: $build/$binary is missing: build with CUDA first (nvcc on PATH, meson setup $build; ninja -C $build)" >&2
            exit 1
        fi
        mkdir -p "$bundle/$(dirname "$binary")"
        strip --strip-debug -o "$bundle/$binary" "$build/$binary"
        ldd "$build/$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' |
            while read -r name path; do
                if [[ ! "$name" =~ $system_libs ]]; then
                    cp -L "$path" "$bundle/lib/$name"
                fi
            done
    done
    du -sh "$bundle"
    ls "$bundle/lib"
    exit 0
fi

build=""
budget_s=540
while [[ $# -gt 1 ]]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        --budget) budget_s="$2"; shift 2 ;;
        *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
    esac
done
if [[ $# -ne 1 ]]; then
    echo "usage: $0 [--build DIR] [--budget SECONDS] OUT_DIR | $0 --bundle [BUILD_DIR [BUNDLE_DIR]]" >&2
    exit 2
fi
out="$1"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [[ -z "$build" ]]; then
    build=build
    [[ -d build-gpu ]] && build="build-gpu"
fi
if [[ ! -d "$build" ]]; then
    echo "gpu-check: no build directory $build (build with CUDA, then scripts/gpu-check.sh --bundle)" >&2
    exit 2
fi
build="$(cd "$build" && pwd)"
export build
if [[ -d "$build/lib" ]]; then
    export LD_LIBRARY_PATH="$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# What meson test would set, so the test binaries run without meson.
export BRT_REQUIRE_CUDA=1
export BRT_SIMULATOR="$build/simulator/brt-simulator"
export BRT_SHM_INIT="$build/shm_init/brt-shm-init"
export BRT_TEST_CUDA_PARITY="$build/tests/test_cuda_parity"
export BRT_TEST_SIMULATOR_BACKEND="$build/tests/test_simulator_backend"
export BRT_BENCH_CUDA="$build/bench/bench_cuda"
export BRT_MODEL_DATA_DIR="$repo_root/simulator/model/data"
export NO_COLOR=1

summary="$out/summary.txt"
: >"$summary"
failed=0
note() {
    echo "$*" | tee -a "$summary"
}
# Seconds left of the budget, less a margin for the checks after this one.
left_s() {
    echo $((budget_s - SECONDS))
}
# check NAME LIMIT_S COMMAND...: runs COMMAND with at most LIMIT_S seconds
# (less where the budget has less), output to OUT_DIR/NAME.log.
check() {
    local name="$1" limit="$2"
    shift 2
    local left
    left="$(left_s)"
    if ((left < 10)); then
        note "$name: NOT RUN (time budget spent)"
        failed=1
        return 1
    fi
    ((limit > left)) && limit="$left"
    local start=$SECONDS rc=0
    # Through bash so that a COMMAND may be one of the functions below
    # (exported with export -f).
    timeout --kill-after=10 "$limit" bash -c '"$@"' check "$@" >"$out/$name.log" 2>&1 || rc=$?
    local took=$((SECONDS - start))
    if ((rc == 0)); then
        note "$name: pass (${took} s)"
    elif ((rc == 124 || rc == 137)); then
        note "$name: FAIL: over its limit of ${limit} s (log: $name.log)"
        failed=1
    else
        note "$name: FAIL: exit code $rc after ${took} s (log: $name.log)"
        failed=1
    fi
    return "$rc"
}

note "gpu-check: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), binaries from $build, budget ${budget_s} s"

# The driver and the GPU.
check gpu 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
timeout --kill-after=5 30 nvidia-smi >"$out/nvidia-smi.txt" 2>&1
note "  $(tail -n +2 "$out/gpu.log" 2>/dev/null | head -1)"

# Every binary's libraries, and the newest glibc and libstdc++ symbol
# versions it needs.
ldd_check() {
    local missing=0
    for binary in "$@"; do
        echo "== $binary"
        ldd "$build/$binary" || missing=1
        echo "needs $(objdump -T "$build/$binary" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1)" \
            "$(objdump -T "$build/$binary" 2>/dev/null | grep -o 'GLIBCXX_[0-9.]*' | sort -V | tail -1)"
        if ldd "$build/$binary" 2>&1 | grep -q 'not found'; then
            missing=1
        fi
    done
    echo "this machine's glibc: $(ldd --version 2>&1 | head -1)"
    return "$missing"
}
export -f ldd_check
check ldd 30 ldd_check "${binaries[@]}"

# The simulator as a user runs it: --backend cuda, frames straight into the
# registered slots. Racks of 1,200 cells: wider than a 512-thread block.
export segment="brt_gpu_check_$$"
simulator_run() {
    "$BRT_SHM_INIT" --shm-name "$segment" "$@" &&
        "$BRT_SIMULATOR" --shm-name "$segment" --backend cuda --max-speed --duration 30 --json
    local rc=$?
    "$BRT_SHM_INIT" --shm-name "$segment" --remove >/dev/null 2>&1
    return "$rc"
}
export -f simulator_run
if check simulator 60 simulator_run --racks 8 --modules 12 --cells 100; then
    if ! grep -q 'publishing frames device to segment (registered' "$out/simulator.log" ||
        ! grep -q '"backend":"cuda"' "$out/simulator.log"; then
        note "simulator: FAIL: frames did not go straight into the registered segment:"
        note "  $(grep 'publishing frames' "$out/simulator.log")"
        failed=1
    fi
fi
grep -E '^(backend|publishing frames)' "$out/simulator.log" | sed 's/^/  /' | tee -a "$summary"

check cuda_parity 300 "$BRT_TEST_CUDA_PARITY"
grep '^cuda_parity:' "$out/cuda_parity.log" | sed 's/^/  /' | tee -a "$summary"
check simulator_backend 120 "$BRT_TEST_SIMULATOR_BACKEND"
check cuda_harness 60 "$build/tests/test_cuda_harness"

# compute-sanitizer on a tiny geometry: racks of 600 cells (a block of 512
# threads, some with two cells), modules of 100; 50 steps per frame.
sanitizer="$(command -v compute-sanitizer || true)"
[[ -z "$sanitizer" && -x /usr/local/cuda/bin/compute-sanitizer ]] &&
    sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [[ -n "$sanitizer" ]]; then
    export sanitizer
    sanitize() {
        local tool="$1"
        "$BRT_SHM_INIT" --shm-name "${segment}_$tool" --racks 2 --modules 6 --cells 100 &&
            "$sanitizer" --tool "$tool" --error-exitcode 1 \
                "$BRT_SIMULATOR" --shm-name "${segment}_$tool" --backend cuda --max-speed \
                --duration 2 --rate 2 --json
        local rc=$?
        "$BRT_SHM_INIT" --shm-name "${segment}_$tool" --remove >/dev/null 2>&1
        return "$rc"
    }
    export -f sanitize
    for tool in memcheck racecheck initcheck synccheck; do
        check "$tool" 90 sanitize "$tool"
    done
else
    note "compute-sanitizer: not installed, memcheck/racecheck/initcheck/synccheck not run"
fi

# The benchmark, smallest first, as many sizes as /dev/shm holds (100
# million cells need about 8.4 GB of it) in the time that is left.
shm_free_gb=$(($(df --output=avail -k /dev/shm | tail -1) / 1048576))
cells=(6400 100000 1000000 10000000)
if ((shm_free_gb >= 10)); then
    cells+=(100000000)
else
    note "bench_cuda: 100 million cells left out: /dev/shm has ${shm_free_gb} GB free"
fi
check bench_cuda 300 "$BRT_BENCH_CUDA" --json --seconds 1 --cells "${cells[@]}"
grep '^{' "$out/bench_cuda.log" >"$out/bench_cuda.json"
note "  bench_cuda: $(wc -l <"$out/bench_cuda.json") sizes measured (bench_cuda.json)"

note "gpu-check: $([[ $failed -eq 0 ]] && echo 'every check passed' || echo 'FAILED') in ${SECONDS} s"
exit "$failed"
