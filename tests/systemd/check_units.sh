#!/usr/bin/env bash
# The installed systemd units, as an operator gets them from `meson install`.
#   check_units.sh install ...  every file lands where the units expect it,
#                               and a reinstall keeps an edited config file
#   check_units.sh verify ...   systemd-analyze verify accepts every unit and
#                               the offline security review keeps its score
#                               (exit 77, skipped, without systemd-analyze)
# Arguments after the mode: MESON BUILD_ROOT BINDIR UNITDIR SYSUSERSDIR
# CONFDIR INSTANCE TOOL... (the tools whose units are built).
set -euo pipefail
mode=$1 meson=$2 build=$3 bindir=$4 unitdir=$5 sysusersdir=$6 confdir=$7 instance=$8
shift 8
tools=("$@")
# Highest acceptable `systemd-analyze security` exposure, times 10 (the
# scores are in docs/operations.md; dropping a hardening line fails here).
max_exposure_x10=15

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

if [ "$mode" = verify ] && ! command -v systemd-analyze >/dev/null; then
    echo "systemd-analyze not found (apt-get install systemd): skipped"
    exit 77
fi

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
install_tree() {
    "$meson" install -C "$build" --destdir "$dest" --no-rebuild >"$dest.log" 2>&1 ||
        { cat "$dest.log" >&2; rm -f "$dest.log"; fail "meson install --destdir failed"; }
    cat "$dest.log"
    rm -f "$dest.log"
}
install_tree >/dev/null
units=("$dest$unitdir"/brt-*)
[ -e "${units[0]}" ] || fail "no brt-* unit in $unitdir (is systemd.pc missing?)"

# The value of KEY= in a unit file, every occurrence on one line.
unit_values() {
    sed -n "s/^$1=//p" "$2" | tr '\n' ' '
}

check_install() {
    local expected_units=("brt-pipeline@.target")
    local wants=""
    for tool in "${tools[@]}"; do
        local unit="$dest$unitdir/brt-$tool@.service"
        expected_units+=("brt-$tool@.service")
        wants="$wants brt-$tool@%i.service"
        [ -f "$unit" ] || fail "brt-$tool@.service not installed in $unitdir"
        [ -x "$dest$bindir/brt-$tool" ] || fail "brt-$tool not installed in $bindir"

        # ExecStart runs the installed binary with this instance's config file.
        read -r -a exec_start <<<"$(unit_values ExecStart "$unit")"
        [ "${exec_start[0]}" = "$bindir/brt-$tool" ] ||
            fail "brt-$tool@.service runs ${exec_start[0]}, not $bindir/brt-$tool"
        local config=""
        for ((i = 1; i < ${#exec_start[@]}; ++i)); do
            [ "${exec_start[i]}" = --config ] && config=${exec_start[i + 1]}
        done
        [ "$config" = "$confdir/%i/$tool.conf" ] ||
            fail "brt-$tool@.service reads '$config', not $confdir/%i/$tool.conf"
        [ -f "$dest${config//%i/$instance}" ] ||
            fail "${config//%i/$instance} (the default pipeline's config) not installed"
        [[ " ${exec_start[*]} " == *" --shm-name %i "* ]] ||
            fail "brt-$tool@.service does not take the segment name from its instance"

        [ "$(unit_values User "$unit")" = "brt " ] || fail "brt-$tool@.service does not run as brt"
        [ "$(unit_values Group "$unit")" = "brt " ] || fail "brt-$tool@.service group is not brt"
        [ "$(unit_values RemoveIPC "$unit")" = "no " ] || fail "brt-$tool@.service lacks RemoveIPC=no"
        grep -q '^DynamicUser=yes' "$unit" && fail "brt-$tool@.service uses DynamicUser="
        [ "$tool" = shm-init ] && continue
        [ "$(unit_values Type "$unit")" = "notify " ] || fail "brt-$tool@.service is not Type=notify"
        [ -n "$(unit_values WatchdogSec "$unit")" ] || fail "brt-$tool@.service has no WatchdogSec="
        [ "$(unit_values Restart "$unit")" = "on-failure " ] || fail "brt-$tool@.service: Restart="
        [[ "$(unit_values Requires "$unit")" == *"brt-shm-init@%i.service"* ]] ||
            fail "brt-$tool@.service does not require the init unit"
        # Writer and readers must not take each other down: no dependency
        # that propagates a stop or a restart between them.
        local peers
        peers=$(grep -E '^(Requires|Requisite|BindsTo|PartOf|Upholds|Wants)=' "$unit" |
            grep -v -E '=(brt-shm-init@%i\.service|brt-pipeline@%i\.target)$' || true)
        [ -z "$peers" ] || fail "brt-$tool@.service depends on another tool: $peers"
    done
    local target="$dest$unitdir/brt-pipeline@.target"
    [ -f "$target" ] || fail "brt-pipeline@.target not installed"
    [ "$(unit_values Wants "$target")" = "${wants# } " ] ||
        fail "brt-pipeline@.target wants '$(unit_values Wants "$target")', not '${wants# }'"
    [ "$(unit_values DefaultInstance "$target")" = "$instance " ] ||
        fail "brt-pipeline@.target: DefaultInstance is not $instance"
    local installed
    installed=$(cd "$dest$unitdir" && ls brt-* | sort | tr '\n' ' ')
    [ "$installed" = "$(printf '%s\n' "${expected_units[@]}" | sort | tr '\n' ' ')" ] ||
        fail "installed units: $installed"

    grep -q -E '^u brt ' "$dest$sysusersdir/brt.conf" ||
        fail "no sysusers.d file creating the user brt in $sysusersdir"

    # A reinstall keeps an operator's edited config file, and puts back one
    # that was deleted.
    local edited="$dest$confdir/$instance/simulator.conf"
    echo "rate = 5" >>"$edited"
    rm "$dest$confdir/$instance/shm-init.conf"
    install_tree >/dev/null
    grep -q '^rate = 5$' "$edited" || fail "reinstalling overwrote the edited $edited"
    [ -f "$dest$confdir/$instance/shm-init.conf" ] || fail "reinstalling did not restore shm-init.conf"
    echo "installed: ${expected_units[*]}, sysusers.d/brt.conf, $confdir/$instance/*.conf"
}

check_verify() {
    # verify checks that ExecStart= binaries exist: point the units at the
    # installed tree. Everything else is verified as installed.
    mkdir "$dest/verify"
    for unit in "${units[@]}"; do
        sed "s|=$bindir/|=$dest$bindir/|" "$unit" >"$dest/verify/$(basename "$unit")"
    done
    for unit in "$dest"/verify/*; do
        local output
        # Warnings (an unknown key, a bad value) exit 0: any output fails.
        output=$(systemd-analyze verify --man=no "$unit" 2>&1) ||
            fail "systemd-analyze verify $(basename "$unit"): $output"
        [ -z "$output" ] || fail "systemd-analyze verify $(basename "$unit"): $output"
        case $unit in *.service)
            systemd-analyze security --offline=true --threshold=$max_exposure_x10 --no-pager \
                "$unit" >"$dest/security.txt" 2>&1 ||
                fail "$(basename "$unit") exposure over $max_exposure_x10/10: $(tail -1 "$dest/security.txt")"
            echo "$(basename "$unit"): $(tail -1 "$dest/security.txt")"
            ;;
        esac
    done
    echo "verified: ${units[*]##*/}"
}

case $mode in
install) check_install ;;
verify) check_verify ;;
*) fail "mode is install or verify, not $mode" ;;
esac
