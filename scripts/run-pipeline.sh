#!/usr/bin/env bash
# Quick start: installs what is missing, builds, creates the segment (default
# geometry: 20 racks x 10 modules x 32 cells) and runs the simulator in real
# time until Ctrl-C. Arguments go to the simulator, e.g. --speed 60.
# Readers join here as they are built; meanwhile, from another terminal:
#   build/shm_init/brt-shm-init --info
#   scripts/read_segment.py --rack 0
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build
shm_name=${BATTERY_SHM:-brt_telemetry}
build/shm_init/brt-shm-init --shm-name "$shm_name"
echo "starting the simulator on $shm_name (Ctrl-C stops it)" >&2
exec build/simulator/brt-simulator --shm-name "$shm_name" "$@"
