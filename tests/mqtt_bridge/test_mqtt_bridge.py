#!/usr/bin/env python3
"""brt-mqtt-bridge against a real Mosquitto that this test starts itself.

A generated config on a random loopback port, a password file and an ACL
(docs/mqtt.md: a fleet user reads, an operator commands), the real
simulator and anomaly monitor on a segment of their own, and the mosquitto
clients as subscriber and commander. One broker, several cases; each case
says what a user would notice if it broke. Exit 77 (skipped) when mosquitto
or its clients are not installed (scripts/install-deps.sh installs them).

Two segments, each with its simulator and bridge, stand for two hosts on
one broker. Loopback only (no network namespaces: `ip netns` needs root and
would leave state behind a failed test), so a cut link is played by stopping
the broker for 10 s, as the issue's outage, (the bridge's back-off is
shortened to 0.1..0.5 s for it) and starting it again on the same port.
Sparkplug B payloads are decoded and encoded with protoc from the bridge's
own .proto (skipped without protoc).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BRIDGE = os.environ.get("BRT_MQTT_BRIDGE", "")
SHM_INIT = os.environ.get("BRT_SHM_INIT", "")
SIMULATOR = os.environ.get("BRT_SIMULATOR", "")
MONITOR = os.environ.get("BRT_ANOMALY_MONITOR", "")


def find(program):
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")


MOSQUITTO = find("mosquitto")
MOSQUITTO_SUB = find("mosquitto_sub")
MOSQUITTO_PUB = find("mosquitto_pub")
MOSQUITTO_PASSWD = find("mosquitto_passwd")
PROTOC = find("protoc")
SPARKPLUG_PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                               "mqtt_bridge", "sparkplug_b.proto")

failures = []


def check(condition, message):
    if condition:
        print(f"ok: {message}")
    else:
        print(f"FAIL: {message}")
        failures.append(message)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, workdir, port, tls_port=None):
        self.workdir = workdir
        self.port = port
        self.conf = os.path.join(workdir, "mosquitto.conf")
        passwords = os.path.join(workdir, "passwords")
        for user, password in (("bridge", "bridge-secret"), ("operator", "operator-secret"),
                               ("fleet", "fleet-secret")):
            subprocess.run([MOSQUITTO_PASSWD, "-b"] + (["-c"] if user == "bridge" else []) +
                           [passwords, user, password], check=True)
        acl = os.path.join(workdir, "acl")
        # The ACL of docs/mqtt.md, "Who may command".
        with open(acl, "w") as f:
            f.write("user bridge\ntopic readwrite brt/#\ntopic readwrite spBv1.0/#\n\n"
                    "user operator\ntopic read brt/#\ntopic write brt/+/+/commands/#\n"
                    "topic read spBv1.0/#\ntopic write spBv1.0/+/NCMD/#\n"
                    "topic write spBv1.0/+/DCMD/#\n\n"
                    "user fleet\ntopic read brt/#\ntopic read spBv1.0/#\n")
        with open(self.conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous false\n"
                    f"password_file {passwords}\nacl_file {acl}\npersistence false\n")
            if tls_port:
                # Clients must show a certificate from the test's CA, and
                # still log in with a password.
                f.write(f"listener {tls_port} 127.0.0.1\ncafile {workdir}/ca.crt\n"
                        f"certfile {workdir}/server.crt\nkeyfile {workdir}/server.key\n"
                        "require_certificate true\n")
            if os.geteuid() == 0:
                # As root, mosquitto would switch to user mosquitto, who cannot
                # read the files in this private directory.
                f.write("user root\n")
        for path in (passwords, acl):
            os.chmod(path, 0o600)
        self.process = None

    def start(self):
        self.log = open(os.path.join(self.workdir, "mosquitto.log"), "a")
        self.process = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.log.close()
        raise RuntimeError("mosquitto did not start listening: " +
                           open(os.path.join(self.workdir, "mosquitto.log")).read()[-2000:])

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(5)
            self.process = None


class Subscriber:
    """mosquitto_sub -v on a filter; collects (topic, payload) in order."""

    def __init__(self, port, topic_filter, user="fleet", password="fleet-secret", hex=False):
        self.messages = []
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(port), "-u", user, "-P", password,
             "-V", "5", "-t", topic_filter, "-F", "%t %x" if hex else "%t %p"],
            stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            topic, _, payload = line.rstrip("\n").partition(" ")
            with self.lock:
                self.messages.append((topic, payload))

    def wait_for(self, predicate, timeout_s=5.0, start=0):
        """The first message from index `start` on matching predicate(topic, payload)."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            with self.lock:
                for topic, payload in self.messages[start:]:
                    if predicate(topic, payload):
                        return topic, payload
            time.sleep(0.02)
        return None

    def count(self):
        with self.lock:
            return len(self.messages)

    def stop(self):
        self.process.terminate()
        self.process.wait(5)


