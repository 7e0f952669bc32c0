#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, docs/fuzzing.md) with clang in
# build-fuzz (ASan + UBSan, only the fuzz targets) and runs each for a fixed
# time, starting from its seed corpus in fuzz/corpus/<target>/.
#   scripts/fuzz.sh                 every target, 20 s each (what CI runs)
#   scripts/fuzz.sh 600             every target, 10 minutes each
#   scripts/fuzz.sh 3600 fuzz_http_control fuzz_ctl_args
# Two targets run at a time (BRT_FUZZ_JOBS=N for more). New inputs the
# fuzzer finds go to build-fuzz/fuzz-corpus/<target>/ (copy the interesting
# ones into fuzz/corpus/); a crash is saved as
# build-fuzz/fuzz-artifacts/<target>-crash-* and makes the script fail.
# The last line is "fuzz: N targets, N crashed, S s".
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd fuzz/corpus && ls)
fi
jobs=${BRT_FUZZ_JOBS:-2}
started=$SECONDS

# libFuzzer comes with Debian's clang (libclang-rt in clang-14's packages).
# Without clang and no way to install it, the targets are skipped (exit 77,
# which scripts/test.sh counts as skipped): the rest of the tree needs no clang.
if ! command -v clang++ >/dev/null; then
    as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null; then
            echo "fuzz: skipped: clang is not installed (as root: apt-get install clang)" >&2
            exit 77
        fi
        as_root=(sudo)
    fi
    echo "fuzz: installing clang" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${as_root[@]}" apt-get update -q >&2 &&
        "${as_root[@]}" apt-get install -y -q --no-install-recommends clang >&2; }; then
        echo "fuzz: skipped: clang is not installed and installing it failed" >&2
        exit 77
    fi
fi

export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
    # werror off: these objects are for finding bugs at run time; the
    # warnings are GCC's business in the normal build.
    # Meson only adds ccache by itself when CC is not set.
    launcher=()
    command -v ccache >/dev/null && launcher=(ccache)
    CC="${launcher[*]} clang" CXX="${launcher[*]} clang++" meson setup "$dir" -Dfuzz=enabled \
        -Dcuda=disabled -Dtests=disabled -Dsystemd=disabled -Db_sanitize=address,undefined \
        -Db_lundef=false -Dwerror=false >&2
fi
ninja -C "$dir" fuzz-targets >&2
built=$SECONDS

# Undefined behaviour is a crash, as a memory error is.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
mkdir -p "$dir/fuzz-artifacts" "$dir/fuzz-logs"
run_target() {  # run_target NAME
    local name=$1
    local work="$dir/fuzz-corpus/$name"
    mkdir -p "$work"
    # New inputs go to the first directory; the repository's seeds are only read.
    "$dir/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/$name-" \
        "$work" "fuzz/corpus/$name" >"$dir/fuzz-logs/$name.log" 2>&1
}

crashed=0
declare -A pids=()
summarize() {  # summarize NAME STATUS
    local name=$1 status=$2 log="$dir/fuzz-logs/$1.log"
    local runs cov
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
    if [ "$status" -eq 0 ]; then
        echo "fuzz: $name: ok, $runs runs in $seconds s, coverage $cov" >&2
    else
        crashed=$((crashed + 1))
        echo "fuzz: $name: FAILED (exit $status) after $runs runs; log $log:" >&2
        grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
    fi
}
for name in "${targets[@]}"; do
    while [ ${#pids[@]} -ge "$jobs" ]; do
        for running in "${!pids[@]}"; do
            if ! kill -0 "${pids[$running]}" 2>/dev/null; then
                status=0
                wait "${pids[$running]}" || status=$?
                summarize "$running" "$status"
                unset "pids[$running]"
            fi
        done
        sleep 0.2
    done
    run_target "$name" &
    pids[$name]=$!
done
for running in "${!pids[@]}"; do
    status=0
    wait "${pids[$running]}" || status=$?
    summarize "$running" "$status"
done

echo "fuzz: build $((built - started)) s, runs $((SECONDS - built)) s"
echo "fuzz: ${#targets[@]} targets, $crashed crashed, $((SECONDS - started)) s"
[ "$crashed" -eq 0 ]
