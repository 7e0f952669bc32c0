#!/usr/bin/env bash
# Quick start: installs what is missing, builds, creates the segment (default
# geometry: 20 racks x 10 modules x 32 cells) and runs the whole pipeline until
# Ctrl-C: the simulator in real time, the anomaly monitor (alarms in
# build/pipeline/alarms.log), the WebSocket bridge (web page on
# http://127.0.0.1:8080/, or $BRT_LISTEN; its controls and acknowledge buttons
# use the token in build/pipeline/control-token, made on first use and put
# in the address it prints) and, on a terminal, the viewer in
# the foreground (q quits it and stops the pipeline). Without a terminal it
# runs until Ctrl-C or SIGTERM. Arguments go to the simulator, e.g. --speed 60.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build
shm_name=${BATTERY_SHM:-brt_telemetry}
listen=${BRT_LISTEN:-127.0.0.1:8080}
logs=build/pipeline
mkdir -p "$logs"
build/shm_init/brt-shm-init --shm-name "$shm_name"
# A token for the bridge's control API, readable by this user only: the page
# gets it from the address printed below (#token=..., never sent to a server).
token_file=$logs/control-token
if [ ! -s "$token_file" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$token_file")
fi
chmod 600 "$token_file"

pids=()
stop_all() {
    trap - EXIT INT TERM
    # The readers first, so none of them reports the writer going away.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[i]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 0' INT TERM

build/simulator/brt-simulator --shm-name "$shm_name" "$@" 2>"$logs/simulator.log" &
pids+=($!)
build/anomaly_monitor/brt-anomaly-monitor --shm-name "$shm_name" \
    >"$logs/alarms.log" 2>"$logs/anomaly-monitor.log" &
pids+=($!)
# Where Mosquitto is installed, the MQTT bridge too, to the broker on
# 127.0.0.1:$BRT_MQTT_PORT (default 1883): the one running there, else a
# local one started here (watch it with mosquitto_sub -t 'brt/#' -v).
mosquitto=$(command -v mosquitto || command -v /usr/sbin/mosquitto || true)
mqtt_port=${BRT_MQTT_PORT:-1883}
if [ -n "$mosquitto" ] && [ -x build/mqtt_bridge/brt-mqtt-bridge ]; then
    # A broker already there (Debian's mosquitto.service) is used as it is.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
        # Without a config file Mosquitto 2 listens on the loopback only.
        "$mosquitto" -p "$mqtt_port" >"$logs/mosquitto.log" 2>&1 &
        pids+=($!)
        for _ in $(seq 50); do
            (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && break
            sleep 0.1
        done
    fi
    build/mqtt_bridge/brt-mqtt-bridge --shm-name "$shm_name" --broker-port "$mqtt_port" \
        >"$logs/mqtt-bridge.log" 2>&1 &
    pids+=($!)
    echo "MQTT: watch it with: mosquitto_sub -p $mqtt_port -t 'brt/#' -v" >&2
fi

build/ws_bridge/brt-ws-bridge --shm-name "$shm_name" --listen "$listen" \
    --control-token-file "$token_file" >"$logs/ws-bridge.log" 2>&1 &
pids+=($!)

echo "pipeline on $shm_name: web page http://$listen/#token=$(cat "$token_file")" >&2
echo "  (the token, in $token_file, enables the page's controls and acknowledge buttons)" >&2
echo "  alarms in $logs/alarms.log, logs in $logs/" >&2
if [ -t 0 ] && [ -t 1 ]; then
    build/viewer/brt-viewer --shm-name "$shm_name"
else
    echo "Ctrl-C stops it; build/viewer/brt-viewer --shm-name $shm_name shows it" >&2
    wait "${pids[0]}"
fi
