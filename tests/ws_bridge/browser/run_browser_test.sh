#!/usr/bin/env bash
# Runs browser_test.mjs: headless Chromium against the bridge's web page.
# Installs playwright-core (package-lock.json) into node_modules on first use.
# Exit 77 (meson: skipped) when node, npm or chromium is missing, or when the
# npm registry cannot be reached to install playwright-core.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# A cross build's tests run under QEMU (tests/meson.build): node would start
# the aarch64 bridge without the emulator, and the page's checks wait for
# frames at native speed.
if [ -n "${BRT_EMULATED:-}" ]; then
    echo "skipped: under emulation (BRT_EMULATED=1): needs the bridge at native speed" >&2
    exit 77
fi
chromium=${BRT_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$chromium" ] || ! command -v node >/dev/null; then
    echo "skipped: needs node and chromium (apt-get install nodejs chromium)" >&2
    exit 77
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    if ! command -v npm >/dev/null; then
        echo "skipped: needs npm to install playwright-core" >&2
        exit 77
    fi
    # A lock so two builds' test runs never install at once.
    if ! (flock 9; [ -d "$here/node_modules/playwright-core" ] ||
          npm ci --prefix "$here" --no-audit --no-fund >&2) 9>"$here/.npm-install.lock"; then
        echo "skipped: could not install playwright-core from the npm registry" >&2
        exit 77
    fi
fi
export BRT_CHROMIUM="$chromium"
exec node "$here/browser_test.mjs"
