#!/usr/bin/env bash
# A C++ program outside this repository reads a live segment through the
# installed segment library: `meson install --destdir`, then the example
# reader built with nothing but `pkg-config --cflags --libs brt-segment`
# against that tree, then run on a segment the simulator wrote.
#   installed_reader.sh MESON BUILD_ROOT EXAMPLE_SOURCE
# Uses $BRT_SHM_INIT and $BRT_SIMULATOR from the test environment.
set -euo pipefail
meson=$1 build=$2 example=$3

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
command -v pkg-config >/dev/null || { echo "pkg-config not found: skipped"; exit 77; }
# The example is compiled with the build machine's c++, which cannot link a
# cross build's (aarch64) library.
if [ -n "${BRT_EMULATED:-}" ]; then
    echo "skipped: cross build under emulation (BRT_EMULATED=1): c++ cannot link its library"
    exit 77
fi

dest=$(mktemp -d)
name="brt_test_installed_$$"
trap 'rm -rf "$dest"; "$BRT_SHM_INIT" --shm-name "$name" --remove --force >/dev/null 2>&1 || true' EXIT

"$meson" install -C "$build" --destdir "$dest" --no-rebuild >"$dest/install.log" 2>&1 ||
    { cat "$dest/install.log" >&2; fail "meson install --destdir failed"; }
pc=$(find "$dest" -name brt-segment.pc | head -n 1)
[ -n "$pc" ] || fail "no brt-segment.pc in the installed tree"
headers=$(find "$dest" -path '*/brt/segment/segment_reader.hpp' | head -n 1)
[ -n "$headers" ] || fail "no brt/segment/segment_reader.hpp in the installed tree"

# The .pc names /usr/local (the prefix); the sysroot points it into $dest.
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest \
    pkg-config --cflags --libs brt-segment) || fail "pkg-config does not know brt-segment"
echo "pkg-config --cflags --libs brt-segment: $flags"
# Only the installed tree: no include path into this repository.
case "$flags" in *"$(cd "$(dirname "$example")/.." && pwd)"*) fail "flags point into the source tree" ;; esac
# shellcheck disable=SC2086
c++ -std=c++20 -Wall -Wextra -Werror -o "$dest/segment_reader" "$example" $flags ||
    fail "the example reader does not build against the installed library"

# Without a segment: a clear error and exit 1.
status=0
"$dest/segment_reader" "$name" >"$dest/out" 2>"$dest/err" || status=$?
[ "$status" -eq 1 ] || fail "no segment: exit $status, expected 1"
grep -q "no segment named" "$dest/err" || fail "no segment: stderr says $(cat "$dest/err")"

"$BRT_SHM_INIT" --shm-name "$name" --racks 2 --modules 3 --cells 4 --chemistry nmc,lfp >/dev/null
"$BRT_SIMULATOR" --shm-name "$name" --max-speed --duration 5 >/dev/null 2>&1 ||
    fail "the simulator did not run"
"$dest/segment_reader" "$name" 1 2 >"$dest/out" || fail "the example reader failed: $(cat "$dest/out")"
cat "$dest/out"
grep -Eq '^frame [1-9][0-9]* rack 1 module 2 chemistry lfp$' "$dest/out" || fail "no frame line"
[ "$(grep -c '^cell [0-3] voltage_v [0-9.]* temperature_c [0-9.]*$' "$dest/out")" -eq 4 ] ||
    fail "expected 4 cells with plausible readings"
grep -q '^writer stopped' "$dest/out" || fail "the writer's state is not 'stopped'"
echo "PASS"