def sparkplug_decode(hex_payload):
    """A Sparkplug B payload as {"seq": N or None, "metrics": [{field: value}]},
    decoded by protoc from the bridge's own .proto."""
    text = subprocess.run([PROTOC, f"--proto_path={os.path.dirname(SPARKPLUG_PROTO)}",
                           "--decode=org.eclipse.tahu.protobuf.Payload", "sparkplug_b.proto"],
                          input=bytes.fromhex(hex_payload), capture_output=True,
                          check=True).stdout.decode()
    decoded = {"seq": None, "metrics": []}
    metric = None
    for line in text.splitlines():
        if line == "metrics {":
            metric = {}
        elif line == "}":
            decoded["metrics"].append(metric)
            metric = None
        elif metric is not None:
            key, _, value = line.strip().partition(": ")
            metric[key] = value.strip('"') if value.startswith('"') else value
        elif line.startswith("seq: "):
            decoded["seq"] = int(line[5:])
    return decoded


def sparkplug_encode(workdir, text):
    """protoc --encode of a Payload in text format, into a file for mosquitto_pub -f."""
    path = os.path.join(workdir, "payload.bin")
    with open(path, "wb") as f:
        f.write(subprocess.run([PROTOC, f"--proto_path={os.path.dirname(SPARKPLUG_PROTO)}",
                                "--encode=org.eclipse.tahu.protobuf.Payload",
                                "sparkplug_b.proto"], input=text.encode(), capture_output=True,
                               check=True).stdout)
    return path


def metric_named(decoded, name):
    return next((m for m in decoded["metrics"] if m.get("name") == name), None)


def publish(port, topic, payload, user="operator", password="operator-secret", extra=()):
    subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-u", user, "-P",
                    password, "-V", "5", "-q", "1", "-t", topic,
                    *(["-m", payload] if payload is not None else []), *extra],
                   check=True)


