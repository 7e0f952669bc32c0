#!/bin/sh
# meson install script: puts the default config files into
# CONFDIR/INSTANCE/ where they are missing, and never overwrites one an
# operator has edited (meson's own install_data always would). The pristine
# defaults are installed to DEFAULTS_DIR by meson for reference.
# Without DESTDIR, as root on a host running systemd, it then creates the
# user brt (systemd-sysusers) and reloads the units.
#   install-config.sh CONFDIR INSTANCE DEFAULTS_DIR SYSUSERS_FILE FILE...
set -eu
confdir=$1 instance=$2 defaults=$3 sysusers_file=$4
shift 4

target="${DESTDIR:-}$confdir/$instance"
mkdir -p "$target"
for file in "$@"; do
    name=$(basename "$file")
    if [ -e "$target/$name" ]; then
        if ! cmp -s "$file" "$target/$name"; then
            echo "kept $confdir/$instance/$name (yours); the new defaults are in $defaults/$name"
        fi
    else
        cp "$file" "$target/$name"
        chmod 0644 "$target/$name"
        echo "installed $confdir/$instance/$name"
    fi
done

if [ -z "${DESTDIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
    if [ -n "$sysusers_file" ] && command -v systemd-sysusers >/dev/null; then
        systemd-sysusers "$sysusers_file"
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
fi
