#!/usr/bin/env bash
# Builds and runs the whole test suite: the normal build, then the same tests
# under ThreadSanitizer and under AddressSanitizer+UBSan (CPU-only builds).
#   scripts/test.sh           everything
#   scripts/test.sh --quick   the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[ "${1:-}" = "--quick" ] && quick=true

scripts/install-deps.sh

passed=0 failed=0 skipped=0
run_suite() {  # run_suite DIR [meson options...]
    local dir=$1
    shift
    echo "== $dir: build" >&2
    scripts/build.sh "$dir" "$@"
    echo "== $dir: test" >&2
    local status=0
    meson test -C "$dir" --print-errorlogs --num-processes 2 || status=$?
    # meson-logs/testlog.json has one JSON object per test.
    local log="$dir/meson-logs/testlog.json"
    passed=$((passed + $(grep -c '"result": "OK"' "$log" || true)))
    failed=$((failed + $(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)))
    skipped=$((skipped + $(grep -c '"result": "SKIP"' "$log" || true)))
    return 0
}

run_suite build
if ! $quick; then
    # Sanitizers need their own build; CUDA objects are left out of them.
    run_suite build-tsan -Dcuda=disabled -Db_sanitize=thread -Db_lundef=false
    run_suite build-asan -Dcuda=disabled -Db_sanitize=address,undefined -Db_lundef=false
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
