"""Home Assistant through a real broker (Debian's mosquitto): discovery, states, the last will, and a
broker outage that never stops the USB light."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.helpers import iso_in, put_ticket, site_config, start_module, ticket, wait_for, write_heartbeat

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("light")]

RED = bytes.fromhex("00 01 ff ff 00 00 00 00 00")
STROBE_RED = bytes.fromhex("00 03 ff ff 00 00 14 00 00")


class Subscriber:
    """What a Home Assistant would see: every message under the discovery prefix and our topics."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-home-assistant")
        self.client.on_message = self._message
        self.client.on_connect = lambda c, *_: c.subscribe([("homeassistant/#", 1), ("ticketdash/#", 1)])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _message(self, client, userdata, message) -> None:
        with self.lock:
            self.messages.append((message.topic, message.payload.decode(), bool(message.retain)))

    def last(self, topic: str) -> str | None:
        with self.lock:
            found = [payload for t, payload, _ in self.messages if t == topic]
        return found[-1] if found else None

    def count(self, topic: str) -> int:
        with self.lock:
            return sum(1 for t, _, _ in self.messages if t == topic)

    def say(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def home(mosquitto):
    """The broker running, and a Home Assistant subscribed to it."""
    subscriber = Subscriber(mosquitto.start().port)
    yield subscriber
    subscriber.close()


def blinky_site(tmp_path: Path, port: int, fake_lights) -> tuple[Path, Path]:
    fake_lights.plug()
    folder = tmp_path / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    put_ticket(folder, ticket(1, due_by=iso_in(hours=2)))  # critical
    config = site_config(tmp_path / "config", blinky={"device": "luxafor", "debounce_seconds": 0.05},
                         mqtt={"host": "127.0.0.1", "port": port})
    return folder, config


def test_home_assistant_discovers_the_board_and_follows_it(tmp_path: Path, fake_lights, mosquitto, home) -> None:
    folder, config = blinky_site(tmp_path, mosquitto.port, fake_lights)
    blinky = start_module("blinky", "--config", str(config), env=fake_lights.env())
    try:
        worst = "homeassistant/sensor/ticketdash/worst/config"
        wait_for(lambda: home.last(worst), what="the discovery config")
        announced = json.loads(home.last(worst))
        assert announced["state_topic"] == "ticketdash/ticketdash/worst"
        assert announced["availability_topic"] == "ticketdash/ticketdash/availability"
        assert announced["device"]["identifiers"] == ["ticketdash_ticketdash"] and announced["unique_id"]
        problem_config = "homeassistant/binary_sensor/ticketdash/problem/config"
        problem = json.loads(wait_for(lambda: home.last(problem_config), what="every config, sent one after another"))
        assert problem["device_class"] == "problem"
        wait_for(lambda: home.last("ticketdash/ticketdash/worst") == "critical", what="the worst state")
        assert home.last("ticketdash/ticketdash/availability") == "online"
        wait_for(lambda: home.last("ticketdash/ticketdash/count/critical") == "1"
                 and home.last("ticketdash/ticketdash/problem") == "OFF", what="the counts, sent just after")

        put_ticket(folder, ticket(2, fr_due_by=iso_in(minutes=-5), stats={"first_responded_at": None}))
        wait_for(lambda: home.last("ticketdash/ticketdash/worst") == "fr_overdue", what="the breach")
        wait_for(lambda: home.last("ticketdash/ticketdash/breached") == "1", what="the breached count")
        wait_for(lambda: fake_lights.writes()[-1] == STROBE_RED, what="the light agreeing")

        configs = home.count(worst)
        home.say("homeassistant/status", "online")  # Home Assistant restarted
        wait_for(lambda: home.count(worst) > configs, what="everything announced again")

        late = Subscriber(mosquitto.port)  # a client that comes later gets the retained configs and states
        try:
            wait_for(lambda: late.last("ticketdash/ticketdash/worst") == "fr_overdue" and late.last(worst),
                     what="retained messages")
        finally:
            late.close()
        blinky.send_signal(signal.SIGKILL)  # no goodbye: the broker says it, with the last will
        blinky.wait(timeout=10)
        wait_for(lambda: home.last("ticketdash/ticketdash/availability") == "offline", what="the last will")
    finally:
        if blinky.poll() is None:
            blinky.kill()


def test_a_clean_stop_says_offline(tmp_path: Path, fake_lights, mosquitto, home) -> None:
    _, config = blinky_site(tmp_path, mosquitto.port, fake_lights)
    blinky = start_module("blinky", "--config", str(config), env=fake_lights.env())
    wait_for(lambda: home.last("ticketdash/ticketdash/availability") == "online", what="online")
    blinky.send_signal(signal.SIGTERM)
    assert blinky.wait(timeout=10) == 0
    wait_for(lambda: home.last("ticketdash/ticketdash/availability") == "offline", what="offline")


def test_a_broker_outage_never_stops_the_light(tmp_path: Path, fake_lights, mosquitto) -> None:
    folder, config = blinky_site(tmp_path, mosquitto.port, fake_lights)  # the broker is not running yet
    blinky = start_module("blinky", "--config", str(config), env=fake_lights.env())
    try:
        wait_for(lambda: fake_lights.writes() and fake_lights.writes()[-1] == RED, what="the light without a broker")
        put_ticket(folder, ticket(2, fr_due_by=iso_in(minutes=-5), stats={"first_responded_at": None}))
        wait_for(lambda: fake_lights.writes()[-1] == STROBE_RED, what="the light follows, broker or not")
        mosquitto.start()  # the broker comes: blinky catches up
        home = Subscriber(mosquitto.port)
        try:
            wait_for(lambda: home.last("ticketdash/ticketdash/worst") == "fr_overdue", timeout=40,
                     what="the state once the broker is there")
        finally:
            home.close()
        mosquitto.stop()
        (folder / "2.json").unlink()
        wait_for(lambda: fake_lights.writes()[-1] == RED, what="the light without the broker again")
        assert blinky.poll() is None
    finally:
        blinky.send_signal(signal.SIGTERM)
        assert blinky.wait(timeout=15) == 0


def test_each_light_and_a_mute_touch_reach_home_assistant(tmp_path: Path, fake_lights, mosquitto, home) -> None:
    fake_lights.plug("1-1.4:1.0", product="LUXAFOR MUTE")
    fake_lights.plug("1-1.3:1.0")
    folder = tmp_path / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    (folder / "_names").mkdir()
    (folder / "_names" / "agents.txt").write_text("5:Ada Lovelace\n6:Grace Hopper\n")
    put_ticket(folder, ticket(1, responder_id=5, due_by=iso_in(minutes=-5)))
    put_ticket(folder, ticket(2, responder_id=6, due_by=iso_in(hours=6)))
    config = site_config(tmp_path / "config", mqtt={"host": "127.0.0.1", "port": mosquitto.port}, blinky={
        "device": "luxafor", "debounce_seconds": 0.05, "lights": [
            {"name": "Ada", "port": "1-1.4", "agent": 5}, {"name": "Grace", "port": "1-1.3", "agent": 6}]})
    blinky = start_module("blinky", "--config", str(config), env=fake_lights.env())
    try:
        trigger = "homeassistant/device_automation/ticketdash/ada_touch/config"
        announced = json.loads(wait_for(lambda: home.last(trigger), what="the touch trigger"))
        assert announced["automation_type"] == "trigger" and announced["type"] == "button_short_press"
        assert announced["topic"] == "ticketdash/ticketdash/light/ada/touch"
        assert announced["device"]["identifiers"] == ["ticketdash_ticketdash"]  # the one device
        assert home.last("homeassistant/device_automation/ticketdash/grace_touch/config")
        wait_for(lambda: home.last("ticketdash/ticketdash/light/ada/worst") == "overdue"
                 and home.last("ticketdash/ticketdash/light/grace/worst") == "warning", what="each light's state")
        assert json.loads(home.last("homeassistant/sensor/ticketdash/light_ada_worst/config"))["name"] == "Ada: worst state"
        fake_lights.touch("1-1.4:1.0")  # press and release: one touch
        wait_for(lambda: home.count("ticketdash/ticketdash/light/ada/touch") == 1, what="the touch")
        assert [r for t, _, r in home.messages if t.endswith("/touch")] == [False]  # it happened once: never retained
    finally:
        blinky.send_signal(signal.SIGTERM)
        assert blinky.wait(timeout=10) == 0
