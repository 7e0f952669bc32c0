#!/usr/bin/env bash
# Builds and runs the test suite: the normal build runs every test; then a
# ThreadSanitizer and an AddressSanitizer+UBSan build (CPU only) run the
# tests of the suites 'concurrency' (the segment, the command ring, the
# reader loops) and 'hostile_input' (the parsers of what users and peers
# send), building only what those tests need; then the fuzz targets run
# for 20 s each (scripts/fuzz.sh).
# Last, an aarch64 cross build (cross/aarch64-linux-gnu.ini) runs the tests
# of the suite 'emulated' under QEMU, building only what they need, and
# scripts/compare-arch-frames.sh checks that its simulator publishes the same
# frames, bit for bit, as the x86-64 one for the same seed.
#   scripts/test.sh           everything
#   scripts/test.sh --quick   the normal build only
#   scripts/test.sh --aarch64 the aarch64 cross build only (and the native
#                             simulator it is compared with)
# CI runs this; its time per build is in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false aarch64_only=false
case "${1:-}" in
    --quick) quick=true ;;
    --aarch64) aarch64_only=true ;;
esac

if $quick; then
    scripts/install-deps.sh
else
    scripts/install-deps.sh --aarch64
fi
# As in scripts/build.sh: ccache reuses objects from other clones.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1

sanitizer_suites=(concurrency hostile_input)
passed=0 failed=0 skipped=0
run_suite() {  # run_suite DIR all|sanitized|emulated [meson options...]
    local dir=$1 which=$2
    shift 2
    local started=$SECONDS
    echo "== $dir: build" >&2
    local status=0 built
    if [ "$which" = all ]; then
        scripts/build.sh "$dir" "$@"
        built=$SECONDS
        meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 || status=$?
    elif [ "$which" = emulated ]; then
        scripts/build.sh "$dir" --configure-only "$@"
        mapfile -t targets < <(scripts/suite_targets.py "$dir" emulated)
        # and the tools scripts/compare-arch-frames.sh runs
        ninja -C "$dir" "${targets[@]}" shm_init/brt-shm-init simulator/brt-simulator >&2
        built=$SECONDS
        # QEMU runs the aarch64 code several times slower: allow it.
        meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
            --timeout-multiplier 3 --suite emulated || status=$?
    else
        scripts/build.sh "$dir" --configure-only "$@"
        mapfile -t targets < <(scripts/suite_targets.py "$dir" "${sanitizer_suites[@]}")
        ninja -C "$dir" "${targets[@]}" >&2
        built=$SECONDS
        local suite_args=()
        for suite in "${sanitizer_suites[@]}"; do suite_args+=(--suite "$suite"); done
        # Sanitized code runs several times slower: allow it.
        meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
            --timeout-multiplier 3 "${suite_args[@]}" || status=$?
    fi
    # meson-logs/testlog.json has one JSON object per test.
    local log="$dir/meson-logs/testlog.json"
    passed=$((passed + $(grep -c '"result": "OK"' "$log" || true)))
    failed=$((failed + $(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)))
    skipped=$((skipped + $(grep -c '"result": "SKIP"' "$log" || true)))
    echo "== $dir: $((SECONDS - started)) s: build $((built - started)) s, tests $((SECONDS - built)) s (exit $status)" >&2
    return 0
}

if ! $aarch64_only; then
    run_suite build all
fi
if ! $quick && ! $aarch64_only; then
    # Sanitizers need their own build; CUDA objects are left out of them.
    run_suite build-tsan sanitized -Dcuda=disabled -Db_sanitize=thread -Db_lundef=false
    run_suite build-asan sanitized -Dcuda=disabled -Db_sanitize=address,undefined -Db_lundef=false
    # The fuzz targets, 20 s each from their seed corpora (docs/fuzzing.md),
    # counted as one test.
    fuzz_started=$SECONDS
    # Exit 77: skipped (no clang and no way to install it).
    fuzz_status=0
    scripts/fuzz.sh || fuzz_status=$?
    case $fuzz_status in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
    echo "== build-fuzz: $((SECONDS - fuzz_started)) s" >&2
fi
if ! $quick; then
    # CPU only: Debian has no CUDA libraries for aarch64 (docs/performance.md).
    run_suite build-aarch64 emulated --cross-file cross/aarch64-linux-gnu.ini -Dcuda=disabled
    started=$SECONDS
    if $aarch64_only; then
        # Only the native tools the comparison runs.
        scripts/build.sh build --configure-only
        ninja -C build shm_init/brt-shm-init simulator/brt-simulator >&2
    fi
    if scripts/compare-arch-frames.sh build build-aarch64; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
    echo "== compare-arch-frames: $((SECONDS - started)) s" >&2
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