def make_certificates(workdir):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, and
    a second CA that signed none of them. False when openssl is missing."""
    openssl = shutil.which("openssl")
    if not openssl:
        return False

    def run(*args):
        subprocess.run([openssl, *args], check=True, cwd=workdir, capture_output=True)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            f"/CN=brt test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    with open(os.path.join(workdir, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, extra in (("server", ["-extfile", "san.ext"]), ("client", [])):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=brt test {name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *extra)
    for name in os.listdir(workdir):
        if name.endswith(".key"):
            os.chmod(os.path.join(workdir, name), 0o600)
    return True


def on(topic_wanted, **fields):
    """A predicate: this topic, and a JSON payload holding these values."""
    def predicate(topic, payload):
        if topic != topic_wanted:
            return False
        try:
            document = json.loads(payload)
        except ValueError:
            return False
        return all(document.get(key) == value for key, value in fields.items())
    return predicate


def sparkplug_cases(port, workdir, bridge_args, start, json_watch, base):
    group, node = "lab", "rack-host-1"
    spb = Subscriber(port, "spBv1.0/#", hex=True)
    time.sleep(0.3)
    bridge = start(bridge_args("--payload", "sparkplug"), "bridge-sparkplug")

    def message(kind, device=None, timeout_s=6.0, start=0):
        topic = f"spBv1.0/{group}/{kind}/{node}" + (f"/{device}" if device else "")
        got = spb.wait_for(lambda t, p: t == topic, timeout_s, start)
        return sparkplug_decode(got[1]) if got else None

    birth = message("NBIRTH")
    bd_seq = None
    if check(birth is not None and birth["seq"] == 0, "NBIRTH with seq 0"):
        bd_seq = metric_named(birth, "bdSeq")
        check(bd_seq is not None and metric_named(birth, "Node Control/Rebirth") is not None and
              metric_named(birth, "Writer/Liveness") is not None,
              "NBIRTH carries bdSeq, Node Control/Rebirth and the writer's metrics")
    dbirth = message("DBIRTH", "rack1")
    if check(dbirth is not None, "DBIRTH of device rack1"):
        mean = metric_named(dbirth, "voltage_v/mean")
        check(mean is not None and mean.get("alias") == "2001" and mean.get("datatype") == "9" and
              float(mean["float_value"]) > 2.0,
              "DBIRTH: voltage_v/mean, Float, alias 2001, a plausible value")
        check(metric_named(dbirth, "Commands/Mode") is not None,
              "DBIRTH announces the writable Commands/Mode")
    mark = spb.count()
    data = message("DDATA", "rack1", start=mark)
    if check(data is not None and data["seq"] is not None, "DDATA of rack1 with a seq"):
        check(all("name" not in m and "alias" in m for m in data["metrics"]),
              "DDATA metrics by alias only")
    # seq runs +1 per message of this node, modulo 256.
    with spb.lock:
        sequence = [sparkplug_decode(p)["seq"] for t, p in spb.messages
                    if t.startswith(f"spBv1.0/{group}/") and f"/{node}" in t and
                    "/NDEATH/" not in t]
    steps = [(b - a) % 256 for a, b in zip(sequence, sequence[1:])]
    check(len(steps) > 3 and all(step == 1 for step in steps),
          f"seq increments by one per message ({sequence[:12]}...)")

    # DCMD: rack 0 to idle, by the metric's name; the result comes back on the
    # JSON results topic and the rack's mode metric follows.
    mark, json_mark = spb.count(), json_watch.count()
    payload = sparkplug_encode(workdir, 'metrics { name: "Commands/Mode" datatype: 12 '
                                        'string_value: "idle" }')
    publish(port, f"spBv1.0/{group}/DCMD/{node}/rack0", None, extra=["-f", payload])
    check(json_watch.wait_for(on(f"{base}/results", command="rack/mode", status="applied"),
                              5, json_mark) is not None,
          "DCMD Commands/Mode: applied, result on the results topic")
    idle = spb.wait_for(lambda t, p: t == f"spBv1.0/{group}/DDATA/{node}/rack0" and any(
        m.get("alias") == "1022" and m.get("string_value") == "idle"
        for m in sparkplug_decode(p)["metrics"]), 5, mark)
    check(idle is not None, "rack0's mode metric (alias 1022) now idle in DDATA")
    # A DCMD that is not a Sparkplug payload: an invalid result, no crash.
    json_mark = json_watch.count()
    publish(port, f"spBv1.0/{group}/DCMD/{node}/rack0", "\x01garbage")
    check(json_watch.wait_for(on(f"{base}/results", status="invalid"), 5, json_mark) is not None
          and bridge.poll() is None, "a broken DCMD payload: invalid result, the bridge runs on")

    # Rebirth on request: a new NBIRTH, seq 0, the same bdSeq.
    mark = spb.count()
    payload = sparkplug_encode(workdir, 'metrics { name: "Node Control/Rebirth" datatype: 11 '
                                        'boolean_value: true }')
    publish(port, f"spBv1.0/{group}/NCMD/{node}", None, extra=["-f", payload])
    reborn = message("NBIRTH", start=mark)
    check(reborn is not None and reborn["seq"] == 0 and bd_seq is not None and
          metric_named(reborn, "bdSeq").get("long_value") == bd_seq.get("long_value"),
          "NCMD rebirth: NBIRTH again, seq 0, same bdSeq")
    check(message("DBIRTH", "rack0", start=mark) is not None, "rebirth: DBIRTH again")

    # kill -9: the will is NDEATH with the session's bdSeq.
    mark = spb.count()
    bridge.send_signal(signal.SIGKILL)
    bridge.wait(5)
    death = message("NDEATH", start=mark)
    check(death is not None and bd_seq is not None and
          metric_named(death, "bdSeq").get("long_value") == bd_seq.get("long_value"),
          "kill -9: NDEATH (the Last Will) with the NBIRTH's bdSeq")
    spb.stop()


def main():
    if not all([MOSQUITTO, MOSQUITTO_SUB, MOSQUITTO_PUB, MOSQUITTO_PASSWD]):
        print("skipped: needs mosquitto and mosquitto-clients (apt-get install mosquitto "
              "mosquitto-clients; scripts/install-deps.sh installs them)", file=sys.stderr)
        return 77
    workdir = tempfile.mkdtemp(prefix="brt-mqtt-test-")
    shm = f"brt_mqtt_test_{os.getpid()}"
    shm2 = shm + "_host2"
    port = free_port()
    tls_port = free_port() if make_certificates(workdir) else None
    broker = Broker(workdir, port, tls_port)
    children = []
    password_file = os.path.join(workdir, "bridge.password")
    with open(password_file, "w") as f:
        f.write("bridge-secret\n")
    os.chmod(password_file, 0o600)
    base = "brt/lab/rack-host-1"

    def bridge_args(*extra, password=password_file, segment=shm, node="rack-host-1"):
        port_args = [] if "--broker-port" in extra else ["--broker-port", str(port)]
        return [BRIDGE, "--shm-name", segment, *port_args, "--site", "lab",
                "--node", node, "--username", "bridge", "--password-file", password,
                "--summary-rate", "5", "--startup-grace", "0", "--reconnect-min", "0.1",
                "--reconnect-max", "0.5", "--buffer-telemetry", "4", *extra]

    def start(args, name):
        log = open(os.path.join(workdir, name + ".log"), "w")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        children.append(process)
        return process

    try:
        broker.start()
        subprocess.run([SHM_INIT, "--shm-name", shm, "--racks", "2", "--modules", "2",
                        "--cells", "8"], check=True, stdout=subprocess.DEVNULL)
        start([SIMULATOR, "--shm-name", shm], "simulator")
        watch = Subscriber(port, "brt/#")

        # The bridge before the alarm monitor: it must say the alarm system is
        # down (an alarm), and publish its clearing (a transition) when the
        # monitor starts.
        bridge = start(bridge_args("--module-interval", "1"), "bridge")
        check(watch.wait_for(on(f"{base}/status", status="online")) is not None,
              "status online (retained) once connected")
        writer = watch.wait_for(on(f"{base}/writer", liveness="live"))
        check(writer is not None and json.loads(writer[1])["geometry"]["racks"] == 2,
              "writer state: live, with the segment's geometry")
        rack = watch.wait_for(on(f"{base}/telemetry/rack/1", type="rack"))
        if check(rack is not None, "a summary of rack 1"):
            document = json.loads(rack[1])
            check(document["rack"] == 1 and document["cells"] == 16 and
                  document["first_cell"] == 16 and "voltage_v" in document and
                  document["voltage_v"]["valid"] == 16 and document["chemistry"] == "nmc",
                  "rack summary: the ws_bridge's keys and this rack's cells")
        cells = watch.wait_for(on(f"{base}/telemetry/rack/1/module/1", type="module"))
        check(cells is not None and len(json.loads(cells[1])["cell_list"]) == 8,
              "--module-interval: every module's 8 cells published")
        summary = watch.wait_for(on(f"{base}/telemetry/summary", type="summary"))
        check(summary is not None and json.loads(summary[1])["cells"] == 32,
              "system summary of all 32 cells")
        down = watch.wait_for(lambda t, p: t == f"{base}/alarms/active" and
                              any(a["rule"] == "alarm_system" for a in json.loads(p)["alarms"]))
        check(down is not None, "active alarm set: the alarm system is down (no monitor yet)")
        start([MONITOR, "--shm-name", shm, "--startup-grace", "0"], "monitor")
        cleared = watch.wait_for(lambda t, p: t == f"{base}/alarms/events" and
                                 json.loads(p).get("rule") == "alarm_system" and
                                 json.loads(p).get("event") == "clear", 8)
        check(cleared is not None, "alarm transition: cleared when the monitor runs")
        active = watch.wait_for(lambda t, p: t == f"{base}/alarms/active" and
                                json.loads(p)["monitor"]["running"], 5)
        check(active is not None, "active alarm set (retained) from the monitor's segment")

        # A second "host": its own segment, simulator and bridge on the same
        # broker (loopback; no network namespaces without root). Each node
        # has its own subtree, and a command to one changes only that one.
        subprocess.run([SHM_INIT, "--shm-name", shm2, "--racks", "1", "--modules", "2",
                        "--cells", "8"], check=True, stdout=subprocess.DEVNULL)
        start([SIMULATOR, "--shm-name", shm2], "simulator2")
        base2 = "brt/lab/rack-host-2"
        start(bridge_args(segment=shm2, node="rack-host-2"), "bridge-host2")
        check(watch.wait_for(on(f"{base2}/status", status="online", segment=shm2)) is not None,
              "second host: its own status topic, online")
        mark = watch.count()
        publish(port, f"{base2}/commands/ambient", '{"temperature_c": 5, "correlation_id": "h2"}')
        check(watch.wait_for(on(f"{base2}/results", correlation_id="h2", status="applied"),
                             start=mark) is not None, "second host: command applied")
        check(watch.wait_for(on(f"{base2}/telemetry/summary", ambient_temperature_c=5),
                             start=mark) is not None, "second host: its ambient is 5 C")
        later = watch.count()
        first = watch.wait_for(on(f"{base}/telemetry/summary"), start=later)
        check(first is not None and json.loads(first[1])["ambient_temperature_c"] == 25,
              "first host untouched by the second host's command (ambient 25 C)")

        # A command changes the simulator; its result carries the correlation id.
        mark = watch.count()
        publish(port, f"{base}/commands/ambient",
                '{"temperature_c": 41.5, "correlation_id": "amb-1"}')
        result = watch.wait_for(on(f"{base}/results", correlation_id="amb-1"), start=mark)
        check(result is not None and json.loads(result[1])["status"] == "applied",
              "ambient command applied, its result has the correlation id")
        check(watch.wait_for(on(f"{base}/telemetry/summary", ambient_temperature_c=41.5),
                             start=mark) is not None,
              "the simulator's ambient changed to 41.5 C")
        mark = watch.count()
        publish(port, f"{base}/commands/rack/mode",
                '{"rack": 1, "mode": "idle", "correlation_id": 17}')
        check(watch.wait_for(on(f"{base}/results", correlation_id=17, status="applied"),
                             start=mark) is not None, "rack mode command applied")
        check(watch.wait_for(on(f"{base}/telemetry/rack/1", mode="idle"), start=mark)
              is not None, "rack 1 now idle in its summary")
        publish(port, f"{base}/commands/module", '{"rack": 0, "module": 1, "correlation_id": "m"}')
        check(watch.wait_for(on(f"{base}/results", correlation_id="m", status="applied"),
                             start=mark) is not None and
              watch.wait_for(on(f"{base}/telemetry/rack/0/module/1", module=1), start=mark)
              is not None, "a module's cells on request (commands/module)")
        publish(port, f"{base}/commands/alarm/acknowledge", '{"correlation_id": "ack"}')
        check(watch.wait_for(on(f"{base}/results", correlation_id="ack", status="applied"),
                             start=mark) is not None,
              "alarm acknowledge goes to the monitor's ring and is applied")

        # Bad payloads get an error result, and the bridge carries on.
        for topic, payload, needle in (
                ("scenario/apply", "{not json", "one JSON object"),
                ("scenario/apply", '{"scenario": "no_such", "correlation_id": "b2"}',
                 "unknown scenario"),
                ("rack/mode", '{"rack": 7, "mode": "idle"}', "rack 7"),
                ("ambient", '{"temperature_c": "hot"}', "must be a number"),
                ("alarm/shelve", '{"id": 3, "seconds": -1}', "seconds"),
                ("self-destruct", "{}", "unknown command")):
            mark = watch.count()
            publish(port, f"{base}/commands/{topic}", payload)
            got = watch.wait_for(on(f"{base}/results", command=topic), start=mark)
            check(got is not None and json.loads(got[1])["status"] == "invalid" and
                  needle in json.loads(got[1])["error"],
                  f"bad {topic} payload {payload!r}: invalid result naming '{needle}'")
        check(bridge.poll() is None, "the bridge still runs after bad payloads")

        # MQTT 5 request/response: the result also goes to the response topic.
        # (The response topic must be one the ACL lets the bridge write.)
        reply_topic = f"{base}/replies/operator-1"
        response = Subscriber(port, reply_topic, user="operator", password="operator-secret")
        time.sleep(0.3)
        publish(port, f"{base}/commands/pause", "{}",
                extra=["-D", "publish", "response-topic", reply_topic,
                       "-D", "publish", "correlation-data", "xyz"])
        check(response.wait_for(lambda t, p: json.loads(p)["command"] == "pause") is not None,
              "MQTT 5 response topic gets the result")
        publish(port, f"{base}/commands/resume", "{}")
        response.stop()

        # The ACL: the fleet user reads but cannot command.
        mark = watch.count()
        publish(port, f"{base}/commands/pause", '{"correlation_id": "fleet"}', user="fleet",
                password="fleet-secret")
        time.sleep(1.0)
        check(watch.wait_for(on(f"{base}/results", correlation_id="fleet"), 0.5, mark) is None,
              "a fleet user's command is dropped by the broker's ACL")

        # The broker goes away and comes back: the bridge reconnects, publishes
        # its retained state again (the broker kept none: persistence false)
        # and says what it dropped meanwhile.
        watch.stop()
        broker.stop()
        time.sleep(10.0)
        broker.start()
        watch = Subscriber(port, "brt/#")
        check(watch.wait_for(on(f"{base}/status", status="online"), 10) is not None,
              "after a broker restart: status online again (retained, re-published)")
        check(watch.wait_for(on(f"{base}/writer", liveness="live"), 5) is not None,
              "after a broker restart: writer state re-published")
        check(watch.wait_for(lambda t, p: t == f"{base}/alarms/active", 5) is not None,
              "after a broker restart: active alarm set re-published")
        report = watch.wait_for(lambda t, p: t == f"{base}/bridge" and
                                json.loads(p)["connects"] >= 2, 5)
        check(report is not None and json.loads(report[1])["disconnects"] >= 1 and
              json.loads(report[1])["dropped_telemetry"] > 0,
              "bridge counters: a second connect, a disconnect, the telemetry dropped beyond "
              "--buffer-telemetry 4 counted")
        if report:
            print("  bridge counters after the outage:", report[1])

        # kill -9: the broker publishes the Last Will, offline.
        mark = watch.count()
        bridge.send_signal(signal.SIGKILL)
        bridge.wait(5)
        check(watch.wait_for(on(f"{base}/status", status="offline", reason="connection lost"),
                             5, mark) is not None,
              "kill -9 of the bridge: the Last Will says offline")

        # A clean stop says offline itself (and no will follows).
        bridge = start(bridge_args(), "bridge2")
        check(watch.wait_for(on(f"{base}/status", status="online"), 5, mark) is not None,
              "restarted bridge online")
        mark = watch.count()
        bridge.send_signal(signal.SIGTERM)
        check(bridge.wait(5) == 0, "SIGTERM: exit 0")
        check(watch.wait_for(on(f"{base}/status", status="offline", reason="stopped"), 5, mark)
              is not None, "clean stop: offline, reason stopped")

        # TLS with a client certificate: the broker's CA, our certificate.
        if tls_port:
            tls = ["--broker-port", str(tls_port), "--ca-file", f"{workdir}/ca.crt",
                   "--cert-file", f"{workdir}/client.crt", "--key-file", f"{workdir}/client.key"]
            mark = watch.count()
            bridge = start(bridge_args(*tls), "bridge-tls")
            check(watch.wait_for(on(f"{base}/status", status="online"), 8, mark) is not None,
                  "over TLS with a client certificate: online")
            bridge.send_signal(signal.SIGTERM)
            check(bridge.wait(5) == 0, "TLS bridge stops cleanly")
            # A CA that did not sign the broker's certificate: exit 1, clearly.
            tls[3] = f"{workdir}/other-ca.crt"
            run = subprocess.run(bridge_args(*tls), capture_output=True, text=True, timeout=10)
            check(run.returncode == 1 and "TLS" in run.stderr,
                  f"wrong CA: exit 1 and a clear message ({run.stderr.strip()!r})")
        else:
            print("note: openssl not installed: TLS cases not run")

        # Sparkplug B: NBIRTH/DBIRTH/DDATA with seq and aliases, DCMD, rebirth, NDEATH.
        if PROTOC and os.path.exists(SPARKPLUG_PROTO):
            sparkplug_cases(port, workdir, bridge_args, start, watch, base)
        else:
            print("note: protoc not installed: Sparkplug B cases not run")

        # A wrong password: exit 1 with a clear message.
        wrong = os.path.join(workdir, "wrong.password")
        with open(wrong, "w") as f:
            f.write("not-the-password\n")
        os.chmod(wrong, 0o600)
        run = subprocess.run(bridge_args(password=wrong), capture_output=True, text=True,
                             timeout=10)
        check(run.returncode == 1 and "refused" in run.stderr and "password" in run.stderr,
              f"wrong password: exit 1 and a clear message ({run.stderr.strip()!r})")
        # A password file others may read is refused before connecting.
        os.chmod(wrong, 0o644)
        run = subprocess.run(bridge_args(password=wrong), capture_output=True, text=True,
                             timeout=10)
        check(run.returncode == 2 and "chmod 600" in run.stderr,
              f"password file readable by others: exit 2 ({run.stderr.strip()!r})")
        watch.stop()

        # No broker at the start (a broker that boots later): the bridge
        # runs, retries, and connects once it is there.
        broker.stop()
        bridge = start(bridge_args(), "bridge-early")
        time.sleep(1.0)
        check(bridge.poll() is None, "no broker at the start: the bridge keeps running")
        broker.start()
        watch = Subscriber(port, "brt/#")
        check(watch.wait_for(on(f"{base}/status", status="online"), 8) is not None,
              "the broker started later: the bridge connects and says online")
        watch.stop()
    finally:
        for process in children:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
        broker.stop()
        for name in (shm, shm + ".alarms", shm2):
            try:
                os.unlink(f"/dev/shm/{name}")
            except FileNotFoundError:
                pass
        if failures:
            for name in os.listdir(workdir):
                if name.endswith(".log"):
                    print(f"--- {name}")
                    print(open(os.path.join(workdir, name)).read()[-3000:])
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
