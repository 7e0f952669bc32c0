#!/usr/bin/env bash
# Runs the simulator of two builds (e.g. build and build-aarch64, the second
# under QEMU) with the same seed, geometry and scenario, and compares the
# last frame each published bit for bit (scripts/frame_checksum.py).
#   scripts/compare-arch-frames.sh BUILD_DIR BUILD_DIR [WRAPPER...]
# WRAPPER runs the second build's programs (default: qemu-aarch64-static, as
# cross/aarch64-linux-gnu.ini). Exit 0 when equal, 1 when not.
set -euo pipefail
cd "$(dirname "$0")/.."
first=$1 second=$2
shift 2
wrapper=("$@")
[ ${#wrapper[@]} -gt 0 ] || wrapper=(qemu-aarch64-static)

name_base="brt_arch_frames_$$"
log=$(mktemp)
trap 'for b in 0 1; do "$first/shm_init/brt-shm-init" --shm-name "${name_base}_$b" --remove --force >/dev/null 2>&1 || true; done; rm -f "$log"' EXIT

checksum() {  # checksum INDEX BUILD_DIR [WRAPPER...]
    local index=$1 dir=$2
    shift 2
    local name="${name_base}_$index"
    "$@" "$dir/shm_init/brt-shm-init" --shm-name "$name" --racks 4 --modules 3 --cells 8 \
        --chemistry nmc,lfp,nmc,lfp --force >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    # The CPU backend on both (a CUDA build would take a GPU where there is one).
    # Profile mode and a fault: the quiet-cell path, the full cell step,
    # the thermal model and the sensors all run; two threads split the racks.
    "$@" "$dir/simulator/brt-simulator" --shm-name "$name" --backend cpu --seed 42 --threads 2 \
        --mode profile --profile-period 120 --max-speed --duration 120 \
        --scenario internal_short:rack=1,module=0,cell=2,start=5 >"$log" 2>&1 ||
        { cat "$log" >&2; return 1; }
    scripts/frame_checksum.py "$name"
}

a=$(checksum 0 "$first")
b=$(checksum 1 "$second" "${wrapper[@]}")
echo "$first: $a"
echo "$second: $b"
if [ "$a" != "$b" ]; then
    echo "compare-arch-frames: the frames differ" >&2
    exit 1
fi
echo "compare-arch-frames: equal"
