"""Home Assistant through MQTT discovery: the board as sensors any automation (or bulb) can follow.

Under one device, retained discovery configs announce: the worst state
(``sensor``, the contract's words), the breached count, a count per ticket
state, the data's age, and ``problem`` (``binary_sensor``: stale or error).
With several lights (``[[blinky.lights]]``), each light's worst state too. A
Luxafor Mute's touch is a device trigger ("button_short_press"), one per light.
Every config names the availability topic, which reads ``online`` while
blinky runs and ``offline`` (the retained last will) when it dies. When Home
Assistant says ``online`` on ``<prefix>/status`` (it restarted), everything
is sent again. paho's own thread talks to the broker, so a broker that is
down or slow never holds up the desk light: what changed is sent on reconnect.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from ticketdash.config import Config, light_id
from ticketdash.states import TICKET_STATES, WORDS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figures:
    """What the board says, as Home Assistant is told it."""

    worst: str
    breached: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    data_age: float | None = None  # seconds since the watcher's last good sync
    problem: bool = True  # stale or error: the data cannot be trusted


class MqttOutput:
    def __init__(self, config: Config) -> None:
        settings = config.mqtt
        self.settings = settings
        self.prefix = settings.discovery_prefix
        self.base = f"ticketdash/{settings.node_id}"
        self.availability = f"{self.base}/availability"
        self.lights = {light.name: light_id(light.name) for light in config.lights}
        self.lock = threading.Lock()
        self.current: dict[str, str] = {}
        self.connected = False
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"ticketdash-{settings.node_id}")
        client.will_set(self.availability, "offline", qos=1, retain=True)
        if settings.username:
            password = config.mqtt_password.reveal() if config.mqtt_password else None
            client.username_pw_set(settings.username, password)
        if settings.tls:
            client.tls_set(ca_certs=str(settings.ca_file) if settings.ca_file else None,
                           cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        self.client = client

    # -- life cycle ------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; never raises for a broker that is not there (yet)."""
        self.client.connect_async(self.settings.host, self.settings.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Say ``offline`` (retained), as the will would, and disconnect."""
        if self.connected:
            self.client.publish(self.availability, "offline", qos=1, retain=True).wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()

    # -- what the board says ---------------------------------------------

    def publish(self, figures: Figures, lights: dict[str, str] | None = None) -> None:
        """Send what changed (everything again after a reconnect); *lights*: each light's own worst state."""
        states = {"worst": figures.worst, "breached": str(figures.breached),
                  "data_age": str(round(figures.data_age)) if figures.data_age is not None else "unknown",
                  "problem": "ON" if figures.problem else "OFF"}
        states.update({f"count/{state}": str(figures.counts.get(state, 0)) for state in TICKET_STATES})
        states.update({f"light/{self.lights[name]}/worst": state for name, state in (lights or {}).items()
                       if name in self.lights})
        with self.lock:
            changed = {k: v for k, v in states.items() if self.current.get(k) != v}
            self.current = states
            if self.connected:
                for key, value in changed.items():
                    self.client.publish(f"{self.base}/{key}", value, qos=1, retain=True)

    def touched(self, light: str) -> None:
        """A Mute's touch, as Home Assistant's device trigger (never retained: it happened once)."""
        topic = f"{self.base}/light/{self.lights[light]}/touch" if light in self.lights else f"{self.base}/touch"
        with self.lock:
            if self.connected:
                self.client.publish(topic, "touch", qos=1, retain=False)

    # -- paho's thread ---------------------------------------------------

    def _connected(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if reason.is_failure:
            logger.warning("MQTT broker %s:%d refused us: %s", self.settings.host, self.settings.port, reason)
            return
        logger.info("MQTT: connected to %s:%d", self.settings.host, self.settings.port)
        client.subscribe(f"{self.prefix}/status", qos=1)
        self._announce()

    def _disconnected(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        with self.lock:
            was, self.connected = self.connected, False
        if was:
            logger.warning("MQTT: lost the broker (%s); the light goes on, and MQTT catches up on reconnect", reason)

    def _message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == f"{self.prefix}/status" and message.payload == b"online":
            logger.info("MQTT: Home Assistant is back: announcing again")
            self._announce()

    def _announce(self) -> None:
        """Discovery configs, ``online``, and the current states: all retained."""
        with self.lock:
            self.connected = True
            for topic, config in self._discovery().items():
                self.client.publish(topic, json.dumps(config), qos=1, retain=True)
            self.client.publish(self.availability, "online", qos=1, retain=True)
            for key, value in self.current.items():
                self.client.publish(f"{self.base}/{key}", value, qos=1, retain=True)

    def _discovery(self) -> dict[str, dict[str, Any]]:
        node = self.settings.node_id
        device = {"identifiers": [f"ticketdash_{node}"], "name": f"Ticket Dash ({node})", "manufacturer": "Ticket Dash",
                  "model": "SLA wall"}
        common = {"availability_topic": self.availability, "device": device}
        entities: dict[str, dict[str, Any]] = {
            f"sensor/{node}/worst": {"name": "Worst state", "state_topic": f"{self.base}/worst",
                                     "icon": "mdi:alarm-light"},
            f"sensor/{node}/breached": {"name": "Breached tickets", "state_topic": f"{self.base}/breached",
                                        "state_class": "measurement", "unit_of_measurement": "tickets"},
            f"sensor/{node}/data_age": {"name": "Data age", "state_topic": f"{self.base}/data_age",
                                        "device_class": "duration", "unit_of_measurement": "s"},
            f"binary_sensor/{node}/problem": {"name": "Data problem", "state_topic": f"{self.base}/problem",
                                              "device_class": "problem", "payload_on": "ON", "payload_off": "OFF"},
        }
        for state in TICKET_STATES:
            entities[f"sensor/{node}/count_{state}"] = {
                "name": f"{WORDS[state]} tickets", "state_topic": f"{self.base}/count/{state}",
                "state_class": "measurement", "unit_of_measurement": "tickets"}
        for name, slug in self.lights.items():
            entities[f"sensor/{node}/light_{slug}_worst"] = {
                "name": f"{name}: worst state", "state_topic": f"{self.base}/light/{slug}/worst",
                "icon": "mdi:alarm-light"}
        configs = {f"{self.prefix}/{path}/config": {**entity, **common, "unique_id": path.replace("/", "_"),
                                                    "object_id": f"{node}_{path.rsplit('/', 1)[1]}"}
                   for path, entity in entities.items()}
        touches = {slug: f"{self.base}/light/{slug}/touch" for slug in self.lights.values()} or {"touch": f"{self.base}/touch"}
        for slug, topic in touches.items():  # a device trigger has its own keys
            configs[f"{self.prefix}/device_automation/{node}/{slug}_touch/config"] = {
                "automation_type": "trigger", "topic": topic, "payload": "touch", "type": "button_short_press",
                "subtype": f"{slug} touch" if self.lights else "touch", "device": device}
        return configs
