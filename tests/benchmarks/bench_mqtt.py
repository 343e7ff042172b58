"""Home Assistant: ticket file change -> MQTT state message, and blinky's memory and idle CPU with four
lights (four agents, at four USB ports) and MQTT on.

The real ``python -m blinky`` with the fake hid module and Debian's mosquitto on a loopback port; a
subscriber stands in for Home Assistant.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.benchmarks.common import idle_cpu_per_hour, latency, quiet_helpdesk, stop_and_peak_rss_mb, table
from tests.helpers import FakeLights, free_port, iso_in, put_ticket, site_config, start_module, ticket, wait_for

TICKETS = 1_000
CHANGES = 40
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", 180))
TOPIC = "ticketdash/ticketdash/worst"
LIGHTS = 4


def main() -> str:
    root = Path(tempfile.mkdtemp(prefix="bench-mqtt-"))
    port = free_port()
    (root / "mosquitto.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                                         f"user {os.environ.get('USER', 'root')}\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(root / "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = quiet_helpdesk(root, TICKETS)
    lights = FakeLights(root / "hid")
    agents = [21000000001 + n for n in range(LIGHTS)]  # the first one owns every ticket
    (folder / "_names").mkdir(exist_ok=True)
    (folder / "_names" / "agents.txt").write_text("".join(f"{a}:Agent {n}\n" for n, a in enumerate(agents, 1)))
    for n in range(1, LIGHTS + 1):
        lights.plug(f"1-1.{n}:1.0")
    config = site_config(root / "config", mqtt={"port": port}, blinky={"device": "luxafor", "lights": [
        {"name": f"desk {n}", "port": f"1-1.{n}", "agent": agent} for n, agent in enumerate(agents, 1)]})
    seen: dict[str, tuple[str, float]] = {}
    arrived = threading.Event()

    def on_message(client, userdata, message) -> None:
        seen[message.topic] = (message.payload.decode(), time.perf_counter())
        arrived.set()

    time.sleep(0.5)
    home = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-home")
    home.on_message = on_message
    home.connect("127.0.0.1", port)
    home.subscribe(TOPIC, qos=1)
    home.loop_start()
    process = start_module("blinky", "--config", str(config), env=lights.env())
    try:
        wait_for(lambda: seen.get(TOPIC, ("",))[0] == "clear", 60, "clear over MQTT")
        latencies = []
        for i in range(CHANGES):
            breach = i % 2 == 0
            expected = "fr_overdue" if breach else "clear"
            began = time.perf_counter()
            if breach:
                put_ticket(folder, ticket(TICKETS + 1, stats={"first_responded_at": None}, fr_due_by=iso_in(minutes=-5)))
            else:
                (folder / f"{TICKETS + 1}.json").unlink()
            wait_for(lambda e=expected: seen.get(TOPIC, ("",))[0] == e, 10, "the state message")
            latencies.append(seen[TOPIC][1] - began)
            time.sleep(0.05)
        per_hour = idle_cpu_per_hour(process.pid, folder, IDLE_SECONDS)
    finally:
        status, peak = stop_and_peak_rss_mb(process, signal.SIGTERM)
        home.loop_stop()
        home.disconnect()
        broker.terminate()
        broker.wait(timeout=10)
    rows = [
        [f"ticket file change -> MQTT state message ({CHANGES} changes)", latency(latencies), "median <= 300 ms"],
        [f"CPU per idle hour, {TICKETS:,} tickets, {LIGHTS} lights and MQTT (measured {IDLE_SECONDS:.0f} s)",
         f"{per_hour:.2f} s", "<= 2 s"],
        [f"peak RSS, {LIGHTS} lights and MQTT (exit {status})", f"{peak:.1f} MB", "<= 60 MB"],
    ]
    return table("Home Assistant (python -m blinky, fake hid, Debian's mosquitto)", ["what", "measured", "target"], rows)


if __name__ == "__main__":
    print(main())
