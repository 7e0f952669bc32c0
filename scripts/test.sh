#!/usr/bin/env bash
# Builds and runs the test suite: the normal build runs every test; then a
# ThreadSanitizer and an AddressSanitizer+UBSan build (CPU only) run the
# tests of the suites 'concurrency' (the segment, the command ring, the
# reader loops) and 'hostile_input' (the parsers of what users and peers
# send), building only what those tests need; then the fuzz targets run
# for 20 s each (scripts/fuzz.sh).
#   scripts/test.sh           everything
#   scripts/test.sh --quick   the normal build only
# CI runs this; its time per build is in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[ "${1:-}" = "--quick" ] && quick=true

scripts/install-deps.sh
# As in scripts/build.sh: ccache reuses objects from other clones.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1

sanitizer_suites=(concurrency hostile_input)
passed=0 failed=0 skipped=0
run_suite() {  # run_suite DIR all|sanitized [meson options...]
    local dir=$1 which=$2
    shift 2
    local started=$SECONDS
    echo "== $dir: build" >&2
    local status=0 built
    if [ "$which" = all ]; then
        scripts/build.sh "$dir" "$@"
        built=$SECONDS
        meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 || status=$?
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

run_suite build all
if ! $quick; then
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

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
