#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs the pipeline.
# Today the pipeline is the segment: create it and show its header. The
# simulator and readers join here as they are built.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build
shm_name=${BATTERY_SHM:-brt_telemetry}
build/shm_init/brt-shm-init --shm-name "$shm_name"
build/shm_init/brt-shm-init --shm-name "$shm_name" --info
