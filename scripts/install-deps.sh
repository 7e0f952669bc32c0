#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs, only those missing.
# Needs root (or sudo) only when something is missing.
#   scripts/install-deps.sh            the native build
#   scripts/install-deps.sh --aarch64  and the aarch64 cross build with its
#                                      emulator (cross/aarch64-linux-gnu.ini)
set -euo pipefail

aarch64=false
[ "${1:-}" = "--aarch64" ] && aarch64=true

# systemd: its systemd.pc says where the units go, and the tests run
# systemd-analyze verify on them (Debian 12 has no separate systemd-dev).
packages=(meson ninja-build pkg-config g++ libboost-dev libcli11-dev libfmt-dev catch2 python3 systemd)
# brt-ws-bridge parses client messages with nlohmann/json; its browser test
# drives Debian's chromium from node (playwright-core, installed by the test).
packages+=(nlohmann-json3-dev chromium nodejs)
# ccache keeps compiled objects between builds and fresh clones (Meson uses
# it by itself when it is installed); pkg-config builds the example reader
# against the installed segment library in the tests.
packages+=(ccache pkg-config)
# The bridge's /metrics test parses the text with Prometheus' own client.
packages+=(python3-prometheus-client)
# brt-mqtt-bridge is built on libmosquitto, its Sparkplug B payloads on
# protobuf (protoc generates the code at build time); its tests start
# Debian's broker and use its clients (mosquitto_sub, mosquitto_pub,
# mosquitto_passwd), openssl for the TLS certificates and protoc to decode
# Sparkplug payloads.
packages+=(libmosquitto-dev mosquitto mosquitto-clients openssl libprotobuf-dev protobuf-compiler)

# The aarch64 cross build: Debian's cross compiler, the arm64 libraries the
# tools link (fmt; Boost's headers, as the cross compiler's multiarch search
# finds them), and user-mode QEMU to run the aarch64 tests here. CLI11,
# Catch2 and nlohmann-json are header-only and serve both architectures.
# libc6:arm64 and libstdc++6:arm64 are what QEMU runs the programs with
# (cross/aarch64-linux-gnu.ini says why not the cross sysroot's copies).
cross_packages=(g++-aarch64-linux-gnu qemu-user-static libfmt-dev:arm64 libboost-dev:arm64
                libc6:arm64 libstdc++6:arm64)
$aarch64 && packages+=("${cross_packages[@]}")

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
# npm comes with some nodejs builds (NodeSource) and separately in Debian's.
if ! command -v npm >/dev/null; then
    missing+=(npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "install-deps: missing packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# The :arm64 packages need dpkg to know the architecture before apt-get
# update fetches its package lists.
if $aarch64 && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${as_root[@]}" dpkg --add-architecture arm64
fi
"${as_root[@]}" apt-get update -q >&2
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
